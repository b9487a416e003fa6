//! cloudwatch-exporter against moto's CloudWatch and a real Prometheus: CloudWatch series whose
//! dimension names differ only in characters the label sanitiser maps to `_` (`Shop-Id`,
//! `Shop_Id`) become one Prometheus series. The run pushes the first, drops the other, and says
//! so: `samples_dropped["label_collision"]` in its summary and
//! `cloudwatch_exporter_run_label_collision_samples_dropped` in Prometheus.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
use cloudwatch_exporter::settings::Settings;
use cloudwatch_exporter::{handle, Deps};
use harness::{now_secs, Moto, Prometheus};
use lambda_runtime::{Context, LambdaEvent};
use promstack::settings::Env;

const CONFIG: &str = r#"
customNamespace:
  - name: shop
    namespace: MyApp
    regions: [us-east-1]
    period: 60
    length: 600
    metrics:
      - name: Orders
        statistics: [Sum]
"#;

harness::prometheus_matrix! {
#[tokio::test(flavor = "multi_thread")]
async fn dimension_names_that_sanitise_alike_are_reported_as_a_label_collision() {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("yace.yml");
    std::fs::write(&config_path, CONFIG).unwrap();
    let moto = Moto::start();
    let prometheus = Prometheus::start(harness::prometheus::EMPTY_CONFIG);
    let sdk = moto.sdk_config().await;
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let ts = (now_secs() as i64).div_euclid(60) * 60 - 120;
    for (dimension, value) in [("Shop-Id", 1.0), ("Shop_Id", 2.0)] {
        let datum = MetricDatum::builder()
            .metric_name("Orders")
            .dimensions(Dimension::builder().name(dimension).value("a").build())
            .timestamp(DateTime::from_secs(ts))
            .value(value)
            .build();
        cw.put_metric_data().namespace("MyApp").metric_data(datum).send().await.unwrap();
    }
    let env = Env::from_pairs([
        ("EXPORTER_CONFIG", config_path.display().to_string()),
        ("REMOTE_WRITE_URL", prometheus.write_url()),
        ("REMOTE_WRITE_MAX_RETRIES", "1".to_string()),
    ]);
    let deps = Deps::new(Settings::read(&env).unwrap(), sdk).unwrap();
    let mut schedule: EventBridgeEvent =
        serde_json::from_slice(include_bytes!("../events/cloudwatch-exporter-schedule.json")).unwrap();
    schedule.id = Some("collision-1".into());
    let run = handle(LambdaEvent { payload: schedule, context: Context::default() }, &deps)
        .await
        .unwrap_or_else(|e| moto.fail(format!("run: {e}")));
    assert_eq!(run.samples_dropped.get("label_collision"), Some(&1), "{run:?}");
    assert_eq!(run.samples_dropped.get("duplicate_query"), None, "{run:?}");

    let series = prometheus.query(r#"aws_myapp_orders_sum{dimension_Shop_Id="a"}"#).await;
    assert_eq!(series.len(), 1, "two CloudWatch series, one Prometheus series: {series:?}");
    let reported = prometheus.query("cloudwatch_exporter_run_label_collision_samples_dropped").await;
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert_eq!(reported[0]["value"][1], "1", "{reported:?}");
}
}
