// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Validity of an L2 public key (an ECgFp5 point encoding), checked at deposit
/// @notice A deposit is queued on L1 and must be credited on L2 in queue order: one the
///         circuits cannot credit would block the queue for good. A key they can credit is
///         exactly what `rollup_core::schnorr::PublicKey::from_bytes` accepts: 40 bytes, five
///         little-endian u64 words w0..w4, each below p = 2^64 - 2^32 + 1, giving
///         w = w0 + w1 z + ... + w4 z^4 in GF(p^5) = GF(p)[z]/(z^5 - 3); w != 0 (the neutral
///         element); and w a valid point encoding (`Point::decode`, `line_roots` in
///         core/src/ecgfp5/curve.rs): with e = w^2 - a and delta = e^2 - 4b, delta is a
///         square in GF(p^5), for the curve constants a = 2 and b = 263 z.
/// @dev The square test goes through the norm, as `Gfp5::legendre` does: delta is a square
///      in GF(p^5) iff N(delta) = delta^(1 + p + p^2 + p^3 + p^4), which lies in GF(p), is a
///      square in GF(p). The Frobenius map a -> a^p only scales coefficients ((z^i)^p =
///      3^(i (p - 1)/5) z^i, since z^5 = 3), so the norm is three products and three
///      Frobenius maps, then one Legendre exponentiation in GF(p): about 7k gas in all,
///      against some 500 products for delta^((p^5 - 1)/2) directly. Elements are five
///      canonical coefficients (of 1, z, ..., z^4) in memory.
library EcGfp5Key {
    /// @notice The Goldilocks modulus p.
    uint256 internal constant P = 0xFFFFFFFF00000001;
    /// @notice Bytes of an encoded key.
    uint256 internal constant KEY_BYTES = 40;
    /// @notice The curve constant a = 2.
    uint256 internal constant CURVE_A = 2;
    /// @notice 4b's coefficient of z (b = 263 z).
    uint256 internal constant FOUR_B1 = 4 * 263;
    /// @notice (z^i)^p = FROB_i z^i with FROB_i = 3^(i (p - 1)/5), a fifth root of unity to
    ///         the i (`gfp5::FROB1`). (z^i)^(p^2) = FROB_(2i mod 5) z^i, since p = 1 mod 5.
    uint256 internal constant FROB_1 = 1041288259238279555;
    uint256 internal constant FROB_2 = 15820824984080659046;
    uint256 internal constant FROB_3 = 211587555138949697;
    uint256 internal constant FROB_4 = 1373043270956696022;

    uint256 private constant LOW64 = 0xFFFFFFFFFFFFFFFF;

    /// @notice Whether `key` is a public key the circuits can credit (see the title).
    function isValidKey(bytes calldata key) internal pure returns (bool) {
        if (key.length != KEY_BYTES) return false;
        uint256[5] memory w = words(key);
        if (w[0] >= P || w[1] >= P || w[2] >= P || w[3] >= P || w[4] >= P) return false;
        if (w[0] | w[1] | w[2] | w[3] | w[4] == 0) return false;
        return isSquare(discriminant(w));
    }

    /// @notice The five little-endian u64 words of a 40-byte key, in order (not checked
    ///         canonical).
    function words(bytes calldata key) internal pure returns (uint256[5] memory w) {
        assembly ("memory-safe") {
            // Reverses the bytes of each 64-bit lane of v: swaps bytes, then 16-bit halves,
            // then 32-bit halves.
            function swapLanes(v) -> r {
                let m8 := 0xff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00
                let m16 := 0xffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000ffff0000
                let m32 := 0xffffffff00000000ffffffff00000000ffffffff00000000ffffffff00000000
                r := or(shr(8, and(v, m8)), and(shl(8, v), m8))
                r := or(shr(16, and(r, m16)), and(shl(16, r), m16))
                r := or(shr(32, and(r, m32)), and(shl(32, r), m32))
            }
            let first := swapLanes(calldataload(key.offset))
            mstore(w, shr(192, first))
            mstore(add(w, 0x20), and(shr(128, first), LOW64))
            mstore(add(w, 0x40), and(shr(64, first), LOW64))
            mstore(add(w, 0x60), and(first, LOW64))
            mstore(add(w, 0x80), shr(192, swapLanes(calldataload(add(key.offset, 32)))))
        }
    }

    /// @notice delta = (w^2 - a)^2 - 4b, the discriminant of the decoding quadratic.
    function discriminant(uint256[5] memory w) internal pure returns (uint256[5] memory delta) {
        uint256[5] memory e = mul(w, w);
        e[0] = addmod(e[0], P - CURVE_A, P);
        delta = mul(e, e);
        delta[1] = addmod(delta[1], P - FOUR_B1, P);
    }

    /// @notice Whether `a` is a square in GF(p^5), zero included.
    function isSquare(uint256[5] memory a) internal pure returns (bool) {
        uint256 n = norm(a);
        return n == 0 || legendreExp(n) == 1;
    }

    /// @notice N(a) = a^(1 + p + p^2 + p^3 + p^4) in GF(p) (`Gfp5::norm`): with
    ///         t = a^p a^(p^2), a^(p + ... + p^4) = t t^(p^2), and only the constant term of
    ///         the last product is needed, the norm being in GF(p).
    function norm(uint256[5] memory a) internal pure returns (uint256 n) {
        uint256[5] memory t = frobenius(a);
        t = mul(t, frobenius(t));
        t = mul(t, frobenius2(t));
        assembly ("memory-safe") {
            let a1 := mload(add(a, 0x20))
            let a2 := mload(add(a, 0x40))
            let a3 := mload(add(a, 0x60))
            let a4 := mload(add(a, 0x80))
            let folded :=
                add(
                    add(mul(a1, mload(add(t, 0x80))), mul(a2, mload(add(t, 0x60)))),
                    add(mul(a3, mload(add(t, 0x40))), mul(a4, mload(add(t, 0x20))))
                )
            n := mod(add(mul(mload(a), mload(t)), mul(3, folded)), P)
        }
    }

    /// @notice x^((p - 1)/2) in GF(p): 1 for a non-zero square, p - 1 for a non-square.
    ///         (p - 1)/2 = (2^32 - 1) 2^31: 31 steps r = r^2 x give x^(2^32 - 1), then 31
    ///         squarings.
    function legendreExp(uint256 x) internal pure returns (uint256 r) {
        assembly ("memory-safe") {
            r := x
            for { let i := 0 } lt(i, 31) { i := add(i, 1) } { r := mulmod(mulmod(r, r, P), x, P) }
            for { let i := 0 } lt(i, 31) { i := add(i, 1) } { r := mulmod(r, r, P) }
        }
    }

    /// @notice a^p: coefficient i times FROB_i.
    function frobenius(uint256[5] memory a) internal pure returns (uint256[5] memory c) {
        c[0] = a[0];
        c[1] = mulmod(a[1], FROB_1, P);
        c[2] = mulmod(a[2], FROB_2, P);
        c[3] = mulmod(a[3], FROB_3, P);
        c[4] = mulmod(a[4], FROB_4, P);
    }

    /// @notice a^(p^2): coefficient i times FROB_(2i mod 5).
    function frobenius2(uint256[5] memory a) internal pure returns (uint256[5] memory c) {
        c[0] = a[0];
        c[1] = mulmod(a[1], FROB_2, P);
        c[2] = mulmod(a[2], FROB_4, P);
        c[3] = mulmod(a[3], FROB_1, P);
        c[4] = mulmod(a[4], FROB_3, P);
    }

    /// @notice The product in GF(p^5) of canonical elements: the schoolbook product with
    ///         z^(5 + i) folded into 3 z^i. Each coefficient is one sum of five products
    ///         below 2^128 (three times for the folded ones), far from overflowing 256 bits,
    ///         reduced once.
    function mul(uint256[5] memory a, uint256[5] memory b) internal pure returns (uint256[5] memory c) {
        assembly ("memory-safe") {
            let a0 := mload(a)
            let a1 := mload(add(a, 0x20))
            let a2 := mload(add(a, 0x40))
            let a3 := mload(add(a, 0x60))
            let a4 := mload(add(a, 0x80))
            let b0 := mload(b)
            let b1 := mload(add(b, 0x20))
            let b2 := mload(add(b, 0x40))
            let b3 := mload(add(b, 0x60))
            let b4 := mload(add(b, 0x80))
            mstore(
                c,
                mod(add(mul(a0, b0), mul(3, add(add(mul(a1, b4), mul(a2, b3)), add(mul(a3, b2), mul(a4, b1))))), P)
            )
            mstore(
                add(c, 0x20),
                mod(add(add(mul(a0, b1), mul(a1, b0)), mul(3, add(add(mul(a2, b4), mul(a3, b3)), mul(a4, b2)))), P)
            )
            mstore(
                add(c, 0x40),
                mod(add(add(add(mul(a0, b2), mul(a1, b1)), mul(a2, b0)), mul(3, add(mul(a3, b4), mul(a4, b3)))), P)
            )
            mstore(
                add(c, 0x60),
                mod(add(add(add(mul(a0, b3), mul(a1, b2)), add(mul(a2, b1), mul(a3, b0))), mul(3, mul(a4, b4))), P)
            )
            mstore(
                add(c, 0x80),
                mod(add(add(add(mul(a0, b4), mul(a1, b3)), add(mul(a2, b2), mul(a3, b1))), mul(a4, b0)), P)
            )
        }
    }
}
