//! What a run asks AWS, as one trait with one API request per method (pagination is the
//! caller's loop), the SDK-backed type that implements it, and [`Counted`], the decorator that
//! gives the run its own `api_requests` figures. Connecting a (region, role) scope is built
//! from those requests in [`connect`]. Throttling is retried with backoff by the SDK's standard
//! retry policy; errors carry the SDK's full context.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Mutex;

use aws_config::retry::RetryConfig;
use aws_config::{Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_cloudwatch::config::http::HttpResponse;
use aws_sdk_cloudwatch::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, RecentlyActive, Statistic};
use aws_sdk_resourcegroupstagging::types::TagFilter;
use tokio::sync::OnceCell;

use crate::discovery::{MetricRef, Resource};
use crate::enhanced::{CacheCluster, DbInstance, LambdaFunction, Table, TableIndex};
use crate::query::{position_of, query_id, Call, Wanted};
use crate::resources::{
    Gateway, Protection, ReplicationInstance, ReplicationTask, RestApi, Tagged, TransitGatewayAttachment,
};
use crate::statics::{is_percentile, StatisticsDatapoint, StatisticsRequest};
use crate::yace::Role;

/// A failed AWS request, after the SDK's retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The API (`GetMetricData`).
    pub api: &'static str,
    /// What was asked (`MyApp Orders`, the role ARN), so the failure names the thing at fault.
    pub subject: String,
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.subject.is_empty() {
            write!(f, "{}: {}", self.api, self.message)
        } else {
            write!(f, "{} {}: {}", self.api, self.subject, self.message)
        }
    }
}

/// One page of a paginated answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_token: Option<String>,
}

/// Datapoints of one query: (timestamp ms, value), oldest first.
pub type Datapoints = Vec<(i64, f64)>;

/// A ListMetrics request for one metric name.
#[derive(Debug, Clone, Copy)]
pub struct ListMetrics<'a> {
    pub namespace: &'a str,
    pub metric_name: &'a str,
    /// Only metrics with a datapoint in the last 3 hours (`recentlyActiveOnly`).
    pub recently_active: bool,
}

/// What a run asks AWS. `Session` is one (region, credentials) pair: the clients a scope's
/// requests go through.
pub trait CloudWatchApi: Send + Sync {
    type Session: Send + Sync;

    /// The function's own credentials in `region` (no request).
    fn own_session(&self, region: &str) -> Self::Session;
    /// STS AssumeRole (sent to `sts_region`): the role's credentials in `region`, and the role's
    /// account when the answer's ARN carries it.
    fn assume_role(
        &self,
        region: &str,
        sts_region: &str,
        role: &Role,
    ) -> impl Future<Output = Result<(Self::Session, Option<String>), ApiError>> + Send;
    /// STS GetCallerIdentity: the account of the session's credentials.
    fn caller_account(&self, session: &Self::Session) -> impl Future<Output = Result<String, ApiError>> + Send;
    /// CloudWatch ListMetrics, one page. Duplicates are left for `discovery::dedupe`.
    fn list_metrics(
        &self,
        session: &Self::Session,
        request: ListMetrics<'_>,
        next_token: Option<String>,
    ) -> impl Future<Output = Result<Page<MetricRef>, ApiError>> + Send;
    /// tag:GetResources for the given resource types, one page of up to 100, with the resources'
    /// tags. `tag_keys` go as `TagFilters` without values (resources carrying each key, whatever
    /// its value), so AWS sends fewer pages; the search tags' values are matched afterwards.
    fn get_resources(
        &self,
        session: &Self::Session,
        resource_types: &[&str],
        tag_keys: &[&str],
        next_token: Option<String>,
    ) -> impl Future<Output = Result<Page<Resource>, ApiError>> + Send;
    /// CloudWatch GetMetricData, one page of one call: datapoints by position in `call.queries`
    /// (unsorted; a query's datapoints may span pages).
    fn get_metric_data(
        &self,
        session: &Self::Session,
        call: &Call,
        wanted: &[Wanted],
        next_token: Option<String>,
    ) -> impl Future<Output = Result<Page<(usize, Datapoints)>, ApiError>> + Send;

    // Static jobs, `account_alias` and enhanced metrics. The defaults answer that the request is
    // not served, so an implementation written for discovery alone (a test's) need not have them;
    // `AwsApi` and `Counted` implement each.

    /// CloudWatch GetMetricStatistics: a static job's metric, every statistic in one request.
    fn get_metric_statistics(
        &self,
        _session: &Self::Session,
        _request: StatisticsRequest<'_>,
    ) -> impl Future<Output = Result<Vec<StatisticsDatapoint>, ApiError>> + Send {
        std::future::ready(Err(not_served("GetMetricStatistics")))
    }
    /// IAM ListAccountAliases: the account's alias (an account has at most one).
    fn list_account_aliases(
        &self,
        _session: &Self::Session,
    ) -> impl Future<Output = Result<Vec<String>, ApiError>> + Send {
        std::future::ready(Err(not_served("ListAccountAliases")))
    }
    /// Lambda ListFunctions, one page (`next_token` is the marker).
    fn list_functions(
        &self,
        _session: &Self::Session,
        _marker: Option<String>,
    ) -> impl Future<Output = Result<Page<LambdaFunction>, ApiError>> + Send {
        std::future::ready(Err(not_served("ListFunctions")))
    }
    /// DynamoDB DescribeTable, by name or ARN.
    fn describe_table(
        &self,
        _session: &Self::Session,
        _table: &str,
    ) -> impl Future<Output = Result<Table, ApiError>> + Send {
        std::future::ready(Err(not_served("DescribeTable")))
    }
    /// RDS DescribeDBInstances filtered on `db-instance-id`, one page.
    fn describe_db_instances(
        &self,
        _session: &Self::Session,
        _identifiers: &[String],
        _marker: Option<String>,
    ) -> impl Future<Output = Result<Page<DbInstance>, ApiError>> + Send {
        std::future::ready(Err(not_served("DescribeDBInstances")))
    }
    /// ElastiCache DescribeCacheClusters, one page.
    fn describe_cache_clusters(
        &self,
        _session: &Self::Session,
        _marker: Option<String>,
    ) -> impl Future<Output = Result<Page<CacheCluster>, ApiError>> + Send {
        std::future::ready(Err(not_served("DescribeCacheClusters")))
    }

