//! GF(p^5) = GF(p)[z]/(z^5 - 3) in circuit: the twin of `rollup_core::ecgfp5::Gfp5`.
//!
//! An element is five base-field targets (the coefficients of 1, z, .., z^4). Products and
//! squares are slots of the custom [`Gfp5MulGate`] (5 per row in the standard recursion
//! configuration, where schoolbook products from base operations took 25 of plonky2's
//! `ArithmeticGate` operations, 1.25 rows); linear operations are `ArithmeticGate`
//! operations (20 per row). Inverses, quotients and square roots are computed natively by
//! witness generators and constrained by one product.
//!
//! Every check is a copy constraint between generated values, so a witness that violates
//! one makes `prove` return an error rather than a proof.

use plonky2::{
    field::types::Field,
    iop::{
        generator::{GeneratedValues, SimpleGenerator},
        target::{BoolTarget, Target},
        witness::{PartitionWitness, Witness, WitnessWrite},
    },
    plonk::{circuit_builder::CircuitBuilder, circuit_data::CommonCircuitData},
    util::serialization::{Buffer, IoResult, Read, Write},
};
use rollup_core::ecgfp5::Gfp5;

use super::{gates::Gfp5MulGate, D, F};

/// z^5 = W in GF(p^5).
const W: u64 = 3;

/// An element of GF(p^5) in circuit: its five coefficients, lowest degree first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Gfp5Target(pub [Target; 5]);

impl Gfp5Target {
    /// The five coefficient targets.
    pub fn targets(&self) -> [Target; 5] {
        self.0
    }
}

/// GF(p^5) gadgets on the rollup's circuit builder.
pub trait CircuitBuilderGfp5 {
    /// A fresh element filled by the witness (see [`set_gfp5_target`]); its coefficients
    /// are arbitrary field elements, which is all GF(p^5) needs.
    fn add_virtual_gfp5(&mut self) -> Gfp5Target;
    /// A constant element.
    fn constant_gfp5(&mut self, value: Gfp5) -> Gfp5Target;
    /// The constant 0.
    fn zero_gfp5(&mut self) -> Gfp5Target;
    /// The constant 1.
    fn one_gfp5(&mut self) -> Gfp5Target;
    /// Constrains two elements to be equal.
    fn connect_gfp5(&mut self, a: Gfp5Target, b: Gfp5Target);
    /// Registers the five coefficients as public inputs.
    fn register_gfp5_public_input(&mut self, a: Gfp5Target);
    /// a + b (5 operations).
    fn add_gfp5(&mut self, a: Gfp5Target, b: Gfp5Target) -> Gfp5Target;
    /// a - b (5 operations).
    fn sub_gfp5(&mut self, a: Gfp5Target, b: Gfp5Target) -> Gfp5Target;
    /// -a (5 operations).
    fn neg_gfp5(&mut self, a: Gfp5Target) -> Gfp5Target;
    /// c0 a + c1 b for base constants (5 operations).
    fn lin_comb_gfp5(&mut self, c0: F, a: Gfp5Target, c1: F, b: Gfp5Target) -> Gfp5Target;
    /// a b (one `Gfp5MulGate` slot).
    fn mul_gfp5(&mut self, a: Gfp5Target, b: Gfp5Target) -> Gfp5Target;
    /// k a b + c for a base constant k (a product, then 5 operations).
    fn mul_add_gfp5(&mut self, k: F, a: Gfp5Target, b: Gfp5Target, c: Gfp5Target) -> Gfp5Target;
    /// k a b for a base constant k (a product, then 5 operations unless k = 1).
    fn mul_scaled_gfp5(&mut self, k: F, a: Gfp5Target, b: Gfp5Target) -> Gfp5Target;
    /// a^2 (a product).
    fn square_gfp5(&mut self, a: Gfp5Target) -> Gfp5Target;
    /// k a for a base constant k (5 operations).
    fn mul_small_gfp5(&mut self, a: Gfp5Target, k: F) -> Gfp5Target;
    /// (k z) a for a base constant k: a shift of the coefficients (5 operations).
    fn mul_small_z_gfp5(&mut self, a: Gfp5Target, k: F) -> Gfp5Target;
    /// c a for a constant c of GF(p^5) (up to 25 operations).
    fn mul_const_gfp5(&mut self, a: Gfp5Target, c: Gfp5) -> Gfp5Target;
    /// s a for a base-field target s (5 operations).
    fn scale_gfp5(&mut self, a: Gfp5Target, s: Target) -> Gfp5Target;
    /// a + c for a base-field target c, added to the constant coefficient (1 operation).
    fn add_base_gfp5(&mut self, a: Gfp5Target, c: Target) -> Gfp5Target;
    /// 1/a from the witness, constrained by a (1/a) = 1: unprovable when a = 0.
    fn inverse_gfp5(&mut self, a: Gfp5Target) -> Gfp5Target;
    /// a / b = a (1/b): unprovable when b = 0 (two products).
    fn div_gfp5(&mut self, a: Gfp5Target, b: Gfp5Target) -> Gfp5Target;
    /// A quotient q with q b = a (one product). Sound only where the caller knows
    /// b != 0 (then q = a / b is unique); with b = 0 it is unprovable unless a = 0, and
    /// then q is unconstrained.
    fn quotient_gfp5_unchecked(&mut self, a: Gfp5Target, b: Gfp5Target) -> Gfp5Target;
    /// A square root of a from the witness, constrained by squaring: unprovable when a
    /// is not a square (which root is not specified).
    fn sqrt_gfp5(&mut self, a: Gfp5Target) -> Gfp5Target;
    /// Whether a = 0 (14 operations).
    fn is_zero_gfp5(&mut self, a: Gfp5Target) -> BoolTarget;
    /// Whether a = b.
    fn is_equal_gfp5(&mut self, a: Gfp5Target, b: Gfp5Target) -> BoolTarget;
    /// `if b { x } else { y }` (10 operations).
    fn select_gfp5(&mut self, b: BoolTarget, x: Gfp5Target, y: Gfp5Target) -> Gfp5Target;
}

