"""ReadWarc: WARC/ARC files, read by byte ranges -> one Document per HTML response.

Plain functions: `file_ranges` cuts a file into byte ranges, `record_start_at_or_after`
finds the first record start in a range, and `iter_records` streams the records whose
start offset falls in a range, yielding a Document for each HTML response and a
Rejection for every other record.

A range owns the records that *start* inside it; it reads past its end to finish its
last record. So one large `.warc.gz` (one gzip member per record, as Common Crawl
writes them) spreads over every worker; other files (uncompressed, ARC, whole-file
gzip) are one range. The Beam transform reshuffles ranges, not records: reading,
UrlFilter and Extract then fuse, and HTML never crosses a shuffle.

Framing: a gzip file is read member by member with our own decompression (`GzipMember`)
and warcio parsing what each member holds (one record, or every record of a file
compressed as one stream); other files are parsed by warcio directly (WARC, ARC v1).

Damage costs the damaged span only: a member that fails to decompress (bad header,
data or CRC), bytes that do not parse as a record, or a file cut short are one
rejection each (`DAMAGE_REASONS`, with the byte offset), and reading resumes at the
next gzip member, or line, that starts a valid record. A damaged span right after a
range's last record is reported by that range, so with any range size each is counted
once. A member's records are only yielded once it has decompressed to its end with a
good CRC. A transient I/O error is retried with backoff by `RangeStream` (reopen, seek,
read on); when retries are spent, the rest of the range is one `unreadable_input`.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import os
import random
import re
import time
import zlib
from typing import Callable, Iterator, NamedTuple, Optional, Union

import apache_beam as beam
import brotli
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from isal import isal_zlib  # zlib-compatible, about 2x faster to inflate (Intel ISA-L)
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import BufferedReader
from warcio.statusandheaders import StatusAndHeadersParser

from gristmill.transforms import checkpoint, httpfs  # httpfs registers http:// and https:// with FileSystems
from gristmill.transforms.document import Document, Rejection, stable_id
from gristmill.transforms.stage import COUNTS, KEPT, REJECTED, TIMES, Counted

STAGE = "read"
INPUTS = "inputs"
REPLAY = "replay"  # SplitFile: checkpointed ranges to replay
HTML_TYPES = ("text/html", "application/xhtml+xml")
GZIP_MAGIC = b"\x1f\x8b\x08"
_HTTP_PARSER = StatusAndHeadersParser(["HTTP/1.0", "HTTP/1.1"], verify=False)
log = logging.getLogger(__name__)


class _Brotli:
    """Content-Encoding: br for warcio, whose own hook expects the retired brotlipy API."""
    unused_data = None

    def __init__(self):
        self._d = brotli.Decompressor()

    def decompress(self, data: bytes) -> bytes:
        return self._d.process(data)


BufferedReader.DECOMPRESSORS["br"] = _Brotli


@dataclasses.dataclass(frozen=True)
class ReadConfig:
    max_record_bytes: int = 10 << 20  # Common Crawl truncates payloads at 1 MiB
    range_bytes: int = 64 << 20       # a Common Crawl WARC (~1 GiB) becomes ~16 ranges
    retries: int = 5                  # per read, with exponential backoff, then raise
    backoff_s: float = 1.0
    progress_dir: str = ""            # local folder: one empty file per range read (progress)


class InputIOError(IOError):
    """A read of an input file kept failing after the retries: the bundle is retried."""


class RangeStream(io.RawIOBase):
    """A seekable reader over one input file that retries transient errors.

    A failed read is retried after reopening the file and seeking back to the position
    reached (exponential backoff); after `retries` failures it raises InputIOError.
    It keeps the sha256 of the bytes [start, end), each hashed once, in order.
    """

    def __init__(self, path: str, start: int, end: int, config: ReadConfig = ReadConfig(),
                 opener: Callable = None):
        self.path, self.start, self.end, self.config = path, start, end, config
        self.opener = opener or (lambda p: FileSystems.open(
            p, compression_type=CompressionTypes.UNCOMPRESSED))
        self.sha256, self.hashed, self.pos, self.raw = hashlib.sha256(), start, start, None
        self._call(lambda: None)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def _call(self, op):
        delay = self.config.backoff_s
        for attempt in range(self.config.retries + 1):
            try:
                if self.raw is None:
                    self.raw = self.opener(self.path)
                    self.raw.seek(self.pos)
                return op()
            except httpfs.InputUnavailable as e:  # its own retry budget is spent already
                self._drop()
                raise InputIOError(str(e)) from e
            except Exception as e:  # anything from the file system is taken as transient
                self._drop()
                if attempt == self.config.retries:
                    raise InputIOError(f"{self.path} at byte {self.pos}: {type(e).__name__}: {e}") from e
                log.warning("read %s at %d failed (%s); retry in %.1fs", self.path, self.pos, e, delay)
                time.sleep(delay)
                delay *= 2

    def _drop(self) -> None:
        if self.raw is not None:
            try:
                self.raw.close()
            except Exception:
                pass
            self.raw = None

    def seek(self, pos: int, whence: int = 0) -> int:
        """Backwards anywhere; forwards by reading on, so that every byte is hashed in order."""
        assert whence == 0
        if pos > self.hashed:
            self.seek(self.hashed)
            while self.pos < pos and self.read(min(1 << 20, pos - self.pos)):
                pass
            return self.pos
        self.pos = pos
        self._call(lambda: self.raw.seek(pos))
        return pos

    def read(self, n: int = -1) -> bytes:
        data = self._call(lambda: self.raw.read(n))
        lo, hi = max(self.pos, self.hashed), min(self.pos + len(data), self.end)
        if hi > lo:
            self.sha256.update(data[lo - self.pos:hi - self.pos])
            self.hashed = hi
        self.pos += len(data)
        return data

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)

    def finish(self) -> str:
        """Read on to `end` (for the digest); return the hex sha256 of [start, end)."""
        if self.pos < self.hashed:
            self.seek(self.hashed)
        while self.pos < self.end and self.read(min(1 << 20, self.end - self.pos)):
            pass
        return self.sha256.hexdigest()

    def close(self) -> None:
        self._drop()
        super().close()


def file_ranges(path: str, size: int, range_bytes: int) -> list[tuple[int, int]]:
    """[(start, end)] covering the file; only multi-member `.warc.gz` files are cut."""
    if not path.endswith(".warc.gz") or size <= range_bytes:
        return [(0, size)]
    return [(s, min(s + range_bytes, size)) for s in range(0, size, range_bytes)]


# Damage reasons: every byte span that cannot be read as records is one of these.
DAMAGED_GZIP = "damaged_gzip"      # a gzip member that does not decompress (bad header, data, CRC)
GARBLED_RECORD = "garbled_record"  # bytes that do not parse as a WARC/ARC record
TRUNCATED_FILE = "truncated_file"  # the file ends inside a gzip member
UNREADABLE_INPUT = "unreadable_input"  # I/O kept failing (retries and retry budget spent)
DAMAGE_REASONS = (DAMAGED_GZIP, GARBLED_RECORD, TRUNCATED_FILE, UNREADABLE_INPUT)

# The first bytes of a record: a WARC version line, or an ARC (v1) header line.
_RECORD_HEAD = re.compile(rb"WARC/[01]\.\d+\r?\n|(?:filedesc|https?|dns|ftp)://\S+ \S+ \d{14} \S* ?\d+\r?\n")


def _starts_record(data: bytes) -> bool:
    """Whether `data` (at a gzip magic) is a gzip member whose text starts a record."""
    try:
        return bool(_RECORD_HEAD.match(zlib.decompressobj(31).decompress(data, 512).lstrip(b"\r\n")))
    except zlib.error:
        return False


def record_start_at_or_after(stream: RangeStream, start: int, end: Optional[int],
                             gzip: bool = True, block: int = 1 << 16) -> Optional[int]:
    """Offset of the first record start in [start, end) (end None = the end of the file):
    a gzip member that decompresses to a record header, or (gzip=False) a line that
    starts a WARC or ARC record. None when there is none."""
    pos = start
    while end is None or pos < end:
        stream.seek(pos)
        data = stream.read(block + 4096)  # consecutive blocks overlap by 4 KiB
        if not data:
            return None
        if gzip:
            i = data.find(GZIP_MAGIC)
            while 0 <= i < block and (end is None or pos + i < end):
                if _starts_record(data[i:]):
                    return pos + i
                i = data.find(GZIP_MAGIC, i + 1)
        else:
            for m in _RECORD_HEAD.finditer(data):
                i = m.start()
                if i >= block or (end is not None and pos + i >= end):
                    break
                if (i == 0 and pos == start) or (i > 0 and data[i - 1:i] == b"\n"):
                    return pos + i
        if len(data) <= block:
            return None
        pos += block
    return None


class _Records(ArchiveIterator):
    """warcio's ArchiveIterator, except that the line after a record is never swallowed
    when it starts the next record. warcio takes the first line after a record's block
    for its separator even when it is not blank: with a Content-Length off by the line
    ending (WARC/0.18, LF-only files) or an ARC header without its blank line, the next
    record's first line was lost and the rest of the file with it."""

    def _consume_blanklines(self):
        empty_size, first = 0, True
        while True:
            line = self.reader.readline()
            if not line:
                return None, empty_size
            if line.strip() and (not first or _RECORD_HEAD.match(line)):
                return line, empty_size
            if line.strip():  # junk where the separator should be: warcio's leniency
                self.err_count += 1
            empty_size += len(line)
            first = False