    // YACE's per-service resource lookups (resources.rs), one request each. The defaults answer
    // with an error, so an implementation that serves only CloudWatch (a test's) needs none of them.

    /// API Gateway GetRestApis (v1 REST APIs), one page of up to `limit`.
    fn get_rest_apis(
        &self,
        _session: &Self::Session,
        _limit: i32,
        _position: Option<String>,
    ) -> impl Future<Output = Result<Page<RestApi>, ApiError>> + Send {
        std::future::ready(Err(not_served("apigateway:GetRestApis")))
    }
    /// API Gateway v2 GetApis (HTTP and WebSocket APIs), one page: the API ids.
    fn get_apis(
        &self,
        _session: &Self::Session,
        _next_token: Option<String>,
    ) -> impl Future<Output = Result<Page<String>, ApiError>> + Send {
        std::future::ready(Err(not_served("apigateway:GetApis")))
    }
    /// Auto Scaling DescribeAutoScalingGroups, one page: each group's ARN and tags.
    fn describe_auto_scaling_groups(
        &self,
        _session: &Self::Session,
        _next_token: Option<String>,
    ) -> impl Future<Output = Result<Page<Tagged>, ApiError>> + Send {
        std::future::ready(Err(not_served("DescribeAutoScalingGroups")))
    }
    /// DMS DescribeReplicationInstances, one page.
    fn describe_replication_instances(
        &self,
        _session: &Self::Session,
        _marker: Option<String>,
    ) -> impl Future<Output = Result<Page<ReplicationInstance>, ApiError>> + Send {
        std::future::ready(Err(not_served("dms:DescribeReplicationInstances")))
    }
    /// DMS DescribeReplicationTasks, one page.
    fn describe_replication_tasks(
        &self,
        _session: &Self::Session,
        _marker: Option<String>,
    ) -> impl Future<Output = Result<Page<ReplicationTask>, ApiError>> + Send {
        std::future::ready(Err(not_served("dms:DescribeReplicationTasks")))
    }
    /// EC2 DescribeSpotFleetRequests, one page: each request's id and tags.
    fn describe_spot_fleet_requests(
        &self,
        _session: &Self::Session,
        _next_token: Option<String>,
    ) -> impl Future<Output = Result<Page<Tagged>, ApiError>> + Send {
        std::future::ready(Err(not_served("DescribeSpotFleetRequests")))
    }
    /// EC2 DescribeTransitGatewayAttachments, one page.
    fn describe_transit_gateway_attachments(
        &self,
        _session: &Self::Session,
        _next_token: Option<String>,
    ) -> impl Future<Output = Result<Page<TransitGatewayAttachment>, ApiError>> + Send {
        std::future::ready(Err(not_served("DescribeTransitGatewayAttachments")))
    }
    /// Amazon Managed Service for Prometheus ListWorkspaces, one page: each workspace's ARN and tags.
    fn list_workspaces(
        &self,
        _session: &Self::Session,
        _next_token: Option<String>,
    ) -> impl Future<Output = Result<Page<Tagged>, ApiError>> + Send {
        std::future::ready(Err(not_served("aps:ListWorkspaces")))
    }
    /// Storage Gateway ListGateways, one page.
    fn list_gateways(
        &self,
        _session: &Self::Session,
        _marker: Option<String>,
    ) -> impl Future<Output = Result<Page<Gateway>, ApiError>> + Send {
        std::future::ready(Err(not_served("storagegateway:ListGateways")))
    }
    /// Storage Gateway ListTagsForResource, the first page (as YACE asks it).
    fn list_gateway_tags(
        &self,
        _session: &Self::Session,
        _gateway_arn: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>, ApiError>> + Send {
        std::future::ready(Err(not_served("storagegateway:ListTagsForResource")))
    }
    /// Shield ListProtections, one page of up to `max_results`.
    fn list_protections(
        &self,
        _session: &Self::Session,
        _max_results: i32,
        _next_token: Option<String>,
    ) -> impl Future<Output = Result<Page<Protection>, ApiError>> + Send {
        std::future::ready(Err(not_served("shield:ListProtections")))
    }
}

fn not_served(api: &'static str) -> ApiError {
    ApiError { api, subject: String::new(), message: "not served by this CloudWatchApi".into() }
}

/// tag:GetResources' page size: the most it allows, as YACE asks.
const RESOURCES_PER_PAGE: i32 = 100;

/// The SDK clients, built from the function's base config; each request is retried by the
/// standard retry mode (`AWS_API_MAX_ATTEMPTS` attempts: throttling and transient errors).
#[derive(Debug, Clone)]
pub struct AwsApi {
    base: SdkConfig,
    max_attempts: u32,
}

/// The clients of one (region, credentials) pair.
#[derive(Debug, Clone)]
pub struct AwsSession {
    region: String,
    cloudwatch: aws_sdk_cloudwatch::Client,
    tagging: aws_sdk_resourcegroupstagging::Client,
    sts: aws_sdk_sts::Client,
    iam: aws_sdk_iam::Client,
    lambda: aws_sdk_lambda::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    rds: aws_sdk_rds::Client,
    elasticache: aws_sdk_elasticache::Client,
    // YACE's per-service resource lookups. Building a client sends nothing, so each scope
    // has them all; a job asks only its namespace's.
    apigateway: aws_sdk_apigateway::Client,
    apigatewayv2: aws_sdk_apigatewayv2::Client,
    autoscaling: aws_sdk_autoscaling::Client,
    dms: aws_sdk_databasemigration::Client,
    ec2: aws_sdk_ec2::Client,
    amp: aws_sdk_amp::Client,
    storagegateway: aws_sdk_storagegateway::Client,
    shield: aws_sdk_shield::Client,
}

impl AwsApi {
    pub fn new(base: &SdkConfig, max_attempts: u32) -> Self {
        Self { base: base.clone(), max_attempts }
    }

