PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# One stamp per set of packages, so that `make run` and `make test` share one venv in any order:
# `make run` installs what the app needs (dlopt with its data sets), `make test` adds the
# development extra (pytest, ruff, mypy, hypothesis, NVVM for the PTX check) on top.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[datasets]'
	touch $@

$(DEV_STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# `make bench` adds the peers it compares with (JAX) on top of the development extra
$(BENCH_STAMP): $(DEV_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

run: $(RUN_STAMP)
	$(BIN)/dlopt

# the tests run after the lint: style, format and types first (the CI calls only `make test`)
test: lint
	$(BIN)/python -m pytest

lint: $(DEV_STAMP)
	$(BIN)/ruff check dlopt_core app tests benchmarks docs
	$(BIN)/ruff format --check dlopt_core app tests benchmarks docs
	$(BIN)/mypy

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/bench_core.py

clean:
	rm -rf $(VENV) build *.egg-info
