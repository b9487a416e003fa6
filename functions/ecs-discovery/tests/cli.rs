//! The built `ecs-discovery` binary's command line: help, version, usage errors, and errors that
//! name the file or variable at fault. Run with an empty environment, as on a fresh laptop: none
//! of these may need settings or AWS.

use std::process::{Command, Output};

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecs-discovery"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("run ecs-discovery")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_lists_each_command_on_a_line_of_its_own() {
    let out = run(&["--help"], &[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for command in ["invoke", "reconcile"] {
        let line = stdout.lines().find(|l| l.trim_start().starts_with(command));
        assert!(line.is_some_and(|l| l.len() > command.len() + 10), "no line describing {command}:\n{stdout}");
    }
    assert!(stdout.contains("Usage: ecs-discovery"), "{stdout}");
    let invoke_help = text(&run(&["invoke", "--help"], &[]).stdout);
    assert!(invoke_help.contains("EVENT.json"), "{invoke_help}");
}

#[test]
fn version_prints_the_crate_version() {
    let out = run(&["--version"], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), format!("ecs-discovery {}\n", env!("CARGO_PKG_VERSION")));
}

/// It used to panic with a backtrace, reading settings and AWS before looking at its arguments.
#[test]
fn no_command_outside_lambda_prints_the_usage_and_exits_2() {
    let out = run(&[], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("Usage: ecs-discovery") && stderr.contains("AWS_LAMBDA_RUNTIME_API"), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"), "{stderr}");
}

#[test]
fn an_unknown_command_or_a_missing_argument_is_a_usage_error() {
    for args in [&["deploy"][..], &["invoke"], &["reconcile", "extra"]] {
        let out = run(args, &[]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("Usage:"), "{args:?}: {stderr}");
    }
}

#[test]
fn invoke_errors_name_the_file() {
    let out = run(&["invoke", "missing.json"], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr, "ecs-discovery: invoke missing.json: No such file or directory (os error 2)\n");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("event.json");
    std::fs::write(&path, "detail-type: Scheduled Event\n").unwrap();
    let out = run(&["invoke", path.to_str().unwrap()], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with(&format!("ecs-discovery: invoke {}: not a JSON event: ", path.display())), "{stderr}");
}

#[test]
fn a_bad_setting_is_one_line_naming_the_variable() {
    for (name, value) in
        [("LOCK_TIMEOUT_SECONDS", "20s"), ("EXTRA_LABELS", "cluster=prod"), ("REMOTE_WRITE_URL", "prometheus")]
    {
        let out = run(&["reconcile"], &[(name, value)]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
        assert!(
            stderr.starts_with("ecs-discovery: configuration: environment variable ") && stderr.contains(name),
            "{stderr}"
        );
    }
}
