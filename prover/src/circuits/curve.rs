//! ECgFp5 points in circuit: the twins of `rollup_core::ecgfp5::{Point, AffinePoint}`.
//!
//! Points are kept in the fractional (x, u) coordinates (X : Z : U : T) of Pornin's paper,
//! whose addition and doubling formulas are complete on the group (no exceptional case:
//! neutral, equal and opposite operands all go through the same formula), exactly as the
//! native `Point::add`, `Point::add_affine` and `Point::double`; doublings and mixed
//! additions, which dominate scalar multiplications, are single slots of the custom
//! [`PointDoubleGate`] and [`PointAddAffineGate`]. Z and T of every point
//! these gadgets produce are nonzero, which makes the witness-supplied divisions of
//! [`point_to_affine`] and [`encode_point_circuit`] sound.
//!
//! Scalar multiplications take the scalar as little-endian bits and use 4-bit unsigned
//! windows over tables of affine multiples read with `random_access`; [`mul_add_generator_bits`]
//! shares the doublings between [s] G and [e] P (Straus-Shamir).

use plonky2::{
    field::types::Field,
    iop::{
        generator::{GeneratedValues, SimpleGenerator},
        target::{BoolTarget, Target},
        witness::{PartitionWitness, WitnessWrite},
    },
    plonk::{circuit_builder::CircuitBuilder, circuit_data::CommonCircuitData},
    util::serialization::{Buffer, IoResult},
};
use rollup_core::ecgfp5::{
    curve::{CURVE_A, CURVE_B1},
    scalar::ORDER,
    AffinePoint, Gfp5, Point, Scalar,
};

use super::{
    gates::{PointAddAffineGate, PointDoubleGate},
    gfp5::{
        get_gfp5, read_gfp5, set_gfp5_generated, set_gfp5_target, write_gfp5, CircuitBuilderGfp5,
        Gfp5Target,
    },
    D, F,
};

/// Bits per window of the scalar multiplications (tables of 16 entries).
const WINDOW_BITS: usize = 4;

/// A group element in fractional coordinates: x = X/Z, u = U/T (Z, T nonzero).
#[derive(Clone, Copy, Debug)]
pub struct PointTarget {
    /// X.
    pub x: Gfp5Target,
    /// Z.
    pub z: Gfp5Target,
    /// U.
    pub u: Gfp5Target,
    /// T.
    pub t: Gfp5Target,
}

/// A group element in affine (x, u) coordinates; the neutral is (0, 0).
#[derive(Clone, Copy, Debug)]
pub struct AffinePointTarget {
    /// x.
    pub x: Gfp5Target,
    /// u = x / y (0 for the neutral).
    pub u: Gfp5Target,
}

/// The curve constant a = 2.
fn a() -> F {
    F::from_canonical_u64(CURVE_A)
}

/// The coefficient of z in b = 263 z.
fn b1() -> F {
    F::from_canonical_u64(CURVE_B1)
}

/// k z a + c b, coefficient-wise (5 operations).
fn z_shift_comb(
    builder: &mut CircuitBuilder<F, D>,
    k: F,
    a: Gfp5Target,
    c: F,
    b: Gfp5Target,
) -> Gfp5Target {
    let one = builder.one();
    let three = F::from_canonical_u64(3);
    Gfp5Target(std::array::from_fn(|n| {
        let (coeff, source) = if n == 0 { (k * three, 4) } else { (k, n - 1) };
        builder.arithmetic(coeff, c, a.0[source], one, b.0[n])
    }))
}

/// k z (a - b), coefficient-wise (5 operations).
fn z_shift_diff(
    builder: &mut CircuitBuilder<F, D>,
    k: F,
    a: Gfp5Target,
    b: Gfp5Target,
) -> Gfp5Target {
    let one = builder.one();
    let three = F::from_canonical_u64(3);
    Gfp5Target(std::array::from_fn(|n| {
        let (coeff, source) = if n == 0 { (k * three, 4) } else { (k, n - 1) };
        builder.arithmetic(coeff, -coeff, a.0[source], one, b.0[source])
    }))
}

/// The neutral (0 : 1 : 0 : 1).
pub fn neutral_point(builder: &mut CircuitBuilder<F, D>) -> PointTarget {
    let (zero, one) = (builder.zero_gfp5(), builder.one_gfp5());
    PointTarget {
        x: zero,
        z: one,
        u: zero,
        t: one,
    }
}

/// A constant affine point.
pub fn constant_affine_point(
    builder: &mut CircuitBuilder<F, D>,
    point: &AffinePoint,
) -> AffinePointTarget {
    AffinePointTarget {
        x: builder.constant_gfp5(point.x),
        u: builder.constant_gfp5(point.u),
    }
}

