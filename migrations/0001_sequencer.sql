-- The sequencer's durable state.
--
-- Conventions: 64-bit unsigned values (balances, amounts, fees, chain id) are stored in
-- BIGINT with their bits reinterpreted as signed (Rust `as i64` / `as u64`), so every u64
-- round-trips exactly; Poseidon digests are 32 bytes (four little-endian Goldilocks
-- words); public keys are their 40-byte canonical encodings.

-- The chain this database belongs to: one row, written at the first start from the
-- genesis file, and checked against it at every later start.
CREATE TABLE chain (
    id             BOOLEAN     PRIMARY KEY DEFAULT TRUE CHECK (id),
    chain_id       BIGINT      NOT NULL,
    tree_depth     INTEGER     NOT NULL,
    partition_bits INTEGER     NOT NULL,
    genesis_root   BYTEA       NOT NULL CHECK (length(genesis_root) = 32),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Every transfer the sequencer acknowledged (HTTP 202), written before the
-- acknowledgement: the durable mempool. `seq` is the admission order, which is also the
-- order of execution for transfers that are executed.
CREATE TABLE transfers (
    hash        BYTEA       PRIMARY KEY CHECK (length(hash) = 32),
    seq         BIGINT      NOT NULL UNIQUE,
    chain_id    BIGINT      NOT NULL,
    from_key    BYTEA       NOT NULL CHECK (length(from_key) = 40),
    to_key      BYTEA       NOT NULL CHECK (length(to_key) = 40),
    amount      BIGINT      NOT NULL,
    fee         BIGINT      NOT NULL,
    nonce       BIGINT      NOT NULL CHECK (nonce >= 0 AND nonce < 4294967296),
    signature   BYTEA       NOT NULL CHECK (length(signature) = 72),
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Sealed batches: the unit of proving and settlement. A batch row is written in the same
-- database transaction as its transfers' positions and the account states it produced,
-- so a batch is either wholly durable or absent.
CREATE TABLE batches (
    -- Consecutive from 1; batch 0 is the genesis state.
    number          BIGINT      PRIMARY KEY CHECK (number >= 1),
    old_root        BYTEA       NOT NULL CHECK (length(old_root) = 32),
    new_root        BYTEA       NOT NULL CHECK (length(new_root) = 32),
    -- Keccak-256 of the batch's L1 calldata, as the circuits and Rollup.sol compute it.
    data_commitment BYTEA       NOT NULL CHECK (length(data_commitment) = 32),
    -- The batch's L1 calldata itself (compact encoding, rollup_core::batch_data).
    data            BYTEA       NOT NULL,
    transfer_count  INTEGER     NOT NULL CHECK (transfer_count >= 0),
    fees            BIGINT      NOT NULL,
    sealed_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Which transfers each batch executed, in order.
CREATE TABLE batch_transfers (
    batch_number BIGINT  NOT NULL REFERENCES batches (number),
    position     INTEGER NOT NULL CHECK (position >= 0),
    hash         BYTEA   NOT NULL UNIQUE REFERENCES transfers (hash),
    PRIMARY KEY (batch_number, position)
);

-- Acknowledged transfers that later turned out not executable (a future nonce whose gap
-- was never filled before it expired, or one made invalid by another), with the reason.
CREATE TABLE rejected_transfers (
    hash        BYTEA       PRIMARY KEY REFERENCES transfers (hash),
    reason      TEXT        NOT NULL,
    message     TEXT        NOT NULL,
    rejected_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The latest state of every account (genesis and every sealed batch upsert it). Crash
-- recovery rebuilds the state tree from these rows and checks its root against the
-- newest batch's `new_root`.
CREATE TABLE accounts (
    index         BIGINT  PRIMARY KEY CHECK (index >= 0),
    public_key    BYTEA   NOT NULL UNIQUE CHECK (length(public_key) = 40),
    balance       BIGINT  NOT NULL,
    nonce         BIGINT  NOT NULL CHECK (nonce >= 0 AND nonce < 4294967296),
    -- The batch that last changed the account (0: genesis).
    updated_batch BIGINT  NOT NULL
);
