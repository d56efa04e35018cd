"""The token shard format: the contract between the pipeline and the trainer.

`<split>-NNNNN-of-MMMMM.tok`, little-endian:
  4096-byte header | payload: num_tokens tokens (u16 or u32) | zero pad to 8 bytes |
  index: num_docs+1 u64 cumulative document offsets
The header holds magic, version, token width, vocab size, special ids, counts,
offsets, crc32 of payload and index, sha256 of the tokenizer model, shard id and
count, then a JSON blob (run id, config digest, ...) zero-padded to 4096 bytes.
Only numpy is needed to read a shard, so the trainer never imports Beam.
"""
from __future__ import annotations

import array
import dataclasses
import hashlib
import json
import shutil
import struct
import tempfile
import zlib
from typing import BinaryIO, Iterable, Optional, Sequence

import numpy as np

MAGIC = b"GRSTTOK1"
VERSION = 1
HEADER_SIZE = 4096
_FIXED = struct.Struct("<8sIIIiiiQQQQII32sIII")  # ... shard_id, num_shards, json_len


def token_dtype(vocab_size: int) -> np.dtype:
    return np.dtype("<u2") if vocab_size <= 65536 else np.dtype("<u4")


def shard_name(split: str, shard_id: int, num_shards: int) -> str:
    return f"{split}-{shard_id:05d}-of-{num_shards:05d}.tok"


@dataclasses.dataclass(frozen=True)
class Header:
    token_width: int
    vocab_size: int
    bos_id: int
    eos_id: int
    pad_id: int
    num_tokens: int
    num_docs: int
    payload_offset: int
    index_offset: int
    payload_crc32: int
    index_crc32: int
    tokenizer_sha256: str
    shard_id: int
    num_shards: int
    meta: dict
    version: int = VERSION

    def pack(self) -> bytes:
        blob = json.dumps(self.meta, sort_keys=True, separators=(",", ":")).encode()
        fixed = _FIXED.pack(
            MAGIC, self.version, self.token_width, self.vocab_size,
            self.bos_id, self.eos_id, self.pad_id, self.num_tokens, self.num_docs,
            self.payload_offset, self.index_offset, self.payload_crc32, self.index_crc32,
            bytes.fromhex(self.tokenizer_sha256), self.shard_id, self.num_shards, len(blob))
        if len(fixed) + len(blob) > HEADER_SIZE:
            raise ValueError(f"shard header JSON too large ({len(blob)} bytes)")
        return (fixed + blob).ljust(HEADER_SIZE, b"\0")

    @classmethod
    def unpack(cls, raw: bytes) -> "Header":
        if len(raw) < HEADER_SIZE:
            raise ValueError("not a gristmill token shard: file shorter than its header")
        f = _FIXED.unpack_from(raw)
        if f[0] != MAGIC:
            raise ValueError(f"not a gristmill token shard: magic {f[0]!r}")
        if f[1] != VERSION:
            raise ValueError(f"unsupported token shard version {f[1]}")
        n = _FIXED.size
        meta = json.loads(raw[n:n + f[16]].decode())
        return cls(token_width=f[2], vocab_size=f[3], bos_id=f[4], eos_id=f[5], pad_id=f[6],
                   num_tokens=f[7], num_docs=f[8], payload_offset=f[9], index_offset=f[10],
                   payload_crc32=f[11], index_crc32=f[12], tokenizer_sha256=f[13].hex(),
                   shard_id=f[14], num_shards=f[15], meta=meta, version=f[1])


