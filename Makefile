# Two commands set everything up on a fresh machine:
#   make demo   builds a venv, installs bd-vpt, builds a demo repo and prints its summary
#   make test   builds the venv if needed and runs the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= build/demo

CHROMIUM ?= /usr/bin/chromium

.PHONY: demo test lint format bench clean chromium screenshot

$(STAMP): pyproject.toml setup.py $(wildcard bd_vpt/ledger/lane/*) $(wildcard bd_vpt/economics/compiled/*) \
    $(wildcard bd_vpt/capture/lane/*)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	rm -rf $(DEMO_DIR)
	$(BIN)/bd-vpt demo $(DEMO_DIR)

# The dashboard tests drive a real headless Chromium: Debian's package, installed when missing
# (as root, or through sudo). CI runs this before `make test`.
chromium:
	@if [ -x "$(CHROMIUM)" ] || command -v chromium >/dev/null 2>&1; then \
	  echo "chromium: $$(command -v chromium || echo $(CHROMIUM))"; \
	else \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo"; \
	  echo "installing Debian's chromium package for the dashboard tests"; \
	  $$sudo apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q --no-install-recommends chromium; \
	fi

# docs/dashboard.png, the README's screenshot: the demo's dashboard in headless Chromium
screenshot: demo chromium
	$(BIN)/python -m tests.browser $(DEMO_DIR)/vpt-dashboard.html docs/dashboard.png

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check bd_vpt tests bench
	$(BIN)/ruff format --check bd_vpt tests bench
	$(BIN)/mypy
	$(BIN)/actionlint -shellcheck=$(BIN)/shellcheck .github/workflows/*.yml docs/examples/*.yml

format: $(STAMP)
	$(BIN)/ruff check --fix bd_vpt tests bench
	$(BIN)/ruff format bd_vpt tests bench

# the bench times the installed package (not an editable one) with its bytecode compiled,
# in a venv of its own with the bench-only dependencies (DuckDB, the anchor)
BENCH_VENV ?= build/bench-venv
bench:
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check '.[bench]'
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps --force-reinstall .
	$(BENCH_VENV)/bin/python -m compileall -q $(BENCH_VENV)/lib
	$(BENCH_VENV)/bin/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache *.egg-info