    fn session(&self, region: &str, credentials: Option<SharedCredentialsProvider>) -> AwsSession {
        let mut builder = self
            .base
            .to_builder()
            .region(Region::new(region.to_string()))
            .retry_config(RetryConfig::standard().with_max_attempts(self.max_attempts));
        if let Some(c) = credentials {
            builder = builder.credentials_provider(c);
        }
        let config = builder.build();
        AwsSession {
            region: region.to_string(),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&config),
            tagging: aws_sdk_resourcegroupstagging::Client::new(&config),
            sts: aws_sdk_sts::Client::new(&config),
            iam: aws_sdk_iam::Client::new(&config),
            lambda: aws_sdk_lambda::Client::new(&config),
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
            rds: aws_sdk_rds::Client::new(&config),
            elasticache: aws_sdk_elasticache::Client::new(&config),
            apigateway: aws_sdk_apigateway::Client::new(&config),
            apigatewayv2: aws_sdk_apigatewayv2::Client::new(&config),
            autoscaling: aws_sdk_autoscaling::Client::new(&config),
            dms: aws_sdk_databasemigration::Client::new(&config),
            ec2: aws_sdk_ec2::Client::new(&config),
            amp: aws_sdk_amp::Client::new(&config),
            storagegateway: aws_sdk_storagegateway::Client::new(&config),
            shield: aws_sdk_shield::Client::new(&config),
        }
    }
}

fn api_error<E: ProvideErrorMetadata + std::error::Error + 'static>(
    api: &'static str,
    subject: impl Into<String>,
) -> impl FnOnce(SdkError<E, HttpResponse>) -> ApiError {
    let subject = subject.into();
    move |e| ApiError { api, subject, message: promstack::aws::describe(&e) }
}

/// An empty or absent token ends the pages.
fn next(token: Option<&str>) -> Option<String> {
    token.filter(|t| !t.is_empty()).map(str::to_string)
}

impl CloudWatchApi for AwsApi {
    type Session = AwsSession;

    fn own_session(&self, region: &str) -> AwsSession {
        self.session(region, None)
    }

