//! Custom plonky2 gates for the ECgFp5 circuits, which otherwise spend most of their rows on
//! base-field `ArithmeticGate` operations (25 per GF(p^5) product).
//!
//! - [`gfp5_mul`]: `Gfp5MulGate`, c = a b in GF(p^5) (5 products per row).
//! - [`point_double`]: `PointDoubleGate`, one complete doubling per half row.
//! - [`point_add`]: `PointAddAffineGate`, one complete mixed addition per row.
//!
//! Each gate writes its constraints once, generically over the crate-private `Alg`, so
//! that the native, packed, extension-field and recursive evaluations (and the witness
//! generators) cannot drift apart. [`GateSerializerEcGfp5`] serializes circuits that use them.

pub mod gfp5_mul;
pub mod point_add;
pub mod point_double;

use std::ops::{Add, Mul, Sub};

use plonky2::{
    field::extension::Extendable,
    gates::{
        arithmetic_base::ArithmeticGate, arithmetic_extension::ArithmeticExtensionGate,
        base_sum::BaseSumGate, constant::ConstantGate, coset_interpolation::CosetInterpolationGate,
        exponentiation::ExponentiationGate, lookup::LookupGate, lookup_table::LookupTableGate,
        multiplication_extension::MulExtensionGate, noop::NoopGate, poseidon::PoseidonGate,
        poseidon_mds::PoseidonMdsGate, public_input::PublicInputGate,
        random_access::RandomAccessGate, reducing::ReducingGate,
        reducing_extension::ReducingExtensionGate,
    },
    get_gate_tag_impl,
    hash::hash_types::RichField,
    impl_gate_serializer,
    iop::{
        ext_target::ExtensionTarget,
        generator::{GeneratedValues, SimpleGenerator},
        target::Target,
        witness::{PartitionWitness, Witness, WitnessWrite},
    },
    plonk::{circuit_builder::CircuitBuilder, circuit_data::CommonCircuitData},
    read_gate_impl,
    util::serialization::{Buffer, GateSerializer, IoResult, Read, Write},
};

pub use gfp5_mul::Gfp5MulGate;
pub use point_add::PointAddAffineGate;
pub use point_double::PointDoubleGate;

/// The arithmetic a gate's constraints need, so one generic function serves every
/// evaluation context (values of any field or packing, or recursive-circuit targets).
pub(crate) trait Alg {
    /// A value (or target) of the context.
    type V: Copy;
    fn add(&mut self, a: Self::V, b: Self::V) -> Self::V;
    fn sub(&mut self, a: Self::V, b: Self::V) -> Self::V;
    fn mul(&mut self, a: Self::V, b: Self::V) -> Self::V;
    /// c a for a small constant c.
    fn scale(&mut self, c: u64, a: Self::V) -> Self::V;
}

/// Plain values of a ring T, with `constant` lifting the small constants into T.
pub(crate) struct Plain<G> {
    constant: G,
}

impl<G> Plain<G> {
    pub(crate) fn new(constant: G) -> Self {
        Self { constant }
    }
}

impl<T, G> Alg for Plain<G>
where
    T: Copy + Add<Output = T> + Sub<Output = T> + Mul<Output = T>,
    G: Fn(u64) -> T,
{
    type V = T;
    fn add(&mut self, a: T, b: T) -> T {
        a + b
    }
    fn sub(&mut self, a: T, b: T) -> T {
        a - b
    }
    fn mul(&mut self, a: T, b: T) -> T {
        a * b
    }
    fn scale(&mut self, c: u64, a: T) -> T {
        (self.constant)(c) * a
    }
}

/// Targets of a recursive verifier circuit.
pub(crate) struct Circ<'a, F: RichField + Extendable<D>, const D: usize>(
    pub(crate) &'a mut CircuitBuilder<F, D>,
);

