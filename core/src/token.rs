//! The tokens L2 holds: a fixed pair, each a balance of every account.
//!
//! Token 0 is ETH and token 1 the ERC-20 test token escrowed by the Rollup contract. Both
//! count in L2 units of 10^9 of their L1 smallest unit (gwei for ETH), so that a u64
//! balance holds 18.4e9 whole tokens and an L1 amount is `l2_amount * L1_UNITS_PER_L2_UNIT`.
//! Two fixed tokens (rather than a registry of one account per key and token) keep one
//! account, one nonce and one partition per key, and the leaf one Poseidon absorption
//! wider.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The number of tokens, the length of every per-token array.
pub const TOKENS: usize = 2;

/// L1 smallest units of one L2 unit, for both tokens (ETH: wei per gwei).
pub const L1_UNITS_PER_L2_UNIT: u64 = 1_000_000_000;

/// A token held on L2; serialised as its number (0 or 1), the byte L1 and the records use.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(try_from = "u8", into = "u8")]
pub enum Token {
    /// ETH (L2 unit: gwei); the default, so that clients of the single-token API keep
    /// working.
    #[default]
    Eth = 0,
    /// The ERC-20 test token (L2 unit: 10^9 of its smallest units).
    TestToken = 1,
}

impl Token {
    /// Every token, in number order.
    pub const ALL: [Token; TOKENS] = [Token::Eth, Token::TestToken];

    /// The token's number: its index in per-token arrays and its byte on L1.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Whether this is token 1: the token bit of records and the in-circuit selector.
    pub const fn is_test_token(self) -> bool {
        matches!(self, Token::TestToken)
    }
}

impl TryFrom<u8> for Token {
    type Error = Error;

    fn try_from(value: u8) -> Result<Self> {
        match value {
            0 => Ok(Token::Eth),
            1 => Ok(Token::TestToken),
            token => Err(Error::UnknownToken { token }),
        }
    }
}

impl From<Token> for u8 {
    fn from(token: Token) -> u8 {
        token as u8
    }
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Token::Eth => "ETH",
            Token::TestToken => "RTT",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_numbers_in_json_and_unknown_numbers_are_refused() {
        assert_eq!(serde_json::to_value(Token::TestToken).unwrap(), 1);
        assert_eq!(
            serde_json::from_value::<Token>(0.into()).unwrap(),
            Token::Eth
        );
        assert!(serde_json::from_value::<Token>(2.into()).is_err());
        assert_eq!(Token::try_from(7), Err(Error::UnknownToken { token: 7 }));
        for token in Token::ALL {
            assert_eq!(Token::try_from(u8::from(token)), Ok(token));
        }
    }
}
