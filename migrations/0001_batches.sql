-- Sealed batches: the sequencer's durable log and the unit of proving and settlement.
-- A batch row is written in the same database transaction as its transfers and the
-- account states it produced, so a batch is either wholly durable or absent.
CREATE TABLE batches (
    -- Consecutive from 1; batch 0 is the genesis state and is not stored here.
    number          BIGINT      PRIMARY KEY CHECK (number >= 1),
    -- Poseidon digests (4 canonical Goldilocks words, little-endian, 32 bytes).
    old_root        BYTEA       NOT NULL CHECK (length(old_root) = 32),
    new_root        BYTEA       NOT NULL CHECK (length(new_root) = 32),
    -- Keccak-256 of the batch's L1 calldata, as the circuits and Rollup.sol compute it.
    data_commitment BYTEA       NOT NULL CHECK (length(data_commitment) = 32),
    transfer_count  INTEGER     NOT NULL CHECK (transfer_count >= 0),
    sealed_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

COMMENT ON TABLE batches IS 'Sealed L2 batches, one row per batch, written atomically with their contents';
