//! YACE's own config tests and config files, with YACE's verdict: what YACE loads must load here,
//! what YACE refuses must be refused here. The files are YACE's, unchanged, under
//! `tests/yace-configs/` (see its README for source and license).

use super::*;

fn load(name: &str, yaml: &str) -> Result<ExporterConfig, ConfigError> {
    ExporterConfig::from_yaml(yaml).map_err(|e| ConfigError::at(format!("{name}: {}", e.location), e.message))
}

// YACE 1a0ddb1e examples/*.yml and docker-compose/yace-config.yaml: YACE's documented configs.
const EXAMPLES: &[(&str, &str)] = &[
    ("examples/alb.yml", include_str!("../tests/yace-configs/examples/alb.yml")),
    ("examples/apigw.yml", include_str!("../tests/yace-configs/examples/apigw.yml")),
    ("examples/apprunner.yaml", include_str!("../tests/yace-configs/examples/apprunner.yaml")),
    ("examples/appstream.yml", include_str!("../tests/yace-configs/examples/appstream.yml")),
    ("examples/backup.yml", include_str!("../tests/yace-configs/examples/backup.yml")),
    ("examples/cwagent.yml", include_str!("../tests/yace-configs/examples/cwagent.yml")),
    ("examples/ds.yml", include_str!("../tests/yace-configs/examples/ds.yml")),
    ("examples/dx.yml", include_str!("../tests/yace-configs/examples/dx.yml")),
    ("examples/ebs.yml", include_str!("../tests/yace-configs/examples/ebs.yml")),
    ("examples/ec.yml", include_str!("../tests/yace-configs/examples/ec.yml")),
    ("examples/ec2.yml", include_str!("../tests/yace-configs/examples/ec2.yml")),
    ("examples/ecs.yml", include_str!("../tests/yace-configs/examples/ecs.yml")),
    ("examples/elb.yml", include_str!("../tests/yace-configs/examples/elb.yml")),
    ("examples/es.yml", include_str!("../tests/yace-configs/examples/es.yml")),
    ("examples/historic-data.yml", include_str!("../tests/yace-configs/examples/historic-data.yml")),
    ("examples/kafka.yml", include_str!("../tests/yace-configs/examples/kafka.yml")),
    ("examples/kinesis.yml", include_str!("../tests/yace-configs/examples/kinesis.yml")),
    ("examples/kms.yml", include_str!("../tests/yace-configs/examples/kms.yml")),
    ("examples/lambda.yml", include_str!("../tests/yace-configs/examples/lambda.yml")),
    ("examples/lambda_edge.yml", include_str!("../tests/yace-configs/examples/lambda_edge.yml")),
    ("examples/logs.yml", include_str!("../tests/yace-configs/examples/logs.yml")),
    ("examples/mq.yml", include_str!("../tests/yace-configs/examples/mq.yml")),
    ("examples/networkmanager.yml", include_str!("../tests/yace-configs/examples/networkmanager.yml")),
    ("examples/ngw.yml", include_str!("../tests/yace-configs/examples/ngw.yml")),
    ("examples/nlb.yml", include_str!("../tests/yace-configs/examples/nlb.yml")),
    (
        "examples/private-link-endpoints.yaml",
        include_str!("../tests/yace-configs/examples/private-link-endpoints.yaml"),
    ),
    ("examples/private-link-services.yaml", include_str!("../tests/yace-configs/examples/private-link-services.yaml")),
    ("examples/qldb.yml", include_str!("../tests/yace-configs/examples/qldb.yml")),
    ("examples/quicksight.yml", include_str!("../tests/yace-configs/examples/quicksight.yml")),
    ("examples/rds.yml", include_str!("../tests/yace-configs/examples/rds.yml")),
    ("examples/redshift-serverless.yml", include_str!("../tests/yace-configs/examples/redshift-serverless.yml")),
    ("examples/s3.yml", include_str!("../tests/yace-configs/examples/s3.yml")),
    ("examples/ses.yaml", include_str!("../tests/yace-configs/examples/ses.yaml")),
    ("examples/sns.yml", include_str!("../tests/yace-configs/examples/sns.yml")),
    ("examples/sqs.yml", include_str!("../tests/yace-configs/examples/sqs.yml")),
    ("examples/usage.yml", include_str!("../tests/yace-configs/examples/usage.yml")),
    ("examples/vpn.yml", include_str!("../tests/yace-configs/examples/vpn.yml")),
    ("docker-compose/yace-config.yaml", include_str!("../tests/yace-configs/docker-compose/yace-config.yaml")),
];

