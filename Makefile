# The commands people type. CMake does the building; this file only strings steps together.
#   make run    install missing packages, build, train the MNIST network, write a report
#   make test   build, then run the test suite twice: optimised, and under ASan + UBSan
#   make bench  deepc against PyTorch on the course models' training steps

SHELL      := /bin/bash
BUILD      ?= build
BUILD_SAN  ?= build-san
JOBS       ?= $(shell nproc)
DEEPC       = $(BUILD)/deepc

.PHONY: all deps build build-san run test test-fast test-san bench clean

all: build

deps:
	@scripts/install-deps

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release > /dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-san: deps
	@cmake -S . -B $(BUILD_SAN) -DCMAKE_BUILD_TYPE=Debug -DDC_SANITIZE=ON \
	    -DDC_NATIVE=OFF > /dev/null
	@cmake --build $(BUILD_SAN) -j $(JOBS)

run: build
	$(DEEPC) run mnist-mlp

# DEEPC_DATA points the end-to-end tests at the shared datasets when they sit beside
# the checkout (as in CI); tests whose data is absent say so loudly and skip.
SHARED_DATA := $(abspath ../shared/data)
export DEEPC_DATA ?= $(if $(wildcard $(SHARED_DATA)),$(SHARED_DATA),$(abspath data))

test: test-fast test-san

test-fast: build
	$(BUILD)/deepc_tests --jobs 2

# Under the sanitizers the slow end-to-end runs are left to test-fast. Criterion counts a
# test as passed even when LeakSanitizer reports at its exit, so the log is searched too.
test-san: build-san
	set -o pipefail; ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp) \
	    $(BUILD_SAN)/deepc_tests --jobs 2 --filter '!(e2e/*)' 2>&1 | tee $(BUILD_SAN)/test.log
	@! grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error' $(BUILD_SAN)/test.log \
	    || { echo "sanitizer reports above"; exit 1; }

bench: build
	/usr/bin/python3 bench/compare mlp dog gru lstm

clean:
	rm -rf $(BUILD) $(BUILD_SAN)
