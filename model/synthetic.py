"""A synthetic run directory, for tests and trainer benchmarks without the pipeline.

Writes what the pipeline writes (manifest.json, tokenizer.model, `<split>-*.tok`
shards through gristmill.tokfile), from generated text: a made-up language of
syllable words with Zipf frequencies and a sparse first-order Markov chain, so a
small GPT has something to learn and the loss falls well below ln(vocab).

  python -m gristmill.model.synthetic --out /tmp/synth --tokens 1000000 --vocab 4096
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from gristmill.tokfile import sha256_file, shard_name, write_shard

SPECIAL = dict(unk_id=0, bos_id=1, eos_id=2, pad_id=3)


def synthetic_docs(num_docs: int, seed: int = 0, num_words: int = 3000,
                   words_per_doc: tuple[int, int] = (40, 400)) -> list[str]:
    rng = np.random.default_rng(seed)
    cons, vows = list("bcdfghjklmnprstvwz"), list("aeiou")
    lexicon: list[str] = []
    seen = set()
    while len(lexicon) < num_words:
        w = "".join(rng.choice(cons) + rng.choice(vows) for _ in range(rng.integers(1, 4)))
        if w not in seen:
            seen.add(w)
            lexicon.append(w)
    zipf = 1.0 / np.arange(1, num_words + 1) ** 1.1
    zipf /= zipf.sum()
    succ = rng.choice(num_words, size=(num_words, 4), p=zipf)  # each word's usual followers
    docs = []
    for _ in range(num_docs):
        n = int(rng.integers(*words_per_doc))
        follow = rng.random(n) < 0.7
        which = rng.integers(0, 4, n)
        fresh = rng.choice(num_words, size=n, p=zipf)
        w = int(fresh[0])
        words = []
        for i in range(n):
            w = int(succ[w, which[i]]) if follow[i] else int(fresh[i])
            words.append(lexicon[w])
            if rng.random() < 0.08:
                words[-1] += "."
        docs.append(" ".join(words).capitalize())
    return docs


def train_tokenizer(texts: list[str], model_path: str, vocab_size: int) -> None:
    """The pipeline's own BPE training (transforms/tokenizer.py), written to model_path."""
    from gristmill.transforms.tokenizer import TokenizerConfig, train_bpe, training_lines
    model = train_bpe((ln for t in texts for ln in training_lines(t)),
                      TokenizerConfig(vocab_size=vocab_size))
    with open(model_path, "wb") as f:
        f.write(model)


def write_run_dir(out_dir: str, tokenizer_model: str, splits: dict[str, list[list[list[int]]]],
                  config: dict | None = None) -> dict:
    """Write shards + manifest. splits: name -> shards -> documents (`[BOS] ids [EOS]`)."""
    from gristmill.transforms.tokenizer import model_info
    os.makedirs(out_dir, exist_ok=True)
    tok_path = os.path.join(out_dir, "tokenizer.model")
    if os.path.abspath(tokenizer_model) != os.path.abspath(tok_path):
        with open(tokenizer_model, "rb") as src, open(tok_path, "wb") as dst:
            dst.write(src.read())
    with open(tok_path, "rb") as f:
        info = model_info(f.read())
    manifest_splits = {}
    for split, shards in splits.items():
        entries = []
        for k, docs in enumerate(shards):
            name = shard_name(split, k, len(shards))
            with open(os.path.join(out_dir, name), "wb") as f:
                written = write_shard(f, docs, vocab_size=info["vocab_size"],
                                      bos_id=info["bos_id"], eos_id=info["eos_id"],
                                      pad_id=info["pad_id"], tokenizer_sha256=info["sha256"],
                                      shard_id=k, num_shards=len(shards),
                                      meta={"run_id": "synthetic"})
            entries.append({"path": name, "num_tokens": written["num_tokens"],
                            "num_docs": written["num_docs"],
                            "sha256": sha256_file(os.path.join(out_dir, name))})
        manifest_splits[split] = entries
    manifest = {
        "format_version": 1,
        "tokenizer": {"file": "tokenizer.model", **info},
        "splits": manifest_splits, "config": config or {}, "code_version": "synthetic",
        "stats": {}, "inputs": []}
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
    return manifest


def make_synthetic_run(out_dir: str, num_tokens: int = 1_000_000, vocab_size: int = 4096,
                       seed: int = 0, train_shards: int = 4, val_every: int = 50) -> dict:
    """A run dir of about `num_tokens` train tokens; every `val_every`-th doc goes to val."""
    from gristmill.transforms.tokenizer import encode_docs, load_processor
    os.makedirs(out_dir, exist_ok=True)
    # ~1.1 tokens per word at vocab 4096 on this language; 220 words per doc on average.
    docs = synthetic_docs(max(8, int(num_tokens / 1.08 / 220)), seed)
    tok_path = os.path.join(out_dir, "tokenizer.model")
    train_tokenizer(docs, tok_path, vocab_size)
    with open(tok_path, "rb") as f:
        encoded = encode_docs(load_processor(f.read()), docs)  # [BOS] ids [EOS]
    train: list[list] = [[] for _ in range(train_shards)]
    val: list = []
    for i, doc in enumerate(encoded):
        (val.append(doc) if i % val_every == val_every - 1 else train[i % train_shards].append(doc))
    return write_run_dir(out_dir, tok_path, {"train": train, "val": [val]},
                         config={"synthetic": {"num_tokens": num_tokens, "seed": seed}})


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="write a synthetic gristmill run directory")
    p.add_argument("--out", required=True)
    p.add_argument("--tokens", type=int, default=1_000_000)
    p.add_argument("--vocab", type=int, default=4096)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    t = time.time()
    m = make_synthetic_run(a.out, a.tokens, a.vocab, a.seed)
    n = {s: sum(e["num_tokens"] for e in v) for s, v in m["splits"].items()}
    print(f"wrote {a.out}: vocab {m['tokenizer']['vocab_size']}, tokens {n} "
          f"in {time.time() - t:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
