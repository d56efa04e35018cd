"""The weekly DAG loaded by real Airflow (run in .venv-deploy: `make test-deploy`).

Offline: AIRFLOW_HOME is a temporary folder (the Makefile sets it), DagBag parses the
DAG file without a metadata database. Airflow 3.3's DagBag has no include_examples
argument: the examples are off by AIRFLOW__CORE__LOAD_EXAMPLES=False.
"""
import os
import sys

import pytest

os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
DagBag = pytest.importorskip("airflow.dag_processing.dagbag", reason="Airflow is in .venv-deploy: make test-deploy").DagBag

HERE = os.path.dirname(os.path.abspath(__file__))
ORDER = ["pending_inputs", "run_pipeline", "verify_and_promote", "train_enabled", "launch_trainer"]


def _dag():
    bag = DagBag(dag_folder=os.path.join(HERE, "gristmill_weekly.py"))
    assert not bag.import_errors, bag.import_errors
    assert "gristmill_weekly" in bag.dags, sorted(bag.dags)
    return bag.dags["gristmill_weekly"]


def test_dag_loads_with_its_schedule_and_task_order():
    dag = _dag()
    assert dag.schedule == "0 3 * * 1" and dag.timetable.expression == "0 3 * * 1"  # Mondays 03:00
    assert type(dag.timetable).__name__ == "CronTriggerTimetable" and str(dag.timetable.timezone) == "UTC"
    assert not dag.catchup and dag.max_active_runs == 1
    assert sorted(dag.task_ids) == sorted(ORDER)
    for up, down in zip(ORDER, ORDER[1:]):
        assert dag.get_task(up).downstream_task_ids == {down}, up
    assert dag.get_task("launch_trainer").downstream_task_ids == set()
    assert dict(dag.params)["train"] is False and dict(dag.params)["vocab_size"] == 32000


def test_flex_template_task_carries_the_run_parameters():
    task = _dag().get_task("run_pipeline")
    assert type(task).__name__ == "DataflowStartFlexTemplateOperator" and task.wait_until_finished
    params = task.body["launchParameter"]["parameters"]
    # the names are parameters of deploy/dataflow/metadata.json (tests/test_deploy.py checks those)
    assert set(params) == {"input", "output", "work_dir", "languages", "vocab_size", "sdk_container_image"}
    assert params["work_dir"].endswith("/runs/work") and "/runs/" in params["output"]
    assert "verify" in _dag().get_task("verify_and_promote").bash_command
    assert "--promote" in _dag().get_task("verify_and_promote").bash_command
    assert "gcloud ai custom-jobs create" in _dag().get_task("launch_trainer").bash_command


def test_pending_inputs_skip_what_the_ledger_lists():
    sys.path.insert(0, HERE)
    import gristmill_weekly as w
    ledger = '{"path": "gs://b/crawl/a.warc.gz", "key": "k1"}\n\n{"path": "gs://b/crawl/c.warc.gz", "key": "k2"}\n'
    listed = ["gs://b/crawl/a.warc.gz", "gs://b/crawl/b.warc.gz", "gs://b/crawl/c.warc.gz", "gs://b/crawl/d.warc.gz"]
    assert w.pending(listed, ledger) == ["gs://b/crawl/b.warc.gz", "gs://b/crawl/d.warc.gz"]
    assert w.pending(listed, "") == listed  # no ledger yet: everything is pending
    assert w.split_gs("gs://b/crawl/*.warc.gz") == ("b", "crawl/*.warc.gz")


def test_templates_parse_and_the_run_name_is_the_iso_week():
    import jinja2
    import pendulum
    sys.path.insert(0, HERE)
    import gristmill_weekly as w
    dag = _dag()
    env = jinja2.Environment()
    for task in dag.tasks:
        for field in task.template_fields:
            value = getattr(task, field)
            strings = [value] if isinstance(value, str) else []
            if field == "body":
                strings = [v for lp in [value["launchParameter"]] for v in
                           [lp["jobName"], lp["containerSpecGcsPath"], *lp["parameters"].values(),
                            *lp["environment"].values()]]
            for s in strings:
                env.parse(s)  # a Jinja syntax error fails here
    run = env.from_string(w.RUN)
    assert run.render(logical_date=pendulum.datetime(2026, 12, 3, tz="UTC"), dag_run=None) == "2026-49"
    assert run.render(logical_date=pendulum.datetime(2027, 1, 1, tz="UTC"), dag_run=None) == "2026-53"

