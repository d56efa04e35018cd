"""Generate text from a trained checkpoint, and show the next-token table.

  gristmill sample --ckpt ckpt/demo --prompt "The" --temperature 0.8 --top-k 50
  gristmill next-token --ckpt ckpt/demo --prompt "The" --top 10

The prompt is encoded with the checkpoint's own tokenizer.model, prefixed by BOS.
Generation runs one jit-compiled forward per new token over a fixed window of
block_size tokens (the context, left-aligned and padded; causal attention means the
padding never affects the position read); a longer context keeps its last
block_size tokens. Sampling: temperature (0 = greedy), then top-k, then top-p.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np

from gristmill.model import checkpoint as ckpt
from gristmill.model import gpt
from gristmill.model.checkpoint import Loaded, load_checkpoint  # noqa: F401  (re-export)
from gristmill.model.usage import UsageError, report, require_float, require_int


# ---- pure sampling pieces ---------------------------------------------------------

def top_k_filter(logits: jax.Array, k: int) -> jax.Array:
    """Keep the k largest logits (ties at the k-th value kept too); others -> -inf."""
    if not k or k >= logits.shape[-1]:
        return logits
    kth = jax.lax.top_k(logits, k)[0][..., -1:]
    return jnp.where(logits < kth, -jnp.inf, logits)


def top_p_filter(logits: jax.Array, p: float) -> jax.Array:
    """Nucleus filter: keep the smallest set of most probable tokens whose total
    probability is >= p (the most probable token always stays); others -> -inf."""
    if p is None or p >= 1.0:
        return logits
    order = jnp.argsort(-logits, axis=-1)
    sorted_logits = jnp.take_along_axis(logits, order, axis=-1)
    probs = jax.nn.softmax(sorted_logits, axis=-1)
    mass_before = jnp.cumsum(probs, axis=-1) - probs
    keep_sorted = mass_before < p
    keep = jnp.take_along_axis(keep_sorted, jnp.argsort(order, axis=-1), axis=-1)
    return jnp.where(keep, logits, -jnp.inf)


def sample_logits(logits: jax.Array, key: jax.Array, temperature: float = 1.0,
                  top_k: int | None = None, top_p: float | None = None) -> jax.Array:
    """logits (..., V) -> token ids (...). temperature 0 means greedy (argmax)."""
    logits = logits.astype(jnp.float32)
    if temperature == 0:
        return jnp.argmax(logits, axis=-1)
    logits = top_p_filter(top_k_filter(logits / temperature, top_k), top_p)
    return jax.random.categorical(key, logits, axis=-1)


@functools.lru_cache(maxsize=16)
def _step_fn(gdef, temperature: float, top_k: int | None, top_p: float | None):
    """jit(params, window (S, block), pos, key) -> next tokens (S,) from window[:, pos]."""
    @jax.jit
    def step(params, window, pos, key):
        logits = gpt.apply(gdef, params, window)
        last = jax.lax.dynamic_index_in_dim(logits, pos, axis=1, keepdims=False)
        return sample_logits(last, key, temperature, top_k, top_p)
    return step


def generate(loaded: Loaded, prompt_ids: list[int], max_new_tokens: int, *, key: jax.Array,
             temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
             eos_id: int | None = None, num_samples: int = 1) -> list[list[int]]:
    """New token ids for each of num_samples continuations of prompt_ids (which should
    start with BOS). A sample ends at eos_id (not included) or after max_new_tokens."""
    cfg = loaded.config
    if not prompt_ids:
        raise ValueError("prompt_ids is empty; start it with BOS")
    step = _step_fn(loaded.graphdef, float(temperature), top_k or None,
                    None if top_p is None or top_p >= 1.0 else float(top_p))
    seqs = np.tile(np.asarray(prompt_ids, np.int32), (num_samples, 1))
    out: list[list[int]] = [[] for _ in range(num_samples)]
    done = np.zeros(num_samples, bool)
    for i in range(max_new_tokens):
        ctx = seqs[:, -cfg.block_size:]
        window = np.zeros((num_samples, cfg.block_size), np.int32)
        window[:, :ctx.shape[1]] = ctx
        nxt = np.asarray(step(loaded.params, window, ctx.shape[1] - 1, jax.random.fold_in(key, i)))
        for s in range(num_samples):
            if not done[s]:
                if eos_id is not None and int(nxt[s]) == eos_id:
                    done[s] = True
                else:
                    out[s].append(int(nxt[s]))
        if done.all():
            break
        seqs = np.concatenate([seqs, nxt[:, None].astype(np.int32)], axis=1)
    return out


def next_token_probs(loaded: Loaded, prompt_ids: list[int]) -> np.ndarray:
    """Probability of every vocabulary entry as the token after prompt_ids, (V,)."""
    ctx = np.asarray(prompt_ids, np.int32)[-loaded.config.block_size:][None]
    logits = gpt.apply(loaded.graphdef, loaded.params, ctx)[0, -1]
    return np.asarray(jax.nn.softmax(logits.astype(jnp.float32)), np.float64)


def next_token_table(loaded: Loaded, prompt_ids: list[int], top: int, sp=None) -> list[tuple]:
    """[(rank, id, piece, prob)] of the `top` most probable next tokens, most probable first."""
    probs = next_token_probs(loaded, prompt_ids)
    ids = np.argsort(-probs, kind="stable")[:top]
    return [(r + 1, int(i), sp.id_to_piece(int(i)) if sp else str(int(i)), float(probs[i]))
            for r, i in enumerate(ids)]


# ---- CLIs ---------------------------------------------------------------------------

def check_sampling(a: argparse.Namespace) -> None:
    """The sampling flags of `gristmill sample`, on their own."""
    require_float("temperature", a.temperature, low=0)
    require_float("top_p", a.top_p, low=0, high=1, low_open=True)
    require_int("top_k", a.top_k, 0)
    require_int("max_tokens", a.max_tokens, 1)
    require_int("num_samples", a.num_samples, 1)


def check_checkpoint(ckpt_dir: str, step: int | None) -> int:
    """--ckpt is a checkpoint directory written by `gristmill train --out` and --step
    (default: the latest) one of its complete steps; returns that step."""
    if step is not None and step < 0:
        raise UsageError(f"--step must be >= 0, got {step}")
    if not os.path.exists(ckpt_dir):
        raise UsageError(f"--ckpt {ckpt_dir} does not exist")
    if not os.path.isdir(ckpt_dir):
        raise UsageError(f"--ckpt {ckpt_dir} is not a directory")
    missing = [name for name in (ckpt.STATE_JSON, ckpt.TOKENIZER, ckpt.STEPS_DIR)
               if not os.path.exists(os.path.join(ckpt_dir, name))]
    if missing:
        raise UsageError(f"--ckpt {ckpt_dir} is not a gristmill checkpoint (no "
                         f"{', '.join(missing)}; `gristmill train --out DIR` writes one)")
    try:
        with open(os.path.join(ckpt_dir, ckpt.STATE_JSON)) as f:
            state = json.load(f)
        gpt.GPTConfig.from_dict(state["config"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UsageError(f"--ckpt {ckpt_dir} is not a gristmill checkpoint: unreadable "
                         f"{ckpt.STATE_JSON} ({type(e).__name__}: {e})") from e
    steps = sorted(ckpt.manager(ckpt_dir).all_steps())
    if not steps:
        raise UsageError(f"--ckpt {ckpt_dir} holds no complete checkpoint step under "
                         f"{ckpt.STEPS_DIR}/")
    if step is None:
        return steps[-1]
    if step not in steps:
        raise UsageError(f"--step {step} does not exist in {ckpt_dir} (steps: "
                         f"{', '.join(map(str, steps))})")
    return step


def _open(ckpt_dir: str, step: int | None):
    import sentencepiece as spm
    step = check_checkpoint(ckpt_dir, step)
    tok_path = os.path.join(ckpt_dir, ckpt.TOKENIZER)
    try:
        sp = spm.SentencePieceProcessor(model_file=tok_path)
    except (RuntimeError, OSError) as e:
        raise UsageError(f"--ckpt {ckpt_dir} is not a gristmill checkpoint: {tok_path} is "
                         f"not a sentencepiece model ({e})") from e
    loaded = load_checkpoint(ckpt_dir, step)
    if sp.get_piece_size() != loaded.config.vocab_size:
        raise UsageError(f"--ckpt {ckpt_dir}: {loaded.tokenizer_path} has "
                         f"{sp.get_piece_size()} pieces, the model {loaded.config.vocab_size}")
    return loaded, sp


def _encode(sp, prompt: str) -> list[int]:
    return [sp.bos_id(), *sp.encode(prompt)]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="gristmill sample", description="generate text from a checkpoint",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--ckpt", required=True, help="checkpoint directory (gristmill train --out)")
    p.add_argument("--step", type=int, default=None, help="checkpoint step (default: latest)")
    p.add_argument("--prompt", default="", help="text to continue (BOS is prepended)")
    p.add_argument("--temperature", type=float, default=0.8, help="0 = greedy")
    p.add_argument("--max-tokens", type=int, default=100, help="new tokens at most")
    p.add_argument("--top-k", type=int, default=0, help="0 = off")
    p.add_argument("--top-p", type=float, default=1.0, help="1 = off")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--num-samples", type=int, default=1)
    a = p.parse_args(argv)
    try:
        check_sampling(a)
        loaded, sp = _open(a.ckpt, a.step)
    except UsageError as e:
        return report("gristmill sample", e)
    ids = _encode(sp, a.prompt)
    outs = generate(loaded, ids, a.max_tokens, key=jax.random.key(a.seed),
                    temperature=a.temperature, top_k=a.top_k, top_p=a.top_p,
                    eos_id=sp.eos_id(), num_samples=a.num_samples)
    for i, new in enumerate(outs):
        if a.num_samples > 1:
            print(f"--- sample {i + 1}/{a.num_samples}")
        print(sp.decode(ids[1:] + new), flush=True)
    return 0


def next_token_main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="gristmill next-token",
                                description="the most probable next tokens after a prompt",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--ckpt", required=True)
    p.add_argument("--step", type=int, default=None)
    p.add_argument("--prompt", default="")
    p.add_argument("--top", type=int, default=10)
    a = p.parse_args(argv)
    try:
        require_int("top", a.top, 1)
        loaded, sp = _open(a.ckpt, a.step)
    except UsageError as e:
        return report("gristmill next-token", e)
    ids = _encode(sp, a.prompt)
    rows = next_token_table(loaded, ids, a.top, sp)
    print(f"prompt {a.prompt!r} -> {len(ids)} tokens (with BOS); checkpoint step {loaded.step}")
    print(f"{'rank':>4}  {'id':>6}  {'piece':<20} {'prob':>8}  {'cum':>8}")
    cum = 0.0
    for rank, i, piece, prob in rows:
        cum += prob
        print(f"{rank:>4}  {i:>6}  {piece!r:<20} {prob:>8.4f}  {cum:>8.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
