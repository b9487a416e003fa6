//! What a run collects, scope by scope: the config's jobs grouped by (region, role); for each
//! scope, connect, discover each job (or reuse the cached discovery), plan GetMetricData, ask it
//! with bounded concurrency, and turn the datapoints into series and watermarks. Generic over
//! [`CloudWatchApi`], so the cache and exactly-once rules run the same against moto, AWS, or a
//! test's own implementation. A job that fails (a role that cannot be assumed, a region down) is
//! reported and the others go on.

use std::collections::{BTreeMap, HashMap};

use futures_util::stream::{self, StreamExt};
use promstack::remote_write::Series;
use tokio::sync::OnceCell;

use crate::aws::{self, AccountAliases, ApiError, CloudWatchApi, Connected, Datapoints, ListMetrics};
use crate::cache::{discovery_key, is_cached};
use crate::discovery::{self, Discovered, Found, MetricRef};
use crate::export::{self, Exported, LabelContext, Target};
use crate::naming::{info_metric_name, metric_name};
use crate::query::{self, Wanted, Window};
use crate::report::{JobFailure, JobWithoutResources};
use crate::resources::{self, Lookup};
use crate::state::{CachedDiscovery, LastRead, State};
use crate::yace::{ExporterConfig, Job, JobKind, Role};
use crate::{enhanced, statics};

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
    /// Each role's `account_alias`, asked once per process.
    pub account_aliases: &'a AccountAliases,
    /// YACE's `-labels-snake-case` (`LABELS_SNAKE_CASE`).
    pub labels_snake_case: bool,
}

/// Everything a run's scopes produced.
#[derive(Debug, Default)]
pub struct Collected {
    pub series: Vec<Series>,
    /// Index in `series` → the target key it was read for (its watermark's and last read's key).
    pub series_keys: Vec<(usize, String)>,
    /// Watermark key → newest timestamp pushed (moved only once the push succeeded).
    pub watermarks: Vec<(String, i64)>,
    /// Discovery done this run, by cache key.
    pub discovery: Vec<(String, CachedDiscovery)>,
    /// Series key → its last read, for every series read or carried over this run.
    pub last_read: Vec<(String, LastRead)>,
    /// Series not asked this run: their window holds no bucket the last run did not read.
    pub skipped: usize,
    pub failures: Vec<JobFailure>,
    /// Jobs that exported nothing in a scope because their namespace has resources and none was
    /// found (YACE's "expected to discover resources but none were found").
    pub without_resources: Vec<JobWithoutResources>,
    pub queries: usize,
    pub calls: usize,
    pub minimum_calls: usize,
    /// Jobs whose discovery came from the cache.
    pub cached: usize,
    pub dropped: BTreeMap<String, u64>,
}

