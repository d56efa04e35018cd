"""A small GPT in Flax NNX, in the spirit of nanoGPT: one readable file.

Architecture (decoder-only transformer):
  tokens -> token embedding (no position embedding: positions enter through RoPE,
  rotary embeddings applied to queries and keys in every attention layer)
  -> n_layer pre-norm blocks:  x = x + attn(rmsnorm(x));  x = x + mlp(rmsnorm(x))
  -> final RMSNorm -> tied output head: logits = h @ embedding^T.

Attention is causal multi-head self-attention (`jax.nn.dot_product_attention`, which
picks a fused kernel on GPU where it can); the MLP is Linear(4D) -> GELU -> Linear(D).
No biases anywhere (as nanoGPT's `bias=False`). Parameters are always float32; the
compute dtype is a constructor argument (bfloat16 on GPU/TPU, float32 on CPU, see
`default_compute_dtype`). Norms, softmax and the loss run in float32 either way.

Init follows GPT-2: normal(0.02) everywhere, residual output projections scaled by
1/sqrt(2 * n_layer), so the loss at init is close to ln(vocab_size).

Two ways through the same blocks:
  model(idx)                       training and the uncached sampler: T <= block_size
                                   tokens at positions 0..T-1, causal attention.
  model(idx, cache=c, pos=p)       inference with a KV cache (`init_cache`): the T tokens
                                   sit at absolute positions p..p+T-1; each layer writes
                                   their keys/values into its (k, v) arrays, shape
                                   (B, max_len, H, Dh), with `jax.lax.dynamic_update_slice`
                                   and attends to cache positions <= each query's own
                                   (RoPE at the absolute positions). Prefill is T = prompt
                                   (padded), decoding T = 1; returns (logits, new cache).

Presets (`preset(name, vocab_size)`): `tiny` (CPU tests) to `gpt2-124m`, and the
nanochat family `d<depth>` (d12, d20, ...): width 64 * depth, heads
max(1, (width + 127) // 128), i.e. head size 128; the vocabulary always comes from the run.
"""
from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx


