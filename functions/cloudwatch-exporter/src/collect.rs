//! What a run collects, scope by scope: the config's jobs grouped by (region, role); for each
//! scope, connect, discover each job (or reuse the cached discovery), plan GetMetricData, ask it
//! with bounded concurrency, and turn the datapoints into series and watermarks. Generic over
//! [`CloudWatchApi`], so the cache and exactly-once rules run the same against moto, AWS, or a
//! test's own implementation. A job that fails (a role that cannot be assumed, a region down) is
//! reported and the others go on.

use std::collections::{BTreeMap, HashMap, HashSet};

use futures_util::stream::{self, StreamExt};
use promstack::remote_write::Series;
use tokio::sync::OnceCell;

use crate::aws::{self, ApiError, CloudWatchApi, Connected, Datapoints, ListMetrics};
use crate::cache::{discovery_key, is_cached};
use crate::discovery::{self, Discovered, Found, MetricRef};
use crate::export::{self, LabelContext, Target};
use crate::naming::info_metric_name;
use crate::query::{self, Wanted, Window};
use crate::report::JobFailure;
use crate::state::{CachedDiscovery, State};
use crate::yace::{ExporterConfig, Job, JobKind, Role};

/// How many (region, role) scopes are collected at once. GetMetricData's own concurrency
/// (`GET_METRIC_DATA_CONCURRENCY`) applies within each scope: CloudWatch's rate limits are per
/// account and region.
pub const SCOPE_CONCURRENCY: usize = 4;

/// What collection reads besides the config.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Watermarks and discovery cache as the run found them (empty without a state bucket).
    pub state: &'a State,
    /// Whether discovery is cached (there is a state bucket to keep it in).
    pub cache: bool,
    pub run_ms: i64,
    pub discovery_refresh_ms: i64,
    pub max_backfill_s: i64,
    pub get_metric_data_concurrency: usize,
    /// YACE's `sts-region`.
    pub sts_region: Option<&'a str>,
    /// The function's own account, asked once per process.
    pub own_account: &'a OnceCell<String>,
}

/// Everything a run's scopes produced.
#[derive(Debug, Default)]
pub struct Collected {
    pub series: Vec<Series>,
    /// Watermark key → newest timestamp pushed (moved only once the push succeeded).
    pub watermarks: Vec<(String, i64)>,
    /// Discovery done this run, by cache key.
    pub discovery: Vec<(String, CachedDiscovery)>,
    pub failures: Vec<JobFailure>,
    pub queries: usize,
    pub calls: usize,
    pub minimum_calls: usize,
    /// Jobs whose discovery came from the cache.
    pub cached: usize,
    pub dropped: BTreeMap<String, u64>,
}

impl Collected {
    fn absorb(&mut self, c: Collected) {
        self.series.extend(c.series);
        self.watermarks.extend(c.watermarks);
        self.discovery.extend(c.discovery);
        self.failures.extend(c.failures);
        self.queries += c.queries;
        self.calls += c.calls;
        self.minimum_calls += c.minimum_calls;
        self.cached += c.cached;
        for (k, v) in c.dropped {
            *self.dropped.entry(k).or_default() += v;
        }
    }

    fn drop_samples(&mut self, reason: &str, n: u64) {
        *self.dropped.entry(reason.to_string()).or_default() += n;
    }
}

/// A region and the credentials used there.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Scope {
    pub region: String,
    pub role: Role,
}

/// Jobs by (region, role): each scope has its own session and GetMetricData plan.
pub fn scopes(config: &ExporterConfig) -> BTreeMap<Scope, Vec<&Job>> {
    let mut out: BTreeMap<Scope, Vec<&Job>> = BTreeMap::new();
    for job in &config.jobs {
        for region in &job.regions {
            for role in &job.roles {
                out.entry(Scope { region: region.clone(), role: role.clone() }).or_default().push(job);
            }
        }
    }
    out
}

/// Collects every scope of the config, a few at a time; `buffered` keeps their order, so the
/// merged result does not depend on which answered first.
pub async fn collect_all<A: CloudWatchApi>(api: &A, config: &ExporterConfig, ctx: Context<'_>) -> Collected {
    let mut all = Collected::default();
    let mut collected = stream::iter(scopes(config))
        .map(|(scope, jobs)| async move { collect_scope(api, &scope, &jobs, ctx).await })
        .buffered(SCOPE_CONCURRENCY);
    while let Some(c) = collected.next().await {
        all.absorb(c);
    }
    all
}

