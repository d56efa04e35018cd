"""Extract, LangId and Quality: documents per second on one core, each against the bare
library call it wraps, on the 181 pages of ../shared/data/extraction.

    python -m benchmarks.text [--repeat 3] [--datatrove-python PATH]

Each side runs in a fresh process pinned to core 0, alternating with its baseline over
the same inputs, median of `--repeat` passes:

  Extract  ours: the stage's function (`extract`: the browser-style decoding of the raw
           bytes, then the pipeline's ExtractConfig) through the per-page time limit
           (`TimeLimit`, a child process; the pipeline's default); also without the
           limit, in-process, which gives the limit's cost (`limit_overhead`).
           bare: `trafilatura.extract(raw bytes, include_comments=False)`.
  LangId   ours: the stage's function (`langid`: prediction, canonical code, threshold)
           on the texts our Extract kept. bare: fastText `model.predict` of the same
           text with newlines as spaces (what every pipeline has to do).
  Quality  ours: the stage's function (`quality`: C4 line and page rules, Gopher
           quality and repetition, FineWeb) on the same texts with their language.
           bare: datatrove's GopherRepetitionFilter, GopherQualityFilter,
           C4QualityFilter and FineWebQualityFilter in FineWeb's order, run by a Python
           that has datatrove (`--datatrove-python`, default the current one; skipped
           with a message when it has none). Neither stops at the first failing filter
           being cheaper: both run to the first failure, as in a pipeline.

Last line: `extract_docs_s=... trafilatura_docs_s=... extract_ratio=... limit_overhead=...
langid_docs_s=... fasttext_docs_s=... langid_ratio=... quality_docs_s=...
datatrove_docs_s=... quality_ratio=...` (ratios: ours over bare, docs/s; overhead: time
with the limit over time without, minus 1).
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from benchmarks.common import EXTRACTION, fmt, require, run_pinned_json


def raw_pages() -> list[bytes]:
    truth = json.loads((EXTRACTION / "ground-truth.json").read_text())
    return [gzip.open(EXTRACTION / "html" / f"{key}.html.gz").read() for key in sorted(truth)]


def timed(sides: dict, repeat: int, n: int) -> dict:
    """docs/s of each side: each called once to warm up, then alternated `repeat` times."""
    for fn in sides.values():
        fn()
    times = {name: [] for name in sides}
    for _ in range(repeat):
        for name, fn in sides.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: n / statistics.median(t) for name, t in times.items()}


def ours(repeat: int, texts_out: str) -> dict:
    import trafilatura

    from gristmill.transforms import extract as E
    from gristmill.transforms import langid as L
    from gristmill.transforms.document import Document
    from gristmill.transforms.quality import quality

    pages = raw_pages()
    config = E.ExtractConfig()
    limit = E.TimeLimit(E.extract_text, config.timeout_s)

    def docs():
        return [Document(id=b"%016d" % i, url="", input=0, offset=0, html=h) for i, h in enumerate(pages)]

    def run_extract(run):
        return lambda: [E.extract(d, config, run) for d in docs()]

    r = timed({"limit": run_extract(limit), "nolimit": run_extract(E.extract_text),
               "bare": lambda: [trafilatura.extract(h, include_comments=False) for h in pages]}, repeat, len(pages))
    limit.close()
    kept = [d for d in (E.extract(d, config) for d in docs()) if isinstance(d, Document)]
    model = L.load_model()
    lang_config = L.LangIdConfig(languages=())
    texts = [d.text for d in kept]
    r.update({f"langid_{k}": v for k, v in timed({
        "ours": lambda: [L.langid(Document(id=b"", url="", input=0, offset=0, text=t), model, lang_config)
                         for t in texts],
        "bare": lambda: [model.predict(" ".join(t.split())) for t in texts]}, repeat * 10, len(texts)).items()})
    langs = [L.predict(model, t)[0] for t in texts]
    r.update({"quality_ours": timed({"q": lambda: [
        quality(Document(id=b"", url="", input=0, offset=0, text=t, lang=lang)) for t, lang in zip(texts, langs)]},
        repeat, len(texts))["q"]})
    with open(texts_out, "w") as f:
        json.dump({"texts": texts, "langs": langs}, f)
    r.update(pages=len(pages), texts=len(texts))
    return r


DATATROVE = r'''
import json, statistics, sys, time
from datatrove.data import Document
from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                        GopherRepetitionFilter)
data, repeat = json.load(open(sys.argv[1])), int(sys.argv[2])
filters = [GopherRepetitionFilter(), GopherQualityFilter(), C4QualityFilter(), FineWebQualityFilter()]
docs = [Document(text=t, id=str(i), metadata={"language": lang}) for i, (t, lang) in
        enumerate(zip(data["texts"], data["langs"]))]
def run():
    for d in docs:
        for f in filters:
            if f.filter(d) is not True:
                break
run()
times = []
for _ in range(repeat):
    start = time.perf_counter(); run(); times.append(time.perf_counter() - start)
print(json.dumps({"docs_s": len(docs) / statistics.median(times)}))
'''


def datatrove(python: str, texts_file: str, repeat: int) -> dict | None:
    check = subprocess.run([python, "-c", "import datatrove.pipeline.filters"], capture_output=True, text=True)
    if check.returncode:
        print(f"Quality baseline skipped: {python} cannot import datatrove's filters "
              f"(pip install 'datatrove[processing]' spacy, or --datatrove-python PATH)")
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(DATATROVE)
    try:
        return run_pinned_json([f.name, texts_file, str(repeat)], "datatrove", python=python)
    finally:
        os.unlink(f.name)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--datatrove-python", default=sys.executable,
                    help="a Python that can import datatrove (the Quality baseline)")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    require(EXTRACTION)
    if args.repeat < 1:
        ap.error(f"--repeat {args.repeat}: must be >= 1")
    if args.one:
        print(json.dumps(ours(args.repeat, args.one)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        texts = os.path.join(tmp, "texts.json")
        r = run_pinned_json(["-m", "benchmarks.text", "--one", texts, "--repeat", str(args.repeat)], "ours")
        dt = datatrove(args.datatrove_python, texts, args.repeat)
    dt_s = dt["docs_s"] if dt else float("nan")
    print(f"{r['pages']} pages ({r['texts']} with main text), one core, docs/s, median of {args.repeat}")
    print(f"  Extract  ours {r['limit']:.1f} (without the time limit {r['nolimit']:.1f}), "
          f"trafilatura.extract {r['bare']:.1f}")
    print(f"  LangId   ours {r['langid_ours']:.0f}, fastText predict {r['langid_bare']:.0f}")
    print(f"  Quality  ours {r['quality_ours']:.0f}, datatrove's four filters {fmt(dt_s, '.0f')}")
    print(f"extract_docs_s={r['limit']:.2f} trafilatura_docs_s={r['bare']:.2f} "
          f"extract_ratio={r['limit'] / r['bare']:.3f} limit_overhead={r['nolimit'] / r['limit'] - 1:.3f} "
          f"langid_docs_s={r['langid_ours']:.1f} fasttext_docs_s={r['langid_bare']:.1f} "
          f"langid_ratio={r['langid_ours'] / r['langid_bare']:.3f} quality_docs_s={r['quality_ours']:.1f} "
          f"datatrove_docs_s={fmt(dt_s)} quality_ratio={fmt(r['quality_ours'] / dt_s, '.3f')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
