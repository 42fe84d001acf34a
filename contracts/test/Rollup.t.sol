// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Rollup} from "../src/Rollup.sol";
import {IBatchVerifier} from "../src/IBatchVerifier.sol";
import {IERC20} from "../src/IERC20.sol";
import {TestToken} from "../src/TestToken.sol";
import {Plonky2Verifier, IWrapperGateEvaluator} from "../src/verifier/Plonky2Verifier.sol";
import {WrapperGateEvaluator} from "../src/verifier/WrapperGateEvaluator.sol";
import {TestBase} from "./utils/Cheats.sol";

// Bytes of one chunk of batch data as hashed (`Rollup.CHUNK_BYTES`, `CHUNK_DATA_BYTES` in
// Rust): 32 unit records of 16 bytes, 4 new-account records of 48, 4 deposit records of 56,
// 4 withdrawal records of 32; where each list starts, and each record's size.
uint256 constant CHUNK = 1056;
uint256 constant ACCOUNTS_AT = 512;
uint256 constant DEPOSITS_AT = 704;
uint256 constant WITHDRAWALS_AT = 928;
uint256 constant UNIT_BYTES = 16;
uint256 constant ACCOUNT_BYTES = 48;
uint256 constant DEPOSIT_BYTES = 56;
uint256 constant WITHDRAWAL_BYTES = 32;

/// @notice TEST DOUBLE of the wrapper-proof verifier, for the Rollup's bookkeeping tests only
///         (the real verifier is tested against real proofs in its own tests). It models the
///         one property the Rollup relies on, that a proof is bound to its public inputs: a
///         "proof" here is the 32-byte statement that the 8 public-input words spell, and
///         it is accepted for exactly those inputs. So every test below that expects a
///         rejection gets it from the Rollup's own recomputation of the statement.
contract StatementBoundVerifierDouble is IBatchVerifier {
    function verify(uint256[] calldata publicInputs, bytes calldata proof) external pure returns (bool) {
        if (publicInputs.length != 8 || proof.length != 32) return false;
        uint256 statement;
        for (uint256 i = 0; i < 8; ++i) {
            if (publicInputs[i] >> 32 != 0) return false;
            statement = (statement << 32) | publicInputs[i];
        }
        // forge-lint: disable-next-line(unsafe-typecast)
        return bytes32(proof) == bytes32(statement);
    }
}

/// @dev Cheatcodes beyond the shared `Vm` that these tests need.
interface RollupVm {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function recordLogs() external;
    function cool(address target) external;
    function startPrank(address sender) external;
    function stopPrank() external;
    function readFileBinary(string calldata path) external view returns (bytes memory);
    function getRecordedLogs() external returns (Log[] memory);
}

