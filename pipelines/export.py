"""`gristmill export --format nanogpt|llmc RUN_DIR OUT`: a run's token shards for other trainers.

nanogpt  OUT/train.bin and OUT/val.bin: every document's tokens (`[BOS] ids [EOS]`),
         shard after shard, as one flat little-endian uint16 array, the layout nanoGPT's
         data/*/prepare.py writes and train.py reads with `np.memmap(path, dtype=np.uint16,
         mode="r")`; OUT/meta.pkl {"vocab_size": V} (train.py takes the model's vocabulary
         size from it). Needs a vocabulary of at most 65,536.
llmc     one file per shard, OUT/gristmill_{split}_{NNNNNN}.bin: a header of 256 int32
         (magic 20240520, version 1, token count; the rest 0) then the tokens as uint16,
         as llm.c's dev/data/data_common.py writes them; a vocabulary above 65,536 gets
         llm.c's uint32 layout (magic 20240801, version 2).

Shards are verified (crc32) and copied in blocks, never whole in memory. Last line:
`format=... files=N tokens=N`.
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import sys

import numpy as np

from gristmill import tokfile
from gristmill.usage import UsageError, report

BLOCK = 1 << 22  # tokens copied at a time
LLMC_MAGIC = {2: (20240520, 1), 4: (20240801, 2)}  # token bytes -> (magic, version)


def _shards(run: str):
    try:
        with open(os.path.join(run, "manifest.json")) as f:
            manifest = json.load(f)
    except OSError as e:
        raise UsageError(f"{run}: not a finished run directory ({e.strerror}: {e.filename})") from None
    for split, shards in sorted(manifest["splits"].items()):
        for entry in shards:
            tok = tokfile.TokFile(os.path.join(run, entry["path"]))
            try:
                tok.verify()
            except ValueError as e:
                raise UsageError(f"{e} (run gristmill verify {run})") from None
            yield split, tok


def _copy(tok: tokfile.TokFile, out, dtype) -> int:
    n = tok.header.num_tokens
    for i in range(0, n, BLOCK):
        out.write(np.asarray(tok.tokens[i:i + BLOCK]).astype(dtype, copy=False).tobytes())
    return n


def export(fmt: str, run: str, out: str) -> dict:
    os.makedirs(out, exist_ok=True)
    files, tokens = [], 0
    if fmt == "nanogpt":
        handles, vocab = {}, None
        try:
            for split, tok in _shards(run):
                vocab = tok.header.vocab_size
                if vocab > 65536:
                    raise UsageError(f"nanoGPT's .bin holds uint16 tokens; this run's vocabulary is {vocab}")
                if split not in handles:
                    handles[split] = open(os.path.join(out, f"{split}.bin"), "wb")
                    files.append(f"{split}.bin")
                tokens += _copy(tok, handles[split], "<u2")
        finally:
            for h in handles.values():
                h.close()
        with open(os.path.join(out, "meta.pkl"), "wb") as f:
            pickle.dump({"vocab_size": vocab}, f)
        files.append("meta.pkl")
    elif fmt == "llmc":
        counters: dict[str, int] = {}
        for split, tok in _shards(run):
            width = 2 if tok.header.vocab_size <= 65536 else 4
            magic, version = LLMC_MAGIC[width]
            n = tok.header.num_tokens
            if n >= 1 << 31:
                raise UsageError(f"{tok.path}: {n} tokens do not fit llm.c's int32 token count")
            name = f"gristmill_{split}_{counters.setdefault(split, 0):06d}.bin"
            counters[split] += 1
            header = np.zeros(256, dtype="<i4")
            header[:3] = (magic, version, n)
            with open(os.path.join(out, name), "wb") as f:
                f.write(header.tobytes())
                tokens += _copy(tok, f, "<u2" if width == 2 else "<u4")
            files.append(name)
    else:
        raise UsageError(f"--format {fmt}: nanogpt or llmc")
    return {"files": files, "tokens": tokens}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="gristmill export", description=__doc__.split("\n\n")[0])
    ap.add_argument("--format", required=True, choices=("nanogpt", "llmc"))
    ap.add_argument("run", help="a finished run directory")
    ap.add_argument("out", help="folder to write")
    args = ap.parse_args(argv)
    try:
        result = export(args.format, args.run, args.out)
    except UsageError as e:
        return report("gristmill export", e)
    for name in result["files"]:
        print(os.path.join(args.out, name))
    print(f"format={args.format} files={len(result['files'])} tokens={result['tokens']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
