//! What settlement and the contract must agree on byte for byte, and the bookkeeping of
//! `l1_transactions` against a real Postgres.

use alloy::{primitives::B256, sol_types::SolCall};
use rollup_core::{
    batch_data::{
        compact::{compact, expand},
        DataCommitment, CHUNK_DATA_BYTES,
    },
    hash::hash_elements,
    statement::BatchStatement,
};
use sqlx::PgPool;

use super::{
    contract::{root_from_l1, root_to_l1, IRollup},
    store::{Inclusion, NewL1Tx, SettlementStore, TxStatus},
};
use crate::Error;

/// The known answer of contracts/test/Rollup.t.sol (`test_known_answer_v4`), computed
/// independently by contracts/test/known_answers.py: the same compact calldata, roots and
/// fees give the same expansion, commitment, statement and words in Rust, so the contract
/// recomputes exactly what the circuits prove.
#[test]
fn the_contracts_known_answer_holds_in_rust() {
    let posted = hex::decode(
        "042307010000000100000002000000007d014005000000010000000000000001400020010000000300000004\
         000000000000000000000000000000000000000000000000000000000000000000000000000000010000020000\
         000300000000000000030400000000000000000000000000000000000000000000000000000000000000000000\
         000000000001000000000000010000000059682f00599deb76146104ae660d2722c8d670d700a6e2bfa4af71d1\
         d30bba141eed309e17f8d0f7b706149801000000000000000000000a00112233445566778899aabbccddeeff00\
         112233000b03000001000000020000000000000007b80dce0616c1ae98729d0cec0f34f7ec961f3ad01e35b136\
         5bd6f6f481ed69d02fce8f992f63004d0300000000000000000000051111111111111111111111111111111111\
         1111110100000000000000000000011111111111111111111111111111111111111111",
    )
    .unwrap();
    let data = expand(&posted).unwrap();
    assert_eq!(compact(&data).unwrap(), posted, "posting is lossless");
    assert_eq!(data.len(), 1 + 2 * CHUNK_DATA_BYTES);
    let commitment = DataCommitment::of_calldata(&data).unwrap();
    assert_eq!(
        commitment.to_string(),
        "0xb3f02395e29490c61969a89563bf9ff3f90d64c57d20e174f85fe4f4fc717265"
    );
    let root = |hex_root: &str| root_from_l1(&hex_root.parse::<B256>().unwrap()).unwrap();
    let statement = BatchStatement {
        old_root: root("0x0000000000000001000000000000000200000000000000030000000000000004"),
        new_root: root("0xffffffff00000000000000000000000000000000000000000000000000000007"),
        data_commitment: commitment.0,
        fees: [10, 2],
    };
    assert_eq!(
        hex::encode(statement.hash()),
        "8808cd1b6b009ce6f2051789942be1e9d5bafd95dec03e3ee7fdb737009fdc25"
    );
    let words = statement.public_inputs();
    assert_eq!(words[0], 0x8808cd1b);
}

#[test]
fn roots_round_trip_through_the_l1_encoding() {
    // The digest of words 1, 2, 3, 4 (stored little-endian) is those words big-endian on L1.
    let mut le = [0u8; 32];
    for (i, word) in le.chunks_exact_mut(8).enumerate() {
        word.copy_from_slice(&(i as u64 + 1).to_le_bytes());
    }
    let root = rollup_core::hash::Digest::from_bytes(&le).unwrap();
    let l1 = root_to_l1(&root);
    assert_eq!(
        l1,
        "0x0000000000000001000000000000000200000000000000030000000000000004"
            .parse::<B256>()
            .unwrap()
    );
    assert_eq!(root_from_l1(&l1).unwrap(), root);
    let hashed = hash_elements(&[]);
    assert_eq!(root_from_l1(&root_to_l1(&hashed)).unwrap(), hashed);
    let non_canonical = B256::repeat_byte(0xff);
    assert!(matches!(
        root_from_l1(&non_canonical),
        Err(Error::Settlement(_))
    ));
}

/// What the poster encodes is what the restorer decodes from a transaction's input.
#[test]
fn commit_batch_calls_round_trip() {
    let call = IRollup::commitBatchCall {
        number: 7,
        data: vec![2u8; 353].into(),
        newRoot: B256::repeat_byte(1),
        ethFees: u64::MAX,
        tokenFees: 3,
        proof: vec![9u8; 100].into(),
    };
    let input = call.abi_encode();
    assert_eq!(&input[..4], &IRollup::commitBatchCall::SELECTOR);
    let decoded = IRollup::commitBatchCall::abi_decode(&input).unwrap();
    assert_eq!(decoded.number, 7);
    assert_eq!(decoded.data, call.data);
    assert_eq!(decoded.newRoot, call.newRoot);
    assert_eq!((decoded.ethFees, decoded.tokenFees), (u64::MAX, 3));
    assert_eq!(decoded.proof, call.proof);
}

/// Inserts batch rows 1..=n (the foreign key of `l1_transactions`).
async fn seed_batches(db: &PgPool, n: i64) {
    for number in 1..=n {
        sqlx::query(
            "INSERT INTO batches (number, old_root, new_root, data_commitment, data, transfer_count, fees)
             VALUES ($1, $2, $2, $2, $3, 0, 5)",
        )
        .bind(number)
        .bind(vec![0u8; 32])
        .bind(vec![2u8; 353])
        .execute(db)
        .await
        .unwrap();
    }
}

