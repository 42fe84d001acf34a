//! The ECgFp5 curve (Pornin, 2022): a prime-order group over GF(p^5), p the Goldilocks
//! prime, chosen because its field arithmetic is native to plonky2 circuits while giving
//! about 159 bits of security: the group of the rollup's Schnorr signatures.
//!
//! - [`gfp5`]: the field GF(p^5) = GF(p)[z]/(z^5 - 3).
//! - [`scalar`]: integers modulo the group order n.
//! - [`curve`]: the group, its canonical encoding and scalar multiplications.

pub mod curve;
pub mod gfp5;
pub mod scalar;

pub use curve::{AffinePoint, Point, WeierstrassPoint};
pub use gfp5::Gfp5;
pub use scalar::Scalar;
