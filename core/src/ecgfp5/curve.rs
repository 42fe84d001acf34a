//! The ECgFp5 group: the curve y^2 = x (x^2 + a x + b) over GF(p^5), a = 2, b = 263 z,
//! restricted (as in Pornin's paper) to the points that are not n-torsion, with the point
//! N = (0, 0) as neutral and P + Q + N as group law. That group has prime order n.
//!
//! Three coordinate systems appear:
//! - [`Point`]: fractional (x, u) coordinates (x = X/Z, u = x/y = U/T, u = 0 for N), with
//!   complete addition (10M) and doubling (4M + 5S) formulas: the native workhorse.
//! - [`AffinePoint`]: affine (x, u), for precomputed tables (mixed addition is 8M).
//! - [`WeierstrassPoint`]: affine short Weierstraß coordinates of the isomorphic group of
//!   n-torsion points of Y^2 = X^3 + A X + B, with an infinity flag: the form an
//!   in-circuit implementation uses, since divisions are cheap there.
//!
//! An element is encoded as the single field element w = y/x = 1/u (0 for the neutral).

use std::sync::LazyLock;

use super::{gfp5::Gfp5, scalar::Scalar};
use crate::{Error, Result};

/// Curve constant a = 2 (in GF(p)).
pub const CURVE_A: u64 = 2;
/// Curve constant b = 263 z: this is its coefficient of z.
pub const CURVE_B1: u64 = 263;

/// Curve constant a as a field element.
const A: Gfp5 = Gfp5::from_u64s_reduce([CURVE_A, 0, 0, 0, 0]);
/// Curve constant b = 263 z as a field element.
const B: Gfp5 = Gfp5::from_u64s_reduce([0, CURVE_B1, 0, 0, 0]);
/// a / 3 = 2/3 mod p: the shift between the double-odd x and the Weierstraß X.
const A_DIV_3: Gfp5 = Gfp5::from_u64s_reduce([6_148_914_689_804_861_441, 0, 0, 0, 0]);
/// Weierstraß constant A = (3b - a^2)/3 = -4/3 + 263 z.
pub const WEIERSTRASS_A: Gfp5 = Gfp5::from_u64s_reduce([6_148_914_689_804_861_439, 263, 0, 0, 0]);
/// Weierstraß constant B = a (2a^2 - 9b)/27 = 16/27 - (526/3) z.
pub const WEIERSTRASS_B: Gfp5 = Gfp5::from_u64s_reduce([
    15_713_893_096_167_979_237,
    6_148_914_689_804_861_265,
    0,
    0,
    0,
]);

/// An element of the ECgFp5 group in fractional (x, u) coordinates (X : Z : U : T).
///
/// Z and T are never zero; equality compares the affine x and u.
#[derive(Clone, Copy, Debug)]
pub struct Point {
    x: Gfp5,
    z: Gfp5,
    u: Gfp5,
    t: Gfp5,
}

/// An element in affine (x, u) coordinates; the neutral is (0, 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AffinePoint {
    /// The x coordinate on y^2 = x (x^2 + a x + b).
    pub x: Gfp5,
    /// u = x / y (0 for the neutral).
    pub u: Gfp5,
}

/// The image of an element on the short Weierstraß curve Y^2 = X^3 + A X + B, under the
/// isomorphism psi(P) = P + N followed by X = x + a/3: the neutral maps to infinity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeierstrassPoint {
    /// X coordinate (meaningless when `is_infinity`).
    pub x: Gfp5,
    /// Y coordinate (meaningless when `is_infinity`).
    pub y: Gfp5,
    /// Whether this is the point at infinity (the image of the neutral).
    pub is_infinity: bool,
}

impl AffinePoint {
    /// The neutral N = (0, 0), with u = 0.
    pub const NEUTRAL: Self = Self {
        x: Gfp5::ZERO,
        u: Gfp5::ZERO,
    };

    /// The same element in fractional coordinates.
    pub fn to_point(&self) -> Point {
        Point {
            x: self.x,
            z: Gfp5::ONE,
            u: self.u,
            t: Gfp5::ONE,
        }
    }

    /// The opposite element: (x, -u).
    pub fn neg(&self) -> Self {
        Self {
            x: self.x,
            u: self.u.neg(),
        }
    }
}

impl Point {
    /// The neutral element N = (0, 0), in fractional coordinates (0 : 1 : 0 : 1).
    pub const NEUTRAL: Self = Self {
        x: Gfp5::ZERO,
        z: Gfp5::ONE,
        u: Gfp5::ZERO,
        t: Gfp5::ONE,
    };

