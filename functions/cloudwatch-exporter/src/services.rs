//! The namespaces discovery jobs support, as in YACE: each with its alias, the resource types
//! asked of the tagging API, and the regexps that read dimension values out of a resource ARN
//! (how a metric is tied to a resource, and so gets its `name` label and tags).
//!
//! A regexp's group names are dimension names, with `_` standing for a space (YACE's rule).

/// One supported namespace.
#[derive(Debug, PartialEq, Eq)]
pub struct Service {
    pub namespace: &'static str,
    pub alias: &'static str,
    /// `ResourceTypeFilters` for `tag:GetResources`; empty means the namespace has no taggable
    /// resources, so its metrics are all exported with `name="global"`.
    pub resource_filters: &'static [&'static str],
    pub dimension_regexps: &'static [&'static str],
}

macro_rules! svc {
    ($ns:literal, $alias:literal) => {
        Service { namespace: $ns, alias: $alias, resource_filters: &[], dimension_regexps: &[] }
    };
    ($ns:literal, $alias:literal, [$($f:literal),*], [$($r:literal),*]) => {
        Service { namespace: $ns, alias: $alias, resource_filters: &[$($f),*], dimension_regexps: &[$($r),*] }
    };
}

pub static SERVICES: &[Service] = &[
    svc!("CWAgent", "cwagent"),
    svc!("AWS/Usage", "usage"),
    svc!("AWS/CertificateManager", "acm", ["acm:certificate"], ["(?P<CertificateArn>.*)"]),
    svc!("AWS/ACMPrivateCA", "acm-pca", ["acm-pca:certificate-authority"], ["(?P<PrivateCAArn>.*)"]),
    svc!("AmazonMWAA", "airflow", ["airflow"], []),
    svc!("AWS/MWAA", "mwaa"),
    svc!(
        "AWS/ApplicationELB",
        "alb",
        ["elasticloadbalancing:loadbalancer/app", "elasticloadbalancing:targetgroup"],
        [":(?P<TargetGroup>targetgroup/.+)", ":loadbalancer/(?P<LoadBalancer>.+)$"]
    ),
    svc!("AWS/AppStream", "appstream", ["appstream"], [":fleet/(?P<FleetName>[^/]+)"]),
    svc!("AWS/Backup", "backup", ["backup"], [":backup-vault:(?P<BackupVaultName>[^:]+)"]),
    svc!(
        "AWS/ApiGateway",
        "apigateway",
        ["apigateway"],
        [
            "/restapis/(?P<ApiName>[^/]+)$",
            "/restapis/(?P<ApiName>[^/]+)/stages/(?P<Stage>[^/]+)$",
            "/apis/(?P<ApiId>[^/]+)$",
            "/apis/(?P<ApiId>[^/]+)/stages/(?P<Stage>[^/]+)$",
            "/apis/(?P<ApiId>[^/]+)/routes/(?P<Route>[^/]+)$"
        ]
    ),
    svc!("AWS/AmazonMQ", "mq", ["mq"], ["broker:(?P<Broker>[^:]+)"]),
    svc!("AWS/AppRunner", "apprunner"),
    svc!("AWS/AppSync", "appsync", ["appsync"], ["apis/(?P<GraphQLAPIId>[^/]+)"]),
    svc!("AWS/Athena", "athena", ["athena"], ["workgroup/(?P<WorkGroup>[^/]+)"]),
    svc!("AWS/AutoScaling", "asg", [], ["autoScalingGroupName/(?P<AutoScalingGroupName>[^/]+)"]),
    svc!(
        "AWS/ElasticBeanstalk",
        "beanstalk",
        ["elasticbeanstalk:environment"],
        ["environment/[^/]+/(?P<EnvironmentName>[^/]+)"]
    ),
    svc!("AWS/Billing", "billing"),
    svc!(
        "AWS/Cassandra",
        "cassandra",
        ["cassandra"],
        ["keyspace/(?P<Keyspace>[^/]+)/table/(?P<TableName>[^/]+)", "keyspace/(?P<Keyspace>[^/]+)/"]
    ),
    svc!("AWS/CloudFront", "cloudfront", ["cloudfront:distribution"], ["distribution/(?P<DistributionId>[^/]+)"]),
    svc!("AWS/Cognito", "cognito-idp", ["cognito-idp:userpool"], ["userpool/(?P<UserPool>[^/]+)"]),
    svc!(
        "AWS/DataSync",
        "datasync",
        ["datasync:task", "datasync:agent"],
        [":task/(?P<TaskId>[^/]+)", ":agent/(?P<AgentId>[^/]+)"]
    ),
    svc!("AWS/DirectoryService", "ds", ["ds:directory"], [":directory/(?P<Directory_ID>[^/]+)"]),
    svc!(
        "AWS/DMS",
        "dms",
        ["dms"],
        [
            "rep:[^/]+/(?P<ReplicationInstanceIdentifier>[^/]+)",
            "task:(?P<ReplicationTaskIdentifier>[^/]+)/(?P<ReplicationInstanceIdentifier>[^/]+)"
        ]
    ),
    svc!("AWS/DDoSProtection", "shield", ["shield:protection"], ["(?P<ResourceArn>.+)"]),
    svc!(
        "AWS/DocDB",
        "docdb",
        ["rds:db", "rds:cluster"],
        ["cluster:(?P<DBClusterIdentifier>[^/]+)", "db:(?P<DBInstanceIdentifier>[^/]+)"]
    ),
    svc!(
        "AWS/DX",
        "dx",
        ["directconnect"],
        [":dxcon/(?P<ConnectionId>[^/]+)", ":dxlag/(?P<LagId>[^/]+)", ":dxvif/(?P<VirtualInterfaceId>[^/]+)"]
    ),
    svc!("AWS/DynamoDB", "dynamodb", ["dynamodb:table"], [":table/(?P<TableName>[^/]+)"]),
    svc!("AWS/EBS", "ebs", ["ec2:volume"], ["volume/(?P<VolumeId>[^/]+)"]),
    svc!(
        "AWS/ElastiCache",
        "ec",
        ["elasticache:cluster", "elasticache:serverlesscache"],
        ["cluster:(?P<CacheClusterId>[^/]+)", "serverlesscache:(?P<clusterId>[^/]+)"]
    ),
    svc!("AWS/MemoryDB", "memorydb", ["memorydb:cluster"], ["cluster/(?P<ClusterName>[^/]+)"]),
    svc!("AWS/EC2", "ec2", ["ec2:instance"], ["instance/(?P<InstanceId>[^/]+)"]),
    svc!("AWS/EC2Spot", "ec2Spot", [], ["(?P<FleetRequestId>.*)"]),
    svc!(
        "AWS/EC2CapacityReservations",
        "ec2CapacityReservations",
        [],
        [":capacity-reservation/(?P<CapacityReservationId>)$"]
    ),
    svc!(
        "AWS/ECS",
        "ecs-svc",
        ["ecs:cluster", "ecs:service"],
        [":cluster/(?P<ClusterName>[^/]+)$", ":service/(?P<ClusterName>[^/]+)/(?P<ServiceName>[^/]+)$"]
    ),
    svc!(
        "ECS/ContainerInsights",
        "ecs-containerinsights",
        ["ecs:cluster", "ecs:service"],
        [":cluster/(?P<ClusterName>[^/]+)$", ":service/(?P<ClusterName>[^/]+)/(?P<ServiceName>[^/]+)$"]
    ),
    svc!("ContainerInsights", "containerinsights", ["eks:cluster"], [":cluster/(?P<ClusterName>[^/]+)$"]),
    svc!("AWS/EFS", "efs", ["elasticfilesystem:file-system"], ["file-system/(?P<FileSystemId>[^/]+)"]),
    svc!("AWS/EKS", "eks", ["eks:cluster"], [":cluster/(?P<ClusterName>[^/]+)$"]),
    svc!("AWS/ELB", "elb", ["elasticloadbalancing:loadbalancer"], [":loadbalancer/(?P<LoadBalancerName>.+)$"]),
    svc!("AWS/ElasticMapReduce", "emr", ["elasticmapreduce:cluster"], ["cluster/(?P<JobFlowId>[^/]+)"]),
    svc!(
        "AWS/EMRServerless",
        "emr-serverless",
        ["emr-serverless:applications"],
        ["applications/(?P<ApplicationId>[^/]+)"]
    ),
    svc!("AWS/ES", "es", ["es:domain"], [":domain/(?P<DomainName>[^/]+)"]),
    svc!("AWS/Firehose", "firehose", ["firehose"], [":deliverystream/(?P<DeliveryStreamName>[^/]+)"]),
    svc!("AWS/FSx", "fsx", ["fsx:file-system"], ["file-system/(?P<FileSystemId>[^/]+)"]),
    svc!("AWS/GameLift", "gamelift", ["gamelift"], [":fleet/(?P<FleetId>[^/]+)"]),
    svc!(
        "AWS/GatewayELB",
        "gwlb",
        ["elasticloadbalancing:loadbalancer"],
        [":(?P<TargetGroup>targetgroup/.+)", ":loadbalancer/(?P<LoadBalancer>.+)$"]
    ),
    svc!(
        "AWS/GlobalAccelerator",
        "ga",
        ["globalaccelerator"],
        [
            "accelerator/(?P<Accelerator>[^/]+)$",
            "accelerator/(?P<Accelerator>[^/]+)/listener/(?P<Listener>[^/]+)$",
            "accelerator/(?P<Accelerator>[^/]+)/listener/(?P<Listener>[^/]+)/endpoint-group/(?P<EndpointGroup>[^/]+)$"
        ]
    ),
    svc!("Glue", "glue", ["glue:job"], [":job/(?P<JobName>[^/]+)"]),
    svc!(
        "AWS/IoT",
        "iot",
        ["iot:rule", "iot:provisioningtemplate"],
        [":rule/(?P<RuleName>[^/]+)", ":provisioningtemplate/(?P<TemplateName>[^/]+)"]
    ),
    svc!("AWS/Kafka", "kafka", ["kafka:cluster"], [":cluster/(?P<Cluster_Name>[^/]+)"]),
    svc!("AWS/KafkaConnect", "kafkaconnect", ["kafka:cluster"], [":connector/(?P<Connector_Name>[^/]+)"]),
    svc!("AWS/Kinesis", "kinesis", ["kinesis:stream"], [":stream/(?P<StreamName>[^/]+)"]),
    svc!(
        "AWS/KinesisAnalytics",
        "kinesis-analytics",
        ["kinesisanalytics:application"],
        [":application/(?P<Application>[^/]+)"]
    ),
    svc!("AWS/KMS", "kms", ["kms:key"], [":key/(?P<KeyId>[^/]+)"]),
    svc!("AWS/Lambda", "lambda", ["lambda:function"], [":function:(?P<FunctionName>[^/]+)"]),
    svc!("AWS/Logs", "logs", ["logs:log-group"], [":log-group:(?P<LogGroupName>.+)"]),
    svc!(
        "AWS/MediaConnect",
        "mediaconnect",
        ["mediaconnect:flow", "mediaconnect:source", "mediaconnect:output"],
        ["^(?P<FlowARN>.*:flow:.*)$", "^(?P<SourceARN>.*:source:.*)$", "^(?P<OutputARN>.*:output:.*)$"]
    ),
    svc!("AWS/MediaConvert", "mediaconvert", ["mediaconvert"], ["(?P<Queue>.*:.*:mediaconvert:.*:queues/.*)$"]),
    svc!(
        "AWS/MediaPackage",
        "mediapackage",
        ["mediapackage", "mediapackagev2", "mediapackage-vod"],
        [":channels/(?P<IngestEndpoint>.+)$", ":packaging-configurations/(?P<PackagingConfiguration>.+)$"]
    ),
    svc!("AWS/MediaLive", "medialive", ["medialive:channel"], [":channel:(?P<ChannelId>.+)$"]),
    svc!(
        "AWS/MediaTailor",
        "mediatailor",
        ["mediatailor:playbackConfiguration"],
        ["playbackConfiguration/(?P<ConfigurationName>[^/]+)"]
    ),
    svc!(
        "AWS/Neptune",
        "neptune",
        ["rds:db", "rds:cluster"],
        [":cluster:(?P<DBClusterIdentifier>[^/]+)", ":db:(?P<DBInstanceIdentifier>[^/]+)"]
    ),
    svc!("AWS/NetworkFirewall", "nfw", ["network-firewall:firewall"], ["firewall/(?P<FirewallName>[^/]+)"]),
    svc!("AWS/NATGateway", "ngw", ["ec2:natgateway"], ["natgateway/(?P<NatGatewayId>[^/]+)"]),
    svc!(
        "AWS/NetworkELB",
        "nlb",
        ["elasticloadbalancing:loadbalancer/net", "elasticloadbalancing:targetgroup"],
        [":(?P<TargetGroup>targetgroup/.+)", ":loadbalancer/(?P<LoadBalancer>.+)$"]
    ),
    svc!("AWS/PrivateLinkEndpoints", "vpc-endpoint", ["ec2:vpc-endpoint"], [":vpc-endpoint/(?P<VPC_Endpoint_Id>.+)"]),
    svc!(
        "AWS/PrivateLinkServices",
        "vpc-endpoint-service",
        ["ec2:vpc-endpoint-service"],
        [":vpc-endpoint-service/(?P<Service_Id>.+)"]
    ),
    svc!("AWS/Prometheus", "amp"),
    svc!("AWS/QLDB", "qldb", ["qldb"], [":ledger/(?P<LedgerName>[^/]+)"]),
    svc!("AWS/QuickSight", "quicksight"),
    svc!(
        "AWS/RDS",
        "rds",
        ["rds:db", "rds:cluster", "rds:db-proxy"],
        [
            ":cluster:(?P<DBClusterIdentifier>[^/]+)",
            ":db:(?P<DBInstanceIdentifier>[^/]+)",
            ":db-proxy:(?P<ProxyIdentifier>[^/]+)"
        ]
    ),
    svc!("AWS/Redshift", "redshift", ["redshift:cluster"], [":cluster:(?P<ClusterIdentifier>[^/]+)"]),
    svc!("AWS/Redshift-Serverless", "redshift", ["redshift-serverless:workgroup", "redshift-serverless:namespace"], []),
    svc!("AWS/Route53Resolver", "route53-resolver", ["route53resolver"], [":resolver-endpoint/(?P<EndpointId>[^/]+)"]),
    svc!("AWS/Route53", "route53", ["route53"], [":healthcheck/(?P<HealthCheckId>[^/]+)"]),
    svc!("AWS/RUM", "rum"),
    svc!("AWS/S3", "s3", ["s3"], ["(?P<BucketName>[^:]+)$"]),
    svc!("AWS/Scheduler", "scheduler"),
    svc!("AWS/ECR", "ecr"),
    svc!("AWS/Timestream", "timestream"),
    svc!("AWS/SecretsManager", "secretsmanager"),
    svc!("AWS/SES", "ses"),
    svc!("AWS/States", "sfn", ["states"], ["(?P<StateMachineArn>.*)"]),
    svc!("AWS/SNS", "sns", ["sns"], ["(?P<TopicName>[^:]+)$"]),
    svc!("AWS/SQS", "sqs", ["sqs"], ["(?P<QueueName>[^:]+)$"]),
    svc!(
        "AWS/StorageGateway",
        "storagegateway",
        ["storagegateway"],
        [
            ":gateway/(?P<GatewayId>[^:]+)$",
            ":share/(?P<ShareId>[^:]+)$",
            "^(?P<GatewayId>[^:/]+)/(?P<GatewayName>[^:]+)$"
        ]
    ),
    svc!("AWS/Transfer", "transfer"),
    svc!(
        "AWS/TransitGateway",
        "tgw",
        ["ec2:transit-gateway"],
        [":transit-gateway/(?P<TransitGateway>[^/]+)", "(?P<TransitGateway>[^/]+)/(?P<TransitGatewayAttachment>[^/]+)"]
    ),
    svc!("AWS/TrustedAdvisor", "trustedadvisor"),
    svc!("AWS/VPN", "vpn", ["ec2:vpn-connection"], [":vpn-connection/(?P<VpnId>[^/]+)"]),
    svc!("AWS/ClientVPN", "clientvpn", ["ec2:client-vpn-endpoint"], [":client-vpn-endpoint/(?P<Endpoint>[^/]+)"]),
    svc!("AWS/WAFV2", "wafv2", ["wafv2"], ["/webacl/(?P<WebACL>[^/]+)"]),
    svc!(
        "AWS/WorkSpaces",
        "workspaces",
        ["workspaces:workspace", "workspaces:directory"],
        [":workspace/(?P<WorkspaceId>[^/]+)$", ":directory/(?P<DirectoryId>[^/]+)$"]
    ),
    svc!("AWS/AOSS", "aoss", ["aoss:collection"], [":collection/(?P<CollectionId>[^/]+)"]),
    svc!(
        "AWS/SageMaker",
        "sagemaker",
        ["sagemaker:endpoint", "sagemaker:inference-component"],
        [":endpoint/(?P<EndpointName>[^/]+)$", ":inference-component/(?P<InferenceComponentName>[^/]+)$"]
    ),
    svc!(
        "/aws/sagemaker/Endpoints",
        "sagemaker-endpoints",
        ["sagemaker:endpoint"],
        [":endpoint/(?P<EndpointName>[^/]+)$"]
    ),
    svc!(
        "/aws/sagemaker/InferenceComponents",
        "sagemaker-inference-components",
        ["sagemaker:inference-component"],
        [":inference-component/(?P<InferenceComponentName>[^/]+)$"]
    ),
    svc!("/aws/sagemaker/TrainingJobs", "sagemaker-training", ["sagemaker:training-job"], []),
    svc!("/aws/sagemaker/ProcessingJobs", "sagemaker-processing", ["sagemaker:processing-job"], []),
    svc!("/aws/sagemaker/TransformJobs", "sagemaker-transform", ["sagemaker:transform-job"], []),
    svc!(
        "/aws/sagemaker/InferenceRecommendationsJobs",
        "sagemaker-inf-rec",
        ["sagemaker:inference-recommendations-job"],
        [":inference-recommendations-job/(?P<JobName>[^/]+)"]
    ),
    svc!(
        "AWS/Sagemaker/ModelBuildingPipeline",
        "sagemaker-model-building-pipeline",
        ["sagemaker:pipeline"],
        [":pipeline/(?P<PipelineName>[^/]+)"]
    ),
    svc!("AWS/IPAM", "ipam", ["ec2:ipam-pool"], [":ipam-pool/(?P<IpamPoolId>[^/]+)$"]),
    svc!("AWS/Bedrock", "bedrock"),
    svc!("AWS/Bedrock/Agents", "bedrock-agents", ["bedrock:agent-alias"], ["(?P<AgentAliasArn>.+)"]),
    svc!("AWS/Bedrock/Guardrails", "bedrock-guardrails", ["bedrock:guardrail"], ["(?P<GuardrailArn>.+)"]),
    svc!(
        "AWS/Events",
        "event-rule",
        ["events"],
        [
            ":rule/(?P<EventBusName>[^/]+)/(?P<RuleName>[^/]+)$",
            ":rule/aws.partner/(?P<EventBusName>.+)/(?P<RuleName>[^/]+)$"
        ]
    ),
    svc!("AWS/VpcLattice", "vpc-lattice", ["vpc-lattice:service"], [":service/(?P<Service>[^/]+)$"]),
    svc!(
        "AWS/Network Manager",
        "networkmanager",
        ["networkmanager:core-network"],
        [":core-network/(?P<CoreNetwork>[^/]+)$"]
    ),
    svc!("CloudWatchSynthetics", "synthetics", ["synthetics:canary"], [":canary:(?P<CanaryName>[^/]+)"]),
];

