VENV ?= .venv
# pytest processes (pytest-xdist): 0 runs the suite in this one. `make test PYTEST_WORKERS=2`
# takes ~19 min instead of ~28 on the 2-core VM, but there two browser/WebSocket tests timed out
# once under the doubled load (2026-12-05), so CI keeps to one.
PYTEST_WORKERS ?= 0
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint install clean

$(PY):
	python3 -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Start Beacon on http://127.0.0.1:8000 (SQLite under ./.beacon, everything in one process).
run: $(STAMP)
	$(VENV)/bin/beacon serve

## Install and run the whole suite (PostgreSQL and Redis tests need the services; see README).
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadfile

clean:
	rm -rf $(VENV) .beacon
