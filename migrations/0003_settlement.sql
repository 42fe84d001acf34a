-- L1 settlement: every transaction the settlement module sent to post a batch to the
-- Rollup contract (sequencer/src/settlement/).
--
-- Write-ahead: a transaction is signed, written here with its raw bytes, and only then
-- broadcast. After a crash the module finds every transaction it may have sent (status
-- 'sent' or 'mined'), asks L1 for their receipts and rebroadcasts the exact same bytes
-- (same hash, same nonce) of any that L1 does not know, so a batch is neither lost nor
-- posted twice by a new transaction while an old one can still land. A replacement (same
-- nonce, higher fees) is a new row; at most one transaction of a nonce can be mined.
--
-- Conventions as in 0001: u64 values in BIGINT with their bits reinterpreted; hashes are
-- 32 bytes, addresses 20.

CREATE TABLE l1_transactions (
    id                       BIGSERIAL   PRIMARY KEY,
    batch_number             BIGINT      NOT NULL REFERENCES batches (number),
    tx_hash                  BYTEA       NOT NULL UNIQUE CHECK (length(tx_hash) = 32),
    sender                   BYTEA       NOT NULL CHECK (length(sender) = 20),
    nonce                    BIGINT      NOT NULL CHECK (nonce >= 0),
    gas_limit                BIGINT      NOT NULL,
    max_fee_per_gas          NUMERIC(39) NOT NULL,
    max_priority_fee_per_gas NUMERIC(39) NOT NULL,
    -- The signed EIP-2718 envelope, rebroadcast as is after a crash.
    raw                      BYTEA       NOT NULL,
    -- sent: broadcast (or about to be), no receipt seen; mined: in a block, fewer than
    -- the configured confirmations; confirmed: deep enough, final for the module;
    -- reverted: mined and reverted (the batch is posted again only if L1 still expects
    -- it); dropped: its nonce was used by another transaction (a replacement won).
    status                   TEXT        NOT NULL
                             CHECK (status IN ('sent', 'mined', 'confirmed', 'reverted', 'dropped')),
    block_number             BIGINT,
    block_hash               BYTEA       CHECK (length(block_hash) = 32),
    gas_used                 BIGINT,
    effective_gas_price      NUMERIC(39),
    confirmations            BIGINT      NOT NULL DEFAULT 0,
    last_error               TEXT,
    sent_at                  TIMESTAMPTZ NOT NULL DEFAULT now(),
    mined_at                 TIMESTAMPTZ,
    confirmed_at             TIMESTAMPTZ,
    CHECK (status IN ('sent', 'dropped') OR (block_number IS NOT NULL AND gas_used IS NOT NULL))
);

-- A batch is confirmed on L1 by exactly one transaction.
CREATE UNIQUE INDEX l1_transactions_confirmed ON l1_transactions (batch_number)
    WHERE status = 'confirmed';
-- The transactions that may still land, which every loop of the module reconciles.
CREATE INDEX l1_transactions_open ON l1_transactions (id) WHERE status IN ('sent', 'mined');
-- A batch's attempts.
CREATE INDEX l1_transactions_batch ON l1_transactions (batch_number, id);
