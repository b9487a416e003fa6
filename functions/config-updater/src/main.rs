//! The Lambda entry point, and `config-updater check DIR` outside Lambda.

use std::process::ExitCode;

use aws_config::retry::RetryConfig;
use config_updater::{handle, settings, Deps};
use lambda_http::{service_fn, Request};
use promstack::settings::Env;
use serde_json::Value;

const USAGE: &str = "usage: config-updater [check DIR | invoke EVENT.json | sync]   (no arguments: run as a Lambda)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("check") => check(&args[1..]),
        Some("invoke") if args.len() == 2 => run_async(local(Some(args[1].clone()))),
        Some("sync") if args.len() == 1 => run_async(local(None)),
        Some(_) => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
        None => run_async(lambda()),
    }
}

fn run_async(f: impl std::future::Future<Output = ExitCode>) -> ExitCode {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime").block_on(f)
}

async fn deps() -> Result<Deps, config_updater::Error> {
    let settings = config_updater::Settings::from_env()?;
    let retry = RetryConfig::standard().with_max_attempts(settings.aws_max_attempts);
    let sdk = promstack::aws::sdk_config().await.into_builder().retry_config(retry).build();
    Ok(Deps::new(settings, &sdk))
}

async fn lambda() -> ExitCode {
    promstack::telemetry::init_tracing();
    let deps = match deps().await {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    let deps = &deps;
    match lambda_http::run(service_fn(move |request: Request| handle(request, deps))).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "runtime stopped");
            ExitCode::FAILURE
        }
    }
}

/// One invocation on a laptop (the demo): a saved Function URL request, or a sync.
async fn local(event: Option<String>) -> ExitCode {
    promstack::telemetry::init_tracing();
    let result = async {
        let deps = deps().await?;
        let payload: Value = match &event {
            Some(path) => {
                let bytes =
                    std::fs::read(path).map_err(|e| config_updater::Error::Invocation(format!("{path}: {e}")))?;
                serde_json::from_slice(&bytes).map_err(|e| config_updater::Error::Invocation(format!("{path}: {e}")))?
            }
            None => serde_json::json!({"action": "sync"}),
        };
        config_updater::handler::handle_value(payload, &deps).await
    }
    .await;
    match result {
        Ok(value) => {
            println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Validates a checked-out config repo exactly as a push would: exit 0, or every problem and 1.
fn check(args: &[String]) -> ExitCode {
    let [dir] = args else {
        eprintln!(
            "usage: config-updater check DIR   (for the Prometheus in PROMETHEUS_VERSION, default v3.16.0, \
             and PROMETHEUS_FEATURES, its --enable-feature values)"
        );
        return ExitCode::from(2);
    };
    let env = Env::from_process();
    let (layout, limits, target) = match (settings::layout(&env), settings::limits(&env), settings::target(&env)) {
        (Ok(layout), Ok(limits), Ok(target)) => (layout, limits, target),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let vars = match env.all() {
        Ok(vars) => vars.into_iter().collect(),
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match config_updater::check::check_dir(std::path::Path::new(dir), &layout, limits, &vars, &target) {
        Ok(release) => {
            println!("{dir}: OK: {} (checked for {target})", release.summary);
            ExitCode::SUCCESS
        }
        Err(problems) => {
            for p in &problems {
                eprintln!("{p}");
            }
            eprintln!("{dir}: {} problem(s)", problems.len());
            ExitCode::from(1)
        }
    }
}
