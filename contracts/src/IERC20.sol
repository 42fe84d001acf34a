// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title What the Rollup needs from the escrowed ERC-20 (the test token, L2 token 1)
interface IERC20 {
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
    function balanceOf(address account) external view returns (uint256);
}
