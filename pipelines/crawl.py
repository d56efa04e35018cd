"""The main job: WARC files -> cleaned, deduplicated, tokenized shards in a run directory.

ReadWarc - UrlFilter - Extract - LangId - Quality - MinHashDedup - PiiScrub -
TrainTokenizer - Tokenize - WriteShards, with every dropped record written to
rejected/ and counted in stats.json; manifest.json is written last.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

import gristmill
from gristmill.transforms import dedup, extract, langid, pii, quality, read_warc, tokenizer
from gristmill.transforms import url_filter
from gristmill.transforms.document import Rejection
from gristmill.transforms.shards import WriteShards
from gristmill.transforms.stage import run_stage

FORMAT_VERSION = 1
STAGES = ("read", "url_filter", "extract", "langid", "quality", "dedup", "pii", "tokenize")
log = logging.getLogger("gristmill")


class GristmillOptions(PipelineOptions):
    """The job's own options; every other flag is a Beam pipeline option."""

    @classmethod
    def _add_argparse_args(cls, parser):
        a = parser.add_argument
        a("--input", action="append", help="WARC path, glob, gs:// path or warc.paths(.gz) list; repeatable")
        a("--output", help="run directory (local or gs://); must not hold a finished run")
        a("--languages", default="en", help="comma-separated lid.176 codes to keep; 'all' keeps every language")
        a("--lang-min-score", "--lang_min_score", dest="lang_min_score", type=float, default=0.65,
          help="minimum lid.176 probability (FineWeb/DCLM)")
        a("--langid-model", "--langid_model", dest="langid_model", default="",
          help="fastText model (lid.176.bin, GlotLID); default: the bundled lid.176.ftz")
        a("--url-blocklist", "--url_blocklist", dest="url_blocklist", default="",
          help="file of blocked domains, one per line (replaces the shipped list)")
        a("--max-record-bytes", "--max_record_bytes", dest="max_record_bytes", type=int,
          default=read_warc.ReadConfig.max_record_bytes, help="larger records are rejected unread")
        a("--warc-prefix", "--warc_prefix", dest="warc_prefix", default="s3://commoncrawl/",
          help="prefix for relative paths in a warc.paths list")
        a("--extract-timeout", "--extract_timeout", dest="extract_timeout", type=float,
          default=extract.ExtractConfig.timeout_s,
          help="seconds per page for trafilatura, in a child process; 0 = in-process, no limit")
        a("--vocab-size", "--vocab_size", dest="vocab_size", type=int, default=32000,
          help="BPE vocabulary; capped with a warning when the text cannot fill it")
        a("--tokenizer-model", "--tokenizer_model", dest="tokenizer_model", default="",
          help="a sentencepiece .model to use instead of training one")
        a("--tokenizer-sample-docs", "--tokenizer_sample_docs", dest="tokenizer_sample_docs",
          type=int, default=200_000, help="documents (smallest id hashes) the tokenizer trains on")
        a("--val-fraction", "--val_fraction", dest="val_fraction", type=float, default=0.01,
          help="share of documents in the val split (by id hash)")
        a("--train-shards", "--train_shards", dest="train_shards", type=int, default=8,
          help="shard files for the train split")
        a("--val-shards", "--val_shards", dest="val_shards", type=int, default=1,
          help="shard files for the val split")
        a("--run-id", "--run_id", dest="run_id", default="", help="default: the output folder's name")


def job_config(o: GristmillOptions) -> dict:
    """The options that decide the output (recorded in the manifest and shard headers)."""
    keys = ("input", "extract_timeout", "languages", "lang_min_score", "langid_model", "url_blocklist",
            "max_record_bytes", "warc_prefix", "vocab_size", "tokenizer_model",
            "tokenizer_sample_docs", "val_fraction", "train_shards", "val_shards")
    return {k: getattr(o, k) for k in keys}


def code_version() -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        sha = subprocess.run(["git", "-C", here, "rev-parse", "--short", "HEAD"], check=True,
                             capture_output=True, text=True, timeout=5).stdout.strip()
        return f"{gristmill.__version__}+g{sha}"
    except Exception:
        return gristmill.__version__