class PayloadFile:
    """A shard's payload built document by document in a local temporary file (crc32 and
    document lengths kept on the way), then written out front to back by `write_shard`:
    a shard never has to fit in memory, and no token is copied wider than its width."""

    def __init__(self, vocab_size: int, dir: Optional[str] = None):
        self.vocab_size, self.dtype = vocab_size, token_dtype(vocab_size)
        self.file = tempfile.TemporaryFile(dir=dir)
        self.lengths = array.array("Q")
        self.crc = 0

    def add(self, tokens) -> None:
        arr = np.asarray(tokens)
        if arr.size and (arr.dtype.kind not in "ui" or int(arr.max()) >= self.vocab_size or int(arr.min()) < 0):
            raise ValueError(f"token id outside [0, {self.vocab_size})")
        data = arr.astype(self.dtype, copy=False).tobytes()  # no copy when already of the width
        self.crc = zlib.crc32(data, self.crc)
        self.file.write(data)
        self.lengths.append(arr.size)

    def write_shard(self, out: BinaryIO, *, bos_id: int, eos_id: int, pad_id: int, tokenizer_sha256: str,
                    shard_id: int, num_shards: int, meta: dict) -> dict:
        """Header, payload (copied in 1 MiB blocks), padding, index; return the summary."""
        offsets = np.zeros(len(self.lengths) + 1, dtype="<u8")
        np.cumsum(np.frombuffer(self.lengths, dtype=np.uint64) if self.lengths else [], out=offsets[1:])
        num_tokens = int(offsets[-1])
        payload_end = HEADER_SIZE + num_tokens * self.dtype.itemsize
        index_offset = -(-payload_end // 8) * 8  # keep the u64 index 8-byte aligned
        index = offsets.tobytes()
        header = Header(token_width=self.dtype.itemsize, vocab_size=self.vocab_size, bos_id=bos_id,
                        eos_id=eos_id, pad_id=pad_id, num_tokens=num_tokens, num_docs=len(self.lengths),
                        payload_offset=HEADER_SIZE, index_offset=index_offset, payload_crc32=self.crc,
                        index_crc32=zlib.crc32(index), tokenizer_sha256=tokenizer_sha256,
                        shard_id=shard_id, num_shards=num_shards, meta=meta)
        out.write(header.pack())
        self.file.flush()
        self.file.seek(0)
        shutil.copyfileobj(self.file, out, 1 << 20)
        out.write(b"\0" * (index_offset - payload_end))
        out.write(index)
        return {"num_tokens": num_tokens, "num_docs": header.num_docs,
                "payload_crc32": header.payload_crc32, "index_crc32": header.index_crc32}

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> "PayloadFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_shard(out: BinaryIO, docs: Iterable[Sequence[int]], *, vocab_size: int, bos_id: int,
                eos_id: int, pad_id: int, tokenizer_sha256: str, shard_id: int,
                num_shards: int, meta: dict) -> dict:
    """Write documents (each already `[BOS] ids [EOS]`) as one shard; return its summary.

    Writes front to back (no seek), so `out` may be any stream, e.g. a GCS upload.
    """
    with PayloadFile(vocab_size) as payload:
        for d in docs:
            payload.add(d)
        return payload.write_shard(out, bos_id=bos_id, eos_id=eos_id, pad_id=pad_id,
                                   tokenizer_sha256=tokenizer_sha256, shard_id=shard_id,
                                   num_shards=num_shards, meta=meta)


class TokFile:
    """A memory-mapped shard: `.tokens` (all tokens) and `.doc_offsets` (num_docs+1)."""

    def __init__(self, path: str, verify: bool = False):
        self.path = path
        with open(path, "rb") as f:
            self.header = Header.unpack(f.read(HEADER_SIZE))
        h = self.header
        dtype = np.dtype("<u2") if h.token_width == 2 else np.dtype("<u4")
        self.tokens = np.memmap(path, dtype=dtype, mode="r", offset=h.payload_offset,
                                shape=(h.num_tokens,)) if h.num_tokens else np.zeros(0, dtype)
        self.doc_offsets = np.memmap(path, dtype="<u8", mode="r", offset=h.index_offset,
                                     shape=(h.num_docs + 1,))
        if verify:
            self.verify()

    def verify(self) -> None:
        h = self.header
        if zlib.crc32(self.tokens.tobytes()) != h.payload_crc32:
            raise ValueError(f"{self.path}: payload crc32 mismatch")
        if zlib.crc32(np.asarray(self.doc_offsets).tobytes()) != h.index_crc32:
            raise ValueError(f"{self.path}: index crc32 mismatch")

    def __len__(self) -> int:
        return self.header.num_docs

    def doc(self, i: int) -> np.ndarray:
        return np.asarray(self.tokens[self.doc_offsets[i]:self.doc_offsets[i + 1]])


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
