"""The main job: WARC files -> cleaned, deduplicated, tokenized shards in a run directory.

    ReadWarc - UrlFilter - Extract - LangId - Quality ═ UrlDedup ═ MinHashDedup - PiiScrub
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

import gristmill
from gristmill.pipelines import run_files
from gristmill.pipelines.options import JobConfig
from gristmill.transforms import (dedup, extract, langid, pii, quality, read_warc, tokenizer, url_dedup,
                                  url_filter)
from gristmill.transforms.shards import WriteShards


def build(p: beam.Pipeline, cfg: JobConfig) -> dict:
    """Compose the whole job on pipeline p; return its main PCollections (for tests)."""
    recorded = {"inputs": list(cfg.inputs), **cfg.recorded()}
    digest = hashlib.sha256(json.dumps(recorded, sort_keys=True).encode()).hexdigest()
    inputs_file = f"{cfg.output}/inputs.jsonl"
    read_warc.write_inputs_file(inputs_file, list(cfg.inputs))

    read = p | "ReadWarc" >> read_warc.ReadWarc(inputs_file, cfg.read)
    outputs = {"ReadWarc": read}
    docs = read.kept
    for label, stage in [
        ("UrlFilter", url_filter.UrlFilterStage(cfg.url_filter)),
        ("Extract", extract.Extract(extract.ExtractConfig(
            timeout_s=cfg.extract_timeout, fast=cfg.extract_mode == "fast"))),
        ("LangId", langid.LangId(langid.LangIdConfig(
            cfg.languages, cfg.lang_min_score, cfg.langid_model, cfg.lang_min_scores))),
        ("Quality", quality.Quality()),
        ("UrlDedup", url_dedup.UrlDedup()),
        ("MinHashDedup", dedup.MinHashDedup(cfg.dedup)),
        ("PiiScrub", pii.PiiScrub(cfg.pii)),
    ]:
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
    times = ([o.times for o in outputs.values()] + [trained.times]
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
             token_totals=AsOne(outputs["WriteShards"].report), times=AsOne(times)))
    return {"kept": {label: o.kept for label, o in outputs.items() if label != "WriteShards"},
            "rejected": rejected, "shards": shards, "inputs": read.inputs, "counts": counts}


def code_version() -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        sha = subprocess.run(["git", "-C", here, "rev-parse", "--short", "HEAD"], check=True,
                             capture_output=True, text=True, timeout=5).stdout.strip()
        return f"{gristmill.__version__}+g{sha}"
    except Exception:
        return gristmill.__version__
