"""Deployment (deploy/): the whole job translated by the real DataflowRunner offline
(`--dry_run=True`), the Flex Template's files, the portable (Flink / Spark) runner path,
and the trainer job specs.

The run directory of a Dataflow job is on gs://, and `gristmill run` touches it while it
builds the job (it checks for manifest.json and writes inputs.jsonl and the work plan), so
these tests serve gs:// from gcp-storage-emulator on 127.0.0.1 (as tests/test_cloud_io.py
does). Beam's GCS client looks for credentials first, whatever --no_auth says: about 20 s
of retries, once per process, then it connects anonymously.
"""
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

import apache_beam as beam
import pytest
import yaml
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import (FlinkRunnerOptions, PipelineOptions,
                                                  PortableOptions, SparkRunnerOptions, WorkerOptions)
from apache_beam.portability import common_urns

from apache_beam.transforms import environments
from google.protobuf import json_format

from gristmill.pipelines import crawl, options as opts, run
from gristmill.sampledata import write_sample
from tests.conftest import ROOT, gristmill_cli
from tests.test_cloud_io import _free_port, _serve  # a server on 127.0.0.1, waited for

DEPLOY = ROOT / "deploy"
# The stages of pipelines/crawl.py that a deployment must carry, at the top of the graph.
STAGES = ("ReadWarc", "UrlFilter", "Extract", "LangId", "Quality", "MinHash", "UrlDedup", "MinHashDedup",
          "PiiScrub", "TrainTokenizer", "WriteShards", "WriteRejected", "MergeCounts", "MergeTimes", "Finish")
IMAGE = "europe-west4-docker.pkg.dev/my-project-123/gristmill/gristmill:0.1.0"
BUCKET = "gristmill-deploy"


def _load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


launch = _load(DEPLOY / "dataflow" / "launch.py")


@pytest.fixture(scope="module")
def warc(tmp_path_factory):
    path = tmp_path_factory.mktemp("crawl") / "sample.warc.gz"
    write_sample(str(path), pages=20, seed=0)
    return path


@pytest.fixture(scope="module")
def gcs(warc):
    """gs://BUCKET served on 127.0.0.1, with the sample crawl uploaded; yields the input."""
    pytest.importorskip("apache_beam.io.gcp.gcsio", reason="apache-beam[gcp] is not installed")
    port = _free_port()
    proc = _serve([os.path.join(os.path.dirname(sys.executable), "gcp-storage-emulator"), "start",
                   "--host=127.0.0.1", f"--port={port}", "--in-memory"], port)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage
        storage.Client(project="test", credentials=AnonymousCredentials()).create_bucket(BUCKET)
        FileSystems.set_options(PipelineOptions(["--no_auth"]))
        src = f"gs://{BUCKET}/crawl/sample.warc.gz"
        with open(warc, "rb") as f, FileSystems.create(src, compression_type="uncompressed") as dst:
            shutil.copyfileobj(f, dst)
        yield src
    proc.terminate()
    proc.wait(10)


def _dataflow_argv(src, output, *extra):
    """`gristmill run` flags for Dataflow, offline: dry run (no job submitted), --no_auth,
    a valid-looking project and bucket, the SDK from the container (nothing downloaded)."""
    return ["--input", src, "--output", output, "--runner=DataflowRunner", "--project=my-project-123",
            "--region=europe-west4", f"--temp_location=gs://{BUCKET}/tmp", "--no_auth", "--dry_run=True",
            "--sdk_location=container", "--languages=en,de", "--vocab-size=1000", *extra]


def _dry_run(argv):
    """pipelines/run.py main's own steps (options, job_config, build, run), keeping the result."""
    options = PipelineOptions(argv)
    cfg = opts.job_config(options.view_as(opts.GristmillOptions))
    p = beam.Pipeline(options=options)
    crawl.build(p, cfg)
    return p, p.run()


def _top_labels(proto):
    root = proto.components.transforms[proto.root_transform_ids[0]]
    return [proto.components.transforms[t].unique_name for t in root.subtransforms]


def _built_labels(argv):
    """The top-level labels of the job as crawl.build composes it (no runner involved)."""
    options = PipelineOptions([a for a in argv if not a.startswith("--runner")] + ["--runner=FnApiRunner"])
    p = beam.Pipeline(options=options)
    crawl.build(p, opts.job_config(options.view_as(opts.GristmillOptions)))
    return _top_labels(p.to_runner_api())


def _job_environment(job):
    """The Dataflow Environment message the job description would carry (the one
    create_job_description builds after staging; a dry run stops before it)."""
    from apache_beam.runners.dataflow.internal import apiclient
    env = apiclient.Environment(packages=[], options=job.options, environment_version="8",
                                proto_pipeline_staged_url=f"gs://{BUCKET}/staging/pipeline.pb",
                                proto_pipeline=job.proto_pipeline)
    return json.loads(json_format.MessageToJson(env.proto._pb))


