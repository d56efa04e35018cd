"""gristmill, weekly (Airflow 3 / Cloud Composer).

    pending_inputs -> run_pipeline -> verify_and_promote -> train_enabled -> launch_trainer

- pending_inputs: the crawl files matching the input glob that the ledger of the work
  folder (<runs>/work/ledger.jsonl, one JSON line per processed input, with "path")
  does not list; a missing ledger is an empty one. None pending: the rest is skipped.
- run_pipeline: the gristmill Flex Template (deploy/dataflow) over all the inputs with
  work_dir=<runs>/work, so what earlier runs processed is reused, not processed again;
  the run directory is <runs>/<ISO year>-<ISO week>. Waits for the Dataflow job.
- verify_and_promote: `gristmill verify RUN_DIR --promote`: checks every shard, then
  points <runs>/latest at the run. gristmill verify reads local paths, so it runs on
  the run directory as mounted on the worker (variable gristmill_runs_mount; on Composer
  gs://<environment bucket>/data is mounted at /home/airflow/gcs/data) and needs the
  gristmill package on the worker (variable gristmill_cli: the command to call it).
- train_enabled / launch_trainer: only with the param train=true, a Vertex AI custom
  job from deploy/trainer/gpu-node.yaml (`gcloud ai custom-jobs create`), which trains
  on whatever <runs>/latest names.

Settings of the environment are Airflow Variables (read when a task runs, with the
defaults below); settings of a run are params (trigger with a config to change them).
"""
from __future__ import annotations

import json
import os

import pendulum
from airflow.providers.google.cloud.operators.dataflow import DataflowStartFlexTemplateOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Param, task

DEFAULTS = {
    "gristmill_project": "my-project",
    "gristmill_region": "europe-west4",
    "gristmill_bucket": "my-bucket",
    "gristmill_input": "gs://my-bucket/crawl/*.warc.gz",
    "gristmill_template": "gs://my-bucket/templates/gristmill-latest.json",
    "gristmill_image": "europe-west4-docker.pkg.dev/my-project/gristmill/gristmill:latest",
    "gristmill_runs_mount": "/home/airflow/gcs/data/runs",
    "gristmill_cli": "gristmill",
    "gristmill_trainer_config": os.path.join(os.path.dirname(os.path.abspath(__file__)), "gpu-node.yaml"),
}


def var(name: str) -> str:
    """A Jinja reference to an Airflow Variable, with its default."""
    return "{{ var.value.get(%r, %r) }}" % (name, DEFAULTS[name])


RUN = "{{ (logical_date or dag_run.run_after).strftime('%G-%V') }}"  # e.g. 2026-49
RUNS = "gs://" + var("gristmill_bucket") + "/runs"


def ledger_paths(text: str) -> set[str]:
    """The input paths a ledger (JSON lines with "path") lists."""
    return {json.loads(line)["path"] for line in text.splitlines() if line.strip()}


def pending(listed: list[str], ledger_text: str) -> list[str]:
    """The listed inputs the ledger does not name, in order."""
    done = ledger_paths(ledger_text)
    return [p for p in listed if p not in done]


def split_gs(url: str) -> tuple[str, str]:
    if not url.startswith("gs://") or "/" not in url[5:]:
        raise ValueError(f"not a gs://bucket/object path: {url}")
    bucket, _, obj = url[5:].partition("/")
    return bucket, obj


with DAG(
    dag_id="gristmill_weekly",
    description="Weekly gristmill run over the new crawl files, verified, promoted, optionally trained on",
    schedule="0 3 * * 1",  # Mondays 03:00 UTC
    start_date=pendulum.datetime(2026, 1, 5, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["gristmill"],
    params={
        "languages": Param("en", type="string", description="languages to keep (gristmill run --languages)"),
        "vocab_size": Param(32000, type="integer", minimum=512, description="tokenizer vocabulary"),
        "train": Param(False, type="boolean", description="launch the trainer after promotion"),
    },
) as dag:

    @task.short_circuit
    def pending_inputs() -> list[str]:
        """The input files not yet in the ledger (an empty list skips the rest)."""
        from airflow.providers.google.cloud.hooks.gcs import GCSHook
        from airflow.sdk import Variable

        get = lambda name: Variable.get(name, default=DEFAULTS[name])  # noqa: E731
        gcs = GCSHook()
        bucket, glob = split_gs(get("gristmill_input"))
        listed = [f"gs://{bucket}/{o}" for o in gcs.list(bucket, match_glob=glob)]
        ledger = "runs/work/ledger.jsonl"
        runs_bucket = get("gristmill_bucket")
        text = gcs.download(runs_bucket, ledger).decode() if gcs.exists(runs_bucket, ledger) else ""
        new = pending(listed, text)
        print(f"{len(listed)} input file(s), {len(listed) - len(new)} in the ledger, {len(new)} pending")
        return new

    run_pipeline = DataflowStartFlexTemplateOperator(
        task_id="run_pipeline",
        project_id=var("gristmill_project"),
        location=var("gristmill_region"),
        wait_until_finished=True,
        body={"launchParameter": {
            "jobName": "gristmill-" + RUN,
            "containerSpecGcsPath": var("gristmill_template"),
            "parameters": {
                "input": var("gristmill_input"),
                "output": RUNS + "/" + RUN,
                "work_dir": RUNS + "/work",
                "languages": "{{ params.languages }}",
                "vocab_size": "{{ params.vocab_size }}",
                "sdk_container_image": var("gristmill_image"),
            },
            "environment": {"tempLocation": "gs://" + var("gristmill_bucket") + "/tmp"},
        }},
    )

    verify_and_promote = BashOperator(
        task_id="verify_and_promote",
        bash_command=var("gristmill_cli") + " verify " + var("gristmill_runs_mount") + "/" + RUN + " --promote",
    )

    @task.short_circuit
    def train_enabled(params=None) -> bool:
        return bool(params["train"])

    launch_trainer = BashOperator(
        task_id="launch_trainer",
        bash_command=("gcloud ai custom-jobs create --project " + var("gristmill_project")
                      + " --region " + var("gristmill_region") + " --display-name gristmill-train-" + RUN
                      + " --config " + var("gristmill_trainer_config")),
    )

    pending_inputs() >> run_pipeline >> verify_and_promote >> train_enabled() >> launch_trainer
