"""A crawl of any size built from the 181 real pages of the shared extraction set.

    python -m benchmarks.realcrawl --output real.warc.gz --pages 10000 [--seed 0]

Page ``i`` is a variant of real page ``i % 181`` (pages sorted by id). The first 181
are the pages as they are, at their own URL. Every later one gets a new host and URL
and boilerplate blocks (cookie notice, newsletter, link lists) after ``<body>`` and
before ``</body>``; then either (one in ten, ``LIGHT``) a near-duplicate of its page:
1% of the words of its text replaced by other words of the same page, or (the rest)
a different page: its ``<p>`` paragraphs shuffled and 15% of them dropped, 20% of its
words replaced, so that it shares few word 5-grams with any other page. Words are
changed only in text, never inside tags, scripts, styles or comments. The same seed
gives the same bytes; page ``i`` does not depend on ``--pages``.

Also the WARC writer of the whole-job benchmarks (``write_warc``): response records
only, each with a WARC-Record-ID and WARC-Date derived from its index.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import gzip
import io
import json
import os
import random
import re
import sys
import time
import urllib.parse
import uuid
from typing import Iterable, Iterator, Optional

from benchmarks.common import EXTRACTION, require

LIGHT = 0.10          # share of variants that are near-duplicates of their page
LIGHT_WORDS = 0.01    # words replaced in a near-duplicate
HEAVY_WORDS = 0.20    # words replaced in a different page
DROP_PARAGRAPHS = 0.15
DATE0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)

_PROTECT = re.compile(r"(<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->|<[^>]*>)", re.S | re.I)
_WORD = re.compile(r"((?<![&#\w])[^\W\d_]{3,}(?!\w))")
_META_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([-\w]+)", re.I)

BOILERPLATE = [
    "We use cookies to improve your experience. By continuing to browse this site you agree to our use of cookies.",
    "Sign up for our newsletter and get the best stories delivered to your inbox every morning.",
    "Subscribe now for unlimited digital access. Cancel anytime.",
    "Share this article on Facebook, Twitter or by email.",
    "Advertisement",
    "All rights reserved. Reproduction in whole or in part without permission is prohibited.",
    "Follow us on social media for the latest updates.",
    "Download our app for breaking news alerts.",
    "Most read this week",
    "Terms of use | Privacy policy | Contact us | Careers",
]
SECTIONS = ["World", "Politics", "Business", "Tech", "Science", "Health", "Sports", "Culture",
            "Opinion", "Travel", "Food", "Video"]
HOST_PREFIXES = ["m", "amp", "news", "edition", "beta", "mirror"]


# ---------------------------------------------------------------- the shared pages

def load_pages(limit: Optional[int] = None) -> list[dict]:
    """The extraction set's pages sorted by id: {id, url, html (str), body, charset}."""
    require(EXTRACTION / "ground-truth.json")
    with open(EXTRACTION / "ground-truth.json", encoding="utf-8") as f:
        truth = json.load(f)
    pages = []
    for pid in sorted(truth)[:limit]:
        raw = gzip.decompress((EXTRACTION / "html" / f"{pid}.html.gz").read_bytes())
        m = _META_CHARSET.search(raw)
        charset = m.group(1).decode().lower() if m else "utf-8"
        html = raw.decode(charset)  # all 181 decode strictly with their charset (or utf-8)
        pages.append({"id": pid, "url": truth[pid]["url"], "html": html,
                      "body": truth[pid]["articleBody"], "charset": charset})
    return pages


# ---------------------------------------------------------------- the WARC writer