/// A job's discovery: the metrics ListMetrics finds for its metric names, tied to the resources
/// the tagging API finds (a static job's are its fixed dimensions, without a request).
pub async fn discover<A: CloudWatchApi>(api: &A, session: &A::Session, job: &Job) -> Result<Discovered, ApiError> {
    let mut names: Vec<&str> = job.metrics.iter().map(|m| m.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let list = |name| ListMetrics { namespace: &job.namespace, metric_name: name, recently_active: job.recently_active_only };
    match &job.kind {
        JobKind::Static { dimensions, .. } => Ok(Discovered {
            resources: vec![],
            metrics: names
                .iter()
                .map(|n| Found { metric: MetricRef::new(&job.namespace, n, dimensions.clone()), resource: None })
                .collect(),
        }),
        JobKind::CustomNamespace { .. } => {
            let mut metrics = Vec::new();
            for name in names {
                metrics.extend(aws::list_all_metrics(api, session, list(name)).await?);
            }
            Ok(discovery::associate_all(vec![], vec![], metrics, &job.dimension_name_requirements, false))
        }
        JobKind::Discovery { service, search_tags, .. } => {
            let resources = if service.resource_filters.is_empty() {
                vec![]
            } else {
                let all = aws::get_all_resources(api, session, service.resource_filters).await?;
                discovery::filter_by_search_tags(all, search_tags)
            };
            let mut metrics = Vec::new();
            for name in names {
                metrics.extend(aws::list_all_metrics(api, session, list(name)).await?);
            }
            Ok(discovery::associate_all(
                service.compiled_regexps(),
                resources,
                metrics,
                &job.dimension_name_requirements,
                !search_tags.is_empty(),
            ))
        }
    }
}

/// The series wanted from one scope, before GetMetricData is asked.
#[derive(Default)]
struct Wants {
    targets: Vec<Target>,
    wanted: Vec<Wanted>,
    /// Which job (index into the scope's jobs) each target belongs to, so a failed call is
    /// reported against its jobs.
    target_job: Vec<usize>,
}

/// One scope: connect, discover (or reuse), then GetMetricData and the series.
pub async fn collect_scope<A: CloudWatchApi>(api: &A, scope: &Scope, jobs: &[&Job], ctx: Context<'_>) -> Collected {
    let mut out = Collected::default();
    let fail = |job: &Job, error: String| JobFailure {
        job: job.location.clone(),
        region: scope.region.clone(),
        role: scope.role.role_arn.clone(),
        error,
    };
    let connected = match aws::connect(api, &scope.region, ctx.sts_region, &scope.role, ctx.own_account).await {
        Ok(c) => c,
        Err(e) => {
            out.failures.extend(jobs.iter().map(|j| fail(j, e.to_string())));
            return out;
        }
    };

    let mut wants = Wants::default();
    let mut info_seen: HashSet<(String, String)> = HashSet::new();
    for (ji, job) in jobs.iter().enumerate() {
        let found = match discovery_of(api, &connected, scope, job, ctx, &mut out).await {
            Ok(found) => found,
            Err(e) => {
                out.failures.push(fail(job, e.to_string()));
                continue;
            }
        };
        want(&mut wants, ji, job, &found, scope, &connected.account_id, ctx);
        info_series(&mut out, &mut info_seen, job, &found, scope, &connected.account_id, ctx.run_ms);
    }

    let plan = query::plan(wants.wanted);
    if plan.duplicates > 0 {
        out.drop_samples("duplicate_query", plan.duplicates as u64);
    }
    out.queries = plan.wanted.len();
    out.calls = plan.calls.len();
    out.minimum_calls = plan.minimum_calls();

    // GET_METRIC_DATA_CONCURRENCY calls in flight per scope.
    let mut answers = stream::iter(plan.calls.iter().enumerate())
        .map(|(ci, call)| {
            let (plan, session) = (&plan, &connected.session);
            async move { (ci, aws::get_all_metric_data(api, session, call, &plan.wanted).await) }
        })
        .buffer_unordered(ctx.get_metric_data_concurrency.max(1));
    let mut points: HashMap<usize, Datapoints> = HashMap::with_capacity(plan.wanted.len());
    let mut failed_jobs: BTreeMap<usize, String> = BTreeMap::new();
    while let Some((ci, result)) = answers.next().await {
        match result {
            Ok(results) => points.extend(results),
            Err(e) => {
                for &q in &plan.calls[ci].queries {
                    failed_jobs.entry(wants.target_job[plan.kept[q]]).or_insert_with(|| e.to_string());
                }
            }
        }
    }
    drop(answers);
    for (ji, e) in failed_jobs {
        out.failures.push(fail(jobs[ji], e));
    }

    for (wi, &ti) in plan.kept.iter().enumerate() {
        let Some(p) = points.get(&wi) else { continue };
        series_of(&mut out, &wants.targets[ti], p, ctx);
    }
    out
}

/// The job's discovery from the cache when fresh and found in the same account; otherwise asked
/// afresh (and kept for the next runs).
async fn discovery_of<A: CloudWatchApi>(
    api: &A,
    connected: &Connected<A::Session>,
    scope: &Scope,
    job: &Job,
    ctx: Context<'_>,
    out: &mut Collected,
) -> Result<Discovered, ApiError> {
    let cached = ctx.cache && is_cached(job);
    let key = cached.then(|| discovery_key(job, &scope.region, &scope.role));
    let fresh = key.as_ref().and_then(|k| ctx.state.discovery.get(k)).filter(|c| {
        ctx.run_ms - c.fetched_ms < ctx.discovery_refresh_ms && c.account_id == connected.account_id
    });
    if let Some(c) = fresh {
        out.cached += 1;
        return Ok(c.found.clone());
    }
    let found = discover(api, &connected.session, job).await?;
    if let Some(key) = key {
        let entry = CachedDiscovery { fetched_ms: ctx.run_ms, account_id: connected.account_id.clone(), found: found.clone() };
        out.discovery.push((key, entry));
    }
    Ok(found)
}

/// The series a job's discovery asks for: one per found metric, metric spec and statistic.
fn want(wants: &mut Wants, ji: usize, job: &Job, found: &Discovered, scope: &Scope, account_id: &str, ctx: Context<'_>) {
    let (exported_tags, static_name): (&[String], Option<&str>) = match &job.kind {
        JobKind::Discovery { exported_tags, .. } => (exported_tags, None),
        JobKind::CustomNamespace { .. } => (&[], None),
        JobKind::Static { name, .. } => (&[], Some(name.as_str())),
    };
    let labels = LabelContext { region: &scope.region, account_id, custom_tags: &job.custom_tags, exported_tags };
    let now_s = ctx.run_ms.div_euclid(1000);
    for f in &found.metrics {
        let resource = f.resource.and_then(|i| found.resources.get(i));
        let resource_name = match (static_name, resource) {
            (Some(n), _) => n,
            (None, Some(r)) => r.arn.as_str(),
            (None, None) => "global",
        };
        for spec in job.metrics.iter().filter(|m| m.name == f.metric.name) {
            for stat in &spec.statistics {
                let t = export::target(&f.metric, spec, stat, resource_name, resource, labels);
                let watermark = if spec.add_cloudwatch_timestamp { ctx.state.watermarks.get(&t.key).copied() } else { None };
                let window = Window::at(now_s, spec.period, spec.length, spec.delay, watermark, ctx.max_backfill_s);
                wants.wanted.push(Wanted { metric: f.metric.clone(), stat: stat.clone(), window });
                wants.targets.push(t);
                wants.target_job.push(ji);
            }
        }
    }
}

/// `aws_<namespace>_info`: one per resource of a discovery job, carrying its tags.
fn info_series(
    out: &mut Collected,
    seen: &mut HashSet<(String, String)>,
    job: &Job,
    found: &Discovered,
    scope: &Scope,
    account_id: &str,
    run_ms: i64,
) {
    let JobKind::Discovery { exported_tags, .. } = &job.kind else { return };
    let labels = LabelContext { region: &scope.region, account_id, custom_tags: &job.custom_tags, exported_tags };
    let name = info_metric_name(&job.namespace);
    for r in &found.resources {
        if seen.insert((name.clone(), r.arn.clone())) {
            match Series::new(&name, export::info_labels(r, labels)) {
                Ok(mut s) => {
                    s.push(run_ms, 0.0);
                    out.series.push(s);
                }
                Err(_) => out.drop_samples("invalid_labels", 1),
            }
        }
    }
}

/// The samples of one target from its datapoints, and its watermark when it keeps CloudWatch's
/// timestamps.
fn series_of(out: &mut Collected, t: &Target, points: &[(i64, f64)], ctx: Context<'_>) {
    let watermark = ctx.state.watermarks.get(&t.key).copied();
    let samples = export::samples(t, points, ctx.run_ms, watermark);
    let Some(&(newest, _)) = samples.last() else { return };
    if t.add_cloudwatch_timestamp {
        out.watermarks.push((t.key.clone(), newest));
    }
    match Series::new(&t.name, t.labels.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        Ok(mut s) => {
            for (ts, v) in samples {
                s.push(ts, v);
            }
            out.series.push(s);
        }
        Err(e) => {
            tracing::warn!(series = %t.name, error = %e, "series dropped");
            out.drop_samples("invalid_labels", samples.len() as u64);
        }
    }
}
