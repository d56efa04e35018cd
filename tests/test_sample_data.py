"""The bundled synthetic crawl (gristmill.sampledata): determinism, contents, and that
real warcio reads every record up to the truncated tail."""
import collections
import gzip
import ipaddress
import re
import zlib

import pytest
from warcio.archiveiterator import ArchiveIterator

from gristmill.sampledata import (BLOCKED_HOSTS, KINDS, LOW_QUALITY, MALFORMED, NON_HTML,
                                  luhn_ok, sample_pages, write_sample)

N = 60


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("sample") / "sample.warc.gz"
    summary = write_sample(str(path), pages=N, seed=0)
    return path, summary


def read_all(path, **kwargs):
    """(records as (type, warc headers, http headers, body), the exception at the end)."""
    out, error = [], None
    with open(path, "rb") as f:
        try:
            for r in ArchiveIterator(f, **kwargs):
                body = r.content_stream().read() if r.http_headers else r.raw_stream.read()
                out.append((r.rec_type, r.rec_headers, r.http_headers, body))
        except Exception as e:  # the truncated tail
            error = e
    return out, error


def responses(path):
    return [r for r in read_all(path)[0] if r[0] == "response"]


def gzip_members(data: bytes):
    """Start offsets of the gzip members of a multi-member file (the last may be cut)."""
    starts, pos = [], 0
    while pos < len(data):
        starts.append(pos)
        d = zlib.decompressobj(31)
        d.decompress(data[pos:])
        if not d.eof:
            break
        pos = len(data) - len(d.unused_data)
    return starts


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path, sample):
    path, summary = sample
    again = tmp_path / "elsewhere-with-another-name.warc.gz"
    assert write_sample(str(again), pages=N, seed=0) == summary
    assert again.read_bytes() == path.read_bytes()
    other = tmp_path / "other.warc.gz"
    write_sample(str(other), pages=N, seed=1)
    assert other.read_bytes() != path.read_bytes()
    urls0 = {p["url"] for p in sample_pages(N, 0)}
    urls1 = {p["url"] for p in sample_pages(N, 1)}
    assert len(urls0 & urls1) < len(urls0) // 4


def test_gzip_members_carry_no_wall_clock(sample):
    path, summary = sample
    data = path.read_bytes()
    starts = gzip_members(data)
    # warcinfo + request/response/metadata records + the cut member, one member each
    assert len(starts) == sum(summary["records"][k] for k in
                              ("warcinfo", "request", "response", "metadata", "truncated"))
    for s in starts:
        assert data[s:s + 3] == b"\x1f\x8b\x08"
        assert data[s + 4:s + 8] == b"\0\0\0\0"  # MTIME
    dates = re.findall(rb"WARC-Date: (\S+)", gzip.decompress(data[:starts[-1]]))
    assert all(d.startswith(b"2026-05-") for d in dates)


@pytest.mark.parametrize("no_record_parse", [False, True])
def test_warcio_reads_every_record_up_to_the_truncated_tail(sample, no_record_parse):
    path, summary = sample
    records, error = read_all(path, no_record_parse=no_record_parse, arc2warc=no_record_parse)
    assert error is not None, "the truncated last record must be a read error"
    assert "ArchiveLoadFailed" in type(error).__name__
    counts = collections.Counter(r[0] for r in records)
    rec = summary["records"]
    assert counts == {k: rec[k] for k in ("warcinfo", "request", "response", "metadata")}
    assert rec["truncated"] == 1
    assert rec["response"] + rec["truncated"] == summary["pages"] == N
    assert records[0][0] == "warcinfo"
    with pytest.raises(EOFError):
        gzip.decompress(path.read_bytes())


