"""Speed of three units whose tests used to carry wall-clock asserts.

    python -m benchmarks.speed_units [--repeat 5] [--pages 2000]

- quality: `quality_filter` on a ~5,200-word English document whose every line
  repeats (the worst case for the n-gram repetition pass), with every measured rule's
  threshold off so the whole document goes through every pass; best and median ms of
  --repeat x 4 calls. Target: under 50 ms per document.
- sample data: `write_sample` of the default crawl (--pages, seed 0); best pages/s of
  --repeat runs. Target: the default 2000 pages in under 10 s.
- TimeLimit: how long `TimeLimit(time.sleep, 0.5)` takes to cut a 30 s call short
  with its child process already running (timelimit_kill_s, about 0.5 s plus the
  kill), and to spawn a child (timelimit_start_s, first call, and again after the
  kill). Target: the kill well under 30 s; the tests only assert that much.

The tests keep the behaviour (same output, the call is cut short), not the speed;
this prints the timings and, as its last line, key=value pairs.
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import random
import statistics
import sys
import tempfile
import time

# Beam warns at import time about optional GCP client libraries (here and in each
# TimeLimit child, which imports this module again): keep the output to the timings.
logging.getLogger().addFilter(lambda r: "apitools not found" not in r.getMessage())

from gristmill.sampledata import text as st  # noqa: E402
from gristmill.sampledata import write_sample  # noqa: E402
from gristmill.transforms.extract import TimeLimit  # noqa: E402
from gristmill.transforms.quality import QualityConfig, quality_filter  # noqa: E402

MEASURED = ("gopher_max_dup", "gopher_max_top", "fineweb_max")


def worst_case_document(words: int = 5200, seed: int = 0) -> str:
    """Eight English article sentences, one a line, repeated up to about `words` words."""
    rng = random.Random(seed)
    ctx = st.make_context(rng, "en")
    lines = [st.sentence(rng, ctx) for _ in range(8)]
    per_round = sum(len(line.split()) for line in lines)
    return "\n".join(lines * max(1, round(words / per_round)))


def bench_quality(repeat: int) -> dict:
    text = worst_case_document()
    base = QualityConfig()
    config = dataclasses.replace(base, **{
        f.name: (False if isinstance(getattr(base, f.name), bool) else None)
        for f in dataclasses.fields(QualityConfig) if f.name.startswith(MEASURED)})
    reason = quality_filter(text, "en", config)[1]
    if reason is not None:
        raise SystemExit(f"benchmark document was rejected ({reason}); fix worst_case_document")
    times = []
    for _ in range(repeat * 4):
        t0 = time.perf_counter()
        quality_filter(text, "en", config)
        times.append(time.perf_counter() - t0)
    return {"words": len(text.split()), "best_ms": 1000 * min(times),
            "median_ms": 1000 * statistics.median(times), "calls": len(times)}


def bench_sample_data(pages: int, repeat: int) -> dict:
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sample.warc.gz")
        for _ in range(repeat):
            t0 = time.perf_counter()
            write_sample(path, pages=pages, seed=0)
            times.append(time.perf_counter() - t0)
        size = os.path.getsize(path)
    return {"pages": pages, "best_s": min(times), "median_s": statistics.median(times),
            "pages_per_s": pages / min(times), "mb": size / 1e6}


def bench_time_limit(repeat: int) -> dict:
    limited = TimeLimit(time.sleep, 0.5)
    starts, kills = [], []
    try:
        for _ in range(repeat):
            t0 = time.perf_counter()
            limited(0)  # spawns the child (the first time, and after each kill)
            starts.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            try:
                limited(30)
            except TimeoutError:
                kills.append(time.perf_counter() - t0)
            else:
                raise SystemExit("TimeLimit let a 30 s call finish")
    finally:
        limited.close()
    return {"limit_s": 0.5, "kill_s": max(kills), "kill_median_s": statistics.median(kills),
            "start_s": max(starts), "start_median_s": statistics.median(starts)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.speed_units",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=5, help="runs of each measurement")
    p.add_argument("--pages", type=int, default=2000, help="pages of the sample crawl")
    a = p.parse_args(argv)
    if a.repeat < 1 or a.pages < 1:
        p.error("--repeat and --pages must be positive")
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}", flush=True)

    q = bench_quality(a.repeat)
    print(f"quality: {q['words']} words, best {q['best_ms']:.1f} ms, median "
          f"{q['median_ms']:.1f} ms over {q['calls']} calls (target < 50 ms)", flush=True)
    s = bench_sample_data(a.pages, a.repeat)
    print(f"sample data: {s['pages']} pages ({s['mb']:.1f} MB) best {s['best_s']:.2f} s, median "
          f"{s['median_s']:.2f} s -> {s['pages_per_s']:.0f} pages/s (target: 2000 pages "
          f"< 10 s)", flush=True)
    t = bench_time_limit(a.repeat)
    print(f"TimeLimit({t['limit_s']:g} s): 30 s call cut short after {t['kill_s']:.2f} s at "
          f"most (median {t['kill_median_s']:.2f} s); child start {t['start_s']:.2f} s at most "
          f"(median {t['start_median_s']:.2f} s)", flush=True)
    print(f"quality_ms_per_doc={q['best_ms']:.2f} quality_median_ms={q['median_ms']:.2f} "
          f"sample_data_pages_per_s={s['pages_per_s']:.0f} sample_data_s={s['best_s']:.2f} "
          f"timelimit_kill_s={t['kill_s']:.3f} timelimit_start_s={t['start_s']:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
