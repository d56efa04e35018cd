"""The job's options, checked before any work: `GristmillOptions` (Beam pipeline options)
and `JobConfig`, the validated settings every stage is built from.

`job_config(options)` raises UsageError with a one-line message for any mistake.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tarfile

from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from gristmill.transforms import dedup, extract, httpfs, langid, pii, read_warc, url_filter
from gristmill.transforms.shards import DEFAULT_SHARD_TOKENS
from gristmill.usage import UsageError

MIN_VOCAB = 512  # 256 byte-fallback pieces, 4 special ids, and room for the text's characters


class GristmillOptions(PipelineOptions):
    """The job's own options; every other flag is a Beam pipeline option."""

    @classmethod
    def _add_argparse_args(cls, parser):
        def a(name, **kw):  # --kebab-case, with Beam's --snake_case spelling as an alias
            snake = "--" + name[2:].replace("-", "_")
            parser.add_argument(*dict.fromkeys([name, snake]), dest=snake[2:], **kw)
        a("--input", action="append",
          help="WARC path or glob, gs://, s3:// or https:// URL, a warc.paths(.gz) list, or "
               "cc:CC-MAIN-YYYY-WW (that Common Crawl snapshot); repeatable")
        a("--max-files", type=int, default=0, help="read only the first N input files (0 = all)")
        a("--sample-files", type=int, default=0,
          help="read a seeded random sample of K input files, in listing order (0 = all)")
        a("--seed", type=int, default=0, help="seed of --sample-files")
        a("--cc-endpoint", default=read_warc.CC_ENDPOINT, help="where cc:CC-MAIN-YYYY-WW listings and files are")
        a("--http-retries", type=int, default=httpfs.RetryPolicy.retries,
          help="retries per http(s) input file (429/5xx, dropped connections), resuming at the byte reached")
        a("--http-backoff-s", type=float, default=httpfs.RetryPolicy.backoff_s,
          help="first wait before an http(s) retry, doubled each time, with jitter")
        a("--output", help="run directory (local or gs://); must not hold a finished run")
        a("--languages", default="en",
          help="comma-separated language codes to keep (ISO 639-1/-3 or BCP 47: nb, no and nor are the "
               "same); 'all' keeps every language")
        a("--lang-min-score", type=float, default=0.65, help="minimum language probability (FineWeb/DCLM)")
        a("--lang-min-scores", default="",
          help="per-language minimum probabilities overriding --lang-min-score, e.g. 'zh=0.5,no=0.4'")
        a("--langid-model", default="", help="fastText model (lid.176.bin, GlotLID); default: the bundled lid.176.ftz")
        a("--url-blocklist", action="append",
          help="blocked domains (and pages): a domain-per-line file, a UT1 blacklist folder or "
               ".tar.gz; repeatable or comma-separated; replaces the shipped list ('none': no list)")
        a("--url-blocklist-categories", default="adult",
          help="comma-separated categories read from a UT1 blacklist (adult,gambling,...)")
        a("--url-banned-words", default="", help="file of hard-banned URL words (replaces the shipped list)")
        a("--url-soft-banned-words", default="", help="file of soft-banned URL words (replaces the shipped list)")
        a("--url-banned-subwords", default="", help="file of banned URL subwords (replaces the shipped list)")
        a("--url-soft-banned-threshold", type=int, default=url_filter.UrlFilterConfig.soft_banned_threshold,
          help="a URL with this many different soft-banned words is dropped")
        a("--url-subword-scope", default="host", choices=url_filter.SUBWORD_SCOPES,
          help="where banned subwords are searched: the host, or the whole URL (datatrove)")
        a("--dedup-bands", type=int, default=dedup.DedupConfig.bands, help="MinHash LSH bands (FineWeb: 14)")
        a("--dedup-rows", type=int, default=dedup.DedupConfig.rows, help="rows per band (FineWeb: 8)")
        a("--dedup-threshold", type=float, default=0.0,
          help="derive bands and rows from this Jaccard threshold instead (datasketch's optimum, 112 permutations)")
        a("--dedup-verify", type=float, default=0.0,
          help="keep a candidate pair only if its estimated Jaccard reaches this (0 = off)")
        a("--dedup-ngram", type=int, default=dedup.DedupConfig.ngram, help="word n-grams (5)")
        a("--dedup-char-ngram", type=int, default=dedup.DedupConfig.char_ngram,
          help="character n-grams for text written without spaces (5)")
        a("--dedup-max-rounds", type=int, default=dedup.DedupConfig.max_rounds,
          help="large-star rounds of the connected components; a run not converged by then fails")
        a("--pii-entities", default=",".join(pii.DEFAULT_ENTITIES),
          help=f"comma-separated PII types to scrub, of {','.join(pii.PATTERN_ENTITIES)}")
        a("--pii-ner-model", default="",
          help="an installed spaCy model (en_core_web_lg) for PERSON and LOCATION; off by default (offline)")
        a("--pii-operator", default="replace", choices=pii.OPERATORS,
          help="replace: <TYPE>; mask: ****; hash: salted SHA-256 (needs --pii-salt); fake: a fixed value per type")
        a("--pii-salt", default=os.environ.get("GRISTMILL_PII_SALT", ""),
          help="salt of --pii-operator hash, at least 16 bytes (default: $GRISTMILL_PII_SALT); "
               "the manifest records its sha256 only")
        a("--pii-max-findings", type=int, default=0,
          help="drop a document with more PII findings than this as too_much_pii (0 = never)")
        a("--pii-score-threshold", type=float, default=pii.DEFAULT_SCORE_THRESHOLD,
          help="minimum presidio score of a finding")
        a("--max-record-bytes", type=int, default=read_warc.ReadConfig.max_record_bytes,
          help="larger records are rejected unread")
        a("--range-bytes", type=int, default=0,
          help="a .warc.gz larger than this is read in ranges of this size, spread over workers; "
               "0 = 64 MiB, or on a local runner about 8 ranges per worker (at least 1 MiB)")
        a("--warc-prefix", default=read_warc.CC_ENDPOINT, help="prefix for relative paths in a warc.paths list")
        a("--extract-mode", choices=("fast", "full"), default="fast",
          help="fast: trafilatura's fast pass, the full pass only where it looks like a miss "
               "(transforms/extract.py); full: the full pass on every page")
        a("--extract-timeout", type=float, default=extract.ExtractConfig.timeout_s,
          help="seconds per page for trafilatura, in a child process; 0 = in-process, no limit")
        a("--vocab-size", type=int, default=32000,
          help=f"BPE vocabulary (>= {MIN_VOCAB}); capped with a warning when the text cannot fill it")
        a("--tokenizer-model", default="", help="a sentencepiece .model to use instead of training one")
        a("--tokenizer-sample-docs", type=int, default=200_000,
          help="documents (smallest id hashes) the tokenizer trains on, at most")
        a("--tokenizer-threads", type=int, default=16,
          help="sentencepiece training threads: the model depends on this number, not on the machine")
        a("--tokenizer-sample-mb", type=float, default=32,
          help="MB of text the tokenizer trains on, at most (bounds the memory of its worker)")
        a("--val-fraction", type=float, default=0.01, help="share of documents in the val split (by id hash)")
        a("--shard-tokens", type=int, default=DEFAULT_SHARD_TOKENS,
          help="tokens per shard file on average: a split has ceil(its tokens / this) shards (default 2^27)")
        a("--split-by-language", action="store_true",
          help="one shard set per language: <lang>/<split>-NNNNN-of-MMMMM.tok, listed with their language")
        a("--tmp-dir", default="", help="local folder for the shard writers' spill files (default: the system's)")
        a("--max-error-rate", type=float, default=0.01,
          help="fail the run when a stage's error rejections exceed this share of its input")
        a("--run-id", default="", help="default: the output folder's name")
        a("--work-dir", default="",
          help="where the per-range checkpoints of ReadWarc..Quality and the ledger of processed "
               "inputs live, kept for later runs (a rerun or a run over more inputs reuses every "
               "finished range); default: <output>.work, removed when the run succeeds")
        a("--incremental", action="store_true",
          help="the same as --work-dir <the output's parent>/work: runs written side by side "
               "(runs/2026-47, runs/2026-48) share their checkpoints and ledger")
        a("--promote", action="store_true",
          help="after the run: verify it and, if that passes, point <the output's parent>/latest at it")


