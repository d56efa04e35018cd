"""http(s) inputs against a real HTTP server on 127.0.0.1 serving ../shared/data/warc/.

Endpoints: /ok/NAME serves the file (Range requests honoured); /flaky/NAME answers 503
to its first three requests; /cut/NAME drops the connection half way through its first
response; /down/NAME always answers 503; /cc/crawl-data/CC-MAIN-2099-01/warc.paths.gz
lists the files by relative path. The reader must resume where it was cut and give the
same output as the local run.
"""
import collections
import glob
import gzip
import hashlib
import http.server
import json
import os
import re
import threading

import pyarrow.parquet as pq
import pytest

from gristmill import tokfile
from gristmill.transforms import httpfs
from gristmill.transforms.read_warc import list_inputs
from tests.conftest import shared_data
from tests.test_pipeline import run

NAMES = ["cc-main-2020-34-slice.warc.gz", "crawl-en-0000.warc.gz", "crawl-en-0001.warc.gz"]


class Handler(http.server.BaseHTTPRequestHandler):
    root = ""
    hits: collections.Counter = collections.Counter()
    gets: collections.Counter = collections.Counter()

    def log_message(self, *args):
        pass

    def _file(self):
        kind, _, name = self.path.lstrip("/").partition("/")
        if kind == "cc":
            if name != "crawl-data/CC-MAIN-2099-01/warc.paths.gz":
                return kind, None
            listing = "".join(f"ok/{n}\n" for n in NAMES) + "".join(f"flaky/{n}\n" for n in NAMES)
            return kind, gzip.compress(listing.encode(), mtime=0)
        path = os.path.join(self.root, os.path.basename(name))
        return kind, open(path, "rb").read() if os.path.exists(path) else None

    def _reply(self, head_only):
        kind, data = self._file()
        self.hits[self.path] += 1
        if data is None:
            self.send_error(404)
            return
        if kind == "down" or (kind == "flaky" and self.hits[self.path] <= 3):
            self.send_response(503)
            self.send_header("Retry-After", "0")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        start = 0
        m = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
        if m:
            start = int(m.group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if head_only:
            return
        self.gets[self.path] += 1
        if kind == "cut" and self.gets[self.path] == 1:  # the first GET of it is cut half way
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(body)

    def do_GET(self):
        self._reply(head_only=False)

    def do_HEAD(self):
        self._reply(head_only=True)


@pytest.fixture(scope="module")
def server():
    Handler.root = str(shared_data("warc"))
    Handler.hits = collections.Counter()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


FAST = httpfs.RetryPolicy(retries=4, backoff_s=0.01, max_backoff_s=0.05, timeout_s=10)


@pytest.mark.parametrize("kind", ["ok", "flaky", "cut"])
def test_reader_gets_every_byte_through_failures(server, kind):
    name = NAMES[1]
    want = (shared_data("warc") / name).read_bytes()
    Handler.hits.clear()
    Handler.gets.clear()
    reader = httpfs.HttpReader(f"{server}/{kind}/{name}", FAST)
    got = b"".join(iter(lambda: reader.read(1 << 15), b""))
    assert hashlib.sha256(got).digest() == hashlib.sha256(want).digest()
    assert reader.retries_used == {"ok": 0, "flaky": 3, "cut": 1}[kind]
    reader.seek(1000)
    assert reader.read(100) == want[1000:1100]
    assert httpfs.head_size(f"{server}/ok/{name}") == len(want)


def test_retry_budget_spent_names_the_url(server):
    url = f"{server}/down/{NAMES[0]}"
    reader = httpfs.HttpReader(url, FAST)
    with pytest.raises(httpfs.InputUnavailable, match=re.escape(url) + ".*retry budget of 4 spent at byte 0"):
        reader.read(10)
    with pytest.raises(httpfs.InputUnavailable, match="HTTP 404"):
        httpfs.HttpReader(f"{server}/ok/nope.warc.gz", FAST).read(10)


def test_cc_shorthand_listing_and_file_selection(server):
    every = list_inputs(["cc:CC-MAIN-2099-01"], cc_endpoint=f"{server}/cc/")
    assert list(every) == [f"{server}/cc/ok/{n}" for n in NAMES] + [f"{server}/cc/flaky/{n}" for n in NAMES]
    assert set(every.values()) == {-1}  # sizes are asked by the worker that reads the file
    assert list(list_inputs(["cc:CC-MAIN-2099-01"], cc_endpoint=f"{server}/cc/", max_files=2)) == list(every)[:2]
    a = list_inputs(["cc:CC-MAIN-2099-01"], cc_endpoint=f"{server}/cc/", sample_files=3, seed=7)
    b = list_inputs(["cc:CC-MAIN-2099-01"], cc_endpoint=f"{server}/cc/", sample_files=3, seed=7)
    assert list(a) == list(b) and len(a) == 3 and list(a) == [p for p in every if p in a]
    with pytest.raises(ValueError, match="cc:CC-MAIN-YYYY-WW"):
        list_inputs(["cc:2024-22"])


def _outputs(out):
    """Shard payloads and indexes byte for byte (headers name the run's inputs, which differ)."""
    shards = {}
    for f in sorted(glob.glob(str(out / "*.tok"))):
        t = tokfile.TokFile(f, verify=True)
        shards[os.path.basename(f)] = (hashlib.sha256(t.tokens.tobytes()).hexdigest(),
                                       t.doc_offsets.tolist())
    tables = [pq.read_table(f).drop(["warc_file"]).to_pylist()
              for f in sorted(glob.glob(str(out / "docs" / "*.parquet")))]
    stats = json.loads((out / "stats.json").read_text())
    return shards, tables, [(s["stage"], s["in"], s["kept"], s["dropped"]) for s in stats["stages"]]


def test_run_over_http_equals_the_local_run(server, tmp_path):
    local = [str(shared_data("warc", n)) for n in NAMES]
    urls = [f"{server}/flaky/{NAMES[0]}", f"{server}/cut/{NAMES[1]}", f"{server}/ok/{NAMES[2]}"]
    Handler.hits.clear()
    Handler.gets.clear()
    extra = dict(languages="all", vocab_size="3000", http_retries="6", http_backoff_s="0.01")
    run(local, tmp_path / "local", **extra)
    run(urls, tmp_path / "http", **extra)
    assert _outputs(tmp_path / "local") == _outputs(tmp_path / "http")
    assert Handler.hits[f"/flaky/{NAMES[0]}"] > 3  # it did fail, and was read after all


def test_unreachable_input_is_a_counted_error_naming_it(server, tmp_path):
    url = f"{server}/down/{NAMES[0]}"
    local = str(shared_data("warc", NAMES[1]))
    # listed (size unknown), so the driver does not ask for it and the worker finds it down
    listing = tmp_path / "warc.paths"
    listing.write_text(f"{url}\n{local}\n")
    stats, manifest = run([str(listing)], tmp_path / "run", languages="all", vocab_size="3000",
                          http_retries="2", http_backoff_s="0.01", max_error_rate="1")
    read = stats["stages"][0]
    assert read["dropped"].get("unreadable_input") == 1 and stats["accounting_ok"]
    entry = next(i for i in manifest["inputs"] if i["path"] == url)
    assert url in entry["error"] and "retry budget of 2 spent" in entry["error"]
