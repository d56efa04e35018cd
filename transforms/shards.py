"""WriteShards: tokenized documents keyed by (split, shard) -> `.tok` files and the
metadata table (`docs/<split>-NNNNN-of-MMMMM.parquet`, one file per shard).

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
from gristmill.transforms.document import PII_TYPES, QUALITY_SIGNALS, Document
from gristmill.transforms.tokenizer import model_info

METADATA_DIR = "docs"
METADATA_SCHEMA = pa.schema(
    [("id", pa.string()), ("url", pa.string()), ("warc_file", pa.string()), ("input", pa.int32()),
     ("offset", pa.int64()), ("length", pa.int64()), ("date", pa.string()),
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
        "offset": [d.offset for d in docs], "length": [d.length for d in docs],
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


class WriteShards(beam.PTransform):
    """((split, shard), Document with tokens) -> one manifest entry (dict) per shard file.

    `model` is the singleton PCollection of tokenizer bytes (b"" when nothing survived:
    then no shard is written), `inputs` the run's input entries (for the WARC paths).
    """

    def __init__(self, output_dir: str, num_shards: dict, model, inputs, meta: dict):
        super().__init__()
        self.output_dir, self.num_shards, self.model, self.meta = output_dir, num_shards, model, meta
        self.inputs = inputs

    def expand(self, keyed_docs):
        every_shard = [(split, i) for split, n in self.num_shards.items() for i in range(n)]
        out_dir, num_shards, meta = self.output_dir, self.num_shards, self.meta

        def write(kv, model, inputs):
            (split, shard), docs = kv
            paths = {i["input"]: i["path"] for i in inputs}
            return write_one_shard(out_dir, split, shard, num_shards[split], list(docs), model,
                                   meta, paths)

        def write_empty(key, model, written):
            if model and key not in {(s["split"], s["shard"]) for s in written}:
                yield write_one_shard(out_dir, *key, num_shards[key[0]], [], model, meta, {})

        model = beam.pvalue.AsSingleton(self.model)
        written = (keyed_docs
                   | "GroupByShard" >> beam.GroupByKey()
                   | "WriteShard" >> beam.Map(write, model, beam.pvalue.AsList(self.inputs)))
        empty = (keyed_docs.pipeline
                 | "EveryShard" >> beam.Create(every_shard)
                 | "WriteEmptyShards" >> beam.FlatMap(write_empty, model,
                                                      beam.pvalue.AsList(written)))
        return (written, empty) | "AllShards" >> beam.Flatten()
