// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Rollup} from "../src/Rollup.sol";
import {IBatchVerifier} from "../src/IBatchVerifier.sol";
import {IERC20} from "../src/IERC20.sol";
import {TestToken} from "../src/TestToken.sol";
import {AcceptingVerifier} from "./utils/AcceptingVerifier.sol";
import {TestBase} from "./utils/Cheats.sol";
import {BatchDataHelpers, RollupVm, StatementBoundVerifierDouble} from "./Rollup.t.sol";

/// @dev A recipient whose ETH payouts fail (it rejects plain transfers).
contract RejectingRecipient {
    function claim(Rollup rollup, uint8 token) external {
        rollup.claim(token);
    }

    receive() external payable {
        revert("no ETH");
    }
}

/// @notice Deposits, the deposit queue's consumption by batches, withdrawals and claims.
///         Every batch here is committed through `AcceptingVerifier` (accepts any proof),
///         so each rejection below comes from the Rollup's own checks, not from a proof;
///         the known-answer flow uses the statement-bound double to also pin the statement.
contract RollupBridgeTest is TestBase, BatchDataHelpers {
    RollupVm internal constant cheats = RollupVm(address(uint160(uint256(keccak256("hevm cheat code")))));
    address internal constant CONSOLE = 0x000000000000000000636F6e736F6c652e6c6f67;

    address internal constant OWNER = address(0xA11CE);
    address internal constant OPERATOR = address(0x0B0B);
    address internal constant USER = address(0x05E5);
    address internal constant R1 = 0x00112233445566778899AABbCCdDeeFf00112233;
    address internal constant R2 = 0x1111111111111111111111111111111111111111;
    bytes32 internal constant GENESIS_ROOT = 0x0000000000000001000000000000000200000000000000030000000000000004;
    bytes32 internal constant ROOT_1 = 0xffffffff00000000000000000000000000000000000000000000000000000007;
    uint256 internal constant GENESIS_VALUE = 1_000_005 gwei;

    /// @dev Valid keys (known_answers.py "valid" lines): Pornin's reference points W1, W2
    ///      of core/src/ecgfp5/curve.rs and the generator G (w = 4).
    bytes internal constant W1 = hex"599deb76146104ae660d2722c8d670d700a6e2bfa4af71d1d30bba141eed309e17f8d0f7b7061498";
    bytes internal constant W2 = hex"b80dce0616c1ae98729d0cec0f34f7ec961f3ad01e35b1365bd6f6f481ed69d02fce8f992f63004d";
    bytes internal constant G = hex"04000000000000000000000000000000000000000000000000000000000000000000000000000000";
    /// @dev curve.rs's first encoding that must not decode (delta is not a square).
    bytes internal constant NOT_ON_CURVE =
        hex"e44b0bc4331927bcbb359652c87774d9dc6f1737312f71762516b2bca4efeeadacdb757780e03146";

    TestToken internal token;
    Rollup internal rollup;
    bytes internal genesisAccounts;

    function setUp() public {
        token = new TestToken();
        genesisAccounts = abi.encodePacked(
            bytes32(uint256(1)), bytes8(0), uint64(1_000_000), bytes32(uint256(2)), bytes8(0), uint64(5)
        );
        rollup = deploy(new AcceptingVerifier());
        vm.deal(USER, 100 ether);
        token.mint(USER, 1_000e18);
        vm.prank(USER);
        token.approve(address(rollup), type(uint256).max);
    }

    // ------------------------------------------------------------------ helpers

    function deploy(IBatchVerifier verifier) internal returns (Rollup) {
        return new Rollup{value: GENESIS_VALUE}(
            verifier, OWNER, OPERATOR, GENESIS_ROOT, 31337, 32, 4, genesisAccounts, IERC20(address(token))
        );
    }

    /// @dev Queues a deposit from USER (token 0: ETH, 1: test token) of `amount` L2 units.
    function queue(uint8 which, bytes memory key, uint64 amount) internal {
        vm.prank(USER);
        if (which == 0) rollup.deposit{value: uint256(amount) * 1 gwei}(key);
        else rollup.depositToken(key, amount);
    }

    /// @dev The queue link, computed here from its definition.
    function link(bytes32 head, uint8 which, bytes memory key, uint64 amount) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(head, which, key, amount));
    }

    /// @dev A deposit record: tag (1: ETH, 3: token) || 0 || offset u16 || index u32 ||
    ///      amount u64 || key.
    function depositRecord(uint16 offset, uint8 which, uint64 amount, bytes memory key)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(uint8(1 | (which << 1)), uint8(0), offset, uint32(7), amount, key);
    }

    /// @dev A withdrawal record: tag || 3 zero bytes || amount u64 || recipient.
    function withdrawalRecord(uint8 which, uint64 amount, address recipient) internal pure returns (bytes memory) {
        return abi.encodePacked(uint8(1 | (which << 1)), bytes3(0), amount, recipient);
    }

    /// @dev A compact chunk of one (arbitrary) unit record and the given deposit and
    ///      withdrawal records (at most 4 of each).
    function chunkWith(bytes memory deposits, bytes memory withdrawals) internal pure returns (bytes memory) {
        uint256 d = deposits.length / 56;
        uint256 w = withdrawals.length / 32;
        // forge-lint: disable-next-line(unsafe-typecast)
        return bytes.concat(bytes1(0x01), bytes1(uint8(d + 5 * w)), randomBytes(16, d + w), deposits, withdrawals);
    }

    function commit(bytes memory data) internal {
        uint64 number = rollup.lastVerifiedBatch() + 1;
        vm.prank(OPERATOR);
        rollup.commitBatch(number, data, ROOT_1, 0, 0, "");
    }

    function expectCommitRevert(bytes memory data, bytes memory reason) internal {
        uint64 number = rollup.lastVerifiedBatch() + 1;
        vm.prank(OPERATOR);
        vm.expectRevert(reason);
        rollup.commitBatch(number, data, ROOT_1, 0, 0, "");
    }

    function log(string memory what, uint256 value) internal view {
        (bool ok,) = CONSOLE.staticcall(abi.encodeWithSignature("log(string,uint256)", what, value));
        ok;
    }

    // ------------------------------------------------------------------ deposits

    /// @dev Queue heads pinned by contracts/test/known_answers.py ("queue head" lines) for
    ///      ETH 1.5e9 gwei to W1, 7 test-token units to W2, ETH 3 gwei to G.
    function test_deposits_queue_with_events_and_escrow() public {
        cheats.recordLogs();
        vm.prank(USER);
        rollup.deposit{value: 1.5 ether}(W1);
        bytes32 head1 = link(0, 0, W1, 1_500_000_000);
        assertEq(uint256(head1), 0x7b7b2923f16e27d39577e3bc735e32b7661763ebf85705e1c0d9af2db1945f89, "head 1");
        assertEq(uint256(rollup.queueHead(1)), uint256(head1), "stored head 1");
        assertEq(rollup.depositCount(), 1, "one deposit");
        assertEq(address(rollup).balance, GENESIS_VALUE + 1.5 ether, "ETH escrowed");

        vm.prank(USER);
        rollup.depositToken(W2, 7);
        bytes32 head2 = link(head1, 1, W2, 7);
        assertEq(uint256(head2), 0x8e75dc6ccd61ceec1d3230b361ceb01a099bcd4d156e83a728e19117440a06a8, "head 2");
        assertEq(uint256(rollup.queueHead(2)), uint256(head2), "stored head 2");
        assertEq(token.balanceOf(address(rollup)), 7e9, "token escrowed");
        assertEq(token.balanceOf(USER), 1_000e18 - 7e9, "token taken from the depositor");

        queue(0, G, 3);
        bytes32 head3 = link(head2, 0, G, 3);
        assertEq(uint256(head3), 0xd68fb960c06d7766c3485f2405c2e294df3bab3a8a7e62b3de3e5fed82a09d93, "head 3");
        assertEq(uint256(rollup.queueHead(3)), uint256(head3), "stored head 3");
        assertEq(rollup.depositCount(), 3, "three deposits");
        assertEq(rollup.consumedDeposits(), 0, "none consumed");
        assertEq(uint256(rollup.queueHead(0)), 0, "head 0");

        RollupVm.Log[] memory entries = cheats.getRecordedLogs();
        RollupVm.Log memory ethDeposit = entries[0];
        assertEq(uint256(ethDeposit.topics[0]), uint256(Rollup.Deposit.selector), "Deposit");
        assertEq(uint256(ethDeposit.topics[1]), 0, "index 0");
        assertEq(uint256(ethDeposit.topics[2]), uint256(uint160(USER)), "sender");
        (uint8 which, bytes memory key, uint64 amount, bytes32 head) =
            abi.decode(ethDeposit.data, (uint8, bytes, uint64, bytes32));
        assertEq(which, 0, "ETH");
        assertEq(uint256(keccak256(key)), uint256(keccak256(W1)), "key");
        assertEq(amount, 1_500_000_000, "amount in gwei");
        assertEq(uint256(head), uint256(head1), "event head");
        // The token deposit: the token's Transfer comes after the Deposit event (effects,
        // then the interaction).
        RollupVm.Log memory tokenDeposit = entries[1];
        assertEq(uint256(tokenDeposit.topics[0]), uint256(Rollup.Deposit.selector), "Deposit 2");
        assertEq(uint256(tokenDeposit.topics[1]), 1, "index 1");
        (which, key, amount, head) = abi.decode(tokenDeposit.data, (uint8, bytes, uint64, bytes32));
        assertEq(which, 1, "token");
        assertEq(amount, 7, "token amount");
        assertEq(uint256(head), uint256(head2), "event head 2");
        assertEq(uint256(uint160(entries[2].emitter)), uint256(uint160(address(token))), "then the Transfer");
    }

    function test_invalid_deposits_are_rejected() public {
        cheats.startPrank(USER);
        // Amounts: nothing, less than a gwei, not a whole number of gwei, over a u64.
        uint256[4] memory values = [uint256(0), 1, 1 gwei + 1, 1.5 gwei];
        for (uint256 i = 0; i < values.length; ++i) {
            vm.expectRevert(Rollup.InvalidAmount.selector);
            rollup.deposit{value: values[i]}(W1);
        }
        uint256 huge = (uint256(type(uint64).max) + 1) * 1 gwei;
        vm.deal(USER, huge);
        vm.expectRevert(Rollup.InvalidAmount.selector);
        rollup.deposit{value: huge}(W1);
        vm.expectRevert(Rollup.InvalidAmount.selector);
        rollup.depositToken(W1, 0);

        // Keys: wrong length, a non-canonical word, the neutral w = 0, delta not a square.
        bytes[5] memory badKeys = [
            bytes.concat(W1, hex"00"),
            hex"599deb76146104ae660d2722c8d670d700a6e2bfa4af71d1d30bba141eed309e17f8d0f7b70614",
            // G with its first word p + 4: reduced mod p it would be G.
            hex"05000000ffffffff000000000000000000000000000000000000000000000000000000000000000000",
            new bytes(40),
            NOT_ON_CURVE
        ];
        badKeys[2] = hex"05000000ffffffff00000000000000000000000000000000000000000000000000000000000000";
        for (uint256 i = 0; i < badKeys.length; ++i) {
            vm.expectRevert(Rollup.InvalidKey.selector);
            rollup.deposit{value: 1 gwei}(badKeys[i]);
            vm.expectRevert(Rollup.InvalidKey.selector);
            rollup.depositToken(badKeys[i], 1);
        }
        cheats.stopPrank();

        // A token deposit without allowance or balance fails in the token.
        address poor = address(0x9009);
        vm.prank(poor);
        vm.expectRevert(Rollup.TokenTransferFailed.selector);
        rollup.depositToken(W1, 1);

        assertEq(rollup.depositCount(), 0, "nothing queued");
        assertEq(address(rollup).balance, GENESIS_VALUE, "no ETH kept");
        assertEq(token.balanceOf(address(rollup)), 0, "no token kept");
    }

    // ------------------------------------------------------------------ consuming deposits

    /// @dev The known-answer batch of Rollup.t.sol (known_answers.py) end to end, through
    ///      the statement-bound double: its deposit records sit at offsets 2, 0 (chunk 0)
    ///      and 1 (chunk 1), not in queue order, and its three withdrawal records and fees
    ///      are credited, then claimed.
    function test_known_answer_batch_consumes_deposits_and_pays_withdrawals() public {
        rollup = deploy(new StatementBoundVerifierDouble());
        vm.prank(USER);
        token.approve(address(rollup), type(uint256).max);
        queue(0, W1, 1_500_000_000);
        queue(1, W2, 7);
        queue(0, G, 3);

        cheats.recordLogs();
        vm.prank(OPERATOR);
        rollup.commitBatch(
            1,
            knownAnswerBatch(),
            ROOT_1,
            10,
            2,
            abi.encodePacked(bytes32(0x8808cd1b6b009ce6f2051789942be1e9d5bafd95dec03e3ee7fdb737009fdc25))
        );
        assertEq(rollup.consumedDeposits(), 3, "all three consumed");
        assertEq(rollup.pendingBalance(0, R1), 10 gwei, "R1's ETH");
        assertEq(rollup.pendingBalance(1, R2), 5e9, "R2's token");
        assertEq(rollup.pendingBalance(0, R2), 1 gwei, "R2's ETH");
        assertEq(rollup.pendingBalance(0, OPERATOR), 10 gwei, "ETH fees");
        assertEq(rollup.pendingBalance(1, OPERATOR), 2e9, "token fees");

        RollupVm.Log[] memory entries = cheats.getRecordedLogs();
        assertEq(entries.length, 4, "BatchVerified and three credits");
        assertEq(uint256(entries[0].topics[0]), uint256(Rollup.BatchVerified.selector), "BatchVerified first");
        (,,,,, uint64 depositsConsumed) =
            abi.decode(entries[0].data, (bytes32, bytes32, bytes32, uint64, uint64, uint64));
        assertEq(depositsConsumed, 3, "event deposit count");
        address[3] memory recipients = [R1, R2, R2];
        uint8[3] memory tokens = [0, 1, 0];
        uint64[3] memory amounts = [uint64(10), 5, 1];
        for (uint256 i = 0; i < 3; ++i) {
            RollupVm.Log memory credit = entries[1 + i];
            assertEq(uint256(credit.topics[0]), uint256(Rollup.WithdrawalCredited.selector), "WithdrawalCredited");
            assertEq(uint256(credit.topics[1]), 1, "batch");
            assertEq(uint256(credit.topics[2]), uint256(uint160(recipients[i])), "recipient");
            (uint8 which, uint64 amount) = abi.decode(credit.data, (uint8, uint64));
            assertEq(which, tokens[i], "token");
            assertEq(amount, amounts[i], "amount");
        }

        // Claims move the escrow out; a second claim is the L1 double-withdrawal rejection.
        uint256 escrow = address(rollup).balance;
        vm.prank(R1);
        rollup.claim(0);
        assertEq(R1.balance, 10 gwei, "R1 paid");
        vm.prank(R2);
        rollup.claim(1);
        assertEq(token.balanceOf(R2), 5e9, "R2 paid in token");
        vm.prank(R2);
        rollup.claim(0);
        cheats.startPrank(OPERATOR);
        rollup.claim(0);
        rollup.claim(1);
        cheats.stopPrank();
        assertEq(address(rollup).balance, escrow - 21 gwei, "ETH paid out");
        assertEq(token.balanceOf(address(rollup)), 0, "token escrow: 7 in, 5 + 2 out");
        assertEq(token.balanceOf(OPERATOR), 2e9, "operator's token fees");
        vm.prank(R1);
        vm.expectRevert(Rollup.NothingToClaim.selector);
        rollup.claim(0);
        vm.prank(R2);
        vm.expectRevert(Rollup.NothingToClaim.selector);
        rollup.claim(1);
        // The same batch cannot be committed again.
        vm.prank(OPERATOR);
        vm.expectRevert(abi.encodeWithSelector(Rollup.UnexpectedBatchNumber.selector, uint64(2), uint64(1)));
        rollup.commitBatch(1, knownAnswerBatch(), ROOT_1, 10, 2, "");
    }

    function test_the_queue_is_consumed_across_batches() public {
        queue(0, W1, 1);
        queue(1, W2, 2);
        queue(0, G, 3);
        // Batch 1: the first two, offset 1 before offset 0 in the calldata.
        commit(
            bytes.concat(hex"04", chunkWith(bytes.concat(depositRecord(1, 1, 2, W2), depositRecord(0, 0, 1, W1)), ""))
        );
        assertEq(rollup.consumedDeposits(), 2, "two consumed");
        // Batch 2: no deposits leaves the queue alone.
        commit(bytes.concat(hex"04", chunkWith("", "")));
        assertEq(rollup.consumedDeposits(), 2, "still two");
        // Batch 3: the third deposit is offset 0 of its segment.
        commit(bytes.concat(hex"04", chunkWith(depositRecord(0, 0, 3, G), "")));
        assertEq(rollup.consumedDeposits(), 3, "all consumed");
        // Nothing left to consume.
        expectCommitRevert(
            bytes.concat(hex"04", chunkWith(depositRecord(0, 0, 3, G), "")),
            abi.encodeWithSelector(Rollup.DepositsNotQueued.selector, 1)
        );
    }

    function test_a_batch_cannot_skip_reorder_or_invent_deposits() public {
        queue(0, W1, 1);
        queue(0, W2, 2);
        bytes32 head1 = rollup.queueHead(1);
        bytes32 head2 = rollup.queueHead(2);
        // Deposit 1 without deposit 0: its record at offset 0 chains to another head.
        expectCommitRevert(
            bytes.concat(hex"04", chunkWith(depositRecord(0, 0, 2, W2), "")),
            abi.encodeWithSelector(Rollup.DepositMismatch.selector, head1, link(0, 0, W2, 2))
        );
        // Both, in the wrong queue order.
        expectCommitRevert(
            bytes.concat(hex"04", chunkWith(bytes.concat(depositRecord(0, 0, 2, W2), depositRecord(1, 0, 1, W1)), "")),
            abi.encodeWithSelector(Rollup.DepositMismatch.selector, head2, link(link(0, 0, W2, 2), 0, W1, 1))
        );
        // A deposit nobody made, in place of deposit 0.
        expectCommitRevert(
            bytes.concat(hex"04", chunkWith(depositRecord(0, 0, 1, G), "")),
            abi.encodeWithSelector(Rollup.DepositMismatch.selector, head1, link(0, 0, G, 1))
        );
        // More deposits than are queued.
        expectCommitRevert(
            bytes.concat(
                hex"04",
                chunkWith(
                    bytes.concat(depositRecord(0, 0, 1, W1), depositRecord(1, 0, 2, W2), depositRecord(2, 0, 2, W2)), ""
                )
            ),
            abi.encodeWithSelector(Rollup.DepositsNotQueued.selector, 3)
        );
        assertEq(rollup.consumedDeposits(), 0, "nothing consumed");
        assertEq(rollup.lastVerifiedBatch(), 0, "nothing committed");
        // The honest batch goes through.
        commit(
            bytes.concat(hex"04", chunkWith(bytes.concat(depositRecord(0, 0, 1, W1), depositRecord(1, 0, 2, W2)), ""))
        );
        assertEq(rollup.consumedDeposits(), 2, "both consumed");
    }

    function test_an_empty_queue_has_nothing_to_consume() public {
        expectCommitRevert(
            bytes.concat(hex"04", chunkWith(depositRecord(0, 0, 1, W1), "")),
            abi.encodeWithSelector(Rollup.DepositsNotQueued.selector, 1)
        );
    }

    function test_deposit_offsets_must_be_0_to_k_minus_1_once_each() public {
        queue(0, W1, 1);
        queue(0, W2, 2);
        queue(0, G, 3);
        // The same offset twice.
        expectCommitRevert(
            bytes.concat(hex"04", chunkWith(bytes.concat(depositRecord(0, 0, 1, W1), depositRecord(0, 0, 1, W1)), "")),
            abi.encodeWithSelector(Rollup.BadDepositOffset.selector, 0)
        );
        // Twice across chunks.
        expectCommitRevert(
            bytes.concat(hex"04", chunkWith(depositRecord(0, 0, 1, W1), ""), chunkWith(depositRecord(0, 0, 1, W1), "")),
            abi.encodeWithSelector(Rollup.BadDepositOffset.selector, 0)
        );
        // A gap: offsets 0 and 2 of two records.
        expectCommitRevert(
            bytes.concat(hex"04", chunkWith(bytes.concat(depositRecord(0, 0, 1, W1), depositRecord(2, 0, 3, G)), "")),
            abi.encodeWithSelector(Rollup.BadDepositOffset.selector, 2)
        );
        // Past the per-batch cap, and the largest u16.
        uint16[2] memory far = [uint16(1024), type(uint16).max];
        for (uint256 i = 0; i < far.length; ++i) {
            expectCommitRevert(
                bytes.concat(hex"04", chunkWith(depositRecord(far[i], 0, 1, W1), "")),
                abi.encodeWithSelector(Rollup.BadDepositOffset.selector, far[i])
            );
        }
    }

    function test_tampered_deposit_records_are_rejected() public {
        queue(1, W1, 5);
        bytes32 head = rollup.queueHead(1);
        // Another amount, key or token than deposited.
        bytes[3] memory tampered = [depositRecord(0, 1, 6, W1), depositRecord(0, 1, 5, W2), depositRecord(0, 0, 5, W1)];
        bytes32[3] memory computed = [link(0, 1, W1, 6), link(0, 1, W2, 5), link(0, 0, W1, 5)];
        for (uint256 i = 0; i < 3; ++i) {
            expectCommitRevert(
                bytes.concat(hex"04", chunkWith(tampered[i], "")),
                abi.encodeWithSelector(Rollup.DepositMismatch.selector, head, computed[i])
            );
        }
        commit(bytes.concat(hex"04", chunkWith(depositRecord(0, 1, 5, W1), "")));
        assertEq(rollup.consumedDeposits(), 1, "the true record passes");
    }

    function testFuzz_deposits_in_any_calldata_order(uint256 seed) public {
        uint256 count = 1 + seed % 12;
        bytes[3] memory keys = [W1, W2, G];
        bytes[] memory records = new bytes[](count);
        for (uint256 i = 0; i < count; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            // forge-lint: disable-next-line(unsafe-typecast)
            uint8 which = uint8(r & 1);
            uint64 amount = uint64(1 + (r >> 8) % 1e9);
            queue(which, keys[(r >> 1) % 3], amount);
            // forge-lint: disable-next-line(unsafe-typecast)
            records[i] = depositRecord(uint16(i), which, amount, keys[(r >> 1) % 3]);
        }
        // Shuffle, then cut into chunks of 1 to 4 records.
        for (uint256 i = count - 1; i > 0; --i) {
            uint256 j = uint256(keccak256(abi.encode(seed, "shuffle", i))) % (i + 1);
            (records[i], records[j]) = (records[j], records[i]);
        }
        bytes memory data = hex"04";
        uint256 at = 0;
        while (at < count) {
            uint256 take = 1 + uint256(keccak256(abi.encode(seed, "cut", at))) % 4;
            if (take > count - at) take = count - at;
            bytes memory deposits;
            for (uint256 j = 0; j < take; ++j) {
                deposits = bytes.concat(deposits, records[at + j]);
            }
            data = bytes.concat(data, chunkWith(deposits, ""));
            at += take;
        }
        commit(data);
        assertEq(rollup.consumedDeposits(), count, "all consumed");
    }

    function test_record_tags_must_name_a_token() public {
        queue(0, W1, 1);
        // Data offset of the first deposit or withdrawal record of a chunkWith chunk:
        // version, header, one unit record.
        uint256 first = 1 + 2 + 16;
        uint8[4] memory badTags = [2, 5, 7, 0xff];
        for (uint256 i = 0; i < badTags.length; ++i) {
            bytes memory deposit = depositRecord(0, 0, 1, W1);
            deposit[0] = bytes1(badTags[i]);
            expectCommitRevert(
                bytes.concat(hex"04", chunkWith(deposit, "")),
                abi.encodeWithSelector(Rollup.BadRecordTag.selector, first)
            );
            bytes memory withdrawal = withdrawalRecord(0, 1, R1);
            withdrawal[0] = bytes1(badTags[i]);
            expectCommitRevert(
                bytes.concat(hex"04", chunkWith("", bytes.concat(withdrawalRecord(0, 1, R1), withdrawal))),
                abi.encodeWithSelector(Rollup.BadRecordTag.selector, first + 32)
            );
        }
        // A zero record posted among them is an empty slot: skipped, as in the padded chunk.
        commit(bytes.concat(hex"04", chunkWith(depositRecord(0, 0, 1, W1), new bytes(32))));
        assertEq(rollup.consumedDeposits(), 1, "the deposit");
        assertEq(rollup.pendingBalance(0, address(0)), 0, "nothing credited for the empty record");
    }

    // ------------------------------------------------------------------ withdrawals and claims

    function test_withdrawals_are_credited_only_by_a_verified_batch() public {
        rollup = deploy(new StatementBoundVerifierDouble());
        bytes memory data = bytes.concat(hex"04", chunkWith("", withdrawalRecord(0, 4, R1)));
        vm.prank(OPERATOR);
        vm.expectRevert();
        rollup.commitBatch(1, data, ROOT_1, 0, 0, abi.encodePacked(bytes32(uint256(1))));
        assertEq(rollup.pendingBalance(0, R1), 0, "no credit without a proof");
        vm.prank(OPERATOR);
        rollup.commitBatch(1, data, ROOT_1, 0, 0, proofFor(GENESIS_ROOT, data, ROOT_1, 0, 0));
        assertEq(rollup.pendingBalance(0, R1), 4 gwei, "credited once verified");
    }

    function test_withdrawals_accumulate_and_claims_pay_once() public {
        queue(1, W1, 50);
        commit(
            bytes.concat(
                hex"04",
                chunkWith(
                    depositRecord(0, 1, 50, W1),
                    bytes.concat(withdrawalRecord(0, 3, R1), withdrawalRecord(1, 20, R1), withdrawalRecord(0, 4, R1))
                ),
                chunkWith("", withdrawalRecord(1, 5, R1))
            )
        );
        assertEq(rollup.pendingBalance(0, R1), 7 gwei, "two ETH withdrawals add up");
        assertEq(rollup.pendingBalance(1, R1), 25e9, "two token withdrawals add up");

        uint256 escrow = address(rollup).balance;
        cheats.recordLogs();
        vm.prank(R1);
        rollup.claim(0);
        RollupVm.Log[] memory entries = cheats.getRecordedLogs();
        assertEq(uint256(entries[0].topics[0]), uint256(Rollup.Claimed.selector), "Claimed");
        assertEq(uint256(entries[0].topics[1]), uint256(uint160(R1)), "recipient");
        (uint8 which, uint256 amount) = abi.decode(entries[0].data, (uint8, uint256));
        assertEq(which, 0, "ETH");
        assertEq(amount, 7 gwei, "amount in wei");
        assertEq(R1.balance, 7 gwei, "paid");
        assertEq(address(rollup).balance, escrow - 7 gwei, "out of the escrow");
        assertEq(rollup.pendingBalance(0, R1), 0, "zeroed");
        vm.prank(R1);
        vm.expectRevert(Rollup.NothingToClaim.selector);
        rollup.claim(0);

        vm.prank(R1);
        rollup.claim(1);
        assertEq(token.balanceOf(R1), 25e9, "token paid");
        assertEq(token.balanceOf(address(rollup)), 25e9, "the rest stays escrowed");
        vm.prank(R1);
        vm.expectRevert(Rollup.NothingToClaim.selector);
        rollup.claim(1);
        // Nobody else has anything, and there is no token 2.
        vm.prank(R2);
        vm.expectRevert(Rollup.NothingToClaim.selector);
        rollup.claim(0);
        vm.prank(R1);
        vm.expectRevert(Rollup.NothingToClaim.selector);
        rollup.claim(2);
    }

    function test_a_failed_payout_keeps_the_balance() public {
        RejectingRecipient recipient = new RejectingRecipient();
        commit(bytes.concat(hex"04", chunkWith("", withdrawalRecord(0, 2, address(recipient)))));
        vm.expectRevert(Rollup.PayoutFailed.selector);
        recipient.claim(rollup, 0);
        assertEq(rollup.pendingBalance(0, address(recipient)), 2 gwei, "still pending");
    }

    // ------------------------------------------------------------------ gas

    /// @dev Gas around the calls (`forge test --isolate --gas-report` gives the
    ///      transactions' own figures): a steady-state deposit of each kind (the count's slot
    ///      already written, a new head slot), and claims of each kind.
    function test_gas_deposit_and_claim() public {
        queue(0, W1, 1);
        queue(1, W1, 1);
        cheats.cool(address(rollup));
        cheats.cool(address(token));
        vm.prank(USER);
        uint256 before = gasleft();
        rollup.deposit{value: 1 gwei}(W2);
        log("deposit() gas around the call", before - gasleft());
        cheats.cool(address(rollup));
        cheats.cool(address(token));
        vm.prank(USER);
        before = gasleft();
        rollup.depositToken(W2, 1);
        log("depositToken() gas around the call", before - gasleft());

        commit(
            bytes.concat(hex"04", chunkWith("", bytes.concat(withdrawalRecord(0, 2, R1), withdrawalRecord(1, 2, R1))))
        );
        cheats.cool(address(rollup));
        cheats.cool(address(token));
        vm.prank(R1);
        before = gasleft();
        rollup.claim(0);
        log("claim(ETH) gas around the call", before - gasleft());
        vm.prank(R1);
        before = gasleft();
        rollup.claim(1);
        log("claim(token) gas around the call", before - gasleft());
    }

    /// @dev commitBatch's gas per deposit record and per withdrawal record: a batch of 16
    ///      chunks with 4 of them each against the same 16 chunks without (the difference
    ///      includes the records' calldata copying, not their intrinsic calldata cost:
    ///      56 and 32 bytes of calldata, 16 gas per non-zero byte).
    function test_gas_per_deposit_and_per_withdrawal() public {
        uint256 chunks = 16;
        bytes[3] memory keys = [W1, W2, G];
        bytes memory withDeposits = hex"04";
        bytes memory withWithdrawals = hex"04";
        bytes memory without = hex"04";
        for (uint256 c = 0; c < chunks; ++c) {
            bytes memory deposits;
            bytes memory withdrawals;
            for (uint256 j = 0; j < 4; ++j) {
                // Below 64: every cast is exact.
                // forge-lint: disable-next-line(unsafe-typecast)
                uint16 i = uint16(4 * c + j);
                queue(0, keys[i % 3], 1 + i);
                deposits = bytes.concat(deposits, depositRecord(i, 0, 1 + i, keys[i % 3]));
                withdrawals = bytes.concat(withdrawals, withdrawalRecord(0, 1, address(uint160(0x1000 + i))));
            }
            withDeposits = bytes.concat(withDeposits, chunkWith(deposits, ""));
            withWithdrawals = bytes.concat(withWithdrawals, chunkWith("", withdrawals));
            without = bytes.concat(without, chunkWith("", ""));
        }
        uint256 base = commitGas(without);
        uint256 deposits_ = commitGas(withDeposits);
        uint256 fresh = commitGas(withWithdrawals);
        // The same recipients again: their balances' slots are no longer zero.
        uint256 again = commitGas(withWithdrawals);
        log("commitBatch gas, 16 chunks, no deposits or withdrawals", base);
        log("commitBatch gas per deposit (64 in 16 chunks)", (deposits_ - base) / 64);
        log("commitBatch gas per withdrawal to a new recipient (64)", (fresh - base) / 64);
        log("commitBatch gas per withdrawal to a recipient with a balance (64)", (again - base) / 64);
        assertEq(rollup.consumedDeposits(), 64, "all consumed");
    }

    function commitGas(bytes memory data) internal returns (uint256 used) {
        cheats.cool(address(rollup));
        uint64 number = rollup.lastVerifiedBatch() + 1;
        vm.prank(OPERATOR);
        uint256 before = gasleft();
        rollup.commitBatch(number, data, ROOT_1, 1, 1, "");
        used = before - gasleft();
    }
}