def write_warc(path: str, records: Iterable[tuple[str, bytes, str]]) -> dict:
    """Write (url, payload, content_type) HTTP 200 responses as a gzipped WARC (warcio).

    Record ``n`` gets WARC-Record-ID ``uuid5(URL namespace, "n url")`` and WARC-Date
    2026-01-01 plus ``n`` seconds. Written to ``path + ".tmp"``, then renamed.
    """
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    n = nbytes = 0
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        writer = WARCWriter(f, gzip=True)
        for n, (url, payload, ctype) in enumerate(records, 1):
            http = StatusAndHeaders("200 OK", [("Content-Type", ctype),
                                               ("Content-Length", str(len(payload)))],
                                    protocol="HTTP/1.1")
            date = (DATE0 + datetime.timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
            rec = writer.create_warc_record(url, "response", payload=io.BytesIO(payload),
                                            http_headers=http, warc_headers_dict={
                                                "WARC-Record-ID": f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{n} {url}')}>",
                                                "WARC-Date": date})
            writer.write_record(rec)
            nbytes += len(payload)
    os.replace(tmp, path)
    return {"records": n, "payload_bytes": nbytes, "file_bytes": os.path.getsize(path)}


def html_type(charset: Optional[str]) -> str:
    return f"text/html; charset={charset}" if charset else "text/html"


# ---------------------------------------------------------------- variants

@dataclasses.dataclass
class Template:
    """A page cut into pieces: text words (substitutable), paragraphs (movable), the rest."""
    url: str
    pieces: list[str]
    words: list[int]                 # indices of word pieces
    vocab: list[str]
    spans: list[tuple[int, int]]     # [start, end) piece ranges of <p>...</p>
    body_open: Optional[int]         # index of the <body ...> tag piece
    body_close: Optional[int]        # index of the </body> tag piece


def template(url: str, html: str) -> Template:
    pieces: list[str] = []
    words: list[int] = []
    spans: list[tuple[int, int]] = []
    body_open = body_close = open_p = None
    for k, part in enumerate(_PROTECT.split(html)):
        if k % 2:
            low = part[:6].lower()
            if low.startswith("<p") and part[2:3] in (">", " ", "\t", "\n", "\r"):
                open_p = len(pieces)
            elif low.startswith("</p") and part[3:4] in (">", " ", "\t", "\n", "\r") and open_p is not None:
                spans.append((open_p, len(pieces) + 1))
                open_p = None
            elif low.startswith("<body") and body_open is None:
                body_open = len(pieces)
            elif low.startswith("</body"):
                body_close = len(pieces)
            pieces.append(part)
        elif part:
            for j, t in enumerate(_WORD.split(part)):
                if j % 2:
                    words.append(len(pieces))
                if t:
                    pieces.append(t)
    vocab = sorted({pieces[i] for i in words}) or ["text"]
    return Template(url, pieces, words, vocab, spans, body_open, body_close)


def _boilerplate(rng: random.Random) -> str:
    paras = "".join(f"<p>{s}</p>" for s in rng.sample(BOILERPLATE, 3))
    links = "".join(f'<li><a href="/{s.lower()}/{rng.randrange(1000)}">{s}</a></li>'
                    for s in rng.sample(SECTIONS, 6))
    return f'<div class="site-extra">{paras}<ul class="links">{links}</ul></div>'


def variant_url(url: str, v: int, rng: random.Random) -> str:
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc.removeprefix("www.")
    host = f"{rng.choice(HOST_PREFIXES)}{v}.{host}"
    return urllib.parse.urlunsplit((parts.scheme or "https", host, parts.path or "/", f"v={v}", ""))


def variant(t: Template, v: int, seed: int, i: int) -> tuple[str, str, str]:
    """(url, html, kind) of variant ``v`` (>= 1) of a page; kind is 'light' or 'heavy'."""
    rng = random.Random(f"{seed}:{i}")
    light = rng.random() < LIGHT
    pieces = list(t.pieces)
    share = LIGHT_WORDS if light else HEAVY_WORDS
    for j in rng.sample(range(len(t.words)), int(share * len(t.words))):
        pieces[t.words[j]] = rng.choice(t.vocab)
    head, foot = _boilerplate(rng), _boilerplate(rng)
    if t.body_open is not None:
        pieces[t.body_open] += head
    else:
        pieces[0] = head + pieces[0]
    if t.body_close is not None:
        pieces[t.body_close] = foot + pieces[t.body_close]
    else:
        pieces[-1] += foot
    order: list[Optional[int]] = list(range(len(t.spans)))
    if not light:
        rng.shuffle(order)
        order = [None if rng.random() < DROP_PARAGRAPHS else src for src in order]
    out: list[str] = []
    cur = 0
    for (start, end), src in zip(t.spans, order):
        out.extend(pieces[cur:start])
        if src is not None:
            out.extend(pieces[t.spans[src][0]:t.spans[src][1]])
        cur = end
    out.extend(pieces[cur:])
    return variant_url(t.url, v, rng), "".join(out), "light" if light else "heavy"


def real_crawl(pages: int, seed: int = 0, base: Optional[list[dict]] = None) -> Iterator[tuple[str, bytes, str]]:
    """(url, payload, content_type) of ``pages`` pages, for ``write_warc``."""
    base = base or load_pages()
    templates: dict[int, Template] = {}
    for i in range(pages):
        b, v = i % len(base), i // len(base)
        page = base[b]
        if v == 0:
            yield page["url"], page["html"].encode("utf-8"), html_type("utf-8")
            continue
        if b not in templates:
            templates[b] = template(page["url"], page["html"])
        url, html, _ = variant(templates[b], v, seed, i)
        yield url, html.encode("utf-8"), html_type("utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--output", required=True, help="path of the .warc.gz to write")
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    start = time.perf_counter()
    info = write_warc(args.output, real_crawl(args.pages, args.seed))
    print(f"wrote {args.output}: {info['records']} responses, {info['payload_bytes'] / 1e6:.1f} MB of HTML, "
          f"{info['file_bytes'] / 1e6:.1f} MB on disk, in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
