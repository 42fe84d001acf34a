//! The chunk circuit's constraints (see the module documentation).

use plonky2::{
    field::types::Field,
    hash::hash_types::HashOutTarget,
    iop::{
        target::{BoolTarget, Target},
        witness::{PartialWitness, WitnessWrite},
    },
    plonk::{
        circuit_builder::CircuitBuilder,
        circuit_data::{CircuitConfig, CircuitData},
        proof::ProofWithPublicInputs,
    },
};
use rollup_core::{
    batch_data::{AMOUNT_FORMAT, CHUNK_DEPOSITS, CHUNK_WITHDRAWALS, FEE_FORMAT},
    token::TOKENS,
    tree::TreeConfig,
};

use super::{
    data::{bits_to_bytes_be, data_chain_circuit, ByteTarget},
    statement::{StatementTarget, STATEMENT_LEN},
    witness::ChunkWitness,
    CHUNK_NEW_ACCOUNTS, CHUNK_STEPS, CHUNK_TRANSFERS,
};
use crate::{
    circuits::{
        curve::canonical_bits_64,
        digest::{hash_elements_circuit, select_hash_circuit, set_digest_target},
        float::{packed_float_circuit, set_packed_float_target, PackedFloatTarget},
        gfp5::{set_gfp5_target, Gfp5Target},
        schnorr::{
            add_virtual_signature_target, set_signature_target, verify_schnorr_circuit,
            SignatureTarget,
        },
        state::{leaf_circuit, merkle_root_circuit, partition_of_key_circuit},
        transfer::{chain_step_circuit, message_circuit},
        uint::{
            add_u64_circuit, add_virtual_u64_target, conditional_assert_eq,
            conditional_assert_eq_u64, mask_u64, select_u64, set_u64_target, sub_u64_circuit,
            U64Target,
        },
        C, D, F,
    },
    Result,
};

/// What a chunk circuit is built for: the tree's shape (partition count, subtree depth)
/// and the chain id every signature commits to. Circuits built for equal parameters are
/// identical.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkParams {
    /// The state tree's shape.
    pub tree: TreeConfig,
    /// The rollup's chain id.
    pub chain_id: u64,
}

impl ChunkParams {
    fn partition_bits(&self) -> usize {
        self.tree.partition_bits() as usize
    }

    fn local_bits(&self) -> usize {
        self.tree.partition_depth() as usize
    }

    /// Message chains a partition keeps: one sent and one received per partition.
    pub fn chain_count(&self) -> usize {
        2 * self.tree.num_partitions()
    }
}

/// A signature unit: one debiting transfer or withdrawal, its signature and its calldata
/// record.
#[derive(Clone, Debug)]
pub(crate) struct UnitTarget {
    pub active: BoolTarget,
    pub withdrawal: BoolTarget,
    pub token: BoolTarget,
    pub from: Gfp5Target,
    /// The recipient's key, or a withdrawal's L1 address as 5 u32 words.
    pub to: Gfp5Target,
    pub amount: U64Target,
    pub fee: U64Target,
    pub nonce: Target,
    pub from_index: Target,
    pub to_index: Target,
    pub signature: SignatureTarget,
    pub amount_word: PackedFloatTarget,
    pub fee_word: PackedFloatTarget,
}

/// A new-account unit: the key record of an account the chunk creates.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NewAccountTarget {
    pub active: BoolTarget,
    pub index: Target,
    pub key: Gfp5Target,
}

/// A deposit record: a credit from the L1 queue.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DepositTarget {
    pub active: BoolTarget,
    pub token: BoolTarget,
    pub offset: Target,
    pub index: Target,
    pub amount: U64Target,
    pub key: Gfp5Target,
}

/// A withdrawal record: what L1 pays, and to whom.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WithdrawalTarget {
    pub active: BoolTarget,
    pub token: BoolTarget,
    pub amount: U64Target,
    pub recipient: [Target; 5],
}

/// One leaf update.
#[derive(Clone, Debug)]
pub(crate) struct SlotTarget {
    pub debit: BoolTarget,
    pub credit: BoolTarget,
    pub internal: BoolTarget,
    pub created: BoolTarget,
    pub deposit: BoolTarget,
    pub token: BoolTarget,
    pub unit: Target,
    pub new_account: Target,
    pub deposit_record: Target,
    pub counterpart: Target,
    pub local_index: Target,
    pub key: Gfp5Target,
    pub balances: [U64Target; TOKENS],
    pub nonce: Target,
    pub amount: U64Target,
    pub siblings: Vec<HashOutTarget>,
}

