# Two entry points: `make demo` and `make test`. Both set up .venv first
# (a no-op when setup.py and constraints.txt have not changed).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := out/demo
PAGES  ?= 2000
STEPS  ?= 300

.PHONY: demo test install clean

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

clean:
	rm -rf $(VENV) out