    async fn assume_role(
        &self,
        region: &str,
        sts_region: &str,
        role: &Role,
    ) -> Result<(AwsSession, Option<String>), ApiError> {
        let sts_config = self.base.to_builder().region(Region::new(sts_region.to_string())).build();
        let mut req = aws_sdk_sts::Client::new(&sts_config)
            .assume_role()
            .role_arn(&role.role_arn)
            .role_session_name("promstack-cloudwatch-exporter");
        if !role.external_id.is_empty() {
            req = req.external_id(&role.external_id);
        }
        let out = req.send().await.map_err(api_error("AssumeRole", &role.role_arn))?;
        let c = out.credentials().ok_or_else(|| ApiError {
            api: "AssumeRole",
            subject: role.role_arn.clone(),
            message: "no credentials in the answer".into(),
        })?;
        let credentials = aws_credential_types::Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            std::time::SystemTime::try_from(*c.expiration()).ok(),
            "AssumeRole",
        );
        let account = out.assumed_role_user().and_then(|u| account_of_arn(u.arn())).map(str::to_string);
        Ok((self.session(region, Some(SharedCredentialsProvider::new(credentials))), account))
    }

    async fn caller_account(&self, session: &AwsSession) -> Result<String, ApiError> {
        let out = session
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(api_error("GetCallerIdentity", format!("in {}", session.region)))?;
        Ok(out.account().unwrap_or_default().to_string())
    }

    async fn list_metrics(
        &self,
        session: &AwsSession,
        request: ListMetrics<'_>,
        next_token: Option<String>,
    ) -> Result<Page<MetricRef>, ApiError> {
        let ListMetrics { namespace, metric_name, recently_active } = request;
        let mut req = session.cloudwatch.list_metrics().namespace(namespace).metric_name(metric_name);
        if recently_active {
            req = req.recently_active(RecentlyActive::Pt3H);
        }
        let page = req
            .set_next_token(next_token)
            .send()
            .await
            .map_err(api_error("ListMetrics", format!("{namespace} {metric_name}")))?;
        let items = page
            .metrics()
            .iter()
            .map(|m| {
                let dims = m
                    .dimensions()
                    .iter()
                    .map(|d| (d.name().unwrap_or_default().to_string(), d.value().unwrap_or_default().to_string()))
                    .collect();
                MetricRef::new(m.namespace().unwrap_or(namespace), m.metric_name().unwrap_or(metric_name), dims)
            })
            .collect();
        Ok(Page { items, next_token: next(page.next_token()) })
    }

    async fn get_resources(
        &self,
        session: &AwsSession,
        resource_types: &[&str],
        tag_keys: &[&str],
        next_token: Option<String>,
    ) -> Result<Page<Resource>, ApiError> {
        let tag_filters = tag_keys.iter().map(|k| TagFilter::builder().key(*k).build()).collect::<Vec<_>>();
        let page = session
            .tagging
            .get_resources()
            .set_resource_type_filters(Some(resource_types.iter().map(|f| f.to_string()).collect()))
            .set_tag_filters((!tag_filters.is_empty()).then_some(tag_filters))
            .resources_per_page(RESOURCES_PER_PAGE)
            .set_pagination_token(next_token)
            .send()
            .await
            .map_err(api_error("tag:GetResources", format!("{resource_types:?}")))?;
        let items = page
            .resource_tag_mapping_list()
            .iter()
            .filter_map(|r| {
                let tags = r.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
                Some(Resource { arn: r.resource_arn()?.to_string(), tags })
            })
            .collect();
        Ok(Page { items, next_token: next(page.pagination_token()) })
    }

    async fn get_metric_data(
        &self,
        session: &AwsSession,
        call: &Call,
        wanted: &[Wanted],
        next_token: Option<String>,
    ) -> Result<Page<(usize, Datapoints)>, ApiError> {
        let subject = || format!("({} queries)", call.queries.len());
        let page = session
            .cloudwatch
            .get_metric_data()
            .set_metric_data_queries(Some(metric_data_queries(call, wanted)))
            .start_time(DateTime::from_secs(call.window.start))
            .end_time(DateTime::from_secs(call.window.end))
            .set_next_token(next_token)
            .send()
            .await
            .map_err(api_error("GetMetricData", subject()))?;
        let mut items = Vec::with_capacity(page.metric_data_results().len());
        for result in page.metric_data_results() {
            let Some(position) = result.id().and_then(position_of).filter(|p| *p < call.queries.len()) else {
                continue;
            };
            let mut points = Vec::with_capacity(result.values().len());
            for (ts, value) in result.timestamps().iter().zip(result.values()) {
                let ms = ts.to_millis().map_err(|e| ApiError {
                    api: "GetMetricData",
                    subject: subject(),
                    message: format!("bad timestamp {ts}: {e}"),
                })?;
                points.push((ms, *value));
            }
            items.push((position, points));
        }
        Ok(Page { items, next_token: next(page.next_token()) })
    }

    async fn get_metric_statistics(
        &self,
        session: &AwsSession,
        request: StatisticsRequest<'_>,
    ) -> Result<Vec<StatisticsDatapoint>, ApiError> {
        let metric = request.metric;
        let subject = || format!("{} {}", metric.namespace, metric.name);
        let (extended, statistics): (Vec<&String>, Vec<&String>) =
            request.statistics.iter().partition(|s| is_percentile(s));
        let out = session
            .cloudwatch
            .get_metric_statistics()
            .namespace(&metric.namespace)
            .metric_name(&metric.name)
            .set_dimensions(Some(
                metric.dimensions.iter().map(|(n, v)| Dimension::builder().name(n).value(v).build()).collect(),
            ))
            .start_time(DateTime::from_millis(request.start_ms))
            .end_time(DateTime::from_millis(request.end_ms))
            .period(request.period as i32)
            .set_statistics(
                (!statistics.is_empty()).then(|| statistics.iter().map(|s| Statistic::from(s.as_str())).collect()),
            )
            .set_extended_statistics((!extended.is_empty()).then(|| extended.iter().map(|s| s.to_string()).collect()))
            .send()
            .await
            .map_err(api_error("GetMetricStatistics", subject()))?;
        let mut points = Vec::with_capacity(out.datapoints().len());
        for d in out.datapoints() {
            let Some(ts) = d.timestamp() else { continue };
            let timestamp_ms = ts.to_millis().map_err(|e| ApiError {
                api: "GetMetricStatistics",
                subject: subject(),
                message: format!("bad timestamp {ts}: {e}"),
            })?;
            let standard = [
                ("Average", d.average()),
                ("Maximum", d.maximum()),
                ("Minimum", d.minimum()),
                ("Sum", d.sum()),
                ("SampleCount", d.sample_count()),
            ];
            let mut values: BTreeMap<String, f64> =
                standard.into_iter().filter_map(|(k, v)| Some((k.to_string(), v?))).collect();
            values.extend(d.extended_statistics().into_iter().flatten().map(|(k, v)| (k.clone(), *v)));
            points.push(StatisticsDatapoint { timestamp_ms, values });
        }
        Ok(points)
    }

    async fn list_account_aliases(&self, session: &AwsSession) -> Result<Vec<String>, ApiError> {
        let out = session.iam.list_account_aliases().send().await.map_err(api_error("ListAccountAliases", ""))?;
        Ok(out.account_aliases().to_vec())
    }

    async fn list_functions(
        &self,
        session: &AwsSession,
        marker: Option<String>,
    ) -> Result<Page<LambdaFunction>, ApiError> {
        let page = session
            .lambda
            .list_functions()
            .max_items(50)
            .set_marker(marker)
            .send()
            .await
            .map_err(api_error("ListFunctions", format!("in {}", session.region)))?;
        let items = page
            .functions()
            .iter()
            .filter_map(|f| {
                Some(LambdaFunction {
                    arn: f.function_arn()?.to_string(),
                    name: f.function_name().map(str::to_string),
                    timeout: f.timeout(),
                    memory_size: f.memory_size(),
                })
            })
            .collect();
        Ok(Page { items, next_token: next(page.next_marker()) })
    }

    async fn describe_table(&self, session: &AwsSession, table: &str) -> Result<Table, ApiError> {
        let out = session
            .dynamodb
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(api_error("DescribeTable", table))?;
        let t = out.table().ok_or_else(|| ApiError {
            api: "DescribeTable",
            subject: table.to_string(),
            message: "no table in the answer".into(),
        })?;
        Ok(Table {
            arn: t.table_arn().unwrap_or(table).to_string(),
            name: t.table_name().map(str::to_string),
            item_count: t.item_count(),
            size_bytes: t.table_size_bytes(),
            global_secondary_indexes: t
                .global_secondary_indexes()
                .iter()
                .map(|i| TableIndex {
                    name: i.index_name().map(str::to_string),
                    item_count: i.item_count(),
                    size_bytes: i.index_size_bytes(),
                })
                .collect(),
        })
    }

    async fn describe_db_instances(
        &self,
        session: &AwsSession,
        identifiers: &[String],
        marker: Option<String>,
    ) -> Result<Page<DbInstance>, ApiError> {
        let filter =
            aws_sdk_rds::types::Filter::builder().name("db-instance-id").set_values(Some(identifiers.to_vec())).build();
        let page = session
            .rds
            .describe_db_instances()
            .filters(filter)
            .max_records(100)
            .set_marker(marker)
            .send()
            .await
            .map_err(api_error("DescribeDBInstances", format!("{identifiers:?}")))?;
        let items = page
            .db_instances()
            .iter()
            .filter_map(|d| {
                Some(DbInstance {
                    arn: d.db_instance_arn()?.to_string(),
                    identifier: d.db_instance_identifier().map(str::to_string),
                    class: d.db_instance_class().map(str::to_string),
                    engine: d.engine().map(str::to_string),
                    allocated_storage: d.allocated_storage(),
                })
            })
            .collect();
        Ok(Page { items, next_token: next(page.marker()) })
    }

    async fn describe_cache_clusters(
        &self,
        session: &AwsSession,
        marker: Option<String>,
    ) -> Result<Page<CacheCluster>, ApiError> {
        let page = session
            .elasticache
            .describe_cache_clusters()
            .max_records(100)
            .show_cache_node_info(true)
            .set_marker(marker)
            .send()
            .await
            .map_err(api_error("DescribeCacheClusters", format!("in {}", session.region)))?;
        let items = page
            .cache_clusters()
            .iter()
            .filter_map(|c| {
                Some(CacheCluster {
                    arn: c.arn()?.to_string(),
                    id: c.cache_cluster_id().map(str::to_string),
                    replication_group_id: c.replication_group_id().map(str::to_string),
                    num_cache_nodes: c.num_cache_nodes(),
                })
            })
            .collect();
        Ok(Page { items, next_token: next(page.marker()) })
    }

    async fn get_rest_apis(
        &self,
        session: &AwsSession,
        limit: i32,
        position: Option<String>,
    ) -> Result<Page<RestApi>, ApiError> {
        let page = session
            .apigateway
            .get_rest_apis()
            .limit(limit)
            .set_position(position)
            .send()
            .await
            .map_err(api_error("apigateway:GetRestApis", format!("in {}", session.region)))?;
        let items = page
            .items()
            .iter()
            .filter_map(|a| Some(RestApi { id: a.id()?.to_string(), name: a.name()?.to_string() }))
            .collect();
        Ok(Page { items, next_token: next(page.position()) })
    }

    async fn get_apis(&self, session: &AwsSession, next_token: Option<String>) -> Result<Page<String>, ApiError> {
        let page = session
            .apigatewayv2
            .get_apis()
            .set_next_token(next_token)
            .send()
            .await
            .map_err(api_error("apigateway:GetApis", format!("in {}", session.region)))?;
        let items = page.items().iter().filter_map(|a| a.api_id().map(str::to_string)).collect();
        Ok(Page { items, next_token: next(page.next_token()) })
    }

    async fn describe_auto_scaling_groups(
        &self,
        session: &AwsSession,
        next_token: Option<String>,
    ) -> Result<Page<Tagged>, ApiError> {
        let page = session
            .autoscaling
            .describe_auto_scaling_groups()
            .set_next_token(next_token)
            .send()
            .await
            .map_err(api_error("DescribeAutoScalingGroups", format!("in {}", session.region)))?;
        let items = page
            .auto_scaling_groups()
            .iter()
            .filter_map(|g| {
                let tags = g
                    .tags()
                    .iter()
                    .map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string()))
                    .collect();
                Some(Tagged { id: g.auto_scaling_group_arn()?.to_string(), tags })
            })
            .collect();
        Ok(Page { items, next_token: next(page.next_token()) })
    }

    async fn describe_replication_instances(
        &self,
        session: &AwsSession,
        marker: Option<String>,
    ) -> Result<Page<ReplicationInstance>, ApiError> {
        let page = session
            .dms
            .describe_replication_instances()
            .set_marker(marker)
            .send()
            .await
            .map_err(api_error("dms:DescribeReplicationInstances", format!("in {}", session.region)))?;
        let items = page
            .replication_instances()
            .iter()
            .filter_map(|i| {
                Some(ReplicationInstance {
                    arn: i.replication_instance_arn()?.to_string(),
                    identifier: i.replication_instance_identifier()?.to_string(),
                })
            })
            .collect();
        Ok(Page { items, next_token: next(page.marker()) })
    }

    async fn describe_replication_tasks(
        &self,
        session: &AwsSession,
        marker: Option<String>,
    ) -> Result<Page<ReplicationTask>, ApiError> {
        let page = session
            .dms
            .describe_replication_tasks()
            .set_marker(marker)
            .send()
            .await
            .map_err(api_error("dms:DescribeReplicationTasks", format!("in {}", session.region)))?;
        let items = page
            .replication_tasks()
            .iter()
            .filter_map(|t| {
                Some(ReplicationTask {
                    arn: t.replication_task_arn()?.to_string(),
                    instance_arn: t.replication_instance_arn()?.to_string(),
                })
            })
            .collect();
        Ok(Page { items, next_token: next(page.marker()) })
    }

    async fn describe_spot_fleet_requests(
        &self,
        session: &AwsSession,
        next_token: Option<String>,
    ) -> Result<Page<Tagged>, ApiError> {
        let page = session
            .ec2
            .describe_spot_fleet_requests()
            .set_next_token(next_token)
            .send()
            .await
            .map_err(api_error("DescribeSpotFleetRequests", format!("in {}", session.region)))?;
        let items = page
            .spot_fleet_request_configs()
            .iter()
            .filter_map(|f| Some(Tagged { id: f.spot_fleet_request_id()?.to_string(), tags: ec2_tags(f.tags()) }))
            .collect();
        Ok(Page { items, next_token: next(page.next_token()) })
    }

    async fn describe_transit_gateway_attachments(
        &self,
        session: &AwsSession,
        next_token: Option<String>,
    ) -> Result<Page<TransitGatewayAttachment>, ApiError> {
        let page = session
            .ec2
            .describe_transit_gateway_attachments()
            .set_next_token(next_token)
            .send()
            .await
            .map_err(api_error("DescribeTransitGatewayAttachments", format!("in {}", session.region)))?;
        let items = page
            .transit_gateway_attachments()
            .iter()
            .filter_map(|a| {
                Some(TransitGatewayAttachment {
                    transit_gateway_id: a.transit_gateway_id()?.to_string(),
                    attachment_id: a.transit_gateway_attachment_id()?.to_string(),
                    tags: ec2_tags(a.tags()),
                })
            })
            .collect();
        Ok(Page { items, next_token: next(page.next_token()) })
    }

    async fn list_workspaces(
        &self,
        session: &AwsSession,
        next_token: Option<String>,
    ) -> Result<Page<Tagged>, ApiError> {
        let page = session
            .amp
            .list_workspaces()
            .set_next_token(next_token)
            .send()
            .await
            .map_err(api_error("aps:ListWorkspaces", format!("in {}", session.region)))?;
        let items = page
            .workspaces()
            .iter()
            .map(|w| {
                let mut tags: Vec<(String, String)> =
                    w.tags().into_iter().flatten().map(|(k, v)| (k.clone(), v.clone())).collect();
                tags.sort();
                Tagged { id: w.arn().to_string(), tags }
            })
            .collect();
        Ok(Page { items, next_token: next(page.next_token()) })
    }

    async fn list_gateways(&self, session: &AwsSession, marker: Option<String>) -> Result<Page<Gateway>, ApiError> {
        let page = session
            .storagegateway
            .list_gateways()
            .set_marker(marker)
            .send()
            .await
            .map_err(api_error("storagegateway:ListGateways", format!("in {}", session.region)))?;
        let items = page
            .gateways()
            .iter()
            .filter_map(|g| {
                Some(Gateway {
                    id: g.gateway_id()?.to_string(),
                    name: g.gateway_name()?.to_string(),
                    arn: g.gateway_arn()?.to_string(),
                })
            })
            .collect();
        Ok(Page { items, next_token: next(page.marker()) })
    }

    async fn list_gateway_tags(
        &self,
        session: &AwsSession,
        gateway_arn: &str,
    ) -> Result<Vec<(String, String)>, ApiError> {
        let out = session
            .storagegateway
            .list_tags_for_resource()
            .resource_arn(gateway_arn)
            .send()
            .await
            .map_err(api_error("storagegateway:ListTagsForResource", gateway_arn))?;
        Ok(out.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect())
    }

    async fn list_protections(
        &self,
        session: &AwsSession,
        max_results: i32,
        next_token: Option<String>,
    ) -> Result<Page<Protection>, ApiError> {
        let page = session
            .shield
            .list_protections()
            .max_results(max_results)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(api_error("shield:ListProtections", format!("in {}", session.region)))?;
        let items = page
            .protections()
            .iter()
            .filter_map(|p| {
                Some(Protection {
                    resource_arn: p.resource_arn()?.to_string(),
                    protection_arn: p.protection_arn()?.to_string(),
                })
            })
            .collect();
        Ok(Page { items, next_token: next(page.next_token()) })
    }
}

