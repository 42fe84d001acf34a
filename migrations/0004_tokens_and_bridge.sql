-- Two tokens (ETH and the test token, rollup_core::token), deposits from the L1 queue and
-- withdrawals to L1.
--
-- Conventions as in 0001. Token numbers are 0 (ETH) and 1 (the test token).

-- Transfers name their token; earlier rows are ETH transfers.
ALTER TABLE transfers
    ADD COLUMN token SMALLINT NOT NULL DEFAULT 0 CHECK (token IN (0, 1));

-- Accounts hold a balance of each token: `balance` stays the ETH one.
ALTER TABLE accounts
    ADD COLUMN token_balance BIGINT NOT NULL DEFAULT 0;

-- Batches collect fees per token: `fees` stays the ETH fees.
ALTER TABLE batches
    ADD COLUMN token_fees BIGINT NOT NULL DEFAULT 0;

-- Withdrawals are journalled beside transfers (one admission order, one nonce sequence per
-- account): `kind` 1 rows name an L1 `recipient` instead of an L2 `to_key`.
ALTER TABLE transfers
    ADD COLUMN kind SMALLINT NOT NULL DEFAULT 0 CHECK (kind IN (0, 1)),
    ADD COLUMN recipient BYTEA CHECK (length(recipient) = 20),
    ALTER COLUMN to_key DROP NOT NULL,
    ADD CONSTRAINT transfers_destination CHECK (
        (kind = 0 AND to_key IS NOT NULL AND recipient IS NULL)
        OR (kind = 1 AND to_key IS NULL AND recipient IS NOT NULL)
    );

-- Deposits of the Rollup contract's L1 queue, as the settlement module's watcher saw them
-- at least `confirmations` blocks deep (so a reorg cannot take one back). `queue_head` is
-- the contract's chain after the deposit; the watcher checks it links to the previous
-- one, so no deposit is missed. The batcher consumes them in queue order and sets
-- `batch_number` in the transaction that stores the batch.
CREATE TABLE deposits (
    queue_index  BIGINT  PRIMARY KEY CHECK (queue_index >= 0),
    token        SMALLINT NOT NULL CHECK (token IN (0, 1)),
    public_key   BYTEA   NOT NULL CHECK (length(public_key) = 40),
    amount       BIGINT  NOT NULL,
    queue_head   BYTEA   NOT NULL CHECK (length(queue_head) = 32),
    l1_block     BIGINT  NOT NULL,
    l1_tx_hash   BYTEA   NOT NULL CHECK (length(l1_tx_hash) = 32),
    batch_number BIGINT  REFERENCES batches (number),
    seen_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX deposits_unconsumed ON deposits (queue_index) WHERE batch_number IS NULL;

-- How far the deposit watcher has read L1 (one row).
CREATE TABLE l1_scan (
    id             BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    deposits_block BIGINT  NOT NULL
);

-- Batches count the deposits they consumed.
ALTER TABLE batches
    ADD COLUMN deposit_count INTEGER NOT NULL DEFAULT 0 CHECK (deposit_count >= 0);