/// A constant point.
pub fn constant_point(builder: &mut CircuitBuilder<F, D>, point: &Point) -> PointTarget {
    let affine = constant_affine_point(builder, &point.to_affine());
    affine_to_point(builder, affine)
}

/// A fresh affine point filled by the witness ([`set_affine_point_target`]). Nothing
/// checks that it is on the curve: callers either trust it (tests) or decode points from
/// their encodings ([`decode_point_circuit`]).
pub fn add_virtual_affine_point(builder: &mut CircuitBuilder<F, D>) -> AffinePointTarget {
    AffinePointTarget {
        x: builder.add_virtual_gfp5(),
        u: builder.add_virtual_gfp5(),
    }
}

/// Fills an affine point target with the affine coordinates of a native point.
pub fn set_affine_point_target(
    witness: &mut impl WitnessWrite<F>,
    target: AffinePointTarget,
    point: &Point,
) -> anyhow::Result<()> {
    let affine = point.to_affine();
    set_gfp5_target(witness, target.x, &affine.x)?;
    set_gfp5_target(witness, target.u, &affine.u)
}

/// The affine point as (x : 1 : u : 1).
pub fn affine_to_point(builder: &mut CircuitBuilder<F, D>, p: AffinePointTarget) -> PointTarget {
    let one = builder.one_gfp5();
    PointTarget {
        x: p.x,
        z: one,
        u: p.u,
        t: one,
    }
}

/// The opposite element (X : Z : -U : T).
pub fn neg_point(builder: &mut CircuitBuilder<F, D>, p: PointTarget) -> PointTarget {
    PointTarget {
        u: builder.neg_gfp5(p.u),
        ..p
    }
}

/// `if b { p } else { q }`.
pub fn select_point(
    builder: &mut CircuitBuilder<F, D>,
    b: BoolTarget,
    p: PointTarget,
    q: PointTarget,
) -> PointTarget {
    PointTarget {
        x: builder.select_gfp5(b, p.x, q.x),
        z: builder.select_gfp5(b, p.z, q.z),
        u: builder.select_gfp5(b, p.u, q.u),
        t: builder.select_gfp5(b, p.t, q.t),
    }
}

/// The common tail of the addition formulas (native `Point::finish_add`).
fn finish_add(
    builder: &mut CircuitBuilder<F, D>,
    [t1, t2, t3, t4, t5, t6]: [Gfp5Target; 6],
) -> PointTarget {
    let b_t2 = builder.mul_small_z_gfp5(t2, b1());
    let t7 = builder.add_gfp5(t1, b_t2);
    let t8 = builder.mul_gfp5(t4, t7);
    // t9 = t3 (2b t5 + a t7)
    let inner = z_shift_comb(builder, b1().double(), t5, a(), t7);
    let t9 = builder.mul_gfp5(t3, inner);
    // t10 = (t4 + a t3)(t5 + t7)
    let left = builder.lin_comb_gfp5(F::ONE, t4, a(), t3);
    let right = builder.add_gfp5(t5, t7);
    let t10 = builder.mul_gfp5(left, right);
    let u_factor = builder.sub_gfp5(b_t2, t1);
    PointTarget {
        x: z_shift_diff(builder, b1(), t10, t8),
        z: builder.sub_gfp5(t8, t9),
        u: builder.mul_gfp5(t6, u_factor),
        t: builder.add_gfp5(t8, t9),
    }
}

/// p + q, complete (native `Point::add`).
pub fn add_point(
    builder: &mut CircuitBuilder<F, D>,
    p: PointTarget,
    q: PointTarget,
) -> PointTarget {
    let t1 = builder.mul_gfp5(p.x, q.x);
    let t2 = builder.mul_gfp5(p.z, q.z);
    let t3 = builder.mul_gfp5(p.u, q.u);
    let t4 = builder.mul_gfp5(p.t, q.t);
    let x1_z2 = builder.mul_gfp5(p.x, q.z);
    let t5 = builder.mul_add_gfp5(F::ONE, q.x, p.z, x1_z2);
    let u1_t2 = builder.mul_gfp5(p.u, q.t);
    let t6 = builder.mul_add_gfp5(F::ONE, q.u, p.t, u1_t2);
    finish_add(builder, [t1, t2, t3, t4, t5, t6])
}

/// p + q for an affine q, complete (native `Point::add_affine`; q may be (0, 0)): one
/// [`PointAddAffineGate`] slot.
pub fn add_affine_point(
    builder: &mut CircuitBuilder<F, D>,
    p: PointTarget,
    q: AffinePointTarget,
) -> PointTarget {
    let coordinates =
        PointAddAffineGate::apply(builder, [p.x.0, p.z.0, p.u.0, p.t.0], [q.x.0, q.u.0]);
    point_from_coordinates(coordinates)
}

