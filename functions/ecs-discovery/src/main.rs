//! ecs-discovery Lambda. With arguments it runs one invocation locally instead (the demo and
//! laptops): `ecs-discovery invoke EVENT.json` or `ecs-discovery reconcile`.

use ecs_discovery::aws::AwsApi;
use ecs_discovery::{handle, handle_value, Config, Deps};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    promstack::telemetry::init_tracing();
    let config = Config::from_env()?;
    let sdk = promstack::aws::sdk_config().await;
    let deps = Deps::new(AwsApi::new(&sdk, config.aws_max_attempts), config);
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] => lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| handle(event, &deps))).await,
        ["invoke", path] => {
            let event: Value = serde_json::from_slice(&std::fs::read(path)?)?;
            local(handle_value(&event, &deps).await)
        }
        ["reconcile"] => {
            local(handle_value(&serde_json::json!({"detail-type": "Scheduled Event", "detail": {}}), &deps).await)
        }
        _ => {
            eprintln!("usage: ecs-discovery [invoke EVENT.json | reconcile]   (no arguments: run as a Lambda)");
            std::process::exit(2)
        }
    }
}

fn local(outcome: Result<ecs_discovery::Outcome, ecs_discovery::Error>) -> Result<(), Error> {
    match outcome {
        Ok(o) => {
            println!("{}", serde_json::to_string_pretty(&o)?);
            Ok(())
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1)
        }
    }
}
