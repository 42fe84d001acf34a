//! Integers modulo n, the prime order of the ECgFp5 group: the secret keys, nonces and
//! signature responses.
//!
//! Values are five little-endian 64-bit limbs, always reduced (< n). Products use
//! Montgomery multiplication (R = 2^320) followed by a multiplication by R^2 to leave the
//! Montgomery domain, so the rest of the code only ever sees plain integers.

use std::{
    fmt,
    ops::{Add, Mul, Neg, Sub},
};

use plonky2::field::types::{Field64, PrimeField64};

use crate::{field::F, Error, Result};

/// The group order n (319 bits), little-endian limbs.
pub const ORDER: [u64; 5] = [
    0xe80f_d996_948b_ffe1,
    0xe888_5c39_d724_a09c,
    0x7fff_ffe6_cfb8_0639,
    0x7fff_fff1_0000_0016,
    0x7fff_fffd_8000_0007,
];
/// -1/n mod 2^64, for Montgomery reduction.
const N0_INV: u64 = 0xd78b_ef72_057b_7bdf;
/// R^2 mod n with R = 2^320, to convert into (and, after a product, out of) Montgomery form.
const R2: [u64; 5] = [
    0xa010_01dc_e33d_c739,
    0x6c32_28d3_3f62_accf,
    0xd1d7_96cc_91cf_8525,
    0xaadf_ff5d_1574_c1d8,
    0x4aca_13b2_8ca2_51f5,
];

/// Width in bits of the signed windows of scalar multiplication.
pub const WINDOW_BITS: usize = 5;
/// Number of signed windows of a reduced scalar (64 x 5 = 320 bits > 319).
pub const WINDOWS: usize = 64;

/// a + b over 320 bits, with the carry out.
#[inline]
fn add_limbs(a: &[u64; 5], b: &[u64; 5]) -> ([u64; 5], bool) {
    let mut out = [0u64; 5];
    let mut carry = false;
    for i in 0..5 {
        let (s1, c1) = a[i].overflowing_add(b[i]);
        let (s2, c2) = s1.overflowing_add(u64::from(carry));
        out[i] = s2;
        carry = c1 | c2;
    }
    (out, carry)
}

/// a - b over 320 bits, with the borrow out.
#[inline]
fn sub_limbs(a: &[u64; 5], b: &[u64; 5]) -> ([u64; 5], bool) {
    let mut out = [0u64; 5];
    let mut borrow = false;
    for i in 0..5 {
        let (d1, b1) = a[i].overflowing_sub(b[i]);
        let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
        out[i] = d2;
        borrow = b1 | b2;
    }
    (out, borrow)
}

/// Subtracts n once if the value (with an extra top bit `high`) is at least n.
#[inline]
fn reduce_once(value: [u64; 5], high: bool) -> [u64; 5] {
    let (diff, borrow) = sub_limbs(&value, &ORDER);
    if high || !borrow {
        diff
    } else {
        value
    }
}

/// Montgomery product a b / 2^320 mod n, for a < 2^320 and b < n (result < n).
fn mont_mul(a: &[u64; 5], b: &[u64; 5]) -> [u64; 5] {
    let mut t = [0u64; 7];
    for &bi in b {
        // t += a * b[i]
        let mut carry = 0u64;
        for j in 0..5 {
            let v = u128::from(t[j]) + u128::from(a[j]) * u128::from(bi) + u128::from(carry);
            t[j] = v as u64;
            carry = (v >> 64) as u64;
        }
        let v = u128::from(t[5]) + u128::from(carry);
        t[5] = v as u64;
        t[6] = (v >> 64) as u64;
        // t = (t + m n) / 2^64, with m chosen so that the low word cancels.
        let m = t[0].wrapping_mul(N0_INV);
        let v = u128::from(t[0]) + u128::from(m) * u128::from(ORDER[0]);
        let mut carry = (v >> 64) as u64;
        for j in 1..5 {
            let v = u128::from(t[j]) + u128::from(m) * u128::from(ORDER[j]) + u128::from(carry);
            t[j - 1] = v as u64;
            carry = (v >> 64) as u64;
        }
        let v = u128::from(t[5]) + u128::from(carry);
        t[4] = v as u64;
        t[5] = t[6] + (v >> 64) as u64;
    }
    // t < 2n.
    reduce_once([t[0], t[1], t[2], t[3], t[4]], t[5] != 0)
}

