//! `cloudwatch-exporter run --dry-run`: one run against AWS as the Lambda makes it (discovery,
//! GetMetricData, the series named and labelled as they would be pushed, `EXTRA_LABELS`
//! included), printed in Prometheus' text exposition format instead of pushed: what a YACE user
//! sees with `curl /metrics`.
//!
//! It keeps no state: no lease is taken, no watermark read or moved, no discovery cache read or
//! written, so it can run beside the deployed function. Without watermarks, a metric with
//! `addCloudwatchTimestamp: true` shows every datapoint of its window, as a first run does.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use promstack::remote_write::Series;
use promstack::settings::Env;

use crate::aws::CloudWatchApi;
use crate::collect::{self, Collected, Context};
use crate::settings::Settings;
use crate::state::State;
use crate::yace::ExporterConfig;
use crate::{export, Deps};

/// `REMOTE_WRITE_URL` when unset: a dry run pushes nothing, so it need not be set.
const NO_PUSH_URL: &str = "http://dry-run.invalid/api/v1/write";

/// The function's settings from `env`, for a run that pushes nothing and keeps no state:
/// `config` (`--config`) replaces `EXPORTER_CONFIG`; the remote-write and state variables are
/// not read, so a shell without them (or with the deployed function's) works.
pub fn settings(env: &Env, config: Option<&str>) -> Result<Settings, String> {
    let mut vars: BTreeMap<String, String> = env.all().map_err(|e| e.to_string())?.into_iter().collect();
    if let Some(config) = config {
        vars.insert("EXPORTER_CONFIG".into(), config.into());
    }
    if !vars.contains_key("EXPORTER_CONFIG") {
        return Err("no config: pass --config FILE (a path or s3://BUCKET/KEY) or set EXPORTER_CONFIG".into());
    }
    vars.insert("REMOTE_WRITE_URL".into(), NO_PUSH_URL.into());
    vars.insert("REMOTE_WRITE_AUTH".into(), "none".into());
    vars.remove("STATE_BUCKET");
    Settings::read(&Env::from_pairs(vars)).map_err(|e| e.to_string())
}

/// The command: prints the series to stdout, and to stderr what failed and a summary line.
/// The exit code: 0, or 1 when the run could not start or any job failed (its series, if any,
/// are still printed).
pub async fn main(config: Option<&str>) -> i32 {
    let settings = match settings(&Env::from_process(), config) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("cloudwatch-exporter run --dry-run: {e}");
            return 1;
        }
    };
    let sdk = promstack::aws::sdk_config().await;
    if sdk.region().is_none() {
        eprintln!("cloudwatch-exporter run --dry-run: {}", promstack::aws::NO_REGION);
        return 1;
    }
    let deps = match Deps::new(settings, sdk) {
        Ok(deps) => deps,
        Err(e) => {
            eprintln!("cloudwatch-exporter run --dry-run: {e}");
            return 1;
        }
    };
    let config = match deps.load_config().await {
        Ok(config) => config,
        Err(e) => {
            eprintln!("cloudwatch-exporter run --dry-run: {e}");
            return 1;
        }
    };
    for warning in &config.warnings {
        eprintln!("warning: {warning}");
    }
    let mut all = collect(&deps, &config).await;
    print!("{}", exposition(&mut all.series));
    for f in &all.failures {
        let role = if f.role.is_empty() { "own credentials" } else { f.role.as_str() };
        eprintln!("job failed: {} in {} ({role}): {}", f.job, f.region, f.error);
    }
    let samples: usize = all.series.iter().map(Series::len).sum();
    eprintln!(
        "dry run: {} series, {samples} samples, {} GetMetricData calls, {} jobs failed; nothing pushed, no state kept",
        all.series.len(),
        all.calls,
        all.failures.len()
    );
    i32::from(!all.failures.is_empty())
}

