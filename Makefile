# TrackIQ developer entry points. `make run` and `make test` work on a fresh Debian 12 machine
# (as root): each installs what is missing (scripts/setup.sh), builds, then runs.
BUILD      ?= build
JOBS       ?= 2
BUILD_TYPE ?= Release
CMAKE_ARGS ?=
TRACKIQ    := $(BUILD)/bin/trackiq

.PHONY: setup configure build run test configure-asan test-asan test-tsan fuzz bench format clean

setup:
	@bash scripts/setup.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS)

configure: setup $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# The main job on the built-in default workload: builtin:cnn, single-stream, ~10 s; then its HTML
# report (with report_data.json/.csv beside it) and a Markdown one.
run: build
	@mkdir -p $(BUILD)/run
	$(TRACKIQ) run --json $(BUILD)/run/result.json --include-samples --report $(BUILD)/run/report.html
	$(TRACKIQ) report $(BUILD)/run/result.json -o $(BUILD)/run/report.md
	@echo "result       $(BUILD)/run/result.json"
	@echo "HTML report  $(BUILD)/run/report.html  (opens offline in any browser)"
	@echo "Markdown     $(BUILD)/run/report.md"

test: build
	ctest --test-dir $(BUILD) --output-on-failure --no-tests=error -j $(JOBS)

# The sanitizer trees build without LibTorch/OpenCV (not instrumented: the engines are plugins,
# so the CLI builds and runs without them) and only the tests they run (`trackiq_tests` with
# TRACKIQ_TEST_LABELS, which builds the trackiq binary for the `cli` tests), with line tables:
# enough for stack traces.
SAN_FLAGS := -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTRACKIQ_WITH_TORCH=OFF -DTRACKIQ_WITH_OPENCV=OFF -DTRACKIQ_BUILD_BENCH=OFF -DTRACKIQ_BUILD_APPS=ON

# One clang ASan+UBSan tree for the unit tests and the libFuzzer targets: the libraries are built
# once, those the fuzzers link with the coverage that guides them, at -O1 (tests/fuzz); the rest
# at -O0, where ASan and UBSan check just as much and clang compiles twice as fast.
configure-asan: setup
	cmake -S . -B build-asan -G Ninja $(SAN_FLAGS) "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O0 -g1 -DNDEBUG" \
	  -DCMAKE_CXX_COMPILER=clang++ \
	  -DTRACKIQ_SANITIZE=address,undefined -DTRACKIQ_BUILD_FUZZ=ON "-DTRACKIQ_TEST_LABELS=unit;threads;cli"

# Unit tests, and the CLI on the paths that load no engine, under ASan+UBSan.
test-asan: configure-asan
	cmake --build build-asan -j $(JOBS) --target trackiq_tests
	ctest --test-dir build-asan --output-on-failure --no-tests=error -j $(JOBS) -L 'unit|threads|cli'

# The threaded code and its tests, and the CLI's engine-free paths (sampler, load engine), under
# ThreadSanitizer.
test-tsan: setup
	cmake -S . -B build-tsan -G Ninja $(SAN_FLAGS) "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" \
	  -DTRACKIQ_SANITIZE=thread "-DTRACKIQ_TEST_LABELS=threads;cli"
	cmake --build build-tsan -j $(JOBS) --target trackiq_tests
	ctest --test-dir build-tsan --output-on-failure --no-tests=error -j 1 -L 'threads|cli'

# libFuzzer targets (in the ASan tree), each run briefly: FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 30
fuzz: configure-asan
	cmake --build build-asan -j $(JOBS) --target trackiq_fuzzers
	bash tests/fuzz/run_fuzzers.sh build-asan $(FUZZ_SECONDS)

bench: build
	bash bench/run_benchmarks.sh $(BUILD)
	bash bench/store_compare_bench.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD) build-asan build-tsan