@dataclasses.dataclass(frozen=True)
class JobConfig:
    output: str
    inputs: tuple[str, ...]      # the expanded input list (a file's index is its position)
    run_id: str
    read: read_warc.ReadConfig
    extract_timeout: float
    extract_mode: str
    languages: tuple[str, ...]   # () = all
    lang_min_score: float
    lang_min_scores: tuple
    langid_model: str
    url_filter: url_filter.UrlFilterConfig
    dedup: dedup.DedupConfig
    pii: pii.PiiConfig
    vocab_size: int
    tokenizer_model: str
    tokenizer_sample_docs: int
    tokenizer_sample_mb: float
    tokenizer_threads: int
    val_fraction: float
    shard_tokens: int
    tmp_dir: str
    split_by_language: bool
    max_error_rate: float
    work_dir: str = ""            # per-range checkpoints and the ledger ("" = none)
    keep_work: bool = True        # False: the default <output>.work, removed after success
    input_sizes: tuple[int, ...] = ()  # as listed (-1: a URL from a listing)

    def recorded(self) -> dict:
        """The settings that decide the output (manifest, shard headers, config digest)."""
        return {"languages": ",".join(self.languages) or "all", "lang_min_score": self.lang_min_score,
                "lang_min_scores": ",".join(f"{c}={v:g}" for c, v in self.lang_min_scores),
                "langid_model": self.langid_model, **_url_recorded(self.url_filter),
                **{f"dedup_{k}": v for k, v in dataclasses.asdict(self.dedup).items() if k != "batch"},
                "pii_entities": ",".join(self.pii.entities), "pii_operator": self.pii.operator,
                "pii_salt_sha256": hashlib.sha256(self.pii.salt.encode()).hexdigest() if self.pii.salt else "",
                "pii_max_findings": self.pii.max_findings, "pii_score_threshold": self.pii.score_threshold,
                "pii_nlp_configuration": self.pii.nlp_configuration,
                "max_record_bytes": self.read.max_record_bytes, "extract_timeout": self.extract_timeout,
                "extract_mode": self.extract_mode,
                "vocab_size": self.vocab_size, "tokenizer_model": self.tokenizer_model,
                "tokenizer_sample_docs": self.tokenizer_sample_docs,
                "tokenizer_sample_mb": self.tokenizer_sample_mb, "tokenizer_threads": self.tokenizer_threads, "val_fraction": self.val_fraction,
                "shard_tokens": self.shard_tokens, "split_by_language": self.split_by_language,
                "max_error_rate": self.max_error_rate}


    def per_document(self) -> dict:
        """The settings that decide what ReadWarc..MinHash make of an input file (the
        checkpoints' key), with the code version."""
        from gristmill import __version__
        from gristmill.transforms.quality import DEFAULT_CONFIG
        keep = ("url_", "lang", "max_record_bytes", "extract_")
        thresholds = json.dumps(dataclasses.asdict(DEFAULT_CONFIG), sort_keys=True, default=sorted)
        d = self.dedup  # what a signature depends on
        return {"version": __version__, "quality": hashlib.sha256(thresholds.encode()).hexdigest(),
                "minhash": [d.ngram, d.char_ngram, d.bands, d.rows, d.seed],
                **{k: v for k, v in self.recorded().items() if k.startswith(keep)}}


