//! YACE's enhanced-metrics cases through a small in-test [`CloudWatchApi`] that answers the
//! services' listings from fixed data, one item per page so the paging is exercised too.
//!
//! YACE's "wrong namespace" rows (a resource whose `Namespace` is not the service's) have no
//! counterpart here: promstack's resources are always those of the job's own namespace.

use std::sync::Mutex;

use super::*;
use crate::export::{metric_labels, LabelContext};
use crate::naming::metric_name;

#[derive(Default)]
struct Services {
    functions: Vec<LambdaFunction>,
    tables: Vec<Table>,
    instances: Vec<DbInstance>,
    clusters: Vec<CacheCluster>,
    /// Listings answer this error.
    fail: bool,
    /// The `db-instance-id` filters DescribeDBInstances received, and every request sent.
    filters: Mutex<Vec<Vec<String>>>,
    requests: Mutex<Vec<&'static str>>,
}

fn denied(api: &'static str) -> ApiError {
    ApiError { api, subject: String::new(), message: "mock describe error".into() }
}

/// Item `marker` of `items` (one per page).
fn page<T: Clone>(items: &[T], marker: Option<String>) -> Page<T> {
    let at: usize = marker.map_or(0, |m| m.parse().unwrap());
    Page {
        items: items.get(at).cloned().into_iter().collect(),
        next_token: (at + 1 < items.len()).then(|| (at + 1).to_string()),
    }
}

impl Services {
    fn asked(&self, api: &'static str) -> Result<(), ApiError> {
        self.requests.lock().unwrap().push(api);
        if self.fail {
            Err(denied(api))
        } else {
            Ok(())
        }
    }
    fn requests(&self) -> Vec<&'static str> {
        self.requests.lock().unwrap().clone()
    }
}

impl CloudWatchApi for Services {
    type Session = ();

    fn own_session(&self, _region: &str) {}
    async fn assume_role(
        &self,
        _region: &str,
        _sts_region: &str,
        _role: &crate::yace::Role,
    ) -> Result<((), Option<String>), ApiError> {
        unreachable!("not asked by enhanced metrics")
    }
    async fn caller_account(&self, _session: &()) -> Result<String, ApiError> {
        unreachable!("not asked by enhanced metrics")
    }
    async fn list_metrics(
        &self,
        _session: &(),
        _request: crate::aws::ListMetrics<'_>,
        _next_token: Option<String>,
    ) -> Result<Page<MetricRef>, ApiError> {
        unreachable!("not asked by enhanced metrics")
    }
    async fn get_resources(
        &self,
        _session: &(),
        _resource_types: &[&str],
        _tag_keys: &[&str],
        _next_token: Option<String>,
    ) -> Result<Page<Resource>, ApiError> {
        unreachable!("not asked by enhanced metrics")
    }
    async fn get_metric_data(
        &self,
        _session: &(),
        _call: &crate::query::Call,
        _wanted: &[crate::query::Wanted],
        _next_token: Option<String>,
    ) -> Result<Page<(usize, crate::aws::Datapoints)>, ApiError> {
        unreachable!("not asked by enhanced metrics")
    }
    async fn list_functions(&self, _session: &(), marker: Option<String>) -> Result<Page<LambdaFunction>, ApiError> {
        self.asked("ListFunctions")?;
        Ok(page(&self.functions, marker))
    }
    async fn describe_table(&self, _session: &(), table: &str) -> Result<Table, ApiError> {
        self.asked("DescribeTable")?;
        self.tables.iter().find(|t| t.arn == table).cloned().ok_or_else(|| denied("DescribeTable"))
    }
    async fn describe_db_instances(
        &self,
        _session: &(),
        identifiers: &[String],
        marker: Option<String>,
    ) -> Result<Page<DbInstance>, ApiError> {
        self.asked("DescribeDBInstances")?;
        self.filters.lock().unwrap().push(identifiers.to_vec());
        Ok(page(&self.instances, marker))
    }
    async fn describe_cache_clusters(
        &self,
        _session: &(),
        marker: Option<String>,
    ) -> Result<Page<CacheCluster>, ApiError> {
        self.asked("DescribeCacheClusters")?;
        Ok(page(&self.clusters, marker))
    }
}

fn resources(arns: &[&str]) -> Vec<Resource> {
    arns.iter().map(|a| Resource { arn: a.to_string(), tags: vec![] }).collect()
}

