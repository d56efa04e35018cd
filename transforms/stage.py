"""The thin Beam shell shared by the per-document stages.

A stage is a plain function `doc -> doc | reason` (see each transforms/ module).
`StageFn` runs it, counts kept/dropped per reason with Beam metrics, turns a returned
reason into a Rejection on the `rejected` output, and turns an unexpected exception
into a counted `error:<Type>` rejection instead of failing the run.
"""
from __future__ import annotations

from typing import Union

import apache_beam as beam
from apache_beam.metrics import Metrics

from gristmill.transforms.document import Document, Rejection

REJECTED = "rejected"
Result = Union[Document, str, tuple[str, str]]  # kept doc, reason, or (reason, detail)


class StageFn(beam.DoFn):
    """Subclasses set `stage` and implement `apply`; heavy models go in `setup`."""

    stage = "stage"

    def __init__(self):
        self.kept = Metrics.counter(self.stage, "kept")
        self.dropped = Metrics.counter(self.stage, "dropped")
        self.errors = Metrics.counter(self.stage, "errors")

    def apply(self, doc: Document) -> Result:
        raise NotImplementedError

    def process(self, doc: Document):
        try:
            out = self.apply(doc)
        except Exception as e:  # a bad record must never fail the run
            self.errors.inc()
            yield beam.pvalue.TaggedOutput(REJECTED, Rejection.of(
                doc, self.stage, f"error:{type(e).__name__}", str(e)[:300]))
            return
        if isinstance(out, Document):
            self.kept.inc()
            yield out
            return
        reason, detail = out if isinstance(out, tuple) else (out, "")
        self.dropped.inc()
        Metrics.counter(self.stage, reason).inc()
        yield beam.pvalue.TaggedOutput(REJECTED, Rejection.of(doc, self.stage, reason, detail))


def run_stage(label: str, pcoll, fn: StageFn):
    """Apply a StageFn; return (kept, rejected)."""
    out = pcoll | label >> beam.ParDo(fn).with_outputs(REJECTED, main="kept")
    return out.kept, out[REJECTED]