/// 2 p, complete (native `Point::double`): one [`PointDoubleGate`] slot.
pub fn double_point(builder: &mut CircuitBuilder<F, D>, p: PointTarget) -> PointTarget {
    let coordinates = PointDoubleGate::apply(builder, [p.x.0, p.z.0, p.u.0, p.t.0]);
    point_from_coordinates(coordinates)
}

/// (X : Z : U : T) from a gate's output coordinates.
fn point_from_coordinates([x, z, u, t]: [[Target; 5]; 4]) -> PointTarget {
    PointTarget {
        x: Gfp5Target(x),
        z: Gfp5Target(z),
        u: Gfp5Target(u),
        t: Gfp5Target(t),
    }
}

/// 2^n p.
pub fn double_point_n(builder: &mut CircuitBuilder<F, D>, p: PointTarget, n: usize) -> PointTarget {
    (0..n).fold(p, |acc, _| double_point(builder, acc))
}

/// Affine coordinates (x, u) = (X/Z, U/T): two witness quotients, each constrained by one
/// product (sound because Z and T are nonzero on every point of these gadgets).
pub fn point_to_affine(builder: &mut CircuitBuilder<F, D>, p: PointTarget) -> AffinePointTarget {
    AffinePointTarget {
        x: builder.quotient_gfp5_unchecked(p.x, p.z),
        u: builder.quotient_gfp5_unchecked(p.u, p.t),
    }
}

/// Whether p is the neutral (U = 0).
pub fn is_neutral_point(builder: &mut CircuitBuilder<F, D>, p: PointTarget) -> BoolTarget {
    builder.is_zero_gfp5(p.u)
}

/// The canonical encoding w = T/U = 1/u, with 0 for the neutral (native `Point::encode`),
/// and whether p is the neutral.
pub fn encode_point_with_flag(
    builder: &mut CircuitBuilder<F, D>,
    p: PointTarget,
) -> (Gfp5Target, BoolTarget) {
    let neutral = is_neutral_point(builder, p);
    // With U' = U + [neutral] (1 for the neutral, else U != 0) and T' = T (1 - [neutral]),
    // w U' = T' has exactly one solution: T/U, or 0 for the neutral.
    let denominator = builder.add_base_gfp5(p.u, neutral.target);
    let numerator = Gfp5Target(
        p.t.0
            .map(|t| builder.arithmetic(F::NEG_ONE, F::ONE, neutral.target, t, t)),
    );
    (
        builder.quotient_gfp5_unchecked(numerator, denominator),
        neutral,
    )
}

/// The canonical encoding w = 1/u, 0 for the neutral (native `Point::encode`).
pub fn encode_point_circuit(builder: &mut CircuitBuilder<F, D>, p: PointTarget) -> Gfp5Target {
    encode_point_with_flag(builder, p).0
}

/// Decodes a nonzero encoding w (native `Point::decode`), as affine (x, 1/w). With
/// e = w^2 - a and delta = e^2 - 4b, the witness supplies r with r^2 = delta, chosen so
/// that (e + r)/2 is a square, and a square root of (e + r)/2; the element's x is the
/// other root (e - r)/2 of x^2 - e x + b (the two multiply to b, which is not a square, so
/// exactly one of them is a square and x is unique). The proof fails when w = 0 or w
/// encodes nothing (delta is not a square).
pub fn decode_nonneutral_point_circuit(
    builder: &mut CircuitBuilder<F, D>,
    w: Gfp5Target,
) -> AffinePointTarget {
    let w2 = builder.square_gfp5(w);
    let mut e = w2;
    e.0[0] = builder.add_const(w2.0[0], -a());
    let e2 = builder.square_gfp5(e);
    let mut delta = e2;
    delta.0[1] = builder.add_const(e2.0[1], -(b1() * F::from_canonical_u64(4)));

    let root = builder.add_virtual_gfp5();
    let square_root = builder.add_virtual_gfp5();
    builder.add_simple_generator(DecodeGenerator {
        w,
        root,
        square_root,
    });
    let root_squared = builder.square_gfp5(root);
    builder.connect_gfp5(root_squared, delta);
    let half = F::TWO.inverse();
    let square_x = builder.lin_comb_gfp5(half, e, half, root);
    let square_root_squared = builder.square_gfp5(square_root);
    builder.connect_gfp5(square_root_squared, square_x);

    AffinePointTarget {
        x: builder.sub_gfp5(e, square_x),
        u: builder.inverse_gfp5(w),
    }
}

