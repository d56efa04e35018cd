"""MinHashDedup: near-duplicate removal with MinHash LSH and distributed connected components.

Plain functions (tested without Beam):

``tokens``            FineWeb's normalisation (lower case, accents, punctuation, digits,
                      whitespace); words, or characters for text written without spaces
                      (Chinese, Japanese, Thai, ...).
``signatures``        MinHash of the token n-grams of many documents at once, vectorised
                      in numpy. The permutations are datasketch's ("affine32", same seed),
                      the n-gram hash is ``shingle_hash``: ``datasketch.MinHash(num_perm,
                      seed, hashfunc=shingle_hash).update_batch(shingle_tuples(...))``
                      gives exactly the same values (tested).
``band_keys``         one LSH bucket key per band.
``node_key``          how a document is named in the graph: the sort key of the survivor
                      rule (newest fetch, then longest text, then smallest id) + its id, so
                      the smallest node of a cluster is its survivor.
``bucket_edges``      a bucket's star edges to its smallest node, in two passes over the
                      bucket (nothing sorted or held), optionally verified by the estimated
                      Jaccard of the two signatures.
``large_star``, ``small_star``   one round of Kiveris et al.'s connected components
                      ("Connected Components in MapReduce and Beyond", SoCC 2014).
``star_check``        after the last round: is every component a star around its smallest
                      node? Gives the assignments and cluster sizes, or the unconverged nodes.

Beam: `MinHash` gives each document its signature (``Document.minhash``) in the fused
read stage, one document at a time, so that the per-input checkpoints hold it and a
resumed or incremental run does not compute it again; it crosses UrlDedup's shuffle on
the record (448 bytes at the default 112 permutations). `MinHashDedup` then: documents
(a signature computed here, in batches, for any that arrive without one) -> batches ->
(band key, node) -> GroupByKey -> star edges -> distinct -> rounds of large-star /
small-star (each a GroupByKey by node) -> star check -> join by id with the documents
(their signatures dropped) -> survivor kept with its cluster size, others
``near_duplicate`` naming the survivor. No step gathers the edges, a bucket or a cluster
on one worker: every grouped value is read as a stream (twice at most), and only node
keys (41 bytes), never documents, cross the clustering shuffles. A run whose components
have not converged within ``max_rounds`` fails with a message saying so.
"""
from __future__ import annotations

import dataclasses
import datetime
import functools
import hashlib
import struct
import unicodedata
from typing import Iterable, Iterator, Optional, Sequence

import apache_beam as beam
import numpy as np

from gristmill.transforms.document import Document, DocumentCoder, Rejection
from gristmill.transforms.stage import COUNTS, KEPT, REJECTED, TIMES, Counted, DocStage, StageOutputs

STAGE = "dedup"
SIGNATURE_STAGE = "minhash"

_M64 = (1 << 64) - 1
_MIX = 0x9E3779B97F4A7C15                 # n-gram combination multiplier (odd, golden ratio)
_F64 = (33, 0xFF51AFD7ED558CCD, 33, 0xC4CEB9FE1A85EC53, 33)   # MurmurHash3 fmix64
_F32 = (16, 0x85EBCA6B, 13, 0xC2B2AE35, 16)                   # MurmurHash3 fmix32 (datasketch)


@dataclasses.dataclass(frozen=True)
class DedupConfig:
    ngram: int = 5            # word 5-grams (FineWeb)
    char_ngram: int = 5       # character 5-grams for text written without spaces
    bands: int = 14           # 14 bands x 8 rows = 112 permutations (FineWeb)
    rows: int = 8
    seed: int = 1
    verify: float = 0.0       # > 0: keep a candidate edge only if estimated Jaccard >= this
    max_rounds: int = 6       # large-star rounds (each but the last followed by a small-star)
    batch: int = 256          # documents per vectorised signature batch

    def __post_init__(self):
        if self.ngram < 1 or self.char_ngram < 1:
            raise ValueError("ngram and char_ngram must be >= 1")
        if self.bands < 1 or self.rows < 1 or self.max_rounds < 1:
            raise ValueError("bands, rows and max_rounds must be >= 1")
        if not 0 <= self.verify <= 1:
            raise ValueError(f"verify {self.verify}: must be within [0, 1]")

    @property
    def num_perm(self) -> int:
        return self.bands * self.rows

    @classmethod
    def for_threshold(cls, threshold: float, num_perm: int = 112, **kw) -> "DedupConfig":
        """Bands and rows that datasketch's MinHashLSH picks for a Jaccard threshold (equal
        weights of false positives and negatives)."""
        from datasketch.lsh import _optimal_param

        bands, rows = _optimal_param(threshold, num_perm, 0.5, 0.5)
        return cls(bands=bands, rows=rows, **kw)