    /// The conventional generator, the element encoded as w = 4 (so u = 1/4).
    pub const GENERATOR: Self = Self {
        x: Gfp5::from_u64s_reduce([
            12_883_135_586_176_881_569,
            4_356_519_642_755_055_268,
            5_248_930_565_894_896_907,
            2_165_973_894_480_315_022,
            2_448_410_071_095_648_785,
        ]),
        z: Gfp5::ONE,
        u: Gfp5::from_u64s_reduce([13_835_058_052_060_938_241, 0, 0, 0, 0]),
        t: Gfp5::ONE,
    };

    /// The conventional generator G.
    pub fn generator() -> Self {
        Self::GENERATOR
    }

    /// Whether this is the neutral element (u = 0).
    pub fn is_neutral(&self) -> bool {
        self.u.is_zero()
    }

    /// The canonical encoding w = 1/u = y/x (0 for the neutral): one inversion.
    pub fn encode(&self) -> Gfp5 {
        self.t.mul(&self.u.inverse_or_zero())
    }

    /// Decodes w: 0 is the neutral; otherwise x solves x^2 - (w^2 - a) x + b = 0 (the
    /// curve equation divided by x^2, with y = w x). The two roots multiply to b, which is
    /// not a square, so exactly one is a non-square: that one is the group element (the
    /// square one is the n-torsion point -P of the same line through N). No root (the
    /// discriminant (w^2 - a)^2 - 4b is not a square) means w encodes nothing.
    pub fn decode(w: &Gfp5) -> Option<Self> {
        if w.is_zero() {
            return Some(Self::NEUTRAL);
        }
        let (x1, x2) = line_roots(w)?;
        let x = if x1.is_square() { x2 } else { x1 };
        // u = 1/w as the fraction 1/w.
        Some(Self {
            x,
            z: Gfp5::ONE,
            u: Gfp5::ONE,
            t: *w,
        })
    }

    /// The canonical 40-byte encoding (that of w).
    pub fn to_bytes(&self) -> [u8; 40] {
        self.encode().to_bytes()
    }

    /// Decodes 40 bytes: the words must be canonical and w a valid encoding.
    pub fn from_bytes(bytes: &[u8], what: &'static str) -> Result<Self> {
        Self::decode(&Gfp5::from_bytes(bytes, what)?).ok_or(Error::InvalidPoint { what })
    }

    /// Group addition (complete: valid for any two elements, equal or neutral included).
    /// With t1..t4 the products of like coordinates and t5, t6 the cross sums:
    /// X3 = b (t10 - t8), Z3 = t8 - t9, U3 = t6 (b t2 - t1), T3 = t8 + t9 where
    /// t7 = t1 + b t2, t8 = t4 t7, t9 = t3 (2b t5 + a t7), t10 = (t4 + a t3)(t5 + t7).
    pub fn add(&self, rhs: &Self) -> Self {
        let t1 = self.x.mul(&rhs.x);
        let t2 = self.z.mul(&rhs.z);
        let t3 = self.u.mul(&rhs.u);
        let t4 = self.t.mul(&rhs.t);
        // t5 = X1 Z2 + X2 Z1, t6 = U1 T2 + U2 T1 (Karatsuba).
        let t5 = self
            .x
            .add(&self.z)
            .mul(&rhs.x.add(&rhs.z))
            .sub(&t1)
            .sub(&t2);
        let t6 = self
            .u
            .add(&self.t)
            .mul(&rhs.u.add(&rhs.t))
            .sub(&t3)
            .sub(&t4);
        Self::finish_add(t1, t2, t3, t4, t5, t6)
    }

    /// Mixed addition with an affine element (Z2 = T2 = 1): 8M.
    pub fn add_affine(&self, rhs: &AffinePoint) -> Self {
        let t1 = self.x.mul(&rhs.x);
        let t2 = self.z;
        let t3 = self.u.mul(&rhs.u);
        let t4 = self.t;
        let t5 = self.x.add(&rhs.x.mul(&self.z));
        let t6 = self.u.add(&rhs.u.mul(&self.t));
        Self::finish_add(t1, t2, t3, t4, t5, t6)
    }

