// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Goldilocks} from "../src/Goldilocks.sol";
import {TestBase} from "./utils/Cheats.sol";

/// @dev External entry points so that reverts of the internal library can be expected.
contract GoldilocksHarness {
    function inverse(uint256 a) external pure returns (uint256) {
        return Goldilocks.inverse(a);
    }

    function checkCanonical(uint256 a) external pure returns (uint256) {
        return Goldilocks.checkCanonical(a);
    }
}

contract GoldilocksTest is TestBase {
    uint256 constant P = Goldilocks.P;
    GoldilocksHarness harness = new GoldilocksHarness();

    function test_reduction_identities() public pure {
        // 2^64 = 2^32 - 1 (mod p): the identity Goldilocks reduction is built on.
        assertEq(Goldilocks.mul(1 << 32, 1 << 32), (1 << 32) - 1, "2^64 mod p");
        assertEq(Goldilocks.mul(P - 1, P - 1), 1, "(-1)^2");
        assertEq(Goldilocks.add(P - 1, 2), 1, "wrap-around add");
        assertEq(Goldilocks.sub(1, 2), P - 1, "wrap-around sub");
        assertEq(Goldilocks.neg(0), 0, "-0");
        // 7 is plonky2's multiplicative generator; its order is p - 1, so 7^((p-1)/2) = -1.
        assertEq(Goldilocks.pow(7, (P - 1) / 2), P - 1, "7 is a non-residue");
    }

    function test_inverse_matches_known_value() public pure {
        // 2^-1 = (p + 1) / 2.
        assertEq(Goldilocks.inverse(2), (P + 1) / 2, "inverse of 2");
    }

    function testFuzz_inverse(uint256 a) public pure {
        a = a % P;
        if (a == 0) return;
        assertEq(Goldilocks.mul(a, Goldilocks.inverse(a)), 1, "a * a^-1");
    }

    function test_rejects_zero_inverse_and_non_canonical_words() public {
        vm.expectRevert(Goldilocks.InverseOfZero.selector);
        harness.inverse(0);
        vm.expectRevert(abi.encodeWithSelector(Goldilocks.NonCanonical.selector, P));
        harness.checkCanonical(P);
        assertEq(harness.checkCanonical(P - 1), P - 1, "p - 1 is canonical");
    }
}
