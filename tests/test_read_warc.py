import glob
import gzip
import hashlib

import pytest
from warcio.archiveiterator import ArchiveIterator

from gristmill.transforms.document import Document, Rejection
from gristmill.transforms.read_warc import ReadConfig, expand_pattern, iter_records
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
    assert all(d.warc_offset >= 0 and d.warc_file == str(path) for d in docs)


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
    assert items[-1].reason in ("read_error", "truncated_record")
    assert items[-1].warc_offset == len(data)


def test_not_a_warc_is_one_read_error(tmp_path):
    path = tmp_path / "x.warc"
    path.write_bytes(bytes(range(256)) * 8)
    (item,) = read(path)
    assert item.reason == "read_error" and "ArchiveLoadFailed" in item.detail


def test_unreadable_file_is_one_counted_read_error(tmp_path):
    from gristmill.transforms.read_warc import ReadWarcFile
    out = list(ReadWarcFile(ReadConfig(), "rejected", "inputs").process(str(tmp_path / "gone.warc.gz")))
    rejection, summary = out[0].value, out[1].value
    assert rejection.reason == "read_error" and "gone.warc.gz" in rejection.warc_file
    assert summary["records"] == 1 and summary["error"]


def test_file_summary_has_digest_of_every_byte(tmp_path):
    from gristmill.transforms.read_warc import ReadWarcFile
    path = tmp_path / "a.warc.gz"
    write_warc(path, [("https://a.example.com/", HTML, "text/html", "200 OK")])
    out = list(ReadWarcFile(ReadConfig(), "rejected", "inputs").process(str(path)))
    summary = out[-1].value
    assert summary == {"path": str(path), "bytes": path.stat().st_size, "records": 2, "error": "",
                       "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


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


@pytest.mark.parametrize("folder", ["warc", "warc-malformed"])
def test_shared_warcs_every_record_accounted(folder):
    files = sorted(glob.glob(str(shared_data(folder) / "*")))
    assert files
    for path in files:
        items = read(path)
        n, failed = _plain_count(path)
        assert len(items) == n + int(failed), path
        if failed:
            assert items[-1].reason == "read_error", path
