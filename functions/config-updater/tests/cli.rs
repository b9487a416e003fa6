//! The command line of the built binary: help lists every command, usage errors exit 2, and an
//! error names the file at fault.

use std::process::Command;

/// Runs the binary with `args` and no function environment; (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_config-updater"))
        .args(args)
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env_remove("CONFIG_REPO_URL")
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_lists_every_command_with_one_line_each() {
    for flag in ["--help", "-h", "help"] {
        let (code, stdout, stderr) = run(&[flag]);
        assert_eq!(code, 0, "{flag}: {stdout}{stderr}");
        for (command, description) in [
            ("check", "Validate a checked-out config repository as a push would"),
            ("invoke", "Handle one saved Lambda event"),
            ("sync", "Deploy the branch head"),
            ("restore-previous", "Put the release kept in .promstack/previous/ back"),
        ] {
            let found = stdout
                .lines()
                .filter_map(|l| l.trim().split_once(' '))
                .any(|(first, rest)| first == command && rest.trim_start().starts_with(description));
            assert!(found, "{flag}: no line `{command}  {description}...` in\n{stdout}");
        }
        assert!(stdout.contains("Usage: config-updater [COMMAND]") && stdout.contains("-V, --version"), "{stdout}");
    }
    let (code, stdout, _) = run(&["sync", "--help"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("--no-reload"), "{stdout}");
}

#[test]
fn version_prints_the_package_version() {
    let (code, stdout, _) = run(&["--version"]);
    assert_eq!(code, 0);
    assert_eq!(stdout.trim(), format!("config-updater {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn usage_errors_exit_2_and_say_what_is_wrong() {
    let (code, _, stderr) = run(&["bogus"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("unrecognized subcommand 'bogus'"), "{stderr}");
    let (code, _, stderr) = run(&["sync", "--reload-later"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--reload-later"), "{stderr}");
    let (code, _, stderr) = run(&["invoke"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("<EVENT.json>"), "{stderr}");
    // No command outside Lambda: a hint, not a runtime error.
    let (code, _, stderr) = run(&[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not running in Lambda") && stderr.contains("--help"), "{stderr}");
}

#[test]
fn invoke_names_the_missing_file_and_the_error_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let (code, _, stderr) = run(&["invoke", missing.to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(&format!("cannot read {}: No such file or directory", missing.display())), "{stderr}");
    assert!(!stderr.contains("Os {"), "{stderr}");
    let not_json = dir.path().join("event.json");
    std::fs::write(&not_json, "{\"action\": ").unwrap();
    let (code, _, stderr) = run(&["invoke", not_json.to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(&format!("{} is not JSON", not_json.display())), "{stderr}");
}
