"""`gristmill eval langid --sentences DIR`: language ID accuracy per language.

DIR holds one `<code>.txt` per language, a sentence per line (e.g.
../shared/data/langid/sentences). Each sentence is given to the pipeline's `predict`
(the bundled lid.176.ftz, or `--model`) and counts as right when the predicted code
and the file's code are the same canonical code (`langid.canonical`: "nb" and the
model's "no" are one language). A language the model has no label for is listed but
not scored. Last line: `accuracy=... languages=... known=... sentences=...`
(accuracy: the mean of the per-language accuracies over the known languages).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys

from gristmill.usage import UsageError, report as usage_report


def evaluate(sentences_dir: str, model_path: str = "", limit: int = 0) -> dict:
    from gristmill.transforms import langid

    try:
        files = sorted(f for f in os.listdir(sentences_dir) if f.endswith(".txt"))
    except OSError as e:
        raise UsageError(f"--sentences {sentences_dir}: {e.strerror}") from None
    if not files:
        raise UsageError(f"--sentences {sentences_dir}: no <code>.txt files")
    try:
        model = langid.load_model(model_path)
    except (ValueError, OSError) as e:
        raise UsageError(f"--model {model_path}: not a fastText model ({e})") from None
    known = langid.labels(model)
    rows = {}
    for name in files:
        code = name.removesuffix(".txt")
        with open(os.path.join(sentences_dir, name), encoding="utf-8", errors="replace") as f:
            lines = [ln.strip() for ln in f if ln.strip()]
        lines = lines[:limit] if limit else lines
        want = langid.canonical(code)
        preds = [langid.predict(model, ln)[0] for ln in lines]
        wrong = {}
        for p in preds:
            if p != want:
                wrong[p] = wrong.get(p, 0) + 1
        rows[code] = {"canonical": want, "known": want in known, "sentences": len(lines),
                      "accuracy": sum(p == want for p in preds) / len(lines) if lines else 0.0,
                      "confused_with": sorted(wrong.items(), key=lambda kv: -kv[1])[:2]}
    scored = [r for r in rows.values() if r["known"] and r["sentences"]]
    return {"languages": rows, "accuracy": statistics.mean(r["accuracy"] for r in scored) if scored else 0.0,
            "known": len(scored), "sentences": sum(r["sentences"] for r in rows.values())}


def main(argv: list[str], prog: str = "gristmill eval langid") -> int:
    ap = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    ap.add_argument("--sentences", required=True, help="folder of <code>.txt files, one sentence per line")
    ap.add_argument("--model", default="", help="fastText model (lid.176.bin, GlotLID); default: the bundled one")
    ap.add_argument("--limit", type=int, default=0, help="first N sentences per language only")
    args = ap.parse_args(argv)
    try:
        rep = evaluate(args.sentences, args.model, args.limit)
    except UsageError as e:
        return usage_report(prog, e)
    print(f"{'file':<8}{'code':<6}{'sentences':>10}{'accuracy':>10}  most confused with")
    for code, r in rep["languages"].items():
        acc = f"{r['accuracy']:.3f}" if r["known"] else "unknown"
        confused = ", ".join(f"{c} {n}" for c, n in r["confused_with"])
        print(f"{code:<8}{r['canonical']:<6}{r['sentences']:>10}{acc:>10}  {confused}")
    print(f"accuracy={rep['accuracy']:.4f} languages={len(rep['languages'])} known={rep['known']} "
          f"sentences={rep['sentences']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