# --- normalisation, tokens and their hashes ----------------------------------------------
#
# The rule (``tokens`` is its plain-Python reference, ``signatures`` its vectorised form):
#   1. NFKD, then each code point lower-cased on its own (str.lower of that one character,
#      when it is one character); nonspacing and enclosing marks (accents) are dropped;
#   2. a character is a word character if it is alphanumeric or a spacing mark (Mc);
#      every other character (punctuation, symbols, "_", whitespace) separates words;
#   3. a run of decimal digits becomes one "0";
#   4. tokens are the words; or, when at least 30% of the word characters belong to a
#      script written without spaces (kana, CJK ideographs, Thai, Lao, Myanmar, Khmer),
#      every word character is a token;
#   5. a token's hash is sum(code point_j * P**j) mod 2**64, finished by fmix64(h ^ length).

_WORD, _DIGIT, _MARK, _NOSPACE = 1, 2, 4, 8
_P = 0x100000001B3  # FNV-64 prime: the polynomial's base
_NO_SPACE_RANGES = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF),
                    (0x0E00, 0x0EFF), (0x1000, 0x109F), (0x1780, 0x17FF), (0xFF66, 0xFF9F),
                    (0x20000, 0x2FFFF))


@functools.lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray]:
    """(uint8 flags, uint32 lower-cased code point; "0" for digits) of every code point,
    built once per process (about half a second)."""
    flags = np.zeros(0x110000, dtype=np.uint8)
    lower = np.arange(0x110000, dtype=np.uint32)
    for cp in range(0x110000):
        c = chr(cp)
        cat = unicodedata.category(c)
        if cat in ("Mn", "Me"):
            flags[cp] = _MARK
        elif cat == "Nd":
            flags[cp] = _WORD | _DIGIT
            lower[cp] = ord("0")
        elif c.isalnum() or cat == "Mc":
            flags[cp] = _WORD
            low = c.lower()
            if len(low) == 1:
                lower[cp] = ord(low)
    for lo, hi in _NO_SPACE_RANGES:
        flags[lo:hi + 1] |= _NOSPACE * (flags[lo:hi + 1] & _WORD)
    return flags, lower


def _classify(cp: int) -> tuple[int, int]:
    flags, lower = _tables()
    return int(flags[cp]), int(lower[cp])


def tokens(text: str) -> tuple[list[str], bool]:
    """(tokens, by_char) of a text by the rule above, one character at a time."""
    chars = []  # (char, flags) after marks are dropped and digit runs collapsed
    for c in unicodedata.normalize("NFKD", text.replace("\x00", " ")):
        f, low = _classify(ord(c))
        if f & _MARK or (f & _DIGIT and chars and chars[-1][1] & _DIGIT):
            continue
        chars.append((chr(low), f))
    words = [(c, f) for c, f in chars if f & _WORD]
    if words and sum(1 for _, f in words if f & _NOSPACE) >= 0.3 * len(words):
        return [c for c, _ in words], True
    out, cur = [], []
    for c, f in chars:
        if f & _WORD:
            cur.append(c)
        elif cur:
            out.append("".join(cur))
            cur = []
    if cur:
        out.append("".join(cur))
    return out, False


def normalize(text: str) -> str:
    """The tokens of a text joined by spaces (what the shingles are made of)."""
    toks, by_char = tokens(text)
    return ("" if by_char else " ").join(toks)


