"""`gristmill verify RUN_DIR`: check every shard of a run against its format and manifest.

Per shard (docs/shard-format.md): the header (magic, version, token width for the
vocabulary, payload at 4096, index offset 8-byte aligned after the payload, file size);
payload and index crc32; the index (starts at 0, never decreases, ends at num_tokens);
token ids below the vocabulary size, each document `[BOS] ... [EOS]`; shard id and count;
the tokenizer's sha256, vocabulary and special ids against tokenizer.model; and the
manifest's entry (file sha256, num_tokens, num_docs, payload_crc32) and its metadata
table (one row per document, num_tokens per row). Then the manifest's sums (stats tokens
and documents per split). Each problem is one line `FILE: FIELD: what`. Last line:
`ok=true|false shards=N tokens=N documents=N problems=N`; exit status 1 on a problem.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import zlib

import numpy as np

from gristmill import tokfile
from gristmill.usage import UsageError, report


def check_shard(path: str, entry: dict, model: dict, split_shards: int, index: int) -> tuple[list[str], int, int]:
    """(problems, tokens, documents) of one shard file."""
    name = entry.get("path") or os.path.basename(path)
    problems: list[str] = []

    def bad(field: str, what: str) -> None:
        problems.append(f"{name}: {field}: {what}")

    try:
        with open(path, "rb") as f:
            h = tokfile.Header.unpack(f.read(tokfile.HEADER_SIZE))
    except OSError as e:
        return [f"{name}: file: {e.strerror}"], 0, 0
    except (ValueError, UnicodeDecodeError) as e:  # magic, version, JSON blob
        field = "magic" if "magic" in str(e) else "version" if "version" in str(e) else "header"
        return [f"{name}: {field}: {e}"], 0, 0
    size = os.path.getsize(path)
    width = tokfile.token_dtype(h.vocab_size).itemsize
    if h.token_width != width:
        bad("token_width", f"{h.token_width} bytes, but a vocabulary of {h.vocab_size} needs {width}")
    if h.payload_offset != tokfile.HEADER_SIZE:
        bad("payload_offset", f"{h.payload_offset}, expected {tokfile.HEADER_SIZE}")
    expect_index = -(-(h.payload_offset + h.num_tokens * h.token_width) // 8) * 8
    if h.index_offset != expect_index:
        bad("index_offset", f"{h.index_offset}, expected {expect_index} (after {h.num_tokens} tokens, aligned)")
    if size != h.index_offset + (h.num_docs + 1) * 8:
        bad("file size", f"{size} bytes, the header says {h.index_offset + (h.num_docs + 1) * 8}")
    for field, have, want in (("vocab_size", h.vocab_size, model["vocab_size"]), ("bos_id", h.bos_id, model["bos_id"]),
                              ("eos_id", h.eos_id, model["eos_id"]), ("tokenizer_sha256", h.tokenizer_sha256, model["sha256"]),
                              ("shard_id", h.shard_id, index), ("num_shards", h.num_shards, split_shards)):
        if have != want:
            bad(field, f"{have}, expected {want}")
    if problems and any(p.split(": ")[1] in ("token_width", "index_offset", "file size") for p in problems):
        return problems, h.num_tokens, h.num_docs  # the layout is wrong: reading on would mislead
    dtype = np.dtype("<u2") if h.token_width == 2 else np.dtype("<u4")
    tokens = np.memmap(path, dtype=dtype, mode="r", offset=h.payload_offset, shape=(h.num_tokens,)) \
        if h.num_tokens else np.zeros(0, dtype)
    offsets = np.fromfile(path, dtype="<u8", count=h.num_docs + 1, offset=h.index_offset)
    if zlib.crc32(np.asarray(tokens).tobytes()) != h.payload_crc32:
        bad("payload_crc32", "the payload's crc32 differs from the header's")
    if zlib.crc32(offsets.tobytes()) != h.index_crc32:
        bad("index_crc32", "the index's crc32 differs from the header's")
    index_ok = len(offsets) == h.num_docs + 1 and offsets[0] == 0 and offsets[-1] == h.num_tokens
    if not index_ok:
        bad("index", f"runs from {offsets[0] if len(offsets) else '-'} to {offsets[-1] if len(offsets) else '-'}, "
                     f"expected 0 to {h.num_tokens}")
    elif np.any(np.diff(offsets.astype(np.int64)) < 2):
        i = int(np.flatnonzero(np.diff(offsets.astype(np.int64)) < 2)[0])
        bad("index", f"document {i} spans {int(offsets[i + 1]) - int(offsets[i])} tokens (decreasing or no room for BOS/EOS)")
    elif h.num_tokens:
        if int(tokens.max()) >= h.vocab_size:
            bad("tokens", f"id {int(tokens.max())} at position {int(np.argmax(tokens >= h.vocab_size))} "
                          f"is not below vocab_size {h.vocab_size}")
        starts, ends = offsets[:-1].astype(np.int64), offsets[1:].astype(np.int64) - 1
        if np.any(tokens[starts] != h.bos_id):
            bad("tokens", f"document {int(np.flatnonzero(tokens[starts] != h.bos_id)[0])} does not start with BOS")
        if np.any(tokens[ends] != h.eos_id):
            bad("tokens", f"document {int(np.flatnonzero(tokens[ends] != h.eos_id)[0])} does not end with EOS")
    for field, want in (("num_tokens", h.num_tokens), ("num_docs", h.num_docs), ("payload_crc32", h.payload_crc32)):
        if entry.get(field) != want:
            bad(f"manifest {field}", f"{entry.get(field)}, the shard says {want}")
    if entry.get("sha256") != tokfile.sha256_file(path):
        bad("manifest sha256", "the file's sha256 differs from the manifest's")
    rel = entry.get("path", "")  # the metadata's path is relative to the run directory
    root = path[:-len(rel)] if rel and path.endswith(rel) else os.path.dirname(path) + os.sep
    meta = os.path.join(root, entry.get("metadata", ""))
    try:
        import pyarrow.parquet as pq
        table = pq.read_table(meta, columns=["num_tokens"]).column("num_tokens").to_numpy()
        if len(table) != h.num_docs:
            bad("metadata rows", f"{len(table)}, the shard holds {h.num_docs} documents")
        elif index_ok and not np.array_equal(table, np.diff(offsets.astype(np.int64))):
            bad("metadata num_tokens", "differs from the index's document lengths")
    except (OSError, KeyError, ValueError) as e:
        bad("metadata", f"{entry.get('metadata')}: {e}")
    return problems, h.num_tokens, h.num_docs


def verify(run: str) -> dict:
    try:
        with open(os.path.join(run, "manifest.json")) as f:
            manifest = json.load(f)
        with open(os.path.join(run, "tokenizer.model"), "rb") as f:
            model_bytes = f.read()
    except OSError as e:
        raise UsageError(f"{run}: not a finished run directory ({e.strerror}: {e.filename})") from None
    except ValueError as e:
        raise UsageError(f"{run}/manifest.json: not JSON ({e})") from None
    from gristmill.transforms.tokenizer import model_info

    model = model_info(model_bytes)
    problems = [f"tokenizer.model: {k}: {model[k]}, the manifest says {manifest['tokenizer'].get(k)}"
                for k in ("sha256", "vocab_size", "bos_id", "eos_id") if manifest["tokenizer"].get(k) != model[k]]
    totals = {"shards": 0, "tokens": 0, "documents": 0}
    for split, shards in sorted(manifest["splits"].items()):
        tokens = docs = 0
        sets = collections.Counter(e.get("language") for e in shards)  # a set per language, or one
        seen = collections.Counter()
        for entry in shards:
            language = entry.get("language")
            p, t, d = check_shard(os.path.join(run, entry["path"]), entry, model, sets[language], seen[language])
            seen[language] += 1
            problems += p
            tokens, docs = tokens + t, docs + d
        totals["shards"] += len(shards)
        totals["tokens"] += tokens
        totals["documents"] += docs
        for field, have in (("tokens", tokens), ("documents", docs)):
            want = manifest.get("stats", {}).get(field, {}).get(split)
            if want != have:
                problems.append(f"manifest.json: stats.{field}.{split}: {want}, the shards hold {have}")
    return {**totals, "problems": problems}


def promote(run: str) -> str:
    """Point <the run's parent>/latest at the run: a one-line file holding the run's folder
    name, replaced atomically (readers see the old run or the new one, never neither)."""
    run = os.path.abspath(run.rstrip("/"))
    latest = os.path.join(os.path.dirname(run), "latest")
    tmp = f"{latest}.{os.getpid()}.inprogress"
    with open(tmp, "w") as f:
        f.write(os.path.basename(run) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, latest)
    return latest


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="gristmill verify", description=__doc__.split("\n\n")[0])
    ap.add_argument("run", help="a finished run directory")
    ap.add_argument("--promote", action="store_true",
                    help="if every check passes, point <the run's parent>/latest at this run")
    args = ap.parse_args(argv)
    try:
        result = verify(args.run)
    except UsageError as e:
        return report("gristmill verify", e)
    for p in result["problems"]:
        print(p)
    ok = not result["problems"]
    if ok and args.promote:
        print(f"[verify] {promote(args.run)} -> {os.path.basename(os.path.abspath(args.run.rstrip('/')))}")
    print(f"ok={'true' if ok else 'false'} shards={result['shards']} tokens={result['tokens']} "
          f"documents={result['documents']} problems={len(result['problems'])}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
