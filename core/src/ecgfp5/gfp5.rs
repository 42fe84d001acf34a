//! The quintic extension GF(p^5) = GF(p)[z]/(z^5 - 3) over Goldilocks, the base field of
//! ECgFp5.
//!
//! Elements are kept as five canonical coefficients (each below p), so equality is plain
//! word equality and the byte encoding is unique. Products accumulate the five `u64 x u64`
//! terms of each output coefficient in a 192-bit accumulator and reduce once, which is
//! several times cheaper than reducing every partial product.

use std::fmt;

use plonky2::field::types::{Field, PrimeField64};

use crate::{
    field::{fields_from_bytes, fields_to_bytes, F, MODULUS},
    Result,
};

/// The Goldilocks modulus p.
const P: u64 = MODULUS;
/// 2^64 mod p (= 2^32 - 1): what a carry out of a 64-bit word is worth.
const EPSILON: u64 = 0xffff_ffff;

/// (z^i)^p = FROB1[i] * z^i, with FROB1[i] = 3^(i (p - 1) / 5).
const FROB1: [u64; 5] = [
    1,
    1_041_288_259_238_279_555,
    15_820_824_984_080_659_046,
    211_587_555_138_949_697,
    1_373_043_270_956_696_022,
];
/// (z^i)^(p^2) = FROB2[i] * z^i, with FROB2[i] = 3^(i (p^2 - 1) / 5).
const FROB2: [u64; 5] = [
    1,
    15_820_824_984_080_659_046,
    1_373_043_270_956_696_022,
    1_041_288_259_238_279_555,
    211_587_555_138_949_697,
];

/// a + b mod p, for canonical inputs.
#[inline(always)]
fn add_p(a: u64, b: u64) -> u64 {
    let (sum, carry) = a.overflowing_add(b);
    if carry {
        // a + b - 2^64 + EPSILON < p: already canonical.
        sum.wrapping_add(EPSILON)
    } else if sum >= P {
        sum - P
    } else {
        sum
    }
}

/// a - b mod p, for canonical inputs.
#[inline(always)]
fn sub_p(a: u64, b: u64) -> u64 {
    let (diff, borrow) = a.overflowing_sub(b);
    // On borrow diff = a - b + 2^64, and a - b + p = diff - EPSILON.
    if borrow {
        diff.wrapping_sub(EPSILON)
    } else {
        diff
    }
}

/// -a mod p, for a canonical input.
#[inline(always)]
fn neg_p(a: u64) -> u64 {
    if a == 0 {
        0
    } else {
        P - a
    }
}

/// Reduces a 128-bit value to its canonical residue, using 2^64 = 2^32 - 1 and
/// 2^96 = -1 (mod p).
#[inline(always)]
fn reduce128(x: u128) -> u64 {
    let lo = x as u64;
    let hi = (x >> 64) as u64;
    let (hi_hi, hi_lo) = (hi >> 32, hi & EPSILON);
    let (mut t0, borrow) = lo.overflowing_sub(hi_hi);
    if borrow {
        t0 = t0.wrapping_sub(EPSILON);
    }
    let t1 = hi_lo * EPSILON;
    let (mut t2, carry) = t0.overflowing_add(t1);
    if carry {
        t2 = t2.wrapping_add(EPSILON);
    }
    if t2 >= P {
        t2 - P
    } else {
        t2
    }
}

/// Reduces lo + hi * 2^128 (hi small), using 2^128 = -2^32 (mod p).
#[inline(always)]
fn reduce192(lo: u128, hi: u64) -> u64 {
    debug_assert!(hi < EPSILON);
    sub_p(reduce128(lo), hi << 32)
}

/// The canonical residue of sum(a[i] * b[i]) for up to five canonical pairs.
#[inline(always)]
fn dot<const N: usize>(a: [u64; N], b: [u64; N]) -> u64 {
    let mut lo = 0u128;
    let mut hi = 0u64;
    for i in 0..N {
        let (sum, carry) = lo.overflowing_add(u128::from(a[i]) * u128::from(b[i]));
        lo = sum;
        hi += u64::from(carry);
    }
    reduce192(lo, hi)
}

