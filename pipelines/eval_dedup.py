"""`gristmill eval dedup`: pairwise precision, recall and F1 of MinHashDedup on a labelled
set, next to datasketch's MinHashLSH with the same bands and rows, in the same run.

    gristmill eval dedup --input docs.jsonl [--bands 14 --rows 8 | --threshold 0.8] [--verify J]
    gristmill eval dedup-set --source ground-truth.json --output docs.jsonl [--seed 0]

Input lines: {"id", "text", "cluster"}. Ours: the MinHashDedup transform on the
FnApiRunner; a document's predicted cluster is its survivor. datasketch: MinHash of the
same shingles (its default SHA-1 hash), MinHashLSH with the same bands and rows, every
document queried, candidates joined by union-find. A pair is positive when both
documents are in one cluster; precision and recall are over all pairs. Last line:
`f1=... precision=... recall=... datasketch_f1=... datasketch_precision=... datasketch_recall=...`.
"""
from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import sys
import tempfile
import time

from gristmill.usage import UsageError, report


def read_rows(path: str) -> list[dict]:
    rows, seen = [], set()
    try:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    raise UsageError(f"{path} line {n}: not JSON ({e.msg})") from None
                if not isinstance(row, dict) or not {"id", "text", "cluster"} <= row.keys():
                    raise UsageError(f"{path} line {n}: needs the keys id, text, cluster")
                if not isinstance(row["text"], str):
                    raise UsageError(f"{path} line {n}: text must be a string")
                key = str(row["id"])
                if key in seen:
                    raise UsageError(f"{path} line {n}: id {key} appears twice")
                seen.add(key)
                rows.append({"id": key, "text": row["text"], "cluster": str(row["cluster"])})
    except OSError as e:
        raise UsageError(f"--input {path}: {e.strerror}") from None
    if not rows:
        raise UsageError(f"--input {path}: no rows")
    return rows