/// Every witness target of the circuit.
#[derive(Clone, Debug)]
pub(crate) struct ChunkTargets {
    pub statement: StatementTarget,
    pub units: Vec<UnitTarget>,
    pub new_accounts: Vec<NewAccountTarget>,
    pub deposits: Vec<DepositTarget>,
    pub withdrawals: Vec<WithdrawalTarget>,
    pub slots: Vec<SlotTarget>,
    pub chains_before: Vec<HashOutTarget>,
}

/// The chunk circuit, built once per [`ChunkParams`].
pub struct ChunkCircuit {
    /// The circuit's prover and verifier data.
    pub data: CircuitData<F, C, D>,
    params: ChunkParams,
    targets: ChunkTargets,
}

crate::circuits::serialization::persist_struct!(ChunkCircuit {
    data,
    params,
    targets
});

/// The fields of a unit that a slot reads, in the order of [`unit_fields`].
struct UnitFields {
    from: [Target; 5],
    to: [Target; 5],
    amount: U64Target,
    total: U64Target,
    nonce: Target,
    from_index: Target,
    to_index: Target,
    token: Target,
    withdrawal: Target,
}

const UNIT_FIELDS: usize = 19;

fn unit_fields(unit: &UnitTarget, total: U64Target) -> [Target; UNIT_FIELDS] {
    let mut out = [unit.nonce; UNIT_FIELDS];
    out[..5].copy_from_slice(&unit.from.0);
    out[5..10].copy_from_slice(&unit.to.0);
    out[10..12].copy_from_slice(&unit.amount.limbs());
    out[12..14].copy_from_slice(&total.limbs());
    out[14] = unit.nonce;
    out[15] = unit.from_index;
    out[16] = unit.to_index;
    out[17] = unit.token.target;
    out[18] = unit.withdrawal.target;
    out
}

fn read_unit(fields: [Target; UNIT_FIELDS]) -> UnitFields {
    UnitFields {
        from: fields[..5].try_into().unwrap(),
        to: fields[5..10].try_into().unwrap(),
        amount: U64Target {
            lo: fields[10],
            hi: fields[11],
        },
        total: U64Target {
            lo: fields[12],
            hi: fields[13],
        },
        nonce: fields[14],
        from_index: fields[15],
        to_index: fields[16],
        token: fields[17],
        withdrawal: fields[18],
    }
}

/// Reads `columns[*][index]`: one record of a list whose fields are the columns.
fn fetch(
    builder: &mut CircuitBuilder<F, D>,
    index: Target,
    columns: &[Vec<Target>],
) -> Vec<Target> {
    columns
        .iter()
        .map(|column| builder.random_access(index, column.clone()))
        .collect()
}

/// Constrains a list's records to be used first: `active[i]` implies `active[i - 1]`.
/// Returns how many are used.
fn used_first(builder: &mut CircuitBuilder<F, D>, active: &[BoolTarget]) -> Target {
    let mut previous = builder._true();
    let mut count = builder.zero();
    for &flag in active {
        let inside = builder.and(flag, previous);
        builder.connect(inside.target, flag.target);
        previous = flag;
        count = builder.add(count, flag.target);
    }
    count
}

/// The 8 big-endian bytes of a u64, zero unless `active`.
fn masked_u64_bytes(
    builder: &mut CircuitBuilder<F, D>,
    active: BoolTarget,
    value: U64Target,
) -> Vec<ByteTarget> {
    let mut bytes = masked_u32_bytes(builder, active, value.hi);
    bytes.extend(masked_u32_bytes(builder, active, value.lo));
    bytes
}

/// A key's 40 bytes (little-endian 8-byte words, as `PublicKey::to_bytes`), zero unless
/// `active`.
fn masked_key_bytes(
    builder: &mut CircuitBuilder<F, D>,
    active: BoolTarget,
    key: Gfp5Target,
) -> Vec<ByteTarget> {
    let mut bytes = Vec::with_capacity(40);
    for element in key.0 {
        let bits = canonical_bits_64(builder, element);
        let bits = masked_bits(builder, active, &bits);
        bytes.extend(
            bits.chunks(8)
                .map(|byte| -> ByteTarget { byte.try_into().unwrap() }),
        );
    }
    bytes
}

/// `value`'s low 32 bits as 4 big-endian bytes, each zero unless `active`.
fn masked_u32_bytes(
    builder: &mut CircuitBuilder<F, D>,
    active: BoolTarget,
    value: Target,
) -> Vec<ByteTarget> {
    let bits = builder.split_le(value, 32);
    let masked: Vec<BoolTarget> = bits.into_iter().map(|b| builder.and(b, active)).collect();
    bits_to_bytes_be(&masked)
}

