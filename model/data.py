"""Token loader over a run directory's shards (see DESIGN.md, "Token shard format").

The shards of one split, memory-mapped in manifest order, form a single token stream
(documents are `[BOS] ids [EOS]` back to back; empty shards are allowed). With
context length T:

  example i   = stream[i*T : i*T + T + 1]      x = first T tokens, y = last T tokens
  N examples  = (num_tokens - 1) // T          (the tail that does not fill one is unused)
  order       = grain.IndexSampler(N, NoSharding, shuffle, num_epochs=None, seed):
                position p of the global stream is record p % N of epoch p // N, each
                epoch a permutation of range(N) (grain's index shuffle, seed + epoch)
  global batch b = the sampler's positions [b*B, (b+1)*B)
  host h of H takes rows h, h+H, h+2H, ... of each global batch (grain's DataLoader
                with ShardOptions(h, H) reads exactly those sampler positions).

The sampler is not sharded itself, so the global order does not depend on H: a global
batch is the same on 1 host or 8, and a run may resume on another host count. The
batch of optimizer step s is a pure function of (manifest, seed, B, T, s, h, H):
`batch_at(s)` computes it directly, `iterator(s)` gives the same batches through a
grain DataLoader (prefetching) positioned at s. A batch that straddles an epoch
boundary takes the end of one epoch and the start of the next; no example is dropped.

`ExampleSource` is the grain `RandomAccessDataSource` (`__len__`, `__getitem__`): the
window of T+1 tokens, or with `doc_mask` a (2, T+1) array whose second row holds the
document number of each position (from the shards' document index), so attention can
stay inside a document. Shards are checked against the manifest before use: token
count, vocabulary, the tokenizer sha256 in the header, payload crc32 and (with
`verify`, the default) the sha256 of the whole file; a shard that disagrees is refused
with its path in the message.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections import OrderedDict
from typing import Iterator, Sequence

import numpy as np

from gristmill.tokfile import HEADER_SIZE, Header, TokFile, sha256_file

MANIFEST = "manifest.json"
MANIFEST_VERSIONS = (1, 2)  # 2 adds docs/*.parquet and range digests; shards are the same


def load_manifest(run_dir: str) -> tuple[dict, str]:
    """The run's manifest and the sha256 of its bytes (the data identity)."""
    path = os.path.join(run_dir, MANIFEST)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} not found: --data must be a run directory written by "
                                f"the pipeline (with manifest.json, tokenizer.model and *.tok shards)")
    with open(path, "rb") as f:
        raw = f.read()
    manifest = json.loads(raw)
    if manifest.get("format_version") not in MANIFEST_VERSIONS:
        raise ValueError(f"{path}: unsupported manifest format_version "
                         f"{manifest.get('format_version')!r} (expected one of {MANIFEST_VERSIONS})")
    return manifest, hashlib.sha256(raw).hexdigest()


def tokenizer_path(run_dir: str, manifest: dict) -> str:
    return os.path.join(run_dir, manifest["tokenizer"].get("file", "tokenizer.model"))


class ShardRefused(ValueError):
    """A shard that disagrees with the manifest (its message names the shard)."""


def check_shard(path: str, entry: dict, manifest: dict, verify: bool = True) -> Header:
    """The shard's header, after checking it (and with `verify` its bytes) against its
    manifest entry; ShardRefused naming the shard when anything disagrees."""
    with open(path, "rb") as f:
        try:
            h = Header.unpack(f.read(HEADER_SIZE))
        except ValueError as e:
            raise ShardRefused(f"shard {path}: {e}") from e
    tok = manifest["tokenizer"]
    refuse = f"shard {path} disagrees with the manifest, refusing it:"
    if h.num_tokens != entry["num_tokens"]:
        raise ShardRefused(f"{refuse} header says {h.num_tokens} tokens, manifest {entry['num_tokens']}")
    if h.vocab_size != tok["vocab_size"]:
        raise ShardRefused(f"{refuse} vocab size {h.vocab_size}, manifest {tok['vocab_size']}")
    if tok.get("sha256") and h.tokenizer_sha256 != tok["sha256"]:
        raise ShardRefused(f"{refuse} tokenizer sha256 {h.tokenizer_sha256[:16]}..., manifest's "
                         f"tokenizer {tok['sha256'][:16]}... (a shard of another tokenizer)")
    if "payload_crc32" in entry and h.payload_crc32 != entry["payload_crc32"]:
        raise ShardRefused(f"{refuse} payload crc32 {h.payload_crc32}, manifest {entry['payload_crc32']}")
    if verify and entry.get("sha256"):
        sha = sha256_file(path)
        if sha != entry["sha256"]:
            raise ShardRefused(f"{refuse} its sha256 is {sha[:16]}..., the manifest says "
                             f"{entry['sha256'][:16]}... (changed or damaged after the run)")
    return h


