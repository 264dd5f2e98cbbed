# The whole set-up: `make demo` and `make test` (see README.md).
# build/      Release: every test, the CLI (the benchmarks with `make bench`)
# build-san/  clang, Debug + ASan + UBSan (the library at -O1, the tests at -O0), line
#             tables only, linked by lld: the fast
#             test subset (ctest label `fast`) and the two libFuzzer targets, whose
#             libraries carry coverage feedback; a short bounded fuzzing run of
#             parser + checker and of the data loader uses them. One tree for both:
#             clang compiles the tests in half gcc's time at -O0, and the library
#             is compiled once for the sanitizers and the fuzzers.
# build-tsan/ ThreadSanitizer: the library and test_threads only (fits sharing a Model on threads),
#             at -O1 without debug info: it compiles fastest, and TSan needs no more
JOBS ?= $(shell nproc)
CMAKE_GEN := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
# The fuzzing minute, split between the front end's fuzzer and the data loader's.
FUZZ_SECONDS ?= 60

.PHONY: demo test deps build build-san build-tsan test-release test-san test-tsan fuzz fuzz-long bench course clean

deps:
	@tools/install-deps.sh

build: deps
	@test -f build/CMakeCache.txt || cmake -S . -B build $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release
	cmake --build build -j $(JOBS)

build-san: deps
	@# A tree configured before the sanitizer tree moved to clang (gcc, no fuzzers) is made afresh.
	@if [ -f build-san/CMakeCache.txt ] && ! grep -q '^VIREO_FUZZ:BOOL=ON' build-san/CMakeCache.txt; then rm -rf build-san; fi
	@test -f build-san/CMakeCache.txt || CC=clang CXX=clang++ cmake -S . -B build-san $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug \
		-DCMAKE_CXX_FLAGS_DEBUG=-gline-tables-only -DCMAKE_C_FLAGS_DEBUG=-gline-tables-only \
		-DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld -DCMAKE_SHARED_LINKER_FLAGS=-fuse-ld=lld \
		-DVIREO_SANITIZE=ON -DVIREO_FUZZ=ON -DVIREO_BENCH=OFF
	cmake --build build-san -j $(JOBS) --target vireo_fast_tests fuzz_frontend fuzz_data

build-tsan: deps
	@test -f build-tsan/CMakeCache.txt || cmake -S . -B build-tsan $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug \
		-DCMAKE_CXX_FLAGS_DEBUG=-O1 -DVIREO_TSAN=ON -DVIREO_BENCH=OFF -DVIREO_BUILD_TOOLS=OFF
	cmake --build build-tsan -j $(JOBS) --target test_threads

demo: build
	./build/cli/vireo check examples/eight_schools.vireo
	./build/cli/vireo graph examples/eight_schools.vireo > build/eight_schools.dot
	dot -Tpng build/eight_schools.dot -o build/eight_schools.png
	@echo "drawn: build/eight_schools.png"
	./build/cli/vireo run examples/eight_schools.vireo --data examples/eight_schools.json --seed 1 \
		--draws build/eight_schools_draws.csv --summary build/eight_schools_summary.json --report build/eight_schools.html
	@echo "written: build/eight_schools_draws.csv, build/eight_schools_summary.json, build/eight_schools.html"

# The first course's pages (README.md, "The course's pages"), in order.
course: build
	mkdir -p build/course
	./build/cli/vireo run examples/coin.vireo --data examples/data/coin.json --seed 1 --report build/course/1-coin.html
	./build/cli/vireo run examples/three_coins.vireo --evidence 1000 --report build/course/2-three-coins.html
	./build/cli/vireo run examples/eight_schools.vireo --data examples/eight_schools.json --seed 1 --evidence 2000 \
		--report build/course/3-eight-schools.html
	./build/cli/vireo run examples/gmm.vireo --data examples/gmm.json --seed 7 --report build/course/4-gmm.html
	./build/cli/vireo run examples/changepoint.vireo --data examples/data/changepoint.json --steps 4000 --seed 1 \
		--report build/course/5-changepoint.html
	./build/cli/vireo run examples/hmm.vireo --data examples/data/hmm.json --seed 1 --report build/course/5-hmm.html
	@echo "written: build/course/1-coin.html … 5-hmm.html (README.md links them in order)"

test-release: build
	cd build && ctest --output-on-failure -j $(JOBS) -LE long

test-san: build-san
	cd build-san && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS) -L fast

# -entropic=0: libFuzzer's entropic schedule spends most of a run (measured:
# 70%) updating its feature frequencies over the many edges of the
# instrumented X3 grammar; without it the front end runs 8x more inputs a second.
fuzz: build-san
	mkdir -p build-san/corpus
	cp examples/*.vireo build-san/corpus/ 2>/dev/null || true
	for f in tests/lang/cases/*/*.vireo; do cp "$$f" "build-san/corpus/case_$$(basename $$f)"; done
	./build-san/tests/lang/fuzz/fuzz_frontend -entropic=0 -max_total_time=$$(( $(FUZZ_SECONDS) / 2 )) -max_len=4096 -rss_limit_mb=4096 build-san/corpus
	mkdir -p build-san/corpus-data
	./build-san/tests/runtime/data/fuzz/fuzz_data -entropic=0 -max_total_time=$$(( $(FUZZ_SECONDS) - $(FUZZ_SECONDS) / 2 )) -max_len=8192 \
		-rss_limit_mb=4096 -timeout=10 build-san/corpus-data tests/runtime/data/fuzz/corpus

# The longer fuzzing run the README describes (one hour).
fuzz-long:
	$(MAKE) fuzz FUZZ_SECONDS=3600

test-tsan: build-tsan
	cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" ctest --output-on-failure -L tsan

test: test-release test-san test-tsan fuzz

# Long suites (statistical and benchmark-sized runs) that `make test` leaves out.
test-long: build
	cd build && ctest --output-on-failure -j $(JOBS) -L long

# Each benchmark prints one JSON object (see bench/CMakeLists.txt).
bench: build
	cmake --build build -j $(JOBS) --target vireo_benches
	./build/bench/vireo_bench_ad
	./build/bench/vireo_bench_api
	./build/bench/vireo_bench_tracegraph
	./build/bench/vireo_bench_flow
	./build/bench/vireo_bench_vae
	./build/bench/vireo_bench_threads
	./build/bench/vireo_bench_loops
	@if [ -x build/bench/vireo_bench_mpi ]; then bench/bench_mpi.sh build; else echo "vireo_bench_mpi: not built (MPI not found)"; fi

clean:
	rm -rf build build-san build-tsan build-fuzz  # build-fuzz: the fuzz tree of older checkouts