    /// The common tail of the addition formulas.
    #[inline]
    fn finish_add(t1: Gfp5, t2: Gfp5, t3: Gfp5, t4: Gfp5, t5: Gfp5, t6: Gfp5) -> Self {
        let b_t2 = t2.mul_small_z(CURVE_B1);
        let t7 = t1.add(&b_t2);
        let t8 = t4.mul(&t7);
        let t9 = t3.mul(&t5.mul_small_z(2 * CURVE_B1).add(&t7.mul_small(CURVE_A)));
        let t10 = t4.add(&t3.mul_small(CURVE_A)).mul(&t5.add(&t7));
        Self {
            x: t10.sub(&t8).mul_small_z(CURVE_B1),
            z: t8.sub(&t9),
            u: t6.mul(&b_t2.sub(&t1)),
            t: t8.add(&t9),
        }
    }

    /// Doubling (4M + 5S): with t1 = Z T, t2 = t1 T, Z' = t1 U and
    /// W' = t2 - 2 (X + Z) U^2, the double is
    /// (4b Z'^2 : W'^2 : 2 W' Z' : 2 t2^2 - 4 Z'^2 - W'^2).
    pub fn double(&self) -> Self {
        let t1 = self.z.mul(&self.t);
        let t2 = t1.mul(&self.t);
        let x1 = t2.square();
        let z1 = t1.mul(&self.u);
        let t3 = self.u.square();
        let w1 = t2.sub(&self.x.add(&self.z).double().mul(&t3));
        let t4 = z1.square();
        let z = w1.square();
        Self {
            x: t4.mul_small_z(4 * CURVE_B1),
            z,
            u: w1.add(&z1).square().sub(&t4).sub(&z),
            t: x1.double().sub(&t4.mul_small(4)).sub(&z),
        }
    }

    /// 2^n times this element.
    pub fn double_n(&self, n: usize) -> Self {
        (0..n).fold(*self, |acc, _| acc.double())
    }

    /// The opposite element: (x, -u).
    pub fn neg(&self) -> Self {
        Self {
            u: self.u.neg(),
            ..*self
        }
    }

    /// Affine (x, u) coordinates: two inversions (see [`Point::batch_to_affine`] for many).
    pub fn to_affine(&self) -> AffinePoint {
        AffinePoint {
            x: self.x.mul(&self.z.inverse_or_zero()),
            u: self.u.mul(&self.t.inverse_or_zero()),
        }
    }

    /// Affine coordinates of many elements with a single inversion (Montgomery's trick).
    pub fn batch_to_affine(points: &[Self]) -> Vec<AffinePoint> {
        let denominators: Vec<Gfp5> = points.iter().flat_map(|p| [p.z, p.t]).collect();
        let inverses = batch_inverse(&denominators);
        points
            .iter()
            .zip(inverses.chunks_exact(2))
            .map(|(p, inv)| AffinePoint {
                x: p.x.mul(&inv[0]),
                u: p.u.mul(&inv[1]),
            })
            .collect()
    }

    /// The image on the short Weierstraß curve: psi(x, y) = (b/x + a/3, -b y / x^2), that
    /// is, with u = x/y, X = b/x + a/3 and Y = -b / (x u); the neutral maps to infinity.
    pub fn to_weierstrass(&self) -> WeierstrassPoint {
        if self.is_neutral() {
            return WeierstrassPoint::INFINITY;
        }
        // x = X/Z and u = U/T, so 1/(x u) = Z T / (X U) and 1/x = Z U / (X U).
        let inv_xu = self.x.mul(&self.u).inverse_or_zero();
        let inv_x = self.z.mul(&self.u).mul(&inv_xu);
        let inv_x_u = self.z.mul(&self.t).mul(&inv_xu);
        WeierstrassPoint {
            x: B.mul(&inv_x).add(&A_DIV_3),
            y: B.mul(&inv_x_u).neg(),
            is_infinity: false,
        }
    }

    /// The inverse of [`Point::to_weierstrass`], without inversion: with x' = X - a/3 and
    /// y' = Y (an n-torsion point of the double-odd curve), the element is (x', y') + N =
    /// (b/x', -b y'/x'^2), so x = b / x' and u = -x' / y' as fractions.
    pub fn from_weierstrass(point: &WeierstrassPoint) -> Self {
        if point.is_infinity {
            return Self::NEUTRAL;
        }
        let shifted = point.x.sub(&A_DIV_3);
        Self {
            x: B,
            z: shifted,
            u: shifted.neg(),
            t: point.y,
        }
    }

    /// [k] self, by fixed 5-bit signed windows over an affine table of 1..16 multiples.
    /// Table lookups scan the whole table (no secret-dependent index).
    pub fn mul(&self, k: &Scalar) -> Self {
        let window = self.affine_multiples();
        let digits = k.signed_windows();
        let mut acc = lookup(&window, digits[digits.len() - 1]).to_point();
        for &digit in digits.iter().rev().skip(1) {
            acc = acc.double_n(5).add_affine(&lookup(&window, digit));
        }
        acc
    }

