"""The one record that flows through every stage, the rejection record, and their coders.

`Document` carries only what a later stage or the metadata table needs: a 128-bit id
(bytes), the URL, provenance as an index into the run's input list plus byte offset
and length, fetch date, the charset the HTML was decoded with, the HTML (dropped by
Extract, inside the fused read stage: it never crosses a shuffle), the text, language,
quality signals (flat name -> number), cluster size, PII counts and, after Tokenize,
the tokens (the text is dropped then). The MinHash signature of the text is computed in
the fused read stage (`dedup.MinHash`, so per-input checkpoints hold it), crosses
UrlDedup's shuffle on the record and is dropped by MinHashDedup once it has its band
keys: it never reaches the later shuffles.

`DocumentCoder` and `RejectionCoder` are registered Beam coders (no pickle): a fixed
struct header, length-prefixed UTF-8 strings (a text over 512 bytes zlib-compressed at
level 1), signal and PII names as one-byte indices into the tables below, tokens as raw
uint16/uint32.
"""
from __future__ import annotations

import dataclasses
import hashlib
import struct
import zlib
from typing import Optional

import apache_beam as beam
import numpy as np

# Every quality signal the Quality stage may record (the metadata table's columns).
C4_LINE_RULES = ("long_word", "citation_only", "no_terminal_punct", "ellipsis",
                 "too_few_words", "javascript", "policy")
QUALITY_SIGNALS = (
    "chars", "c4_lines_in", "c4_lines_kept", "c4_citations_removed", "c4_sentences",
    *(f"c4_removed_{r}" for r in C4_LINE_RULES),
    "words", "mean_word_length", "hash_word_ratio", "ellipsis_word_ratio", "bullet_line_frac",
    "ellipsis_line_frac", "alpha_word_frac", "stop_words", "dup_para_frac", "dup_para_char_frac",
    "dup_line_frac", "dup_line_char_frac",
    *(f"top_{n}gram_char_frac" for n in (2, 3, 4)),
    *(f"dup_{n}gram_char_frac" for n in range(5, 11)),
    "line_punct_frac", "short_line_frac",
)
PII_TYPES = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "US_SSN")


def stable_id(*parts: str) -> bytes:
    """A stable 128-bit id: blake2b of the parts (WARC-Record-ID, else URL + date + place)."""
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8", "surrogatepass"),
                           digest_size=16).digest()


def id_fraction(doc_id: bytes, salt: str = "") -> float:
    """A deterministic number in [0, 1) from a document id (splits, samples, shards)."""
    digest = hashlib.blake2b(doc_id, digest_size=8, person=salt.encode()[:16]).digest()
    return int.from_bytes(digest, "big") / 2.0**64


@dataclasses.dataclass(slots=True)
class Document:
    id: bytes
    url: str
    input: int                             # index into the run's input list (manifest "inputs")
    offset: int                            # byte offset of the record in that file
    length: int = 0                        # bytes of the record there (gzip member)
    date: str = ""                         # WARC-Date
    charset: str = ""                      # declared charset, then the one used to decode
    html: Optional[bytes] = None           # dropped by Extract
    text: str = ""                         # dropped by Tokenize
    lang: str = ""
    lang_score: float = 0.0
    quality: dict = dataclasses.field(default_factory=dict)  # signal name -> number
    cluster_size: int = 1
    pii: dict = dataclasses.field(default_factory=dict)      # entity type -> count
    tokens: Optional[np.ndarray] = None    # [BOS] ids [EOS], set by Tokenize
    inner: int = 0                         # offset of the record inside its gzip member's
                                           # decompressed bytes (0 unless a member holds several)
    minhash: Optional[bytes] = None        # the text's MinHash signature (uint32 little-endian
                                           # each), b"" for a text without shingles; set by
                                           # dedup.MinHash, dropped by MinHashDedup


@dataclasses.dataclass(frozen=True, slots=True)
class Rejection:
    """Why a record left the pipeline. Every record read ends as a kept doc or one of these."""
    id: bytes
    url: str
    stage: str
    reason: str
    input: int = -1
    offset: int = -1
    detail: str = ""
    inner: int = 0  # as Document.inner

    @classmethod
    def of(cls, doc: Document, stage: str, reason: str, detail: str = "") -> "Rejection":
        return cls(doc.id, doc.url, stage, reason, doc.input, doc.offset, detail, doc.inner)

    def to_json(self) -> dict:
        return {"id": self.id.hex(), "url": self.url, "stage": self.stage, "reason": self.reason,
                "input": self.input, "offset": self.offset, "inner_offset": self.inner,
                "detail": self.detail}


# ------------------------------------------------------------------------------ coders

_HEAD = struct.Struct("<16siQQIfIB")  # id, input, offset, inner, length, lang score, cluster, flags
_LEN = struct.Struct("<I")
_HTML, _TOKENS16, _TOKENS32, _ZTEXT, _MINHASH = 1, 2, 4, 8, 16
_COMPRESS_OVER = 512  # bytes of text; zlib level 1 keeps ~40% of web text at ~100 MB/s
_SIGNAL_INDEX = {n: i for i, n in enumerate(QUALITY_SIGNALS)}
_PII_INDEX = {n: i for i, n in enumerate(PII_TYPES)}
_OTHER = 255  # a name outside the table: its UTF-8 follows


def _put_str(out: list, s: str) -> None:
    b = s.encode("utf-8", "surrogatepass")
    out.append(_LEN.pack(len(b)))
    out.append(b)


