# Everything a fresh machine needs: `make demo` and `make test` create the
# virtual environment and install what they use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Reinstall when pyproject.toml changes.
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test lint typecheck pytest bench bench-sqlite bench-postgres bench-redis chaos clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

demo: $(STAMP)
	$(BIN)/python examples/demo.py

dashboard-demo: $(STAMP)
	$(BIN)/python examples/dashboard_demo.py

# Debian's Chromium for the dashboard's browser test (idempotent; needs root or sudo).
browser:
	bash scripts/install-browser.sh

dashboard-screenshots: $(STAMP) browser
	$(BIN)/python scripts/screenshot.py

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests examples bench
	$(BIN)/ruff format --check src tests examples bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

bench-sqlite: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python -m bench.sqlite

# Procrastinate and SAQ go into .bench/venv-postgres, made by the script.
bench-postgres: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python -m bench.postgres

# arq, SAQ, RQ, Dramatiq and Celery go into .bench/venv-redis, made by the script.
bench-redis: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python -m bench.redis

bench: bench-sqlite bench-postgres bench-redis

clean:
	rm -rf $(VENV) .bench .pytest_cache .mypy_cache .ruff_cache

# The long fault-injection run on every backend (figures: docs/reliability.md).
chaos: $(STAMP)
	$(BIN)/python -m tests.chaos.harness --backend all --jobs 20000 --duration 120