    /// [k] G with the precomputed table of j 2^(5i) G: 64 mixed additions, no doubling.
    pub fn mul_generator(k: &Scalar) -> Self {
        let table = &*GENERATOR_TABLE;
        k.signed_windows()
            .iter()
            .zip(table.iter())
            .fold(Self::NEUTRAL, |acc, (&digit, row)| {
                acc.add_affine(&lookup(row, digit))
            })
    }

    /// [s] G + [e] P, for public values only (variable time): the verification equation
    /// of Schnorr signatures. Skips the leading zero windows of e (challenges have 256
    /// bits).
    pub fn mul_add_generator_vartime(s: &Scalar, e: &Scalar, p: &Self) -> Self {
        let table = &*GENERATOR_TABLE;
        let mut acc = Self::NEUTRAL;
        let digits = e.signed_windows();
        if let Some(top) = digits.iter().rposition(|&d| d != 0) {
            let window = p.affine_multiples();
            acc = lookup_vartime(&window, digits[top]).to_point();
            for &digit in digits[..top].iter().rev() {
                acc = acc.double_n(5);
                if digit != 0 {
                    acc = acc.add_affine(&lookup_vartime(&window, digit));
                }
            }
        }
        for (&digit, row) in s.signed_windows().iter().zip(table.iter()) {
            if digit != 0 {
                acc = acc.add_affine(&lookup_vartime(row, digit));
            }
        }
        acc
    }

    /// The affine multiples [1]P .. [16]P.
    fn affine_multiples(&self) -> [AffinePoint; 16] {
        let mut multiples = [*self; 16];
        for j in 1..16 {
            multiples[j] = if j % 2 == 1 {
                multiples[j / 2].double()
            } else {
                multiples[j - 1].add(self)
            };
        }
        Self::batch_to_affine(&multiples)
            .try_into()
            .expect("16 points")
    }
}

/// Inverses of non-zero elements with one inversion: prefix products, one inverse, then
/// unwinding (3 multiplications per element).
fn batch_inverse(values: &[Gfp5]) -> Vec<Gfp5> {
    let mut prefix = Vec::with_capacity(values.len());
    let mut acc = Gfp5::ONE;
    for v in values {
        debug_assert!(!v.is_zero());
        prefix.push(acc);
        acc = acc.mul(v);
    }
    let mut inv = acc.inverse_or_zero();
    let mut out = vec![Gfp5::ZERO; values.len()];
    for i in (0..values.len()).rev() {
        out[i] = inv.mul(&prefix[i]);
        inv = inv.mul(&values[i]);
    }
    out
}

/// [digit] P from the table of [1]P .. [16]P, digit in [-16, 16], reading every entry and
/// selecting with masks so that the memory access pattern does not depend on the digit.
fn lookup(window: &[AffinePoint; 16], digit: i8) -> AffinePoint {
    let magnitude = u64::from(digit.unsigned_abs());
    let mut out = AffinePoint::NEUTRAL;
    for (j, entry) in window.iter().enumerate() {
        let mask = u64::from(j as u64 + 1 == magnitude).wrapping_neg();
        out.x = Gfp5::select(mask, &entry.x, &out.x);
        out.u = Gfp5::select(mask, &entry.u, &out.u);
    }
    let negative = u64::from(digit < 0).wrapping_neg();
    out.u = Gfp5::select(negative, &out.u.neg(), &out.u);
    out
}

/// [digit] P from the table, by direct indexing (public digits only).
fn lookup_vartime(window: &[AffinePoint; 16], digit: i8) -> AffinePoint {
    match digit {
        0 => AffinePoint::NEUTRAL,
        d if d > 0 => window[d as usize - 1],
        d => window[d.unsigned_abs() as usize - 1].neg(),
    }
}

/// Rows i = 0..64 of [j + 1] 2^(5i) G, j = 0..16 (80 KiB), built on first use (about a
/// thousand additions and one inversion).
static GENERATOR_TABLE: LazyLock<Box<[[AffinePoint; 16]; 64]>> = LazyLock::new(|| {
    let mut points = Vec::with_capacity(64 * 16);
    let mut base = Point::GENERATOR;
    for _ in 0..64 {
        let mut multiple = base;
        for j in 0..16 {
            if j > 0 {
                multiple = multiple.add(&base);
            }
            points.push(multiple);
        }
        // 32 base = 2 (16 base).
        base = multiple.double();
    }
    let affine = Point::batch_to_affine(&points);
    let mut table = Box::new([[AffinePoint::NEUTRAL; 16]; 64]);
    for (row, chunk) in table.iter_mut().zip(affine.chunks_exact(16)) {
        row.copy_from_slice(chunk);
    }
    table
});

