"""Extract: HTML bytes -> main text with trafilatura (comments left out), in two passes.

The fast pass is trafilatura's own extraction without its fallback algorithms
(readability, jusText: `fast=True`). Its result is kept unless it looks like a miss:
shorter than `full_pass_below` (750) characters and under `short_share` (a fifth,
trafilatura's own escalation share) of the page's visible text, or shorter than
`check_below` (2,000) and under `min_share` (a tenth) of it; then the full pass
(trafilatura with its fallbacks) runs and its result is kept. `python -m
benchmarks.extract_gate` measures the choice on 392 pages, one process: the 181 of the
shared extraction benchmark (F1 as `gristmill eval extraction` scores it) and the 211
HTML responses of the shared crawl WARCs (Common Crawl, ClueWeb, Wayback, wget crawls),
where "lost" counts pages whose kept text is under 70% of the full pass's; time is the
fast pass plus the full pass where the gate sends the page, over the full pass alone:

  | full pass when the fast result is             | F1     | time, 181 | time, crawl | lost |
  | never (fast pass only)                        | 0.9623 | 0.74      | 0.65        | 12   |
  | under 750, or under 2,000 and 1/10 (before)   | 0.9623 | 0.81      | 1.06        | 2    |
  | under 2,000 and 1/10                          | 0.9623 | 0.77      | 0.86        | 4    |
  | under 750 and 1/5, or under 2,000 and 1/10    | 0.9623 | 0.79      | 0.91        | 2    |
  | under 1,000 and 1/5, or under 2,000 and 1/10  | 0.9601 | 0.85      | 0.91        | 2    |
  | always (trafilatura.extract)                  | 0.9601 | 1.00      | 1.00        | 0    |

The fallbacks matter on short results: where the full pass kept far more of the page's
own text, the fast result was under a fifth of the visible text and, but for one events
listing (3,490 of 26,019 characters, kept only by "always"), under 2,000 characters (a
personal home page keeps 749 of its ~19,600 visible characters; a resort's dining page
579 of 3,441). A short result that is most of what the page shows (a shop's item page:
~400 of ~1,800 characters) is trusted: sending every result under 750 characters to the
full pass, as before, made Extract slower than plain trafilatura on the crawl pages
(1.06), for 40 more pages, on 39 of which the full pass returned the same text (and a
shorter one on the 40th). "lost" trusts the full pass, which is not always
right: 5 of the fast pass's 12 are Wayback captures where the full pass keeps the
Machine's own banner instead of the page, one of them (848 characters) also lost by the
default. On the benchmark the full pass kept far more text on two pages with longer
fast results, all of it boilerplate (shingle precision 0.97 -> 0.20 and 1.00 -> 0.28).
`ExtractConfig(fast=False)` (`--extract-mode full`) runs the full pass only.

A pathological page can keep trafilatura busy for minutes. Signals cannot interrupt
it inside Beam's worker threads, so the stage runs extraction in a child process
(`TimeLimit`, one per DoFn instance, started once) and kills and restarts that child
when a page exceeds the limit; the page is rejected as `extract_timeout`. The default
limit, 5 s, is 25 times the slowest of 303 real pages (0.20 s; median 0.013 s,
99th percentile 0.12 s); a 6.7 MB table of 30,000 rows takes 6.2 s and is cut off, while
200,000 nested <div>s (lxml stops at its depth limit) or 5 MB of random bytes
(`binary_content` before any parsing) end in well under a second. The child costs no
measurable time per page (`benchmarks/text.py`: `limit_overhead`): the page goes over
a pipe once, the text comes back once.
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import logging
import multiprocessing
import re
from typing import Callable

from gristmill.transforms.charset import decode_html
from gristmill.transforms.document import Document
from gristmill.transforms.stage import DocStage

STAGE = "extract"


@dataclasses.dataclass(frozen=True)
class ExtractConfig:
    favor_precision: bool = False
    fast: bool = True           # the fast pass first (see the module docstring)
    # The full pass runs when the fast result is shorter than `full_pass_below` characters
    # and holds less than `short_share` of the page's visible text, or is shorter than
    # `check_below` and holds less than `min_share` of it (see the module docstring).
    full_pass_below: int = 750
    short_share: float = 0.2
    check_below: int = 2000
    min_share: float = 0.1
    include_tables: bool = True
    include_comments: bool = False
    min_chars: int = 1  # an extraction shorter than this counts as "no main text"
    timeout_s: float = 5.0  # per page; 0 runs trafilatura in-process with no limit


@functools.lru_cache(maxsize=8)
def _options(config: ExtractConfig, fast: bool):
    """trafilatura's Extractor for one pass, built once: building it per page reads its
    settings anew each time (~1.5% of a page's extraction time)."""
    from trafilatura.settings import Extractor

    return Extractor(output_format="txt", fast=fast, precision=config.favor_precision,
                     comments=config.include_comments, tables=config.include_tables,
                     dedup=False, with_metadata=False)


def run_pass(html: str, url: str, config: ExtractConfig, fast: bool) -> str | None:
    """One trafilatura pass: fast (no fallback extractors) or full."""
    import trafilatura  # here, not at module level: with a TimeLimit only the child needs it

    options = copy.copy(_options(config, fast))  # the page's URL, on a copy
    options.url = options.source = url or None
    return trafilatura.extract(html, options=options)


def extract_text(html: str, url: str = "", config: ExtractConfig = ExtractConfig()) -> str | None:
    text = run_pass(html, url, config, True) if config.fast else None
    if text is None or needs_full_pass(text, html, config):
        text = run_pass(html, url, config, False) or text
    return text


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")  # never in text (tab, LF, FF, CR are)
_INVISIBLE_TAGS = ("script", "style", "noscript", "template", "svg")
_OPEN = re.compile(rf"(?i)<({'|'.join(_INVISIBLE_TAGS)})\b|<!--")
_CLOSE = {**{t: re.compile(rf"(?i)</{t}\s*>") for t in _INVISIBLE_TAGS}, "--": re.compile("-->")}
_TAG = re.compile(r"(?s)<[^>]*>")
_SPACE = re.compile(r"\s+")


def strip_invisible(html: str) -> str:
    r"""html with each script, style, noscript, template and svg element (up to its first
    end tag) and each comment (up to its first "-->") replaced by a space; one without
    its end is left as it is. The same as `re.sub(r"(?is)<(script|...)\b.*?</\1\s*>|
    <!--.*?-->", " ", html)`, in linear time: a search for an end that failed is not
    repeated (that regex takes seconds on 60 kB of unclosed <script> tags)."""
    out, pos, at, missing = [], 0, 0, {}
    while (m := _OPEN.search(html, at)) is not None:
        kind = (m.group(1) or "--").lower()
        end = None if m.end() >= missing.get(kind, len(html) + 1) else _CLOSE[kind].search(html, m.end())
        if end is None:  # no end after here: none after any later start of this kind either
            missing.setdefault(kind, m.end())
            at = m.start() + 1
            continue
        out += [html[pos:m.start()], " "]
        pos = at = end.end()
    out.append(html[pos:])
    return "".join(out)


def visible_chars(html: str) -> int:
    """About how many characters a browser shows: tags, scripts, styles and comments out,
    runs of white space as one."""
    return len(_SPACE.sub(" ", _TAG.sub(" ", strip_invisible(html))))


def needs_full_pass(fast_text: str, html: str, config: ExtractConfig) -> bool:
    """The fast result is short and a small part of the page's text."""
    n = len(fast_text)
    if n >= config.check_below:
        return False
    share = config.short_share if n < config.full_pass_below else config.min_share
    return n < share * visible_chars(html)


def _serve(conn, fn) -> None:
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    conn.send("ready")  # the imports are done: from here on only the calls are timed
    while True:
        args = conn.recv()
        try:
            conn.send((True, fn(*args)))
        except Exception as e:
            conn.send((False, e))


class TimeLimit:
    """Call `fn(*args)` in a spawned child process; past `seconds`, kill it, start a
    fresh one and raise TimeoutError. `fn` and its arguments must be picklable."""

    def __init__(self, fn: Callable, seconds: float):
        self.fn, self.seconds = fn, seconds
        self.proc = None

    def _start(self) -> None:
        ctx = multiprocessing.get_context("spawn")  # no fork of a process with gRPC threads
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, self.fn), daemon=True)
        self.proc.start()
        child.close()
        if not self.conn.poll(120) or self.conn.recv() != "ready":
            self.close()
            raise RuntimeError("extraction worker process did not start")

    def __call__(self, *args):
        if self.proc is None or not self.proc.is_alive():
            self._start()
        self.conn.send(args)
        if not self.conn.poll(self.seconds):
            self.close()
            raise TimeoutError(f"over {self.seconds:g}s")
        ok, value = self.conn.recv()
        if not ok:
            raise value
        return value

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.join()
            self.conn.close()
            self.proc = None