// YACE 1a0ddb1e pkg/config/scrapeconf_test.go TestConfLoad (files from pkg/config/testdata).
const OK_FILES: &[(&str, &str)] = &[
    ("testdata/config_test.yml", include_str!("../tests/yace-configs/testdata/config_test.yml")),
    ("testdata/empty_rolearn.ok.yml", include_str!("../tests/yace-configs/testdata/empty_rolearn.ok.yml")),
    ("testdata/sts_region.ok.yml", include_str!("../tests/yace-configs/testdata/sts_region.ok.yml")),
    ("testdata/multiple_roles.ok.yml", include_str!("../tests/yace-configs/testdata/multiple_roles.ok.yml")),
    ("testdata/custom_namespace.ok.yml", include_str!("../tests/yace-configs/testdata/custom_namespace.ok.yml")),
];

// YACE 1a0ddb1e pkg/config/scrapeconf_test.go TestBadConfigs: the file, YACE's error, and where
// this exporter's error points (the same fault, named by its path).
const BAD_FILES: &[(&str, &str, &str, &str)] = &[
    (
        "testdata/externalid_without_rolearn.bad.yml",
        include_str!("../tests/yace-configs/testdata/externalid_without_rolearn.bad.yml"),
        "RoleArn should not be empty",
        "discovery.jobs[0].roles[0].roleArn",
    ),
    (
        "testdata/externalid_with_empty_rolearn.bad.yml",
        include_str!("../tests/yace-configs/testdata/externalid_with_empty_rolearn.bad.yml"),
        "RoleArn should not be empty",
        "discovery.jobs[0].roles[0].roleArn",
    ),
    (
        "testdata/unknown_version.bad.yml",
        include_str!("../tests/yace-configs/testdata/unknown_version.bad.yml"),
        "unknown apiVersion value 'invalidVersion'",
        "apiVersion",
    ),
    (
        "testdata/custom_namespace_without_name.bad.yml",
        include_str!("../tests/yace-configs/testdata/custom_namespace_without_name.bad.yml"),
        "Name should not be empty",
        "customNamespace[0].name",
    ),
    (
        "testdata/custom_namespace_without_namespace.bad.yml",
        include_str!("../tests/yace-configs/testdata/custom_namespace_without_namespace.bad.yml"),
        "Namespace should not be empty",
        "customNamespace[0].namespace",
    ),
    (
        "testdata/custom_namespace_without_region.bad.yml",
        include_str!("../tests/yace-configs/testdata/custom_namespace_without_region.bad.yml"),
        "Regions should not be empty",
        "customNamespace[0].regions",
    ),
    (
        "testdata/discovery_job_type_unknown.bad.yml",
        include_str!("../tests/yace-configs/testdata/discovery_job_type_unknown.bad.yml"),
        "Discovery job [0]: Service is not in known list!: AWS/FancyNewNamespace",
        "discovery.jobs[0].type",
    ),
    (
        "testdata/discovery_job_type_alias.bad.yml",
        include_str!("../tests/yace-configs/testdata/discovery_job_type_alias.bad.yml"),
        "Discovery job [0]: Invalid 'type' field, use namespace \"AWS/S3\" rather than alias \"s3\"",
        "discovery.jobs[0].type",
    ),
    (
        "testdata/discovery_job_exported_tags_alias.bad.yml",
        include_str!("../tests/yace-configs/testdata/discovery_job_exported_tags_alias.bad.yml"),
        "Discovery jobs: Invalid key in 'exportedTagsOnMetrics', use namespace \"AWS/S3\" rather than alias \"s3\"",
        "discovery.exportedTagsOnMetrics.s3",
    ),
    (
        "testdata/discovery_job_exported_tags_mismatch.bad.yml",
        include_str!("../tests/yace-configs/testdata/discovery_job_exported_tags_mismatch.bad.yml"),
        "Discovery jobs: 'exportedTagsOnMetrics' key \"AWS/RDS\" does not match with any discovery job type",
        "discovery.exportedTagsOnMetrics.AWS/RDS",
    ),
];

