"""Tokenize + WriteShards: documents -> `.tok` files and the metadata table
(`docs/<split>-NNNNN-of-MMMMM.parquet`, one file per shard).

Documents are assigned to a split and a shard by a hash of their id and cross one
shuffle, as encoded bytes (text compressed), to the worker that writes their shard;
it loads the tokenizer once, encodes the shard's documents in one batch (`[BOS] ids
[EOS]`, a document that yields no token is rejected as `no_tokens`) and writes the
two files. Tokenizing there rather than before the shuffle means the documents wait
for the tokenizer's training inside that one shuffle instead of in a second copy.

Every declared shard is written, empty ones too, so the manifest always lists
`MMMMM` files per split. Within a shard, documents are ordered by id, so the bytes do
not depend on the runner's ordering; row i of a shard's Parquet file is document i of
its `.tok` file. Each file is written under a temporary name and renamed when complete.
"""
from __future__ import annotations

import collections
import hashlib
import io

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from gristmill import tokfile
from gristmill.transforms.document import PII_TYPES, QUALITY_SIGNALS, Document, DocumentCoder, Rejection
from gristmill.transforms.stage import COUNTS, KEPT, REJECTED, Counted, StageOutputs
from gristmill.transforms.tokenizer import encode_docs, load_processor, model_info, shard_of, split_of

STAGE = "tokenize"

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


class _HashingWriter:
    def __init__(self, raw):
        self.raw, self.sha256 = raw, hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.sha256.update(data)
        self.raw.write(data)


def _write_renamed(path: str, write) -> str:
    """write(file) into path + '.inprogress', then rename; return the sha256 of the bytes."""
    tmp = path + ".inprogress"
    raw = FileSystems.create(tmp)
    out = _HashingWriter(raw)
    try:
        write(out)
    finally:
        raw.close()
    if FileSystems.exists(path):
        FileSystems.delete([path])
    FileSystems.rename([tmp], [path])
    return out.sha256.hexdigest()


def metadata_table(docs: list[Document], paths: dict, split: str, shard: int) -> pa.Table:
    """One row per document, in shard order, with the METADATA_SCHEMA columns."""
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
    cols["position"] = list(range(len(docs)))
    return pa.table(cols, schema=METADATA_SCHEMA)


def write_one_shard(output_dir: str, split: str, shard: int, num_shards: int,
                    docs: list[Document], model: bytes, meta: dict, paths: dict) -> dict:
    """Write one shard file and its metadata file; return its manifest entry."""
    docs = sorted(docs, key=lambda d: d.id)
    info = model_info(model)
    name = tokfile.shard_name(split, shard, num_shards)
    summary = {}

    def write_tokens(out):
        summary.update(tokfile.write_shard(
            out, [d.tokens for d in docs], vocab_size=info["vocab_size"],
            bos_id=info["bos_id"], eos_id=info["eos_id"], pad_id=info["pad_id"],
            tokenizer_sha256=info["sha256"], shard_id=shard, num_shards=num_shards, meta=meta))

    def write_metadata(out):
        buf = io.BytesIO()  # pyarrow wants a seekable sink; a shard's rows are small
        pq.write_table(metadata_table(docs, paths, split, shard), buf, compression="zstd")
        out.write(buf.getvalue())

    sha = _write_renamed(FileSystems.join(output_dir, name), write_tokens)
    table_name = f"{METADATA_DIR}/{name.removesuffix('.tok')}.parquet"
    _write_renamed(FileSystems.join(output_dir, table_name), write_metadata)
    return {"split": split, "shard": shard, "path": name, "metadata": table_name,
            "num_tokens": summary["num_tokens"], "num_docs": summary["num_docs"], "sha256": sha,
            "payload_crc32": summary["payload_crc32"],
            "languages": dict(collections.Counter(d.lang for d in docs)),
            "pii_found": dict(sum((collections.Counter(d.pii) for d in docs), collections.Counter()))}


