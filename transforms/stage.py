"""The one stage shape: a composite PTransform returning named (kept, rejected) outputs.

A per-document stage is a plain function ``apply(doc, resource, config) -> doc |
reason | (reason, detail)`` (see each transforms/ module) plus, where it needs one, a
``load(config)`` that builds the heavy resource (a model, a list) once per worker
*process* through ``apache_beam.utils.shared`` rather than once per DoFn instance.
`DocStage` runs it, turns a returned reason into a `Rejection`, turns an unexpected
exception into a counted ``error:<Type>`` rejection instead of failing the run, and
counts kept / dropped by reason per bundle: one ``(stage, {what: n})`` element per
bundle on the ``counts`` output, so stats are exact without an element per document.

Every `Counted` DoFn also measures its own work: the wall and CPU seconds spent in the
stage's function for each element (`timing` / `timed`), not in what runs after it
(stages are fused: a yielded element is processed downstream before `process` goes on),
one ``(stage, {"wall_s": s, "cpu_s": s})`` element per bundle on the ``times`` output
(apart from the counts, whose readers see only counts). On a local run (the
``GRISTMILL_PROGRESS_DIR`` folder set) each DoFn instance also leaves a small file of
its running totals there at most every 2 s, which `gristmill run` shows as progress.
"""
from __future__ import annotations

import collections
import contextlib
import json
import os
import time
from typing import Any, Callable, NamedTuple, Optional, Union

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindows
from apache_beam.utils import shared

from gristmill.transforms import checkpoint
from gristmill.transforms.document import Document, Rejection

KEPT, REJECTED, COUNTS, TIMES = "kept", "rejected", "counts", "times"
PROGRESS_ENV = "GRISTMILL_PROGRESS_DIR"  # local runs: where DoFns leave their running totals
BEAT_S = 2.0
Result = Union[Document, str, tuple[str, str]]  # kept doc, reason, or (reason, detail)


class StageOutputs(NamedTuple):
    kept: beam.PCollection      # Document (or the stage's own kept type)
    rejected: beam.PCollection  # Rejection
    counts: beam.PCollection    # (stage, {"kept" | reason: n}), one per bundle
    times: Optional[beam.PCollection] = None  # (stage, {"wall_s", "cpu_s"}), one per bundle


def child_cpu_s(resource) -> tuple[Optional[int], float]:
    """(pid, CPU seconds so far) of the child process a resource serves calls from
    (`resource.proc.pid`, e.g. Extract's time-limited extractor), from /proc; (None, 0)
    when there is none or it cannot be read."""
    pid = getattr(getattr(resource, "proc", None), "pid", None)
    if pid is None:
        return None, 0.0
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return pid, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None, 0.0


class Counted(beam.DoFn):
    """Base DoFn with per-bundle counts: call `self.count(what)`; emitted at bundle end.

    It also times the stage's own work: wrap it in ``with self.timing():`` or iterate
    ``self.timed(generator)`` (only the generator's steps are timed, not the caller's
    handling of what it yields); the bundle's seconds go out on the ``times`` output.
    Wall time is `time.perf_counter`; CPU time `time.process_time` of the worker process
    (so a stage's native threads count: sentencepiece's, numpy's); a DocStage with a
    per-instance child process (Extract's time limit) adds that child's CPU time."""

    def __init__(self, stage: str):
        self.stage = stage

    def start_bundle(self):
        self._counts = collections.Counter()
        self._wall = self._cpu = 0.0
        if not hasattr(self, "_beat"):  # once per DoFn instance: its running totals
            folder = os.environ.get(PROGRESS_ENV, "")
            self._beat = {"path": os.path.join(folder, f"{self.stage}-{os.getpid()}-{id(self):x}.json")
                          if folder else "", "next": 0.0, "n": 0, "wall_s": 0.0}

    def count(self, what: str, n: int = 1) -> None:
        self._counts[what] += n

    @contextlib.contextmanager
    def timing(self):
        """Add the wall and CPU time of the block to this bundle's times."""
        if self._beat["path"] and time.monotonic() >= self._beat["next"]:
            self._write_beat()
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self._wall += time.perf_counter() - wall
            self._cpu += time.process_time() - cpu

    def timed(self, items):
        """Iterate over items, timing only the work of producing each."""
        it = iter(items)
        while True:
            with self.timing():
                try:
                    item = next(it)
                except StopIteration:
                    return
            yield item

    def _write_beat(self) -> None:
        """This instance's running totals (items counted, wall seconds) into the progress
        folder, replaced atomically; a folder gone away is no error."""
        beat = self._beat
        beat["next"] = time.monotonic() + BEAT_S
        data = {"stage": self.stage, "n": beat["n"] + sum(self._counts.values()),
                "wall_s": round(beat["wall_s"] + self._wall, 3), "t": time.time()}
        try:
            with open(beat["path"] + ".tmp", "w") as f:
                json.dump(data, f)
            os.replace(beat["path"] + ".tmp", beat["path"])
        except OSError:
            beat["path"] = ""

    def route(self, item):
        """Yield a kept item on the main output or a Rejection on `rejected`, counted."""
        checkpoint.note(self.stage, item)  # the range being read on this thread, if any
        if isinstance(item, Rejection):
            self.count(item.reason)
            yield beam.pvalue.TaggedOutput(REJECTED, item)
        else:
            self.count(KEPT)
            yield item

    def finish_bundle(self):
        if self._beat["path"]:
            self._write_beat()
        self._beat["n"] += sum(self._counts.values())
        self._beat["wall_s"] += self._wall
        if self._counts:
            yield beam.pvalue.TaggedOutput(COUNTS, GlobalWindows.windowed_value(
                (self.stage, dict(self._counts))))
            self._counts = collections.Counter()
        if self._wall or self._cpu:
            yield beam.pvalue.TaggedOutput(TIMES, GlobalWindows.windowed_value(
                (self.stage, {"wall_s": self._wall, "cpu_s": self._cpu})))
            self._wall = self._cpu = 0.0