def test_records_look_like_common_crawl(sample):
    path, _ = sample
    records, _ = read_all(path)
    info_id = records[0][1].get_header("WARC-Record-ID")
    ids = [r[1].get_header("WARC-Record-ID") for r in records]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"<urn:uuid:[0-9a-f-]{36}>", i) for i in ids)
    by_id = {r[1].get_header("WARC-Record-ID"): r for r in records}
    n_ok = 0
    for typ, h, http, body in records[1:]:
        assert h.get_header("WARC-Warcinfo-ID") == info_id
        assert re.fullmatch(r"2026-05-\d\dT\d\d:\d\d:\d\dZ", h.get_header("WARC-Date"))
        if typ == "request":
            assert http.protocol == "GET"  # status line "GET /path HTTP/1.1"
        if typ == "metadata":
            resp = by_id[h.get_header("WARC-Concurrent-To")]
            assert resp[0] == "response"
            assert resp[1].get_header("WARC-Target-URI") == h.get_header("WARC-Target-URI")
            assert b"fetchTimeMs: " in body
        if typ == "response" and h.get_header("WARC-Concurrent-To"):
            assert h.get_header("Content-Type") == "application/http; msgtype=response"
            assert h.get_header("WARC-Payload-Digest").startswith("sha1:")
            assert by_id[h.get_header("WARC-Concurrent-To")][0] == "request"
            assert http.get_header("Content-Length") == str(len(body))
            n_ok += 1
    assert n_ok >= N - 8