fn new_tx(batch: u64, nonce: u64, tag: u8) -> NewL1Tx {
    NewL1Tx {
        batch,
        hash: [tag; 32],
        sender: [0xaa; 20],
        nonce,
        gas_limit: 3_000_000,
        max_fee_per_gas: u128::from(u64::MAX) * 4,
        max_priority_fee_per_gas: 1_000_000_000,
        raw: vec![tag; 10],
    }
}

fn inclusion(block: u64, confirmations: u64) -> Inclusion {
    Inclusion {
        block_number: block,
        block_hash: [block as u8; 32],
        gas_used: 1_234_567,
        effective_gas_price: 7,
        confirmations,
    }
}

#[sqlx::test(migrator = "rollup_core::schema::MIGRATOR")]
async fn transactions_go_from_sent_to_confirmed(db: PgPool) {
    seed_batches(&db, 2).await;
    let store = SettlementStore::new(db);
    let batch = store.batch(1).await.unwrap().unwrap();
    assert_eq!(
        (batch.number, batch.fees, batch.data.len()),
        (1, [5, 0], 353)
    );
    assert!(store.batch(3).await.unwrap().is_none());
    assert_eq!(store.latest_batch().await.unwrap(), 2);

    let id = store.insert_sent(&new_tx(1, 0, 1)).await.unwrap();
    let open = store.open_transactions().await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].status, TxStatus::Sent);
    assert_eq!(
        open[0].max_fee_per_gas,
        u128::from(u64::MAX) * 4,
        "u128 fees survive"
    );
    assert_eq!(open[0].raw, vec![1u8; 10]);

    store
        .record_inclusion(id, &inclusion(10, 1), false)
        .await
        .unwrap();
    assert_eq!(
        store.open_transactions().await.unwrap()[0].status,
        TxStatus::Mined
    );
    // A reorg takes it out of the chain: back to sent.
    store.record_unmined(id, "reorg").await.unwrap();
    assert_eq!(
        store.open_transactions().await.unwrap()[0].status,
        TxStatus::Sent
    );
    store
        .record_inclusion(id, &inclusion(11, 3), true)
        .await
        .unwrap();
    assert!(store.open_transactions().await.unwrap().is_empty());
    let confirmed = store.last_confirmed().await.unwrap().unwrap();
    assert_eq!(
        (confirmed.batch, confirmed.block_number, confirmed.gas_used),
        (1, 11, 1_234_567)
    );

    // A second confirmation of batch 1 (only after a reorg deeper than the depth)
    // supersedes the first instead of violating the one-confirmed-per-batch index.
    let again = store.insert_sent(&new_tx(1, 1, 2)).await.unwrap();
    store
        .record_inclusion(again, &inclusion(20, 3), true)
        .await
        .unwrap();
    let statuses: Vec<_> = store
        .batch_transactions(1)
        .await
        .unwrap()
        .into_iter()
        .map(|tx| tx.status)
        .collect();
    assert_eq!(statuses, [TxStatus::Dropped, TxStatus::Confirmed]);

    // Reverts and drops are counted per batch and close the transaction.
    let reverted = store.insert_sent(&new_tx(2, 2, 3)).await.unwrap();
    store
        .record_revert(reverted, &inclusion(21, 1), "reverted")
        .await
        .unwrap();
    let dropped = store.insert_sent(&new_tx(2, 2, 4)).await.unwrap();
    store.record_dropped(dropped, "nonce used").await.unwrap();
    assert_eq!(store.reverts(2).await.unwrap(), 1);
    assert_eq!(store.reverts(1).await.unwrap(), 0);
    assert!(store.open_transactions().await.unwrap().is_empty());

    // One hash is one row: a transaction cannot be recorded twice.
    assert!(store.insert_sent(&new_tx(2, 3, 4)).await.is_err());
}

#[sqlx::test(migrator = "rollup_core::schema::MIGRATOR")]
async fn the_final_proof_is_read_once_done_and_one_module_holds_the_lock(db: PgPool) {
    seed_batches(&db, 1).await;
    let store = SettlementStore::new(db.clone());
    assert!(store.final_proof(1).await.unwrap().is_none());
    sqlx::query(
        "INSERT INTO prover_jobs (batch_number, kind, job_key, input, is_final, status, pending_deps, max_attempts)
         VALUES (1, 'wrap', 'wrap/0', '', TRUE, 'ready', 0, 3)",
    )
    .execute(&db)
    .await
    .unwrap();
    assert!(
        store.final_proof(1).await.unwrap().is_none(),
        "not done yet"
    );
    sqlx::query("UPDATE prover_jobs SET status = 'done', result = '\\x0102'")
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(store.final_proof(1).await.unwrap(), Some(vec![1, 2]));

    let held = store.lock().await.unwrap();
    assert!(matches!(store.lock().await, Err(Error::Settlement(_))));
    drop(held);
    // The session ends with the dropped connection, and the lock with it.
    let mut again = None;
    for _ in 0..50 {
        if let Ok(conn) = store.lock().await {
            again = Some(conn);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(again.is_some(), "the lock was not released");
}
