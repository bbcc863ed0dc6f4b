# Two entry points: `make demo` (set up, compile a transformer block, compare with eager)
# and `make test` (set up, run the test suite). Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: setup demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first and pinned: the CPU build on disk; an unpinned torch pulls CUDA wheels.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(PY) -m ember.demo

test: setup
	$(PY) -m pytest -q -p no:cacheprovider

$(BENCH_STAMP): $(STAMP)
	# torch stays pinned: the bench extras must not move it.
	$(PY) -m pip install -q -e '.[test,bench]' torch==2.13.0
	touch $(BENCH_STAMP)

# The full suite and the transformers models, with Inductor; results in bench/results/.
bench: $(BENCH_STAMP)
	$(PY) bench/run.py --models $(BENCH_ARGS)

clean:
	rm -rf $(VENV) dumps .pytest_cache