class TruncatedMember(EOFError):
    pass


class DamagedMember(IOError):
    """A gzip member that does not inflate (bad header, data, CRC or length)."""


class GzipMember(io.RawIOBase):
    """The decompressed bytes of the one gzip member that starts where `stream` is, minus
    `pending` (compressed bytes of it already read).

    Reading past its end gives b""; `end` is then the file offset just after the member
    and `leftover` the bytes read beyond it (the next member's `pending`). Blank lines
    before the first record are skipped; `tell()` counts them, so offsets are those of
    the decompressed member. A corrupt member raises zlib.error (the CRC is checked at
    its end), a member cut by the end of the file raises TruncatedMember. Inflated with
    ISA-L (python-isal), which checks the CRC as zlib does, at about twice zlib's speed."""

    def __init__(self, stream: RangeStream, pending: bytes = b""):
        self.stream, self.pending, self.end, self.leftover = stream, pending, None, b""
        self.start = stream.tell() - len(pending)
        self.z, self.pos, self.skipped = isal_zlib.decompressobj(31), 0, 0
        self.buf, self.at = b"", 0

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def _fill(self) -> None:
        while self.at == len(self.buf) and self.end is None:
            data, self.pending = self.pending or self.stream.read(1 << 16), b""
            if not data:
                raise TruncatedMember(f"the file ends inside the gzip member at byte {self.start}")
            try:
                self.buf, self.at = self.z.decompress(data), 0
            except (zlib.error, isal_zlib.error) as e:
                raise DamagedMember(f"{type(e).__name__}: {e}") from e
            if self.z.eof:
                self.leftover = self.z.unused_data
                self.end = self.stream.tell() - len(self.leftover)
            if self.pos == self.skipped:  # blank lines before the first record
                n = len(self.buf)
                self.buf = self.buf.lstrip(b"\r\n")
                self.skipped += n - len(self.buf)
                self.pos = self.skipped

    def read(self, n: int = -1) -> bytes:
        self._fill()
        n = len(self.buf) - self.at if n < 0 else min(n, len(self.buf) - self.at)
        out = self.buf[self.at:self.at + n] if n < len(self.buf) else self.buf
        self.at += n
        self.pos += n
        return out

    def readinto(self, b) -> int:
        out = self.read(len(b))
        b[:len(out)] = out
        return len(out)