def shingle_tuples(text: str, config: DedupConfig = DedupConfig()) -> list[tuple[str, ...]]:
    """The n-grams of the text's tokens (all of them as one when there are fewer than n)."""
    toks, by_char = tokens(text)
    n = config.char_ngram if by_char else config.ngram
    if not toks:
        return []
    if len(toks) < n:
        return [tuple(toks)]
    return [tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)]


def _fmix64_int(h: int) -> int:
    s1, m1, s2, m2, s3 = _F64
    h ^= h >> s1
    h = (h * m1) & _M64
    h ^= h >> s2
    h = (h * m2) & _M64
    return h ^ (h >> s3)


def token_hash(token: str) -> int:
    h = 0
    for j, c in enumerate(token):
        h = (h + ord(c) * pow(_P, j, 1 << 64)) & _M64
    return _fmix64_int(h ^ len(token))


def shingle_hash(shingle: Sequence[str]) -> int:
    """The 32-bit hash of an n-gram of tokens (the reference, and datasketch's
    ``hashfunc`` in the equality test): h = t0; h = fmix64(h * MIX + t_k); folded to 32 bits."""
    h = token_hash(shingle[0])
    for tok in shingle[1:]:
        h = _fmix64_int(((h * _MIX) + token_hash(tok)) & _M64)
    return (h ^ (h >> 32)) & 0xFFFFFFFF


def _fmix(h: np.ndarray, constants) -> np.ndarray:
    s1, m1, s2, m2, s3 = (h.dtype.type(c) for c in constants)
    h = h ^ (h >> s1)
    h = h * m1
    h = h ^ (h >> s2)
    h = h * m2
    return h ^ (h >> s3)


@functools.lru_cache(maxsize=4)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutation parameters (a, b) for this seed."""
    from datasketch import MinHash

    a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    return a.astype(np.uint32), b.astype(np.uint32)


_COLS_PER_BLOCK = 8192  # shingles per (permutations x shingles) block: 3.7 MB at 112


def _min_over(h32: np.ndarray, a: np.ndarray, b: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per segment (shingles starts[i]..starts[i+1]) the minimum of fmix32(h) * a_k + b_k
    for every permutation k (datasketch's affine32), in blocks of shingles. Laid out
    permutations x shingles so each multiply runs over contiguous shingles (SIMD)."""
    hv = _fmix(h32, _F32)[None, :]
    out = np.full((len(a), len(starts)), 0xFFFFFFFF, dtype=np.uint32)
    ends = np.append(starts[1:], len(h32))
    buf = np.empty((len(a), min(_COLS_PER_BLOCK, len(h32))), dtype=np.uint32)
    a2, b2 = a[:, None], b[:, None]
    s0 = 0
    for lo in range(0, len(h32), _COLS_PER_BLOCK):
        hi = min(lo + _COLS_PER_BLOCK, len(h32))
        while ends[s0] <= lo:
            s0 += 1
        s1 = int(np.searchsorted(starts, hi, side="left"))
        blk = buf[:, :hi - lo]
        np.multiply(a2, hv[:, lo:hi], out=blk)
        np.add(blk, b2, out=blk)
        part = np.minimum.reduceat(blk, np.maximum(starts[s0:s1], lo) - lo, axis=1)
        np.minimum(out[:, s0:s1], part, out=out[:, s0:s1])
    return out.T