@pytest.mark.parametrize("staging", ["setup_file", "sdk_container_image"])
def test_dataflow_dry_run_translates_the_whole_job(gcs, staging):
    out = f"gs://{BUCKET}/runs/{staging.replace('_', '-')}"
    extra = ([f"--setup_file={ROOT / 'setup.py'}"] if staging == "setup_file"
             else [f"--sdk_container_image={IMAGE}", "--max_num_workers=50"])
    argv = _dataflow_argv(gcs, out, *extra)
    p, result = _dry_run(argv)
    assert type(p.runner).__name__ == "DataflowRunner" and result.state == "DONE"
    job = result.job
    assert job.proto.type_.name == "JOB_TYPE_BATCH"
    proto = job.proto_pipeline  # the graph as Dataflow's runner v2 receives it (staged pipeline.pb)

    labels = _top_labels(proto)
    assert set(STAGES) <= set(labels), set(STAGES) - set(labels)
    assert sorted(labels) == sorted(_built_labels(argv))  # nothing dropped or added on the way
    names = {t.unique_name for t in proto.components.transforms.values()}
    for stage in STAGES:
        assert any(n.startswith(stage + "/") for n in names) or stage in ("MergeCounts", "MergeTimes", "Finish"), stage

    # Docker environments only (no Prism, no loopback), with the image and what is staged
    envs = list(proto.components.environments.values())
    assert envs and all(e.urn == common_urns.environments.DOCKER.urn for e in envs)
    assert not any(b"prism" in e.SerializeToString().lower() for e in envs)
    staged = {d.role_payload.decode("latin-1") for e in envs for d in e.dependencies}
    if staging == "setup_file":
        assert any("workflow.tar.gz" in s for s in staged)  # the sdist of setup.py, built locally
    else:
        assert not any("workflow.tar.gz" in s for s in staged)
        assert all(IMAGE.encode() in e.payload for e in envs)

    described = _job_environment(job)
    carried = described["sdkPipelineOptions"]["options"]
    assert carried["project"] == "my-project-123" and carried["region"] == "europe-west4"
    assert carried["temp_location"].startswith(f"gs://{BUCKET}/tmp/")  # Beam adds <job name>.<time>
    assert carried["input"] == [gcs] and carried["output"] == out
    assert carried["languages"] == "en,de" and carried["vocab_size"] == 1000
    assert carried["sdk_location"] == "container"
    pool = described["workerPools"][0]
    if staging == "setup_file":
        assert carried["setup_file"] == str(ROOT / "setup.py")
        assert pool["workerHarnessContainerImage"].endswith("beam_python3.11_sdk:2.77.0")
    else:
        assert carried["sdk_container_image"] == IMAGE and pool["workerHarnessContainerImage"] == IMAGE
        assert pool["autoscalingSettings"]["maxNumWorkers"] == 50
    # gristmill run writes the input list into the run directory while it builds the job
    assert FileSystems.exists(f"{out}/inputs.jsonl")


def test_flex_template_launcher_runs_gristmill_run_on_dataflow(gcs, capsys):
    """deploy/dataflow/launch.py as the launcher calls it: no --runner, switches as X=true."""
    argv = [a for a in _dataflow_argv(gcs, f"gs://{BUCKET}/runs/2026-49") if not a.startswith("--runner")]
    args = launch.launcher_args(argv + ["--incremental=true", "--split_by_language=false"])
    assert args[0] == "--runner=DataflowRunner" and "--incremental" in args
    assert not any(a.startswith("--split_by_language") for a in args)
    assert launch.launcher_args(["--runner=FnApiRunner"]) == ["--runner=FnApiRunner"]
    assert run.main(args) == 0
    assert "[run] done" in capsys.readouterr().out
    assert FileSystems.exists(f"gs://{BUCKET}/runs/2026-49/inputs.jsonl")


def _metadata():
    with open(DEPLOY / "dataflow" / "metadata.json") as f:
        return json.load(f)


# one wrong value per template parameter (the right one is the "Example:" of its help text)
BAD = {"input": "/local/crawl.warc.gz", "output": "gs://my-bucket/runs/", "work_dir": "runs/work",
       "incremental": "yes", "languages": "en de", "lang_min_score": "1.5", "vocab_size": "100",
       "tokenizer_model": "gs://b/tok.vocab", "max_files": "-1", "extract_mode": "slow",
       "pii_operator": "redact", "shard_tokens": "0", "split_by_language": "1", "max_error_rate": "2",
       "run_id": "../up", "sdk_container_image": "gristmill"}


