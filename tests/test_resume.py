"""Resumable and incremental runs: per-range checkpoints of ReadWarc..Quality.

The end-to-end tests run the real `gristmill run` (FnApiRunner, one worker) as a child
process, kill it with SIGKILL once some ranges are checkpointed, run it again with the
same arguments and compare every output file with an uninterrupted run's.
"""
from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from gristmill.transforms import checkpoint, dedup
from gristmill.transforms.document import Document, Rejection


def test_plan_ranges_replays_the_done_and_reads_the_rest():
    ranges = [(0, 10), (10, 20), (20, 30), (30, 35)]
    assert checkpoint.plan_ranges(ranges, []) == ([], ranges)
    assert checkpoint.plan_ranges(ranges, [(10, 20), (30, 35)]) == ([(10, 20), (30, 35)], [(0, 10), (20, 30)])
    assert checkpoint.plan_ranges(ranges, ranges) == (ranges, [])
    # an earlier run cut the file differently: its ranges are replayed, the gaps read,
    # cut where this run's ranges start; overlapping or foreign ranges are ignored
    replay, read = checkpoint.plan_ranges(ranges, [(0, 15), (5, 12), (25, 99)])
    assert replay == [(0, 15)] and read == [(15, 20), (20, 30), (30, 35)]


def test_derive_counts_is_the_funnel_of_one_range():
    counts = checkpoint.derive_counts(10, {"read": {"warc_request": 4}, "langid": {"language_not_kept": 2}}, 4)
    assert counts == {"read": {"kept": 6, "warc_request": 4}, "url_filter": {"kept": 6},
                      "extract": {"kept": 6}, "langid": {"kept": 4, "language_not_kept": 2},
                      "quality": {"kept": 4}, "minhash": {"kept": 4}}
    assert checkpoint.derive_counts(10, {"read": {"warc_request": 4}}, 5) is None  # a survivor unseen


def test_a_range_is_written_whole_and_read_back(tmp_path):
    folder = str(tmp_path / "key")
    doc = Document(id=b"\x01" * 16, url="https://a.example/", input=3, offset=100, text="Some text. " * 80,
                   lang="en", lang_score=0.9, quality={"words": 160})
    rej = Rejection(b"\x02" * 16, "https://b.example/", "read", "warc_request", 3, 50)
    checkpoint.begin(folder, 0, 4096)
    checkpoint.note("read", rej)
    checkpoint.note("read", doc)       # kept by read: not a survivor yet
    checkpoint.note("quality", doc)    # kept by Quality: not a survivor yet either
    checkpoint.note("minhash", doc)    # the last covered stage's survivor
    assert not os.listdir(folder) or all(n.endswith(".body.inprogress") for n in os.listdir(folder))
    assert checkpoint.end({"input": 3, "start": 0, "bytes": 4096, "sha256": "ab", "records": 2, "error": ""})
    assert os.listdir(folder) == ["0-4096.ckpt"]
    head, docs, rejections = checkpoint.read_file(f"{folder}/0-4096.ckpt")
    assert head["counts"]["read"] == {"kept": 1, "warc_request": 1} and head["summary"]["records"] == 2
    assert docs[0].text == doc.text and docs[0].quality == {"words": 160} and rejections == [rej]
    # a range whose survivors do not add up is not checkpointed (read again next time)
    checkpoint.begin(folder, 4096, 8192)
    checkpoint.note("read", doc)
    assert not checkpoint.end({"input": 3, "start": 4096, "bytes": 4096, "records": 1, "error": ""})
    assert sorted(os.listdir(folder)) == ["0-4096.ckpt"]
    with open(f"{folder}/0-4096.ckpt", "r+b") as f:
        f.truncate(60)
    with pytest.raises(ValueError, match="0-4096.ckpt is damaged"):
        checkpoint.read_file(f"{folder}/0-4096.ckpt")


# ------------------------------------------------------------------------------ end to end

@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crawl")
    for i in range(3):
        subprocess.run([sys.executable, "-m", "gristmill.cli", "sample-data", "--output",
                        str(folder / f"s{i}.warc.gz"), "--pages", "150", "--seed", str(i)],
                       check=True, capture_output=True)
    return folder