/// The products a_i b_j contributing to coefficient k of a product, with their weight
/// (1, or W where i + j = k + 5).
fn product_terms(k: usize) -> impl Iterator<Item = (usize, usize, u64)> {
    (0..5).map(move |i| {
        let j = (k + 5 - i) % 5;
        (i, j, if i + j >= 5 { W } else { 1 })
    })
}

impl CircuitBuilderGfp5 for CircuitBuilder<F, D> {
    fn add_virtual_gfp5(&mut self) -> Gfp5Target {
        Gfp5Target(self.add_virtual_target_arr())
    }

    fn constant_gfp5(&mut self, value: Gfp5) -> Gfp5Target {
        Gfp5Target(value.to_fields().map(|c| self.constant(c)))
    }

    fn zero_gfp5(&mut self) -> Gfp5Target {
        self.constant_gfp5(Gfp5::ZERO)
    }

    fn one_gfp5(&mut self) -> Gfp5Target {
        self.constant_gfp5(Gfp5::ONE)
    }

    fn connect_gfp5(&mut self, a: Gfp5Target, b: Gfp5Target) {
        for (x, y) in a.0.into_iter().zip(b.0) {
            self.connect(x, y);
        }
    }

    fn register_gfp5_public_input(&mut self, a: Gfp5Target) {
        self.register_public_inputs(&a.0);
    }

    fn add_gfp5(&mut self, a: Gfp5Target, b: Gfp5Target) -> Gfp5Target {
        self.lin_comb_gfp5(F::ONE, a, F::ONE, b)
    }