fn names(n: &[&str]) -> Vec<String> {
    n.iter().map(|s| s.to_string()).collect()
}

fn run(api: &Services, namespace: &str, resources: &[Resource], metrics: &[&str]) -> Result<Vec<Value>, ApiError> {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(values(api, &(), namespace, resources, &names(metrics)))
}

fn function(name: &str, timeout: Option<i32>, memory: Option<i32>) -> LambdaFunction {
    LambdaFunction {
        arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{name}"),
        name: Some(name.into()),
        timeout,
        memory_size: memory,
    }
}

fn db(name: &str, storage: i32) -> DbInstance {
    DbInstance {
        arn: format!("arn:aws:rds:us-east-1:123456789012:db:{name}"),
        identifier: Some(name.into()),
        class: Some("db.t3.micro".into()),
        engine: Some("postgres".into()),
        allocated_storage: Some(storage),
    }
}

fn cluster(id: &str, nodes: i32) -> CacheCluster {
    CacheCluster {
        arn: format!("arn:aws:elasticache:us-east-1:123456789012:cluster:{id}"),
        id: Some(id.into()),
        num_cache_nodes: Some(nodes),
        ..Default::default()
    }
}

/// A value as (metric name, dimensions, resource index, value).
type Summary = (String, Vec<(String, String)>, usize, f64);

fn summary(values: &[Value]) -> Vec<Summary> {
    values.iter().map(|v| (v.metric.name.clone(), v.metric.dimensions.clone(), v.resource, v.value)).collect()
}

fn d(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    out.sort();
    out
}

// YACE 1a0ddb1e pkg/internal/enhancedmetrics/registry_test.go (TestDefaultRegistry) and each
// service's service_test.go (ListSupportedEnhancedMetrics): four namespaces, six metrics.
#[test]
fn the_registry_has_yaces_four_namespaces_and_six_metrics() {
    assert_eq!(supported("AWS/RDS"), Some(&["AllocatedStorage"][..]));
    assert_eq!(supported("AWS/Lambda"), Some(&["MemorySize", "Timeout"][..]));
    assert_eq!(supported("AWS/DynamoDB"), Some(&["ItemCount", "TableSizeBytes"][..]));
    assert_eq!(supported("AWS/ElastiCache"), Some(&["NumCacheNodes"][..]));
    assert_eq!(supported("AWS/NonExistent"), None);
    assert_eq!(supported("AWS/Test"), None);
}

// YACE 1a0ddb1e pkg/internal/enhancedmetrics/service/lambda/service_test.go (TestLambda_GetMetrics)
#[test]
fn lambda_cases() {
    let functions = vec![function("test", Some(300), None)];
    let api = Services { functions: functions.clone(), ..Default::default() };
    let test = "arn:aws:lambda:us-east-1:123456789012:function:test";
    // empty resources returns empty; empty enhanced metrics returns empty: no request either.
    assert_eq!(run(&api, "AWS/Lambda", &[], &["Timeout"]).unwrap(), []);
    assert_eq!(run(&api, "AWS/Lambda", &resources(&[test]), &[]).unwrap(), []);
    assert_eq!(api.requests(), Vec::<&str>::new());
    // successfully received single metric
    let got = run(&api, "AWS/Lambda", &resources(&[test]), &["Timeout"]).unwrap();
    assert_eq!(summary(&got), [("Timeout".into(), d(&[("FunctionName", "test")]), 0, 300.0)]);
    // skips unsupported metrics
    assert_eq!(run(&api, "AWS/Lambda", &resources(&[test]), &["UnsupportedMetric"]).unwrap(), []);
    // processes multiple resources
    let api = Services {
        functions: vec![function("func1", Some(300), None), function("func2", Some(600), None)],
        ..Default::default()
    };
    let two = resources(&[
        "arn:aws:lambda:us-east-1:123456789012:function:func1",
        "arn:aws:lambda:us-east-1:123456789012:function:func2",
    ]);
    let got = run(&api, "AWS/Lambda", &two, &["Timeout"]).unwrap();
    assert_eq!(
        summary(&got),
        [
            ("Timeout".into(), d(&[("FunctionName", "func1")]), 0, 300.0),
            ("Timeout".into(), d(&[("FunctionName", "func2")]), 1, 600.0)
        ]
    );
    assert_eq!(api.requests(), ["ListFunctions", "ListFunctions"], "both pages of the listing");
    // successfully received memory size metric (MiB to bytes)
    let api = Services { functions: vec![function("test-mem", None, Some(256))], ..Default::default() };
    let mem = resources(&["arn:aws:lambda:us-east-1:123456789012:function:test-mem"]);
    let got = run(&api, "AWS/Lambda", &mem, &["MemorySize"]).unwrap();
    assert_eq!(summary(&got), [("MemorySize".into(), d(&[("FunctionName", "test-mem")]), 0, 268_435_456.0)]);
    // a function without the value (Timeout nil): skipped
    assert_eq!(run(&api, "AWS/Lambda", &mem, &["Timeout"]).unwrap(), []);
    // successfully received multiple metrics for a single function
    let api = Services { functions: vec![function("test-multi", Some(300), Some(256))], ..Default::default() };
    let multi = resources(&["arn:aws:lambda:us-east-1:123456789012:function:test-multi"]);
    let got = run(&api, "AWS/Lambda", &multi, &["Timeout", "MemorySize"]).unwrap();
    assert_eq!(
        got.iter().map(|v| (v.metric.name.as_str(), v.value)).collect::<Vec<_>>(),
        [("Timeout", 300.0), ("MemorySize", 268_435_456.0)]
    );
}

