# The two commands a new user needs are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Run ekort on SQLite with demo data at http://127.0.0.1:8000/
run: $(STAMP)
	$(BIN)/ekort start

## Lint, types, import contracts, migrations, docs, then the suite on SQLite and PostgreSQL.
test: $(STAMP)
	scripts/test

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