@functools.lru_cache(maxsize=8)
def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(P**j, P**-j) mod 2**64 for j < n (P is odd, so invertible; uint64 products wrap)."""
    p = np.full(n, _P, dtype=np.uint64)
    q = np.full(n, pow(_P, -1, 1 << 64), dtype=np.uint64)
    p[0] = q[0] = 1
    return np.cumprod(p), np.cumprod(q)


def _token_hashes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(uint64 hash of every token of the batch in order, tokens per text, by_char per
    text): the rule above over the code points of the whole batch at once."""
    n_texts = len(texts)
    joined = "\x00".join(t.replace("\x00", " ") for t in texts)
    if not unicodedata.is_normalized("NFKD", joined):  # checking is faster than normalising
        joined = unicodedata.normalize("NFKD", joined)
    cp = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    flag_of, lower_of = _tables()
    flags = flag_of[cp]
    drop = (flags & _MARK) != 0
    if drop.any():
        cp, flags = cp[~drop], flags[~drop]
    digit = (flags & _DIGIT) != 0
    again = digit[1:] & digit[:-1]                 # a digit right after a digit: dropped
    if again.any():
        keep = np.concatenate(([True], ~again))
        cp, flags = cp[keep], flags[keep]
    bounds = np.flatnonzero(cp == 0)               # the texts' separators ("\x00")
    idx = np.flatnonzero(flags & _WORD)            # positions of word characters
    if not len(idx):
        return np.zeros(0, np.uint64), np.zeros(n_texts, np.int64), np.zeros(n_texts, dtype=bool)
    ends = np.append(bounds, len(cp))              # each text ends at the next separator
    letters = np.diff(np.searchsorted(idx, ends), prepend=0)
    by_char = np.zeros(n_texts, dtype=bool)
    nospace = (flags[idx] & _NOSPACE) != 0
    if nospace.any():
        per_text = np.diff(np.searchsorted(np.flatnonzero(nospace), np.searchsorted(idx, ends)), prepend=0)
        by_char = (letters > 0) & (per_text >= 0.3 * letters)
    is_first = np.empty(len(idx), dtype=bool)
    is_first[0] = True
    np.greater(np.diff(idx), 1, out=is_first[1:])  # a word starts after a gap (a separator)
    if by_char.any():
        is_first |= np.repeat(by_char, letters)    # there, every character is a token
    tok_first = np.flatnonzero(is_first)
    # sum over a token of cp_j * P**(j - first) = (sum of cp_j * P**j) * P**-first
    pw, inv = _powers(1 << max(16, (len(idx) - 1).bit_length()))
    h = np.add.reduceat(lower_of[cp[idx]].astype(np.uint64) * pw[:len(idx)], tok_first) * inv[tok_first]
    length = np.diff(np.append(tok_first, len(idx))).astype(np.uint64)
    h = _fmix(h ^ length, _F64)
    tokens_per_text = np.diff(np.searchsorted(idx[tok_first], ends), prepend=0)
    return h, tokens_per_text, by_char


def signatures(texts: Sequence[str], config: DedupConfig = DedupConfig()) -> tuple[np.ndarray, np.ndarray]:
    """(uint32[len(texts), num_perm] MinHash signatures, bool[len(texts)]: has tokens).

    Tokens, their hashes, the n-gram hashes, the permutations and the minimum per text
    are numpy operations over the whole batch. A text without tokens gets the empty
    signature (all 0xFFFFFFFF) and False."""
    sig = np.full((len(texts), config.num_perm), 0xFFFFFFFF, dtype=np.uint32)
    if not len(texts):
        return sig, np.zeros(0, dtype=bool)
    tok, lengths, by_char = _token_hashes(texts)
    n_arr = np.where(by_char, config.char_ngram, config.ngram)
    doc_start = np.cumsum(lengths) - lengths
    count = np.where(lengths == 0, 0, np.maximum(lengths - n_arr + 1, 1))  # shingles per text
    width = np.minimum(lengths, n_arr)                                     # tokens per shingle
    doc_of = np.repeat(np.arange(len(texts)), count)
    first = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count) + doc_start[doc_of]
    w = width[doc_of]
    mix = np.uint64(_MIX)
    h = tok[first]
    for k in range(1, int(w.max()) if len(w) else 1):
        step = _fmix(h * mix + tok[np.minimum(first + k, len(tok) - 1)], _F64)
        h = np.where(w > k, step, h)  # a shingle narrower than n (short text) stops early
    h32 = (h ^ (h >> np.uint64(32))).astype(np.uint32)
    a, b = permutations(config.num_perm, config.seed)
    has = count > 0
    if has.any():
        sig[has] = _min_over(h32, a, b, (np.cumsum(count) - count)[has])
    return sig, has


