//! The series a run exports as YACE would, and the queries it skips, through collection with a
//! small in-test [`CloudWatchApi`]; tests/cloudwatch_exporter.rs proves the same against moto and
//! Prometheus.

use std::sync::Mutex;

use super::*;
use crate::aws::{Counted, Page};
use crate::cache::referenced_keys;
use crate::discovery::Resource;
use crate::query::Call;
use crate::state::Update;

const ACCOUNT: &str = "111111111111";
/// 2023-11-14T22:10:00Z, on a 5-minute boundary.
const T0: i64 = 1_699_999_800_000;
const MINUTE: i64 = 60_000;

/// CloudWatch with the given metrics and resources in every region; every query answers the
/// datapoints inside its window.
#[derive(Default)]
struct Cloud {
    metrics: Vec<MetricRef>,
    resources: Vec<Resource>,
    points: Mutex<Vec<(i64, f64)>>,
}

impl CloudWatchApi for Cloud {
    type Session = String;

    fn own_session(&self, region: &str) -> String {
        region.to_string()
    }

    async fn assume_role(&self, region: &str, _sts: &str, _role: &Role) -> Result<(String, Option<String>), ApiError> {
        Ok((region.to_string(), None))
    }

    async fn caller_account(&self, _session: &String) -> Result<String, ApiError> {
        Ok(ACCOUNT.into())
    }

    async fn list_metrics(
        &self,
        _session: &String,
        request: ListMetrics<'_>,
        _next_token: Option<String>,
    ) -> Result<Page<MetricRef>, ApiError> {
        let items = self
            .metrics
            .iter()
            .filter(|m| m.namespace == request.namespace && m.name == request.metric_name)
            .cloned()
            .collect();
        Ok(Page { items, next_token: None })
    }

    async fn get_resources(
        &self,
        _session: &String,
        _types: &[&str],
        _tag_keys: &[&str],
        _next_token: Option<String>,
    ) -> Result<Page<Resource>, ApiError> {
        Ok(Page { items: self.resources.clone(), next_token: None })
    }

    async fn get_metric_data(
        &self,
        _session: &String,
        call: &Call,
        _wanted: &[Wanted],
        _next_token: Option<String>,
    ) -> Result<Page<(usize, Datapoints)>, ApiError> {
        let (start, end) = (call.window.start * 1000, call.window.end * 1000);
        let points: Datapoints =
            self.points.lock().unwrap().iter().copied().filter(|(ts, _)| (start..end).contains(ts)).collect();
        Ok(Page { items: (0..call.queries.len()).map(|p| (p, points.clone())).collect(), next_token: None })
    }
}

struct Runner<'a> {
    api: Counted<'a, Cloud>,
    state: State,
    own_account: OnceCell<String>,
    labels_snake_case: bool,
    account_aliases: crate::aws::AccountAliases,
}

impl<'a> Runner<'a> {
    fn new(api: &'a Cloud) -> Self {
        Self {
            api: Counted::new(api),
            state: State::default(),
            own_account: OnceCell::new(),
            labels_snake_case: false,
            account_aliases: Default::default(),
        }
    }

    /// One run, and the state it leaves after a successful push.
    async fn run(&mut self, config: &ExporterConfig, run_ms: i64) -> Collected {
        let ctx = Context {
            state: &self.state,
            cache: true,
            run_ms,
            discovery_refresh_ms: 60 * MINUTE,
            max_backfill_s: 3600,
            get_metric_data_concurrency: 2,
            sts_region: None,
            own_account: &self.own_account,
            labels_snake_case: self.labels_snake_case,
            account_aliases: &self.account_aliases,
        };
        let mut c = collect_all(&self.api, config, ctx).await;
        self.state.apply(Update {
            discovery: std::mem::take(&mut c.discovery),
            referenced: referenced_keys(config),
            watermarks: c.watermarks.clone(),
            horizon_ms: run_ms - 2 * 3600 * 1000,
            last_read: Some(c.last_read.iter().cloned().collect()),
        });
        c
    }