impl PartialEq for Point {
    /// Equal iff both affine coordinates agree (X1 Z2 = X2 Z1 and U1 T2 = U2 T1). For
    /// group elements u alone would do (the encoding 1/u is injective on the group);
    /// comparing x too also tells apart a point of the wrong coset with the same u.
    fn eq(&self, other: &Self) -> bool {
        self.u.mul(&other.t) == other.u.mul(&self.t) && self.x.mul(&other.z) == other.x.mul(&self.z)
    }
}

impl Eq for Point {}

impl WeierstrassPoint {
    /// The point at infinity (image of the neutral).
    pub const INFINITY: Self = Self {
        x: Gfp5::ZERO,
        y: Gfp5::ZERO,
        is_infinity: true,
    };

    /// Whether Y^2 = X^3 + A X + B (or infinity).
    pub fn is_on_curve(&self) -> bool {
        self.is_infinity
            || self.y.square()
                == self
                    .x
                    .square()
                    .add(&WEIERSTRASS_A)
                    .mul(&self.x)
                    .add(&WEIERSTRASS_B)
    }

    /// The encoding of the group element, computed from these coordinates:
    /// w = Y / (a/3 - X), and 0 for infinity (what a circuit computes).
    pub fn encode(&self) -> Gfp5 {
        if self.is_infinity {
            return Gfp5::ZERO;
        }
        self.y.mul(&A_DIV_3.sub(&self.x).inverse_or_zero())
    }

    /// Decoding straight into Weierstraß coordinates, as the paper's in-VM decoder (and a
    /// circuit) does: with e = w^2 - a and delta = e^2 - 4b, take the root
    /// x in {(e +- sqrt(delta))/2} that *is* a square (the n-torsion point -P on the line
    /// of slope w through N), then (X, Y) = (x + a/3, -w x). None if w is invalid.
    pub fn decode(w: &Gfp5) -> Option<Self> {
        if w.is_zero() {
            return Some(Self::INFINITY);
        }
        let (x1, x2) = line_roots(w)?;
        let x = if x1.is_square() { x1 } else { x2 };
        Some(Self {
            x: x.add(&A_DIV_3),
            y: w.mul(&x).neg(),
            is_infinity: false,
        })
    }

    /// Affine chord-and-tangent addition with the special cases spelt out: the reference
    /// formula a circuit mirrors (lambda = (Y2 - Y1)/(X2 - X1), or (3 X1^2 + A)/(2 Y1) for
    /// doubling; X3 = lambda^2 - X1 - X2; Y3 = lambda (X1 - X3) - Y1).
    pub fn add(&self, rhs: &Self) -> Self {
        if self.is_infinity {
            return *rhs;
        }
        if rhs.is_infinity {
            return *self;
        }
        let lambda = if self.x == rhs.x {
            if self.y != rhs.y || self.y.is_zero() {
                return Self::INFINITY;
            }
            let three_x2 = self.x.square().mul_small(3);
            three_x2
                .add(&WEIERSTRASS_A)
                .mul(&self.y.double().inverse_or_zero())
        } else {
            rhs.y
                .sub(&self.y)
                .mul(&rhs.x.sub(&self.x).inverse_or_zero())
        };
        let x3 = lambda.square().sub(&self.x).sub(&rhs.x);
        let y3 = lambda.mul(&self.x.sub(&x3)).sub(&self.y);
        Self {
            x: x3,
            y: y3,
            is_infinity: false,
        }
    }
}

/// The two x-coordinates (e ± sqrt(delta)) / 2, with e = w^2 - a and
/// delta = e^2 - 4b, where the line of slope w through N meets the curve; `None` when
/// delta is not a square (then w encodes no point). Both decoders start here and differ
/// only in which root they keep.
fn line_roots(w: &Gfp5) -> Option<(Gfp5, Gfp5)> {
    let e = w.square().sub(&A);
    let delta = e.square().sub(&B.mul_small(4));
    let root = delta.sqrt()?;
    let half = Gfp5::from_u64s_reduce([crate::field::MODULUS.div_ceil(2), 0, 0, 0, 0]);
    Some((e.add(&root).mul(&half), e.sub(&root).mul(&half)))
}

