"""Our trainer against nanoGPT's train.py on the same machine, tokens and setting.

    .venv/bin/python -m benchmarks.trainer_vs_nanogpt --nanogpt PATH [--torch-python PATH]
        [--run out/demo/run] [--steps 300]

Both train on the demo run's tokens: ours reads the run directory's shards, nanoGPT the
`train.bin`/`val.bin` that `gristmill export --format nanogpt` writes from it (run from
a scratch folder holding that data and a link to the checkout's configurator.py;
nothing of nanoGPT is copied). Setting (the issue's): 4 layers, 4 heads, 128 dims,
context 64, batch 12, lr 3e-3 with 30 warmup steps and cosine decay to lr/10, AdamW
(0.9, 0.95, weight decay 0.1), clipping at 1.0, float32 on the CPU, nanoGPT with
compile off. Speed: tokens per step over the median time of a step, steps 10..N (each
trainer's own per-step log, one step per line, so both pay one host sync a step).
Val loss: each final model on the same windows, tokens [i*T, i*T+T+1) of val.bin for
i < --eval-windows, evaluated here (JAX) and by a small script of ours in the torch
Python that imports the checkout's model.py.

`gristmill train` makes glibc keep freed memory (see model/train.py); nanoGPT runs with
glibc's defaults unless `--same-malloc` gives it the same settings.

Last line: `ratio=... ours_tok_s=... nanogpt_tok_s=... ours_val_loss=... nanogpt_val_loss=...`.
Skipped, with one line saying why, when the checkout or torch is absent.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile

import numpy as np

from benchmarks.common import BIN, REPO

SETTING = dict(n_layer=4, n_head=4, n_embd=128, block=64, batch=12, lr=3e-3, warmup=30)

TORCH_EVAL = r"""
import sys, numpy as np, torch
sys.path.insert(0, sys.argv[1])
from model import GPT, GPTConfig
ck = torch.load(sys.argv[2], map_location="cpu")
model = GPT(GPTConfig(**ck["model_args"]))
model.load_state_dict({k.removeprefix("_orig_mod."): v for k, v in ck["model"].items()})
model.eval()
data = np.memmap(sys.argv[3], dtype=np.uint16, mode="r")
T, n = int(sys.argv[4]), int(sys.argv[5])
losses = []
with torch.no_grad():
    for s in range(0, n, 50):
        idx = range(s, min(s + 50, n))
        w = torch.from_numpy(np.stack([data[i * T:i * T + T + 1].astype(np.int64) for i in idx]))
        _, loss = model(w[:, :-1].contiguous(), w[:, 1:].contiguous())
        losses.append(float(loss) * len(idx))
