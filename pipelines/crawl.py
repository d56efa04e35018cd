"""The main job: WARC files -> cleaned, deduplicated, tokenized shards in a run directory.

    ReadWarc - UrlFilter - Extract - LangId - Quality - MinHash ═ UrlDedup ═ MinHashDedup - PiiScrub
      - TrainTokenizer - Tokenize ═ WriteShards (+ docs/*.parquet) - Finish (stats, manifest)

ReadWarc spreads byte ranges of the inputs over the workers; everything up to
UrlDedup's shuffle (═) runs fused on the worker that read the range, so HTML never
crosses a shuffle. Every stage returns (kept, rejected, counts); rejected records go to
rejected/, the per-bundle counts to stats.json, and so do the seconds each stage's own
functions took (`stage_times`).
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

import gristmill
from gristmill.pipelines import run_files
from gristmill.pipelines.options import JobConfig
from gristmill.transforms import (checkpoint, dedup, extract, langid, pii, quality, read_warc, tokenizer,
                                  url_dedup, url_filter)
from gristmill.transforms.shards import WriteShards
from gristmill.transforms.stage import StageOutputs


def build(p: beam.Pipeline, cfg: JobConfig) -> dict:
    """Compose the whole job on pipeline p; return its main PCollections (for tests)."""
    recorded = {"inputs": list(cfg.inputs), **cfg.recorded()}
    digest = hashlib.sha256(json.dumps(recorded, sort_keys=True).encode()).hexdigest()
    inputs_file = f"{cfg.output}/inputs.jsonl"
    read_warc.write_inputs_file(inputs_file, list(cfg.inputs))
    plan_file, reused = write_plan(cfg) if cfg.work_dir else (inputs_file, {})

    read = p | "ReadWarc" >> read_warc.ReadWarc(plan_file, cfg.read)
    outputs = {"ReadWarc": read}
    docs = read.kept
    for label, stage in [
        ("UrlFilter", url_filter.UrlFilterStage(cfg.url_filter)),
        ("Extract", extract.Extract(extract.ExtractConfig(
            timeout_s=cfg.extract_timeout, fast=cfg.extract_mode == "fast"))),
        ("LangId", langid.LangId(langid.LangIdConfig(
            cfg.languages, cfg.lang_min_score, cfg.langid_model, cfg.lang_min_scores))),
        ("Quality", quality.Quality()),
        ("MinHash", dedup.MinHash(cfg.dedup)),
        ("Replayed", None),  # the survivors (with signatures) that checkpoints hold join here
        ("UrlDedup", url_dedup.UrlDedup()),
        ("MinHashDedup", dedup.MinHashDedup(cfg.dedup)),
        ("PiiScrub", pii.PiiScrub(cfg.pii)),
    ]:
        if stage is None:
            replayed = StageOutputs(*read.replayed)
            docs = (docs, replayed.kept) | "WithReplayed" >> beam.Flatten()
            outputs[label] = replayed
            continue
        outputs[label] = docs | label >> stage
        docs = outputs[label].kept
    trained = docs | "TrainTokenizer" >> tokenizer.TrainTokenizer(tokenizer.TokenizerConfig(
        vocab_size=cfg.vocab_size, model_path=cfg.tokenizer_model, sample_docs=cfg.tokenizer_sample_docs,
        sample_bytes=int(cfg.tokenizer_sample_mb * 1e6), val_fraction=cfg.val_fraction,
        num_threads=cfg.tokenizer_threads))
    model = trained.model
    outputs["WriteShards"] = docs | "WriteShards" >> WriteShards(
        cfg.output, cfg.shard_tokens, cfg.val_fraction, model, read.inputs,
        {"run_id": cfg.run_id, "config_sha256": digest}, cfg.tmp_dir, cfg.split_by_language)
    shards = outputs["WriteShards"].kept

    rejected = [o.rejected for o in outputs.values()] | "AllRejected" >> beam.Flatten()
    rejected_files = rejected | "WriteRejected" >> run_files.WriteRejected(cfg.output)
    counts = ([o.counts for o in outputs.values()]
              | "AllCounts" >> beam.Flatten()
              | "MergeCounts" >> beam.CombineGlobally(run_files.MergeCounts()))
    # each stage's own wall and CPU seconds, apart from the counts (stats.json "stage_times")
    times = ([o.times for o in outputs.values() if o.times is not None] + [trained.times]
             | "AllTimes" >> beam.Flatten()
             | "MergeTimes" >> beam.CombineGlobally(run_files.MergeCounts()))
    AsOne, AsList = beam.pvalue.AsSingleton, beam.pvalue.AsList
    _ = (p
         | "Done" >> beam.Create([None])
         | "Finish" >> beam.Map(
             run_files.finish, out=cfg.output, run_id=cfg.run_id, version=code_version(),
             config=recorded, config_sha256=digest, max_error_rate=cfg.max_error_rate,
             counts=AsOne(counts), shards=AsList(shards), inputs=AsList(read.inputs),
             model=AsOne(model), rejected_files=AsList(rejected_files),
             token_totals=AsOne(outputs["WriteShards"].report), times=AsOne(times),
             ledger=(cfg.work_dir, plan_file) if cfg.work_dir and cfg.keep_work else ()))
    return {"kept": {label: o.kept for label, o in outputs.items() if label not in ("WriteShards", "Replayed")},
            "rejected": rejected, "shards": shards, "inputs": read.inputs, "counts": counts,
            "reused": reused}


def write_plan(cfg: JobConfig) -> tuple[str, dict]:
    """<work>/plans/<run id>.jsonl: each input with its checkpoint folder and the ranges
    checkpointed there by earlier runs (what ReadWarc replays instead of reading); the
    partial files a killed run left are deleted first. Returns (the file, {input index:
    checkpointed ranges}) for the log."""
    work = cfg.work_dir
    checkpoint.remove_partial(work)
    found = checkpoint.existing(work)
    digest = hashlib.sha256(json.dumps(cfg.per_document(), sort_keys=True).encode()).hexdigest()
    plan_file = f"{work}/plans/{cfg.run_id}.jsonl"
    reused = {}
    with FileSystems.create(plan_file) as f:
        for i, (path, size) in enumerate(zip(cfg.inputs, cfg.input_sizes)):
            key = checkpoint.input_key(path, size, digest)
            done = found.get(key, [])
            if done:
                reused[i] = done
            f.write(json.dumps({"input": i, "path": path, "size": size, "key": key,
                                "folder": f"{work}/{key}", "done": done}).encode() + b"\n")
    return plan_file, reused

def code_version() -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        sha = subprocess.run(["git", "-C", here, "rev-parse", "--short", "HEAD"], check=True,
                             capture_output=True, text=True, timeout=5).stdout.strip()
        return f"{gristmill.__version__}+g{sha}"
    except Exception:
        return gristmill.__version__
