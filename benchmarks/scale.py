"""The whole job at growing sizes: wall time, peak RSS per process, bytes shuffled.

    python -m benchmarks.scale [--sizes 10000,40000,100000] [--kinds gen,real] [--workers 2]
                               [--workdir DIR] [--reuse-crawls]

Crawls: ``gen``, the synthetic crawl of ``gristmill sample-data --pages N --seed 0``
(kept languages ``en,de,fr,es,it``); ``real``, ``benchmarks.realcrawl``: variants of the
181 pages of the shared extraction set (``../shared/data/extraction``;
``$GRISTMILL_SHARED_DATA`` overrides ``../shared/data``), most of them not
near-duplicates of each other (``--languages all``). Each run is ``gristmill run``
(``benchmarks.common.job_command``, ``--direct_num_workers=W``, ``--vocab-size 8000``)
with its process tree polled by psutil every 0.2 s: peak RSS of the driver (the
``gristmill run`` process), of each descendant (Beam workers, extraction children),
and of the sum over the tree (shared pages counted once per process). Bytes shuffled:
the key ``shuffle_bytes`` of the file the job writes for ``--metrics-out``, n/a when
the job writes none. A run whose tree passes ``--mem-limit-mb`` (default 85% of RAM) or
``--timeout-s`` is killed and reported as such.

``--baseline-rev REV`` runs every size a second time with the code of git revision REV
(a worktree under --workdir, laid out as the installed package and put first on
PYTHONPATH, same venv), as rows ``base-<kind>``: before and after, in the same run.
"""
from __future__ import annotations

import argparse
import itertools
import os
import textwrap
import pathlib
import shutil
import subprocess
import sys
import time

from benchmarks.common import (BIN, EXTRACTION, failure, fmt, job_command, read_json, require,
                               run_measured)

LANGUAGES = {"gen": "en,de,fr,es,it", "real": "all"}