def test_every_kind_is_present_and_the_summary_matches_the_file(sample):
    path, summary = sample
    assert set(summary["kinds"]) == set(KINDS) and all(summary["kinds"].values())
    assert sum(summary["kinds"].values()) == N
    assert set(summary["languages"]) == {"en", "de", "fr", "es", "it"}
    assert summary["languages"]["en"] == max(summary["languages"].values())
    assert {"utf-8", "windows-1252", "iso-8859-1", "meta-only", "undeclared",
            "wrong-declared"} <= set(summary["encodings"])
    for m in MALFORMED + ("truncated_tail",):
        assert summary["subkinds"]["malformed/" + m] == 1
    assert set(summary["pii"]) == {"email", "phone", "cc", "ip", "iban"}
    assert summary["bytes"] == path.stat().st_size

    truth = sample_pages(N, 0)
    assert collections.Counter(p["kind"] for p in truth) == summary["kinds"]
    assert truth[-1]["subkind"] == "truncated_tail"
    # the responses warcio reads are the ground truth's, in order (the tail is cut)
    got = [r[1].get_header("WARC-Target-URI") or "" for r in responses(path)]
    assert got == [p["url"] for p in truth[:-1]]
    kinds_in_order = [p["kind"] for p in truth]
    assert kinds_in_order[0] == "article"
    assert len(set(kinds_in_order[:N // 2])) >= 5  # kinds are mixed, not in blocks


def test_page_contents(sample):
    path, _ = sample
    truth = sample_pages(N, 0)
    resp = {r[1].get_header("WARC-Target-URI"): r for r in responses(path)}
    for p in truth[:-1]:
        if not p["url"]:
            continue
        _, h, http, body = resp[p["url"]]
        host = p["url"].split("/")[2]
        if p["kind"] == "blocked_domain":
            assert host in BLOCKED_HOSTS
        else:
            assert host not in BLOCKED_HOSTS
        if p["kind"] in ("article", "pii", "near_duplicate"):
            text = body.decode(p["content_type"].partition("charset=")[2] or "utf-8",
                               errors="replace")
            low = text.lower()
            for tag in ("<!doctype html", "<title>", "<script", "cookie", "&copy;"):
                assert tag in low, (tag, p["url"])
            assert "<nav" in low or 'class="navigation"' in low or 'class="menu' in low
            assert len(re.findall(r"<p>", text)) >= 4
        if p["kind"] == "non_html":
            ct = http.get_header("Content-Type") or ""
            if p["subkind"] == "png":
                assert ct == "image/png" and body.startswith(b"\x89PNG\r\n\x1a\n")
            if p["subkind"] == "pdf":
                assert body.startswith(b"%PDF-1.4") and body.rstrip().endswith(b"%%EOF")
            if p["subkind"].startswith("redirect"):
                assert http.get_statuscode() in ("301", "302") and body == b""
                assert http.get_header("Location").startswith("https://")
        if p["kind"] == "pii":
            text = body.decode("utf-8")
            for key, value in p["pii"].items():
                assert value in text, (key, value)
            if "cc" in p["pii"]:
                assert luhn_ok(p["pii"]["cc"])
            if "ip" in p["pii"]:
                assert ipaddress.ip_address(p["pii"]["ip"]) in ipaddress.ip_network(
                    p["pii"]["ip"].rsplit(".", 1)[0] + ".0/24")
                assert p["pii"]["ip"].rsplit(".", 1)[0] in ("192.0.2", "198.51.100", "203.0.113")
        if p["kind"] == "exact_duplicate":
            assert body == resp[p["source_url"]][3]
            assert p["url"] != p["source_url"]
        if p["kind"] == "near_duplicate":
            src = resp[p["source_url"]][3]
            assert body != src
            a, b = (_paragraph_text(x) for x in (src, body))
            assert 0.75 <= _jaccard5(a, b) < 1.0
        if p["kind"] == "low_quality" and p["subkind"] == "lorem_ipsum":
            assert b"Lorem ipsum dolor sit amet" in body


def _paragraph_text(body: bytes) -> str:
    return " ".join(re.findall(r"<p>(.*?)</p>", body.decode("utf-8", errors="replace")))


def _jaccard5(a: str, b: str) -> float:
    def grams(t):
        w = re.findall(r"\w+", t.lower())
        return {tuple(w[i:i + 5]) for i in range(len(w) - 4)}
    ga, gb = grams(a), grams(b)
    return len(ga & gb) / len(ga | gb)


def test_non_ascii_text_round_trips_in_the_declared_charset(sample):
    path, _ = sample
    truth = {p["url"]: p for p in sample_pages(N, 0)}
    seen = collections.Counter()
    accented = re.compile(r"[äöüßéèêàçñóíúò]")
    for _, h, http, body in responses(path):
        p = truth.get(h.get_header("WARC-Target-URI") or "")
        if not p or p["kind"] != "article":
            continue
        ct = http.get_header("Content-Type")
        declared = ct.partition("charset=")[2].lower()
        meta = re.search(rb'charset="?([\w-]+)', body[:600])
        meta = meta.group(1).decode().lower() if meta else ""
        enc = p["encoding"]
        seen[enc] += 1
        if enc in ("windows-1252", "iso-8859-1"):
            assert declared == meta == enc
            text = body.decode(declared)  # strict: every byte is valid in the declared charset
            assert "\ufffd" not in text and "Ã" not in text
            if p["lang"] != "en":
                assert accented.search(text)
                with pytest.raises(UnicodeDecodeError):
                    body.decode("utf-8")
        elif enc == "meta-only":
            assert not declared and meta
            assert "\ufffd" not in body.decode(meta)
        elif enc == "undeclared":
            assert not declared and not meta
            body.decode("utf-8")
        elif enc == "wrong-declared":
            assert declared and meta
            try:
                as_declared = body.decode(declared)
            except UnicodeDecodeError:
                continue  # declared utf-8, served windows-1252
            assert "Ã" in as_declared  # declared iso-8859-1, served utf-8: mojibake
        else:
            assert declared == "utf-8" and meta == "utf-8"
            body.decode("utf-8")
    assert {"windows-1252", "iso-8859-1", "meta-only", "undeclared", "wrong-declared",
            "utf-8"} <= set(seen)


@pytest.mark.parametrize("pages", [0, 1, 5, 14, 20])
def test_small_sizes(tmp_path, pages):
    path = tmp_path / "s.warc.gz"
    summary = write_sample(str(path), pages=pages, seed=2)
    assert sum(summary["kinds"].values()) == pages
    assert summary["records"]["response"] + summary["records"]["truncated"] == pages
    records, _ = read_all(path)
    assert sum(r[0] == "response" for r in records) == summary["records"]["response"]
    if pages >= 14:
        assert all(summary["kinds"].values()), summary["kinds"]


def test_default_size_shares(tmp_path):
    # its speed (target: under 10 s) is measured by `python -m benchmarks.speed_units`
    summary = write_sample(str(tmp_path / "big.warc.gz"), pages=2000, seed=0)
    k = summary["kinds"]
    assert 0.6 <= k["article"] / 2000 <= 0.7
    assert k["exact_duplicate"] == 160 and k["near_duplicate"] == 120 and k["pii"] == 100
    assert k["blocked_domain"] == 80 and k["low_quality"] == 160 and k["non_html"] == 80
    langs = summary["languages"]
    total = sum(langs.values())
    assert 0.45 <= langs["en"] / total <= 0.55 and 0.03 <= langs["it"] / total <= 0.07
    for sub in LOW_QUALITY:
        assert summary["subkinds"]["low_quality/" + sub] > 0
    for sub in NON_HTML:
        assert summary["subkinds"]["non_html/" + sub] > 0
    for host in BLOCKED_HOSTS:
        assert any(s.startswith("blocked_domain/" + host) for s in summary["subkinds"])
