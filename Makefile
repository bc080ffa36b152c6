# ckpt — the two set-up commands are `make demo` and `make test`.
#
#   make          Release build at build/ckpt
#   make test     build and run every test (Release, then ASan+UBSan)
#   make demo     build, generate a small checkpoint, run inspect/validate/convert on it
#   make bench    build and run the benchmarks
#   make fuzz     build the libFuzzer targets with clang and run each briefly
#   make deps     install missing Debian packages (run by the targets above)

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
FUZZ_SECONDS ?= 30
GENERATOR  := -G Ninja   # ninja-build is one of the packages `deps` installs

DEB_PACKAGES := cmake g++ ninja-build ccache pkg-config \
  libboost-iostreams-dev libabsl-dev nlohmann-json3-dev libxxhash-dev libzstd-dev libbz2-dev liblzma-dev zlib1g-dev libsleef-dev \
  libcli11-dev libbenchmark-dev libgtest-dev googletest zstd python3 libyaml-dev
FUZZ_PACKAGES := clang libclang-rt-14-dev

.PHONY: all build test demo bench fuzz deps fuzz-deps clean

all: build

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

fuzz-deps:
	@missing=""; for p in $(FUZZ_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cmake -S . -B $(ASAN_BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCKPT_SANITIZE=ON -DCKPT_BENCH=OFF
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

demo: build
	@bash tools/demo.sh $(BUILD)/ckpt

bench: build
	@bash bench/run.sh $(BUILD)

fuzz: deps fuzz-deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) $(GENERATOR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCKPT_FUZZ=ON -DCKPT_TESTS=OFF -DCKPT_BENCH=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@bash fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