def _damage(reason: str, error: Exception, path: str, input_index: int, offset: int,
            held: Optional[Document | Rejection] = None) -> Rejection:
    """The rejection for a damaged span: named after the record it hit when that is known."""
    detail = f"at byte {offset}: {type(error).__name__}: {error}"[:300]
    if held is not None:
        return Rejection(held.id, held.url, STAGE, reason, input_index, held.offset, detail, held.inner)
    return Rejection(stable_id(path, str(offset), reason), "", STAGE, reason, input_index, offset, detail)


def _reason(error: Exception) -> str:
    if isinstance(error, TruncatedMember):
        return TRUNCATED_FILE
    return DAMAGED_GZIP if isinstance(error, DamagedMember) else GARBLED_RECORD


def iter_records(stream, path: str, config: ReadConfig = ReadConfig(), input_index: int = 0,
                 start: int = 0, end: Optional[int] = None) -> Iterator[Union[Document, Rejection]]:
    """Yield a Document or a Rejection for every record that starts in [start, end).

    `stream` (a RangeStream) is positioned at `start`, a record boundary; end=None reads to
    the end of the file. Damage costs the damaged span only: it is one rejection (its
    reason in DAMAGE_REASONS, with its offset), and reading resumes at the next gzip
    member (or line) that starts a valid record.
    """
    stream.seek(start)
    head = stream.read(2)
    stream.seek(start)
    if head == GZIP_MAGIC[:2]:
        yield from _gzip_records(stream, path, config, input_index, start, end)
    else:
        yield from _plain_records(stream, path, config, input_index, start)


