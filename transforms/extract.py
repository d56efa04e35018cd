"""Extract: HTML bytes -> main text with trafilatura (its defaults, comments left out).

A two-pass mode is built and measured but off by default (`fast=True`): trafilatura's
extraction without its fallback algorithms first, and the full pass only when that
returns under `full_pass_below` characters. `gristmill eval extraction` on the shared
benchmark (181 pages, its own metric, one process, the same decoded HTML):

  | settings                                    | F1    | ms/page |
  | trafilatura.extract(include_comments=False) | 0.960 | 38.4    |  <- the default
  | fast=True only                              | 0.962 | 25.9    |
  | fast, full pass below 500 characters        | 0.962 | 26.6    |
  | fast, full pass below 1,000 / 2,000         | 0.960 | 32.7 / 38.4 |

It is not the default because on real crawl pages outside that set the fast pass loses
main text the full pass keeps (a personal home page: 732 characters against 14,519)
and it drops the Japanese pages of the shared crawl that the full pass keeps.

A pathological page can keep trafilatura busy for minutes. Signals cannot interrupt
it inside Beam's worker threads, so the stage runs extraction in a child process
(`TimeLimit`) and kills and restarts that child when a page exceeds the limit; the
page is rejected as `extract_timeout`.
"""
from __future__ import annotations

import dataclasses
import logging
import multiprocessing
from typing import Callable

from gristmill.transforms.charset import decode_html
from gristmill.transforms.document import Document
from gristmill.transforms.stage import DocStage

STAGE = "extract"


@dataclasses.dataclass(frozen=True)
class ExtractConfig:
    favor_precision: bool = False
    fast: bool = False          # the fast pass first (see the module docstring)
    full_pass_below: int = 500  # characters: a shorter fast result gets the full pass
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
    if text is None or len(text) < config.full_pass_below:
        text = run(False) or text
    return text


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
