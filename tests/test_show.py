"""`gristmill show RUN_DIR DOC_ID` on one real small run (made once for the module), and the
re-read of records at their (offset, inner_offset) in files of other framings."""
import gzip
import json
import os
import shutil
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from gristmill.pipelines import show
from tests.conftest import one_line_error, shared_data

EXE = os.path.join(os.path.dirname(sys.executable), "gristmill")


def gristmill(*args):
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def run(cli_run):  # tests/conftest.py: one run for the session
    return cli_run


def kept_rows(run):
    rows = []
    for f in sorted((run / "docs").glob("*.parquet")):
        rows += pq.read_table(f, columns=["id", "url", "offset", "split", "shard", "position", "num_tokens"]).to_pylist()
    assert rows
    return rows


def rejections(run):
    out = []
    for f in sorted((run / "rejected").glob("part-*.jsonl.gz")):
        with gzip.open(f, "rt") as fh:
            out += [json.loads(line) for line in fh]
    return out


def test_show_kept_document(run):
    row = kept_rows(run)[0]
    manifest = json.loads((run / "manifest.json").read_text())
    warc_path = manifest["inputs"][0]["path"]
    r = gristmill("show", run, row["id"], "--full")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert f"url:           {row['url']}" in out
    assert f"warc file:     {warc_path}" in out and f"offset:        {row['offset']}" in out
    assert f"WARC-Target-URI: {row['url']}" in out  # the record re-read there
    assert "target URI matches the document: yes" in out
    assert "HTTP/1.1 200" in out and "status:        kept" in out
    # the text printed is the shard's tokens of that position, decoded with the run's model
    from gristmill import tokfile
    from gristmill.transforms.tokenizer import load_processor
    sp = load_processor((run / "tokenizer.model").read_bytes())
    name = next(s["path"] for s in manifest["splits"][row["split"]]
                if s["path"].startswith(f"{row['split']}-{row['shard']:05d}-"))
    tokens = tokfile.TokFile(str(run / name)).doc(row["position"])
    assert tokens[0] == sp.bos_id() and tokens[-1] == sp.eos_id()
    text = sp.decode([int(t) for t in tokens[1:-1]])
    assert len(text) > 100 and f"({len(text)} characters):\n{text}" in out


def test_show_long_text_is_cut_without_full(run):
    row = max(kept_rows(run), key=lambda r: r["num_tokens"])
    assert row["num_tokens"] > 1000
    text = show.show(str(run), row["id"], max_bytes=50)
    assert "--- payload, first 50 bytes (--bytes 50)" in text
    body = text.split("text in the shards", 1)[1]
    assert "(first 2000 of " in body and "--full for all" in body
    assert len(body) < 2300 and body.rstrip().endswith("more characters]")


def test_show_dropped_document(run):
    dropped = [x for x in rejections(run) if x["stage"] != "read"]
    assert dropped, "the run drops something after read"
    x = dropped[0]
    out = show.show(str(run), x["id"], max_bytes=100)
    assert "status:        dropped" in out
    assert f"stage:         {x['stage']}" in out and f"reason:        {x['reason']}" in out
    assert f"WARC-Target-URI: {x['url']}" in out and "matches the document: yes" in out
    assert "metadata:" not in out
    read = next(x for x in rejections(run) if x["stage"] == "read")
    assert f"reason:        {read['reason']}" in show.show(str(run), read["id"])


def test_prefix_lookup(run):
    row = kept_rows(run)[1]
    out = show.show(str(run), row["id"][:8].upper())
    assert f"document:      {row['id']}" in out
    with pytest.raises(show.UsageError, match="at least 8"):
        show.show(str(run), row["id"][:7])


def test_ambiguous_prefix(run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    row = kept_rows(run)[0]
    twin = row["id"][:12] + ("0" if row["id"][12] != "0" else "1") + row["id"][13:]
    with gzip.open(copy / "rejected" / "part-extra.jsonl.gz", "wt") as f:
        f.write(json.dumps({"id": twin, "url": "", "stage": "read", "reason": "garbled_record",
                            "input": 0, "offset": 0, "inner_offset": 0, "detail": ""}) + "\n")
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["rejected"].append("rejected/part-extra.jsonl.gz")
    (copy / "manifest.json").write_text(json.dumps(manifest))
    line = one_line_error(gristmill("show", copy, row["id"][:12]), 2)
    assert "ambiguous" in line and "2 documents match" in line
    assert f"document:      {twin}" in show.show(str(copy), twin)  # the full id is not


def test_unknown_id_and_bad_arguments(run, tmp_path):
    line = one_line_error(gristmill("show", run, "0123456789abcdef0123456789abcdef"), 1)
    assert str(run) in line and "no document" in line
    line = one_line_error(gristmill("show", tmp_path / "nothing", "0123456789abcdef"), 2)
    assert "not a finished run directory" in line
    assert "must be a 32-hex" in one_line_error(gristmill("show", run, "not-hex!"), 2)
    assert "required" in one_line_error(gristmill("show", run), 2)
    assert "show" in gristmill("--help").stdout


def _read_all(path):
    from gristmill.transforms.read_warc import read_range
    size = os.path.getsize(path)
    return [x for x in read_range(str(path), 0, 0, size, size) if not isinstance(x, dict)]


def test_reread_in_a_whole_file_gzip():
    path = shared_data("warc-malformed", "clueweb09-whole-file-gzip.warc.gz")
    docs = [d for d in _read_all(path) if d.url.startswith("http")]
    assert len(docs) > 3 and len({d.offset for d in docs}) == 1  # one member holds them all
    for d in (docs[0], docs[len(docs) // 2], docs[-1]):
        assert d.inner > 0
        rec = show.reread(str(path), d.offset, d.inner, 200)
        assert not rec.error and rec.target_uri == d.url
        assert rec.http_status.startswith("HTTP/") and rec.payload


def test_reread_damage_without_url_shows_the_bytes():
    path = shared_data("warc-malformed", "warcio-example-wrong-chunks.warc.gz")
    garbled = [x for x in _read_all(path) if getattr(x, "reason", "") == "garbled_record"]
    assert garbled and not garbled[0].url
    rec = show.reread(str(path), garbled[0].offset, garbled[0].inner, 100)
    assert rec.error and rec.raw
    lines = show.format_record(rec, "", 100)
    assert any("bytes there" in ln for ln in lines)