#[cfg(test)]
mod tests {
    use rand::{rngs::StdRng, SeedableRng};

    use super::*;
    use crate::ecgfp5::scalar::ORDER;

    fn rng() -> StdRng {
        StdRng::seed_from_u64(0xec_6f_50_35)
    }

    fn random_point(rng: &mut StdRng) -> Point {
        Point::mul_generator(&Scalar::random(rng))
    }

    fn w(c: [u64; 5]) -> Gfp5 {
        Gfp5::from_u64s_reduce(c)
    }

    /// Reference: most significant bit first double-and-add.
    fn naive_mul(p: &Point, k: &Scalar) -> Point {
        (0..320).rev().fold(Point::NEUTRAL, |acc, i| {
            let acc = acc.double();
            if k.bit(i) {
                acc.add(p)
            } else {
                acc
            }
        })
    }

    #[test]
    fn constants_match_their_definitions() {
        // A = (3b - a^2)/3, B = a (2a^2 - 9b)/27, a/3.
        assert_eq!(A_DIV_3.mul_small(3), A);
        assert_eq!(WEIERSTRASS_A.mul_small(3), B.mul_small(3).sub(&A.square()));
        assert_eq!(
            WEIERSTRASS_B.mul_small(27),
            A.mul(&A.square().double().sub(&B.mul_small(9)))
        );
        // b is not a square (so exactly one root of the decoding quadratic is).
        assert_eq!(B.legendre(), -1);
        // The generator is the element encoded as 4, and lies on the curve.
        assert_eq!(
            Point::decode(&w([4, 0, 0, 0, 0])).unwrap(),
            Point::GENERATOR
        );
        assert_eq!(Point::GENERATOR.encode(), w([4, 0, 0, 0, 0]));
        let g = Point::GENERATOR.to_affine();
        let y = g.x.mul(&g.u.inverse_or_zero());
        assert_eq!(y.square(), g.x.mul(&g.x.square().add(&g.x.mul(&A)).add(&B)));
        // Group elements are the non-n-torsion points, whose x is not a square.
        assert!(!g.x.is_square());
    }

    /// Pornin's reference test vectors (rust/src/curve.rs, generated with Sage): P1 random,
    /// P2 = e P1, w3 = P1 + P2, w4 = 2 P1, w5 = 2 P2, w6 = 2 P1 + P2, w7 = P1 + 2 P2.
    #[test]
    fn reference_vectors_for_the_group_law() {
        let w1 = w([
            12539254003028696409,
            15524144070600887654,
            15092036948424041984,
            11398871370327264211,
            10958391180505708567,
        ]);
        let w2 = w([
            11001943240060308920,
            17075173755187928434,
            3940989555384655766,
            15017795574860011099,
            5548543797011402287,
        ]);
        let w3 = w([
            246872606398642312,
            4900963247917836450,
            7327006728177203977,
            13945036888436667069,
            3062018119121328861,
        ]);
        let w4 = w([
            8058035104653144162,
            16041715455419993830,
            7448530016070824199,
            11253639182222911208,
            6228757819849640866,
        ]);
        let w5 = w([
            10523134687509281194,
            11148711503117769087,
            9056499921957594891,
            13016664454465495026,
            16494247923890248266,
        ]);
        let w6 = w([
            12173306542237620,
            6587231965341539782,
            17027985748515888117,
            17194831817613584995,
            10056734072351459010,
        ]);
        let w7 = w([
            9420857400785992333,
            4695934009314206363,
            14471922162341187302,
            13395190104221781928,
            16359223219913018041,
        ]);
        let p0 = Point::decode(&Gfp5::ZERO).unwrap();
        let [p1, p2, p3, p4, p5, p6, p7] =
            [w1, w2, w3, w4, w5, w6, w7].map(|w| Point::decode(&w).unwrap());
        assert!(p0.is_neutral() && !p1.is_neutral());
        for (p, w) in [
            (p0, Gfp5::ZERO),
            (p1, w1),
            (p2, w2),
            (p3, w3),
            (p4, w4),
            (p5, w5),
            (p6, w6),
            (p7, w7),
        ] {
            assert_eq!(p.encode(), w);
            assert_eq!(WeierstrassPoint::decode(&w).unwrap(), p.to_weierstrass());
        }
        assert_eq!(p1.add(&p2).encode(), w3);
        assert_eq!(p1.add(&p1).encode(), w4);
        assert_eq!(p1.double().encode(), w4);
        assert_eq!(p2.double().encode(), w5);
        assert_eq!(p1.double().add(&p2).encode(), w6);
        assert_eq!(p1.add(&p2).add(&p2).encode(), w7);
        assert_eq!(p0.add(&p0).encode(), Gfp5::ZERO);
        assert_eq!(p0.double().encode(), Gfp5::ZERO);
        assert_eq!(p0.add(&p1).encode(), w1);
        assert_eq!(p1.add_affine(&p2.to_affine()), p3);
        assert_eq!(p4, p3.add(&p2.neg()).add(&p1).add(&p0.neg()));

        // Values that must not decode.
        let invalid = [
            w([
                13557832913345268708,
                15669280705791538619,
                8534654657267986396,
                12533218303838131749,
                5058070698878426028,
            ]),
            w([
                135036726621282077,
                17283229938160287622,
                13113167081889323961,
                1653240450380825271,
                520025869628727862,
            ]),
            w([
                6727960962624180771,
                17240764188796091916,
                3954717247028503753,
                1002781561619501488,
                4295357288570643789,
            ]),
            w([
                4578929270179684956,
                3866930513245945042,
                7662265318638150701,
                9503686272550423634,
                12241691520798116285,
            ]),
            w([
                16890297404904119082,
                6169724643582733633,
                9725973298012340311,
                5977049210035183790,
                11379332130141664883,
            ]),
            w([
                13777379982711219130,
                14715168412651470168,
                17942199593791635585,
                6188824164976547520,
                15461469634034461986,
            ]),
        ];
        for w in invalid {
            assert!(Point::decode(&w).is_none());
            assert!(WeierstrassPoint::decode(&w).is_none());
            assert!(Point::from_bytes(&w.to_bytes(), "t").is_err());
        }
    }

