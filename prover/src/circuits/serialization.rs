//! Circuits as bytes: the one gate list and the one witness-generator list of the crate,
//! and [`Persist`], the byte codec of a circuit struct (its `CircuitData` and the targets
//! its `prove` fills), which the on-disk cache ([`super::cache`]) stores.
//!
//! plonky2 writes a gate or generator as a tag, its position in the serializer's list, then
//! its own fields. The lists are therefore part of the format; they live in this crate's
//! circuit sources, which the cache key hashes (see [`super::cache`]), so changing a list
//! invalidates cached circuits instead of misreading them.
//!
//! A circuit struct's targets are written field by field with plonky2's `Buffer` helpers.
//! `persist_struct!` destructures the struct exhaustively, so a field added later to a
//! target struct fails to compile until it is persisted too.

use std::{collections::HashMap, sync::OnceLock};

use plonky2::{
    gadgets::{
        arithmetic::EqualityGenerator,
        arithmetic_extension::QuotientGeneratorExtension,
        range_check::LowHighGenerator,
        split_base::BaseSumGenerator,
        split_join::{SplitGenerator, WireSplitGenerator},
    },
    gates::{
        arithmetic_base::ArithmeticBaseGenerator,
        arithmetic_extension::ArithmeticExtensionGenerator, base_sum::BaseSplitGenerator,
        coset_interpolation::InterpolationGenerator, exponentiation::ExponentiationGenerator,
        lookup::LookupGenerator, lookup_table::LookupTableGenerator,
        multiplication_extension::MulExtensionGenerator, poseidon::PoseidonGenerator,
        poseidon_mds::PoseidonMdsGenerator, random_access::RandomAccessGenerator,
        reducing::ReducingGenerator, reducing_extension::ReducingGenerator as ReducingExtGenerator,
    },
    hash::hash_types::HashOutTarget,
    iop::{
        generator::{
            ConstantGenerator, CopyGenerator, NonzeroTestGenerator, RandomValueGenerator,
            SimpleGenerator, WitnessGeneratorRef,
        },
        target::{BoolTarget, Target},
    },
    plonk::{
        circuit_data::{
            CircuitData, CommonCircuitData, VerifierCircuitTarget, VerifierOnlyCircuitData,
        },
        config::GenericConfig,
        proof::ProofWithPublicInputsTarget,
    },
    recursion::dummy_circuit::DummyProofGenerator,
    util::serialization::{Buffer, IoError, IoResult, Read, WitnessGeneratorSerializer, Write},
};
use rollup_core::tree::TreeConfig;

pub use super::gates::GateSerializerEcGfp5;
use super::{
    chunk::{
        circuit::{
            ChunkTargets, DepositTarget, NewAccountTarget, SlotTarget, UnitTarget, WithdrawalTarget,
        },
        ChunkParams, StatementTarget,
    },
    curve::{DecodeGenerator, ScalarTarget},
    gates::{Gfp5MulGate, OpGenerator, OpsGate, PointAddAffineGate, PointDoubleGate},
    gfp5::{Gfp5QuotientGenerator, Gfp5SqrtGenerator, Gfp5Target, InverseOrZeroGenerator},
    keccak::{round_gate::RoundGenerator, xor_gate::XorGenerator},
    schnorr::SignatureTarget,
    uint::U64Target,
    C, D, F,
};

/// A [`WitnessGeneratorSerializer`] for every circuit of the rollup: plonky2's default
/// generators (those of `DefaultGeneratorSerializer`, recursion included) followed by the
/// generators of this crate's gates and gadgets.
#[derive(Debug, Default, Clone, Copy)]
pub struct GeneratorSerializerRollup;

