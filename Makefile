# One command for the tests, one for the devnet; both install what they need on a fresh
# machine (as root), are idempotent and can be run again at any time.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

PGPORT ?= 5432
PGPASSWORD ?= postgres
DATABASE_URL ?= postgres://postgres:$(PGPASSWORD)@127.0.0.1:$(PGPORT)/postgres
export PGPORT PGPASSWORD DATABASE_URL

FORGE := contracts/node_modules/.bin/forge

.PHONY: test devnet devnet-stop deps postgres node-deps fonts rust-test forge-test lint fmt bench

## test: install and start what the tests need, then run the Rust and the forge tests.
test: deps rust-test forge-test

## devnet: Postgres, Anvil, contracts and the pipeline on loopback (see scripts/devnet.sh).
devnet: deps
	scripts/devnet.sh start

## devnet-stop: stop the devnet's background services (Postgres is left running).
devnet-stop:
	scripts/devnet.sh stop

deps: postgres node-deps fonts

postgres:
	scripts/ensure-postgres.sh

node-deps:
	scripts/ensure-node-deps.sh

# The benchmarks' plots draw their text with a TrueType font (bench/src/plots.rs).
fonts:
	@test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core >/dev/null; }

# The integration tests start the workspace's own binaries: build them first. Tests run one
# at a time: the prover's build whole circuit sets (a test peaks at 9.4 GB) and prove on
# every core already, so two at once can pass 20 GB for little time gained on few cores
# (one invocation for the whole workspace, so that its dependencies build once).
rust-test:
	cargo build --workspace --bins --locked
	cargo test --workspace --locked -- --test-threads=1

forge-test:
	cd contracts && ./node_modules/.bin/forge test --offline

## bench: quick core benchmarks, the end-to-end load of the sequencer binary, the
## Postgres bulk-write comparison and the circuit sizes and proving times (a 160-transfer
## batch; `circuit_bench --full` proves the 1,024-transfer one), the prover service
## sealed to proven with 1 and 2 workers (32 transfers; `prover_bench --full` adds 256 and
## 1,024), the gas of one on-chain proof verification on Anvil (needs node-deps) and the
## L1 gas of batches of 64 to 4,096 transfers, merged into bench/results.json (regenerates
## RESULTS.md, with the plots in bench/plots/). About 10 minutes on a 2-vCPU machine once
## built and the circuits are cached.
bench: postgres node-deps fonts
	cargo build --release --locked -p sequencer --bin sequencer -p prover --bin prover
	cargo run --release --locked -p bench --bin core_bench -- --quick --out bench/results.json
	cargo run --release --locked -p bench --bin e2e_bench -- --quick --out bench/results.json
	cargo run --release --locked -p bench --bin pg_bench -- --quick --out bench/results.json
	cargo run --release --locked -p bench --bin circuit_bench -- --quick --out bench/results.json
	cargo run --release --locked -p bench --bin prover_bench -- --quick --out bench/results.json
	cargo run --release --locked -p bench --bin verifier_bench -- --out bench/results.json
	cargo run --release --locked -p bench --bin l1_bench -- --out bench/results.json

## lint: formatting and clippy, as CI expects them clean.
lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

fmt:
	cargo fmt --all
