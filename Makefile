# Natter — the two commands: `make run` and `make test`.

CARGO ?= cargo
RELAY_ARGS ?=

.PHONY: deps test lint run relay bench-load

## Install the system packages the build and tests need (Debian: apt-get).
deps:
	@bash .ci/deps.sh

## Format check, lints, every test.
test: deps
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) test --workspace --all-targets

## Start Natter. Until the desktop app lands this starts the relay on
## 127.0.0.1:7878 with its data in ./natter-data.
run: deps relay

relay: deps
	$(CARGO) run --release -p natter-server --bin natter-server -- $(RELAY_ARGS)

## The relay benchmark (see server/BENCHMARKS.md).
bench-load: deps
	$(CARGO) build --release -p natter-server -p natter-load
	$(CARGO) run --release -p natter-load -- all