class WriteShard(Counted):
    """((split, shard), encoded documents) -> the shard's manifest entry; `no_tokens`
    rejections and per-bundle counts tagged. The tokenizer is loaded once per worker."""

    def __init__(self, output_dir: str, num_shards: dict, meta: dict):
        super().__init__(STAGE)
        self.output_dir, self.num_shards, self.meta = output_dir, num_shards, meta
        self._sp, self._model = None, None

    def process(self, kv, model, inputs):
        (split, shard), encoded = kv
        if model is not self._model:  # the side input is one object per worker: load once
            self._sp, self._model = load_processor(model), model
            self._is_byte = np.array([self._sp.IsByte(i) for i in range(self._sp.vocab_size())])
        docs = [CODER.decode(e) for e in encoded]
        kept, text_bytes, fallback = [], 0, 0
        for doc, ids in zip(docs, encode_docs(self._sp, [d.text for d in docs])):
            if ids.size <= 2:
                yield from self.route(Rejection.of(doc, STAGE, "no_tokens"))
                continue
            self.count(KEPT)
            text_bytes += len(doc.text.encode("utf-8", "surrogatepass"))
            fallback += int(np.count_nonzero(self._is_byte[ids[1:-1]]))
            doc.text, doc.tokens = "", ids
            kept.append(doc)
        paths = {i["input"]: i["path"] for i in inputs}
        entry = write_one_shard(self.output_dir, split, shard, self.num_shards[split], kept, model,
                                self.meta, paths)
        # for the tokenizer's report: text bytes per token (BOS/EOS not counted), byte-fallback pieces
        yield {**entry, "text_bytes": text_bytes, "byte_fallback_tokens": fallback}


class WriteShards(beam.PTransform):
    """Documents -> StageOutputs(kept: one manifest entry (dict) per shard file, ...).

    `model` is the singleton PCollection of tokenizer bytes (b"" when nothing survived:
    then no shard is written), `inputs` the run's input entries (for the WARC paths).
    """

    def __init__(self, output_dir: str, num_shards: dict, val_fraction: float, model, inputs,
                 meta: dict):
        super().__init__()
        self.output_dir, self.num_shards, self.val_fraction = output_dir, num_shards, val_fraction
        self.model, self.inputs, self.meta = model, inputs, meta

    def expand(self, docs) -> StageOutputs:
        every_shard = [(split, i) for split, n in self.num_shards.items() for i in range(n)]
        out_dir, num_shards, meta, val = self.output_dir, self.num_shards, self.meta, self.val_fraction

        def key(doc: Document):
            split = split_of(doc.id, val)
            return (split, shard_of(doc.id, num_shards[split])), CODER.encode(doc)

        def write_empty(key, model, written):
            if model and key not in {(s["split"], s["shard"]) for s in written}:
                yield write_one_shard(out_dir, *key, num_shards[key[0]], [], model, meta, {})

        model = beam.pvalue.AsSingleton(self.model)
        # the documents cross the shuffle as their encoded bytes: a local runner's grouping
        # table then holds bytes, not decoded objects
        out = (docs
               | "KeyByShard" >> beam.Map(key).with_output_types(tuple[tuple[str, int], bytes])
               | "GroupByShard" >> beam.GroupByKey()
               | "WriteShard" >> beam.ParDo(WriteShard(out_dir, num_shards, meta), model,
                                            beam.pvalue.AsList(self.inputs))
               .with_outputs(REJECTED, COUNTS, main=KEPT))
        out[REJECTED].element_type = Rejection
        empty = (docs.pipeline
                 | "EveryShard" >> beam.Create(every_shard)
                 | "WriteEmptyShards" >> beam.FlatMap(write_empty, model, beam.pvalue.AsList(out[KEPT])))
        shards = (out[KEPT], empty) | "AllShards" >> beam.Flatten()
        return StageOutputs(shards, out[REJECTED], out[COUNTS])