    fn sub_gfp5(&mut self, a: Gfp5Target, b: Gfp5Target) -> Gfp5Target {
        self.lin_comb_gfp5(F::ONE, a, F::NEG_ONE, b)
    }

    fn neg_gfp5(&mut self, a: Gfp5Target) -> Gfp5Target {
        self.mul_small_gfp5(a, F::NEG_ONE)
    }

    fn lin_comb_gfp5(&mut self, c0: F, a: Gfp5Target, c1: F, b: Gfp5Target) -> Gfp5Target {
        let one = self.one();
        Gfp5Target(std::array::from_fn(|k| {
            self.arithmetic(c0, c1, a.0[k], one, b.0[k])
        }))
    }

    fn mul_gfp5(&mut self, a: Gfp5Target, b: Gfp5Target) -> Gfp5Target {
        Gfp5Target(Gfp5MulGate::apply(self, a.0, b.0))
    }

    fn mul_add_gfp5(&mut self, k: F, a: Gfp5Target, b: Gfp5Target, c: Gfp5Target) -> Gfp5Target {
        let product = self.mul_gfp5(a, b);
        self.lin_comb_gfp5(k, product, F::ONE, c)
    }

    fn mul_scaled_gfp5(&mut self, k: F, a: Gfp5Target, b: Gfp5Target) -> Gfp5Target {
        let product = self.mul_gfp5(a, b);
        if k == F::ONE {
            product
        } else {
            self.mul_small_gfp5(product, k)
        }
    }

    fn square_gfp5(&mut self, a: Gfp5Target) -> Gfp5Target {
        self.mul_gfp5(a, a)
    }

    fn mul_small_gfp5(&mut self, a: Gfp5Target, k: F) -> Gfp5Target {
        Gfp5Target(a.0.map(|x| self.mul_const(k, x)))
    }

    fn mul_small_z_gfp5(&mut self, a: Gfp5Target, k: F) -> Gfp5Target {
        let w = F::from_canonical_u64(W);
        Gfp5Target(std::array::from_fn(|n| {
            if n == 0 {
                self.mul_const(k * w, a.0[4])
            } else {
                self.mul_const(k, a.0[n - 1])
            }
        }))
    }

    fn mul_const_gfp5(&mut self, a: Gfp5Target, c: Gfp5) -> Gfp5Target {
        let c = c.to_fields();
        Gfp5Target(std::array::from_fn(|n| {
            let mut acc = self.zero();
            for (i, j, w) in product_terms(n) {
                let coeff = c[j] * F::from_canonical_u64(w);
                if coeff != F::ZERO {
                    acc = self.mul_const_add(coeff, a.0[i], acc);
                }
            }
            acc
        }))
    }

    fn scale_gfp5(&mut self, a: Gfp5Target, s: Target) -> Gfp5Target {
        Gfp5Target(a.0.map(|x| self.mul(x, s)))
    }

    fn add_base_gfp5(&mut self, a: Gfp5Target, c: Target) -> Gfp5Target {
        let mut out = a;
        out.0[0] = self.add(a.0[0], c);
        out
    }

    fn inverse_gfp5(&mut self, a: Gfp5Target) -> Gfp5Target {
        let one = self.one_gfp5();
        let inv = self.add_virtual_gfp5();
        self.add_simple_generator(Gfp5QuotientGenerator {
            numerator: one,
            denominator: a,
            quotient: inv,
        });
        let product = self.mul_gfp5(a, inv);
        self.connect_gfp5(product, one);
        inv
    }

    fn div_gfp5(&mut self, a: Gfp5Target, b: Gfp5Target) -> Gfp5Target {
        let inv = self.inverse_gfp5(b);
        self.mul_gfp5(a, inv)
    }

    fn quotient_gfp5_unchecked(&mut self, a: Gfp5Target, b: Gfp5Target) -> Gfp5Target {
        let quotient = self.add_virtual_gfp5();
        self.add_simple_generator(Gfp5QuotientGenerator {
            numerator: a,
            denominator: b,
            quotient,
        });
        let product = self.mul_gfp5(quotient, b);
        self.connect_gfp5(product, a);
        quotient
    }