impl Collected {
    fn absorb(&mut self, c: Collected) {
        let offset = self.series.len();
        self.series_keys.extend(c.series_keys.into_iter().map(|(i, key)| (i + offset, key)));
        self.series.extend(c.series);
        self.watermarks.extend(c.watermarks);
        self.discovery.extend(c.discovery);
        self.last_read.extend(c.last_read);
        self.skipped += c.skipped;
        self.failures.extend(c.failures);
        self.without_resources.extend(c.without_resources);
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

/// A job's discovery in `region`: the metrics ListMetrics finds for its metric names, tied to the
/// resources `resources::find` finds (a static job's are its fixed dimensions, without a request).
/// A namespace that should have resources and has none discovers nothing, not even `global`
/// metrics, and asks no ListMetrics, as in YACE.
pub async fn discover<A: CloudWatchApi>(
    api: &A,
    session: &A::Session,
    region: &str,
    job: &Job,
) -> Result<Discovered, ApiError> {
    let mut names: Vec<&str> = job.metrics.iter().map(|m| m.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    match &job.kind {
        JobKind::Static { dimensions, .. } => Ok(Discovered {
            resources: vec![],
            metrics: names
                .iter()
                .map(|n| Found { metric: MetricRef::new(&job.namespace, n, dimensions.clone()), resource: None })
                .collect(),
        }),
        JobKind::CustomNamespace { .. } => {
            let metrics = list_metrics(api, session, job, &names).await?;
            Ok(discovery::associate_all(vec![], vec![], metrics, &job.dimension_name_requirements))
        }
        JobKind::Discovery { service, search_tags, .. } => {
            let resources = match resources::find(api, session, region, service, search_tags).await? {
                Lookup::Resources(resources) => resources,
                Lookup::ExpectedButNone => return Ok(Discovered::default()),
            };
            let metrics = list_metrics(api, session, job, &names).await?;
            Ok(discovery::associate_all(
                service.compiled_regexps(),
                resources,
                metrics,
                &job.dimension_name_requirements,
            ))
        }
    }
}

/// ListMetrics (every page) for each of the job's metric names.
async fn list_metrics<A: CloudWatchApi>(
    api: &A,
    session: &A::Session,
    job: &Job,
    names: &[&str],
) -> Result<Vec<MetricRef>, ApiError> {
    let mut metrics = Vec::new();
    for name in names {
        let request =
            ListMetrics { namespace: &job.namespace, metric_name: name, recently_active: job.recently_active_only };
        metrics.extend(aws::list_all_metrics(api, session, request).await?);
    }
    Ok(metrics)
}

/// The series wanted from one scope, before GetMetricData is asked.
#[derive(Default)]
struct Wants {
    targets: Vec<Target>,
    wanted: Vec<Wanted>,
    /// Which job (index into the scope's jobs) each target belongs to, so a failed call is
    /// reported against its jobs.
    target_job: Vec<usize>,
    /// Targets not asked this run, with their last read, and their job.
    skipped: Vec<(Target, LastRead, usize)>,
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
    let (region, role) = (&scope.region, &scope.role);
    let connected = match aws::connect(api, region, ctx.sts_region, role, ctx.own_account, ctx.account_aliases).await {
        Ok(c) => c,
        Err(e) => {
            out.failures.extend(jobs.iter().map(|j| fail(j, e.to_string())));
            return out;
        }
    };

    let mut wants = Wants::default();
    let mut found_by_job: Vec<(usize, Discovered)> = Vec::with_capacity(jobs.len());
    let mut produced_enhanced = vec![false; jobs.len()];
    for (ji, job) in jobs.iter().enumerate() {
        let found = match discovery_of(api, &connected, scope, job, ctx, &mut out).await {
            Ok(found) => found,
            Err(e) => {
                out.failures.push(fail(job, e.to_string()));
                continue;
            }
        };
        if let JobKind::Discovery { service, .. } = &job.kind {
            // Also when the empty discovery comes from the cache: the reason holds until it is asked again.
            if found.resources.is_empty() && resources::expects_resources(service) {
                tracing::warn!(
                    job = %job.location,
                    namespace = %job.namespace,
                    region = %scope.region,
                    role = %scope.role.role_arn,
                    "no resources made it through the search tags and filters; the job exports nothing here"
                );
                out.without_resources.push(JobWithoutResources {
                    job: job.location.clone(),
                    region: scope.region.clone(),
                    role: scope.role.role_arn.clone(),
                });
                continue;
            }
        }
        if let JobKind::Static { .. } = job.kind {
            if let Err(e) = static_series(api, &connected, job, &found, scope, ctx, &mut out).await {
                out.failures.push(fail(job, e.to_string()));
            }
            continue;
        }
        want(&mut wants, ji, job, &found, scope, &connected, ctx);
        // Enhanced metrics count as metrics the job produced (YACE appends them to its CloudWatch data).
        match enhanced_series(api, &connected, job, &found, scope, ctx, &mut out).await {
            Ok(n) => produced_enhanced[ji] = n > 0,
            Err(e) => out.failures.push(fail(job, e.to_string())),
        }
        found_by_job.push((ji, found));
    }

    let plan = query::plan(wants.wanted);
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
                    for &ti in &plan.asked_by[q] {
                        failed_jobs.entry(wants.target_job[ti]).or_insert_with(|| e.to_string());
                    }
                }
            }
        }
    }
    drop(answers);
    for (ji, e) in failed_jobs {
        out.failures.push(fail(jobs[ji], e));
    }

    // Every job's series of an answered query, each with its own labels; a series two jobs
    // define alike is exported once (YACE drops the duplicate too).
    let mut exported = Exported::default();
    let mut produced = produced_enhanced;
    for (wi, asked_by) in plan.asked_by.iter().enumerate() {
        let Some(p) = points.get(&wi) else { continue };
        let window = plan.wanted[wi].window;
        for &ti in asked_by {
            produced[wants.target_job[ti]] = true;
            let t = &wants.targets[ti];
            let read = series_of(&mut out, &mut exported, t, p, ctx);
            let value = read.filter(|v| !v.is_nan());
            out.last_read.push((t.key.clone(), LastRead { period: window.period, end: window.end, value }));
        }
    }
    out.skipped = wants.skipped.len();
    for (t, last, ji) in &wants.skipped {
        produced[*ji] = true;
        series_of_last_read(&mut out, &mut exported, t, last, ctx.run_ms);
        out.last_read.push((t.key.clone(), *last));
    }

    // YACE emits a job's `_info` series only when the job produced metrics in this region and role.
    let mut info_seen = Exported::default();
    for (ji, found) in &found_by_job {
        if produced[*ji] {
            let account = (connected.account_id.as_str(), connected.account_alias.as_deref());
            info_series(&mut out, &mut info_seen, jobs[*ji], found, scope, account, ctx);
        }
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
    let fresh = key
        .as_ref()
        .and_then(|k| ctx.state.discovery.get(k))
        .filter(|c| ctx.run_ms - c.fetched_ms < ctx.discovery_refresh_ms && c.account_id == connected.account_id);
    if let Some(c) = fresh {
        out.cached += 1;
        return Ok(c.found.clone());
    }
    let found = discover(api, &connected.session, &scope.region, job).await?;
    if let Some(key) = key {
        let entry =
            CachedDiscovery { fetched_ms: ctx.run_ms, account_id: connected.account_id.clone(), found: found.clone() };
        out.discovery.push((key, entry));
    }
    Ok(found)
}