/// An integer modulo the group order n, always reduced.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Scalar([u64; 5]);

impl Scalar {
    /// Zero.
    pub const ZERO: Self = Self([0; 5]);
    /// One.
    pub const ONE: Self = Self([1, 0, 0, 0, 0]);
    /// Byte length of the canonical encoding (40 little-endian bytes).
    pub const BYTES: usize = 40;

    /// Builds a scalar from little-endian limbs, if they are below n.
    pub fn from_limbs(limbs: [u64; 5]) -> Option<Self> {
        let (_, borrow) = sub_limbs(&limbs, &ORDER);
        borrow.then_some(Self(limbs))
    }

    /// The little-endian limbs of the (reduced) value.
    pub fn limbs(&self) -> [u64; 5] {
        self.0
    }

    /// A small integer as a scalar.
    pub fn from_u64(value: u64) -> Self {
        Self([value, 0, 0, 0, 0])
    }

    /// The integer l0 + l1 2^64 + l2 2^128 + l3 2^192 (< 2^256 < n, so no reduction): how
    /// a Schnorr challenge digest becomes a scalar, its bits straight from the limbs.
    pub fn from_u256_limbs(limbs: [u64; 4]) -> Self {
        Self([limbs[0], limbs[1], limbs[2], limbs[3], 0])
    }

    /// The canonical encoding: 40 little-endian bytes.
    pub fn to_bytes(&self) -> [u8; 40] {
        let mut out = [0u8; 40];
        for (chunk, limb) in out.chunks_exact_mut(8).zip(self.0) {
            chunk.copy_from_slice(&limb.to_le_bytes());
        }
        out
    }

    /// Decodes the canonical encoding, refusing values that are not below n (so each
    /// scalar has a single encoding and signatures are not malleable).
    pub fn from_bytes(bytes: &[u8], what: &'static str) -> Result<Self> {
        if bytes.len() != Self::BYTES {
            return Err(Error::InvalidHex {
                what,
                reason: format!("expected {} bytes, got {}", Self::BYTES, bytes.len()),
            });
        }
        let limbs = std::array::from_fn(|i| {
            u64::from_le_bytes(bytes[8 * i..8 * i + 8].try_into().expect("8 bytes"))
        });
        Self::from_limbs(limbs).ok_or(Error::NonCanonicalScalar { what })
    }

    /// Reduces 64 uniformly random bytes (a little-endian 512-bit integer) mod n; the
    /// result's distance from uniform is about 2^-193.
    pub fn from_bytes_wide(bytes: &[u8; 64]) -> Self {
        let word =
            |i: usize| u64::from_le_bytes(bytes[8 * i..8 * i + 8].try_into().expect("8 bytes"));
        let low = [word(0), word(1), word(2), word(3), word(4)];
        let high = [word(5), word(6), word(7), 0, 0];
        // low < 2^320 < 3n: two conditional subtractions reduce it.
        let low = reduce_once(reduce_once(low, false), false);
        // high 2^320 mod n is the Montgomery product of high (< 2^192 < n) and R^2.
        Self(low) + Self(mont_mul(&high, &R2))
    }

    /// Reduces field elements read as the base-p digits of an integer, sum(e_i p^i) mod
    /// n. Uniform field elements give a uniform integer below p^len, so eight of them
    /// (about 512 bits) give a scalar at distance about 2^-193 from uniform.
    pub fn from_base_p_digits(digits: &[F]) -> Self {
        let p = Self::from_u64(F::ORDER);
        digits.iter().rev().fold(Self::ZERO, |acc, d| {
            acc * p + Self::from_u64(d.to_canonical_u64())
        })
    }

