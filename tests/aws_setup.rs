//! The shared AWS setup reaches whatever endpoint it is given: moto here, AWS in Lambda.

use harness::Moto;
use promstack::aws::{sdk_config_with, uses_custom_endpoint, AwsSettings};

#[tokio::test(flavor = "multi_thread")]
async fn sdk_config_reaches_the_given_endpoint() {
    let moto = Moto::start();
    // Credentials come from the environment chain as in Lambda; give the chain static ones.
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    let config = sdk_config_with(AwsSettings {
        endpoint_url: Some(moto.endpoint()),
        region: Some("eu-west-1".into()),
        ..Default::default()
    })
    .await;
    assert!(uses_custom_endpoint(&config));
    assert_eq!(config.region().unwrap().as_ref(), "eu-west-1");
    let identity = aws_sdk_sts::Client::new(&config).get_caller_identity().send().await;
    let identity = identity.unwrap_or_else(|e| moto.fail(format!("GetCallerIdentity: {e:?}")));
    // moto's fixed account id: the call really went to moto.
    assert_eq!(identity.account(), Some("123456789012"));
}
