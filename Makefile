# Two commands set everything up on a fresh machine:
#   make run    creates .venv, installs babelir, runs `babelir quickstart`
#   make test   installs the test extras, runs the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export OMP_NUM_THREADS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: run test test-fast test-full install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[all-languages,ann]'
	touch $@

# torch first, pinned: the local CPU build (any other spec pulls the CUDA wheels); then the hf
# extra (transformers, sentence-transformers) that the hf:/st: encoder tests need
$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[all-languages,ann,hf,test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/babelir quickstart

test: install-test
	$(BIN)/python -m pytest

test-fast: install-test
	$(BIN)/python -m pytest -m "not slow and not full"

test-full: install-test
	$(BIN)/python -m pytest -m full

clean:
	rm -rf $(VENV) babelir-quickstart .pytest_cache