#[test]
fn every_yace_example_loads() {
    let failed: Vec<String> =
        EXAMPLES.iter().filter_map(|(name, yaml)| load(name, yaml).err()).map(|e| e.to_string()).collect();
    assert!(failed.is_empty(), "{} of {} YACE examples refused:\n{}", failed.len(), EXAMPLES.len(), failed.join("\n"));
}

#[test]
fn yace_ok_files_load() {
    for (name, yaml) in OK_FILES {
        load(name, yaml).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn yace_bad_files_are_refused_at_the_same_fault() {
    for (name, yaml, yace_error, location) in BAD_FILES {
        let e = ExporterConfig::from_yaml(yaml).expect_err(name);
        assert_eq!(&e.location, location, "{name}: YACE says {yace_error:?}; here: {e}");
    }
}

/// Every file under tests/yace-configs is in one of the tables above.
#[test]
fn the_tables_cover_every_yace_file() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/yace-configs");
    let mut on_disk = Vec::new();
    for dir in ["examples", "docker-compose", "testdata"] {
        for entry in std::fs::read_dir(format!("{root}/{dir}")).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".yml") || name.ends_with(".yaml") {
                on_disk.push(format!("{dir}/{name}"));
            }
        }
    }
    let mut in_tables: Vec<String> = EXAMPLES.iter().chain(OK_FILES).map(|(n, _)| n.to_string()).collect();
    in_tables.extend(BAD_FILES.iter().map(|(n, ..)| n.to_string()));
    on_disk.sort();
    in_tables.sort();
    assert_eq!(on_disk, in_tables);
    assert_eq!(on_disk.len(), 53);
}

/// What YACE's model holds for testdata/config_test.yml, field by field where YACE's
/// `validateMetric` decides it (job-level fields inherited, 0 = unset, a metric's delay ignored).
#[test]
fn yace_config_test_yml_reads_as_yace_reads_it() {
    let c = ExporterConfig::from_yaml(OK_FILES[0].1).unwrap();
    assert_eq!(c.jobs.len(), 11, "10 discovery jobs and 1 static job");
    let elb = c.jobs.iter().find(|j| j.namespace == "AWS/ELB").unwrap();
    let m: Vec<_> = elb
        .metrics
        .iter()
        .map(|m| (m.name.as_str(), &m.statistics[..], m.period, m.length, m.delay, m.nil_to_zero))
        .collect();
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(m[0], ("HealthyHostCount", &s(&["Minimum"])[..], 600, 600, 120, false));
    assert_eq!(
        m[1],
        ("HTTPCode_Backend_4XX", &s(&["Sum"])[..], 60, 900, 120, true),
        "the metric's delay: 300 is ignored"
    );
    assert_eq!(m[2], ("HTTPCode_Backend_5XX", &s(&["Minimum", "Maximum", "Sum"])[..], 60, 900, 120, false));
    let ebs = c.jobs.iter().find(|j| j.namespace == "AWS/EBS").unwrap();
    assert!(ebs.metrics[0].add_cloudwatch_timestamp);
    let JobKind::Discovery { exported_tags, .. } = &ebs.kind else { panic!() };
    assert_eq!(exported_tags, &["VolumeId"]);
    let JobKind::Static { name, dimensions } = &c.jobs[10].kind else { panic!("{:?}", c.jobs[10].kind) };
    assert_eq!(
        (name.as_str(), &dimensions[..]),
        ("must_be_set", &[("AutoScalingGroupName".into(), "Test".into())][..])
    );
    assert_eq!(c.jobs[10].custom_tags, [("CustomTag".to_string(), "CustomValue".to_string())]);
    let warned: Vec<&str> = c.warnings.iter().map(|w| w.location.as_str()).collect();
    assert_eq!(warned, ["discovery.jobs[2].metrics[1].delay"]);
}