def _example(param):
    return re.search(r"Example: (\S+)$", param["helpText"]).group(1)


def test_flex_template_metadata_parameters_are_gristmill_run_options():
    params = _metadata()["parameters"]
    names = [p["name"] for p in params]
    assert len(names) == len(set(names)) and set(names) == set(BAD)
    assert {"input", "output", "work_dir", "languages", "vocab_size"} <= set(names)
    assert [p["name"] for p in params if not p.get("isOptional")] == ["input", "output"]
    for p in params:
        example = _example(p)
        for rx in p["regexes"]:
            assert re.fullmatch(rx, example), (p["name"], example)
        assert not all(re.fullmatch(rx, BAD[p["name"]]) for rx in p["regexes"]), p["name"]
    # the launcher passes each parameter as --name=value: parse them as the job does
    argv = launch.launcher_args([f"--{p['name']}={_example(p)}" for p in params])
    parsed = PipelineOptions(argv).get_all_options()
    o = PipelineOptions(argv).view_as(opts.GristmillOptions)
    assert o.input == ["gs://my-bucket/crawl/*.warc.gz"] and o.output == "gs://my-bucket/runs/2026-49"
    assert o.work_dir == "gs://my-bucket/runs/work" and o.incremental is True and o.split_by_language is False
    assert o.languages == "en,de,fr" and o.vocab_size == 32000 and o.lang_min_score == 0.65
    assert o.max_files == 100 and o.shard_tokens == 134217728 and o.max_error_rate == 0.01
    assert PipelineOptions(argv).view_as(WorkerOptions).sdk_container_image.endswith("gristmill:0.1.0")
    for name in names:
        assert name in parsed, name  # a real option of gristmill run or of Beam


