"""MinHashDedup: near-duplicate removal with datasketch MinHash + LSH band buckets.

Plain functions: `shingles` (word n-grams of normalised text), `signature`
(datasketch MinHash), `band_keys` (LSH buckets), `connected_components`
(union-find over the star edges of each bucket) and `survivors`.
Beam: signatures -> (band key, id) -> GroupByKey -> star edges per bucket ->
components -> one survivor per cluster (the smallest id), joined back to the
documents by id.

The components step gathers the edges on one worker. Edges exist only between
documents that share a bucket, so this is small next to the corpus; the DESIGN's
distributed large-star/small-star rounds replace it in a later issue.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
import unicodedata
from typing import Iterable

import apache_beam as beam
import numpy as np
from datasketch import MinHash

from gristmill.transforms.document import Document, Rejection

STAGE = "dedup"
_NON_WORD = re.compile(r"[^\w\s]+")


@dataclasses.dataclass(frozen=True)
class DedupConfig:
    ngram: int = 5        # word 5-grams (FineWeb)
    bands: int = 14       # 14 bands x 8 rows = 112 permutations (FineWeb)
    rows: int = 8
    seed: int = 1
    scheme: str = "affine32"  # datasketch 2.x default: bijective permutations, uint32 values

    @property
    def num_perm(self) -> int:
        return self.bands * self.rows


def normalize(text: str) -> list[str]:
    """NFKC, lowercase, punctuation removed, split on whitespace."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _NON_WORD.sub(" ", text).split()


def shingles(text: str, n: int = 5) -> list[bytes]:
    words = normalize(text)
    if len(words) < n:
        return [" ".join(words).encode()]
    return list({" ".join(words[i:i + n]).encode() for i in range(len(words) - n + 1)})


@functools.lru_cache(maxsize=4)
def _permutations(num_perm: int, seed: int, scheme: str):
    return MinHash(num_perm=num_perm, seed=seed, scheme=scheme).permutations


def signature(text: str, config: DedupConfig = DedupConfig()) -> np.ndarray:
    """datasketch MinHash hash values (uint32[num_perm] for affine32) of the text's shingles."""
    m = MinHash(num_perm=config.num_perm, seed=config.seed, scheme=config.scheme,
                permutations=_permutations(config.num_perm, config.seed, config.scheme))
    m.update_batch(shingles(text, config.ngram))
    return m.hashvalues


def band_keys(sig: np.ndarray, config: DedupConfig = DedupConfig()) -> list[bytes]:
    """One key per band: band index + a digest of that band's rows."""
    return [bytes([b]) + hashlib.blake2b(sig[b * config.rows:(b + 1) * config.rows].tobytes(),
                                         digest_size=12).digest()
            for b in range(config.bands)]


def star_edges(ids: Iterable[str]) -> list[tuple[str, str]]:
    """Edges from the smallest id of a bucket to each other member."""
    ids = sorted(set(ids))
    return [(ids[0], other) for other in ids[1:]]


def connected_components(edges: Iterable[tuple[str, str]]) -> dict[str, str]:
    """id -> smallest id of its component, for every id that has an edge."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in parent}


def survivors(edges: Iterable[tuple[str, str]]) -> list[tuple[str, tuple[str, int]]]:
    """(id, (survivor id, cluster size)) for every id in a cluster of two or more."""
    root = connected_components(edges)
    sizes: dict[str, int] = {}
    for r in root.values():
        sizes[r] = sizes.get(r, 0) + 1
    return [(i, (r, sizes[r])) for i, r in root.items()]


def resolve(doc_id: str, docs: list[Document], assignment: list[tuple[str, int]]):
    """Keep or reject the documents that share an id; yield Document or Rejection."""
    if not docs:
        return
    docs = sorted(docs, key=lambda d: (d.warc_file, d.warc_offset))
    first, rest = docs[0], docs[1:]
    for d in rest:  # the same record read twice (e.g. a file given twice)
        yield Rejection.of(d, STAGE, "duplicate_id", first.warc_file)
    root, size = assignment[0] if assignment else (doc_id, 1)
    first.minhash = None
    if root != doc_id:
        yield Rejection.of(first, STAGE, "near_duplicate", root)
    else:
        first.cluster_size = size
        yield first


class MinHashDedup(beam.PTransform):
    """Documents -> (kept, rejected): one survivor per near-duplicate cluster."""

    def __init__(self, config: DedupConfig = DedupConfig()):
        super().__init__()
        self.config = config

    def expand(self, docs):
        cfg = self.config

        def with_signature(doc: Document) -> Document:
            doc.minhash = signature(doc.text, cfg)
            return doc

        signed = docs | "Signature" >> beam.Map(with_signature)
        edges = (signed
                 | "BandKeys" >> beam.FlatMap(lambda d: [(k, d.id) for k in band_keys(d.minhash, cfg)])
                 | "Buckets" >> beam.GroupByKey()
                 | "StarEdges" >> beam.FlatMap(lambda kv: star_edges(kv[1]))
                 | "DistinctEdges" >> beam.Distinct())
        assignment = (edges
                      | "GatherEdges" >> beam.combiners.ToList()
                      | "Components" >> beam.FlatMap(survivors))
        keyed = signed | "KeyById" >> beam.Map(lambda d: (d.id, d))
        out = ({"docs": keyed, "cluster": assignment}
               | "JoinClusters" >> beam.CoGroupByKey()
               | "Survivors" >> beam.FlatMap(lambda kv: resolve(kv[0], list(kv[1]["docs"]),
                                                                 list(kv[1]["cluster"]))))
        split = out | "SplitRejected" >> beam.Partition(lambda x, _: int(isinstance(x, Rejection)), 2)
        return split[0], split[1]
