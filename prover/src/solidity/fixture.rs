//! The circuits and the batch the committed verifier and its proof fixture come from.
//!
//! The verifier is generated for the devnet/production configuration ([`devnet_params`]
//! with [`DEFAULT_MERGE_LEVELS`]), whose set is built once and kept in the circuit cache
//! ([`CircuitSet::load_or_build`]); the generator binary and the staleness test share it.
//!
//! [`other_circuit_proof`] makes the negative fixture: a real wrapper proof, of the same
//! length, of a circuit other than the devnet one.

use std::{collections::HashMap, path::PathBuf};

use plonky2::{
    field::types::Field,
    plonk::proof::ProofWithPublicInputs,
    recursion::dummy_circuit::{dummy_circuit, dummy_proof},
};

use rollup_core::{
    account::partition_of_key,
    deposit::Deposit,
    schnorr::{PublicKey, SecretKey},
    state::State,
    token::Token,
    transaction::SignedTransaction,
    transfer::Transfer,
    tree::TreeConfig,
    withdrawal::{L1Address, Withdrawal},
};

use crate::{
    circuits::{
        aggregation::tree::{CircuitSet, DEFAULT_MERGE_LEVELS},
        chunk::ChunkParams,
        wrapper::{WrapperCircuit, WrapperConfig},
        C, D, F,
    },
    Error, Result,
};

/// The devnet's chain id (Anvil's default).
pub const CHAIN_ID: u64 = 31337;

/// The devnet/production configuration: depth 32, 16 partitions, chain id 31337.
pub fn devnet_params() -> ChunkParams {
    ChunkParams {
        tree: TreeConfig::new(32, 4).expect("a valid tree shape"),
        chain_id: CHAIN_ID,
    }
}

/// The circuit cache: `$CIRCUIT_CACHE_DIR`, else `target/circuit-cache` in the workspace.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("CIRCUIT_CACHE_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/circuit-cache"),
        PathBuf::from,
    )
}

/// The devnet circuit set, from the cache under `cache_dir` or built (and stored there).
pub fn devnet_circuits(cache_dir: &std::path::Path) -> Result<CircuitSet> {
    CircuitSet::load_or_build(devnet_params(), DEFAULT_MERGE_LEVELS, cache_dir)
}

/// Fresh keys whose accounts lie in `partition`.
fn keys_in(partition: usize, count: usize) -> Vec<SecretKey> {
    let config = devnet_params().tree;
    let mut keys = Vec::with_capacity(count);
    while keys.len() < count {
        let key = SecretKey::random();
        if partition_of_key(&key.public_key(), &config) == partition {
            keys.push(key);
        }
    }
    keys
}

/// The fixture batch and the state it starts from.
pub struct SampleBatch {
    /// The genesis state: two funded accounts in each of partitions 0 and 1.
    pub state: State,
    /// The deposits it consumes: the first two of the L1 queue.
    pub deposits: Vec<Deposit>,
    /// Its signed operations, in order.
    pub transactions: Vec<SignedTransaction>,
}

/// A genesis state with two funded accounts in each of partitions 0 and 1, and a batch
/// using every record kind: a test-token deposit and an ETH deposit to a new account, four
/// ETH transfers (one internal to each partition, one each way across them), a token
/// transfer across partitions and an ETH withdrawal.
pub fn sample_batch() -> SampleBatch {
    let a = keys_in(0, 2);
    let b = keys_in(1, 3);
    let funded: Vec<(PublicKey, u64)> = a
        .iter()
        .chain(&b[..2])
        .map(|k| (k.public_key(), 1_000_000))
        .collect();
    let state = State::genesis(devnet_params().tree, &funded).expect("genesis");
    let deposits = vec![
        Deposit {
            index: 0,
            token: Token::TestToken,
            to: b[0].public_key(),
            amount: 5_000,
        },
        Deposit {
            index: 1,
            token: Token::Eth,
            to: b[2].public_key(),
            amount: 20_000,
        },
    ];
    let mut nonces: HashMap<PublicKey, u32> = HashMap::new();
    let mut next_nonce = |key: &SecretKey| {
        let nonce = nonces.entry(key.public_key()).or_insert(0);
        *nonce += 1;
        *nonce - 1
    };
    let mut send = |from: &SecretKey, to: &SecretKey, amount: u64, fee: u64, token: Token| {
        SignedTransaction::from(
            Transfer {
                chain_id: CHAIN_ID,
                from: from.public_key(),
                to: to.public_key(),
                amount,
                fee,
                nonce: next_nonce(from),
                token,
            }
            .sign(from),
        )
    };
    let mut transactions = vec![
        send(&a[0], &a[1], 1_000, 10, Token::Eth),
        send(&a[1], &b[0], 2_500, 5, Token::Eth),
        send(&b[0], &a[0], 700, 1, Token::Eth),
        send(&b[1], &b[0], 42_000, 0, Token::Eth),
        send(&b[0], &a[1], 3_000, 2, Token::TestToken),
    ];
    transactions.push(
        Withdrawal {
            chain_id: CHAIN_ID,
            from: b[2].public_key(),
            recipient: L1Address([0x77; 20]),
            token: Token::Eth,
            amount: 15_000,
            fee: 3,
            nonce: 0,
        }
        .sign(&b[2])
        .into(),
    );
    SampleBatch {
        state,
        deposits,
        transactions,
    }
}