def test_flex_template_spec_builds_with_gcloud():
    if not shutil.which("gcloud"):
        pytest.skip("gcloud is not installed")
    r = subprocess.run(["gcloud", "dataflow", "flex-template", "build", f"gs://{BUCKET}/templates/t.json",
                        f"--image={IMAGE}", "--sdk-language=PYTHON", "--project=my-project-123",
                        f"--metadata-file={DEPLOY / 'dataflow' / 'metadata.json'}", "--print-only"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    spec = json.loads(r.stdout.lstrip("|-\n"))
    assert spec["image"] == IMAGE and spec["sdkInfo"]["language"] == "PYTHON"
    assert [p["name"] for p in spec["metadata"]["parameters"]] == [p["name"] for p in _metadata()["parameters"]]


def test_dockerfile_matches_the_pins():
    text = (DEPLOY / "dataflow" / "Dockerfile").read_text()
    beam_pin = re.search(r"^apache-beam==(\S+)$", (ROOT / "constraints.txt").read_text(), re.M).group(1)
    assert re.search(r"^ARG BEAM_VERSION=(\S+)$", text, re.M).group(1) == beam_pin
    assert "FROM apache/beam_python3.11_sdk:${BEAM_VERSION}" in text
    assert "python311-template-launcher-base" in text and "/opt/google/dataflow/python_template_launcher" in text
    assert "-c constraints.txt" in text and 'ENTRYPOINT ["/opt/apache/beam/boot"]' in text
    py_file = re.search(r"^ENV FLEX_TEMPLATE_PYTHON_PY_FILE=/template/(\S+)$", text, re.M).group(1)
    assert (ROOT / py_file).is_file()
    for src in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.M):
        for part in src.split():
            assert (ROOT / part).exists(), part
    r = subprocess.run(["bash", "-n", str(DEPLOY / "dataflow" / "build_and_run.sh")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([str(DEPLOY / "dataflow" / "build_and_run.sh")], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.startswith("usage:") and len(r.stderr.splitlines()) == 1


# ---- Flink / Spark: the portable runners (deploy/README.md) ------------------------

FLINK = ["--runner=FlinkRunner", "--flink_master=flink-jobmanager:8081", "--flink_version=1.19",
         "--flink_job_server_jar=/opt/beam/beam-runners-flink-1.19-job-server-2.77.0.jar",
         "--environment_type=DOCKER", f"--environment_config={IMAGE}", "--parallelism=64"]
SPARK = ["--runner=SparkRunner", "--spark_master_url=spark://spark-master:7077",
         "--spark_job_server_jar=/opt/beam/beam-runners-spark-3-job-server-2.77.0.jar",
         "--environment_type=DOCKER", f"--environment_config={IMAGE}"]


def test_portable_runner_options_parse_with_the_job_options():
    job = ["--input", "crawl/*.warc.gz", "--output", "runs/2026-49", "--languages=en,de"]
    flink = PipelineOptions(FLINK + job)
    f = flink.view_as(FlinkRunnerOptions)
    assert (f.flink_master, f.flink_version, f.parallelism) == ("flink-jobmanager:8081", "1.19", 64)
    assert f.flink_job_server_jar.endswith("flink-1.19-job-server-2.77.0.jar")
    spark = PipelineOptions(SPARK + job).view_as(SparkRunnerOptions)
    assert spark.spark_master_url == "spark://spark-master:7077" and spark.spark_version == "3"
    assert spark.spark_job_server_jar.endswith("spark-3-job-server-2.77.0.jar")
    for o in (flink, PipelineOptions(SPARK + job)):
        assert o.view_as(PortableOptions).environment_type == "DOCKER"
        assert o.view_as(PortableOptions).environment_config == IMAGE
        assert o.view_as(opts.GristmillOptions).languages == "en,de"
    assert "FlinkRunner" not in run.LOCAL_RUNNERS and "SparkRunner" not in run.LOCAL_RUNNERS
    with pytest.raises(SystemExit):  # Beam knows which Flink versions it publishes job servers for
        PipelineOptions(["--flink_version=1.10"]).view_as(FlinkRunnerOptions)


def test_portable_pipeline_proto_holds_every_stage(warc, tmp_path):
    options = PipelineOptions(FLINK + ["--input", str(warc), "--output", str(tmp_path / "run"),
                                       "--languages=en,de", "--vocab-size=1000"])
    p = beam.Pipeline(options=options)
    crawl.build(p, opts.job_config(options.view_as(opts.GristmillOptions)))
    env = environments.Environment.from_options(options.view_as(PortableOptions))
    proto = p.to_runner_api(default_environment=env)  # what the Flink job server receives
    assert set(STAGES) <= set(_top_labels(proto))
    envs = list(proto.components.environments.values())
    assert envs and all(e.urn == common_urns.environments.DOCKER.urn and IMAGE.encode() in e.payload for e in envs)


def test_portable_runner_runs_the_job_through_the_job_api(warc, tmp_path):
    """`gristmill run --runner PortableRunner --job_endpoint ...` against Beam's own job
    service (the Job API that the Flink and Spark job servers serve), workers in loopback."""
    port = _free_port()
    server = _serve([sys.executable, "-m", "apache_beam.runners.portability.local_job_service_main",
                     f"--port={port}"], port)
    try:
        out = tmp_path / "run"
        r = gristmill_cli("run", "--input", warc, "--output", out, "--runner", "PortableRunner",
                          "--job_endpoint", f"localhost:{port}", "--environment_type", "LOOPBACK",
                          "--languages", "en,de,fr,es,it", "--vocab-size", 600, "--max-error-rate", 0.5)
    finally:
        server.terminate()
        server.wait(10)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["splits"]["train"] and (out / "stats.json").is_file()


# ---- trainer job specs -----------------------------------------------------------

def _train_commands(doc):
    """Every `gristmill train ...` command line in a job spec (shell strings or argv lists)."""
    found = []

    def walk(x):
        if isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            if x[:2] == ["gristmill", "train"]:
                found.append(x[2:])
            else:
                for v in x:
                    walk(v)
        elif isinstance(x, str) and "gristmill train" in x:
            for cmd in re.findall(r"gristmill train ([^;&|\n]+)", x):
                found.append(shlex.split(cmd))
    walk(doc)
    return found


@pytest.mark.parametrize("name", ["gpu-node.yaml", "tpu-slice.yaml"])
def test_trainer_specs_parse_and_their_train_flags_are_valid(name):
    pytest.importorskip("jax", reason="the train extra is not installed")
    from gristmill.model import train
    with open(DEPLOY / "trainer" / name) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    assert docs
    commands = [c for d in docs for c in _train_commands(d)]
    assert commands, f"no gristmill train command in {name}"
    for argv in commands:
        args = train.build_parser().parse_args(argv)  # SystemExit on an unknown or bad flag
        train.check_args(args)
        assert args.data and args.out.startswith("/gcs/") and args.dtype == "bfloat16"
    if name == "tpu-slice.yaml":
        job = next(d for d in docs if d.get("kind") == "Job")
        pod = job["spec"]["template"]["spec"]
        assert pod["nodeSelector"]["cloud.google.com/gke-tpu-accelerator"].startswith("tpu-")
        limits = pod["containers"][0]["resources"]["limits"]
        assert int(limits["google.com/tpu"]) >= 1
    else:
        pool = docs[0]["workerPoolSpecs"][0]
        assert pool["machineSpec"]["acceleratorCount"] == 1 and pool["replicaCount"] == 1

