# Thin wrapper over CMake presets for the README's commands.
#   make demo   install missing packages, build (release), run the demo
#   make test   install missing packages, build with ASan+UBSan, run every test
#   make fuzz   build libFuzzer targets with clang and run each for FUZZ_SECONDS
#   make bench  build release and run the benchmarks in bench/
.PHONY: all deps build demo test fuzz bench format lint clean

FUZZ_SECONDS ?= 60

all: build

deps:
	@scripts/install-deps.sh

build: deps
	cmake --preset dev >/dev/null
	cmake --build --preset dev

demo: deps
	cmake --preset release >/dev/null
	cmake --build --preset release
	./build/release/tidewatch demo --audit-html build/release/audit-demo.html

test: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan
	ctest --preset asan

fuzz: deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz
	scripts/run-fuzz.sh build/fuzz $(FUZZ_SECONDS)

bench:
	@scripts/install-deps.sh --bench
	cmake --preset release -DTW_TESTS=OFF >/dev/null
	cmake --build --preset release
	scripts/run-bench.sh build/release

format:
	scripts/format.sh --fix

lint: build
	scripts/format.sh && scripts/banned.sh && scripts/tidy.sh build/dev && scripts/cppcheck.sh build/dev

clean:
	rm -rf build
