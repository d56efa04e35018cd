"""`make demo`: the whole main job on the bundled sample, one visible command at a time.

1. gristmill sample-data   (a synthetic crawl, written by our own code)
2. gristmill run           (the Beam pipeline, FnApiRunner on all cores)
3. gristmill train         (a tiny GPT on the run's token shards, on the CPU)
4. gristmill sample        (temperature 0 and 1)
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time

PROMPTS = ("The city council", "Der Stadtrat")


def step(n: int, title: str, args: list[str]) -> None:
    exe = os.path.join(os.path.dirname(sys.executable), "gristmill")
    print(f"\n== [{n}/4] {title}\n$ gristmill {' '.join(args)}", flush=True)
    start = time.time()
    subprocess.run([exe, *args], check=True)
    print(f"== [{n}/4] {title}: {time.time() - start:.1f}s", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--workdir", default="out/demo")
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    start = time.time()
    warc = os.path.join(args.workdir, "sample.warc.gz")
    run = os.path.join(args.workdir, "run")
    ckpt = os.path.join(args.workdir, "ckpt")
    for path in (run, ckpt):  # the demo's own folders: a run directory is never rewritten
        shutil.rmtree(path, ignore_errors=True)
    os.makedirs(args.workdir, exist_ok=True)
    step(1, "synthetic crawl", ["sample-data", "--output", warc, "--pages", str(args.pages),
                                "--seed", str(args.seed)])
    step(2, "pipeline", ["run", "--input", warc, "--output", run, "--languages", "en,de,fr,es",
                         "--vocab-size", "4096", "--shard-tokens", "150000", "--val-fraction", "0.05"])
    step(3, "training", ["train", "--data", run, "--out", ckpt, "--steps", str(args.steps)])
    for temperature in ("0", "1"):
        for prompt in PROMPTS:
            step(4, f"sample at temperature {temperature}",
                 ["sample", "--ckpt", ckpt, "--prompt", prompt, "--temperature", temperature,
                  "--max-tokens", "60", "--seed", str(args.seed)])
    print(f"\ndemo finished in {time.time() - start:.0f}s; run directory: {run}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