def _gzip_records(stream, path, config, input_index, start, end):
    """Gzip member by member. A member normally holds one record (Common Crawl); a file
    compressed as one stream (whole-file gzip) is one member holding them all. A member's
    records are yielded only once the member has decompressed to its end (CRC checked), so
    a damaged member costs its own records, counted under the first one."""
    pos, pending = start, b""
    stream.seek(start)
    while True:
        if len(pending) < 4096:  # enough to see whether a record starts here
            pending += stream.read(1 << 16)
        if not pending:
            return
        if end is not None and pos >= end and _starts_record(pending):
            return  # the records from here are the next range's; damage here is still ours
        member = GzipMember(stream, pending)
        records = _Records(member, no_record_parse=True, arc2warc=True, block_size=1 << 16)
        held: list = []
        try:
            for record in records:
                inner = records.offset
                item = _record(record, path, input_index, pos, config, inner)
                records.read_to_end(record)
                held.append(item)
                if len(held) > 64:  # a member of many records (one gzip stream): stream them
                    yield held.pop(0)
            while member.end is None and member.read(1 << 16):
                pass  # trailing bytes after the last record
        except InputIOError:
            raise
        except Exception as e:
            yield _damage(_reason(e), e, path, input_index, pos, held[0] if held else None)
            nxt = record_start_at_or_after(stream, pos + 1, end)
            if nxt is None:
                return
            pos, pending = nxt, b""
            stream.seek(pos)
            continue
        for item in held:
            if isinstance(item, Document):
                item.length = member.end - pos
            yield item
        pos, pending = member.end, member.leftover


def _plain_records(stream, path, config, input_index, start):
    """An uncompressed WARC or ARC file: after damage, a fresh reader starts at the next
    line that starts a record."""
    pos = start
    while pos is not None:
        stream.seek(pos)
        records = _Records(stream, no_record_parse=True, arc2warc=True)
        good_end, restart = pos, None
        try:
            for record in records:
                offset = records.offset
                item = _record(record, path, input_index, offset, config)
                records.read_to_end(record)
                length = records.get_record_length()
                if isinstance(item, Document):
                    item.length = length
                yield item
                good_end = offset + length
        except InputIOError:
            raise
        except Exception as e:
            yield _damage(_reason(e), e, path, input_index, good_end)
            restart = record_start_at_or_after(stream, good_end + 1, None, gzip=False)
        pos = restart


def _sniff_html(body: bytes) -> bool:
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<?xml")) or b"<html" in head


def _mime_and_charset(content_type: str) -> tuple[str, str]:
    parts = [p.strip() for p in (content_type or "").split(";")]
    mime = parts[0].lower()
    charset = ""
    for p in parts[1:]:
        if p.lower().startswith("charset="):
            charset = p.split("=", 1)[1].strip().strip("'\"").lower()
    return mime, charset


class BadStatusLine(ValueError):
    pass


def _read_payload(record, max_bytes: int):
    """(status, content_type, body) of a response record whose HTTP block is unparsed.

    Payloads without HTTP headers (some Wayback/ClueWeb WARCs) keep their whole body
    and take their content type from the WARC header; a block that the WARC header
    calls `application/http` must start with an HTTP status line. warcio's content
    stream undoes chunked transfer and Content-Encoding (gzip, deflate, br).
    """
    warc_type = record.rec_headers.get_header("Content-Type") or ""
    first = record.raw_stream.readline()
    if first.startswith(b"HTTP/"):
        record.http_headers = _HTTP_PARSER.parse(record.raw_stream, first.decode("latin-1"))
        status = record.http_headers.get_statuscode()
        content_type = record.http_headers.get_header("Content-Type") or ""
        body = record.content_stream().read(max_bytes + 1)
    elif warc_type.startswith("application/http"):
        raise BadStatusLine(first[:80].decode("latin-1"))
    else:
        status, content_type = "200", warc_type
        body = first + record.raw_stream.read(max_bytes + 1 - len(first))
    return status, content_type, body


