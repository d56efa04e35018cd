"""The one record that flows through every stage, and the rejection record."""
from __future__ import annotations

import dataclasses
import hashlib
from typing import Optional

import numpy as np


def stable_id(*parts: str) -> str:
    """A stable 16-hex-digit id: sha1 of the parts (WARC-Record-ID, else URL + date)."""
    return hashlib.sha1("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def id_fraction(doc_id: str, salt: str = "") -> float:
    """A deterministic number in [0, 1) from a document id (splits, samples, shards)."""
    digest = hashlib.sha1((salt + doc_id).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


@dataclasses.dataclass(slots=True)
class Document:
    id: str
    url: str
    warc_file: str
    warc_offset: int
    date: str = ""
    content_type: str = ""
    charset: str = ""
    html: Optional[bytes] = None          # dropped after Extract
    text: str = ""
    lang: str = ""
    lang_score: float = 0.0
    quality: dict = dataclasses.field(default_factory=dict)
    minhash: Optional[np.ndarray] = None  # MinHash values, dropped after dedup
    cluster_size: int = 1
    pii: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, slots=True)
class Rejection:
    """Why a record left the pipeline. Every record read ends as a kept doc or one of these."""
    id: str
    url: str
    stage: str
    reason: str
    warc_file: str = ""
    warc_offset: int = -1
    detail: str = ""

    @classmethod
    def of(cls, doc: Document, stage: str, reason: str, detail: str = "") -> "Rejection":
        return cls(doc.id, doc.url, stage, reason, doc.warc_file, doc.warc_offset, detail)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)
