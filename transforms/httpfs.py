"""`http://` and `https://` inputs for Beam's FileSystems (read-only), e.g. Common Crawl's
public endpoint `https://data.commoncrawl.org/crawl-data/...`.

Beam finds a FileSystem by its `scheme()`: importing this module registers both. A file
is opened as `HttpReader`, a seekable raw stream over GET requests with a `Range` header:

- a response 429, 500, 502, 503 or 504, a refused or dropped connection, a timeout, or a
  body that ends before its Content-Length is retried after an exponential backoff with
  jitter (a Retry-After of at most `max_backoff_s` is honoured), and the next request
  resumes at the byte offset reached (`Range: bytes=N-`; a 206 must start at N);
- each opened file has a retry budget (`retries`, default 10, shared by all its
  requests); when it is spent, `InputUnavailable` names the URL, the byte offset and the
  last error. The reader counts that as one `unreadable_input` rejection, not a crash;
- another status (404, 403, ...) is InputUnavailable at once.

Settings: pipeline options `--http_retries`, `--http_backoff_s` (GristmillOptions), or
the module defaults. No globbing over HTTP: a pattern with `*` or `?` is an error.
"""
from __future__ import annotations

import dataclasses
import email.utils
import io
import logging
import posixpath
import random
import re
import time
from typing import Optional

import requests
import urllib3
from apache_beam.io.filesystem import (BeamIOError, CompressedFile, CompressionTypes, FileMetadata,
                                       FileSystem, MatchResult)

log = logging.getLogger(__name__)
RETRY_STATUS = (429, 500, 502, 503, 504)
_TRANSIENT = (requests.RequestException, urllib3.exceptions.HTTPError, OSError)
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class InputUnavailable(IOError):
    """An HTTP input that could not be read: retry budget spent, or a permanent status."""


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    retries: int = 10          # per opened file, all its requests together
    backoff_s: float = 0.5     # first wait; doubled after each retry, times a jitter in [0.5, 1.5)
    max_backoff_s: float = 30.0
    timeout_s: float = 60.0    # connect and per-read timeout


class _Retry(Exception):
    def __init__(self, message: str, wait_s: Optional[float] = None):
        super().__init__(message)
        self.wait_s = wait_s


def _retry_after(value: Optional[str]) -> Optional[float]:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class HttpReader(io.RawIOBase):
    """A seekable reader of one URL that resumes by Range requests (see the module doc)."""

    mode = "rb"  # Beam's CompressedFile asks

    def __init__(self, url: str, policy: RetryPolicy = RetryPolicy(), session=None):
        self.url, self.policy = url, policy
        self.session = session or requests.Session()
        self.pos, self.size, self.resp, self.retries_used = 0, None, None, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            pos += self.pos
        elif whence == io.SEEK_END:
            pos += self.length()
        if pos != self.pos:
            self._drop()
            self.pos = pos
        return pos

    def length(self) -> int:
        if self.size is None:
            self.size = head_size(self.url, self.policy, self.session, self)
        return self.size

    def _drop(self) -> None:
        if self.resp is not None:
            self.resp.close()
            self.resp = None

    def _request(self) -> None:
        headers = {"Range": f"bytes={self.pos}-", "Accept-Encoding": "identity"}
        resp = self.session.get(self.url, headers=headers, stream=True, timeout=self.policy.timeout_s)
        if resp.status_code in RETRY_STATUS:
            resp.close()
            raise _Retry(f"HTTP {resp.status_code}", _retry_after(resp.headers.get("Retry-After")))
        if resp.status_code == 416:  # asked from the end of the file
            resp.close()
            self.size = self.pos
            return
        if resp.status_code == 206:
            m = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
            if not m or int(m.group(1)) != self.pos:
                resp.close()
                raise _Retry(f"206 from the wrong offset ({resp.headers.get('Content-Range')!r})")
            if m.group(3) != "*":
                self.size = int(m.group(3))
        elif resp.status_code == 200:
            if self.pos:  # the server ignored Range: skip to where we are
                skip = self.pos
                while skip:
                    chunk = resp.raw.read(min(skip, 1 << 20), decode_content=False)
                    if not chunk:
                        resp.close()
                        raise _Retry("body ended while skipping to the offset")
                    skip -= len(chunk)
            length = resp.headers.get("Content-Length")
            if length and length.isdigit() and not self.pos:
                self.size = int(length)
        else:
            resp.close()
            raise InputUnavailable(f"{self.url}: HTTP {resp.status_code} {resp.reason}")
        self.resp = resp

    def _wait(self, error: Exception) -> None:
        self._drop()
        self.retries_used += 1
        if self.retries_used > self.policy.retries:
            raise InputUnavailable(f"{self.url}: retry budget of {self.policy.retries} spent at byte "
                                   f"{self.pos}; last error: {error}") from None
        wait = self.policy.backoff_s * 2 ** (self.retries_used - 1) * random.uniform(0.5, 1.5)
        asked = getattr(error, "wait_s", None)
        if asked is not None and asked <= self.policy.max_backoff_s:
            wait = max(wait, asked)
        wait = min(wait, self.policy.max_backoff_s)
        log.warning("%s at byte %d: %s; retry %d/%d in %.1fs", self.url, self.pos, error,
                    self.retries_used, self.policy.retries, wait)
        time.sleep(wait)

    def read(self, n: int = -1) -> bytes:
        while True:
            if self.size is not None and self.pos >= self.size:
                return b""
            try:
                if self.resp is None:
                    self._request()
                    if self.resp is None:  # 416
                        return b""
                data = self.resp.raw.read(None if n < 0 else n, decode_content=False)
                if not data and (self.size is None or self.pos < self.size):
                    if self.size is None:
                        return b""
                    raise _Retry(f"connection closed at byte {self.pos} of {self.size}")
                self.pos += len(data)
                return data
            except InputUnavailable:
                raise
            except (_Retry, *_TRANSIENT) as e:
                self._wait(e)

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)

    def close(self) -> None:
        self._drop()
        super().close()