fn masked_bits(
    builder: &mut CircuitBuilder<F, D>,
    active: BoolTarget,
    bits: &[BoolTarget],
) -> Vec<BoolTarget> {
    bits.iter().map(|&b| builder.and(b, active)).collect()
}

/// A record's tag byte: bit 0 `active`, then the given flags (each already zero unless
/// `active`), the other bits zero.
fn tag_byte(
    builder: &mut CircuitBuilder<F, D>,
    active: BoolTarget,
    flags: &[BoolTarget],
) -> ByteTarget {
    let zero = builder._false();
    let mut byte = [zero; 8];
    byte[0] = active;
    byte[1..=flags.len()].copy_from_slice(flags);
    byte
}

/// A zero byte.
fn zero_byte(builder: &mut CircuitBuilder<F, D>) -> ByteTarget {
    [builder._false(); 8]
}

impl ChunkCircuit {
    /// Builds the circuit (deterministic: equal parameters give equal verifier data).
    pub fn build(params: ChunkParams) -> Self {
        let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
        let targets = build_constraints(&mut builder, &params);
        let data = builder.build::<C>();
        Self {
            data,
            params,
            targets,
        }
    }

    /// The parameters the circuit was built for.
    pub fn params(&self) -> ChunkParams {
        self.params
    }

    /// Proves a chunk; fails if the witness breaks any rule.
    pub fn prove(&self, witness: &ChunkWitness) -> Result<ProofWithPublicInputs<F, C, D>> {
        let mut pw = PartialWitness::new();
        self.fill(&mut pw, witness)?;
        Ok(self.data.prove(pw)?)
    }

    fn fill(&self, pw: &mut PartialWitness<F>, witness: &ChunkWitness) -> anyhow::Result<()> {
        let t = &self.targets;
        let statement = witness.statement.to_public_inputs();
        for (target, value) in t.statement.targets().into_iter().zip(statement) {
            pw.set_target(target, value)?;
        }
        for (target, value) in t.chains_before.iter().zip(&witness.chains_before) {
            set_digest_target(pw, *target, *value)?;
        }
        for (target, unit) in t.units.iter().zip(&witness.units) {
            let payment = unit.signed.transaction().payment();
            pw.set_bool_target(target.active, unit.active)?;
            pw.set_bool_target(target.withdrawal, unit.is_withdrawal())?;
            pw.set_bool_target(target.token, payment.token.is_test_token())?;
            set_gfp5_target(
                pw,
                target.from,
                &unit.signed.transaction().from().encoding(),
            )?;
            for (element, value) in target.to.0.iter().zip(unit.destination()) {
                pw.set_target(*element, value)?;
            }
            set_u64_target(pw, target.amount, payment.amount)?;
            set_u64_target(pw, target.fee, payment.fee)?;
            pw.set_target(target.nonce, F::from_canonical_u32(payment.nonce))?;
            pw.set_target(target.from_index, F::from_canonical_u64(unit.from_index))?;
            pw.set_target(target.to_index, F::from_canonical_u64(unit.to_index))?;
            set_signature_target(pw, &target.signature, unit.signed.signature())?;
            set_packed_float_target(pw, &target.amount_word, AMOUNT_FORMAT, payment.amount)?;
            set_packed_float_target(pw, &target.fee_word, FEE_FORMAT, payment.fee)?;
        }
        for (target, record) in t.new_accounts.iter().zip(&witness.new_accounts) {
            pw.set_bool_target(target.active, record.active)?;
            pw.set_target(target.index, F::from_canonical_u64(record.index))?;
            set_gfp5_target(pw, target.key, &record.key)?;
        }
        for (target, record) in t.deposits.iter().zip(&witness.deposits) {
            pw.set_bool_target(target.active, record.active)?;
            pw.set_bool_target(target.token, record.token.is_test_token())?;
            pw.set_target(target.offset, F::from_canonical_u16(record.offset))?;
            pw.set_target(target.index, F::from_canonical_u64(record.index))?;
            set_u64_target(pw, target.amount, record.amount)?;
            set_gfp5_target(pw, target.key, &record.key)?;
        }
        for (target, record) in t.withdrawals.iter().zip(&witness.withdrawals) {
            pw.set_bool_target(target.active, record.active)?;
            pw.set_bool_target(target.token, record.token.is_test_token())?;
            set_u64_target(pw, target.amount, record.amount)?;
            for (element, value) in target.recipient.iter().zip(record.recipient.to_fields()) {
                pw.set_target(*element, value)?;
            }
        }
        for (target, slot) in t.slots.iter().zip(&witness.slots) {
            pw.set_bool_target(target.debit, slot.debit)?;
            pw.set_bool_target(target.credit, slot.credit)?;
            pw.set_bool_target(target.internal, slot.internal)?;
            pw.set_bool_target(target.created, slot.created)?;
            pw.set_bool_target(target.deposit, slot.deposit)?;
            pw.set_bool_target(target.token, slot.token.is_test_token())?;
            pw.set_target(target.unit, F::from_canonical_usize(slot.unit))?;
            pw.set_target(
                target.new_account,
                F::from_canonical_usize(slot.new_account),
            )?;
            pw.set_target(
                target.deposit_record,
                F::from_canonical_usize(slot.deposit_record),
            )?;
            pw.set_target(
                target.counterpart,
                F::from_canonical_usize(slot.counterpart),
            )?;
            pw.set_target(target.local_index, F::from_canonical_u64(slot.local_index))?;
            set_gfp5_target(pw, target.key, &slot.key)?;
            for (balance, value) in target.balances.iter().zip(slot.balances) {
                set_u64_target(pw, *balance, value)?;
            }
            pw.set_target(target.nonce, F::from_canonical_u32(slot.nonce))?;
            set_u64_target(pw, target.amount, slot.amount)?;
            for (sibling, value) in target.siblings.iter().zip(&slot.siblings) {
                set_digest_target(pw, *sibling, *value)?;
            }
        }
        Ok(())
    }
}

