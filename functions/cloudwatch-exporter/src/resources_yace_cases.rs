//! YACE's tests of its per-service resource code, ported: the same answers from AWS, through a
//! small in-test [`CloudWatchApi`], into promstack's own functions, with YACE's expected
//! resources. Then the lookup's own rules (search tags, `TagFilters`, "expected but none").

use std::sync::Mutex;

use super::*;
use crate::aws::Datapoints;
use crate::discovery::MetricRef;
use crate::query::{Call, Wanted};
use crate::services::by_namespace;
use crate::yace::Role;

/// AWS as the test sets it up: one page per request, each request recorded.
#[derive(Default)]
struct Answers {
    tagged: Vec<Resource>,
    rest_apis: Vec<RestApi>,
    v2_api_ids: Vec<String>,
    replication_instances: Vec<ReplicationInstance>,
    replication_tasks: Vec<ReplicationTask>,
    auto_scaling_groups: Vec<Tagged>,
    protections: Vec<Protection>,
    asked: Mutex<Vec<String>>,
}

fn unexpected<T>(api: &'static str) -> Result<T, ApiError> {
    Err(ApiError { api, subject: String::new(), message: "not expected in this test".into() })
}

fn one_page<T: Clone>(items: &[T]) -> Result<Page<T>, ApiError> {
    Ok(Page { items: items.to_vec(), next_token: None })
}

impl Answers {
    fn ask(&self, request: String) {
        self.asked.lock().unwrap().push(request);
    }
}

impl CloudWatchApi for Answers {
    type Session = ();

    fn own_session(&self, _region: &str) {}

    async fn assume_role(&self, _region: &str, _sts: &str, _role: &Role) -> Result<((), Option<String>), ApiError> {
        unexpected("AssumeRole")
    }

    async fn caller_account(&self, _session: &()) -> Result<String, ApiError> {
        unexpected("GetCallerIdentity")
    }

    async fn list_metrics(
        &self,
        _session: &(),
        _request: aws::ListMetrics<'_>,
        _next_token: Option<String>,
    ) -> Result<Page<MetricRef>, ApiError> {
        unexpected("ListMetrics")
    }

    async fn get_resources(
        &self,
        _session: &(),
        resource_types: &[&str],
        tag_keys: &[&str],
        _next_token: Option<String>,
    ) -> Result<Page<Resource>, ApiError> {
        self.ask(format!("GetResources {resource_types:?} keys {tag_keys:?}"));
        one_page(&self.tagged)
    }

    async fn get_metric_data(
        &self,
        _session: &(),
        _call: &Call,
        _wanted: &[Wanted],
        _next_token: Option<String>,
    ) -> Result<Page<(usize, Datapoints)>, ApiError> {
        unexpected("GetMetricData")
    }

    async fn get_rest_apis(
        &self,
        _session: &(),
        limit: i32,
        _position: Option<String>,
    ) -> Result<Page<RestApi>, ApiError> {
        self.ask(format!("GetRestApis limit {limit}"));
        one_page(&self.rest_apis)
    }

    async fn get_apis(&self, _session: &(), _next_token: Option<String>) -> Result<Page<String>, ApiError> {
        self.ask("GetApis".into());
        one_page(&self.v2_api_ids)
    }

    async fn describe_replication_instances(
        &self,
        _session: &(),
        _marker: Option<String>,
    ) -> Result<Page<ReplicationInstance>, ApiError> {
        self.ask("DescribeReplicationInstances".into());
        one_page(&self.replication_instances)
    }

    async fn describe_replication_tasks(
        &self,
        _session: &(),
        _marker: Option<String>,
    ) -> Result<Page<ReplicationTask>, ApiError> {
        self.ask("DescribeReplicationTasks".into());
        one_page(&self.replication_tasks)
    }

    async fn describe_auto_scaling_groups(
        &self,
        _session: &(),
        _token: Option<String>,
    ) -> Result<Page<Tagged>, ApiError> {
        self.ask("DescribeAutoScalingGroups".into());
        one_page(&self.auto_scaling_groups)
    }

