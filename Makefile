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

# The tests wait more than they compute (the fake server's jobs, timers, CLI subprocesses): six workers keep two
# cores busy (pytest alone, 1,286 tests on 2 idle cores: 3 workers 200 s, 4 167 s, 6 149 s; 6 with a CPU burner
# beside them 185 s, all passed). --dist loadgroup hands tests out one by one; tests/conftest.py keeps together
# those that share a module fixture or a fixed path, and puts pytest's temp root in memory (/dev/shm).
TEST_WORKERS ?= 6

# Python writes its bytecode (some machines turn that off with PYTHONDONTWRITEBYTECODE=1): pytest then keeps each
# test module's rewritten asserts, which a first collection (beside lint) writes once for the six workers: each
# worker rewrote all of them, ~5.6 CPU-s apiece (collecting alone on a fresh clone, paired runs: 36 CPU-s and 18 s
# with six workers rewriting, 21 CPU-s and 14 s with one collection first).
# lint runs beside the tests (its output printed after them): either failing fails the target
test: export PYTHONDONTWRITEBYTECODE=
test: $(STAMP)
	@lint_log=$$(mktemp); \
	$(MAKE) --no-print-directory lint > $$lint_log 2>&1 & lint_pid=$$!; \
	$(BIN)/python -m pytest -q -p no:cacheprovider --collect-only > /dev/null 2>&1; \
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadgroup; tests=$$?; \
	wait $$lint_pid; lint=$$?; \
	echo "== make lint (ruff, mypy, import contract), run beside the tests:"; cat $$lint_log; rm -f $$lint_log; \
	if [ $$lint -ne 0 ]; then echo "make lint failed"; fi; \
	[ $$tests -eq 0 ] && [ $$lint -eq 0 ]

bench: $(STAMP)
	@for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

fake-server: $(STAMP)
	$(BIN)/seedream-tui fake-server --port 8787

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
