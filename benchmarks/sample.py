"""Sampling speed: the KV-cache path against the uncached one (a full window per token).

    python -m benchmarks.sample [--preset small] [--new-tokens 256] [--ckpt DIR]

No training: a model of `--preset` (default `small`: 4 layers, 256 wide, 4 heads,
context 512; vocabulary `--vocab`) from a seeded random init, its matrices scaled by
`--init-scale` (a GPT-2 init with a tied head only repeats its last token; scaled, the
greedy output depends on the context, so comparing the outputs means something), or
the checkpoint `--ckpt` (its tokenizer encodes `--prompt`). One process, float32 by
default (so both paths give the same tokens on any backend).

Both paths generate `--new-tokens` greedy tokens after the same short prompt, each
after a warm-up run that compiles its functions (cached: prefill + decode step;
uncached: the windowed forward); times are whole `generate` calls (prefill included,
one device-to-host transfer per token, as `gristmill sample` streams), medians of
`--repeat`. The two outputs must be identical, else it exits 1. With the defaults
prompt + new tokens fit the context, so every cached token is a decode step.

Last line: `speedup=... cached_tok_s=... uncached_tok_s=... new_tokens=...`.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from gristmill.model import gpt, sample
from gristmill.model.checkpoint import Loaded


def random_model(preset: str, vocab: int, seed: int, init_scale: float, dtype) -> Loaded:
    cfg = gpt.preset(preset, vocab)
    params = gpt.init_params(cfg, seed)
    if init_scale != 1:
        params = jax.tree.map(lambda x: x * init_scale if x.ndim == 2 else x, params)
    return Loaded(config=cfg, graphdef=gpt.graphdef(cfg, dtype), params=params, meta={},
                  step=0, tokenizer_path="")


def timed(fn, repeat: int) -> tuple[float, list[list[int]]]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.sample",
                                description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--preset", default="small", help="model size (gpt.PRESETS or d<depth>)")
    p.add_argument("--vocab", type=int, default=4096, help="vocabulary of the random model")
    p.add_argument("--seed", type=int, default=0, help="init and prompt")
    p.add_argument("--init-scale", type=float, default=10.0)
    p.add_argument("--ckpt", default=None, help="a checkpoint instead of a random model")
    p.add_argument("--step", type=int, default=None)
    p.add_argument("--prompt", default="The Eiffel Tower is located in",
                   help="with --ckpt; a random model gets --prompt-tokens random ids")
    p.add_argument("--prompt-tokens", type=int, default=8)
    p.add_argument("--new-tokens", type=int, default=256)
    p.add_argument("--repeat", type=int, default=1, help="timed runs per path (median)")
    p.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    a = p.parse_args(argv)
    dtype = jnp.dtype(a.dtype)

    if a.ckpt:
        import sentencepiece as spm
        loaded = sample.load_checkpoint(a.ckpt, sample.check_checkpoint(a.ckpt, a.step), dtype)
        sp = spm.SentencePieceProcessor(model_file=loaded.tokenizer_path)
        prompt = [sp.bos_id(), *sp.encode(a.prompt)]
        what = f"checkpoint {a.ckpt} step {loaded.step}"
    else:
        loaded = random_model(a.preset, a.vocab, a.seed, a.init_scale, dtype)
        prompt = np.random.default_rng(a.seed).integers(0, a.vocab, a.prompt_tokens).tolist()
        what = f"preset {a.preset}, random init seed {a.seed} x{a.init_scale:g}"
    cfg = loaded.config
    n_params = gpt.num_params(loaded.params)
    print(f"model: {what}: {n_params / 1e6:.2f}M params, {cfg.n_layer} layers, {cfg.n_embd} "
          f"wide, {cfg.n_head} heads, context {cfg.block_size}, vocab {cfg.vocab_size}, "
          f"{a.dtype}; {jax.devices()[0].device_kind} ({jax.default_backend()})")
    print(f"prompt {len(prompt)} tokens + {a.new_tokens} new (greedy) "
          f"{'fit' if len(prompt) + a.new_tokens <= cfg.block_size else 'exceed'} the context")

    key = jax.random.key(0)
    rows, outs = {}, {}
    for name, use_cache in (("cached", True), ("uncached", False)):
        def run(n=a.new_tokens, use_cache=use_cache):
            return sample.generate(loaded, prompt, n, key=key, temperature=0, use_cache=use_cache)
        start = time.perf_counter()
        run(4)  # compiles
        compile_s = time.perf_counter() - start
        wall, outs[name] = timed(run, a.repeat)
        rows[name] = (compile_s, wall, a.new_tokens / wall)

    print(f"{'path':<10} {'warm-up s':>10} {'wall s':>8} {'tok/s':>9}")
    for name, (compile_s, wall, tok_s) in rows.items():
        print(f"{name:<10} {compile_s:>10.2f} {wall:>8.2f} {tok_s:>9.1f}")
    cached, uncached = outs["cached"][0], outs["uncached"][0]
    if cached != uncached:
        i = next(k for k, (x, y) in enumerate(zip(cached, uncached)) if x != y)
        print(f"outputs differ at new token {i}: cached {cached[i]} uncached {uncached[i]}",
              file=sys.stderr)
        return 1
    print(f"outputs identical: {len(cached)} tokens, {len(set(cached))} distinct")
    speedup = rows["cached"][2] / rows["uncached"][2]
    print(f"speedup={speedup:.2f} cached_tok_s={rows['cached'][2]:.1f} "
          f"uncached_tok_s={rows['uncached'][2]:.1f} new_tokens={a.new_tokens}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