/// YACE's examples/lambda_edge.yml: a static job with job-level period and length, which YACE
/// ignores (its metrics get the default 300 s).
#[test]
fn yace_lambda_edge_example_loads_with_yaces_windows() {
    let (_, yaml) = EXAMPLES.iter().find(|(n, _)| *n == "examples/lambda_edge.yml").unwrap();
    let c = ExporterConfig::from_yaml(yaml).unwrap();
    assert_eq!(c.jobs[0].regions.len(), 4);
    assert!(c.jobs[0].metrics.iter().all(|m| (m.period, m.length) == (DEFAULT_PERIOD, DEFAULT_LENGTH)));
    let warned: Vec<&str> = c.warnings.iter().map(|w| w.location.as_str()).collect();
    assert_eq!(warned, ["static[0].period", "static[0].length"]);
}

/// YACE's docker-compose config: includeContextOnInfoMetrics on the EC2 job only.
#[test]
fn yace_docker_compose_config_reads_include_context_on_info_metrics() {
    let (_, yaml) = EXAMPLES.iter().find(|(n, _)| n.starts_with("docker-compose/")).unwrap();
    let c = ExporterConfig::from_yaml(yaml).unwrap();
    let flags: Vec<(&str, bool)> =
        c.jobs.iter().map(|j| (j.namespace.as_str(), j.include_context_on_info_metrics)).collect();
    assert_eq!(flags, [("AWS/ECS", false), ("AWS/EC2", true)]);
    assert_eq!(c.sts_region.as_deref(), Some("us-east-1"));
}

// YACE 1a0ddb1e pkg/config/scrapeconf_test.go TestValidateConfigFailuresWhenUsingAsLibrary, as
// config files. Its first case (no roles at all) only arises when a program builds the struct
// itself: parsing a file gives a job without roles the empty role (YACE's applyDefaults), which
// is what the first row checks.
#[test]
fn yace_library_validation_cases_as_files() {
    let c = ExporterConfig::from_yaml("apiVersion: v1alpha1\nsts-region: us-east-2\ndiscovery:\n  jobs:\n    - regions: [us-east-2]\n      type: AWS/SQS\n      metrics:\n        - name: NumberOfMessagesSent\n          statistics: [Average]\n").unwrap();
    assert_eq!(c.jobs[0].roles, [Role::default()], "empty role should be configured when environment role is desired");

    for (case, yaml, yace_error, location) in [
        (
            "enhanced metric are not supported for the namespace",
            "discovery:\n  jobs:\n    - regions: [us-east-2]\n      type: AWS/S3\n      roles: [{roleArn: 'arn:aws:iam::123456789012:role/test'}]\n      metrics: [{name: BucketSizeBytes, statistics: [Average]}]\n      enhancedMetrics: [{name: SomeEnhancedMetric}]\n",
            "Discovery job [AWS/S3/0]: enhanced metrics are not supported for this namespace: enhanced metrics service for namespace AWS/S3 not found",
            "discovery.jobs[0].enhancedMetrics",
        ),
        (
            "enhanced metric is not supported by the enhanced metrics service",
            "discovery:\n  jobs:\n    - regions: [us-east-2]\n      type: AWS/Lambda\n      roles: [{roleArn: 'arn:aws:iam::123456789012:role/test'}]\n      metrics: [{name: BucketSizeBytes, statistics: [Average]}]\n      enhancedMetrics: [{name: SomeEnhancedMetric}]\n",
            "Discovery job [AWS/Lambda/0]: enhanced metric \"SomeEnhancedMetric\" is not supported for this namespace",
            "discovery.jobs[0].enhancedMetrics[0].name",
        ),
    ] {
        let e = ExporterConfig::from_yaml(yaml).expect_err(case);
        assert_eq!(e.location, location, "{case}: YACE says {yace_error:?}; here: {e}");
        assert!(e.message.contains("not supported"), "{case}: {e}");
    }
}
