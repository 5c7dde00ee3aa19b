# Set-up is part of every target: a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
# pip prints "Location ... is ignored" for local mirror folders it cannot use, and the build backend
# warns about editable installs on every install; keep the output short.
PIPQ   := PYTHONWARNINGS=ignore $(PIP) install --quiet --disable-pip-version-check
QUIET  := 2>&1 | { grep -v "^WARNING: Location '.*' is ignored" || true; }
SHELL  := /bin/bash
.SHELLFLAGS := -o pipefail -c

.PHONY: demo test bench lint typecheck clean install fuzz

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Runtime install (what `make demo` needs).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIPQ) -e . $(QUIET)
	touch $@

# Test install: dev tools plus the optional extras the tests exercise (torch 2.13.0 is the CPU
# build on this machine's disk; any other version would pull a multi-GB CUDA build).
$(VENV)/.installed-test: $(VENV)/.installed
	$(PIPQ) -e '.[dev,dask]' 'torch==2.13.0' $(QUIET)
	touch $@

# Benchmark install: the peers of the side-by-side run (skrub, cleanlab's datalab extra); never
# needed by `make test` or `make demo`.
$(VENV)/.installed-bench: $(VENV)/.installed-test
	$(PIPQ) -e '.[bench,dev,dask]' 'torch==2.13.0' $(QUIET)
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/dataaudit demo

# make test is what CI runs: lint and type checks first, then the suite.
test: $(VENV)/.installed-test
	$(BIN)/ruff check dataaudit tests benchmarks
	$(BIN)/mypy dataaudit
	$(BIN)/python -m pytest -q

# The fuzz hunt: the suite in tests/fuzz with random (not derandomized) examples, FUZZ_SCALE
# times as many as `make test` runs (default 20: about 20-30 minutes on 2 cores). Failing
# examples are kept in .hypothesis/ and replayed first next time.
FUZZ_SCALE ?= 20
fuzz: $(VENV)/.installed-test
	HYPOTHESIS_PROFILE=fuzz FUZZ_SCALE=$(FUZZ_SCALE) $(BIN)/python -m pytest tests/fuzz -q

# The side-by-side table (10k / 100k / 1M rows), the suspect-label quality table and near-copy P / R;
# options through BENCH_ARGS, e.g. make bench BENCH_ARGS="--rows 10000 --seeds 2".
BENCH_ARGS ?=
bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check dataaudit tests benchmarks
	$(BIN)/mypy dataaudit

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
