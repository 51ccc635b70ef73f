# The two set-up commands of the README: `make demo` and `make test`. Both create the virtual
# environment on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SAMPLE_DIR ?= sample_data
TARGET ?= duckdb

.PHONY: demo test load build docs lint bench clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

demo: $(STAMP)  ## set up, write sample data, land it and build the marts on DuckDB (TARGET=postgres or TARGET=spark)
	$(BIN)/python -m extract.samples $(SAMPLE_DIR)
	$(MAKE) --no-print-directory load build PATHS=$(SAMPLE_DIR)

test: $(STAMP)  ## set up and run the whole test suite (DuckDB, Postgres and a local Spark)
	$(BIN)/python -m pytest

load: $(STAMP)  ## land PATHS (default: the sample data) on TARGET
	$(BIN)/python extract/run.py --target $(TARGET) $(or $(PATHS),$(SAMPLE_DIR))

build: $(STAMP)  ## dbt build (models, seeds and data tests; unit tests run in `make test`) on TARGET
	$(if $(filter spark,$(TARGET)),$(BIN)/python -m extract.spark_check)
	$(BIN)/dbt build --target $(TARGET) --exclude-resource-type unit_test

docs: $(STAMP)  ## generate and serve the dbt docs site on http://localhost:8080
	$(BIN)/dbt docs generate --target $(TARGET)
	$(BIN)/dbt docs serve --target $(TARGET) --port 8080

bench: $(STAMP)  ## the load benchmark of docs/benchmarks.md (BENCH_ARGS=--help)
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python bench/run.py $(BENCH_ARGS)

lint: $(STAMP)  ## ruff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

clean:  ## remove generated data, warehouses and dbt artefacts (keeps the venv)
	rm -rf $(SAMPLE_DIR) warehouse target logs