/// a * k mod p for a canonical a and any 64-bit k.
#[inline(always)]
fn mul_p(a: u64, k: u64) -> u64 {
    reduce128(u128::from(a) * u128::from(k))
}

/// A square root in GF(p), if any (Tonelli-Shanks with p - 1 = 2^32 q, variable time: for
/// decoding public data).
fn sqrt_base(x: F) -> Option<F> {
    if x == F::ZERO {
        return Some(F::ZERO);
    }
    if x.exp_u64((P - 1) / 2) != F::ONE {
        return None;
    }
    const Q: u64 = (1 << 32) - 1;
    // Invariant: root^2 = x * t, t of order dividing 2^m, c of order exactly 2^m.
    let mut m = 32;
    let mut c = F::POWER_OF_TWO_GENERATOR;
    let mut t = x.exp_u64(Q);
    let mut root = x.exp_u64(Q.div_ceil(2));
    while t != F::ONE {
        // Least i with t^(2^i) = 1 (i < m since x is a square).
        let mut i = 0;
        let mut t_pow = t;
        while t_pow != F::ONE {
            t_pow = t_pow * t_pow;
            i += 1;
        }
        let b = (0..m - i - 1).fold(c, |acc, _| acc * acc);
        m = i;
        c = b * b;
        t *= c;
        root *= b;
    }
    Some(root)
}

/// An element of GF(p^5): sum of `c[i] z^i` with canonical coefficients, z^5 = 3.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Gfp5([u64; 5]);

impl Gfp5 {
    /// Zero, the additive identity (and the encoding of the neutral point).
    pub const ZERO: Self = Self([0; 5]);
    /// One, the multiplicative identity.
    pub const ONE: Self = Self([1, 0, 0, 0, 0]);
    /// Byte length of the canonical encoding (five little-endian 64-bit words).
    pub const BYTES: usize = 40;

    /// Builds an element from coefficients (of 1, z, ..., z^4), reducing each mod p; for
    /// constants and test vectors.
    pub const fn from_u64s_reduce(c: [u64; 5]) -> Self {
        let mut out = [0u64; 5];
        let mut i = 0;
        while i < 5 {
            out[i] = if c[i] >= P { c[i] - P } else { c[i] };
            i += 1;
        }
        Self(out)
    }

    /// Builds an element of the base field GF(p) (a constant polynomial).
    pub fn from_base(value: F) -> Self {
        Self([value.to_canonical_u64(), 0, 0, 0, 0])
    }

    /// Builds an element from its five coefficients as Goldilocks elements (the form the
    /// circuit uses).
    pub fn from_fields(c: [F; 5]) -> Self {
        Self(c.map(|e| e.to_canonical_u64()))
    }

    /// The five coefficients as Goldilocks elements, e.g. to hash or to witness in circuit.
    pub fn to_fields(&self) -> [F; 5] {
        self.0.map(F::from_canonical_u64)
    }

    /// The five canonical coefficients (of 1, z, ..., z^4).
    pub fn coeffs(&self) -> [u64; 5] {
        self.0
    }

    /// The canonical encoding: the five coefficients as little-endian words.
    pub fn to_bytes(&self) -> [u8; 40] {
        fields_to_bytes(&self.to_fields())
            .try_into()
            .expect("5 words")
    }

    /// Decodes the canonical encoding, refusing any word that is not below p.
    pub fn from_bytes(bytes: &[u8], what: &'static str) -> Result<Self> {
        Ok(Self::from_fields(fields_from_bytes::<5>(bytes, what)?))
    }