/// Decodes an encoding w (native `Point::decode`): 0 is the neutral (0, 0); the proof
/// fails when w encodes nothing.
pub fn decode_point_circuit(
    builder: &mut CircuitBuilder<F, D>,
    w: Gfp5Target,
) -> AffinePointTarget {
    let neutral = builder.is_zero_gfp5(w);
    // Decode 4 (the generator's encoding) in place of 0, then zero the result.
    let one = builder.one();
    let mut substitute = w;
    substitute.0[0] = builder.arithmetic(
        F::from_canonical_u64(4),
        F::ONE,
        neutral.target,
        one,
        w.0[0],
    );
    let p = decode_nonneutral_point_circuit(builder, substitute);
    let mut clear = |v: Gfp5Target| {
        Gfp5Target(v.0.map(|c| builder.arithmetic(F::NEG_ONE, F::ONE, neutral.target, c, c)))
    };
    AffinePointTarget {
        x: clear(p.x),
        u: clear(p.u),
    }
}

/// Supplies the square roots of [`decode_nonneutral_point_circuit`] (zeros for an
/// invalid w, which the constraints then refuse).
#[derive(Debug, Default)]
pub(crate) struct DecodeGenerator {
    w: Gfp5Target,
    root: Gfp5Target,
    square_root: Gfp5Target,
}

impl SimpleGenerator<F, D> for DecodeGenerator {
    fn id(&self) -> String {
        "EcGfp5DecodeGenerator".to_string()
    }

    fn dependencies(&self) -> Vec<Target> {
        self.w.0.to_vec()
    }

    fn run_once(
        &self,
        witness: &PartitionWitness<F>,
        out_buffer: &mut GeneratedValues<F>,
    ) -> anyhow::Result<()> {
        let w = get_gfp5(witness, self.w);
        let e = w
            .square()
            .sub(&Gfp5::from_u64s_reduce([CURVE_A, 0, 0, 0, 0]));
        let delta = e
            .square()
            .sub(&Gfp5::from_u64s_reduce([0, 4 * CURVE_B1, 0, 0, 0]));
        let half = Gfp5::from_u64s_reduce([rollup_core::field::MODULUS.div_ceil(2), 0, 0, 0, 0]);
        let (root, square_root) = delta
            .sqrt()
            .and_then(|r| {
                [r, r.neg()]
                    .into_iter()
                    .find_map(|r| e.add(&r).mul(&half).sqrt().map(|s| (r, s)))
            })
            .unwrap_or((Gfp5::ZERO, Gfp5::ZERO));
        set_gfp5_generated(out_buffer, self.root, &root)?;
        set_gfp5_generated(out_buffer, self.square_root, &square_root)
    }

    fn serialize(&self, dst: &mut Vec<u8>, _: &CommonCircuitData<F, D>) -> IoResult<()> {
        write_gfp5(dst, self.w)?;
        write_gfp5(dst, self.root)?;
        write_gfp5(dst, self.square_root)
    }

    fn deserialize(src: &mut Buffer, _: &CommonCircuitData<F, D>) -> IoResult<Self> {
        Ok(Self {
            w: read_gfp5(src)?,
            root: read_gfp5(src)?,
            square_root: read_gfp5(src)?,
        })
    }
}

/// A table of the affine multiples [0] P .. [15] P ([0] P = (0, 0)).
type Table = [AffinePointTarget; 1 << WINDOW_BITS];

/// The multiples of a variable point, computed in circuit and normalised to affine.
fn variable_table(builder: &mut CircuitBuilder<F, D>, p: AffinePointTarget) -> Table {
    let zero = builder.zero_gfp5();
    let mut table = [AffinePointTarget { x: zero, u: zero }; 1 << WINDOW_BITS];
    table[1] = p;
    let mut multiple = affine_to_point(builder, p);
    for (j, entry) in table.iter_mut().enumerate().skip(2) {
        multiple = if j == 2 {
            double_point(builder, multiple)
        } else {
            add_affine_point(builder, multiple, p)
        };
        *entry = point_to_affine(builder, multiple);
    }
    table
}

/// The constant multiples of the generator.
fn generator_table(builder: &mut CircuitBuilder<F, D>) -> Table {
    std::array::from_fn(|j| {
        let multiple = Point::mul_generator(&Scalar::from_u64(j as u64)).to_affine();
        constant_affine_point(builder, &multiple)
    })
}

