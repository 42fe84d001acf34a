//! The chunk circuit against native execution: a batch of deposits, internal and
//! cross-partition transfers of both tokens (account creations, receive-then-spend) and
//! withdrawals proves chunk by chunk, and breaking any rule of a chunk makes its proof fail.

use std::sync::OnceLock;

use plonky2::plonk::proof::ProofWithPublicInputs;
use rollup_core::{
    account::partition_of_key,
    deposit::Deposit,
    hash::Digest,
    schnorr::{PublicKey, SecretKey},
    state::State,
    token::Token,
    transaction::SignedTransaction,
    transfer::{SignedTransfer, Transfer},
    tree::TreeConfig,
    withdrawal::{L1Address, Withdrawal},
};

use super::*;
use crate::circuits::{C, D, F};

pub(crate) const CHAIN_ID: u64 = 7;

/// Four partitions of depth-8 subtrees: small, and every rule still applies.
pub(crate) fn test_params() -> ChunkParams {
    ChunkParams {
        tree: TreeConfig::new(10, 2).unwrap(),
        chain_id: CHAIN_ID,
    }
}

pub(crate) fn circuit() -> &'static ChunkCircuit {
    static CIRCUIT: OnceLock<ChunkCircuit> = OnceLock::new();
    CIRCUIT.get_or_init(|| ChunkCircuit::build(test_params()))
}

/// Keys with `per_partition` keys in each partition, and their owners' secret keys.
pub(crate) fn keys_by_partition(per_partition: usize) -> Vec<Vec<SecretKey>> {
    let config = test_params().tree;
    let mut out: Vec<Vec<SecretKey>> = vec![Vec::new(); config.num_partitions()];
    while out.iter().any(|keys| keys.len() < per_partition) {
        let key = SecretKey::random();
        let partition = partition_of_key(&key.public_key(), &config);
        if out[partition].len() < per_partition {
            out[partition].push(key);
        }
    }
    out
}

/// A batch over 4 partitions and what it starts from.
pub(crate) struct SampleBatch {
    pub state: State,
    pub deposits: Vec<Deposit>,
    pub transactions: Vec<SignedTransaction>,
}

