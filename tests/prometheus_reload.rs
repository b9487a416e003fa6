//! The lifecycle client against a real Prometheus: reload, rejected config, lifecycle disabled.

use harness::Prometheus;
use promstack::prometheus::{PrometheusClient, ReloadError};

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn reload_applies_a_good_config_and_reports_a_bad_one() {
    let prom = Prometheus::start("global:\n  scrape_interval: 15s\n");
    let client = PrometheusClient::new(prom.url());

    std::fs::write(prom.config_path(), "global:\n  scrape_interval: 7s\n").unwrap();
    client.reload().await.unwrap();
    let status = client.reload_status().await.unwrap();
    assert!(status.success);
    let config = prom.api("/api/v1/status/config").await;
    assert!(config["yaml"].as_str().unwrap().contains("scrape_interval: 7s"), "{config}");

    std::fs::write(prom.config_path(), "global:\n  scrape_interval: not-a-duration\n").unwrap();
    let err = client.reload().await.unwrap_err();
    match &err {
        ReloadError::Rejected { message, .. } => assert!(message.contains("not-a-duration"), "{message}"),
        other => panic!("expected Rejected, got {other}"),
    }
    assert!(!err.is_retryable());
    assert!(!client.reload_status().await.unwrap().success);
    // Prometheus keeps running the last good config.
    let config = prom.api("/api/v1/status/config").await;
    assert!(config["yaml"].as_str().unwrap().contains("scrape_interval: 7s"), "{config}");
}
}

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn lifecycle_disabled_is_a_clear_error() {
    let prom = Prometheus::builder().lifecycle(false).start();
    let err = PrometheusClient::new(prom.url()).reload().await.unwrap_err();
    assert!(matches!(err, ReloadError::LifecycleDisabled(_)), "{err}");
    assert!(err.to_string().contains("--web.enable-lifecycle"));
}
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_prometheus_is_retryable() {
    let url = format!("http://127.0.0.1:{}", harness::free_port());
    let err = PrometheusClient::new(url).reload().await.unwrap_err();
    assert!(matches!(err, ReloadError::Unreachable { .. }), "{err}");
    assert!(err.is_retryable());
}