print(f"val_loss={sum(losses) / n:.6f}")
"""


def _run(cmd, cwd=None, log=None, env=None) -> str:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    if log:
        pathlib.Path(log).write_text(done.stdout + done.stderr)
    if done.returncode:
        sys.exit(f"failed ({done.returncode}): {' '.join(map(str, cmd))}\n{(done.stdout + done.stderr)[-2000:]}")
    return done.stdout


def windows(val_bin: str, block: int, n: int) -> int:
    """How many windows val.bin holds, at most n."""
    tokens = np.memmap(val_bin, dtype=np.uint16, mode="r")
    return min(n, (len(tokens) - 1) // block)


def ours(run: str, work: str, steps: int) -> tuple[float, str]:
    s = SETTING
    out = os.path.join(work, "ours")
    log = _run([str(BIN / "gristmill"), "train", "--data", run, "--out", out, "--steps", str(steps),
                "--batch-size", str(s["batch"]), "--block-size", str(s["block"]), "--n-layer", str(s["n_layer"]),
                "--n-head", str(s["n_head"]), "--n-embd", str(s["n_embd"]), "--lr", str(s["lr"]),
                "--warmup", str(s["warmup"]), "--dropout", "0", "--weight-decay", "0.1", "--grad-clip", "1.0",
                "--dtype", "float32", "--log-every", "1", "--eval-every", "0", "--eval-batches", "1"],
               log=os.path.join(work, "ours.log"))
    rates = [float(m.group(2).replace(",", "")) for m in re.finditer(r"step\s+(\d+) \|.*?\| ([\d,]+) tok/s", log)
             if int(m.group(1)) >= 10]
    return statistics.median(rates), out


def ours_val_loss(ckpt: str, val_bin: str, n: int) -> float:
    import jax
    import jax.numpy as jnp

    from gristmill.model import gpt
    from gristmill.model.checkpoint import load_checkpoint

    loaded = load_checkpoint(ckpt, dtype=jnp.float32)
    data = np.memmap(val_bin, dtype=np.uint16, mode="r")
    t = SETTING["block"]
    loss_fn = jax.jit(lambda p, x, y: gpt.cross_entropy(gpt.apply(loaded.graphdef, p, x), y))
    total = 0.0
    for s in range(0, n, 50):
        idx = range(s, min(s + 50, n))
        w = np.stack([data[i * t:i * t + t + 1].astype(np.int32) for i in idx])
        total += float(loss_fn(loaded.params, w[:, :-1], w[:, 1:])) * len(idx)
    return total / n


def nanogpt(checkout: str, torch_python: str, data_dir: str, work: str, steps: int,
            same_malloc: bool = False) -> tuple[float, str]:
    from gristmill.model.train import KEPT_MALLOC  # what `gristmill train` sets with mallopt

    s = SETTING
    scratch = pathlib.Path(work, "nanogpt")
    (scratch / "data").mkdir(parents=True)
    os.symlink(data_dir, scratch / "data" / "gristmill")
    os.symlink(os.path.join(checkout, "configurator.py"), scratch / "configurator.py")
    out = scratch / "out"
    log = _run([torch_python, os.path.join(checkout, "train.py"), "--dataset=gristmill", "--device=cpu",
                "--compile=False", "--dtype=float32", f"--out_dir={out}", f"--n_layer={s['n_layer']}",
                f"--n_head={s['n_head']}", f"--n_embd={s['n_embd']}", f"--block_size={s['block']}",
                f"--batch_size={s['batch']}", "--gradient_accumulation_steps=1", f"--max_iters={steps}",
                f"--lr_decay_iters={steps}", f"--learning_rate={s['lr']}", f"--min_lr={s['lr'] / 10}",
                f"--warmup_iters={s['warmup']}", "--dropout=0.0", "--weight_decay=0.1", "--grad_clip=1.0",
                f"--eval_interval={steps}", "--eval_iters=1", "--log_interval=1", "--always_save_checkpoint=True",
                "--wandb_log=False"], cwd=scratch, log=os.path.join(work, "nanogpt.log"),
               env={**os.environ, **{k: str(v) for _, k, v in KEPT_MALLOC}} if same_malloc else None)
    times = [float(m.group(2)) for m in re.finditer(r"iter (\d+): loss [\d.]+, time ([\d.]+)ms", log)
             if int(m.group(1)) >= 10]
    return s["batch"] * s["block"] / (statistics.median(times) / 1000), str(out / "ckpt.pt")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="benchmarks.trainer_vs_nanogpt", description=__doc__.split("\n\n")[0])
    ap.add_argument("--nanogpt", default="", help="a checkout of karpathy/nanoGPT")
    ap.add_argument("--torch-python", default=sys.executable, help="a Python that has torch")
    ap.add_argument("--run", default=str(REPO / "out" / "demo" / "run"), help="the demo run directory")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--eval-windows", type=int, default=400)
    ap.add_argument("--same-malloc", action="store_true",
                    help="run nanoGPT with the glibc malloc settings `gristmill train` makes "
                    "(mmap off, trim threshold 1 GiB); default: glibc's defaults, as nanoGPT ships")
    a = ap.parse_args(argv)
    if not a.nanogpt or not os.path.isfile(os.path.join(a.nanogpt, "train.py")):
        print(f"skipped: no nanoGPT checkout (--nanogpt {a.nanogpt or 'PATH'}: train.py not found)")
        return 0
    if subprocess.run([a.torch_python, "-c", "import torch"], capture_output=True).returncode:
        print(f"skipped: {a.torch_python} cannot import torch (give --torch-python)")
        return 0
    if not os.path.isfile(os.path.join(a.run, "manifest.json")):
        print(f"skipped: {a.run} is not a finished run (make demo writes out/demo/run)")
        return 0
    with tempfile.TemporaryDirectory(prefix="gristmill-vs-nanogpt-") as work:
        data_dir = os.path.join(work, "data")
        _run([str(BIN / "gristmill"), "export", "--format", "nanogpt", a.run, data_dir])
        val_bin = os.path.join(data_dir, "val.bin")
        n = windows(val_bin, SETTING["block"], a.eval_windows)
        ours_tps, ours_ckpt = ours(a.run, work, a.steps)
        nano_tps, nano_ckpt = nanogpt(os.path.abspath(a.nanogpt), a.torch_python, data_dir, work, a.steps,
                                      a.same_malloc)
        ours_loss = ours_val_loss(ours_ckpt, val_bin, n)
        nano_loss = float(_run([a.torch_python, "-c", TORCH_EVAL, os.path.abspath(a.nanogpt), nano_ckpt,
                                val_bin, str(SETTING["block"]), str(n)]).strip().split("=")[1])
    print(f"setting: {SETTING}, {a.steps} steps; val loss on {n} windows of {SETTING['block'] + 1} tokens; "
          f"nanoGPT's malloc: {'as gristmill train sets it' if a.same_malloc else 'glibc defaults'}")
    print(f"ratio={ours_tps / nano_tps:.3f} ours_tok_s={ours_tps:.0f} nanogpt_tok_s={nano_tps:.0f} "
          f"ours_val_loss={ours_loss:.4f} nanogpt_val_loss={nano_loss:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