/// A batch over 4 partitions: deposits of both tokens (one creating an account), internal
/// transfers, transfers across partitions in both tokens, two new accounts, a receive
/// followed by a spend of what was received, withdrawals of both tokens, and enough debits
/// in partition 0 for two chunks.
pub(crate) fn sample_batch() -> SampleBatch {
    let keys = keys_by_partition(4);
    let funded: Vec<(PublicKey, u64)> = keys
        .iter()
        .enumerate()
        .flat_map(|(p, keys)| {
            keys.iter()
                .take(2)
                .map(move |k| (k.public_key(), 1_000_000 * (p as u64 + 1)))
        })
        .collect();
    let state = State::genesis(test_params().tree, &funded).unwrap();
    let deposits = vec![
        Deposit {
            index: 5,
            token: Token::TestToken,
            to: keys[1][0].public_key(),
            amount: 90_000,
        },
        Deposit {
            index: 6,
            token: Token::Eth,
            to: keys[2][3].public_key(),
            amount: 4_000,
        },
        Deposit {
            index: 7,
            token: Token::TestToken,
            to: keys[1][1].public_key(),
            amount: 1,
        },
    ];
    let mut nonces = std::collections::HashMap::new();
    let mut transactions: Vec<SignedTransaction> = Vec::new();
    let mut send = |from: &SecretKey, to: PublicKey, amount: u64, fee: u64, token: Token| {
        let nonce = nonces.entry(from.public_key()).or_insert(0u32);
        transactions.push(
            Transfer {
                chain_id: CHAIN_ID,
                from: from.public_key(),
                to,
                amount,
                fee,
                nonce: *nonce,
                token,
            }
            .sign(from)
            .into(),
        );
        *nonce += 1;
    };
    let eth = Token::Eth;
    // Partition 0 -> 1 and back, internal, and to a new account in partition 2.
    send(&keys[0][0], keys[1][0].public_key(), 1_000, 10, eth);
    send(&keys[1][0], keys[0][1].public_key(), 2_500, 0, eth);
    send(&keys[0][1], keys[0][0].public_key(), 300, 3, eth);
    send(&keys[0][0], keys[2][2].public_key(), 7_000, 20, eth);
    // The new account spends what it just received, to a new account in partition 3.
    send(&keys[2][2], keys[3][2].public_key(), 6_000, 100, eth);
    send(&keys[3][0], keys[3][1].public_key(), 50_000, 0, eth);
    // Deposited tokens move across partitions and inside one.
    let token = Token::TestToken;
    send(&keys[1][0], keys[3][0].public_key(), 40_000, 7, token);
    send(&keys[3][0], keys[3][1].public_key(), 10_000, 1, token);
    send(&keys[1][0], keys[1][1].public_key(), 5_000, 0, token);
    // More debits in partition 0 than one chunk holds.
    for i in 0..CHUNK_TRANSFERS as u64 {
        send(
            &keys[0][(i % 2) as usize],
            keys[(i % 4) as usize][0].public_key(),
            10 + i,
            1,
            eth,
        );
    }
    let nonce = |key: &SecretKey| *nonces.get(&key.public_key()).unwrap_or(&0);
    // Withdrawals of both tokens, one by the account a deposit created.
    let withdrawals = [
        (&keys[3][1], Token::TestToken, 9_000, 2),
        (&keys[2][3], Token::Eth, 3_000, 5),
        (&keys[0][0], Token::Eth, 1_000, 0),
    ];
    for (i, (key, token, amount, fee)) in withdrawals.into_iter().enumerate() {
        transactions.push(
            Withdrawal {
                chain_id: CHAIN_ID,
                from: key.public_key(),
                recipient: L1Address([0x10 + i as u8; 20]),
                token,
                amount,
                fee,
                nonce: nonce(key),
            }
            .sign(key)
            .into(),
        );
    }
    SampleBatch {
        state,
        deposits,
        transactions,
    }
}

/// The witness of a sample batch.
pub(crate) fn sample_batch_witness(params: &ChunkParams) -> BatchWitness {
    let batch = sample_batch();
    BatchWitness::generate(params, &batch.state, &batch.deposits, &batch.transactions).unwrap()
}

fn sample_witness() -> &'static BatchWitness {
    static WITNESS: OnceLock<BatchWitness> = OnceLock::new();
    WITNESS.get_or_init(|| sample_batch_witness(&test_params()))
}

/// Proves and verifies; a witness breaking a rule fails either way plonky2 reports it (an
/// error, an invalid proof, or a generator's assertion on an impossible value).
fn prove_and_verify(witness: &ChunkWitness) -> anyhow::Result<ProofWithPublicInputs<F, C, D>> {
    let attempt = std::panic::catch_unwind(|| -> anyhow::Result<_> {
        let proof = circuit().prove(witness)?;
        circuit().data.verify(proof.clone())?;
        Ok(proof)
    });
    attempt.unwrap_or_else(|_| Err(anyhow::anyhow!("witness generation refused the values")))
}

