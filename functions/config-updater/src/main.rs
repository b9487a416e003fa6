//! The Lambda entry point, and the command line outside Lambda (`config-updater --help`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use aws_config::retry::RetryConfig;
use clap::{Parser, Subcommand};
use config_updater::own_series::OwnSeries;
use config_updater::{handle, settings, Deps};
use lambda_http::{service_fn, Request};
use promstack::settings::Env;
use serde_json::{json, Value};

/// A Bitbucket push becomes a validated release on the Prometheus config volume and a confirmed
/// reload of every replica. With no command it runs as a Lambda function.
#[derive(Debug, Parser)]
#[command(name = "config-updater", version, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

const AFTER_HELP: &str =
    "Every command but `check` reads the function's environment (CONFIG_REPO_URL, PROMETHEUS_URL, \
PROMETHEUS_CONFIG_DIR, ...; see the README) and prints the outcome as JSON. Exit codes: 0 ok, 1 failure, 2 usage.";

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate a checked-out config repository as a push would (for PROMETHEUS_VERSION and PROMETHEUS_FEATURES)
    Check {
        /// The repository's working tree
        dir: PathBuf,
    },
    /// Handle one saved Lambda event: a Function URL request or a direct-invoke action
    Invoke {
        /// The event, as JSON
        #[arg(value_name = "EVENT.json")]
        event: PathBuf,
    },
    /// Deploy the branch head: fetch, validate, write, and reload every Prometheus replica
    Sync {
        /// Write the release without reloading (Prometheus down): it is recorded "written", and the next sync or
        /// push reloads it
        #[arg(long)]
        no_reload: bool,
    },
    /// Put the release kept in .promstack/previous/ back and reload every Prometheus replica
    RestorePrevious,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are "errors" that print to stdout and exit 0; usage errors exit 2.
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    match cli.command {
        Some(Command::Check { dir }) => check(&dir),
        Some(Command::Invoke { event }) => match read_event(&event) {
            Ok(event) => run_async(local(event)),
            Err(message) => {
                eprintln!("config-updater: {message}");
                ExitCode::FAILURE
            }
        },
        Some(Command::Sync { no_reload }) => run_async(local(json!({"action": "sync", "reload": !no_reload}))),
        Some(Command::RestorePrevious) => run_async(local(json!({"action": "restore-previous"}))),
        None if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() => {
            eprintln!(
                "config-updater: not running in Lambda (AWS_LAMBDA_RUNTIME_API is not set); see `config-updater --help`"
            );
            ExitCode::from(2)
        }
        None => run_async(lambda()),
    }
}

fn run_async(f: impl std::future::Future<Output = ExitCode>) -> ExitCode {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime").block_on(f)
}

/// The event file as JSON; the error names the file.
fn read_event(path: &Path) -> Result<Value, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{} is not JSON: {e}", path.display()))
}

async fn deps() -> Result<Deps, config_updater::Error> {
    let settings = config_updater::Settings::from_env()?;
    let own_series = match settings::own_series(&Env::from_process())? {
        Some(own) => Some(OwnSeries::new(&own.remote_write_url, own.extra_labels)?),
        None => {
            tracing::info!("REMOTE_WRITE_URL is not set: no own series are counted or pushed");
            None
        }
    };
    let retry = RetryConfig::standard().with_max_attempts(settings.aws_max_attempts);
    let sdk = promstack::aws::sdk_config().await.into_builder().retry_config(retry).build();
    Ok(Deps::new(settings, &sdk).with_own_series(own_series))
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

/// One invocation on a laptop or from a shell with the function's environment: `event` is what
/// Lambda would be sent, and the answer is what it would return.
async fn local(event: Value) -> ExitCode {
    promstack::telemetry::init_tracing();
    let result = async {
        let deps = deps().await?;
        config_updater::handler::handle_value(event, &deps).await
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
fn check(dir: &Path) -> ExitCode {
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
    match config_updater::check::check_dir(dir, &layout, limits, &vars, &target) {
        Ok(release) => {
            println!("{}: OK: {} (checked for {target})", dir.display(), release.summary);
            ExitCode::SUCCESS
        }
        Err(problems) => {
            for p in &problems {
                eprintln!("{p}");
            }
            eprintln!("{}: {} problem(s)", dir.display(), problems.len());
            ExitCode::from(1)
        }
    }
}