def _args(inputs, out, *extra):
    return [sys.executable, "-m", "gristmill.cli", "run", *[f"--input={p}" for p in inputs],
            f"--output={out}", "--run-id=r", "--vocab-size=600", "--range-bytes=65536",
            "--direct_num_workers=1", *extra]


def _run(inputs, out, *extra) -> str:
    done = subprocess.run(_args(inputs, out, *extra), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _files(run) -> dict:
    """{relative path: bytes} of a run directory, stats.json without its measured times."""
    out = {}
    for root, _, names in os.walk(run):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                data = f.read()
            if name == "stats.json":
                stats = json.loads(data)
                stats.pop("stage_times")
                data = json.dumps(stats, sort_keys=True).encode()
            out[os.path.relpath(path, run)] = data
    return out


def _ckpts(work) -> int:
    return sum(n.endswith(".ckpt") for _, _, names in os.walk(work) for n in names)


def test_killed_run_resumes_and_equals_an_uninterrupted_one(crawl, tmp_path):
    inputs = [str(crawl / "*.warc.gz")]
    whole = tmp_path / "whole"
    _run(inputs, whole)
    assert not (tmp_path / "whole.work").exists()  # the default work folder goes when done

    out, work = tmp_path / "killed", tmp_path / "killed.work"
    proc = subprocess.Popen(_args(inputs, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 300
    while _ckpts(work) < 4 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = _ckpts(work)
    assert done_before >= 4 and not (out / "manifest.json").exists(), "the run was not killed midway"
    # nothing under a final name is partial: the killed run wrote no shard, stats or manifest
    assert not any(n.endswith((".tok", ".parquet")) for _, _, ns in os.walk(out) for n in ns)

    log = _run(inputs, out)
    assert "[run] resuming: " in log, log
    reused = int(log.split("[run] resuming: ")[1].split()[0])
    assert reused >= done_before
    assert _files(out) == _files(whole)
    assert not work.exists()
    assert not [n for _, _, ns in os.walk(tmp_path) for n in ns if n.endswith(".inprogress")]


def test_incremental_run_over_a_grown_input_list(crawl, tmp_path):
    work = tmp_path / "work"
    first = [str(crawl / "s0.warc.gz"), str(crawl / "s2.warc.gz")]
    _run(first, tmp_path / "w1", f"--work-dir={work}")
    ledger = [json.loads(x) for x in (work / "ledger.jsonl").read_text().splitlines()]
    assert sorted(os.path.basename(r["path"]) for r in ledger) == ["s0.warc.gz", "s2.warc.gz"]
    assert all(r["size"] > 0 and len(r["sha256_ranges"]) == 64 for r in ledger)
    ranges_first = _ckpts(work)
    # the checkpoints hold the survivors with their MinHash signatures: not computed again
    held = [d for root, _, ns in os.walk(work) for n in ns if n.endswith(".ckpt")
            for d in checkpoint.read_file(os.path.join(root, n))[1]]
    assert held and all(d.minhash and d.minhash == dedup.attach_signature(
        dataclasses.replace(d, minhash=None), None, dedup.DedupConfig()).minhash for d in held)

    grown = [str(crawl / f"s{i}.warc.gz") for i in range(3)]  # s1 lands between: indices move
    log = _run(grown, tmp_path / "w2", f"--work-dir={work}")
    assert f"[run] resuming: {ranges_first} checkpointed range(s) of 2 input file(s)" in log
    assert _ckpts(work) > ranges_first and work.exists()
    ledger = [json.loads(x) for x in (work / "ledger.jsonl").read_text().splitlines()]
    assert len(ledger) == 3 and {r["run_id"] for r in ledger} == {"r"}

    fresh = tmp_path / "fresh"
    _run(grown, fresh)
    assert _files(tmp_path / "w2") == _files(fresh)

    # a finished run directory is never written again; --promote moves `latest` after verify
    again = subprocess.run(_args(grown, tmp_path / "w2"), capture_output=True, text=True)
    assert again.returncode == 2 and "already holds a finished run" in again.stderr
    from gristmill.pipelines.verify import main as verify
    assert verify([str(fresh), "--promote"]) == 0
    assert (tmp_path / "latest").read_text() == "fresh\n"
