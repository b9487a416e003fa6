//! Where a streamed metric's `name` and tag labels come from: the same association as the
//! polling path. The config's discovery and custom-namespace jobs for the datum's namespace and
//! region (those that list its metric first) are tried with each of their roles; the first
//! whose account is the datum's decides:
//!
//! - a custom-namespace job: `name` is the job's name;
//! - a discovery job: the resources its search tags select ([`resources::find`]) tied to the
//!   metric by the namespace's ARN regexps ([`Associator`]): `name` is the resource's ARN, or
//!   `global`; a metric whose resource was not selected is not exported, as when polling, and
//!   neither is anything of a job whose namespace expects resources and found none.
//!
//! A datum that no job covers is exported with `name="global"` and the context labels only.
//!
//! The resources are kept per (job, region, role) under the polling path's discovery cache key
//! ([`discovery_key`]) for `DISCOVERY_REFRESH_SECONDS`: in memory for the warm container, and in
//! the state bucket. A cold container takes the fresher of the polling path's entry (when it runs
//! too) and the stream's own cache object's, and asks the tagging API only when neither is fresh.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use aws_sdk_s3::primitives::ByteStream;

use crate::aws::{self, ApiError, CloudWatchApi};
use crate::cache::{discovery_key, referenced_keys};
use crate::discovery::{dimensions_match, Association, Associator, Discovered, MetricRef, Resource};
use crate::resources::{self, Lookup};
use crate::state::CachedDiscovery;
use crate::yace::{ExporterConfig, Job, JobKind, Role};
use crate::Deps;

use super::Datum;

/// The stream's own discovery cache in the state bucket, next to the polling path's state.
pub const CACHE_KEY: &str = "cloudwatch-exporter/metric-stream-discovery.json";

/// One job's resources in one region and role.
pub struct Scoped {
    pub fetched_ms: i64,
    pub account_id: String,
    pub account_alias: Option<String>,
    pub resources: Vec<Resource>,
    associator: Option<Associator>,
}

/// Where a datum goes.
pub enum Placement<'a> {
    /// Labelled as `job` labels it; `resource` indexes `scoped.resources` (`None`: `global`, or
    /// the job's name for a custom namespace).
    Job { job: &'a Job, scoped: Arc<Scoped>, resource: Option<usize> },
    /// No job covers it: `name="global"`, context labels only.
    Unconfigured,
    /// A job covers it and would not export it (its resource was not selected).
    NotSelected,
}

/// The resources of each (job, region, role) the stream has needed, by discovery cache key.
#[derive(Default)]
pub struct Associations {
    entries: Mutex<HashMap<String, Arc<Scoped>>>,
}

