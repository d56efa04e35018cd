"""UrlDedup: one document per URL, the newest fetch (plain functions, then real Beam)."""
import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from gristmill.transforms.document import Document, stable_id
from gristmill.transforms.url_dedup import UrlDedup, newer, normalize_url


def test_normalize_url_keys_one_page():
    same = ["https://www.Example.com/a/b/", "http://example.com/a/b", "https://example.com:443/a/b#top",
            "https://example.com/a/b?utm_source=x&utm_medium=y", "https://example.com/a/b/?fbclid=1"]
    assert {normalize_url(u) for u in same} == {"example.com/a/b"}
    assert normalize_url("https://example.com/a/B") != normalize_url("https://example.com/a/b")
    assert normalize_url("https://example.com/p?id=1") != normalize_url("https://example.com/p?id=2")
    assert normalize_url("https://example.com:8080/") == "example.com:8080"
    assert normalize_url("http://[::1") == "http://[::1"  # unparsable: itself


def doc(url, date, n):
    return Document(id=stable_id(str(n)), url=url, input=0, offset=n, date=date, text=f"text {n}")


def test_newer_is_the_later_fetch_then_the_smaller_id():
    a, b = doc("u", "2024-05-01T00:00:00Z", 1), doc("u", "2023-01-01T00:00:00Z", 2)
    assert newer(a, b) and not newer(b, a)
    c, d = doc("u", "2024-05-01T00:00:00Z", 3), doc("u", "2024-05-01T00:00:00Z", 4)
    assert newer(c, d) == (c.id < d.id) and newer(d, c) == (d.id < c.id)


def test_url_dedup_keeps_the_newest_fetch_and_names_it():
    docs = [doc("https://a.example.com/x", "2022-01-01T00:00:00Z", 1),
            doc("http://www.a.example.com/x/", "2024-01-01T00:00:00Z", 2),
            doc("https://a.example.com/x?utm_campaign=z", "2023-01-01T00:00:00Z", 3),
            doc("https://b.example.com/", "2020-01-01T00:00:00Z", 4)]
    with TestPipeline(runner="FnApiRunner") as p:
        out = p | beam.Create(docs) | UrlDedup()
        assert_that(out.kept | "KeptIds" >> beam.Map(lambda d: d.offset), equal_to([2, 4]), label="kept")
        assert_that(out.rejected | "Rej" >> beam.Map(lambda r: (r.offset, r.reason, r.detail)),
                    equal_to([(1, "url_duplicate", docs[1].id.hex()),
                              (3, "url_duplicate", docs[1].id.hex())]), label="rejected")
        total = (out.counts | beam.Map(lambda c: sorted(c[1].items()))
                 | beam.FlatMap(lambda kv: kv) | beam.CombinePerKey(sum))
        assert_that(total, equal_to([("kept", 2), ("url_duplicate", 2)]), label="counts")
