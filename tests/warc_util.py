"""Small WARC files written by the tests themselves (warcio)."""
import io
import uuid

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


def response(writer, url, body: bytes, content_type="text/html; charset=utf-8", status="200 OK",
             n=0):
    http = StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")
    rec = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                    warc_headers_dict={
                                        "WARC-Record-ID": f"<urn:uuid:{uuid.UUID(int=n)}>",
                                        "WARC-Date": "2026-01-01T00:00:00Z"})
    writer.write_record(rec)


def page(title: str, paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<!doctype html><html><head><title>{title}</title></head><body>"
            f"<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
            f"<article><h1>{title}</h1>{body}</article>"
            f"<footer>Copyright 2026 Example Site</footer></body></html>").encode()


def write_warc(path, records) -> None:
    """records: list of (url, body, content_type, status) responses; a request before each."""
    with open(path, "wb") as f:
        w = WARCWriter(f, gzip=True)
        for i, (url, body, ctype, status) in enumerate(records):
            req = w.create_warc_record(url, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n"),
                                       warc_headers_dict={
                                           "WARC-Record-ID": f"<urn:uuid:{uuid.UUID(int=10_000 + i)}>"})
            w.write_record(req)
            response(w, url, body, ctype, status, n=i + 1)


def time_sleep_then_extract(html, url, config):
    """A picklable stand-in for a page that keeps trafilatura busy for 30 seconds."""
    import time

    from gristmill.transforms.extract import extract_text
    time.sleep(30)
    return extract_text(html, url, config)