    async fn list_protections(
        &self,
        _session: &(),
        max_results: i32,
        _next_token: Option<String>,
    ) -> Result<Page<Protection>, ApiError> {
        self.ask(format!("ListProtections max {max_results}"));
        one_page(&self.protections)
    }
}

fn resource(arn: &str, tag_value: &str) -> Resource {
    Resource { arn: arn.into(), tags: vec![("Test".into(), tag_value.into())] }
}

fn search_tag(key: &str, value: &str) -> SearchTag {
    SearchTag { key: key.into(), value: regex_lite::Regex::new(value).unwrap(), source: value.into() }
}

// YACE 1a0ddb1e pkg/clients/tagging/filters_test.go, TestValidServiceFilterNames
#[test]
fn every_namespace_with_its_own_lookup_is_a_known_service() {
    for namespace in NAMESPACES_WITH_OWN_LOOKUP {
        assert!(by_namespace(namespace).is_some(), "{namespace} is not in services.rs");
    }
}

// YACE 1a0ddb1e pkg/clients/tagging/filters_test.go, TestApiGatewayFilterFunc
#[tokio::test]
async fn api_gateway_v1_rest_api_stages_are_filtered_and_ids_replaced_with_names() {
    let api =
        Answers { rest_apis: vec![RestApi { id: "gwid1234".into(), name: "apiname".into() }], ..Default::default() };
    let input = vec![
        resource("arn:aws:apigateway:us-east-1::/restapis/gwid1234/stages/main", "Value"),
        resource("arn:aws:apigateway:us-east-1::/restapis/gwid1234", "Value 2"),
    ];
    let output = api_gateway(&api, &(), input).await.unwrap();
    assert_eq!(output, vec![resource("arn:aws:apigateway:us-east-1::/restapis/apiname", "Value 2")]);
    assert_eq!(*api.asked.lock().unwrap(), ["GetRestApis limit 500", "GetApis"]);
}

// YACE 1a0ddb1e pkg/clients/tagging/filters_test.go, TestApiGatewayFilterFunc
#[tokio::test]
async fn api_gateway_v2_rest_api_stages_are_filtered() {
    let api = Answers { v2_api_ids: vec!["gwid9876".into()], ..Default::default() };
    let input = vec![
        resource("arn:aws:apigateway:us-east-1::/apis/gwid9876/stages/$default", "Value"),
        resource("arn:aws:apigateway:us-east-1::/apis/gwid9876", "Value 2"),
    ];
    let output = api_gateway(&api, &(), input).await.unwrap();
    assert_eq!(output, vec![resource("arn:aws:apigateway:us-east-1::/apis/gwid9876", "Value 2")]);
}

// YACE 1a0ddb1e pkg/clients/tagging/filters_test.go, TestDMSFilterFunc
#[tokio::test]
async fn dms_empty_input_resources() {
    // No DMS answers are set up: the filter must not ask.
    let api = Answers::default();
    assert_eq!(dms(&api, &(), vec![]).await.unwrap(), vec![]);
    assert!(api.asked.lock().unwrap().is_empty());
}