class TokenStream:
    """The shards of one split, read as one concatenated stream.

    Shards are checked against the manifest up front (`check_shard`); they are
    memory-mapped on first use, at most `max_open` at a time (a run can have more
    shards than a process may hold open files).
    """

    def __init__(self, run_dir: str, manifest: dict, split: str, max_open: int = 64, language: str = "",
                 verify: bool = True):
        self.split, self.max_open = split, max_open
        entries = manifest.get("splits", {}).get(split, [])
        if language:  # the shard set of one language (a run written with --split-by-language)
            entries = [e for e in entries if e.get("language") == language]
            if not entries:
                have = sorted({e.get("language") or "(all)" for e in manifest.get("splits", {}).get(split, [])})
                raise ValueError(f"split {split!r} has no shards of language {language!r} "
                                 f"(it has: {', '.join(have) or 'none'})")
        self.paths: list[str] = []  # non-empty shards, in manifest order
        sizes, docs = [], []
        for e in entries:
            path = os.path.join(run_dir, e["path"])
            if not os.path.isfile(path):
                raise FileNotFoundError(f"shard {path} listed in the manifest is missing")
            h = check_shard(path, e, manifest, verify)
            if h.num_tokens:
                self.paths.append(path)
                sizes.append(h.num_tokens)
                docs.append(h.num_docs)
        self.num_shards = len(entries)
        # starts[k] = stream offset of non-empty shard k; starts[-1] = total tokens.
        self.starts = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64)
        self.doc_base = np.concatenate([[0], np.cumsum(docs, dtype=np.int64)]).astype(np.int64)
        self.num_tokens = int(self.starts[-1])
        self._open: OrderedDict[int, TokFile] = OrderedDict()

    def shard(self, k: int) -> TokFile:
        """Non-empty shard k, memory-mapped (LRU of max_open)."""
        tf = self._open.pop(k, None) or TokFile(self.paths[k])
        self._open[k] = tf
        while len(self._open) > self.max_open:
            self._open.popitem(last=False)
        return tf

    def __len__(self) -> int:
        return self.num_tokens

    def _pieces(self, start: int, stop: int):
        """(shard k, local start, local stop, offset in the output) covering [start, stop)."""
        if not 0 <= start <= stop <= self.num_tokens:
            raise IndexError(f"[{start}, {stop}) outside the {self.num_tokens}-token stream")
        k = int(np.searchsorted(self.starts, start, side="right")) - 1
        pos = start
        while pos < stop:
            s0, s1 = int(self.starts[k]), int(self.starts[k + 1])
            take = min(stop, s1) - pos
            yield k, pos - s0, pos - s0 + take, pos - start
            pos += take
            k += 1

    def read(self, start: int, stop: int) -> np.ndarray:
        """stream[start:stop] as int32 (copies only the pieces it needs)."""
        out = np.empty(stop - start, dtype=np.int32)
        for k, a, b, o in self._pieces(start, stop):
            out[o:o + b - a] = self.shard(k).tokens[a:b]
        return out

    def doc_ids(self, start: int, stop: int) -> np.ndarray:
        """The document number (in the split) of each position of stream[start:stop], int64,
        from the shards' document index (a binary search in the memory-mapped offsets)."""
        out = np.empty(stop - start, dtype=np.int64)
        for k, a, b, o in self._pieces(start, stop):
            offsets = self.shard(k).doc_offsets  # uint64; search with uint64 so it stays mapped
            local = np.searchsorted(offsets, np.arange(a, b, dtype=np.uint64), side="right") - 1
            out[o:o + b - a] = self.doc_base[k] + local
        return out


class ExampleSource:
    """A grain RandomAccessDataSource of examples: source[i] -> the window of T+1 tokens,
    int32 (T+1,); with doc_mask, int32 (2, T+1): the window, then each position's
    document number counted from the window's first (0, 0, ..., 1, 1, ...)."""

    def __init__(self, stream: TokenStream, block_size: int, doc_mask: bool = False):
        self.stream, self.block_size, self.doc_mask = stream, block_size, doc_mask
        if stream.num_tokens < block_size + 1:
            raise ValueError(
                f"split {stream.split!r} has {stream.num_tokens} tokens in {stream.num_shards} "
                f"shard(s), fewer than block_size + 1 = {block_size + 1} needed for one example; "
                f"use a smaller --block-size or a larger run")
        self.num_examples = (stream.num_tokens - 1) // block_size

    def __len__(self) -> int:
        return self.num_examples

    def __repr__(self) -> str:  # grain keeps it in the DataLoader state: no addresses
        return (f"ExampleSource(split={self.stream.split!r}, tokens={self.stream.num_tokens}, "
                f"block_size={self.block_size}, doc_mask={self.doc_mask})")

    def __getitem__(self, i: int) -> np.ndarray:
        i = int(i)
        if not 0 <= i < self.num_examples:
            raise IndexError(f"example {i} out of range [0, {self.num_examples})")
        a, b = i * self.block_size, (i + 1) * self.block_size + 1
        w = self.stream.read(a, b)
        if not self.doc_mask:
            return w
        d = self.stream.doc_ids(a, b)
        return np.stack([w, (d - d[0]).astype(np.int32)])

    def windows(self, indices: Sequence[int]) -> np.ndarray:
        shape = (2, self.block_size + 1) if self.doc_mask else (self.block_size + 1,)
        return np.stack([self[i] for i in indices]) if len(indices) else np.zeros((0, *shape), np.int32)