impl<F: RichField + Extendable<D>, const D: usize> Alg for Circ<'_, F, D> {
    type V = ExtensionTarget<D>;
    fn add(&mut self, a: Self::V, b: Self::V) -> Self::V {
        self.0.add_extension(a, b)
    }
    fn sub(&mut self, a: Self::V, b: Self::V) -> Self::V {
        self.0.sub_extension(a, b)
    }
    fn mul(&mut self, a: Self::V, b: Self::V) -> Self::V {
        self.0.mul_extension(a, b)
    }
    fn scale(&mut self, c: u64, a: Self::V) -> Self::V {
        self.0.mul_const_extension(F::from_canonical_u64(c), a)
    }
}

/// An element of GF(p^5) = F[z]/(z^5 - 3) in some context: coefficients, lowest first.
pub(crate) type E<V> = [V; 5];

/// z^5 = W.
const W: u64 = 3;

/// The element at wires `start..start + 5` of a row.
pub(crate) fn elem<V: Copy>(wires: &[V], start: usize) -> E<V> {
    std::array::from_fn(|k| wires[start + k])
}

pub(crate) fn add5<A: Alg>(cx: &mut A, a: E<A::V>, b: E<A::V>) -> E<A::V> {
    std::array::from_fn(|k| cx.add(a[k], b[k]))
}

pub(crate) fn sub5<A: Alg>(cx: &mut A, a: E<A::V>, b: E<A::V>) -> E<A::V> {
    std::array::from_fn(|k| cx.sub(a[k], b[k]))
}

/// c a for a small constant c.
pub(crate) fn scale5<A: Alg>(cx: &mut A, c: u64, a: E<A::V>) -> E<A::V> {
    a.map(|x| cx.scale(c, x))
}

/// (c z) a for a small constant c: a shift of the coefficients, z^5 folded to W.
pub(crate) fn mul_z5<A: Alg>(cx: &mut A, c: u64, a: E<A::V>) -> E<A::V> {
    std::array::from_fn(|k| {
        if k == 0 {
            cx.scale(c * W, a[4])
        } else {
            cx.scale(c, a[k - 1])
        }
    })
}

/// a b, schoolbook (degree 2 in the coefficients).
pub(crate) fn mul5<A: Alg>(cx: &mut A, a: E<A::V>, b: E<A::V>) -> E<A::V> {
    std::array::from_fn(|k| {
        let (mut low, mut high) = (None, None);
        for (i, &ai) in a.iter().enumerate() {
            let j = (k + 5 - i) % 5;
            let p = cx.mul(ai, b[j]);
            let slot = if i + j >= 5 { &mut high } else { &mut low };
            *slot = Some(match *slot {
                None => p,
                Some(s) => cx.add(s, p),
            });
        }
        let low = low.expect("i = 0 always contributes to the low part");
        match high {
            None => low,
            Some(h) => {
                let h = cx.scale(W, h);
                cx.add(low, h)
            }
        }
    })
}

/// Appends the five coordinates of `lhs - rhs` to the constraints.
pub(crate) fn push_eq<A: Alg>(cx: &mut A, out: &mut Vec<A::V>, lhs: E<A::V>, rhs: E<A::V>) {
    out.extend(sub5(cx, lhs, rhs));
}

/// A [`GateSerializer`] for every circuit of the rollup: plonky2's default gates (the same
/// list and order as `DefaultGateSerializer`) followed by this module's gates.
#[derive(Debug, Default, Clone, Copy)]
pub struct GateSerializerEcGfp5;

impl<F: RichField + Extendable<D>, const D: usize> GateSerializer<F, D> for GateSerializerEcGfp5 {
    impl_gate_serializer! {
        GateSerializerEcGfp5,
        ArithmeticGate,
        ArithmeticExtensionGate<D>,
        BaseSumGate<2>,
        ConstantGate,
        CosetInterpolationGate<F, D>,
        ExponentiationGate<F, D>,
        LookupGate,
        LookupTableGate,
        MulExtensionGate<D>,
        NoopGate,
        PoseidonMdsGate<F, D>,
        PoseidonGate<F, D>,
        PublicInputGate,
        RandomAccessGate<F, D>,
        ReducingExtensionGate<D>,
        ReducingGate<D>,
        Gfp5MulGate,
        PointDoubleGate,
        PointAddAffineGate,
        crate::circuits::keccak::XorGate,
        crate::circuits::keccak::KeccakRoundGate
    }
}