type ReadFn = fn(&mut Buffer<'_>, &CommonCircuitData<F, D>) -> IoResult<WitnessGeneratorRef<F, D>>;

fn read_as<G: SimpleGenerator<F, D>>(
    src: &mut Buffer<'_>,
    common: &CommonCircuitData<F, D>,
) -> IoResult<WitnessGeneratorRef<F, D>> {
    Ok(WitnessGeneratorRef::new(
        G::deserialize(src, common)?.adapter(),
    ))
}

fn entry<G: SimpleGenerator<F, D>>(example: G) -> (String, ReadFn) {
    (example.id(), read_as::<G>)
}

/// (id, reader) by tag, and the tag of each id.
type GeneratorList = (Vec<(String, ReadFn)>, HashMap<String, u32>);

/// The generator list: (id, reader) by tag. A generator is told apart by its `id()`, as
/// plonky2's own serializers do; an example instance gives each type's id.
fn generators() -> &'static GeneratorList {
    static LIST: OnceLock<GeneratorList> = OnceLock::new();
    LIST.get_or_init(|| {
        let list: Vec<(String, ReadFn)> = vec![
            entry(ArithmeticBaseGenerator::<F, D>::default()),
            entry(ArithmeticExtensionGenerator::<F, D>::default()),
            entry(BaseSplitGenerator::<2>::default()),
            entry(BaseSumGenerator::<2>::default()),
            entry(ConstantGenerator::<F>::default()),
            entry(CopyGenerator::default()),
            entry(DummyProofGenerator::<F, C, D>::default()),
            entry(EqualityGenerator::default()),
            entry(ExponentiationGenerator::<F, D>::default()),
            entry(InterpolationGenerator::<F, D>::default()),
            entry(LookupGenerator::default()),
            entry(LookupTableGenerator::default()),
            entry(LowHighGenerator::default()),
            entry(MulExtensionGenerator::<F, D>::default()),
            entry(NonzeroTestGenerator::default()),
            entry(PoseidonGenerator::<F, D>::default()),
            entry(PoseidonMdsGenerator::<D>::default()),
            entry(QuotientGeneratorExtension::<D>::default()),
            entry(RandomAccessGenerator::<F, D>::default()),
            entry(RandomValueGenerator::default()),
            entry(ReducingGenerator::<D>::default()),
            entry(ReducingExtGenerator::<D>::default()),
            entry(SplitGenerator::default()),
            entry(WireSplitGenerator::default()),
            // This crate's gates and gadgets.
            entry(OpGenerator::new(Gfp5MulGate::with_ops(1), 0, 0)),
            entry(OpGenerator::new(PointDoubleGate::with_ops(1), 0, 0)),
            entry(OpGenerator::new(PointAddAffineGate::with_ops(1), 0, 0)),
            entry(XorGenerator::default()),
            entry(RoundGenerator::<F>::default()),
            entry(DecodeGenerator::default()),
            entry(Gfp5QuotientGenerator::default()),
            entry(Gfp5SqrtGenerator::default()),
            entry(InverseOrZeroGenerator::default()),
        ];
        let tags = list
            .iter()
            .enumerate()
            .map(|(tag, (id, _))| (id.clone(), tag as u32))
            .collect::<HashMap<_, _>>();
        assert_eq!(tags.len(), list.len(), "generator ids are distinct");
        (list, tags)
    })
}

impl WitnessGeneratorSerializer<F, D> for GeneratorSerializerRollup {
    fn read_generator(
        &self,
        buf: &mut Buffer<'_>,
        common: &CommonCircuitData<F, D>,
    ) -> IoResult<WitnessGeneratorRef<F, D>> {
        let tag = buf.read_u32()? as usize;
        let (_, read) = generators().0.get(tag).ok_or(IoError)?;
        read(buf, common)
    }

    fn write_generator(
        &self,
        buf: &mut Vec<u8>,
        generator: &WitnessGeneratorRef<F, D>,
        common: &CommonCircuitData<F, D>,
    ) -> IoResult<()> {
        let id = generator.0.id();
        let Some(&tag) = generators().1.get(&id) else {
            tracing::error!(
                id,
                "a generator the rollup's generator serializer does not list"
            );
            return Err(IoError);
        };
        buf.write_u32(tag)?;
        generator.0.serialize(buf, common)
    }
}

