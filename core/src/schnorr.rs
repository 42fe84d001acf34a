//! Schnorr signatures over ECgFp5 with a Poseidon challenge, designed to be cheap to
//! verify in a plonky2 circuit.
//!
//! - Keys: a secret scalar sk (nonzero, mod n) and PK = [sk] G, shown as the 40-byte
//!   encoding of PK.
//! - Signing a message digest m: k = nonce(sk, m) (deterministic, see [`SecretKey::sign`]),
//!   R = [k] G, e = [`challenge`](enc(R), enc(PK), m) and s = k - e sk mod n.
//! - Verifying (e, s): R' = [s] G + [e] PK must not be the neutral, and
//!   [`challenge`](enc(R'), enc(PK), m) must equal e.
//!
//! The challenge is the Poseidon digest itself, read as the 256-bit integer
//! e0 + e1 2^64 + e2 2^128 + e3 2^192 (below n, so never reduced): a circuit takes its bits
//! straight from the four digest limbs.

use std::{fmt, str::FromStr};

use plonky2::field::types::{Field, PrimeField64};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{
    ecgfp5::{Gfp5, Point, Scalar},
    field::{decode_hex, encode_hex, F},
    hash::{hash_elements, Digest},
    Error, Result,
};

/// Domain separator of the nonce derivation (an arbitrary constant below p, the ASCII of
/// "nonce5ge"), so that nonce hashes are unrelated to any other hash of the system.
const NONCE_DOMAIN: u64 = 0x6e6f_6e63_6535_6765;

/// The Schnorr challenge: Poseidon over enc(R) (5 elements) || enc(PK) (5 elements) ||
/// message (4 elements), 14 elements absorbed without padding. The circuit mirrors this.
pub fn challenge(r_enc: &Gfp5, pk_enc: &Gfp5, message: &Digest) -> Digest {
    let mut inputs = [F::ZERO; 14];
    inputs[..5].copy_from_slice(&r_enc.to_fields());
    inputs[5..10].copy_from_slice(&pk_enc.to_fields());
    inputs[10..].copy_from_slice(&message.elements());
    hash_elements(&inputs)
}

/// The challenge digest as a scalar: e0 + e1 2^64 + e2 2^128 + e3 2^192 (< 2^256 < n).
pub fn challenge_scalar(e: &Digest) -> Scalar {
    Scalar::from_u256_limbs(e.elements().map(|limb| limb.to_canonical_u64()))
}

/// A signing key: a nonzero scalar, with its public key cached for signing.
///
/// Its `Debug` output is redacted so that logging a structure holding it cannot leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey {
    scalar: Scalar,
    public: PublicKey,
}

impl SecretKey {
    /// A fresh key from OS randomness: 64 random bytes reduced mod n (negligible bias),
    /// redrawn in the (negligible) case of zero.
    pub fn random() -> Self {
        loop {
            let mut bytes = [0u8; 64];
            getrandom::getrandom(&mut bytes).expect("the OS random number generator failed");
            if let Ok(key) = Self::from_scalar(Scalar::from_bytes_wide(&bytes)) {
                return key;
            }
        }
    }

    /// The key of a given scalar, refusing zero (its public key would be the neutral).
    pub fn from_scalar(scalar: Scalar) -> Result<Self> {
        if scalar.is_zero() {
            return Err(Error::DegenerateKey { what: "secret key" });
        }
        let public = PublicKey::from_point(Point::mul_generator(&scalar))?;
        Ok(Self { scalar, public })
    }

