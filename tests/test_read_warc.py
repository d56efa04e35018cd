import glob
import gzip
import hashlib
import random

import pytest
from warcio.archiveiterator import ArchiveIterator

from gristmill.transforms.document import Document, Rejection
from gristmill.transforms.read_warc import (InputIOError, RangeStream, ReadConfig, SplitFile,
                                            expand_pattern, file_ranges, iter_records,
                                            merge_ranges, read_range, record_start_at_or_after)
from tests.conftest import shared_data
from tests.warc_util import page, write_warc

HTML = page("Harbour news", ["The harbour opened a new pier for the ferries this week."])


def read(path, config=ReadConfig()):
    with open(path, "rb") as f:
        return list(iter_records(f, str(path), config))


def test_each_record_becomes_a_document_or_a_reason(tmp_path):
    path = tmp_path / "a.warc.gz"
    write_warc(path, [
        ("https://news.example.com/a", HTML, "text/html; charset=utf-8", "200 OK"),
        ("https://news.example.com/logo.png", b"\x89PNG\r\n\x1a\n0000", "image/png", "200 OK"),
        ("https://news.example.com/gone", b"not here", "text/html", "404 Not Found"),
        ("https://news.example.com/empty", b"", "text/html", "200 OK"),
        ("https://news.example.com/latin", "<html><body><p>Straße und Café</p></body></html>"
         .encode("iso-8859-1"), "text/html; charset=ISO-8859-1", "200 OK"),
    ])
    items = read(path)
    assert len(items) == 10  # 5 requests + 5 responses, nothing lost
    reasons = sorted(i.reason for i in items if isinstance(i, Rejection))
    assert reasons == ["empty_body", "http_status", "not_html"] + ["warc_request"] * 5
    docs = [i for i in items if isinstance(i, Document)]
    assert [d.url for d in docs] == ["https://news.example.com/a", "https://news.example.com/latin"]
    assert docs[0].html == HTML and docs[0].charset == "utf-8"
    assert docs[1].charset == "iso-8859-1"
    assert len({i.id for i in items}) == 10
    assert all(d.offset >= 0 and d.input == 0 and d.length > 0 for d in docs)


def test_garbage_status_line_and_binary_body(tmp_path):
    path = tmp_path / "bad.warc"
    block = b"HTPT/1.1 2OO 0K\r\nContent-Type: text/html\r\n\r\n" + HTML
    junk = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + bytes(range(256)) * 4
    path.write_bytes(b"".join(
        b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: http://a.example.org/%d\r\n"
        b"Content-Type: application/http; msgtype=response\r\nContent-Length: %d\r\n\r\n"
        % (i, len(b)) + b + b"\r\n\r\n" for i, b in enumerate([block, junk])))
    assert [i.reason for i in read(path)] == ["bad_http_status_line", "binary_body"]


def test_too_large_is_rejected_not_read(tmp_path):
    path = tmp_path / "big.warc.gz"
    write_warc(path, [("https://a.example.com/", HTML, "text/html", "200 OK")])
    items = read(path, ReadConfig(max_record_bytes=50))
    assert [i.reason for i in items if isinstance(i, Rejection)] == ["warc_request", "too_large"]


def test_payload_without_http_headers_keeps_whole_body(tmp_path):
    path = tmp_path / "raw.warc"
    path.write_bytes(b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: http://old.example.org/\r\n"
                     b"WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000001>\r\n"
                     b"Content-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(HTML)
                     + HTML + b"\r\n\r\n")
    (doc,) = read(path)
    assert isinstance(doc, Document) and doc.html == HTML


