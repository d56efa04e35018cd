"""Per-range checkpoints of the per-document stages: resumable and incremental runs.

Everything from ReadWarc through MinHash (the signature) runs fused on the worker that
reads a byte range, one record at a time: a record is pushed through every stage before
the reader goes on. So the reader opens a checkpoint for its range on its thread
(`begin`), each covered stage's `Counted.route` notes its rejections there and the last
one (MinHash) its survivors, signatures included (`note`), and after the range's last
record the reader closes it with the range's summary (`end`):
``<work>/<input key>/<start>-<end>.ckpt``, written under a temporary name and renamed
when complete, so a checkpoint is whole or absent. (A multi-input
Flatten would not do: Beam's FnApiRunner materialises it, so its consumer would run
after the whole read stage, not range by range.)

A later run with the same per-document settings (a rerun of a killed run, or a run over a
grown input list pointed at the same work folder) plans each input file from the
checkpoints found (`plan_ranges`): finished ranges are replayed (`read_warc.ReplayRanges`, the
documents, rejections, counts and range summary exactly as the readers emitted them, the
input index renumbered), only the rest is read. The input key is a digest of the file's
path and listed size and of the settings that decide the per-document output, so a
changed setting or a rewritten file never reuses a stale checkpoint.

File layout: ``GMCK1\\n``, a 4-byte length and a JSON header (the range summary and the
counts per stage), then items, each a tag byte (``D`` document, ``R`` rejection), a
4-byte length and the item in its Beam coder's bytes. The counts are derived: a
stage's dropped records by reason from the rejections, kept = in - dropped; a range
whose derived survivors disagree with the documents seen is not checkpointed (it is
read again next time), so a checkpoint cannot change the funnel.
"""
from __future__ import annotations

import collections
import hashlib
import json
import logging
import re
import struct
import threading
import uuid
from typing import Iterable, Optional

from apache_beam.io.filesystems import FileSystems

from gristmill.transforms.document import (Document, Rejection, RejectionCoder, decode_document,
                                           encode_document)

MAGIC = b"GMCK1\n"
FORMAT = 1
STAGES = ("read", "url_filter", "extract", "langid", "quality", "minhash")  # what a checkpoint covers
_LEN = struct.Struct("<I")
_NAME = re.compile(r"(\d+)-(\d+)\.ckpt$")
_REJ = RejectionCoder()
UNREADABLE = "unreadable_input"  # read_warc.UNREADABLE_INPUT: such a range is never checkpointed


def input_key(path: str, size: int, settings_digest: str) -> str:
    """The checkpoint folder of an input file: its path, listed size (-1 for a URL from a
    listing: Common Crawl files never change under a name) and the per-document settings."""
    return hashlib.sha256(json.dumps([path, size, settings_digest, FORMAT]).encode()).hexdigest()[:32]


def checkpoint_path(folder: str, start: int, end: int) -> str:
    return f"{folder}/{start}-{end}.ckpt"


def existing(work: str) -> dict[str, list[tuple[int, int]]]:
    """{input key: [(start, end)]} of the finished checkpoints in a work folder (one listing)."""
    found = collections.defaultdict(list)
    if not FileSystems.exists(work):
        return {}
    for m in FileSystems.match([f"{work}/*/*.ckpt"])[0].metadata_list:
        parent, name = m.path.replace("\\", "/").rsplit("/", 2)[-2:]
        hit = _NAME.fullmatch(name)
        if hit:
            found[parent].append((int(hit.group(1)), int(hit.group(2))))
    return {k: sorted(v) for k, v in found.items()}


def remove_partial(folder: str) -> int:
    """Delete the `*.inprogress` files a killed run left under folder (one run per folder
    at a time); their number."""
    if not FileSystems.exists(folder):
        return 0
    stale = [m.path for pattern in (f"{folder}/*.inprogress", f"{folder}/*/*.inprogress",
                                    f"{folder}/*/*/*.inprogress")
             for m in FileSystems.match([pattern])[0].metadata_list]
    if stale:
        FileSystems.delete(stale)
    return len(stale)