/// The series a job's discovery asks for: one per found metric, metric spec and statistic.
fn want(
    wants: &mut Wants,
    ji: usize,
    job: &Job,
    found: &Discovered,
    scope: &Scope,
    connected: &Connected<impl Sized>,
    ctx: Context<'_>,
) {
    // YACE's `name` label: the resource's ARN or `global`; a custom namespace or static job's name.
    let (exported_tags, job_name): (&[String], Option<&str>) = match &job.kind {
        JobKind::Discovery { exported_tags, .. } => (exported_tags, None),
        JobKind::CustomNamespace { name } => (&[], Some(name.as_str())),
        JobKind::Static { name, .. } => (&[], Some(name.as_str())),
    };
    let labels =
        label_context(job, exported_tags, scope, &connected.account_id, connected.account_alias.as_deref(), ctx);
    let now_s = ctx.run_ms.div_euclid(1000);
    for f in &found.metrics {
        let resource = f.resource.and_then(|i| found.resources.get(i));
        let resource_name = match (job_name, resource) {
            (Some(n), _) => n,
            (None, Some(r)) => r.arn.as_str(),
            (None, None) => "global",
        };
        for spec in job.metrics.iter().filter(|m| m.name == f.metric.name) {
            for stat in &spec.statistics {
                let t = export::target(&f.metric, spec, stat, resource_name, resource, labels);
                let watermark =
                    if spec.add_cloudwatch_timestamp { ctx.state.watermarks.get(&t.key).copied() } else { None };
                let window = Window::at(now_s, spec.period, spec.length, spec.delay, watermark, ctx.max_backfill_s);
                // Not asked when the window's end has not moved since the last read: no new bucket
                // of the period can exist. Not for `exportAllDataPoints`: it exports every
                // datapoint of the window, and a late one can still join an older bucket.
                let last = ctx.state.last_read.get(&t.key).filter(|_| !spec.export_all_data_points);
                match last {
                    Some(last) if !last.has_news(window.period, window.end) => wants.skipped.push((t, *last, ji)),
                    _ => {
                        wants.wanted.push(Wanted { metric: f.metric.clone(), stat: stat.clone(), window });
                        wants.targets.push(t);
                        wants.target_job.push(ji);
                    }
                }
            }
        }
    }
}

