#!/usr/bin/env bash
# The local devnet: Postgres (already ensured by `make devnet`), Anvil as L1, the
# contracts, and the rollup's services, all on loopback. Services run in the background
# with their logs and pids under .devnet/; `start` is idempotent (it reuses a running
# Anvil and restarts the services on the freshly built binaries), `stop` stops them.
#
#   L1_PORT           Anvil's port (default 8545)
#   SEQUENCER_LISTEN  the sequencer's HTTP address (default 127.0.0.1:8080)
#   DEVNET_DATABASE   the devnet's database on the Postgres of DATABASE_URL (default rollup_devnet)
#   DEVNET_ACCOUNTS   accounts funded at genesis (default 8; keys in .devnet/genesis/)
set -euo pipefail
cd "$(dirname "$0")/.."

state=.devnet
l1_port="${L1_PORT:-8545}"
sequencer_listen="${SEQUENCER_LISTEN:-127.0.0.1:8080}"
database="${DEVNET_DATABASE:-rollup_devnet}"
bin=contracts/node_modules/.bin
base_url="${DATABASE_URL:?DATABASE_URL is not set: run through make devnet}"
devnet_url="${base_url%/*}/$database"
mkdir -p "$state"

say() { printf '\033[1m[devnet]\033[0m %s\n' "$*"; }
alive() { [ -f "$state/$1.pid" ] && kill -0 "$(cat "$state/$1.pid")" 2>/dev/null; }
stop_service() {
  if alive "$1"; then
    kill "$(cat "$state/$1.pid")" 2>/dev/null || true
    for _ in $(seq 1 50); do alive "$1" || break; sleep 0.1; done
    say "stopped $1"
  fi
  rm -f "$state/$1.pid"
}
wait_for() { # name, command
  for _ in $(seq 1 100); do eval "$2" >/dev/null 2>&1 && return 0; sleep 0.2; done
  say "$1 did not come up; its log: $state/$1.log"; tail -n 20 "$state/$1.log" || true; exit 1
}

start_anvil() {
  if alive anvil; then
    say "anvil already running on 127.0.0.1:$l1_port (chain id $("$bin/cast" chain-id --rpc-url "http://127.0.0.1:$l1_port"))"
    return
  fi
  nohup "$bin/anvil" --host 127.0.0.1 --port "$l1_port" --chain-id 31337 --enable-tx-gas-limit \
    >"$state/anvil.log" 2>&1 &
  echo $! >"$state/anvil.pid"
  wait_for anvil "$bin/cast chain-id --rpc-url http://127.0.0.1:$l1_port"
  say "anvil (L1) on http://127.0.0.1:$l1_port, chain id 31337, EIP-7825 gas cap enforced"
}

ensure_database() {
  if [ -z "$(psql "$base_url" -tAc "SELECT 1 FROM pg_database WHERE datname = '$database'")" ]; then
    psql "$base_url" -qc "CREATE DATABASE $database"
    say "created database $database"
  fi
}

ensure_genesis() {
  if [ ! -f "$state/genesis/genesis.json" ]; then
    target/release/rollup genesis --accounts "${DEVNET_ACCOUNTS:-8}" --balance 1000000000 \
      --out-dir "$state/genesis" --chain-id 31337
  fi
  say "genesis: $state/genesis/genesis.json ($(ls "$state"/genesis/*.key | wc -l) funded key files)"
}

start_sequencer() {
  stop_service sequencer
  DATABASE_URL="$devnet_url" SEQUENCER_LISTEN="$sequencer_listen" RUST_LOG="${RUST_LOG:-info}" \
    SEQUENCER_GENESIS="$state/genesis/genesis.json" \
    nohup target/release/sequencer >"$state/sequencer.log" 2>&1 &
  echo $! >"$state/sequencer.pid"
  wait_for sequencer "curl -sf http://$sequencer_listen/health"
  say "sequencer on http://$sequencer_listen: $(curl -s "http://$sequencer_listen/health")"
}

# Signs transfers between the genesis accounts (across partitions) and follows them until
# they are executed in a stored batch.
demo_transfers() {
  local keys=("$state"/genesis/*.key) url="http://$sequencer_listen"
  local count=${#keys[@]} hashes=()
  for i in $(seq 0 $((count - 1))); do
    local from="${keys[$i]}" to_key="${keys[$(((i + 1) % count))]}"
    local address to nonce body
    address="$(target/release/rollup address --key "$from")"
    to="$(target/release/rollup address --key "$to_key")"
    nonce="$(curl -sf "$url/v1/accounts/$address" | sed -E 's/.*"pending_nonce":([0-9]+).*/\1/')"
    body="$(target/release/rollup sign-transfer --key "$from" --to "$to" --amount 1000 --fee 10 --nonce "$nonce")"
    hashes+=("$(curl -sf -X POST -H 'content-type: application/json' -d "$body" "$url/v1/transfers" \
      | sed -E 's/.*"hash":"(0x[0-9a-f]+)".*/\1/')")
  done
  say "submitted ${#hashes[@]} transfers between the genesis accounts"
  for hash in "${hashes[@]}"; do
    for _ in $(seq 1 100); do
      curl -sf "$url/v1/transfers/$hash" | grep -q '"status":"executed"' && break
      sleep 0.1
    done
    say "transfer ${hash:0:18}… $(curl -sf "$url/v1/transfers/$hash")"
  done
  say "latest batch: $(curl -sf "$url/v1/batches/latest")"
}

case "${1:-start}" in
start)
  say "building the services (release)"
  cargo build --release --locked -p sequencer --bins
  start_anvil
  say "building the contracts"
  (cd contracts && ./node_modules/.bin/forge build --offline >/dev/null)
  say "contracts built; nothing to deploy yet (Rollup.sol and the verifier are not built)"
  ensure_database
  ensure_genesis
  start_sequencer
  demo_transfers
  cat <<MSG

The devnet runs (logs in $state/, stop it with 'make devnet-stop'):
  L1 (Anvil)   http://127.0.0.1:$l1_port
  sequencer    http://$sequencer_listen   (POST /v1/transfers, GET /v1/accounts/{address}, /metrics)
  Postgres     $database (batches, transfers, accounts)
  keys         $state/genesis/*.key   (sign with: target/release/rollup sign-transfer --key FILE ...)

Not built yet, so not running: the circuits and prover workers (issues 5, 6), the on-chain
verifier (issue 7), Rollup.sol, deposits and withdrawals, settlement to L1 (issue 8).
MSG
  ;;
stop)
  stop_service sequencer
  stop_service anvil
  ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 2
  ;;
esac
