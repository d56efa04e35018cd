"""Extract: HTML bytes -> main text with trafilatura (comments left out), in two passes.

The fast pass is trafilatura's own extraction without its fallback algorithms
(readability, jusText: `fast=True`). Its result is kept unless it looks like a miss:
shorter than `full_pass_below` (750) characters, or shorter than `check_below` (2,000)
and under `min_share` (a tenth) of the page's visible text; then the full pass
(trafilatura with its fallbacks) runs and its result is kept. Measured on 303 pages,
one process: the 181 pages of the shared extraction benchmark (`gristmill eval
extraction`) and the 122 HTML responses of the shared crawl WARCs (Common Crawl,
ClueWeb, Wayback, wget crawls), where "lost" counts pages whose kept text is under 70%
of the full pass's:

  | settings                                      | F1     | time vs full | crawl pages lost |
  | full pass only (trafilatura.extract)          | 0.9601 | 1.00         | 0                |
  | fast pass only                                | 0.9623 | 0.65         | 8                |
  | fast, full below 500 characters               | 0.9623 | 0.67         | 4 (one 14,842 -> 749 chars) |
  | fast, full below 1,000                        | 0.9601 | 0.83         | 0                |
  | fast, full below 750, or below 2,000 and      | 0.9623 | 0.79         | 0                |
  |   under 1/10 of the visible text (default)    |        |              |                  |

The fallbacks matter on short results (trafilatura's own fallback rule looks at results
under its MIN_EXTRACTED_SIZE, 250): on the crawl pages every fast result that the full
pass beat by far was under 750 characters, one by a single character (a personal home
page whose fast pass keeps 749 of its ~19,600 visible characters); the visible-text
share catches such pages up to 2,000. On the benchmark the full pass kept far more text
on two pages with longer fast results, all of it boilerplate (shingle precision 0.97 ->
0.20 and 1.00 -> 0.28): a longer fast result is trusted. `ExtractConfig(fast=False)`
(`--extract-mode full`) runs the full pass only.

A pathological page can keep trafilatura busy for minutes. Signals cannot interrupt
it inside Beam's worker threads, so the stage runs extraction in a child process
(`TimeLimit`, one per DoFn instance, started once) and kills and restarts that child
when a page exceeds the limit; the page is rejected as `extract_timeout`. The default
limit, 5 s, is 25 times the slowest of those 303 real pages (0.20 s; median 0.013 s,
99th percentile 0.12 s); a 6.7 MB table of 30,000 rows takes 6.2 s and is cut off, while
200,000 nested <div>s (lxml stops at its depth limit) or 5 MB of random bytes
(`binary_content` before any parsing) end in well under a second. The child costs no
measurable time per page (`benchmarks/text.py`: `limit_overhead`): the page goes over
a pipe once, the text comes back once.
"""
from __future__ import annotations

import dataclasses
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
    full_pass_below: int = 750  # characters: a shorter fast result gets the full pass
    check_below: int = 2000     # characters: a shorter fast result gets the full pass when
    min_share: float = 0.1      # it holds less than this share of the page's visible text
    include_tables: bool = True
    include_comments: bool = False
    min_chars: int = 1  # an extraction shorter than this counts as "no main text"
    timeout_s: float = 5.0  # per page; 0 runs trafilatura in-process with no limit


def extract_text(html: str, url: str = "", config: ExtractConfig = ExtractConfig()) -> str | None:
    import trafilatura  # here, not at module level: with a TimeLimit only the child needs it

    def run(fast: bool):
        return trafilatura.extract(
            html, url=url or None, favor_precision=config.favor_precision, fast=fast,
            include_tables=config.include_tables, include_comments=config.include_comments,
            deduplicate=False, with_metadata=False, output_format="txt")

    text = run(True) if config.fast else None
    if text is None or needs_full_pass(text, html, config):
        text = run(False) or text
    return text


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")  # never in text (tab, LF, FF, CR are)
_INVISIBLE = re.compile(r"(?is)<(script|style|noscript|template|svg)\b.*?</\1\s*>|<!--.*?-->")
_TAG = re.compile(r"(?s)<[^>]*>")
_SPACE = re.compile(r"\s+")


def visible_chars(html: str) -> int:
    """About how many characters a browser shows: tags, scripts, styles and comments out,
    runs of white space as one."""
    return len(_SPACE.sub(" ", _TAG.sub(" ", _INVISIBLE.sub(" ", html))))


def needs_full_pass(fast_text: str, html: str, config: ExtractConfig) -> bool:
    """The fast result is short, or shortish and a small part of the page's text."""
    n = len(fast_text)
    return n < config.full_pass_below or (
        n < config.check_below and n < config.min_share * visible_chars(html))


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