/// An EC2 answer's tags as (key, value).
fn ec2_tags(tags: &[aws_sdk_ec2::types::Tag]) -> Vec<(String, String)> {
    tags.iter().map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string())).collect()
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

/// The account field of an ARN (`arn:aws:sts::123456789012:assumed-role/...`), if it has one.
pub fn account_of_arn(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
}

/// A connected scope: the session its requests go through and the account for its labels.
pub struct Connected<S> {
    pub session: S,
    pub account_id: String,
    /// YACE's `account_alias` label; `None` when the account has no alias or IAM would not say.
    pub account_alias: Option<String>,
}

/// The account alias of each role (the empty role: the function's own credentials), asked once
/// per process as `own_account` is: IAM ListAccountAliases, kept once it answered (an account
/// without an alias too). A failed request is not kept, so the next run asks again.
#[derive(Debug, Default)]
pub struct AccountAliases {
    by_role: Mutex<HashMap<String, Option<String>>>,
}

impl AccountAliases {
    /// The alias of the account behind `session` (assumed from `role`), from the cache or IAM.
    /// As YACE: a failure is a warning and the series go out without the label.
    pub async fn get<A: CloudWatchApi>(&self, api: &A, session: &A::Session, role: &Role) -> Option<String> {
        if let Some(alias) = self.by_role.lock().expect("account alias lock").get(&role.role_arn) {
            return alias.clone();
        }
        match api.list_account_aliases(session).await {
            Ok(aliases) => {
                let alias = aliases.into_iter().next().filter(|a| !a.is_empty());
                self.by_role.lock().expect("account alias lock").insert(role.role_arn.clone(), alias.clone());
                alias
            }
            Err(e) => {
                tracing::warn!(role = %role.role_arn, error = %e, "no account_alias label: ListAccountAliases failed");
                None
            }
        }
    }
}