/// @notice Batch data v4 builders and the data chain in plain Solidity, shared by the Rollup
///         test contracts.
abstract contract BatchDataHelpers {
    /// @dev Compact batch data (v4) of `chunks` chunks of pseudo-random unit and new-account
    ///      records (L1 reads neither) and no deposit or withdrawal records, so that any
    ///      Rollup commits it.
    function batchData(uint256 chunks, uint256 seed) internal pure returns (bytes memory data) {
        data = hex"04";
        for (uint256 i = 0; i < chunks; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            data = bytes.concat(data, chunkData(r % 33, (r >> 8) % 5, 0, 0, r));
        }
    }

    /// @dev Compact batch data of `chunks` chunks with pseudo-random counts in all four
    ///      lists and pseudo-random records (for the data chain alone: their deposit and
    ///      withdrawal records would not pass `commitBatch`).
    function anyBatchData(uint256 chunks, uint256 seed) internal pure returns (bytes memory data) {
        data = hex"04";
        for (uint256 i = 0; i < chunks; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            data = bytes.concat(data, chunkData(r % 33, (r >> 8) % 5, (r >> 16) % 5, (r >> 24) % 5, r));
        }
    }

    /// @dev Compact batch data of `chunks` full chunks (32 units, 4 new accounts each, no
    ///      deposits or withdrawals), built in one allocation (large batches for the gas
    ///      tests).
    function fullBatchData(uint256 chunks, uint256 seed) internal pure returns (bytes memory data) {
        uint256 stride = 2 + 32 * UNIT_BYTES + 4 * ACCOUNT_BYTES;
        data = randomBytes(1 + chunks * stride, seed);
        data[0] = 0x04;
        for (uint256 at = 1; at < data.length; at += stride) {
            data[at] = bytes1(uint8(32 + 33 * 4));
            data[at + 1] = 0;
        }
    }

    /// @dev One compact chunk: its header `t + 33 a`, `d + 5 w`, then that many
    ///      pseudo-random record bytes (`a` and `w` up to 7 for the malformed cases).
    function chunkData(uint256 t, uint256 a, uint256 d, uint256 w, uint256 seed)
        internal
        pure
        returns (bytes memory chunk)
    {
        bytes memory records =
            randomBytes(UNIT_BYTES * t + ACCOUNT_BYTES * a + DEPOSIT_BYTES * d + WITHDRAWAL_BYTES * w, seed);
        // forge-lint: disable-next-line(unsafe-typecast)
        chunk = bytes.concat(bytes1(uint8(t + 33 * a)), bytes1(uint8(d + 5 * w)), records);
    }

    /// @dev `length` pseudo-random bytes from `seed`, one allocation: whole words of
    ///      Keccak output, then the real length.
    function randomBytes(uint256 length, uint256 seed) internal pure returns (bytes memory out) {
        out = new bytes(length + 31);
        for (uint256 i = 0; i < length; i += 32) {
            bytes32 word = keccak256(abi.encode(seed, i));
            assembly ("memory-safe") {
                mstore(add(add(out, 32), i), word)
            }
        }
        assembly ("memory-safe") {
            mstore(out, length)
        }
    }

    /// @dev The data chain in plain Solidity, independent of the contract's assembly: each
    ///      compact chunk expanded list by list to its records and zeros, then hashed after
    ///      the link.
    function referenceCommitment(bytes memory data) internal pure returns (bytes32 link) {
        uint256 at = 1;
        while (at < data.length) {
            uint256 first = uint8(data[at]);
            uint256 second = uint8(data[at + 1]);
            at += 2;
            bytes memory chunk = new bytes(CHUNK);
            at = copyRecords(data, at, chunk, 0, UNIT_BYTES * (first % 33));
            at = copyRecords(data, at, chunk, ACCOUNTS_AT, ACCOUNT_BYTES * (first / 33));
            at = copyRecords(data, at, chunk, DEPOSITS_AT, DEPOSIT_BYTES * (second % 5));
            at = copyRecords(data, at, chunk, WITHDRAWALS_AT, WITHDRAWAL_BYTES * (second / 5));
            link = keccak256(abi.encodePacked(link, chunk));
        }
    }

    function copyRecords(bytes memory data, uint256 at, bytes memory chunk, uint256 to, uint256 size)
        private
        pure
        returns (uint256)
    {
        for (uint256 j = 0; j < size; ++j) {
            chunk[to + j] = data[at + j];
        }
        return at + size;
    }

    /// @dev The compact batch of `known_answers.py` (its "compact batch" line).
    function knownAnswerBatch() internal pure returns (bytes memory) {
        return bytes.concat(
            hex"042307",
            hex"010000000100000002000000007d0140",
            hex"0500000001000000000000000140" hex"0020",
            hex"0100000003000000" hex"04000000000000000000000000000000000000000000000000000000000000000000000000000000",
            hex"0100000200000003" hex"0000000000000003"
            hex"04000000000000000000000000000000000000000000000000000000000000000000000000000000",
            hex"0100000000000001" hex"0000000059682f00"
            hex"599deb76146104ae660d2722c8d670d700a6e2bfa4af71d1d30bba141eed309e17f8d0f7b7061498",
            hex"01000000000000000000000a00112233445566778899aabbccddeeff00112233",
            hex"000b",
            hex"0300000100000002" hex"0000000000000007"
            hex"b80dce0616c1ae98729d0cec0f34f7ec961f3ad01e35b1365bd6f6f481ed69d02fce8f992f63004d",
            hex"0300000000000000000000051111111111111111111111111111111111111111",
            hex"0100000000000000000000011111111111111111111111111111111111111111"
        );
    }

    /// @dev What an honest prover proves for a batch: the statement from `oldRoot`.
    function proofFor(bytes32 oldRoot, bytes memory data, bytes32 newRoot, uint64 ethFees, uint64 tokenFees)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(
            keccak256(abi.encodePacked(oldRoot, newRoot, referenceCommitment(data), ethFees, tokenFees))
        );
    }

    function decimal(uint256 v) internal pure returns (string memory s) {
        if (v == 0) return "0";
        while (v != 0) {
            // forge-lint: disable-next-line(unsafe-typecast)
            s = string.concat(string(abi.encodePacked(bytes1(uint8(48 + v % 10)))), s);
            v /= 10;
        }
    }
}

