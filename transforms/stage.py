"""The one stage shape: a composite PTransform returning named (kept, rejected) outputs.

A per-document stage is a plain function ``apply(doc, resource, config) -> doc |
reason | (reason, detail)`` (see each transforms/ module) plus, where it needs one, a
``load(config)`` that builds the heavy resource (a model, a list) once per worker
*process* through ``apache_beam.utils.shared`` rather than once per DoFn instance.
`DocStage` runs it, turns a returned reason into a `Rejection`, turns an unexpected
exception into a counted ``error:<Type>`` rejection instead of failing the run, and
counts kept / dropped by reason per bundle: one ``(stage, {what: n})`` element per
bundle on the ``counts`` output, so stats are exact without an element per document.
"""
from __future__ import annotations

import collections
from typing import Any, Callable, NamedTuple, Optional, Union

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindows
from apache_beam.utils import shared

from gristmill.transforms.document import Document, Rejection

KEPT, REJECTED, COUNTS = "kept", "rejected", "counts"
Result = Union[Document, str, tuple[str, str]]  # kept doc, reason, or (reason, detail)


class StageOutputs(NamedTuple):
    kept: beam.PCollection      # Document (or the stage's own kept type)
    rejected: beam.PCollection  # Rejection
    counts: beam.PCollection    # (stage, {"kept" | reason: n}), one per bundle


class Counted(beam.DoFn):
    """Base DoFn with per-bundle counts: call `self.count(what)`; emitted at bundle end."""

    def __init__(self, stage: str):
        self.stage = stage

    def start_bundle(self):
        self._counts = collections.Counter()

    def count(self, what: str, n: int = 1) -> None:
        self._counts[what] += n

    def route(self, item):
        """Yield a kept item on the main output or a Rejection on `rejected`, counted."""
        if isinstance(item, Rejection):
            self.count(item.reason)
            yield beam.pvalue.TaggedOutput(REJECTED, item)
        else:
            self.count(KEPT)
            yield item

    def finish_bundle(self):
        if self._counts:
            yield beam.pvalue.TaggedOutput(COUNTS, GlobalWindows.windowed_value(
                (self.stage, dict(self._counts))))
            self._counts = collections.Counter()


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
        try:
            out = self.apply(doc, self.resource, self.config)
        except Exception as e:  # a bad record must never fail the run
            out = (f"error:{type(e).__name__}", str(e)[:300])
        if not isinstance(out, Document):
            reason, detail = out if isinstance(out, tuple) else (out, "")
            out = Rejection.of(doc, self.stage, reason, detail)
        yield from self.route(out)

    def teardown(self):
        close = getattr(getattr(self, "resource", None), "close", None)
        if self.per_instance and close:
            close()


class DocStage(beam.PTransform):
    """Documents -> StageOutputs(kept, rejected, counts) through a plain function.

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
               .with_outputs(REJECTED, COUNTS, main=KEPT))
        out[REJECTED].element_type = Rejection
        return StageOutputs(out[KEPT], out[REJECTED], out[COUNTS])