_TEXT_BYTES = bytes(b for b in range(256) if not (b < 9 or 13 < b < 32))


def _looks_binary(body: bytes) -> bool:
    """More than 5% control bytes (other than tab, newlines, form feed) in the first 2 KB."""
    head = body[:2048]
    return len(head.translate(None, _TEXT_BYTES)) > len(head) // 20


def _record(record, path: str, input_index: int, offset: int, config: ReadConfig, inner: int = 0):
    h = record.rec_headers
    uri = (h.get_header("WARC-Target-URI") or "").strip()
    date = h.get_header("WARC-Date") or ""
    rec_id = h.get_header("WARC-Record-ID")
    doc = Document(id=stable_id(rec_id) if rec_id else stable_id(uri, date, path, str(offset), str(inner)),
                   url=uri, input=input_index, offset=offset, date=date, inner=inner)
    reason, detail = _check(record, doc, record.rec_type or "unknown", config)
    return Rejection.of(doc, STAGE, reason, detail) if reason else doc


def _content_length(headers) -> Optional[int]:
    value = (headers.get_header("Content-Length") or "").strip()
    return int(value) if value.isdigit() else None


GENERIC_TYPES = ("", "text/plain", "application/octet-stream", "unknown/unknown", "binary/octet-stream")


def _is_html(mime: str, identified: str, body: bytes) -> bool:
    """HTML by the HTTP Content-Type, else by Common Crawl's WARC-Identified-Payload-Type
    (its own detection), else by sniffing when the declared type says nothing."""
    if mime in HTML_TYPES:
        return True
    if identified:
        return identified in HTML_TYPES
    return mime in GENERIC_TYPES and _sniff_html(body)


def _check(record, doc: Document, rec_type: str, config: ReadConfig):
    """Fill doc from a response record; return (reason, detail) when it is not kept."""
    if rec_type != "response":
        return f"warc_{rec_type}", ""
    if not doc.url.lower().startswith(("http://", "https://")):
        return "no_http_target_uri", doc.url[:200]
    length = _content_length(record.rec_headers)
    if length is None:
        return "bad_content_length", str(record.rec_headers.get_header("Content-Length"))[:80]
    if length > config.max_record_bytes:
        return "too_large", str(length)
    try:
        status, content_type, body = _read_payload(record, config.max_record_bytes)
    except BadStatusLine as e:
        return "bad_http_status_line", str(e)
    except (InputIOError, DamagedMember, TruncatedMember):
        raise  # the file's damage, not the record's: counted once for the member
    except Exception as e:  # a broken chunked or Content-Encoding body
        return "bad_payload", f"{type(e).__name__}: {e}"[:300]
    if status != "200":
        return "http_status", str(status)[:40]
    mime, charset = _mime_and_charset(content_type)
    if len(body) > config.max_record_bytes:  # decoded (Content-Encoding) size
        return "too_large", str(len(body))
    if getattr(record.raw_stream, "limit", 0) > 0:  # the block ended before its Content-Length
        return "truncated_record", f"{record.raw_stream.limit} bytes missing"
    if not body.strip():
        return "empty_body", ""
    identified, _ = _mime_and_charset(record.rec_headers.get_header("WARC-Identified-Payload-Type") or "")
    if not _is_html(mime, identified, body):
        return "not_html", (identified or mime)[:80]
    if _looks_binary(body):
        return "binary_body", mime[:80]
    doc.charset, doc.html = charset, body
    return None, None