/// Collects once, as a run does with no state bucket, and labels the series as a push would.
pub async fn collect<A: CloudWatchApi>(deps: &Deps<A>, config: &ExporterConfig) -> Collected {
    let settings = &deps.settings;
    let no_state = State::default();
    let ctx = Context {
        state: &no_state,
        cache: false,
        run_ms: now_ms(),
        discovery_refresh_ms: settings.discovery_refresh.as_millis() as i64,
        max_backfill_s: settings.max_backfill.as_secs() as i64,
        get_metric_data_concurrency: settings.get_metric_data_concurrency,
        sts_region: config.sts_region.as_deref(),
        own_account: &deps.own_account,
        account_aliases: &deps.account_aliases,
        labels_snake_case: settings.labels_snake_case,
    };
    let mut all = collect::collect_all(&deps.api, config, ctx).await;
    export::add_labels(&mut all.series, &settings.extra_labels);
    all
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// The series in the text exposition format: each metric once with `# HELP` and `# TYPE gauge`,
/// then one line per sample, `name{labels} value timestamp_ms`, metrics and series sorted.
pub fn exposition(series: &mut [Series]) -> String {
    // By name first: a label name sorts before `__name__` when it starts with a capital.
    series.sort_by_cached_key(|s| {
        (s.name().to_string(), s.labels().iter().map(|l| (l.name.clone(), l.value.clone())).collect::<Vec<_>>())
    });
    let mut out = String::new();
    let mut family = None;
    for s in series.iter_mut() {
        let name = s.name().to_string();
        if family.as_deref() != Some(name.as_str()) {
            let _ = writeln!(out, "# HELP {name} CloudWatch data as cloudwatch-exporter pushes it (dry run)");
            let _ = writeln!(out, "# TYPE {name} gauge");
            family = Some(name.clone());
        }
        let labels: Vec<String> = s
            .labels()
            .iter()
            .filter(|l| l.name != promstack::names::METRIC_NAME_LABEL)
            .map(|l| format!("{}=\"{}\"", l.name, escape_label_value(&l.value)))
            .collect();
        let labels = if labels.is_empty() { String::new() } else { format!("{{{}}}", labels.join(",")) };
        for sample in s.samples() {
            let _ = writeln!(out, "{name}{labels} {} {}", sample_value(sample.value), sample.timestamp);
        }
    }
    out
}

/// A label value in the text format: `\`, `"` and newlines escaped.
fn escape_label_value(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// A value as the text format writes it (`NaN`, `+Inf`, `-Inf`; Rust writes `inf`).
fn sample_value(v: f64) -> String {
    match v {
        v if v.is_nan() => "NaN".into(),
        f64::INFINITY => "+Inf".into(),
        f64::NEG_INFINITY => "-Inf".into(),
        v => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_print_grouped_by_metric_with_their_samples() {
        let mut b = Series::new("aws_sqs_sent_sum", [("name", "q\"1\\x"), ("region", "eu-west-1")]).unwrap();
        b.push(1_700_000_060_000, 2.0).push(1_700_000_000_000, f64::NAN);
        let mut a = Series::new("aws_ec2_info", [("name", "i-1"), ("tag_Line", "a\nb")]).unwrap();
        a.push(1_700_000_000_000, 0.0);
        let mut c = Series::new("aws_sqs_sent_sum", [("name", "a"), ("region", "eu-west-1")]).unwrap();
        c.push(1_700_000_000_000, f64::INFINITY);
        let text = exposition(&mut [b, a, c]);
        let expected = "\
# HELP aws_ec2_info CloudWatch data as cloudwatch-exporter pushes it (dry run)
# TYPE aws_ec2_info gauge
aws_ec2_info{name=\"i-1\",tag_Line=\"a\\nb\"} 0 1700000000000
# HELP aws_sqs_sent_sum CloudWatch data as cloudwatch-exporter pushes it (dry run)
# TYPE aws_sqs_sent_sum gauge
aws_sqs_sent_sum{name=\"a\",region=\"eu-west-1\"} +Inf 1700000000000
aws_sqs_sent_sum{name=\"q\\\"1\\\\x\",region=\"eu-west-1\"} NaN 1700000000000
aws_sqs_sent_sum{name=\"q\\\"1\\\\x\",region=\"eu-west-1\"} 2 1700000060000
";
        assert_eq!(text, expected);
    }

    #[test]
    fn the_settings_need_a_config_and_nothing_to_push_to() {
        let env =
            Env::from_pairs([("STATE_BUCKET", "data"), ("REMOTE_WRITE_AUTH", "basic"), ("EXTRA_LABELS", "job=yace")]);
        let s = settings(&env, Some("yace.yml")).unwrap();
        assert_eq!(s.config, crate::settings::ConfigSource::Path("yace.yml".into()));
        assert_eq!(s.state, None, "no state is kept");
        assert_eq!(s.auth, crate::settings::AuthSetting::None);
        assert_eq!(s.extra_labels, [("job".to_string(), "yace".to_string())]);
        let env = Env::from_pairs([("EXPORTER_CONFIG", "s3://cfg/yace.yml")]);
        let s = settings(&env, None).unwrap();
        assert_eq!(s.config, crate::settings::ConfigSource::S3 { bucket: "cfg".into(), key: "yace.yml".into() });
        let e = settings(&Env::from_pairs([("REMOTE_WRITE_URL", "http://x")]), None).unwrap_err();
        assert!(e.contains("--config FILE"), "{e}");
        let e = settings(&Env::from_pairs([("EXTRA_LABELS", "job")]), Some("f")).unwrap_err();
        assert!(e.contains("EXTRA_LABELS"), "{e}");
    }
}
