"""KV-cache sampling and model presets: real JAX on the CPU, tiny random models (no
training, no files). The cached path must give the uncached path's tokens."""
from __future__ import annotations

import functools
import io

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gristmill.model import gpt, sample
from gristmill.model.checkpoint import Loaded

VOCAB = 300
BLOCK = 32
PROMPT = [1, 5, 9, 17, 42]


@pytest.fixture(scope="module")
def model() -> Loaded:
    """The `tiny` preset at block 32, random init with its matrices scaled up 20x: at
    GPT-2 init a tied-embedding model only repeats its last token, this one's greedy
    output depends on the context (checked below), so equal outputs mean something."""
    cfg = gpt.preset("tiny", VOCAB, block_size=BLOCK)
    params = jax.tree.map(lambda x: x * 20 if x.ndim == 2 else x, gpt.init_params(cfg, 0))
    return Loaded(config=cfg, graphdef=gpt.graphdef(cfg), params=params, meta={}, step=0,
                  tokenizer_path="")


@functools.lru_cache(maxsize=4)
def _forward(gdef):
    return jax.jit(lambda params, x: gpt.apply(gdef, params, x))


def _next_logits(model, seq: list[int]) -> np.ndarray:
    """Logits after seq (<= BLOCK tokens) from one full uncached forward (jit, one shape)."""
    fwd = _forward(model.graphdef)
    window = np.zeros((1, BLOCK), np.int32)
    window[0, :len(seq)] = seq
    return np.asarray(fwd(model.params, window)[0, len(seq) - 1])


def _gen(model, n, prompt=PROMPT, **kw):
    kw.setdefault("key", jax.random.key(0))
    return sample.generate(model, prompt, n, **kw)


# ---- presets ----------------------------------------------------------------------

def test_presets_build_and_gpt2_124m_has_124m_params():
    names = [*gpt.PRESETS, "d4", "d26"]
    assert {"tiny", "gpt2-124m", "d12", "d20"} <= set(gpt.PRESETS)
    counts = {}
    for name in names:
        cfg = gpt.preset(name, 50304)
        assert cfg.vocab_size == 50304 and cfg.n_embd % cfg.n_head == 0
        shapes = jax.eval_shape(lambda: gpt.init_params(cfg, 0))  # shapes only, no memory
        counts[name] = gpt.num_params(shapes)
        v, d, n_l = cfg.vocab_size, cfg.n_embd, cfg.n_layer  # tied head, no biases, RMSNorm
        assert counts[name] == v * d + n_l * (12 * d * d + 2 * d) + d, name
    assert abs(counts["gpt2-124m"] - 124e6) / 124e6 < 0.01, counts["gpt2-124m"]
    assert counts["tiny"] < counts["mini"] < counts["small"] < counts["gpt2-124m"] < counts["d20"]
    c12, c20 = gpt.preset("d12", 65536), gpt.preset("d20", 65536)
    assert (c12.n_layer, c12.n_embd, c12.n_head) == (12, 768, 6)  # nanochat: head size 128
    assert (c20.n_layer, c20.n_embd, c20.n_head) == (20, 1280, 10)
    assert gpt.preset("d1", 100).n_head == 1
    assert gpt.preset("tiny", 100, block_size=16).block_size == 16
    with pytest.raises(ValueError, match="unknown preset"):
        gpt.preset("gpt5", 100)
    with pytest.raises(ValueError, match="not divisible"):
        gpt.preset("d5", 100)  # width 320 over 3 heads


# ---- the cache-aware forward ------------------------------------------------------

def test_cached_forward_equals_full_forward(model):
    cfg, gdef, params = model.config, model.graphdef, model.params
    x = jax.random.randint(jax.random.key(1), (2, BLOCK), 0, VOCAB)
    full = gpt.apply(gdef, params, x)
    step = jax.jit(lambda p, x, c, pos: gpt.apply(gdef, p, x, cache=c, pos=pos))
    cache = gpt.init_cache(cfg, 2)
    assert len(cache) == cfg.n_layer and cache[0][0].shape == (2, BLOCK, cfg.n_head, 32)
    parts = []
    for lo, hi in [(0, 7), (7, 20), *((i, i + 1) for i in range(20, BLOCK))]:  # chunks, then 1 by 1
        logits, cache = step(params, x[:, lo:hi], cache, lo)
        parts.append(logits)
    cached = jnp.concatenate(parts, axis=1)
    scale = float(jnp.abs(full).max())
    np.testing.assert_allclose(cached, full, atol=1e-5 * scale)
    # RoPE is at absolute positions: the same chunk written at position 0 differs
    wrong, _ = step(params, x[:, 7:20], gpt.init_cache(cfg, 2), 0)
    assert not np.allclose(wrong, full[:, 7:20], atol=1e-3 * scale)
    with pytest.raises(ValueError, match="do not fit"):
        gpt.apply(gdef, params, x[:, :4], cache=gpt.init_cache(cfg, 2), pos=BLOCK - 2)


