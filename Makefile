# A fresh clone needs two commands: `make serve` (install, serve sample_profiles on
# http://127.0.0.1:8080) and `make test` (install with the test extra, run the tests this machine
# can run).  `make test-all` also sets up PostgreSQL and Chromium (as CI does) and runs every test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# pip runs again only when pyproject.toml changes (the install is editable: code needs none).
INSTALLED      := $(VENV)/.installed-test
INSTALLED_BASE := $(VENV)/.installed-base

.PHONY: serve test test-all lint bench install docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(INSTALLED_BASE)

$(INSTALLED_BASE): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

install:
	rm -f $(INSTALLED)
	$(MAKE) $(INSTALLED)

serve: $(INSTALLED_BASE)
	# git does not keep file modes: the files that hold passwords are for the server's user only
	chmod 600 sample_profiles/credentials.htdigest* sample_profiles/admins.toml \
		sample_profiles/devices/*.toml sample_profiles/em_profiles/*.toml
	$(BIN)/spaprov serve --profiles sample_profiles

test: $(INSTALLED)
	$(BIN)/python -m pytest

# Installs and starts Debian's PostgreSQL and Chromium (sudo when not root), then `make test`.
test-all:
	.ci/run tests

lint: $(INSTALLED)
	$(BIN)/ruff check spaprov tests bench docs/hooks
	$(BIN)/ruff format --check spaprov tests bench docs/hooks
	$(BIN)/mypy

bench: $(INSTALLED)
	$(BIN)/python bench/rules.py
	$(BIN)/python bench/digest.py
	$(BIN)/python bench/serve.py
	$(BIN)/python bench/storm.py
	$(BIN)/python bench/tftp.py

# The documentation site, into build/site: strict (any warning, a broken link or anchor included,
# fails); the API reference is generated from the server's OpenAPI document as it builds.
docs: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	$(BIN)/mkdocs build --strict
