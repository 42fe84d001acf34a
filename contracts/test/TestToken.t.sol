// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TestToken} from "../src/TestToken.sol";
import {TestBase} from "./utils/Cheats.sol";

contract TestTokenTest is TestBase {
    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);

    TestToken internal token = new TestToken();

    function test_metadata() public view {
        assertEq(uint256(keccak256(bytes(token.name()))), uint256(keccak256("Rollup Test Token")), "name");
        assertEq(uint256(keccak256(bytes(token.symbol()))), uint256(keccak256("RTT")), "symbol");
        assertEq(token.decimals(), 18, "decimals");
    }

    function test_anyone_mints_up_to_the_cap() public {
        vm.prank(BOB);
        token.mint(ALICE, 5e18);
        assertEq(token.balanceOf(ALICE), 5e18, "minted");
        assertEq(token.totalSupply(), 5e18, "supply");
        // The cap: (2^64 - 1) L2 units of 1e9, so every L2 balance of the token fits a u64.
        uint256 room = token.MAX_SUPPLY() - 5e18;
        vm.expectRevert(TestToken.SupplyCapExceeded.selector);
        token.mint(BOB, room + 1);
        token.mint(BOB, room);
        assertEq(token.totalSupply(), uint256(type(uint64).max) * 1e9, "at the cap");
        vm.expectRevert(TestToken.ZeroAddress.selector);
        token.mint(address(0), 0);
    }

    function test_transfers_and_allowances() public {
        token.mint(ALICE, 100);
        vm.prank(ALICE);
        assertEq(token.transfer(BOB, 30) ? 1 : 0, 1, "transfer returns true");
        assertEq(token.balanceOf(ALICE), 70, "sender");
        assertEq(token.balanceOf(BOB), 30, "recipient");
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(TestToken.InsufficientBalance.selector, 70, 71));
        assertEq(token.transfer(BOB, 71) ? 1 : 0, 0, "reverts");

        vm.prank(BOB);
        vm.expectRevert(abi.encodeWithSelector(TestToken.InsufficientAllowance.selector, 0, 1));
        assertEq(token.transferFrom(ALICE, BOB, 1) ? 1 : 0, 0, "reverts");
        vm.prank(ALICE);
        token.approve(BOB, 50);
        vm.prank(BOB);
        assertEq(token.transferFrom(ALICE, BOB, 20) ? 1 : 0, 1, "transferFrom returns true");
        assertEq(token.allowance(ALICE, BOB), 30, "allowance spent");
        // An unlimited allowance is never spent.
        vm.prank(ALICE);
        token.approve(BOB, type(uint256).max);
        vm.prank(BOB);
        assertEq(token.transferFrom(ALICE, BOB, 50) ? 1 : 0, 1, "unlimited transferFrom");
        assertEq(token.allowance(ALICE, BOB), type(uint256).max, "unlimited");
        assertEq(token.balanceOf(BOB), 100, "all moved");
        vm.prank(BOB);
        vm.expectRevert(TestToken.ZeroAddress.selector);
        assertEq(token.transfer(address(0), 1) ? 1 : 0, 0, "reverts");
    }
}