// YACE 1a0ddb1e pkg/internal/enhancedmetrics/service/lambda/client_test.go: a failed listing is
// an error.
#[test]
fn lambda_listing_failure_is_an_error() {
    let api = Services { functions: vec![function("test", Some(300), None)], fail: true, ..Default::default() };
    let test = resources(&["arn:aws:lambda:us-east-1:123456789012:function:test"]);
    let e = run(&api, "AWS/Lambda", &test, &["Timeout"]).unwrap_err();
    assert_eq!(e.api, "ListFunctions");
}

// YACE 1a0ddb1e pkg/internal/enhancedmetrics/service/dynamodb/service_test.go (TestDynamoDB_GetMetrics)
#[test]
fn dynamodb_cases() {
    let arn = |t: &str| format!("arn:aws:dynamodb:us-east-1:123456789012:table/{t}");
    let table = |t: &str, items: Option<i64>, size: Option<i64>, gsis: Vec<TableIndex>| Table {
        arn: arn(t),
        name: Some(t.into()),
        item_count: items,
        size_bytes: size,
        global_secondary_indexes: gsis,
    };
    let gsi = |n: &str, items: Option<i64>, size: Option<i64>| TableIndex {
        name: Some(n.into()),
        item_count: items,
        size_bytes: size,
    };
    let default_tables = vec![table("test-table", Some(1000), None, vec![])];
    let api = Services { tables: default_tables.clone(), ..Default::default() };
    // empty resources; empty enhanced metrics
    assert_eq!(run(&api, "AWS/DynamoDB", &[], &["ItemCount"]).unwrap(), []);
    assert_eq!(run(&api, "AWS/DynamoDB", &resources(&[&arn("test")]), &[]).unwrap(), []);
    assert_eq!(api.requests(), Vec::<&str>::new());
    // successfully received metric
    let got = run(&api, "AWS/DynamoDB", &resources(&[&arn("test-table")]), &["ItemCount"]).unwrap();
    assert_eq!(summary(&got), [("ItemCount".into(), d(&[("TableName", "test-table")]), 0, 1000.0)]);
    // resource not found in metadata: the table's DescribeTable fails, it is skipped
    assert_eq!(run(&api, "AWS/DynamoDB", &resources(&[&arn("non-existent")]), &["ItemCount"]).unwrap(), []);
    // unsupported metric
    assert_eq!(run(&api, "AWS/DynamoDB", &resources(&[&arn("test-table")]), &["UnsupportedMetric"]).unwrap(), []);

    // successfully received metric with global secondary indexes: 1 for the table + 2 for GSIs
    let with_gsi = "test-table-with-gsi";
    let api = Services {
        tables: vec![table(
            with_gsi,
            Some(1000),
            None,
            vec![gsi("test-gsi-1", Some(500), None), gsi("test-gsi-2", Some(300), None)],
        )],
        ..Default::default()
    };
    let got = run(&api, "AWS/DynamoDB", &resources(&[&arn(with_gsi)]), &["ItemCount"]).unwrap();
    assert_eq!(
        summary(&got),
        [
            ("ItemCount".into(), d(&[("TableName", with_gsi)]), 0, 1000.0),
            ("ItemCount".into(), d(&[("TableName", with_gsi), ("GlobalSecondaryIndexName", "test-gsi-1")]), 0, 500.0),
            ("ItemCount".into(), d(&[("TableName", with_gsi), ("GlobalSecondaryIndexName", "test-gsi-2")]), 0, 300.0),
        ]
    );
    // table size bytes with global secondary indexes: 1 for the table + 1 for the GSI
    let api = Services {
        tables: vec![table(with_gsi, None, Some(4096), vec![gsi("test-gsi-1", None, Some(1024))])],
        ..Default::default()
    };
    let got = run(&api, "AWS/DynamoDB", &resources(&[&arn(with_gsi)]), &["TableSizeBytes"]).unwrap();
    assert_eq!(
        summary(&got),
        [
            ("TableSizeBytes".into(), d(&[("TableName", with_gsi)]), 0, 4096.0),
            (
                "IndexSizeBytes".into(),
                d(&[("TableName", with_gsi), ("GlobalSecondaryIndexName", "test-gsi-1")]),
                0,
                1024.0
            ),
        ]
    );
    // multiple metrics with global secondary indexes: ItemCount table + GSI, TableSizeBytes table + GSI
    let api = Services {
        tables: vec![table(with_gsi, Some(1000), Some(4096), vec![gsi("test-gsi-1", Some(500), Some(1024))])],
        ..Default::default()
    };
    let got = run(&api, "AWS/DynamoDB", &resources(&[&arn(with_gsi)]), &["ItemCount", "TableSizeBytes"]).unwrap();
    assert_eq!(
        got.iter().map(|v| (v.metric.name.as_str(), v.value)).collect::<Vec<_>>(),
        [("ItemCount", 1000.0), ("ItemCount", 500.0), ("TableSizeBytes", 4096.0), ("IndexSizeBytes", 1024.0)]
    );
    // multiple resources and metrics
    let api = Services {
        tables: vec![table("test-table-1", Some(1000), None, vec![]), table("test-table-2", Some(2000), None, vec![])],
        ..Default::default()
    };
    let got =
        run(&api, "AWS/DynamoDB", &resources(&[&arn("test-table-1"), &arn("test-table-2")]), &["ItemCount"]).unwrap();
    assert_eq!(got.iter().map(|v| (v.resource, v.value)).collect::<Vec<_>>(), [(0, 1000.0), (1, 2000.0)]);
    assert_eq!(api.requests(), ["DescribeTable", "DescribeTable"], "one DescribeTable per table");
}

