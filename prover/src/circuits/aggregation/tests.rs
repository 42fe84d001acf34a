//! A whole batch through the proof tree: chunks, merges, range nodes, top and wrapper,
//! checked against the native statement; and a batch whose partitions disagree on a
//! message, which every proof below the top accepts and the top refuses.

use std::sync::OnceLock;

use rollup_core::{schnorr::SecretKey, state::State, token::Token, transfer::Transfer};

use super::tree::{batch_statement, CircuitSet, ProofPlan};
use crate::circuits::chunk::{
    tests::{keys_by_partition, sample_batch_witness, test_params, CHAIN_ID},
    BatchWitness,
};

fn circuits() -> &'static CircuitSet {
    static SET: OnceLock<CircuitSet> = OnceLock::new();
    SET.get_or_init(|| CircuitSet::build(test_params(), 2).unwrap())
}

#[test]
fn a_batch_over_four_partitions_proves_to_its_statement_and_the_wrapper_verifies() {
    let witness = sample_batch_witness(&test_params());
    let set = circuits();
    let proof = set.prove_batch(&witness).unwrap();
    set.top.data.verify(proof.top.clone()).unwrap();
    set.wrapper.verify(&proof.wrapped).unwrap();

    let statement = batch_statement(&witness);
    assert_eq!(proof.statement, statement);
    let words: Vec<u64> = proof
        .wrapped
        .public_inputs
        .iter()
        .map(plonky2::field::types::PrimeField64::to_canonical_u64)
        .collect();
    let expected: Vec<u64> = statement
        .public_inputs()
        .iter()
        .map(|w| u64::from(*w))
        .collect();
    assert_eq!(
        words, expected,
        "the wrapper exposes the statement hash L1 recomputes"
    );

    // A tampered wrapper public input or proof byte does not verify.
    let mut tampered = proof.wrapped.clone();
    tampered.public_inputs[0] += plonky2::field::types::Field::ONE;
    assert!(set.wrapper.verify(&tampered).is_err());
}

#[test]
fn the_plan_merges_every_partition_and_skips_untouched_ranges() {
    let keys = keys_by_partition(2);
    let state = State::genesis(
        test_params().tree,
        &[(keys[1][0].public_key(), 100), (keys[1][1].public_key(), 0)],
    )
    .unwrap();
    let transfer = Transfer {
        chain_id: CHAIN_ID,
        from: keys[1][0].public_key(),
        to: keys[1][1].public_key(),
        amount: 10,
        fee: 1,
        nonce: 0,
        token: Token::Eth,
    }
    .sign(&keys[1][0]);
    let witness = BatchWitness::generate(&test_params(), &state, &[], &[transfer.into()]).unwrap();
    let plan = ProofPlan::new(&witness, 2, 2).unwrap();
    let kinds: Vec<&str> = plan.nodes.iter().map(|n| n.kind()).collect();
    // One chunk, lifted once; partitions 0-1 form one range node (0 untouched), 2-3 are
    // untouched altogether; then the root range, the top and the wrapper.
    assert_eq!(kinds, ["chunk", "merge", "range", "range", "top", "wrap"]);
}

#[test]
fn partitions_that_disagree_on_a_message_are_refused_at_the_top() {
    // A transfer from partition 3 to partition 0, proven twice with different amounts:
    // partition 0 from the second (it received 1,001), partition 3 from the first (it sent
    // 1,000). Each chunk, merge and range proof is valid on its own.
    let keys = keys_by_partition(1);
    let sender: &SecretKey = &keys[3][0];
    let state = State::genesis(
        test_params().tree,
        &[(sender.public_key(), 10_000), (keys[0][0].public_key(), 0)],
    )
    .unwrap();
    let batch = |amount| {
        let transfer = Transfer {
            chain_id: CHAIN_ID,
            from: sender.public_key(),
            to: keys[0][0].public_key(),
            amount,
            fee: 0,
            nonce: 0,
            token: Token::Eth,
        }
        .sign(sender);
        BatchWitness::generate(&test_params(), &state, &[], &[transfer.into()]).unwrap()
    };
    let (sent, received) = (batch(1_000), batch(1_001));
    let mut mixed = sent.clone();
    mixed.chunks = received
        .chunks
        .iter()
        .filter(|c| c.statement.partition == 0)
        .chain(sent.chunks.iter().filter(|c| c.statement.partition != 0))
        .cloned()
        .collect();
    mixed.chains[0] = received.chains[0].clone();
    // Partition 0's chunk posts nothing, so the data chain still runs through.
    assert_eq!(
        mixed.chunks[0].statement.data_after,
        mixed.chunks[1].statement.data_before
    );
    let error = circuits().prove_batch(&mixed);
    assert!(error.is_err(), "the top must refuse mismatched chains");
}