def _get_bytes(buf: memoryview, pos: int) -> tuple[bytes, int]:
    (n,) = _LEN.unpack_from(buf, pos)
    pos += 4
    return bytes(buf[pos:pos + n]), pos + n


def _get_str(buf: memoryview, pos: int) -> tuple[str, int]:
    b, pos = _get_bytes(buf, pos)
    return b.decode("utf-8", "surrogatepass"), pos


def _put_named(out: list, values: dict, index: dict, fmt: str) -> None:
    """{name: number} as a count byte, then (name index byte [, name], value) each."""
    out.append(bytes([len(values)]))
    for name, v in values.items():
        i = index.get(name, _OTHER)
        out.append(bytes([i]))
        if i == _OTHER:
            _put_str(out, name)
        out.append(struct.pack(fmt, v))


def _get_named(buf: memoryview, pos: int, names: tuple, fmt: str) -> tuple[dict, int]:
    size = struct.calcsize(fmt)
    values = {}
    count = buf[pos]
    pos += 1
    for _ in range(count):
        i = buf[pos]
        pos += 1
        if i == _OTHER:
            name, pos = _get_str(buf, pos)
        else:
            name = names[i]
        (values[name],) = struct.unpack_from(fmt, buf, pos)
        pos += size
    return values, pos


def encode_document(d: Document) -> bytes:
    flags = 0
    if d.html is not None:
        flags |= _HTML
    if d.tokens is not None:
        flags |= _TOKENS16 if d.tokens.dtype == np.uint16 else _TOKENS32
    text = d.text.encode("utf-8", "surrogatepass")
    if d.minhash is not None:
        flags |= _MINHASH
    if len(text) > _COMPRESS_OVER:
        flags |= _ZTEXT
        text = zlib.compress(text, 1)
    out = [_HEAD.pack(d.id, d.input, d.offset, d.inner, d.length, d.lang_score, d.cluster_size, flags)]
    for s in (d.url, d.date, d.charset, d.lang):
        _put_str(out, s)
    out.append(_LEN.pack(len(text)))
    out.append(text)
    if d.html is not None:
        out.append(_LEN.pack(len(d.html)))
        out.append(d.html)
    _put_named(out, d.quality, _SIGNAL_INDEX, "<f")
    _put_named(out, d.pii, _PII_INDEX, "<I")
    if d.tokens is not None:
        raw = np.ascontiguousarray(d.tokens, dtype=np.uint16 if flags & _TOKENS16 else np.uint32)
        out.append(_LEN.pack(raw.size))
        out.append(raw.tobytes())
    if d.minhash is not None:
        out.append(_LEN.pack(len(d.minhash)))
        out.append(d.minhash)
    return b"".join(out)


def decode_document(data: bytes) -> Document:
    buf = memoryview(data)
    doc_id, inp, offset, inner, length, score, cluster, flags = _HEAD.unpack_from(buf, 0)
    pos = _HEAD.size
    url, pos = _get_str(buf, pos)
    date, pos = _get_str(buf, pos)
    charset, pos = _get_str(buf, pos)
    lang, pos = _get_str(buf, pos)
    text, pos = _get_bytes(buf, pos)
    text = (zlib.decompress(text) if flags & _ZTEXT else text).decode("utf-8", "surrogatepass")
    html = None
    if flags & _HTML:
        html, pos = _get_bytes(buf, pos)
    quality, pos = _get_named(buf, pos, QUALITY_SIGNALS, "<f")
    pii, pos = _get_named(buf, pos, PII_TYPES, "<I")
    tokens = None
    if flags & (_TOKENS16 | _TOKENS32):
        dtype = np.uint16 if flags & _TOKENS16 else np.uint32
        (n,) = _LEN.unpack_from(buf, pos)
        pos += 4
        tokens = np.frombuffer(data, dtype=dtype, count=n, offset=pos).copy()
        pos += tokens.nbytes
    minhash = None
    if flags & _MINHASH:
        minhash, pos = _get_bytes(buf, pos)
    return Document(doc_id, url, inp, offset, length, date, charset, html, text, lang,
                    score, quality, cluster, pii, tokens, inner, minhash)


def encoded_id(encoded: bytes) -> bytes:
    """The id of an encoded document without decoding it (the first field of _HEAD)."""
    return bytes(encoded[:16])


class DocumentCoder(beam.coders.Coder):
    def encode(self, value: Document) -> bytes:
        return encode_document(value)

    def decode(self, encoded: bytes) -> Document:
        return decode_document(encoded)

    def is_deterministic(self) -> bool:
        return True

    def to_type_hint(self):
        return Document


_REJ = struct.Struct("<16siqQ")  # id, input, offset, inner


class RejectionCoder(beam.coders.Coder):
    def encode(self, r: Rejection) -> bytes:
        out = [_REJ.pack(r.id, r.input, r.offset, r.inner)]
        for s in (r.url, r.stage, r.reason, r.detail):
            _put_str(out, s)
        return b"".join(out)

    def decode(self, encoded: bytes) -> Rejection:
        buf = memoryview(encoded)
        doc_id, inp, offset, inner = _REJ.unpack_from(buf, 0)
        pos = _REJ.size
        url, pos = _get_str(buf, pos)
        stage, pos = _get_str(buf, pos)
        reason, pos = _get_str(buf, pos)
        detail, pos = _get_str(buf, pos)
        return Rejection(doc_id, url, stage, reason, inp, offset, detail, inner)

    def is_deterministic(self) -> bool:
        return True

    def to_type_hint(self):
        return Rejection


beam.coders.registry.register_coder(Document, DocumentCoder)
beam.coders.registry.register_coder(Rejection, RejectionCoder)