def signature(text: str, config: DedupConfig = DedupConfig()) -> np.ndarray:
    return signatures([text], config)[0][0]


def band_keys(sig: np.ndarray, config: DedupConfig = DedupConfig()) -> list[bytes]:
    """One key per band: band index (2 bytes) + a 12-byte digest of that band's rows."""
    r = config.rows
    return [struct.pack(">H", i) + hashlib.blake2b(sig[i * r:(i + 1) * r].tobytes(), digest_size=12).digest()
            for i in range(config.bands)]


def jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Estimated Jaccard similarity: the share of equal MinHash values."""
    return float(np.count_nonzero(sig_a == sig_b)) / len(sig_a)


# --- the graph -------------------------------------------------------------------------------

_NEVER = 0xFFFFFFFFFF  # 5 bytes of seconds: year 36812
ID_BYTES = 16


def _epoch(date: str) -> int:
    try:
        return int(datetime.datetime.fromisoformat(date.replace("Z", "+00:00")).timestamp())
    except (ValueError, AttributeError, OverflowError):
        return 0  # no or garbled date: oldest


def node_key(doc: Document) -> bytes:
    """The survivor rule as a byte order: newest fetch (WARC-Date) first, then the longest
    text, then the smallest id; the id is the last 16 bytes."""
    secs = min(max(_epoch(doc.date), 0), _NEVER)
    length = min(len(doc.text), 0xFFFFFFFF)
    return (_NEVER - secs).to_bytes(5, "big") + (0xFFFFFFFF - length).to_bytes(4, "big") + doc.id


def node_id(node: bytes) -> bytes:
    return node[-ID_BYTES:]


def bucket_edges(members: Iterable, verify: float = 0.0) -> Iterator[tuple[bytes, bytes]]:
    """(node, smallest node) for every other node of a bucket. `members` is iterated twice
    and never held: values are nodes, or (node, signature bytes) when verifying, and an
    edge is then kept only when the estimated Jaccard reaches `verify`."""
    head, head_sig = None, None
    for m in members:
        node = m if isinstance(m, bytes) else m[0]
        if head is None or node < head:
            head, head_sig = node, (None if isinstance(m, bytes) else m[1])
    if head is None:
        return
    ref = np.frombuffer(head_sig, dtype=np.uint32) if head_sig is not None else None
    for m in members:
        node = m if isinstance(m, bytes) else m[0]
        if node == head:
            continue
        if ref is not None and verify and jaccard(ref, np.frombuffer(m[1], dtype=np.uint32)) < verify:
            continue
        yield node, head


def large_star(u: bytes, neighbours: Iterable[bytes]) -> Iterator[tuple[bytes, bytes]]:
    """Connect every larger neighbour of u to the smallest node of u's neighbourhood."""
    m = min(u, min(neighbours, default=u))  # the first of two passes over the group
    for v in neighbours:
        if v > u:
            yield v, m


def small_star(u: bytes, neighbours: Iterable[bytes]) -> Iterator[tuple[bytes, bytes]]:
    """Connect u and its smaller neighbours to the smallest of them."""
    m = min(u, min(neighbours, default=u))
    if m != u:
        yield u, m
    for v in neighbours:
        if m < v < u:
            yield v, m


_PARENT, _CHILD = b"P", b"C"


def star_check(node: bytes, tagged: Iterable[bytes]) -> tuple[Optional[bytes], int, bool]:
    """(parent or None, children, converged) of a node after the last round, from values
    tagged P+parent (the node's edges to smaller nodes) and C (one per child).
    Converged: a leaf with one parent and no child, or a root with children only."""
    parent, children, parents_differ = None, 0, False
    for t in tagged:
        if t[:1] == _PARENT:
            p = t[1:]
            if parent is not None and p != parent:
                parents_differ = True
            parent = p if parent is None else min(parent, p)
        else:
            children += 1
    ok = not parents_differ and not (parent is not None and children)
    return parent, children, ok


