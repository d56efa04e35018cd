"""Train the GPT of model/gpt.py on a gristmill run directory.

  gristmill train --data runs/2026-47 --out ckpt/demo --steps 300

optax AdamW (betas 0.9/0.95, weight decay on matrices only) with linear warmup and
cosine decay to --min-lr, global-norm clipping, one jit-compiled train step, data
parallel over a 1-D `jax.sharding.Mesh` of all devices (batch sharded on 'data',
params and optimizer state replicated). Checkpoints are orbax (see checkpoint.py).

Resume (`--resume`) is exact: the batch of step s is a pure function of (manifest,
seed, batch size, block size, s) (see data.py: grain's IndexSampler and DataLoader
over the memory-mapped shards, `--doc-mask` for attention within documents), and the checkpoint holds params,
optimizer state and step, so N steps + resume + M steps gives the same losses as
N + M steps in one go, provided the schedule flags (--steps, --lr, --min-lr,
--warmup) are the same. Flags left out on resume take the checkpoint's values;
flags that define the data order or the model must match it.
"""
from __future__ import annotations

import argparse
import ctypes
import math
import os
import shutil
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from gristmill.model import checkpoint as ckpt
from gristmill.model import gpt
from gristmill.model.data import MANIFEST, ShardRefused, TokenLoader, load_manifest, tokenizer_path
from gristmill.model.usage import (UsageError, check_writable_dir, fmt_bytes,
                                   host_memory_available, report, require_float, require_int)
from gristmill.tokfile import sha256_file

# Flags that define the data order or the network: a resumed run must keep them.
IDENTITY_FLAGS = ("seed", "batch_size", "block_size", "n_layer", "n_head", "n_embd", "dropout",
                  "doc_mask")

# Dense bf16 peak TFLOP/s per chip (vendor datasheets, without sparsity).
PEAK_BF16_TFLOPS = [
    ("H200", 989.0), ("H100 PCIe", 756.0), ("H100 NVL", 835.0), ("H100", 989.0), ("A100", 312.0),
    ("TPU v6 lite", 918.0), ("TPU v5p", 459.0), ("TPU v5 lite", 197.0), ("TPU v4", 275.0),
]


def build_parser(suppress_defaults: bool = False) -> argparse.ArgumentParser:
    d = (lambda v: argparse.SUPPRESS) if suppress_defaults else (lambda v: v)
    p = argparse.ArgumentParser(prog="gristmill train", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data", default=d(None), help="run directory with manifest.json "
                   "(on --resume, defaults to the checkpoint's)")
    p.add_argument("--language", default=d(""), help="train on this language's shard sets only "
                   "(a run written with --split-by-language); default: every shard of the split")
    p.add_argument("--out", required=True, help="checkpoint directory")
    p.add_argument("--steps", type=int, default=d(300), help="total optimizer steps")
    p.add_argument("--batch-size", type=int, default=d(16), help="global batch (sequences)")
    p.add_argument("--block-size", type=int, default=d(128), help="context length T")
    p.add_argument("--preset", default=d(""), help="model size by name (gpt.PRESETS: tiny, mini, "
                   "small, gpt2-124m, or d<depth>): sets --n-layer, --n-head, --n-embd and "
                   "--block-size, each unless given")
    p.add_argument("--n-layer", type=int, default=d(4))
    p.add_argument("--n-head", type=int, default=d(4))
    p.add_argument("--n-embd", type=int, default=d(128))
    p.add_argument("--dropout", type=float, default=d(0.0))
    p.add_argument("--lr", type=float, default=d(3e-3), help="peak learning rate")
    p.add_argument("--min-lr", type=float, default=d(None), help="final lr (default lr/10)")
    p.add_argument("--warmup", type=int, default=d(30), help="linear warmup steps")
    p.add_argument("--weight-decay", type=float, default=d(0.1))
    p.add_argument("--grad-clip", type=float, default=d(1.0), help="global norm; 0 = off")
    p.add_argument("--seed", type=int, default=d(0), help="init and data order (0 <= seed < 2^32)")
    p.add_argument("--doc-mask", action="store_true", default=d(False),
                   help="attention does not cross document boundaries inside a window "
                   "(segment ids from the shards' document index)")
    p.add_argument("--no-shard-hash", action="store_true", default=d(False),
                   help="skip the sha256 of each shard against the manifest at start (the "
                   "header checks stay: token count, vocab, tokenizer sha256, crc32)")
    p.add_argument("--eval-every", type=int, default=d(100), help="0 = only at the end")
    p.add_argument("--eval-batches", type=int, default=d(8))
    p.add_argument("--log-every", type=int, default=d(10))
    p.add_argument("--ckpt-every", type=int, default=d(0), help="0 = only at the end")
    p.add_argument("--keep-checkpoints", type=int, default=d(3))
    p.add_argument("--dtype", choices=["auto", "float32", "bfloat16"], default=d("auto"),
                   help="compute dtype; auto = bfloat16 on GPU/TPU, float32 on CPU")
    p.add_argument("--peak-tflops", type=float, default=d(None),
                   help="peak TFLOP/s per device for MFU (default: known GPUs/TPUs; n/a on CPU)")
    p.add_argument("--resume", action="store_true", default=d(False),
                   help="continue from the latest checkpoint in --out")
    return p