/// table[index], coordinate by coordinate with `random_access`.
fn lookup(builder: &mut CircuitBuilder<F, D>, table: &Table, index: Target) -> AffinePointTarget {
    let mut read = |coordinate: fn(&AffinePointTarget) -> Gfp5Target| {
        Gfp5Target(std::array::from_fn(|k| {
            let column = table.iter().map(|p| coordinate(p).0[k]).collect();
            builder.random_access(index, column)
        }))
    };
    AffinePointTarget {
        x: read(|p| p.x),
        u: read(|p| p.u),
    }
}

/// sum_i [k_i] P_i for tables of the P_i and little-endian bits of the k_i, with shared
/// doublings (4 per window) and one mixed addition per window of each scalar.
fn multi_mul(builder: &mut CircuitBuilder<F, D>, terms: &[(Table, &[BoolTarget])]) -> PointTarget {
    let windows = terms
        .iter()
        .map(|(_, bits)| bits.len().div_ceil(WINDOW_BITS))
        .max()
        .unwrap_or(0);
    let mut acc: Option<PointTarget> = None;
    for i in (0..windows).rev() {
        if let Some(point) = acc {
            acc = Some(double_point_n(builder, point, WINDOW_BITS));
        }
        for (table, bits) in terms {
            let start = i * WINDOW_BITS;
            if start >= bits.len() {
                continue;
            }
            let window = &bits[start..bits.len().min(start + WINDOW_BITS)];
            let index = builder.le_sum(window.iter());
            let entry = lookup(builder, table, index);
            acc = Some(match acc {
                None => affine_to_point(builder, entry),
                Some(point) => add_affine_point(builder, point, entry),
            });
        }
    }
    acc.unwrap_or_else(|| neutral_point(builder))
}

/// [k] p for the integer k = sum bits[i] 2^i (native `Point::mul` for k below n).
pub fn mul_point_bits(
    builder: &mut CircuitBuilder<F, D>,
    p: AffinePointTarget,
    bits: &[BoolTarget],
) -> PointTarget {
    let table = variable_table(builder, p);
    multi_mul(builder, &[(table, bits)])
}

/// [k] G for the integer k = sum bits[i] 2^i (native `Point::mul_generator`).
pub fn mul_generator_bits(builder: &mut CircuitBuilder<F, D>, bits: &[BoolTarget]) -> PointTarget {
    let table = generator_table(builder);
    multi_mul(builder, &[(table, bits)])
}

/// [s] G + [e] p (native `Point::mul_add_generator_vartime`), the doublings shared.
pub fn mul_add_generator_bits(
    builder: &mut CircuitBuilder<F, D>,
    s_bits: &[BoolTarget],
    e_bits: &[BoolTarget],
    p: AffinePointTarget,
) -> PointTarget {
    let generator = generator_table(builder);
    let variable = variable_table(builder, p);
    multi_mul(builder, &[(generator, s_bits), (variable, e_bits)])
}

/// A scalar in circuit: the ten 32-bit little-endian limbs of its canonical encoding
/// (a 64-bit limb of a scalar may exceed the Goldilocks modulus, so halves are used).
#[derive(Clone, Copy, Debug)]
pub struct ScalarTarget {
    /// Limb i is bits 32 i .. 32 i + 32.
    pub limbs: [Target; 10],
}

/// A fresh scalar filled by the witness ([`set_scalar_target`]).
pub fn add_virtual_scalar_target(builder: &mut CircuitBuilder<F, D>) -> ScalarTarget {
    ScalarTarget {
        limbs: builder.add_virtual_target_arr(),
    }
}

/// Fills a scalar target.
pub fn set_scalar_target(
    witness: &mut impl WitnessWrite<F>,
    target: ScalarTarget,
    scalar: &Scalar,
) -> anyhow::Result<()> {
    set_scalar_limbs(witness, target, scalar.limbs())
}

/// Fills a scalar target from five 64-bit limbs, reduced or not (a value >= n makes
/// [`scalar_bits_circuit`] unprovable).
pub fn set_scalar_limbs(
    witness: &mut impl WitnessWrite<F>,
    target: ScalarTarget,
    limbs: [u64; 5],
) -> anyhow::Result<()> {
    for (i, limb) in limbs.into_iter().enumerate() {
        witness.set_target(
            target.limbs[2 * i],
            F::from_canonical_u64(limb & 0xffff_ffff),
        )?;
        witness.set_target(target.limbs[2 * i + 1], F::from_canonical_u64(limb >> 32))?;
    }
    Ok(())
}

