// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice The few forge cheatcodes the tests use, declared here so the tests need no
///         library download (the project builds offline).
interface Vm {
    function expectRevert(bytes calldata revertData) external;
    function expectRevert(bytes4 selector) external;
    function expectRevert() external;
    function deal(address account, uint256 newBalance) external;
    function prank(address sender) external;
}

/// @notice Base of the forge tests: the cheatcode handle and equality assertions that say
///         what differed.
abstract contract TestBase {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    error NotEqual(string what, uint256 left, uint256 right);

    function assertEq(uint256 left, uint256 right, string memory what) internal pure {
        if (left != right) revert NotEqual(what, left, right);
    }
}