# ---- argument checks (before any work; a failure is a UsageError -> exit 2) ------

def check_args(args: argparse.Namespace) -> None:
    """The values of the flags on their own (no files, no devices)."""
    for name in ("steps", "batch_size", "block_size", "n_layer", "n_head", "n_embd",
                 "log_every", "eval_batches"):
        require_int(name, getattr(args, name), 1)
    for name in ("warmup", "eval_every", "ckpt_every", "keep_checkpoints"):
        require_int(name, getattr(args, name), 0)
    if not 0 <= args.seed < 2 ** 32:
        raise UsageError(f"--seed {args.seed} must be in [0, 2^32) (grain's sampler)")
    require_float("lr", args.lr, low=0, low_open=True)
    if args.min_lr is not None:
        require_float("min_lr", args.min_lr, low=0)
    require_float("weight_decay", args.weight_decay, low=0)
    require_float("grad_clip", args.grad_clip, low=0)
    require_float("dropout", args.dropout, low=0, high=1, high_open=True)
    if args.peak_tflops is not None:
        require_float("peak_tflops", args.peak_tflops, low=0, low_open=True)
    if args.n_embd % args.n_head:
        raise UsageError(f"--n-embd {args.n_embd} is not divisible by --n-head {args.n_head}")
    if (args.n_embd // args.n_head) % 2:
        raise UsageError(f"head size --n-embd / --n-head = {args.n_embd // args.n_head} must be "
                         f"even (RoPE rotates pairs of dimensions)")


def check_data(data: str | None) -> tuple[dict, str]:
    """--data is a finished run directory with train shards; its (manifest, sha256)."""
    if not data:
        raise UsageError("--data RUN_DIR is required (a run directory written by "
                         "`gristmill run`), unless --resume finds a checkpoint in --out")
    if not os.path.exists(data):
        raise UsageError(f"--data {data} does not exist")
    if not os.path.isdir(data):
        raise UsageError(f"--data {data} is not a directory")
    if not os.path.isfile(os.path.join(data, MANIFEST)):
        raise UsageError(f"--data {data} has no {MANIFEST}: not a finished run directory "
                         f"(`gristmill run` writes it last, after the shards)")
    try:
        manifest, sha = load_manifest(data)
        vocab = int(manifest["tokenizer"]["vocab_size"])
        train_entries = manifest.get("splits", {}).get("train") or []
        paths = [os.path.join(data, e["path"]) for e in train_entries]
        train_tokens = sum(int(e["num_tokens"]) for e in train_entries)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise UsageError(f"--data {data}: unreadable {MANIFEST} ({type(e).__name__}: {e})")
    if vocab < 1:
        raise UsageError(f"--data {data}: {MANIFEST} gives vocab_size {vocab}")
    if not train_entries or not train_tokens:
        raise UsageError(f"--data {data} has no train shards (or only empty ones) in its "
                         f"{MANIFEST}")
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise UsageError(f"--data {data}: {len(missing)} train shard(s) listed in {MANIFEST} "
                         f"are missing, e.g. {missing[0]}")
    tok = tokenizer_path(data, manifest)
    if not os.path.isfile(tok):
        raise UsageError(f"--data {data}: tokenizer {tok} named in {MANIFEST} is missing")
    return manifest, sha


def check_out(out: str, data: str | None) -> None:
    check_writable_dir("out", out)
    if data and os.path.abspath(out) == os.path.abspath(data):
        raise UsageError(f"--out {out} is the --data run directory; write checkpoints elsewhere")


def estimate_train_bytes(cfg: gpt.GPTConfig, batch: int, compute_bytes: int) -> int:
    """Rough peak memory of one device's train step, in bytes: float32 params, grads
    and the two AdamW moments (16 bytes a parameter), the activations kept for the
    backward pass (per layer and token about 18 compute-dtype and 2 float32 vectors
    of n_embd; per layer the B*H*T*T attention scores, in the compute dtype and in
    float32), one layer's float32 softmax and its gradient, and the logits in the
    compute dtype and in float32. It errs low (XLA's own buffer assignment for the
    compiled step came out 1.0-1.8x higher on CPU, float32 and bfloat16), so a run
    it refuses cannot fit."""
    v, t, d, n_l, h, b = (cfg.vocab_size, cfg.block_size, cfg.n_embd, cfg.n_layer,
                          cfg.n_head, batch)
    n_params = v * d + n_l * (12 * d * d + 2 * d) + d
    state = 16 * n_params
    per_token = n_l * (8 * d + 18 * d * compute_bytes) + v * (4 + compute_bytes)
    attention = n_l * b * h * t * t * (compute_bytes + 4) + 8 * b * h * t * t
    return int(state + b * t * per_token + attention)


def device_memory(devices) -> tuple[int, str, bool]:
    """(bytes one device may use, description, whether it is per device)."""
    try:
        stats = devices[0].memory_stats() or {}
    except Exception:  # noqa: BLE001 - CPU and some plugins have no stats
        stats = {}
    if stats.get("bytes_limit"):
        return int(stats["bytes_limit"]), f"{devices[0].device_kind} memory limit", True
    avail, what = host_memory_available()
    return avail, what, False


def check_memory(cfg: gpt.GPTConfig, batch_size: int, devices, compute_bytes: int) -> None:
    """Refuse a model / batch / context that cannot fit, before allocating anything."""
    per_device = estimate_train_bytes(cfg, max(batch_size // len(devices), 1), compute_bytes)
    limit, what, is_per_device = device_memory(devices)
    need = per_device if is_per_device else per_device * len(devices)
    if need > limit:
        raise UsageError(
            f"--block-size {cfg.block_size} with --batch-size {batch_size}, --n-layer "
            f"{cfg.n_layer}, --n-head {cfg.n_head}, --n-embd {cfg.n_embd} and vocab "
            f"{cfg.vocab_size} would need at least about {fmt_bytes(need)}"
            f"{' per device' if is_per_device else ''} for training "
            f"(params + optimizer state + activations, attention ~B*H*T^2), more than the "
            f"{fmt_bytes(limit)} {what}; use a smaller --block-size or --batch-size")


def parse_args(argv=None) -> tuple[argparse.Namespace, set[str]]:
    """The args, and the names of those given explicitly on the command line."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    explicit = set(vars(build_parser(suppress_defaults=True).parse_args(argv)))
    if args.preset:  # its sizes count as given, so a resume checks them like flags
        try:
            fields = gpt.preset(args.preset, 1).to_dict()
        except ValueError as e:
            raise UsageError(f"--preset: {e}") from e
        for k in ("n_layer", "n_head", "n_embd", "block_size"):
            if k not in explicit:
                setattr(args, k, fields[k])
                explicit.add(k)
    return args, explicit


def lr_schedule(lr: float, min_lr: float, warmup: int, total: int):
    """Linear warmup from lr/warmup (the first update is not wasted at 0) to lr over
    `warmup` updates, then cosine decay to min_lr at update `total`."""
    def schedule(count):
        s = jnp.asarray(count, jnp.float32)
        warm = lr * (s + 1) / max(warmup, 1)
        progress = jnp.clip((s - warmup) / max(total - warmup, 1), 0.0, 1.0)
        decay = min_lr + 0.5 * (lr - min_lr) * (1 + jnp.cos(math.pi * progress))
        return jnp.where(s < warmup, warm, decay)
    return schedule


def make_optimizer(args, schedule) -> optax.GradientTransformation:
    decay_mask = lambda params: jax.tree.map(lambda x: x.ndim >= 2, params)  # noqa: E731
    # --grad-clip 0 clips at infinity, so the optimizer state has the same structure
    # either way (a checkpoint can be resumed with or without clipping).
    clip = args.grad_clip if args.grad_clip > 0 else float("inf")
    return optax.chain(optax.clip_by_global_norm(clip),
                       optax.adamw(schedule, b1=0.9, b2=0.95, eps=1e-8,
                                   weight_decay=args.weight_decay, mask=decay_mask))


def peak_flops(device, override_tflops: float | None) -> tuple[float | None, str]:
    if override_tflops:
        return override_tflops * 1e12, f"{override_tflops:g} TFLOP/s per device (--peak-tflops)"
    if device.platform == "cpu":
        return None, "n/a on CPU (pass --peak-tflops to compute one)"
    kind = device.device_kind
    for name, tf in PEAK_BF16_TFLOPS:
        if name.lower() in kind.lower():
            return tf * 1e12, f"{kind}: dense bf16 peak {tf:g} TFLOP/s per device"
    return None, f"n/a (unknown device {kind!r}; pass --peak-tflops)"


def _fmt_int(n: float) -> str:
    return f"{n:,.0f}"


def log(msg: str) -> None:
    if jax.process_index() == 0:
        print(msg, flush=True)


def _resolve_resume(args, explicit: set[str]) -> tuple[argparse.Namespace, int | None, dict | None]:
    """Merge the checkpoint's args into `args` when resuming; refuse to clobber otherwise."""
    step = ckpt.latest_step(args.out)
    if step is None:
        if args.resume:
            log(f"--resume: no checkpoint in {args.out} yet, starting from step 0")
        return args, None, None
    if not args.resume:
        raise UsageError(f"--out {args.out} already holds a checkpoint (step {step}); pass "
                         f"--resume to continue it, or choose another --out")
    meta = ckpt.read_meta(args.out, step)
    saved = meta["args"]
    for k, v in saved.items():
        if k in ("out", "resume"):
            continue
        if k in explicit:
            if k in IDENTITY_FLAGS and getattr(args, k) != v:
                raise UsageError(f"--{k.replace('_', '-')} {getattr(args, k)} differs from "
                                 f"the checkpoint's {v}; a resumed run keeps the data order and "
                                 f"the model (start a new --out to change them)")
            if k in ("steps", "lr", "min_lr", "warmup") and getattr(args, k) != v:
                log(f"note: --{k.replace('_', '-')} {getattr(args, k)} differs from the "
                    f"checkpoint's {v}: the lr schedule changes, so the run is no longer "
                    f"identical to an uninterrupted one")
        else:
            setattr(args, k, v)
    return args, step, meta


def train(args: argparse.Namespace, explicit: set[str] = frozenset()) -> dict:
    """Run training; returns {'losses': {step: loss}, 'eval': {step: loss}, ...}.

    `explicit` names the flags the user gave: on resume, the others take the
    checkpoint's values (so a bare `--resume` continues the same run).
    """
    t_start = time.time()
    check_args(args)
    if os.path.exists(args.out):
        check_writable_dir("out", args.out)  # before reading a checkpoint there
    args, resume_step, resume_meta = _resolve_resume(args, explicit)
    if resume_meta:
        check_args(args)  # the flags merged from the checkpoint
    manifest, manifest_sha = check_data(args.data)
    check_out(args.out, args.data)
    args.data = os.path.abspath(args.data)
    if args.min_lr is None:
        args.min_lr = args.lr / 10
    if resume_meta and resume_meta["manifest_sha256"] != manifest_sha:
        raise UsageError(
            f"--data {args.data}: manifest.json has sha256 {manifest_sha[:16]}..., but the "
            f"checkpoint in {args.out} was trained on {resume_meta['manifest_sha256'][:16]}... "
            f"({resume_meta.get('data_dir')}); resuming on other data would not be exact. "
            f"Point --data at the original run or start a new --out")
    tok = manifest["tokenizer"]
    tok_src = tokenizer_path(args.data, manifest)
    if tok.get("sha256") and sha256_file(tok_src) != tok["sha256"]:
        raise UsageError(f"--data {args.data}: {tok_src} does not match the sha256 in the "
                         f"manifest")

    # ---- devices and the memory the model needs (still before any allocation)
    devices = jax.devices()
    if args.batch_size % len(devices):
        raise UsageError(f"--batch-size {args.batch_size} is not divisible by the "
                         f"{len(devices)} devices")
    dtype = gpt.default_compute_dtype() if args.dtype == "auto" else jnp.dtype(args.dtype)
    cfg = gpt.GPTConfig(vocab_size=tok["vocab_size"], block_size=args.block_size,
                        n_layer=args.n_layer, n_head=args.n_head, n_embd=args.n_embd,
                        dropout=args.dropout)
    check_memory(cfg, args.batch_size, devices, jnp.dtype(dtype).itemsize)

    # ---- data
    ld = dict(block_size=args.block_size, batch_size=args.batch_size,
              manifest=(manifest, manifest_sha), language=args.language,
              doc_mask=args.doc_mask, verify=not args.no_shard_hash)
    try:
        train_data = TokenLoader(args.data, "train", seed=args.seed, shuffle=True, **ld)
    except (ValueError, FileNotFoundError) as e:  # too few tokens, a shard that disagrees
        raise UsageError(f"--data {args.data}: {e}") from e
    try:
        val_data = TokenLoader(args.data, "val", seed=0, shuffle=False, **ld)
        n_eval = min(args.eval_batches, math.ceil(len(val_data) / args.batch_size))
        val_msg = f"val {_fmt_int(val_data.stream.num_tokens)} tokens, {n_eval} eval batches"
    except ShardRefused as e:
        raise UsageError(f"--data {args.data}: {e}") from e
    except ValueError as e:
        val_data, n_eval = None, 0
        val_msg = f"no eval: {e}"
    log(f"data: {args.data} (manifest sha256 {manifest_sha[:12]}): train "
        f"{_fmt_int(train_data.stream.num_tokens)} tokens in {train_data.stream.num_shards} "
        f"shards -> {_fmt_int(len(train_data))} examples of {args.block_size}+1 tokens "
        f"({train_data.steps_per_epoch:.1f} steps/epoch, grain IndexSampler seed {args.seed})"
        f"{'; attention masked at document boundaries' if args.doc_mask else ''}; {val_msg}")

    # ---- mesh, model
    mesh = Mesh(np.array(devices), ("data",))
    replicated = NamedSharding(mesh, P())
    batch_sharding = NamedSharding(mesh, P("data", None))
    gdef = gpt.graphdef(cfg, dtype)
    schedule = lr_schedule(args.lr, args.min_lr, args.warmup, args.steps)
    tx = make_optimizer(args, schedule)
    params = jax.jit(lambda: gpt.init_params(cfg, args.seed), out_shardings=replicated)()
    opt_state = jax.jit(tx.init, out_shardings=replicated)(params)
    n_params = gpt.num_params(params)
    flops_tok = gpt.flops_per_token(cfg, n_params)
    peak, peak_msg = peak_flops(devices[0], args.peak_tflops)
    tokens_per_step = args.batch_size * args.block_size
    log(f"model: GPT {n_params / 1e6:.2f}M params (n_layer {cfg.n_layer}, n_head {cfg.n_head}, "
        f"n_embd {cfg.n_embd}, block {cfg.block_size}, vocab {cfg.vocab_size}; RoPE, RMSNorm, "
        f"tied head), compute {jnp.dtype(dtype).name}, params float32")
    if devices[0].platform == "cpu":
        log(f"XLA_FLAGS: {os.environ.get('XLA_FLAGS') or '(none)'}")
        log(f"host malloc: {keep_freed_memory()}")
    log(f"mesh: {len(devices)} x {devices[0].device_kind} on axis 'data' ({jax.process_count()} "
        f"process(es)); batch {args.batch_size} x {args.block_size} = {tokens_per_step} "
        f"tokens/step; {flops_tok / 1e6:.1f} MFLOP/token; MFU: {peak_msg}")

    start_step = 0
    if resume_step is not None:
        abstract = lambda t: jax.tree.map(  # noqa: E731
            lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=replicated), t)
        params, opt_state, _ = ckpt.restore(args.out, resume_step, abstract(params),
                                            abstract(opt_state))
        start_step = resume_step
        log(f"resumed from {args.out} at step {start_step} (manifest sha256 matches)")
    if start_step >= args.steps:
        log(f"already at step {start_step} >= --steps {args.steps}; nothing to do")
        return {"losses": {}, "eval": {}, "first_loss": None, "last_loss": None,
                "step": start_step}

    # ---- checkpoint dir: tokenizer + metadata
    os.makedirs(args.out, exist_ok=True)
    if jax.process_index() == 0:
        shutil.copyfile(tok_src, os.path.join(args.out, ckpt.TOKENIZER))
    mgr = ckpt.manager(args.out, max_to_keep=args.keep_checkpoints or None)
    meta = {"format": 1, "config": cfg.to_dict(),
            "args": {k: v for k, v in vars(args).items() if k not in ("out", "resume")},
            "manifest_sha256": manifest_sha, "data_dir": os.path.abspath(args.data),
            "tokenizer_sha256": tok.get("sha256"), "seed": args.seed,
            "special_ids": {k: tok.get(k) for k in ("bos_id", "eos_id", "pad_id", "unk_id")}}

    # ---- compiled steps
    base_key = jax.random.key(args.seed)

    def train_step(params, opt_state, step, x, y, seg=None):
        key = jax.random.fold_in(base_key, step) if cfg.dropout > 0 else None
        loss_fn = lambda p: gpt.cross_entropy(gpt.apply(gdef, p, x, key, segments=seg), y)  # noqa: E731
        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        return params, opt_state, loss, optax.tree.norm(grads)

    def eval_step(params, x, y, seg=None):
        return gpt.cross_entropy(gpt.apply(gdef, params, x, segments=seg), y)

    def put_batch(*arrays):  # x, y (and segment ids): this host's rows of the global batch
        return tuple(jax.make_array_from_process_local_data(batch_sharding, a) for a in arrays)

    batches = train_data.iterator(start_step)  # grain DataLoader; the same as batch_at(step)
    batch0 = put_batch(*next(batches))
    log("compiling train step (jit) ...")
    t0 = time.time()
    step_fn = jax.jit(train_step, donate_argnums=(0, 1),
                      out_shardings=(replicated, replicated, replicated, replicated)
                      ).lower(params, opt_state, jnp.int32(0), *batch0).compile()
    eval_fn = None
    if val_data is not None:
        eval_fn = jax.jit(eval_step).lower(params, *batch0).compile()
    log(f"compiled in {time.time() - t0:.1f} s; training steps {start_step + 1}..{args.steps}")

    eval_batches = [put_batch(*val_data.batch_at(k)) for k in range(n_eval)] if eval_fn else []

    def evaluate(step):
        if not eval_fn:
            log(f"eval step {step}: skipped ({val_msg})")
            return None
        loss = float(np.mean([float(eval_fn(params, *b)) for b in eval_batches]))
        history["eval"][step] = loss
        log(f"eval step {step}: val loss {loss:.4f} (ppl {math.exp(min(loss, 50)):.1f}, "
            f"{n_eval} batches)")
        return loss

    history = {"losses": {}, "eval": {}, "tokens_per_sec": [], "mfu": []}
    pending: list[tuple[int, jax.Array, jax.Array]] = []
    t_last, steps_since = time.time(), 0
    batch = batch0
    for step in range(start_step, args.steps):
        done = step + 1  # optimizer updates completed after this iteration
        params, opt_state, loss, gnorm = step_fn(params, opt_state, jnp.int32(step), *batch)
        pending.append((done, loss, gnorm))
        steps_since += 1
        if done < args.steps:
            batch = put_batch(*next(batches))  # overlaps with the device
        last = done == args.steps
        if done % args.log_every == 0 or last or done == start_step + 1:
            for s, l, g in pending:
                history["losses"][s] = float(l)
            pending.clear()
            now = time.time()
            tps = steps_since * tokens_per_step / (now - t_last)
            mfu = tps * flops_tok / (peak * len(devices)) if peak else None
            history["tokens_per_sec"].append(tps)
            history["mfu"].append(mfu)
            log(f"step {done:>6} | loss {history['losses'][done]:.4f} | lr "
                f"{float(schedule(step)):.2e} | grad norm {float(gnorm):.3f} | "
                f"{_fmt_int(tps)} tok/s | MFU {'n/a' if mfu is None else f'{100 * mfu:.1f}%'}")
            t_last, steps_since = time.time(), 0
        evaluated = saved = False
        if args.eval_every and done % args.eval_every == 0 or last:
            evaluate(done)
            evaluated = True
        if args.ckpt_every and done % args.ckpt_every == 0 or last:
            ckpt.save(mgr, args.out, done, params, opt_state, meta)
            log(f"checkpoint: step {done} -> {os.path.join(args.out, ckpt.STEPS_DIR, str(done))}")
            saved = True
        if evaluated or saved:
            t_last, steps_since = time.time(), 0
    mgr.close()

    losses = history["losses"]
    first, last_s = min(losses), max(losses)
    history.update(first_loss=losses[first], last_loss=losses[last_s], step=args.steps,
                   wall_s=time.time() - t_start)
    tps_runs = history["tokens_per_sec"][1:] or history["tokens_per_sec"]
    log(f"first loss {losses[first]:.4f} (step {first}; ln(vocab) = {math.log(cfg.vocab_size):.4f})"
        f" ... last loss {losses[last_s]:.4f} (step {last_s})"
        + (f"; final val loss {history['eval'][args.steps]:.4f}" if args.steps in history["eval"]
           else ""))
    log(f"done: {args.steps - start_step} steps in {history['wall_s']:.1f} s wall "
        f"(including compile), ~{_fmt_int(np.median(tps_runs))} tok/s; checkpoint in {args.out}")
    return history


# Measured on benchmarks/trainer_vs_nanogpt's step (4 layers, 128 dims, batch 12 x 64),
# A/B in one process, each with keep_freed_memory():
#   --xla_cpu_experimental_ynn_fusion_type=dot: XLA:CPU runs the dots through YNNPACK,
#     64.5 ms a step against 101.0 without it;
#   --xla_disable_hlo_passes=tree_reduction_rewriter: the norms' and the softmaxes'
#     row sums stay plain reductions instead of reduce-window trees, 59.3 ms against 64.5.
# The val loss of the benchmark's model is unchanged. benchmarks/sample measured no gain
# from the first, so only `gristmill train` sets them. Only XLA:CPU reads them.
CPU_XLA_FLAGS = ("--xla_cpu_experimental_ynn_fusion_type=dot",
                 "--xla_disable_hlo_passes=tree_reduction_rewriter")
MEASURED_JAXLIB = "0.10.2"  # the pinned one: XLA aborts on a flag it does not know

# glibc's malloc(3) serves a block above its mmap threshold (32 MiB at most) with a fresh
# mmap and unmaps it on free. XLA:CPU allocates an execution's temporaries as one block
# (64 MiB for the benchmark's step), so every step faulted all of its pages in again:
# 16,700 page faults and 42 ms of kernel time in a 95 ms step. With malloc's mmap off and
# its trim threshold at 1 GiB, the freed block is reused: 430 faults, 58 ms a step.
# (mallopt parameter of <malloc.h>, glibc's environment tunable for it, value)
KEPT_MALLOC = ((-4, "MALLOC_MMAP_MAX_", 0), (-1, "MALLOC_TRIM_THRESHOLD_", 1 << 30))
MALLOC_ENV = ("MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_")


def keep_freed_memory(environ=os.environ) -> str:
    """Make glibc keep freed memory for reuse instead of unmapping it (KEPT_MALLOC, see
    above); the process's resident memory then stays at its peak. Left alone when the user
    sets one of glibc's own MALLOC_* tunables, or where libc is not glibc. Says what it did."""
    if any(k in environ for k in MALLOC_ENV):
        return "glibc defaults left to the user's " + ", ".join(k for k in MALLOC_ENV if k in environ)
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.gnu_get_libc_version.restype = ctypes.c_char_p
        glibc = libc.gnu_get_libc_version().decode()
    except (OSError, AttributeError):
        return "unchanged (not glibc)"
    if not all(libc.mallopt(param, value) == 1 for param, _, value in KEPT_MALLOC):
        return f"unchanged (glibc {glibc} refused mallopt)"
    return f"glibc {glibc}: mmap off, trim threshold 1 GiB (freed blocks are reused)"


def add_cpu_xla_flags(environ=os.environ) -> list[str]:
    """Add CPU_XLA_FLAGS to XLA_FLAGS (read when JAX starts a backend), except those the
    user's XLA_FLAGS already name, and only with the jaxlib they were measured with.
    Returns the flags added."""
    from importlib.metadata import version
    if version("jaxlib") != MEASURED_JAXLIB:
        return []
    current = environ.get("XLA_FLAGS", "")
    added = [f for f in CPU_XLA_FLAGS if f.split("=")[0] not in current]
    if added:
        environ["XLA_FLAGS"] = " ".join([current, *added]).strip()
    return added


def main(argv=None) -> int:
    add_cpu_xla_flags()  # before the first JAX call starts the CPU backend
    try:
        train(*parse_args(argv))
    except UsageError as e:
        return report("gristmill train", e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
