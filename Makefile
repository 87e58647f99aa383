# The two commands of the README (`make demo`, `make test`), `make lint`, and
# `make check`: lint and the fast unit tests, the lane to run while working.
# Each creates .venv on first use from the pinned constraints.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test check lint format bench clean

$(BIN)/naver-sms: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

node_modules/.bin/dynalite: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: $(BIN)/naver-sms
	$(BIN)/naver-sms demo

test: $(BIN)/naver-sms node_modules/.bin/dynalite
	$(BIN)/pytest

# Under 30 s on a 2-core machine: Hypothesis's dev profile (few examples), no
# coverage, and no test marked slow (time-zone re-runs, cfn-lint); `make test` runs those.
check: lint
	$(BIN)/pytest tests/unit -m "not slow" --no-cov -q

lint: $(BIN)/naver-sms
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/ruff check src tests bench tools
	$(BIN)/mypy

format: $(BIN)/naver-sms
	$(BIN)/ruff format src tests bench tools
	$(BIN)/ruff check --fix src tests bench tools

bench: $(BIN)/naver-sms node_modules/.bin/dynalite
	$(BIN)/python bench/startup_bench.py
	$(BIN)/python bench/lambda_bench.py
	$(BIN)/python bench/store_bench.py
	$(BIN)/python bench/cycle_bench.py
	$(BIN)/python bench/cycle_bench.py --store moto_server
	$(BIN)/python bench/cycle_bench.py --store sqlite
	$(BIN)/python bench/scale_bench.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache .coverage
