# Natter — the two commands: `make run` and `make test`.

CARGO ?= cargo
RELAY_ARGS ?=
APP_ARGS ?=
DEMO_HOME ?= /tmp/natter-demo
DEMO_RELAY ?= 127.0.0.1:7979

.PHONY: deps test run relay demo bench-load bench-cluster bench-network bench-store bench-app bench-group dist check-dist fuzz

## Install the system packages the build and tests need (Debian: apt-get).
deps:
	@bash .ci/deps.sh

## Format check, lints, every test (GUI tests render on the CPU, no display needed).
test: deps
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	ICED_TEST_BACKEND=tiny-skia $(CARGO) test --workspace

FUZZ_TIME ?= 60
FUZZ_TARGET_DIR ?= $(CURDIR)/target/fuzz
FUZZ_TARGETS ?= net/proto:client_frame net/proto:server_frame server:wal_record server:wal_replay server:config media:voice app/picture:picture

## Every fuzz target for FUZZ_TIME seconds each (nightly and cargo-fuzz; see docs/fuzzing.md).
fuzz:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz
	set -e; for t in $(FUZZ_TARGETS); do \
	  dir=$${t%%:*}; name=$${t#*:}; mkdir -p $$dir/fuzz/corpus/$$name $$dir/fuzz/artifacts/$$name; \
	  (cd $$dir && $(CARGO) +nightly fuzz run $$name --target-dir $(FUZZ_TARGET_DIR) -- \
	    -max_total_time=$(FUZZ_TIME) -rss_limit_mb=2048 -timeout=10); \
	done

## Start the desktop app. If no relay answers on this machine at the configured
## address (default 127.0.0.1:7878), the app starts its bundled one.
run: deps
	$(CARGO) run -p natter --bin natter -- $(APP_ARGS)

## The relay alone.
relay: deps
	$(CARGO) run --release -p natter-server --bin natter-server -- $(RELAY_ARGS)

## A relay and two app instances (alice, bob) that are already friends and have
## a little history.
demo: deps
	$(CARGO) build -p natter-server -p natter --bins --examples
	rm -rf $(DEMO_HOME) && mkdir -p $(DEMO_HOME)
	./target/debug/natter-server --bind $(DEMO_RELAY) --data-dir $(DEMO_HOME)/relay > $(DEMO_HOME)/relay.log 2>&1 & echo $$! > $(DEMO_HOME)/relay.pid
	sleep 1
	NATTER_HOME=$(DEMO_HOME) ./target/debug/examples/demo_seed http://$(DEMO_RELAY)
	NATTER_MEDIA_BIND=127.0.0.1 NATTER_HOME=$(DEMO_HOME) ./target/debug/natter --profile alice --server http://$(DEMO_RELAY) --lang zh-CN & \
	NATTER_MEDIA_BIND=127.0.0.1 NATTER_HOME=$(DEMO_HOME) ./target/debug/natter --profile bob --server http://$(DEMO_RELAY) --lang en-US ; \
	wait; kill `cat $(DEMO_HOME)/relay.pid` 2>/dev/null || true

## Relay benchmarks (see server/BENCHMARKS.md).
bench-load: deps
	$(CARGO) build --release -p natter-server -p natter-load
	./target/release/natter-load all

## Cluster benchmarks: one node on redb, one on PostgreSQL, three behind
## haproxy on PostgreSQL and NATS, and the latency a cross-node delivery adds
## (see server/BENCHMARKS.md and docs/cluster.md).
bench-cluster: deps
	$(CARGO) build --release -p natter-server -p natter-load
	BIN=$$($(CARGO) metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release bash server/bench/cluster.sh

## Chat over a bad network (loss, delay, a 20 s blackout, cut connections),
## each case in a network namespace of its own: delivery latency percentiles.
bench-network: deps
	$(CARGO) test --release --workspace --test client network:: -- --nocapture --test-threads 1 2>&1 | grep '^network '

## Group calls through the relay's forwarding unit (see media/BENCHMARKS.md).
bench-group: deps
	$(CARGO) run --release -p natter-media --example group_bench -- --max 8 --seconds 10 --rejoins 20

## Client store benchmarks.
bench-store: deps
	$(CARGO) bench -p natter-store --bench store

## App benchmarks: opening a 100k-message conversation (in-process, CPU
## renderer), then start-up time and idle memory of the real process under Xvfb.
bench-app: deps
	ICED_TEST_BACKEND=tiny-skia $(CARGO) bench -p natter --bench app
	bash app/bench/startup.sh

## Installable packages in dist/: the app's .deb, and the portable .tar.gz and
## .zip (app, relay, README, `portable` marker). Release build; installs
## cargo-packager from crates.io if missing.
dist: deps
	bash .ci/dist-deps.sh
	CARGO=$(CARGO) bash packaging/dist.sh

## Checks what `make dist` made, as a user would: installs the .deb, starts it
## under Xvfb on a fresh HOME, and runs the portable folder.
check-dist:
	bash .ci/dist-deps.sh
	bash packaging/check.sh