    /// Decodes the 40-byte canonical encoding of the scalar (refusing >= n and zero).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_scalar(Scalar::from_bytes(bytes, "secret key")?)
    }

    /// The 40-byte canonical encoding of the scalar, for key storage.
    pub fn to_bytes(&self) -> [u8; 40] {
        self.scalar.to_bytes()
    }

    /// The secret scalar.
    pub fn scalar(&self) -> Scalar {
        self.scalar
    }

    /// The public key [sk] G.
    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    /// The deterministic nonce for a message: k = sum(h_i p^i) mod n over the eight
    /// elements of two Poseidon digests of (domain, index, counter, sk as ten 32-bit
    /// limbs, message). Eight uniform field elements make k uniform up to about 2^-193,
    /// and no randomness is needed, so a bad RNG cannot leak the key through nonces. The
    /// counter only moves on in the (negligible) case k = 0.
    fn nonce(&self, message: &Digest) -> Scalar {
        let limbs = self.scalar.limbs();
        let sk_halves = limbs.iter().flat_map(|l| [l & 0xffff_ffff, l >> 32]);
        for counter in 0u64.. {
            let mut digits = Vec::with_capacity(8);
            for index in 0..2u64 {
                let mut inputs = vec![
                    F::from_canonical_u64(NONCE_DOMAIN),
                    F::from_canonical_u64(index),
                    F::from_canonical_u64(counter),
                ];
                inputs.extend(sk_halves.clone().map(F::from_canonical_u64));
                inputs.extend(message.elements());
                digits.extend(hash_elements(&inputs).elements());
            }
            let k = Scalar::from_base_p_digits(&digits);
            if !k.is_zero() {
                return k;
            }
        }
        unreachable!("a nonzero nonce is found long before 2^64 tries")
    }

    /// Signs a message digest (the caller hashes the transfer with Poseidon).
    pub fn sign(&self, message: &Digest) -> Signature {
        self.sign_with_nonce(message, &self.nonce(message))
    }

    /// Signs with a given nonzero nonce (the core of [`SecretKey::sign`]; exposed to the
    /// crate for tests of nonce handling).
    pub(crate) fn sign_with_nonce(&self, message: &Digest, k: &Scalar) -> Signature {
        let r = Point::mul_generator(k);
        let e = challenge(&r.encode(), &self.public.encoding, message);
        let s = *k - challenge_scalar(&e) * self.scalar;
        Signature { e, s }
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(<redacted>, public: {})", self.public)
    }
}

/// A verification key: a group element other than the neutral, with its encoding cached
/// (the challenge hashes it).
#[derive(Clone, Copy, Debug)]
pub struct PublicKey {
    point: Point,
    encoding: Gfp5,
}

impl PublicKey {
    /// The key of a group element, refusing the neutral (with it, anyone could sign).
    pub fn from_point(point: Point) -> Result<Self> {
        if point.is_neutral() {
            return Err(Error::DegenerateKey { what: "public key" });
        }
        Ok(Self {
            point,
            encoding: point.encode(),
        })
    }

    /// The group element.
    pub fn point(&self) -> Point {
        self.point
    }

    /// The encoding w of the element, as hashed in the challenge.
    pub fn encoding(&self) -> Gfp5 {
        self.encoding
    }

    /// The canonical 40-byte encoding (five little-endian words of w).
    pub fn to_bytes(&self) -> [u8; 40] {
        self.encoding.to_bytes()
    }

    /// Decodes 40 bytes, refusing non-canonical words, invalid encodings and the neutral.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_point(Point::from_bytes(bytes, "public key")?)
    }

    /// Checks a signature of a message digest: R' = [s] G + [e] PK, rejected if neutral,
    /// accepted iff the challenge of (R', PK, message) is e.
    pub fn verify(&self, message: &Digest, signature: &Signature) -> Result<()> {
        let r = Point::mul_add_generator_vartime(
            &signature.s,
            &challenge_scalar(&signature.e),
            &self.point,
        );
        if r.is_neutral() || challenge(&r.encode(), &self.encoding, message) != signature.e {
            return Err(Error::InvalidSignature);
        }
        Ok(())
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.encoding == other.encoding
    }
}

impl Eq for PublicKey {}

impl std::hash::Hash for PublicKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.to_bytes().hash(state);
    }
}

/// Keys order by their canonical bytes, so maps keyed by account are deterministic.
impl Ord for PublicKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.to_bytes().cmp(&other.to_bytes())
    }
}

impl PartialOrd for PublicKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&encode_hex(&self.to_bytes()))
    }
}

impl FromStr for PublicKey {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::from_bytes(&decode_hex(s, 40, "public key")?)
    }
}

/// A Schnorr signature: the challenge digest e and the response s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signature {
    /// The challenge, a Poseidon digest (its limbs give the 256-bit integer e).
    pub e: Digest,
    /// The response s = k - e sk mod n.
    pub s: Scalar,
}

impl Signature {
    /// Byte length of the encoding: 32 (e) + 40 (s).
    pub const BYTES: usize = 72;

    /// The canonical 72-byte encoding: e's four little-endian words, then s's 40
    /// little-endian bytes.
    pub fn to_bytes(&self) -> [u8; 72] {
        let mut out = [0u8; 72];
        out[..32].copy_from_slice(&self.e.to_bytes());
        out[32..].copy_from_slice(&self.s.to_bytes());
        out
    }

