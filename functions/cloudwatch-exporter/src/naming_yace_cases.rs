//! YACE's own test vectors for metric and label names, run against promstack's naming.

use super::*;

// YACE 1a0ddb1e pkg/promutil/migrate_test.go (TestBuildMetricName)
#[test]
fn build_metric_name() {
    let cases = [
        ("AWS/ElastiCache", "CPUUtilization", "Average", "aws_elasticache_cpuutilization_average"),
        (
            "/aws/sagemaker/TrainingJobs",
            "CPUUtilization",
            "Average",
            "aws_sagemaker_trainingjobs_cpuutilization_average",
        ),
        ("Glue", "glue.driver.aggregate.bytesRead", "Average", "aws_glue_driver_aggregate_bytes_read_average"),
        ("Glue", "aggregate.glue.jobs.bytesRead", "Average", "aws_glue_aggregate_glue_jobs_bytes_read_average"),
    ];
    for (namespace, metric, statistic, expected) in cases {
        assert_eq!(metric_name(namespace, metric, statistic), expected, "{namespace} {metric} {statistic}");
    }
}

// YACE 1a0ddb1e pkg/promutil/migrate_test.go (TestBuildNamespaceInfoMetrics: the info series' names)
#[test]
fn build_info_metric_name() {
    assert_eq!(info_metric_name("AWS/ElastiCache"), "aws_elasticache_info");
    assert_eq!(info_metric_name("/aws/sagemaker/TrainingJobs"), "aws_sagemaker_trainingjobs_info");
}

// YACE 1a0ddb1e pkg/promutil/prometheus_test.go (TestSanitize)
#[test]
fn sanitize() {
    let cases = [
        ("Global.Topic.Count", "Global_Topic_Count"),
        ("Status.Check.Failed_Instance", "Status_Check_Failed_Instance"),
        ("IHaveA%Sign", "IHaveA_percentSign"),
    ];
    for (input, output) in cases {
        assert_eq!(sanitize_label(input), output, "{input}");
    }
}

// YACE 1a0ddb1e pkg/promutil/prometheus_test.go (TestPromStringTag)
#[test]
fn prom_string_tag_cases() {
    let cases = [
        ("labelName", false, Some("labelName")),
        ("labelName", true, Some("label_name")),
        ("label_name", false, Some("label_name")),
        ("label_name", true, Some("label_name")),
        ("invalidChars@$", false, None),
        ("invalidChars@$", true, None),
    ];
    for (label, to_snake_case, out) in cases {
        assert_eq!(prom_string_tag(label, to_snake_case).as_deref(), out, "{label} snake case {to_snake_case}");
    }
}

// YACE 1a0ddb1e pkg/promutil/prometheus_test.go (TestPromStringTag_IgnoresGlobalValidationScheme):
// the classic label-name rule always applies, so a leading digit is refused.
#[test]
fn prom_string_tag_uses_the_legacy_rule() {
    assert_eq!(prom_string_tag("1stLabel", false), None);
    assert_eq!(prom_string_tag("labelName", false).as_deref(), Some("labelName"));
}

// Paths of YACE's code its tables do not reach (1a0ddb1e pkg/promutil/migrate.go BuildMetricName,
// prometheus.go PromStringTag); expected values worked out from that code.
#[test]
fn yace_code_paths_the_tables_do_not_reach() {
    // Only a leading `/` is dropped; other leading separators become `_` and stay.
    assert_eq!(metric_name("-Custom", "Orders", "Sum"), "aws__custom_orders_sum");
    assert_eq!(metric_name("_x", "Orders", "Sum"), "aws__x_orders_sum");
    assert_eq!(metric_name("/aws/x", "Orders", "Sum"), "aws_x_orders_sum");
    // Not cumulative: each namespace word that prefixes the rest sets the cut to its own length.
    assert_eq!(metric_name("Ab/Cd", "abcdx", "Sum"), "aws_ab_cd_cdx_sum");
    assert_eq!(metric_name("Glue", "glue", "Sum"), "aws_glue__sum");
    // The key is checked alone: `tag_1x` would be valid, YACE drops the key `1x`.
    assert_eq!(label_name("tag_", "1x"), None);
    assert_eq!(label_name_as("dimension_", "CacheClusterId", true).as_deref(), Some("dimension_cache_cluster_id"));
    assert_eq!(label_name_as("tag_", "billable-to", true).as_deref(), Some("tag_billable_to"));
}
