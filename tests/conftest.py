import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("GRISTMILL_SHARED_DATA", ROOT.parent / "shared" / "data"))


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test with a clear message."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"evaluation data not found at {path} (see ../shared/data/README.md)")
    return path


GRISTMILL = os.path.join(os.path.dirname(sys.executable), "gristmill")


def gristmill_cli(*args, timeout=600):
    """`gristmill ARGS...` as a user runs it (the console script of this venv)."""
    return subprocess.run([GRISTMILL, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def one_line_error(r, code=2):
    """The one stderr line of a command that failed with `code`, and no traceback."""
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr + r.stdout
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    return lines[0]


@pytest.fixture(scope="session")
def cli_run(tmp_path_factory):
    """One real small run made by `gristmill run` on a shared crawl, for the tests that
    read a finished run directory (show, report); they must not change it."""
    warc = shared_data("warc", "crawl-en-0000.warc.gz")
    out = tmp_path_factory.mktemp("cli-run") / "run"
    r = gristmill_cli("run", "--input", warc.resolve(), "--output", out, "--languages", "all",
                      "--vocab-size", 1000, "--shard-tokens", 50_000)
    assert r.returncode == 0, r.stdout + r.stderr
    return out
