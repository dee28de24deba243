# ShieldX front door. `make up` brings the local suite up; `make test` runs every test.
SHELL := /bin/bash
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
# Let ccache reuse objects across checkouts in different directories (CI clones afresh).
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true
export CCACHE_MAXSIZE ?= 5G

.PHONY: deps configure build test test-unit test-integration up down status clean format bench

deps:
	@bash scripts/install-deps.sh

configure: deps
	@if [ ! -f $(BUILD_DIR)/build.ninja ]; then \
	  cmake -G Ninja -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null; fi

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# Every test: unit, service and integration (real PostgreSQL / Redis / S3 / Prometheus).
test: build
	@bash scripts/run-tests.sh $(BUILD_DIR)

test-unit: build
	@cd $(BUILD_DIR) && ctest -L unit --output-on-failure -j $(JOBS)

test-integration: build
	@cd $(BUILD_DIR) && ctest -L integration --output-on-failure

up: build
	@bash scripts/stack.sh up

down:
	@bash scripts/stack.sh down

status:
	@bash scripts/stack.sh status

# Benchmarks (not part of `make test`); see docs/benchmarks.md for how each is run.
bench: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target bench_detect

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
