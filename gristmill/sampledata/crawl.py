"""The bundled synthetic crawl: `write_sample(path, pages, seed)` writes a .warc.gz.

A realistic synthetic crawl written by the project's own code, the embedded default
input. It looks like one Common Crawl WARC file: a warcinfo record first, then per
page a `request`, the `response` and a `metadata` record (every record its own gzip
member). The responses are:

- article pages (about 60 to 65 %): HTML5 with navigation, sidebars, cookie banners and
  footers around article text from `gristmill.sampledata.text` in English (about half),
  German, French, Spanish (about 15 % each) and Italian (about 5 %), on invented sites
  with four different page templates;
- exact duplicates (8 %): an earlier article's bytes at another URL (a syndicating site
  or a `?utm_source=` variant);
- near duplicates (6 %): an earlier article's text with a sentence changed and maybe
  one added, rendered by another site with another template;
- PII pages (5 %): articles with e-mail addresses, phone numbers, Luhn-valid card
  numbers, IPv4 addresses of the documentation ranges and IBANs in the body;
- blocked domains (4 %): megacasino-bonus.com, cheap-pills-online.net,
  adult-videos-xxx.com;
- low quality (8 %): link lists, lorem ipsum, very short pages, keyword stuffing,
  pages that are only navigation;
- non-HTML (4 %): PNG, PDF, JSON, CSS, JavaScript, robots.txt, 301/302 redirects, a 404;
- charsets: some pages in windows-1252 or ISO-8859-1 (declared), some with the charset
  only in <meta>, a couple with none, one or two with a wrong declaration;
- malformed records: a garbage HTTP status line, an empty body, binary junk served as
  text/html, a response without WARC-Target-URI (empty block), one whose
  WARC-Target-URI is empty, and, as the very last bytes of the file, a truncated record:
  the gzip member of a whole response cut short, so that every reader fails there (warcio
  raises ArchiveLoadFailed, Python's gzip EOFError; see `_cut_point`).

Same (pages, seed), same bytes: dates come from the seed and the page index, record
ids from a seeded random.Random, and zlib writes gzip headers with mtime 0.
`sample_pages(pages, seed)` returns the ground truth (URL, kind, language, ...) of every
response in file order without writing anything.
"""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
import html
import io
import json
import random
import re
import struct
import uuid
import zlib
from email.utils import formatdate

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from gristmill.sampledata import text as st

__all__ = ["write_sample", "sample_pages", "KINDS", "BLOCKED_HOSTS"]

KINDS = ("article", "exact_duplicate", "near_duplicate", "pii", "blocked_domain",
         "low_quality", "non_html", "malformed")
# shares of the responses; articles take what is left
SHARES = {"exact_duplicate": 0.08, "near_duplicate": 0.06, "pii": 0.05,
          "blocked_domain": 0.04, "low_quality": 0.08, "non_html": 0.04}
LANG_WEIGHTS = {"en": 0.50, "de": 0.15, "fr": 0.15, "es": 0.15, "it": 0.05}
BLOCKED_HOSTS = {"megacasino-bonus.com": "casino", "cheap-pills-online.net": "pills",
                 "adult-videos-xxx.com": "adult"}
LOW_QUALITY = ("link_list", "lorem_ipsum", "short", "keyword_stuffed", "navigation_only")
NON_HTML = ("png", "pdf", "json", "redirect_301", "css", "not_found", "redirect_302", "js",
            "robots")
# the truncated tail is always last; the others are placed among the pages
MALFORMED = ("garbage_status_line", "empty_body", "binary_junk", "no_target_uri",
             "empty_target_uri")
TEMPLATES = ("news", "magazine", "blog", "portal")

# (host, language, template, site name): invented names under real TLDs
SITES = [
    ("www.riverbend-gazette.com", "en", "news", "The Riverbend Gazette"),
    ("www.northfield-courier.org", "en", "magazine", "Northfield Courier"),
    ("blog.copperleaf-notes.com", "en", "blog", "Copperleaf Notes"),
    ("news.maplestone-times.net", "en", "portal", "Maplestone Times"),
    ("www.harborview-daily.com", "en", "news", "Harborview Daily"),
    ("www.lindenfelder-anzeiger.de", "de", "news", "Lindenfelder Anzeiger"),
    ("www.rheinblick-nachrichten.de", "de", "magazine", "Rheinblick Nachrichten"),
    ("blog.kuechenfenster.de", "de", "blog", "Küchenfenster"),
    ("www.talbote-online.de", "de", "portal", "Der Talbote"),
    ("www.courrier-de-valmont.fr", "fr", "news", "Le Courrier de Valmont"),
    ("www.journal-des-collines.fr", "fr", "magazine", "Journal des Collines"),
    ("blog.carnet-de-margaux.fr", "fr", "blog", "Le carnet de Margaux"),
    ("www.echo-du-plateau.fr", "fr", "portal", "L'Écho du Plateau"),
    ("www.diario-de-montelinda.es", "es", "news", "Diario de Montelinda"),
    ("www.noticias-del-valle.es", "es", "magazine", "Noticias del Valle"),
    ("blog.cuaderno-de-abril.es", "es", "blog", "El cuaderno de Abril"),
    ("www.heraldo-de-la-sierra.es", "es", "portal", "Heraldo de la Sierra"),
    ("www.gazzetta-di-borgoverde.it", "it", "news", "La Gazzetta di Borgoverde"),
    ("www.notizie-del-lago.it", "it", "magazine", "Notizie del Lago"),
    ("blog.quaderno-di-giulia.it", "it", "blog", "Il quaderno di Giulia"),
    ("www.eco-della-valle.it", "it", "portal", "L'Eco della Valle"),
]
SYNDICATORS = ["www.newswire-syndicate.com", "feeds.regional-press-network.net",
               "www.allnews-aggregator.org"]
LINK_HOSTS = ["www.best-links-directory.com", "www.webkatalog-verzeichnis.de",
              "www.annuaire-liens-utiles.fr"]
STUFF_HOSTS = ["www.cheap-deals-4u.com", "www.top-discount-finder.net"]
SERVERS = ["nginx", "nginx/1.24.0", "Apache", "Apache/2.4.58 (Debian)", "cloudflare",
           "LiteSpeed", "Microsoft-IIS/10.0"]
USER_AGENT = "GristmillSampleBot/1.0 (synthetic crawl; +https://example.org/gristmill)"
ACCEPT_LANGUAGE = {"en": "en-US,en;q=0.8", "de": "de-DE,de;q=0.9,en;q=0.5",
                   "fr": "fr-FR,fr;q=0.9,en;q=0.5", "es": "es-ES,es;q=0.9,en;q=0.5",
                   "it": "it-IT,it;q=0.9,en;q=0.5"}
CLD2 = {"en": ("eng", "ENGLISH"), "de": ("deu", "GERMAN"), "fr": ("fra", "FRENCH"),
        "es": ("spa", "SPANISH"), "it": ("ita", "ITALIAN")}

_SITES_BY_LANG = {lang: [s for s in SITES if s[1] == lang] for lang in st.LANGS}
_HOST_TEMPLATE = {s[0]: s[2] for s in SITES}


@dataclasses.dataclass
class Page:
    """One response record (and its request and metadata) to write."""
    url: str
    kind: str
    subkind: str = ""
    lang: str = ""
    status: str = "200 OK"
    headers: list = dataclasses.field(default_factory=list)  # HTTP headers, no length
    body: bytes = b""
    mime: str = "text/html"
    charset: str = ""  # the encoding of the body bytes, for the metadata record
    encoding: str = ""  # summary label: utf-8, windows-1252, meta-only, wrong-declared...
    source_url: str = ""
    pii: dict = dataclasses.field(default_factory=dict)
    date: object = None  # publication datetime of article-like pages
    article: object = None  # sampledata.text.Article for article-like pages