@dataclasses.dataclass(frozen=True)
class GPTConfig:
    vocab_size: int = 4096
    block_size: int = 128   # maximum context length T
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0    # on attention output and MLP output; 0 disables
    rope_base: float = 10000.0

    def __post_init__(self):
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd={self.n_embd} is not divisible by n_head={self.n_head}")
        if (self.n_embd // self.n_head) % 2:
            raise ValueError("head size n_embd/n_head must be even for RoPE")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "GPTConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


# Named sizes: every GPTConfig field but vocab_size, which comes from the run's tokenizer.
PRESETS: dict[str, dict] = {
    "tiny": dict(n_layer=2, n_head=2, n_embd=64, block_size=64),      # CPU tests, seconds
    "mini": dict(n_layer=4, n_head=4, n_embd=128, block_size=128),    # `gristmill train` defaults
    "small": dict(n_layer=4, n_head=4, n_embd=256, block_size=512),
    "gpt2-124m": dict(n_layer=12, n_head=12, n_embd=768, block_size=1024),  # GPT-2 small
}


def depth_preset(depth: int) -> dict:
    """nanochat's sizing by depth alone: width 64 * depth, head size 128 (heads
    max(1, (width + 127) // 128)), context 2048."""
    width = 64 * depth
    return dict(n_layer=depth, n_head=max(1, (width + 127) // 128), n_embd=width, block_size=2048)


PRESETS.update({f"d{d}": depth_preset(d) for d in (12, 20)})


def preset(name: str, vocab_size: int, **overrides) -> GPTConfig:
    """The GPTConfig of a named size (PRESETS, or any `d<depth>`) at the run's vocabulary;
    keyword arguments override single fields (block_size=..., dropout=...)."""
    if name in PRESETS:
        fields = PRESETS[name]
    elif name[:1] == "d" and name[1:].isdigit() and int(name[1:]) > 0:
        fields = depth_preset(int(name[1:]))
    else:
        raise ValueError(f"unknown preset {name!r} (known: {', '.join(PRESETS)}, or d<depth>)")
    return GPTConfig(vocab_size=vocab_size, **{**fields, **overrides})


def default_compute_dtype() -> jnp.dtype:
    """bfloat16 on GPU/TPU, float32 on CPU."""
    return jnp.float32 if jax.default_backend() == "cpu" else jnp.bfloat16


def _dropout(x: jax.Array, rate: float, key: jax.Array | None) -> jax.Array:
    if rate == 0.0 or key is None:
        return x
    keep = jax.random.bernoulli(key, 1.0 - rate, x.shape)
    return jnp.where(keep, x / (1.0 - rate), 0).astype(x.dtype)


@functools.lru_cache(maxsize=16)
def _rope_table(n: int, head_dim: int, base: float) -> tuple[np.ndarray, np.ndarray]:
    """cos/sin of positions 0..n-1, float32 (n, head_dim // 2), computed on the host."""
    inv_freq = 1.0 / (base ** (np.arange(0, head_dim, 2, dtype=np.float32) / head_dim))
    angles = np.arange(n, dtype=np.float32)[:, None] * inv_freq[None, :]
    return np.cos(angles), np.sin(angles)


def rope_tables(seq_len: int, head_dim: int, base: float, offset: int | jax.Array = 0,
                max_len: int | None = None) -> tuple[jax.Array, jax.Array]:
    """cos/sin tables of shape (seq_len, head_dim // 2) for positions offset..offset+seq_len-1.

    The table is built on the host and enters the program as a constant: computed inside
    jit, XLA fuses cos/sin into every consumer and evaluates them once per element of q
    and k (on the CPU the host table made the training step 2.8% faster). A traced offset (the position of a
    chunk written into a KV cache) slices a table of max_len positions."""
    if isinstance(offset, int):
        cos, sin = _rope_table(offset + seq_len, head_dim, float(base))
        return jnp.asarray(cos[offset:]), jnp.asarray(sin[offset:])
    n = max(max_len or 0, seq_len)
    cos, sin = _rope_table(n, head_dim, float(base))
    return (jax.lax.dynamic_slice_in_dim(jnp.asarray(cos), offset, seq_len),
            jax.lax.dynamic_slice_in_dim(jnp.asarray(sin), offset, seq_len))


def apply_rope(x: jax.Array, cos: jax.Array, sin: jax.Array) -> jax.Array:
    """Rotate pairs (first half, second half) of the head dimension. x: (B, T, H, Dh)."""
    x1, x2 = jnp.split(x.astype(jnp.float32), 2, axis=-1)
    c, s = cos[None, :, None, :], sin[None, :, None, :]
    return jnp.concatenate([x1 * c - x2 * s, x1 * s + x2 * c], axis=-1).astype(x.dtype)


class CausalSelfAttention(nnx.Module):
    def __init__(self, cfg: GPTConfig, *, dtype, rngs: nnx.Rngs):
        d = cfg.n_embd
        self.n_head, self.head_dim, self.cfg = cfg.n_head, d // cfg.n_head, cfg
        self.qkv = nnx.Linear(d, 3 * d, use_bias=False, dtype=dtype, param_dtype=jnp.float32,
                              kernel_init=nnx.initializers.normal(0.02), rngs=rngs)
        self.proj = nnx.Linear(d, d, use_bias=False, dtype=dtype, param_dtype=jnp.float32,
                               kernel_init=nnx.initializers.normal(0.02 / math.sqrt(2 * cfg.n_layer)),
                               rngs=rngs)

    def __call__(self, x: jax.Array, cos: jax.Array, sin: jax.Array, dropout_key=None,
                 cache=None, pos=0, segments=None):
        """x (B, T, D) -> (y (B, T, D), cache). Without a cache (None is returned): causal
        attention among these T positions. With cache = (k, v), each (B, max_len, H, Dh):
        x holds positions pos..pos+T-1 (pos + T <= max_len); their keys and values are
        written into the cache there and every query attends to the cache positions up to
        its own (later entries, stale or padding, are masked out). `segments` (B, T) ints,
        without a cache only: a query sees only earlier keys of its own segment (document)."""
        b, t, d = x.shape
        q, k, v = jnp.split(self.qkv(x), 3, axis=-1)
        q, k, v = (z.reshape(b, t, self.n_head, self.head_dim) for z in (q, k, v))
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if cache is None and segments is None:
            y = jax.nn.dot_product_attention(q, k, v, is_causal=True)  # (B, T, H, Dh)
        elif cache is None:  # causal and within the query's document: (B, 1, T, T)
            same = segments[:, :, None] == segments[:, None, :]
            y = jax.nn.dot_product_attention(q, k, v, mask=(same & jnp.tri(t, dtype=bool))[:, None])
        else:
            k = jax.lax.dynamic_update_slice(cache[0], k.astype(cache[0].dtype), (0, pos, 0, 0))
            v = jax.lax.dynamic_update_slice(cache[1], v.astype(cache[1].dtype), (0, pos, 0, 0))
            cache = (k, v)
            # query i (position pos + i) sees cache entries 0..pos+i: (T, max_len)
            visible = jnp.arange(k.shape[1])[None, :] <= pos + jnp.arange(t)[:, None]
            y = jax.nn.dot_product_attention(q, k.astype(q.dtype), v.astype(q.dtype),
                                             mask=visible[None, None])
        return _dropout(self.proj(y.reshape(b, t, d)), self.cfg.dropout, dropout_key), cache


class MLP(nnx.Module):
    def __init__(self, cfg: GPTConfig, *, dtype, rngs: nnx.Rngs):
        d = cfg.n_embd
        self.cfg = cfg
        self.fc = nnx.Linear(d, 4 * d, use_bias=False, dtype=dtype, param_dtype=jnp.float32,
                             kernel_init=nnx.initializers.normal(0.02), rngs=rngs)
        self.proj = nnx.Linear(4 * d, d, use_bias=False, dtype=dtype, param_dtype=jnp.float32,
                               kernel_init=nnx.initializers.normal(0.02 / math.sqrt(2 * cfg.n_layer)),
                               rngs=rngs)

    def __call__(self, x: jax.Array, dropout_key=None) -> jax.Array:
        return _dropout(self.proj(jax.nn.gelu(self.fc(x), approximate=True)),
                        self.cfg.dropout, dropout_key)


class Block(nnx.Module):
    def __init__(self, cfg: GPTConfig, *, dtype, rngs: nnx.Rngs):
        norm = dict(epsilon=1e-5, dtype=jnp.float32, param_dtype=jnp.float32, rngs=rngs)
        self.dtype = dtype
        self.ln1 = nnx.RMSNorm(cfg.n_embd, **norm)
        self.attn = CausalSelfAttention(cfg, dtype=dtype, rngs=rngs)
        self.ln2 = nnx.RMSNorm(cfg.n_embd, **norm)
        self.mlp = MLP(cfg, dtype=dtype, rngs=rngs)

    def __call__(self, x, cos, sin, dropout_key=None, cache=None, pos=0, segments=None):
        """-> (x, cache): the layer's KV cache updated, or None without one."""
        k1 = k2 = None
        if dropout_key is not None:
            k1, k2 = jax.random.split(dropout_key)
        y, cache = self.attn(self.ln1(x).astype(self.dtype), cos, sin, k1, cache, pos, segments)
        x = x + y
        x = x + self.mlp(self.ln2(x).astype(self.dtype), k2)
        return x, cache


class GPT(nnx.Module):
    def __init__(self, cfg: GPTConfig, *, dtype=jnp.float32, rngs: nnx.Rngs):
        self.cfg, self.dtype = cfg, dtype
        self.wte = nnx.Embed(cfg.vocab_size, cfg.n_embd, dtype=dtype, param_dtype=jnp.float32,
                             embedding_init=nnx.initializers.normal(0.02), rngs=rngs)
        self.blocks = nnx.List([Block(cfg, dtype=dtype, rngs=rngs) for _ in range(cfg.n_layer)])
        self.ln_f = nnx.RMSNorm(cfg.n_embd, epsilon=1e-5, dtype=jnp.float32,
                                param_dtype=jnp.float32, rngs=rngs)

    def __call__(self, idx: jax.Array, dropout_key: jax.Array | None = None, *,
                 cache: list | None = None, pos: int | jax.Array = 0, segments=None):
        """idx: int (B, T) with T <= block_size -> float32 logits (B, T, vocab_size).
        `segments` (B, T): document numbers; attention stays within a document (no cache).

        With `cache` (from `init_cache`): idx holds the tokens at absolute positions
        pos..pos+T-1 (pos + T <= the cache's max_len, which is not checked when pos is
        traced); returns (logits, the updated cache)."""
        b, t = idx.shape
        if t > self.cfg.block_size:
            raise ValueError(f"sequence length {t} > block_size {self.cfg.block_size}")
        if cache is not None and segments is not None:
            raise ValueError("segments (document masking) are for training, not with a KV cache")
        if cache is not None and isinstance(pos, int) and pos + t > cache[0][0].shape[1]:
            raise ValueError(f"positions {pos}..{pos + t - 1} do not fit a cache of "
                             f"{cache[0][0].shape[1]}")
        cos, sin = rope_tables(t, self.cfg.n_embd // self.cfg.n_head, self.cfg.rope_base, pos,
                               None if cache is None else cache[0][0].shape[1])
        x = self.wte(idx)
        keys = [None] * len(self.blocks)
        if dropout_key is not None and self.cfg.dropout > 0:
            keys = list(jax.random.split(dropout_key, len(self.blocks)))
        layer_caches = [None] * len(self.blocks) if cache is None else cache
        new_cache = []
        for block, key, layer_cache in zip(self.blocks, keys, layer_caches):
            x, layer_cache = block(x, cos, sin, key, layer_cache, pos, segments)
            new_cache.append(layer_cache)
        h = self.ln_f(x).astype(self.dtype)
        emb = self.wte.embedding[...].astype(self.dtype)
        logits = (h @ emb.T).astype(jnp.float32)  # tied head
        return logits if cache is None else (logits, new_cache)


def init_cache(cfg: GPTConfig, batch: int, dtype=jnp.float32, max_len: int | None = None) -> list:
    """An empty KV cache: per layer (k, v) zeros of shape (batch, max_len, n_head, head
    size), max_len defaulting to block_size (RoPE is trained on positions < block_size)."""
    shape = (batch, max_len or cfg.block_size, cfg.n_head, cfg.n_embd // cfg.n_head)
    return [(jnp.zeros(shape, dtype), jnp.zeros(shape, dtype)) for _ in range(cfg.n_layer)]


def cross_entropy(logits: jax.Array, targets: jax.Array) -> jax.Array:
    """Mean next-token cross-entropy (nats) over all positions."""
    return optax.softmax_cross_entropy_with_integer_labels(logits, targets).mean()


def num_params(params) -> int:
    return sum(int(x.size) for x in jax.tree.leaves(params))


def flops_per_token(cfg: GPTConfig, n_params: int, seq_len: int | None = None) -> float:
    """Training FLOPs per token (forward + backward), PaLM appendix B / nanoGPT.

    6 * N for the matmuls with every parameter (the tied embedding is counted once,
    as the output head matmul; the input lookup costs nothing) plus 12 * L * D * T for
    the attention score and value matmuls.
    """
    t = seq_len or cfg.block_size
    return 6.0 * n_params + 12.0 * cfg.n_layer * cfg.n_embd * t


# --- functional view: (graphdef, params) where params is a plain nested dict of arrays ---
# The trainer keeps params as a pure pytree (what optax and orbax want) and rebuilds
# the module inside jit with `nnx.merge`, which costs nothing at run time.

def graphdef(cfg: GPTConfig, dtype=jnp.float32) -> nnx.GraphDef:
    return nnx.graphdef(nnx.eval_shape(lambda: GPT(cfg, dtype=dtype, rngs=nnx.Rngs(0))))


def init_params(cfg: GPTConfig, seed: int) -> dict:
    """Fresh float32 params as a nested dict (jit it with out_shardings to place them)."""
    return nnx.to_pure_dict(nnx.state(GPT(cfg, rngs=nnx.Rngs(seed)), nnx.Param))


def apply(gdef: nnx.GraphDef, params: dict, idx: jax.Array, dropout_key=None, *,
          cache: list | None = None, pos: int | jax.Array = 0, segments=None):
    """Logits, or (logits, cache) when a cache is given (see GPT.__call__)."""
    if cache is None:
        return nnx.merge(gdef, params)(idx, dropout_key, segments=segments)
    return nnx.merge(gdef, params)(idx, dropout_key, cache=cache, pos=pos)
