"""When should Extract's fast result get the full pass? The measurement behind the default.

    python -m benchmarks.extract_gate

Pages: the 181 of ../shared/data/extraction (articles, with their true bodies) and every
HTML response of the WARC files in ../shared/data/warc (a Common Crawl slice, ClueWeb,
Wayback Machine captures, wget crawls: short pages, shops, directories). Each page is
extracted once per pass, fast (`fast=True`) and full (trafilatura with its fallbacks),
each timed as the mean of two calls. Each gate is then scored on those results:

  F1        on the 181 pages, as `gristmill eval extraction` scores it
  time      fast pass + the full pass where the gate sends the page, / full pass alone
  gated     pages sent to the full pass (of all)
  lost      crawl pages whose kept text is under 70% of the full pass's

"lost" takes the full pass as the better result, which it is not always: on Wayback
captures it can keep the Machine's own banner ("The Internet Archive discovers and
captures web pages...") where the fast pass kept the page.

Last line, for the default: `f1=... bench_time=... crawl_time=... gated=... lost=...`.
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
import time

from benchmarks.common import EXTRACTION, SHARED_DATA, require

GATES = {  # name -> ExtractConfig changes from the default (None: never the full pass)
    "fast pass only": None,
    "full pass under 750 chars, or under 2,000 and 1/10 of the page": {"short_share": 1e9},
    "under 2,000 and 1/10 of the page": {"full_pass_below": 0},
    "default: under 750 and 1/5, or under 2,000 and 1/10": {},
    "under 750 and 1/4, or under 2,000 and 1/10": {"short_share": 0.25},
    "under 1,000 and 1/5, or under 2,000 and 1/10": {"full_pass_below": 1000},
}


def crawl_pages() -> list[tuple[str, str]]:
    from gristmill.transforms.charset import decode_html
    from gristmill.transforms.document import Document
    from gristmill.transforms.read_warc import read_range

    pages = []
    folder = SHARED_DATA / "warc"
    for name in sorted(os.listdir(folder)):
        if name.endswith(".warc.gz"):
            path, size = str(folder / name), os.path.getsize(folder / name)
            pages += [(d.url, decode_html(d.html, d.charset)[0]) for d in read_range(path, 0, 0, size, size)
                      if isinstance(d, Document) and d.html]
    return pages


def measure(pages: list[tuple[str, str, str | None]]) -> list[dict]:
    """Both passes' texts and times (mean of two calls) of every (id, html, truth) page."""
    from gristmill.transforms.extract import ExtractConfig, run_pass

    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    config = ExtractConfig()
    for _, html, _ in pages[:3]:
        run_pass(html, "", config, fast=False)  # first calls load trafilatura's and jusText's data
    rows = []
    for key, html, truth in pages:
        row = {"id": key, "html": html, "truth": truth}
        for name, fast in (("fast", True), ("full", False)):
            start = time.perf_counter()
            for _ in range(2):
                row[name] = run_pass(html, "", config, fast) or ""
            row["t_" + name] = (time.perf_counter() - start) / 2
        rows.append(row)
    return rows


def score(rows: list[dict], config) -> dict:
    """The gate of `config` (an ExtractConfig, or None for the fast pass alone) on `rows`."""
    from gristmill.pipelines.eval_extraction import page_counts, scores
    from gristmill.transforms.extract import needs_full_pass

    out = {"bench": [0.0, 0.0], "crawl": [0.0, 0.0]}
    counts, gated, lost = [], 0, 0
    for r in rows:
        g = config is not None and (not r["fast"] or needs_full_pass(r["fast"], r["html"], config))
        text = (r["full"] or r["fast"]) if g else r["fast"]
        gated += g
        side = "bench" if r["truth"] is not None else "crawl"
        out[side][0] += r["t_fast"] + (r["t_full"] if g else 0.0)
        out[side][1] += r["t_full"]
        if side == "bench":
            counts.append(page_counts(r["truth"], text))
        elif len(text) < 0.7 * len(r["full"]):
            lost += 1
    return {"f1": scores(counts)["f1"], "bench_time": out["bench"][0] / out["bench"][1],
            "crawl_time": out["crawl"][0] / out["crawl"][1], "gated": gated, "lost": lost}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.parse_args(argv)
    require(EXTRACTION)
    require(SHARED_DATA / "warc")
    from gristmill.pipelines.eval_extraction import load_pages
    from gristmill.transforms.extract import ExtractConfig

    bench = load_pages(str(EXTRACTION / "html"), str(EXTRACTION / "ground-truth.json"))
    crawl = [(url, html, None) for url, html in crawl_pages()]
    rows = measure(bench + crawl)
    print(f"{len(bench)} benchmark pages, {len(crawl)} crawl pages; time = fast + gated full, / full alone")
    print(f"{'gate':<66}{'F1':>7}{'bench':>7}{'crawl':>7}{'gated':>7}{'lost':>6}")
    for name, changes in GATES.items():
        r = score(rows, None if changes is None else dataclasses.replace(ExtractConfig(), **changes))
        print(f"{name:<66}{r['f1']:>7.4f}{r['bench_time']:>7.3f}{r['crawl_time']:>7.3f}{r['gated']:>7}{r['lost']:>6}")
    r = score(rows, ExtractConfig())
    print(f"f1={r['f1']:.4f} bench_time={r['bench_time']:.3f} crawl_time={r['crawl_time']:.3f} "
          f"gated={r['gated']} lost={r['lost']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