    /// Whether this is zero.
    #[inline]
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 5]
    }

    /// Sum.
    #[inline]
    pub fn add(&self, rhs: &Self) -> Self {
        let (a, b) = (&self.0, &rhs.0);
        Self([
            add_p(a[0], b[0]),
            add_p(a[1], b[1]),
            add_p(a[2], b[2]),
            add_p(a[3], b[3]),
            add_p(a[4], b[4]),
        ])
    }

    /// Difference.
    #[inline]
    pub fn sub(&self, rhs: &Self) -> Self {
        let (a, b) = (&self.0, &rhs.0);
        Self([
            sub_p(a[0], b[0]),
            sub_p(a[1], b[1]),
            sub_p(a[2], b[2]),
            sub_p(a[3], b[3]),
            sub_p(a[4], b[4]),
        ])
    }

    /// Opposite.
    #[inline]
    pub fn neg(&self) -> Self {
        Self(self.0.map(neg_p))
    }

    /// Twice this element.
    #[inline]
    pub fn double(&self) -> Self {
        self.add(self)
    }

    /// Product. The schoolbook product folds z^(5+i) into 3 z^i; multiplying the folded
    /// coefficients of `rhs` by 3 up front makes every output coefficient one dot product.
    #[inline]
    pub fn mul(&self, rhs: &Self) -> Self {
        let a = self.0;
        let [b0, b1, b2, b3, b4] = rhs.0;
        let (t1, t2, t3, t4) = (mul_p(b1, 3), mul_p(b2, 3), mul_p(b3, 3), mul_p(b4, 3));
        Self([
            dot(a, [b0, t4, t3, t2, t1]),
            dot(a, [b1, b0, t4, t3, t2]),
            dot(a, [b2, b1, b0, t4, t3]),
            dot(a, [b3, b2, b1, b0, t4]),
            dot(a, [b4, b3, b2, b1, b0]),
        ])
    }

    /// Square (cross terms computed once and doubled).
    #[inline]
    pub fn square(&self) -> Self {
        let [a0, a1, a2, a3, a4] = self.0;
        let (d0, d1) = (add_p(a0, a0), add_p(a1, a1));
        let (t3, t4) = (mul_p(a3, 3), mul_p(a4, 3));
        let (e3, e4) = (add_p(t3, t3), add_p(t4, t4));
        // c0 = a0^2 + 6 a1 a4 + 6 a2 a3
        // c1 = 2 a0 a1 + 6 a2 a4 + 3 a3^2
        // c2 = a1^2 + 2 a0 a2 + 6 a3 a4
        // c3 = 2 a0 a3 + 2 a1 a2 + 3 a4^2
        // c4 = a2^2 + 2 a0 a4 + 2 a1 a3
        Self([
            dot([a0, a1, a2], [a0, e4, e3]),
            dot([d0, a2, a3], [a1, e4, t3]),
            dot([a1, d0, a3], [a1, a2, e4]),
            dot([d0, d1, a4], [a3, a2, t4]),
            dot([a2, d0, d1], [a2, a4, a3]),
        ])
    }

    /// Product with a base-field element given as a canonical u64.
    #[inline]
    pub fn mul_small(&self, k: u64) -> Self {
        Self(self.0.map(|c| mul_p(c, k)))
    }

    /// Product with k z (k a small constant), e.g. with the curve constant b = 263 z:
    /// multiplying by z rotates the coefficients and folds z^5 = 3.
    #[inline]
    pub fn mul_small_z(&self, k: u64) -> Self {
        let [a0, a1, a2, a3, a4] = self.0;
        Self([
            mul_p(a4, 3 * k),
            mul_p(a0, k),
            mul_p(a1, k),
            mul_p(a2, k),
            mul_p(a3, k),
        ])
    }

    /// Squares this element n times.
    pub fn square_n(&self, n: usize) -> Self {
        (0..n).fold(*self, |acc, _| acc.square())
    }

    /// This element to a 64-bit power (square and multiply).
    pub fn pow_u64(&self, exponent: u64) -> Self {
        let mut acc = Self::ONE;
        for i in (0..64).rev() {
            acc = acc.square();
            if (exponent >> i) & 1 == 1 {
                acc = acc.mul(self);
            }
        }
        acc
    }

    /// The Frobenius map a -> a^p: a field automorphism, so it only scales coefficients.
    #[inline]
    pub fn frobenius(&self) -> Self {
        Self(std::array::from_fn(|i| mul_p(self.0[i], FROB1[i])))
    }

    /// The Frobenius map applied twice, a -> a^(p^2).
    #[inline]
    pub fn frobenius2(&self) -> Self {
        Self(std::array::from_fn(|i| mul_p(self.0[i], FROB2[i])))
    }

    /// Returns a^(p + p^2 + p^3 + p^4), the cofactor of the norm: a * that = a^r, with
    /// r = (p^5 - 1)/(p - 1), which lies in GF(p).
    fn norm_cofactor(&self) -> Self {
        let t0 = self.frobenius();
        let t1 = t0.mul(&t0.frobenius());
        t1.mul(&t1.frobenius2())
    }

    /// The constant coefficient of self * rhs, enough when the product is known to be in
    /// GF(p).
    fn mul_constant_term(&self, rhs: &Self) -> u64 {
        let a = self.0;
        let b = rhs.0;
        dot(
            a,
            [
                b[0],
                mul_p(b[4], 3),
                mul_p(b[3], 3),
                mul_p(b[2], 3),
                mul_p(b[1], 3),
            ],
        )
    }

    /// The norm N(a) = a^r in GF(p) (r = 1 + p + p^2 + p^3 + p^4): zero iff a is zero, a
    /// square in GF(p) iff a is a square in GF(p^5).
    pub fn norm(&self) -> F {
        F::from_canonical_u64(self.mul_constant_term(&self.norm_cofactor()))
    }

    /// The inverse, or zero for zero (convenient for encodings, where 1/0 is defined as 0).
    /// Uses 1/a = a^(r - 1) / N(a): three products, two Frobenius maps and one inversion
    /// in GF(p).
    pub fn inverse_or_zero(&self) -> Self {
        let cofactor = self.norm_cofactor();
        let norm = F::from_canonical_u64(self.mul_constant_term(&cofactor));
        match norm.try_inverse() {
            Some(inv) => cofactor.mul_small(inv.to_canonical_u64()),
            None => Self::ZERO,
        }
    }

    /// The inverse, if this element is not zero.
    pub fn try_inverse(&self) -> Option<Self> {
        (!self.is_zero()).then(|| self.inverse_or_zero())
    }

    /// Legendre symbol: 0 for zero, 1 for a non-zero square, -1 for a non-square.
    pub fn legendre(&self) -> i8 {
        let symbol = self.norm().exp_u64((P - 1) / 2);
        if symbol == F::ZERO {
            0
        } else if symbol == F::ONE {
            1
        } else {
            -1
        }
    }

    /// Whether this element is a square (zero included).
    pub fn is_square(&self) -> bool {
        self.legendre() >= 0
    }

    /// A square root, if any. With d = a^((p+1)/2) and e = (d d^(p^2))^p = a^((r-1)/2),
    /// a^r = a e^2 lies in GF(p), so sqrt(a) = sqrt(a^r) / e. Which root is returned is
    /// unspecified (callers that need a particular one choose it themselves).
    pub fn sqrt(&self) -> Option<Self> {
        if self.is_zero() {
            return Some(Self::ZERO);
        }
        let d = self.pow_u64(P.div_ceil(2));
        let e = d.mul(&d.frobenius2()).frobenius();
        let a_r = F::from_canonical_u64(self.mul_constant_term(&e.square()));
        let root_r = sqrt_base(a_r)?;
        let root = Self::from_base(root_r).mul(&e.inverse_or_zero());
        (root.square() == *self).then_some(root)
    }

    /// Constant-time-style selection: `if choice { a } else { b }` for an all-ones or
    /// all-zeros `mask`.
    #[inline(always)]
    pub(crate) fn select(mask: u64, a: &Self, b: &Self) -> Self {
        Self(std::array::from_fn(|i| (a.0[i] & mask) | (b.0[i] & !mask)))
    }

    /// A uniformly random element (tests and sampling).
    pub fn random<R: rand::Rng + ?Sized>(rng: &mut R) -> Self {
        Self(std::array::from_fn(|_| rng.gen_range(0..P)))
    }
}