def _url_recorded(cfg: url_filter.UrlFilterConfig) -> dict:
    def paths(spec):
        return "shipped" if spec is None else ",".join(spec) or "none"
    return {"url_blocklist": paths(cfg.blocklist), "url_blocklist_categories": ",".join(cfg.blocklist_categories),
            "url_banned_words": paths(cfg.banned_words), "url_soft_banned_words": paths(cfg.soft_banned_words),
            "url_banned_subwords": paths(cfg.banned_subwords),
            "url_soft_banned_threshold": cfg.soft_banned_threshold, "url_subword_scope": cfg.subword_scope}


def _url_filter_config(o) -> url_filter.UrlFilterConfig:
    """The UrlFilter settings, with every list loaded once here so a bad path or UT1
    category is a one-line error before any work (workers load them again)."""
    def spec(value):
        return (value,) if value else None
    blocklist = None
    if o.url_blocklist:
        blocklist = tuple(p.strip() for v in o.url_blocklist for p in v.split(",") if p.strip())
        blocklist = () if blocklist == ("none",) else blocklist
        for path in blocklist:
            _need(FileSystems.exists(path) or os.path.isdir(path), f"--url-blocklist {path}: no such file or folder")
    for flag, value in (("--url-banned-words", o.url_banned_words), ("--url-soft-banned-words", o.url_soft_banned_words),
                        ("--url-banned-subwords", o.url_banned_subwords)):
        _file(value, flag)
    try:
        cfg = url_filter.UrlFilterConfig(
            blocklist=blocklist, blocklist_categories=o.url_blocklist_categories.split(","),
            banned_words=spec(o.url_banned_words), soft_banned_words=spec(o.url_soft_banned_words),
            banned_subwords=spec(o.url_banned_subwords), soft_banned_threshold=o.url_soft_banned_threshold,
            subword_scope=o.url_subword_scope)
        url_filter.UrlFilter(cfg)
    except (ValueError, OSError, EOFError, tarfile.TarError) as e:
        raise UsageError(f"--url-blocklist: {e}") from None
    return cfg