    /// Decodes the 72-byte encoding, refusing non-canonical words in e and s >= n (so a
    /// signature has one encoding).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != Self::BYTES {
            return Err(Error::InvalidHex {
                what: "signature",
                reason: format!("expected {} bytes, got {}", Self::BYTES, bytes.len()),
            });
        }
        Ok(Self {
            e: Digest::from_bytes(&bytes[..32])?,
            s: Scalar::from_bytes(&bytes[32..], "signature")?,
        })
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&encode_hex(&self.to_bytes()))
    }
}

impl FromStr for Signature {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::from_bytes(&decode_hex(s, Self::BYTES, "signature")?)
    }
}

/// Serde as the `0x`-hex string of `Display`, parsed (and validated) by `FromStr`.
macro_rules! serde_via_string {
    ($ty:ty) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

serde_via_string!(PublicKey);
serde_via_string!(Signature);

#[cfg(test)]
mod tests {
    use plonky2::field::types::Sample;
    use rand::{rngs::StdRng, SeedableRng};

    use super::*;
    use crate::ecgfp5::scalar::ORDER;

    fn message(seed: u64) -> Digest {
        hash_elements(&[F::from_canonical_u64(seed)])
    }

    fn key(rng: &mut StdRng) -> SecretKey {
        SecretKey::from_scalar(Scalar::random(rng)).unwrap()
    }

    #[test]
    fn signatures_verify_and_bind_message_key_and_values() {
        let mut rng = StdRng::seed_from_u64(1);
        for i in 0..10 {
            let sk = key(&mut rng);
            let pk = sk.public_key();
            let m = message(i);
            let sig = sk.sign(&m);
            assert_eq!(pk.verify(&m, &sig), Ok(()));
            // Another message, another key.
            assert_eq!(
                pk.verify(&message(i + 100), &sig),
                Err(Error::InvalidSignature)
            );
            assert!(key(&mut rng).public_key().verify(&m, &sig).is_err());
            // A changed e or s.
            let mut bad = sig;
            bad.s = sig.s + Scalar::ONE;
            assert!(pk.verify(&m, &bad).is_err());
            let mut bad = sig;
            let mut limbs = sig.e.elements();
            limbs[2] += F::ONE;
            bad.e = Digest(plonky2::hash::hash_types::HashOut { elements: limbs });
            assert!(pk.verify(&m, &bad).is_err());
            // A different nonce gives a different but valid signature; mixing its e with
            // this s is not.
            let other = sk.sign_with_nonce(&m, &Scalar::random(&mut rng));
            assert_ne!(other, sig);
            assert_eq!(pk.verify(&m, &other), Ok(()));
            assert!(pk
                .verify(
                    &m,
                    &Signature {
                        e: other.e,
                        s: sig.s
                    }
                )
                .is_err());
            // The verification equation, spelt out: [s]G + [e]PK = R.
            let e = challenge_scalar(&sig.e);
            let r = Point::mul_generator(&sig.s).add(&pk.point().mul(&e));
            assert_eq!(challenge(&r.encode(), &pk.encoding(), &m), sig.e);
        }
    }

    #[test]
    fn challenge_layout_is_r_then_pk_then_message() {
        let mut rng = StdRng::seed_from_u64(6);
        let (r, pk) = (Gfp5::random(&mut rng), Gfp5::random(&mut rng));
        let m = message(9);
        let mut inputs = r.to_fields().to_vec();
        inputs.extend(pk.to_fields());
        inputs.extend(m.elements());
        let e = challenge(&r, &pk, &m);
        assert_eq!(e, hash_elements(&inputs));
        assert_ne!(e, challenge(&pk, &r, &m));
        let limbs = e.elements().map(|x| x.to_canonical_u64());
        assert_eq!(
            challenge_scalar(&e).limbs(),
            [limbs[0], limbs[1], limbs[2], limbs[3], 0]
        );
    }

    #[test]
    fn signing_is_deterministic_and_nonces_depend_on_key_and_message() {
        let mut rng = StdRng::seed_from_u64(2);
        let (sk, sk2) = (key(&mut rng), key(&mut rng));
        let m = message(7);
        assert_eq!(sk.sign(&m), sk.sign(&m));
        assert_eq!(
            SecretKey::from_bytes(&sk.to_bytes()).unwrap().sign(&m),
            sk.sign(&m)
        );
        assert_ne!(sk.nonce(&m), sk.nonce(&message(8)));
        assert_ne!(sk.nonce(&m), sk2.nonce(&m));
        assert_ne!(sk.sign(&m).e, sk2.sign(&m).e);
    }

    #[test]
    fn forged_and_degenerate_inputs_are_refused() {
        let mut rng = StdRng::seed_from_u64(3);
        let sk = key(&mut rng);
        let m = message(1);
        // s = 0 and e = 0: R' is the neutral point.
        let zero = Signature {
            e: Digest::ZERO,
            s: Scalar::ZERO,
        };
        assert_eq!(
            sk.public_key().verify(&m, &zero),
            Err(Error::InvalidSignature)
        );
        // Keys.
        assert!(SecretKey::from_scalar(Scalar::ZERO).is_err());
        assert!(SecretKey::from_bytes(&[0; 40]).is_err());
        assert!(PublicKey::from_bytes(&[0; 40]).is_err());
        assert!(PublicKey::from_point(Point::NEUTRAL).is_err());
        assert!(format!("{sk:?}").contains("redacted"));
        assert!(!format!("{sk:?}").contains(&encode_hex(&sk.to_bytes())[2..12]));
        // A generated key is valid and distinct.
        let (a, b) = (SecretKey::random(), SecretKey::random());
        assert_ne!(a.public_key(), b.public_key());
        assert_eq!(a.public_key().verify(&m, &a.sign(&m)), Ok(()));
    }

    #[test]
    fn encodings_round_trip_through_json_and_are_strict() {
        let mut rng = StdRng::seed_from_u64(4);
        let sk = key(&mut rng);
        let pk = sk.public_key();
        let sig = sk.sign(&hash_elements(&F::rand_vec(3)));

        let json = serde_json::to_string(&pk).unwrap();
        assert_eq!(json.len(), 2 + 2 + 80);
        assert_eq!(serde_json::from_str::<PublicKey>(&json).unwrap(), pk);
        let json = serde_json::to_string(&sig).unwrap();
        assert_eq!(json.len(), 2 + 2 + 144);
        assert_eq!(serde_json::from_str::<Signature>(&json).unwrap(), sig);
        assert_eq!(sig.to_string().parse::<Signature>().unwrap(), sig);
        assert_eq!(pk.to_string().parse::<PublicKey>().unwrap(), pk);

        // s >= n is refused: s + n still fits in 40 bytes.
        let mut bytes = sig.to_bytes();
        let mut carry = 0u128;
        for (i, chunk) in bytes[32..].chunks_exact_mut(8).enumerate() {
            let v = u128::from(u64::from_le_bytes(chunk.try_into().unwrap()))
                + u128::from(ORDER[i])
                + carry;
            chunk.copy_from_slice(&(v as u64).to_le_bytes());
            carry = v >> 64;
        }
        assert_eq!(carry, 0);
        assert_eq!(
            encode_hex(&bytes).parse::<Signature>(),
            Err(Error::NonCanonicalScalar { what: "signature" })
        );
        // A non-canonical challenge word, an invalid point, wrong lengths.
        let mut bytes = sig.to_bytes();
        bytes[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(Signature::from_bytes(&bytes).is_err());
        assert!(Signature::from_bytes(&sig.to_bytes()[..71]).is_err());
        let invalid = (0u64..)
            .map(|i| Gfp5::from_u64s_reduce([i + 5, 1, 0, 0, 0]))
            .find(|w| Point::decode(w).is_none())
            .unwrap();
        assert!(matches!(
            encode_hex(&invalid.to_bytes()).parse::<PublicKey>(),
            Err(Error::InvalidPoint { .. })
        ));
        assert!(serde_json::from_str::<PublicKey>(&format!(
            "\"{}\"",
            encode_hex(&invalid.to_bytes())
        ))
        .is_err());
    }

    #[test]
    #[ignore = "timing; run with --release --ignored --nocapture"]
    fn timing_of_sign_and_verify() {
        let mut rng = StdRng::seed_from_u64(5);
        let sk = key(&mut rng);
        let pk = sk.public_key();
        let m = message(3);
        let sig = sk.sign(&m); // builds the generator table
        let rounds = 2000;
        let start = std::time::Instant::now();
        for i in 0..rounds {
            std::hint::black_box(sk.sign(&message(i)));
        }
        let sign = start.elapsed() / rounds as u32;
        let start = std::time::Instant::now();
        for _ in 0..rounds {
            assert!(pk.verify(std::hint::black_box(&m), &sig).is_ok());
        }
        let verify = start.elapsed() / rounds as u32;
        let start = std::time::Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(PublicKey::from_bytes(&pk.to_bytes()).unwrap());
        }
        let decode = start.elapsed() / rounds as u32;
        println!("sign: {sign:?}, verify: {verify:?}, public key decode: {decode:?}");
    }
}