def build(p: beam.Pipeline, o: GristmillOptions) -> dict:
    """Compose the whole job on pipeline p; return its main PCollections (for tests)."""
    out = o.output.rstrip("/")
    config = job_config(o)
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()
    run_id = o.run_id or os.path.basename(out)
    languages = () if o.languages == "all" else tuple(x.strip() for x in o.languages.split(",") if x.strip())
    num_shards = {"train": o.train_shards, "val": o.val_shards}

    docs, rejected_read, inputs = p | "ReadWarc" >> read_warc.ReadWarc(
        o.input, read_warc.ReadConfig(o.max_record_bytes), o.warc_prefix)
    kept = {"read": docs}
    rejected = [rejected_read]
    for label, name, fn in [
        ("UrlFilter", url_filter.STAGE, url_filter.UrlFilterStage(
            url_filter.UrlFilterConfig(blocklist=o.url_blocklist or None))),
        ("Extract", extract.STAGE, extract.Extract(extract.ExtractConfig(timeout_s=o.extract_timeout))),
        ("LangId", langid.STAGE, langid.LangId(langid.LangIdConfig(
            languages=languages, min_score=o.lang_min_score, model_path=o.langid_model))),
        ("Quality", quality.STAGE, quality.Quality()),
    ]:
        docs, rej = run_stage(label, docs, fn)
        kept[name] = docs
        rejected.append(rej)
    docs, rej = docs | "MinHashDedup" >> dedup.MinHashDedup()
    kept[dedup.STAGE] = docs
    rejected.append(rej)
    docs, rej = run_stage("PiiScrub", docs, pii.PiiScrub())
    kept[pii.STAGE] = docs
    rejected.append(rej)

    tok_cfg = tokenizer.TokenizerConfig(vocab_size=o.vocab_size, model_path=o.tokenizer_model,
                                        sample_docs=o.tokenizer_sample_docs)
    model = docs | "TrainTokenizer" >> tokenizer.TrainTokenizer(tok_cfg)
    tokens, rej = docs | "Tokenize" >> tokenizer.Tokenize(model, num_shards, o.val_fraction)
    kept[tokenizer.STAGE] = tokens
    rejected.append(rej)
    shards = tokens | "WriteShards" >> WriteShards(
        out, num_shards, model, {"run_id": run_id, "config_sha256": digest})

    all_rejected = rejected | "AllRejected" >> beam.Flatten()
    rejected_files = (all_rejected
                      | "RejectedJson" >> beam.Map(lambda r: json.dumps(r.to_json(), sort_keys=True))
                      | "WriteRejected" >> beam.io.WriteToText(
                          f"{out}/rejected/part", file_name_suffix=".jsonl.gz"))
    tallies = [pc | f"Tally_{name}" >> beam.Map(lambda _, s=name: (s, "kept"))
               for name, pc in kept.items()]
    tallies.append(all_rejected | "TallyRejected" >> beam.Map(lambda r: (r.stage, r.reason)))
    counts = (tallies
              | "AllTallies" >> beam.Flatten()
              | "Count" >> beam.combiners.Count.PerElement()
              | "CountsList" >> beam.combiners.ToList())
    content = (docs
               | "ContentKeys" >> beam.FlatMap(
                   lambda d: [(("languages", d.lang), 1)] + [(("pii_found", k), n) for k, n in d.pii.items()])
               | "ContentCounts" >> beam.CombinePerKey(sum)
               | "ContentList" >> beam.combiners.ToList())
    AsOne, AsList = beam.pvalue.AsSingleton, beam.pvalue.AsList
    _ = (p
         | "Finish" >> beam.Create([None])
         | "WriteManifest" >> beam.Map(
             write_run_files, out=out, run_id=run_id, version=code_version(), config=config,
             config_sha256=digest,
             counts=AsOne(counts), content=AsOne(content), shards=AsList(shards), inputs=AsList(inputs),
             model=AsOne(model), rejected_files=AsList(rejected_files)))
    return {"kept": kept, "rejected": all_rejected, "shards": shards, "inputs": inputs,
            "counts": counts}


