// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {EcGfp5Key} from "../src/EcGfp5Key.sol";
import {Goldilocks} from "../src/Goldilocks.sol";
import {TestBase} from "./utils/Cheats.sol";

/// @dev External entry points of the internal library (calldata keys, measurable gas).
contract EcGfp5KeyHarness {
    function isValidKey(bytes calldata key) external pure returns (bool) {
        return EcGfp5Key.isValidKey(key);
    }

    /// @dev The library's own gas, without the call around it.
    function isValidKeyGas(bytes calldata key) external view returns (bool valid, uint256 used) {
        uint256 before = gasleft();
        valid = EcGfp5Key.isValidKey(key);
        used = before - gasleft();
    }

    function words(bytes calldata key) external pure returns (uint256[5] memory) {
        return EcGfp5Key.words(key);
    }

    function isSquare(uint256[5] memory a) external pure returns (bool) {
        return EcGfp5Key.isSquare(a);
    }
}

contract EcGfp5KeyTest is TestBase {
    uint256 internal constant P = EcGfp5Key.P;
    address internal constant CONSOLE = 0x000000000000000000636F6e736F6c652e6c6f67;
    /// @dev (p^5 - 1)/2 = EULER_HI 2^256 + EULER_LO (319 bits; Python: (p**5 - 1) // 2).
    uint256 internal constant EULER_HI = 0x7ffffffd80000007;
    uint256 internal constant EULER_LO = 0x7ffffff1000000167fffffe6800000167ffffff1000000077ffffffd80000000;

    EcGfp5KeyHarness internal harness = new EcGfp5KeyHarness();

    // ------------------------------------------------------------------ slow reference

    /// @dev The product in GF(p^5) the long way, independent of the library: the nine
    ///      coefficients of the polynomial product, then z^(5+i) = 3 z^i, all with mulmod.
    function slowMul(uint256[5] memory a, uint256[5] memory b) internal pure returns (uint256[5] memory c) {
        uint256[9] memory wide;
        for (uint256 i = 0; i < 5; ++i) {
            for (uint256 j = 0; j < 5; ++j) {
                wide[i + j] = addmod(wide[i + j], mulmod(a[i], b[j], P), P);
            }
        }
        for (uint256 i = 0; i < 5; ++i) {
            c[i] = i + 5 < 9 ? addmod(wide[i], mulmod(3, wide[i + 5], P), P) : wide[i];
        }
    }

    /// @dev a^e for e = hi 2^256 + lo, most significant bit first.
    function slowPow(uint256[5] memory a, uint256 hi, uint256 lo) internal pure returns (uint256[5] memory r) {
        r[0] = 1;
        for (uint256 i = 64; i > 0; --i) {
            r = slowMul(r, r);
            if ((hi >> (i - 1)) & 1 == 1) r = slowMul(r, a);
        }
        for (uint256 i = 256; i > 0; --i) {
            r = slowMul(r, r);
            if ((lo >> (i - 1)) & 1 == 1) r = slowMul(r, a);
        }
    }

    /// @dev Euler's criterion in GF(p^5): a^((p^5 - 1)/2) is 0 or 1 exactly for squares.
    function slowIsSquare(uint256[5] memory a) internal pure returns (bool) {
        uint256[5] memory r = slowPow(a, EULER_HI, EULER_LO);
        return r[1] | r[2] | r[3] | r[4] == 0 && r[0] <= 1;
    }

    function element(uint256 seed) internal pure returns (uint256[5] memory a) {
        for (uint256 i = 0; i < 5; ++i) {
            a[i] = uint256(keccak256(abi.encode(seed, i))) % P;
        }
    }

    function keyOf(uint256[5] memory w) internal pure returns (bytes memory key) {
        key = new bytes(40);
        for (uint256 i = 0; i < 40; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast)
            key[i] = bytes1(uint8(w[i / 8] >> (8 * (i % 8))));
        }
    }

    // ------------------------------------------------------------------ known answers

    /// @dev Derived by contracts/test/known_answers.py (its "valid", "invalid", "w =" and
    ///      "random keys" lines): plain big-integer GF(p^5) arithmetic mirroring
    ///      core/src/ecgfp5/gfp5.rs, and the rule of `PublicKey::from_bytes` (canonical
    ///      words, w != 0, delta = (w^2 - 2)^2 - 4 * 263 z a square) with the square test
    ///      done as Euler's criterion delta^((p^5 - 1)/2), not through the norm. The named
    ///      valid keys and the curve.rs invalid ones are the encodings the Rust tests of
    ///      core/src/ecgfp5/curve.rs assert to decode, or not (Pornin's reference vectors;
    ///      G is the generator, w = 4).
    function test_known_valid_keys() public view {
        bytes[18] memory valid = [
            bytes(hex"04000000000000000000000000000000000000000000000000000000000000000000000000000000"),
            hex"599deb76146104ae660d2722c8d670d700a6e2bfa4af71d1d30bba141eed309e17f8d0f7b7061498",
            hex"b80dce0616c1ae98729d0cec0f34f7ec961f3ad01e35b1365bd6f6f481ed69d02fce8f992f63004d",
            hex"88782ad953116d03a22863891bb80344093be693ccc1ae65bd72fc822ab986c1dd5a098e41797e2a",
            hex"62707a003ce4d36fe6ce33cc369f9fde0771bcea957e5e67e866d03e36f52c9ca20b135c3cfe7056",
            hex"aaf9948c3eaf09927f59a52e0b2eb89a0ba7a214b226af7df29fde285b7ba4b44adab3b41857e7e4",
            hex"b42731cc8e3f2b00c6dd4763928c6a5bf51bb4f4d18e4fec632a719d6f50a0eec286131f5bb2908b",
            hex"8d7a7565e49bbd829b62d9f1194f2b41e60e73f78798d6c8a88ff7d46d46e5b9b9ca3cf8d7a207e3",
            hex"611da75b99f28f68dfc8fb2a28bd2ee7580fedd5e21554ac18de3d04b2c32c26c78603114db19a08",
            hex"3141126acb69a5835c707bf3f8eca1c67079cee7f7749b472c9c8064f453c0ddb88a7d1940231a2d",
            // w = 6, 7, 8.
            hex"06000000000000000000000000000000000000000000000000000000000000000000000000000000",
            hex"07000000000000000000000000000000000000000000000000000000000000000000000000000000",
            hex"08000000000000000000000000000000000000000000000000000000000000000000000000000000",
            // Random words labelled valid.
            hex"5614e473dd1c3aa48c2d99e121474e6f25d17c22c45b014f21a4ffc637bd6847a96d14ba098aa391",
            hex"78601cc60585f48ae89b74bdcd0e570d1d5322d5f66275cbc8c5a627cbe2205bf85149b5162eda00",
            hex"4b11c402bc18ec6787f0ba399bb4323dcb82ca4cf5f526e256665a582ab541e811b5f9eed4b56b4e",
            hex"c9962d80663ab56b4feb567cc17ae5a314f986962f331152b6b25bff9762160e883b48a556aea10d",
            hex"ea9504a07483e806b684f4ab7dc723152affcb0e723b96bb1e13893463fc98d5ea9ca3aa5c2362e0"
        ];
        for (uint256 i = 0; i < valid.length; ++i) {
            assertEq(harness.isValidKey(valid[i]) ? 1 : 0, 1, string.concat("valid key ", toString(i)));
        }
    }

    function test_known_invalid_keys() public view {
        bytes[17] memory invalid = [
            // curve.rs: encodings that must not decode.
            bytes(hex"e44b0bc4331927bcbb359652c87774d9dc6f1737312f71762516b2bca4efeeadacdb757780e03146"),
            hex"1d9fe4f92fbfdf0186bf70eb0e5edaefb9db5b04fc53fbb5b782412d6e7df11636e23bf1c5803707",
            hex"23d2e867d9845e5d0c7e7729af7f43efc9a43e1862fae136b051a46f8498ea0d4d65a338b22c9c3b",
            hex"5ce2b238e99f8b3fd2bc245dd018aa352de438fcb5d5556a52cc1fec4fe0e383bd4915339439e3a9",
            hex"2a1b034a006466ea41edb8eedf439f5557c0f5222f99f986ae202db996bef252737648364882eb9d",
            hex"ba63143d191633bf58bd23feb4c736cc81c01bfd777ffff8c0d6c7cac91ee35522ed1cbab62c92d6",
            // w = 1, 2, 3, 5; every word p - 1.
            hex"01000000000000000000000000000000000000000000000000000000000000000000000000000000",
            hex"02000000000000000000000000000000000000000000000000000000000000000000000000000000",
            hex"03000000000000000000000000000000000000000000000000000000000000000000000000000000",
            hex"05000000000000000000000000000000000000000000000000000000000000000000000000000000",
            hex"00000000ffffffff00000000ffffffff00000000ffffffff00000000ffffffff00000000ffffffff",
            // Random words labelled invalid.
            hex"2ef130184deccaf989be3799e06ee05b5e714d5f0b5a1539b54d86d39df42fa8081d09f8b366893d",
            hex"4fe5d549db9daf48fb633ffabc73931bf925ef5207e966524861cff721b423af9066dff8cb819073",
            hex"3108abc87f8363831cefb089db349c7cc4207b3973ef99d7a54756ab64d418669a3ad972687dc658",
            hex"c5e56d47567bcbea1925ce2ae4793f9b708e685731ca2c2dc0e58593645df6f43eb14526c4d7f9c0",
            hex"0dd507ab773398750a70de9d44397736711ba2417cd83c8738394444614a8537de8d206667638bbf",
            hex"850502ef99bb004f4e8116e5d944db54ed89d8a329285e22f011483d7a44dd89b6b3dd417bd139fd"
        ];
        for (uint256 i = 0; i < invalid.length; ++i) {
            assertEq(harness.isValidKey(invalid[i]) ? 1 : 0, 0, string.concat("invalid key ", toString(i)));
        }
    }

    function test_malformed_keys_are_invalid() public view {
        bytes memory g = hex"04000000000000000000000000000000000000000000000000000000000000000000000000000000";
        assertEq(harness.isValidKey(g) ? 1 : 0, 1, "G");
        // Wrong lengths: G's bytes cut or extended.
        assertEq(harness.isValidKey("") ? 1 : 0, 0, "empty");
        assertEq(harness.isValidKey(bytes.concat(g, hex"00")) ? 1 : 0, 0, "41 bytes");
        bytes memory cut = bytes.concat(g);
        assembly ("memory-safe") {
            mstore(cut, 39)
        }
        assertEq(harness.isValidKey(cut) ? 1 : 0, 0, "39 bytes");
        assertEq(harness.isValidKey(bytes.concat(g, g)) ? 1 : 0, 0, "80 bytes");
        // w = 0: the neutral element, which anyone could sign for.
        assertEq(harness.isValidKey(new bytes(40)) ? 1 : 0, 0, "neutral");
        // A word not below p, in each position: w = G + p z^i has word i = p (plus 4 for
        // i = 0), which a reduction mod p would turn back into the valid G.
        for (uint256 i = 0; i < 5; ++i) {
            uint256[5] memory w;
            w[0] = 4;
            w[i] += P;
            assertEq(harness.isValidKey(keyOf(w)) ? 1 : 0, 0, "non-canonical word");
            w[i] = type(uint64).max;
            assertEq(harness.isValidKey(keyOf(w)) ? 1 : 0, 0, "word 2^64 - 1");
        }
    }

    function test_words_are_little_endian() public view {
        uint256[5] memory w = harness.words(
            hex"0102030405060708" hex"1112131415161718" hex"2122232425262728" hex"3132333435363738"
            hex"4142434445464748"
        );
        assertEq(w[0], 0x0807060504030201, "word 0");
        assertEq(w[1], 0x1817161514131211, "word 1");
        assertEq(w[2], 0x2827262524232221, "word 2");
        assertEq(w[3], 0x3837363534333231, "word 3");
        assertEq(w[4], 0x4847464544434241, "word 4");
    }

    // ------------------------------------------------------------------ the square test

    /// @dev The Frobenius constants are 3^(i (p - 1)/5), fifth roots of unity, and scale
    ///      a's coefficients to a^p (checked against the slow power).
    function test_frobenius_constants() public pure {
        uint256 root = Goldilocks.pow(3, (P - 1) / 5);
        assertEq(EcGfp5Key.FROB_1, root, "FROB_1");
        assertEq(EcGfp5Key.FROB_2, mulmod(root, root, P), "FROB_2");
        assertEq(EcGfp5Key.FROB_3, Goldilocks.pow(root, 3), "FROB_3");
        assertEq(EcGfp5Key.FROB_4, Goldilocks.pow(root, 4), "FROB_4");
        assertEq(Goldilocks.pow(root, 5), 1, "a fifth root of unity");
        uint256[5] memory a = element(1);
        uint256[5] memory viaMap = EcGfp5Key.frobenius(a);
        uint256[5] memory viaPow = slowPow(a, 0, P);
        uint256[5] memory viaMap2 = EcGfp5Key.frobenius2(a);
        uint256[5] memory viaPow2 = slowPow(viaPow, 0, P);
        for (uint256 i = 0; i < 5; ++i) {
            assertEq(viaMap[i], viaPow[i], "a^p");
            assertEq(viaMap2[i], viaPow2[i], "a^(p^2)");
        }
    }

    /// @dev N(z) = z^5 times the product of the fifth roots of unity = 3 (as in gfp5.rs).
    function test_norm_of_z() public pure {
        uint256[5] memory z;
        z[1] = 1;
        assertEq(EcGfp5Key.norm(z), 3, "N(z)");
        uint256[5] memory zero;
        assertEq(EcGfp5Key.isSquare(zero) ? 1 : 0, 1, "zero is a square");
    }

    function testFuzz_mul_matches_reference(uint256 seedA, uint256 seedB) public pure {
        uint256[5] memory a = element(seedA);
        uint256[5] memory b = element(seedB);
        uint256[5] memory fast = EcGfp5Key.mul(a, b);
        uint256[5] memory slow = slowMul(a, b);
        for (uint256 i = 0; i < 5; ++i) {
            assertEq(fast[i], slow[i], "product");
        }
        // The largest canonical coefficients exercise the unreduced sums.
        uint256[5] memory max = [P - 1, P - 1, P - 1, P - 1, P - 1];
        fast = EcGfp5Key.mul(max, max);
        slow = slowMul(max, max);
        for (uint256 i = 0; i < 5; ++i) {
            assertEq(fast[i], slow[i], "largest product");
        }
    }

    /// forge-config: default.fuzz.runs = 64
    function testFuzz_square_test_matches_euler(uint256 seed) public view {
        uint256[5] memory a = element(seed);
        assertEq(harness.isSquare(a) ? 1 : 0, slowIsSquare(a) ? 1 : 0, "square test");
        // And whatever a is, a^2 is a square.
        uint256[5] memory square = slowMul(a, a);
        assertEq(harness.isSquare(square) ? 1 : 0, 1, "a^2");
    }

    /// forge-config: default.fuzz.runs = 64
    function testFuzz_key_validity_matches_reference(uint256 seed) public view {
        uint256[5] memory w = element(seed);
        uint256[5] memory e = slowMul(w, w);
        e[0] = addmod(e[0], P - 2, P);
        uint256[5] memory delta = slowMul(e, e);
        delta[1] = addmod(delta[1], P - 1052, P);
        assertEq(harness.isValidKey(keyOf(w)) ? 1 : 0, slowIsSquare(delta) ? 1 : 0, "key validity");
    }

    // ------------------------------------------------------------------ gas

    function test_gas_is_valid_key() public view {
        bytes memory key = hex"599deb76146104ae660d2722c8d670d700a6e2bfa4af71d1d30bba141eed309e17f8d0f7b7061498";
        (bool valid, uint256 used) = harness.isValidKeyGas(key);
        assertEq(valid ? 1 : 0, 1, "valid");
        (bool ok,) = CONSOLE.staticcall(abi.encodeWithSignature("log(string,uint256)", "isValidKey gas", used));
        ok;
        if (used > 20_000) revert NotEqual("isValidKey gas above 20k", used, 20_000);
    }

    function toString(uint256 v) internal pure returns (string memory s) {
        if (v == 0) return "0";
        while (v != 0) {
            // forge-lint: disable-next-line(unsafe-typecast)
            s = string.concat(string(abi.encodePacked(bytes1(uint8(48 + v % 10)))), s);
            v /= 10;
        }
    }
}
