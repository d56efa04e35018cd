"""Tokenize + WriteShards: documents -> `.tok` files and the metadata table
(`docs/<split>-NNNNN-of-MMMMM.parquet`, one file per shard).

    Tokenize ─┬─ KeyByShard ═ GroupByShard ═ WriteShard ─┬─ AllShards
              └─ TokenTotals (per split) ─ NumShards ────┘ (+ empty shards)

Tokenize loads the tokenizer once per worker and encodes the documents of a bundle in
batches (sentencepiece's thread pool): `[BOS] ids [EOS]`, uint16 when the vocabulary
fits (else uint32), the text dropped; a document that yields no token is rejected as
`no_tokens`. Only tokens and metadata cross the shuffle.

The number of shards of a split is ceil(its tokens / `shard_tokens`) (at least 1): a
shard holds `shard_tokens` on average whatever the size of the crawl. A document's
split and shard come from hashes of its id, so the layout does not depend on the
workers. WriteShard streams: the shard's documents are spilled to a local temporary
file as they arrive (only id, offset and length, 32 bytes per document, stay in
memory), sorted by id, and read back in that order into the payload file (tokens at
their width, crc32 on the way) and the Parquet writer (row groups of ROW_GROUP rows);
then the `.tok` is written front to back. Documents are never split.

With `by_language` (`--split-by-language`) every language gets its own shard sets:
the set of a document is `<lang>/<split>`, so its files are
`<lang>/<split>-NNNNN-of-MMMMM.tok` (and `docs/<lang>/...parquet`), numbered and
counted per language; a language with documents gets a train and a val set. The
manifest lists them under their split with a `language` field.

Every shard of the derived count is written, empty ones too. Each file is written under
a temporary name unique to the attempt (`<name>.<random>.inprogress`) and renamed when
complete, so a retried or speculative attempt never writes into another's file.
"""
from __future__ import annotations

import array
import collections
import hashlib
import math
import os
import shutil
import tempfile
import uuid
from typing import NamedTuple

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from apache_beam.transforms.window import GlobalWindows

from gristmill import tokfile
from gristmill.transforms.document import PII_TYPES, QUALITY_SIGNALS, Document, DocumentCoder, Rejection, encoded_id
from gristmill.transforms.stage import COUNTS, KEPT, REJECTED, TIMES, Counted
from gristmill.transforms.tokenizer import encode_docs, load_processor, model_info, shard_of, split_of

STAGE = "tokenize"
WRITE_STAGE = "write_shards"  # not a stage of the funnel (it drops nothing): its times only

METADATA_DIR = "docs"
CODER = DocumentCoder()
METADATA_SCHEMA = pa.schema(
    [("id", pa.string()), ("url", pa.string()), ("warc_file", pa.string()), ("input", pa.int32()),
     ("offset", pa.int64()), ("inner_offset", pa.int64()), ("length", pa.int64()), ("date", pa.string()),
     ("charset", pa.string()), ("lang", pa.string()), ("lang_score", pa.float32())]
    + [(f"q_{s}", pa.float32()) for s in QUALITY_SIGNALS]
    + [("cluster_size", pa.int32())]
    + [(f"pii_{t.lower()}", pa.int32()) for t in PII_TYPES] + [("pii_other", pa.int32())]
    + [("num_tokens", pa.int64()), ("split", pa.string()), ("shard", pa.int32()),
       ("position", pa.int64())])


DEFAULT_SHARD_TOKENS = 1 << 27  # 134M tokens: 256 MiB of uint16 payload per shard
ROW_GROUP = 8192                # metadata rows buffered before a Parquet row group is written
BATCH_DOCS = 256                # documents per sentencepiece batch
REPORT = "report"               # Tokenize's per-bundle token totals


class _HashingWriter:
    def __init__(self, raw):
        self.raw, self.sha256 = raw, hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.sha256.update(data)
        self.raw.write(data)


def write_renamed(path: str, write) -> str:
    """write(file) into a temporary name unique to this attempt, then rename to path;
    return the sha256 of the bytes."""
    tmp = f"{path}.{uuid.uuid4().hex}.inprogress"
    raw = FileSystems.create(tmp)
    out = _HashingWriter(raw)
    try:
        write(out)
    except BaseException:
        raw.close()
        FileSystems.delete([tmp])
        raise
    raw.close()
    if FileSystems.exists(path):
        FileSystems.delete([path])
    FileSystems.rename([tmp], [path])
    return out.sha256.hexdigest()


