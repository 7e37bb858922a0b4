# Two commands set everything up on a fresh machine:
#   make run    creates .venv, installs babelir, runs `babelir quickstart`
#   make test   installs the test extras, runs the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export OMP_NUM_THREADS ?= $(shell nproc 2>/dev/null || echo 2)

SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# what the browser tests need from Debian: a headless browser, its driver, fonts for every script
DEBIAN_TEST_PACKAGES := chromium chromium-driver fonts-noto-core fonts-noto-cjk

.PHONY: run test test-fast test-full install install-test system-test-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml src/babelir/index/_native.c | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[all-languages,ann,serve,judge,abstain]'
	touch $@

# torch first, pinned: the local CPU build (any other spec pulls the CUDA wheels); then the hf
# extra (transformers, sentence-transformers) that the hf:/st: encoder tests need
$(VENV)/.installed-test: pyproject.toml src/babelir/index/_native.c $(VENV)/.installed
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[all-languages,ann,serve,hf,train,judge,abstain,milvus,ray,test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/babelir quickstart

system-test-deps:
	@dpkg -s $(DEBIAN_TEST_PACKAGES) >/dev/null 2>&1 || { \
	  echo "installing $(DEBIAN_TEST_PACKAGES) (apt)"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEBIAN_TEST_PACKAGES); }

test: install-test system-test-deps
	BABELIR_REQUIRE_BROWSER=1 $(BIN)/python -m pytest

test-fast: install-test system-test-deps
	BABELIR_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -m "not slow and not full"

test-full: install-test
	$(BIN)/python -m pytest -m full

clean:
	rm -rf $(VENV) babelir-quickstart .pytest_cache
