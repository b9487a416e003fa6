//! YACE's `enhancedMetrics`: values CloudWatch does not have, read from the services' own APIs
//! for the resources a discovery job found (`pkg/internal/enhancedmetrics`). Six of them:
//! Lambda `Timeout` and `MemorySize` (ListFunctions), DynamoDB `ItemCount` and `TableSizeBytes`
//! (DescribeTable per table, with `IndexSizeBytes`/`ItemCount` per global secondary index), RDS
//! `AllocatedStorage` (DescribeDBInstances) and ElastiCache `NumCacheNodes`
//! (DescribeCacheClusters). Each becomes a series named like a CloudWatch metric without a
//! statistic (`aws_lambda_timeout`), with the resource's ARN as `name`, the dimensions YACE builds
//! for it, and the run's time.

use std::collections::HashMap;

use crate::aws::{ApiError, CloudWatchApi, Page};
use crate::discovery::{MetricRef, Resource};

/// The namespaces with enhanced metrics and the names each supports (YACE's registry).
pub const SUPPORTED: [(&str, &[&str]); 4] = [
    ("AWS/DynamoDB", &["ItemCount", "TableSizeBytes"]),
    ("AWS/ElastiCache", &["NumCacheNodes"]),
    ("AWS/Lambda", &["MemorySize", "Timeout"]),
    ("AWS/RDS", &["AllocatedStorage"]),
];

/// The enhanced metrics `namespace` supports, if it has any.
pub fn supported(namespace: &str) -> Option<&'static [&'static str]> {
    SUPPORTED.iter().find(|(ns, _)| *ns == namespace).map(|(_, names)| *names)
}

/// A Lambda function as ListFunctions describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LambdaFunction {
    pub arn: String,
    pub name: Option<String>,
    /// Seconds.
    pub timeout: Option<i32>,
    /// MiB.
    pub memory_size: Option<i32>,
}

/// A DynamoDB table as DescribeTable describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub arn: String,
    pub name: Option<String>,
    pub item_count: Option<i64>,
    pub size_bytes: Option<i64>,
    pub global_secondary_indexes: Vec<TableIndex>,
}

/// A global secondary index of a table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableIndex {
    pub name: Option<String>,
    pub item_count: Option<i64>,
    pub size_bytes: Option<i64>,
}

/// An RDS DB instance as DescribeDBInstances describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DbInstance {
    pub arn: String,
    pub identifier: Option<String>,
    pub class: Option<String>,
    pub engine: Option<String>,
    /// GiB.
    pub allocated_storage: Option<i32>,
}

/// An ElastiCache cluster as DescribeCacheClusters describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CacheCluster {
    pub arn: String,
    pub id: Option<String>,
    pub replication_group_id: Option<String>,
    pub num_cache_nodes: Option<i32>,
}

/// One enhanced-metric value: the metric (namespace, name, dimensions) and the index of its
/// resource in the resources it was asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub metric: MetricRef,
    pub resource: usize,
    pub value: f64,
}

/// YACE's `dbInstanceIdentifierFromARN`: the identifier of an RDS DB instance ARN
/// (`arn:aws:rds:<region>:<account>:db:<id>`); clusters, proxies and other ARNs have none.
pub fn db_instance_identifier(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (prefix, _partition, service, _region, _account) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let resource = parts.next()?;
    if prefix != "arn" || service != "rds" {
        return None;
    }
    let (kind, id) = resource.split_once(':')?;
    (kind == "db" && !id.is_empty() && !id.contains(':')).then_some(id)
}

/// The enhanced metrics `names` of a discovery job in `namespace`, for its `resources`, in
/// YACE's order (by resource, then by name). Names the namespace does not support are skipped;
/// no request is sent without a resource or a supported name. A failed listing fails the whole
/// namespace (as YACE's `loadMetricsMetadata`); a DynamoDB table that cannot be described is
/// skipped with a warning.
pub async fn values<A: CloudWatchApi>(
    api: &A,
    session: &A::Session,
    namespace: &str,
    resources: &[Resource],
    names: &[String],
) -> Result<Vec<Value>, ApiError> {
    let Some(supported) = supported(namespace) else {
        tracing::warn!(namespace, "no enhanced metrics for this namespace");
        return Ok(vec![]);
    };
    let names: Vec<&str> = names.iter().map(String::as_str).filter(|n| supported.contains(n)).collect();
    if resources.is_empty() || names.is_empty() {
        return Ok(vec![]);
    }
    let mut out = Vec::new();
    match namespace {
        "AWS/Lambda" => {
            let functions: HashMap<String, LambdaFunction> = all_pages(|marker| api.list_functions(session, marker))
                .await?
                .into_iter()
                .map(|f| (f.arn.clone(), f))
                .collect();
            for (ri, r) in resources.iter().enumerate() {
                let Some(f) = functions.get(&r.arn) else { continue };
                for name in &names {
                    out.extend(lambda_value(f, name).map(|(metric, value)| Value { metric, resource: ri, value }));
                }
            }
        }
        "AWS/DynamoDB" => {
            let mut tables = HashMap::new();
            for r in resources {
                match api.describe_table(session, &r.arn).await {
                    Ok(t) => {
                        tables.insert(t.arn.clone(), t);
                    }
                    Err(e) => tracing::warn!(table = %r.arn, error = %e, "enhanced metrics: table skipped"),
                }
            }
            for (ri, r) in resources.iter().enumerate() {
                let Some(t) = tables.get(&r.arn) else { continue };
                for name in &names {
                    out.extend(table_values(t, name).into_iter().map(|(metric, value)| Value {
                        metric,
                        resource: ri,
                        value,
                    }));
                }
            }
        }
        "AWS/RDS" => {
            let instances: Vec<(usize, &str)> = resources
                .iter()
                .enumerate()
                .filter_map(|(ri, r)| Some((ri, db_instance_identifier(&r.arn)?)))
                .collect();
            if instances.is_empty() {
                return Ok(vec![]);
            }
            let ids: Vec<String> = instances.iter().map(|(_, id)| id.to_string()).collect();
            let described: HashMap<String, DbInstance> =
                all_pages(|marker| api.describe_db_instances(session, &ids, marker))
                    .await?
                    .into_iter()
                    .map(|d| (d.arn.clone(), d))
                    .collect();
            for (ri, _) in instances {
                let Some(d) = described.get(&resources[ri].arn) else { continue };
                for name in &names {
                    out.extend(db_value(d, name).map(|(metric, value)| Value { metric, resource: ri, value }));
                }
            }
        }
        "AWS/ElastiCache" => {
            let clusters: HashMap<String, CacheCluster> =
                all_pages(|marker| api.describe_cache_clusters(session, marker))
                    .await?
                    .into_iter()
                    .map(|c| (c.arn.clone(), c))
                    .collect();
            for (ri, r) in resources.iter().enumerate() {
                let Some(c) = clusters.get(&r.arn) else { continue };
                for name in &names {
                    out.extend(cache_value(c, name).map(|(metric, value)| Value { metric, resource: ri, value }));
                }
            }
        }
        _ => {}
    }
    Ok(out)
}

