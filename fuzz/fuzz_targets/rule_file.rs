//! config-updater's rule-file check (`validate::rules::check`): YAML and the PromQL in every
//! `expr`, from a pushed or pull-request branch. The first byte picks the Prometheus it is judged for.
#![no_main]

use config_updater::validate::{rules, target::Target};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let target = match pick % 3 {
        0 => Target::default(),
        1 => Target::parse("2.42", "").expect("2.42 is a supported version"),
        _ => Target::parse("v3.5.0", "promql-experimental-functions").expect("3.5 is a supported version"),
    };
    match rules::check("rules/fuzz.yml", text, &target) {
        Ok(_) => {}
        Err(problems) => assert!(!problems.is_empty(), "a refused rule file names no problem"),
    }
});
