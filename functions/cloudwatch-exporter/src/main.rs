//! The Lambda entry point (a scheduled run, or with `EXPORTER_MODE=metric-stream` a Firehose
//! delivery through the Function URL), and outside Lambda `cloudwatch-exporter verify-config FILE`.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use cloudwatch_exporter::settings::Mode;
use cloudwatch_exporter::stream::{self, handler::StreamDeps};
use cloudwatch_exporter::{handle, verify_config, Deps};
use lambda_runtime::{service_fn, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("verify-config") => {
            let [_, file] = args.as_slice() else {
                eprintln!("usage: cloudwatch-exporter verify-config FILE");
                std::process::exit(2);
            };
            match verify_config(file) {
                Ok(ok) => println!("{ok}"),
                Err(e) => {
                    eprintln!("{e}");
                    std::process::exit(1);
                }
            }
            return Ok(());
        }
        Some(other) => {
            eprintln!("unknown command {other:?}; usage: cloudwatch-exporter [verify-config FILE]");
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
