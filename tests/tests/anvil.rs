//! Anvil (the pinned npm binary) runs on loopback and answers through alloy, with the
//! EIP-7825 per-transaction gas cap enforced as every L1 test needs.

use alloy::{
    network::TransactionBuilder,
    primitives::U256,
    providers::{Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
    signers::local::PrivateKeySigner,
};
use integration_tests::spawn_anvil;

/// EIP-7825's cap on one transaction's gas.
const TX_GAS_CAP: u64 = 1 << 24;

#[tokio::test]
async fn anvil_reports_the_chain_id_it_was_started_with() {
    let anvil = spawn_anvil(4242).expect("anvil starts (run `make test` to install it)");
    let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url());
    assert_eq!(provider.get_chain_id().await.unwrap(), 4242);
}

#[tokio::test]
async fn transactions_above_the_eip7825_gas_cap_are_refused() {
    let anvil = spawn_anvil(31337).unwrap();
    let signer: PrivateKeySigner = anvil.keys()[0].clone().into();
    let provider = ProviderBuilder::new()
        .wallet(signer)
        .connect_http(anvil.endpoint_url());
    let to = anvil.addresses()[1];
    let transfer = || {
        TransactionRequest::default()
            .with_to(to)
            .with_value(U256::from(1u64))
    };

    let within = provider
        .send_transaction(transfer().with_gas_limit(TX_GAS_CAP))
        .await;
    let receipt = within
        .expect("a transaction at the cap is accepted")
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status());

    let above = provider
        .send_transaction(transfer().with_gas_limit(TX_GAS_CAP + 1))
        .await;
    let error = above
        .expect_err("a transaction above the cap was accepted")
        .to_string();
    assert!(
        error.contains("tx_gas_limit_cap"),
        "refused for another reason: {error}"
    );
    eprintln!("refused as expected: {error}");
}
