# yuqing: two commands. `make run` sets up and opens the dashboard with demo data;
# `make test` sets up, runs ruff and mypy, then the test suite.
VENV ?= .venv
PYTHON ?= python3
PORT ?= 8501
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint install bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]' --config-settings editable_mode=compat
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/yuqing init --demo
	$(BIN)/yuqing serve --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Every bench script at its modest default size (each has flags for the full sizes, see its --help);
# each appends its targets to one results file, summarised in a table at the end.
bench: install
	@results=$$(mktemp); status=0; \
	for script in bench/[a-z]*.py; do echo "== $$script"; \
		BENCH_RESULTS=$$results $(BIN)/python $$script || { echo "!! $$script failed"; status=1; }; done; \
	$(BIN)/python bench/_common.py $$results; rm -f $$results; exit $$status

clean:
	rm -rf $(VENV) .pytest_cache