def extract(doc: Document, config: ExtractConfig = ExtractConfig(), run: Callable = extract_text):
    """Fill doc.text from doc.html (and drop the HTML); or return the reason it has none.

    `run` calls `extract_text`: directly, or through a TimeLimit."""
    html, doc.charset = decode_html(doc.html or b"", doc.charset)
    doc.html = None
    if not html.strip():
        return "empty_html"
    if html.count("\ufffd") > max(20, len(html) // 20):
        return "undecodable", doc.charset
    head = html[:65536]
    if len(_CONTROL.findall(head)) > max(20, len(head) // 100):  # an image, a PDF, an archive...
        return "binary_content", doc.charset
    try:
        text = run(html, doc.url, config)
    except TimeoutError as e:
        return "extract_timeout", str(e)
    if not text or len(text.strip()) < config.min_chars:
        return "no_main_text"
    doc.text = text.strip()
    return doc


def _runner(config: ExtractConfig):
    # trafilatura logs unparsable pages at ERROR; they are counted rejections here
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    return TimeLimit(extract_text, config.timeout_s) if config.timeout_s else None


def _extract(doc: Document, run, config: ExtractConfig):
    return extract(doc, config, run or extract_text)


class Extract(DocStage):
    """Beam shell. The time-limited child process serves one call at a time, so each
    DoFn instance (one per worker thread) has its own, closed at teardown."""

    def __init__(self, config: ExtractConfig = ExtractConfig()):
        super().__init__(STAGE, _extract, config, load=_runner, per_instance=True)