// YACE 1a0ddb1e pkg/clients/tagging/filters_test.go, TestDMSFilterFunc
#[tokio::test]
async fn dms_replication_instance_identifiers_appended_to_task_and_instance_arns() {
    let instance = |arn: &str, identifier: &str| ReplicationInstance { arn: arn.into(), identifier: identifier.into() };
    let task = |arn: &str, instance_arn: &str| ReplicationTask { arn: arn.into(), instance_arn: instance_arn.into() };
    let api = Answers {
        replication_instances: vec![
            instance("arn:aws:dms:us-east-1:123123123123:rep:ABCDEFG1234567890", "repl-instance-identifier-1"),
            instance("arn:aws:dms:us-east-1:123123123123:rep:ZZZZZZZZZZZZZZZZZ", "repl-instance-identifier-2"),
            instance("arn:aws:dms:us-east-1:123123123123:rep:YYYYYYYYYYYYYYYYY", "repl-instance-identifier-3"),
        ],
        replication_tasks: vec![
            task(
                "arn:aws:dms:us-east-1:123123123123:task:9999999999999999",
                "arn:aws:dms:us-east-1:123123123123:rep:ZZZZZZZZZZZZZZZZZ",
            ),
            task(
                "arn:aws:dms:us-east-1:123123123123:task:2222222222222222",
                "arn:aws:dms:us-east-1:123123123123:rep:ZZZZZZZZZZZZZZZZZ",
            ),
            task(
                "arn:aws:dms:us-east-1:123123123123:task:3333333333333333",
                "arn:aws:dms:us-east-1:123123123123:rep:WWWWWWWWWWWWWWWWW",
            ),
        ],
        ..Default::default()
    };
    let input = vec![
        resource("arn:aws:dms:us-east-1:123123123123:rep:ABCDEFG1234567890", "Value"),
        resource("arn:aws:dms:us-east-1:123123123123:rep:WXYZ987654321", "Value 2"),
        resource("arn:aws:dms:us-east-1:123123123123:task:9999999999999999", "Value 3"),
        resource("arn:aws:dms:us-east-1:123123123123:task:5555555555555555", "Value 4"),
        resource("arn:aws:dms:us-east-1:123123123123:subgrp:demo-subgrp", "Value 5"),
        resource("arn:aws:dms:us-east-1:123123123123:endpoint:1111111111111111", "Value 6"),
    ];
    let expected = vec![
        resource("arn:aws:dms:us-east-1:123123123123:rep:ABCDEFG1234567890/repl-instance-identifier-1", "Value"),
        resource("arn:aws:dms:us-east-1:123123123123:rep:WXYZ987654321", "Value 2"),
        resource("arn:aws:dms:us-east-1:123123123123:task:9999999999999999/repl-instance-identifier-2", "Value 3"),
        resource("arn:aws:dms:us-east-1:123123123123:task:5555555555555555", "Value 4"),
        resource("arn:aws:dms:us-east-1:123123123123:subgrp:demo-subgrp", "Value 5"),
        resource("arn:aws:dms:us-east-1:123123123123:endpoint:1111111111111111", "Value 6"),
    ];
    assert_eq!(dms(&api, &(), input).await.unwrap(), expected);
}

// promstack's own rules of the lookup (YACE's client.go and model.go, read, not test vectors).

#[test]
fn search_tags_are_matched_as_yaces_filter_through_tags() {
    let tags = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
    let team = [search_tag("team", "core")];
    assert!(through_tags(&tags(&[]), &[]), "no search tags: everything");
    assert!(through_tags(&tags(&[("team", "hardcore")]), &team), "unanchored");
    assert!(!through_tags(&tags(&[("env", "core")]), &team), "the key must be there");
    assert!(!through_tags(&tags(&[("team", "web")]), &team));
    let both = [search_tag("team", "core"), search_tag("env", "^prod$")];
    assert!(through_tags(&tags(&[("env", "prod"), ("team", "core")]), &both));
    assert!(!through_tags(&tags(&[("env", "production"), ("team", "core")]), &both), "every search tag");
}

