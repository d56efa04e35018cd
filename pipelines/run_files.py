"""The run directory's own files: stats.json, tokenizer.model and manifest.json.

`stage_stats` turns the per-bundle counts into the funnel and checks that it adds up;
`run_failure` applies the error budget and the nothing-survived rule; `finish` writes
the files (manifest.json last: its presence marks a finished run) or, when the run
failed, stats.json with the reason and raises RunFailed so that every runner fails it.
"""
from __future__ import annotations

import collections
import json
import os
from typing import Optional

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from gristmill.transforms import checkpoint, read_warc, tokenizer
from gristmill.transforms.shards import split_totals, write_renamed

FORMAT_VERSION = 2
STAGES = ("read", "url_filter", "extract", "langid", "quality", "minhash", "url_dedup", "dedup", "pii",
          "tokenize")
ERROR_REASONS = read_warc.DAMAGE_REASONS  # besides every "error:<Type>"
# the steps whose own time stats.json holds: the stages, and the two that drop nothing
TIMED_STEPS = STAGES[:-1] + ("train_tokenizer",) + STAGES[-1:] + ("write_shards",)
TIMES_ABOUT = (
    "seconds, summed over workers and bundles: wall_s is the time spent in the step's own "
    "functions (not in the stages fused after it, nor in shuffles, nor waiting for input), "
    "cpu_s the CPU time of the worker process meanwhile (native threads included, e.g. "
    "sentencepiece's) plus Extract's extraction child process. Measured, so they differ "
    "from run to run, unlike everything else in the run directory.")


class RunFailed(RuntimeError):
    """The run ended without a usable result; stats.json says why."""


def is_error(reason: str) -> bool:
    return reason.startswith("error:") or reason in ERROR_REASONS


class MergeCounts(beam.CombineFn):
    """(stage, {what: n}) per bundle -> {stage: {what: n}}."""

    def create_accumulator(self):
        return {}

    def add_input(self, acc, item):
        stage, counts = item
        into = acc.setdefault(stage, {})
        for what, n in counts.items():
            into[what] = into.get(what, 0) + n
        return acc

    def merge_accumulators(self, accs):
        out = {}
        for acc in accs:
            for stage, counts in acc.items():
                self.add_input(out, (stage, counts))
        return out

    def extract_output(self, acc):
        return acc


def stage_stats(counts: dict, records_read: int) -> dict:
    """Per stage: in, kept, dropped by reason, errors; and whether the accounting holds."""
    stages, problems = [], []
    into = records_read
    for s in STAGES:
        c = dict(counts.get(s, {}))
        kept = c.pop("kept", 0)
        d = dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))
        errors = sum(n for r, n in d.items() if is_error(r))
        stages.append({"stage": s, "in": into, "kept": kept, "dropped": d,
                       "dropped_total": sum(d.values()), "errors": errors})
        if into != kept + sum(d.values()):
            problems.append(f"{s}: in {into} != kept {kept} + dropped {sum(d.values())}")
        into = kept
    return {"stages": stages, "records_read": records_read, "documents_kept": into,
            "accounting_ok": not problems, "accounting_problems": problems}


def stage_times(times: Optional[dict]) -> dict:
    """{step: {"wall_s", "cpu_s"}} for every timed step (0 where it did no work), from
    the merged (step, {"wall_s", "cpu_s"}) elements of the times outputs."""
    times = times or {}
    steps = list(TIMED_STEPS) + sorted(set(times) - set(TIMED_STEPS))
    return {"about": TIMES_ABOUT, "steps": {
        s: {k: round(times.get(s, {}).get(k, 0.0), 3) for k in ("wall_s", "cpu_s")} for s in steps}}


def run_failure(stats: dict, max_error_rate: float) -> Optional[str]:
    """Why the run must fail, in one line; None when it succeeded."""
    if not stats["accounting_ok"]:
        return "accounting does not hold: " + "; ".join(stats["accounting_problems"])
    for s in stats["stages"]:
        if s["in"] and s["errors"] > max_error_rate * s["in"]:
            top = ", ".join(f"{r} {n}" for r, n in s["dropped"].items() if is_error(r))
            return (f"{s['stage']}: {s['errors']} of {s['in']} records were errors ({top}), "
                    f"over --max-error-rate {max_error_rate:g}")
    if stats["documents_kept"] == 0:
        if stats["records_read"] == 0:
            return "nothing survived: the inputs hold no records"
        s = next(s for s in stats["stages"] if s["kept"] == 0)
        top = ", ".join(f"{r} {n}" for r, n in list(s["dropped"].items())[:3])
        return f"nothing survived: {s['stage']} dropped every document ({top})"
    return None


def tokenizer_report(totals: dict) -> dict:
    """Bytes of text per token and the share of byte-fallback pieces, per split (BOS/EOS
    not counted), from Tokenize's totals {split: [text bytes, tokens, byte-fallback
    tokens, total tokens]}. The tokenizer is trained on train documents only: val is
    held out."""
    out = {"held_out_split": "val", "bytes_per_token": {}, "byte_fallback_rate": {}}
    for split, (text_bytes, tokens, fallback, _) in sorted(totals.items()):
        if tokens > 0:
            out["bytes_per_token"][split] = round(text_bytes / tokens, 4)
            out["byte_fallback_rate"][split] = round(fallback / tokens, 6)
    return out


def _write(path: str, data: bytes) -> None:
    """Under a temporary name, renamed when complete: never a partial file under a final name."""
    write_renamed(path, lambda f: f.write(data))


_STAGE_ORDER = {s: i for i, s in enumerate(STAGES)}