def split_batch(w: np.ndarray) -> tuple[np.ndarray, ...]:
    """Stacked windows -> (x, y), or (x, y, segment ids of x) for doc-masked windows."""
    if w.ndim == 2:
        return w[:, :-1], w[:, 1:]
    return w[:, 0, :-1], w[:, 0, 1:], w[:, 1, :-1]


class TokenLoader:
    """Seeded, stateless batches of one split: `batch_at(step)` -> this host's (x, y)
    (and segment ids with doc_mask), or `iterator(step)` for the same through grain."""

    def __init__(self, run_dir: str, split: str, *, block_size: int, batch_size: int,
                 seed: int = 0, shuffle: bool = True, process_index: int | None = None,
                 process_count: int | None = None, manifest: tuple[dict, str] | None = None,
                 language: str = "", doc_mask: bool = False, verify: bool = True):
        import grain.python as grain
        self.manifest, self.manifest_sha256 = manifest or load_manifest(run_dir)
        self.stream = TokenStream(run_dir, self.manifest, split, language=language, verify=verify)
        self.source = ExampleSource(self.stream, block_size, doc_mask)
        self.block_size, self.batch_size = block_size, batch_size
        self.seed, self.shuffle = seed, shuffle
        if process_index is None or process_count is None:
            import jax
            process_index, process_count = jax.process_index(), jax.process_count()
        if batch_size % process_count:
            raise ValueError(f"batch size {batch_size} is not divisible by the "
                             f"{process_count} processes")
        if not 0 <= seed < 2 ** 32:
            raise ValueError(f"seed {seed} outside [0, 2^32) (grain's sampler needs it)")
        self.process_index, self.process_count = process_index, process_count
        self.host_batch_size = batch_size // process_count
        self.sampler = grain.IndexSampler(num_records=len(self.source), shard_options=grain.NoSharding(),
                                          shuffle=shuffle, num_epochs=None, seed=seed)

    def __len__(self) -> int:
        return len(self.source)

    @property
    def steps_per_epoch(self) -> float:
        return len(self.source) / self.batch_size

    def global_indices(self, step: int) -> np.ndarray:
        """Example ids of global batch `step` (all hosts), shape (B,)."""
        b = self.batch_size
        return np.array([self.sampler[p].record_key for p in range(step * b, (step + 1) * b)], np.int64)

    def host_indices(self, step: int, process_index: int | None = None,
                     process_count: int | None = None) -> np.ndarray:
        """Rows h, h+H, ... of global batch `step`: the sampler positions grain's
        DataLoader reads for ShardOptions(h, H)."""
        h = self.process_index if process_index is None else process_index
        hc = self.process_count if process_count is None else process_count
        b = self.batch_size
        return np.array([self.sampler[p].record_key for p in range(step * b + h, (step + 1) * b, hc)],
                        np.int64)

    def batch_at(self, step: int) -> tuple[np.ndarray, ...]:
        """This host's slice of global batch `step`: x, y int32 (B / H, T) (+ segment ids)."""
        return split_batch(self.source.windows(self.host_indices(step)))

    def global_batch_at(self, step: int) -> tuple[np.ndarray, ...]:
        return split_batch(self.source.windows(self.global_indices(step)))

    def iterator(self, start_step: int = 0, prefetch: int = 2) -> Iterator[tuple[np.ndarray, ...]]:
        """This host's batches from `start_step` on, endless, through a grain DataLoader
        (in process, `prefetch` batches read ahead by threads): the same as batch_at."""
        import grain.python as grain
        h, hc, per = self.process_index, self.process_count, self.host_batch_size
        loader = grain.DataLoader(
            data_source=self.source, sampler=self.sampler, worker_count=0,
            operations=[grain.Batch(per, drop_remainder=True)],
            shard_options=grain.ShardOptions(shard_index=h, shard_count=hc),
            read_options=grain.ReadOptions(num_threads=1, prefetch_buffer_size=prefetch * per))
        it = iter(loader)
        if start_step:  # grain's own state after step start_step - 1: the last position read
            state = json.loads(it.get_state())
            state["last_seen_indices"] = {"0": start_step * self.batch_size - hc + h}
            it.set_state(json.dumps(state).encode())
        return (split_batch(w) for w in it)