// YACE 1a0ddb1e pkg/internal/enhancedmetrics/service/dynamodb/client_test.go: a table that
// cannot be described is skipped, the others are kept (DescribeTables does not fail).
#[test]
fn dynamodb_a_table_that_cannot_be_described_is_skipped() {
    let api = Services {
        tables: vec![Table {
            arn: "arn:aws:dynamodb:us-east-1:123456789012:table/ok".into(),
            name: Some("ok".into()),
            item_count: Some(7),
            ..Default::default()
        }],
        ..Default::default()
    };
    let rs = resources(&[
        "arn:aws:dynamodb:us-east-1:123456789012:table/gone",
        "arn:aws:dynamodb:us-east-1:123456789012:table/ok",
    ]);
    let got = run(&api, "AWS/DynamoDB", &rs, &["ItemCount"]).unwrap();
    assert_eq!(summary(&got), [("ItemCount".into(), d(&[("TableName", "ok")]), 1, 7.0)]);
}

// YACE 1a0ddb1e pkg/internal/enhancedmetrics/service/rds/service_test.go (TestRDS_GetMetrics,
// TestDBInstanceIdentifierFromARN, TestRDS_GetMetrics_MixedResources)
#[test]
fn rds_cases() {
    let test_arn = "arn:aws:rds:us-east-1:123456789012:db:test-instance";
    let api = Services { instances: vec![db("test-instance", 100)], ..Default::default() };
    // empty resources; empty enhanced metrics
    assert_eq!(run(&api, "AWS/RDS", &[], &["AllocatedStorage"]).unwrap(), []);
    assert_eq!(run(&api, "AWS/RDS", &resources(&[test_arn]), &[]).unwrap(), []);
    assert_eq!(api.requests(), Vec::<&str>::new());
    // successfully received metric: 100 GiB in bytes
    let got = run(&api, "AWS/RDS", &resources(&[test_arn]), &["AllocatedStorage"]).unwrap();
    let dims =
        d(&[("DBInstanceIdentifier", "test-instance"), ("DatabaseClass", "db.t3.micro"), ("EngineName", "postgres")]);
    assert_eq!(summary(&got), [("AllocatedStorage".into(), dims, 0, 107_374_182_400.0)]);
    // resource not found in metadata
    let missing = resources(&["arn:aws:rds:us-east-1:123456789012:db:non-existent"]);
    assert_eq!(run(&api, "AWS/RDS", &missing, &["AllocatedStorage"]).unwrap(), []);
    // unsupported metric
    assert_eq!(run(&api, "AWS/RDS", &resources(&[test_arn]), &["UnsupportedMetric"]).unwrap(), []);
    // metadata not loaded (no instance answered)
    let empty = Services::default();
    assert_eq!(run(&empty, "AWS/RDS", &resources(&[test_arn]), &["AllocatedStorage"]).unwrap(), []);
    // multiple resources: 100 and 200 GiB in bytes
    let api =
        Services { instances: vec![db("test-instance-1", 100), db("test-instance-2", 200)], ..Default::default() };
    let two = resources(&[
        "arn:aws:rds:us-east-1:123456789012:db:test-instance-1",
        "arn:aws:rds:us-east-1:123456789012:db:test-instance-2",
    ]);
    let got = run(&api, "AWS/RDS", &two, &["AllocatedStorage"]).unwrap();
    assert_eq!(got.iter().map(|v| v.value).collect::<Vec<_>>(), [107_374_182_400.0, 214_748_364_800.0]);
    assert_eq!(api.requests(), ["DescribeDBInstances", "DescribeDBInstances"], "both pages");

    // mixed resources: only the instance identifier reaches the filter, the cluster is skipped
    let api = Services {
        instances: vec![DbInstance { arn: "arn:aws:rds:eu-west-1:123456789012:db:my-db".into(), ..db("my-db", 100) }],
        ..Default::default()
    };
    let mixed = resources(&[
        "arn:aws:rds:eu-west-1:123456789012:db:my-db",
        "arn:aws:rds:eu-west-1:123456789012:cluster:my-aurora",
    ]);
    let got = run(&api, "AWS/RDS", &mixed, &["AllocatedStorage"]).unwrap();
    assert_eq!(*api.filters.lock().unwrap(), [vec!["my-db".to_string()]]);
    assert_eq!(got.iter().map(|v| (v.resource, v.value)).collect::<Vec<_>>(), [(0, 107_374_182_400.0)]);
    // nothing to describe: no request with an empty filter
    let api = Services::default();
    let clusters = resources(&["arn:aws:rds:eu-west-1:123456789012:cluster:my-aurora"]);
    assert_eq!(run(&api, "AWS/RDS", &clusters, &["AllocatedStorage"]).unwrap(), []);
    assert_eq!(api.requests(), Vec::<&str>::new());
}