def read_range(path: str, input_index: int, start: int, end: int, size: int,
               config: ReadConfig = ReadConfig(), opener: Callable = None
               ) -> Iterator[Union[Document, Rejection, dict]]:
    """Every record that starts in [start, end) of the file, then the range's summary dict.

    When the input cannot be read on (retries spent), the rest of the range is one
    `unreadable_input` rejection naming the file."""
    n = 0
    errors = []
    digest = ""
    stream = None
    try:
        stream = RangeStream(path, start, end, config, opener)
        first = 0 if start == 0 else record_start_at_or_after(stream, start, end)
        if first is not None:
            for item in iter_records(stream, path, config, input_index, first,
                                     None if end >= size else end):
                n += 1
                if isinstance(item, Rejection) and item.reason in DAMAGE_REASONS:
                    errors.append(f"{item.reason} {item.detail}")
                yield item
        digest = stream.finish()
    except InputIOError as e:
        n += 1
        errors.append(f"{UNREADABLE_INPUT} {e}")
        at = stream.tell() if stream is not None else start
        yield Rejection(stable_id(path, str(start), UNREADABLE_INPUT), "", STAGE, UNREADABLE_INPUT,
                        input_index, at, f"{path}: {e}"[:500])
    finally:
        if stream is not None:
            stream.close()
    yield {"input": input_index, "start": start, "bytes": end - start, "sha256": digest,
           "records": n, "error": "; ".join(errors)[:2000]}


class ReadRanges(Counted):
    """(input index, path, start, end, size) -> Documents; rejections, counts, range summaries."""

    def __init__(self, config: ReadConfig):
        super().__init__(STAGE)
        self.config = config

    def process(self, rng):
        index, path, start, end, size, *folder = rng
        checkpoint.begin(folder[0] if folder else "", start, end)
        summary = None
        try:
            for item in self.timed(read_range(path, index, start, end, size, self.config)):
                if isinstance(item, dict):  # the range's summary, after its last record
                    summary = item
                    yield beam.pvalue.TaggedOutput(INPUTS, item)
                else:
                    yield from self.route(item)
        finally:
            checkpoint.end(summary)  # every record has gone through Quality by now
        range_done(self.config.progress_dir, index, start)


def range_done(progress_dir: str, index: int, start: int) -> None:
    """A local run's progress: one empty file per range read (or replayed)."""
    if progress_dir:
        open(os.path.join(progress_dir, f"{index}-{start}"), "w").close()


class ReplayRanges(beam.DoFn):
    """(input index, path, start, end, checkpoint file) -> the range's documents (main),
    rejections, counts per stage and range summary, as when it was read."""

    def __init__(self, progress_dir: str = ""):
        self.progress_dir = progress_dir

    def process(self, item):
        index, _path, start, _end, path = item
        head, docs, rejections = checkpoint.read_file(path)
        for doc in docs:
            doc.input = index
            yield doc
        for r in rejections:
            yield beam.pvalue.TaggedOutput(REJECTED, dataclasses.replace(r, input=index))
        for stage, counts in head["counts"].items():
            if counts:
                yield beam.pvalue.TaggedOutput(COUNTS, (stage, counts))
        yield beam.pvalue.TaggedOutput(INPUTS, {**head["summary"], "input": index})
        range_done(self.progress_dir, index, start)


class SplitFile(Counted):
    """(input index, path) -> its byte ranges; a file that cannot be opened is one unreadable_input."""

    def __init__(self, config: ReadConfig):
        super().__init__(STAGE)
        self.config = config

    def process(self, item):
        with self.timing():
            out = list(self._split(item))
        yield from out

    def _split(self, item):
        index, path, folder, done = (*item, "", ())[:4]
        try:
            size = FileSystems.match([path])[0].metadata_list[0].size_in_bytes
        except Exception as e:  # vanished or unreadable since the driver listed it
            error = f"{type(e).__name__}: {e}"[:300]
            self.count(UNREADABLE_INPUT)
            yield beam.pvalue.TaggedOutput(REJECTED, Rejection(
                stable_id(path, "open_error"), "", STAGE, UNREADABLE_INPUT, index, 0, error))
            yield beam.pvalue.TaggedOutput(INPUTS, {"input": index, "start": 0, "bytes": 0,
                                                    "sha256": "", "records": 1, "error": error})
            return
        replay, read = checkpoint.plan_ranges(file_ranges(path, size, self.config.range_bytes),
                                              [tuple(r) for r in done])
        for start, end in replay:  # checkpointed by an earlier run: replayed, not read
            yield beam.pvalue.TaggedOutput(REPLAY, (index, path, start, end,
                                                    checkpoint.checkpoint_path(folder, start, end)))
        for start, end in read:
            yield index, path, start, end, size, folder