    fn sqrt_gfp5(&mut self, a: Gfp5Target) -> Gfp5Target {
        let root = self.add_virtual_gfp5();
        self.add_simple_generator(Gfp5SqrtGenerator { square: a, root });
        let square = self.square_gfp5(root);
        self.connect_gfp5(square, a);
        root
    }

    fn is_zero_gfp5(&mut self, a: Gfp5Target) -> BoolTarget {
        // Per coefficient: z_i = 1 - a_i inv_i with a_i z_i = 0 forces z_i = [a_i = 0]
        // whatever inv_i is (inv_i = 1/a_i is forced when a_i != 0).
        let inverses = self.add_virtual_targets(5);
        self.add_simple_generator(InverseOrZeroGenerator {
            inputs: a.0.to_vec(),
            outputs: inverses.clone(),
        });
        let one = self.one();
        let mut all = None;
        for (&x, &inv) in a.0.iter().zip(&inverses) {
            let is_zero = self.arithmetic(F::NEG_ONE, F::ONE, x, inv, one);
            let check = self.mul(x, is_zero);
            self.assert_zero(check);
            all = Some(match all {
                None => is_zero,
                Some(acc) => self.mul(acc, is_zero),
            });
        }
        BoolTarget::new_unsafe(all.expect("five coefficients"))
    }

    fn is_equal_gfp5(&mut self, a: Gfp5Target, b: Gfp5Target) -> BoolTarget {
        let diff = self.sub_gfp5(a, b);
        self.is_zero_gfp5(diff)
    }

    fn select_gfp5(&mut self, b: BoolTarget, x: Gfp5Target, y: Gfp5Target) -> Gfp5Target {
        Gfp5Target(std::array::from_fn(|k| self.select(b, x.0[k], y.0[k])))
    }
}

/// Fills an element target with a native element.
pub fn set_gfp5_target(
    witness: &mut impl WitnessWrite<F>,
    target: Gfp5Target,
    value: &Gfp5,
) -> anyhow::Result<()> {
    for (t, v) in target.0.into_iter().zip(value.to_fields()) {
        witness.set_target(t, v)?;
    }
    Ok(())
}

/// Reads an element target from a witness.
pub(crate) fn get_gfp5(witness: &PartitionWitness<F>, target: Gfp5Target) -> Gfp5 {
    Gfp5::from_fields(target.0.map(|t| witness.get_target(t)))
}

/// Writes an element into the generated values.
pub(crate) fn set_gfp5_generated(
    out: &mut GeneratedValues<F>,
    target: Gfp5Target,
    value: &Gfp5,
) -> anyhow::Result<()> {
    for (t, v) in target.0.into_iter().zip(value.to_fields()) {
        out.set_target(t, v)?;
    }
    Ok(())
}

pub(crate) fn write_gfp5(dst: &mut Vec<u8>, target: Gfp5Target) -> IoResult<()> {
    dst.write_target_array(&target.0)
}

pub(crate) fn read_gfp5(src: &mut Buffer) -> IoResult<Gfp5Target> {
    Ok(Gfp5Target(src.read_target_array()?))
}

/// quotient = numerator / denominator natively (0 when the denominator is 0: the
/// constraint placed beside it then fails unless the numerator is 0 too).
#[derive(Debug, Default)]
pub(crate) struct Gfp5QuotientGenerator {
    numerator: Gfp5Target,
    denominator: Gfp5Target,
    quotient: Gfp5Target,
}

impl SimpleGenerator<F, D> for Gfp5QuotientGenerator {
    fn id(&self) -> String {
        "Gfp5QuotientGenerator".to_string()
    }

    fn dependencies(&self) -> Vec<Target> {
        [self.numerator.0, self.denominator.0].concat()
    }