/// What a job's labels are made of in a scope.
fn label_context<'a>(
    job: &'a Job,
    exported_tags: &'a [String],
    scope: &'a Scope,
    account_id: &'a str,
    account_alias: Option<&'a str>,
    ctx: Context<'_>,
) -> LabelContext<'a> {
    LabelContext {
        region: &scope.region,
        account_id,
        account_alias,
        custom_tags: &job.custom_tags,
        exported_tags,
        labels_snake_case: ctx.labels_snake_case,
        context_on_info: job.include_context_on_info_metrics,
    }
}

/// `aws_<namespace>_info`: one per resource of a discovery job, carrying its tags; the same
/// series from two jobs once.
fn info_series(
    out: &mut Collected,
    seen: &mut Exported,
    job: &Job,
    found: &Discovered,
    scope: &Scope,
    (account_id, account_alias): (&str, Option<&str>),
    ctx: Context<'_>,
) {
    let JobKind::Discovery { exported_tags, .. } = &job.kind else { return };
    let labels = label_context(job, exported_tags, scope, account_id, account_alias, ctx);
    let name = info_metric_name(&job.namespace);
    for r in &found.resources {
        let info_labels = export::info_labels(r, labels);
        if seen.first(&name, &info_labels) {
            match Series::new(&name, info_labels) {
                Ok(mut s) => {
                    s.push(ctx.run_ms, 0.0);
                    out.series.push(s);
                }
                Err(_) => out.drop_samples("invalid_labels", 1),
            }
        }
    }
}

/// A static job's series: one GetMetricStatistics request per metric (GET_METRIC_DATA_CONCURRENCY
/// at once), one sample per statistic as YACE chooses it, none when CloudWatch has no datapoint.
/// The first failed request is returned; the other metrics' series are kept.
async fn static_series<A: CloudWatchApi>(
    api: &A,
    connected: &Connected<A::Session>,
    job: &Job,
    found: &Discovered,
    scope: &Scope,
    ctx: Context<'_>,
    out: &mut Collected,
) -> Result<(), ApiError> {
    let JobKind::Static { name, .. } = &job.kind else { return Ok(()) };
    let alias = connected.account_alias.as_deref();
    let labels = label_context(job, &[], scope, &connected.account_id, alias, ctx);
    let mut exported = Exported::default();
    let asked = found
        .metrics
        .iter()
        .flat_map(|f| job.metrics.iter().filter(|m| m.name == f.metric.name).map(move |spec| (&f.metric, spec)));
    let mut answers = stream::iter(asked)
        .map(|(metric, spec)| async move {
            let request = statics::request(metric, spec, ctx.run_ms);
            (metric, spec, api.get_metric_statistics(&connected.session, request).await)
        })
        .buffered(ctx.get_metric_data_concurrency.max(1));
    let mut failed = None;
    while let Some((metric, spec, answer)) = answers.next().await {
        let points = match answer {
            Ok(points) => points,
            Err(e) => {
                failed.get_or_insert(e);
                continue;
            }
        };
        for stat in &spec.statistics {
            let Some(point) = statics::chosen(&points, stat) else { continue };
            series_of(out, &mut exported, &export::target(metric, spec, stat, name, None, labels), &[point], ctx);
        }
    }
    failed.map_or(Ok(()), Err)
}