/// A gate made of `ops()` independent operations per row, each defined by relations
/// `wires[col..col + 5] = expr(wires)`, listed so that each expression reads only the
/// operation's inputs and the columns of earlier relations: the constraints are
/// `wires[col..] - expr`, and the witness generator evaluates the relations in order.
pub(crate) trait OpsGate: Clone + std::fmt::Debug + Send + Sync + 'static {
    /// Names the generator.
    const NAME: &'static str;
    /// The largest degree among the relations.
    const DEGREE: usize;
    /// Relations (of five coordinates each) per operation.
    const RELATIONS: usize;
    /// The gate with this many operations per row.
    fn with_ops(num_ops: usize) -> Self;
    /// Operations per row.
    fn ops(&self) -> usize;
    /// Wires used by the row.
    fn wires(&self) -> usize;
    /// The input columns of operation i (what its generator waits for).
    fn inputs(&self, i: usize) -> Vec<usize>;
    /// The relations of operation i, in generation order.
    fn relations<A: Alg>(&self, cx: &mut A, w: &[A::V], i: usize) -> Vec<(usize, E<A::V>)>;
}

/// Every constraint of the row, operation by operation, relation by relation.
pub(crate) fn eval_ops<G: OpsGate, A: Alg>(gate: &G, cx: &mut A, wires: &[A::V]) -> Vec<A::V> {
    let mut out = Vec::with_capacity(gate.ops() * G::RELATIONS * 5);
    for i in 0..gate.ops() {
        for (col, expr) in gate.relations(cx, wires, i) {
            push_eq(cx, &mut out, elem(wires, col), expr);
        }
    }
    out
}

/// Fills the non-input wires of one operation of an [`OpsGate`] row.
#[derive(Debug)]
pub(crate) struct OpGenerator<G> {
    gate: G,
    row: usize,
    i: usize,
}

impl<G> OpGenerator<G> {
    pub(crate) fn new(gate: G, row: usize, i: usize) -> Self {
        Self { gate, row, i }
    }
}

impl<F: RichField + Extendable<D>, const D: usize, G: OpsGate> SimpleGenerator<F, D>
    for OpGenerator<G>
{
    fn id(&self) -> String {
        format!("{}Generator", G::NAME)
    }

    fn dependencies(&self) -> Vec<Target> {
        self.gate
            .inputs(self.i)
            .into_iter()
            .map(|col| Target::wire(self.row, col))
            .collect()
    }

    fn run_once(
        &self,
        witness: &PartitionWitness<F>,
        out_buffer: &mut GeneratedValues<F>,
    ) -> anyhow::Result<()> {
        let mut wires = vec![F::ZERO; self.gate.wires()];
        for col in self.gate.inputs(self.i) {
            wires[col] = witness.get_target(Target::wire(self.row, col));
        }
        let mut cx = Plain::new(F::from_canonical_u64);
        // Re-evaluating the (few) relations after each step keeps one definition of them.
        for k in 0..G::RELATIONS {
            let (col, value) = self.gate.relations(&mut cx, &wires, self.i)[k];
            for (j, v) in value.into_iter().enumerate() {
                wires[col + j] = v;
                out_buffer.set_target(Target::wire(self.row, col + j), v)?;
            }
        }
        Ok(())
    }

    fn serialize(&self, dst: &mut Vec<u8>, _: &CommonCircuitData<F, D>) -> IoResult<()> {
        dst.write_usize(self.gate.ops())?;
        dst.write_usize(self.row)?;
        dst.write_usize(self.i)
    }

    fn deserialize(src: &mut Buffer, _: &CommonCircuitData<F, D>) -> IoResult<Self> {
        Ok(Self {
            gate: G::with_ops(src.read_usize()?),
            row: src.read_usize()?,
            i: src.read_usize()?,
        })
    }
}