fn add_unit(builder: &mut CircuitBuilder<F, D>, chain_id: u64) -> UnitTarget {
    let active = builder.add_virtual_bool_target_safe();
    let withdrawal = builder.add_virtual_bool_target_safe();
    let token = builder.add_virtual_bool_target_safe();
    let from = Gfp5Target(builder.add_virtual_target_arr());
    let to = Gfp5Target(builder.add_virtual_target_arr());
    let amount = add_virtual_u64_target(builder);
    let fee = add_virtual_u64_target(builder);
    let nonce = builder.add_virtual_target();
    builder.range_check(nonce, 32);
    let from_index = builder.add_virtual_target();
    let to_index = builder.add_virtual_target();
    let signature = add_virtual_signature_target(builder);
    // Every unit verifies a signature; an unused one carries a fixed valid dummy.
    let message = message_circuit(
        builder, chain_id, withdrawal, from, to.0, amount, fee, nonce, token,
    );
    verify_schnorr_circuit(builder, from, message, &signature);
    let amount_word = packed_float_circuit(builder, AMOUNT_FORMAT, amount);
    let fee_word = packed_float_circuit(builder, FEE_FORMAT, fee);
    UnitTarget {
        active,
        withdrawal,
        token,
        from,
        to,
        amount,
        fee,
        nonce,
        from_index,
        to_index,
        signature,
        amount_word,
        fee_word,
    }
}

fn add_slot(builder: &mut CircuitBuilder<F, D>, local_bits: usize) -> SlotTarget {
    SlotTarget {
        debit: builder.add_virtual_bool_target_safe(),
        credit: builder.add_virtual_bool_target_safe(),
        internal: builder.add_virtual_bool_target_safe(),
        created: builder.add_virtual_bool_target_safe(),
        deposit: builder.add_virtual_bool_target_safe(),
        token: builder.add_virtual_bool_target_safe(),
        unit: builder.add_virtual_target(),
        new_account: builder.add_virtual_target(),
        deposit_record: builder.add_virtual_target(),
        counterpart: builder.add_virtual_target(),
        local_index: builder.add_virtual_target(),
        key: Gfp5Target(builder.add_virtual_target_arr()),
        balances: [(); TOKENS].map(|_| add_virtual_u64_target(builder)),
        nonce: builder.add_virtual_target(),
        amount: add_virtual_u64_target(builder),
        siblings: (0..local_bits)
            .map(|_| builder.add_virtual_hash())
            .collect(),
    }
}

/// The signature units: their records (the transfer list) and fees, and the columns slots
/// read them by.
struct Units {
    targets: Vec<UnitTarget>,
    columns: Vec<Vec<Target>>,
    active: Target,
    /// The withdrawal units' count; the i-th of them takes withdrawal record i.
    withdrawals: Target,
}

