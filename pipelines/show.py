"""`gristmill show RUN_DIR DOC_ID`: where one document came from and what became of it.

It finds the id (or a unique prefix of 8+ hex characters) in the run's metadata tables
(`docs/*.parquet`, the `id` column only) or, failing that, in `rejected/*.jsonl.gz`
(streamed, stopping at the first match of a full id), then re-reads the WARC record
at its (input, offset, inner_offset) and shows its headers and the start of its
payload, checking that the record found there has the document's target URI. A kept
document also shows its metadata row and its text as it went into the shards (the
tokens of its position in its shard, decoded with the run's tokenizer.model); a
dropped one shows its stage, reason and detail. Everything is read with Beam's
FileSystems, so a run or input on gs:// works as a local one.
"""
from __future__ import annotations

import argparse
import gzip
import io
import json
import re
import struct
import sys
from dataclasses import dataclass, field
from typing import Iterator, Optional

from gristmill.usage import UsageError, report

PROG = "gristmill show"
MIN_PREFIX = 8
GZIP_MAGIC = b"\x1f\x8b"
_HEX = re.compile(r"[0-9a-f]+")


class NotFound(LookupError):
    """The id is in neither the metadata tables nor the rejections (exit 1)."""


# ------------------------------------------------------------------------- run files

def _fs():
    from apache_beam.io.filesystems import FileSystems
    return FileSystems


def _open(path: str):
    """A file as raw bytes: Beam would otherwise gunzip a .gz by its name."""
    from apache_beam.io.filesystem import CompressionTypes
    return _fs().open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def _join(run: str, rel: str) -> str:
    return rel if "://" in rel or rel.startswith("/") else f"{run.rstrip('/')}/{rel}"


def load_manifest(run: str) -> dict:
    path = _join(run, "manifest.json")
    try:
        exists = _fs().exists(path)
    except Exception as e:  # an unknown scheme, no credentials, ...
        raise UsageError(f"{run}: cannot read it ({type(e).__name__}: {e})") from None
    if not exists:
        raise UsageError(f"{run}: not a finished run directory (no manifest.json)")
    try:
        with _open(path) as f:
            manifest = json.loads(f.read())
    except (ValueError, OSError) as e:
        raise UsageError(f"{path}: unreadable ({type(e).__name__}: {e})") from None
    if not isinstance(manifest, dict) or "splits" not in manifest or "inputs" not in manifest:
        raise UsageError(f"{path}: not a gristmill manifest (no splits or inputs)")
    return manifest


def normalise_id(doc_id: str) -> str:
    d = doc_id.strip().lower()
    if not _HEX.fullmatch(d) or len(d) > 32:
        raise UsageError(f"DOC_ID {doc_id!r}: must be a 32-hex-character document id or a prefix of it")
    if len(d) < MIN_PREFIX:
        raise UsageError(f"DOC_ID {doc_id!r}: a prefix needs at least {MIN_PREFIX} hex characters")
    return d


def metadata_files(run: str, manifest: dict) -> list[str]:
    files = [s["metadata"] for shards in manifest["splits"].values() for s in shards if s.get("metadata")]
    if not files:  # an older manifest: every table in docs/
        files = [m.path for r in _fs().match([_join(run, "docs/*.parquet")]) for m in r.metadata_list]
    return [_join(run, f) for f in files]


def rejected_files(run: str, manifest: dict) -> list[str]:
    files = manifest.get("rejected")
    if files is None:
        files = [m.path for r in _fs().match([_join(run, "rejected/part-*.jsonl.gz")]) for m in r.metadata_list]
    return [_join(run, f) for f in files]