contract RollupTest is TestBase, BatchDataHelpers {
    RollupVm internal constant logs = RollupVm(address(uint160(uint256(keccak256("hevm cheat code")))));
    address internal constant CONSOLE = 0x000000000000000000636F6e736F6c652e6c6f67;

    address internal constant OWNER = address(0xA11CE);
    address internal constant OPERATOR = address(0x0B0B);
    address internal constant STRANGER = address(0xBAD);

    /// @dev Roots in the L1 encoding (4 canonical big-endian u64 words).
    bytes32 internal constant GENESIS_ROOT = 0x0000000000000001000000000000000200000000000000030000000000000004;
    bytes32 internal constant ROOT_1 = 0xffffffff00000000000000000000000000000000000000000000000000000007;
    bytes32 internal constant ROOT_2 = 0x0000000000000009000000000000000800000000000000070000000000000006;
    /// @dev The genesis balances' sum (1,000,005 gwei), the ETH a deployment must send.
    uint256 internal constant GENESIS_VALUE = 1_000_005 gwei;

    StatementBoundVerifierDouble internal verifierDouble;
    TestToken internal token;
    Rollup internal rollup;
    bytes internal genesisAccounts;

    function setUp() public {
        verifierDouble = new StatementBoundVerifierDouble();
        token = new TestToken();
        // Two accounts: 40-byte key || u64 BE balance.
        genesisAccounts = abi.encodePacked(
            bytes32(uint256(1)), bytes8(0), uint64(1_000_000), bytes32(uint256(2)), bytes8(0), uint64(5)
        );
        rollup = deploy(GENESIS_VALUE, 31337, 32, 4, genesisAccounts);
    }

    // ------------------------------------------------------------------ helpers

    function deploy(uint256 value, uint64 chainId, uint8 depth, uint8 bits, bytes memory accounts)
        internal
        returns (Rollup)
    {
        return new Rollup{value: value}(
            verifierDouble, OWNER, OPERATOR, GENESIS_ROOT, chainId, depth, bits, accounts, IERC20(address(token))
        );
    }

    function commitAs(
        address who,
        uint64 number,
        bytes memory data,
        bytes32 newRoot,
        uint64 ethFees,
        uint64 tokenFees,
        bytes memory proof
    ) internal {
        vm.prank(who);
        rollup.commitBatch(number, data, newRoot, ethFees, tokenFees, proof);
    }

    function log(string memory what, uint256 value) internal view {
        (bool ok,) = CONSOLE.staticcall(abi.encodeWithSignature("log(string,uint256)", what, value));
        ok;
    }

    // ------------------------------------------------------------------ genesis

    function test_genesis_is_stored_and_emitted() public {
        assertEq(uint256(rollup.stateRoot()), uint256(GENESIS_ROOT), "genesis root");
        assertEq(rollup.lastVerifiedBatch(), 0, "no batch yet");
        assertEq(uint256(rollup.genesisAccountsHash()), uint256(keccak256(genesisAccounts)), "blob hash");
        assertEq(rollup.l2ChainId(), 31337, "chain id");
        assertEq(rollup.isOperator(OPERATOR) ? 1 : 0, 1, "operator role");
        assertEq(uint256(uint160(rollup.owner())), uint256(uint160(OWNER)), "owner");
        assertEq(uint256(uint160(address(rollup.testToken()))), uint256(uint160(address(token))), "token");
        assertEq(address(rollup).balance, GENESIS_VALUE, "escrow backs the genesis balances");
        assertEq(rollup.depositCount(), 0, "no deposit");
        assertEq(rollup.consumedDeposits(), 0, "none consumed");
        assertEq(uint256(rollup.queueHead(0)), 0, "empty queue head");

        logs.recordLogs();
        Rollup other = deploy(GENESIS_VALUE, 7, 16, 2, genesisAccounts);
        RollupVm.Log[] memory entries = logs.getRecordedLogs();
        RollupVm.Log memory genesis = entries[entries.length - 1];
        assertEq(uint256(genesis.topics[0]), uint256(Rollup.Genesis.selector), "Genesis is the last event");
        (bytes32 root, uint64 chainId, uint8 depth, uint8 bits, bytes memory accounts) =
            abi.decode(genesis.data, (bytes32, uint64, uint8, uint8, bytes));
        assertEq(uint256(root), uint256(GENESIS_ROOT), "event root");
        assertEq(chainId, 7, "event chain id");
        assertEq(depth, 16, "event depth");
        assertEq(bits, 2, "event partition bits");
        assertEq(uint256(keccak256(accounts)), uint256(keccak256(genesisAccounts)), "event accounts");
        assertEq(uint256(uint160(genesis.emitter)), uint256(uint160(address(other))), "emitter");
    }

    function test_genesis_rejects_bad_parameters() public {
        vm.expectRevert(Rollup.BadGenesis.selector);
        deploy(0, 1, 32, 4, new bytes(47));
        vm.expectRevert(Rollup.BadGenesis.selector);
        deploy(GENESIS_VALUE, 1, 33, 4, genesisAccounts);
        vm.expectRevert(Rollup.BadGenesis.selector);
        deploy(GENESIS_VALUE, 1, 8, 9, genesisAccounts);
        // The escrow must back the genesis balances exactly: not a wei less or more.
        vm.expectRevert(Rollup.BadGenesis.selector);
        deploy(GENESIS_VALUE - 1, 1, 32, 4, genesisAccounts);
        vm.expectRevert(Rollup.BadGenesis.selector);
        deploy(GENESIS_VALUE + 1 gwei, 1, 32, 4, genesisAccounts);
        vm.expectRevert(Rollup.BadGenesis.selector);
        deploy(1 gwei, 1, 32, 4, "");
        deploy(0, 1, 32, 4, "");
        bytes32 nonCanonical = bytes32(uint256(0xFFFFFFFF00000001) << 64);
        vm.expectRevert(abi.encodeWithSelector(Rollup.NonCanonicalRoot.selector, nonCanonical));
        new Rollup{value: GENESIS_VALUE}(
            verifierDouble, OWNER, OPERATOR, nonCanonical, 1, 32, 4, genesisAccounts, IERC20(address(token))
        );
        vm.expectRevert(Rollup.ZeroAddress.selector);
        new Rollup{value: GENESIS_VALUE}(
            IBatchVerifier(address(0)), OWNER, OPERATOR, GENESIS_ROOT, 1, 32, 4, genesisAccounts, IERC20(address(token))
        );
        vm.expectRevert(Rollup.ZeroAddress.selector);
        new Rollup{value: GENESIS_VALUE}(
            verifierDouble, OWNER, OPERATOR, GENESIS_ROOT, 1, 32, 4, genesisAccounts, IERC20(address(0))
        );
    }

    // ------------------------------------------------------------------ data commitment

    /// @dev Known answers computed independently by contracts/test/known_answers.py (plain
    ///      Python: the compact records expanded list by list to 1056-byte chunks, the data
    ///      chain and the statement with pycryptodome's Keccak-256). The Rust side
    ///      (`rollup_core::batch_data::compact::expand`, `DataCommitment`,
    ///      `BatchStatement::hash`) must pin the same bytes.
    function test_known_answer_v4() public view {
        // Two chunks. Chunk 0: a transfer and an ETH withdrawal unit, a new account (key G),
        // deposits at queue offsets 2 and 0, an ETH withdrawal record; chunk 1: the deposit
        // at offset 1 (test token) and two withdrawal records (token, then ETH).
        bytes memory data = knownAnswerBatch();
        assertEq(data.length, 1 + 2 + 2 * 16 + 48 + 2 * 56 + 32 + 2 + 56 + 2 * 32, "two compact chunks");
        bytes32 commitment = rollup.dataCommitment(data);
        assertEq(uint256(commitment), 0xb3f02395e29490c61969a89563bf9ff3f90d64c57d20e174f85fe4f4fc717265, "commitment");
        assertEq(uint256(commitment), uint256(referenceCommitment(data)), "reference");
        bytes32 statement = rollup.statementHash(GENESIS_ROOT, ROOT_1, commitment, 10, 2);
        assertEq(uint256(statement), 0x8808cd1b6b009ce6f2051789942be1e9d5bafd95dec03e3ee7fdb737009fdc25, "statement");
        uint256[] memory words = rollup.publicInputs(statement);
        assertEq(words.length, 8, "8 words");
        assertEq(words[0], 0x8808cd1b, "first word");
        assertEq(words[7], 0x009fdc25, "last word");
        // One chunk of nothing: keccak256(32 zero bytes || 1056 zero bytes).
        assertEq(
            uint256(rollup.dataCommitment(hex"040000")),
            0x6d9fa425e81b789c60a2a69b0da9bceb0a2912ddafc0d71226d7ed1064a052eb,
            "one empty chunk"
        );
    }

    function testFuzz_commitment_matches_reference(uint8 chunks, uint256 seed) public view {
        bytes memory data = anyBatchData(1 + uint256(chunks) % 6, seed);
        assertEq(uint256(rollup.dataCommitment(data)), uint256(referenceCommitment(data)), "data chain");
    }

    /// @dev Each list is re-zeroed past what the previous chunk wrote, including the
    ///      deposit and withdrawal lists the contract skips while they stay empty.
    function test_lists_written_by_a_chunk_do_not_leak_into_the_next() public view {
        bytes memory data = bytes.concat(
            hex"04",
            chunkData(3, 2, 3, 4, 1),
            chunkData(1, 0, 0, 0, 2),
            chunkData(0, 0, 0, 1, 3),
            chunkData(32, 4, 0, 0, 4),
            chunkData(0, 1, 4, 0, 5),
            chunkData(0, 0, 0, 0, 6)
        );
        assertEq(uint256(rollup.dataCommitment(data)), uint256(referenceCommitment(data)), "data chain");
    }

    function test_malformed_data_is_rejected() public {
        bytes memory proof = new bytes(32);
        for (uint256 length = 0; length < 3; ++length) {
            bytes memory data = new bytes(length);
            if (length > 0) data[0] = 0x04;
            vm.expectRevert(abi.encodeWithSelector(Rollup.BadDataLength.selector, length));
            commitAs(OPERATOR, 1, data, ROOT_1, 0, 0, proof);
        }
        bytes memory v3 = batchData(1, 1);
        v3[0] = 0x03;
        vm.expectRevert(abi.encodeWithSelector(Rollup.UnsupportedDataVersion.selector, uint8(3)));
        commitAs(OPERATOR, 1, v3, ROOT_1, 0, 0, proof);

        bytes memory one = chunkData(2, 1, 0, 0, 5);
        // A whole chunk then one header byte, or two header bytes without their records.
        expectMalformed(bytes.concat(hex"04", one, hex"01"), 1 + one.length);
        expectMalformed(bytes.concat(hex"04", one, hex"0100"), 1 + one.length);
        expectMalformed(bytes.concat(hex"04", one, hex"0001"), 1 + one.length);
        // Records cut short: the header promises more than follows.
        bytes memory short = bytes.concat(hex"04", one);
        assembly ("memory-safe") {
            mstore(short, sub(mload(short), 1))
        }
        expectMalformed(short, 1);
        bytes memory all = bytes.concat(hex"04", chunkData(3, 2, 4, 4, 9));
        for (uint256 cut = 3; cut < all.length; cut += 17) {
            bytes memory truncated = bytes.concat(all);
            assembly ("memory-safe") {
                mstore(truncated, cut)
            }
            expectMalformed(truncated, 1);
        }
        // More new accounts (first header byte 165 and up) or withdrawals (second byte 25
        // and up) than a chunk has slots for.
        expectMalformed(bytes.concat(hex"04", chunkData(0, 5, 0, 0, 5)), 1);
        expectMalformed(bytes.concat(hex"04", one, chunkData(24, 7, 0, 0, 5)), 1 + one.length);
        expectMalformed(bytes.concat(hex"04", chunkData(0, 0, 0, 5, 5)), 1);
        expectMalformed(bytes.concat(hex"04", one, chunkData(1, 1, 4, 6, 5)), 1 + one.length);
        // The largest valid headers: every list full.
        bytes memory full = bytes.concat(hex"04", chunkData(32, 4, 4, 4, 5));
        assertEq(uint8(full[1]), 164, "first header byte");
        assertEq(uint8(full[2]), 24, "second header byte");
        assertEq(uint256(rollup.dataCommitment(full)), uint256(referenceCommitment(full)), "full chunk");
    }

    function expectMalformed(bytes memory data, uint256 offset) internal {
        vm.expectRevert(abi.encodeWithSelector(Rollup.MalformedChunk.selector, offset));
        commitAs(OPERATOR, 1, data, ROOT_1, 0, 0, new bytes(32));
        vm.expectRevert(abi.encodeWithSelector(Rollup.MalformedChunk.selector, offset));
        rollup.dataCommitment(data);
    }

    function test_empty_records_cost_no_calldata_but_are_hashed() public view {
        // A chunk of nothing and the same chunk spelled with zero records in every list are
        // different calldata for the same padded chunk: the same commitment.
        bytes memory empty = hex"040000";
        bytes memory zeroRecords = abi.encodePacked(hex"042206", new bytes(16 + 48 + 56 + 32));
        assertEq(
            uint256(rollup.dataCommitment(empty)), uint256(rollup.dataCommitment(zeroRecords)), "same padded chunk"
        );
        assertEq(
            uint256(rollup.dataCommitment(empty)),
            uint256(keccak256(abi.encodePacked(bytes32(0), new bytes(CHUNK)))),
            "one keccak of the zero link and a zero chunk"
        );
    }

    // ------------------------------------------------------------------ commits

    function test_commit_moves_the_root_and_accrues_fees() public {
        bytes memory data = batchData(2, 1);
        bytes memory proof = proofFor(GENESIS_ROOT, data, ROOT_1, 250, 7);
        logs.recordLogs();
        commitAs(OPERATOR, 1, data, ROOT_1, 250, 7, proof);
        assertEq(uint256(rollup.stateRoot()), uint256(ROOT_1), "root after 1");
        assertEq(rollup.lastVerifiedBatch(), 1, "batch 1");
        assertEq(rollup.pendingBalance(0, OPERATOR), 250 gwei, "ETH fees of 1");
        assertEq(rollup.pendingBalance(1, OPERATOR), 7e9, "token fees of 1");

        RollupVm.Log[] memory entries = logs.getRecordedLogs();
        assertEq(entries.length, 1, "one event");
        assertEq(uint256(entries[0].topics[0]), uint256(Rollup.BatchVerified.selector), "BatchVerified");
        assertEq(uint256(entries[0].topics[1]), 1, "indexed number");
        assertEq(uint256(entries[0].topics[2]), uint256(uint160(OPERATOR)), "indexed operator");
        (
            bytes32 oldRoot,
            bytes32 newRoot,
            bytes32 commitment,
            uint64 ethFees,
            uint64 tokenFees,
            uint64 depositsConsumed
        ) = abi.decode(entries[0].data, (bytes32, bytes32, bytes32, uint64, uint64, uint64));
        assertEq(uint256(oldRoot), uint256(GENESIS_ROOT), "event old root");
        assertEq(uint256(newRoot), uint256(ROOT_1), "event new root");
        assertEq(uint256(commitment), uint256(referenceCommitment(data)), "event commitment");
        assertEq(ethFees, 250, "event ETH fees");
        assertEq(tokenFees, 7, "event token fees");
        assertEq(depositsConsumed, 0, "no deposits");

        bytes memory data2 = batchData(1, 2);
        commitAs(OPERATOR, 2, data2, ROOT_2, 50, 0, proofFor(ROOT_1, data2, ROOT_2, 50, 0));
        assertEq(uint256(rollup.stateRoot()), uint256(ROOT_2), "root after 2");
        assertEq(rollup.lastVerifiedBatch(), 2, "batch 2");
        assertEq(rollup.pendingBalance(0, OPERATOR), 300 gwei, "fees accrue");
        assertEq(rollup.pendingBalance(1, OPERATOR), 7e9, "no token fees in 2");
    }

    function test_batches_out_of_order_are_rejected() public {
        bytes memory data = batchData(1, 1);
        bytes memory proof = proofFor(GENESIS_ROOT, data, ROOT_1, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(Rollup.UnexpectedBatchNumber.selector, uint64(1), uint64(2)));
        commitAs(OPERATOR, 2, data, ROOT_1, 0, 0, proof);
        vm.expectRevert(abi.encodeWithSelector(Rollup.UnexpectedBatchNumber.selector, uint64(1), uint64(0)));
        commitAs(OPERATOR, 0, data, ROOT_1, 0, 0, proof);

        commitAs(OPERATOR, 1, data, ROOT_1, 0, 0, proof);
        // The same batch again (a double post after a lost receipt) is refused.
        vm.expectRevert(abi.encodeWithSelector(Rollup.UnexpectedBatchNumber.selector, uint64(2), uint64(1)));
        commitAs(OPERATOR, 1, data, ROOT_1, 0, 0, proof);
        assertEq(rollup.lastVerifiedBatch(), 1, "still 1");
    }

    function test_tampered_calldata_fails_the_statement() public {
        bytes memory data = fullBatchData(3, 7);
        bytes memory proof = proofFor(GENESIS_ROOT, data, ROOT_1, 10, 3);
        // One flipped bit in any record of any chunk changes the data chain, hence the
        // statement.
        uint256[3] memory positions = [uint256(3), 2 + 704 + 100, data.length - 1];
        for (uint256 i = 0; i < positions.length; ++i) {
            bytes memory tampered = bytes.concat(data);
            tampered[positions[i]] = tampered[positions[i]] ^ 0x01;
            bytes32 statement = rollup.statementHash(GENESIS_ROOT, ROOT_1, referenceCommitment(tampered), 10, 3);
            vm.expectRevert(abi.encodeWithSelector(Rollup.InvalidProof.selector, statement));
            commitAs(OPERATOR, 1, tampered, ROOT_1, 10, 3, proof);
        }
        // Dropping the last chunk is tampering too.
        bytes memory truncated = fullBatchData(2, 7);
        vm.expectRevert();
        commitAs(OPERATOR, 1, truncated, ROOT_1, 10, 3, proof);
        // Claiming other fees (of either token) or another root than proven.
        vm.expectRevert();
        commitAs(OPERATOR, 1, data, ROOT_1, 11, 3, proof);
        vm.expectRevert();
        commitAs(OPERATOR, 1, data, ROOT_1, 10, 4, proof);
        vm.expectRevert();
        commitAs(OPERATOR, 1, data, ROOT_1, 3, 10, proof);
        vm.expectRevert();
        commitAs(OPERATOR, 1, data, ROOT_2, 10, 3, proof);
        assertEq(rollup.lastVerifiedBatch(), 0, "nothing moved");
        assertEq(uint256(rollup.stateRoot()), uint256(GENESIS_ROOT), "root unchanged");
    }

    function test_proof_from_another_old_root_is_rejected() public {
        bytes memory data = batchData(1, 1);
        // A valid proof of a transition from ROOT_2, not from the stored genesis root.
        bytes memory proof = proofFor(ROOT_2, data, ROOT_1, 0, 0);
        bytes32 statement = rollup.statementHash(GENESIS_ROOT, ROOT_1, referenceCommitment(data), 0, 0);
        vm.expectRevert(abi.encodeWithSelector(Rollup.InvalidProof.selector, statement));
        commitAs(OPERATOR, 1, data, ROOT_1, 0, 0, proof);

        // After batch 1, a proof of batch 2 built on the genesis root is stale.
        commitAs(OPERATOR, 1, data, ROOT_1, 0, 0, proofFor(GENESIS_ROOT, data, ROOT_1, 0, 0));
        bytes memory data2 = batchData(1, 2);
        vm.expectRevert();
        commitAs(OPERATOR, 2, data2, ROOT_2, 0, 0, proofFor(GENESIS_ROOT, data2, ROOT_2, 0, 0));
    }

    function test_only_operators_commit_and_only_the_owner_manages_roles() public {
        bytes memory data = batchData(1, 1);
        bytes memory proof = proofFor(GENESIS_ROOT, data, ROOT_1, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(Rollup.Unauthorized.selector, STRANGER));
        commitAs(STRANGER, 1, data, ROOT_1, 0, 0, proof);

        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(Rollup.Unauthorized.selector, STRANGER));
        rollup.setOperator(STRANGER, true);

        vm.prank(OWNER);
        rollup.setOperator(STRANGER, true);
        commitAs(STRANGER, 1, data, ROOT_1, 0, 0, proof);

        vm.prank(OWNER);
        rollup.setOperator(OPERATOR, false);
        bytes memory data2 = batchData(1, 2);
        bytes memory proof2 = proofFor(ROOT_1, data2, ROOT_2, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(Rollup.Unauthorized.selector, OPERATOR));
        commitAs(OPERATOR, 2, data2, ROOT_2, 0, 0, proof2);

        vm.prank(OWNER);
        rollup.transferOwnership(STRANGER);
        vm.prank(OWNER);
        vm.expectRevert(abi.encodeWithSelector(Rollup.Unauthorized.selector, OWNER));
        rollup.setOperator(OPERATOR, true);
    }

    // ------------------------------------------------------------------ gas

    /// @dev Gas of `commitBatch` with the double verifier (no real verification) at several
    ///      batch sizes, each a steady-state batch (batch 2: the fee balances already
    ///      nonzero). The logged figure is measured around the call, so it includes this
    ///      contract's encoding of the call; `forge test --isolate --gas-report --match-test
    ///      test_gas_` gives the transactions' own gas (intrinsic and calldata cost included).
    function gasOfBatch(uint256 chunks) internal {
        bytes memory first = batchData(1, 0);
        commitAs(OPERATOR, 1, first, ROOT_1, 1, 1, proofFor(GENESIS_ROOT, first, ROOT_1, 1, 1));
        bytes memory data = fullBatchData(chunks, chunks);
        bytes memory proof = abi.encodePacked(rollup.statementHash(ROOT_1, ROOT_2, rollup.dataCommitment(data), 1, 1));
        // Every slot cold again, as in a transaction of its own.
        logs.cool(address(rollup));
        vm.prank(OPERATOR);
        uint256 before = gasleft();
        rollup.commitBatch(2, data, ROOT_2, 1, 1, proof);
        uint256 used = before - gasleft();
        log(string.concat("commitBatch gas around the call, chunks = ", decimal(chunks)), used);
        assertEq(rollup.lastVerifiedBatch(), 2, "committed");
    }

    function test_gas_1_chunk() public {
        gasOfBatch(1);
    }

    function test_gas_16_chunks() public {
        gasOfBatch(16);
    }

    function test_gas_64_chunks() public {
        gasOfBatch(64);
    }

    function test_gas_256_chunks() public {
        gasOfBatch(256);
    }

    /// @dev The data chain alone on the sparse shape of a 64-transfer batch over 16
    ///      partitions: 16 chunks of 4 unit records each (every touched partition posts a
    ///      chunk, and L1 hashes each whole).
    function test_gas_data_chain_16_sparse_chunks() public {
        bytes memory data = hex"04";
        for (uint256 i = 0; i < 16; ++i) {
            data = bytes.concat(data, chunkData(4, 0, 0, 0, i));
        }
        bytes memory one = bytes.concat(hex"04", chunkData(4, 0, 0, 0, 99));
        rollup.dataCommitment(one); // the Rollup's account warm for both calls below
        uint256 before = gasleft();
        rollup.dataCommitment(one);
        uint256 single = before - gasleft();
        before = gasleft();
        rollup.dataCommitment(data);
        uint256 sixteen = before - gasleft();
        log("dataCommitment gas around the call, 1 sparse chunk", single);
        log("dataCommitment gas per further sparse chunk", (sixteen - single) / 15);
    }
}