# ----------------------------------------------------------------------------- plan
def _quota(n: int, weights: dict, minimum: int = 1) -> dict:
    """Split n into integer counts proportional to weights (largest remainder), each at
    least `minimum` where n allows."""
    keys = list(weights)
    if n <= 0:
        return {k: 0 for k in keys}
    if n < len(keys) * minimum:
        return {k: (1 if i < n else 0) for i, k in enumerate(keys)}
    total = sum(weights.values())
    raw = {k: weights[k] / total * n for k in keys}
    counts = {k: max(minimum, int(raw[k])) for k in keys}
    while sum(counts.values()) > n:
        k = max((k for k in keys if counts[k] > minimum), key=lambda k: counts[k] - raw[k])
        counts[k] -= 1
    order = sorted(keys, key=lambda k: raw[k] - counts[k], reverse=True)
    i = 0
    while sum(counts.values()) < n:
        counts[order[i % len(order)]] += 1
        i += 1
    return counts


def _plan(pages: int, rng: random.Random) -> list:
    """The kind (and subkind) of every response, in file order."""
    if pages <= 0:
        return []
    priority = (["article"] + list(SHARES) + ["malformed/truncated_tail"]
                + ["malformed/" + m for m in MALFORMED])
    if pages < len(priority) + 1:
        slots = priority[:pages]
        counts = None
    else:
        counts = {k: max(1, round(share * pages)) for k, share in SHARES.items()}
        n_articles = pages - sum(counts.values()) - len(MALFORMED) - 1
        slots = ["article"] * n_articles
        for k, c in counts.items():
            slots += [k] * c
        slots += ["malformed/" + m for m in MALFORMED] + ["malformed/truncated_tail"]
    tail = "malformed/truncated_tail" in slots
    if tail:
        slots.remove("malformed/truncated_tail")
    rng.shuffle(slots)
    first = slots.index("article")
    slots[0], slots[first] = slots[first], slots[0]
    if tail:
        slots.append("malformed/truncated_tail")
    return slots


# ------------------------------------------------------------------------- helpers
def _slug(text: str, words: int = 7) -> str:
    text = st.fold_ascii(text.split(":", 1)[-1]).lower()
    return "-".join(re.findall(r"[a-z0-9]+", text)[:words]) or "page"


def _esc(s: str) -> str:
    return html.escape(s, quote=False)


def _attr(s: str) -> str:
    return html.escape(s, quote=True)


def _hex(rng: random.Random, n: int = 8) -> str:
    return "%0*x" % (n, rng.getrandbits(4 * n))


def _luhn_complete(digits: list) -> str:
    """The digits followed by the check digit that makes them pass the Luhn check."""
    prefix = "".join(map(str, digits))
    return next(prefix + str(c) for c in range(10) if luhn_ok(prefix + str(c)))


def luhn_ok(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.2:
        return "4111 1111 1111 1111"
    if r < 0.5:
        prefix, length, groups = [4], 16, (4, 4, 4, 4)
    elif r < 0.8:
        prefix, length, groups = [5, rng.randint(1, 5)], 16, (4, 4, 4, 4)
    else:
        prefix, length, groups = [3, rng.choice((4, 7))], 15, (4, 6, 5)
    digits = prefix + [rng.randint(0, 9) for _ in range(length - len(prefix) - 1)]
    number = _luhn_complete(digits)
    sep = rng.choice((" ", "-", " "))
    out, i = [], 0
    for g in groups:
        out.append(number[i:i + g])
        i += g
    return sep.join(out)


_IBAN_SHAPE = {"en": ("GB", "LLLLdddddddddddddd"), "de": ("DE", "d" * 18),
               "fr": ("FR", "d" * 23), "es": ("ES", "d" * 20),
               "it": ("IT", "L" + "d" * 22)}


def _iban(rng: random.Random, lang: str) -> str:
    country, shape = _IBAN_SHAPE[lang]
    bban = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") if c == "L"
                   else str(rng.randint(0, 9)) for c in shape)
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(numeric) % 97
    iban = f"{country}{check:02d}{bban}"
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))


def _phone(rng: random.Random, lang: str) -> str:
    if lang == "en":
        r = rng.random()
        area = rng.choice((415, 212, 312, 617, 206, 303))
        if r < 0.4:
            return f"({area}) 555-01{rng.randint(0, 99):02d}"
        if r < 0.7:
            return f"+1 {area} 555 01{rng.randint(0, 99):02d}"
        return f"+44 20 7946 0{rng.randint(0, 999):03d}"
    if lang == "de":
        return f"+49 30 9018{rng.randint(10, 99)}"
    if lang == "fr":
        return f"+33 1 99 00 {rng.randint(10, 99)} {rng.randint(10, 99)}"
    if lang == "es":
        return f"+34 91{rng.randint(1, 9)} {rng.randint(100, 999)} {rng.randint(100, 999)}"
    return f"+39 06 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"


_EDITOR = {"en": "editor", "de": "redaktion", "fr": "redaction", "es": "redaccion",
           "it": "redazione"}


def _email(rng: random.Random, lang: str, name: str, host: str) -> str:
    parts = re.findall(r"[a-z0-9]+", st.fold_ascii(name).lower())
    first, last = parts[0], "".join(parts[1:]) or "info"
    r = rng.random()
    if r < 0.5:
        return f"{first}.{last}@example.{rng.choice(('com', 'org', 'net'))}"
    if r < 0.75:
        return f"{_EDITOR[lang]}@{host.split('.', 1)[1]}"
    domain = rng.choice(("mailbox-river.com", "postbox-online.com", "inbox-harbor.com"))
    return f"{first[0]}{last}{rng.randint(1, 99)}@{domain}"


def _ip(rng: random.Random) -> str:
    return f"{rng.choice(('192.0.2', '198.51.100', '203.0.113'))}.{rng.randint(1, 254)}"


def _png(rng: random.Random, width: int, height: int) -> bytes:
    """A real (tiny) RGB PNG: a two-colour gradient."""
    c0 = [rng.randint(0, 255) for _ in range(3)]
    c1 = [rng.randint(0, 255) for _ in range(3)]
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            t = (x + y) / (width + height - 2)
            rows += bytes(int(a + (b - a) * t) for a, b in zip(c0, c1))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b""))


def _pdf(title: str) -> bytes:
    """A small one-page PDF with a correct cross-reference table."""
    text = st.fold_ascii(title).replace("\\", "").replace("(", "").replace(")", "")
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream
        + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
            .encode())
    return bytes(out)


def _jaccard5(a: str, b: str) -> float:
    """Jaccard similarity of the word 5-gram sets of two texts (lower-cased words)."""
    def grams(t):
        w = re.findall(r"\w+", t.lower())
        return {tuple(w[i:i + 5]) for i in range(len(w) - 4)}
    ga, gb = grams(a), grams(b)
    return len(ga & gb) / max(1, len(ga | gb))


# ------------------------------------------------------------------------ templates
def _nav(ui: dict, sep: str = "") -> str:
    items = []
    for i, label in enumerate(ui["nav"]):
        href = "/" if i == 0 else "/" + _slug(label, 3) + "/"
        items.append(f'<li><a href="{href}">{_esc(label)}</a></li>')
    return sep.join(items)


def _meta_charset(charset: str | None, legacy: bool = False) -> str:
    if not charset:
        return ""
    if legacy:
        return f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">\n'
    return f'<meta charset="{charset}">\n'


def _paragraphs(article, sub_heads: list | None = None) -> str:
    out = []
    for i, p in enumerate(article.paragraphs):
        if sub_heads and i > 0 and i % 3 == 0:
            out.append(f"<h2>{_esc(sub_heads[(i // 3) % len(sub_heads)])}</h2>")
        out.append("<p>" + _esc(" ".join(p)) + "</p>")
    return "\n".join(out)


def _render(template: str, ctx: dict) -> str:
    return {"news": _t_news, "magazine": _t_magazine, "blog": _t_blog,
            "portal": _t_portal}[template](ctx)