    /// A uniformly random scalar (64 random bytes reduced mod n).
    pub fn random<R: rand::RngCore + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0u8; 64];
        rng.fill_bytes(&mut bytes);
        Self::from_bytes_wide(&bytes)
    }

    /// Whether this is zero.
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 5]
    }

    /// Bit `i` of the value (little-endian; zero past bit 319).
    pub fn bit(&self, i: usize) -> bool {
        i < 320 && (self.0[i / 64] >> (i % 64)) & 1 == 1
    }

    /// The signed 5-bit windows d_i, each in [-16, 16], with sum(d_i 2^(5i)) = self: the
    /// digits of fixed-window scalar multiplication (16 precomputed multiples suffice,
    /// negatives come from negating a point). The top digit never overflows because the
    /// value is below 2^319: its window holds at most 4 bits plus a carry.
    pub fn signed_windows(&self) -> [i8; WINDOWS] {
        let mut digits = [0i8; WINDOWS];
        let mut carry = 0u64;
        for (i, digit) in digits.iter_mut().enumerate() {
            let bit = i * WINDOW_BITS;
            let (limb, shift) = (bit / 64, bit % 64);
            let mut chunk = self.0[limb] >> shift;
            if shift > 64 - WINDOW_BITS && limb + 1 < 5 {
                chunk |= self.0[limb + 1] << (64 - shift);
            }
            let value = (chunk & 0x1f) + carry;
            // Keep 16 as +16 (it is within the table), only 17..=32 borrow from the next.
            if value > 16 {
                *digit = (value as i64 - 32) as i8;
                carry = 1;
            } else {
                *digit = value as i8;
                carry = 0;
            }
        }
        debug_assert_eq!(carry, 0);
        digits
    }
}

impl Add for Scalar {
    type Output = Self;

    #[inline]
    fn add(self, rhs: Self) -> Self {
        let (sum, carry) = add_limbs(&self.0, &rhs.0);
        Self(reduce_once(sum, carry))
    }
}

impl Sub for Scalar {
    type Output = Self;

    #[inline]
    fn sub(self, rhs: Self) -> Self {
        let (diff, borrow) = sub_limbs(&self.0, &rhs.0);
        if borrow {
            Self(add_limbs(&diff, &ORDER).0)
        } else {
            Self(diff)
        }
    }
}

impl Neg for Scalar {
    type Output = Self;

    #[inline]
    fn neg(self) -> Self {
        Self::ZERO - self
    }
}

impl Mul for Scalar {
    type Output = Self;

    #[inline]
    fn mul(self, rhs: Self) -> Self {
        // (a b / R) R^2 / R = a b.
        Self(mont_mul(&mont_mul(&self.0, &rhs.0), &R2))
    }
}

impl fmt::Debug for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Scalar(0x{:016x}{:016x}{:016x}{:016x}{:016x})",
            self.0[4], self.0[3], self.0[2], self.0[1], self.0[0]
        )
    }
}

#[cfg(test)]
mod tests {
    use plonky2::field::types::Field;
    use rand::{rngs::StdRng, SeedableRng};

    use super::*;

    // Known answers computed with Python big integers (see the test below).
    const A_3_200: [u64; 5] = [
        0x5bfaff1eaaf8b0a1,
        0x83ecf6f6e4a7ae22,
        0xfd73d97e447606b6,
        0xc21a937a76f3432f,
        0x1fd5863c3eb0469e,
    ];
    const A_TIMES_B: [u64; 5] = [
        0xc17f6e6570985184,
        0x734107b1a150f715,
        0x8df95eb84b5d82e5,
        0xbbfb7d46eb6c05f2,
        0x03eb3fa9577765e5,
    ];
    const WIDE_REDUCED: [u64; 5] = [
        0xc03431c111e8fbd3,
        0x8561b75f03bfe49d,
        0xa3976c9d2935a9c5,
        0x517923845d8c78e6,
        0x748eccbdd9936144,
    ];

    fn random_scalar(rng: &mut StdRng) -> Scalar {
        Scalar::random(rng)
    }

    #[test]
    fn order_constants_are_consistent() {
        // The decimal value from the ECgFp5 paper.
        let decimal = "1067993516717146951041484916571792702745057740581727230159139685185762082554198619328292418486241";
        // Horner in base 10 on 320-bit limbs.
        let mut acc = [0u64; 5];
        for digit in decimal.bytes().map(|c| u64::from(c - b'0')) {
            let mut carry = u128::from(digit);
            for limb in acc.iter_mut() {
                let v = u128::from(*limb) * 10 + carry;
                *limb = v as u64;
                carry = v >> 64;
            }
            assert_eq!(carry, 0);
        }
        assert_eq!(acc, ORDER);
        assert_eq!(ORDER[0].wrapping_mul(N0_INV), u64::MAX);
        // R^2 is R^2 mod n: mont(R2, 1) = R mod n = 2^320 - 2n.
        let r_mod_n = sub_limbs(&sub_limbs(&[0; 5], &ORDER).0, &ORDER).0;
        assert_eq!(mont_mul(&R2, &[1, 0, 0, 0, 0]), r_mod_n);
    }