fn build_units(
    builder: &mut CircuitBuilder<F, D>,
    params: &ChunkParams,
    statement: &StatementTarget,
    withdrawal_columns: &[Vec<Target>],
    records: &mut Vec<ByteTarget>,
) -> Units {
    let zero = builder.zero();
    let targets: Vec<UnitTarget> = (0..CHUNK_TRANSFERS)
        .map(|_| add_unit(builder, params.chain_id))
        .collect();
    let active_flags: Vec<BoolTarget> = targets.iter().map(|unit| unit.active).collect();
    let active = used_first(builder, &active_flags);
    let mut columns: Vec<Vec<Target>> = vec![Vec::new(); UNIT_FIELDS];
    let mut fees = [U64Target { lo: zero, hi: zero }; TOKENS];
    let mut withdrawals = zero;
    for unit in &targets {
        let total = add_u64_circuit(builder, unit.amount, unit.fee);
        for (column, field) in columns.iter_mut().zip(unit_fields(unit, total)) {
            column.push(field);
        }
        // A withdrawal or a token is only ever an active unit's.
        let token = builder.and(unit.token, unit.active);
        builder.connect(token.target, unit.token.target);
        let withdrawal = builder.and(unit.withdrawal, unit.active);
        builder.connect(withdrawal.target, unit.withdrawal.target);

        // Fees, per token.
        let eth = builder.not(unit.token);
        let pays_eth = builder.and(unit.active, eth);
        for (total, payer) in fees.iter_mut().zip([pays_eth, unit.token]) {
            let fee = mask_u64(builder, payer, unit.fee);
            *total = add_u64_circuit(builder, *total, fee);
        }

        // A withdrawal names no L2 recipient; its destination is the L1 address of the
        // next withdrawal record, which posts its token and amount.
        let w = unit.withdrawal.target;
        conditional_assert_eq(builder, w, unit.to_index, zero);
        // Other units read record 0 (the running count may exceed the list's length).
        let at = builder.mul(w, withdrawals);
        let record = fetch(builder, at, withdrawal_columns);
        conditional_assert_eq(builder, w, record[0], unit.token.target);
        conditional_assert_eq(builder, w, record[1], unit.amount.lo);
        conditional_assert_eq(builder, w, record[2], unit.amount.hi);
        for (posted, destination) in record[3..].iter().zip(unit.to.0) {
            conditional_assert_eq(builder, w, *posted, destination);
        }
        withdrawals = builder.add(withdrawals, w);

        records.push(tag_byte(
            builder,
            unit.active,
            &[unit.token, unit.withdrawal],
        ));
        records.extend(masked_u32_bytes(builder, unit.active, unit.from_index));
        records.extend(masked_u32_bytes(builder, unit.active, unit.to_index));
        let amount_bits = masked_bits(builder, unit.active, &unit.amount_word.word_bits());
        records.extend(bits_to_bytes_be(&amount_bits));
        let fee_bits = masked_bits(builder, unit.active, &unit.fee_word.word_bits());
        records.extend(bits_to_bytes_be(&fee_bits));
    }
    for (total, claimed) in fees.iter().zip(statement.fees) {
        builder.connect(total.lo, claimed.lo);
        builder.connect(total.hi, claimed.hi);
    }
    Units {
        targets,
        columns,
        active,
        withdrawals,
    }
}

