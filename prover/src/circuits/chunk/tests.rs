//! The chunk circuit against native execution: a batch of internal and cross-partition
//! transfers (account creations, receive-then-spend) proves chunk by chunk, and breaking
//! any rule of a chunk makes its proof fail.

use std::sync::OnceLock;

use plonky2::plonk::proof::ProofWithPublicInputs;
use rollup_core::{
    account::partition_of_key,
    hash::Digest,
    schnorr::{PublicKey, SecretKey},
    state::State,
    transfer::{SignedTransfer, Transfer},
    tree::TreeConfig,
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

/// A batch over 4 partitions: internal transfers, transfers across partitions, two new
/// accounts, a receive followed by a spend of what was received, and enough debits in
/// partition 0 for two chunks.
pub(crate) fn sample_batch() -> (State, Vec<SignedTransfer>) {
    let keys = keys_by_partition(3);
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
    let mut nonces = std::collections::HashMap::new();
    let mut transfers = Vec::new();
    let mut send = |from: &SecretKey, to: PublicKey, amount: u64, fee: u64| {
        let nonce = nonces.entry(from.public_key()).or_insert(0u32);
        transfers.push(
            Transfer {
                chain_id: CHAIN_ID,
                from: from.public_key(),
                to,
                amount,
                fee,
                nonce: *nonce,
            }
            .sign(from),
        );
        *nonce += 1;
    };
    // Partition 0 -> 1 and back, internal, and to a new account in partition 2.
    send(&keys[0][0], keys[1][0].public_key(), 1_000, 10);
    send(&keys[1][0], keys[0][1].public_key(), 2_500, 0);
    send(&keys[0][1], keys[0][0].public_key(), 300, 3);
    send(&keys[0][0], keys[2][2].public_key(), 7_000, 20);
    // The new account spends what it just received, to a new account in partition 3.
    send(&keys[2][2], keys[3][2].public_key(), 6_000, 100);
    send(&keys[3][0], keys[3][1].public_key(), 50_000, 0);
    // More debits in partition 0 than one chunk holds.
    for i in 0..CHUNK_TRANSFERS as u64 {
        send(
            &keys[0][(i % 2) as usize],
            keys[(i % 4) as usize][0].public_key(),
            10 + i,
            1,
        );
    }
    (state, transfers)
}

fn sample_witness() -> &'static BatchWitness {
    static WITNESS: OnceLock<BatchWitness> = OnceLock::new();
    WITNESS.get_or_init(|| {
        let (state, transfers) = sample_batch();
        BatchWitness::generate(&test_params(), &state, &transfers).unwrap()
    })
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
    let mut fees = 0;
    for chunk in &witness.chunks {
        let proof = prove_and_verify(chunk).unwrap();
        let statement = Statement::from_public_inputs(&proof.public_inputs).unwrap();
        assert_eq!(statement, chunk.statement);
        assert_eq!(
            statement.data_before, data,
            "the data chain runs through every chunk"
        );
        data = statement.data_after;
        fees += statement.fees;
    }
    assert_eq!(data, witness.data_commitment);
    assert_eq!(fees, witness.outcome.fees);
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
    let other = SignedTransfer {
        signature: forger.sign(&chunk.units[unit].signed.transfer.message()),
        ..chunk.units[unit].signed
    };
    chunk.units[unit].signed = other;
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
    chunk.slots[slot].balance = chunk.slots[slot].amount;
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
    let mut wrong_fees = chunk;
    wrong_fees.statement.fees += 1;
    assert!(prove_and_verify(&wrong_fees).is_err());
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