def make_crawl(kind: str, pages: int, path: pathlib.Path, seed: int) -> str:
    """Write the crawl; return a one-line summary."""
    start = time.perf_counter()
    if kind == "gen":
        proc = subprocess.run([str(BIN / "gristmill"), "sample-data", "--output", str(path), "--pages",
                               str(pages), "--seed", str(seed)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"gristmill sample-data failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    else:
        from benchmarks.realcrawl import real_crawl, write_warc
        write_warc(str(path), real_crawl(pages, seed))
    return f"{path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - start:.1f} s"


def baseline_env(rev: str, work: pathlib.Path) -> tuple[dict, str]:
    """(environment, cwd) in which `gristmill` runs the code of git revision `rev`."""
    tree, farm = work / f"base-{rev}", work / f"base-{rev}-pkg"
    if not tree.exists():
        subprocess.run(["git", "worktree", "add", "-f", "--detach", str(tree), rev], check=True,
                       capture_output=True)
    shutil.rmtree(farm, ignore_errors=True)
    (farm / "gristmill").mkdir(parents=True)
    for f in (tree / "gristmill").iterdir():  # setup.py maps these folders into the package
        (farm / "gristmill" / f.name).symlink_to(f)
    for d in ("pipelines", "transforms", "model"):
        (farm / "gristmill" / d).symlink_to(tree / d)
    (farm / "sitecustomize.py").write_text(textwrap.dedent("""\
        # benchmark only: the checkout on PYTHONPATH wins over the editable install
        import sys
        sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
        """))
    return {**os.environ, "PYTHONPATH": str(farm)}, str(work)


def _kept(out: pathlib.Path):
    stats = read_json(out / "stats.json")
    try:
        return stats["stages"][-1]["kept"]
    except (TypeError, KeyError, IndexError):
        return None


def main(argv=None) -> int:
    import psutil

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,40000,100000", help="comma-separated page counts")
    ap.add_argument("--kinds", default="gen,real", help="comma-separated: gen, real")
    ap.add_argument("--workers", type=int, default=2, help="--direct_num_workers of each run")
    ap.add_argument("--workdir", default="/tmp/gristmill-scale")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reuse-crawls", action="store_true", help="keep a crawl file already in --workdir")
    ap.add_argument("--mem-limit-mb", type=float, default=0.85 * psutil.virtual_memory().total / 1e6,
                    help="kill a run whose process tree RSS passes this")
    ap.add_argument("--timeout-s", type=float, default=4 * 3600, help="kill a run that takes longer")
    ap.add_argument("--baseline-rev", default="", help="also run the code of this git revision")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    kinds = [k for k in args.kinds.split(",") if k]
    unknown = set(kinds) - set(LANGUAGES)
    if unknown:
        sys.exit(f"unknown --kinds {sorted(unknown)}; choose from {sorted(LANGUAGES)}")
    if "real" in kinds:
        require(EXTRACTION / "ground-truth.json")
    work = pathlib.Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)

    rows, details, pairs = [], [], []
    variants = [("", None, None)]
    if args.baseline_rev:
        variants.append(("base-", *baseline_env(args.baseline_rev, work)))
    for base_kind, n, (prefix, env, cwd) in itertools.product(kinds, sizes, variants):
        kind = prefix + base_kind
        tag = f"{kind}_{n}".replace("-", "_")
        warc = work / f"{base_kind}-{n}-seed{args.seed}.warc.gz"
        if (args.reuse_crawls or prefix) and warc.exists():
            print(f"[{tag}] crawl {warc} (reused)", flush=True)
        else:
            print(f"[{tag}] crawl {warc}: {make_crawl(base_kind, n, warc, args.seed)}", flush=True)
        out, metrics = work / f"run-{kind}-{n}", work / f"metrics-{kind}-{n}.json"
        shutil.rmtree(out, ignore_errors=True)
        metrics.unlink(missing_ok=True)
        cmd = job_command([str(warc)], str(out), workers=args.workers,
                          languages=LANGUAGES[base_kind], metrics_out=str(metrics))
        res = run_measured(cmd, str(work / f"run-{kind}-{n}.log"), poll_s=0.2,
                           timeout_s=args.timeout_s, mem_limit_mb=args.mem_limit_mb,
                           env=env, cwd=cwd)
        ok = res["rc"] == 0 and not res["killed"]
        status = "ok" if ok else (f"killed: {res['killed']}" if res["killed"] else f"FAILED rc={res['rc']}")
        print(f"[{tag}] {status}, {res['wall_s']:.1f} s", flush=True)
        if not ok:
            print(failure(res, f"gristmill run ({tag})"), file=sys.stderr, flush=True)
        m = read_json(metrics) or {}
        shuffle_mb = m["shuffle_bytes"] / 1e6 if isinstance(m.get("shuffle_bytes"), (int, float)) else None
        worker_max = max((mb for _, mb in res["workers"].values()), default=None)
        per_1k = res["tree_peak_mb"] / n * 1000
        rows.append((kind, n, res["wall_s"], res["wall_s"] / n * 1000, res["driver_peak_mb"], worker_max,
                     res["tree_peak_mb"], per_1k, shuffle_mb, _kept(out), status))
        procs = sorted(res["workers"].values(), key=lambda x: -x[1])
        listed = ", ".join(f"{lab} {mb:.0f}" for lab, mb in procs[:8])
        more = f", +{len(procs) - 8} more" if len(procs) > 8 else ""
        details.append(f"{kind} {n}: driver {fmt(res['driver_peak_mb'], '.0f')} MB; "
                       f"{len(procs)} descendants (peak MB): {listed or 'none seen'}{more}")
        pairs += [f"{tag}_wall_s={res['wall_s']:.1f}", f"{tag}_peak_mb_per_1k={per_1k:.1f}",
                  f"{tag}_tree_peak_mb={res['tree_peak_mb']:.0f}",
                  f"{tag}_driver_peak_mb={fmt(res['driver_peak_mb'], '.0f')}",
                  f"{tag}_worker_peak_mb={fmt(worker_max, '.0f')}",
                  f"{tag}_shuffle_mb={fmt(shuffle_mb)}", f"{tag}_ok={int(ok)}"]

    print()
    print(f"job: {args.workers} worker processes on {os.cpu_count()} cores; RSS polled every 0.2 s; "
          "tree = sum over the driver and its descendants")
    head = ("crawl", "pages", "wall s", "s/1k", "driver MB", "worker MB", "tree MB", "MB/1k", "shuffle MB",
            "kept", "status")
    print(f"{head[0]:<6}{head[1]:>8}" + "".join(f"{h:>11}" for h in head[2:10]) + f"  {head[10]}")
    for kind, n, wall, s1k, drv, wrk, tree, mb1k, shuf, kept, status in rows:
        print(f"{kind:<6}{n:>8}{fmt(wall):>11}{fmt(s1k, '.2f'):>11}{fmt(drv, '.0f'):>11}{fmt(wrk, '.0f'):>11}"
              f"{fmt(tree, '.0f'):>11}{fmt(mb1k):>11}{fmt(shuf):>11}{fmt(kept, 'd'):>11}  {status}")
    for line in details:
        print(line)
    # Memory that grows with the input: peak RSS added per 1,000 more pages between
    # consecutive sizes (what one worker must hold per page, fixed start-up costs left out).
    print("\ngrowth between sizes (MB of peak RSS per 1,000 more pages): largest process, tree")
    for kind in dict.fromkeys(r[0] for r in rows):
        done = [r for r in rows if r[0] == kind and r[-1] == "ok"]
        for a, b in zip(done, done[1:]):
            largest = lambda r: max(x for x in (r[4], r[5]) if x is not None)
            g_proc = (largest(b) - largest(a)) / (b[1] - a[1]) * 1000
            g_tree = (b[6] - a[6]) / (b[1] - a[1]) * 1000
            t_ratio = (b[2] / a[2]) / (b[1] / a[1])
            print(f"{kind:<6}{a[1]:>8} -> {b[1]:<8} largest process {g_proc:6.1f}   tree {g_tree:6.1f}   "
                  f"wall time x{b[2] / a[2]:.2f} for x{b[1] / a[1]:.1f} pages ({t_ratio:.2f} of linear)")
            k = kind.replace("-", "_")
            pairs += [f"{k}_{b[1]}_growth_mb_per_1k={g_proc:.1f}", f"{k}_{b[1]}_tree_growth_mb_per_1k={g_tree:.1f}",
                      f"{k}_{b[1]}_time_vs_linear={t_ratio:.2f}"]
    print(" ".join(pairs))
    return 0 if all(r[-1] == "ok" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