def pair_scores(predicted: dict, truth: dict) -> tuple[float, float, float]:
    """Pairwise (precision, recall, F1) of a clustering against the true one (id -> label)."""
    def pairs(counter):
        return sum(n * (n - 1) // 2 for n in counter.values())

    both = pairs(collections.Counter((predicted[i], truth[i]) for i in truth))
    pred, true = pairs(collections.Counter(predicted[i] for i in truth)), pairs(collections.Counter(truth.values()))
    precision = both / pred if pred else 1.0
    recall = both / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def doc_id(key: str) -> bytes:
    return hashlib.blake2b(key.encode("utf-8"), digest_size=16).digest()


def ours(rows: list[dict], config) -> dict:
    """id -> predicted cluster (its survivor's id), by the MinHashDedup transform."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from gristmill.transforms.dedup import MinHashDedup
    from gristmill.transforms.document import Document

    by_hash = {doc_id(r["id"]): r["id"] for r in rows}
    docs = [Document(id=doc_id(r["id"]), url=r["id"], input=0, offset=i, text=r["text"])
            for i, r in enumerate(rows)]
    with tempfile.TemporaryDirectory() as tmp:
        opts = PipelineOptions(["--runner=FnApiRunner", "--direct_running_mode=in_memory"])
        with beam.Pipeline(options=opts) as p:
            out = p | beam.Create(docs) | MinHashDedup(config)
            kept = out.kept | "Kept" >> beam.Map(lambda d: json.dumps([d.id.hex(), d.id.hex()]))
            dropped = out.rejected | "Dropped" >> beam.Map(lambda r: json.dumps([r.id.hex(), r.detail]))
            (kept, dropped) | beam.Flatten() | beam.io.WriteToText(os.path.join(tmp, "out"))
        pairs = [json.loads(line) for name in sorted(os.listdir(tmp))
                 for line in open(os.path.join(tmp, name), encoding="utf-8")]
    return {by_hash[bytes.fromhex(i)]: survivor for i, survivor in pairs}


def datasketch_clusters(rows: list[dict], config) -> dict:
    """id -> cluster by datasketch's MinHashLSH with the same bands and rows."""
    from datasketch import MinHash, MinHashLSH

    from gristmill.transforms.dedup import shingle_tuples

    lsh = MinHashLSH(num_perm=config.num_perm, params=(config.bands, config.rows))
    sketches = {}
    for r in rows:
        m = MinHash(num_perm=config.num_perm, seed=config.seed)
        m.update_batch([" ".join(s).encode("utf-8") for s in shingle_tuples(r["text"], config)])
        sketches[r["id"]] = m
        lsh.insert(r["id"], m)
    parent = {k: k for k in sketches}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for k, m in sketches.items():
        for other in lsh.query(m):
            if config.verify and m.jaccard(sketches[other]) < config.verify:
                continue
            a, b = find(k), find(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return {k: find(k) for k in sketches}


def make_set(source: str, output: str, seed: int) -> int:
    from gristmill.sampledata.dupes import build_set

    try:
        with open(source, encoding="utf-8") as f:
            data = json.load(f)
        texts = {k: v["articleBody"] for k, v in data.items() if v.get("articleBody", "").strip()}
    except (OSError, ValueError, AttributeError, TypeError) as e:
        raise UsageError(f"--source {source}: not an {{id: {{articleBody}}}} JSON file ({e})") from None
    rows = build_set(texts, seed=seed)
    with open(output, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    clusters = collections.Counter(r["cluster"] for r in rows)
    print(f"wrote {output}: {len(rows)} documents, {len(clusters)} clusters, "
          f"{sum(1 for n in clusters.values() if n > 1)} with near-duplicates")
    return 0


def parse(argv, prog):
    ap = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    if prog.endswith("dedup-set"):
        ap.add_argument("--source", required=True, help="{id: {articleBody}} JSON (the shared ground truth)")
        ap.add_argument("--output", required=True)
        ap.add_argument("--seed", type=int, default=0)
        return ap.parse_args(argv)
    ap.add_argument("--input", required=True, help='JSON lines {"id", "text", "cluster"}')
    ap.add_argument("--bands", type=int, default=14)
    ap.add_argument("--rows", type=int, default=8)
    ap.add_argument("--threshold", type=float, default=0.0,
                    help="derive bands and rows from this Jaccard threshold (datasketch's optimum for 112 permutations)")
    ap.add_argument("--verify", type=float, default=0.0, help="keep candidate pairs with estimated Jaccard >= this")
    ap.add_argument("--ngram", type=int, default=5)
    return ap.parse_args(argv)


def main(argv: list[str], prog: str = "gristmill eval dedup") -> int:
    args = parse(argv, prog)
    try:
        if prog.endswith("dedup-set"):
            return make_set(args.source, args.output, args.seed)
        from gristmill.transforms.dedup import DedupConfig

        try:
            kw = dict(verify=args.verify, ngram=args.ngram)
            config = (DedupConfig.for_threshold(args.threshold, **kw) if args.threshold
                      else DedupConfig(bands=args.bands, rows=args.rows, **kw))
        except ValueError as e:
            raise UsageError(str(e)) from None
        rows = read_rows(args.input)
    except UsageError as e:
        return report(prog, e)
    truth = {r["id"]: r["cluster"] for r in rows}
    start = time.perf_counter()
    p, r, f = pair_scores(ours(rows, config), truth)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    dp, dr, df = pair_scores(datasketch_clusters(rows, config), truth)
    ds_s = time.perf_counter() - start
    clusters = collections.Counter(truth.values())
    print(f"{len(rows)} documents, {len(clusters)} true clusters "
          f"({sum(1 for n in clusters.values() if n > 1)} with near-duplicates); "
          f"{config.bands} bands x {config.rows} rows, word {config.ngram}-grams, verify {config.verify or 'off'}")
    print(f"gristmill   precision {p:.4f}  recall {r:.4f}  F1 {f:.4f}  ({ours_s:.1f} s, Beam FnApiRunner)")
    print(f"datasketch  precision {dp:.4f}  recall {dr:.4f}  F1 {df:.4f}  ({ds_s:.1f} s, MinHashLSH)")
    print(f"f1={f:.4f} precision={p:.4f} recall={r:.4f} "
          f"datasketch_f1={df:.4f} datasketch_precision={dp:.4f} datasketch_recall={dr:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