/// A discovery job's `enhancedMetrics`, for the resources it found: one series each, at the
/// run's time.
async fn enhanced_series<A: CloudWatchApi>(
    api: &A,
    connected: &Connected<A::Session>,
    job: &Job,
    found: &Discovered,
    scope: &Scope,
    ctx: Context<'_>,
    out: &mut Collected,
) -> Result<usize, ApiError> {
    let JobKind::Discovery { exported_tags, .. } = &job.kind else { return Ok(0) };
    if job.enhanced_metrics.is_empty() {
        return Ok(0);
    }
    let alias = connected.account_alias.as_deref();
    let labels = label_context(job, exported_tags, scope, &connected.account_id, alias, ctx);
    let mut pushed = 0;
    let values =
        enhanced::values(api, &connected.session, &job.namespace, &found.resources, &job.enhanced_metrics).await?;
    for v in values {
        let resource = &found.resources[v.resource];
        let name = metric_name(&v.metric.namespace, &v.metric.name, "");
        let labels = export::metric_labels(&v.metric, &resource.arn, Some(resource), labels);
        match Series::new(&name, labels.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            Ok(mut s) => {
                s.push(ctx.run_ms, v.value);
                out.series.push(s);
                pushed += 1;
            }
            Err(e) => {
                tracing::warn!(series = %name, error = %e, "series dropped");
                out.drop_samples("invalid_labels", 1);
            }
        }
    }
    Ok(pushed)
}

/// The samples of one target from its datapoints, and its watermark when it keeps CloudWatch's
/// timestamps; nothing for a series already exported this run (counted as `duplicate_query`).
/// Returns the value pushed with the run's time (`addCloudwatchTimestamp: false`).
fn series_of(
    out: &mut Collected,
    exported: &mut Exported,
    t: &Target,
    points: &[(i64, f64)],
    ctx: Context<'_>,
) -> Option<f64> {
    let watermark = ctx.state.watermarks.get(&t.key).copied();
    let samples = export::samples(t, points, ctx.run_ms, watermark);
    let value = (!t.add_cloudwatch_timestamp).then(|| samples.last().map(|(_, v)| *v)).flatten();
    let Some(&(newest, _)) = samples.last() else { return value };
    if t.add_cloudwatch_timestamp {
        out.watermarks.push((t.key.clone(), newest));
    }
    push_series(out, exported, t, samples);
    value
}

/// A target not asked this run: with `addCloudwatchTimestamp: false` its last value again, at the
/// run's time (YACE would read the same buckets and export the same value); nothing otherwise,
/// since every datapoint of its window was pushed already.
fn series_of_last_read(out: &mut Collected, exported: &mut Exported, t: &Target, last: &LastRead, run_ms: i64) {
    if !t.add_cloudwatch_timestamp {
        push_series(out, exported, t, vec![(run_ms, last.value.unwrap_or(f64::NAN))]);
    }
}

fn push_series(out: &mut Collected, exported: &mut Exported, t: &Target, samples: Vec<(i64, f64)>) {
    let collided = t.label_collisions.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
    if let Err(first) = exported.claim(&t.name, &t.labels, &t.key) {
        // The same series asked twice; or another CloudWatch series that became the same
        // Prometheus series (YACE drops it too, counted only as a duplicate).
        if first == t.key {
            out.drop_samples("duplicate_query", samples.len() as u64);
        } else {
            tracing::warn!(series = %t.name, cloudwatch = %t.key, pushed = %first, labels = %collided, "series dropped: its labels came out the same as those of another CloudWatch series already pushed");
            out.drop_samples("label_collision", samples.len() as u64);
        }
        return;
    }
    if !collided.is_empty() {
        tracing::warn!(series = %t.name, cloudwatch = %t.key, labels = %collided, "keys sanitise to one label name: one value kept");
    }
    match Series::new(&t.name, t.labels.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        Ok(mut s) => {
            for (ts, v) in samples {
                s.push(ts, v);
            }
            out.series_keys.push((out.series.len(), t.key.clone()));
            out.series.push(s);
        }
        Err(e) => {
            tracing::warn!(series = %t.name, error = %e, "series dropped");
            out.drop_samples("invalid_labels", samples.len() as u64);
        }
    }
}