def test_truncated_tail_ends_the_file_with_one_counted_error(tmp_path):
    path = tmp_path / "t.warc.gz"
    write_warc(path, [("https://a.example.com/%d" % i, HTML, "text/html", "200 OK") for i in range(3)])
    data = path.read_bytes()
    member = gzip.compress(b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://a.example.com/t"
                           b"\r\nContent-Length: %d\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                           b"\r\n" % (len(HTML) + 44) + HTML + b"\r\n\r\n")
    path.write_bytes(data + member[: len(member) * 2 // 3])
    items = read(path)
    assert sum(isinstance(i, Document) for i in items) == 3
    assert len(items) == 7
    assert items[-1].reason == "truncated_file"
    assert items[-1].offset == len(data)


def test_not_a_warc_is_one_garbled_record(tmp_path):
    path = tmp_path / "x.warc"
    path.write_bytes(bytes(range(256)) * 8)
    (item,) = read(path)
    assert item.reason == "garbled_record" and "ArchiveLoadFailed" in item.detail


def test_unreadable_file_is_one_counted_error(tmp_path):
    fn = SplitFile(ReadConfig())
    fn.start_bundle()
    out = list(fn.process((3, str(tmp_path / "gone.warc.gz"))))
    rejection, summary = out[0].value, out[1].value
    assert rejection.reason == "unreadable_input" and rejection.input == 3
    assert summary["records"] == 1 and summary["error"]


def test_range_summary_has_digest_of_every_byte(tmp_path):
    path = tmp_path / "a.warc.gz"
    write_warc(path, [("https://a.example.com/", HTML, "text/html", "200 OK")])
    size = path.stat().st_size
    *items, summary = read_range(str(path), 0, 0, size, size)
    assert len(items) == 2
    assert summary == {"input": 0, "start": 0, "bytes": size, "records": 2, "error": "",
                       "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def _big_warc(path, n=120):
    rng = random.Random(n)
    words = ["harbour", "council", "river", "market", "garden", "station", "library", "bakery",
             "opened", "closed", "visitors", "morning", "summer", "ferry", "school", "museum"]
    paragraphs = lambda: [" ".join(rng.choice(words) for _ in range(120)) + "." for _ in range(6)]
    write_warc(path, [(f"https://a.example.com/{i}", page(f"Page {i}", paragraphs()),
                       "text/html", "200 OK") for i in range(n)])


def test_ranges_read_every_record_once(tmp_path):
    path = tmp_path / "big.warc.gz"
    _big_warc(path)
    size = path.stat().st_size
    whole = read(path)
    ranges = file_ranges(str(path), size, 1 << 16)
    assert len(ranges) >= 4 and ranges[0][0] == 0 and ranges[-1][1] == size
    parts, summaries = [], []
    for start, end in ranges:
        *items, summary = read_range(str(path), 0, start, end, size)
        assert all(start <= i.offset < end for i in items)
        parts += items
        summaries.append(summary)
    assert [(i.id, i.offset) for i in parts] == [(i.id, i.offset) for i in whole]
    data = path.read_bytes()
    for (start, end), summary in zip(ranges, summaries):
        assert summary["sha256"] == hashlib.sha256(data[start:end]).hexdigest()
    entry = merge_ranges(((0, str(path)), summaries[::-1]))
    assert entry["records"] == len(whole) and entry["bytes"] == size and entry["ranges"] == len(ranges)
    # a range boundary is the first gzip member at or after the range's start
    offsets = sorted({i.offset for i in whole})
    for start, end in ranges[1:]:
        with RangeStream(str(path), start, end) as stream:
            assert record_start_at_or_after(stream, start, end) == min(o for o in offsets if o >= start)


def test_only_multi_member_warc_gz_files_are_cut():
    assert file_ranges("a.warc.gz", 10 << 20, 1 << 20)[1] == (1 << 20, 2 << 20)
    assert file_ranges("a.warc", 10 << 20, 1 << 20) == [(0, 10 << 20)]
    assert file_ranges("a.arc.gz", 10 << 20, 1 << 20) == [(0, 10 << 20)]


def test_non_numeric_content_length_is_a_counted_rejection(tmp_path):
    path = tmp_path / "cl.warc"
    block = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + HTML
    good = (b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: http://a.example.org/1\r\n"
            b"Content-Type: application/http; msgtype=response\r\nContent-Length: %d\r\n\r\n"
            % len(block) + block + b"\r\n\r\n")
    bad = good.replace(b"/1\r\n", b"/2\r\n").replace(b"Content-Length: %d" % len(block),
                                                         b"Content-Length: %dabc" % len(block))
    path.write_bytes(good + bad + good.replace(b"/1\r\n", b"/3\r\n"))
    items = read(path)
    assert isinstance(items[0], Document) and items[1].reason == "bad_content_length"
    assert len(items) >= 2 and all(isinstance(i, (Document, Rejection)) for i in items)


class _Flaky:
    """A real file whose reads fail `fails` times once `after` reads have succeeded
    (an unreliable network file system)."""
    after, fails = 0, 0

    def __init__(self, path):
        self.f = open(path, "rb")

    def read(self, n=-1):
        if _Flaky.after > 0:
            _Flaky.after -= 1
        elif _Flaky.fails > 0:
            _Flaky.fails -= 1
            raise ConnectionResetError("connection reset by peer")
        return self.f.read(n)

    def seek(self, pos):
        return self.f.seek(pos)

    def close(self):
        self.f.close()


def test_transient_read_errors_are_retried_then_raised(tmp_path):
    path = tmp_path / "big.warc.gz"
    _big_warc(path, 30)
    size = path.stat().st_size
    config = ReadConfig(retries=3, backoff_s=0.01)
    *expected, summary = read_range(str(path), 0, 0, size, size, config)
    _Flaky.after, _Flaky.fails = 1, 3  # fewer than the retries: reopened, read on where it was
    stream = RangeStream(str(path), 0, size, config, opener=_Flaky)
    got = list(iter_records(stream, str(path), config))
    assert [(i.id, i.offset) for i in got] == [(i.id, i.offset) for i in expected]
    assert stream.finish() == summary["sha256"] and _Flaky.fails == 0
    _Flaky.after, _Flaky.fails = 1, 100  # more: raised for the runner, not taken for the end
    stream = RangeStream(str(path), 0, size, config, opener=_Flaky)
    with pytest.raises(InputIOError, match="connection reset"):
        list(iter_records(stream, str(path), config))
    # read_range: the records before, then the rest of the range as one counted error
    _Flaky.after, _Flaky.fails = 1, 100
    *items, summary = read_range(str(path), 4, 0, size, size, config, opener=_Flaky)
    assert items and items[-1].reason == "unreadable_input" and str(path) in items[-1].detail
    assert summary["error"].startswith("unreadable_input") and summary["records"] == len(items)
    _Flaky.after = _Flaky.fails = 0


def test_warc_paths_list_is_expanded(tmp_path):
    lst = tmp_path / "warc.paths.gz"
    lst.write_bytes(gzip.compress(b"crawl-data/CC-MAIN-x/a.warc.gz\n/abs/b.warc.gz\n\n"))
    assert expand_pattern(str(lst), "s3://commoncrawl/") == [
        "s3://commoncrawl/crawl-data/CC-MAIN-x/a.warc.gz", "/abs/b.warc.gz"]
    assert expand_pattern("x/*.warc.gz", "p") == ["x/*.warc.gz"]


def _plain_count(path):
    n = 0
    try:
        with open(path, "rb") as f:
            for _ in ArchiveIterator(f, no_record_parse=True, arc2warc=True):
                n += 1
    except Exception:
        return n, True
    return n, False


def test_shared_warcs_every_record_accounted():
    files = sorted(glob.glob(str(shared_data("warc") / "*")))
    assert files
    for path in files:
        items = read(path)
        n, failed = _plain_count(path)
        assert not failed and len(items) == n, path
