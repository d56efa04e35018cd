"""Token loader over a run directory's shards (see DESIGN.md, "Token shard format").

The shards of one split, memory-mapped in manifest order, form a single token stream
(documents are `[BOS] ids [EOS]` back to back; empty shards are allowed). With
context length T:

  example i   = stream[i*T : i*T + T + 1]      x = first T tokens, y = last T tokens
  N examples  = (num_tokens - 1) // T          (the tail that does not fill one is unused)
  epoch e     = numpy Generator seeded by (seed, e) -> permutation of range(N)
  global stream of example ids = perm(0) ++ perm(1) ++ perm(2) ++ ...
  global batch b = that stream's positions [b*B, (b+1)*B)
  host h of H takes rows [h*B/H, (h+1)*B/H) of each global batch.

So the batch of optimizer step s is a pure function of (manifest, seed, B, T, s):
resuming needs nothing but the step number, and any host can compute its own slice
without talking to the others. (A batch that straddles an epoch boundary simply takes
the end of one permutation and the start of the next; no example is dropped.)

`ExampleSource` is the random-access view (`__len__`, `__getitem__`), the shape of a
Grain `RandomAccessDataSource`; `TokenLoader` adds the order and the batching.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections import OrderedDict
from typing import Sequence

import numpy as np

from gristmill.tokfile import HEADER_SIZE, Header, TokFile

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


class TokenStream:
    """The shards of one split, read as one concatenated stream.

    Headers are checked against the manifest up front; the shards themselves are
    memory-mapped on first use, at most `max_open` at a time (a run can have more
    shards than a process may hold open files).
    """

    def __init__(self, run_dir: str, manifest: dict, split: str, max_open: int = 64, language: str = ""):
        self.split, self.max_open = split, max_open
        vocab = manifest["tokenizer"]["vocab_size"]
        entries = manifest.get("splits", {}).get(split, [])
        if language:  # the shard set of one language (a run written with --split-by-language)
            entries = [e for e in entries if e.get("language") == language]
            if not entries:
                have = sorted({e.get("language") or "(all)" for e in manifest.get("splits", {}).get(split, [])})
                raise ValueError(f"split {split!r} has no shards of language {language!r} "
                                 f"(it has: {', '.join(have) or 'none'})")
        self.paths: list[str] = []  # non-empty shards, in manifest order
        sizes = []
        for e in entries:
            path = os.path.join(run_dir, e["path"])
            if not os.path.isfile(path):
                raise FileNotFoundError(f"shard {path} listed in the manifest is missing")
            with open(path, "rb") as f:
                h = Header.unpack(f.read(HEADER_SIZE))
            if h.num_tokens != e["num_tokens"]:
                raise ValueError(f"{path}: header says {h.num_tokens} tokens, "
                                 f"manifest says {e['num_tokens']}")
            if h.vocab_size != vocab:
                raise ValueError(f"{path}: vocab size {h.vocab_size} != manifest's {vocab}")
            if h.num_tokens:
                self.paths.append(path)
                sizes.append(h.num_tokens)
        self.num_shards = len(entries)
        # starts[k] = stream offset of non-empty shard k; starts[-1] = total tokens.
        self.starts = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64)
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

    def read(self, start: int, stop: int) -> np.ndarray:
        """stream[start:stop] as int32 (copies only the pieces it needs)."""
        if not 0 <= start <= stop <= self.num_tokens:
            raise IndexError(f"[{start}, {stop}) outside the {self.num_tokens}-token stream")
        out = np.empty(stop - start, dtype=np.int32)
        k = int(np.searchsorted(self.starts, start, side="right")) - 1
        pos = start
        while pos < stop:
            s0, s1 = int(self.starts[k]), int(self.starts[k + 1])
            take = min(stop, s1) - pos
            out[pos - start:pos - start + take] = self.shard(k).tokens[pos - s0:pos - s0 + take]
            pos += take
            k += 1
        return out


class ExampleSource:
    """Random access to examples of T+1 tokens: source[i] -> (x, y), int32 (T,) each."""

    def __init__(self, stream: TokenStream, block_size: int):
        self.stream, self.block_size = stream, block_size
        if stream.num_tokens < block_size + 1:
            raise ValueError(
                f"split {stream.split!r} has {stream.num_tokens} tokens in {stream.num_shards} "
                f"shard(s), fewer than block_size + 1 = {block_size + 1} needed for one example; "
                f"use a smaller --block-size or a larger run")
        self.num_examples = (stream.num_tokens - 1) // block_size

    def __len__(self) -> int:
        return self.num_examples

    def window(self, i: int) -> np.ndarray:
        if not 0 <= i < self.num_examples:
            raise IndexError(f"example {i} out of range [0, {self.num_examples})")
        t = self.block_size
        return self.stream.read(i * t, i * t + t + 1)

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        w = self.window(int(i))
        return w[:-1], w[1:]

    def windows(self, indices: Sequence[int]) -> np.ndarray:
        return np.stack([self.window(int(i)) for i in indices]) if len(indices) else \
            np.zeros((0, self.block_size + 1), np.int32)


class TokenLoader:
    """Seeded, stateless batches of one split: `batch_at(step)` -> this host's (x, y)."""

    def __init__(self, run_dir: str, split: str, *, block_size: int, batch_size: int,
                 seed: int = 0, shuffle: bool = True, process_index: int | None = None,
                 process_count: int | None = None, manifest: tuple[dict, str] | None = None,
                 language: str = ""):
        self.manifest, self.manifest_sha256 = manifest or load_manifest(run_dir)
        self.stream = TokenStream(run_dir, self.manifest, split, language=language)
        self.source = ExampleSource(self.stream, block_size)
        self.block_size, self.batch_size = block_size, batch_size
        self.seed, self.shuffle = seed, shuffle
        if process_index is None or process_count is None:
            import jax
            process_index, process_count = jax.process_index(), jax.process_count()
        if batch_size % process_count:
            raise ValueError(f"batch size {batch_size} is not divisible by the "
                             f"{process_count} processes")
        self.process_index, self.process_count = process_index, process_count
        self.host_batch_size = batch_size // process_count
        self._perms: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.source)

    @property
    def steps_per_epoch(self) -> float:
        return len(self.source) / self.batch_size

    def permutation(self, epoch: int) -> np.ndarray:
        """The example order of `epoch` (cached: a batch needs at most two epochs)."""
        if epoch not in self._perms:
            n = len(self.source)
            perm = (np.random.default_rng([self.seed, epoch]).permutation(n) if self.shuffle
                    else np.arange(n, dtype=np.int64))
            if len(self._perms) >= 2:
                self._perms.pop(next(iter(self._perms)))
            self._perms[epoch] = perm
        return self._perms[epoch]

    def global_indices(self, step: int) -> np.ndarray:
        """Example ids of global batch `step` (all hosts), shape (B,)."""
        n, b = len(self.source), self.batch_size
        pos = np.arange(step * b, (step + 1) * b, dtype=np.int64)
        epochs, offs = pos // n, pos % n
        out = np.empty(b, dtype=np.int64)
        for e in np.unique(epochs):
            sel = epochs == e
            out[sel] = self.permutation(int(e))[offs[sel]]
        return out

    def host_indices(self, step: int, process_index: int | None = None,
                     process_count: int | None = None) -> np.ndarray:
        h = self.process_index if process_index is None else process_index
        hc = self.process_count if process_count is None else process_count
        per = self.batch_size // hc
        return self.global_indices(step)[h * per:(h + 1) * per]

    def batch_at(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        """This host's slice of global batch `step`: x, y int32 (B / H, T)."""
        w = self.source.windows(self.host_indices(step))
        return w[:, :-1], w[:, 1:]

    def global_batch_at(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        w = self.source.windows(self.global_indices(step))
        return w[:, :-1], w[:, 1:]
