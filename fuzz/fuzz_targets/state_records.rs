//! The state records read back from EFS and S3: ecs-discovery's cluster record (read through its
//! store, as a run does), config-updater's release.json (`deploy::read_record`) and the
//! cloudwatch-exporter's S3 state. The first byte picks the record. A record that loads must save
//! and load again, and what ecs-discovery renders from it must be a JSON file_sd file.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use cloudwatch_exporter::state::State;
use config_updater::deploy;
use ecs_discovery::file_sd::{self, ClusterState, FileSdStore};
use libfuzzer_sys::fuzz_target;

const CLUSTER: &str = "fuzz";

fn volume() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temp dir"))
}

fn write(path: &std::path::Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("the record's directory");
    std::fs::write(path, bytes).expect("the record");
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else { return };
    match pick % 3 {
        0 => {
            let store = FileSdStore::new(volume().path().join("ecs"), Duration::from_secs(1));
            write(&store.state_path(CLUSTER), bytes);
            let Ok(mut state) = store.read_state(CLUSTER) else { return };
            let saved = serde_json::to_vec(&state).expect("a record serialises");
            let again: ClusterState = serde_json::from_slice(&saved).expect("a saved record loads");
            assert_eq!(again, state, "a record changed between save and load");
            serde_json::from_str::<serde_json::Value>(&file_sd::render(&state)).expect("file_sd is JSON");
            state.prune(file_sd::now_secs());
        }
        1 => {
            let root = volume().path().join("config");
            write(&root.join(deploy::RECORD_FILE), bytes);
            let Ok(Some(record)) = deploy::read_record(&root) else { return };
            let saved = serde_json::to_vec(&record).expect("a record serialises");
            let again: deploy::Record = serde_json::from_slice(&saved).expect("a saved record loads");
            assert_eq!(again, record, "a record changed between save and load");
        }
        _ => {
            let Ok(state) = serde_json::from_slice::<State>(bytes) else { return };
            let saved = serde_json::to_vec(&state).expect("a state serialises");
            serde_json::from_slice::<State>(&saved).expect("a saved state loads");
            let _ = state.reason_to_skip(Some("event"), 0);
        }
    }
});