def stage_stats(counts: list, records_read: int) -> dict:
    """Per stage: in, kept, dropped by reason, errors; and whether the accounting holds."""
    kept = {s: 0 for s in STAGES}
    dropped = {s: {} for s in STAGES}
    for (stage, what), n in counts:
        if what == "kept":
            kept[stage] += n
        else:
            dropped[stage][what] = dropped[stage].get(what, 0) + n
    stages, problems = [], []
    into = records_read
    for s in STAGES:
        d = dict(sorted(dropped[s].items(), key=lambda kv: (-kv[1], kv[0])))
        errors = sum(n for r, n in d.items() if r.startswith("error:") or r == "read_error")
        stages.append({"stage": s, "in": into, "kept": kept[s], "dropped": d,
                       "dropped_total": sum(d.values()), "errors": errors})
        if into != kept[s] + sum(d.values()):
            problems.append(f"{s}: in {into} != kept {kept[s]} + dropped {sum(d.values())}")
        into = kept[s]
    return {"stages": stages, "records_read": records_read, "documents_kept": into,
            "accounting_ok": not problems, "accounting_problems": problems}


def _write(path: str, data: bytes) -> None:
    with FileSystems.create(path) as f:
        f.write(data)


def write_run_files(_, out, run_id, version, config, config_sha256, counts, content, shards, inputs,
                    model, rejected_files) -> str:
    """tokenizer.model, stats.json, then manifest.json (its presence marks a finished run)."""
    inputs = sorted(inputs, key=lambda x: x["path"])
    stats = stage_stats(counts, sum(i["records"] for i in inputs))
    for (kind, key), n in sorted(content, key=lambda kv: (kv[0][0], -kv[1], kv[0][1])):
        stats.setdefault(kind, {})[key] = n
    shards = sorted(shards, key=lambda s: (s["split"], s["shard"]))
    splits = {}
    for s in shards:
        splits.setdefault(s["split"], []).append(
            {k: s[k] for k in ("path", "num_tokens", "num_docs", "sha256", "payload_crc32")})
    stats["tokens"] = {k: sum(s["num_tokens"] for s in v) for k, v in splits.items()}
    stats["documents"] = {k: sum(s["num_docs"] for s in v) for k, v in splits.items()}
    if sum(stats["documents"].values()) != stats["documents_kept"]:
        stats["accounting_ok"] = False
        stats["accounting_problems"].append("documents in shards != documents kept by tokenize")
    info = tokenizer.model_info(model)
    _write(f"{out}/tokenizer.model", model)
    _write(f"{out}/stats.json", json.dumps(stats, indent=1).encode())
    manifest = {
        "format_version": FORMAT_VERSION, "run_id": run_id, "code_version": version,
        "tokenizer": {"file": "tokenizer.model", **info,
                      "vocab_size_requested": config["vocab_size"]},
        "splits": splits, "config": config, "config_sha256": config_sha256,
        "stats": {k: stats[k] for k in ("records_read", "documents_kept", "tokens", "documents",
                                        "accounting_ok")},
        "inputs": inputs,
        "rejected": sorted(os.path.relpath(f, out) if "://" not in f else f
                           for f in rejected_files),
    }
    _write(f"{out}/manifest.json", json.dumps(manifest, indent=1).encode())
    return out


def default_runner_args(argv: list[str]) -> list[str]:
    """Without --runner: Beam's FnApiRunner, one worker process per core (never Prism)."""
    if any(a == "--runner" or a.startswith("--runner=") for a in argv):
        return argv
    return argv + ["--runner=FnApiRunner", "--direct_running_mode=multi_processing",
                   f"--direct_num_workers={os.cpu_count() or 1}",
                   "--default_sdk_harness_log_level=WARNING"]