def _t_news(c: dict) -> str:
    ui, a = c["ui"], c["article"]
    related = "".join(f'<li><a href="{_attr(u)}">{_esc(t)}</a></li>' for t, u in c["related"])
    tags = "".join(f'<li><a href="/tag/{_slug(t, 3)}/">{_esc(t)}</a></li>' for t in c["tags"])
    ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle",
                     "headline": a.title, "datePublished": c["iso"],
                     "author": {"@type": "Person", "name": a.author}}, ensure_ascii=False)
    return f"""<!DOCTYPE html>
<html lang="{a.lang}">
<head>
{c["meta"]}<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_esc(a.title)} | {_esc(c["site"])}</title>
<meta name="description" content="{_attr(a.paragraphs[0][0])}">
<meta property="og:title" content="{_attr(a.title)}">
<meta property="og:type" content="article">
<link rel="canonical" href="{_attr(c["url"])}">
<link rel="stylesheet" href="/assets/css/site.{c["hex"]}.css">
<style>
body{{margin:0;font-family:Georgia,serif;color:#222}}
.site-header{{background:#0b3d5c;color:#fff;padding:8px 16px}}
.main-nav ul{{list-style:none;display:flex;gap:12px}}.main-nav a{{color:#fff}}
.container{{display:flex;max-width:1100px;margin:auto}}main{{flex:3}}.sidebar{{flex:1}}
.cookie-banner{{position:fixed;bottom:0;background:#eee;padding:12px}}
</style>
<script type="application/ld+json">{ld}</script>
<script>window.dataLayer=window.dataLayer||[];function gtag(){{dataLayer.push(arguments);}}gtag('js',new Date());gtag('config','G-{c["hex"].upper()}');</script>
</head>
<body class="article-page">
<div class="cookie-banner" id="cookie-consent" role="dialog"><p>{_esc(ui["cookie"])}</p><button class="accept">{_esc(ui["accept"])}</button> <button class="settings">{_esc(ui["decline"])}</button></div>
<header class="site-header">
<a class="logo" href="/">{_esc(c["site"])}</a>
<nav class="main-nav" aria-label="main"><ul>{_nav(ui)}</ul></nav>
<form class="search-form" action="/search" method="get"><input type="search" name="q" placeholder="{_attr(ui["search"])}"><button type="submit">{_esc(ui["search"])}</button></form>
</header>
<div class="breadcrumb"><a href="/">{_esc(ui["home"])}</a> &rsaquo; <a href="/{_slug(c["section"], 3)}/">{_esc(c["section"])}</a></div>
<div class="container">
<main id="main">
<article class="article">
<header>
<h1 class="headline">{_esc(a.title)}</h1>
<p class="byline">{_esc(ui["by"])} <a href="/author/{_slug(a.author, 3)}/" rel="author">{_esc(a.author)}</a> | <time datetime="{c["iso"]}">{_esc(c["date"])}</time></p>
</header>
<div class="article-body">
{_paragraphs(a)}
</div>
<div class="share-buttons"><span>{_esc(ui["share"])}</span> <a href="https://www.facebook.com/sharer/sharer.php?u={_attr(c["url"])}">Facebook</a> <a href="https://x.com/intent/post?url={_attr(c["url"])}">X</a> <a href="mailto:?subject={_attr(a.title)}">E-Mail</a></div>
</article>
<section class="comments"><h2>{_esc(ui["comments"])}</h2><p class="empty">{_esc(ui["no_comments"])}</p></section>
</main>
<aside class="sidebar">
<section class="related"><h2>{_esc(ui["related"])}</h2><ul>{related}</ul></section>
<section class="tag-list"><h2>{_esc(ui["tags"])}</h2><ul>{tags}</ul></section>
<section class="newsletter"><h3>{_esc(ui["newsletter"])}</h3><p>{_esc(ui["newsletter_text"])}</p><form action="/newsletter" method="post"><input type="email" name="email" placeholder="{_attr(ui["email_placeholder"])}"><button>{_esc(ui["subscribe"])}</button></form></section>
<div class="ad-slot" data-slot="sidebar-1">{_esc(ui["advert"])}</div>
</aside>
</div>
<footer class="site-footer">
<nav><ul><li><a href="/about/">{_esc(ui["about"])}</a></li><li><a href="/contact/">{_esc(ui["contact"])}</a></li><li><a href="/privacy/">{_esc(ui["privacy"])}</a></li><li><a href="/terms/">{_esc(ui["terms"])}</a></li><li><a href="/imprint/">{_esc(ui["imprint"])}</a></li></ul></nav>
<p class="copyright">&copy; {c["year"]} {_esc(c["site"])}. {_esc(ui["rights"])}</p>
</footer>
<script src="/assets/js/app.{c["hex"]}.js" defer></script>
</body>
</html>
"""


