//! YACE's associator tables (pkg/job/maxdimassociator/*_test.go at 1a0ddb1e, every service),
//! run through this crate's `Associator` with the regexps of `services`. Each table keeps YACE's
//! shape: resources, one metric, and the expected (skip, resource) pair; expected values are
//! YACE's. YACE's "global" is no resource and no skip.

use super::{Association, Associator, MetricRef, Resource};
use crate::services::by_namespace;

struct Case {
    name: &'static str,
    resources: &'static [&'static str],
    metric_name: &'static str,
    dimensions: &'static [(&'static str, &'static str)],
    expected_skip: bool,
    expected_resource: Option<&'static str>,
}

/// Runs every case of a table against `namespace`'s regexps; the metric is in that namespace
/// (as in every YACE table). Reports all failing cases at once.
fn check(namespace: &str, cases: &[Case]) {
    let service = by_namespace(namespace).unwrap_or_else(|| panic!("{namespace} is in the services table"));
    let mut failures = Vec::new();
    for case in cases {
        let resources: Vec<Resource> =
            case.resources.iter().map(|arn| Resource { arn: arn.to_string(), tags: vec![] }).collect();
        let associator = Associator::new(service.compiled_regexps(), &resources);
        let dimensions = case.dimensions.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let metric = MetricRef::new(namespace, case.metric_name, dimensions);
        let got = match associator.associate(&metric) {
            Association::Resource(ri) => (false, Some(resources[ri].arn.as_str())),
            Association::Global => (false, None),
            Association::Skip => (true, None),
        };
        if got != (case.expected_skip, case.expected_resource) {
            failures.push(format!(
                "{}: got (skip {}, {:?}), YACE expects (skip {}, {:?})",
                case.name, got.0, got.1, case.expected_skip, case.expected_resource
            ));
        }
    }
    assert!(failures.is_empty(), "{namespace}:\n{}", failures.join("\n"));
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_api_gateway_test.go
const API_GATEWAY_V1: &str = "arn:aws:apigateway:us-east-2::/restapis/test-api";
const API_GATEWAY_V1_STAGE: &str = "arn:aws:apigateway:us-east-2::/restapis/test-api/stages/test";
const API_GATEWAY_V2: &str = "arn:aws:apigateway:us-east-2::/apis/98765fghij";
const API_GATEWAY_V2_STAGE: &str = "arn:aws:apigateway:us-east-2::/apis/98765fghij/stages/$default";
const API_GATEWAY_RESOURCES: &[&str] = &[API_GATEWAY_V1, API_GATEWAY_V1_STAGE, API_GATEWAY_V2, API_GATEWAY_V2_STAGE];

#[test]
fn api_gateway() {
    check(
        "AWS/ApiGateway",
        &[
            Case {
                name: "should match API Gateway V2 with ApiId dimension",
                resources: API_GATEWAY_RESOURCES,
                metric_name: "5xx",
                dimensions: &[("ApiId", "98765fghij")],
                expected_skip: false,
                expected_resource: Some(API_GATEWAY_V2),
            },
            Case {
                name: "should match API Gateway V2 with ApiId and Stage dimensions",
                resources: API_GATEWAY_RESOURCES,
                metric_name: "5xx",
                dimensions: &[("ApiId", "98765fghij"), ("Stage", "$default")],
                expected_skip: false,
                expected_resource: Some(API_GATEWAY_V2_STAGE),
            },
            Case {
                name: "should match API Gateway V1 with ApiName dimension",
                resources: API_GATEWAY_RESOURCES,
                metric_name: "5xx",
                dimensions: &[("ApiName", "test-api")],
                expected_skip: false,
                expected_resource: Some(API_GATEWAY_V1),
            },
            Case {
                name: "should match API Gateway V1 with ApiName and Stage dimension",
                resources: API_GATEWAY_RESOURCES,
                metric_name: "5xx",
                dimensions: &[("ApiName", "test-api"), ("Stage", "test")],
                expected_skip: false,
                expected_resource: Some(API_GATEWAY_V1_STAGE),
            },
            Case {
                name: "should match API Gateway V1 with ApiName (Stage is not matched)",
                resources: API_GATEWAY_RESOURCES,
                metric_name: "5xx",
                dimensions: &[("ApiName", "test-api"), ("Stage", "dev")],
                expected_skip: false,
                expected_resource: Some(API_GATEWAY_V1),
            },
        ],
    );
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_client_vpn_test.go
const CLIENT_VPN: &str = "arn:aws:ec2:eu-central-1:075055617227:client-vpn-endpoint/cvpn-endpoint-0c9e5bd20be71e296";

#[test]
fn client_vpn() {
    check(
        "AWS/ClientVPN",
        &[Case {
            name: "should match ClientVPN with Endpoint dimension",
            resources: &[CLIENT_VPN],
            metric_name: "CrlDaysToExpiry",
            dimensions: &[("Endpoint", "cvpn-endpoint-0c9e5bd20be71e296")],
            expected_skip: false,
            expected_resource: Some(CLIENT_VPN),
        }],
    );
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_ddosprotection_test.go
const PROTECTED_RESOURCE_1: &str = "arn:aws:ec2:us-east-1:123456789012:instance/i-abc123";
const PROTECTED_RESOURCE_2: &str = "arn:aws:ec2:us-east-1:123456789012:instance/i-def456";

#[test]
fn ddos_protection() {
    check(
        "AWS/DDoSProtection",
        &[Case {
            name: "should match with ResourceArn dimension",
            resources: &[PROTECTED_RESOURCE_1, PROTECTED_RESOURCE_2],
            metric_name: "CPUUtilization",
            dimensions: &[("ResourceArn", "arn:aws:ec2:us-east-1:123456789012:instance/i-abc123")],
            expected_skip: false,
            expected_resource: Some(PROTECTED_RESOURCE_1),
        }],
    );
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_directoryservice_test.go
const DIRECTORY: &str = "arn:aws:ds::012345678901:directory/d-abc123";

#[test]
fn directory_service() {
    check(
        "AWS/DirectoryService",
        &[Case {
            name: "should match directory id with Directory ID dimension",
            resources: &[DIRECTORY],
            metric_name: "Current Bandwidth",
            dimensions: &[
                ("Metric Category", "NTDS"),
                ("Domain Controller IP", "123.123.123.123"),
                ("Directory ID", "d-abc123"),
            ],
            expected_skip: false,
            expected_resource: Some(DIRECTORY),
        }],
    );
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_dx_test.go
const DX_VIF: &str = "arn:aws:directconnect::012345678901:dxvif/dxvif-abc123";

#[test]
fn direct_connect() {
    check(
        "AWS/DX",
        &[Case {
            name: "should match Virtual Interface with VirtualInterfaceId dimension",
            resources: &[DX_VIF],
            metric_name: "VirtualInterfaceBpsIngress",
            dimensions: &[("ConnectionId", "dxlag-abc123"), ("VirtualInterfaceId", "dxvif-abc123")],
            expected_skip: false,
            expected_resource: Some(DX_VIF),
        }],
    );
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_ec2_test.go
const EC2_INSTANCE_1: &str = "arn:aws:ec2:us-east-1:123456789012:instance/i-abc123";
const EC2_INSTANCE_2: &str = "arn:aws:ec2:us-east-1:123456789012:instance/i-def456";
const EC2_RESOURCES: &[&str] = &[EC2_INSTANCE_1, EC2_INSTANCE_2];

#[test]
fn ec2() {
    check(
        "AWS/EC2",
        &[
            Case {
                name: "should match with InstanceId dimension",
                resources: EC2_RESOURCES,
                metric_name: "CPUUtilization",
                dimensions: &[("InstanceId", "i-abc123")],
                expected_skip: false,
                expected_resource: Some(EC2_INSTANCE_1),
            },
            Case {
                name: "should match another instance with InstanceId dimension",
                resources: EC2_RESOURCES,
                metric_name: "CPUUtilization",
                dimensions: &[("InstanceId", "i-def456")],
                expected_skip: false,
                expected_resource: Some(EC2_INSTANCE_2),
            },
            Case {
                name: "should skip with unmatched InstanceId dimension",
                resources: EC2_RESOURCES,
                metric_name: "CPUUtilization",
                dimensions: &[("InstanceId", "i-blahblah")],
                expected_skip: true,
                expected_resource: None,
            },
            Case {
                name: "should not skip when unmatching because of non-ARN dimension",
                resources: EC2_RESOURCES,
                metric_name: "StatusCheckFailed_System",
                dimensions: &[("AutoScalingGroupName", "some-asg-name")],
                expected_skip: false,
                expected_resource: None,
            },
        ],
    );
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_ec_test.go
const EC_SERVERLESS: &str = "arn:aws:elasticache:eu-east-1:123456789012:serverlesscache:test-serverless-cluster";
const EC_CLUSTER: &str = "arn:aws:elasticache:eu-east-1:123456789012:cluster:test-cluster-0001-001";
const EC_RESOURCES: &[&str] = &[EC_SERVERLESS, EC_CLUSTER];

#[test]
fn elasticache() {
    check(
        "AWS/ElastiCache",
        &[
            Case {
                name: "should match with clusterId dimension",
                resources: EC_RESOURCES,
                metric_name: "TotalCmdsCount",
                dimensions: &[("clusterId", "test-serverless-cluster")],
                expected_skip: false,
                expected_resource: Some(EC_SERVERLESS),
            },
            Case {
                name: "should match with CacheClusterId dimension",
                resources: EC_RESOURCES,
                metric_name: "EngineCPUUtilization",
                dimensions: &[("CacheClusterId", "test-cluster-0001-001")],
                expected_skip: false,
                expected_resource: Some(EC_CLUSTER),
            },
            Case {
                name: "should skip with unmatched CacheClusterId dimension",
                resources: EC_RESOURCES,
                metric_name: "EngineCPUUtilization",
                dimensions: &[("CacheClusterId", "test-cluster-0001-002")],
                expected_skip: true,
                expected_resource: None,
            },
            Case {
                name: "should skip with unmatched clusterId dimension",
                resources: EC_RESOURCES,
                metric_name: "TotalCmdsCount",
                dimensions: &[("clusterId", "test-unmatched-serverless-cluster")],
                expected_skip: true,
                expected_resource: None,
            },
        ],
    );
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_ecs_test.go
const ECS_CLUSTER: &str = "arn:aws:ecs:af-south-1:123456789222:cluster/sampleCluster";
const ECS_SERVICE_1: &str = "arn:aws:ecs:af-south-1:123456789222:service/sampleCluster/service1";
const ECS_SERVICE_2: &str = "arn:aws:ecs:af-south-1:123456789222:service/sampleCluster/service2";
const ECS_RESOURCES: &[&str] = &[ECS_CLUSTER, ECS_SERVICE_1, ECS_SERVICE_2];

#[test]
fn ecs() {
    check(
        "AWS/ECS",
        &[
            Case {
                name: "cluster metric should be assigned cluster resource",
                resources: ECS_RESOURCES,
                metric_name: "MemoryReservation",
                dimensions: &[("ClusterName", "sampleCluster")],
                expected_skip: false,
                expected_resource: Some(ECS_CLUSTER),
            },
            Case {
                name: "service metric should be assigned service1 resource",
                resources: ECS_RESOURCES,
                metric_name: "CPUUtilization",
                dimensions: &[("ClusterName", "sampleCluster"), ("ServiceName", "service1")],
                expected_skip: false,
                expected_resource: Some(ECS_SERVICE_1),
            },
            Case {
                name: "service metric should be assigned service2 resource",
                resources: ECS_RESOURCES,
                metric_name: "CPUUtilization",
                dimensions: &[("ClusterName", "sampleCluster"), ("ServiceName", "service2")],
                expected_skip: false,
                expected_resource: Some(ECS_SERVICE_2),
            },
        ],
    );
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_event_roles_test.go
const EVENT_RULE_0: &str = "arn:aws:events:eu-central-1:112246171613:rule/event-bus-name/rule-name";
const EVENT_RULE_1: &str = "arn:aws:events:eu-central-1:123456789012:rule/aws.partner/partner.name/123456/rule-name";

#[test]
fn event_rules() {
    check(
        "AWS/Events",
        &[Case {
            name: "2 dimensions should match",
            resources: &[EVENT_RULE_0, EVENT_RULE_1],
            metric_name: "Invocations",
            dimensions: &[("EventBusName", "event-bus-name"), ("RuleName", "rule-name")],
            expected_skip: false,
            expected_resource: Some(EVENT_RULE_0),
        }],
    );
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_globalaccelerator_test.go
const GA_ACCELERATOR: &str = "arn:aws:globalaccelerator::012345678901:accelerator/super-accelerator";
const GA_LISTENER: &str =
    "arn:aws:globalaccelerator::012345678901:accelerator/super-accelerator/listener/some_listener";
const GA_ENDPOINT_GROUP: &str =
    "arn:aws:globalaccelerator::012345678901:accelerator/super-accelerator/listener/some_listener/endpoint-group/eg1";
const GA_RESOURCES: &[&str] = &[GA_ACCELERATOR, GA_LISTENER, GA_ENDPOINT_GROUP];

#[test]
fn global_accelerator() {
    check(
        "AWS/GlobalAccelerator",
        &[
            Case {
                name: "should match with Accelerator dimension",
                resources: GA_RESOURCES,
                metric_name: "ProcessedBytesOut",
                dimensions: &[("Accelerator", "super-accelerator")],
                expected_skip: false,
                expected_resource: Some(GA_ACCELERATOR),
            },
            Case {
                name: "should match Listener with Accelerator and Listener dimensions",
                resources: GA_RESOURCES,
                metric_name: "ProcessedBytesOut",
                dimensions: &[("Accelerator", "super-accelerator"), ("Listener", "some_listener")],
                expected_skip: false,
                expected_resource: Some(GA_LISTENER),
            },
            Case {
                name: "should match EndpointGroup with Accelerator, Listener and EndpointGroup dimensions",
                resources: GA_RESOURCES,
                metric_name: "ProcessedBytesOut",
                dimensions: &[
                    ("Accelerator", "super-accelerator"),
                    ("Listener", "some_listener"),
                    ("EndpointGroup", "eg1"),
                ],
                expected_skip: false,
                expected_resource: Some(GA_ENDPOINT_GROUP),
            },
        ],
    );
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_gwlb_test.go
const GWLB_1: &str = "arn:aws:elasticloadbalancing:eu-central-1:123456789012:loadbalancer/gwy/gwlb-1/4a049e69add14452";
const GWLB_2: &str = "arn:aws:elasticloadbalancing:eu-central-1:123456789012:loadbalancer/gwy/gwlb-2/a96cc19724cf1a87";
const GWLB_TARGET_GROUP_1: &str =
    "arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/gwlb-target-group-1/012e9f368748cd345c";
const GWLB_RESOURCES: &[&str] = &[GWLB_1, GWLB_2, GWLB_TARGET_GROUP_1];

#[test]
fn gateway_load_balancer() {
    check(
        "AWS/GatewayELB",
        &[
            Case {
                name: "should match with gateway loadbalancer one dimension",
                resources: GWLB_RESOURCES,
                metric_name: "HealthyHostCount",
                dimensions: &[("LoadBalancer", "gwy/gwlb-1/4a049e69add14452")],
                expected_skip: false,
                expected_resource: Some(GWLB_1),
            },
            Case {
                name: "should match with gateway loadbalancer target group two dimension",
                resources: GWLB_RESOURCES,
                metric_name: "HealthyHostCount",
                dimensions: &[
                    ("LoadBalancer", "gwy/gwlb-1/4a049e69add14452"),
                    ("TargetGroup", "targetgroup/gwlb-target-group-1/012e9f368748cd345c"),
                ],
                expected_skip: false,
                expected_resource: Some(GWLB_TARGET_GROUP_1),
            },
            Case {
                name: "should not match with any gateway loadbalancer",
                resources: GWLB_RESOURCES,
                metric_name: "HealthyHostCount",
                dimensions: &[("LoadBalancer", "gwy/non-existing-gwlb/a96cc19724cf1a87")],
                expected_skip: true,
                expected_resource: None,
            },
        ],
    );
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_ipam_test.go
const IPAM_POOL: &str = "arn:aws:ec2::123456789012:ipam-pool/ipam-pool-1ff5e4e9ad2c28b7b";

#[test]
fn ipam() {
    check(
        "AWS/IPAM",
        &[
            Case {
                name: "should match with IpamPoolId dimension",
                resources: &[IPAM_POOL],
                metric_name: "VpcIPUsage",
                dimensions: &[("IpamPoolId", "ipam-pool-1ff5e4e9ad2c28b7b")],
                expected_skip: false,
                expected_resource: Some(IPAM_POOL),
            },
            Case {
                name: "should skip with unmatched IpamPoolId dimension",
                resources: &[IPAM_POOL],
                metric_name: "VpcIPUsage",
                dimensions: &[("IpamPoolId", "ipam-pool-blahblah")],
                expected_skip: true,
                expected_resource: None,
            },
        ],
    );
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_kms_test.go
const KMS_KEY: &str = "arn:aws:kms:us-east-2:123456789012:key/12345678-1234-1234-1234-123456789012";

#[test]
fn kms() {
    check(
        "AWS/KMS",
        &[Case {
            name: "should match with KMS dimension",
            resources: &[KMS_KEY],
            metric_name: "SecondsUntilKeyMaterialExpiration",
            dimensions: &[("KeyId", "12345678-1234-1234-1234-123456789012")],
            expected_skip: false,
            expected_resource: Some(KMS_KEY),
        }],
    );
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_lambda_test.go
const LAMBDA_FUNCTION: &str = "arn:aws:lambda:us-east-2:123456789012:function:lambdaFunction";

#[test]
fn lambda() {
    check(
        "AWS/Lambda",
        &[
            Case {
                name: "should match with FunctionName dimension",
                resources: &[LAMBDA_FUNCTION],
                metric_name: "Invocations",
                dimensions: &[("FunctionName", "lambdaFunction")],
                expected_skip: false,
                expected_resource: Some(LAMBDA_FUNCTION),
            },
            Case {
                name: "should skip with unmatched FunctionName dimension",
                resources: &[LAMBDA_FUNCTION],
                metric_name: "Invocations",
                dimensions: &[("FunctionName", "anotherLambdaFunction")],
                expected_skip: true,
                expected_resource: None,
            },
            Case {
                name: "should match with FunctionName and Resource dimensions",
                resources: &[LAMBDA_FUNCTION],
                metric_name: "Invocations",
                dimensions: &[("FunctionName", "lambdaFunction"), ("Resource", "lambdaFunction")],
                expected_skip: false,
                expected_resource: Some(LAMBDA_FUNCTION),
            },
            Case {
                name: "should not skip when empty dimensions",
                resources: &[LAMBDA_FUNCTION],
                metric_name: "Invocations",
                dimensions: &[],
                expected_skip: false,
                expected_resource: None,
            },
        ],
    );
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_logs_test.go
const LOG_GROUP_1: &str = "arn:aws:logs:eu-central-1:123456789012:log-group:/aws/lambda/log-group-1";
const LOG_GROUP_2: &str = "arn:aws:logs:eu-central-1:123456789012:log-group:/custom/log-group-2";
const LOG_GROUP_RESOURCES: &[&str] = &[LOG_GROUP_1, LOG_GROUP_2];

#[test]
fn logs() {
    check(
        "AWS/Logs",
        &[
            Case {
                name: "should match with log group one dimension",
                resources: LOG_GROUP_RESOURCES,
                metric_name: "DeliveryThrottling",
                dimensions: &[("LogGroupName", "/aws/lambda/log-group-1")],
                expected_skip: false,
                expected_resource: Some(LOG_GROUP_1),
            },
            Case {
                name: "should match with log group two dimension",
                resources: LOG_GROUP_RESOURCES,
                metric_name: "IncomingBytes",
                dimensions: &[("LogGroupName", "/custom/log-group-2")],
                expected_skip: false,
                expected_resource: Some(LOG_GROUP_2),
            },
            Case {
                name: "should not match with any log group",
                resources: LOG_GROUP_RESOURCES,
                metric_name: "ForwardingLogEvents",
                dimensions: &[("LogGroupName", "/custom/nonexisting/log-group-3")],
                expected_skip: true,
                expected_resource: None,
            },
        ],
    );
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_logging_test.go: the same association with
// debug logging on and off. Its log-text assertion ("found mapping" only at debug level) is about
// YACE's debug log, which this crate does not write; the association part is kept.
#[test]
fn logging() {
    for level in ["debug enabled", "debug disabled"] {
        check(
            "AWS/Logs",
            &[Case {
                name: level,
                resources: LOG_GROUP_RESOURCES,
                metric_name: "DeliveryThrottling",
                dimensions: &[("LogGroupName", "/aws/lambda/log-group-1")],
                expected_skip: false,
                // YACE asserts only NotNil; the one resource it can be is log group 1.
                expected_resource: Some(LOG_GROUP_1),
            }],
        );
    }
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_mediaconvert_test.go
const MEDIACONVERT_QUEUE: &str = "arn:aws:mediaconvert:eu-west-1:631611414237:queues/a-queue";
const MEDIACONVERT_QUEUE_TWO: &str = "arn:aws:mediaconvert:eu-west-1:631611414237:queues/a-second-queue";
const MEDIACONVERT_RESOURCES: &[&str] = &[MEDIACONVERT_QUEUE, MEDIACONVERT_QUEUE_TWO];

#[test]
fn mediaconvert() {
    check(
        "AWS/MediaConvert",
        &[
            Case {
                name: "should match with mediaconvert queue one dimension",
                resources: MEDIACONVERT_RESOURCES,
                metric_name: "JobsCompletedCount",
                dimensions: &[("Queue", "arn:aws:mediaconvert:eu-west-1:631611414237:queues/a-queue")],
                expected_skip: false,
                expected_resource: Some(MEDIACONVERT_QUEUE),
            },
            Case {
                name: "should match with mediaconvert queue two dimension",
                resources: MEDIACONVERT_RESOURCES,
                metric_name: "JobsCompletedCount",
                dimensions: &[("Queue", "arn:aws:mediaconvert:eu-west-1:631611414237:queues/a-second-queue")],
                expected_skip: false,
                expected_resource: Some(MEDIACONVERT_QUEUE_TWO),
            },
            Case {
                name: "should not match with any mediaconvert queue",
                resources: MEDIACONVERT_RESOURCES,
                metric_name: "JobsCompletedCount",
                dimensions: &[("Queue", "arn:aws:mediaconvert:eu-west-1:631611414237:queues/a-non-existing-queue")],
                expected_skip: true,
                expected_resource: None,
            },
        ],
    );
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_memorydb_test.go
const MEMORYDB_CLUSTER_1: &str = "arn:aws:memorydb:us-east-1:123456789012:cluster/mycluster";
const MEMORYDB_CLUSTER_2: &str = "arn:aws:memorydb:us-east-1:123456789012:cluster/othercluster";
const MEMORYDB_CLUSTERS: &[&str] = &[MEMORYDB_CLUSTER_1, MEMORYDB_CLUSTER_2];

#[test]
fn memorydb() {
    check(
        "AWS/MemoryDB",
        &[
            Case {
                name: "should match with ClusterName dimension",
                resources: MEMORYDB_CLUSTERS,
                metric_name: "CPUUtilization",
                dimensions: &[("ClusterName", "mycluster")],
                expected_skip: false,
                expected_resource: Some(MEMORYDB_CLUSTER_1),
            },
            Case {
                name: "should match another instance with ClusterName dimension",
                resources: MEMORYDB_CLUSTERS,
                metric_name: "CPUUtilization",
                dimensions: &[("ClusterName", "othercluster")],
                expected_skip: false,
                expected_resource: Some(MEMORYDB_CLUSTER_2),
            },
            Case {
                name: "should skip with unmatched ClusterName dimension",
                resources: MEMORYDB_CLUSTERS,
                metric_name: "CPUUtilization",
                dimensions: &[("ClusterName", "blahblah")],
                expected_skip: true,
                expected_resource: None,
            },
            Case {
                name: "should not skip when unmatching because of non-ARN dimension",
                resources: MEMORYDB_CLUSTERS,
                metric_name: "BytesUsedForMemoryDB",
                dimensions: &[("OtherName", "some-other-value")],
                expected_skip: false,
                expected_resource: None,
            },
        ],
    );
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_mq_test.go
const RABBITMQ_BROKER: &str = "arn:aws:mq:us-east-2:123456789012:broker:rabbitmq-broker:b-000-111-222-333";
const RABBITMQ_BROKER_WITH_ACTIVE_STYLE_NAME: &str =
    "arn:aws:mq:us-east-2:123456789012:broker:rabbitmq-broker-0:b-000-111-222-333";
const ACTIVEMQ_BROKER: &str = "arn:aws:mq:us-east-2:123456789012:broker:activemq-broker:b-000-111-222-333";

#[test]
fn amazon_mq() {
    check(
        "AWS/AmazonMQ",
        &[
            Case {
                name: "should match with Broker dimension",
                resources: &[RABBITMQ_BROKER],
                metric_name: "ProducerCount",
                dimensions: &[("Broker", "rabbitmq-broker")],
                expected_skip: false,
                expected_resource: Some(RABBITMQ_BROKER),
            },
            Case {
                name: "should match with Broker dimension when broker name has a number suffix and does match ARN",
                resources: &[RABBITMQ_BROKER_WITH_ACTIVE_STYLE_NAME],
                metric_name: "ProducerCount",
                dimensions: &[("Broker", "rabbitmq-broker-0")],
                expected_skip: false,
                expected_resource: Some(RABBITMQ_BROKER_WITH_ACTIVE_STYLE_NAME),
            },
            // Active/standby ActiveMQ brokers report `name-1`, `name-2`; the ARN holds `name`.
            Case {
                name: "should match with Broker dimension when broker name has a number suffix and doesn't match ARN",
                resources: &[ACTIVEMQ_BROKER],
                metric_name: "ProducerCount",
                dimensions: &[("Broker", "activemq-broker-1")],
                expected_skip: false,
                expected_resource: Some(ACTIVEMQ_BROKER),
            },
        ],
    );
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_qldb_test.go (its two case names are
// swapped relative to their expectations; the expectations are kept)
const VALID_QLDB_INSTANCE: &str = "arn:aws:qldb:us-east-1:123456789012:ledger/test1";

#[test]
fn qldb() {
    check(
        "AWS/QLDB",
        &[
            Case {
                name: "should match with ledger name dimension",
                resources: &[VALID_QLDB_INSTANCE],
                metric_name: "JournalStorage",
                dimensions: &[("LedgerName", "test2")],
                expected_skip: true,
                expected_resource: None,
            },
            Case {
                name: "should not match with ledger name dimension when QLDB arn is not valid",
                resources: &[VALID_QLDB_INSTANCE],
                metric_name: "JournalStorage",
                dimensions: &[("LedgerName", "test1")],
                expected_skip: false,
                expected_resource: Some(VALID_QLDB_INSTANCE),
            },
        ],
    );
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_redshift_serverless_test.go
const REDSHIFT_WORKGROUP: &str = "arn:aws:redshift-serverless:us-east-1:123456789012:workgroup/my-workgroup1";
const REDSHIFT_NAMESPACE: &str = "arn:aws:redshift-serverless:us-east-1:123456789012:namespace/my-namespace1";

#[test]
fn redshift_serverless() {
    check(
        "AWS/Redshift-Serverless",
        &[Case {
            name: "should not match nor skip with any workgroup none ARN dimension",
            resources: &[REDSHIFT_WORKGROUP, REDSHIFT_NAMESPACE],
            metric_name: "ComputeSeconds",
            dimensions: &[("Workgroup", "my-nonexistant-workgroup-test1")],
            expected_skip: false,
            expected_resource: None,
        }],
    );
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_sagemaker_endpoint_test.go
const SAGEMAKER_ENDPOINT_HEALTH_ONE: &str = "arn:aws:sagemaker:us-west-2:123456789012:endpoint/example-endpoint-one";
const SAGEMAKER_ENDPOINT_HEALTH_TWO: &str = "arn:aws:sagemaker:us-west-2:123456789012:endpoint/example-endpoint-two";
const SAGEMAKER_HEALTH_RESOURCES: &[&str] = &[SAGEMAKER_ENDPOINT_HEALTH_ONE, SAGEMAKER_ENDPOINT_HEALTH_TWO];

#[test]
fn sagemaker_endpoints() {
    check(
        "/aws/sagemaker/Endpoints",
        &[
            Case {
                name: "2 dimensions should match",
                resources: SAGEMAKER_HEALTH_RESOURCES,
                metric_name: "MemoryUtilization",
                dimensions: &[
                    ("EndpointName", "example-endpoint-two"),
                    ("VariantName", "example-endpoint-two-variant-one"),
                ],
                expected_skip: false,
                expected_resource: Some(SAGEMAKER_ENDPOINT_HEALTH_TWO),
            },
            Case {
                name: "2 dimensions should not match",
                resources: SAGEMAKER_HEALTH_RESOURCES,
                metric_name: "MemoryUtilization",
                dimensions: &[
                    ("EndpointName", "example-endpoint-three"),
                    ("VariantName", "example-endpoint-three-variant-one"),
                ],
                expected_skip: true,
                expected_resource: None,
            },
        ],
    );
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_sagemaker_inf_component_test.go
const SAGEMAKER_INF_COMPONENT_JOB_ONE: &str =
    "arn:aws:sagemaker:us-west-2:123456789012:inference-component/example-inference-component-one";

#[test]
fn sagemaker_inference_components() {
    check(
        "/aws/sagemaker/InferenceComponents",
        &[Case {
            name: "1 dimension should not match but not skip",
            resources: &[SAGEMAKER_INF_COMPONENT_JOB_ONE],
            metric_name: "CPUUtilizationNormalized",
            dimensions: &[("InferenceComponentName", "example-inference-component-one")],
            expected_skip: false,
            expected_resource: Some(SAGEMAKER_INF_COMPONENT_JOB_ONE),
        }],
    );
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_sagemaker_inf_rec_test.go
const SAGEMAKER_INF_REC_JOB_ONE: &str =
    "arn:aws:sagemaker:us-west-2:123456789012:inference-recommendations-job/example-inf-rec-job-one";

#[test]
fn sagemaker_inference_recommendations_jobs() {
    check(
        "/aws/sagemaker/InferenceRecommendationsJobs",
        &[Case {
            name: "1 dimension should not match but not skip",
            resources: &[SAGEMAKER_INF_REC_JOB_ONE],
            metric_name: "ClientInvocations",
            dimensions: &[("JobName", "example-inf-rec-job-one")],
            expected_skip: false,
            expected_resource: Some(SAGEMAKER_INF_REC_JOB_ONE),
        }],
    );
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_sagemaker_pipeline_test.go
const SAGEMAKER_PIPELINE_ONE: &str = "arn:aws:sagemaker:us-west-2:123456789012:pipeline/example-pipeline-one";
const SAGEMAKER_PIPELINE_TWO: &str = "arn:aws:sagemaker:us-west-2:123456789012:pipeline/example-pipeline-two";
const SAGEMAKER_PIPELINE_RESOURCES: &[&str] = &[SAGEMAKER_PIPELINE_ONE, SAGEMAKER_PIPELINE_TWO];

#[test]
fn sagemaker_model_building_pipeline() {
    check(
        "AWS/Sagemaker/ModelBuildingPipeline",
        &[
            Case {
                name: "2 dimensions should match",
                resources: SAGEMAKER_PIPELINE_RESOURCES,
                metric_name: "ExecutionStarted",
                dimensions: &[("PipelineName", "example-pipeline-one"), ("StepName", "example-pipeline-one-step-two")],
                expected_skip: false,
                expected_resource: Some(SAGEMAKER_PIPELINE_ONE),
            },
            Case {
                name: "1 dimension should match",
                resources: SAGEMAKER_PIPELINE_RESOURCES,
                metric_name: "ExecutionStarted",
                dimensions: &[("PipelineName", "example-pipeline-two")],
                expected_skip: false,
                expected_resource: Some(SAGEMAKER_PIPELINE_TWO),
            },
            Case {
                name: "2 dimensions should not match",
                resources: SAGEMAKER_PIPELINE_RESOURCES,
                metric_name: "ExecutionStarted",
                dimensions: &[
                    ("PipelineName", "example-pipeline-three"),
                    ("StepName", "example-pipeline-three-step-two"),
                ],
                expected_skip: true,
                expected_resource: None,
            },
        ],
    );
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_sagemaker_processing_test.go
const SAGEMAKER_PROCESSING_JOB_ONE: &str =
    "arn:aws:sagemaker:us-west-2:123456789012:processing-job/example-processing-job-one";

#[test]
fn sagemaker_processing_jobs() {
    check(
        "/aws/sagemaker/ProcessingJobs",
        &[Case {
            name: "1 dimension should not match but not skip",
            resources: &[SAGEMAKER_PROCESSING_JOB_ONE],
            metric_name: "CPUUtilization",
            dimensions: &[("Host", "example-processing-job-one/algo-1")],
            expected_skip: false,
            expected_resource: None,
        }],
    );
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_sagemaker_test.go
const SAGEMAKER_ENDPOINT_INVOCATION_ONE: &str =
    "arn:aws:sagemaker:us-west-2:123456789012:endpoint/example-endpoint-one";
const SAGEMAKER_ENDPOINT_INVOCATION_TWO: &str =
    "arn:aws:sagemaker:us-west-2:123456789012:endpoint/example-endpoint-two";
const SAGEMAKER_ENDPOINT_INVOCATION_UPPER: &str =
    "arn:aws:sagemaker:us-west-2:123456789012:endpoint/example-endpoint-upper";
const SAGEMAKER_INFERENCE_COMPONENT_INVOCATION_ONE: &str =
    "arn:aws:sagemaker:us-west-2:123456789012:inference-component/example-inference-component-one";
const SAGEMAKER_INFERENCE_COMPONENT_INVOCATION_UPPER: &str =
    "arn:aws:sagemaker:us-west-2:123456789012:inference-component/example-inference-component-upper";
const SAGEMAKER_INVOCATION_RESOURCES: &[&str] = &[
    SAGEMAKER_ENDPOINT_INVOCATION_ONE,
    SAGEMAKER_ENDPOINT_INVOCATION_TWO,
    SAGEMAKER_ENDPOINT_INVOCATION_UPPER,
    SAGEMAKER_INFERENCE_COMPONENT_INVOCATION_ONE,
    SAGEMAKER_INFERENCE_COMPONENT_INVOCATION_UPPER,
];

#[test]
fn sagemaker() {
    check(
        "AWS/SageMaker",
        &[
            Case {
                name: "3 dimensions should match",
                resources: SAGEMAKER_INVOCATION_RESOURCES,
                metric_name: "Invocations",
                dimensions: &[
                    ("EndpointName", "example-endpoint-one"),
                    ("VariantName", "example-endpoint-one-variant-one"),
                    ("EndpointConfigName", "example-endpoint-one-endpoint-config"),
                ],
                expected_skip: false,
                expected_resource: Some(SAGEMAKER_ENDPOINT_INVOCATION_ONE),
            },
            Case {
                name: "2 dimensions should match",
                resources: SAGEMAKER_INVOCATION_RESOURCES,
                metric_name: "Invocations",
                dimensions: &[
                    ("EndpointName", "example-endpoint-two"),
                    ("VariantName", "example-endpoint-two-variant-one"),
                ],
                expected_skip: false,
                expected_resource: Some(SAGEMAKER_ENDPOINT_INVOCATION_TWO),
            },
            Case {
                name: "2 dimensions should not match",
                resources: SAGEMAKER_INVOCATION_RESOURCES,
                metric_name: "Invocations",
                dimensions: &[
                    ("EndpointName", "example-endpoint-three"),
                    ("VariantName", "example-endpoint-three-variant-one"),
                ],
                expected_skip: true,
                expected_resource: None,
            },
            Case {
                name: "2 dimensions should not match in Upper case",
                resources: SAGEMAKER_INVOCATION_RESOURCES,
                metric_name: "ModelLatency",
                dimensions: &[
                    ("EndpointName", "Example-Endpoint-Upper"),
                    ("VariantName", "example-endpoint-two-variant-one"),
                ],
                expected_skip: true,
                expected_resource: None,
            },
            Case {
                name: "inference component match",
                resources: SAGEMAKER_INVOCATION_RESOURCES,
                metric_name: "ModelLatency",
                dimensions: &[("InferenceComponentName", "example-inference-component-one")],
                expected_skip: false,
                expected_resource: Some(SAGEMAKER_INFERENCE_COMPONENT_INVOCATION_ONE),
            },
            Case {
                name: "inference component match in Upper case",
                resources: SAGEMAKER_INVOCATION_RESOURCES,
                metric_name: "ModelLatency",
                dimensions: &[("InferenceComponentName", "Example-Inference-Component-Upper")],
                expected_skip: false,
                expected_resource: Some(SAGEMAKER_INFERENCE_COMPONENT_INVOCATION_UPPER),
            },
        ],
    );
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_sagemaker_training_test.go
const SAGEMAKER_TRAINING_JOB_ONE: &str =
    "arn:aws:sagemaker:us-west-2:123456789012:training-job/example-training-job-one";

#[test]
fn sagemaker_training_jobs() {
    check(
        "/aws/sagemaker/TrainingJobs",
        &[Case {
            name: "1 dimension should not skip",
            resources: &[SAGEMAKER_TRAINING_JOB_ONE],
            metric_name: "CPUUtilization",
            dimensions: &[("Host", "example-training-job-one/algo-1")],
            expected_skip: false,
            expected_resource: None,
        }],
    );
}

// YACE 1a0ddb1e pkg/job/maxdimassociator/associator_sagemaker_transform_test.go
const SAGEMAKER_TRANSFORM_JOB_ONE: &str =
    "arn:aws:sagemaker:us-west-2:123456789012:transform-job/example-transform-job-one";

#[test]
fn sagemaker_transform_jobs() {
    check(
        "/aws/sagemaker/TransformJobs",
        &[Case {
            name: "1 dimension should not match but not skip",
            resources: &[SAGEMAKER_TRANSFORM_JOB_ONE],
            metric_name: "CPUUtilization",
            dimensions: &[("Host", "example-transform-job-one/algo-1")],
            expected_skip: false,
            expected_resource: None,
        }],
    );
}

/// A case of YACE's `getFilteredMetricDatas` table: `dimensionNameRequirements`, then association,
/// over one ListMetrics page; what is left, each with its resource name (`global` without one).
struct FilteredCase {
    name: &'static str,
    namespace: &'static str,
    resources: &'static [&'static str],
    dimension_name_requirements: &'static [&'static str],
    metric_name: &'static str,
    metrics: &'static [&'static [(&'static str, &'static str)]],
    expected: &'static [(&'static [(&'static str, &'static str)], &'static str)],
}

fn owned(dimensions: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = dimensions.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    v.sort();
    v
}

// YACE 1a0ddb1e pkg/job/discovery_test.go (Test_getFilteredMetricDatas; its tag and processing
// parameter checks belong to export and query, the resource names are checked here)
#[test]
fn filtered_metric_datas() {
    const ALB_ARN: &str =
        "arn:aws:elasticloadbalancing:us-east-1:123123123123:loadbalancer/app/some-ALB/0123456789012345";
    let cases = [
        FilteredCase {
            name: "additional dimension",
            namespace: "AWS/EFS",
            resources: &["arn:aws:elasticfilesystem:us-east-1:123123123123:file-system/fs-abc123"],
            dimension_name_requirements: &[],
            metric_name: "StorageBytes",
            metrics: &[&[("FileSystemId", "fs-abc123"), ("StorageClass", "Standard")]],
            expected: &[(
                &[("FileSystemId", "fs-abc123"), ("StorageClass", "Standard")],
                "arn:aws:elasticfilesystem:us-east-1:123123123123:file-system/fs-abc123",
            )],
        },
        FilteredCase {
            name: "ec2",
            namespace: "AWS/EC2",
            resources: &["arn:aws:ec2:us-east-1:123123123123:instance/i-12312312312312312"],
            dimension_name_requirements: &[],
            metric_name: "CPUUtilization",
            metrics: &[&[("InstanceId", "i-12312312312312312")]],
            expected: &[(
                &[("InstanceId", "i-12312312312312312")],
                "arn:aws:ec2:us-east-1:123123123123:instance/i-12312312312312312",
            )],
        },
        FilteredCase {
            name: "kafka",
            namespace: "AWS/Kafka",
            resources: &[
                "arn:aws:kafka:us-east-1:123123123123:cluster/demo-cluster-1/12312312-1231-1231-1231-123123123123-12",
            ],
            dimension_name_requirements: &[],
            metric_name: "GlobalTopicCount",
            metrics: &[&[("Cluster Name", "demo-cluster-1")]],
            expected: &[(
                &[("Cluster Name", "demo-cluster-1")],
                "arn:aws:kafka:us-east-1:123123123123:cluster/demo-cluster-1/12312312-1231-1231-1231-123123123123-12",
            )],
        },
        // A tagged load balancer, its target group untagged: the per-target-group metric goes to
        // the load balancer.
        FilteredCase {
            name: "alb",
            namespace: "AWS/ApplicationELB",
            resources: &[ALB_ARN],
            dimension_name_requirements: &["LoadBalancer", "TargetGroup"],
            metric_name: "RequestCount",
            metrics: &[
                &[
                    ("LoadBalancer", "app/some-ALB/0123456789012345"),
                    ("TargetGroup", "targetgroup/some-ALB/9999666677773333"),
                    ("AvailabilityZone", "us-east-1"),
                ],
                &[
                    ("LoadBalancer", "app/some-ALB/0123456789012345"),
                    ("TargetGroup", "targetgroup/some-ALB/9999666677773333"),
                ],
                &[("LoadBalancer", "app/some-ALB/0123456789012345"), ("AvailabilityZone", "us-east-1")],
                &[("LoadBalancer", "app/some-ALB/0123456789012345")],
            ],
            expected: &[(
                &[
                    ("LoadBalancer", "app/some-ALB/0123456789012345"),
                    ("TargetGroup", "targetgroup/some-ALB/9999666677773333"),
                ],
                ALB_ARN,
            )],
        },
        FilteredCase {
            name: "sagemaker: ARN contains uppercase letters",
            namespace: "AWS/SageMaker",
            resources: &["arn:aws:sagemaker:us-east-1:123123123123:endpoint/someEndpoint"],
            dimension_name_requirements: &[],
            metric_name: "Invocation4XXErrors",
            metrics: &[&[("EndpointName", "someEndpoint"), ("VariantName", "AllTraffic")]],
            expected: &[(
                &[("EndpointName", "someEndpoint"), ("VariantName", "AllTraffic")],
                "arn:aws:sagemaker:us-east-1:123123123123:endpoint/someEndpoint",
            )],
        },
    ];
    for case in cases {
        let resources: Vec<Resource> =
            case.resources.iter().map(|arn| Resource { arn: arn.to_string(), tags: vec![] }).collect();
        let metrics = case.metrics.iter().map(|d| MetricRef::new(case.namespace, case.metric_name, owned(d))).collect();
        let requirements: Vec<String> = case.dimension_name_requirements.iter().map(|s| s.to_string()).collect();
        let regexps = by_namespace(case.namespace).unwrap().compiled_regexps();
        let discovered = super::associate_all(regexps, resources, metrics, &requirements);
        let got: Vec<(Vec<(String, String)>, &str)> = discovered
            .metrics
            .iter()
            .map(|f| {
                (f.metric.dimensions.clone(), f.resource.map_or("global", |ri| discovered.resources[ri].arn.as_str()))
            })
            .collect();
        let expected: Vec<(Vec<(String, String)>, &str)> =
            case.expected.iter().map(|(d, arn)| (owned(d), *arn)).collect();
        assert_eq!(got, expected, "{}", case.name);
    }
}