def metadata_columns(docs: list[Document], paths: dict, split: str, shard: int, first: int) -> dict:
    """METADATA_SCHEMA columns of documents at positions first, first+1, ... of a shard."""
    cols = {
        "id": [d.id.hex() for d in docs], "url": [d.url for d in docs],
        "warc_file": [paths.get(d.input, "") for d in docs], "input": [d.input for d in docs],
        "offset": [d.offset for d in docs], "inner_offset": [d.inner for d in docs],
        "length": [d.length for d in docs],
        "date": [d.date for d in docs], "charset": [d.charset for d in docs],
        "lang": [d.lang for d in docs], "lang_score": [d.lang_score for d in docs]}
    for s in QUALITY_SIGNALS:
        cols[f"q_{s}"] = [d.quality.get(s) for d in docs]
    cols["cluster_size"] = [d.cluster_size for d in docs]
    for t in PII_TYPES:
        cols[f"pii_{t.lower()}"] = [d.pii.get(t, 0) for d in docs]
    cols["pii_other"] = [sum(n for t, n in d.pii.items() if t not in PII_TYPES) for d in docs]
    cols["num_tokens"] = [int(d.tokens.size) for d in docs]
    cols["split"] = [split] * len(docs)
    cols["shard"] = [shard] * len(docs)
    cols["position"] = list(range(first, first + len(docs)))
    return cols


class _Spill:
    """Encoded documents appended to a local temporary file in arrival order; `sorted()`
    reads them back in order of id. Memory: 32 bytes per document."""

    def __init__(self, dir: str):
        self.file = tempfile.TemporaryFile(dir=dir)
        self.ids, self.spans = bytearray(), array.array("Q")
        self.end = 0

    def add(self, encoded: bytes, doc_id: bytes) -> None:
        self.file.write(encoded)
        self.ids += doc_id
        self.spans.extend((self.end, len(encoded)))
        self.end += len(encoded)

    def sorted(self):
        self.file.flush()
        ids = np.frombuffer(bytes(self.ids), dtype="S16")
        spans = np.frombuffer(self.spans, dtype=np.uint64).reshape(-1, 2) if self.spans else np.zeros((0, 2))
        fd = self.file.fileno()
        for i in np.argsort(ids, kind="stable"):
            yield CODER.decode(os.pread(fd, int(spans[i, 1]), int(spans[i, 0])))

    def close(self) -> None:
        self.file.close()


def set_of(doc: Document, val_fraction: float, by_language: bool) -> str:
    """The shard set of a document: its split, or `<lang>/<split>` with by_language."""
    split = split_of(doc.id, val_fraction)
    return f"{doc.lang or 'und'}/{split}" if by_language else split


def write_one_shard(output_dir: str, shard_set: str, shard: int, num_shards: int, encoded, model: bytes,
                    meta: dict, paths: dict, tmp_dir: str = "") -> dict:
    """Write one shard file and its metadata file from the shard's documents (encoded
    bytes with tokens, any order, any number: they are spilled to `tmp_dir`, never all
    held); return its manifest entry. `shard_set` is a split or `<lang>/<split>`."""
    info = model_info(model)
    language, _, split = shard_set.rpartition("/")
    name = tokfile.shard_name(shard_set, shard, num_shards)
    langs, pii_found = collections.Counter(), collections.Counter()
    with tempfile.TemporaryDirectory(dir=tmp_dir or None, prefix="gristmill-shard-") as tmp:
        spill = _Spill(tmp)
        for e in encoded:
            spill.add(e, encoded_id(e))
        table_tmp = os.path.join(tmp, "metadata.parquet")
        with tokfile.PayloadFile(info["vocab_size"], dir=tmp) as payload, \
                pq.ParquetWriter(table_tmp, METADATA_SCHEMA, compression="zstd") as table:
            rows: list[Document] = []

            def flush_rows() -> None:
                first = len(payload.lengths) - len(rows)
                table.write_table(pa.table(metadata_columns(rows, paths, split, shard, first),
                                           schema=METADATA_SCHEMA))
                rows.clear()

            for doc in spill.sorted():
                try:
                    payload.add(doc.tokens)
                except ValueError as e:
                    raise ValueError(f"shard {name}: document {doc.id.hex()}: {e}") from None
                langs[doc.lang] += 1
                pii_found.update(doc.pii)
                rows.append(doc)
                if len(rows) >= ROW_GROUP:
                    flush_rows()
            if rows or not payload.lengths:
                flush_rows()
            spill.close()
            summary = {}

            def write_tokens(out):
                summary.update(payload.write_shard(
                    out, bos_id=info["bos_id"], eos_id=info["eos_id"], pad_id=info["pad_id"],
                    tokenizer_sha256=info["sha256"], shard_id=shard, num_shards=num_shards, meta=meta))

            sha = write_renamed(FileSystems.join(output_dir, name), write_tokens)
        table_name = f"{METADATA_DIR}/{name.removesuffix('.tok')}.parquet"

        def write_metadata(out):
            with open(table_tmp, "rb") as f:
                shutil.copyfileobj(f, out, 1 << 20)

        write_renamed(FileSystems.join(output_dir, table_name), write_metadata)
    return {"set": shard_set, "split": split, **({"language": language} if language else {}), "shard": shard,
            "path": name, "metadata": table_name,
            "num_tokens": summary["num_tokens"], "num_docs": summary["num_docs"], "sha256": sha,
            "payload_crc32": summary["payload_crc32"],
            "languages": dict(sorted(langs.items())), "pii_found": dict(sorted(pii_found.items()))}


