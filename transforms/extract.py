"""Extract: HTML bytes -> main text with trafilatura (precision-favouring settings)."""
from __future__ import annotations

import codecs
import dataclasses
import logging
import re

import trafilatura

from gristmill.transforms.document import Document
from gristmill.transforms.stage import StageFn

STAGE = "extract"
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)""", re.I)


@dataclasses.dataclass(frozen=True)
class ExtractConfig:
    favor_precision: bool = True
    include_tables: bool = False
    include_comments: bool = False
    min_chars: int = 1  # an extraction shorter than this counts as "no main text"


def _codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name if name else None
    except LookupError:
        return None


def decode_html(body: bytes, http_charset: str = "") -> tuple[str, str]:
    """(text, charset used): the HTTP charset, else <meta charset>, else UTF-8, strictly;
    then the first of those that decodes with replacements (cp1252 as the last resort)."""
    m = _META_CHARSET.search(body[:4096])
    candidates = [_codec(http_charset), _codec(m.group(1).decode("ascii") if m else ""), "utf-8"]
    candidates = list(dict.fromkeys(c for c in candidates if c))
    for name in candidates:
        try:
            return body.decode(name), name
        except (UnicodeDecodeError, LookupError):
            continue
    name = candidates[0] if candidates[0] != "utf-8" else "cp1252"
    return body.decode(name, errors="replace"), name + "+replace"


def extract_text(html: str, url: str = "", config: ExtractConfig = ExtractConfig()) -> str | None:
    return trafilatura.extract(
        html, url=url or None, favor_precision=config.favor_precision,
        include_tables=config.include_tables, include_comments=config.include_comments,
        deduplicate=False, with_metadata=False, output_format="txt")


def extract(doc: Document, config: ExtractConfig = ExtractConfig()):
    """Fill doc.text from doc.html (and drop the HTML); or return the reason it has none."""
    html, doc.charset = decode_html(doc.html or b"", doc.charset)
    doc.html = None
    if not html.strip():
        return "empty_html"
    if html.count("\ufffd") > max(20, len(html) // 20):
        return "undecodable", doc.charset
    text = extract_text(html, doc.url, config)
    if not text or len(text.strip()) < config.min_chars:
        return "no_main_text"
    doc.text = text.strip()
    return doc


class Extract(StageFn):
    stage = STAGE

    def __init__(self, config: ExtractConfig = ExtractConfig()):
        super().__init__()
        self.config = config

    def setup(self):
        # trafilatura logs unparsable pages at ERROR; they are counted rejections here
        logging.getLogger("trafilatura").setLevel(logging.CRITICAL)

    def apply(self, doc):
        return extract(doc, self.config)
