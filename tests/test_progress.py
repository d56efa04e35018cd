"""Stage times on the times output, the workers' progress files and the progress line
of a local run (real Beam, FnApiRunner in this process)."""
import io
import json
import time

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from gristmill.pipelines import progress
from gristmill.transforms import stage
from gristmill.transforms.document import Document
from gristmill.transforms.stage import DocStage


def _slow_keep(doc, _resource, _config):
    time.sleep(0.01)
    return doc if doc.offset % 2 else "odd_one"


def test_doc_stage_times_its_own_work_and_leaves_progress_files(tmp_path, monkeypatch):
    monkeypatch.setenv(stage.PROGRESS_ENV, str(tmp_path))
    docs = [Document(id=bytes([i]) * 16, url=f"u{i}", input=0, offset=i, text="x") for i in range(20)]
    with BeamTestPipeline(runner="FnApiRunner") as p:
        out = p | beam.Create(docs) | "Slow" >> DocStage("slow", _slow_keep)
        # downstream work is not the stage's: a slow consumer adds nothing to its time
        _ = out.kept | beam.Map(lambda d: time.sleep(0.05))
        totals = (out.times
                  | beam.Map(lambda st: (st[0], st[1]["wall_s"]))
                  | beam.CombinePerKey(sum)
                  | beam.Map(lambda kv: (kv[0], 0.2 <= kv[1] < 0.45)))
        assert_that(totals, equal_to([("slow", True)]), label="SelfTime")
        counts = out.counts | beam.FlatMap(lambda sc: sc[1].items()) | "Sum" >> beam.CombinePerKey(sum)
        assert_that(counts, equal_to([("kept", 10), ("odd_one", 10)]), label="CountsOnly")
    beats = [json.loads(f.read_text()) for f in tmp_path.glob("slow-*.json")]
    assert beats and sum(b["n"] for b in beats) == 20
    assert all(b["stage"] == "slow" and b["wall_s"] > 0 for b in beats)
    snap = progress.snapshot(str(tmp_path))
    assert snap["stages"]["slow"]["n"] == 20 and snap["ranges"] == {}


def _beat(folder, name, stage_name, n, wall_s, t):
    (folder / f"{name}.json").write_text(json.dumps({"stage": stage_name, "n": n, "wall_s": wall_s, "t": t}))


def test_progress_line_has_files_records_rate_and_current_stage(tmp_path):
    bar = progress.RunProgress(str(tmp_path), {0: 2, 1: 1}, line_every_s=10, out=io.StringIO())
    (tmp_path / "0-0").touch()
    _beat(tmp_path, "read-1-a", "read", 1000, 1.0, 100.0)
    _beat(tmp_path, "extract-1-a", "extract", 400, 5.0, 100.0)
    _, parts = bar.status(now=1000.0)
    assert parts[:2] == ["0/2 files", "1/3 ranges"] and parts[2].startswith("1,000 records read")
    assert parts[3] == "stage extract (400 handled)"  # the most time since the last look
    (tmp_path / "0-1").touch()
    _beat(tmp_path, "read-1-a", "read", 3000, 2.0, 104.0)
    _beat(tmp_path, "read-2-b", "read", 1000, 0.5, 104.0)  # another worker
    _beat(tmp_path, "extract-1-a", "extract", 900, 9.0, 104.0)
    (tmp_path / "x.json.tmp").write_text("{half")  # a file being replaced is skipped
    _, parts = bar.status(now=1004.0)
    assert parts == ["1/2 files", "2/3 ranges", "4,000 records read (750/s)", "stage extract (900 handled)"]
    (tmp_path / "1-0").touch()  # everything read: no rate; dedup at work
    _beat(tmp_path, "dedup-1-c", "dedup", 50, 0.2, 108.0)
    _, parts = bar.status(now=1008.0)
    assert parts == ["2/2 files", "3/3 ranges", "4,000 records read", "stage dedup (50 handled)"]
    _, parts = bar.status(now=1010.0)  # nothing new: still the last stage that reported
    assert parts[-1] == "stage dedup (50 handled)"


def test_progress_prints_a_line_every_interval_when_not_a_terminal(tmp_path):
    out = io.StringIO()
    _beat(tmp_path, "read-1-a", "read", 5, 0.1, time.time())
    with progress.RunProgress(str(tmp_path), None, interval_s=0.05, line_every_s=0.1, out=out):
        time.sleep(0.5)
    lines = out.getvalue().splitlines()
    assert len(lines) >= 2 and all(ln.startswith("[run] ") for ln in lines)
    assert "0/? ranges, 5 records read" in lines[0] and "stage read (5 handled)" in lines[0]
