"""ReadWarc: WARC/ARC files -> one Document per HTML response, a Rejection per other record.

`iter_records` is the plain function (streaming, warcio); `ReadWarc` is the Beam
transform: expand patterns into files, Reshuffle (so that files, not records, are
what fusion spreads over workers), then read each file in one DoFn.
A read error (truncated file, broken gzip member) ends that file's reading with one
counted rejection; the rest of the run goes on.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
from typing import BinaryIO, Iterator, Union

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeadersParser

from gristmill.transforms.document import Document, Rejection, stable_id

STAGE = "read"
HTML_TYPES = ("text/html", "application/xhtml+xml")
_HTTP_PARSER = StatusAndHeadersParser(["HTTP/1.0", "HTTP/1.1"], verify=False)


@dataclasses.dataclass(frozen=True)
class ReadConfig:
    max_record_bytes: int = 10 << 20  # Common Crawl truncates payloads at 1 MiB


class _HashingReader(io.RawIOBase):
    """Wraps a file object; keeps the sha256 and size of every byte read through it."""

    def __init__(self, raw: BinaryIO):
        self.raw, self.sha256, self.size = raw, hashlib.sha256(), 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.sha256.update(data)
        self.size += len(data)
        return data

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)

    def drain(self) -> None:
        while self.read(1 << 20):
            pass


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
    calls `application/http` must start with an HTTP status line.
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


def _looks_binary(body: bytes) -> bool:
    head = body[:2048]
    return sum(b < 9 or 13 < b < 32 for b in head) > len(head) // 20


def iter_records(stream: BinaryIO, warc_file: str,
                 config: ReadConfig = ReadConfig()) -> Iterator[Union[Document, Rejection]]:
    """Yield a Document for each HTML response and a Rejection for every other record."""
    records = ArchiveIterator(stream, no_record_parse=True, arc2warc=True)
    offset = 0  # of the last record started; a read error is reported there
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except Exception as e:  # truncated file, broken gzip member, not a WARC at all
            offset = getattr(records, "offset", offset)
            yield Rejection(stable_id(warc_file, str(offset), "read_error"), "", STAGE,
                            "read_error", warc_file, offset, f"{type(e).__name__}: {e}"[:300])
            return
        offset = records.offset  # start of this record (get_record_offset() would consume it)
        h = record.rec_headers
        rec_type = record.rec_type or "unknown"
        uri = (h.get_header("WARC-Target-URI") or "").strip()
        date = h.get_header("WARC-Date") or ""
        rec_id = h.get_header("WARC-Record-ID")
        doc = Document(id=stable_id(rec_id) if rec_id else stable_id(uri, date, warc_file, str(offset)),
                       url=uri, warc_file=warc_file, warc_offset=offset, date=date)
        reason, detail = _check(record, doc, rec_type, config)
        if reason:
            yield Rejection.of(doc, STAGE, reason, detail)
        else:
            yield doc


def _check(record, doc: Document, rec_type: str, config: ReadConfig):
    """Fill doc from a response record; return (reason, detail) when it is not kept."""
    if rec_type != "response":
        return f"warc_{rec_type}", ""
    if not doc.url.lower().startswith(("http://", "https://")):
        return "no_http_target_uri", doc.url[:200]
    length = int(record.rec_headers.get_header("Content-Length") or -1)
    if length > config.max_record_bytes:
        return "too_large", str(length)
    try:
        status, content_type, body = _read_payload(record, config.max_record_bytes)
    except BadStatusLine as e:
        return "bad_http_status_line", str(e)
    except Exception as e:
        return "bad_payload", f"{type(e).__name__}: {e}"[:300]
    if status != "200":
        return "http_status", str(status)[:40]
    mime, charset = _mime_and_charset(content_type)
    if len(body) > config.max_record_bytes:
        return "too_large", str(len(body))
    if getattr(record.raw_stream, "limit", 0) > 0:  # the block ended before its Content-Length
        return "truncated_record", f"{record.raw_stream.limit} bytes missing"
    if not body.strip():
        return "empty_body", ""
    if mime not in HTML_TYPES and not (mime in ("", "text/plain", "application/octet-stream")
                                       and _sniff_html(body)):
        return "not_html", mime[:80]
    if _looks_binary(body):
        return "binary_body", mime[:80]
    doc.content_type, doc.charset, doc.html = mime or "text/html", charset, body
    return None, None


class ReadWarcFile(beam.DoFn):
    """One WARC path in; Documents out, rejections and one input summary as tagged outputs."""

    def __init__(self, config: ReadConfig, rejected_tag: str, inputs_tag: str):
        self.config, self.rejected_tag, self.inputs_tag = config, rejected_tag, inputs_tag
        self.files = Metrics.counter(STAGE, "files")
        self.records = Metrics.counter(STAGE, "records")
        self.errors = Metrics.counter(STAGE, "read_errors")

    def process(self, path: str):
        self.files.inc()
        n, error = 0, ""
        try:
            raw = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
        except Exception as e:  # vanished or unreadable since it was matched
            self.errors.inc()
            error = f"{type(e).__name__}: {e}"[:300]
            yield beam.pvalue.TaggedOutput(self.rejected_tag, Rejection(
                stable_id(path, "open_error"), "", STAGE, "read_error", path, 0, error))
            yield beam.pvalue.TaggedOutput(self.inputs_tag, {
                "path": path, "bytes": 0, "sha256": "", "records": 1, "error": error})
            return
        reader = _HashingReader(raw)
        try:
            for item in iter_records(io.BufferedReader(reader, 1 << 16), path, self.config):
                n += 1
                if isinstance(item, Rejection):
                    if item.reason == "read_error":
                        self.errors.inc()
                        error = item.detail
                    yield beam.pvalue.TaggedOutput(self.rejected_tag, item)
                else:
                    yield item
            reader.drain()
        finally:
            raw.close()
        self.records.inc(n)
        yield beam.pvalue.TaggedOutput(self.inputs_tag, {
            "path": path, "bytes": reader.size, "sha256": reader.sha256.hexdigest(),
            "records": n, "error": error})


def expand_pattern(pattern: str, warc_prefix: str) -> list[str]:
    """A glob/path/gs:// pattern, or a Common Crawl `warc.paths(.gz)` list -> file patterns."""
    if pattern.endswith((".paths", ".paths.gz")):
        with FileSystems.open(pattern) as f:  # compression inferred from the suffix
            lines = [ln.strip() for ln in f.read().decode().splitlines()]
        return [ln if "://" in ln or ln.startswith("/") else warc_prefix.rstrip("/") + "/" + ln
                for ln in lines if ln and not ln.startswith("#")]
    return [pattern]


