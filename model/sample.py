"""Generate text from a trained checkpoint, and show the next-token table.

  gristmill sample --ckpt ckpt/demo --prompt "The" --temperature 0.8 --top-k 50
  gristmill next-token --ckpt ckpt/demo --prompt "The" --top 10

The prompt is encoded with the checkpoint's own tokenizer.model, prefixed by BOS.
Generation uses a KV cache (gpt.init_cache): one jit-compiled prefill of the prompt
(left-aligned in a block_size window and padded, so it compiles once), then one
jit-compiled decode step per new token (one position against the cache), each token
handed out as soon as it is sampled (`stream`; `gristmill sample` prints it then).
Past the context (prompt + new tokens > block_size) the window slides: each further
token recomputes the last block_size tokens (a prefill), exactly what the uncached path
does, so both give the same tokens. `--no-cache` (use_cache=False) is that uncached path
throughout: one forward over the whole window per token. Sampling: temperature
(0 = greedy), then top-k, then top-p; token i uses key fold_in(seed key, i).
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
from flax import nnx

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
    """The uncached step: jit(params, window (S, block), pos, key, i) -> next tokens (S,)
    from window[:, pos], the whole window recomputed; drawn with fold_in(key, i)."""
    @jax.jit
    def step(params, window, pos, key, i):
        logits = gpt.apply(gdef, params, window)
        last = jax.lax.dynamic_index_in_dim(logits, pos, axis=1, keepdims=False)
        return sample_logits(last, jax.random.fold_in(key, i), temperature, top_k, top_p)
    return step


@functools.lru_cache(maxsize=16)
def _cached_fns(gdef, temperature: float, top_k: int | None, top_p: float | None):
    """(prefill, decode), each jit-compiled once per (samples, block_size):

    prefill(params, window (S, block), last, key, i) -> (next (S,), cache): the window at
        positions 0..block-1 into a fresh cache of block_size positions; samples from the
        logits at `last`, the window's last real token (the padding after it writes
        cache entries that decoding overwrites before any query may see them).
    decode(params, cache, tok (S,), pos, key, i) -> (next (S,), cache): tok at absolute
        position pos (< block_size) against the cache; the cache is donated (updated in
        place where the backend can).
    Both draw with fold_in(key, i), i the index of the new token."""
    def prefill(params, window, last, key, i):
        model = nnx.merge(gdef, params)
        cache = gpt.init_cache(model.cfg, window.shape[0], model.dtype)
        logits, cache = model(window, cache=cache, pos=0)
        last_logits = jax.lax.dynamic_index_in_dim(logits, last, axis=1, keepdims=False)
        key = jax.random.fold_in(key, i)
        return sample_logits(last_logits, key, temperature, top_k, top_p), cache

    def decode(params, cache, tok, pos, key, i):
        logits, cache = gpt.apply(gdef, params, tok[:, None], cache=cache, pos=pos)
        key = jax.random.fold_in(key, i)
        return sample_logits(logits[:, 0], key, temperature, top_k, top_p), cache

    return jax.jit(prefill), jax.jit(decode, donate_argnums=1)


def stream(loaded: Loaded, prompt_ids: list[int], max_new_tokens: int, *, key: jax.Array,
           temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
           eos_id: int | None = None, num_samples: int = 1, use_cache: bool = True):
    """Yield the next token of each of num_samples continuations, an int32 array (S,),
    one position at a time, as soon as it is sampled. Stops after max_new_tokens, or
    once every sample has produced eos_id (what a sample yields after its EOS is
    noise: `generate` drops it). Token i is drawn with key fold_in(key, i), cached or not.

    Cached (the default): one prefill of the prompt, then one decode step per token.
    Past the context (prompt + tokens so far > block_size) the window slides: each
    further token is a prefill of the last block_size tokens (a recompute, as the
    uncached path does), so cached and uncached outputs stay the same; only the tokens
    that fit the context are decoded from the cache. Uncached (`use_cache=False`): every
    token recomputes the whole window."""
    cfg = loaded.config
    block = cfg.block_size
    if not prompt_ids:
        raise ValueError("prompt_ids is empty; start it with BOS")
    opts = (float(temperature), top_k or None,
            None if top_p is None or top_p >= 1.0 else float(top_p))
    if use_cache:
        prefill, decode = _cached_fns(loaded.graphdef, *opts)
    else:
        step = _step_fn(loaded.graphdef, *opts)
    prompt = np.asarray(prompt_ids, np.int32)
    seqs = np.zeros((num_samples, len(prompt) + max_new_tokens), np.int32)
    seqs[:, :len(prompt)] = prompt
    n = len(prompt)  # tokens so far
    done = np.zeros(num_samples, bool)
    cache = None
    for i in range(max_new_tokens):
        if cache is not None and n <= block:
            # the newest token goes to position n - 1 of the cache
            nxt, cache = decode(loaded.params, cache, seqs[:, n - 1], n - 1, key, i)
        else:
            ctx = seqs[:, max(0, n - block):n]
            window = np.zeros((num_samples, block), np.int32)
            window[:, :ctx.shape[1]] = ctx
            if use_cache:
                nxt, cache = prefill(loaded.params, window, ctx.shape[1] - 1, key, i)
            else:
                nxt = step(loaded.params, window, ctx.shape[1] - 1, key, i)
        nxt = np.asarray(nxt, np.int32)
        seqs[:, n] = nxt
        n += 1
        yield nxt
        if eos_id is not None:
            done |= nxt == eos_id
            if done.all():
                return


def generate(loaded: Loaded, prompt_ids: list[int], max_new_tokens: int, *, key: jax.Array,
             temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
             eos_id: int | None = None, num_samples: int = 1,
             use_cache: bool = True) -> list[list[int]]:
    """New token ids for each of num_samples continuations of prompt_ids (which should
    start with BOS). A sample ends at eos_id (not included) or after max_new_tokens.
    See `stream` for the KV cache and what happens past the context."""
    out: list[list[int]] = [[] for _ in range(num_samples)]
    done = np.zeros(num_samples, bool)
    for nxt in stream(loaded, prompt_ids, max_new_tokens, key=key, temperature=temperature,
                      top_k=top_k, top_p=top_p, eos_id=eos_id, num_samples=num_samples,
                      use_cache=use_cache):
        for s in range(num_samples):
            if not done[s]:
                if eos_id is not None and int(nxt[s]) == eos_id:
                    done[s] = True
                else:
                    out[s].append(int(nxt[s]))
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


def print_stream(sp, ids: list[int], tokens, eos_id: int | None, out=None) -> list[int]:
    """Print the prompt (ids without BOS) and then each new token of `tokens` (arrays of
    one sample) as it arrives, until eos_id; the same text as sp.decode(ids[1:] + new)
    and a newline. Text is held back while it ends in an incomplete UTF-8 sequence
    (byte-fallback pieces decode to U+FFFD until their last byte). Returns new."""
    out = out or sys.stdout
    new: list[int] = []
    printed = ""

    def emit(text: str, final: bool = False) -> str:
        if text.startswith(printed) and (final or not text.endswith("\ufffd")):
            out.write(text[len(printed):])
            out.flush()
            return text
        if final:  # not a continuation of what is on screen (never seen): say it all again
            out.write("\n" + text)
        return printed

    printed = emit(sp.decode(ids[1:]))
    for nxt in tokens:
        tok = int(nxt[0])
        if eos_id is not None and tok == eos_id:
            break
        new.append(tok)
        printed = emit(sp.decode(ids[1:] + new))
    emit(sp.decode(ids[1:] + new), final=True)
    out.write("\n")
    out.flush()
    return new


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
    p.add_argument("--num-samples", type=int, default=1,
                   help="continuations (one is printed as it is generated, more at the end)")
    p.add_argument("--no-cache", action="store_true",
                   help="no KV cache: recompute the whole window for every token (slower; "
                        "the same tokens)")
    a = p.parse_args(argv)
    try:
        check_sampling(a)
        loaded, sp = _open(a.ckpt, a.step)
    except UsageError as e:
        return report("gristmill sample", e)
    ids = _encode(sp, a.prompt)
    kw = dict(key=jax.random.key(a.seed), temperature=a.temperature, top_k=a.top_k,
              top_p=a.top_p, eos_id=sp.eos_id(), use_cache=not a.no_cache)
    if a.num_samples == 1:
        print_stream(sp, ids, stream(loaded, ids, a.max_tokens, **kw), sp.eos_id())
        return 0
    outs = generate(loaded, ids, a.max_tokens, num_samples=a.num_samples, **kw)
    for i, new in enumerate(outs):
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
