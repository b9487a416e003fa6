//! Webhook to confirmed reload, against the real servers: a signed Bitbucket Cloud push for a
//! config repo of the example files plus 200 rule files of 10 rules each (2,006 rules in all),
//! handled by config-updater end to end — signature check with the secret from moto, shallow
//! fetch from `git http-backend`, validation, atomic write to the volume, `POST /-/reload` on a
//! real Prometheus and its confirmation, and both build statuses. Each measured push is a new
//! commit that changes one rule; making the commit is not timed.
//!
//! `make bench-reload` (= `cargo bench --features config-updater --bench webhook_to_reload`)

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use harness::config_updater::Stack;

const FILES: usize = 200;
const RULES_PER_FILE: usize = 10;

/// One generated rule file; `threshold` lets a commit change it.
fn rule_file(f: usize, threshold: usize) -> String {
    let mut text = format!("groups:\n  - name: scale_{f}\n    rules:\n");
    for r in 0..RULES_PER_FILE {
        if r % 2 == 0 {
            text.push_str(&format!(
                "      - record: job:svc{f}_{r}:error_ratio5m\n        expr: sum by (job) (rate(http_requests_total{{job=\"svc{f}\", code=~\"5..\"}}[5m])) / sum by (job) (rate(http_requests_total{{job=\"svc{f}\"}}[5m]))\n"
            ));
        } else {
            text.push_str(&format!(
                "      - alert: Svc{f}Slow{r}\n        expr: histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{{job=\"svc{f}\", instance=~\"svc{f}-.+\"}}[5m]))) > {threshold}\n        for: 10m\n        labels:\n          severity: page\n        annotations:\n          summary: \"{{{{ $labels.job }}}} p99 over {threshold}s\"\n"
            ));
        }
    }
    text
}

async fn rule_count(stack: &Stack) -> usize {
    let data = stack.prom.api("/api/v1/rules").await;
    data["groups"].as_array().unwrap().iter().map(|g| g["rules"].as_array().unwrap().len()).sum()
}

fn webhook_to_reload(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let (stack, _) = rt.block_on(Stack::start());
    let files: Vec<(String, String)> = (0..FILES).map(|f| (format!("rules/scale_{f}.yml"), rule_file(f, 1))).collect();
    let edits: Vec<(&str, Option<&str>)> = files.iter().map(|(p, t)| (p.as_str(), Some(t.as_str()))).collect();
    stack.git.edit(&edits);
    let first = stack.git.commit("200 rule files");
    let response = rt.block_on(stack.push(&first));
    assert_eq!(response.body_json()["result"], "deployed", "{response:?}");
    let rules = rt.block_on(rule_count(&stack));
    assert!(rules >= FILES * RULES_PER_FILE, "Prometheus loaded {rules} rules");
    eprintln!("repo deployed: Prometheus has {rules} rules loaded");

    let mut round = 1;
    let mut last = first.clone();
    let mut group = c.benchmark_group("config_updater");
    group.sample_size(10).sampling_mode(SamplingMode::Flat).measurement_time(Duration::from_secs(15));
    group.bench_function("webhook_to_confirmed_reload_2000_rules", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                round += 1;
                let f = round % FILES;
                let text = rule_file(f, round);
                stack.git.edit(&[(&format!("rules/scale_{f}.yml"), Some(&text))]);
                let commit = stack.git.commit(&format!("threshold {round}"));
                let start = Instant::now();
                let response = rt.block_on(stack.push(&commit));
                total += start.elapsed();
                last = commit;
                assert_eq!(response.body_json()["result"], "deployed", "{response:?}");
            }
            total
        })
    });
    group.finish();

    // The last push really is what Prometheus runs.
    let data = rt.block_on(stack.prom.api("/api/v1/rules"));
    let f = round % FILES;
    let group = data["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == format!("scale_{f}"))
        .expect("the edited group");
    let query = group["rules"][1]["query"].as_str().unwrap();
    assert!(query.ends_with(&format!("> {round}")), "{query}");
    assert_eq!(stack.bitbucket.states_for(&last), ["INPROGRESS", "SUCCESSFUL"]);
}

criterion_group!(benches, webhook_to_reload);
criterion_main!(benches);