def find_kept(tables: list[str], prefix: str) -> list[tuple[str, str]]:
    """(table, full id) for every row whose id starts with `prefix`; reads the id column only."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    found = []
    for path in tables:
        with _open(path) as f:
            pf = pq.ParquetFile(f)
            for rg in range(pf.num_row_groups):
                ids = pf.read_row_group(rg, columns=["id"]).column("id")
                hits = ids.filter(pc.starts_with(ids, prefix)) if len(prefix) < 32 else \
                    ids.filter(pc.equal(ids, prefix))
                found += [(path, h) for h in hits.to_pylist()]
        if len(prefix) == 32 and found:
            break
    return found


def metadata_row(table: str, doc_id: str) -> dict:
    """The one row of `table` with this id (row groups pruned by the filter)."""
    import pyarrow.parquet as pq
    with _open(table) as f:
        rows = pq.read_table(f, filters=[("id", "==", doc_id)]).to_pylist()
    if not rows:
        raise NotFound(f"{doc_id} vanished from {table}")
    return rows[0]


def iter_rejections(files: list[str], prefix: str) -> Iterator[dict]:
    """Every rejection whose id starts with `prefix`, streamed file by file."""
    needle = prefix.encode()
    for path in files:
        with _open(path) as raw, gzip.GzipFile(fileobj=raw) as f:
            for line in f:
                if needle not in line:
                    continue
                r = json.loads(line)
                if r.get("id", "").startswith(prefix):
                    yield r


def find_rejections(files: list[str], prefix: str) -> list[dict]:
    """The rejections of the id: stop at the first for a full id; a prefix reads them all
    (an ambiguous prefix must say how many ids it matches)."""
    out = []
    for r in iter_rejections(files, prefix):
        out.append(r)
        if len(prefix) == 32:
            break
    return out


@dataclass
class Found:
    doc_id: str
    kept: Optional[dict] = None        # the metadata row
    table: str = ""
    rejection: Optional[dict] = None
    ids: set = field(default_factory=set)


def lookup(run: str, manifest: dict, prefix: str) -> Found:
    kept = find_kept(metadata_files(run, manifest), prefix)
    ids = {i for _, i in kept}
    rejections: list[dict] = []
    if len(prefix) < 32 or not kept:
        rejections = find_rejections(rejected_files(run, manifest), prefix)
        ids |= {r["id"] for r in rejections}
    if not ids:
        raise NotFound(f"no document {prefix} in the run {run} (neither kept nor rejected)")
    if len(ids) > 1:
        raise UsageError(f"DOC_ID {prefix} is ambiguous: {len(ids)} documents match; give more hex characters")
    (doc_id,) = ids
    if kept:
        table = kept[0][0]
        return Found(doc_id, kept=metadata_row(table, doc_id), table=table, ids=ids)
    return Found(doc_id, rejection=rejections[0], ids=ids)


def input_path(manifest: dict, index: int) -> Optional[str]:
    for i in manifest.get("inputs", []):
        if i.get("input") == index:
            return i.get("path")
    return None


# ----------------------------------------------------------------------- the record

def _member(fh, skip: int = 0):
    """The gzip member at fh's position (the reader's own GzipMember), `skip` bytes into
    its decompressed bytes (its tell() counts leading blank lines, as inner offsets do)."""
    from gristmill.transforms.read_warc import GzipMember
    member = GzipMember(fh)
    while member.tell() < skip and member.read(skip - member.tell()):
        pass
    return member


def _read_upto(member, n: int) -> bytes:
    """Up to n bytes; what a cut member gave before it ended."""
    out, got = [], 0
    try:
        while got < n:
            chunk = member.read(n - got)
            if not chunk:
                break
            out.append(chunk)
            got += len(chunk)
    except EOFError:
        pass
    return b"".join(out)


class _Skip(io.RawIOBase):
    """An uncompressed file from the current position, leading blank lines dropped."""

    def __init__(self, fh):
        self.fh, self.started = fh, False

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while True:
            data = self.fh.read(len(b))
            if not self.started and data:
                data = data.lstrip(b"\r\n")
                self.started = bool(data)
                if not data:
                    continue
            b[:len(data)] = data
            return len(data)


@dataclass
class Record:
    compressed: bool
    target_uri: str = ""
    warc_headers: list = field(default_factory=list)   # (name, value)
    warc_protocol: str = ""
    http_status: str = ""
    http_headers: list = field(default_factory=list)
    payload: bytes = b""
    error: str = ""
    raw: bytes = b""  # the bytes there, when no record could be parsed


def _bytes_there(fh, offset: int, inner_offset: int, compressed: bool, n: int) -> bytes:
    """The first n bytes at offset: decompressed when they are a gzip member that inflates."""
    fh.seek(offset)
    if compressed:
        try:
            return _read_upto(_member(fh, inner_offset), n)
        except (EOFError, OSError):
            fh.seek(offset)
    return fh.read(n)


def reread(path: str, offset: int, inner_offset: int = 0, max_bytes: int = 600) -> Record:
    """The record at `offset` of the WARC/ARC file (inside a gzip member when the bytes
    there start with its magic, `inner_offset` into its decompressed bytes)."""
    from warcio.archiveiterator import ArchiveIterator
    with _open(path) as fh:
        fh.seek(offset)
        head = fh.read(2)
        fh.seek(offset)
        rec = Record(compressed=head == GZIP_MAGIC)
        stream = _member(fh, inner_offset) if rec.compressed else _Skip(fh)
        try:
            it = ArchiveIterator(io.BufferedReader(stream, 1 << 16), arc2warc=True,
                                 ensure_http_headers=False, block_size=1 << 16)
            record = next(iter(it), None)
            if record is None:
                raise EOFError("no record there")
            h = record.rec_headers
            rec.warc_protocol = h.protocol
            rec.warc_headers = list(h.headers)
            rec.target_uri = (h.get_header("WARC-Target-URI") or "").strip()
            if record.http_headers is not None:
                rec.http_status = f"{record.http_headers.protocol} {record.http_headers.statusline}".strip()
                rec.http_headers = list(record.http_headers.headers)
            try:
                rec.payload = record.content_stream().read(max_bytes)
            except Exception as e:  # a broken chunked or Content-Encoding body
                rec.payload = record.raw_stream.read(max_bytes)
                rec.error = f"payload not decoded ({type(e).__name__}: {e}); raw bytes shown"
        except Exception as e:
            rec.error = f"no WARC record could be read there ({type(e).__name__}: {e})"[:300]
            rec.raw = _bytes_there(fh, offset, inner_offset, rec.compressed, max_bytes)
    return rec


# ------------------------------------------------------------------------ the tokens

def shard_tokens(path: str, position: int):
    """The tokens of document `position` of a .tok shard (the index slices the payload)."""
    import numpy as np
    from gristmill import tokfile
    if "://" not in path:
        return tokfile.TokFile(path).doc(position)
    with _open(path) as f:  # remote: the header, two index entries, the slice
        h = tokfile.Header.unpack(f.read(tokfile.HEADER_SIZE))
        f.seek(h.index_offset + 8 * position)
        start, end = struct.unpack("<QQ", f.read(16))
        f.seek(h.payload_offset + start * h.token_width)
        dtype = np.dtype("<u2") if h.token_width == 2 else np.dtype("<u4")
        return np.frombuffer(f.read((end - start) * h.token_width), dtype=dtype)


def decode_tokens(model: bytes, tokens) -> str:
    from gristmill.transforms.tokenizer import load_processor
    sp = load_processor(model)
    special = {sp.bos_id(), sp.eos_id(), sp.pad_id()}
    return sp.decode([int(t) for t in tokens if int(t) not in special])


def shard_path(run: str, manifest: dict, split: str, shard: int) -> str:
    for s in manifest["splits"].get(split, []):
        if s["path"].startswith(f"{split}-{shard:05d}-of-"):
            return _join(run, s["path"])
    raise NotFound(f"the manifest of {run} has no {split} shard {shard}")


def document_text(run: str, manifest: dict, row: dict) -> str:
    tokens = shard_tokens(shard_path(run, manifest, row["split"], row["shard"]), row["position"])
    with _open(_join(run, manifest.get("tokenizer", {}).get("file", "tokenizer.model"))) as f:
        model = f.read()
    return decode_tokens(model, tokens)


# ------------------------------------------------------------------------- printing

def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "-" if v is None else str(v)


def format_record(rec: Record, url: str, max_bytes: int) -> list[str]:
    lines = []
    if rec.error:
        lines.append(f"  ! {rec.error}")
    if rec.raw:
        what = "decompressed " if rec.compressed and not rec.raw.startswith(GZIP_MAGIC) else ""
        lines.append(f"  {what}bytes there (first {len(rec.raw)}): {rec.raw!r}")
        return lines
    if url:
        same = rec.target_uri == url
        lines.append(f"  target URI matches the document: {'yes' if same else 'NO'}"
                     + ("" if same else f" (record has {rec.target_uri!r}, document {url!r})"))
    else:
        lines.append("  (the rejection names no URL: nothing to check the record against)")
    lines.append(f"  {rec.warc_protocol}")
    lines += [f"  {k}: {v}" for k, v in rec.warc_headers]
    if rec.http_status:
        lines.append("  --- HTTP")
        lines.append(f"  {rec.http_status}")
        lines += [f"  {k}: {v}" for k, v in rec.http_headers]
    lines.append(f"  --- payload, first {len(rec.payload)} bytes (--bytes {max_bytes})")
    text = rec.payload.decode("utf-8", "replace")
    lines += ["  " + ln for ln in text.splitlines()] or ["  (empty)"]
    return lines


def where_lines(manifest: dict, index: int, offset: int, inner: int, length) -> tuple[list[str], Optional[str]]:
    path = input_path(manifest, index)
    lines = [f"warc file:     {path if path is not None else '(input ' + str(index) + ' is not in the manifest)'}",
             f"input:         {index}",
             f"offset:        {offset}",
             f"inner offset:  {inner}"]
    if length is not None:
        lines.append(f"length:        {length}")
    return lines, path


def show(run: str, doc_id: str, max_bytes: int = 600, full: bool = False, max_chars: int = 2000) -> str:
    """The report for one document (raises UsageError, NotFound)."""
    manifest = load_manifest(run)
    found = lookup(run, manifest, normalise_id(doc_id))
    out = [f"document:      {found.doc_id}"]
    if found.kept is not None:
        row = found.kept
        url, index, offset, inner, length = (row["url"], row["input"], row["offset"],
                                             row["inner_offset"], row["length"])
        out += ["status:        kept", f"url:           {url}", f"date:          {row['date'] or '-'}"]
    else:
        r = found.rejection
        url, index, offset, inner, length = (r.get("url", ""), r.get("input", -1), r.get("offset", -1),
                                             r.get("inner_offset", 0), None)
        out += ["status:        dropped", f"stage:         {r.get('stage')}",
                f"reason:        {r.get('reason')}", f"detail:        {r.get('detail') or '-'}",
                f"url:           {url or '-'}"]
    where, path = where_lines(manifest, index, offset, inner, length)
    out += where
    out.append("")
    out.append(f"WARC record re-read at offset {offset}" + (f", inner offset {inner}" if inner else "") + ":")
    if path is None or offset is None or offset < 0:
        out.append("  (no input file or offset to read)")
    else:
        try:
            out += format_record(reread(path, offset, inner, max_bytes), url, max_bytes)
        except (OSError, IOError) as e:
            hint = "" if "://" in path or path.startswith("/") else \
                " (the manifest's relative paths are relative to where the run was started)"
            out.append(f"  ! cannot read {path}: {type(e).__name__}: {e}"[:300] + hint)
    if found.kept is not None:
        row = found.kept
        out.append("")
        out.append("metadata:")
        for k in ("lang", "lang_score", "charset", "cluster_size", "split", "shard", "position",
                  "num_tokens"):
            out.append(f"  {k}: {_fmt(row.get(k))}")
        q = {k[2:]: v for k, v in row.items() if k.startswith("q_") and v is not None}
        out.append("  quality: " + (", ".join(f"{k}={_fmt(v)}" for k, v in q.items()) or "-"))
        pii = {k[4:]: v for k, v in row.items() if k.startswith("pii_") and v}
        out.append("  pii replaced: " + (", ".join(f"{k}={v}" for k, v in pii.items()) or "none"))
        text = document_text(run, manifest, row)
        out.append("")
        if full or len(text) <= max_chars:
            out.append(f"text in the shards ({len(text)} characters):")
            out.append(text)
        else:
            out.append(f"text in the shards (first {max_chars} of {len(text)} characters; --full for all):")
            out.append(text[:max_chars])
            out.append(f"[... {len(text) - max_chars} more characters]")
    return "\n".join(out)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line (gristmill.usage), not argparse's usage + error
        raise UsageError(f"{message} (see {PROG} --help)")


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = _Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    ap.add_argument("run_dir", metavar="RUN_DIR", help="a finished run directory (local or gs://)")
    ap.add_argument("doc_id", metavar="DOC_ID", help="the 32-hex document id, or a unique prefix (8+)")
    ap.add_argument("--bytes", type=int, default=600, help="payload bytes of the WARC record to show")
    ap.add_argument("--full", action="store_true", help="print all of the document's text")
    args = ap.parse_args(argv)
    if args.bytes < 0:
        raise UsageError(f"--bytes {args.bytes}: must be 0 or more")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parse_args(argv)
        text = show(args.run_dir, args.doc_id, max_bytes=args.bytes, full=args.full)
    except UsageError as e:
        return report(PROG, e)
    except NotFound as e:
        print(f"{PROG}: {' '.join(str(e).split())}", file=sys.stderr, flush=True)
        return 1
    print(text, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
