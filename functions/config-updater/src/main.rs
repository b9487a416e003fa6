//! The Lambda entry point, and `config-updater check DIR` outside Lambda.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("check") => check(&args[1..]),
        Some(other) => {
            eprintln!("unknown command {other:?}\nusage: config-updater check DIR   (no arguments: run as a Lambda)");
            ExitCode::from(2)
        }
        None => ExitCode::SUCCESS,
    }
}

/// Validates a checked-out config repo exactly as a push would: exit 0, or every problem and 1.
fn check(args: &[String]) -> ExitCode {
    let [dir] = args else {
        eprintln!("usage: config-updater check DIR");
        return ExitCode::from(2);
    };
    let layout = config_updater::settings::layout_from_env();
    let limits = match config_updater::settings::limits_from_env() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let vars = std::env::vars().collect();
    match config_updater::check::check_dir(std::path::Path::new(dir), &layout, limits, &vars) {
        Ok(release) => {
            println!("{dir}: OK: {}", release.summary);
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