def funnel(stats: dict) -> str:
    lines = [f"{'stage':<11}{'in':>8}{'kept':>8}{'dropped':>9}  top reasons"]
    for s in stats["stages"]:
        top = ", ".join(f"{r} {n}" for r, n in list(s["dropped"].items())[:4])
        lines.append(f"{s['stage']:<11}{s['in']:>8}{s['kept']:>8}{s['dropped_total']:>9}  {top}")
    lines.append(f"languages kept: {stats.get('languages', {})}")
    lines.append(f"PII replaced: {stats.get('pii_found', {})}")
    lines.append(f"tokens: {stats.get('tokens')}  accounting ok: {stats['accounting_ok']}")
    return "\n".join(lines)


class _StageWatcher(logging.Handler):
    """Remembers which steps the FnApiRunner is running now, for the progress lines."""

    LOGGER = "apache_beam.runners.portability.fn_api_runner.fn_runner.run_bundle"

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.current = ""

    def emit(self, record):
        if str(record.msg).startswith("Running bundle for stage") and record.args:
            steps = re.findall(r"AppliedPTransform_([A-Za-z]+)", str(record.args[0]))
            self.current = ", ".join(dict.fromkeys(steps))

    def __enter__(self):
        logger = logging.getLogger(self.LOGGER)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        logger.addHandler(self)
        return self

    def __exit__(self, *exc):
        logging.getLogger(self.LOGGER).removeHandler(self)


def _heartbeat(stop: threading.Event, start: float, watcher: _StageWatcher) -> None:
    while not stop.wait(10):
        now = f", running {watcher.current}" if watcher.current else ""
        print(f"[run] {time.time() - start:.0f}s elapsed{now}", flush=True)


@contextlib.contextmanager
def _stderr_to(path: str):
    """Send this process's stderr, and its worker processes', to a file."""
    sys.stderr.flush()
    saved = os.dup(2)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 2)
    os.close(fd)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def print_help() -> None:
    import argparse
    parser = argparse.ArgumentParser(
        prog="gristmill run", description=__doc__,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        epilog="Every other flag is a Beam pipeline option (--runner, --project, --region, "
               "--temp_location, --setup_file, --direct_num_workers, ...). Without --runner: "
               "FnApiRunner, one worker process per core.")
    GristmillOptions._add_argparse_args(parser)
    parser.print_help()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "-h" in argv or "--help" in argv:
        print_help()
        return 0
    argv = default_runner_args(argv)
    options = PipelineOptions(argv)
    o = options.view_as(GristmillOptions)
    if not o.input or not o.output:
        print("gristmill run: --input and --output are required", file=sys.stderr)
        return 2
    out = o.output.rstrip("/")
    if FileSystems.exists(f"{out}/manifest.json"):
        print(f"gristmill run: {out} already holds a finished run (manifest.json); "
              "choose a new --output", file=sys.stderr)
        return 2
    for pattern in o.input:
        if not pattern.endswith((".paths", ".paths.gz")) and not FileSystems.match([pattern])[0].metadata_list:
            print(f"gristmill run: no file matches --input {pattern}", file=sys.stderr)
            return 2
    logging.getLogger("apache_beam").setLevel(logging.WARNING)
    start = time.time()
    log_path = os.path.join(tempfile.gettempdir(), f"gristmill-run-{os.getpid()}.log")
    print(f"[run] pipeline starting: {', '.join(o.input)} -> {out}\n"
          f"[run] runner and worker logs: {log_path}", flush=True)
    p = beam.Pipeline(options=options)
    build(p, o)
    stop = threading.Event()
    with _StageWatcher() as watcher:
        threading.Thread(target=_heartbeat, args=(stop, start, watcher), daemon=True).start()
        try:
            with _stderr_to(log_path):
                p.run().wait_until_finish()
        except BaseException:
            with open(log_path, errors="replace") as f:
                tail = f.readlines()[-40:]
            print(f"[run] FAILED after {time.time() - start:.0f}s; end of {log_path}:\n"
                  + "".join(tail), file=sys.stderr, flush=True)
            raise
        finally:
            stop.set()
    print(f"[run] done in {time.time() - start:.1f}s -> {out}", flush=True)
    if FileSystems.exists(f"{out}/stats.json"):
        with FileSystems.open(f"{out}/stats.json") as f:
            print(funnel(json.loads(f.read())), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