# ---- generation ---------------------------------------------------------------------

@pytest.mark.parametrize("new,prompt_len", [(20, 5), (60, 5), (10, 45)],
                         ids=["within_context", "past_context", "prompt_past_context"])
def test_cached_greedy_equals_uncached(model, new, prompt_len):
    prompt = [1, *np.random.default_rng(prompt_len).integers(2, VOCAB, prompt_len - 1).tolist()]
    cached = _gen(model, new, prompt, temperature=0)
    uncached = _gen(model, new, prompt, temperature=0, use_cache=False)
    assert len(cached[0]) == new
    assert cached == uncached
    assert len(set(cached[0])) > 3  # not one repeated token: the context matters
    # greedy ignores the seed; top_k=1 is greedy too
    assert _gen(model, new, prompt, temperature=0, key=jax.random.key(7)) == cached
    assert _gen(model, new, prompt, temperature=1.0, top_k=1, key=jax.random.key(8)) == cached


def test_greedy_is_the_argmax_of_the_uncached_forward(model):
    """The first cached tokens, re-derived one full forward at a time."""
    out = _gen(model, 6, temperature=0)[0]
    seq = list(PROMPT)
    for tok in out:
        assert int(np.argmax(_next_logits(model, seq))) == tok
        seq.append(tok)


def test_seeded_sampling_is_deterministic(model):
    kw = dict(temperature=1.0, top_k=40, top_p=0.9, num_samples=3)
    a = _gen(model, 50, key=jax.random.key(5), **kw)  # runs past the context too
    b = _gen(model, 50, key=jax.random.key(5), **kw)
    c = _gen(model, 50, key=jax.random.key(6), **kw)
    assert a == b and a != c
    assert len(a) == 3 and all(len(s) == 50 for s in a) and a[0] != a[1]
    assert _gen(model, 50, key=jax.random.key(5), use_cache=False, **kw) == a  # same keys


def test_cached_top_k_draws_only_the_k_best(model):
    """Every draw is among the top 2 of the uncached logits after the same tokens."""
    seq = list(PROMPT)
    for tok in _gen(model, 8, key=jax.random.key(2), temperature=2.0, top_k=2)[0]:
        assert tok in set(np.argsort(-_next_logits(model, seq))[:2].tolist())
        seq.append(tok)


def test_eos_stops_generation(model):
    greedy = _gen(model, 30, temperature=0)[0]
    eos = greedy[4]
    first = greedy.index(eos)
    assert _gen(model, 30, temperature=0, eos_id=eos)[0] == greedy[:first]
    steps = list(sample.stream(model, PROMPT, 30, key=jax.random.key(0), temperature=0,
                               eos_id=eos))
    assert len(steps) == first + 1 and int(steps[-1][0]) == eos  # stopped right there
    # with several samples each ends at its own EOS, and the stream runs until all have
    kw = dict(key=jax.random.key(3), temperature=1.5, num_samples=4)
    free = _gen(model, 40, **kw)
    eos = free[0][2]
    stopped = _gen(model, 40, eos_id=eos, **kw)
    for f, s in zip(free, stopped):
        assert s == (f[:f.index(eos)] if eos in f else f)


def test_print_stream_writes_tokens_as_they_come():
    """Streaming prints the same text as decoding at the end, and never a half UTF-8
    character (a fake tokenizer: token id = one byte)."""
    class Bytes:
        def decode(self, ids):
            return bytes(ids).decode("utf-8", errors="replace")

    class Out(io.StringIO):
        writes: list

        def write(self, s):
            self.writes.append(s)
            return super().write(s)

    text = "Tour Eiffel: 330 m, café, 5€."
    data = list(text.encode())
    prompt, rest = [0, *data[:5]], data[5:]
    out = Out()
    out.writes = []
    new = sample.print_stream(Bytes(), prompt, (np.array([t]) for t in [*rest, 255, 65]), 255,
                              out)
    assert new == rest and out.getvalue() == text + "\n"
    assert len(out.writes) > 10 and not any("\ufffd" in w for w in out.writes)

