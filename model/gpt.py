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
"""
from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
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


def default_compute_dtype() -> jnp.dtype:
    """bfloat16 on GPU/TPU, float32 on CPU."""
    return jnp.float32 if jax.default_backend() == "cpu" else jnp.bfloat16


def _dropout(x: jax.Array, rate: float, key: jax.Array | None) -> jax.Array:
    if rate == 0.0 or key is None:
        return x
    keep = jax.random.bernoulli(key, 1.0 - rate, x.shape)
    return jnp.where(keep, x / (1.0 - rate), 0).astype(x.dtype)


def rope_tables(seq_len: int, head_dim: int, base: float) -> tuple[jax.Array, jax.Array]:
    """cos/sin tables of shape (seq_len, head_dim // 2) for positions 0..seq_len-1."""
    inv_freq = 1.0 / (base ** (jnp.arange(0, head_dim, 2, dtype=jnp.float32) / head_dim))
    angles = jnp.arange(seq_len, dtype=jnp.float32)[:, None] * inv_freq[None, :]
    return jnp.cos(angles), jnp.sin(angles)


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

    def __call__(self, x: jax.Array, cos: jax.Array, sin: jax.Array, dropout_key=None) -> jax.Array:
        b, t, d = x.shape
        q, k, v = jnp.split(self.qkv(x), 3, axis=-1)
        q, k, v = (z.reshape(b, t, self.n_head, self.head_dim) for z in (q, k, v))
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        y = jax.nn.dot_product_attention(q, k, v, is_causal=True)  # (B, T, H, Dh)
        return _dropout(self.proj(y.reshape(b, t, d)), self.cfg.dropout, dropout_key)


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

    def __call__(self, x, cos, sin, dropout_key=None):
        k1 = k2 = None
        if dropout_key is not None:
            k1, k2 = jax.random.split(dropout_key)
        x = x + self.attn(self.ln1(x).astype(self.dtype), cos, sin, k1)
        x = x + self.mlp(self.ln2(x).astype(self.dtype), k2)
        return x


class GPT(nnx.Module):
    def __init__(self, cfg: GPTConfig, *, dtype=jnp.float32, rngs: nnx.Rngs):
        self.cfg, self.dtype = cfg, dtype
        self.wte = nnx.Embed(cfg.vocab_size, cfg.n_embd, dtype=dtype, param_dtype=jnp.float32,
                             embedding_init=nnx.initializers.normal(0.02), rngs=rngs)
        self.blocks = nnx.List([Block(cfg, dtype=dtype, rngs=rngs) for _ in range(cfg.n_layer)])
        self.ln_f = nnx.RMSNorm(cfg.n_embd, epsilon=1e-5, dtype=jnp.float32,
                                param_dtype=jnp.float32, rngs=rngs)

    def __call__(self, idx: jax.Array, dropout_key: jax.Array | None = None) -> jax.Array:
        """idx: int (B, T) with T <= block_size -> float32 logits (B, T, vocab_size)."""
        b, t = idx.shape
        if t > self.cfg.block_size:
            raise ValueError(f"sequence length {t} > block_size {self.cfg.block_size}")
        cos, sin = rope_tables(t, self.cfg.n_embd // self.cfg.n_head, self.cfg.rope_base)
        x = self.wte(idx)
        keys = [None] * len(self.blocks)
        if dropout_key is not None and self.cfg.dropout > 0:
            keys = list(jax.random.split(dropout_key, len(self.blocks)))
        for block, key in zip(self.blocks, keys):
            x = block(x, cos, sin, key)
        h = self.ln_f(x).astype(self.dtype)
        emb = self.wte.embedding[...].astype(self.dtype)
        return (h @ emb.T).astype(jnp.float32)  # tied head


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


def apply(gdef: nnx.GraphDef, params: dict, idx: jax.Array, dropout_key=None) -> jax.Array:
    return nnx.merge(gdef, params)(idx, dropout_key)
