"""`gristmill tokens`: how a text is cut into tokens, or what token ids say.

    gristmill tokens --run RUN_DIR "Hello, world!"        (the run's tokenizer.model)
    gristmill tokens --tokenizer FILE.model "Hello, world!"
    gristmill tokens --run RUN_DIR --ids 1 2 3

One row per token: its position, id, the piece as the vocabulary holds it ("▁" marks a
word's leading space, <0xNN> a byte of a character the vocabulary does not have) and the
text it stands for. Last line: `tokens=N chars=N bytes_per_token=...` (or, for --ids,
the decoded text).
"""
from __future__ import annotations

import argparse
import os
import sys

from gristmill.usage import UsageError, report


def _model(args) -> bytes:
    if bool(args.run) == bool(args.tokenizer):
        raise UsageError("give --run RUN_DIR or --tokenizer FILE (one of them)")
    path = os.path.join(args.run, "tokenizer.model") if args.run else args.tokenizer
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise UsageError(f"{path}: {e.strerror}") from None


def rows(sp, text: str) -> list[tuple[int, int, str, str]]:
    """(position, id, piece, the text it covers) per token of `text`."""
    from sentencepiece import sentencepiece_pb2

    proto = sentencepiece_pb2.SentencePieceText()
    proto.ParseFromString(sp.encode(text, out_type="serialized_proto"))
    return [(i, p.id, p.piece, p.surface) for i, p in enumerate(proto.pieces)]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="gristmill tokens", description=__doc__.split("\n\n")[0])
    ap.add_argument("text", nargs="?", help="the text to tokenize")
    ap.add_argument("--run", default="", help="a run directory (its tokenizer.model)")
    ap.add_argument("--tokenizer", default="", help="a sentencepiece .model file")
    ap.add_argument("--ids", nargs="+", type=int, help="decode these token ids instead")
    args = ap.parse_args(argv)
    try:
        model = _model(args)
        from gristmill.transforms.tokenizer import load_processor
        try:
            sp = load_processor(model)
        except Exception as e:
            raise UsageError(f"not a sentencepiece model ({e})") from None
        if args.ids is None and args.text is None:
            raise UsageError("give a text to tokenize, or --ids")
        if args.ids is not None:
            bad = [i for i in args.ids if not 0 <= i < sp.vocab_size()]
            if bad:
                raise UsageError(f"--ids {bad[0]}: not in the vocabulary (0..{sp.vocab_size() - 1})")
    except UsageError as e:
        return report("gristmill tokens", e)
    if args.ids is not None:
        print(f"{'id':>7}  piece")
        for i in args.ids:
            print(f"{i:>7}  {sp.id_to_piece(i)}")
        print(sp.decode(args.ids))
        return 0
    table = rows(sp, args.text)
    print(f"{'#':>4} {'id':>7}  {'piece':<20} text")
    for pos, tid, piece, surface in table:
        print(f"{pos:>4} {tid:>7}  {piece:<20} {surface!r}")
    n = len(table)
    nbytes = len(args.text.encode("utf-8"))
    print(f"tokens={n} chars={len(args.text)} bytes_per_token={nbytes / n if n else 0:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