def _need(ok: bool, message: str) -> None:
    if not ok:
        raise UsageError(message)


def _file(path: str, flag: str) -> str:
    if path:
        _need(FileSystems.exists(path), f"{flag} {path}: no such file")
    return path


def job_config(o: GristmillOptions, local_workers: int | None = None) -> JobConfig:
    """Check every option (cheap checks first) and expand the inputs; UsageError if wrong.

    `local_workers`: the worker processes of a local runner (sizes the input ranges)."""
    FileSystems.set_options(o)  # s3:// endpoint and keys, before any input is listed
    _need(bool(o.input) and bool(o.output), "--input and --output are required")
    _need(0 <= o.lang_min_score <= 1, f"--lang-min-score {o.lang_min_score}: must be within [0, 1]")
    _need(o.vocab_size >= MIN_VOCAB or bool(o.tokenizer_model),
          f"--vocab-size {o.vocab_size}: must be at least {MIN_VOCAB} (256 byte-fallback pieces, "
          "4 special ids and the text's characters)")
    _need(o.vocab_size < 1 << 32, f"--vocab-size {o.vocab_size}: must be below 2^32")
    _need(0 <= o.val_fraction < 1, f"--val-fraction {o.val_fraction}: must be within [0, 1)")
    _need(o.shard_tokens >= 1, f"--shard-tokens {o.shard_tokens}: must be >= 1")
    _need(0 <= o.max_error_rate <= 1, f"--max-error-rate {o.max_error_rate}: must be within [0, 1]")
    _need(o.extract_timeout >= 0, f"--extract-timeout {o.extract_timeout}: must be >= 0")
    _need(o.max_record_bytes > 0, f"--max-record-bytes {o.max_record_bytes}: must be > 0")
    _need(o.range_bytes == 0 or o.range_bytes >= 1 << 16,
          f"--range-bytes {o.range_bytes}: must be 0 (auto) or at least 65536")
    _need(o.tokenizer_sample_docs >= 1, "--tokenizer-sample-docs must be >= 1")
    _need(o.max_files >= 0, f"--max-files {o.max_files}: must be >= 0")
    _need(o.sample_files >= 0, f"--sample-files {o.sample_files}: must be >= 0")
    _need(o.http_retries >= 0, f"--http-retries {o.http_retries}: must be >= 0")
    _need(o.http_backoff_s >= 0, f"--http-backoff-s {o.http_backoff_s}: must be >= 0")
    _need(o.tokenizer_sample_mb > 0, "--tokenizer-sample-mb must be > 0")
    _need(1 <= o.tokenizer_threads <= 1024, f"--tokenizer-threads {o.tokenizer_threads}: must be within [1, 1024]")
    _need(o.url_soft_banned_threshold >= 1, f"--url-soft-banned-threshold {o.url_soft_banned_threshold}: must be >= 1")
    url_cfg = _url_filter_config(o)
    try:
        kw = dict(verify=o.dedup_verify, ngram=o.dedup_ngram, char_ngram=o.dedup_char_ngram,
                  max_rounds=o.dedup_max_rounds)
        _need(0 <= o.dedup_threshold < 1, f"--dedup-threshold {o.dedup_threshold}: must be within [0, 1)")
        dedup_cfg = (dedup.DedupConfig.for_threshold(o.dedup_threshold, **kw) if o.dedup_threshold
                     else dedup.DedupConfig(bands=o.dedup_bands, rows=o.dedup_rows, **kw))
    except ValueError as e:
        raise UsageError(f"--dedup: {e}") from None
    entities = tuple(dict.fromkeys(e.strip() for e in o.pii_entities.split(",") if e.strip()))
    ner = None
    if o.pii_ner_model:
        ner = pii.ner_configuration(o.pii_ner_model)
        try:
            pii.check_ner_models(ner)
        except ValueError as e:
            raise UsageError(f"--pii-ner-model: {e}") from None
        entities = tuple(dict.fromkeys(entities + ("PERSON", "LOCATION")))
    unknown = [e for e in entities if e not in pii.PATTERN_ENTITIES and not (ner and e in ("PERSON", "LOCATION"))]
    _need(bool(entities) and not unknown, f"--pii-entities: unknown {','.join(unknown) or '(none given)'}; "
          f"the pattern types are {','.join(pii.PATTERN_ENTITIES)}")
    _need(o.pii_max_findings >= 0, f"--pii-max-findings {o.pii_max_findings}: must be >= 0")
    try:
        from presidio_anonymizer.entities import OperatorConfig
        pii.operators(o.pii_operator, o.pii_salt or None, entities, OperatorConfig)
    except ValueError as e:
        raise UsageError(f"--pii-operator {o.pii_operator}: {e}") from None
    pii_cfg = pii.PiiConfig(entities=entities, score_threshold=o.pii_score_threshold, operator=o.pii_operator,
                            salt=o.pii_salt or None, max_findings=o.pii_max_findings,
                            nlp_configuration=json.dumps(ner) if ner else "")
    _file(o.langid_model, "--langid-model")
    if _file(o.tokenizer_model, "--tokenizer-model"):
        from gristmill.transforms.tokenizer import load_processor
        try:
            with FileSystems.open(o.tokenizer_model) as f:
                load_processor(f.read())
        except Exception as e:
            raise UsageError(f"--tokenizer-model {o.tokenizer_model}: not a sentencepiece model ({e})")
    languages = () if o.languages == "all" else tuple(
        dict.fromkeys(langid.canonical(x) for x in o.languages.split(",") if x.strip()))
    _need(o.languages == "all" or bool(languages), "--languages: give language codes (en,de) or 'all'")
    min_scores = []
    for item in (x.strip() for x in o.lang_min_scores.split(",") if x.strip()):
        code, _, value = item.partition("=")
        try:
            score = float(value)
        except ValueError:
            score = -1.0
        _need(bool(code.strip()) and 0 <= score <= 1,
              f"--lang-min-scores {item!r}: give code=score with the score within [0, 1]")
        min_scores.append((langid.canonical(code), score))
    named = languages + tuple(c for c, _ in min_scores)
    if named:
        known = langid.labels(langid.load_model(o.langid_model))
        unknown = [x for x in dict.fromkeys(named) if x not in known]
        _need(not unknown, f"--languages/--lang-min-scores: the language model has no label {','.join(unknown)} "
                           f"(it knows {len(known)}, e.g. en, de, fr, zh, ja)")
    out = o.output.rstrip("/")
    _need(not (o.work_dir and o.incremental), "--work-dir and --incremental: give one of them")
    parent = out.rsplit("/", 1)[0] if "/" in out else "."
    work = (o.work_dir.rstrip("/") or (f"{parent}/work" if o.incremental else f"{out}.work"))
    _need(not FileSystems.exists(f"{out}/manifest.json"),
          f"{out} already holds a finished run (manifest.json); choose a new --output")
    try:
        inputs = read_warc.list_inputs(o.input, o.warc_prefix, o.cc_endpoint, o.max_files,
                                       o.sample_files, o.seed)
    except (FileNotFoundError, ValueError) as e:
        raise UsageError(f"--input: {e}") from None
    except Exception as e:
        raise UsageError(f"--input: cannot list {o.input}: {type(e).__name__}: {e}") from None
    return JobConfig(
        output=out, inputs=tuple(inputs), run_id=o.run_id or os.path.basename(out),
        read=read_warc.ReadConfig(max_record_bytes=o.max_record_bytes, range_bytes=o.range_bytes or
                                  read_warc.auto_range_bytes(read_warc.known_bytes(inputs.values()), local_workers)),
        extract_timeout=o.extract_timeout, extract_mode=o.extract_mode, languages=languages, lang_min_score=o.lang_min_score,
        lang_min_scores=tuple(min_scores),
        langid_model=o.langid_model, url_filter=url_cfg, dedup=dedup_cfg, pii=pii_cfg, vocab_size=o.vocab_size,
        tokenizer_model=o.tokenizer_model, tokenizer_sample_docs=o.tokenizer_sample_docs,
        tokenizer_sample_mb=o.tokenizer_sample_mb, tokenizer_threads=o.tokenizer_threads,
        val_fraction=o.val_fraction, shard_tokens=o.shard_tokens, tmp_dir=o.tmp_dir,
        split_by_language=o.split_by_language,
        max_error_rate=o.max_error_rate, work_dir=work, keep_work=bool(o.work_dir or o.incremental),
        input_sizes=tuple(inputs.values()))