def rejected_order(line: str) -> tuple:
    """Rejections in a file by where their record is: offset, inner offset, then stage,
    reason and id (a record can be dropped twice: the same record read twice)."""
    r = json.loads(line)
    return (r.get("offset", -1), r.get("inner_offset", 0), _STAGE_ORDER.get(r.get("stage"), 99),
            r.get("reason", ""), r.get("id", ""), line)


def write_rejected_file(out: str, input_index: int, lines) -> str:
    """rejected/part-NNNNN.jsonl.gz: one input file's rejections, sorted, gzip without a
    timestamp, so the bytes depend on the inputs and the config only."""
    import gzip

    name = f"part-{input_index:05d}.jsonl.gz" if input_index >= 0 else "part-none.jsonl.gz"
    data = "".join(f"{line}\n" for line in sorted(lines, key=rejected_order)).encode("utf-8")
    path = f"{out}/rejected/{name}"
    _write(path, gzip.compress(data, compresslevel=6, mtime=0))
    return path


class WriteRejected(beam.PTransform):
    """Rejections -> one sorted file per input file (one input's rejections: at most a
    WARC's records, a few MB of JSON, on the worker that writes them); the file paths."""

    def __init__(self, out: str):
        super().__init__()
        self.out = out

    def expand(self, rejected):
        return (rejected
                | "KeyByInput" >> beam.Map(lambda r: (r.input, json.dumps(r.to_json(), sort_keys=True)))
                .with_output_types(tuple[int, str])
                | "GroupByInput" >> beam.GroupByKey()
                | "WriteSorted" >> beam.MapTuple(lambda i, lines: write_rejected_file(self.out, i, lines)))


def finish(_, out, run_id, version, config, config_sha256, max_error_rate, counts, shards, inputs,
           model, rejected_files, token_totals, times=None, ledger=()) -> str:
    """tokenizer.model, stats.json, then manifest.json; or stats.json and RunFailed."""
    inputs = sorted(inputs, key=lambda x: x["input"])
    stats = stage_stats(counts, sum(i["records"] for i in inputs))
    stats["stage_times"] = stage_times(times)
    shards = sorted(shards, key=lambda s: (s["split"], s.get("language", ""), s["shard"]))
    for key in ("languages", "pii_found"):
        total = sum((collections.Counter(s[key]) for s in shards), collections.Counter())
        stats[key] = dict(sorted(total.items(), key=lambda kv: (-kv[1], kv[0])))
    splits = {}
    for s in shards:
        splits.setdefault(s["split"], []).append(
            {k: s[k] for k in ("language", "path", "metadata", "num_tokens", "num_docs", "sha256", "payload_crc32")
             if k in s})
    stats["tokens"] = {k: sum(s["num_tokens"] for s in v) for k, v in splits.items()}
    stats["tokenizer"] = tokenizer_report(split_totals(token_totals))
    stats["documents"] = {k: sum(s["num_docs"] for s in v) for k, v in splits.items()}
    if sum(stats["documents"].values()) != stats["documents_kept"]:
        stats["accounting_ok"] = False
        stats["accounting_problems"].append("documents in shards != documents kept by tokenize")
    failure = run_failure(stats, max_error_rate)
    stats["status"] = "failed" if failure else "ok"
    if failure:
        stats["failure"] = failure
        _write(f"{out}/stats.json", json.dumps(stats, indent=1).encode())
        raise RunFailed(failure)
    _write(f"{out}/tokenizer.model", model)
    _write(f"{out}/stats.json", json.dumps(stats, indent=1).encode())
    manifest = {
        "format_version": FORMAT_VERSION, "run_id": run_id, "code_version": version,
        "tokenizer": {"file": "tokenizer.model", **tokenizer.model_info(model),
                      "vocab_size_requested": config["vocab_size"]},
        "splits": splits, "config": config, "config_sha256": config_sha256,
        "stats": {k: stats[k] for k in ("records_read", "documents_kept", "tokens", "documents",
                                        "accounting_ok")},
        "inputs": inputs,
        "rejected": sorted(os.path.relpath(f, out) if "://" not in f else f
                           for f in rejected_files),
    }
    _write(f"{out}/manifest.json", json.dumps(manifest, indent=1).encode())
    if ledger:  # (work folder, plan file): the inputs this run has processed
        checkpoint.write_ledger(*ledger, inputs, run_id)
    return out


def read_stats(out: str) -> Optional[dict]:
    path = f"{out}/stats.json"
    if not FileSystems.exists(path):
        return None
    with FileSystems.open(path) as f:
        return json.loads(f.read())


def funnel(stats: dict) -> str:
    lines = [f"{'stage':<11}{'in':>8}{'kept':>8}{'dropped':>9}  top reasons"]
    for s in stats["stages"]:
        top = ", ".join(f"{r} {n}" for r, n in list(s["dropped"].items())[:4])
        lines.append(f"{s['stage']:<11}{s['in']:>8}{s['kept']:>8}{s['dropped_total']:>9}  {top}")
    lines.append(f"languages kept: {stats.get('languages', {})}")
    lines.append(f"PII replaced: {stats.get('pii_found', {})}")
    tok = stats.get("tokenizer", {})
    if tok.get("bytes_per_token"):
        lines.append("tokenizer: " + ", ".join(
            f"{split} {bpt:.2f} bytes/token, byte fallback {tok['byte_fallback_rate'][split]:.2%}"
            for split, bpt in tok["bytes_per_token"].items()) + f" ({tok['held_out_split']} held out)")
    lines.append(f"tokens: {stats.get('tokens')}  accounting ok: {stats['accounting_ok']}")
    return "\n".join(lines)