/// Implements plonky2's `Gate` (and packed base evaluation) for an [`OpsGate`].
macro_rules! impl_ops_gate {
    ($gate:ty) => {
        impl<
                F: plonky2::hash::hash_types::RichField + plonky2::field::extension::Extendable<D>,
                const D: usize,
            > plonky2::gates::gate::Gate<F, D> for $gate
        {
            fn id(&self) -> String {
                format!("{self:?}")
            }

            fn serialize(
                &self,
                dst: &mut Vec<u8>,
                _: &plonky2::plonk::circuit_data::CommonCircuitData<F, D>,
            ) -> plonky2::util::serialization::IoResult<()> {
                plonky2::util::serialization::Write::write_usize(
                    dst,
                    $crate::circuits::gates::OpsGate::ops(self),
                )
            }

            fn deserialize(
                src: &mut plonky2::util::serialization::Buffer,
                _: &plonky2::plonk::circuit_data::CommonCircuitData<F, D>,
            ) -> plonky2::util::serialization::IoResult<Self> {
                Ok(<Self as $crate::circuits::gates::OpsGate>::with_ops(
                    plonky2::util::serialization::Read::read_usize(src)?,
                ))
            }

            fn eval_unfiltered(
                &self,
                vars: plonky2::plonk::vars::EvaluationVars<F, D>,
            ) -> Vec<F::Extension> {
                use plonky2::field::types::Field;
                let mut cx = $crate::circuits::gates::Plain::new(F::Extension::from_canonical_u64);
                $crate::circuits::gates::eval_ops(self, &mut cx, vars.local_wires)
            }

            fn eval_unfiltered_base_one(
                &self,
                vars: plonky2::plonk::vars::EvaluationVarsBase<F>,
                mut yield_constr: plonky2::gates::util::StridedConstraintConsumer<F>,
            ) {
                let wires: Vec<F> = (0..$crate::circuits::gates::OpsGate::wires(self))
                    .map(|i| vars.local_wires[i])
                    .collect();
                let mut cx = $crate::circuits::gates::Plain::new(F::from_canonical_u64);
                yield_constr.many($crate::circuits::gates::eval_ops(self, &mut cx, &wires));
            }

            fn eval_unfiltered_base_batch(
                &self,
                vars: plonky2::plonk::vars::EvaluationVarsBaseBatch<F>,
            ) -> Vec<F> {
                use plonky2::gates::packed_util::PackedEvaluableBase;
                self.eval_unfiltered_base_batch_packed(vars)
            }

            fn eval_unfiltered_circuit(
                &self,
                builder: &mut plonky2::plonk::circuit_builder::CircuitBuilder<F, D>,
                vars: plonky2::plonk::vars::EvaluationTargets<D>,
            ) -> Vec<plonky2::iop::ext_target::ExtensionTarget<D>> {
                let mut cx = $crate::circuits::gates::Circ(builder);
                $crate::circuits::gates::eval_ops(self, &mut cx, vars.local_wires)
            }

            fn generators(
                &self,
                row: usize,
                _: &[F],
            ) -> Vec<plonky2::iop::generator::WitnessGeneratorRef<F, D>> {
                use plonky2::iop::generator::SimpleGenerator;
                (0..$crate::circuits::gates::OpsGate::ops(self))
                    .map(|i| {
                        plonky2::iop::generator::WitnessGeneratorRef::new(
                            $crate::circuits::gates::OpGenerator::new(self.clone(), row, i)
                                .adapter(),
                        )
                    })
                    .collect()
            }

            fn num_wires(&self) -> usize {
                $crate::circuits::gates::OpsGate::wires(self)
            }

            fn num_constants(&self) -> usize {
                0
            }

            fn degree(&self) -> usize {
                <Self as $crate::circuits::gates::OpsGate>::DEGREE
            }

            fn num_constraints(&self) -> usize {
                $crate::circuits::gates::OpsGate::ops(self)
                    * <Self as $crate::circuits::gates::OpsGate>::RELATIONS
                    * 5
            }
        }

        impl<
                F: plonky2::hash::hash_types::RichField + plonky2::field::extension::Extendable<D>,
                const D: usize,
            > plonky2::gates::packed_util::PackedEvaluableBase<F, D> for $gate
        {
            fn eval_unfiltered_base_packed<P: plonky2::field::packed::PackedField<Scalar = F>>(
                &self,
                vars: plonky2::plonk::vars::EvaluationVarsBasePacked<P>,
                mut yield_constr: plonky2::gates::util::StridedConstraintConsumer<P>,
            ) {
                let wires: Vec<P> = (0..$crate::circuits::gates::OpsGate::wires(self))
                    .map(|i| vars.local_wires[i])
                    .collect();
                let mut cx = $crate::circuits::gates::Plain::new(|c: u64| {
                    P::from(<F as plonky2::field::types::Field>::from_canonical_u64(c))
                });
                yield_constr.many($crate::circuits::gates::eval_ops(self, &mut cx, &wires));
            }
        }
    };
}
pub(crate) use impl_ops_gate;