    /// Pornin's scalar multiplication vector: w2 encodes e P1 (e as 40 LE bytes).
    #[test]
    fn reference_vector_for_scalar_multiplication() {
        let w1 = w([
            7534507442095725921,
            16658460051907528927,
            12417574136563175256,
            2750788641759288856,
            620002843272906439,
        ]);
        let e: [u8; 40] = [
            0x1B, 0x18, 0x51, 0xC8, 0x1D, 0x22, 0xD4, 0x0D, 0x6D, 0x36, 0xEC, 0xCE, 0x54, 0x27,
            0x41, 0x66, 0x08, 0x14, 0x2F, 0x8F, 0xFF, 0x64, 0xB4, 0x76, 0x28, 0xCD, 0x3F, 0xF8,
            0xAA, 0x25, 0x16, 0xD4, 0xBA, 0xD0, 0xCC, 0x02, 0x1A, 0x44, 0x7C, 0x03,
        ];
        let w2 = w([
            9486104512504676657,
            14312981644741144668,
            5159846406177847664,
            15978863787033795628,
            3249948839313771192,
        ]);
        let p1 = Point::decode(&w1).unwrap();
        let e = Scalar::from_bytes(&e, "e").unwrap();
        assert_eq!(p1.mul(&e).encode(), w2);
        assert_eq!(naive_mul(&p1, &e).encode(), w2);
    }

    #[test]
    fn group_laws_hold_on_random_points() {
        let mut rng = rng();
        for _ in 0..20 {
            let (p, q, r) = (
                random_point(&mut rng),
                random_point(&mut rng),
                random_point(&mut rng),
            );
            assert_eq!(p.add(&q).add(&r), p.add(&q.add(&r)));
            assert_eq!(p.add(&q), q.add(&p));
            assert_eq!(p.add(&Point::NEUTRAL), p);
            assert_eq!(Point::NEUTRAL.add(&p), p);
            assert!(p.add(&p.neg()).is_neutral());
            assert_eq!(p.double(), p.add(&p));
            assert_eq!(p.add_affine(&q.to_affine()), p.add(&q));
            assert_eq!(p.add_affine(&AffinePoint::NEUTRAL), p);
            assert_ne!(p, q);
            // The Weierstraß image is a homomorphism onto the curve, and invertible.
            let (pw, qw) = (p.to_weierstrass(), q.to_weierstrass());
            assert!(pw.is_on_curve() && qw.is_on_curve());
            assert_eq!(p.add(&q).to_weierstrass(), pw.add(&qw));
            assert_eq!(p.double().to_weierstrass(), pw.add(&pw));
            assert!(pw.add(&p.neg().to_weierstrass()).is_infinity);
            assert_eq!(Point::from_weierstrass(&pw), p);
            assert_eq!(pw.encode(), p.encode());
            assert_eq!(WeierstrassPoint::decode(&p.encode()).unwrap(), pw);
        }
        assert!(Point::NEUTRAL.to_weierstrass().is_infinity);
        assert!(Point::from_weierstrass(&WeierstrassPoint::INFINITY).is_neutral());
    }

