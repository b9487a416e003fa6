//! How a cluster's state record changes: one task's event, or a reconcile's view of the whole
//! cluster. Pure functions of (current record, what was learnt), so ordering rules are tested
//! without files or AWS.
//!
//! Ordering: ECS increments a task's `version` on every state change, so an event whose version
//! is not higher than the recorded one is old or a duplicate and changes nothing. A stopped
//! task's record is kept as a tombstone (see [`crate::file_sd::STOPPED_RETENTION`]) so a late
//! RUNNING event cannot bring its targets back.

use crate::error::Error;
use crate::file_sd::{ClusterState, ReadStateError, TaskRecord};
use crate::targets::Target;

/// What is known about one task after resolving its targets.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub task_arn: String,
    /// `None` when the source carries no version (moto's DescribeTasks).
    pub version: Option<i64>,
    pub running: bool,
    pub targets: Vec<Target>,
}

/// Why an event changed nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unchanged {
    /// The record already reflects this version (a duplicate delivery).
    Duplicate { recorded: i64 },
    /// The record reflects a later version (an out-of-order delivery).
    Older { recorded: i64 },
}

/// Applies one task's event. `Ok(Err(..))` when the event is old or repeated.
pub fn apply_event(
    current: Result<ClusterState, ReadStateError>,
    event: Observed,
    now: u64,
) -> Result<Result<ClusterState, Unchanged>, Error> {
    let mut state = match current {
        Ok(s) => s,
        Err(ReadStateError::Damaged(reason)) => {
            return Err(Error::DamagedState { task: event.task_arn, path: String::new(), reason })
        }
        Err(ReadStateError::Io(e)) => return Err(Error::Io { cluster: String::new(), source: e }),
    };
    let version = event.version.unwrap_or(0);
    if let Some(r) = state.tasks.get(&event.task_arn) {
        if r.version == version {
            return Ok(Err(Unchanged::Duplicate { recorded: r.version }));
        }
        if r.version > version {
            return Ok(Err(Unchanged::Older { recorded: r.version }));
        }
    }
    state.seq += 1;
    let targets = if event.running { event.targets } else { Vec::new() };
    let record = TaskRecord { version, running: event.running, seq: state.seq, changed_at: now, targets };
    state.tasks.insert(event.task_arn, record);
    state.prune(now);
    Ok(Ok(state))
}