impl Associations {
    /// Where `datum` goes under `config`. A failed lookup fails the request (Firehose retries):
    /// a label set made without it would be another series.
    pub async fn place<'c, A: CloudWatchApi>(
        &self,
        deps: &Deps<A>,
        config: &'c ExporterConfig,
        datum: &Datum,
        now_ms: i64,
    ) -> Result<Placement<'c>, ApiError> {
        let metric = MetricRef::new(&datum.namespace, &datum.metric_name, datum.dimensions.clone());
        let covering = |j: &&Job| {
            !matches!(j.kind, JobKind::Static { .. })
                && j.namespace == datum.namespace
                && j.regions.contains(&datum.region)
                && dimensions_match(&metric, &j.dimension_name_requirements)
        };
        let lists_metric = |j: &&Job| j.metrics.iter().any(|m| m.name == datum.metric_name);
        let jobs = config.jobs.iter().filter(covering);
        let (first, then): (Vec<&Job>, Vec<&Job>) = jobs.partition(lists_metric);
        for job in first.into_iter().chain(then) {
            for role in &job.roles {
                let scoped = self.scoped(deps, config, job, &datum.region, role, now_ms).await?;
                if scoped.account_id != datum.account_id {
                    continue;
                }
                let JobKind::Discovery { service, .. } = &job.kind else {
                    return Ok(Placement::Job { job, scoped, resource: None });
                };
                if scoped.resources.is_empty() && resources::expects_resources(service) {
                    return Ok(Placement::NotSelected);
                }
                let association = scoped.associator.as_ref().map_or(Association::Global, |a| a.associate(&metric));
                return Ok(match association {
                    Association::Resource(ri) => Placement::Job { job, scoped, resource: Some(ri) },
                    Association::Global => Placement::Job { job, scoped, resource: None },
                    Association::Skip => Placement::NotSelected,
                });
            }
        }
        Ok(Placement::Unconfigured)
    }

    async fn scoped<A: CloudWatchApi>(
        &self,
        deps: &Deps<A>,
        config: &ExporterConfig,
        job: &Job,
        region: &str,
        role: &Role,
        now_ms: i64,
    ) -> Result<Arc<Scoped>, ApiError> {
        let key = discovery_key(job, region, role);
        let refresh_ms = deps.settings.discovery_refresh.as_millis() as i64;
        let fresh = |fetched_ms: i64| now_ms - fetched_ms < refresh_ms;
        if let Some(s) = self.entries.lock().expect("associations lock").get(&key).filter(|s| fresh(s.fetched_ms)) {
            return Ok(s.clone());
        }
        let connected = aws::connect(
            &deps.api,
            region,
            config.sts_region.as_deref(),
            role,
            &deps.own_account,
            &deps.account_aliases,
        )
        .await?;
        let cached = match &job.kind {
            JobKind::Discovery { .. } => self.cached(deps, &key).await,
            _ => None,
        };
        let (fetched_ms, resources) = match cached {
            Some(c) if fresh(c.fetched_ms) && c.account_id == connected.account_id => (c.fetched_ms, c.found.resources),
            _ => {
                let resources = match &job.kind {
                    JobKind::Discovery { service, search_tags, .. } => {
                        match resources::find(&deps.api, &connected.session, region, service, search_tags).await? {
                            Lookup::Resources(r) => r,
                            Lookup::ExpectedButNone => vec![],
                        }
                    }
                    _ => vec![],
                };
                if matches!(job.kind, JobKind::Discovery { .. }) {
                    let found = Discovered { resources: resources.clone(), metrics: vec![] };
                    let entry = CachedDiscovery { fetched_ms: now_ms, account_id: connected.account_id.clone(), found };
                    self.keep(deps, config, &key, entry).await;
                }
                (now_ms, resources)
            }
        };
        let associator = match &job.kind {
            JobKind::Discovery { service, .. } => Some(Associator::new(service.compiled_regexps(), &resources)),
            _ => None,
        };
        let scoped = Arc::new(Scoped {
            fetched_ms,
            account_id: connected.account_id,
            account_alias: connected.account_alias,
            resources,
            associator,
        });
        self.entries.lock().expect("associations lock").insert(key, scoped.clone());
        Ok(scoped)
    }

    /// The fresher of the polling path's and the stream's cached entry for `key`. A cache that
    /// cannot be read is a miss (logged): the tagging API is asked instead.
    async fn cached<A: CloudWatchApi>(&self, deps: &Deps<A>, key: &str) -> Option<CachedDiscovery> {
        let location = deps.settings.state.as_ref()?;
        let polled = match &deps.state {
            Some(store) => match store.load().await {
                Ok(v) => v.state.discovery.get(key).cloned(),
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the polling path's discovery cache");
                    None
                }
            },
            None => None,
        };
        let streamed = read_cache(&deps.s3, &location.bucket).await.remove(key);
        [polled, streamed].into_iter().flatten().max_by_key(|c| c.fetched_ms)
    }

    /// Adds `entry` to the stream's cache object, dropping the entries no job of the config uses.
    /// Concurrent containers may overwrite each other's entries: the loser's are asked again.
    async fn keep<A: CloudWatchApi>(&self, deps: &Deps<A>, config: &ExporterConfig, key: &str, entry: CachedDiscovery) {
        let Some(location) = &deps.settings.state else { return };
        let mut all = read_cache(&deps.s3, &location.bucket).await;
        let referenced = referenced_keys(config);
        all.retain(|k, _| referenced.contains(k));
        all.insert(key.to_string(), entry);
        let body = serde_json::to_vec(&all).expect("the cache serialises");
        let put = deps.s3.put_object().bucket(&location.bucket).key(CACHE_KEY).body(ByteStream::from(body)).send();
        if let Err(e) = put.await {
            let e = aws_sdk_s3::error::DisplayErrorContext(&e);
            tracing::warn!(bucket = %location.bucket, key = CACHE_KEY, error = %e, "could not keep the stream's discovery cache");
        }
    }
}

async fn read_cache(s3: &aws_sdk_s3::Client, bucket: &str) -> BTreeMap<String, CachedDiscovery> {
    let got = match s3.get_object().bucket(bucket).key(CACHE_KEY).send().await {
        Ok(got) => got,
        Err(e) => {
            if !e.as_service_error().is_some_and(|e| e.is_no_such_key()) {
                let e = aws_sdk_s3::error::DisplayErrorContext(&e);
                tracing::warn!(bucket, key = CACHE_KEY, error = %e, "could not read the stream's discovery cache");
            }
            return BTreeMap::new();
        }
    };
    let bytes = match got.body.collect().await {
        Ok(b) => b.into_bytes(),
        Err(e) => {
            tracing::warn!(bucket, key = CACHE_KEY, error = %e, "could not read the stream's discovery cache");
            return BTreeMap::new();
        }
    };
    serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        tracing::warn!(bucket, key = CACHE_KEY, error = %e, "the stream's discovery cache does not parse; starting afresh");
        BTreeMap::new()
    })
}
