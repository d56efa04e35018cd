"""MinHashDedup speed: signatures against datasketch, and the transform at growing sizes.

    python -m benchmarks.dedup [--sizes 25000,50000,100000] [--workers 2] [--repeat 5]

1. Signatures, one process pinned to one core, the 181 article bodies of
   ../shared/data/extraction (repeated to 1,086 documents), alternating runs, medians:
     ours        `dedup.signatures` over batches of 256 texts (tokens, hashes, n-grams,
                 permutations, all vectorised)
     datasketch  per document, what this project did before: normalise (NFKC, lower,
                 regex), the set of word 5-grams as bytes, `MinHash(112).update_batch`
     update_batch  datasketch's `update_batch` alone, on shingles built beforehand (its
                 text handling not counted at all: the floor of a per-document loop)
2. The MinHashDedup transform on the FnApiRunner (`--workers` processes), fed by
   documents generated inside the pipeline (gristmill.sampledata.text articles, every
   tenth one a near-duplicate variant of an earlier one, gristmill.sampledata.dupes),
   each size a fresh `gristmill`-free subprocess polled by psutil: wall time, peak RSS of
   the driver and of the largest worker, and seconds per 1,000 documents against the
   smallest size (1.00 = linear).

Last line: `sig_ratio=... sig_ratio_update_batch=... ours_docs_s=... datasketch_docs_s=...
t_SIZE_s=... driver_mb_SIZE=... worker_mb_SIZE=... scaling=...` (scaling: time per
document at the largest size over the smallest).
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def old_signature(text, perms):
    """The per-document path this project had: regex normalisation + datasketch."""
    import re
    import unicodedata

    from datasketch import MinHash
    words = re.sub(r"[^\w\s]+", " ", unicodedata.normalize("NFKC", text).lower()).split()
    shingles = {" ".join(words[i:i + 5]).encode() for i in range(max(1, len(words) - 4))}
    m = MinHash(num_perm=112, seed=1, scheme="affine32", permutations=perms)
    m.update_batch(shingles)
    return m.hashvalues


def signature_speed(repeat: int) -> dict:
    from datasketch import MinHash

    from benchmarks.common import EXTRACTION
    from gristmill.transforms import dedup
    data = json.loads((EXTRACTION / "ground-truth.json").read_text(encoding="utf-8"))
    texts = [v["articleBody"] for v in data.values()] * 6
    perms = MinHash(num_perm=112, seed=1).permutations
    prebuilt = [[" ".join(s).encode() for s in set(dedup.shingle_tuples(t))] for t in texts]
    cfg = dedup.DedupConfig()

    def ours():
        for i in range(0, len(texts), 256):
            dedup.signatures(texts[i:i + 256], cfg)

    def old():
        for t in texts:
            old_signature(t, perms)

    def update_batch():
        for shingles in prebuilt:
            m = MinHash(num_perm=112, seed=1, scheme="affine32", permutations=perms)
            m.update_batch(shingles)

    ours(), old()  # warm: tables, imports
    times = {"ours": [], "datasketch": [], "update_batch": []}
    for _ in range(repeat):
        for name, fn in (("ours", ours), ("datasketch", old), ("update_batch", update_batch)):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {k: len(texts) / statistics.median(v) for k, v in times.items()}


def one_scale(n: int, workers: int, out: str) -> None:
    """The transform over n generated documents (in this process: the driver)."""
    import random

    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from gristmill.sampledata.dupes import variant
    from gristmill.sampledata.text import make_article
    from gristmill.transforms.dedup import MinHashDedup
    from gristmill.transforms.document import Document

    def text_of(i):
        a = make_article(random.Random(i), "en")
        return "\n".join(" ".join(p) for p in a.paragraphs)

    def docs(chunk):
        for i in range(chunk * 1000, min(n, chunk * 1000 + 1000)):
            if i % 10 == 9:  # a variant of an earlier document
                rng = random.Random(-i)
                src = rng.randrange(i)
                text = variant(text_of(src), rng, ["report", "council", "river", "market", "school"])
            else:
                text = text_of(i)
            yield Document(id=i.to_bytes(16, "big"), url=f"https://gen.example/{i}", input=0, offset=i,
                           date="2024-01-01T00:00:00Z", text=text)

    mode = ["--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"] if workers > 1 \
        else ["--direct_running_mode=in_memory"]
    with beam.Pipeline(options=PipelineOptions(["--runner=FnApiRunner", *mode])) as p:
        result = (p | beam.Create(range((n + 999) // 1000)) | beam.Reshuffle()
                  | "Docs" >> beam.FlatMap(docs) | MinHashDedup())
        kept = result.kept | "CountKept" >> beam.combiners.Count.Globally()
        dropped = result.rejected | "CountDropped" >> beam.combiners.Count.Globally()
        _ = (kept | beam.Map(lambda k, d: json.dumps({"kept": k, "dropped": d}), beam.pvalue.AsSingleton(dropped))
             | beam.io.WriteToText(out, shard_name_template=""))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="25000,50000,100000")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        one_scale(int(args.one[0]), int(args.one[1]), args.one[2])
        return 0
    from benchmarks.common import EXTRACTION, require, run_measured
    require(EXTRACTION)
    from benchmarks.common import run_pinned_json
    rates = run_pinned_json(["-c", "import json, benchmarks.dedup as b; "
                             f"print(json.dumps(b.signature_speed({args.repeat})))"], "signature benchmark")
    print(f"signatures, 1 core, docs/s (median of {args.repeat}): ours {rates['ours']:.0f}, "
          f"datasketch per document {rates['datasketch']:.0f}, update_batch alone {rates['update_batch']:.0f}")
    sizes = [int(x) for x in args.sizes.split(",")]
    rows = {}
    print(f"{'docs':>8} {'wall s':>8} {'s/1k docs':>10} {'vs first':>9} {'driver MB':>10} {'worker MB':>10}  kept/dropped")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            out = os.path.join(tmp, f"counts-{n}.json")
            r = run_measured([sys.executable, "-m", "benchmarks.dedup", "--one", str(n), str(args.workers), out],
                             os.path.join(tmp, f"log-{n}.txt"), poll_s=0.2)
            if r["rc"] != 0:
                from benchmarks.common import failure
                raise SystemExit(failure(r, f"dedup at {n} documents"))
            counts = json.loads(open(out).read())
            worker = max((mb for label, mb in r["workers"].values() if label == "beam worker"), default=0.0)
            rows[n] = (r["wall_s"], r["driver_peak_mb"], worker)
            per_k = r["wall_s"] / n * 1000
            first = rows[sizes[0]][0] / sizes[0] * 1000
            print(f"{n:8d} {r['wall_s']:8.1f} {per_k:10.3f} {per_k / first:9.2f} {r['driver_peak_mb']:10.0f} "
                  f"{worker:10.0f}  {counts['kept']}/{counts['dropped']}")
    small, large = sizes[0], sizes[-1]
    scaling = (rows[large][0] / large) / (rows[small][0] / small)
    last = (f"sig_ratio={rates['ours'] / rates['datasketch']:.2f} "
            f"sig_ratio_update_batch={rates['ours'] / rates['update_batch']:.2f} "
            f"ours_docs_s={rates['ours']:.0f} datasketch_docs_s={rates['datasketch']:.0f} ")
    last += " ".join(f"t_{n}_s={rows[n][0]:.1f} driver_mb_{n}={rows[n][1]:.0f} worker_mb_{n}={rows[n][2]:.0f}"
                     for n in sizes)
    print(last + f" scaling={scaling:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
