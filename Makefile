# greenfork — the two quick-start commands and friends.
#   make run    install what is needed, build, serve examples/hello on :8000
#   make test   install what is needed, build (warnings are errors), run every test
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
JOBS       ?= $(shell nproc)
HOST       ?= 127.0.0.1
PORT       ?= 8000
CMAKE_FLAGS ?=

# ccache, when the machine has it, shares compiled objects between the
# three build folders and between clones (paths are taken relative to the
# checkout). Nothing depends on it: without it the builds are plain.
ifneq ($(shell command -v ccache 2>/dev/null),)
CMAKE_FLAGS += -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1
endif

.PHONY: all deps deps-test build test test-asan test-tsan test-all run bench clean

all: build

deps:
	@bash scripts/install-deps.sh

deps-test:
	@bash scripts/install-deps.sh --test

build: deps
	cmake -S . -B $(BUILD) -DGF_WERROR=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j$(JOBS)

test: deps-test
	cmake -S . -B $(BUILD) -DGF_WERROR=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j$(JOBS)
	cd $(BUILD) && ctest --output-on-failure --timeout 600

test-asan: deps-test
	cmake -S . -B $(ASAN_BUILD) -DGF_WERROR=ON -DGF_SANITIZE=ON $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure --timeout 900

# ThreadSanitizer over the unit and component tests (GoogleTest binaries,
# label "unit"): the threads that share state live in one process there.
# control_server_test is left out: it runs Debian's gRPC, which is not built
# with TSan (tests/tsan.supp says why that cannot be suppressed usefully).
test-tsan: deps-test
	cmake -S . -B $(TSAN_BUILD) -DGF_WERROR=ON -DGF_TSAN=ON $(CMAKE_FLAGS)
	cmake --build $(TSAN_BUILD) -j$(JOBS) --target gf_unit_tests
	cd $(TSAN_BUILD) && ctest -L unit -E '^control_server_test$$' --output-on-failure --timeout 600

# What CI runs: every test, then the ASan/UBSan build of every test, then
# the TSan build of the unit and component tests.
test-all: test test-asan test-tsan

run: build
	@echo "greenfork: serving examples/hello on http://$(HOST):$(PORT)/  (Ctrl-C stops)"
	$(BUILD)/bin/arbiterd -w 2 -b $(HOST):$(PORT) --chdir examples/hello app:app

bench:
	@bash scripts/install-deps.sh --bench
	cmake -S . -B $(BUILD) -DGF_WERROR=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j$(JOBS)
	/usr/bin/python3 bench/run.py --build $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)
