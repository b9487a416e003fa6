//! The Lambda entry point, and outside Lambda `cloudwatch-exporter verify-config FILE`.

use aws_lambda_events::eventbridge::EventBridgeEvent;
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
    let deps = Deps::from_env().await?;
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<EventBridgeEvent>| handle(event, deps))).await
}