#[cfg(test)]
#[path = "collect_yace_cases.rs"]
mod yace_cases;

#[cfg(test)]
mod tests {
    //! The cache, pruning and exactly-once rules through a small in-test [`CloudWatchApi`];
    //! tests/cloudwatch_exporter.rs proves the same against moto and Prometheus.
    use std::collections::HashSet;
    use std::sync::Mutex;

    use super::*;
    use crate::aws::{Counted, Page};
    use crate::cache::referenced_keys;
    use crate::discovery::Resource;
    use crate::query::Call;
    use crate::state::Update;

    const OWN_ACCOUNT: &str = "111111111111";
    const MINUTE_MS: i64 = 60_000;
    /// 2023-11-14T22:13:00Z, on a minute boundary.
    const T0: i64 = 1_700_000_000_000 - 1_700_000_000_000 % MINUTE_MS;

    /// CloudWatch with the given metrics in every region, each answering `points`; a session is
    /// its region. ListMetrics answers one metric per page, so paging is exercised too.
    #[derive(Default)]
    struct FakeCloudWatch {
        metrics: Vec<MetricRef>,
        points: Mutex<Vec<(i64, f64)>>,
        /// Role ARNs whose AssumeRole is refused.
        refused_roles: Mutex<HashSet<String>>,
    }

    fn refused(api: &'static str, subject: &str) -> ApiError {
        ApiError { api, subject: subject.to_string(), message: "AccessDenied".into() }
    }

    impl CloudWatchApi for FakeCloudWatch {
        type Session = String;

        fn own_session(&self, region: &str) -> String {
            region.to_string()
        }

        async fn assume_role(
            &self,
            region: &str,
            _sts_region: &str,
            role: &Role,
        ) -> Result<(String, Option<String>), ApiError> {
            if self.refused_roles.lock().unwrap().contains(&role.role_arn) {
                return Err(refused("AssumeRole", &role.role_arn));
            }
            Ok((region.to_string(), role.role_arn.split(':').nth(4).map(str::to_string)))
        }

        async fn caller_account(&self, _session: &String) -> Result<String, ApiError> {
            Ok(OWN_ACCOUNT.into())
        }

        async fn list_metrics(
            &self,
            _session: &String,
            request: ListMetrics<'_>,
            next_token: Option<String>,
        ) -> Result<Page<MetricRef>, ApiError> {
            let matching: Vec<&MetricRef> = self
                .metrics
                .iter()
                .filter(|m| m.namespace == request.namespace && m.name == request.metric_name)
                .collect();
            let at: usize = next_token.map_or(0, |t| t.parse().unwrap());
            let items = matching.get(at).map(|m| vec![(*m).clone()]).unwrap_or_default();
            let next_token = (at + 1 < matching.len()).then(|| (at + 1).to_string());
            Ok(Page { items, next_token })
        }