/// The 320 little-endian bits of a scalar, with every limb range-checked to 32 bits and
/// the value checked to be below the group order n (as a canonical `Scalar` is).
pub fn scalar_bits_circuit(builder: &mut CircuitBuilder<F, D>, s: ScalarTarget) -> Vec<BoolTarget> {
    let bits: Vec<BoolTarget> = s
        .limbs
        .iter()
        .flat_map(|&limb| builder.split_le(limb, 32))
        .collect();
    let order_bits = (0..320).map(|i| (ORDER[i / 64] >> (i % 64)) & 1 == 1);
    assert_bits_below(builder, &bits, order_bits);
    bits
}

/// Constrains the little-endian `bits` to encode an integer below the constant whose
/// little-endian bits are `bound` (about 1.5 operations per bit).
fn assert_bits_below(
    builder: &mut CircuitBuilder<F, D>,
    bits: &[BoolTarget],
    bound: impl Iterator<Item = bool>,
) {
    // less = [bits[..i] < bound[..i]], from the least significant bit up: at a bit where
    // the bound has 1, less' = !b || less = 1 - b + b less; where it has 0, less' =
    // !b && less = less - b less.
    let mut less = builder.zero();
    for (&b, bound_bit) in bits.iter().zip(bound) {
        less = if bound_bit {
            let t = builder.arithmetic(F::ONE, F::NEG_ONE, b.target, less, b.target);
            builder.add_const(t, F::ONE)
        } else {
            builder.arithmetic(F::NEG_ONE, F::ONE, b.target, less, less)
        };
    }
    let one = builder.one();
    builder.connect(less, one);
}

/// The 64 little-endian bits of the canonical value of a field element: plonky2's
/// `split_le` alone would also accept the bits of x + p when that is below 2^64, so the
/// bits are also constrained to a value below p (high half all ones forces low half 0).
pub fn canonical_bits_64(builder: &mut CircuitBuilder<F, D>, x: Target) -> Vec<BoolTarget> {
    let bits = builder.split_le(x, 64);
    let low = builder.le_sum(bits[..32].iter());
    let high = builder.le_sum(bits[32..].iter());
    let all_ones = builder.constant(F::from_canonical_u64(0xffff_ffff));
    let high_is_max = builder.is_equal(high, all_ones);
    let product = builder.mul(high_is_max.target, low);
    builder.assert_zero(product);
    bits
}

#[cfg(test)]
mod tests {
    use plonky2::{
        iop::witness::PartialWitness,
        plonk::circuit_data::{CircuitConfig, CircuitData},
    };
    use rand::{rngs::StdRng, Rng, SeedableRng};

    use super::*;
    use crate::circuits::C;

    fn rng() -> StdRng {
        StdRng::seed_from_u64(0xc0_12_7e)
    }

    fn random_point(rng: &mut StdRng) -> Point {
        Point::mul_generator(&Scalar::random(rng))
    }

    /// Connects the affine coordinates and the encoding of p to fresh expected targets.
    fn expose(
        builder: &mut CircuitBuilder<F, D>,
        p: PointTarget,
    ) -> (AffinePointTarget, Gfp5Target) {
        let affine = point_to_affine(builder, p);
        let encoding = encode_point_circuit(builder, p);
        let expected = add_virtual_affine_point(builder);
        let expected_encoding = builder.add_virtual_gfp5();
        builder.connect_gfp5(affine.x, expected.x);
        builder.connect_gfp5(affine.u, expected.u);
        builder.connect_gfp5(encoding, expected_encoding);
        (expected, expected_encoding)
    }

    fn set_expected(
        pw: &mut PartialWitness<F>,
        (affine, encoding): (AffinePointTarget, Gfp5Target),
        p: &Point,
    ) {
        set_affine_point_target(pw, affine, p).unwrap();
        set_gfp5_target(pw, encoding, &p.encode()).unwrap();
    }

    struct GroupLawCircuit {
        data: CircuitData<F, C, D>,
        p: AffinePointTarget,
        q: AffinePointTarget,
        outputs: Vec<(AffinePointTarget, Gfp5Target)>,
    }

    fn group_law_circuit() -> GroupLawCircuit {
        let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
        let p = add_virtual_affine_point(&mut builder);
        let q = add_virtual_affine_point(&mut builder);
        let pp = affine_to_point(&mut builder, p);
        let qp = affine_to_point(&mut builder, q);
        // Fractional inputs with Z, T != 1: 2p and 2q.
        let p2 = double_point(&mut builder, pp);
        let q2 = double_point(&mut builder, qp);
        let neutral = neutral_point(&mut builder);
        let neg_p = neg_point(&mut builder, pp);
        let results = [
            add_point(&mut builder, pp, qp),
            add_point(&mut builder, p2, q2),
            add_affine_point(&mut builder, p2, q),
            p2,
            double_point(&mut builder, q2),
            add_point(&mut builder, p2, neutral),
            add_point(&mut builder, neutral, p2),
            add_point(&mut builder, p2, p2),
            add_point(&mut builder, pp, neg_p),
            neg_p,
            double_point(&mut builder, neutral),
        ];
        let outputs = results.map(|r| expose(&mut builder, r)).to_vec();
        let data = builder.build::<C>();
        GroupLawCircuit {
            data,
            p,
            q,
            outputs,
        }
    }

