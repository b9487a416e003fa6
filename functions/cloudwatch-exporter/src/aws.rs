//! The AWS calls of a run: credentials per (region, role), ListMetrics, the tagging API and
//! GetMetricData, each counted by API for the run's own figures. Throttling is retried with
//! backoff by the SDK's standard retry policy; errors carry the SDK's full context.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_config::retry::RetryConfig;
use aws_config::{Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_cloudwatch::error::DisplayErrorContext;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, DimensionFilter, Metric, MetricDataQuery, MetricStat, RecentlyActive};
use tokio::sync::OnceCell;

use crate::discovery::{MetricRef, Resource};
use crate::query::{position_of, query_id, Call, Wanted};
use crate::yace::Role;

/// API requests made during a run, by API name.
#[derive(Debug, Clone, Default)]
pub struct ApiCounter(Arc<Mutex<BTreeMap<&'static str, u64>>>);

impl ApiCounter {
    pub fn add(&self, api: &'static str) {
        *self.0.lock().expect("counter lock").entry(api).or_default() += 1;
    }
    pub fn snapshot(&self) -> BTreeMap<&'static str, u64> {
        self.0.lock().expect("counter lock").clone()
    }
}

/// The clients for one (region, role): where a job's calls go.
#[derive(Debug, Clone)]
pub struct ScopeClients {
    pub region: String,
    pub account_id: String,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub tagging: aws_sdk_resourcegroupstagging::Client,
}

/// Clients for `region`, with `role` assumed (an empty role: the function's own credentials).
/// `sts_region` (YACE's `sts-region`) is where AssumeRole goes; by default the job's region.
///
/// The `account_id` label costs no call per run: an assumed role's account is in the ARN that
/// AssumeRole returns, and the function's own account is asked once (GetCallerIdentity) and kept
/// in `own_account` for the life of the process (a warm Lambda's later runs).
pub async fn connect(
    base: &SdkConfig,
    region: &str,
    sts_region: Option<&str>,
    role: &Role,
    own_account: &OnceCell<String>,
    counter: &ApiCounter,
) -> Result<ScopeClients, String> {
    let mut builder = base.to_builder().region(Region::new(region.to_string()));
    let mut role_account = None;
    let sts_region = sts_region.unwrap_or(region).to_string();
    let sts = aws_sdk_sts::Client::new(&base.to_builder().region(Region::new(sts_region)).build());
    if !role.role_arn.is_empty() {
        let mut req = sts.assume_role().role_arn(&role.role_arn).role_session_name("promstack-cloudwatch-exporter");
        if !role.external_id.is_empty() {
            req = req.external_id(&role.external_id);
        }
        counter.add("AssumeRole");
        let out = req
            .send()
            .await
            .map_err(|e| format!("AssumeRole {}: {}", role.role_arn, DisplayErrorContext(&e)))?;
        let c = out.credentials().ok_or_else(|| format!("AssumeRole {}: no credentials in the answer", role.role_arn))?;
        let credentials = aws_credential_types::Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            std::time::SystemTime::try_from(*c.expiration()).ok(),
            "AssumeRole",
        );
        builder = builder.credentials_provider(SharedCredentialsProvider::new(credentials));
        role_account = out.assumed_role_user().and_then(|u| account_of_arn(u.arn())).map(str::to_string);
    }
    let config = builder.retry_config(RetryConfig::standard().with_max_attempts(5)).build();
    let account_id = match role_account {
        Some(account) => account,
        None if role.role_arn.is_empty() => {
            own_account.get_or_try_init(|| caller_account(&config, region, counter)).await?.clone()
        }
        None => caller_account(&config, region, counter).await?,
    };
    Ok(ScopeClients {
        region: region.to_string(),
        account_id,
        cloudwatch: aws_sdk_cloudwatch::Client::new(&config),
        tagging: aws_sdk_resourcegroupstagging::Client::new(&config),
    })
}

async fn caller_account(config: &SdkConfig, region: &str, counter: &ApiCounter) -> Result<String, String> {
    counter.add("GetCallerIdentity");
    let identity = aws_sdk_sts::Client::new(config)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| format!("GetCallerIdentity in {region}: {}", DisplayErrorContext(&e)))?;
    Ok(identity.account().unwrap_or_default().to_string())
}

/// The account field of an ARN (`arn:aws:sts::123456789012:assumed-role/...`), if it has one.
pub fn account_of_arn(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
}

