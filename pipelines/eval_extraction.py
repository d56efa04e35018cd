"""`gristmill eval extraction --html DIR --truth FILE`: main-text extraction quality and cost.

DIR holds `<id>.html` or `<id>.html.gz` pages, FILE the expected bodies as
`{id: {"articleBody": ...}}` (the layout of ../shared/data/extraction, from
scrapinghub's article-extraction-benchmark). Both extractors see the same decoded
HTML (the pipeline's `decode_html`), page by page, alternating, in this process:

  ours      `extract_text` with the pipeline's ExtractConfig (what Extract runs)
  baseline  `trafilatura.extract(html, include_comments=False)`

Score, as that benchmark defines it: a text is its `\\w+` tokens; its shingles are the
runs of 4 consecutive tokens (a text of fewer tokens is one shingle), counted as a
multiset; per page tp/fp/fn are the matched, extra and missing shingles, divided by
their sum; precision is averaged over the pages with tp + fp > 0, recall over those
with tp + fn > 0 (a page with nothing extra and nothing missing scores 1); F1 is the
harmonic mean of the two averages. Time: median of `--repeat` passes, ms per page.
Last line: `f1=... precision=... recall=... ms_per_page=... baseline_f1=...
baseline_precision=... baseline_recall=... baseline_ms_per_page=... time_ratio=...`.
"""
from __future__ import annotations

import argparse
import collections
import gzip
import os
import re
import statistics
import sys
import time

from gristmill.usage import UsageError, load_json_file, report as usage_report

_TOKEN = re.compile(r"\w+")


def shingles(text: str, n: int = 4) -> collections.Counter:
    tokens = _TOKEN.findall(text or "")
    if len(tokens) < n:
        return collections.Counter([tuple(tokens)] if tokens else [])
    return collections.Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def page_counts(truth: str, pred: str) -> tuple[float, float, float]:
    """(tp, fp, fn) of one page, normalised to sum to 1 (all 0 when both are empty)."""
    t, p = shingles(truth), shingles(pred)
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def scores(pages: list[tuple[float, float, float]]) -> dict:
    def precision(tp, fp, fn):
        return 1.0 if fp == fn == 0 else tp / (tp + fp)

    def recall(tp, fp, fn):
        return 1.0 if fp == fn == 0 else tp / (tp + fn)

    ps = [precision(*c) for c in pages if c[0] + c[1] > 0]
    rs = [recall(*c) for c in pages if c[0] + c[2] > 0]
    p = statistics.mean(ps) if ps else 0.0
    r = statistics.mean(rs) if rs else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def load_pages(html_dir: str, truth_file: str) -> list[tuple[str, str, str]]:
    """[(id, decoded html, expected body)] sorted by id."""
    from gristmill.transforms.charset import decode_html

    truth = load_json_file(truth_file, "--truth")
    if not isinstance(truth, dict) or not all(isinstance(v, dict) and "articleBody" in v for v in truth.values()):
        raise UsageError(f"--truth {truth_file}: expected {{id: {{articleBody, ...}}}}")
    pages = []
    for key in sorted(truth):
        for name in (f"{key}.html.gz", f"{key}.html"):
            path = os.path.join(html_dir, name)
            if os.path.exists(path):
                opener = gzip.open if name.endswith(".gz") else open
                with opener(path, "rb") as f:
                    pages.append((key, decode_html(f.read())[0], truth[key]["articleBody"]))
                break
        else:
            raise UsageError(f"--html {html_dir}: no {key}.html or {key}.html.gz for a page of --truth")
    return pages


def evaluate(html_dir: str, truth_file: str, repeat: int = 3, limit: int = 0) -> dict:
    import trafilatura

    from gristmill.transforms.extract import ExtractConfig, extract_text

    pages = load_pages(html_dir, truth_file)[:limit or None]
    config = ExtractConfig()
    runs = {"ours": lambda h: extract_text(h, config=config),
            "baseline": lambda h: trafilatura.extract(h, include_comments=False)}
    names = list(runs)
    out = {name: {"texts": [], "times": []} for name in runs}
    for r in range(repeat):
        elapsed = dict.fromkeys(runs, 0.0)
        for i, (_, html, _) in enumerate(pages):
            # Side by side, page by page, the order alternating: whichever runs second on a
            # page finds it warm in the caches, and a process slows as it ages.
            for name in (names if i % 2 == 0 else names[::-1]):
                fn = runs[name]
                start = time.perf_counter()
                text = fn(html)
                elapsed[name] += time.perf_counter() - start
                if r == 0:
                    out[name]["texts"].append(text or "")
        for name in runs:
            out[name]["times"].append(elapsed[name] / len(pages) * 1000)
    result = {"pages": len(pages), "repeat": repeat}
    for name in runs:
        counts = [page_counts(truth, pred) for (_, _, truth), pred in zip(pages, out[name]["texts"])]
        result[name] = {**scores(counts), "ms_per_page": statistics.median(out[name]["times"])}
    return result


def main(argv: list[str], prog: str = "gristmill eval extraction") -> int:
    ap = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    ap.add_argument("--html", required=True, help="folder of <id>.html(.gz) pages")
    ap.add_argument("--truth", required=True, help="JSON {id: {articleBody}}")
    ap.add_argument("--repeat", type=int, default=3, help="timed passes (median)")
    ap.add_argument("--limit", type=int, default=0, help="first N pages only")
    args = ap.parse_args(argv)
    try:
        if args.repeat < 1:
            raise UsageError(f"--repeat {args.repeat}: must be >= 1")
        rep = evaluate(args.html, args.truth, args.repeat, args.limit)
    except UsageError as e:
        return usage_report(prog, e)
    o, b = rep["ours"], rep["baseline"]
    print(f"{rep['pages']} pages, one process, median of {rep['repeat']} passes")
    print(f"{'extractor':<42}{'P':>7}{'R':>7}{'F1':>7}{'ms/page':>9}")
    print(f"{'ours (Extract: pipeline settings)':<42}{o['precision']:>7.3f}{o['recall']:>7.3f}{o['f1']:>7.3f}"
          f"{o['ms_per_page']:>9.1f}")
    print(f"{'trafilatura.extract(include_comments=False)':<42}{b['precision']:>7.3f}{b['recall']:>7.3f}"
          f"{b['f1']:>7.3f}{b['ms_per_page']:>9.1f}")
    print(f"f1={o['f1']:.4f} precision={o['precision']:.4f} recall={o['recall']:.4f} "
          f"ms_per_page={o['ms_per_page']:.2f} baseline_f1={b['f1']:.4f} baseline_precision={b['precision']:.4f} "
          f"baseline_recall={b['recall']:.4f} baseline_ms_per_page={b['ms_per_page']:.2f} "
          f"time_ratio={o['ms_per_page'] / b['ms_per_page']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
