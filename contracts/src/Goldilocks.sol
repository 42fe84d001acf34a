// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Goldilocks field arithmetic (p = 2^64 - 2^32 + 1)
/// @notice The base field of plonky2, shared by the on-chain verifier and the rollup's
///         statement checks. Values are canonical (< P) uint256 words; every function keeps
///         them canonical so equality is plain `==`.
library Goldilocks {
    /// @notice The field modulus.
    uint256 internal constant P = 0xFFFFFFFF00000001;

    /// @notice Raised when an input word is not a canonical field element.
    error NonCanonical(uint256 value);
    /// @notice Raised when zero is inverted.
    error InverseOfZero();

    /// @notice Reverts unless `a` is canonical; used on every untrusted input.
    function checkCanonical(uint256 a) internal pure returns (uint256) {
        if (a >= P) revert NonCanonical(a);
        return a;
    }

    function add(uint256 a, uint256 b) internal pure returns (uint256) {
        return addmod(a, b, P);
    }

    function sub(uint256 a, uint256 b) internal pure returns (uint256) {
        return addmod(a, P - b, P);
    }

    function mul(uint256 a, uint256 b) internal pure returns (uint256) {
        return mulmod(a, b, P);
    }

    function neg(uint256 a) internal pure returns (uint256) {
        return a == 0 ? 0 : P - a;
    }

    /// @notice a^e mod P by square and multiply (the verifier needs small fixed exponents).
    function pow(uint256 a, uint256 e) internal pure returns (uint256 r) {
        r = 1;
        while (e != 0) {
            if (e & 1 == 1) r = mulmod(r, a, P);
            a = mulmod(a, a, P);
            e >>= 1;
        }
    }

    /// @notice The multiplicative inverse, by Fermat (a^(P-2)).
    function inverse(uint256 a) internal pure returns (uint256) {
        if (a == 0) revert InverseOfZero();
        return pow(a, P - 2);
    }
}
