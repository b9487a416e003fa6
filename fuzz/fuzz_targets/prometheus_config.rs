//! config-updater's prometheus.yml path: the `${VAR}` rendering of the template, then
//! `validate::config::check` with a Target; and the file_sd files of the repo (`validate::file_sd`).
//! The first byte picks the Prometheus it is judged for and whether the input is a file_sd file.
#![no_main]

use std::collections::BTreeMap;

use config_updater::render::render;
use config_updater::validate::{config, file_sd, target::Target};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    if pick & 4 == 4 {
        let _ = file_sd::check("file_sd/fuzz.json", text);
        return;
    }
    let target = if pick & 1 == 1 { Target::parse("2.42", "").expect("2.42 is supported") } else { Target::default() };
    let vars =
        BTreeMap::from([("CLUSTER".to_string(), "prod".to_string()), ("REGION".to_string(), "eu-west-1".to_string())]);
    let Ok(rendered) = render(text, &vars) else { return };
    let rules = [("rules/a.yml".to_string(), "/etc/prometheus/rules/a.yml".to_string())];
    let _ = config::check("prometheus.yml", &rendered, &rules, &target);
});
