# The front door. The README's two commands:
#   make run    install what is missing, build, run feedwatch on examples/
#   make test   install what is missing, build, run every test, then the
#               same tests again in an ASan/UBSan build, and the store's
#               tests (the part with a second thread) under TSan
# Other targets: build, asan, tsan, deps, format, clean; bench and its parts
# (bench-parse, bench-poll, bench-match, bench-store, bench-text); soak
# (the daemon under chaos, 10 minutes) and fuzz (every libFuzzer target).

BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

# Debian 12 packages: build tools, libraries, and what the tests run.
DEB_PACKAGES = build-essential cmake pkg-config clang clang-format \
	libcurl4-openssl-dev libxml2-dev libevent-dev libsqlite3-dev \
	libyaml-dev libutf8proc-dev libpcre2-dev libjansson-dev libssl-dev \
	libxxhash-dev libcmocka-dev iso-codes python3 sqlite3 libxml2-utils \
	time python3-aiosmtpd rsyslog openssl

# What bench/poll runs besides feedwatch: a local web server and the peers
# it is compared with. Not needed to build or test.
BENCH_PACKAGES = nginx sfeed rss2email curl time python3
# Extra arguments, e.g. make bench-poll BENCH_POLL_ARGS='--hold 10000'
BENCH_POLL_ARGS ?=

.PHONY: all run test build asan tsan deps format clean bench bench-parse \
	bench-poll bench-match bench-match-count bench-store bench-text soak fuzz

all: build

deps:
	@sh .ci/install-deps $(DEB_PACKAGES)

build: deps
	cmake -S . -B $(BUILD) -DFW_WERROR=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

asan: deps
	CC=clang cmake -S . -B $(ASAN_BUILD) -DFW_WERROR=ON -DFW_SANITIZE=ON \
		-DFW_FUZZ=ON $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# ThreadSanitizer over what runs on more than one thread: the store and
# its checkpointer thread, the parser pool and its workers (only those
# tests are built).
tsan: deps
	CC=clang cmake -S . -B $(TSAN_BUILD) -DFW_WERROR=ON \
		-DCMAKE_C_FLAGS=-fsanitize=thread \
		-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread $(CMAKE_FLAGS)
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target test_store test_parsepool

test: build asan tsan
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)
	TSAN_OPTIONS=halt_on_error=1 ctest --test-dir $(TSAN_BUILD) \
		--output-on-failure -R '^test_(store|parsepool)$$'

run: build
	@sh examples/run.sh $(BUILD)/daemon/feedwatch

# Benchmarks (not part of make test); each compares with a baseline
# measured in the same run and prints ratios.
bench: bench-parse bench-match bench-store bench-text bench-poll

# The parser against sfeed and xmllint (not part of make test).
bench-parse: build
	@command -v sfeed >/dev/null || sh .ci/install-deps sfeed bc time
	sh bench/parse/run.sh $(BUILD)

# Polling 1,000 local feeds served by nginx, against curl, sfeed_update
# and rss2email.
bench-poll: build
	@sh .ci/install-deps $(BENCH_PACKAGES)
	sh bench/poll/run.sh --build $(BUILD) $(BENCH_POLL_ARGS)

# Watchlists over 100,000 generated items, against grep -F -w -i -f.
bench-match: build
	@sh .ci/install-deps time
	sh bench/match/run.sh $(BUILD)

# The matcher's instructions and cache misses (callgrind), after bench-match.
bench-match-count: build
	@sh .ci/install-deps valgrind
	sh bench/match/count.sh $(BUILD)

# Ingesting 35,000 items into the store, against raw sqlite3 inserts.
bench-store: build
	sh bench/store/run.sh $(BUILD)

# HTML to plain text, against xmllint.
bench-text: build
	sh bench/text/run.sh $(BUILD)

# The soak and chaos test (tests/soak/soak.py): 3,000 generated feeds, a
# tenth misbehaving, receivers going down, broken reloads, SIGKILL; then
# the invariants and a report. Not part of make test (which runs a short
# one). E.g. make soak SOAK_SECONDS=3600 SOAK_ARGS='--feeds 5000'
SOAK_SECONDS ?= 600
SOAK_ARGS ?=
soak: build
	/usr/bin/python3 tests/soak/soak.py --duration $(SOAK_SECONDS) --smtp \
		$(SOAK_ARGS) $(BUILD)/daemon/feedwatch

# Every libFuzzer target of the sanitizer build, FUZZ_SECONDS each, over
# the corpus in tests/fuzz/corpus/NAME; FUZZ_MERGE=1 keeps what is new.
FUZZ_SECONDS ?= 60
fuzz: asan
	FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/soak/fuzz.sh $(ASAN_BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)