#[cfg(test)]
mod tests {
    use plonky2::{
        iop::witness::PartialWitness,
        plonk::circuit_data::{CircuitConfig, CircuitData, VerifierCircuitData},
    };
    use rollup_core::ecgfp5::{Point, Scalar};

    use super::*;
    use crate::circuits::{
        curve::{
            add_affine_point, add_virtual_affine_point, affine_to_point, double_point,
            point_to_affine, set_affine_point_target,
        },
        gfp5::CircuitBuilderGfp5,
        schnorr::{add_virtual_signature_target, verify_schnorr_circuit},
        C, D, F,
    };

    fn schnorr_circuit() -> CircuitData<F, C, D> {
        let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
        let pk = builder.add_virtual_gfp5();
        let message = builder.add_virtual_hash();
        let signature = add_virtual_signature_target(&mut builder);
        verify_schnorr_circuit(&mut builder, pk, message, &signature);
        builder.build::<C>()
    }

    #[test]
    fn building_the_schnorr_circuit_twice_gives_the_same_digest() {
        let (first, second) = (schnorr_circuit(), schnorr_circuit());
        assert_eq!(
            first.verifier_only.circuit_digest,
            second.verifier_only.circuit_digest
        );
        assert_eq!(first.common, second.common);
    }

    /// 2 p + q and p q (coordinates of GF(p^5) as elements), all three gates in use.
    #[test]
    fn circuit_data_with_the_gates_round_trips_and_still_verifies() {
        let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
        let p = add_virtual_affine_point(&mut builder);
        let q = add_virtual_affine_point(&mut builder);
        let pp = affine_to_point(&mut builder, p);
        let doubled = double_point(&mut builder, pp);
        let sum = add_affine_point(&mut builder, doubled, q);
        let affine = point_to_affine(&mut builder, sum);
        let product = builder.mul_gfp5(p.x, q.x);
        builder.register_gfp5_public_input(affine.x);
        builder.register_gfp5_public_input(affine.u);
        builder.register_gfp5_public_input(product);
        let data = builder.build::<C>();

        let serializer = GateSerializerEcGfp5;
        let bytes = data.common.to_bytes(&serializer).unwrap();
        let common = CommonCircuitData::<F, D>::from_bytes(bytes, &serializer).unwrap();
        assert_eq!(common, data.common);
        let bytes = data.verifier_data().to_bytes(&serializer).unwrap();
        let verifier = VerifierCircuitData::<F, C, D>::from_bytes(bytes, &serializer).unwrap();

        let mut rng = rand::thread_rng();
        let (pv, qv) = (
            Point::mul_generator(&Scalar::random(&mut rng)),
            Point::mul_generator(&Scalar::random(&mut rng)),
        );
        let mut pw = PartialWitness::new();
        set_affine_point_target(&mut pw, p, &pv).unwrap();
        set_affine_point_target(&mut pw, q, &qv).unwrap();
        let proof = data.prove(pw).unwrap();
        let expected = pv.double().add(&qv).to_affine();
        let x_product = pv.to_affine().x.mul(&qv.to_affine().x);
        let public: Vec<F> = [expected.x, expected.u, x_product]
            .iter()
            .flat_map(|e| e.to_fields())
            .collect();
        assert_eq!(proof.public_inputs, public);
        verifier.verify(proof).unwrap();
    }
}
