//! Reproducible synthetic workloads: keys, tree updates and transfer batches.
//!
//! Everything is drawn from a seeded [`SplitMix64`], so two runs of a benchmark (or two
//! machines) measure the very same work, and no RNG crate is needed in this crate.

use plonky2::{field::types::Field, hash::hash_types::HashOut};
use rollup_core::{
    ecgfp5::Scalar,
    field::F,
    hash::Digest,
    schnorr::{PublicKey, SecretKey},
    transfer::Transfer,
};

/// SplitMix64: a tiny, fast, well-distributed generator; enough to pick workloads (it is
/// not, and need not be, cryptographically secure).
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from a seed; the same seed gives the same sequence.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 uniform bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform integer in `0..bound` (`bound > 0`), by widening multiplication (bias
    /// below 2^-32 for the bounds used here).
    pub fn below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0, "empty range");
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    /// A random leaf-like digest (four field elements; never [`Digest::ZERO`] in practice).
    pub fn digest(&mut self) -> Digest {
        Digest(HashOut {
            elements: [(); 4].map(|_| F::from_noncanonical_u64(self.next_u64())),
        })
    }

    /// A secret key derived from the generator (deterministic, unlike
    /// [`SecretKey::random`], so partition assignment is the same on every run).
    pub fn secret_key(&mut self) -> SecretKey {
        loop {
            let mut bytes = [0u8; 64];
            for chunk in bytes.chunks_exact_mut(8) {
                chunk.copy_from_slice(&self.next_u64().to_le_bytes());
            }
            if let Ok(key) = SecretKey::from_scalar(Scalar::from_bytes_wide(&bytes)) {
                return key;
            }
        }
    }
}

/// The shape of a synthetic transfer batch.
#[derive(Clone, Copy, Debug)]
pub struct BatchShape {
    /// Transfers in the batch.
    pub transfers: usize,
    /// The first `hot_recipients` accounts receive a `hot_share` of all transfers (an
    /// exchange or a popular merchant: contention on a few partitions).
    pub hot_recipients: usize,
    /// Fraction of transfers sent to the hot recipients; the rest go to uniform accounts.
    pub hot_share: f64,
    /// Chain id written into every transfer.
    pub chain_id: u64,
}

/// A batch valid in order against funded accounts `keys` with balances `balance` and
/// nonces 0: uniform senders, a `hot_share` of recipients among the first
/// `hot_recipients` keys, each sender's nonce incrementing, never a self-transfer.
///
/// Amounts are small (1..=1000, fee 1) so `balance` of a few million keeps every transfer
/// fundable; this is asserted as the batch is built.
pub fn transfer_batch(
    rng: &mut SplitMix64,
    keys: &[PublicKey],
    balance: u64,
    shape: BatchShape,
) -> Vec<Transfer> {
    assert!(keys.len() >= 2 && shape.hot_recipients <= keys.len());
    let mut nonces = vec![0u32; keys.len()];
    let mut balances = vec![balance; keys.len()];
    (0..shape.transfers)
        .map(|_| {
            let from = rng.below(keys.len() as u64) as usize;
            let to = loop {
                let to = if shape.hot_recipients > 0 && rng.chance(shape.hot_share) {
                    rng.below(shape.hot_recipients as u64) as usize
                } else {
                    rng.below(keys.len() as u64) as usize
                };
                if to != from {
                    break to;
                }
            };
            let (amount, fee) = (1 + rng.below(1000), 1);
            balances[from] = balances[from]
                .checked_sub(amount + fee)
                .expect("the funded balance covers the batch");
            balances[to] += amount;
            let nonce = nonces[from];
            nonces[from] += 1;
            Transfer {
                token: rollup_core::token::Token::Eth,
                chain_id: shape.chain_id,
                from: keys[from],
                to: keys[to],
                amount,
                fee,
                nonce,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use rollup_core::{state::State, tree::TreeConfig};

    use super::*;

    #[test]
    fn the_generator_is_deterministic_and_in_range() {
        let (mut a, mut b) = (SplitMix64::new(7), SplitMix64::new(7));
        let xs: Vec<u64> = (0..100).map(|_| a.next_u64()).collect();
        assert_eq!(xs, (0..100).map(|_| b.next_u64()).collect::<Vec<_>>());
        assert!((0..10_000).all(|_| a.below(10) < 10));
        let hits = (0..10_000).filter(|_| a.chance(0.2)).count();
        assert!((1_700..2_300).contains(&hits), "{hits}");
    }

    #[test]
    fn batches_are_valid_in_order_with_the_hot_share() {
        let mut rng = SplitMix64::new(1);
        let keys: Vec<PublicKey> = (0..12).map(|_| rng.secret_key().public_key()).collect();
        let balance = 1_000_000;
        let shape = BatchShape {
            transfers: 400,
            hot_recipients: 2,
            hot_share: 0.2,
            chain_id: 5,
        };
        let batch = transfer_batch(&mut rng, &keys, balance, shape);
        assert_eq!(batch.len(), 400);

        let mut next_nonce: HashMap<PublicKey, u32> = HashMap::new();
        for transfer in &batch {
            let nonce = next_nonce.entry(transfer.from).or_default();
            assert_eq!(transfer.nonce, *nonce);
            *nonce += 1;
            assert_ne!(transfer.from, transfer.to);
        }
        // 20% hot plus the uniform draws that land on the two hot keys (2/12 of 80%).
        let hot = batch.iter().filter(|t| keys[..2].contains(&t.to)).count();
        assert!((100..220).contains(&hot), "{hot}");

        let genesis: Vec<(PublicKey, u64)> = keys.iter().map(|&k| (k, balance)).collect();
        let mut state = State::genesis(TreeConfig::default(), &genesis).unwrap();
        state
            .execute_batch(&batch)
            .expect("the batch is valid in order");
    }
}