fn build_constraints(builder: &mut CircuitBuilder<F, D>, params: &ChunkParams) -> ChunkTargets {
    let partition_bits = params.partition_bits();
    let local_bits = params.local_bits();
    let chain_count = params.chain_count();
    let zero = builder.zero();
    let one = builder.one();

    let statement_targets = builder.add_virtual_targets(STATEMENT_LEN);
    let statement = StatementTarget::from_targets(&statement_targets);
    statement.register(builder);
    builder.range_check(statement.partition, partition_bits);

    // Withdrawal records (posted last, but read by the units).
    let withdrawals: Vec<WithdrawalTarget> = (0..CHUNK_WITHDRAWALS)
        .map(|_| WithdrawalTarget {
            active: builder.add_virtual_bool_target_safe(),
            token: builder.add_virtual_bool_target_safe(),
            amount: add_virtual_u64_target(builder),
            recipient: std::array::from_fn(|_| {
                let word = builder.add_virtual_target();
                builder.range_check(word, 32);
                word
            }),
        })
        .collect();
    let withdrawal_flags: Vec<BoolTarget> = withdrawals.iter().map(|w| w.active).collect();
    let active_withdrawals = used_first(builder, &withdrawal_flags);
    let mut withdrawal_columns: Vec<Vec<Target>> = vec![Vec::new(); 8];
    let mut withdrawal_records: Vec<ByteTarget> = Vec::new();
    for record in &withdrawals {
        let fields = [record.token.target, record.amount.lo, record.amount.hi]
            .into_iter()
            .chain(record.recipient);
        for (column, field) in withdrawal_columns.iter_mut().zip(fields) {
            column.push(field);
        }
        let token = builder.and(record.token, record.active);
        builder.connect(token.target, record.token.target);
        withdrawal_records.push(tag_byte(builder, record.active, &[record.token]));
        for _ in 0..3 {
            withdrawal_records.push(zero_byte(builder));
        }
        withdrawal_records.extend(masked_u64_bytes(builder, record.active, record.amount));
        for word in record.recipient {
            withdrawal_records.extend(masked_u32_bytes(builder, record.active, word));
        }
    }

    // Signature units: message, signature, floats, records, fees.
    let mut records: Vec<ByteTarget> = Vec::new();
    let units = build_units(
        builder,
        params,
        &statement,
        &withdrawal_columns,
        &mut records,
    );
    builder.connect(units.withdrawals, active_withdrawals);

    // New-account units: the key records.
    let new_accounts: Vec<NewAccountTarget> = (0..CHUNK_NEW_ACCOUNTS)
        .map(|_| NewAccountTarget {
            active: builder.add_virtual_bool_target_safe(),
            index: builder.add_virtual_target(),
            key: Gfp5Target(builder.add_virtual_target_arr()),
        })
        .collect();
    let account_flags: Vec<BoolTarget> = new_accounts.iter().map(|a| a.active).collect();
    let active_accounts = used_first(builder, &account_flags);
    let mut account_columns: Vec<Vec<Target>> = vec![Vec::new(); 6];
    for account in &new_accounts {
        account_columns[0].push(account.index);
        for (column, element) in account_columns[1..].iter_mut().zip(account.key.0) {
            column.push(element);
        }
        records.push(tag_byte(builder, account.active, &[]));
        records.extend(masked_u32_bytes(builder, account.active, account.index));
        for _ in 0..3 {
            records.push(zero_byte(builder));
        }
        records.extend(masked_key_bytes(builder, account.active, account.key));
    }

    // Deposit records: tag, zero, queue offset, index, amount, key.
    let deposits: Vec<DepositTarget> = (0..CHUNK_DEPOSITS)
        .map(|_| DepositTarget {
            active: builder.add_virtual_bool_target_safe(),
            token: builder.add_virtual_bool_target_safe(),
            offset: builder.add_virtual_target(),
            index: builder.add_virtual_target(),
            amount: add_virtual_u64_target(builder),
            key: Gfp5Target(builder.add_virtual_target_arr()),
        })
        .collect();
    let deposit_flags: Vec<BoolTarget> = deposits.iter().map(|d| d.active).collect();
    let active_deposits = used_first(builder, &deposit_flags);
    let mut deposit_columns: Vec<Vec<Target>> = vec![Vec::new(); 9];
    for deposit in &deposits {
        let fields = [
            deposit.token.target,
            deposit.index,
            deposit.amount.lo,
            deposit.amount.hi,
        ]
        .into_iter()
        .chain(deposit.key.0);
        for (column, field) in deposit_columns.iter_mut().zip(fields) {
            column.push(field);
        }
        let token = builder.and(deposit.token, deposit.active);
        builder.connect(token.target, deposit.token.target);
        records.push(tag_byte(builder, deposit.active, &[deposit.token]));
        records.push(zero_byte(builder));
        // The offset is L1's business (it checks the records against its queue); here it
        // is only bound to 16 bits, its width in the record.
        let offset_bytes = masked_u32_bytes(builder, deposit.active, deposit.offset);
        builder.range_check(deposit.offset, 16);
        records.extend_from_slice(&offset_bytes[2..]);
        records.extend(masked_u32_bytes(builder, deposit.active, deposit.index));
        records.extend(masked_u64_bytes(builder, deposit.active, deposit.amount));
        records.extend(masked_key_bytes(builder, deposit.active, deposit.key));
    }
    records.extend(withdrawal_records);

    // Data chain: keccak(d_before || records).
    let data_after = data_chain_circuit(builder, &statement.data_before, &records);
    for (computed, claimed) in data_after.iter().zip(statement.data_after) {
        builder.connect(*computed, claimed);
    }

    // Message chains before.
    let chains_before: Vec<HashOutTarget> = (0..chain_count)
        .map(|_| builder.add_virtual_hash())
        .collect();
    let chain_elements = |chains: &[HashOutTarget]| -> Vec<Target> {
        chains.iter().flat_map(|c| c.elements).collect()
    };
    let commitment = hash_elements_circuit(builder, &chain_elements(&chains_before));
    builder.connect_hashes(commitment, statement.chains_before);

    // Slots.
    let partition_base =
        builder.mul_const(F::from_canonical_u64(1 << local_bits), statement.partition);
    let received_offset = builder.constant(F::from_canonical_usize(chain_count / 2));
    let mut root = statement.old_root;
    let mut chains = chains_before.clone();
    let mut debits = zero;
    let mut created = zero;
    let mut deposited = zero;
    let mut previous_internal_debit = zero;
    let mut slots = Vec::with_capacity(CHUNK_STEPS);
    for _ in 0..CHUNK_STEPS {
        let slot = add_slot(builder, local_bits);
        let (d, c, i, r, q) = (
            slot.debit,
            slot.credit,
            slot.internal,
            slot.created,
            slot.deposit,
        );

        // Kinds: a debit or a credit (or nothing); internal and created only on them; a
        // deposit is a credit that is not internal.
        let both = builder.mul(d.target, c.target);
        builder.assert_zero(both);
        let active = builder.add(d.target, c.target);
        let inactive = builder.sub(one, active);
        let stray_internal = builder.mul(i.target, inactive);
        builder.assert_zero(stray_internal);
        let stray_created = builder.arithmetic(F::NEG_ONE, F::ONE, r.target, c.target, r.target);
        builder.assert_zero(stray_created);
        let stray_deposit = builder.arithmetic(F::NEG_ONE, F::ONE, q.target, c.target, q.target);
        builder.assert_zero(stray_deposit);
        let internal_deposit = builder.mul(q.target, i.target);
        builder.assert_zero(internal_deposit);
        let stray_token = builder.mul(slot.token.target, inactive);
        builder.assert_zero(stray_token);

        // An internal credit directly follows its internal debit, and vice versa.
        let internal_debit = builder.mul(d.target, i.target);
        let internal_credit = builder.mul(c.target, i.target);
        builder.connect(internal_credit, previous_internal_debit);
        previous_internal_debit = internal_debit;

        // The unit: the next one for a debit, the debit's for an internal credit.
        conditional_assert_eq(builder, d.target, slot.unit, debits);
        let unit_plus_one = builder.add(slot.unit, one);
        conditional_assert_eq(builder, internal_credit, unit_plus_one, debits);
        let fetched = fetch(builder, slot.unit, &units.columns);
        let fetched = read_unit(fetched.try_into().unwrap());
        debits = builder.add(debits, d.target);

        // The account's index, inside this partition.
        let local_index_bits = builder.split_le(slot.local_index, local_bits);
        let index = builder.add(partition_base, slot.local_index);
        builder.range_check(slot.nonce, 32);

        // A debit is the unit's sender, at its nonce, paying its amount in its token.
        for (key, from) in slot.key.0.iter().zip(fetched.from) {
            conditional_assert_eq(builder, d.target, *key, from);
        }
        conditional_assert_eq(builder, d.target, index, fetched.from_index);
        conditional_assert_eq(builder, d.target, slot.nonce, fetched.nonce);
        conditional_assert_eq_u64(builder, d.target, slot.amount, fetched.amount);
        conditional_assert_eq(builder, d.target, slot.token.target, fetched.token);
        // An internal credit is the unit's recipient, receiving its amount in its token.
        for (key, to) in slot.key.0.iter().zip(fetched.to) {
            conditional_assert_eq(builder, internal_credit, *key, to);
        }
        conditional_assert_eq(builder, internal_credit, index, fetched.to_index);
        conditional_assert_eq_u64(builder, internal_credit, slot.amount, fetched.amount);
        conditional_assert_eq(builder, internal_credit, slot.token.target, fetched.token);

        // A deposit credits exactly its record (the next deposit record).
        conditional_assert_eq(builder, q.target, slot.deposit_record, deposited);
        let record = fetch(builder, slot.deposit_record, &deposit_columns);
        conditional_assert_eq(builder, q.target, slot.token.target, record[0]);
        conditional_assert_eq(builder, q.target, index, record[1]);
        conditional_assert_eq(builder, q.target, slot.amount.lo, record[2]);
        conditional_assert_eq(builder, q.target, slot.amount.hi, record[3]);
        for (key, posted) in slot.key.0.iter().zip(&record[4..]) {
            conditional_assert_eq(builder, q.target, *key, *posted);
        }
        deposited = builder.add(deposited, q.target);

        // A created account starts empty in a free slot of its key's partition, and is
        // posted by the next new-account unit.
        for balance in slot.balances {
            conditional_assert_eq(builder, r.target, balance.lo, zero);
            conditional_assert_eq(builder, r.target, balance.hi, zero);
        }
        conditional_assert_eq(builder, r.target, slot.nonce, zero);
        let key_partition = partition_of_key_circuit(builder, slot.key, partition_bits);
        conditional_assert_eq(builder, r.target, key_partition, statement.partition);
        conditional_assert_eq(builder, r.target, slot.new_account, created);
        let account = fetch(builder, slot.new_account, &account_columns);
        conditional_assert_eq(builder, r.target, index, account[0]);
        for (key, posted) in slot.key.0.iter().zip(&account[1..]) {
            conditional_assert_eq(builder, r.target, *key, *posted);
        }
        created = builder.add(created, r.target);

        // The leaf before (empty for a creation) is in the current root.
        let leaf = leaf_circuit(builder, slot.key, slot.balances, slot.nonce);
        let not_created = builder.not(r);
        let old_leaf = HashOutTarget {
            elements: leaf.elements.map(|e| builder.mul(not_created.target, e)),
        };
        let old_root = merkle_root_circuit(builder, old_leaf, &local_index_bits, &slot.siblings);
        for (computed, current) in old_root.elements.iter().zip(root.elements) {
            conditional_assert_eq(builder, active, *computed, current);
        }

        // The leaf after: the token's balance pays amount + fee (no underflow) or receives
        // the amount (no overflow); the other balance is unchanged; a debit moves the nonce
        // on (no wrap).
        let [eth, token] = slot.balances;
        let moved = select_u64(builder, slot.token, token, eth);
        let debited = mask_u64(builder, d, fetched.total);
        let after_debit = sub_u64_circuit(builder, moved, debited);
        let credited = mask_u64(builder, c, slot.amount);
        let moved_after = add_u64_circuit(builder, after_debit, credited);
        let balances = [
            select_u64(builder, slot.token, eth, moved_after),
            select_u64(builder, slot.token, moved_after, token),
        ];
        let nonce = builder.add(slot.nonce, d.target);
        builder.range_check(nonce, 32);
        let new_leaf = leaf_circuit(builder, slot.key, balances, nonce);
        let new_root = merkle_root_circuit(builder, new_leaf, &local_index_bits, &slot.siblings);
        let is_active = BoolTarget::new_unsafe(active);
        root = select_hash_circuit(builder, is_active, new_root, root);

        // A cross-partition half extends the chain to (debit) or from (credit) its
        // counterpart: "credit amount of token to key at index". Internal halves,
        // deposits and withdrawals extend no chain.
        builder.range_check(slot.counterpart, partition_bits);
        let withdrawal_debit = builder.mul(d.target, fetched.withdrawal);
        let local = builder.add_many([i.target, q.target, withdrawal_debit]);
        let cross = builder.sub(active, local);
        let received = builder.mul(c.target, received_offset);
        let chain_index = builder.add(slot.counterpart, received);
        let chain_in = HashOutTarget {
            elements: std::array::from_fn(|e| {
                let column = chains.iter().map(|chain| chain.elements[e]).collect();
                builder.random_access(chain_index, column)
            }),
        };
        let to_key = Gfp5Target(std::array::from_fn(|e| {
            builder.select(d, fetched.to[e], slot.key.0[e])
        }));
        let to_index = builder.select(d, fetched.to_index, index);
        let chain_out =
            chain_step_circuit(builder, chain_in, to_key, to_index, slot.token, slot.amount);
        for (j, chain) in chains.iter_mut().enumerate() {
            let position = builder.constant(F::from_canonical_usize(j));
            let here = builder.is_equal(chain_index, position);
            let hit = builder.mul(here.target, cross);
            *chain = select_hash_circuit(builder, BoolTarget::new_unsafe(hit), chain_out, *chain);
        }
        slots.push(slot);
    }
    // The last debit cannot be internal: its credit would be in the next chunk.
    builder.assert_zero(previous_internal_debit);
    builder.connect_hashes(root, statement.new_root);
    // Every used unit belongs to a debit, every used account record to a creation, every
    // used deposit record to a deposit credit.
    builder.connect(debits, units.active);
    builder.connect(created, active_accounts);
    builder.connect(deposited, active_deposits);
    let commitment = hash_elements_circuit(builder, &chain_elements(&chains));
    builder.connect_hashes(commitment, statement.chains_after);

    ChunkTargets {
        statement,
        units: units.targets,
        new_accounts,
        deposits,
        withdrawals,
        slots,
        chains_before,
    }
}