// YACE 1a0ddb1e pkg/internal/enhancedmetrics/service/rds/service_test.go (TestDBInstanceIdentifierFromARN)
#[test]
fn rds_instance_identifier_from_arn() {
    let cases = [
        ("db instance", "arn:aws:rds:eu-west-1:123456789012:db:my-db", Some("my-db")),
        ("db cluster", "arn:aws:rds:eu-west-1:123456789012:cluster:my-aurora", None),
        ("unknown resource type", "arn:aws:rds:eu-west-1:123456789012:og:my-option-group", None),
        ("non-rds service with db segment", "arn:aws:redshift:eu-west-1:123456789012:db:my-db", None),
        ("not an arn", "not-an-arn", None),
        ("arn without resource id", "arn:aws:rds:eu-west-1:123456789012:db", None),
        ("empty identifier", "arn:aws:rds:eu-west-1:123456789012:db:", None),
        ("extra segments", "arn:aws:rds:eu-west-1:123456789012:db:foo:bar", None),
    ];
    for (name, arn, want) in cases {
        assert_eq!(db_instance_identifier(arn), want, "{name}");
    }
}

// YACE 1a0ddb1e pkg/internal/enhancedmetrics/service/rds/client_test.go ("error - API failure")
#[test]
fn rds_listing_failure_is_an_error() {
    let api = Services { instances: vec![db("test-instance", 100)], fail: true, ..Default::default() };
    let e = run(
        &api,
        "AWS/RDS",
        &resources(&["arn:aws:rds:us-east-1:123456789012:db:test-instance"]),
        &["AllocatedStorage"],
    )
    .unwrap_err();
    assert_eq!(e.api, "DescribeDBInstances");
}