# --- resolving the documents -----------------------------------------------------------------

def resolve(doc_id: bytes, docs: list[Document], assignment: list[tuple[bytes, int]]):
    """Keep or reject the documents that share an id; yield Document or Rejection.
    `assignment`: [(survivor id, cluster size)] when the document is in a cluster."""
    if not docs:
        return
    docs = sorted(docs, key=lambda d: (d.input, d.offset))
    first, rest = docs[0], docs[1:]
    for d in rest:  # the same record read twice (e.g. the same record in two files)
        yield Rejection.of(d, STAGE, "duplicate_id", f"input {first.input} offset {first.offset}")
    root, size = assignment[0] if assignment else (doc_id, 1)
    if root != doc_id:
        yield Rejection.of(first, STAGE, "near_duplicate", root.hex())
    else:
        first.cluster_size = size
        yield first


# The join by id carries documents and cluster assignments as one-byte-tagged bytes:
# CoGroupByKey's union values would fall back to pickle for the documents.
_DOC, _CLUSTER = b"D", b"C"
_CODER = DocumentCoder()


def _tag_doc(doc: Document) -> tuple[bytes, bytes]:
    return doc.id, _DOC + _CODER.encode(dataclasses.replace(doc, minhash=None))


class Resolve(Counted):
    """(id, tagged values) -> kept Documents; rejections and per-bundle counts tagged."""

    def __init__(self):
        super().__init__(STAGE)

    def process(self, kv):
        for item in self.timed(self._resolve(*kv)):
            yield from self.route(item)

    @staticmethod
    def _resolve(doc_id, values):
        docs, cluster = [], []
        for v in values:
            if v[:1] == _DOC:
                docs.append(_CODER.decode(v[1:]))
            else:
                cluster.append((v[1:1 + ID_BYTES], struct.unpack("<I", v[1 + ID_BYTES:])[0]))
        yield from resolve(doc_id, docs, cluster)


class _BandKeys(Counted):
    """A batch of documents -> (band key, node) or (band key, (node, signature)); the
    time spent (the MinHash signatures) is the dedup stage's, on the times output."""

    def __init__(self, config: DedupConfig):
        super().__init__(STAGE)
        self.config = config

    def process(self, batch):
        yield from self.timed(self._keys(batch))

    def _keys(self, batch):
        cfg = self.config
        for doc, sig in zip(batch, batch_signatures(batch, cfg)):
            if sig is None:
                beam.metrics.Metrics.counter(STAGE, "no_shingles").inc()
                continue
            node = node_key(doc)
            value = (node, sig.tobytes()) if cfg.verify else node
            for key in band_keys(sig, cfg):
                yield key, value


def attach_signature(doc: Document, _resource, config: DedupConfig) -> Document:
    """doc.minhash: the signature of its text, b"" when it has no shingles."""
    sigs, has = signatures([doc.text], config)
    doc.minhash = sigs[0].astype("<u4", copy=False).tobytes() if has[0] else b""
    return doc


def batch_signatures(docs: Sequence[Document], config: DedupConfig) -> list[Optional[np.ndarray]]:
    """Each document's signature (None: no shingles): the one it carries when it has one of
    this config's size, else computed here (all of those at once)."""
    out, missing = [], []
    for i, d in enumerate(docs):
        if d.minhash is not None and len(d.minhash) in (0, config.num_perm * 4):
            out.append(np.frombuffer(d.minhash, dtype="<u4") if d.minhash else None)
        else:
            out.append(None)
            missing.append(i)
    if missing:
        sigs, has = signatures([docs[i].text for i in missing], config)
        for i, sig, ok in zip(missing, sigs, has):
            out[i] = sig if ok else None
    return out


class MinHash(DocStage):
    """Beam shell: every document gets its signature (see the module docstring)."""

    def __init__(self, config: DedupConfig = DedupConfig()):
        super().__init__(SIGNATURE_STAGE, attach_signature, config)


def _both_ways(edge):
    a, b = edge
    yield a, b
    yield b, a