def _t_magazine(c: dict) -> str:
    ui, a = c["ui"], c["article"]
    related = "".join(
        f'<div class="card"><a href="{_attr(u)}"><img src="/img/thumb-{i}.jpg" alt=""><h3>{_esc(t)}</h3></a></div>'
        for i, (t, u) in enumerate(c["related"]))
    also = c["related"][0] if c["related"] else ("", "/")
    most_read = "".join(f'<li><a href="{_attr(u)}">{_esc(t)}</a></li>' for t, u in c["related"][::-1])
    paras = _paragraphs(a, c["subheads"]).split("\n")
    mid = max(1, len(paras) // 2)
    box = (f'<div class="read-also"><strong>{_esc(ui["read_also"])}:</strong> '
           f'<a href="{_attr(also[1])}">{_esc(also[0])}</a></div>')
    body = "\n".join(paras[:mid] + [box] + paras[mid:])
    return f"""<!doctype html>
<html lang="{a.lang}" class="no-js">
<head>
{c["meta"]}<title>{_esc(a.title)} - {_esc(c["site"])}</title>
<meta name="viewport" content="width=device-width">
<meta name="author" content="{_attr(a.author)}">
<link rel="stylesheet" href="/static/magazine.css?v={c["hex"]}">
<script async src="/static/ads.js"></script>
<style>.topbar{{font-size:12px}}.hero figcaption{{color:#666}}.grid{{display:grid;grid-template-columns:repeat(3,1fr)}}</style>
</head>
<body>
<div class="topbar"><a href="/login">{_esc(ui["login"])}</a> | <a href="/newsletter">{_esc(ui["newsletter"])}</a> | <a href="/jobs">{_esc(ui["jobs"])}</a></div>
<header id="masthead"><div class="brand"><a href="/">{_esc(c["site"])}</a></div>
<nav id="menu"><ul class="menu">{_nav(ui)}</ul></nav></header>
<div id="consent-popup" class="cookie-notice"><p>{_esc(ui["cookie"])} <a href="/privacy/">{_esc(ui["privacy"])}</a></p><button>{_esc(ui["accept"])}</button></div>
<main class="page">
<article class="story">
<p class="kicker"><a href="/{_slug(c["section"], 3)}/">{_esc(c["section"])}</a></p>
<h1>{_esc(a.title)}</h1>
<div class="meta"><span class="author">{_esc(ui["by"])} {_esc(a.author)}</span> <span class="date">{_esc(ui["published"])} {_esc(c["date"])}</span></div>
<figure class="hero"><img src="/img/{c["hex"]}.jpg" alt="{_attr(a.town)}" width="800" height="450"><figcaption>{_esc(a.town)}</figcaption></figure>
<div class="story-body">
{body}
</div>
</article>
<section class="more-stories"><h2>{_esc(ui["related"])}</h2><div class="grid">{related}</div></section>
</main>
<aside class="most-read"><h2>{_esc(ui["most_read"])}</h2><ol>{most_read}</ol><div class="ad">{_esc(ui["advert"])}</div></aside>
<footer class="footer"><div class="cols"><div><h4>{_esc(c["site"])}</h4><a href="/about/">{_esc(ui["about"])}</a><br><a href="/contact/">{_esc(ui["contact"])}</a></div><div><h4>{_esc(ui["follow"])}</h4><a href="https://social.example/{c["hex"]}">Social</a></div></div>
<p>&copy; {c["year"]} {_esc(c["site"])} &middot; <a href="/privacy/">{_esc(ui["privacy"])}</a> &middot; <a href="/terms/">{_esc(ui["terms"])}</a> &middot; <a href="#top">{_esc(ui["back_to_top"])}</a></p></footer>
<script>document.documentElement.className='js';var consent=localStorage.getItem('consent');</script>
</body>
</html>
"""


def _t_blog(c: dict) -> str:
    ui, a = c["ui"], c["article"]
    recent = "".join(f'<li><a href="{_attr(u)}">{_esc(t)}</a></li>' for t, u in c["related"])
    cats = "".join(f'<li class="cat-item"><a href="/category/{_slug(t, 3)}/">{_esc(t)}</a></li>'
                   for t in c["tags"])
    return f"""<!DOCTYPE html>
<html lang="{a.lang}">
<head>
{c["meta"]}<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_esc(a.title)} &#8211; {_esc(c["site"])}</title>
<link rel="stylesheet" id="theme-css" href="/wp-content/themes/simple/style.css?ver=6.5" media="all">
<script src="/wp-includes/js/jquery/jquery.min.js?ver=3.7.1" id="jquery-core-js"></script>
</head>
<body class="post-template-default single single-post">
<div id="page" class="site">
<a class="skip-link screen-reader-text" href="#content">Skip to content</a>
<div id="masthead" class="site-header"><p class="site-title"><a href="/" rel="home">{_esc(c["site"])}</a></p>
<div class="menu-primary-container"><ul id="primary-menu" class="menu">{_nav(ui)}</ul></div></div>
<div id="content" class="site-content">
<div id="primary" class="content-area">
<div class="post type-post status-publish hentry">
<h1 class="entry-title">{_esc(a.title)}</h1>
<div class="entry-meta"><span class="posted-on">{_esc(ui["posted"])} <a href="{_attr(c["url"])}" rel="bookmark">{_esc(c["date"])}</a></span> <span class="byline">{_esc(ui["by"])} <span class="author vcard">{_esc(a.author)}</span></span></div>
<div class="entry-content">
{_paragraphs(a)}
</div>
<div class="entry-footer"><span class="cat-links">{_esc(ui["categories"])}: <a href="/category/{_slug(c["section"], 3)}/">{_esc(c["section"])}</a></span></div>
</div>
<div id="comments" class="comments-area"><h3 class="comment-reply-title">{_esc(ui["comments"])}</h3><form id="commentform"><textarea name="comment"></textarea><input type="submit" value="{_attr(ui["subscribe"])}"></form></div>
</div>
<div id="secondary" class="widget-area">
<div class="widget widget_search"><form role="search" action="/"><input type="search" name="s" placeholder="{_attr(ui["search"])}"></form></div>
<div class="widget widget_recent_entries"><h2 class="widget-title">{_esc(ui["recent"])}</h2><ul>{recent}</ul></div>
<div class="widget widget_categories"><h2 class="widget-title">{_esc(ui["categories"])}</h2><ul>{cats}</ul></div>
<div class="widget widget_archive"><h2 class="widget-title">{_esc(ui["archive"])}</h2><ul><li><a href="/{c["year"]}/">{c["year"]}</a></li><li><a href="/{c["year"] - 1}/">{c["year"] - 1}</a></li></ul></div>
</div>
</div>
<div id="colophon" class="site-footer"><div class="site-info">&copy; {c["year"]} {_esc(c["site"])} &middot; <a href="/privacy/">{_esc(ui["privacy"])}</a> &middot; <a href="/contact/">{_esc(ui["contact"])}</a></div></div>
</div>
<div id="cookie-law-info-bar"><span>{_esc(ui["cookie"])}</span> <a role="button" class="cli_action_button">{_esc(ui["accept"])}</a></div>
<script src="/wp-content/themes/simple/js/navigation.js?ver=1.0"></script>
</body>
</html>
"""


def _t_portal(c: dict) -> str:
    ui, a = c["ui"], c["article"]
    left = "<br>\n".join(f'<a href="/{_slug(x, 3)}/">{_esc(x)}</a>' for x in ui["nav"])
    related = "<br>\n".join(f'&raquo; <a href="{_attr(u)}">{_esc(t)}</a>' for t, u in c["related"])
    return f"""<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" "http://www.w3.org/TR/html4/loose.dtd">
<html>
<head>
{c["meta"]}<title>{_esc(c["site"])} - {_esc(a.title)}</title>
<link rel="stylesheet" type="text/css" href="/css/portal.css">
<script type="text/javascript">function popup(u){{window.open(u,'p','width=600,height=400');}}</script>
</head>
<body bgcolor="#ffffff">
<div id="top"><a href="/"><img src="/img/logo.gif" alt="{_attr(c["site"])}" border="0"></a> <span class="weather">{_esc(ui["weather_box"])}: 18&deg;C</span></div>
<div id="topnav">{" | ".join(f'<a href="/{_slug(x, 3)}/">{_esc(x)}</a>' for x in ui["nav"][:6])}</div>
<div id="wrapper">
<div id="left" class="navigation">
{left}
<br><br><b>{_esc(ui["events"])}</b><br><a href="/events/">{_esc(ui["events"])}</a>
</div>
<div id="content">
<h1>{_esc(a.title)}</h1>
<div class="date">{_esc(c["date"])} &ndash; {_esc(ui["by"])} {_esc(a.author)}</div>
<div class="text">
{_paragraphs(a)}
</div>
<div class="print"><a href="javascript:window.print()">Print</a> | <a href="javascript:popup('/send?id={c["id"]}')">E-Mail</a></div>
</div>
<div id="right" class="box related">
<b>{_esc(ui["related"])}</b><br>
{related}
</div>
</div>
<div id="bottom">&copy; {c["year"]} {_esc(c["site"])} | <a href="/imprint/">{_esc(ui["imprint"])}</a> | <a href="/privacy/">{_esc(ui["privacy"])}</a> | {_esc(ui["rights"])}</div>
<div class="cookiehint">{_esc(ui["cookie"])} <a href="#" onclick="return false">OK</a></div>
</body>
</html>
"""


def _shell(lang: str, site: str, title: str, body: str, meta: str = '<meta charset="utf-8">\n',
           nav: bool = True) -> str:
    """A plain page around `body` (for low-quality and spam pages)."""
    ui = st.UI[lang]
    navh = f'<nav class="menu"><ul>{_nav(ui)}</ul></nav>' if nav else ""
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
{meta}<title>{_esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
</head>
<body>
<header><a href="/">{_esc(site)}</a>{navh}</header>
<main>
{body}
</main>
<footer><p>&copy; 2026 {_esc(site)}. {_esc(ui["rights"])} <a href="/privacy/">{_esc(ui["privacy"])}</a></p></footer>
</body>
</html>
"""


# -------------------------------------------------------------------------- builder
class _Builder:
    def __init__(self, pages: int, seed: int):
        self.n = pages
        self.seed = seed
        self.rng = random.Random(f"gristmill-sample-content-{seed}")
        self.crawl_start = _crawl_start(seed)
        self.articles = []  # Page objects of distinct articles (duplicate sources)
        self.titles = {lang: [] for lang in st.LANGS}  # (title, url) for sidebars
        self.next_id = 10000 + self.rng.randint(0, 5000)
        self.counters = {}

    def _id(self) -> int:
        self.next_id += self.rng.randint(1, 40)
        return self.next_id

    def _count(self, key: str) -> int:
        self.counters[key] = self.counters.get(key, 0) + 1
        return self.counters[key] - 1

    # --- planning of languages and charsets over the article slots
    def plan(self) -> list:
        slots = _plan(self.n, self.rng)
        article_idx = [i for i, s in enumerate(slots) if s in ("article", "pii")]
        langs = []
        for lang, c in _quota(len(article_idx), LANG_WEIGHTS).items():
            langs += [lang] * c
        self.rng.shuffle(langs)
        self.slot_lang = dict(zip(article_idx, langs))
        # charset variants, on plain articles only (duplicates copy the bytes)
        plain = [i for i in article_idx if slots[i] == "article"]
        non_en = [i for i in plain if self.slot_lang[i] != "en" and i != 0]
        self.rng.shuffle(non_en)
        anyl = [i for i in plain if i != 0]
        self.rng.shuffle(anyl)
        few = 2 if self.n >= 200 else 1
        wants = [("wrong-declared", non_en, few),
                 ("undeclared", non_en + anyl, few),
                 ("windows-1252", non_en, max(1, round(self.n * 0.012))),
                 ("iso-8859-1", non_en, max(1, round(self.n * 0.008))),
                 ("meta-only", anyl, max(1, round(self.n * 0.01)))]
        self.slot_enc = {}
        taken = set()
        for label, pool, count in wants:
            for i in pool:
                if count == 0:
                    break
                if i in taken:
                    continue
                # keep at least half of the plain articles in declared utf-8
                if len(taken) >= len(plain) // 2:
                    break
                self.slot_enc[i] = label
                taken.add(i)
                count -= 1
        return slots

    # --- pages
    def page(self, i: int, slot: str) -> Page:
        kind, _, sub = slot.partition("/")
        if kind == "article":
            return self.article_page(i, self.slot_lang[i], self.slot_enc.get(i, "utf-8"))
        if kind == "pii":
            return self.article_page(i, self.slot_lang[i], "utf-8", pii=True)
        if kind == "exact_duplicate":
            return self.exact_duplicate()
        if kind == "near_duplicate":
            return self.near_duplicate(i)
        if kind == "blocked_domain":
            return self.blocked(i)
        if kind == "low_quality":
            return self.low_quality(i)
        if kind == "non_html":
            return self.non_html(i)
        return self.malformed(i, sub)

    def _pub_date(self) -> dt.datetime:
        d = self.crawl_start - dt.timedelta(days=self.rng.randint(0, 60),
                                            minutes=self.rng.randint(0, 1439))
        return d

    def _url(self, host: str, template: str, title: str, d, pid: int, section: str) -> str:
        slug = _slug(title)
        if template == "news":
            return f"https://{host}/{d.year}/{d.month:02d}/{slug}-{pid}.html"
        if template == "magazine":
            return f"https://{host}/{_slug(section, 3)}/{slug}-{pid}"
        if template == "blog":
            return f"https://{host}/{d.year}/{d.month:02d}/{d.day:02d}/{slug}/"
        return f"https://{host}/article.php?id={pid}&section={_slug(section, 3)}"

    def _related(self, lang: str, host: str) -> list:
        pool = self.titles[lang]
        k = self.rng.randint(4, 6)
        if len(pool) >= k:
            return self.rng.sample(pool[-200:], k)
        out = []
        for _ in range(k):
            ctx = st.make_context(self.rng, lang)
            t = st.title_for(self.rng, ctx)
            out.append((t, f"https://{host}/{_slug(t)}-{self._id()}.html"))
        return out

    def _html_page(self, article, site: tuple, url: str, d, pid: int, meta_charset,
                   legacy_meta: bool = False) -> str:
        host, lang, template, name = site
        ui = st.UI[lang]
        section = st.TOPIC_LABELS[lang][article.topic]
        tags = [section, article.town] + self.rng.sample(ui["nav"][1:10], 2)
        # subheads depend on the article only, so that every rendering has the same ones
        srng = random.Random(article.title)
        sctx = st.article_context(srng, article)
        subheads = [st._cap(st._object(srng, sctx)) for _ in range(3)]
        c = dict(ui=ui, article=article, site=name, url=url, hex=_hex(self.rng),
                 iso=d.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                 date=st.fmt_date(lang, d.year, d.month, d.day), year=2026,
                 section=section, related=self._related(lang, host), tags=tags,
                 subheads=subheads, id=pid,
                 meta=_meta_charset(meta_charset, legacy_meta or template == "portal"))
        return _render(template, c)

    def _http_headers(self, content_type: str, body_len: int, d=None,
                      extra: list = ()) -> list:
        h = [("Date", self._http_date()), ("Server", self.rng.choice(SERVERS)),
             ("Content-Type", content_type)]
        if d is not None:
            h.append(("Last-Modified", formatdate(d.replace(tzinfo=dt.timezone.utc).timestamp(),
                                                  usegmt=True)))
        h += list(extra)
        if self.rng.random() < 0.5:
            h += [("X-Crawler-Content-Encoding", "gzip"),
                  ("X-Crawler-Content-Length", str(max(20, body_len // 3)))]
        h.append(("Content-Length", str(body_len)))
        if self.rng.random() < 0.3:
            h.append(("Set-Cookie", f"sid={_hex(self.rng, 16)}; Path=/; HttpOnly; SameSite=Lax"))
        h += [("Cache-Control", self.rng.choice(("max-age=300", "no-cache", "public, max-age=600"))),
              ("Vary", "Accept-Encoding"), ("Connection", "close")]
        return h

    def _http_date(self) -> str:
        # replaced by the writer with the record's own date; a fixed placeholder here
        return "@DATE@"

    def article_page(self, i: int, lang: str, enc: str, pii: bool = False) -> Page:
        rng = self.rng
        article = st.make_article(rng, lang)
        values = {}
        if pii:
            n = self._count("pii")
            site = rng.choice(_SITES_BY_LANG[lang])
            person = st.make_person(rng, lang)
            values = {"email": _email(rng, lang, person.name, site[0]),
                      "phone": _phone(rng, lang), "name": person.name}
            extra = ("cc", "ip", "iban", "cc+ip")[n % 4]
            if "cc" in extra:
                values["cc"] = _card(rng)
            if "ip" in extra:
                values["ip"] = _ip(rng)
            if "iban" in extra:
                values["iban"] = _iban(rng, lang)
            sentences = st.pii_sentences(lang, rng, values)
            values = {k: v for k, v in values.items() if any(v in x for x in sentences)}
            at = rng.randint(1, len(article.paragraphs))
            article.paragraphs.insert(at, sentences)
        else:
            site = rng.choice(_SITES_BY_LANG[lang])
        host, _, template, _ = site
        d = self._pub_date()
        pid = self._id()
        section = st.TOPIC_LABELS[lang][article.topic]
        url = self._url(host, template, article.title, d, pid, section)
        # charset handling
        body_charset, http_cs, meta_cs = "utf-8", "utf-8", "utf-8"
        if enc == "windows-1252":
            body_charset = http_cs = meta_cs = "windows-1252"
        elif enc == "iso-8859-1":
            body_charset, http_cs, meta_cs = "iso-8859-1", "ISO-8859-1", "iso-8859-1"
        elif enc == "meta-only":
            http_cs = None
            if lang != "en" and rng.random() < 0.5:
                body_charset = meta_cs = "windows-1252"
        elif enc == "undeclared":
            http_cs = meta_cs = None
        elif enc == "wrong-declared":
            if self._count("wrong") % 2 == 0:
                http_cs, meta_cs = "ISO-8859-1", "iso-8859-1"  # body stays utf-8
            else:
                body_charset = "windows-1252"  # declared utf-8
        text = self._html_page(article, site, url, d, pid, meta_cs)
        body = text.encode(body_charset, errors="xmlcharrefreplace")
        ct = "text/html" + (f"; charset={http_cs}" if http_cs else "")
        page = Page(url=url, kind="pii" if pii else "article", lang=lang, body=body,
                    charset=body_charset, encoding=enc, pii=values, date=d, article=article,
                    subkind="+".join(k for k in ("cc", "ip", "iban") if k in values))
        page.headers = self._http_headers(ct, len(body), d)
        if not pii:
            self.articles.append(page)
            if len(self.articles) > 4000:  # duplicates copy recent articles; bound memory
                self.articles = self.articles[-3000:]
        self.titles[lang].append((article.title, url))
        return page

    def exact_duplicate(self) -> Page:
        src = self.rng.choice(self.articles)
        path = src.url.split("/", 3)[3]
        if self.rng.random() < 0.5:
            sep = "&" if "?" in src.url else "?"
            url = (f"{src.url}{sep}utm_source={self.rng.choice(('newsletter', 'social', 'rss'))}"
                   f"&utm_medium={self.rng.choice(('email', 'referral', 'feed'))}")
            sub = "utm_variant"
        else:
            url = f"https://{self.rng.choice(SYNDICATORS)}/{src.lang}/{path}"
            sub = "syndicated"
        ct = dict(src.headers)["Content-Type"]
        page = Page(url=url, kind="exact_duplicate", subkind=sub, lang=src.lang, body=src.body,
                    charset=src.charset, encoding=src.encoding, source_url=src.url,
                    date=src.date)
        page.headers = self._http_headers(ct, len(src.body), src.date)
        return page

    def near_duplicate(self, i: int) -> Page:
        """An earlier article with one sentence changed and maybe one added, so that the
        word 5-gram Jaccard similarity to the source stays >= 0.85 (MinHash dedup finds it
        at 0.75)."""
        rng = self.rng
        best = None
        for _ in range(8):
            src = rng.choice(self.articles)
            a = copy.deepcopy(src.article)
            ctx = st.article_context(rng, a)
            p = rng.randrange(len(a.paragraphs))
            s = rng.randrange(len(a.paragraphs[p]))
            a.paragraphs[p][s] = st.sentence(rng, ctx)
            changes = "changed"
            if rng.random() < 0.6:
                p = rng.randrange(len(a.paragraphs))
                a.paragraphs[p].insert(rng.randint(0, len(a.paragraphs[p])),
                                       st.sentence(rng, ctx))
                changes = "changed+added"
            sim = _jaccard5(src.article.text, a.text)
            if best is None or sim > best[0]:
                best = (sim, src, a, changes)
            if sim >= 0.85:
                break
        _, src, a, changes = best
        src_template = _HOST_TEMPLATE.get(src.url.split("/")[2], "")
        others = [s for s in _SITES_BY_LANG[a.lang] if s[2] != src_template]
        site = rng.choice(others)
        d = min(src.date + dt.timedelta(hours=rng.randint(1, 72)),
                self.crawl_start - dt.timedelta(minutes=rng.randint(5, 600)))
        pid = self._id()
        section = st.TOPIC_LABELS[a.lang][a.topic]
        url = self._url(site[0], site[2], a.title, d, pid, section)
        text = self._html_page(a, site, url, d, pid, "utf-8")
        body = text.encode("utf-8")
        page = Page(url=url, kind="near_duplicate", subkind=changes, lang=a.lang, body=body,
                    charset="utf-8", encoding="utf-8", source_url=src.url, date=d, article=a)
        page.headers = self._http_headers("text/html; charset=utf-8", len(body), d)
        return page

    def blocked(self, i: int) -> Page:
        rng = self.rng
        n = self._count("blocked")
        host = list(BLOCKED_HOSTS)[n % len(BLOCKED_HOSTS)]
        theme = BLOCKED_HOSTS[host]
        spam = [s.format(n=rng.randint(10, 500), year=2026) for s in st.SPAM[theme]]
        rng.shuffle(spam)
        links = "".join(f'<li><a href="https://{host}/go/{_hex(rng, 6)}">{_esc(s)}</a></li>'
                        for s in spam)
        pid = self._id()
        if n % 2 == 0:  # article-like: real prose around the spam, so only the URL gives it away
            a = st.make_article(rng, "en")
            body_html = (f"<h1>{_esc(a.title)}</h1>\n"
                         + "\n".join("<p>" + _esc(" ".join(p)) + "</p>" for p in a.paragraphs)
                         + f'\n<aside class="promo"><ul>{links}</ul></aside>')
            title = a.title
            sub = theme + "/article_like"
        else:
            body_html = (f"<h1>{_esc(spam[0])}!</h1>\n"
                         + "\n".join(f"<p>{_esc(s)}!</p>" for s in spam[1:])
                         + f'\n<ul class="offers">{links * 3}</ul>')
            title = spam[0]
            sub = theme + "/spam"
        url = f"https://{host}/{rng.choice(('bonus', 'offers', 'free', 'vip'))}/{_slug(title, 5)}-{pid}.html"
        text = _shell("en", host, title, body_html)
        body = text.encode("utf-8")
        page = Page(url=url, kind="blocked_domain", subkind=host + "/" + sub.split("/")[1],
                    lang="en", body=body, charset="utf-8", encoding="utf-8")
        page.headers = self._http_headers("text/html; charset=UTF-8", len(body))
        return page

    def low_quality(self, i: int) -> Page:
        rng = self.rng
        n = self._count("low")
        sub = LOW_QUALITY[n % len(LOW_QUALITY)]
        lang = "en" if rng.random() < 0.6 else rng.choice(st.LANGS)
        ui = st.UI[lang]
        site = rng.choice(_SITES_BY_LANG[lang])
        pid = self._id()
        if sub == "link_list":
            host = rng.choice(LINK_HOSTS)
            items = []
            for _ in range(rng.randint(30, 60)):
                ctx = st.make_context(rng, lang)
                label = f"{st.TOPIC_LABELS[lang][ctx.topic]} {ctx.town}"
                items.append(f'<li><a href="https://{rng.choice(SITES)[0]}/{_slug(label, 4)}/">{_esc(label)}</a></li>')
            body_html = f"<h1>{_esc(ui['links'])}</h1>\n<ul>\n" + "\n".join(items) + "\n</ul>"
            title, url = ui["links"], f"https://{host}/links/page-{pid}.html"
        elif sub == "lorem_ipsum":
            host = site[0]
            body_html = "\n".join(f"<p>{_esc(st.lorem_paragraph(rng, j == 0))}</p>"
                                  for j in range(rng.randint(3, 7)))
            body_html = "<h1>Lorem ipsum</h1>\n" + body_html
            title, url = "Lorem ipsum", f"https://{host}/test/sample-page-{pid}.html"
        elif sub == "short":
            host = site[0]
            title = rng.choice(st.SHORT_BODIES + [ui["not_found"]])
            body_html = f"<p>{_esc(title)}</p>"
            url = f"https://{host}/{_hex(rng, 6)}.html"
        elif sub == "keyword_stuffed":
            host = rng.choice(STUFF_HOSTS)
            ctx = st.make_context(rng, "en")
            line = rng.choice(st.STUFFED).format(town=ctx.town)
            body_html = "\n".join(f"<p>{_esc(line)}</p>" for _ in range(rng.randint(25, 80)))
            title, url = line[:40], f"https://{host}/{_slug(line, 5)}-{pid}.html"
            lang = "en"
        else:  # navigation_only
            host = site[0]
            label = rng.choice(ui["nav"][1:10])
            items = "".join(f'<li><a href="/{_slug(label, 3)}/page/{k}/">{k}</a></li>'
                            for k in range(1, rng.randint(8, 20)))
            body_html = (f'<nav class="pagination"><ul>{items}</ul></nav>\n'
                         f'<aside><ul>{_nav(ui)}</ul></aside>\n<p class="loading">{_esc(ui["loading"])}</p>')
            title, url = label, f"https://{host}/{_slug(label, 3)}/page/{rng.randint(2, 40)}/"
        text = _shell(lang, site[3] if host == site[0] else host, title, body_html)
        body = text.encode("utf-8")
        page = Page(url=url, kind="low_quality", subkind=sub, lang=lang, body=body,
                    charset="utf-8", encoding="utf-8")
        page.headers = self._http_headers("text/html; charset=utf-8", len(body))
        return page

    def non_html(self, i: int) -> Page:
        rng = self.rng
        n = self._count("non_html")
        sub = NON_HTML[n % len(NON_HTML)]
        site = rng.choice(SITES)
        host, lang = site[0], site[1]
        pid = self._id()
        status, extra = "200 OK", []
        if sub == "png":
            body, ct = _png(rng, rng.randint(8, 40), rng.randint(8, 30)), "image/png"
            url = f"https://{host}/images/2026/photo-{pid}.png"
        elif sub == "pdf":
            ctx = st.make_context(rng, lang)
            body, ct = _pdf(st.title_for(rng, ctx)), "application/pdf"
            url = f"https://{host}/files/report-{pid}.pdf"
        elif sub == "json":
            items = [{"id": self._id(), "title": t, "url": u}
                     for t, u in self._related(lang, host)]
            body = json.dumps({"status": "ok", "page": rng.randint(1, 9), "results": items},
                              ensure_ascii=False, sort_keys=True).encode("utf-8")
            ct = "application/json; charset=utf-8"
            url = f"https://{host}/api/v2/articles?page={rng.randint(1, 9)}&lang={lang}"
        elif sub == "css":
            body = (f"body{{margin:0;font:16px/1.5 Georgia,serif;color:#{_hex(rng, 6)}}}\n"
                    f".site-header{{background:#{_hex(rng, 6)}}}\n.sidebar{{width:300px}}\n"
                    "@media (max-width:600px){.sidebar{display:none}}\n").encode()
            ct, url = "text/css", f"https://{host}/assets/css/site.{_hex(rng)}.css"
        elif sub == "js":
            body = (f"(function(){{var k='{_hex(rng)}';document.addEventListener('DOMContentLoaded',"
                    "function(){var b=document.getElementById('cookie-consent');"
                    "if(b&&localStorage.getItem(k))b.remove();});})();\n").encode()
            ct, url = "application/javascript", f"https://{host}/assets/js/app.{_hex(rng)}.js"
        elif sub == "robots":
            body = (f"User-agent: *\nDisallow: /search\nDisallow: /login\n\n"
                    f"Sitemap: https://{host}/sitemap.xml\n").encode()
            ct, url = "text/plain", f"https://{host}/robots.txt"
        elif sub in ("redirect_301", "redirect_302"):
            status = "301 Moved Permanently" if sub == "redirect_301" else "302 Found"
            target = self.rng.choice(self.articles).url if self.articles else f"https://{host}/"
            body, ct = b"", "text/html; charset=utf-8"
            url = f"http://{host}/index.php?p={pid}"
            extra = [("Location", target)]
        else:  # not_found
            ui = st.UI[lang]
            body = _shell(lang, site[3], ui["not_found"],
                          f"<h1>404 - {_esc(ui['not_found'])}</h1>\n<p>{_esc(ui['not_found_text'])}</p>"
                          ).encode("utf-8")
            status, ct = "404 Not Found", "text/html; charset=utf-8"
            url = f"https://{host}/{_hex(rng, 6)}/{_slug(st.title_for(rng, st.make_context(rng, lang)), 4)}"
        page = Page(url=url, kind="non_html", subkind=sub, lang="", status=status, body=body,
                    mime=ct.split(";")[0], charset="utf-8" if ct.startswith("text") else "")
        page.headers = self._http_headers(ct, len(body), extra=extra)
        return page

    def malformed(self, i: int, sub: str) -> Page:
        rng = self.rng
        site = rng.choice(_SITES_BY_LANG["en"])
        pid = self._id()
        url = f"https://{site[0]}/{rng.choice(('news', 'story', 'p'))}/{pid}.html"
        page = Page(url=url, kind="malformed", subkind=sub, lang="", charset="utf-8")
        if sub == "truncated_tail":
            a = st.make_article(rng, "en", min_paragraphs=8, max_paragraphs=10)
            d = self._pub_date()
            text = self._html_page(a, site, url, d, pid, "utf-8")
            page.body, page.lang, page.article = text.encode("utf-8"), "en", a
            page.headers = self._http_headers("text/html; charset=utf-8", len(page.body), d)
        elif sub == "garbage_status_line":
            a = st.make_article(rng, "en", min_paragraphs=2, max_paragraphs=3)
            page.body = _shell("en", site[3], a.title, "\n".join(
                "<p>" + _esc(" ".join(p)) + "</p>" for p in a.paragraphs)).encode()
            page.status = "HTPT/1.1 2OO 0K ??? garbage"
            page.headers = [("Content-Type", "text/html"), ("X-Garbage", "%%%%")]
        elif sub == "empty_body":
            page.headers = self._http_headers("text/html; charset=utf-8", 0)
        elif sub == "binary_junk":
            page.body = bytes(rng.getrandbits(8) for _ in range(rng.randint(1500, 3000)))
            page.headers = self._http_headers("text/html; charset=utf-8", len(page.body))
        elif sub == "no_target_uri":
            page.url = ""  # no WARC-Target-URI at all, and an empty block
        elif sub == "empty_target_uri":
            a = st.make_article(rng, "en", min_paragraphs=2, max_paragraphs=3)
            page.body = _shell("en", site[3], a.title, "\n".join(
                "<p>" + _esc(" ".join(p)) + "</p>" for p in a.paragraphs)).encode()
            page.headers = self._http_headers("text/html; charset=utf-8", len(page.body))
            page.url = ""
        return page


# --------------------------------------------------------------------------- writing
def _crawl_start(seed: int) -> dt.datetime:
    """When the synthetic crawl starts: a fixed day in May 2026, shifted by the seed."""
    return dt.datetime(2026, 5, 4) + dt.timedelta(minutes=(seed * 37) % 10000)


def _warc_date(d: dt.datetime) -> str:
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


class _Ids:
    def __init__(self, seed: int):
        self.rng = random.Random(f"gristmill-sample-warc-{seed}")

    def record_id(self) -> str:
        return f"<urn:uuid:{uuid.UUID(int=self.rng.getrandbits(128), version=4)}>"


def _iter_pages(pages: int, seed: int):
    """The responses to write, one Page at a time (memory stays bounded for large N)."""
    b = _Builder(pages, seed)
    for i, s in enumerate(b.plan()):
        yield b.page(i, s)


def _build(pages: int, seed: int) -> list:
    return list(_iter_pages(pages, seed))


def sample_pages(pages: int = 2000, seed: int = 0) -> list:
    """Ground truth of the responses `write_sample(path, pages, seed)` writes, in file
    order: dicts with url, kind, subkind, lang, encoding, status, content_type,
    source_url (duplicates) and pii (the PII values in the page)."""
    out = []
    for p in _iter_pages(pages, seed):
        out.append({"url": p.url, "kind": p.kind, "subkind": p.subkind, "lang": p.lang,
                    "encoding": p.encoding, "status": p.status.split(" ")[0],
                    "content_type": dict(p.headers).get("Content-Type", ""),
                    "source_url": p.source_url, "pii": dict(p.pii)})
    return out


def _warcinfo(writer: WARCWriter, ids: _Ids, date: str, filename: str, pages: int, seed: int):
    info = (f"software: gristmill sample-data (synthetic crawl generator)\r\n"
            f"format: WARC File Format 1.0\r\n"
            f"conformsTo: http://bibnum.bnf.fr/WARC/WARC_ISO_28500_version1_latestdraft.pdf\r\n"
            f"isPartOf: GRISTMILL-SAMPLE-{seed}\r\n"
            f"description: Synthetic crawl of {pages} pages written by gristmill (seed {seed}); "
            f"all sites, people and text are invented\r\n"
            f"operator: gristmill\r\n"
            f"hostname: sample-generator\r\n"
            f"robots: classic\r\n"
            f"http-header-user-agent: {USER_AGENT}\r\n").encode("utf-8")
    rid = ids.record_id()
    rec = writer.create_warc_record(
        "", "warcinfo", payload=io.BytesIO(info), length=len(info),
        warc_headers_dict={"WARC-Type": "warcinfo", "WARC-Date": date, "WARC-Record-ID": rid,
                           "Content-Length": "0", "Content-Type": "application/warc-fields",
                           "WARC-Filename": filename})
    writer.write_record(rec)
    return rid


def _response_record(writer, page: Page, date: str, rid: str, info_id: str, req_id, ip: str,
                     http_date: str):
    headers = [(k, http_date if v == "@DATE@" else v) for k, v in page.headers]
    warc = {"WARC-Type": "response", "WARC-Date": date, "WARC-Record-ID": rid,
            "Content-Length": "0", "Content-Type": "application/http; msgtype=response",
            "WARC-Warcinfo-ID": info_id}
    if req_id:
        warc["WARC-Concurrent-To"] = req_id
    warc["WARC-IP-Address"] = ip
    if page.subkind == "empty_target_uri":
        warc["WARC-Target-URI"] = ""
    elif page.url:
        warc["WARC-Target-URI"] = page.url
    if page.mime and page.body:
        warc["WARC-Identified-Payload-Type"] = page.mime
    if page.subkind == "no_target_uri":
        return writer.create_warc_record("", "response", payload=None,
                                         warc_headers_dict=warc)
    if page.status.startswith("HTPT"):
        http = StatusAndHeaders(page.status, headers, protocol="")
    else:
        http = StatusAndHeaders(page.status, headers, protocol="HTTP/1.1")
    return writer.create_warc_record(page.url, "response", payload=io.BytesIO(page.body),
                                     length=len(page.body), warc_headers_dict=warc,
                                     http_headers=http)


def _write(f, pages: int, seed: int) -> dict:
    tally = []  # (kind, subkind, lang, encoding, pii keys) per response, for the summary
    ids = _Ids(seed)
    trng = ids.rng
    writer = WARCWriter(f, gzip=True)
    start = _crawl_start(seed)
    filename = f"gristmill-sample-{pages}-seed{seed}.warc.gz"
    info_id = _warcinfo(writer, ids, _warc_date(start), filename, pages, seed)
    records = {"warcinfo": 1, "request": 0, "response": 0, "metadata": 0, "truncated": 0}
    t = start
    for page in _iter_pages(pages, seed):
        tally.append((page.kind, page.subkind, page.lang, page.encoding, tuple(page.pii)))
        t = t + dt.timedelta(milliseconds=trng.randint(300, 4000))
        date = _warc_date(t)
        http_date = formatdate(t.replace(tzinfo=dt.timezone.utc).timestamp(), usegmt=True)
        ip = f"{trng.choice(('198.18', '100.64', '172.31'))}.{trng.randint(0, 255)}.{trng.randint(1, 254)}"
        resp_id = ids.record_id()
        req_id = None
        full = page.kind != "malformed" or page.subkind == "truncated_tail"
        if full and page.url:
            req_id = ids.record_id()
            host = page.url.split("/")[2]
            path = "/" + page.url.split("/", 3)[3] if page.url.count("/") >= 3 else "/"
            req_http = StatusAndHeaders(
                f"GET {path} HTTP/1.1",
                [("Host", host), ("User-Agent", USER_AGENT),
                 ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                 ("Accept-Language", ACCEPT_LANGUAGE.get(page.lang or "en")),
                 ("Accept-Encoding", "br,gzip"), ("Connection", "Keep-Alive")],
                protocol="")
            req = writer.create_warc_record(
                page.url, "request", payload=io.BytesIO(b""), length=0,
                warc_headers_dict={"WARC-Type": "request", "WARC-Date": date,
                                   "WARC-Record-ID": req_id, "Content-Length": "0",
                                   "Content-Type": "application/http; msgtype=request",
                                   "WARC-Warcinfo-ID": info_id, "WARC-IP-Address": ip,
                                   "WARC-Target-URI": page.url},
                http_headers=req_http)
            writer.write_record(req)
            records["request"] += 1
        rec = _response_record(writer, page, date, resp_id, info_id, req_id, ip, http_date)
        if page.subkind == "truncated_tail":
            member = io.BytesIO()
            WARCWriter(member, gzip=True).write_record(rec)
            data = member.getvalue()
            cut = _cut_point(data)
            f.write(data[:cut])
            records["truncated"] = 1
            continue
        writer.write_record(rec)
        records["response"] += 1
        if full and page.url:
            meta = [f"fetchTimeMs: {trng.randint(40, 2500)}"]
            if page.mime == "text/html" and page.body:
                meta.append(f"charset-detected: {page.charset.upper()}")
            if page.lang and page.kind in ("article", "exact_duplicate", "near_duplicate", "pii"):
                code3, name = CLD2[page.lang]
                meta.append("languages-cld2: " + json.dumps(
                    {"reliable": True, "text-bytes": len(page.body) // 3,
                     "languages": [{"code": page.lang, "code-iso-639-3": code3,
                                    "text-covered": round(0.9 + trng.random() * 0.09, 2),
                                    "score": float(trng.randint(600, 2000)), "name": name}]},
                    separators=(",", ":")))
            payload = ("\r\n".join(meta) + "\r\n").encode("utf-8")
            mrec = writer.create_warc_record(
                page.url, "metadata", payload=io.BytesIO(payload), length=len(payload),
                warc_headers_dict={"WARC-Type": "metadata", "WARC-Date": date,
                                   "WARC-Record-ID": ids.record_id(), "Content-Length": "0",
                                   "Content-Type": "application/warc-fields",
                                   "WARC-Warcinfo-ID": info_id, "WARC-Concurrent-To": resp_id,
                                   "WARC-Target-URI": page.url})
            writer.write_record(mrec)
            records["metadata"] += 1
    records["malformed"] = sum(1 for t in tally if t[0] == "malformed"
                               and t[1] != "truncated_tail")
    return _summary(tally, records, pages, seed)


def _cut_point(member: bytes) -> int:
    """Where to cut the last record's gzip member.

    A cut inside the payload is not an error for warcio 1.8 (it yields a short record and
    goes on), so the member is cut where only the start of the record's first line
    ("WARC/") decodes: every reader then fails on the last record, warcio with
    ArchiveLoadFailed (with and without record parsing), Python's gzip with EOFError.
    """
    d = zlib.decompressobj(31)
    got = b""
    for cut in range(10, len(member)):
        got += d.decompress(member[cut - 1:cut]) if cut > 10 else d.decompress(member[:cut])
        if 4 <= len(got) < 8:
            return cut
    return len(member) // 2


def _summary(tally: list, records: dict, pages: int, seed: int) -> dict:
    kinds = {k: 0 for k in KINDS}
    subkinds, languages, encodings, pii = {}, {}, {}, {}
    for kind, subkind, lang, encoding, pii_keys in tally:
        kinds[kind] += 1
        if subkind:
            key = f"{kind}/{subkind}"
            subkinds[key] = subkinds.get(key, 0) + 1
        if kind in ("article", "exact_duplicate", "near_duplicate", "pii"):
            languages[lang] = languages.get(lang, 0) + 1
        if encoding:
            encodings[encoding] = encodings.get(encoding, 0) + 1
        for k in pii_keys:
            if k != "name":
                pii[k] = pii.get(k, 0) + 1
    return {"pages": pages, "seed": seed, "records": dict(records), "kinds": kinds,
            "subkinds": dict(sorted(subkinds.items())),
            "languages": dict(sorted(languages.items())),
            "encodings": dict(sorted(encodings.items())), "pii": dict(sorted(pii.items()))}


class _HashingFile:
    """Counts and hashes what is written through it."""

    def __init__(self, f):
        self.f, self.size, self.sha256 = f, 0, hashlib.sha256()

    def write(self, data) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self.f.write(data)

    def flush(self) -> None:
        self.f.flush()


# The summary: pages, seed; records (warcinfo/request/response/metadata as warcio reads
# them, "truncated": the cut last record, "malformed": malformed ones among the
# responses); kinds and subkinds of the `pages` responses (the tail included); languages
# of article-like pages; encodings of HTML pages; pii values per type; bytes and sha256.
def write_sample(path: str, pages: int = 2000, seed: int = 0) -> dict:
    """Write a synthetic crawl as a .warc.gz; return a summary dict of counts per page kind and record type."""
    if pages < 0:
        raise ValueError("pages must be >= 0")
    with open(path, "wb") as raw:
        f = _HashingFile(raw)
        summary = _write(f, pages, seed)
    summary["bytes"] = f.size
    summary["sha256"] = f.sha256.hexdigest()
    return summary
