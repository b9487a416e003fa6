//! Validation speed: a config repository of 200 rule files holding 10,000 rules (50 each),
//! checked as a push would be (YAML, rule structure, PromQL), without writing anything. Every
//! file has its own regex matcher besides the shared `code=~"5.."`, so 201 distinct patterns.
//! `cargo bench -p config-updater --bench config_updater`

use std::collections::BTreeMap;

use config_updater::layout::{Layout, RepoFile};
use config_updater::validate::{check_repo, Target};
use criterion::{criterion_group, criterion_main, Criterion};

const TEMPLATE: &str = "global:\n  scrape_interval: 30s\nrule_files:\n  - rules.d/*.yml\nscrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['localhost:9090']\n";

/// `files` rule files with `rules_per_file` rules each, alternating recording and alerting rules.
pub fn repo(files: usize, rules_per_file: usize) -> Vec<RepoFile> {
    let mut out = vec![RepoFile { path: "prometheus.yml".into(), contents: TEMPLATE.as_bytes().to_vec() }];
    for f in 0..files {
        let mut text = format!("groups:\n  - name: group_{f}\n    interval: 1m\n    rules:\n");
        for r in 0..rules_per_file {
            if r % 2 == 0 {
                text.push_str(&format!(
                    "      - record: job_{f}_{r}:http_requests:rate5m\n        expr: sum by (job, code) (rate(http_requests_total{{job=\"svc{f}\", code=~\"5..\"}}[5m])) / ignoring(code) group_left sum by (job) (rate(http_requests_total[5m]))\n"
                ));
            } else {
                text.push_str(&format!(
                    "      - alert: HighLatency{f}x{r}\n        expr: histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{{job=\"svc{f}\", instance=~\"svc{f}-(blue|green)-.+\"}}[5m]))) > 0.5\n        for: 10m\n        labels:\n          severity: page\n        annotations:\n          summary: \"{{{{ $labels.job }}}} is slow\"\n"
                ));
            }
        }
        out.push(RepoFile { path: format!("rules/file_{f}.yml"), contents: text.into_bytes() });
    }
    out
}

fn validation(c: &mut Criterion) {
    let files = repo(200, 50);
    let vars = BTreeMap::new();
    let layout = Layout::default();
    let release = check_repo(&files, &layout, &vars, &Target::default()).expect("the generated repo is valid");
    assert_eq!(release.summary.rules, 10_000);
    let mut group = c.benchmark_group("validate");
    group.sample_size(10);
    group.bench_function("10000_rules_200_files", |b| {
        b.iter(|| check_repo(&files, &layout, &vars, &Target::default()).unwrap())
    });
    group.finish();
}

criterion_group!(benches, validation);
criterion_main!(benches);