    fn run_once(
        &self,
        witness: &PartitionWitness<F>,
        out_buffer: &mut GeneratedValues<F>,
    ) -> anyhow::Result<()> {
        let numerator = get_gfp5(witness, self.numerator);
        let denominator = get_gfp5(witness, self.denominator);
        let quotient = numerator.mul(&denominator.inverse_or_zero());
        set_gfp5_generated(out_buffer, self.quotient, &quotient)
    }

    fn serialize(&self, dst: &mut Vec<u8>, _: &CommonCircuitData<F, D>) -> IoResult<()> {
        write_gfp5(dst, self.numerator)?;
        write_gfp5(dst, self.denominator)?;
        write_gfp5(dst, self.quotient)
    }

    fn deserialize(src: &mut Buffer, _: &CommonCircuitData<F, D>) -> IoResult<Self> {
        Ok(Self {
            numerator: read_gfp5(src)?,
            denominator: read_gfp5(src)?,
            quotient: read_gfp5(src)?,
        })
    }
}

/// root = a square root of `square` natively (0 for a non-square: the squaring
/// constraint then fails).
#[derive(Debug, Default)]
pub(crate) struct Gfp5SqrtGenerator {
    square: Gfp5Target,
    root: Gfp5Target,
}

impl SimpleGenerator<F, D> for Gfp5SqrtGenerator {
    fn id(&self) -> String {
        "Gfp5SqrtGenerator".to_string()
    }

    fn dependencies(&self) -> Vec<Target> {
        self.square.0.to_vec()
    }

    fn run_once(
        &self,
        witness: &PartitionWitness<F>,
        out_buffer: &mut GeneratedValues<F>,
    ) -> anyhow::Result<()> {
        let square = get_gfp5(witness, self.square);
        let root = square.sqrt().unwrap_or(Gfp5::ZERO);
        set_gfp5_generated(out_buffer, self.root, &root)
    }

    fn serialize(&self, dst: &mut Vec<u8>, _: &CommonCircuitData<F, D>) -> IoResult<()> {
        write_gfp5(dst, self.square)?;
        write_gfp5(dst, self.root)
    }

    fn deserialize(src: &mut Buffer, _: &CommonCircuitData<F, D>) -> IoResult<Self> {
        Ok(Self {
            square: read_gfp5(src)?,
            root: read_gfp5(src)?,
        })
    }
}

/// outputs[i] = 1/inputs[i] in the base field, or 0 for 0.
#[derive(Debug, Default)]
pub(crate) struct InverseOrZeroGenerator {
    inputs: Vec<Target>,
    outputs: Vec<Target>,
}

impl SimpleGenerator<F, D> for InverseOrZeroGenerator {
    fn id(&self) -> String {
        "InverseOrZeroGenerator".to_string()
    }

    fn dependencies(&self) -> Vec<Target> {
        self.inputs.clone()
    }

    fn run_once(
        &self,
        witness: &PartitionWitness<F>,
        out_buffer: &mut GeneratedValues<F>,
    ) -> anyhow::Result<()> {
        for (&input, &output) in self.inputs.iter().zip(&self.outputs) {
            let x = witness.get_target(input);
            out_buffer.set_target(output, x.try_inverse().unwrap_or(F::ZERO))?;
        }
        Ok(())
    }

    fn serialize(&self, dst: &mut Vec<u8>, _: &CommonCircuitData<F, D>) -> IoResult<()> {
        dst.write_target_vec(&self.inputs)?;
        dst.write_target_vec(&self.outputs)
    }