/// ListMetrics for one metric name (every page). Duplicates are left for `discovery::dedupe`.
pub async fn list_metrics(
    clients: &ScopeClients,
    namespace: &str,
    metric_name: &str,
    dimensions: &[(String, String)],
    recently_active: bool,
    counter: &ApiCounter,
) -> Result<Vec<MetricRef>, String> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = clients.cloudwatch.list_metrics().namespace(namespace).metric_name(metric_name);
        for (name, value) in dimensions {
            req = req.dimensions(DimensionFilter::builder().name(name).value(value).build());
        }
        if recently_active {
            req = req.recently_active(RecentlyActive::Pt3H);
        }
        counter.add("ListMetrics");
        let page = req
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| format!("ListMetrics {namespace} {metric_name}: {}", DisplayErrorContext(&e)))?;
        for m in page.metrics() {
            let dims = m
                .dimensions()
                .iter()
                .map(|d| (d.name().unwrap_or_default().to_string(), d.value().unwrap_or_default().to_string()))
                .collect();
            out.push(MetricRef::new(
                m.namespace().unwrap_or(namespace),
                m.metric_name().unwrap_or(metric_name),
                dims,
            ));
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

/// The resources of the given types, with their tags (tag:GetResources, every page).
pub async fn get_resources(clients: &ScopeClients, filters: &[&str], counter: &ApiCounter) -> Result<Vec<Resource>, String> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        counter.add("GetResources");
        let page = clients
            .tagging
            .get_resources()
            .set_resource_type_filters(Some(filters.iter().map(|f| f.to_string()).collect()))
            .set_pagination_token(token.take())
            .send()
            .await
            .map_err(|e| format!("tag:GetResources {filters:?}: {}", DisplayErrorContext(&e)))?;
        for r in page.resource_tag_mapping_list() {
            let Some(arn) = r.resource_arn() else { continue };
            let tags = r.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
            out.push(Resource { arn: arn.to_string(), tags });
        }
        match page.pagination_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

/// The `MetricDataQueries` of a call. Percentiles (`p99`) go in `MetricStat.Stat` like any
/// statistic.
pub fn metric_data_queries(call: &Call, wanted: &[Wanted]) -> Vec<MetricDataQuery> {
    call.queries
        .iter()
        .enumerate()
        .map(|(position, &w)| {
            let w = &wanted[w];
            let metric = Metric::builder()
                .namespace(&w.metric.namespace)
                .metric_name(&w.metric.name)
                .set_dimensions(Some(
                    w.metric.dimensions.iter().map(|(n, v)| Dimension::builder().name(n).value(v).build()).collect(),
                ))
                .build();
            MetricDataQuery::builder()
                .id(query_id(position))
                .metric_stat(MetricStat::builder().metric(metric).period(w.window.period as i32).stat(&w.stat).build())
                .return_data(true)
                .build()
        })
        .collect()
}

/// Datapoints of one query: (timestamp ms, value), oldest first.
pub type Datapoints = Vec<(i64, f64)>;

/// Runs one call (every page); the datapoints per index into `wanted`.
pub async fn get_metric_data(
    clients: &ScopeClients,
    call: &Call,
    wanted: &[Wanted],
    counter: &ApiCounter,
) -> Result<Vec<(usize, Datapoints)>, String> {
    let queries = metric_data_queries(call, wanted);
    let mut points: Vec<Datapoints> = vec![Vec::new(); call.queries.len()];
    let mut token: Option<String> = None;
    loop {
        counter.add("GetMetricData");
        let page = clients
            .cloudwatch
            .get_metric_data()
            .set_metric_data_queries(Some(queries.clone()))
            .start_time(DateTime::from_secs(call.window.start))
            .end_time(DateTime::from_secs(call.window.end))
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| format!("GetMetricData ({} queries): {}", call.queries.len(), DisplayErrorContext(&e)))?;
        for result in page.metric_data_results() {
            let Some(position) = result.id().and_then(position_of).filter(|p| *p < points.len()) else { continue };
            for (ts, value) in result.timestamps().iter().zip(result.values()) {
                let ms = ts.to_millis().map_err(|e| format!("GetMetricData: bad timestamp {ts}: {e}"))?;
                points[position].push((ms, *value));
            }
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(call
        .queries
        .iter()
        .zip(points)
        .map(|(&w, mut p)| {
            p.sort_by_key(|(ts, _)| *ts);
            p.dedup_by_key(|(ts, _)| *ts);
            (w, p)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::{plan, Window};

    #[test]
    fn percentile_statistics_are_sent_as_the_stat_of_their_own_query() {
        let window = Window { period: 60, start: 1_700_000_000 - 300, end: 1_700_000_000 };
        let metric = MetricRef::new("AWS/ApplicationELB", "TargetResponseTime", vec![("LoadBalancer".into(), "app/a/1".into())]);
        let wanted: Vec<Wanted> = ["p99", "p99.9", "Average", "p99"]
            .iter()
            .map(|s| Wanted { metric: metric.clone(), stat: s.to_string(), window })
            .collect();
        let p = plan(wanted);
        assert_eq!(p.calls.len(), 1);
        let queries = metric_data_queries(&p.calls[0], &p.wanted);
        let stats: Vec<(&str, &str, i32)> = queries
            .iter()
            .map(|q| {
                let s = q.metric_stat().unwrap();
                (q.id().unwrap(), s.stat().unwrap(), s.period().unwrap())
            })
            .collect();
        assert_eq!(stats, [("q0", "p99", 60), ("q1", "p99.9", 60), ("q2", "Average", 60)]);
        let m = queries[0].metric_stat().unwrap().metric().unwrap();
        assert_eq!(m.namespace(), Some("AWS/ApplicationELB"));
        assert_eq!(m.dimensions()[0].name(), Some("LoadBalancer"));
        assert_eq!(m.dimensions()[0].value(), Some("app/a/1"));
        assert!(queries.iter().all(|q| q.return_data() == Some(true)));
    }

    #[test]
    fn the_account_comes_from_the_assumed_role_arn() {
        assert_eq!(account_of_arn("arn:aws:sts::123456789012:assumed-role/exporter/promstack"), Some("123456789012"));
        assert_eq!(account_of_arn("arn:aws-cn:sts::210987654321:assumed-role/r/s"), Some("210987654321"));
        assert_eq!(account_of_arn("arn:aws:sts:::assumed-role/r/s"), None);
        assert_eq!(account_of_arn("not an arn"), None);
    }
}