// YACE 1a0ddb1e pkg/internal/enhancedmetrics/service/elasticache/service_test.go (TestElastiCache_GetMetrics)
#[test]
fn elasticache_cases() {
    let test = "arn:aws:elasticache:us-east-1:123456789012:cluster:test-cluster";
    let api = Services { clusters: vec![cluster("test-cluster", 2)], ..Default::default() };
    assert_eq!(run(&api, "AWS/ElastiCache", &[], &["NumCacheNodes"]).unwrap(), []);
    assert_eq!(run(&api, "AWS/ElastiCache", &resources(&[test]), &[]).unwrap(), []);
    assert_eq!(api.requests(), Vec::<&str>::new());
    let got = run(&api, "AWS/ElastiCache", &resources(&[test]), &["NumCacheNodes"]).unwrap();
    assert_eq!(summary(&got), [("NumCacheNodes".into(), d(&[("CacheClusterId", "test-cluster")]), 0, 2.0)]);
    let missing = resources(&["arn:aws:elasticache:us-east-1:123456789012:cluster:non-existent"]);
    assert_eq!(run(&api, "AWS/ElastiCache", &missing, &["NumCacheNodes"]).unwrap(), []);
    assert_eq!(run(&api, "AWS/ElastiCache", &resources(&[test]), &["UnsupportedMetric"]).unwrap(), []);
    // describe error
    let failing = Services { fail: true, ..Default::default() };
    let e = run(&failing, "AWS/ElastiCache", &resources(&[test]), &["NumCacheNodes"]).unwrap_err();
    assert_eq!(e.api, "DescribeCacheClusters");
    // multiple resources and metrics
    let api =
        Services { clusters: vec![cluster("test-cluster-1", 1), cluster("test-cluster-2", 3)], ..Default::default() };
    let two = resources(&[
        "arn:aws:elasticache:us-east-1:123456789012:cluster:test-cluster-1",
        "arn:aws:elasticache:us-east-1:123456789012:cluster:test-cluster-2",
    ]);
    let got = run(&api, "AWS/ElastiCache", &two, &["NumCacheNodes"]).unwrap();
    assert_eq!(got.iter().map(|v| (v.resource, v.value)).collect::<Vec<_>>(), [(0, 1.0), (1, 3.0)]);
    // a cluster in a replication group carries it as a dimension
    let api = Services {
        clusters: vec![CacheCluster { replication_group_id: Some("rg".into()), ..cluster("test-cluster", 2) }],
        ..Default::default()
    };
    let got = run(&api, "AWS/ElastiCache", &resources(&[test]), &["NumCacheNodes"]).unwrap();
    assert_eq!(got[0].metric.dimensions, d(&[("CacheClusterId", "test-cluster"), ("ReplicationGroupId", "rg")]));
}

/// A series as YACE's exporter test prints it: name and labels (the run adds `account_alias`).
fn series(v: &Value, resources: &[Resource], exported: &[String]) -> (String, Vec<(String, String)>, f64) {
    let ctx = LabelContext {
        region: "us-east-1",
        account_id: "123456789012",
        account_alias: Some("test-account"),
        custom_tags: &[],
        exported_tags: exported,
        labels_snake_case: false,
        context_on_info: false,
    };
    let r = &resources[v.resource];
    let mut labels = metric_labels(&v.metric, &r.arn, Some(r), ctx);
    labels.sort();
    (metric_name(&v.metric.namespace, &v.metric.name, ""), labels, v.value)
}

fn tagged(arn: &str, name: &str) -> Vec<Resource> {
    vec![Resource { arn: arn.into(), tags: vec![("Name".into(), name.into())] }]
}

fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    d(pairs)
}