class Tokenize(Counted):
    """Documents -> documents with tokens and no text (`no_tokens` rejected), per-bundle
    counts, and per-bundle token totals per shard set on REPORT: {set: [text bytes,
    tokens between BOS and EOS, byte-fallback tokens, total tokens]}. The tokenizer is
    loaded once per worker; a bundle's documents are encoded BATCH_DOCS at a time."""

    def __init__(self, val_fraction: float, batch: int = BATCH_DOCS, by_language: bool = False):
        super().__init__(STAGE)
        self.val_fraction, self.batch, self.by_language = val_fraction, batch, by_language
        self._sp, self._model = None, None

    def start_bundle(self):
        super().start_bundle()
        self._pending: list[Document] = []
        self._totals = collections.defaultdict(lambda: [0, 0, 0, 0])

    def process(self, doc: Document, model: bytes):
        if model is not self._model:  # the side input is one object per worker: load once
            with self.timing():
                self._sp, self._model = load_processor(model), model
                self._is_byte = np.array([self._sp.IsByte(i) for i in range(self._sp.vocab_size())])
        self._pending.append(doc)
        if len(self._pending) >= self.batch:
            yield from self._encode()

    def _encode(self):
        docs, self._pending = self._pending, []
        for item in self.timed(self._encoded(docs)):
            yield from self.route(item)

    def _encoded(self, docs):
        """Rejections and encoded documents (routed and timed by `_encode`)."""
        if not docs:
            return
        for doc, ids in zip(docs, encode_docs(self._sp, [d.text for d in docs])):
            if ids.size <= 2:
                yield Rejection.of(doc, STAGE, "no_tokens")
                continue
            t = self._totals[set_of(doc, self.val_fraction, self.by_language)]
            t[0] += len(doc.text.encode("utf-8", "surrogatepass"))
            t[1] += ids.size - 2
            t[2] += int(np.count_nonzero(self._is_byte[ids[1:-1]]))
            t[3] += ids.size
            doc.text, doc.tokens = "", ids
            yield doc

    def finish_bundle(self):
        for item in self._encode():
            yield item if isinstance(item, beam.pvalue.TaggedOutput) else GlobalWindows.windowed_value(item)
        if self._totals:
            yield beam.pvalue.TaggedOutput(REPORT, GlobalWindows.windowed_value(dict(self._totals)))
        yield from super().finish_bundle()


def _sum_totals(parts) -> dict:
    out: dict = {}
    for part in parts:
        for split, t in part.items():
            out[split] = [a + b for a, b in zip(out.get(split, [0, 0, 0, 0]), t)]
    return out


def num_shards(totals: dict, shard_tokens: int) -> dict:
    """Shards per set: ceil(tokens / shard_tokens), at least 1; every split (of every
    language, with by_language) has a set."""
    prefixes = {name.rpartition("/")[0] for name in totals} or {""}
    sets = [f"{p}/{split}" if p else split for p in sorted(prefixes) for split in ("train", "val")]
    return {name: max(1, math.ceil(totals.get(name, [0] * 4)[3] / shard_tokens)) for name in sets}