    fn get_metric_data_requests(&self) -> u64 {
        self.api.requests().get("GetMetricData").copied().unwrap_or(0)
    }
}

fn config(yaml: &str) -> ExporterConfig {
    ExporterConfig::from_yaml(yaml).unwrap()
}

/// Each series as `name{labels}` with its samples, sorted.
fn series(c: &Collected) -> Vec<(String, Vec<(i64, f64)>)> {
    let mut out: Vec<(String, Vec<(i64, f64)>)> = c
        .series
        .iter()
        .map(|s| {
            let p = s.to_proto();
            (
                format!("{p:?}").split(" samples").next().unwrap().to_string(),
                p.samples.iter().map(|x| (x.timestamp, x.value)).collect(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn label_sets(c: &Collected, name: &str) -> Vec<Vec<(String, String)>> {
    let mut out: Vec<Vec<(String, String)>> = c
        .series
        .iter()
        .filter(|s| s.name() == name)
        .map(|s| {
            s.labels().iter().filter(|l| l.name != "__name__").map(|l| (l.name.clone(), l.value.clone())).collect()
        })
        .collect();
    out.sort();
    out
}

fn shop_metrics(name: &str) -> Vec<MetricRef> {
    ["a", "b"].iter().map(|shop| MetricRef::new("MyApp", name, vec![("Shop".into(), shop.to_string())])).collect()
}

/// A custom-namespace job named `name` reading `metric` over `period`.
fn custom_job(name: &str, metric: &str, period: i64, act: bool) -> String {
    format!(
        "  - name: {name}\n    namespace: MyApp\n    regions: [us-east-1]\n    period: {period}\n    length: {period}\n    statistics: [Sum]\n    addCloudwatchTimestamp: {act}\n    metrics: [{{name: {metric}}}]\n"
    )
}

// §8: a run asks GetMetricData only for series whose window holds a bucket the last run did not
// read; `addCloudwatchTimestamp: false` series still get their last value at the run's time.
#[tokio::test]
async fn a_series_with_no_new_bucket_is_not_asked_and_keeps_its_value_at_the_run_time() {
    let api = Cloud { metrics: [shop_metrics("Orders"), shop_metrics("Refunds")].concat(), ..Default::default() };
    // One datapoint in the 5-minute bucket before T0.
    *api.points.lock().unwrap() = vec![(T0 - 5 * MINUTE, 7.0)];
    let c = config(&format!(
        "customNamespace:\n{}{}",
        custom_job("orders", "Orders", 300, false),
        custom_job("refunds", "Refunds", 300, true)
    ));
    let mut r = Runner::new(&api);

    let first = r.run(&c, T0 + 10_000).await;
    assert_eq!((first.queries, first.skipped), (4, 0));
    assert_eq!(r.get_metric_data_requests(), 1);
    let orders: Vec<_> = series(&first).into_iter().filter(|(s, _)| s.contains("orders_sum")).collect();
    assert_eq!(orders.len(), 2);
    assert!(orders.iter().all(|(_, samples)| samples == &[(T0 + 10_000, 7.0)]), "{orders:?}");

    // Four runs a minute apart within the same 5-minute bucket: nothing asked.
    for i in 1..=4 {
        let run_ms = T0 + i * MINUTE + 10_000;
        let again = r.run(&c, run_ms).await;
        assert_eq!((again.queries, again.calls, again.skipped), (0, 0, 4), "run {i}");
        assert_eq!(r.get_metric_data_requests(), 1, "run {i}: no GetMetricData call");
        let samples = series(&again);
        assert_eq!(samples.len(), 2, "run {i}: the two orders series again, no refunds (already pushed): {samples:?}");
        assert!(samples.iter().all(|(s, v)| s.contains("orders_sum") && v == &[(run_ms, 7.0)]), "{samples:?}");
    }
    assert_eq!(r.state.last_read.len(), 4, "one entry per series, however many runs");

    // The next bucket: asked again, the new datapoint read.
    api.points.lock().unwrap().push((T0, 9.0));
    let next = r.run(&c, T0 + 5 * MINUTE + 10_000).await;
    assert_eq!((next.queries, next.skipped), (4, 0));
    assert_eq!(r.get_metric_data_requests(), 2);
    let samples = series(&next);
    assert!(samples
        .iter()
        .filter(|(s, _)| s.contains("orders_sum"))
        .all(|(_, v)| v == &[(T0 + 5 * MINUTE + 10_000, 9.0)]));
    assert!(samples.iter().filter(|(s, _)| s.contains("refunds_sum")).all(|(_, v)| v == &[(T0, 9.0)]), "{samples:?}");

    // Removing a job drops its entries at the next run.
    let only_orders = config(&format!("customNamespace:\n{}", custom_job("orders", "Orders", 300, false)));
    r.run(&only_orders, T0 + 6 * MINUTE).await;
    assert_eq!(r.state.last_read.len(), 2);
}

// YACE 1a0ddb1e pkg/job/custom.go: a custom namespace's series are named after the job.
#[tokio::test]
async fn a_custom_namespace_series_name_label_is_the_job_name() {
    let api = Cloud { metrics: shop_metrics("Orders"), ..Default::default() };
    let c = config(&format!("customNamespace:\n{}", custom_job("shop-orders", "Orders", 60, false)));
    let out = Runner::new(&api).run(&c, T0).await;
    let labels = label_sets(&out, "aws_myapp_orders_sum");
    assert_eq!(labels.len(), 2);
    assert!(labels.iter().all(|l| l.contains(&("name".into(), "shop-orders".into()))), "{labels:?}");
}

// Two jobs asking the same metric and statistic over the same window: one query, and each job's
// series with its own labels; two jobs that define the same series: exported once.
#[tokio::test]
async fn cross_job_duplicates_are_asked_once_and_exported_with_each_jobs_labels() {
    let api = Cloud { metrics: shop_metrics("Orders"), ..Default::default() };
    *api.points.lock().unwrap() = vec![(T0 - MINUTE, 1.0)];
    let c = config(&format!(
        "customNamespace:\n{}{}{}",
        custom_job("first", "Orders", 60, false),
        custom_job("second", "Orders", 60, false),
        custom_job("second", "Orders", 60, false)
    ));
    let out = Runner::new(&api).run(&c, T0).await;
    assert_eq!(out.queries, 2, "Shop a and b, once each");
    let mut names: Vec<String> = label_sets(&out, "aws_myapp_orders_sum")
        .iter()
        .map(|l| l.iter().find(|(k, _)| k == "name").unwrap().1.clone())
        .collect();
    names.sort();
    assert_eq!(names, ["first", "first", "second", "second"]);
    assert_eq!(out.dropped.get("duplicate_query"), Some(&2), "the third job's two series are the second's");
}

// Not a YACE vector, YACE's behaviour named: YACE 1a0ddb1e pkg/promutil/migrate.go
// (createPrometheusLabels, EnsureLabelConsistencyAndRemoveDuplicates) keeps the later of two keys
// that sanitise alike and drops the series that then equals an earlier one, counted only in
// yace_cloudwatch_duplicate_metrics_filtered. promstack does the same and names the cause.
#[tokio::test]
async fn series_whose_label_names_collide_after_sanitising_are_dropped_as_label_collisions() {
    let metric = |dim: &str| MetricRef::new("MyApp", "Orders", vec![(dim.to_string(), "a".into())]);
    let api = Cloud { metrics: vec![metric("Shop-Id"), metric("Shop_Id")], ..Default::default() };
    *api.points.lock().unwrap() = vec![(T0 - MINUTE, 1.0)];
    let c = config(&format!("customNamespace:\n{}", custom_job("shop", "Orders", 60, false)));
    let out = Runner::new(&api).run(&c, T0).await;
    let labels = label_sets(&out, "aws_myapp_orders_sum");
    assert_eq!(labels.len(), 1, "two CloudWatch series, one Prometheus series: {labels:?}");
    assert!(labels[0].contains(&("dimension_Shop_Id".into(), "a".into())), "{labels:?}");
    assert_eq!(out.dropped.get("label_collision"), Some(&1), "{:?}", out.dropped);
    assert_eq!(out.dropped.get("duplicate_query"), None, "{:?}", out.dropped);
}

fn ec2(instance: &str, tags: &[(&str, &str)]) -> Resource {
    Resource {
        arn: format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{instance}"),
        tags: tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    }
}

// YACE 1a0ddb1e pkg/job/scrape.go and pkg/promutil/migrate.go BuildNamespaceInfoMetrics: `_info`
// only for a job that produced metrics in the region and role; its context labels only with
// includeContextOnInfoMetrics; `name` and every tag always.
#[tokio::test]
async fn info_series_only_for_jobs_with_metrics_and_context_only_when_asked() {
    let api = Cloud {
        metrics: vec![MetricRef::new("AWS/EC2", "CPUUtilization", vec![("InstanceId".into(), "i-1".into())])],
        resources: vec![ec2("i-1", &[("Team", "core")])],
        ..Default::default()
    };
    let job = |metric: &str, context: bool| {
        format!(
            "    - type: AWS/EC2\n      regions: [us-east-1]\n      includeContextOnInfoMetrics: {context}\n      customTags: [{{key: env, value: prod}}]\n      period: 60\n      length: 60\n      statistics: [Average]\n      metrics: [{{name: {metric}}}]\n"
        )
    };
    let arn = format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-1");
    let without = config(&format!("discovery:\n  jobs:\n{}", job("CPUUtilization", false)));
    let out = Runner::new(&api).run(&without, T0).await;
    let info: Vec<Vec<(String, String)>> = vec![vec![("name".into(), arn.clone()), ("tag_Team".into(), "core".into())]];
    assert_eq!(label_sets(&out, "aws_ec2_info"), info);

    let with = config(&format!("discovery:\n  jobs:\n{}", job("CPUUtilization", true)));
    let out = Runner::new(&api).run(&with, T0).await;
    let mut expected: Vec<(String, String)> = [
        ("account_id", ACCOUNT),
        ("custom_tag_env", "prod"),
        ("name", arn.as_str()),
        ("region", "us-east-1"),
        ("tag_Team", "core"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    expected.sort();
    assert_eq!(label_sets(&out, "aws_ec2_info"), vec![expected]);

    // The resource is found, but the job's metric has no series: no `_info`.
    let nothing = config(&format!("discovery:\n  jobs:\n{}", job("NetworkIn", false)));
    let out = Runner::new(&api).run(&nothing, T0).await;
    assert_eq!(out.queries, 0);
    assert!(out.series.is_empty(), "{:?}", out.series);
}

// YACE's -labels-snake-case, as LABELS_SNAKE_CASE.
#[tokio::test]
async fn labels_snake_case_applies_to_dimensions_tags_and_custom_tags() {
    let api = Cloud {
        metrics: vec![MetricRef::new("AWS/EC2", "CPUUtilization", vec![("InstanceId".into(), "i-1".into())])],
        resources: vec![ec2("i-1", &[("CostCenter", "42")])],
        ..Default::default()
    };
    let c = config(
        "discovery:\n  exportedTagsOnMetrics:\n    AWS/EC2: [CostCenter]\n  jobs:\n    - type: AWS/EC2\n      regions: [us-east-1]\n      customTags: [{key: billableTo, value: api}]\n      period: 60\n      length: 60\n      statistics: [Average]\n      metrics: [{name: CPUUtilization}]\n",
    );
    let mut r = Runner::new(&api);
    r.labels_snake_case = true;
    let out = r.run(&c, T0).await;
    let labels = label_sets(&out, "aws_ec2_cpuutilization_average");
    let names: Vec<&str> = labels[0].iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        ["account_id", "custom_tag_billable_to", "dimension_instance_id", "name", "region", "tag_cost_center"]
    );
}