        async fn get_resources(
            &self,
            _session: &String,
            _types: &[&str],
            _tag_keys: &[&str],
            _next_token: Option<String>,
        ) -> Result<Page<Resource>, ApiError> {
            Ok(Page { items: vec![], next_token: None })
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

    fn fake(metric_names: &[&str]) -> FakeCloudWatch {
        let metrics = metric_names
            .iter()
            .flat_map(|n| ["a", "b"].map(|shop| MetricRef::new("MyApp", n, vec![("Shop".into(), shop.into())])))
            .collect();
        FakeCloudWatch { metrics, ..Default::default() }
    }

    fn config(yaml: &str) -> ExporterConfig {
        ExporterConfig::from_yaml(yaml).unwrap()
    }

    /// A job over the metrics `names`, with its own credentials or `role`.
    fn job(names: &[&str], role: Option<&str>) -> String {
        let metrics: Vec<String> = names.iter().map(|n| format!("{{name: {n}}}")).collect();
        let roles = role.map_or(String::new(), |r| format!("    roles: [{{roleArn: '{r}'}}]\n"));
        format!(
            "  - name: shop\n    namespace: MyApp\n    regions: [us-east-1]\n{roles}    period: 60\n    statistics: [Sum]\n    addCloudwatchTimestamp: true\n    exportAllDataPoints: true\n    metrics: [{}]\n",
            metrics.join(", ")
        )
    }

    /// One run's collection and the state it leaves, as `run::run` commits it after a push.
    struct Runner<'a> {
        api: Counted<'a, FakeCloudWatch>,
        state: State,
        own_account: OnceCell<String>,
        account_aliases: AccountAliases,
    }

    impl<'a> Runner<'a> {
        fn new(api: &'a FakeCloudWatch) -> Self {
            Self {
                api: Counted::new(api),
                state: State::default(),
                own_account: OnceCell::new(),
                account_aliases: AccountAliases::default(),
            }
        }

        async fn run(&mut self, config: &ExporterConfig, run_ms: i64) -> Collected {
            let ctx = Context {
                state: &self.state,
                cache: true,
                run_ms,
                discovery_refresh_ms: 5 * MINUTE_MS,
                max_backfill_s: 3600,
                get_metric_data_concurrency: 2,
                sts_region: None,
                own_account: &self.own_account,
                account_aliases: &self.account_aliases,
                labels_snake_case: false,
            };
            let mut c = collect_all(&self.api, config, ctx).await;
            self.state.apply(Update {
                discovery: std::mem::take(&mut c.discovery),
                referenced: referenced_keys(config),
                watermarks: c.watermarks.clone(),
                horizon_ms: run_ms - 2 * 3600 * 1000,
                last_read: Some(std::mem::take(&mut c.last_read).into_iter().collect()),
            });
            c
        }

        fn requests(&self, api: &str) -> u64 {
            self.api.requests().get(api).copied().unwrap_or(0)
        }
    }

    fn samples(c: &Collected) -> Vec<(i64, f64)> {
        let mut out: Vec<(i64, f64)> =
            c.series.iter().flat_map(|s| s.to_proto().samples.into_iter().map(|x| (x.timestamp, x.value))).collect();
        out.sort_by(|a, b| a.partial_cmp(b).unwrap());
        out
    }

    #[tokio::test]
    async fn discovery_is_reused_while_fresh_and_in_the_same_account() {
        let api = fake(&["Orders"]);
        let mut r = Runner::new(&api);
        let c = config(&format!("customNamespace:\n{}", job(&["Orders"], None)));
        let first = r.run(&c, T0).await;
        assert_eq!((first.cached, first.queries), (0, 2), "{first:?}");
        assert_eq!(r.requests("ListMetrics"), 2, "two pages of one metric each");
        let second = r.run(&c, T0 + MINUTE_MS).await;
        assert_eq!((second.cached, second.queries), (1, 2), "{second:?}");
        assert_eq!(r.requests("ListMetrics"), 2, "no ListMetrics while the cache is fresh");
        r.run(&c, T0 + 6 * MINUTE_MS).await;
        assert_eq!(r.requests("ListMetrics"), 4, "asked again after DISCOVERY_REFRESH_SECONDS");
        assert_eq!(r.requests("GetCallerIdentity"), 1, "the own account once per process");

        // The same key found in another account (the state object moved) is not reused.
        for entry in r.state.discovery.values_mut() {
            entry.account_id = "999999999999".into();
        }
        let moved = r.run(&c, T0 + 7 * MINUTE_MS).await;
        assert_eq!(moved.cached, 0);
        assert_eq!(r.requests("ListMetrics"), 6);
    }

