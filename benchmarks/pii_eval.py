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
import json
import os
import pathlib
import sys
import time
from typing import Optional

from gristmill.pipelines import eval_pii
from gristmill.transforms.pii import DEFAULT_ENTITIES, PiiScrubber

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = pathlib.Path(os.environ.get("GRISTMILL_SHARED_DATA", REPO.parent / "shared" / "data"))
DEFAULT_PATH = SHARED_DATA / "pii" / "synth_dataset_v2.json"
EXTRACTION_TRUTH = SHARED_DATA / "extraction" / "ground-truth.json"


def evaluate(path=DEFAULT_PATH, limit: Optional[int] = None, scrubber: Optional[PiiScrubber] = None,
             entities=DEFAULT_ENTITIES) -> dict:
    """Exact-span and overlap P/R (gristmill.pipelines.eval_pii.evaluate)."""
    return eval_pii.evaluate(path, limit, scrubber or PiiScrubber(entities=tuple(entities)), tuple(entities))


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
    eval_pii.print_report(evaluate(args.path, args.limit, scrubber))
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