class ReadWarc(beam.PTransform):
    """File patterns -> (documents, rejected, inputs)."""

    def __init__(self, patterns: list[str], config: ReadConfig = ReadConfig(),
                 warc_prefix: str = "s3://commoncrawl/", rejected_tag: str = "rejected"):
        super().__init__()
        self.patterns, self.config, self.warc_prefix = patterns, config, warc_prefix
        self.rejected_tag = rejected_tag

    def expand(self, pbegin):
        from apache_beam.io import fileio
        out = (pbegin
               | "Patterns" >> beam.Create(self.patterns)
               | "ExpandPathLists" >> beam.FlatMap(expand_pattern, self.warc_prefix)
               | "MatchFiles" >> fileio.MatchAll()
               | "Paths" >> beam.Map(lambda m: m.path)
               | "SpreadFiles" >> beam.Reshuffle()
               | "ReadRecords" >> beam.ParDo(ReadWarcFile(self.config, self.rejected_tag, "inputs"))
               .with_outputs(self.rejected_tag, "inputs", main="docs"))
        # One file fans out into thousands of records: without this, fusion would run
        # every later stage of a file's records on the one worker that read it.
        docs = out.docs | "SpreadRecords" >> beam.Reshuffle()
        return docs, out[self.rejected_tag], out.inputs