    #[test]
    fn the_generator_has_order_n() {
        let n_minus_1 = -Scalar::ONE;
        let g = Point::GENERATOR;
        assert_eq!(g.mul(&n_minus_1), g.neg());
        assert_eq!(Point::mul_generator(&n_minus_1), g.neg());
        // n G, by double-and-add on the raw bits of n (n itself is not a reduced scalar).
        let n_g = (0..320).rev().fold(Point::NEUTRAL, |acc, i| {
            let acc = acc.double();
            if (ORDER[i / 64] >> (i % 64)) & 1 == 1 {
                acc.add(&g)
            } else {
                acc
            }
        });
        assert!(n_g.is_neutral());
        assert!(!g.mul(&Scalar::from_u64(2)).is_neutral());
        assert!(Point::mul_generator(&Scalar::ZERO).is_neutral());
        assert_eq!(Point::mul_generator(&Scalar::ONE), g);
    }

    #[test]
    fn scalar_multiplications_agree() {
        let mut rng = rng();
        for _ in 0..8 {
            let (a, b) = (Scalar::random(&mut rng), Scalar::random(&mut rng));
            let p = random_point(&mut rng);
            let expected = naive_mul(&p, &a);
            assert_eq!(p.mul(&a), expected);
            assert_eq!(Point::mul_generator(&a), naive_mul(&Point::GENERATOR, &a));
            assert_eq!(Point::GENERATOR.mul(&a), Point::mul_generator(&a));
            // [a]([b]G) = [ab]G
            assert_eq!(
                Point::mul_generator(&b).mul(&a),
                Point::mul_generator(&(a * b))
            );
            // [a]G + [b]P, including short (256-bit) b.
            assert_eq!(
                Point::mul_add_generator_vartime(&a, &b, &p),
                Point::mul_generator(&a).add(&p.mul(&b))
            );
            let short =
                Scalar::from_u256_limbs([rand::Rng::gen(&mut rng), 0, rand::Rng::gen(&mut rng), 7]);
            assert_eq!(
                Point::mul_add_generator_vartime(&a, &short, &p),
                Point::mul_generator(&a).add(&p.mul(&short))
            );
            assert_eq!(
                Point::mul_add_generator_vartime(&a, &Scalar::ZERO, &p),
                Point::mul_generator(&a)
            );
        }
        let p = random_point(&mut rng);
        for k in 0..40u64 {
            let k = Scalar::from_u64(k);
            assert_eq!(p.mul(&k), naive_mul(&p, &k));
        }
    }

    #[test]
    fn encodings_round_trip_and_invalid_ones_are_rejected() {
        let mut rng = rng();
        for _ in 0..20 {
            let p = random_point(&mut rng);
            let bytes = p.to_bytes();
            let q = Point::from_bytes(&bytes, "t").unwrap();
            assert_eq!(q, p);
            assert_eq!(q.to_bytes(), bytes);
        }
        assert!(Point::from_bytes(&[0; 40], "t").unwrap().is_neutral());
        assert_eq!(Point::NEUTRAL.to_bytes(), [0; 40]);

        // Random field elements: about half fail (delta is not a square); the rest decode
        // to elements that re-encode to the same w.
        let (mut rejected, mut accepted) = (0, 0);
        for _ in 0..60 {
            let candidate = Gfp5::random(&mut rng);
            let delta = candidate.square().sub(&A).square().sub(&B.mul_small(4));
            match Point::decode(&candidate) {
                Some(p) => {
                    accepted += 1;
                    assert!(delta.is_square());
                    assert_eq!(p.encode(), candidate);
                }
                None => {
                    rejected += 1;
                    assert!(!delta.is_square());
                    assert_eq!(
                        Point::from_bytes(&candidate.to_bytes(), "t"),
                        Err(Error::InvalidPoint { what: "t" })
                    );
                }
            }
        }
        assert!(rejected > 10 && accepted > 10, "{rejected} {accepted}");

        // Non-canonical words are refused before any curve check.
        let mut bytes = Point::GENERATOR.to_bytes();
        bytes[..8].copy_from_slice(&(crate::field::MODULUS + 4).to_le_bytes());
        assert!(matches!(
            Point::from_bytes(&bytes, "t"),
            Err(Error::NonCanonicalField { .. })
        ));
        assert!(Point::from_bytes(&bytes[..39], "t").is_err());
    }
}