    fn deserialize(src: &mut Buffer, _: &CommonCircuitData<F, D>) -> IoResult<Self> {
        Ok(Self {
            inputs: src.read_target_vec()?,
            outputs: src.read_target_vec()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use plonky2::{iop::witness::PartialWitness, plonk::circuit_data::CircuitConfig};
    use rand::{rngs::StdRng, SeedableRng};

    use super::*;
    use crate::circuits::C;

    fn rng() -> StdRng {
        StdRng::seed_from_u64(0x6f_70_35)
    }

    /// Inputs a, b (b != 0 for the quotients), and every operation's result connected to
    /// an expected value filled from the native implementation.
    struct OpsCircuit {
        a: Gfp5Target,
        b: Gfp5Target,
        expected: Vec<Gfp5Target>,
        flags: Vec<Target>,
    }

    const CONST: Gfp5 = Gfp5::from_u64s_reduce([5, 0, 17, 1 << 40, u64::MAX - 7]);

    fn native_results(a: &Gfp5, b: &Gfp5) -> Vec<Gfp5> {
        let k = Gfp5::from_u64s_reduce([7, 0, 0, 0, 0]);
        vec![
            a.add(b),
            a.sub(b),
            a.neg(),
            a.mul(b),
            a.mul(b).mul_small(5).add(&b.square()),
            a.square(),
            a.mul_small(7),
            a.mul_small_z(263),
            a.mul(&CONST),
            a.mul(&k),
            b.inverse_or_zero(),
            a.mul(&b.inverse_or_zero()),
            a.mul(&b.inverse_or_zero()),
            // The root's square (the root itself is either sign), then a^2.
            a.square(),
            a.square(),
        ]
    }

    fn build_ops() -> (
        plonky2::plonk::circuit_data::CircuitData<F, C, D>,
        OpsCircuit,
    ) {
        let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
        let a = builder.add_virtual_gfp5();
        let b = builder.add_virtual_gfp5();
        let seven = builder.constant(F::from_canonical_u64(7));
        let b2 = builder.square_gfp5(b);
        let a2 = builder.square_gfp5(a);
        let root = builder.sqrt_gfp5(a2);
        let root_squared = builder.square_gfp5(root);
        let results = vec![
            builder.add_gfp5(a, b),
            builder.sub_gfp5(a, b),
            builder.neg_gfp5(a),
            builder.mul_gfp5(a, b),
            builder.mul_add_gfp5(F::from_canonical_u64(5), a, b, b2),
            a2,
            builder.mul_small_gfp5(a, F::from_canonical_u64(7)),
            builder.mul_small_z_gfp5(a, F::from_canonical_u64(263)),
            builder.mul_const_gfp5(a, CONST),
            builder.scale_gfp5(a, seven),
            builder.inverse_gfp5(b),
            builder.div_gfp5(a, b),
            builder.quotient_gfp5_unchecked(a, b),
            // The root is either sign: compare its square (and a^2 itself below).
            root_squared,
            a2,
        ];
        let expected: Vec<_> = results.iter().map(|_| builder.add_virtual_gfp5()).collect();
        for (&r, &e) in results.iter().zip(&expected) {
            builder.connect_gfp5(r, e);
        }
        // Flags: a = 0, a = b, a = a, 0 = 0; select(a = b, a, b) against b.
        let zero = builder.zero_gfp5();
        let flags = [
            builder.is_zero_gfp5(a).target,
            builder.is_equal_gfp5(a, b).target,
            builder.is_equal_gfp5(a, a).target,
            builder.is_zero_gfp5(zero).target,
        ];
        let flag_targets = builder.add_virtual_targets(flags.len());
        for (&f, &t) in flags.iter().zip(&flag_targets) {
            builder.connect(f, t);
        }
        let eq = builder.is_equal_gfp5(a, b);
        let selected = builder.select_gfp5(eq, a, b);
        builder.connect_gfp5(selected, b);
        let not_eq = builder.not(eq);
        let selected = builder.select_gfp5(not_eq, a, b);
        builder.connect_gfp5(selected, a);
        let data = builder.build::<C>();
        (
            data,
            OpsCircuit {
                a,
                b,
                expected,
                flags: flag_targets,
            },
        )
    }

    fn witness(
        circuit: &OpsCircuit,
        a: &Gfp5,
        b: &Gfp5,
        expected: &[Gfp5],
        flags: [bool; 4],
    ) -> PartialWitness<F> {
        let mut pw = PartialWitness::new();
        set_gfp5_target(&mut pw, circuit.a, a).unwrap();
        set_gfp5_target(&mut pw, circuit.b, b).unwrap();
        for (&t, v) in circuit.expected.iter().zip(expected) {
            set_gfp5_target(&mut pw, t, v).unwrap();
        }
        for (&t, f) in circuit.flags.iter().zip(flags) {
            pw.set_target(t, F::from_bool(f)).unwrap();
        }
        pw
    }

    #[test]
    fn circuit_operations_equal_native_ones_and_wrong_results_cannot_be_proven() {
        let mut rng = rng();
        let (data, circuit) = build_ops();
        for _ in 0..2 {
            let (a, b) = (Gfp5::random(&mut rng), Gfp5::random(&mut rng));
            let expected = native_results(&a, &b);
            let pw = witness(&circuit, &a, &b, &expected, [false, false, true, true]);
            let proof = data.prove(pw).expect("native results must be provable");
            data.verify(proof).unwrap();

            // Each wrong result (off by one in one coefficient) is refused.
            for index in [3, 4, 5, 8, 10, 11] {
                let mut wrong = expected.clone();
                wrong[index] = wrong[index].add(&Gfp5::from_u64s_reduce([0, 0, 1, 0, 0]));
                let pw = witness(&circuit, &a, &b, &wrong, [false, false, true, true]);
                assert!(data.prove(pw).is_err(), "wrong result {index} proved");
            }
            // Wrong flags are refused.
            let pw = witness(&circuit, &a, &b, &expected, [true, false, true, true]);
            assert!(data.prove(pw).is_err(), "a wrong is_zero proved");
            let pw = witness(&circuit, &a, &b, &expected, [false, true, true, true]);
            assert!(data.prove(pw).is_err(), "a wrong is_equal proved");
        }
        // a = b, and a = 0 with a nonzero b.
        let b = Gfp5::random(&mut rng);
        let pw = witness(
            &circuit,
            &b,
            &b,
            &native_results(&b, &b),
            [false, true, true, true],
        );
        data.verify(data.prove(pw).unwrap()).unwrap();
        let a = Gfp5::ZERO;
        let pw = witness(
            &circuit,
            &a,
            &b,
            &native_results(&a, &b),
            [true, false, true, true],
        );
        data.verify(data.prove(pw).unwrap()).unwrap();
    }

    #[test]
    fn inverse_of_zero_and_root_of_a_non_square_cannot_be_proven() {
        let mut rng = rng();
        let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
        let a = builder.add_virtual_gfp5();
        let b = builder.add_virtual_gfp5();
        builder.inverse_gfp5(a);
        builder.sqrt_gfp5(b);
        let data = builder.build::<C>();
        let prove = |x: &Gfp5, y: &Gfp5| {
            let mut pw = PartialWitness::new();
            set_gfp5_target(&mut pw, a, x).unwrap();
            set_gfp5_target(&mut pw, b, y).unwrap();
            data.prove(pw)
        };
        let x = Gfp5::random(&mut rng);
        let square = Gfp5::random(&mut rng).square();
        let non_square = loop {
            let c = Gfp5::random(&mut rng);
            if !c.is_square() {
                break c;
            }
        };
        data.verify(prove(&x, &square).unwrap()).unwrap();
        data.verify(prove(&x, &Gfp5::ZERO).unwrap()).unwrap();
        assert!(prove(&Gfp5::ZERO, &square).is_err(), "1/0 proved");
        assert!(
            prove(&x, &non_square).is_err(),
            "a non-square's root proved"
        );
    }
}
