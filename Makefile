# Thin wrapper over CMake for the two set-up commands; CMake is the build.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)

.PHONY: all deps build check demo asan-check bench bench-proxy clean

all: build

deps:
	@./scripts/install-deps

build: deps
	@cmake -S . -B $(BUILD) -DOMBX_WERROR=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

check: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: build
	@./scripts/demo $(BUILD)/omnibox/omnibox

asan-check: deps
	@cmake -S . -B $(ASAN_BUILD) -DOMBX_WERROR=ON -DOMBX_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)

bench: build
	@./bench/launch $(BUILD)/omnibox/omnibox

bench-proxy: build
	@./bench/proxy $(BUILD)/omnibox/omnibox

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
