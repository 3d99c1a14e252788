# Every target works on a fresh clone: it creates .venv and installs the package first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint bench fake-server clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/seedream-tui --demo

lint: $(STAMP)
	$(BIN)/ruff check seedream_tui tests bench
	$(BIN)/mypy
	$(BIN)/python tests/test_import_contract.py

test: $(STAMP) lint
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2 --dist loadfile

bench: $(STAMP)
	@for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

fake-server: $(STAMP)
	$(BIN)/seedream-tui fake-server --port 8787

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