def head_size(url: str, policy: RetryPolicy = RetryPolicy(), session=None, budget=None) -> int:
    """The size of a URL (HEAD, else a one-byte range GET), with the same retries."""
    session = session or requests.Session()
    budget = budget or HttpReader(url, policy, session)
    while True:
        try:
            resp = session.head(url, allow_redirects=True, timeout=policy.timeout_s)
            if resp.status_code in RETRY_STATUS:
                raise _Retry(f"HTTP {resp.status_code}", _retry_after(resp.headers.get("Retry-After")))
            length = resp.headers.get("Content-Length", "")
            if resp.status_code == 200 and length.isdigit():
                return int(length)
            if resp.status_code not in (200, 405):
                raise InputUnavailable(f"{url}: HTTP {resp.status_code} {resp.reason}")
            got = session.get(url, headers={"Range": "bytes=0-0"}, stream=True, timeout=policy.timeout_s)
            got.close()
            m = _CONTENT_RANGE.match(got.headers.get("Content-Range", ""))
            if got.status_code == 206 and m and m.group(3).isdigit():
                return int(m.group(3))
            raise InputUnavailable(f"{url}: the server gives no size (HTTP {got.status_code})")
        except InputUnavailable:
            raise
        except (_Retry, *_TRANSIENT) as e:
            budget._wait(e)


class HttpFileSystem(FileSystem):
    """Read-only `http://` files (see the module doc)."""

    CHUNK_SIZE = 1 << 20

    def __init__(self, pipeline_options=None):
        super().__init__(pipeline_options)
        opts = pipeline_options.get_all_options() if hasattr(pipeline_options, "get_all_options") else {}
        default = RetryPolicy()
        self.policy = RetryPolicy(
            retries=int(opts.get("http_retries") or default.retries),
            backoff_s=float(opts.get("http_backoff_s") or default.backoff_s))

    @classmethod
    def scheme(cls) -> str:
        return "http"

    def join(self, basepath: str, *paths: str) -> str:
        return posixpath.join(basepath, *paths)

    def split(self, path: str) -> tuple[str, str]:
        head, _, tail = path.rpartition("/")
        return head, tail

    def mkdirs(self, path):
        raise BeamIOError(f"{path}: HTTP inputs are read-only")

    def has_dirs(self) -> bool:
        return False

    def _list(self, dir_or_prefix):
        raise BeamIOError(f"{dir_or_prefix}: cannot list files over HTTP; give each URL or a warc.paths list")

    def match(self, patterns, limits=None):
        results = []
        for pattern in patterns:
            if any(c in pattern for c in "*?["):
                raise BeamIOError("Match operation failed", {
                    pattern: ValueError("no globbing over HTTP; give URLs or a warc.paths list")})
            try:
                results.append(MatchResult(pattern, [FileMetadata(pattern, head_size(pattern, self.policy))]))
            except InputUnavailable as e:
                raise BeamIOError("Match operation failed", {pattern: e})
        return results

    def create(self, path, mime_type="application/octet-stream", compression_type=CompressionTypes.AUTO):
        raise BeamIOError(f"{path}: HTTP outputs are not supported")

    def open(self, path, mime_type="application/octet-stream", compression_type=CompressionTypes.AUTO):
        raw = HttpReader(path, self.policy)
        if compression_type == CompressionTypes.AUTO:
            compression_type = CompressionTypes.detect_compression_type(path)
        if compression_type == CompressionTypes.UNCOMPRESSED:
            return raw
        return CompressedFile(raw, compression_type=compression_type)

    def copy(self, source_file_names, destination_file_names):
        raise BeamIOError("HTTP outputs are not supported")

    def rename(self, source_file_names, destination_file_names):
        raise BeamIOError("HTTP outputs are not supported")

    def exists(self, path: str) -> bool:
        try:
            head_size(path, self.policy)
            return True
        except InputUnavailable:
            return False

    def size(self, path: str) -> int:
        return head_size(path, self.policy)

    def last_updated(self, path):
        raise BeamIOError(f"{path}: last_updated is not available over HTTP")

    def checksum(self, path):
        return str(self.size(path))

    def metadata(self, path):
        return FileMetadata(path, self.size(path))

    def delete(self, paths):
        raise BeamIOError("HTTP outputs are not supported")


class HttpsFileSystem(HttpFileSystem):
    """Read-only `https://` files."""

    @classmethod
    def scheme(cls) -> str:
        return "https"
