"""`gristmill report RUN_DIR` on the session's real small run (tests/conftest.py `cli_run`),
and the stage times in its stats.json."""
import base64
import json
import re
import shutil

from gristmill.pipelines import report
from gristmill.pipelines.run_files import STAGES, TIMED_STEPS
from tests.conftest import gristmill_cli, one_line_error


def test_stats_hold_each_stages_wall_and_cpu_seconds(cli_run):
    stats = json.loads((cli_run / "stats.json").read_text())
    assert stats["accounting_ok"], stats["accounting_problems"]
    times = stats["stage_times"]
    assert "summed over workers" in times["about"]
    assert list(times["steps"]) == list(TIMED_STEPS) and set(STAGES) <= set(TIMED_STEPS)
    for step, t in times["steps"].items():
        assert set(t) == {"wall_s", "cpu_s"}, step
        assert t["wall_s"] >= 0 and t["cpu_s"] >= 0, step
    steps = times["steps"]
    # every stage that had input did work; Extract's CPU includes its child process
    for s in stats["stages"]:
        if s["in"]:
            assert steps[s["stage"]]["wall_s"] > 0, s["stage"]
    assert steps["extract"]["cpu_s"] > 0.3 * steps["extract"]["wall_s"]
    # the counts did not take the times for drop reasons
    assert not any(r.startswith("_") or r in ("wall_s", "cpu_s") for s in stats["stages"] for r in s["dropped"])


def test_report_has_every_section_with_embedded_figures(cli_run, tmp_path):
    out = tmp_path / "r.html"
    r = gristmill_cli("report", cli_run, "--output", out)
    assert r.returncode == 0, r.stdout + r.stderr
    assert str(out) in r.stdout
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    for sid, title in report.SECTIONS:
        assert f'<section id="{sid}">' in page, sid
    for word in ("Funnel", "Languages", "Document length", "Duplicate clusters", "PII per type",
                 "Tokens per shard", "Stage times", "drop reasons"):
        assert word in page, word
    # self-contained: every src is inline data, every href a link inside the page
    assert re.findall(r'\bsrc="([^"]*)"', page) and all(
        s.startswith("data:image/png;base64,") for s in re.findall(r'\bsrc="([^"]*)"', page))
    assert all(h.startswith("#") for h in re.findall(r'\bhref="([^"]*)"', page))
    assert "url(" not in page and "@import" not in page and "<script" not in page
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) >= 7  # funnel, languages, lengths, duplicates, pii, shards, times
    for b in images:
        assert base64.b64decode(b)[:8] == b"\x89PNG\r\n\x1a\n"
    # the numbers of the run are in the tables
    stats = json.loads((cli_run / "stats.json").read_text())
    assert f"{stats['records_read']:,}" in page
    manifest = json.loads((cli_run / "manifest.json").read_text())
    first = next(iter(manifest["splits"].values()))[0]
    assert first["path"] in page and f"{first['num_tokens']:,}" in page


def test_report_default_path_and_a_failed_run(cli_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(cli_run, copy)
    assert gristmill_cli("report", copy).returncode == 0
    assert (copy / "report.html").stat().st_size > 10_000
    # a failed run has stats.json and no manifest: the page says so and still draws the funnel
    (copy / "manifest.json").unlink()
    stats = json.loads((copy / "stats.json").read_text())
    stats.update(status="failed", failure="nothing survived: test")
    (copy / "stats.json").write_text(json.dumps(stats))
    path = report.make_report(str(copy), str(tmp_path / "failed.html"))
    page = open(path).read()
    assert "nothing survived: test" in page and "did not finish" in page
    assert all(f'<section id="{sid}">' in page for sid, _ in report.SECTIONS)


def test_report_bad_arguments_are_one_line(tmp_path):
    line = one_line_error(gristmill_cli("report", tmp_path / "nothing"), 2)
    assert "no such directory" in line and line.startswith("gristmill report:")
    assert "not a run directory" in one_line_error(gristmill_cli("report", tmp_path), 2)
    (tmp_path / "stats.json").write_text("{not json")
    assert "unreadable" in one_line_error(gristmill_cli("report", tmp_path), 2)
    assert "required" in one_line_error(gristmill_cli("report"), 2)
    assert "report" in gristmill_cli("--help").stdout