/// A part of a circuit struct that the cache writes as bytes.
pub trait Persist: Sized {
    /// Appends `self`.
    fn write_to(&self, out: &mut Vec<u8>) -> IoResult<()>;
    /// Reads what [`Persist::write_to`] wrote.
    fn read_from(src: &mut Buffer<'_>) -> IoResult<Self>;
}

/// `value` as bytes.
pub fn to_bytes(value: &impl Persist) -> IoResult<Vec<u8>> {
    let mut out = Vec::new();
    value.write_to(&mut out)?;
    Ok(out)
}

/// A value from all of `bytes` (trailing bytes are an error: a truncated or foreign file).
pub fn from_bytes<T: Persist>(bytes: &[u8]) -> IoResult<T> {
    let mut src = Buffer::new(bytes);
    let value = T::read_from(&mut src)?;
    if src.unread_bytes().is_empty() {
        Ok(value)
    } else {
        Err(IoError)
    }
}

/// Implements [`Persist`] for a struct by writing its fields in order.
macro_rules! persist_struct {
    ($name:ident { $($field:ident),* $(,)? }) => {
        impl $crate::circuits::serialization::Persist for $name {
            fn write_to(
                &self,
                out: &mut Vec<u8>,
            ) -> plonky2::util::serialization::IoResult<()> {
                let $name { $($field),* } = self;
                $($crate::circuits::serialization::Persist::write_to($field, out)?;)*
                Ok(())
            }

            fn read_from(
                src: &mut plonky2::util::serialization::Buffer<'_>,
            ) -> plonky2::util::serialization::IoResult<Self> {
                Ok($name {
                    $($field: $crate::circuits::serialization::Persist::read_from(src)?,)*
                })
            }
        }
    };
}
pub(crate) use persist_struct;

impl Persist for Target {
    fn write_to(&self, out: &mut Vec<u8>) -> IoResult<()> {
        out.write_target(*self)
    }
    fn read_from(src: &mut Buffer<'_>) -> IoResult<Self> {
        src.read_target()
    }
}

impl Persist for BoolTarget {
    fn write_to(&self, out: &mut Vec<u8>) -> IoResult<()> {
        out.write_target_bool(*self)
    }
    fn read_from(src: &mut Buffer<'_>) -> IoResult<Self> {
        src.read_target_bool()
    }
}

impl Persist for HashOutTarget {
    fn write_to(&self, out: &mut Vec<u8>) -> IoResult<()> {
        out.write_target_hash(self)
    }
    fn read_from(src: &mut Buffer<'_>) -> IoResult<Self> {
        src.read_target_hash()
    }
}

impl Persist for usize {
    fn write_to(&self, out: &mut Vec<u8>) -> IoResult<()> {
        out.write_usize(*self)
    }
    fn read_from(src: &mut Buffer<'_>) -> IoResult<Self> {
        src.read_usize()
    }
}

impl<T: Persist> Persist for Vec<T> {
    fn write_to(&self, out: &mut Vec<u8>) -> IoResult<()> {
        out.write_usize(self.len())?;
        self.iter().try_for_each(|x| x.write_to(out))
    }
    fn read_from(src: &mut Buffer<'_>) -> IoResult<Self> {
        let len = src.read_usize()?;
        // A corrupt length fails on the first missing element, not on a huge allocation.
        (0..len).map(|_| T::read_from(src)).collect()
    }
}

impl<T: Persist, const N: usize> Persist for [T; N] {
    fn write_to(&self, out: &mut Vec<u8>) -> IoResult<()> {
        self.iter().try_for_each(|x| x.write_to(out))
    }
    fn read_from(src: &mut Buffer<'_>) -> IoResult<Self> {
        let items = (0..N)
            .map(|_| T::read_from(src))
            .collect::<IoResult<Vec<T>>>()?;
        items.try_into().map_err(|_| IoError)
    }
}

impl<T: Persist> Persist for Option<T> {
    fn write_to(&self, out: &mut Vec<u8>) -> IoResult<()> {
        out.write_bool(self.is_some())?;
        self.as_ref().map_or(Ok(()), |x| x.write_to(out))
    }
    fn read_from(src: &mut Buffer<'_>) -> IoResult<Self> {
        Ok(if src.read_bool()? {
            Some(T::read_from(src)?)
        } else {
            None
        })
    }
}

impl Persist for ProofWithPublicInputsTarget<D> {
    fn write_to(&self, out: &mut Vec<u8>) -> IoResult<()> {
        out.write_target_proof_with_public_inputs(self)
    }
    fn read_from(src: &mut Buffer<'_>) -> IoResult<Self> {
        src.read_target_proof_with_public_inputs()
    }
}

impl Persist for VerifierCircuitTarget {
    fn write_to(&self, out: &mut Vec<u8>) -> IoResult<()> {
        out.write_target_verifier_circuit(self)
    }
    fn read_from(src: &mut Buffer<'_>) -> IoResult<Self> {
        src.read_target_verifier_circuit()
    }
}

impl<Cfg: GenericConfig<D, F = F>> Persist for VerifierOnlyCircuitData<Cfg, D> {
    fn write_to(&self, out: &mut Vec<u8>) -> IoResult<()> {
        out.write_verifier_only_circuit_data(self)
    }
    fn read_from(src: &mut Buffer<'_>) -> IoResult<Self> {
        src.read_verifier_only_circuit_data()
    }
}

impl<Cfg: GenericConfig<D, F = F>> Persist for CircuitData<F, Cfg, D> {
    fn write_to(&self, out: &mut Vec<u8>) -> IoResult<()> {
        out.write_circuit_data(self, &GateSerializerEcGfp5, &GeneratorSerializerRollup)
    }
    fn read_from(src: &mut Buffer<'_>) -> IoResult<Self> {
        src.read_circuit_data(&GateSerializerEcGfp5, &GeneratorSerializerRollup)
    }
}

impl Persist for ChunkParams {
    fn write_to(&self, out: &mut Vec<u8>) -> IoResult<()> {
        let ChunkParams { tree, chain_id } = self;
        out.write_u32(tree.depth())?;
        out.write_u32(tree.partition_bits())?;
        out.write_usize(usize::try_from(*chain_id).map_err(|_| IoError)?)
    }
    fn read_from(src: &mut Buffer<'_>) -> IoResult<Self> {
        let (depth, partition_bits) = (src.read_u32()?, src.read_u32()?);
        Ok(ChunkParams {
            tree: TreeConfig::new(depth, partition_bits).map_err(|_| IoError)?,
            chain_id: src.read_usize()? as u64,
        })
    }
}

impl Persist for Gfp5Target {
    fn write_to(&self, out: &mut Vec<u8>) -> IoResult<()> {
        self.0.write_to(out)
    }
    fn read_from(src: &mut Buffer<'_>) -> IoResult<Self> {
        Ok(Gfp5Target(Persist::read_from(src)?))
    }
}

persist_struct!(U64Target { lo, hi });
persist_struct!(ScalarTarget { limbs });
persist_struct!(SignatureTarget { e, s });
persist_struct!(StatementTarget {
    partition,
    old_root,
    new_root,
    chains_before,
    chains_after,
    data_before,
    data_after,
    fees,
});
persist_struct!(UnitTarget {
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
});
persist_struct!(NewAccountTarget { active, index, key });
persist_struct!(DepositTarget {
    active,
    token,
    offset,
    index,
    amount,
    key,
});
persist_struct!(WithdrawalTarget {
    active,
    token,
    amount,
    recipient,
});
persist_struct!(SlotTarget {
    debit,
    credit,
    internal,
    created,
    deposit,
    token,
    unit,
    new_account,
    deposit_record,
    counterpart,
    local_index,
    key,
    balances,
    nonce,
    amount,
    siblings,
});
persist_struct!(ChunkTargets {
    statement,
    units,
    new_accounts,
    deposits,
    withdrawals,
    slots,
    chains_before,
});

#[cfg(test)]
mod tests {
    use plonky2::plonk::{circuit_builder::CircuitBuilder, circuit_data::CircuitConfig};

    use super::*;

    #[test]
    fn serialization_lists_distinct_generator_ids() {
        let (list, tags) = generators();
        assert_eq!(list.len(), tags.len());
        assert!(tags.contains_key("XorGenerator"));
    }

    #[test]
    fn serialization_of_targets_round_trips_and_refuses_trailing_bytes() {
        let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
        let statement = StatementTarget::from_targets(
            &builder.add_virtual_targets(super::super::chunk::STATEMENT_LEN),
        );
        let bytes = to_bytes(&statement).unwrap();
        let back: StatementTarget = from_bytes(&bytes).unwrap();
        assert_eq!(to_bytes(&back).unwrap(), bytes);
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(from_bytes::<StatementTarget>(&longer).is_err());
        assert!(from_bytes::<StatementTarget>(&bytes[..bytes.len() - 1]).is_err());
        let option: Option<Vec<BoolTarget>> = Some(vec![builder.add_virtual_bool_target_safe()]);
        assert_eq!(
            from_bytes::<Option<Vec<BoolTarget>>>(&to_bytes(&option).unwrap()).unwrap(),
            option
        );
    }
}