pub fn by_namespace(namespace: &str) -> Option<&'static Service> {
    SERVICES.iter().find(|s| s.namespace == namespace)
}

pub fn by_alias(alias: &str) -> Option<&'static Service> {
    SERVICES.iter().find(|s| s.alias == alias)
}

/// A compiled ARN regexp and the dimension names its groups stand for.
#[derive(Debug, Clone)]
pub struct DimensionRegexp {
    pub regex: regex_lite::Regex,
    /// Group names with `_` read as a space (`VPC_Endpoint_Id` is the dimension `VPC Endpoint Id`).
    pub dimensions: Vec<String>,
}

impl Service {
    pub fn compiled_regexps(&self) -> Vec<DimensionRegexp> {
        self.dimension_regexps
            .iter()
            .map(|r| {
                let regex = regex_lite::Regex::new(r).expect("built-in ARN regexps compile");
                let dimensions = regex.capture_names().flatten().map(|n| n.replace('_', " ")).collect();
                DimensionRegexp { regex, dimensions }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_regexp_compiles_and_names_dimensions() {
        for s in SERVICES {
            for r in s.compiled_regexps() {
                assert!(!r.dimensions.is_empty(), "{}: {:?}", s.namespace, r.regex);
            }
        }
        let ec2 = by_namespace("AWS/EC2").unwrap();
        let r = &ec2.compiled_regexps()[0];
        let c = r.regex.captures("arn:aws:ec2:us-east-1:123456789012:instance/i-0abc").unwrap();
        assert_eq!(&c["InstanceId"], "i-0abc");
        assert_eq!(by_alias("sqs").unwrap().namespace, "AWS/SQS");
    }
}