class _Holder:
    """A weak-referenceable box for a per-process resource (Shared needs one)."""

    def __init__(self, value):
        self.value = value


class _DocStageFn(Counted):
    def __init__(self, stage: str, apply: Callable, load: Optional[Callable], config: Any,
                 handle: shared.Shared, per_instance: bool):
        super().__init__(stage)
        self.apply, self.load, self.config = apply, load, config
        self.handle, self.per_instance = handle, per_instance

    def setup(self):
        if self.load is None:
            self.resource = None
        elif self.per_instance:  # e.g. a child process that serves one call at a time
            self._holder = _Holder(self.load(self.config))
            self.resource = self._holder.value
        else:
            self._holder = self.handle.acquire(lambda: _Holder(self.load(self.config)))
            self.resource = self._holder.value

    def process(self, doc: Document):
        child = child_cpu_s(self.resource) if self.per_instance else (None, 0.0)
        with self.timing():
            try:
                out = self.apply(doc, self.resource, self.config)
            except Exception as e:  # a bad record must never fail the run
                out = (f"error:{type(e).__name__}", str(e)[:300])
            if not isinstance(out, Document):
                reason, detail = out if isinstance(out, tuple) else (out, "")
                out = Rejection.of(doc, self.stage, reason, detail)
        if self.per_instance:  # a child process serving the calls: its CPU is the stage's
            pid, cpu = child_cpu_s(self.resource)
            if pid is not None:
                self._cpu += cpu - child[1] if pid == child[0] else cpu
        yield from self.route(out)

    def teardown(self):
        close = getattr(getattr(self, "resource", None), "close", None)
        if self.per_instance and close:
            close()


class DocStage(beam.PTransform):
    """Documents -> StageOutputs(kept, rejected, counts, times) through a plain function.

    ``apply(doc, resource, config)`` is the stage's logic; ``load(config)`` builds its
    resource once per worker process (or once per DoFn instance when ``per_instance``).
    """

    def __init__(self, stage: str, apply: Callable, config: Any = None,
                 load: Optional[Callable] = None, per_instance: bool = False):
        super().__init__()
        self.stage, self.apply, self.config = stage, apply, config
        self.load, self.per_instance = load, per_instance
        self._handle = shared.Shared()

    def expand(self, docs) -> StageOutputs:
        fn = _DocStageFn(self.stage, self.apply, self.load, self.config, self._handle,
                         self.per_instance)
        out = (docs
               | beam.ParDo(fn).with_output_types(Document)
               .with_outputs(REJECTED, COUNTS, TIMES, main=KEPT))
        out[REJECTED].element_type = Rejection
        return StageOutputs(out[KEPT], out[REJECTED], out[COUNTS], out[TIMES])
