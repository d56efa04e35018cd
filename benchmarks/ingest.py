"""Ingest speed: ReadWarc + UrlFilter against a bare warcio loop over the same files.

    python -m benchmarks.ingest [--mb 50,200] [--repeat 1]

Inputs: the shared WARCs (../shared/data/warc) and a generated crawl of real pages
(benchmarks.realcrawl) written at each size in --mb (page i is the same at every size).
Each measurement runs in a fresh process pinned to one core, side by side in this run:

  warcio   `for r in ArchiveIterator(f)`: read the HTTP headers and payload of every
           response (`r.content_stream().read()`), the least a pipeline must do
  ours     `read_range` over the whole file + `UrlFilter.reason` on every document
           (the functions the ReadRanges and UrlFilter steps run)
  beam     the ReadWarc and UrlFilter transforms on the FnApiRunner (one worker,
           in-memory), counting the output

Reports records/s (imports and the one-off UrlFilter list loading excluded; the beam
row includes building and starting the pipeline) and peak RSS (VmHWM) per file and size. Last line:
`ratio=... ours_rec_s=... warcio_rec_s=... beam_ratio=... rss_mb_small=... rss_mb_large=...`
(ratio = ours / warcio records/s on the largest generated file; rss of ours at the
smallest and largest size).
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "warc"


def run_warcio(path: str, flt=None) -> int:
    from warcio.archiveiterator import ArchiveIterator
    n = 0
    with open(path, "rb") as f:
        for record in ArchiveIterator(f, arc2warc=True):
            n += 1
            if record.rec_type == "response":
                record.content_stream().read()
    return n


def run_ours(path: str, flt) -> int:
    from gristmill.transforms.document import Document
    from gristmill.transforms.read_warc import read_range
    size = os.path.getsize(path)
    n = 0
    for item in read_range(path, 0, 0, size, size):
        if isinstance(item, dict):
            continue
        n += 1
        if isinstance(item, Document):
            flt.reason(item.url)
    return n


def run_beam(path: str, flt=None) -> int:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from gristmill.transforms.read_warc import ReadConfig, ReadWarc, write_inputs_file
    from gristmill.transforms.url_filter import UrlFilterStage
    with tempfile.TemporaryDirectory() as tmp:
        inputs = os.path.join(tmp, "inputs.jsonl")
        write_inputs_file(inputs, [path])
        counts = os.path.join(tmp, "n")
        opts = PipelineOptions(["--runner=FnApiRunner", "--direct_running_mode=in_memory"])
        with beam.Pipeline(options=opts) as p:
            read = p | ReadWarc(inputs, ReadConfig(range_bytes=64 << 20))
            kept = read.kept | UrlFilterStage()
            total = ((read.rejected | "N1" >> beam.combiners.Count.Globally(),
                      kept.kept | "N2" >> beam.combiners.Count.Globally(),
                      kept.rejected | "N3" >> beam.combiners.Count.Globally())
                     | beam.Flatten() | beam.CombineGlobally(sum))
            _ = total | beam.Map(lambda x: open(counts, "w").write(str(x)))
        return int(open(counts).read())


RUNNERS = {"warcio": run_warcio, "ours": run_ours, "beam": run_beam}


def measure(kind: str, path: str) -> dict:
    """Run one measurement in a fresh process pinned to one core."""
    cmd = [sys.executable, "-m", "benchmarks.ingest", "--one", kind, path]
    if hasattr(os, "sched_setaffinity"):
        cmd = ["taskset", "-c", "0", *cmd]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{kind} on {path} failed: {out.stderr.strip().splitlines()[-1:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM: unlike ru_maxrss, not inherited across exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one(kind: str, path: str) -> None:
    import warcio.archiveiterator  # noqa: F401  imports are not what is measured
    flt = None
    if kind != "warcio":
        import apache_beam  # noqa: F401

        import gristmill.transforms.read_warc  # noqa: F401
        from gristmill.transforms.url_filter import UrlFilter
        flt = UrlFilter()  # lists and suffix list loaded once per worker, like a model (~40 ms)
    start = time.perf_counter()
    n = RUNNERS[kind](path, flt)
    seconds = time.perf_counter() - start
    print(json.dumps({"records": n, "seconds": seconds, "rss_mb": peak_rss_mb()}))


def generated(work: pathlib.Path, mb: int) -> str:
    """A crawl of real pages of about `mb` MB (gzip), written once per size."""
    from benchmarks.realcrawl import real_crawl, write_warc
    path = work / f"gen-{mb}mb.warc.gz"
    pages = max(10, int(mb * 1e6 / 36_000))  # ~36 KB of gzip per page (realcrawl.write_warc)
    write_warc(str(path), real_crawl(pages, seed=0))
    return str(path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", default="50,200", help="sizes of the generated WARC, MB (gzip)")
    ap.add_argument("--kinds", default="warcio,ours,beam")
    ap.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        one(*args.one)
        return 0
    from benchmarks.common import EXTRACTION, require
    require(EXTRACTION)
    kinds = args.kinds.split(",")
    sizes = [int(x) for x in args.mb.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        files = [str(p) for p in sorted(SHARED.glob("*.warc.gz"))] if SHARED.exists() else []
        gen = [generated(work, mb) for mb in sizes]
        rows = {}
        print(f"{'file':40} {'MB':>6} " + " ".join(f"{k + ' rec/s':>12} {k + ' MB':>9}" for k in kinds))
        for path in files + gen:
            r = {k: measure(k, path) for k in kinds}
            rows[path] = r
            mb = os.path.getsize(path) / 1e6
            counts = {v["records"] for v in r.values()}
            flag = "" if len(counts) == 1 else f"  (records differ: {counts})"
            print(f"{os.path.basename(path):40} {mb:6.1f} " + " ".join(
                f"{v['records'] / v['seconds']:12.0f} {v['rss_mb']:9.0f}" for v in r.values()) + flag)
        shared_total = {k: (sum(rows[p][k]["records"] for p in files),
                            sum(rows[p][k]["seconds"] for p in files)) for k in kinds}
        if files:
            print("shared WARCs together: " + ", ".join(
                f"{k} {n / s:.0f} rec/s" for k, (n, s) in shared_total.items()))
        large, small = rows[gen[-1]], rows[gen[0]]
        rate = {k: large[k]["records"] / large[k]["seconds"] for k in kinds}
        last = (f"ratio={rate['ours'] / rate['warcio']:.3f} ours_rec_s={rate['ours']:.0f} "
                f"warcio_rec_s={rate['warcio']:.0f}")
        if "beam" in rate:
            last += f" beam_ratio={rate['beam'] / rate['warcio']:.3f}"
        last += f" rss_mb_small={small['ours']['rss_mb']:.0f} rss_mb_large={large['ours']['rss_mb']:.0f}"
        print(last)
    return 0


if __name__ == "__main__":
    sys.exit(main())
