"""WriteShards: token arrays keyed by (split, shard) -> `.tok` files (gristmill/tokfile.py).

Every declared shard is written, empty ones too, so the manifest always lists
`MMMMM` files per split. Within a shard, documents are ordered by id, so the bytes
do not depend on the runner's ordering. Each file is written under a temporary
name and renamed when complete.
"""
from __future__ import annotations

import hashlib

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from gristmill import tokfile
from gristmill.transforms.tokenizer import model_info


class _HashingWriter:
    def __init__(self, raw):
        self.raw, self.sha256 = raw, hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.sha256.update(data)
        self.raw.write(data)


def write_one_shard(output_dir: str, split: str, shard: int, num_shards: int,
                    docs: list, model: bytes, meta: dict) -> dict:
    """Write one shard file from (id, tokens) pairs; return its manifest entry."""
    docs = sorted(docs, key=lambda x: x[0])
    info = model_info(model)
    name = tokfile.shard_name(split, shard, num_shards)
    path = FileSystems.join(output_dir, name)
    tmp = path + ".inprogress"
    raw = FileSystems.create(tmp)
    out = _HashingWriter(raw)
    try:
        summary = tokfile.write_shard(
            out, [tokens for _, tokens in docs], vocab_size=info["vocab_size"],
            bos_id=info["bos_id"], eos_id=info["eos_id"], pad_id=info["pad_id"],
            tokenizer_sha256=info["sha256"], shard_id=shard, num_shards=num_shards, meta=meta)
    finally:
        raw.close()
    if FileSystems.exists(path):
        FileSystems.delete([path])
    FileSystems.rename([tmp], [path])
    return {"split": split, "shard": shard, "path": name, "num_tokens": summary["num_tokens"],
            "num_docs": summary["num_docs"], "sha256": out.sha256.hexdigest(),
            "payload_crc32": summary["payload_crc32"]}


class WriteShards(beam.PTransform):
    """((split, shard), (id, tokens)) -> one manifest entry (dict) per shard file."""

    def __init__(self, output_dir: str, num_shards: dict, model, meta: dict):
        super().__init__()
        self.output_dir, self.num_shards, self.model, self.meta = output_dir, num_shards, model, meta

    def expand(self, keyed_tokens):
        every_shard = [((split, i), None) for split, n in self.num_shards.items() for i in range(n)]
        out_dir, num_shards, meta = self.output_dir, self.num_shards, self.meta

        def write(kv, model):
            (split, shard), items = kv
            docs = [x for x in items if x is not None]
            return write_one_shard(out_dir, split, shard, num_shards[split], docs, model, meta)

        return ((keyed_tokens, keyed_tokens.pipeline | "EveryShard" >> beam.Create(every_shard))
                | "WithEmptyShards" >> beam.Flatten()
                | "GroupByShard" >> beam.GroupByKey()
                | "WriteShard" >> beam.Map(write, beam.pvalue.AsSingleton(self.model)))
