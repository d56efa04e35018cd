"""The document record's coder against pickle: bytes per document and encode+decode time.

    python -m benchmarks.coder [--repeat 5]

Documents are made from the real pages of ../shared/data/extraction by the pipeline's
own plain functions (decode + trafilatura, lid.176, quality signals, PII counts, then
tokens from a sentencepiece model trained on them), in the two forms that cross
shuffles: with text (the dedup join) and with tokens, text dropped (the shard write).
Pickle is what Beam falls back to for a type without a coder (protocol 5 here).
Last line: `coder_bytes_per_doc=... pickle_bytes_per_doc=... bytes_ratio=...
coder_us_per_doc=... pickle_us_per_doc=... time_ratio=...` (text form; ratios ours/pickle).
"""
from __future__ import annotations

import argparse
import copy
import gzip
import pickle
import statistics
import sys
import time

from benchmarks.common import EXTRACTION, require


def make_docs():
    from gristmill.transforms import extract, langid, pii, quality, tokenizer
    from gristmill.transforms.document import Document, stable_id
    model = langid.load_model()
    scrubber = pii.PiiScrubber()
    docs = []
    for i, path in enumerate(sorted((EXTRACTION / "html").glob("*.html.gz"))):
        doc = Document(id=stable_id(path.name), url=f"https://example.com/{path.name}", input=i % 7,
                       offset=i * 123_457, length=40_000 + i, date="2026-05-04T00:06:20Z",
                       charset="utf-8", html=gzip.decompress(path.read_bytes()))
        if not isinstance(extract.extract(doc), Document):
            continue
        langid.langid(doc, model, langid.LangIdConfig(languages=()))
        quality.quality(doc)  # signals are set whether or not the page passes
        pii.pii_scrub(doc, scrubber)
        docs.append(doc)
    sp_model = tokenizer.train_bpe((ln for d in docs for ln in tokenizer.training_lines(d.text)),
                                   tokenizer.TokenizerConfig(vocab_size=8000))
    sp = tokenizer.load_processor(sp_model)
    tokenized = []
    for d, ids in zip(docs, tokenizer.encode_docs(sp, [d.text for d in docs])):
        t = copy.copy(d)
        t.text, t.tokens = "", ids
        tokenized.append(t)
    return docs, tokenized


def measure(docs, encode, decode, repeat):
    sizes = [len(encode(d)) for d in docs]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for d in docs:
            decode(encode(d))
        times.append(time.perf_counter() - start)
    return statistics.mean(sizes), statistics.median(times) / len(docs) * 1e6


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    require(EXTRACTION / "ground-truth.json")
    from gristmill.transforms.document import DocumentCoder
    coder = DocumentCoder()
    docs, tokenized = make_docs()
    pick = (lambda d: pickle.dumps(d, protocol=5)), pickle.loads
    ours = coder.encode, coder.decode
    print(f"{len(docs)} documents from the shared extraction pages; mean text "
          f"{statistics.mean(len(d.text.encode()) for d in docs):.0f} bytes, "
          f"{statistics.mean(d.tokens.size for d in tokenized):.0f} tokens")
    print(f"{'form':<22}{'coder B/doc':>12}{'pickle B/doc':>13}{'ratio':>7}"
          f"{'coder us':>10}{'pickle us':>10}{'ratio':>7}")
    results = {}
    for name, sample in (("text (dedup join)", docs), ("tokens (shard write)", tokenized)):
        (cb, ct), (pb, pt) = measure(sample, *ours, args.repeat), measure(sample, *pick, args.repeat)
        results[name] = (cb, pb, ct, pt)
        print(f"{name:<22}{cb:>12.0f}{pb:>13.0f}{cb / pb:>7.2f}{ct:>10.1f}{pt:>10.1f}{ct / pt:>7.2f}")
    cb, pb, ct, pt = results["text (dedup join)"]
    tb, tpb, _, _ = results["tokens (shard write)"]
    print(f"coder_bytes_per_doc={cb:.0f} pickle_bytes_per_doc={pb:.0f} bytes_ratio={cb / pb:.3f} "
          f"coder_us_per_doc={ct:.1f} pickle_us_per_doc={pt:.1f} time_ratio={ct / pt:.2f} "
          f"tokens_coder_bytes_per_doc={tb:.0f} tokens_pickle_bytes_per_doc={tpb:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
