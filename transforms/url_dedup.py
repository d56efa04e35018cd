"""UrlDedup: one document per URL, the newest fetch (as C4 deduplicates URLs).

Plain functions: `normalize_url` (the key two fetches of one page share) and `newer`
(which of two fetches stays). The Beam transform groups the documents by normalised URL
and keeps the newest by WARC-Date, ties broken by the smaller id; every other fetch is
rejected as `url_duplicate` with the id of the one kept.

It runs after Quality, so only documents worth keeping cross its shuffle, and a URL is
represented by its newest fetch among those that passed the filters. A group is
reduced as it streams: one worker holds two documents of a URL at a time, however
many fetches it has.
"""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import apache_beam as beam

from gristmill.transforms.document import Document, DocumentCoder, Rejection
from gristmill.transforms.stage import COUNTS, KEPT, REJECTED, TIMES, Counted, StageOutputs

STAGE = "url_dedup"
URL_DUPLICATE = "url_duplicate"
TRACKING = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid")  # query keys that do not change the page


def normalize_url(url: str) -> str:
    """The key of a page: no scheme, no leading "www.", host lowercased, no default port,
    no fragment, no tracking parameters (utm_*, fbclid, gclid, ...), no trailing slash.
    The rest (path case, other query parameters) is kept as is."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").removeprefix("www.")
        port = parts.port
    except ValueError:
        return url.strip()
    if port and not (port == 80 and parts.scheme == "http") and not (port == 443 and parts.scheme == "https"):
        host = f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not k.lower().startswith(TRACKING)]
    key = host + parts.path
    if query:
        key += "?" + urlencode(query)
    return key.rstrip("/")


def newer(a: Document, b: Document) -> bool:
    """Whether fetch a stays rather than b: the later WARC-Date, then the smaller id."""
    return (a.date, b.id) > (b.date, a.id)


_CODER = DocumentCoder()


class KeepNewest(Counted):
    """(url key, encoded documents) -> the newest; the others rejected with its id."""

    def __init__(self):
        super().__init__(STAGE)

    def process(self, kv):
        for item in self.timed(self._keep_newest(kv[1])):
            yield from self.route(item)

    @staticmethod
    def _keep_newest(encoded):
        best = None
        for raw in encoded:
            doc = _CODER.decode(raw)
            if best is None:
                best = doc
                continue
            if newer(doc, best):
                best, doc = doc, best
            yield Rejection.of(doc, STAGE, URL_DUPLICATE, best.id.hex())
        yield best


class UrlDedup(beam.PTransform):
    """Documents -> StageOutputs(kept, rejected, counts): one document per normalised URL."""

    def expand(self, docs) -> StageOutputs:
        out = (docs
               | "KeyByUrl" >> beam.Map(lambda d: (normalize_url(d.url), _CODER.encode(d)))
               .with_output_types(tuple[str, bytes])
               | "GroupByUrl" >> beam.GroupByKey()
               | "KeepNewest" >> beam.ParDo(KeepNewest()).with_output_types(Document)
               .with_outputs(REJECTED, COUNTS, TIMES, main=KEPT))
        out[REJECTED].element_type = Rejection
        return StageOutputs(out[KEPT], out[REJECTED], out[COUNTS], out[TIMES])
