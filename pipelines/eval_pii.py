"""`gristmill eval pii --data FILE.json`: PII precision and recall per entity type.

The data is presidio-research's layout: a JSON list of {"full_text", "spans": [{"entity_type",
"start_position", "end_position"}]} (e.g. ../shared/data/pii/synth_dataset_v2.json). Only
the scrubber's entity types are scored. Exact: a finding counts when type, start and end
equal a labelled span's. Overlap: a finding counts when it overlaps a labelled span of its
type, and a labelled span is found when a finding of its type overlaps it. Last line
(overall, exact span): `precision=... recall=... overlap_precision=... overlap_recall=...`.
"""
from __future__ import annotations

import argparse
import collections
import sys
from typing import Optional

from gristmill.usage import UsageError, load_json_file, report as usage_report

REFERENCE = {"precision": 0.970, "recall": 0.784}  # presidio 2.2.366 pattern recognizers, whole set


def _pr(tp: int, n_pred: int, n_gold: int) -> dict:
    p = tp / n_pred if n_pred else 1.0
    r = tp / n_gold if n_gold else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"tp": tp, "n_pred": n_pred, "n_gold": n_gold, "precision": p, "recall": r, "f1": f1}


def load(path) -> list[dict]:
    data = load_json_file(path, "--data")
    if not isinstance(data, list) or not all(isinstance(s, dict) and "full_text" in s and "spans" in s for s in data):
        raise UsageError(f"--data {path}: expected a list of {{full_text, spans}} (presidio-research layout)")
    return data


def evaluate(path, limit: Optional[int] = None, scrubber=None, entities=None) -> dict:
    """Exact-span and overlap P/R of `scrubber` on the set at `path`.

    Returns {"n_sentences", "overall", "per_type", "overlap", "overlap_per_type",
    "reference"}; each score is {tp, n_pred, n_gold, precision, recall, f1}."""
    from gristmill.transforms.pii import PiiScrubber

    data = load(path)[:limit] if limit is not None else load(path)
    scrubber = scrubber or PiiScrubber(**({"entities": entities} if entities else {}))
    entities = tuple(entities or scrubber.entities)
    tp, n_pred, n_gold = collections.Counter(), collections.Counter(), collections.Counter()
    otp_p, otp_g = collections.Counter(), collections.Counter()
    for sample in data:
        gold = {(s["entity_type"], s["start_position"], s["end_position"])
                for s in sample["spans"] if s["entity_type"] in entities}
        pred = {(f.entity_type, f.start, f.end) for f in scrubber.find(sample["full_text"])
                if f.entity_type in entities}
        n_gold.update(t for t, _, _ in gold)
        n_pred.update(t for t, _, _ in pred)
        tp.update(t for t, _, _ in gold & pred)
        otp_p.update(t for t, a, b in pred if any(t == g and a < e and s < b for g, s, e in gold))
        otp_g.update(g for g, s, e in gold if any(t == g and a < e and s < b for t, a, b in pred))
    per_type = {e: _pr(tp[e], n_pred[e], n_gold[e]) for e in entities}
    overlap = {e: {**_pr(otp_p[e], n_pred[e], n_gold[e]),
                   "recall": otp_g[e] / n_gold[e] if n_gold[e] else 1.0} for e in entities}
    total_overlap = {**_pr(sum(otp_p.values()), sum(n_pred.values()), sum(n_gold.values())),
                     "recall": sum(otp_g.values()) / sum(n_gold.values()) if sum(n_gold.values()) else 1.0}
    return {"n_sentences": len(data), "per_type": per_type,
            "overall": _pr(sum(tp.values()), sum(n_pred.values()), sum(n_gold.values())),
            "overlap_per_type": overlap, "overlap": total_overlap, "reference": dict(REFERENCE)}


def print_report(rep: dict) -> None:
    print(f"{rep['n_sentences']} texts; exact span | overlap")
    print(f"{'type':<15}{'gold':>6}{'pred':>6}{'P':>8}{'R':>8}  |{'P':>7}{'R':>8}")
    rows = [(k, v, rep["overlap_per_type"][k]) for k, v in rep["per_type"].items()]
    for name, m, o in rows + [("overall", rep["overall"], rep["overlap"])]:
        print(f"{name:<15}{m['n_gold']:>6}{m['n_pred']:>6}{m['precision']:>8.3f}{m['recall']:>8.3f}  |"
              f"{o['precision']:>7.3f}{o['recall']:>8.3f}")


def main(argv: list[str], prog: str = "gristmill eval pii") -> int:
    ap = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="presidio-research JSON (list of {full_text, spans})")
    ap.add_argument("--entities", default="", help="comma-separated types (default: the scrubber's)")
    ap.add_argument("--limit", type=int, default=None, help="first N texts only")
    args = ap.parse_args(argv)
    from gristmill.transforms.pii import PiiScrubber
    try:
        entities = tuple(e.strip() for e in args.entities.split(",") if e.strip()) or None
        try:
            scrubber = PiiScrubber(**({"entities": entities} if entities else {}))
        except ValueError as e:
            raise UsageError(f"--entities: {e}") from None
        rep = evaluate(args.data, args.limit, scrubber)
    except UsageError as e:
        return usage_report(prog, e)
    print_report(rep)
    o, x = rep["overall"], rep["overlap"]
    print(f"precision={o['precision']:.4f} recall={o['recall']:.4f} "
          f"overlap_precision={x['precision']:.4f} overlap_recall={x['recall']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