impl fmt::Debug for Gfp5 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Gfp5({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use rand::{rngs::StdRng, SeedableRng};

    use super::*;

    fn rng() -> StdRng {
        StdRng::seed_from_u64(0x6766_7035)
    }

    /// Reference product: full polynomial product then fold, every step through F.
    fn reference_mul(a: &Gfp5, b: &Gfp5) -> Gfp5 {
        let (a, b) = (a.to_fields(), b.to_fields());
        let mut wide = [F::ZERO; 9];
        for i in 0..5 {
            for j in 0..5 {
                wide[i + j] += a[i] * b[j];
            }
        }
        let three = F::from_canonical_u64(3);
        let mut out = [F::ZERO; 5];
        for i in 0..5 {
            out[i] = wide[i]
                + if i + 5 < 9 {
                    three * wide[i + 5]
                } else {
                    F::ZERO
                };
        }
        Gfp5::from_fields(out)
    }

    #[test]
    fn base_field_reductions_match_plonky2() {
        let mut rng = rng();
        let edge = [0, 1, 2, EPSILON, EPSILON + 1, P - 2, P - 1, 1 << 63];
        let mut values: Vec<u64> = edge.to_vec();
        values.extend((0..200).map(|_| rand::Rng::gen_range(&mut rng, 0..P)));
        for &a in &values {
            for &b in &values[..16] {
                let (fa, fb) = (F::from_canonical_u64(a), F::from_canonical_u64(b));
                assert_eq!(add_p(a, b), (fa + fb).to_canonical_u64());
                assert_eq!(sub_p(a, b), (fa - fb).to_canonical_u64());
                assert_eq!(mul_p(a, b), (fa * fb).to_canonical_u64());
            }
            assert_eq!(neg_p(a), (-F::from_canonical_u64(a)).to_canonical_u64());
        }
        assert_eq!(
            reduce128(u128::MAX),
            F::from_noncanonical_u128(u128::MAX).to_canonical_u64()
        );
        // lo + hi 2^128 with the largest accumulators dot can produce.
        let lo = u128::MAX - 5;
        let expected = F::from_noncanonical_u128(lo)
            + F::from_canonical_u64(4) * F::from_canonical_u64(2).exp_u64(128);
        assert_eq!(reduce192(lo, 4), expected.to_canonical_u64());
    }

    #[test]
    fn base_field_square_roots() {
        let mut rng = rng();
        let mut non_squares = 0;
        for _ in 0..200 {
            let x = F::from_canonical_u64(rand::Rng::gen_range(&mut rng, 0..P));
            assert_eq!(sqrt_base(x * x).map(|r| r * r), Some(x * x));
            match sqrt_base(x) {
                Some(r) => assert_eq!(r * r, x),
                None => non_squares += 1,
            }
        }
        assert!(non_squares > 50);
        assert_eq!(sqrt_base(F::from_canonical_u64(7)), None);
        assert_eq!(sqrt_base(F::ZERO), Some(F::ZERO));
    }

    #[test]
    fn frobenius_constants_are_powers_of_three() {
        let three = F::from_canonical_u64(3);
        for i in 0..5u64 {
            assert_eq!(
                FROB1[i as usize],
                three.exp_u64(i * ((P - 1) / 5)).to_canonical_u64()
            );
            // (p^2 - 1)/5 = (p - 1)/5 * (p + 1), reduced mod p - 1 (the order of 3 divides it).
            let e = ((u128::from(i) * u128::from((P - 1) / 5) * (u128::from(P) + 1))
                % u128::from(P - 1)) as u64;
            assert_eq!(FROB2[i as usize], three.exp_u64(e).to_canonical_u64());
        }
        let mut rng = rng();
        for _ in 0..4 {
            let a = Gfp5::random(&mut rng);
            assert_eq!(a.frobenius(), a.pow_u64(P));
            assert_eq!(a.frobenius2(), a.pow_u64(P).pow_u64(P));
            assert_eq!(
                a.frobenius()
                    .frobenius()
                    .frobenius()
                    .frobenius()
                    .frobenius(),
                a
            );
        }
    }

    #[test]
    fn field_axioms_hold_on_random_elements() {
        let mut rng = rng();
        for _ in 0..200 {
            let (a, b, c) = (
                Gfp5::random(&mut rng),
                Gfp5::random(&mut rng),
                Gfp5::random(&mut rng),
            );
            assert_eq!(a.mul(&b), reference_mul(&a, &b));
            assert_eq!(a.mul(&b), b.mul(&a));
            assert_eq!(a.mul(&b).mul(&c), a.mul(&b.mul(&c)));
            assert_eq!(a.mul(&b.add(&c)), a.mul(&b).add(&a.mul(&c)));
            assert_eq!(a.add(&b).sub(&b), a);
            assert_eq!(a.add(&a.neg()), Gfp5::ZERO);
            assert_eq!(a.square(), a.mul(&a));
            assert_eq!(a.mul(&Gfp5::ONE), a);
            let inv = a.try_inverse().unwrap();
            assert_eq!(a.mul(&inv), Gfp5::ONE);
            assert_eq!(
                a.mul_small_z(263),
                a.mul(&Gfp5::from_u64s_reduce([0, 263, 0, 0, 0]))
            );
            assert_eq!(
                a.mul_small(7),
                a.mul(&Gfp5::from_u64s_reduce([7, 0, 0, 0, 0]))
            );
        }
        // Extreme coefficients exercise every carry of the accumulators.
        let max = Gfp5::from_u64s_reduce([P - 1; 5]);
        assert_eq!(max.mul(&max), reference_mul(&max, &max));
        assert_eq!(max.square(), reference_mul(&max, &max));
        assert_eq!(Gfp5::ZERO.try_inverse(), None);
        assert_eq!(Gfp5::ZERO.inverse_or_zero(), Gfp5::ZERO);
    }

    #[test]
    fn square_roots_and_non_squares() {
        let mut rng = rng();
        let mut non_squares = 0;
        for _ in 0..100 {
            let a = Gfp5::random(&mut rng);
            let sq = a.square();
            assert_eq!(sq.legendre(), 1);
            let root = sq.sqrt().unwrap();
            assert!(root == a || root == a.neg());
            // Euler's criterion over GF(p^5), (p^5-1)/2 computed through the norm.
            match a.sqrt() {
                Some(r) => {
                    assert_eq!(r.square(), a);
                    assert_eq!(a.legendre(), 1);
                }
                None => {
                    non_squares += 1;
                    assert_eq!(a.legendre(), -1);
                    assert!(!a.is_square());
                    // A non-square times a square is a non-square.
                    assert_eq!(a.mul(&sq).legendre(), -1);
                }
            }
        }
        // About half of the elements are squares.
        assert!((25..=75).contains(&non_squares), "{non_squares}");
        assert_eq!(Gfp5::ZERO.legendre(), 0);
        assert_eq!(Gfp5::ZERO.sqrt(), Some(Gfp5::ZERO));
        // N(z) = z^5 times the product of the fifth roots of unity = 3.
        let z = Gfp5::from_u64s_reduce([0, 1, 0, 0, 0]);
        assert_eq!(z.norm(), F::from_canonical_u64(3));
    }

    #[test]
    fn encoding_is_canonical() {
        let mut rng = rng();
        let a = Gfp5::random(&mut rng);
        let bytes = a.to_bytes();
        assert_eq!(Gfp5::from_bytes(&bytes, "t").unwrap(), a);
        let mut bad = bytes;
        bad[16..24].copy_from_slice(&P.to_le_bytes());
        assert!(Gfp5::from_bytes(&bad, "t").is_err());
        assert!(Gfp5::from_bytes(&bytes[..32], "t").is_err());
    }
}
