//! The Prometheus matrix itself: each generated test runs the release its name says, wherever its
//! body starts the server (the test's task, `tokio::spawn`, `spawn_blocking`), and a missing or
//! wrong binary fails with what to do.

use std::path::Path;

use harness::prometheus::{Version, EMPTY_CONFIG};
use harness::Prometheus;

/// The version the running server reports (`/api/v1/status/buildinfo`), e.g. `3.5.3+ds1`.
async fn reported_version(p: &Prometheus) -> String {
    p.api("/api/v1/status/buildinfo").await["version"].as_str().unwrap_or_default().to_string()
}

harness::prometheus_matrix! {
/// Both halves of the matrix: every server a body starts is the version under test.
#[tokio::test(flavor = "multi_thread")]
async fn servers_started_anywhere_in_a_test_run_its_version() {
    let version = Version::current();
    let direct = Prometheus::start(EMPTY_CONFIG);
    let spawned = tokio::spawn(async { Prometheus::start(EMPTY_CONFIG) }).await.unwrap();
    let blocking = tokio::task::spawn_blocking(|| Prometheus::start(EMPTY_CONFIG)).await.unwrap();
    for p in [&direct, &spawned, &blocking] {
        assert_eq!(p.version(), version);
        let reported = reported_version(p).await;
        assert!(reported.starts_with(&format!("{version}.")), "Prometheus {version} test ran {reported}");
    }
}
}

// `only` keeps a test on one version; these two also pin which version each test name means.
harness::prometheus_matrix! { only prometheus_2_42;
#[tokio::test]
async fn prometheus_2_42_is_debians_2_42() {
    let p = Prometheus::start(EMPTY_CONFIG);
    let reported = reported_version(&p).await;
    assert!(reported.starts_with("2.42."), "{reported}");
}
}

harness::prometheus_matrix! { only prometheus_3_5;
#[tokio::test]
async fn prometheus_3_5_is_the_caches_3_5() {
    let p = Prometheus::start(EMPTY_CONFIG);
    let reported = reported_version(&p).await;
    assert!(reported.starts_with("3.5."), "{reported}");
    assert!(Version::V3_5.promtool().exists(), "promtool {} is missing", Version::V3_5.promtool().display());
}
}

#[test]
fn a_missing_or_wrong_binary_says_what_to_do() {
    let missing = Version::V3_5.check(Path::new("/nonexistent/prometheus")).unwrap_err();
    assert!(missing.contains("Prometheus 3.5") && missing.contains("make setup"), "{missing}");
    // Debian's 2.42 is not 3.5: a stale cache or a wrong override fails instead of running the wrong release.
    let wrong = Version::V3_5.check(&Version::V2_42.binary()).unwrap_err();
    assert!(wrong.contains("is not Prometheus 3.5") && wrong.contains("2.42"), "{wrong}");
    assert!(Version::V2_42.check(&Version::V2_42.binary()).is_ok());
}
