"""PII scrub speed: the fast path against presidio on whole documents, same recognizers.

    python -m benchmarks.pii [--repeat 3]

Texts: the 181 article bodies of ../shared/data/extraction/ground-truth.json, each with
one to three PII-bearing sentences of ../shared/data/pii/synth_dataset_v2.json put in
between its paragraphs (seeded), read in place. One process pinned to one core, the two
paths alternating, medians:

  ours      `PiiScrubber.scrub`: each recognizer only where it can match, phones only in
            windows around runs of 7+ digits, then the phone rule and the anonymizer
  presidio  the same scrubber with `find(fast=False)`: presidio's AnalyzerEngine over the
            whole document, then the same rule and anonymizer

The findings of the two paths are compared on every text (they must be equal). Last line:
`ratio=... ours_docs_s=... presidio_docs_s=... ours_mb_s=... findings=...`.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time

from benchmarks.common import EXTRACTION, SHARED_DATA, require, run_pinned_json

PII = SHARED_DATA / "pii" / "synth_dataset_v2.json"
TYPES = {"EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "US_SSN"}


def texts(seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    bodies = [v["articleBody"] for _, v in sorted(json.loads((EXTRACTION / "ground-truth.json").read_text()).items())]
    pii = [d["full_text"] for d in json.loads(PII.read_text()) if any(s["entity_type"] in TYPES for s in d["spans"])]
    out = []
    for body in bodies:
        paras = body.split("\n")
        for _ in range(rng.randint(1, 3)):
            paras.insert(rng.randrange(len(paras) + 1), rng.choice(pii))
        out.append("\n".join(paras))
    return out


def measure(repeat: int) -> dict:
    from gristmill.transforms.pii import PiiScrubber
    docs = texts()
    s = PiiScrubber()
    findings = 0
    for t in docs:  # the two paths agree, text by text
        fast = s.find(t)
        if fast != s.find(t, fast=False):
            raise SystemExit(f"fast and full paths differ on: {t[:80]!r}")
        findings += len(fast)

    def ours():
        for t in docs:
            s.scrub(t)

    def presidio():
        from presidio_anonymizer.entities import RecognizerResult
        for t in docs:
            found = s.find(t, fast=False)
            if found:
                s._anonymizer.anonymize(text=t, operators=dict(s._operators), merge_entities_with_spaces=False,
                                        analyzer_results=[RecognizerResult(f.entity_type, f.start, f.end, f.score)
                                                          for f in found])

    ours(), presidio()
    times = {"ours": [], "presidio": []}
    for _ in range(repeat):
        for name, fn in (("ours", ours), ("presidio", presidio)):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    mb = sum(len(t.encode("utf-8")) for t in docs) / 1e6
    med = {k: statistics.median(v) for k, v in times.items()}
    return {"docs": len(docs), "mb": mb, "findings": findings,
            "ours_docs_s": len(docs) / med["ours"], "presidio_docs_s": len(docs) / med["presidio"],
            "ours_mb_s": mb / med["ours"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    require(EXTRACTION)
    require(PII)
    if args.one:
        print(json.dumps(measure(args.repeat)))
        return 0
    m = run_pinned_json(["-m", "benchmarks.pii", "--one", "--repeat", str(args.repeat)], "pii benchmark")
    print(f"{m['docs']} documents, {m['mb']:.2f} MB, {m['findings']} findings (both paths equal), one core, "
          f"median of {args.repeat}")
    print(f"ours      {m['ours_docs_s']:8.0f} docs/s  {m['ours_mb_s']:.2f} MB/s")
    print(f"presidio  {m['presidio_docs_s']:8.0f} docs/s")
    print(f"ratio={m['ours_docs_s'] / m['presidio_docs_s']:.2f} ours_docs_s={m['ours_docs_s']:.0f} "
          f"presidio_docs_s={m['presidio_docs_s']:.0f} ours_mb_s={m['ours_mb_s']:.2f} findings={m['findings']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