#[test]
fn every_chunk_of_a_batch_proves_and_states_what_native_execution_did() {
    let witness = sample_witness();
    let partitions = test_params().tree.num_partitions();
    assert!(
        witness.chunks.len() > partitions,
        "partition 0 takes two chunks"
    );
    println!(
        "chunk circuit: {} rows (2^{})",
        circuit().data.common.degree(),
        circuit().data.common.degree_bits()
    );

    let mut data = [0u8; 32];
    let mut fees = [0u64; 2];
    for chunk in &witness.chunks {
        let proof = prove_and_verify(chunk).unwrap();
        let statement = Statement::from_public_inputs(&proof.public_inputs).unwrap();
        assert_eq!(statement, chunk.statement);
        assert_eq!(
            statement.data_before, data,
            "the data chain runs through every chunk"
        );
        data = statement.data_after;
        for (total, fee) in fees.iter_mut().zip(statement.fees) {
            *total += fee;
        }
    }
    assert_eq!(data, witness.data_commitment);
    assert_eq!(fees, witness.outcome.fees);
    assert!(fees[1] > 0, "token transfers paid token fees");
    let count =
        |pick: fn(&ChunkWitness) -> usize| -> usize { witness.chunks.iter().map(pick).sum() };
    assert_eq!(count(|c| c.deposits.iter().filter(|d| d.active).count()), 3);
    assert_eq!(
        count(|c| c.withdrawals.iter().filter(|w| w.active).count()),
        3
    );
    // Each partition's chunks take its root from before the batch to after it.
    for partition in 0..partitions {
        let chunks: Vec<_> = witness
            .chunks
            .iter()
            .filter(|c| c.statement.partition == partition)
            .collect();
        assert!(!chunks.is_empty());
        for pair in chunks.windows(2) {
            assert_eq!(pair[0].statement.new_root, pair[1].statement.old_root);
        }
        assert_eq!(
            chunks.last().unwrap().statement.new_root,
            witness.outcome.partition_roots[partition]
        );
    }
    // The calldata decodes to the chunks the circuits hashed.
    let decoded = rollup_core::batch_data::BatchData::decode(&witness.calldata).unwrap();
    assert_eq!(decoded.chunks.len(), witness.chunks.len());
    assert_eq!(
        rollup_core::batch_data::DataCommitment::of_calldata(&witness.calldata)
            .unwrap()
            .as_bytes(),
        &witness.data_commitment
    );
}

/// The first chunk of partition `partition` with a slot matching `pick`.
fn chunk_with(
    witness: &BatchWitness,
    pick: impl Fn(&SlotWitness) -> bool,
) -> (ChunkWitness, usize) {
    witness
        .chunks
        .iter()
        .find_map(|chunk| {
            chunk
                .slots
                .iter()
                .position(&pick)
                .map(|slot| (chunk.clone(), slot))
        })
        .expect("a chunk with such a slot")
}

#[test]
fn a_bad_signature_cannot_be_proven() {
    let (mut chunk, slot) = chunk_with(sample_witness(), |s| s.debit);
    let unit = chunk.slots[slot].unit;
    // A valid signature, but of another message.
    let forger = SecretKey::random();
    let SignedTransaction::Transfer(signed) = chunk.units[unit].signed else {
        panic!("the first debit is a transfer");
    };
    let other = SignedTransfer {
        signature: forger.sign(&signed.transfer.message()),
        ..signed
    };
    chunk.units[unit].signed = other.into();
    assert!(prove_and_verify(&chunk).is_err());
}

#[test]
fn a_wrong_nonce_cannot_be_proven() {
    let (mut chunk, slot) = chunk_with(sample_witness(), |s| s.debit);
    // The account's nonce no longer matches the signed one.
    chunk.slots[slot].nonce += 1;
    assert!(prove_and_verify(&chunk).is_err());
}

#[test]
fn an_overspend_cannot_be_proven() {
    let (mut chunk, slot) = chunk_with(sample_witness(), |s| s.debit);
    // The sender's balance before is below amount + fee.
    let token = chunk.slots[slot].token.index();
    chunk.slots[slot].balances[token] = chunk.slots[slot].amount;
    assert!(prove_and_verify(&chunk).is_err());
}

#[test]
fn a_wrong_merkle_path_cannot_be_proven() {
    let (mut chunk, slot) = chunk_with(sample_witness(), |s| s.credit);
    chunk.slots[slot].siblings[0] = rollup_core::hash::hash_two(Digest::ZERO, Digest::ZERO);
    assert!(prove_and_verify(&chunk).is_err());
}

