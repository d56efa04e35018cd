"""The record, its coders, and the one stage shape (real Beam, FnApiRunner)."""
import pickle

import apache_beam as beam
import numpy as np
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from gristmill.transforms.document import (Document, DocumentCoder, Rejection, RejectionCoder,
                                           stable_id)
from gristmill.transforms.stage import DocStage


def full_doc(**kw):
    return Document(id=stable_id("a"), url="https://ex.example/ä", input=7, offset=123456789012,
                    length=4321, date="2026-01-01T00:00:00Z", charset="windows-1251",
                    html=b"<html>\xff</html>", text="Straße \ud800 text", lang="de", lang_score=0.875,
                    quality={"words": 120.0, "alpha_word_frac": 0.5, "some_new_signal": 2.0},
                    cluster_size=3, pii={"EMAIL_ADDRESS": 2, "PERSON": 1},
                    tokens=np.array([1, 70, 65535, 2], dtype=np.uint16), inner=77,
                    minhash=np.arange(112, dtype="<u4").tobytes(), **kw)


def test_document_coder_round_trips_every_field():
    coder = beam.coders.registry.get_coder(Document)
    assert isinstance(coder, DocumentCoder)
    d = full_doc()
    back = coder.decode(coder.encode(d))
    assert back.tokens.dtype == np.uint16 and back.tokens.tolist() == d.tokens.tolist()
    for field in Document.__slots__:
        if field != "tokens":
            assert getattr(back, field) == getattr(d, field), field
    big = Document(id=b"\0" * 16, url="u", input=0, offset=0, tokens=np.array([1, 70000, 2], np.uint32))
    assert coder.decode(coder.encode(big)).tokens.tolist() == [1, 70000, 2]
    bare = Document(id=b"\1" * 16, url="u", input=0, offset=0)
    assert coder.decode(coder.encode(bare)) == bare
    no_shingles = Document(id=b"\1" * 16, url="u", input=0, offset=0, minhash=b"")
    assert coder.decode(coder.encode(no_shingles)).minhash == b""


def test_document_coder_is_smaller_than_pickle():
    d = full_doc()
    d.html, d.tokens = None, None
    assert len(DocumentCoder().encode(d)) < len(pickle.dumps(d, protocol=5))


def test_rejection_coder_round_trips():
    r = Rejection(stable_id("x"), "https://a.example/", "read", "garbled_record", 3, -1, "EOFError", 5)
    assert isinstance(beam.coders.registry.get_coder(Rejection), RejectionCoder)
    assert RejectionCoder().decode(RejectionCoder().encode(r)) == r


def _keep_long(doc, min_len, config):
    if doc.url == "boom":
        raise RuntimeError("bad record")
    return doc if len(doc.text) >= min_len else ("too_short", str(len(doc.text)))


def _load(config):
    return config["min_len"]


def test_doc_stage_returns_kept_rejected_and_exact_counts():
    docs = [Document(id=bytes([i]) * 16, url=f"u{i}", input=0, offset=i, text="x" * i)
            for i in range(10)] + [Document(id=b"b" * 16, url="boom", input=0, offset=99)]
    with TestPipeline(runner="FnApiRunner") as p:
        out = (p | beam.Create(docs)
               | "Keep" >> DocStage("keep", _keep_long, {"min_len": 4}, load=_load))
        assert_that(out.kept | "Urls" >> beam.Map(lambda d: d.url),
                    equal_to([f"u{i}" for i in range(4, 10)]), label="Kept")
        assert_that(out.rejected | "Reasons" >> beam.Map(lambda r: (r.stage, r.reason)),
                    equal_to([("keep", "too_short")] * 4 + [("keep", "error:RuntimeError")]),
                    label="Rejected")
        totals = (out.counts
                  | beam.FlatMap(lambda sc: sc[1].items())
                  | beam.CombinePerKey(sum))
        assert_that(totals, equal_to([("kept", 6), ("too_short", 4), ("error:RuntimeError", 1)]),
                    label="Counts")
