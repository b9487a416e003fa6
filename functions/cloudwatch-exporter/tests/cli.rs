//! The `cloudwatch-exporter` command line as a person meets it: `--help`, `--version`, a wrong
//! command, no AWS region, and `verify-config` listing every problem of a config. The dry run
//! against moto is the root package's `tests/cloudwatch_exporter_cli.rs`.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn exporter(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cloudwatch-exporter")).args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_lists_the_commands_and_version_names_the_release() {
    let out = exporter(&["--help"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let help = text(&out.stdout);
    assert!(help.contains("Usage: cloudwatch-exporter [COMMAND]"), "{help}");
    for line in ["  verify-config  Check a YACE config file", "  run            One run against AWS"] {
        assert!(help.contains(line), "{line:?} missing from:\n{help}");
    }
    let out = exporter(&["run", "--help"]);
    assert!(text(&out.stdout).contains("--config <FILE>"), "{}", text(&out.stdout));

    let out = exporter(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), format!("cloudwatch-exporter {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn a_wrong_command_or_a_missing_argument_exits_2_with_the_usage() {
    for (args, says) in [
        (&["bogus"][..], "unrecognized subcommand 'bogus'"),
        (&["verify-config"][..], "<FILE>"),
        (&["run"][..], "--dry-run"),
        (&["run", "--dry-run", "--config"][..], "a value is required for '--config <FILE>'"),
    ] {
        let out = exporter(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains(says) && err.contains("For more information, try '--help'."), "{args:?}: {err}");
    }
    // No arguments is the Lambda function; outside Lambda that is said in one line.
    let out =
        Command::new(env!("CARGO_BIN_EXE_cloudwatch-exporter")).env_remove("AWS_LAMBDA_RUNTIME_API").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "cloudwatch-exporter: not in Lambda (no AWS_LAMBDA_RUNTIME_API); see cloudwatch-exporter --help\n"
    );
}

/// Without a region the SDK would ask the EC2 instance metadata service, with retries and
/// kilobytes of warnings; the dry run says in one line what to set, at once.
#[test]
fn a_dry_run_without_a_region_says_to_set_aws_region_in_one_line() {
    let home = std::env::temp_dir().join(format!("cwe-cli-home-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/yace/demo.yml");
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_cloudwatch-exporter"))
        .args(["run", "--dry-run", "--config", config])
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_PROFILE")
        .env("HOME", &home)
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .env("RUST_LOG", "debug")
        .output()
        .unwrap();
    let took = started.elapsed();
    std::fs::remove_dir_all(&home).ok();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "cloudwatch-exporter run --dry-run: no AWS region: set AWS_REGION (Lambda sets it; on a laptop, e.g. \
         AWS_REGION=eu-west-1)\n"
    );
    assert_eq!(text(&out.stdout), "");
    assert!(took < Duration::from_secs(2), "{took:?}: the metadata service was asked");
}

/// YACE's own config at v0.25.0-alpha (YACE bf161b69 config_test.yml, kept verbatim in
/// tests/cli-configs/): written for a YACE that had `Key`/`Value` tags, `awsDimensions`,
/// `additionalDimensions` and namespace aliases. Every problem is listed, each with its place,
/// and YACE's old fields are named as YACE's, not as typos.
#[test]
fn verify_config_lists_every_problem_and_names_yaces_old_fields() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cli-configs/yace-v0.25.0-alpha-config_test.yml");
    let out = exporter(&["verify-config", file]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().map(|l| l.strip_prefix(file).unwrap().strip_prefix(": ").unwrap()).collect();
    let tag = |path: &str, field: &str, line: usize| {
        let write = field.to_lowercase();
        format!("{path}.{field}: YACE field `{field}` is not supported (YACE before 0.26 spelt it so; write {write}) at line {line}")
    };
    let aws_dimensions = |path: &str, line: usize| {
        format!(
            "{path}.awsDimensions: YACE field `awsDimensions` is not supported (YACE 0.14 to 0.25 had it; the \
             dimensions come from ListMetrics, and dimensionNameRequirements selects them) at line {line}"
        )
    };
    let additional = |path: &str, line: usize| {
        format!(
            "{path}.additionalDimensions: YACE field `additionalDimensions` is not supported (YACE 0.13 to 0.25 had \
             it; use a static job's dimensions) at line {line}"
        )
    };
    let length = |path: &str| {
        format!("{path}.length: length (60) is smaller than period (600): the data asked for would not be ready")
    };
    let alias = |path: &str, alias: &str, namespace: &str| {
        format!("{path}: \"{alias}\" is an alias: use the namespace \"{namespace}\"")
    };
    let expected = [
        tag("discovery.jobs[0].searchTags[0]", "Key", 12),
        tag("discovery.jobs[0].searchTags[0]", "Value", 13),
        aws_dimensions("discovery.jobs[1]", 40),
        tag("discovery.jobs[1].searchTags[0]", "Key", 43),
        tag("discovery.jobs[1].searchTags[0]", "Value", 44),
        tag("discovery.jobs[2].searchTags[0]", "Key", 62),
        tag("discovery.jobs[2].searchTags[0]", "Value", 63),
        tag("discovery.jobs[3].searchTags[0]", "Key", 73),
        tag("discovery.jobs[3].searchTags[0]", "Value", 74),
        tag("discovery.jobs[5].searchTags[0]", "Key", 94),
        tag("discovery.jobs[5].searchTags[0]", "Value", 95),
        additional("discovery.jobs[5].metrics[0]", 102),
        additional("discovery.jobs[5].metrics[1]", 110),
        tag("discovery.jobs[6].searchTags[0]", "Key", 117),
        tag("discovery.jobs[6].searchTags[0]", "Value", 118),
        tag("discovery.jobs[7].searchTags[0]", "Key", 130),
        tag("discovery.jobs[7].searchTags[0]", "Value", 131),
        aws_dimensions("discovery.jobs[7]", 132),
        tag("static[0].customTags[0]", "Key", 150),
        tag("static[0].customTags[0]", "Value", 151),
        alias("discovery.exportedTagsOnMetrics.ebs", "ebs", "AWS/EBS"),
        alias("discovery.exportedTagsOnMetrics.ec2", "ec2", "AWS/EC2"),
        alias("discovery.jobs[0].type", "es", "AWS/ES"),
        length("discovery.jobs[0].metrics[0]"),
        length("discovery.jobs[0].metrics[1]"),
        length("discovery.jobs[0].metrics[2]"),
        length("discovery.jobs[0].metrics[3]"),
        alias("discovery.jobs[1].type", "elb", "AWS/ELB"),
        alias("discovery.jobs[2].type", "alb", "AWS/ApplicationELB"),
        alias("discovery.jobs[3].type", "vpn", "AWS/VPN"),
        alias("discovery.jobs[4].type", "kinesis", "AWS/Kinesis"),
        alias("discovery.jobs[5].type", "s3", "AWS/S3"),
        alias("discovery.jobs[6].type", "ebs", "AWS/EBS"),
        alias("discovery.jobs[7].type", "kafka", "AWS/Kafka"),
    ];
    assert_eq!(lines, expected, "{stderr}");
}

/// A typo next to a YACE field: the typo is an unknown field with a guess, the YACE field is
/// YACE's, and the checks of the rest still run.
#[test]
fn verify_config_tells_a_typo_from_a_yace_field() {
    let dir = std::env::temp_dir().join(format!("cwe-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("yace.yml");
    std::fs::write(
        &file,
        "apiVersion: v1alpha1\ndiscovery:\n  jobs:\n    - type: AWS/SQS\n      region: eu-west-1\n      regoins: [eu-west-1]\n      metrics:\n        - name: NumberOfMessagesSent\n          statistics: [Sum, Median]\n",
    )
    .unwrap();
    let out = exporter(&["verify-config", file.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(out.status.code(), Some(1));
    let f = file.display();
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 4, "{stderr}");
    assert_eq!(
        lines[0],
        format!(
            "{f}: discovery.jobs[0].region: YACE field `region` is not supported (YACE before 0.18 had it; write \
             regions: [REGION]) at line 5"
        )
    );
    assert!(
        lines[1].starts_with(&format!(
            "{f}: discovery.jobs[0]: unknown field `regoins` (did you mean `regions`?), expected one of `type`, "
        )) && lines[1].ends_with(" at line 6"),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2], format!("{f}: discovery.jobs[0].regions: must name at least one region"));
    assert!(
        lines[3].starts_with(&format!("{f}: discovery.jobs[0].metrics[0].statistics[1]: unknown statistic \"Median\"")),
        "{}",
        lines[3]
    );
}