#[test]
fn a_wrong_old_root_or_data_commitment_cannot_be_proven() {
    let (chunk, _) = chunk_with(sample_witness(), |s| s.debit);
    let mut wrong_root = chunk.clone();
    wrong_root.statement.old_root = wrong_root.statement.new_root;
    assert!(prove_and_verify(&wrong_root).is_err());
    let mut wrong_data = chunk.clone();
    wrong_data.statement.data_after[31] ^= 1;
    assert!(prove_and_verify(&wrong_data).is_err());
    for token in 0..2 {
        let mut wrong_fees = chunk.clone();
        wrong_fees.statement.fees[token] += 1;
        assert!(prove_and_verify(&wrong_fees).is_err());
    }
}

#[test]
fn a_wrong_message_or_credit_cannot_be_proven() {
    let witness = sample_witness();
    // A cross-partition credit of another amount than the message carried: the chains
    // commitment after no longer matches.
    let (mut chunk, slot) = chunk_with(witness, |s| s.credit && !s.internal);
    chunk.slots[slot].amount += 1;
    assert!(prove_and_verify(&chunk).is_err());
    // An internal credit to another amount than the transfer's.
    let (mut chunk, slot) = chunk_with(witness, |s| s.credit && s.internal);
    chunk.slots[slot].amount -= 1;
    assert!(prove_and_verify(&chunk).is_err());
    // A creation placed in an occupied slot: its old leaf is not empty.
    let (mut chunk, slot) = chunk_with(witness, |s| s.created);
    chunk.slots[slot].local_index = 0;
    assert!(prove_and_verify(&chunk).is_err());
}

#[test]
fn a_deposit_credits_exactly_its_record() {
    let witness = sample_witness();
    let (chunk, slot) = chunk_with(witness, |s| s.deposit);
    let record = chunk.slots[slot].deposit_record;
    // More than the record posts, to another key, or in the other token.
    let mut more = chunk.clone();
    more.slots[slot].amount += 1;
    assert!(prove_and_verify(&more).is_err());
    let mut posted_more = chunk.clone();
    posted_more.deposits[record].amount += 1;
    assert!(prove_and_verify(&posted_more).is_err());
    let mut other_token = chunk.clone();
    other_token.slots[slot].token = match chunk.slots[slot].token {
        Token::Eth => Token::TestToken,
        Token::TestToken => Token::Eth,
    };
    assert!(prove_and_verify(&other_token).is_err());
    // A deposit slot without its record, or a record without its credit.
    let mut unposted = chunk.clone();
    unposted.deposits[record].active = false;
    assert!(prove_and_verify(&unposted).is_err());
    let mut not_a_deposit = chunk;
    not_a_deposit.slots[slot].deposit = false;
    assert!(prove_and_verify(&not_a_deposit).is_err());
}

#[test]
fn a_withdrawal_pays_exactly_its_signed_recipient_and_amount() {
    let witness = sample_witness();
    let (chunk, slot) = chunk_with(witness, |s| {
        s.debit && s.token == Token::TestToken && s.counterpart == 0 && !s.internal
    });
    let unit = chunk.slots[slot].unit;
    assert!(chunk.units[unit].is_withdrawal());
    prove_and_verify(&chunk).expect("the honest chunk proves");
    // Another recipient or amount posted than the one signed.
    let mut other_recipient = chunk.clone();
    other_recipient.withdrawals[0].recipient.0[19] ^= 1;
    assert!(prove_and_verify(&other_recipient).is_err());
    let mut other_amount = chunk.clone();
    other_amount.withdrawals[0].amount -= 1;
    assert!(prove_and_verify(&other_amount).is_err());
    // The record dropped: the withdrawal's payout would vanish from the calldata.
    let mut dropped = chunk;
    dropped.withdrawals[0].active = false;
    assert!(prove_and_verify(&dropped).is_err());
}