// YACE 1a0ddb1e pkg/exporter_enhancedmetrics_test.go: the series' names, labels and values.
#[test]
fn exporter_series_names_labels_and_values() {
    let exported = names(&["Name"]);
    let context = [("account_alias", "test-account"), ("account_id", "123456789012"), ("region", "us-east-1")];
    let with = |extra: &[(&str, &str)]| labels(&[&context[..], extra].concat());

    // TestUpdateMetrics_WithEnhancedMetrics_RDS
    let rs = tagged("arn:aws:rds:us-east-1:123456789012:db:test-db", "test-db");
    let api = Services {
        instances: vec![DbInstance {
            arn: rs[0].arn.clone(),
            identifier: Some("test-db".into()),
            allocated_storage: Some(100),
            ..Default::default()
        }],
        ..Default::default()
    };
    let got = run(&api, "AWS/RDS", &rs, &["AllocatedStorage"]).unwrap();
    assert_eq!(
        got.iter().map(|v| series(v, &rs, &exported)).collect::<Vec<_>>(),
        [(
            "aws_rds_allocated_storage".into(),
            with(&[("dimension_DBInstanceIdentifier", "test-db"), ("name", &rs[0].arn), ("tag_Name", "test-db")]),
            1.073741824e+11
        )]
    );

    // TestUpdateMetrics_WithEnhancedMetrics_Lambda
    let rs = tagged("arn:aws:lambda:us-east-1:123456789012:function:test-function", "test-function");
    let api = Services { functions: vec![function("test-function", Some(300), None)], ..Default::default() };
    let got = run(&api, "AWS/Lambda", &rs, &["Timeout"]).unwrap();
    assert_eq!(
        got.iter().map(|v| series(v, &rs, &exported)).collect::<Vec<_>>(),
        [(
            "aws_lambda_timeout".into(),
            with(&[("dimension_FunctionName", "test-function"), ("name", &rs[0].arn), ("tag_Name", "test-function")]),
            300.0
        )]
    );

    // TestUpdateMetrics_WithEnhancedMetrics_ElastiCache
    let rs = tagged("arn:aws:elasticache:us-east-1:123456789012:cluster:test-cluster", "test-cluster");
    let api = Services { clusters: vec![cluster("test-cluster", 3)], ..Default::default() };
    let got = run(&api, "AWS/ElastiCache", &rs, &["NumCacheNodes"]).unwrap();
    assert_eq!(
        got.iter().map(|v| series(v, &rs, &exported)).collect::<Vec<_>>(),
        [(
            "aws_elasticache_num_cache_nodes".into(),
            with(&[("dimension_CacheClusterId", "test-cluster"), ("name", &rs[0].arn), ("tag_Name", "test-cluster")]),
            3.0
        )]
    );

    // TestUpdateMetrics_WithEnhancedMetrics_DynamoDB: YACE prints `dimension_GlobalSecondaryIndexName=""`
    // on the table's series to align the label sets; an empty label is the same as no label.
    let rs = tagged("arn:aws:dynamodb:us-east-1:123456789012:table/test-table", "test-table");
    let api = Services {
        tables: vec![Table {
            arn: rs[0].arn.clone(),
            name: Some("test-table".into()),
            item_count: Some(1000),
            global_secondary_indexes: vec![
                TableIndex { name: Some("GSI1".into()), item_count: Some(500), size_bytes: None },
                TableIndex { name: Some("GSI2".into()), item_count: Some(300), size_bytes: None },
            ],
            ..Default::default()
        }],
        ..Default::default()
    };
    let got = run(&api, "AWS/DynamoDB", &rs, &["ItemCount"]).unwrap();
    let table = [("dimension_TableName", "test-table"), ("name", rs[0].arn.as_str()), ("tag_Name", "test-table")];
    assert_eq!(
        got.iter().map(|v| series(v, &rs, &exported)).collect::<Vec<_>>(),
        [
            ("aws_dynamodb_item_count".into(), with(&table), 1000.0),
            (
                "aws_dynamodb_item_count".into(),
                with(&[&table[..], &[("dimension_GlobalSecondaryIndexName", "GSI1")]].concat()),
                500.0
            ),
            (
                "aws_dynamodb_item_count".into(),
                with(&[&table[..], &[("dimension_GlobalSecondaryIndexName", "GSI2")]].concat()),
                300.0
            ),
        ]
    );
}