    fn group_law_expected(p: &Point, q: &Point) -> Vec<Point> {
        let (p2, q2) = (p.double(), q.double());
        vec![
            p.add(q),
            p2.add(&q2),
            p2.add(q),
            p2,
            q2.double(),
            p2,
            p2,
            p2.double(),
            Point::NEUTRAL,
            p.neg(),
            Point::NEUTRAL,
        ]
    }

    fn prove_group_law(
        circuit: &GroupLawCircuit,
        p: &Point,
        q: &Point,
        expected: &[Point],
    ) -> bool {
        let mut pw = PartialWitness::new();
        set_affine_point_target(&mut pw, circuit.p, p).unwrap();
        set_affine_point_target(&mut pw, circuit.q, q).unwrap();
        for (&output, value) in circuit.outputs.iter().zip(expected) {
            set_expected(&mut pw, output, value);
        }
        match circuit.data.prove(pw) {
            Ok(proof) => circuit.data.verify(proof).is_ok(),
            Err(_) => false,
        }
    }

    #[test]
    fn circuit_group_law_and_encoding_equal_native_ones() {
        let mut rng = rng();
        let circuit = group_law_circuit();
        let p = random_point(&mut rng);
        let cases = [
            (p, random_point(&mut rng)),
            (random_point(&mut rng), random_point(&mut rng)),
            // Equal, opposite and neutral operands.
            (p, p),
            (p, p.neg()),
            (p, Point::NEUTRAL),
            (Point::NEUTRAL, p),
        ];
        for (p, q) in cases {
            let expected = group_law_expected(&p, &q);
            assert!(prove_group_law(&circuit, &p, &q, &expected), "{p:?} {q:?}");
        }
        // A wrong sum and a wrong encoding are refused.
        let q = random_point(&mut rng);
        let mut wrong = group_law_expected(&p, &q);
        wrong[0] = p.add(&q).add(&Point::GENERATOR);
        assert!(
            !prove_group_law(&circuit, &p, &q, &wrong),
            "a wrong sum proved"
        );
        let mut wrong = group_law_expected(&p, &q);
        wrong[4] = wrong[4].neg();
        assert!(
            !prove_group_law(&circuit, &p, &q, &wrong),
            "a wrong double proved"
        );
    }

    #[test]
    fn decoding_accepts_valid_encodings_only() {
        let mut rng = rng();
        let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
        let w = builder.add_virtual_gfp5();
        let decoded = decode_point_circuit(&mut builder, w);
        let expected = add_virtual_affine_point(&mut builder);
        builder.connect_gfp5(decoded.x, expected.x);
        builder.connect_gfp5(decoded.u, expected.u);
        // Decoding then encoding is the identity.
        let point = affine_to_point(&mut builder, decoded);
        let encoding = encode_point_circuit(&mut builder, point);
        builder.connect_gfp5(encoding, w);
        // The strict decoder alongside, on its own input.
        let w_strict = builder.add_virtual_gfp5();
        let strict = decode_nonneutral_point_circuit(&mut builder, w_strict);
        let strict_expected = add_virtual_affine_point(&mut builder);
        builder.connect_gfp5(strict.x, strict_expected.x);
        builder.connect_gfp5(strict.u, strict_expected.u);
        let data = builder.build::<C>();

        let prove = |value: &Gfp5, p: &Point, strict_value: &Gfp5, q: &Point| {
            let mut pw = PartialWitness::new();
            set_gfp5_target(&mut pw, w, value).unwrap();
            set_affine_point_target(&mut pw, expected, p).unwrap();
            set_gfp5_target(&mut pw, w_strict, strict_value).unwrap();
            set_affine_point_target(&mut pw, strict_expected, q).unwrap();
            data.prove(pw).and_then(|proof| data.verify(proof))
        };
        let g = Point::GENERATOR;
        for _ in 0..3 {
            let p = random_point(&mut rng);
            let decoded = Point::decode(&p.encode()).unwrap();
            prove(&p.encode(), &decoded, &g.encode(), &g).expect("a valid encoding");
        }
        prove(&Gfp5::ZERO, &Point::NEUTRAL, &g.encode(), &g).expect("the neutral");

        let p = random_point(&mut rng);
        // The wrong point for a valid encoding: the other root of the quadratic.
        assert!(prove(&p.encode(), &p.neg(), &g.encode(), &g).is_err());
        // Invalid encodings.
        let mut invalid = 0;
        while invalid < 3 {
            let candidate = Gfp5::random(&mut rng);
            if Point::decode(&candidate).is_some() {
                continue;
            }
            invalid += 1;
            assert!(
                prove(&candidate, &p, &g.encode(), &g).is_err(),
                "an invalid encoding decoded"
            );
            assert!(
                prove(&p.encode(), &p, &candidate, &p).is_err(),
                "an invalid encoding decoded (strict)"
            );
        }
        // The strict decoder refuses the neutral.
        assert!(prove(&p.encode(), &p, &Gfp5::ZERO, &Point::NEUTRAL).is_err());
    }