/// A wrapper proof of another circuit than `set`'s wrapper, with the same shape, so the same
/// encoded length: the refusal of it on chain is for its circuit, not for its size.
///
/// The inner circuit is plonky2's `dummy_circuit` of the top circuit's exact
/// `CommonCircuitData` (no-op rows, same gates, degree and config) with another verifier
/// key; wrapping it builds the wrapper construction of the devnet with that key as its
/// constant, i.e. the same `CommonCircuitData` (checked) but other constants, hence another
/// constants-sigmas cap and circuit digest. Its proof exposes `public_inputs` (the devnet
/// fixture's statement, so only the circuit differs); it verifies under its own wrapper
/// and not under `set`'s (both checked).
pub fn other_circuit_proof(
    set: &CircuitSet,
    public_inputs: &[u32],
) -> Result<(WrapperCircuit, ProofWithPublicInputs<F, WrapperConfig, D>)> {
    let top = &set.top.data.common;
    if public_inputs.len() != top.num_public_inputs {
        return Err(Error::Statement(format!(
            "{} public inputs for a circuit of {}",
            public_inputs.len(),
            top.num_public_inputs
        )));
    }
    let inner = dummy_circuit::<F, C, D>(top);
    let inputs = public_inputs
        .iter()
        .enumerate()
        .map(|(i, &w)| (i, F::from_canonical_u32(w)))
        .collect();
    let inner_proof = dummy_proof(&inner, inputs)?;
    let wrapper = WrapperCircuit::new(&inner.common, &inner.verifier_only);
    let (ours, theirs) = (&wrapper.data, &set.wrapper.data);
    if ours.common != theirs.common
        || ours.verifier_only.circuit_digest == theirs.verifier_only.circuit_digest
    {
        return Err(Error::Witness(
            "the other wrapper must share the devnet wrapper's shape, not its circuit".into(),
        ));
    }
    let proof = wrapper.prove(&inner_proof)?;
    wrapper.verify(&proof)?;
    if set.wrapper.verify(&proof).is_ok() {
        return Err(Error::Witness(
            "the devnet wrapper accepts the other circuit's proof".into(),
        ));
    }
    Ok((wrapper, proof))
}

/// The gate evaluator's input for a wrapper proof, and plonky2's answer to it: `vars` as
/// `WrapperGateEvaluator.evalGateConstraints` takes them (the openings of the constants and
/// wires at zeta as (c0, c1) pairs, then the public inputs hash) and the filtered constraint
/// sums of every gate (`evaluate_gate_constraints`) as (c0, c1) pairs. The forge test
/// feeds the first to the generated Yul and expects the second: native against EVM on the
/// same real openings, gate by gate summed.
pub fn gate_evaluation(
    common: &plonky2::plonk::circuit_data::CommonCircuitData<F, D>,
    proof: &ProofWithPublicInputs<F, WrapperConfig, D>,
) -> (Vec<u64>, Vec<u64>) {
    use plonky2::{
        field::types::Field,
        field::{extension::FieldExtension, types::PrimeField64},
        plonk::vars::EvaluationVars,
    };
    let words = |xs: &[<F as plonky2::field::extension::Extendable<D>>::Extension]| -> Vec<u64> {
        xs.iter()
            .flat_map(|x| {
                let parts: [F; D] = x.to_basefield_array();
                parts.map(|c| c.to_canonical_u64())
            })
            .collect()
    };
    let openings = &proof.proof.openings;
    let pih = proof.get_public_inputs_hash();
    let vars = EvaluationVars {
        local_constants: &openings.constants,
        local_wires: &openings.wires,
        public_inputs_hash: &pih,
    };
    let mut input = words(&openings.constants);
    input.extend(words(&openings.wires));
    input.extend(pih.elements.iter().map(|x| x.to_canonical_u64()));
    // plonky2's `evaluate_gate_constraints` (its module is private): every gate's filtered
    // constraints, summed index-wise.
    let (selector_indices, groups) = super::selectors(common);
    let mut sums = vec![
        <F as plonky2::field::extension::Extendable<D>>::Extension::ZERO;
        common.num_gate_constraints
    ];
    for (row, gate) in common.gates.iter().enumerate() {
        let selector = selector_indices[row];
        let (start, end) = groups[selector];
        let constraints = gate.0.eval_filtered(
            vars,
            row,
            selector,
            start..end,
            groups.len(),
            common.num_lookup_selectors,
        );
        for (sum, c) in sums.iter_mut().zip(constraints) {
            *sum += c;
        }
    }
    (input, words(&sums))
}