/// Rebuilds a cluster's record from what ECS reports now. `started_at_seq` is the record's
/// `seq` when the reconcile began listing: records that changed after it (events applied during
/// the listing) are newer than the listing and are kept. Every other running record must be in
/// `observed`, or its task no longer runs. A damaged record is rebuilt from scratch.
/// Returns `None` when nothing changes.
pub fn apply_reconcile(
    current: Result<ClusterState, ReadStateError>,
    started_at_seq: u64,
    observed: Vec<Observed>,
    now: u64,
) -> Option<ClusterState> {
    let (before, mut state) = match current {
        Ok(s) => (Some(s.clone()), s),
        Err(_) => (None, ClusterState::new()),
    };
    let seq = state.seq + 1;
    let mut seen = std::collections::HashSet::with_capacity(observed.len());
    for o in observed {
        seen.insert(o.task_arn.clone());
        let targets = if o.running { o.targets } else { Vec::new() };
        match state.tasks.get_mut(&o.task_arn) {
            Some(r) if r.seq > started_at_seq => {} // an event applied during the listing wins
            Some(r) if o.version.is_some_and(|v| v < r.version) => {}
            Some(r) => {
                if r.running != o.running || r.targets != targets || o.version.is_some_and(|v| v != r.version) {
                    *r = TaskRecord {
                        version: o.version.unwrap_or(r.version).max(r.version),
                        running: o.running,
                        seq,
                        changed_at: now,
                        targets,
                    };
                }
            }
            None => {
                let record =
                    TaskRecord { version: o.version.unwrap_or(0), running: o.running, seq, changed_at: now, targets };
                state.tasks.insert(o.task_arn, record);
            }
        }
    }
    for (arn, r) in state.tasks.iter_mut() {
        if r.running && r.seq <= started_at_seq && !seen.contains(arn) {
            // ECS no longer lists it as running: a STOPPED event was missed.
            *r = TaskRecord { version: r.version, running: false, seq, changed_at: now, targets: Vec::new() };
        }
    }
    state.prune(now);
    let changed = match &before {
        Some(b) => b.tasks != state.tasks,
        None => true,
    };
    if changed {
        state.seq = seq;
        Some(state)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn target(addr: &str) -> Target {
        Target { address: addr.into(), labels: BTreeMap::new() }
    }

    fn obs(arn: &str, version: Option<i64>, running: bool, addr: &str) -> Observed {
        Observed { task_arn: arn.into(), version, running, targets: vec![target(addr)] }
    }

    fn addresses(s: &ClusterState) -> Vec<String> {
        s.targets().map(|t| t.address.clone()).collect()
    }

    const NOW: u64 = 1_000_000;

    #[test]
    fn later_versions_apply_and_older_or_equal_ones_change_nothing() {
        let s = apply_event(Ok(ClusterState::new()), obs("t1", Some(3), true, "a:1"), NOW).unwrap().unwrap();
        assert_eq!(addresses(&s), ["a:1"]);
        // Duplicate of v3.
        let r = apply_event(Ok(s.clone()), obs("t1", Some(3), true, "a:1"), NOW).unwrap();
        assert_eq!(r, Err(Unchanged::Duplicate { recorded: 3 }));
        // v2 (PENDING, say) arrives late: ignored.
        let r = apply_event(Ok(s.clone()), obs("t1", Some(2), false, "a:1"), NOW).unwrap();
        assert_eq!(r, Err(Unchanged::Older { recorded: 3 }));
        // v5 STOPPED removes the target and leaves a tombstone...
        let s = apply_event(Ok(s), obs("t1", Some(5), false, "a:1"), NOW).unwrap().unwrap();
        assert!(addresses(&s).is_empty());
        assert_eq!(s.tasks["t1"].version, 5);
        // ...so the RUNNING v4 delivered after it does not bring the target back.
        let r = apply_event(Ok(s), obs("t1", Some(4), true, "a:1"), NOW).unwrap();
        assert_eq!(r, Err(Unchanged::Older { recorded: 5 }));
    }

    #[test]
    fn any_delivery_order_ends_in_the_state_of_the_highest_version() {
        let events = [obs("t", Some(1), false, "x:1"), obs("t", Some(2), true, "x:1"), obs("t", Some(3), false, "x:1")];
        let orders = [[0, 1, 2], [2, 1, 0], [1, 2, 0], [1, 0, 2], [2, 0, 1], [0, 2, 1]];
        for order in orders {
            let mut s = ClusterState::new();
            for i in order {
                if let Ok(next) = apply_event(Ok(s.clone()), events[i].clone(), NOW).unwrap() {
                    s = next;
                }
            }
            assert_eq!((s.tasks["t"].version, s.tasks["t"].running), (3, false), "order {order:?}");
        }
    }

    #[test]
    fn an_event_on_a_damaged_record_is_an_error_naming_the_task() {
        let err = apply_event(Err(ReadStateError::Damaged("eof".into())), obs("arn:t9", Some(1), true, "a:1"), NOW)
            .unwrap_err();
        assert!(err.to_string().contains("arn:t9"), "{err}");
    }

    #[test]
    fn reconcile_stops_unlisted_tasks_and_adds_missed_ones() {
        let s = apply_event(Ok(ClusterState::new()), obs("gone", Some(2), true, "g:1"), NOW).unwrap().unwrap();
        let start = s.seq;
        let new = apply_reconcile(Ok(s), start, vec![obs("missed", None, true, "m:1")], NOW).unwrap();
        assert_eq!(addresses(&new), ["m:1"]);
        assert_eq!(new.tasks["gone"].version, 2, "the tombstone keeps its version");
    }

    #[test]
    fn reconcile_keeps_what_events_changed_during_the_listing() {
        // t0 ran before the reconcile started and is no longer listed.
        let mut s = apply_event(Ok(ClusterState::new()), obs("t0", Some(2), true, "z:1"), NOW).unwrap().unwrap();
        let start = s.seq;
        // While the reconcile listed, an event started t2 (ECS' list did not have it yet) and
        // another stopped t1 (the list still had it running).
        s = apply_event(Ok(s), obs("t2", Some(1), true, "b:1"), NOW).unwrap().unwrap();
        s = apply_event(Ok(s), obs("t1", Some(4), false, "a:1"), NOW).unwrap().unwrap();
        let new = apply_reconcile(Ok(s), start, vec![obs("t1", None, true, "a:1")], NOW).unwrap();
        assert_eq!(addresses(&new), ["b:1"]);
        assert!(!new.tasks["t0"].running && !new.tasks["t1"].running);
    }

    #[test]
    fn reconcile_rebuilds_a_damaged_record_and_reports_no_change_when_in_sync() {
        let new = apply_reconcile(Err(ReadStateError::Damaged("x".into())), 0, vec![obs("t", None, true, "a:1")], NOW)
            .unwrap();
        assert_eq!(addresses(&new), ["a:1"]);
        let seq = new.seq;
        assert_eq!(apply_reconcile(Ok(new), seq, vec![obs("t", None, true, "a:1")], NOW), None);
    }
}