CC_ENDPOINT = "https://data.commoncrawl.org/"  # Common Crawl's public HTTP endpoint
_CC_NAME = re.compile(r"CC-MAIN-\d{4}-\d{2}")
TYPICAL_WARC_BYTES = 1 << 30  # a Common Crawl WARC, for sizes not known before a worker opens it


def _listing(path: str, prefix: str) -> list[str]:
    with FileSystems.open(path) as f:  # compression inferred from the suffix
        lines = [ln.strip() for ln in f.read().decode().splitlines()]
    return [ln if "://" in ln or ln.startswith("/") else prefix.rstrip("/") + "/" + ln
            for ln in lines if ln and not ln.startswith("#")]


def expand_pattern(pattern: str, warc_prefix: str, cc_endpoint: str = CC_ENDPOINT) -> list[str]:
    """A path, glob, gs://, s3:// or https:// URL, a `warc.paths(.gz)` list (its relative
    lines prefixed with warc_prefix), or `cc:CC-MAIN-YYYY-WW` (that snapshot's listing on
    the Common Crawl endpoint) -> file paths or patterns."""
    if pattern.startswith("cc:"):
        name = pattern[3:]
        if not _CC_NAME.fullmatch(name):
            raise ValueError(f"{pattern}: not a Common Crawl snapshot (cc:CC-MAIN-YYYY-WW, e.g. cc:CC-MAIN-2024-22)")
        endpoint = cc_endpoint.rstrip("/") + "/"
        return _listing(f"{endpoint}crawl-data/{name}/warc.paths.gz", endpoint)
    if pattern.endswith((".paths", ".paths.gz")):
        return _listing(pattern, warc_prefix)
    return [pattern]


def _is_url(path: str) -> bool:
    return path.startswith(("http://", "https://"))


def list_inputs(patterns: list[str], warc_prefix: str = CC_ENDPOINT, cc_endpoint: str = CC_ENDPOINT,
                max_files: int = 0, sample_files: int = 0, seed: int = 0) -> dict[str, int]:
    """The run's input list {path: size}, in order: patterns as given, each glob's
    matches sorted, a path given twice listed once; then a seeded sample of
    `sample_files` of them (kept in order) and the first `max_files`. URLs from a listing
    get size -1 (their worker asks; 90,000 HEAD requests stay out of the driver).
    Raises FileNotFoundError naming a pattern that matches nothing."""
    paths: dict[str, int] = {}
    for pattern in patterns:
        listed = pattern.startswith("cc:") or pattern.endswith((".paths", ".paths.gz"))
        for p in expand_pattern(pattern, warc_prefix, cc_endpoint):
            if listed and _is_url(p):
                paths.setdefault(p, -1)
                continue
            matched = sorted((m.path, m.size_in_bytes) for m in FileSystems.match([p])[0].metadata_list)
            if not matched:
                raise FileNotFoundError(f"no file matches {p}")
            for path, size in matched:  # local paths made absolute: provenance outlives the cwd
                paths.setdefault(path if "://" in path else os.path.abspath(path), size)
    items = list(paths.items())
    if sample_files and sample_files < len(items):
        keep = sorted(random.Random(seed).sample(range(len(items)), sample_files))
        items = [items[i] for i in keep]
    if max_files:
        items = items[:max_files]
    return dict(items)


def known_bytes(sizes) -> int:
    """Total bytes of the inputs, counting an unknown size (-1) as a typical CC WARC."""
    return sum(s if s >= 0 else TYPICAL_WARC_BYTES for s in sizes)


