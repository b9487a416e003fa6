//! cloudwatch-exporter's YACE config loader (`yace.rs`): YAML text from the config file or SSM.
#![no_main]

use cloudwatch_exporter::yace::ExporterConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(config) = ExporterConfig::from_yaml(text) {
        let _ = config.uses_cloudwatch_timestamps();
    }
});