def split_totals(totals: dict) -> dict:
    """Tokenize's totals per set summed per split."""
    return _sum_totals({name.rpartition("/")[2]: t} for name, t in totals.items())


class WriteShard(Counted):
    """((set, shard), encoded documents) -> the shard's manifest entry. It counts
    nothing (Tokenize did); its time goes out as `write_shards`' on the times output."""

    def __init__(self, output_dir: str, meta: dict, tmp_dir: str = ""):
        super().__init__(WRITE_STAGE)
        self.output_dir, self.meta, self.tmp_dir = output_dir, meta, tmp_dir

    def process(self, kv, model, inputs, shards):
        (split, shard), encoded = kv
        paths = {i["input"]: i["path"] for i in inputs}
        with self.timing():
            entry = write_one_shard(self.output_dir, split, shard, shards[split], encoded, model, self.meta,
                                    paths, self.tmp_dir)
        yield entry


class ShardOutputs(NamedTuple):
    kept: beam.PCollection      # one manifest entry (dict) per shard file
    rejected: beam.PCollection  # Rejection (no_tokens)
    counts: beam.PCollection    # (stage, counts) per bundle
    report: beam.PCollection    # singleton {set: [text bytes, tokens, byte-fallback tokens, total tokens]}
    times: beam.PCollection = None  # (stage, {"wall_s", "cpu_s"}) per bundle: tokenize, write_shards


class WriteShards(beam.PTransform):
    """Documents -> ShardOutputs.

    `model` is the singleton PCollection of tokenizer bytes (b"" when nothing survived:
    then no shard is written), `inputs` the run's input entries (for the WARC paths).
    """

    def __init__(self, output_dir: str, shard_tokens: int, val_fraction: float, model, inputs, meta: dict,
                 tmp_dir: str = "", by_language: bool = False):
        super().__init__()
        self.output_dir, self.shard_tokens, self.val_fraction = output_dir, shard_tokens, val_fraction
        self.model, self.inputs, self.meta, self.tmp_dir = model, inputs, meta, tmp_dir
        self.by_language = by_language

    def expand(self, docs) -> ShardOutputs:
        out_dir, meta, val, shard_tokens = self.output_dir, self.meta, self.val_fraction, self.shard_tokens
        by_language = self.by_language
        model = beam.pvalue.AsSingleton(self.model)
        tok = docs | "Tokenize" >> beam.ParDo(Tokenize(val, by_language=by_language), model).with_outputs(REJECTED, COUNTS, REPORT,
                                                                                 TIMES, main=KEPT)
        tok[REJECTED].element_type = Rejection
        report = tok[REPORT] | "TokenTotals" >> beam.CombineGlobally(_sum_totals)
        shards = report | "NumShards" >> beam.Map(num_shards, shard_tokens)

        def key(doc: Document, shards: dict):
            name = set_of(doc, val, by_language)
            return (name, shard_of(doc.id, shards[name])), CODER.encode(doc)

        def write_empty(_, model, shards, written):
            done = {(s["set"], s["shard"]) for s in written}
            for name, n in (shards.items() if model else ()):
                for i in range(n):
                    if (name, i) not in done:
                        yield write_one_shard(out_dir, name, i, n, [], model, meta, {})

        # documents cross the shuffle as their encoded bytes (tokens at their width, no text)
        written = (tok[KEPT]
                   | "KeyByShard" >> beam.Map(key, beam.pvalue.AsSingleton(shards))
                   .with_output_types(tuple[tuple[str, int], bytes])
                   | "GroupByShard" >> beam.GroupByKey()
                   | "WriteShard" >> beam.ParDo(WriteShard(out_dir, meta, self.tmp_dir), model,
                                                beam.pvalue.AsList(self.inputs), beam.pvalue.AsSingleton(shards))
                   .with_outputs(TIMES, main="entries"))
        written, write_times = written["entries"], written[TIMES]
        empty = (docs.pipeline
                 | "EveryShard" >> beam.Create([None])
                 | "WriteEmptyShards" >> beam.FlatMap(write_empty, model, beam.pvalue.AsSingleton(shards),
                                                      beam.pvalue.AsList(written)))
        entries = (written, empty) | "AllShards" >> beam.Flatten()
        times = (tok[TIMES], write_times) | "Times" >> beam.Flatten()
        return ShardOutputs(entries, tok[REJECTED], tok[COUNTS], report, times)