def plan_ranges(ranges: list[tuple[int, int]], done: Iterable[tuple[int, int]]
                ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(checkpointed ranges to replay, ranges to read) covering a file once.

    `ranges` is the file's cut for this run; `done` the checkpointed ranges (possibly cut
    differently by an earlier run). Replayed: non-overlapping done ranges inside the file;
    read: this run's ranges that overlap none of them, and the gaps left between (a
    reader takes the records that *start* in its range, so any cut reads each record once)."""
    size = ranges[-1][1] if ranges else 0
    replay, end = [], 0
    for s, e in sorted(set(done)):
        if s >= end and e <= size and s < e:
            replay.append((s, e))
            end = e
    if not replay:
        return [], list(ranges)
    read, pos = [], 0
    cuts = sorted({s for s, _ in ranges} | {0})
    for s, e in replay + [(size, size)]:
        # the gap [pos, s): this run's cut points inside it
        points = [pos] + [c for c in cuts if pos < c < s] + [s]
        read += [(a, b) for a, b in zip(points, points[1:]) if a < b]
        pos = e
    return replay, read


# ------------------------------------------------------------------------------ the file

def derive_counts(records: int, dropped: dict, kept: int) -> Optional[dict]:
    """{stage: {"kept" | reason: n}} for the covered stages of one range, from its records
    read, its drops {stage: {reason: n}} and its survivors; None when they do not add up."""
    counts, into = {}, records
    for s in STAGES:
        k = into - sum(dropped.get(s, {}).values())
        if k < 0:
            return None
        counts[s] = {**({"kept": k} if k else {}), **dropped.get(s, {})}
        into = k
    return counts if into == kept else None


def read_file(path: str) -> tuple[dict, list[Document], list[Rejection]]:
    """(header, documents, rejections) of a checkpoint; ValueError naming it if damaged."""
    with FileSystems.open(path) as f:
        data = f.read()
    try:
        if not data.startswith(MAGIC):
            raise ValueError("not a gristmill checkpoint")
        pos = len(MAGIC)
        (n,) = _LEN.unpack_from(data, pos)
        head = json.loads(data[pos + 4:pos + 4 + n])
        pos += 4 + n
        docs, rejections = [], []
        while pos < len(data):
            tag = data[pos:pos + 1]
            (n,) = _LEN.unpack_from(data, pos + 1)
            item = data[pos + 5:pos + 5 + n]
            if len(item) != n:
                raise ValueError("truncated")
            if tag == b"D":
                docs.append(decode_document(item))
            elif tag == b"R":
                rejections.append(_REJ.decode(item))
            else:
                raise ValueError(f"unknown item tag {tag!r}")
            pos += 5 + n
    except (ValueError, struct.error, KeyError) as e:
        raise ValueError(f"checkpoint {path} is damaged ({e}): delete it and run again") from None
    return head, docs, rejections


# ------------------------------------------------------------------------------ the DoFns

class _Range:
    """The range being read on this thread: its survivors and rejections, streamed to a
    temporary file (a range's records never all sit in memory)."""

    def __init__(self, folder: str, start: int, end: int):
        self.path = checkpoint_path(folder, start, end)
        self.body_path = f"{self.path}.{uuid.uuid4().hex}.body.inprogress"
        self.body = FileSystems.create(self.body_path)
        self.dropped = {s: collections.Counter() for s in STAGES}
        self.docs = 0

    def add(self, stage: str, item) -> None:
        if isinstance(item, Rejection):
            if stage in self.dropped:
                self.dropped[stage][item.reason] += 1
                data = _REJ.encode(item)
                self.body.write(b"R" + _LEN.pack(len(data)) + data)
        elif stage == STAGES[-1]:
            data = encode_document(item)
            self.body.write(b"D" + _LEN.pack(len(data)) + data)
            self.docs += 1

    def finish(self, summary: dict) -> bool:
        """Write the checkpoint if the range's counts add up; whether it was written."""
        from gristmill.transforms.shards import write_renamed  # (shards -> stage -> here)
        self.body.close()
        counts = derive_counts(summary["records"], self.dropped, self.docs)
        try:
            if self.dropped["read"].get(UNREADABLE):  # I/O gave up: read it again next time
                return False
            if counts is None:
                logging.warning("range %s: counts do not add up; not checkpointed", self.path)
                return False
            head = json.dumps({"summary": {k: v for k, v in summary.items()
                                           if k not in ("checkpoint", "input")},
                               "counts": counts}, sort_keys=True).encode()

            def write(out):
                out.write(MAGIC + _LEN.pack(len(head)) + head)
                with FileSystems.open(self.body_path) as body:
                    while chunk := body.read(1 << 20):
                        out.write(chunk)
            write_renamed(self.path, write)
            return True
        finally:
            self.abort()

    def abort(self) -> None:
        self.body.close()
        if FileSystems.exists(self.body_path):
            FileSystems.delete([self.body_path])


_current = threading.local()


def begin(folder: str, start: int, end: int) -> None:
    """The reader starts a range on this thread (no folder: nothing is checkpointed)."""
    _current.range = _Range(folder, start, end) if folder else None


def note(stage: str, item) -> None:
    """A covered stage's rejection, or the last one's survivor, of the range read here.

    Called from `Counted.route`: the stages after the reader run fused on its thread, so
    the range's records arrive here before its summary. A runner that did not fuse them
    would note nothing for those stages: the counts would not add up and the range would
    simply not be checkpointed."""
    r = getattr(_current, "range", None)
    if r is not None:
        r.add(stage, item)


def end(summary: Optional[dict]) -> bool:
    """The range is read (summary) or abandoned (None); whether a checkpoint was written."""
    r, _current.range = getattr(_current, "range", None), None
    if r is None:
        return False
    if summary is None:
        r.abort()
        return False
    return r.finish(summary)


# ------------------------------------------------------------------------------ the ledger

def write_ledger(work: str, plan_file: str, inputs: list[dict], run_id: str) -> str:
    """<work>/ledger.jsonl: every input file a finished run has processed (path, listed
    size, bytes read, sha256 over its ranges, records, key, the run), this run's merged
    into the earlier ones by key; replaced atomically. A file whose reading gave up
    (unreadable_input) is not listed: it is read again next time."""
    ledger = f"{work}/ledger.jsonl"
    rows = {}
    if FileSystems.exists(ledger):
        with FileSystems.open(ledger) as f:
            for line in f.read().decode().splitlines():
                if line.strip():
                    row = json.loads(line)
                    rows[row["key"]] = row
    with FileSystems.open(plan_file) as f:
        plan = {p["input"]: p for p in map(json.loads, f.read().decode().splitlines()) if p}
    for entry in inputs:
        p = plan.get(entry["input"])
        if p is None or UNREADABLE in entry.get("error", "") or not entry.get("sha256_ranges"):
            continue
        rows[p["key"]] = {"path": entry["path"], "size": p["size"], "bytes": entry["bytes"],
                          "sha256_ranges": entry["sha256_ranges"], "records": entry["records"],
                          "key": p["key"], "run_id": run_id}
    from gristmill.transforms.shards import write_renamed
    write_renamed(ledger, lambda f: f.write(b"".join(
        json.dumps(row, sort_keys=True).encode() + b"\n" for row in sorted(rows.values(), key=lambda r: r["path"]))))
    return ledger
