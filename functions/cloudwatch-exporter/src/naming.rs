//! YACE's metric and label names, so dashboards and alerts built on YACE keep working:
//! `aws_<namespace>_<metric>_<statistic>` in YACE's snake case, `dimension_<Name>` and
//! `tag_<Key>` with the name sanitised but its case kept (YACE's default; `LABELS_SNAKE_CASE`
//! is YACE's `-labels-snake-case`).
//! Which names are valid is Prometheus's rule, from [`promstack::names`].

use promstack::names;

/// YACE's `PromString`: separators to `_`, `%` to `_percent`, and a `_` before an upper-case
/// letter that follows a lower-case letter or a digit; all lower case.
pub fn prom_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    let mut prev = '\0';
    for c in text.chars() {
        match c {
            ' ' | ',' | '\t' | '/' | '\\' | '.' | '-' | ':' | '=' | '@' | '<' | '>' | '(' | ')' | '“' => {
                out.push('_')
            }
            '%' => out.push_str("_percent"),
            _ => {
                if c.is_uppercase() && (prev.is_lowercase() || prev.is_ascii_digit()) {
                    out.push('_');
                }
                out.extend(c.to_lowercase());
            }
        }
        prev = c;
    }
    out
}

/// YACE's `sanitize` for label names: separators to `_`, `%` to `_percent`, case kept.
pub fn sanitize_label(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            ' ' | ',' | '\t' | '/' | '\\' | '.' | '-' | ':' | '=' | '@' | '<' | '>' | '(' | ')' | '“' => {
                out.push('_')
            }
            '%' => out.push_str("_percent"),
            _ => out.push(c),
        }
    }
    out
}

/// YACE's `PromStringTag`: the label-name part of a tag, dimension or custom-tag key (its
/// `PromString` with `labels_snake_case`, else its `sanitize`), if that alone is a valid label
/// name. YACE checks the key without its prefix, so a key starting with a digit (`1x`) is dropped
/// although `tag_1x` would be valid.
pub fn prom_string_tag(key: &str, labels_snake_case: bool) -> Option<String> {
    let part = if labels_snake_case { prom_string(key) } else { sanitize_label(key) };
    names::is_label_name(&part).then_some(part)
}

/// `prefix` + the sanitised `name`, if the sanitised name is valid on its own (YACE drops, with
/// a warning, those that aren't). Case kept: YACE's default, without `-labels-snake-case`.
pub fn label_name(prefix: &str, name: &str) -> Option<String> {
    label_name_as(prefix, name, false)
}

/// [`label_name`], in snake case when `labels_snake_case` (YACE's `-labels-snake-case`).
pub fn label_name_as(prefix: &str, name: &str, labels_snake_case: bool) -> Option<String> {
    prom_string_tag(name, labels_snake_case).map(|part| format!("{prefix}{part}"))
}

/// YACE's `BuildMetricName`: `aws_` + the namespace in snake case (no `aws_` twice; only a leading
/// `/` dropped) + the metric name with a leading namespace word removed + the statistic (empty
/// for the info series).
pub fn metric_name(namespace: &str, metric: &str, statistic: &str) -> String {
    let ns = prom_string(&namespace.strip_prefix('/').unwrap_or(namespace).to_lowercase());
    let mut name = String::with_capacity(ns.len() + metric.len() + statistic.len() + 8);
    if !ns.starts_with("aws") {
        name.push_str("aws_");
    }
    name.push_str(&ns);
    name.push('_');
    // Some metric names repeat the namespace (Glue's `glue.driver...`). YACE's loop is not
    // cumulative: each namespace word that prefixes what is left after the previous match sets the
    // cut to that word's own length (a byte offset from the start), so only the last match counts.
    let metric = prom_string(metric);
    let bytes = metric.as_bytes();
    let mut skip = 0;
    for part in ns.split('_') {
        if bytes[skip.min(bytes.len())..].starts_with(part.as_bytes()) {
            skip = part.len();
        }
    }
    let rest = &bytes[skip.min(bytes.len())..];
    let rest = rest.strip_prefix(b"_").unwrap_or(rest);
    // A cut inside a multi-byte character leaves an invalid name either way (YACE's Go string too).
    name.push_str(&String::from_utf8_lossy(rest));
    if !statistic.is_empty() {
        name.push('_');
        name.push_str(&prom_string(statistic));
    }
    name
}

/// The info series of a namespace: `aws_<namespace>_info`.
pub fn info_metric_name(namespace: &str) -> String {
    metric_name(namespace, "info", "")
}

#[cfg(test)]
#[path = "naming_yace_cases.rs"]
mod yace_cases;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_match_yace() {
        assert_eq!(metric_name("AWS/EC2", "CPUUtilization", "Average"), "aws_ec2_cpuutilization_average");
        assert_eq!(metric_name("AWS/EC2", "EBSIOBalance%", "Maximum"), "aws_ec2_ebsiobalance_percent_maximum");
        assert_eq!(
            metric_name("AWS/ELB", "HealthyHostCount", "SampleCount"),
            "aws_elb_healthy_host_count_sample_count"
        );
        assert_eq!(
            metric_name("AWS/ApplicationELB", "TargetResponseTime", "p99"),
            "aws_applicationelb_target_response_time_p99"
        );
        assert_eq!(
            metric_name("AWS/ApplicationELB", "TargetResponseTime", "p99.9"),
            "aws_applicationelb_target_response_time_p99_9"
        );
        assert_eq!(metric_name("AWS/SQS", "NumberOfMessagesSent", "Sum"), "aws_sqs_number_of_messages_sent_sum");
        assert_eq!(
            metric_name("Glue", "glue.driver.aggregate.bytesRead", "Sum"),
            "aws_glue_driver_aggregate_bytes_read_sum"
        );
        assert_eq!(
            metric_name("/aws/sagemaker/TrainingJobs", "CPUUtilization", "Average"),
            "aws_sagemaker_trainingjobs_cpuutilization_average"
        );
        assert_eq!(metric_name("MyApp", "Orders", "Sum"), "aws_myapp_orders_sum");
        assert_eq!(metric_name("AWS/S3", "BucketSizeBytes", "Average"), "aws_s3_bucket_size_bytes_average");
        assert_eq!(info_metric_name("AWS/EC2"), "aws_ec2_info");
        assert_eq!(metric_name("AWS/Network Manager", "BytesIn", "Sum"), "aws_network_manager_bytes_in_sum");
    }

    #[test]
    fn label_names_keep_case_and_drop_invalid() {
        assert_eq!(label_name("dimension_", "InstanceId").as_deref(), Some("dimension_InstanceId"));
        assert_eq!(label_name("dimension_", "VPC Endpoint Id").as_deref(), Some("dimension_VPC_Endpoint_Id"));
        assert_eq!(
            label_name("tag_", "aws:cloudformation:stack-name").as_deref(),
            Some("tag_aws_cloudformation_stack_name")
        );
        assert_eq!(label_name("tag_", "cost%").as_deref(), Some("tag_cost_percent"));
        assert_eq!(label_name("tag_", "naïve"), None);
    }
}
