"""PII scrubber quality on presidio-research's synthetic set, and its throughput.

    python -m benchmarks.pii_eval [PATH] [--limit N] [--throughput]

Quality: exact span match (entity type, start, end) between the labelled spans of the
six scrubbed types and the findings ``PiiScrubber.find`` returns (the spans ``scrub``
replaces); precision and recall per type and overall (micro-averaged).
The data (``../shared/data/pii/synth_dataset_v2.json``, MIT, values CC BY-SA 3.0 US;
``$GRISTMILL_SHARED_DATA`` overrides ``../shared/data``) is read in place, never copied. Published reference for presidio 2.2.366's
pattern recognizers on the whole set: precision 0.970, recall 0.784.

Throughput: ``scrub`` docs/s on the article bodies of the extraction benchmark
(``../shared/data/extraction/ground-truth.json``) cut to about 2.5 KB.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import pathlib
import sys
import time
from typing import Optional

from gristmill.transforms.pii import DEFAULT_ENTITIES, PiiScrubber

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = pathlib.Path(os.environ.get("GRISTMILL_SHARED_DATA", REPO.parent / "shared" / "data"))
DEFAULT_PATH = SHARED_DATA / "pii" / "synth_dataset_v2.json"
EXTRACTION_TRUTH = SHARED_DATA / "extraction" / "ground-truth.json"
REFERENCE = {"precision": 0.970, "recall": 0.784}


def _pr(tp: int, n_pred: int, n_gold: int) -> dict:
    p = tp / n_pred if n_pred else 1.0
    r = tp / n_gold if n_gold else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"tp": tp, "n_pred": n_pred, "n_gold": n_gold, "precision": p, "recall": r, "f1": f1}


def evaluate(path=DEFAULT_PATH, limit: Optional[int] = None, scrubber: Optional[PiiScrubber] = None,
             entities=DEFAULT_ENTITIES) -> dict:
    """Exact-span P/R of ``scrubber`` (default: ``PiiScrubber(entities)``) on ``path``.

    Returns {"n_sentences", "overall": {tp, n_pred, n_gold, precision, recall, f1},
    "per_type": {type: same}, "reference": REFERENCE}. ``limit``: first N sentences.
    """
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if limit is not None:
        data = data[:limit]
    entities = tuple(entities)
    scrubber = scrubber or PiiScrubber(entities=entities)
    tp, n_pred, n_gold = collections.Counter(), collections.Counter(), collections.Counter()
    for sample in data:
        gold = {(s["entity_type"], s["start_position"], s["end_position"])
                for s in sample["spans"] if s["entity_type"] in entities}
        pred = {(f.entity_type, f.start, f.end) for f in scrubber.find(sample["full_text"])
                if f.entity_type in entities}
        n_gold.update(t for t, _, _ in gold)
        n_pred.update(t for t, _, _ in pred)
        tp.update(t for t, _, _ in gold & pred)
    per_type = {e: _pr(tp[e], n_pred[e], n_gold[e]) for e in entities}
    overall = _pr(sum(tp.values()), sum(n_pred.values()), sum(n_gold.values()))
    return {"n_sentences": len(data), "overall": overall, "per_type": per_type, "reference": dict(REFERENCE)}


def sample_texts(path=EXTRACTION_TRUTH, min_bytes: int = 2000, max_bytes: int = 3000) -> list[str]:
    """Article bodies of at least ``min_bytes``, cut at a space to at most ``max_bytes``."""
    with open(path, encoding="utf-8") as f:
        truth = json.load(f)
    texts = []
    for item in truth.values():
        body = item["articleBody"]
        if len(body.encode("utf-8")) < min_bytes:
            continue
        cut = body.encode("utf-8")[:max_bytes].decode("utf-8", "ignore")
        texts.append(cut.rsplit(" ", 1)[0] if len(cut) < len(body) else cut)
    return texts


def throughput(texts: list[str], scrubber: Optional[PiiScrubber] = None, min_seconds: float = 3.0) -> dict:
    """scrub docs/s and MB/s over ``texts`` (repeated until ``min_seconds`` have passed)."""
    scrubber = scrubber or PiiScrubber()
    docs = nbytes = 0
    start = time.perf_counter()
    while True:
        for text in texts:
            scrubber.scrub(text)
        docs += len(texts)
        nbytes += sum(len(t.encode("utf-8")) for t in texts)
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            break
    return {"docs": docs, "seconds": elapsed, "docs_per_s": docs / elapsed, "mb_per_s": nbytes / elapsed / 1e6,
            "mean_bytes": nbytes / docs}


def _print_report(report: dict) -> None:
    print(f"{report['n_sentences']} sentences, exact span match")
    print(f"{'type':<15}{'tp':>6}{'pred':>6}{'gold':>6}{'P':>8}{'R':>8}")
    rows = list(report["per_type"].items()) + [("overall", report["overall"])]
    for name, m in rows:
        print(f"{name:<15}{m['tp']:>6}{m['n_pred']:>6}{m['n_gold']:>6}{m['precision']:>8.3f}{m['recall']:>8.3f}")
    ref = report["reference"]
    print(f"reference (presidio 2.2.366 pattern recognizers, full set): P {ref['precision']:.3f} R {ref['recall']:.3f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path", nargs="?", default=str(DEFAULT_PATH))
    ap.add_argument("--limit", type=int, default=None, help="first N sentences only")
    ap.add_argument("--throughput", action="store_true", help="also measure scrub docs/s on ~2.5 KB texts")
    args = ap.parse_args(argv)
    if not pathlib.Path(args.path).exists():
        print(f"PII evaluation set not found at {args.path} (see ../shared/data/README.md)", file=sys.stderr)
        return 2
    scrubber = PiiScrubber()
    _print_report(evaluate(args.path, args.limit, scrubber))
    if args.throughput:
        if not EXTRACTION_TRUTH.exists():
            print(f"throughput texts not found at {EXTRACTION_TRUTH}", file=sys.stderr)
            return 2
        texts = sample_texts()
        t = throughput(texts, scrubber)
        print(f"scrub: {t['docs_per_s']:.0f} docs/s, {t['mb_per_s']:.2f} MB/s "
              f"({len(texts)} texts, mean {t['mean_bytes']:.0f} B, one core)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
