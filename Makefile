# Two entry points: `make demo` and `make test`. Both set up .venv first
# (a no-op when setup.py and constraints.txt have not changed).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := out/demo
PAGES  ?= 2000
STEPS  ?= 300

.PHONY: demo test test-deploy install clean

install: $(STAMP)

$(STAMP): setup.py constraints.txt
	@echo "== setting up $(VENV) (pinned: setup.py + constraints.txt)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[train,dev,gcp,aws]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m gristmill.pipelines.demo --workdir $(DEMO) --pages $(PAGES) --steps $(STEPS)

test: $(STAMP)
	$(BIN)/python -m pytest -q tests

# The Airflow DAG (deploy/airflow) loaded by real Airflow in its own virtualenv (no
# gristmill in it); AIRFLOW_HOME is a temporary folder, nothing is downloaded at test time.
DEPLOY_VENV  := .venv-deploy
DEPLOY_STAMP := $(DEPLOY_VENV)/.installed

$(DEPLOY_STAMP): deploy/airflow/requirements.txt deploy/airflow/constraints.txt
	@echo "== setting up $(DEPLOY_VENV) (pinned: deploy/airflow/requirements.txt + constraints.txt)"
	test -x $(DEPLOY_VENV)/bin/python || $(PYTHON) -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/pip install --quiet --disable-pip-version-check -r deploy/airflow/requirements.txt -c deploy/airflow/constraints.txt
	touch $(DEPLOY_STAMP)

test-deploy: $(DEPLOY_STAMP)
	@home=$$(mktemp -d); AIRFLOW_HOME=$$home AIRFLOW__CORE__LOAD_EXAMPLES=False \
	  $(DEPLOY_VENV)/bin/python -m pytest -q -p no:cacheprovider deploy/airflow/test_dag.py; \
	  rc=$$?; rm -rf $$home; exit $$rc

clean:
	rm -rf $(VENV) out
