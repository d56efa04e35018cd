"""Tokenize and WriteShards: speed against sentencepiece itself, and memory against size.

    python -m benchmarks.tokens [--repeat 3] [--sizes 10,100]

Tokenize: the 181 article bodies of ../shared/data/extraction/ground-truth.json
(real web text, many languages), a BPE model of 8,000 pieces trained on them. One
process pinned to one core, alternating, medians of `--repeat`:

  ours          the pipeline's Tokenize DoFn over the documents: batches of 256,
                `[BOS] ids [EOS]` as uint16, the byte-fallback and byte counts of the
                tokenizer's report, rejections and per-bundle counts
  sentencepiece `SentencePieceProcessor.encode` on the same texts in the same batches
                (its own batch API, one thread): the floor of any wrapper

WriteShards: `write_one_shard` (spill, sort by id, payload file, Parquet, `.tok`) fed a
stream of generated documents of 1,000 tokens (written to a local file first and read
back one at a time, as a worker reads its shuffle), in a fresh pinned process per size
(`--sizes` in millions of tokens); its peak RSS (ru_maxrss) and the MB/s of uint16
payload it writes (spill, sort, copy and checksums included).

Last line: `tokenize_ratio=... ours_mb_s=... sp_mb_s=... write_mb_s=... rss_mb_10m=...
rss_mb_100m=... rss_ratio=...` (rss_ratio: largest size over smallest).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import struct
import sys
import tempfile
import time

from benchmarks.common import EXTRACTION, require, run_pinned_json

DOC_TOKENS = 1000


def articles() -> list[str]:
    data = json.loads((EXTRACTION / "ground-truth.json").read_text())
    return [v["articleBody"] for _, v in sorted(data.items())]


def tokenize(repeat: int) -> dict:
    import hashlib

    from gristmill.transforms import tokenizer as T
    from gristmill.transforms.document import Document
    from gristmill.transforms.shards import BATCH_DOCS, Tokenize

    texts = articles()
    model = T.train_bpe((ln for t in texts for ln in T.training_lines(t)), T.TokenizerConfig(vocab_size=8000))
    sp = T.load_processor(model)
    mb = sum(len(t.encode()) for t in texts) / 1e6
    ids = [hashlib.sha256(t.encode()).digest()[:16] for t in texts]

    def ours():
        fn = Tokenize(0.01)
        fn.start_bundle()
        out = []
        for i, t in zip(ids, texts):
            out.extend(fn.process(Document(id=i, url="u", input=0, offset=0, text=t), model))
        out.extend(fn.finish_bundle())
        return out

    def baseline():
        for k in range(0, len(texts), BATCH_DOCS):
            sp.encode(texts[k:k + BATCH_DOCS], num_threads=1)

    ours(), baseline()
    times = {"ours": [], "sp": []}
    for _ in range(repeat):
        for name, fn in (("ours", ours), ("sp", baseline)):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {"docs": len(texts), "mb": mb, "ours_mb_s": mb / med["ours"], "sp_mb_s": mb / med["sp"]}


def write(million_tokens: int) -> dict:
    import numpy as np

    from gristmill.transforms import tokenizer as T
    from gristmill.transforms.document import Document
    from gristmill.transforms.shards import CODER, write_one_shard

    model = T.train_bpe((ln for t in articles()[:40] for ln in T.training_lines(t)),
                        T.TokenizerConfig(vocab_size=2000))
    rng = np.random.default_rng(0)
    n_docs = million_tokens * 1_000_000 // DOC_TOKENS
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "docs.bin")  # the shuffle's output, as a worker reads it
        with open(source, "wb") as f:
            for _ in range(n_docs):
                tokens = rng.integers(4, 2000, DOC_TOKENS, dtype=np.uint16)
                tokens[0], tokens[-1] = T.BOS, T.EOS
                e = CODER.encode(Document(id=rng.bytes(16), url="https://a.example/page", input=0, offset=0,
                                          lang="en", tokens=tokens))
                f.write(struct.pack("<I", len(e)) + e)

        def docs():  # read one at a time: the input holds no memory of its own
            with open(source, "rb") as f:
                while head := f.read(4):
                    yield f.read(struct.unpack("<I", head)[0])

        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        out = os.path.join(tmp, "run")
        os.mkdir(out)
        start = time.perf_counter()
        entry = write_one_shard(out, "train", 0, 1, docs(), model, {}, {}, tmp_dir=tmp)
        wall = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"tokens": entry["num_tokens"], "wall_s": wall, "rss_mb": rss, "rss_before_mb": rss_before,
            "write_mb_s": entry["num_tokens"] * 2 / 1e6 / wall}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sizes", default="10,100", help="WriteShards sizes, millions of tokens, comma-separated")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    require(EXTRACTION)
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
        if not sizes or min(sizes) < 1:
            raise ValueError
    except ValueError:
        ap.error(f"--sizes {args.sizes}: positive integers, comma-separated")
    if args.one == "tokenize":
        print(json.dumps(tokenize(args.repeat)))
        return 0
    if args.one:
        print(json.dumps(write(int(args.one))))
        return 0
    t = run_pinned_json(["-m", "benchmarks.tokens", "--one", "tokenize", "--repeat", str(args.repeat)], "tokenize")
    print(f"Tokenize: {t['docs']} documents, {t['mb']:.2f} MB, one core, median of {args.repeat}")
    print(f"  ours           {t['ours_mb_s']:6.2f} MB/s")
    print(f"  sentencepiece  {t['sp_mb_s']:6.2f} MB/s")
    w = {n: run_pinned_json(["-m", "benchmarks.tokens", "--one", str(n)], f"write {n}M") for n in sizes}
    print(f"WriteShards: one shard of generated {DOC_TOKENS}-token documents, one core")
    for n, r in w.items():
        print(f"  {r['tokens'] / 1e6:5.0f}M tokens  {r['wall_s']:6.1f} s  {r['write_mb_s']:6.1f} MB/s of uint16 payload"
              f"  peak RSS {r['rss_mb']:6.0f} MB (before writing {r['rss_before_mb']:.0f} MB)")
    lo, hi = w[min(sizes)], w[max(sizes)]
    rss = " ".join(f"rss_mb_{n}m={r['rss_mb']:.0f}" for n, r in w.items())
    print(f"tokenize_ratio={t['ours_mb_s'] / t['sp_mb_s']:.3f} ours_mb_s={t['ours_mb_s']:.2f} "
          f"sp_mb_s={t['sp_mb_s']:.2f} write_mb_s={hi['write_mb_s']:.1f} {rss} "
          f"rss_ratio={hi['rss_mb'] / lo['rss_mb']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
