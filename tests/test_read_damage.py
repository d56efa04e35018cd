"""The reader on damaged and unusual input: what each malformed file yields, recovery after
damage (resync at the next valid member or record line), Content-Encoding, payload types.

What each file of ../shared/data/warc-malformed/ yields (read whole, `read_range`):

| file | records out | documents | other reasons | damage (counted error) |
| --- | --- | --- | --- | --- |
| cc-2008-legacy-format.arc (ARC v1) | 146 | 125 | warc_warcinfo 1, http_status 14, not_html 6 | - |
| clueweb09-whole-file-gzip.warc.gz (one gzip stream) | 24 | 23 | warc_warcinfo 1 | - |
| truncated-record.warc.gz | 1 | 0 | - | truncated_file 1 |
| warcio-example-bad-non-chunked.warc.gz | 6 | 1 | warc_warcinfo 2, warc_request 2, warc_revisit 1 | - |
| warcio-example-bad.warc.gz.bad | 6 | 1 | warc_warcinfo 1, warc_request 2, warc_revisit 1, http_status 1 | - |
| warcio-example-digest.warc | 4 | 0 | warc_request 4 | - |
| warcio-example-iana.org-chunked.warc | 3 | 1 | warc_warcinfo 1, warc_request 1 | - |
| warcio-example-space-in-target-uri.warc.gz | 2 | 0 | warc_warcinfo 1, warc_resource 1 | - |
| warcio-example-trunc.warc | 4 | 1 | warc_warcinfo 2, warc_request 1 | - |
| warcio-example-wget-bad-target-uri.warc.gz | 6 | 1 | warc_warcinfo 1, warc_request 1, warc_metadata 1, warc_resource 2 | - |
| warcio-example-wrong-chunks.warc.gz (a body in its own member) | 3 | 0 | truncated_record 1, warc_request 1 | garbled_record 1 |

Before this reader, the ARC, the whole-file gzip and both non-chunked warcio files ended
with one `read_error` after their first record.
"""
import collections
import gzip
import io
import random
import zlib

import brotli
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from gristmill.sampledata.damage import KINDS, damaged_copy, gzip_members
from gristmill.transforms.document import Document, Rejection
from gristmill.transforms.read_warc import (DAMAGE_REASONS, ReadConfig, file_ranges, read_range)
from tests.conftest import shared_data
from tests.warc_util import page, write_warc

MALFORMED = {
    "cc-2008-legacy-format.arc": {"doc": 125, "warc_warcinfo": 1, "http_status": 14, "not_html": 6},
    "clueweb09-whole-file-gzip.warc.gz": {"doc": 23, "warc_warcinfo": 1},
    "truncated-record.warc.gz": {"truncated_file": 1},
    "warcio-example-bad-non-chunked.warc.gz": {"doc": 1, "warc_warcinfo": 2, "warc_request": 2,
                                               "warc_revisit": 1},
    "warcio-example-bad.warc.gz.bad": {"doc": 1, "warc_warcinfo": 1, "warc_request": 2,
                                       "warc_revisit": 1, "http_status": 1},
    "warcio-example-digest.warc": {"warc_request": 4},
    "warcio-example-iana.org-chunked.warc": {"doc": 1, "warc_warcinfo": 1, "warc_request": 1},
    "warcio-example-space-in-target-uri.warc.gz": {"warc_warcinfo": 1, "warc_resource": 1},
    "warcio-example-trunc.warc": {"doc": 1, "warc_warcinfo": 2, "warc_request": 1},
    "warcio-example-wget-bad-target-uri.warc.gz": {"doc": 1, "warc_warcinfo": 1, "warc_request": 1,
                                                   "warc_metadata": 1, "warc_resource": 2},
    "warcio-example-wrong-chunks.warc.gz": {"truncated_record": 1, "warc_request": 1,
                                            "garbled_record": 1},
}


def read_whole(path, config=ReadConfig()):
    data_size = path.stat().st_size
    *items, summary = read_range(str(path), 0, 0, data_size, data_size, config)
    return items, summary