/// The session for `region` with `role` assumed (an empty role: the function's own credentials).
/// `sts_region` (YACE's `sts-region`) is where AssumeRole goes; by default the scope's region.
///
/// The `account_id` label costs no request per run: an assumed role's account is in the ARN
/// that AssumeRole returns, and the function's own account is asked once (GetCallerIdentity) and
/// kept in `own_account` for the life of the process (a warm Lambda's later runs). The
/// `account_alias` label is asked the same way, per role, in `aliases`.
pub async fn connect<A: CloudWatchApi>(
    api: &A,
    region: &str,
    sts_region: Option<&str>,
    role: &Role,
    own_account: &OnceCell<String>,
    aliases: &AccountAliases,
) -> Result<Connected<A::Session>, ApiError> {
    let (session, account_id) = if role.role_arn.is_empty() {
        let session = api.own_session(region);
        let account_id = own_account.get_or_try_init(|| api.caller_account(&session)).await?.clone();
        (session, account_id)
    } else {
        let (session, account) = api.assume_role(region, sts_region.unwrap_or(region), role).await?;
        let account_id = match account {
            Some(account) => account,
            None => api.caller_account(&session).await?,
        };
        (session, account_id)
    };
    let account_alias = aliases.get(api, &session, role).await;
    Ok(Connected { session, account_id, account_alias })
}

