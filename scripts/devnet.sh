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
#   DEVNET_PROVERS    prover processes (default 2)
#   DEVNET_CIRCUITS   where the provers cache the built circuits (default target/circuit-cache,
#                     shared with generate-verifier and the benchmarks: built once per code version)
#   SETTLEMENT_LISTEN the settlement module's metrics/health address (default 127.0.0.1:9464)
#   DEVNET_OPERATOR_KEY the key that deploys the contracts and posts batches (default Anvil's
#                     first account); the addresses are kept in .devnet/deployment.json
set -euo pipefail
cd "$(dirname "$0")/.."

state=.devnet
l1_port="${L1_PORT:-8545}"
sequencer_listen="${SEQUENCER_LISTEN:-127.0.0.1:8080}"
settlement_listen="${SETTLEMENT_LISTEN:-127.0.0.1:9464}"
# Anvil's first default account: owner and operator of the devnet's Rollup.
operator_key="${DEVNET_OPERATOR_KEY:-0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80}"
l1_url="http://127.0.0.1:$l1_port"
database="${DEVNET_DATABASE:-rollup_devnet}"
circuits="${DEVNET_CIRCUITS:-target/circuit-cache}"
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
wait_for() { # name, command[, seconds (default 20)]
  for _ in $(seq 1 $((5 * ${3:-20}))); do eval "$2" >/dev/null 2>&1 && return 0; sleep 0.2; done
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

# Deploys the gate evaluator, the verifier and the Rollup (genesis root and accounts from
# the devnet's genesis) unless .devnet/deployment.json names a Rollup that has code on the
# running Anvil. A fresh deployment starts L1 from genesis with an empty deposit queue, so
# it starts a fresh chain: the devnet database (batches that consumed the old L1's
# deposits, settlement history) is recreated.
rollup_address() { sed -E 's/.*"rollup":"(0x[0-9a-fA-F]{40})".*/\1/' "$state/deployment.json"; }
deploy_contracts() {
  if [ -f "$state/deployment.json" ]; then
    local code
    code="$("$bin/cast" code --rpc-url "$l1_url" "$(rollup_address)" 2>/dev/null || true)"
    if [ -n "$code" ] && [ "$code" != "0x" ]; then
      say "contracts already deployed: Rollup at $(rollup_address) ($state/deployment.json)"
      return
    fi
    say "$state/deployment.json names no contract on this Anvil: deploying again"
  fi
  ROLLUP_DEPLOY_KEY="$operator_key" target/release/rollup deploy --l1 "$l1_url" \
    --genesis "$state/genesis/genesis.json" --artifacts contracts/out >"$state/deployment.json.tmp"
  mv "$state/deployment.json.tmp" "$state/deployment.json"
  psql "$base_url" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)"
  psql "$base_url" -qc "CREATE DATABASE $database"
  say "deployed (fresh chain, database $database recreated): $(cat "$state/deployment.json")"
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

# Builds the circuits once (cached), then starts the prover processes: each plans sealed
# batches into jobs and proves jobs from the shared queue.
start_provers() {
  local count="${DEVNET_PROVERS:-2}"
  for i in $(seq 1 "$count"); do stop_service "prover$i"; done
  say "preparing the circuits (built once, then loaded from $circuits)"
  DATABASE_URL="$devnet_url" RUST_LOG="${RUST_LOG:-info}" target/release/prover \
    --genesis "$state/genesis/genesis.json" --cache-dir "$circuits" --prepare-only \
    >"$state/prover-prepare.log" 2>&1 || { tail -n 20 "$state/prover-prepare.log"; exit 1; }
  # Each process loads the cached circuits (a few GB: tens of seconds on a small machine).
  for i in $(seq 1 "$count"); do
    DATABASE_URL="$devnet_url" RUST_LOG="${RUST_LOG:-info}" nohup target/release/prover \
      --genesis "$state/genesis/genesis.json" --cache-dir "$circuits" \
      --metrics-listen "127.0.0.1:$((9100 + i))" >"$state/prover$i.log" 2>&1 &
    echo $! >"$state/prover$i.pid"
  done
  for i in $(seq 1 "$count"); do
    local port=$((9100 + i))
    wait_for "prover$i" "curl -sf http://127.0.0.1:$port/health" 600
    say "prover $i running (metrics on http://127.0.0.1:$port/metrics, log $state/prover$i.log)"
  done
}

# Posts every proven batch to the Rollup (one transaction per batch, recorded in
# l1_transactions before it is sent).
start_settlement() {
  stop_service settlement
  SETTLEMENT_OPERATOR_KEY="$operator_key" RUST_LOG="${RUST_LOG:-info}" \
    nohup target/release/settlement --database-url "$devnet_url" --l1 "$l1_url" \
    --rollup "$(rollup_address)" --listen "$settlement_listen" >"$state/settlement.log" 2>&1 &
  echo $! >"$state/settlement.pid"
  wait_for settlement "curl -sf http://$settlement_listen/health"
  say "settlement posting to Rollup $(rollup_address) (metrics on http://$settlement_listen/metrics)"
}

# Follows a proven batch to L1: until the Rollup's lastVerifiedBatch() reaches it, then
# prints its transaction from the settlement table.
follow_settlement() {
  local batch="$1" last="-" verified attempts tx
  for _ in $(seq 1 600); do
    verified="$("$bin/cast" call --rpc-url "$l1_url" "$(rollup_address)" "lastVerifiedBatch()(uint64)" 2>/dev/null || echo 0)"
    verified="${verified%% *}"
    tx="$(psql "$devnet_url" -tAc "SELECT '0x' || encode(tx_hash, 'hex') || ', gas ' || gas_used || ', block ' || block_number || ' (' || status || ')'
      FROM l1_transactions WHERE batch_number = $batch AND status IN ('mined', 'confirmed') ORDER BY id DESC LIMIT 1")"
    if [ "${verified:-0}" -ge "$batch" ] && [ -n "$tx" ]; then
      say "batch $batch verified on L1 (lastVerifiedBatch $verified): tx $tx"
      return 0
    fi
    attempts="$(psql "$devnet_url" -tAc "SELECT string_agg(status, ', ' ORDER BY id) FROM l1_transactions WHERE batch_number = $batch")"
    if [ "$attempts" != "$last" ]; then
      say "batch $batch settling: ${attempts:-waiting for the settlement module} (L1 verified up to batch ${verified:-0})"
      last="$attempts"
    fi
    if ! alive settlement; then
      say "the settlement module stopped; its log: $state/settlement.log"; tail -n 20 "$state/settlement.log" || true; exit 1
    fi
    sleep 1
  done
  say "batch $batch did not reach L1 in time; see $state/settlement.log"; exit 1
}

# Follows a batch until its proof is stored, printing the proving progress.
follow_proof() {
  local url="http://$sequencer_listen" batch="$1" last=""
  for _ in $(seq 1 3600); do
    local status progress
    status="$(curl -sf "$url/v1/batches/$batch" | sed -E 's/.*"status":"([a-z]+)".*/\1/')"
    progress="$(psql "$devnet_url" -tAc "SELECT string_agg(kind || ' ' || done || '/' || total, ', ' ORDER BY min_id)
      FROM (SELECT kind, min(id) AS min_id, count(*) FILTER (WHERE status = 'done') AS done, count(*) AS total
            FROM prover_jobs WHERE batch_number = $batch GROUP BY kind) k")"
    if [ "$progress" != "$last" ]; then say "batch $batch proving: ${progress:-waiting for the planner}"; last="$progress"; fi
    if [ "$status" = "proven" ] || [ "$status" = "verified" ]; then say "batch $batch proven"; return 0; fi
    sleep 1
  done
  say "batch $batch was not proven in time; see $state/prover*.log"; exit 1
}

# Anvil's second to fourth default accounts: a depositor and two L1 recipients of the
# demo's withdrawals (the first is the operator).
depositor_key=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
eth_recipient_key=0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a
token_recipient_key=0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6
l1_address() { "$bin/cast" wallet address --private-key "$1"; }
balances() { # address: the sequencer's executed balances of it, [ETH, test token]
  curl -sf "http://$sequencer_listen/v1/accounts/$1" | sed -E 's/.*"balances":(\[[^]]*\]).*/\1/'
}

# Deposits on L1: ETH to a new L2 key (the deposit creates its account) and test tokens
# (minted by the devnet's open faucet) to the first genesis account; waits until the
# settlement module has seen them confirmed and a batch has credited them.
demo_deposits() {
  local keys=("$state"/genesis/*.key) newcomer holder
  rm -f "$state/newcomer.key"
  newcomer="$(target/release/rollup keygen --out "$state/newcomer.key")"
  newcomer="${newcomer##* }"
  holder="$(target/release/rollup address --key "${keys[0]}")"
  say "deposit on L1: $(target/release/rollup deposit --l1 "$l1_url" --rollup "$(rollup_address)" \
    --l1-key "$depositor_key" --to "$newcomer" --amount 50000000)"
  say "deposit on L1: $(target/release/rollup deposit --l1 "$l1_url" --rollup "$(rollup_address)" \
    --l1-key "$depositor_key" --to "$holder" --amount 7000000 --token 1 --mint)"
  for _ in $(seq 1 300); do
    [ "$(balances "$newcomer")" = '["50000000","0"]' ] && break
    sleep 0.2
  done
  say "deposits credited on L2: new account $newcomer $(balances "$newcomer"), \
genesis account ${holder:0:18}… $(balances "$holder") ([ETH gwei, test token units])"
}

# Withdrawals: the deposit-made account sends ETH back to L1, the first genesis account
# some of its test tokens; both to L1 addresses whose keys the demo holds, to claim later.
demo_withdrawals() {
  local keys=("$state"/genesis/*.key) hashes=() url="http://$sequencer_listen"
  hashes+=("$(target/release/rollup withdraw --key "$state/newcomer.key" \
    --recipient "$(l1_address "$eth_recipient_key")" --amount 30000000 --fee 10 --sequencer "$url")")
  hashes+=("$(target/release/rollup withdraw --key "${keys[0]}" \
    --recipient "$(l1_address "$token_recipient_key")" --amount 2000000 --fee 1 --token 1 --sequencer "$url")")
  for hash in "${hashes[@]}"; do
    for _ in $(seq 1 100); do
      curl -sf "$url/v1/transfers/$hash" | grep -q '"status":"executed"' && break
      sleep 0.1
    done
    say "withdrawal ${hash:0:18}… $(curl -sf "$url/v1/transfers/$hash")"
  done
}

# After the withdrawals' batches are verified: each recipient claims its payout on L1.
demo_claims() {
  local token=0
  for key in "$eth_recipient_key" "$token_recipient_key"; do
    say "claimed on L1 by $(l1_address "$key"): $(target/release/rollup claim --l1 "$l1_url" \
      --rollup "$(rollup_address)" --l1-key "$key" --token "$token")"
    token=1
  done
}

# Follows every sealed batch through its proof to L1 verification.
follow_batches() {
  local latest
  latest="$(curl -sf "http://$sequencer_listen/v1/batches/latest" | sed -E 's/.*"number":([0-9]+).*/\1/')"
  for batch in $(seq "${1:-1}" "$latest"); do
    follow_proof "$batch"
    follow_settlement "$batch"
  done
  echo "$latest" >"$state/followed"
}

# Signs transfers between the genesis accounts (across partitions), and one of the
# deposited test tokens, submits them together (so that they share a batch or two), and
# follows them until they are executed in a stored batch.
demo_transfers() {
  local keys=("$state"/genesis/*.key) url="http://$sequencer_listen"
  local count=${#keys[@]} hashes=() bodies=()
  for i in $(seq 0 $((count - 1))); do
    local from="${keys[$i]}" to_key="${keys[$(((i + 1) % count))]}"
    local address to nonce
    address="$(target/release/rollup address --key "$from")"
    to="$(target/release/rollup address --key "$to_key")"
    nonce="$(curl -sf "$url/v1/accounts/$address" | sed -E 's/.*"pending_nonce":([0-9]+).*/\1/')"
    bodies+=("$(target/release/rollup sign-transfer --key "$from" --to "$to" --amount 1000 --fee 10 --nonce "$nonce")")
  done
  # The first account's next nonce is one past its ETH transfer's.
  local holder nonce
  holder="$(target/release/rollup address --key "${keys[0]}")"
  nonce="$(curl -sf "$url/v1/accounts/$holder" | sed -E 's/.*"pending_nonce":([0-9]+).*/\1/')"
  bodies+=("$(target/release/rollup sign-transfer --key "${keys[0]}" --token 1 --amount 1500000 --fee 5 \
    --nonce $((nonce + 1)) --to "$(target/release/rollup address --key "${keys[$((count / 2))]}")")")
  for body in "${bodies[@]}"; do
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

# Rebuilds the L2 state from L1 alone (the Genesis event and every commitBatch calldata) and
# checks its root against the sequencer's root after batch $1.
restore_from_l1() {
  local restored root expected
  restored="$(target/release/rollup restore --l1 "$l1_url" --rollup "$(rollup_address)")"
  say "restored from L1 alone: $restored"
  root="$(sed -E 's/.*"state_root":"([^"]+)".*/\1/' <<<"$restored")"
  expected="$(curl -sf "http://$sequencer_listen/v1/batches/$1" | sed -E 's/.*"new_root":"([^"]+)".*/\1/')"
  if [ "$root" = "$expected" ]; then
    say "the state rebuilt from L1 has the sequencer's root after batch $1: $root"
  else
    say "the state rebuilt from L1 has root $root, the sequencer's after batch $1 is $expected"
    exit 1
  fi
}

case "${1:-start}" in
start)
  say "building the services (release)"
  cargo build --release --locked -p sequencer -p prover --bins
  start_anvil
  say "building the contracts"
  (cd contracts && ./node_modules/.bin/forge build --offline >/dev/null)
  ensure_database
  ensure_genesis
  deploy_contracts
  start_sequencer
  start_provers
  start_settlement
  demo_deposits
  demo_transfers
  demo_withdrawals
  follow_batches 1
  demo_claims
  restore_from_l1 "$(cat "$state/followed")"
  cat <<MSG

The devnet runs (logs in $state/, stop it with 'make devnet-stop'):
  L1 (Anvil)   $l1_url
  contracts    Rollup $(rollup_address), verifier and gates in $state/deployment.json
  sequencer    http://$sequencer_listen   (POST /v1/transfers, GET /v1/accounts/{address}, /metrics)
  Postgres     $database (batches, transfers, accounts)
  keys         $state/genesis/*.key   (sign with: target/release/rollup sign-transfer --key FILE ...)
  bridge       target/release/rollup deposit --l1 $l1_url --rollup $(rollup_address) --l1-key HEX --to ADDRESS --amount A [--token 1 --mint]
               target/release/rollup withdraw --key FILE --recipient L1ADDRESS --amount A [--token 1]
               target/release/rollup claim --l1 $l1_url --rollup $(rollup_address) --l1-key HEX [--token 1]

  provers      ${DEVNET_PROVERS:-2} processes (logs $state/prover*.log, metrics on 127.0.0.1:910N)
  settlement   posts proven batches to the Rollup (log $state/settlement.log, metrics on
               http://$settlement_listen/metrics; its transactions in table l1_transactions)
  restore      target/release/rollup restore --l1 $l1_url --rollup $(rollup_address)
MSG
  ;;
stop)
  stop_service settlement
  for pid in "$state"/prover*.pid; do [ -e "$pid" ] && stop_service "$(basename "$pid" .pid)"; done
  stop_service sequencer
  stop_service anvil
  ;;
*)
  echo "usage: $0 start|stop" >&2
  exit 2
  ;;
esac
