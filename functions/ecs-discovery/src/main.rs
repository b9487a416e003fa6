//! ecs-discovery Lambda. With a command it runs one invocation locally instead (the demo and
//! laptops): `ecs-discovery invoke EVENT.json` or `ecs-discovery reconcile`.
//!
//! Arguments are read before anything else (settings, AWS), so `--help` works with no
//! environment at all. Exit codes: 0 done, 1 failed (the message names the file, variable or
//! cluster at fault), 2 usage.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use ecs_discovery::aws::AwsApi;
use ecs_discovery::{handle, handle_value, Config, Deps, Outcome};
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

/// Keeps Prometheus file_sd targets on EFS in step with the ECS tasks of a region.
#[derive(Parser)]
#[command(
    name = "ecs-discovery",
    version,
    after_help = "Without a command it runs as the AWS Lambda function (only inside Lambda, where \
                  AWS_LAMBDA_RUNTIME_API is set).\nSettings are environment variables: PROMETHEUS_CONFIG_DIR, \
                  FILE_SD_DIR, CLUSTERS, FILTER_LABEL, LOCK_TIMEOUT_SECONDS, AWS_API_MAX_ATTEMPTS, \
                  REMOTE_WRITE_URL, EXTRA_LABELS."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Apply one EventBridge event from a JSON file (an ECS task state change or a scheduled event)
    Invoke {
        #[arg(value_name = "EVENT.json")]
        event: PathBuf,
    },
    /// Reconcile every configured cluster now, as the schedule does
    Reconcile,
}

/// Where the Lambda runtime API is; set only inside Lambda (and by local emulators of it).
const LAMBDA_RUNTIME_API: &str = "AWS_LAMBDA_RUNTIME_API";

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The event file is read before the settings, so a wrong path is the first thing said.
    let local_event = match &cli.command {
        None if std::env::var_os(LAMBDA_RUNTIME_API).is_none() => {
            eprintln!("{}", Cli::command().render_help());
            eprintln!("ecs-discovery: no command given, and not inside Lambda ({LAMBDA_RUNTIME_API} is unset)");
            return ExitCode::from(2);
        }
        None => None,
        Some(Command::Invoke { event }) => match read_event(event) {
            Ok(event) => Some(event),
            Err(message) => return fail(&message),
        },
        Some(Command::Reconcile) => Some(serde_json::json!({"detail-type": "Scheduled Event", "detail": {}})),
    };
    promstack::telemetry::init_tracing();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => return fail(&e.to_string()),
    };
    let sdk = promstack::aws::sdk_config().await;
    let deps = Deps::new(AwsApi::new(&sdk, config.aws_max_attempts), config);
    match local_event {
        None => match lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| handle(event, &deps))).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&format!("Lambda runtime: {e}")),
        },
        Some(event) => print_outcome(handle_value(&event, &deps).await),
    }
}

/// The `invoke` argument's event; the error names the file.
fn read_event(path: &Path) -> Result<Value, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("invoke {}: {e}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("invoke {}: not a JSON event: {e}", path.display()))
}

fn print_outcome(outcome: Result<Outcome, ecs_discovery::Error>) -> ExitCode {
    match outcome {
        Ok(o) => match serde_json::to_string_pretty(&o) {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&format!("printing the outcome: {e}")),
        },
        Err(e) => fail(&e.to_string()),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("ecs-discovery: {message}");
    ExitCode::FAILURE
}
