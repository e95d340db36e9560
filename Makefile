# A fresh clone needs two commands: `make serve` (install, serve sample_profiles on
# http://127.0.0.1:8080) and `make test` (install with the test extra, run every test).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: serve test lint bench install docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'

serve: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	# git does not keep file modes: the files that hold passwords are for the server's user only
	chmod 600 sample_profiles/credentials.htdigest* sample_profiles/admins.toml \
		sample_profiles/devices/*.toml sample_profiles/em_profiles/*.toml
	$(BIN)/spaprov serve --profiles sample_profiles

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check spaprov tests bench docs/hooks
	$(BIN)/ruff format --check spaprov tests bench docs/hooks
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/rules.py
	$(BIN)/python bench/digest.py
	$(BIN)/python bench/serve.py
	$(BIN)/python bench/storm.py

# The documentation site, into build/site: strict (any warning, a broken link or anchor included,
# fails); the API reference is generated from the server's OpenAPI document as it builds.
docs: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	$(BIN)/mkdocs build --strict
