# The two commands a new user needs are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The browser tests use Debian's /usr/bin/chromium; Playwright must not fetch its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: run test check install clean translations bench prod-check

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

## The production stack of deploy/ on this machine (nginx, gunicorn, two OCSP responders,
## PostgreSQL, the scheduled work) and a smoke test through nginx; docs/operations.md.
prod-check: $(STAMP)
	scripts/prod-check

## Benchmarks (bench/): a table and var/bench/latest.json; BENCH_ARGS=--quick for a short run.
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

## Collect the portal's Swedish strings into the English catalogue and compile it (needs gettext).
translations: $(STAMP)
	cd src/ekort && ../../$(BIN)/python -m django makemessages -l en --no-location \
		--settings=ekort.settings && ../../$(BIN)/python -m django compilemessages \
		--settings=ekort.settings

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