def tally(items):
    return dict(collections.Counter("doc" if isinstance(i, Document) else i.reason for i in items))


def outcome(item):
    return (item.id, "doc" if isinstance(item, Document) else item.reason)


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_each_malformed_file_yields_its_records_and_counts_the_damage(name):
    items, summary = read_whole(shared_data("warc-malformed", name))
    assert tally(items) == MALFORMED[name]
    damage = [i for i in items if isinstance(i, Rejection) and i.reason in DAMAGE_REASONS]
    assert bool(summary["error"]) == bool(damage) and summary["records"] == len(items)
    assert all(d.detail.startswith("at byte ") for d in damage)


def test_whole_file_gzip_records_keep_their_place_in_the_stream():
    path = shared_data("warc-malformed", "clueweb09-whole-file-gzip.warc.gz")
    items, _ = read_whole(path)
    docs = [i for i in items if isinstance(i, Document)]
    raw = gzip.decompress(path.read_bytes())
    # one member: every record's offset is the member's, inner is its place in the stream
    assert {d.offset for d in docs} == {0} and all(d.length == path.stat().st_size for d in docs)
    for d in docs:
        assert raw[d.inner:].startswith(b"WARC/0.18") and d.url.encode() in raw[d.inner:d.inner + 400]


def _warc_bytes(n, seed=0):
    buf = io.BytesIO()
    rng = random.Random(seed)
    w = WARCWriter(buf, gzip=True)
    for i in range(n):
        words = " ".join(rng.choice(["harbour", "ferry", "pier", "tide", "rope", "gull"]) for _ in range(80))
        body = page(f"Page {i}", [words, words[::-1]])
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        w.write_record(w.create_warc_record(f"https://h{i % 7}.example.com/{i}", "response",
                                            payload=io.BytesIO(body), http_headers=http))
    return buf.getvalue()


def _check_recovery(original: bytes, tmp_path, seeds):
    """Every record of an intact member comes out of the damaged copy as it does from the
    original; everything else is accounted for as damage."""
    src = tmp_path / "orig.warc.gz"
    src.write_bytes(original)
    by_offset = collections.defaultdict(list)
    for item in read_whole(src)[0]:
        by_offset[item.offset].append(outcome(item))
    members = gzip_members(original)
    totals = collections.Counter()
    for seed in seeds:
        for kind in KINDS:
            bad, intact = damaged_copy(original, kind, random.Random(seed))
            path = tmp_path / f"{kind}-{seed}.warc.gz"
            path.write_bytes(bad)
            items, summary = read_whole(path)
            got = {outcome(i) for i in items}
            expected = [o for m in intact for o in by_offset[members[m][0]]]
            assert all(e in got for e in expected), (kind, seed)
            damage = [i for i in items if getattr(i, "reason", "") in DAMAGE_REASONS]
            lost = len(members) - len(intact)
            assert len(items) == len(got)  # no record twice
            assert len(damage) <= max(lost, 0) + 3, (kind, seed)  # a splice between members is one
            assert summary["records"] == len(items)
            totals["intact"] += len(expected)
            totals["damage"] += len(damage)
    return totals


def test_damaged_copies_lose_only_the_damaged_records(tmp_path):
    totals = _check_recovery(_warc_bytes(120), tmp_path, seeds=range(4))
    assert totals["intact"] > 1000 and totals["damage"] >= 12


def test_damaged_copies_of_the_shared_warcs(tmp_path):
    for name in ("cc-main-2020-34-slice.warc.gz", "crawl-en-0000.warc.gz", "crawl-en-0001.warc.gz",
                 "clueweb09-ja.warc.gz"):
        _check_recovery(shared_data("warc", name).read_bytes(), tmp_path, seeds=range(8))