    #[tokio::test]
    async fn each_datapoint_is_collected_once_across_runs() {
        let api = fake(&["Orders"]);
        *api.points.lock().unwrap() = vec![(T0 - 3 * MINUTE_MS, 1.0), (T0 - 2 * MINUTE_MS, 2.0)];
        let mut r = Runner::new(&api);
        let c = config(&format!("customNamespace:\n{}", job(&["Orders"], None)));
        let first = r.run(&c, T0).await;
        let both = [
            (T0 - 3 * MINUTE_MS, 1.0),
            (T0 - 3 * MINUTE_MS, 1.0),
            (T0 - 2 * MINUTE_MS, 2.0),
            (T0 - 2 * MINUTE_MS, 2.0),
        ];
        assert_eq!(samples(&first), both, "two series (Shop a, b), two datapoints each");
        let again = r.run(&c, T0 + 10_000).await;
        assert_eq!(samples(&again), [], "nothing after the watermarks");
        api.points.lock().unwrap().push((T0 - MINUTE_MS, 3.0));
        let next = r.run(&c, T0 + MINUTE_MS).await;
        assert_eq!(samples(&next), [(T0 - MINUTE_MS, 3.0), (T0 - MINUTE_MS, 3.0)]);
    }

    #[tokio::test]
    async fn a_scope_that_fails_keeps_its_cached_discovery_and_a_removed_job_loses_it() {
        let api = fake(&["Orders"]);
        let mut r = Runner::new(&api);
        let role = "arn:aws:iam::222222222222:role/exporter";
        let both = config(&format!("customNamespace:\n{}{}", job(&["Orders"], None), job(&["Orders"], Some(role))));
        r.run(&both, T0).await;
        assert_eq!(r.state.discovery.len(), 2);
        assert_eq!(r.state.discovery.values().filter(|d| d.account_id == "222222222222").count(), 1);

        api.refused_roles.lock().unwrap().insert(role.into());
        let failed = r.run(&both, T0 + MINUTE_MS).await;
        assert_eq!(failed.failures.len(), 1, "{failed:?}");
        assert!(failed.failures[0].error.contains("AssumeRole arn:aws:iam::222222222222:role/exporter: AccessDenied"));
        assert_eq!(r.state.discovery.len(), 2, "the unreachable scope's entry is still referenced");

        let own_only = config(&format!("customNamespace:\n{}", job(&["Orders"], None)));
        r.run(&own_only, T0 + 2 * MINUTE_MS).await;
        assert_eq!(r.state.discovery.len(), 1, "no job references the role's entry any more");
        assert!(r.state.discovery.values().all(|d| d.account_id == OWN_ACCOUNT));
    }

    #[tokio::test]
    async fn the_state_stays_bounded_over_100_runs_with_config_edits() {
        let names: Vec<String> = (0..100).map(|i| format!("Edit{i}")).chain(["M0".into(), "M1".into()]).collect();
        let api = fake(&names.iter().map(String::as_str).collect::<Vec<_>>());
        let mut r = Runner::new(&api);
        let mut sizes = Vec::new();
        for (i, name) in names.iter().take(100).enumerate() {
            // Each run edits the first job (another metric) and, every other run, puts it last.
            let edited = job(&["M0", name], None);
            let fixed = job(&["M1"], Some("arn:aws:iam::222222222222:role/exporter"));
            let jobs = if i % 2 == 0 { format!("{edited}{fixed}") } else { format!("{fixed}{edited}") };
            let c = config(&format!("customNamespace:\n{jobs}"));
            let collected = r.run(&c, T0 + i as i64 * MINUTE_MS).await;
            assert!(collected.failures.is_empty(), "{collected:?}");
            assert_eq!(r.state.discovery.len(), 2, "run {i}: one entry per (job, scope) of the config");
            sizes.push(serde_json::to_vec(&r.state).unwrap().len());
        }
        let (first, max) = (sizes[0], *sizes.iter().max().unwrap());
        assert!(max <= first + first / 4, "the state grew from {first} to {max} bytes: {sizes:?}");
    }
}
