"""Shared by the whole-job benchmarks: where the data is, the job's command line, and a
runner that times a command and polls the RSS of its process tree."""
from __future__ import annotations

import json
import os
import pathlib
import signal
import statistics
import subprocess
import sys
import time
from typing import Optional

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = pathlib.Path(os.environ.get("GRISTMILL_SHARED_DATA", REPO.parent / "shared" / "data"))
EXTRACTION = SHARED_DATA / "extraction"
BIN = pathlib.Path(sys.executable).parent  # .venv/bin when run as .venv/bin/python -m ...


def require(path: pathlib.Path) -> None:
    """Exit with one clear line when the shared evaluation data is absent."""
    if not path.exists():
        sys.exit(f"evaluation data not found at {path} (see ../shared/data/README.md; "
                 "GRISTMILL_SHARED_DATA overrides ../shared/data)")


def job_command(inputs: list[str], output: str, *, workers: int, languages: str = "all",
                vocab_size: int = 8000, val_fraction: float = 0.05,
                metrics_out: Optional[str] = None) -> list[str]:
    """The `gristmill run` command line of every benchmark run: the one place to edit.

    It runs as a user runs it: the CLI picks the runner (FnApiRunner, multi-processing
    with `workers` processes, in-process for one worker).
    """
    cmd = [str(BIN / "gristmill"), "run"]
    for path in inputs:
        cmd += ["--input", path]
    cmd += ["--output", output, "--languages", languages, "--vocab-size", str(vocab_size),
            "--val-fraction", str(val_fraction), f"--direct_num_workers={workers}"]
    if metrics_out:
        cmd.append(f"--metrics-out={metrics_out}")
    return cmd


def _label(proc) -> str:
    try:
        argv = proc.cmdline()
    except Exception:
        return "?"
    cmd = " ".join(argv)
    if argv and os.path.basename(argv[0]) in ("sh", "bash", "dash"):
        return "sh"
    if "sdk_worker_main" in cmd or "worker_pool_main" in cmd:
        return "beam worker"
    if "resource_tracker" in cmd:
        return "mp tracker"
    if "multiprocessing" in cmd:  # spawn_main, forkserver
        return "mp child"
    return os.path.basename(argv[0]) if argv else "?"


def run_measured(cmd: list[str], log_path: str, *, poll_s: Optional[float] = None,
                 timeout_s: Optional[float] = None, mem_limit_mb: Optional[float] = None,
                 env: Optional[dict] = None, cwd: Optional[str] = None) -> dict:
    """Run ``cmd`` (stdout+stderr to ``log_path``) in its own session; return its wall time.

    With ``poll_s``: every ``poll_s`` seconds read the RSS of the process and all its
    descendants (psutil); report the peak of the root (the driver), the peak of each
    descendant, and the peak of their sum. RSS counts shared pages in every process, so
    the sum over-counts what is shared. Past ``timeout_s`` or ``mem_limit_mb`` (tree
    sum), the whole process group is killed and ``killed`` says why.
    """
    import psutil

    start = time.perf_counter()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                cwd=cwd or REPO, env=env)
    root = psutil.Process(proc.pid)
    peaks: dict[int, int] = {}
    labels: dict[int, str] = {}
    tree_peak = 0
    killed = ""
    while proc.poll() is None:
        if poll_s:
            try:
                procs = [root] + root.children(recursive=True)
            except psutil.NoSuchProcess:
                procs = []
            total = 0
            for q in procs:
                try:
                    rss = q.memory_info().rss
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                total += rss
                peaks[q.pid] = max(peaks.get(q.pid, 0), rss)
                if q.pid not in labels:
                    labels[q.pid] = _label(q)
            tree_peak = max(tree_peak, total)
            if mem_limit_mb and total > mem_limit_mb * 1e6:
                killed = f"tree RSS {total / 1e6:.0f} MB over --mem-limit-mb {mem_limit_mb:.0f}"
        if timeout_s and time.perf_counter() - start > timeout_s:
            killed = f"timeout after {timeout_s:.0f} s"
        if killed:
            os.killpg(proc.pid, signal.SIGKILL)  # the session this call started, nothing else
            proc.wait()
            break
        time.sleep(poll_s or 0.05)
    wall = time.perf_counter() - start
    workers = {pid: (labels[pid], rss) for pid, rss in peaks.items() if pid != proc.pid}
    return {"rc": proc.returncode, "wall_s": wall, "killed": killed, "log": log_path,
            "driver_peak_mb": peaks.get(proc.pid, 0) / 1e6 if poll_s else None,
            "workers": {pid: (lab, rss / 1e6) for pid, (lab, rss) in sorted(workers.items())},
            "tree_peak_mb": tree_peak / 1e6 if poll_s else None}


def failure(result: dict, what: str, lines: int = 25) -> str:
    """A readable account of a failed run: why, and the end of its log."""
    why = result["killed"] or f"exit status {result['rc']}"
    try:
        with open(result["log"], errors="replace") as f:
            tail = "".join(f.readlines()[-lines:])
    except OSError:
        tail = ""
    return f"{what} FAILED ({why}) after {result['wall_s']:.1f} s; end of {result['log']}:\n{tail}"


def read_json(path) -> Optional[dict]:
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def fmt(x, spec: str = ".1f") -> str:
    return "n/a" if x is None or x != x else format(x, spec)


def run_pinned_json(argv: list[str], what: str, python: str = sys.executable) -> dict:
    """Run `python ARGV` in a fresh process pinned to core 0; the JSON of its last line."""
    pin = ["taskset", "-c", "0"] if hasattr(os, "sched_setaffinity") else []
    r = subprocess.run([*pin, python, *argv], cwd=REPO, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"{what} failed: {r.stderr.strip().splitlines()[-3:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])