def auto_range_bytes(total_bytes: int, workers: int | None) -> int:
    """64 MiB ranges (~16 per Common Crawl WARC); on a local runner with few inputs,
    small enough for about 8 ranges per worker (at least 1 MiB)."""
    if not workers:
        return ReadConfig.range_bytes
    return max(1 << 20, min(ReadConfig.range_bytes, total_bytes // (8 * workers)))


def merge_ranges(kv) -> dict:
    """A file's range summaries -> its manifest entry (sha256 over the range digests)."""
    (index, path), parts = kv
    parts = sorted(parts, key=lambda r: r["start"])
    digest = hashlib.sha256(b"".join(bytes.fromhex(r["sha256"]) for r in parts)).hexdigest()
    return {"input": index, "path": path, "bytes": sum(r["bytes"] for r in parts),
            "sha256_ranges": digest if all(r["sha256"] for r in parts) else "",
            "ranges": len(parts), "records": sum(r["records"] for r in parts),
            "error": "; ".join(r["error"] for r in parts if r["error"])}


def _input_line(line: str) -> tuple:
    """A line of the inputs file -> (index, path, checkpoint folder, checkpointed ranges);
    the last two are set in a run's plan (pipelines/run.py), empty in a bare inputs.jsonl."""
    item = json.loads(line)
    return item["input"], item["path"], item.get("folder", ""), tuple(map(tuple, item.get("done", ())))


def write_inputs_file(path: str, inputs: list[str]) -> None:
    """The run's input list as JSON lines {input, path}: what ReadWarc reads (a listing
    of 90,000 Common Crawl files stays out of the job graph)."""
    with FileSystems.create(path) as f:
        for i, p in enumerate(inputs):
            f.write(json.dumps({"input": i, "path": p}).encode() + b"\n")


class ReadOutputs(NamedTuple):
    kept: beam.PCollection
    rejected: beam.PCollection
    counts: beam.PCollection
    inputs: beam.PCollection  # one manifest entry (dict) per input file
    times: beam.PCollection = None  # (stage, {"wall_s", "cpu_s"}) per bundle
    summaries: beam.PCollection = None  # the readers' range summaries, after each range's records
    replayed: tuple = None  # (documents, rejections, counts) replayed from checkpoints


class ReadWarc(beam.PTransform):
    """A file of the run's inputs (JSON lines {input, path}) -> ReadOutputs.

    Files, then byte ranges, are reshuffled so that ranges spread over workers; the
    records of a range stay on the worker that reads them (fused with the next stages).
    """

    def __init__(self, inputs_file: str, config: ReadConfig = ReadConfig()):
        super().__init__()
        self.inputs_file, self.config = inputs_file, config

    def expand(self, pbegin) -> ReadOutputs:
        files = (pbegin
                 | "Inputs" >> beam.io.ReadFromText(self.inputs_file)
                 | "ParseInputs" >> beam.Map(_input_line)
                 | "SpreadFiles" >> beam.Reshuffle())
        split = files | "SplitFiles" >> beam.ParDo(SplitFile(self.config)).with_outputs(
            REJECTED, COUNTS, INPUTS, TIMES, REPLAY, main="ranges")
        read = (split.ranges
                | "SpreadRanges" >> beam.Reshuffle()
                | "ReadRanges" >> beam.ParDo(ReadRanges(self.config)).with_output_types(Document)
                .with_outputs(REJECTED, COUNTS, INPUTS, TIMES, main=KEPT))
        replay = (split[REPLAY]
                  | "SpreadReplays" >> beam.Reshuffle()
                  | "ReplayRanges" >> beam.ParDo(ReplayRanges(self.config.progress_dir))
                  .with_output_types(Document).with_outputs(REJECTED, COUNTS, INPUTS, main=KEPT))
        replay[REJECTED].element_type = Rejection
        paths = files | "PathByIndex" >> beam.Map(lambda f: (f[0], f[1]))
        summaries = ((split[INPUTS], read[INPUTS], replay[INPUTS])
                     | "RangeSummaries" >> beam.Flatten()
                     | "KeyByInput" >> beam.Map(lambda r: (r["input"], r)))
        entries = ({"path": paths, "ranges": summaries}
                   | "GroupByInput" >> beam.CoGroupByKey()
                   | "FileEntries" >> beam.Map(
                       lambda kv: merge_ranges(((kv[0], kv[1]["path"][0]), kv[1]["ranges"]))))
        rejected = ((split[REJECTED], read[REJECTED])
                    | "Rejected" >> beam.Flatten().with_output_types(Rejection))
        counts = (split[COUNTS], read[COUNTS]) | "Counts" >> beam.Flatten()
        times = (split[TIMES], read[TIMES]) | "Times" >> beam.Flatten()
        return ReadOutputs(read[KEPT], rejected, counts, entries, times, read[INPUTS],
                           (replay[KEPT], replay[REJECTED], replay[COUNTS]))