/// Every page of ListMetrics for one metric name.
pub async fn list_all_metrics<A: CloudWatchApi>(
    api: &A,
    session: &A::Session,
    request: ListMetrics<'_>,
) -> Result<Vec<MetricRef>, ApiError> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = api.list_metrics(session, request, token).await?;
        out.extend(page.items);
        match page.next_token {
            Some(t) => token = Some(t),
            None => return Ok(out),
        }
    }
}

/// Every page of tag:GetResources for the given resource types and tag keys.
pub async fn get_all_resources<A: CloudWatchApi>(
    api: &A,
    session: &A::Session,
    resource_types: &[&str],
    tag_keys: &[&str],
) -> Result<Vec<Resource>, ApiError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = api.get_resources(session, resource_types, tag_keys, token.clone()).await?;
        out.extend(page.items);
        match page.next_token {
            // A token repeated ends the pages, as YACE's paginator stops on a duplicate token.
            Some(t) if token.as_deref() != Some(t.as_str()) => token = Some(t),
            _ => return Ok(out),
        }
    }
}

/// Every page of one GetMetricData call: the datapoints per index into `wanted`, sorted by
/// time, one per timestamp.
pub async fn get_all_metric_data<A: CloudWatchApi>(
    api: &A,
    session: &A::Session,
    call: &Call,
    wanted: &[Wanted],
) -> Result<Vec<(usize, Datapoints)>, ApiError> {
    let mut points: Vec<Datapoints> = vec![Vec::new(); call.queries.len()];
    let mut token = None;
    loop {
        let page = api.get_metric_data(session, call, wanted, token).await?;
        for (position, p) in page.items {
            if let Some(slot) = points.get_mut(position) {
                slot.extend(p);
            }
        }
        match page.next_token {
            Some(t) => token = Some(t),
            None => break,
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

/// Counts each request by API name (the run's `cloudwatch_exporter_run_api_requests{api}`) and
/// passes it on.
pub struct Counted<'a, A> {
    inner: &'a A,
    requests: Mutex<BTreeMap<&'static str, u64>>,
}

impl<'a, A> Counted<'a, A> {
    pub fn new(inner: &'a A) -> Self {
        Self { inner, requests: Mutex::default() }
    }

    fn count(&self, api: &'static str) {
        *self.requests.lock().expect("request counter lock").entry(api).or_default() += 1;
    }

    /// Requests so far, by API.
    pub fn requests(&self) -> BTreeMap<&'static str, u64> {
        self.requests.lock().expect("request counter lock").clone()
    }
}

impl<A: CloudWatchApi> CloudWatchApi for Counted<'_, A> {
    type Session = A::Session;

    fn own_session(&self, region: &str) -> Self::Session {
        self.inner.own_session(region)
    }

    async fn assume_role(
        &self,
        region: &str,
        sts_region: &str,
        role: &Role,
    ) -> Result<(Self::Session, Option<String>), ApiError> {
        self.count("AssumeRole");
        self.inner.assume_role(region, sts_region, role).await
    }

    async fn caller_account(&self, session: &Self::Session) -> Result<String, ApiError> {
        self.count("GetCallerIdentity");
        self.inner.caller_account(session).await
    }

    async fn list_metrics(
        &self,
        session: &Self::Session,
        request: ListMetrics<'_>,
        next_token: Option<String>,
    ) -> Result<Page<MetricRef>, ApiError> {
        self.count("ListMetrics");
        self.inner.list_metrics(session, request, next_token).await
    }

    async fn get_resources(
        &self,
        session: &Self::Session,
        resource_types: &[&str],
        tag_keys: &[&str],
        next_token: Option<String>,
    ) -> Result<Page<Resource>, ApiError> {
        self.count("GetResources");
        self.inner.get_resources(session, resource_types, tag_keys, next_token).await
    }

    async fn get_metric_data(
        &self,
        session: &Self::Session,
        call: &Call,
        wanted: &[Wanted],
        next_token: Option<String>,
    ) -> Result<Page<(usize, Datapoints)>, ApiError> {
        self.count("GetMetricData");
        self.inner.get_metric_data(session, call, wanted, next_token).await
    }

    async fn get_metric_statistics(
        &self,
        session: &Self::Session,
        request: StatisticsRequest<'_>,
    ) -> Result<Vec<StatisticsDatapoint>, ApiError> {
        self.count("GetMetricStatistics");
        self.inner.get_metric_statistics(session, request).await
    }

    async fn list_account_aliases(&self, session: &Self::Session) -> Result<Vec<String>, ApiError> {
        self.count("ListAccountAliases");
        self.inner.list_account_aliases(session).await
    }

    async fn list_functions(
        &self,
        session: &Self::Session,
        marker: Option<String>,
    ) -> Result<Page<LambdaFunction>, ApiError> {
        self.count("ListFunctions");
        self.inner.list_functions(session, marker).await
    }

    async fn describe_table(&self, session: &Self::Session, table: &str) -> Result<Table, ApiError> {
        self.count("DescribeTable");
        self.inner.describe_table(session, table).await
    }

    async fn describe_db_instances(
        &self,
        session: &Self::Session,
        identifiers: &[String],
        marker: Option<String>,
    ) -> Result<Page<DbInstance>, ApiError> {
        self.count("DescribeDBInstances");
        self.inner.describe_db_instances(session, identifiers, marker).await
    }

    async fn describe_cache_clusters(
        &self,
        session: &Self::Session,
        marker: Option<String>,
    ) -> Result<Page<CacheCluster>, ApiError> {
        self.count("DescribeCacheClusters");
        self.inner.describe_cache_clusters(session, marker).await
    }

    async fn get_rest_apis(
        &self,
        session: &Self::Session,
        limit: i32,
        position: Option<String>,
    ) -> Result<Page<RestApi>, ApiError> {
        self.count("GetRestApis");
        self.inner.get_rest_apis(session, limit, position).await
    }

    async fn get_apis(&self, session: &Self::Session, next_token: Option<String>) -> Result<Page<String>, ApiError> {
        self.count("GetApis");
        self.inner.get_apis(session, next_token).await
    }

    async fn describe_auto_scaling_groups(
        &self,
        session: &Self::Session,
        next_token: Option<String>,
    ) -> Result<Page<Tagged>, ApiError> {
        self.count("DescribeAutoScalingGroups");
        self.inner.describe_auto_scaling_groups(session, next_token).await
    }

    async fn describe_replication_instances(
        &self,
        session: &Self::Session,
        marker: Option<String>,
    ) -> Result<Page<ReplicationInstance>, ApiError> {
        self.count("DescribeReplicationInstances");
        self.inner.describe_replication_instances(session, marker).await
    }

    async fn describe_replication_tasks(
        &self,
        session: &Self::Session,
        marker: Option<String>,
    ) -> Result<Page<ReplicationTask>, ApiError> {
        self.count("DescribeReplicationTasks");
        self.inner.describe_replication_tasks(session, marker).await
    }

    async fn describe_spot_fleet_requests(
        &self,
        session: &Self::Session,
        next_token: Option<String>,
    ) -> Result<Page<Tagged>, ApiError> {
        self.count("DescribeSpotFleetRequests");
        self.inner.describe_spot_fleet_requests(session, next_token).await
    }

    async fn describe_transit_gateway_attachments(
        &self,
        session: &Self::Session,
        next_token: Option<String>,
    ) -> Result<Page<TransitGatewayAttachment>, ApiError> {
        self.count("DescribeTransitGatewayAttachments");
        self.inner.describe_transit_gateway_attachments(session, next_token).await
    }

    async fn list_workspaces(
        &self,
        session: &Self::Session,
        next_token: Option<String>,
    ) -> Result<Page<Tagged>, ApiError> {
        self.count("ListWorkspaces");
        self.inner.list_workspaces(session, next_token).await
    }

    async fn list_gateways(&self, session: &Self::Session, marker: Option<String>) -> Result<Page<Gateway>, ApiError> {
        self.count("ListGateways");
        self.inner.list_gateways(session, marker).await
    }

    async fn list_gateway_tags(
        &self,
        session: &Self::Session,
        gateway_arn: &str,
    ) -> Result<Vec<(String, String)>, ApiError> {
        self.count("ListTagsForResource");
        self.inner.list_gateway_tags(session, gateway_arn).await
    }

    async fn list_protections(
        &self,
        session: &Self::Session,
        max_results: i32,
        next_token: Option<String>,
    ) -> Result<Page<Protection>, ApiError> {
        self.count("ListProtections");
        self.inner.list_protections(session, max_results, next_token).await
    }
}

#[cfg(test)]
#[path = "account_alias_cases.rs"]
mod account_alias_cases;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::{plan, Window};

    #[test]
    fn percentile_statistics_are_sent_as_the_stat_of_their_own_query() {
        let window = Window { period: 60, start: 1_700_000_000 - 300, end: 1_700_000_000 };
        let metric =
            MetricRef::new("AWS/ApplicationELB", "TargetResponseTime", vec![("LoadBalancer".into(), "app/a/1".into())]);
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

    #[test]
    fn errors_name_the_api_and_what_was_asked() {
        let e = ApiError { api: "ListMetrics", subject: "MyApp Orders".into(), message: "denied".into() };
        assert_eq!(e.to_string(), "ListMetrics MyApp Orders: denied");
        let e = ApiError { api: "GetCallerIdentity", subject: String::new(), message: "denied".into() };
        assert_eq!(e.to_string(), "GetCallerIdentity: denied");
    }
}