def test_damage_across_range_boundaries_is_reported_once(tmp_path):
    original = _warc_bytes(200, seed=3)
    for seed in range(3):
        for kind in ("flip", "splice"):
            bad, _ = damaged_copy(original, kind, random.Random(100 + seed))
            path = tmp_path / f"r-{kind}-{seed}.warc.gz"
            path.write_bytes(bad)
            whole, _ = read_whole(path)
            parts = []
            size = len(bad)
            for start, end in file_ranges(str(path), size, 1 << 16):
                *items, _ = read_range(str(path), 0, start, end, size)
                parts += items
            assert sorted(map(outcome, parts)) == sorted(map(outcome, whole)), (kind, seed)


def test_plain_warc_resyncs_at_the_next_record_line(tmp_path):
    records = gzip.decompress(_warc_bytes(6)).split(b"WARC/1.0\r\n")[1:]
    head = b"WARC/1.0\r\n"
    damaged = (b"".join(head + r for r in records[:2]) + b"\x00\xff garbled version line\r\n"
               + records[2] + b"".join(head + r for r in records[3:]))
    path = tmp_path / "p.warc"
    path.write_bytes(damaged)
    items, summary = read_whole(path)
    assert tally(items) == {"doc": 5, "garbled_record": 1} and "garbled_record" in summary["error"]


def _encoded_warc(path, encodings):
    html = page("Encoded", ["A page sent compressed over HTTP, as servers do."])
    comp = {"gzip": gzip.compress, "deflate": zlib.compress, "br": brotli.compress}
    with open(path, "wb") as f:
        w = WARCWriter(f, gzip=True)
        for i, enc in enumerate(encodings):
            body = comp[enc](html) if enc in comp else html
            headers = [("Content-Type", "text/html; charset=utf-8")]
            if enc:
                headers.append(("Content-Encoding", enc))
            http = StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")
            w.write_record(w.create_warc_record(f"https://e.example.com/{i}", "response",
                                                payload=io.BytesIO(body), http_headers=http))
    return html


def test_content_encoding_is_decoded(tmp_path):
    path = tmp_path / "enc.warc.gz"
    html = _encoded_warc(path, ["gzip", "deflate", "br", ""])
    items, _ = read_whole(path)
    assert [i.html for i in items] == [html] * 4


def test_payload_type_by_http_header_then_identified_type_then_sniffing(tmp_path):
    html = page("Typed", ["Which records are HTML."])
    cases = [  # (HTTP Content-Type, WARC-Identified-Payload-Type, body) -> kept?
        ("text/html", "", html, True),
        ("application/xhtml+xml", "", html, True),
        ("text/plain", "text/html", html, True),          # Common Crawl's detection wins
        ("application/octet-stream", "application/pdf", html, False),
        ("", "", html, True),                             # sniffed
        ("text/plain", "", b"just words, no markup at all", False),
        ("image/png", "", html, False),
    ]
    path = tmp_path / "t.warc.gz"
    with open(path, "wb") as f:
        w = WARCWriter(f, gzip=True)
        for i, (ctype, ident, body, _) in enumerate(cases):
            http = StatusAndHeaders("200 OK", [("Content-Type", ctype)] if ctype else [],
                                    protocol="HTTP/1.1")
            warc = {"WARC-Identified-Payload-Type": ident} if ident else {}
            w.write_record(w.create_warc_record(f"https://t.example.com/{i}", "response",
                                                payload=io.BytesIO(body), http_headers=http,
                                                warc_headers_dict=warc))
    items, _ = read_whole(path)
    assert [isinstance(i, Document) for i in items] == [c[3] for c in cases]
    assert {i.reason for i in items if not isinstance(i, Document)} == {"not_html"}


def test_wayback_records_without_http_headers_all_come_through():
    items, _ = read_whole(shared_data("warc", "wayback-no-http-headers.warc.gz"))
    assert tally(items) == {"doc": 128, "warc_warcinfo": 1}


def test_size_cap_is_counted(tmp_path):
    path = tmp_path / "big.warc.gz"
    write_warc(path, [("https://a.example.com/", page("Big", ["word " * 5000]), "text/html", "200 OK")])
    items, _ = read_whole(path, ReadConfig(max_record_bytes=4096))
    assert tally(items) == {"too_large": 1, "warc_request": 1}