    #[test]
    fn arithmetic_matches_known_products_and_ring_laws() {
        // (n - 1)^2 = 1 mod n; (n - 1) + 1 = 0; 2^320 mod n via the wide reduction.
        let minus_one =
            Scalar::from_limbs([ORDER[0] - 1, ORDER[1], ORDER[2], ORDER[3], ORDER[4]]).unwrap();
        assert_eq!(minus_one, -Scalar::ONE);
        assert_eq!(minus_one * minus_one, Scalar::ONE);
        assert_eq!(minus_one + Scalar::ONE, Scalar::ZERO);
        assert_eq!(Scalar::ZERO - Scalar::ONE, minus_one);
        // Vector computed with Python big integers:
        // a = 3^200 mod n, b = 7^150 mod n, a * b mod n.
        let a = (0..200).fold(Scalar::ONE, |acc, _| acc * Scalar::from_u64(3));
        let b = (0..150).fold(Scalar::ONE, |acc, _| acc * Scalar::from_u64(7));
        assert_eq!(a.limbs(), A_3_200);
        assert_eq!((a * b).limbs(), A_TIMES_B);
        let mut wide = [0xffu8; 64];
        wide[0] = 0x12;
        assert_eq!(Scalar::from_bytes_wide(&wide).limbs(), WIDE_REDUCED);

        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..200 {
            let (a, b, c) = (
                random_scalar(&mut rng),
                random_scalar(&mut rng),
                random_scalar(&mut rng),
            );
            assert_eq!(a * b, b * a);
            assert_eq!((a * b) * c, a * (b * c));
            assert_eq!(a * (b + c), a * b + a * c);
            assert_eq!(a - b + b, a);
            assert_eq!(a + (-a), Scalar::ZERO);
            assert_eq!(a * Scalar::ONE, a);
            // Windows recompose to the value.
            let digits = a.signed_windows();
            let recomposed = digits.iter().rev().fold(Scalar::ZERO, |acc, &d| {
                let d = if d < 0 {
                    -Scalar::from_u64(u64::from(d.unsigned_abs()))
                } else {
                    Scalar::from_u64(d as u64)
                };
                acc * Scalar::from_u64(32) + d
            });
            assert_eq!(recomposed, a);
            assert!(digits.iter().all(|d| (-16..=16).contains(d)));
        }
        let digits = minus_one.signed_windows();
        assert!(digits.iter().all(|d| (-16..=16).contains(d)));
    }

    #[test]
    fn base_p_digits_are_read_as_an_integer() {
        let p = F::ORDER;
        let digits = [F::from_canonical_u64(5), F::from_canonical_u64(7)];
        // 5 + 7 p
        let expected = Scalar::from_u64(5) + Scalar::from_u64(7) * Scalar::from_u64(p);
        assert_eq!(Scalar::from_base_p_digits(&digits), expected);
        let (lo, hi) = (
            (7u128 * u128::from(p) + 5) as u64,
            ((7u128 * u128::from(p) + 5) >> 64) as u64,
        );
        assert_eq!(expected.limbs(), [lo, hi, 0, 0, 0]);
    }

    #[test]
    fn encoding_rejects_values_not_below_n() {
        let mut rng = StdRng::seed_from_u64(8);
        let a = random_scalar(&mut rng);
        assert_eq!(Scalar::from_bytes(&a.to_bytes(), "s").unwrap(), a);
        let n_bytes = Scalar(ORDER).to_bytes();
        assert_eq!(
            Scalar::from_bytes(&n_bytes, "s"),
            Err(Error::NonCanonicalScalar { what: "s" })
        );
        assert!(Scalar::from_bytes(&[0xff; 40], "s").is_err());
        assert!(Scalar::from_bytes(&[0; 39], "s").is_err());
        assert!(Scalar::from_limbs(ORDER).is_none());
        assert!(a.bit(0) == (a.limbs()[0] & 1 == 1) && !a.bit(319) && !a.bit(400));
    }
}
