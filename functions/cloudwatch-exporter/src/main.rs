//! The Lambda entry point when started without arguments (a scheduled run, or with
//! `EXPORTER_MODE=metric-stream` a Firehose delivery through the Function URL); outside Lambda,
//! the command line (`cloudwatch-exporter --help`). Arguments are read before anything else, AWS
//! included, so `--help` and a mistyped command answer at once.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use clap::{Parser, Subcommand};
use cloudwatch_exporter::settings::Mode;
use cloudwatch_exporter::stream::{self, handler::StreamDeps};
use cloudwatch_exporter::{dry_run, handle, verify_config, Deps};
use lambda_runtime::{service_fn, LambdaEvent};

/// CloudWatch metrics to Prometheus remote write, a drop-in for YACE (same config file, same
/// metric names). Without a command it is the Lambda function, run by an EventBridge schedule.
#[derive(Parser)]
#[command(name = "cloudwatch-exporter", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Check a YACE config file: every problem with its field's path (exit 1), or what it exports.
    VerifyConfig {
        /// The YACE config file (apiVersion: v1alpha1).
        file: String,
    },
    /// One run against AWS, printing the series in the text exposition format instead of pushing.
    Run {
        /// Print instead of push, and keep no state (the only way to run outside Lambda).
        #[arg(long, required = true)]
        dry_run: bool,
        /// The YACE config: a path or s3://BUCKET/KEY [default: $EXPORTER_CONFIG].
        #[arg(long, value_name = "FILE")]
        config: Option<String>,
    },
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    match Cli::parse().command {
        Some(Command::VerifyConfig { file }) => match verify_config(&file) {
            Ok(ok) => {
                println!("{ok}");
                return Ok(());
            }
            Err(errors) => {
                eprintln!("{errors}");
                std::process::exit(1);
            }
        },
        Some(Command::Run { config, .. }) => std::process::exit(dry_run::main(config.as_deref()).await),
        None if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() => {
            eprintln!("cloudwatch-exporter: not in Lambda (no AWS_LAMBDA_RUNTIME_API); see cloudwatch-exporter --help");
            std::process::exit(2);
        }
        None => {}
    }
    promstack::telemetry::init_tracing();
    let env = promstack::settings::Env::from_process();
    if cloudwatch_exporter::settings::mode(&env)? == Mode::MetricStream {
        let deps = StreamDeps::from_env().await?;
        let deps = &deps;
        return lambda_http::run(lambda_http::service_fn(move |request| stream::handler::handle(request, deps))).await;
    }
    let deps = Deps::from_env().await?;
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<EventBridgeEvent>| handle(event, deps))).await
}
