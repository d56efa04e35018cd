"""`gristmill run`: check the arguments, build the job, run it, print the funnel.

Without --runner it runs on Beam's FnApiRunner with one worker process per usable
core (in-process when there is one core), never the Prism runner. A mistake in the
arguments is one line and exit 2; a failed run is one line (which stage, what
counts) and exit 1; the runner's and workers' logs go to a file.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import shutil
import sys
import tempfile
import time

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions

from gristmill.pipelines import crawl, options as opts, progress, run_files
from gristmill.transforms import checkpoint, read_warc, stage
from gristmill.usage import UsageError, report

LOCAL_RUNNERS = ("FnApiRunner", "DirectRunner", "BundleBasedDirectRunner")


def default_runner_args(argv: list[str]) -> list[str]:
    """Without --runner: FnApiRunner, one worker process per usable core (never Prism)."""
    if any(a == "--runner" or a.startswith("--runner=") for a in argv):
        return argv
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    workers = next((a.split("=", 1)[1] for a in argv if a.startswith("--direct_num_workers=")), None)
    n = int(workers) if workers and workers.isdigit() else cores
    mode = "multi_processing" if n > 1 else "in_memory"
    extra = [] if workers else [f"--direct_num_workers={n}"]
    return argv + ["--runner=FnApiRunner", f"--direct_running_mode={mode}", *extra,
                   "--default_sdk_harness_log_level=WARNING"]


@contextlib.contextmanager
def _stderr_to(path: str):
    """Send this process's stderr, and its worker processes', to a file."""
    sys.stderr.flush()
    saved = os.dup(2)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 2)
    os.close(fd)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def print_help() -> None:
    parser = argparse.ArgumentParser(
        prog="gristmill run", description=crawl.__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        epilog="Every other flag is a Beam pipeline option (--runner, --project, --region, "
               "--temp_location, --setup_file, --direct_num_workers, ...). Without --runner: "
               "FnApiRunner, one worker process per core. --metrics-out FILE writes the "
               "runner's figures (bytes entering each shuffle) as JSON after the run.")
    opts.GristmillOptions._add_argparse_args(parser)
    parser.print_help()


def _local_ranges(cfg: opts.JobConfig) -> dict[int, int] | None:
    """{input index: byte ranges} of the inputs, when they are local files (for the bar)."""
    try:
        return {i: len(read_warc.file_ranges(p, os.path.getsize(p), cfg.read.range_bytes))
                for i, p in enumerate(cfg.inputs)}
    except OSError:
        return None


@contextlib.contextmanager
def _progress_env(folder: str):
    """Point the workers (this process and those it starts) at the progress folder for
    the run, then remove the folder."""
    saved = os.environ.get(stage.PROGRESS_ENV)
    os.environ[stage.PROGRESS_ENV] = folder
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(stage.PROGRESS_ENV, None)
        else:
            os.environ[stage.PROGRESS_ENV] = saved
        shutil.rmtree(folder, ignore_errors=True)


def _pop_flag(argv: list[str], flag: str) -> tuple[list[str], str]:
    rest, value, i = [], "", 0
    while i < len(argv):
        if argv[i] == flag and i + 1 < len(argv):
            value, i = argv[i + 1], i + 2
            continue
        if argv[i].startswith(flag + "="):
            value = argv[i].split("=", 1)[1]
        else:
            rest.append(argv[i])
        i += 1
    return rest, value


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "-h" in argv or "--help" in argv:
        print_help()
        return 0
    argv, metrics_out = _pop_flag(argv, "--metrics-out")
    argv = default_runner_args(argv)
    options = PipelineOptions(argv)
    local = options.view_as(StandardOptions).runner in LOCAL_RUNNERS
    workers = options.view_as(DirectOptions).direct_num_workers if local else None
    try:
        cfg = opts.job_config(options.view_as(opts.GristmillOptions), local_workers=(workers or 1) if local else None)
    except UsageError as e:
        return report("gristmill run", e)
    logging.getLogger("apache_beam").setLevel(logging.WARNING)
    progress_dir = tempfile.mkdtemp(prefix="gristmill-progress-") if local else ""
    cfg = dataclasses.replace(cfg, read=dataclasses.replace(cfg.read, progress_dir=progress_dir))
    start = time.time()
    log_path = os.path.join(tempfile.gettempdir(), f"gristmill-run-{os.getpid()}.log")
    print(f"[run] {len(cfg.inputs)} input file(s) -> {cfg.output}\n"
          f"[run] runner and worker logs: {log_path}", flush=True)
    stale = checkpoint.remove_partial(cfg.output)  # what a killed run left under temporary names
    p = beam.Pipeline(options=options)
    built = crawl.build(p, cfg)
    if built["reused"]:
        ranges = sum(len(r) for r in built["reused"].values())
        print(f"[run] resuming: {ranges} checkpointed range(s) of {len(built['reused'])} input file(s) "
              f"are replayed from {cfg.work_dir}, not read", flush=True)
    if stale:
        print(f"[run] removed {stale} partial file(s) a killed run left in {cfg.output}", flush=True)
    bar = (progress.RunProgress(progress_dir, _local_ranges(cfg)) if local
           else contextlib.nullcontext())
    env = _progress_env(progress_dir) if local else contextlib.nullcontext()
    try:
        with env, bar, _stderr_to(log_path):
            result = p.run()
            result.wait_until_finish()
    except Exception as e:
        stats = run_files.read_stats(cfg.output)
        if stats and stats.get("failure"):
            print(run_files.funnel(stats), flush=True)
            print(f"[run] FAILED: {stats['failure']} (stats: {cfg.output}/stats.json)",
                  file=sys.stderr, flush=True)
        else:
            last = str(e).strip().splitlines()[-1:] or [type(e).__name__]
            print(f"[run] FAILED after {time.time() - start:.0f}s: {last[0][:300]}\n"
                  f"[run] see {log_path}", file=sys.stderr, flush=True)
        return 1
    if metrics_out:
        with open(metrics_out, "w") as f:
            json.dump(progress.runner_metrics(result, p), f, indent=1)
    print(f"[run] done in {time.time() - start:.1f}s -> {cfg.output}", flush=True)
    if not cfg.keep_work and FileSystems.exists(cfg.work_dir):
        FileSystems.delete([cfg.work_dir])  # the default <output>.work: only for resuming this run
    stats = run_files.read_stats(cfg.output)
    if stats:
        print(run_files.funnel(stats), flush=True)
    if options.view_as(opts.GristmillOptions).promote:
        from gristmill.pipelines.verify import main as verify
        return 1 if verify([cfg.output, "--promote"]) else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