/// Every page of a listing, following its marker.
async fn all_pages<T, F, Fut>(mut page: F) -> Result<Vec<T>, ApiError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>, ApiError>>,
{
    let mut out = Vec::new();
    let mut marker = None;
    loop {
        let p = page(marker).await?;
        out.extend(p.items);
        match p.next_token {
            Some(m) => marker = Some(m),
            None => return Ok(out),
        }
    }
}

fn dims(pairs: &[(&str, Option<&String>)]) -> Vec<(String, String)> {
    pairs.iter().filter_map(|(n, v)| Some((n.to_string(), (*v)?.clone()))).collect()
}

/// Lambda: `Timeout` in seconds, `MemorySize` in bytes, with the `FunctionName` dimension.
fn lambda_value(f: &LambdaFunction, name: &str) -> Option<(MetricRef, f64)> {
    let value = match name {
        "Timeout" => f64::from(f.timeout?),
        "MemorySize" => f64::from(f.memory_size?) * 1024.0 * 1024.0,
        _ => return None,
    };
    Some((MetricRef::new("AWS/Lambda", name, dims(&[("FunctionName", f.name.as_ref())])), value))
}

/// What a global secondary index has of a table metric.
type IndexValue = fn(&TableIndex) -> Option<i64>;

/// DynamoDB: the table's `ItemCount` or `TableSizeBytes` (`TableName`), then one per global
/// secondary index that has the value and a name (`ItemCount`, or `IndexSizeBytes` for the size;
/// `TableName` and `GlobalSecondaryIndexName`). Nothing when the table lacks the value.
fn table_values(t: &Table, name: &str) -> Vec<(MetricRef, f64)> {
    let (table_value, index_metric, index_value): (_, _, IndexValue) = match name {
        "ItemCount" => (t.item_count, "ItemCount", |i| i.item_count),
        "TableSizeBytes" => (t.size_bytes, "IndexSizeBytes", |i| i.size_bytes),
        _ => return vec![],
    };
    let Some(v) = table_value else { return vec![] };
    let table_dims = dims(&[("TableName", t.name.as_ref())]);
    let mut out = vec![(MetricRef::new("AWS/DynamoDB", name, table_dims.clone()), v as f64)];
    for index in &t.global_secondary_indexes {
        let (Some(v), Some(index_name)) = (index_value(index), index.name.as_ref()) else { continue };
        let mut d = table_dims.clone();
        d.push(("GlobalSecondaryIndexName".into(), index_name.clone()));
        out.push((MetricRef::new("AWS/DynamoDB", index_metric, d), v as f64));
    }
    out
}

/// RDS: `AllocatedStorage` in bytes, with `DBInstanceIdentifier`, `DatabaseClass` and
/// `EngineName` where the instance has them.
fn db_value(d: &DbInstance, name: &str) -> Option<(MetricRef, f64)> {
    if name != "AllocatedStorage" {
        return None;
    }
    let value = f64::from(d.allocated_storage?) * 1024.0 * 1024.0 * 1024.0;
    let non_empty = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
    let (id, class, engine) = (non_empty(&d.identifier), non_empty(&d.class), non_empty(&d.engine));
    let d = dims(&[
        ("DBInstanceIdentifier", id.as_ref()),
        ("DatabaseClass", class.as_ref()),
        ("EngineName", engine.as_ref()),
    ]);
    Some((MetricRef::new("AWS/RDS", name, d), value))
}

/// ElastiCache: `NumCacheNodes`, with `CacheClusterId` and `ReplicationGroupId`.
fn cache_value(c: &CacheCluster, name: &str) -> Option<(MetricRef, f64)> {
    if name != "NumCacheNodes" {
        return None;
    }
    let d = dims(&[("CacheClusterId", c.id.as_ref()), ("ReplicationGroupId", c.replication_group_id.as_ref())]);
    Some((MetricRef::new("AWS/ElastiCache", name, d), f64::from(c.num_cache_nodes?)))
}

#[cfg(test)]
#[path = "enhanced_yace_cases.rs"]
mod yace_cases;
