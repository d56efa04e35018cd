"""gs:// and s3:// inputs and outputs against real local servers of those APIs.

gcp-storage-emulator serves the Cloud Storage JSON API (Beam's GCS client finds it by
``STORAGE_EMULATOR_HOST``), moto's server mode the S3 API (``--s3_endpoint_url``). The
shared WARCs are uploaded, the job reads them from the bucket and writes its run
directory there, and the run, copied back, equals the local run byte for byte (shard
payloads and indexes, metadata, stage counts).
"""
import os
import shutil
import socket
import subprocess
import sys
import time

import pytest
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from tests.conftest import shared_data
from tests.test_http_inputs import NAMES, _outputs
from tests.test_pipeline import run

BIN = os.path.dirname(sys.executable)
S3_ARGS = ("--s3_access_key_id=test", "--s3_secret_access_key=test", "--s3_region_name=us-east-1")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(argv, port):
    """Start a server process and wait until its port answers."""
    log = open(os.devnull, "wb")
    proc = subprocess.Popen(argv, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{argv[0]} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    pytest.fail(f"{argv[0]} did not listen on port {port} within 60 s")


def _stop(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _upload(prefix):
    for name in NAMES:
        with open(shared_data("warc", name), "rb") as src, FileSystems.create(f"{prefix}/{name}", compression_type="uncompressed") as dst:
            shutil.copyfileobj(src, dst)


def _download(prefix, local):
    """Every object under prefix/ copied to the local folder, keeping relative paths."""
    found = FileSystems.match([f"{prefix}/**"])[0].metadata_list
    for meta in found:
        rel = meta.path[len(prefix) + 1:]
        os.makedirs(os.path.dirname(os.path.join(local, rel)) or local, exist_ok=True)
        with FileSystems.open(meta.path, compression_type="uncompressed") as src, open(os.path.join(local, rel), "wb") as dst:
            shutil.copyfileobj(src, dst)
    return sorted(m.path[len(prefix) + 1:] for m in found)


EXTRA = dict(languages="all", vocab_size="3000")


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("local") / "run"
    run([str(shared_data("warc", n)) for n in NAMES], out, **EXTRA)
    return out


@pytest.fixture
def gcs(monkeypatch):
    pytest.importorskip("apache_beam.io.gcp.gcsio", reason="apache-beam[gcp] is not installed")
    port = _free_port()
    proc = _serve([os.path.join(BIN, "gcp-storage-emulator"), "start", "--host=127.0.0.1",
                   f"--port={port}", "--in-memory"], port)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    storage.Client(project="test", credentials=AnonymousCredentials()).create_bucket("gristmill-test")
    FileSystems.set_options(PipelineOptions(["--no_auth"]))  # no credential lookup (and its retries)
    yield "gs://gristmill-test", ("--no_auth",)
    _stop(proc)


@pytest.fixture
def s3():
    pytest.importorskip("boto3", reason="apache-beam[aws] is not installed")
    port = _free_port()
    proc = _serve([os.path.join(BIN, "moto_server"), "-H", "127.0.0.1", "-p", str(port)], port)
    endpoint = f"--s3_endpoint_url=http://127.0.0.1:{port}"
    import boto3

    boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id="test",
                 aws_secret_access_key="test", region_name="us-east-1").create_bucket(Bucket="gristmill-test")
    FileSystems.set_options(PipelineOptions([endpoint, *S3_ARGS]))
    yield "s3://gristmill-test", (endpoint, *S3_ARGS)
    _stop(proc)


def _check_cloud_run(bucket, local_run, tmp_path, argv=()):
    _upload(f"{bucket}/warc")
    out = f"{bucket}/runs/r1"
    run([f"{bucket}/warc/*.warc.gz"], out, argv=argv, **EXTRA)
    files = _download(out, tmp_path / "copy")
    assert "manifest.json" in files and "stats.json" in files and any(f.endswith(".tok") for f in files)
    assert _outputs(tmp_path / "copy") == _outputs(local_run)


def test_gcs_inputs_and_outputs_equal_the_local_run(gcs, local_run, tmp_path):
    bucket, argv = gcs
    _check_cloud_run(bucket, local_run, tmp_path, argv)


def test_s3_inputs_and_outputs_equal_the_local_run(s3, local_run, tmp_path):
    bucket, argv = s3
    _check_cloud_run(bucket, local_run, tmp_path, argv)
