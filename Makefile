# Two entry points a fresh clone needs: `make test` (install + every test) and `make lint`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: test lint bench install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check spaprov tests bench
	$(BIN)/ruff format --check spaprov tests bench
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/rules.py
	$(BIN)/python bench/digest.py