def _round(edges, label: str, step):
    return (edges
            | f"{label}Adjacency" >> beam.FlatMap(_both_ways).with_output_types(tuple[bytes, bytes])
            | f"{label}Group" >> beam.GroupByKey()
            | f"{label}Star" >> beam.FlatMapTuple(step).with_output_types(tuple[bytes, bytes]))


class _Assign(beam.DoFn):
    """The star check of one node: (id, tagged assignment) for the survivor and each
    removed document; an unconverged node is counted and fails the run."""

    def __init__(self, rounds: int):
        self.rounds = rounds
        self.unconverged = beam.metrics.Metrics.counter(STAGE, "cc_unconverged_nodes")
        self.clusters = beam.metrics.Metrics.counter(STAGE, "clusters")

    def process(self, kv):
        node, tagged = kv
        parent, children, ok = star_check(node, tagged)
        if not ok:
            self.unconverged.inc()
            raise RuntimeError(
                f"dedup: connected components did not converge in {self.rounds} large-star rounds "
                f"(node {node_id(node).hex()} is not yet in a star); raise DedupConfig.max_rounds")
        if parent is None:
            self.clusters.inc()
            yield node_id(node), _CLUSTER + node_id(node) + struct.pack("<I", children + 1)
        else:
            yield node_id(node), _CLUSTER + node_id(parent) + struct.pack("<I", 0)


def _tag_star(edge):
    child, parent = edge
    yield child, _PARENT + parent
    yield parent, _CHILD


class ConnectedComponents(beam.PTransform):
    """Edges (node, node) -> (id, tagged assignment): large-star and small-star rounds,
    then the star check. Rounds are unrolled (a Beam graph is fixed when built); once the
    graph is a forest of stars each further round leaves it as it is."""

    def __init__(self, max_rounds: int):
        super().__init__()
        self.max_rounds = max_rounds

    def expand(self, edges):
        for r in range(self.max_rounds):
            edges = _round(edges, f"Large{r}", large_star)
            if r < self.max_rounds - 1:
                edges = _round(edges, f"Small{r}", small_star)
        return (edges
                | "Final" >> beam.Distinct()
                | "TagStar" >> beam.FlatMap(_tag_star).with_output_types(tuple[bytes, bytes])
                | "StarCheck" >> beam.GroupByKey()
                | "Assign" >> beam.ParDo(_Assign(self.max_rounds)).with_output_types(tuple[bytes, bytes]))


class MinHashDedup(beam.PTransform):
    """Documents -> StageOutputs: one survivor per near-duplicate cluster."""

    def __init__(self, config: DedupConfig = DedupConfig()):
        super().__init__()
        self.config = config

    def expand(self, docs) -> StageOutputs:
        cfg = self.config
        banded = (docs
                  | "Batch" >> beam.BatchElements(min_batch_size=cfg.batch, max_batch_size=cfg.batch)
                  | "BandKeys" >> beam.ParDo(_BandKeys(cfg)).with_outputs(TIMES, main="keys"))
        edges = (banded["keys"]
                 | "Buckets" >> beam.GroupByKey()
                 | "BucketEdges" >> beam.FlatMap(lambda kv: bucket_edges(kv[1], cfg.verify))
                 .with_output_types(tuple[bytes, bytes])
                 | "DistinctEdges" >> beam.Distinct())
        assignment = edges | "Components" >> ConnectedComponents(cfg.max_rounds)
        keyed = docs | "TagDocs" >> beam.Map(_tag_doc).with_output_types(tuple[bytes, bytes])
        out = ((keyed, assignment)
               | "JoinInputs" >> beam.Flatten()
               | "JoinClusters" >> beam.GroupByKey()
               | "Survivors" >> beam.ParDo(Resolve()).with_output_types(Document)
               .with_outputs(REJECTED, COUNTS, TIMES, main=KEPT))
        out[REJECTED].element_type = Rejection
        times = (banded[TIMES], out[TIMES]) | "Times" >> beam.Flatten()
        return StageOutputs(out[KEPT], out[REJECTED], out[COUNTS], times)