#[tokio::test]
async fn get_resources_is_asked_with_the_search_tag_keys_and_values_matched_after() {
    let api = Answers {
        tagged: vec![
            Resource { arn: "arn:aws:sqs:us-east-1:1:a".into(), tags: vec![("team".into(), "core".into())] },
            Resource { arn: "arn:aws:sqs:us-east-1:1:b".into(), tags: vec![("team".into(), "web".into())] },
        ],
        ..Default::default()
    };
    let sqs = by_namespace("AWS/SQS").unwrap();
    let found = find(&api, &(), "us-east-1", sqs, &[search_tag("team", "^core$")]).await.unwrap();
    assert_eq!(found, Lookup::Resources(vec![api.tagged[0].clone()]));
    assert_eq!(*api.asked.lock().unwrap(), [r#"GetResources ["sqs"] keys ["team"]"#]);
}

#[tokio::test]
async fn a_namespace_with_resources_and_none_left_is_expected_but_none() {
    let api = Answers {
        tagged: vec![Resource { arn: "arn:aws:sqs:us-east-1:1:b".into(), tags: vec![("team".into(), "web".into())] }],
        ..Default::default()
    };
    let sqs = by_namespace("AWS/SQS").unwrap();
    let found = find(&api, &(), "us-east-1", sqs, &[search_tag("team", "core")]).await.unwrap();
    assert_eq!(found, Lookup::ExpectedButNone);
    // A lookup of its own counts as resources too (Auto Scaling has no resource types).
    let asg = by_namespace("AWS/AutoScaling").unwrap();
    assert_eq!(find(&api, &(), "us-east-1", asg, &[]).await.unwrap(), Lookup::ExpectedButNone);
    // A namespace without resources finds none and expects none: its metrics are `global`.
    let usage = by_namespace("AWS/Usage").unwrap();
    assert_eq!(find(&api, &(), "us-east-1", usage, &[]).await.unwrap(), Lookup::Resources(vec![]));
    assert!(!expects_resources(usage));
}

#[tokio::test]
async fn auto_scaling_groups_come_from_describe_auto_scaling_groups_through_the_search_tags() {
    let arn = "arn:aws:autoscaling:us-east-1:1:autoScalingGroup:uuid:autoScalingGroupName/web";
    let api = Answers {
        auto_scaling_groups: vec![
            Tagged { id: arn.into(), tags: vec![("team".into(), "core".into())] },
            Tagged { id: format!("{arn}2"), tags: vec![] },
        ],
        ..Default::default()
    };
    let asg = by_namespace("AWS/AutoScaling").unwrap();
    let found = find(&api, &(), "us-east-1", asg, &[search_tag("team", "core")]).await.unwrap();
    assert_eq!(
        found,
        Lookup::Resources(vec![Resource { arn: arn.into(), tags: vec![("team".into(), "core".into())] }])
    );
    assert_eq!(*api.asked.lock().unwrap(), ["DescribeAutoScalingGroups"], "no resource types: no GetResources");
}

#[tokio::test]
async fn shield_protections_belong_to_the_region_of_the_protected_resource() {
    let protection =
        |resource: &str| Protection { resource_arn: resource.into(), protection_arn: format!("p:{resource}") };
    let api = Answers {
        protections: vec![
            protection("arn:aws:ec2:us-east-1:1:eip-allocation/eipalloc-1"),
            protection("arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/a/1"),
            protection("arn:aws:route53:::hostedzone/Z1"),
        ],
        ..Default::default()
    };
    let arns = |l: Lookup| match l {
        Lookup::Resources(r) => r.into_iter().map(|r| r.arn).collect::<Vec<_>>(),
        Lookup::ExpectedButNone => vec![],
    };
    let shield = by_namespace("AWS/DDoSProtection").unwrap();
    let us = arns(find(&api, &(), "us-east-1", shield, &[]).await.unwrap());
    assert_eq!(us, ["arn:aws:ec2:us-east-1:1:eip-allocation/eipalloc-1", "arn:aws:route53:::hostedzone/Z1"]);
    let eu = find(&api, &(), "eu-west-1", shield, &[]).await.unwrap();
    assert_eq!(arns(eu.clone()), ["arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/a/1"]);
    let Lookup::Resources(eu) = eu else { unreachable!() };
    assert_eq!(
        eu[0].tags,
        [("ProtectionArn".to_string(), "p:arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/a/1".to_string())]
    );
    assert!(api.asked.lock().unwrap().contains(&"ListProtections max 100".to_string()));

    let bad = Answers { protections: vec![protection("not-an-arn")], ..Default::default() };
    let e = find(&bad, &(), "us-east-1", shield, &[]).await.unwrap_err();
    assert!(e.to_string().contains("invalid protected resource ARN not-an-arn"), "{e}");
}

#[test]
fn the_region_of_an_arn_is_read_as_go_reads_it() {
    assert_eq!(arn_region("arn:aws:ec2:us-east-1:1:eip-allocation/x"), Some("us-east-1"));
    assert_eq!(arn_region("arn:aws:route53:::hostedzone/Z1"), Some(""));
    assert_eq!(arn_region("arn:aws:s3:::"), Some(""));
    assert_eq!(arn_region("arn:aws:s3::"), None);
    assert_eq!(arn_region("xarn:aws:ec2:us-east-1:1:x"), None);
}