    #[test]
    fn scalar_multiplications_equal_native_ones() {
        let mut rng = rng();
        let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
        let p = add_virtual_affine_point(&mut builder);
        let k = add_virtual_scalar_target(&mut builder);
        let e = builder.add_virtual_target_arr::<4>();
        let k_bits = scalar_bits_circuit(&mut builder, k);
        let e_bits: Vec<_> = e
            .iter()
            .flat_map(|&limb| canonical_bits_64(&mut builder, limb))
            .collect();
        let outputs = [
            mul_point_bits(&mut builder, p, &k_bits),
            mul_generator_bits(&mut builder, &k_bits),
            mul_add_generator_bits(&mut builder, &k_bits, &e_bits, p),
        ]
        .map(|r| expose(&mut builder, r));
        println!(
            "scalar multiplication test circuit: {} gates",
            builder.num_gates()
        );
        let data = builder.build::<C>();

        let prove =
            |point: &Point, scalar_limbs: [u64; 5], e_limbs: [F; 4], expected: [Point; 3]| {
                let mut pw = PartialWitness::new();
                set_affine_point_target(&mut pw, p, point).unwrap();
                set_scalar_limbs(&mut pw, k, scalar_limbs).unwrap();
                pw.set_target_arr(&e, &e_limbs).unwrap();
                for (output, value) in outputs.into_iter().zip(&expected) {
                    set_expected(&mut pw, output, value);
                }
                data.prove(pw).and_then(|proof| data.verify(proof)).is_ok()
            };
        let native = |point: &Point, k: &Scalar, e: [F; 4]| {
            use plonky2::field::types::PrimeField64;
            let e = Scalar::from_u256_limbs(e.map(|l| l.to_canonical_u64()));
            [
                point.mul(k),
                Point::mul_generator(k),
                Point::mul_add_generator_vartime(k, &e, point),
            ]
        };
        let point = random_point(&mut rng);
        let scalars = [
            Scalar::random(&mut rng),
            Scalar::ZERO,
            Scalar::ONE,
            -Scalar::ONE,
        ];
        for (i, scalar) in scalars.iter().enumerate() {
            let e = if i == 1 {
                [F::ZERO; 4]
            } else {
                std::array::from_fn(|_| {
                    F::from_canonical_u64(rng.gen::<u64>() % rollup_core::field::MODULUS)
                })
            };
            assert!(
                prove(&point, scalar.limbs(), e, native(&point, scalar, e)),
                "scalar {i}"
            );
        }
        // The neutral as the variable base.
        let scalar = Scalar::random(&mut rng);
        let e = [F::ONE; 4];
        assert!(prove(
            &Point::NEUTRAL,
            scalar.limbs(),
            e,
            native(&Point::NEUTRAL, &scalar, e)
        ));

        // A wrong product is refused.
        let mut expected = native(&point, &scalar, e);
        expected[0] = expected[0].add(&point);
        assert!(!prove(&point, scalar.limbs(), e, expected));
        // A scalar >= n is refused even though its multiples are well defined: n itself
        // (where [n] P is the neutral) and k + n.
        let neutral = [Point::NEUTRAL; 3];
        let mut n_expected = neutral;
        n_expected[2] = Point::mul_add_generator_vartime(&Scalar::ZERO, &Scalar::ONE, &point);
        assert!(!prove(
            &point,
            ORDER,
            [F::ONE, F::ZERO, F::ZERO, F::ZERO],
            n_expected
        ));
        let one_plus_n = {
            let mut limbs = ORDER;
            limbs[0] += 1;
            limbs
        };
        let mut expected = native(&point, &Scalar::ONE, [F::ZERO; 4]);
        expected[2] = Point::GENERATOR;
        assert!(!prove(&point, one_plus_n, [F::ZERO; 4], expected));
    }
}