/// @notice The Rollup wired to the real generated verifier (contracts/test/data/verifier,
///         generated by Rust). NEEDS THE REGENERATED FIXTURE for any positive end-to-end
///         commit: a wrapper proof of a batch's own statement (v4 data, two fee totals)
///         together with that batch's genesis and calldata. Until the fixture carries them,
///         this checks the real verifier's side of the binding: a genuine wrapper proof of
///         another statement does not move the root (true for the old fixture too).
contract RollupRealVerifierTest is TestBase {
    RollupVm internal constant files = RollupVm(address(uint160(uint256(keccak256("hevm cheat code")))));
    address internal constant OPERATOR = address(0x0B0B);
    bytes32 internal constant GENESIS_ROOT = 0x0000000000000001000000000000000200000000000000030000000000000004;

    Rollup internal rollup;

    function setUp() public {
        Plonky2Verifier verifier = new Plonky2Verifier(IWrapperGateEvaluator(address(new WrapperGateEvaluator())));
        rollup = new Rollup(
            IBatchVerifier(address(verifier)),
            OPERATOR,
            OPERATOR,
            GENESIS_ROOT,
            31337,
            32,
            4,
            "",
            IERC20(address(new TestToken()))
        );
    }

    function test_a_real_proof_of_another_statement_is_rejected() public {
        bytes memory proof = files.readFileBinary("test/data/verifier/wrapper_proof.bin");
        bytes memory data = hex"040000";
        vm.prank(OPERATOR);
        vm.expectRevert();
        rollup.commitBatch(1, data, GENESIS_ROOT, 0, 0, proof);
        assertEq(rollup.lastVerifiedBatch(), 0, "nothing verified");
        assertEq(uint256(rollup.stateRoot()), uint256(GENESIS_ROOT), "root unchanged");
    }
}
