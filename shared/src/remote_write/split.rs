//! What to send after a 400: the rule that finds the samples a receiver refuses, lands the others,
//! and keeps a refused batch cheap. The HTTP side is a [`Receiver`], so the rule is tested on its own.
//!
//! What a 400 from Prometheus means (`storage/remote/write_handler.go`, 2.42 and 3.5): the handler
//! appends a request's samples in order, series by series, stops at the first one the head refuses
//! and rolls the whole request back, so nothing of a 400'd request landed. Its body is that one
//! error's text; it names the kind but not the series:
//! - `out of bounds`: older than the head takes (half a block, one hour, before its newest sample),
//!   out-of-order ingestion off. 3.5 also says `out of bounds: timestamp is too far in the future`
//!   for a sample more than 10 minutes ahead of its clock.
//! - `too old sample` (3.5; 2.42 answers 500, so it is retried): outside the out-of-order window.
//! - `out of order sample`: older than its series' newest sample, within bounds.
//! - `duplicate sample for timestamp` (3.5 adds the timestamp and both values): another value at
//!   its series' newest timestamp.
//!
//! The rule, for a request refused with a 400 (a request is never sent again as it was):
//! - **Proven.** A single sample refused is refused. `out of bounds` and `too old sample` refuse
//!   every sample older than a bound that all series share and that only moves forward, so a
//!   refused sample proves every sample at or before its timestamp refused:
//!   - a request whose samples share one timestamp is refused whole (no more requests);
//!   - when the samples older than the request's median timestamp and the newer ones have no
//!     series in common, the newer part goes first: refused, it proves the older part refused;
//!     landed, the older part holds the request's oldest sample and so is refused. A binary search:
//!     about log2(n) requests, everything either landed or proven refused;
//!   - otherwise the older part cannot wait (landing a series' newer samples first would make its
//!     older ones out of order), so the oldest timestamp's samples are dropped (proven) and the
//!     rest is sent: one request per timestamp older than the bound.
//!
//!   3.5's `too far in the future` is the mirror image (the older part goes first, which is always
//!   safe), proven for the receiver's clock at that request. In one series, `out of order sample`
//!   also means the series' oldest sample is refused, which is dropped as above.
//! - **A bet.** Any other refusal of several series cuts the request into [`PARTS`] parts of whole
//!   series and sends each. When every part is refused with the same kind, the whole request is
//!   dropped: each part is proven to hold a refused sample, and the bet is that the rest share the
//!   cause (a replica that already holds the samples, a clock that jumped). The reason then says so.
//!   Otherwise the refused parts are cut again, down to the samples at fault.
//! - **A cap.** One batch costs at most `max_requests_per_batch` requests; past it, what no
//!   request tried is dropped with the refusal that covered it, and the reason says so.

use super::batch::WireBatch;

/// Parts a refused request of several series is cut into. All of them refused is taken as the whole
/// request refused: that needs eight refused samples spread over all eight parts, and finding eight
/// such samples one by one would cost more than the default cap of 64 requests anyway
/// (about 8 × 2 × log2(250) ≈ 128).
pub(crate) const PARTS: usize = 8;

/// The kind of a 400 from Prometheus, read from its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    OutOfBounds,
    TooOld,
    TooFarAhead,
    OutOfOrder,
    Duplicate,
    Other,
}

impl Kind {
    /// The kind of a body (`http.Error` writes the error's text, then a newline).
    pub(crate) fn of(body: &str) -> Kind {
        let body = body.trim();
        if let Some(rest) = body.strip_prefix("out of bounds") {
            if rest.contains("too far in the future") {
                Kind::TooFarAhead
            } else {
                Kind::OutOfBounds
            }
        } else if body.starts_with("too old sample") {
            Kind::TooOld
        } else if body.starts_with("out of order sample") {
            Kind::OutOfOrder
        } else if body.starts_with("duplicate sample for timestamp") {
            Kind::Duplicate
        } else {
            Kind::Other
        }
    }

    /// Refused below a bound that every series shares and that only moves forward.
    fn bounded_below(self) -> bool {
        matches!(self, Kind::OutOfBounds | Kind::TooOld)
    }
}

/// A 400: the status and body as the report shows them (`400: out of bounds`), and its kind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Refusal {
    pub reason: String,
    pub kind: Kind,
}

impl Refusal {
    pub(crate) fn new(reason: String) -> Self {
        let body = reason.split_once(": ").map_or(reason.as_str(), |(_, body)| body);
        Self { kind: Kind::of(body), reason }
    }

    /// The same cause: the same kind, or, for a kind Prometheus does not name, the same text.
    fn same_as(&self, other: &Refusal) -> bool {
        self.kind == other.kind && (self.kind != Kind::Other || self.reason == other.reason)
    }
}

/// Why samples were dropped without landing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Basis {
    /// A request of exactly them was refused, or a refusal proves them refused (see the module).
    Proven,
    /// Every part of the request that held them was refused with the same kind.
    Bet,
    /// The batch's request cap was reached before a request tried them.
    Cap,
}

/// What a receiver did with one request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Answer {
    Landed,
    /// A 400, with its status and body (`400: out of order sample`).
    Refused(String),
}

/// The HTTP side of the split: sends a request (retrying as it must), and takes the dropped samples.
pub(crate) trait Receiver {
    type Error;
    async fn send(&mut self, batch: &WireBatch) -> Result<Answer, Self::Error>;
    /// `batch` did not land: refused for `reason`, on `basis`.
    fn dropped(&mut self, batch: &WireBatch, reason: &str, basis: Basis);
}

/// What the split of one batch cost and dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Split {
    /// Requests sent, the first included (retries are the receiver's).
    pub requests: u32,
    /// Samples dropped on each [`Basis`].
    pub proven: usize,
    pub bet: usize,
    pub capped: usize,
}

/// Sends `batch`; when refused, splits it as the module says, within `cap` requests.
pub(crate) async fn send_splitting<R: Receiver>(
    receiver: &mut R,
    batch: WireBatch,
    cap: u32,
) -> Result<Split, R::Error> {
    let mut splitter = Splitter { receiver, cap: cap.max(1), split: Split::default() };
    let mut todo = vec![Todo::Send(batch, None)];
    while let Some(next) = todo.pop() {
        match next {
            Todo::Send(batch, covered) => {
                if let Sent::Refused(refusal) = splitter.send(&batch, covered.as_ref()).await? {
                    todo.push(Todo::Refused(batch, refusal));
                }
            }
            Todo::Refused(batch, refusal) => splitter.resolve(batch, refusal, &mut todo).await?,
        }
    }
    Ok(splitter.split)
}

/// Work left, taken from the end: what is pushed last is done first, so older samples go first.
enum Todo {
    /// To send; the refusal of the request it was cut from, if any.
    Send(WireBatch, Option<Refusal>),
    /// Known to hold a refused sample, by its own 400 or by a proof: to cut, never to send again.
    Refused(WireBatch, Refusal),
}

enum Sent {
    Landed,
    Refused(Refusal),
    /// Not sent: the cap was reached, and the batch was dropped.
    Capped,
}

struct Splitter<'a, R> {
    receiver: &'a mut R,
    cap: u32,
    split: Split,
}

impl<R: Receiver> Splitter<'_, R> {
    /// One request; past the cap, none, and `batch` is dropped with the refusal that covered it.
    async fn send(&mut self, batch: &WireBatch, covered: Option<&Refusal>) -> Result<Sent, R::Error> {
        if let Some(covered) = covered.filter(|_| self.split.requests >= self.cap) {
            self.give_up(batch, covered, Basis::Cap);
            return Ok(Sent::Capped);
        }
        self.split.requests += 1;
        Ok(match self.receiver.send(batch).await? {
            Answer::Landed => Sent::Landed,
            Answer::Refused(reason) => Sent::Refused(Refusal::new(reason)),
        })
    }

    fn give_up(&mut self, batch: &WireBatch, refusal: &Refusal, basis: Basis) {
        let samples = batch.samples();
        if samples == 0 {
            return;
        }
        let reason = match basis {
            Basis::Proven => refusal.reason.clone(),
            Basis::Bet => format!("{} [not sent alone: every part of its request was refused so]", refusal.reason),
            Basis::Cap => format!("{} [not sent alone: the batch's request cap was reached]", refusal.reason),
        };
        *match basis {
            Basis::Proven => &mut self.split.proven,
            Basis::Bet => &mut self.split.bet,
            Basis::Cap => &mut self.split.capped,
        } += samples;
        self.receiver.dropped(batch, &reason, basis);
    }

    /// `batch` holds a sample refused with `refusal`: drops what is proven, sends or queues the rest.
    async fn resolve(&mut self, batch: WireBatch, refusal: Refusal, todo: &mut Vec<Todo>) -> Result<(), R::Error> {
        let cut = batch.time_cut();
        let bounded = matches!(refusal.kind, Kind::OutOfBounds | Kind::TooOld | Kind::TooFarAhead);
        if batch.samples() <= 1 || (bounded && cut.is_none()) {
            self.give_up(&batch, &refusal, Basis::Proven);
            return Ok(());
        }
        if self.split.requests >= self.cap {
            self.give_up(&batch, &refusal, Basis::Cap);
            return Ok(());
        }
        match (refusal.kind, cut) {
            (kind, Some(cut)) if kind.bounded_below() => {
                let (older, newer) = batch.clone().split_at_time(cut);
                if older.shares_series_with(&newer) {
                    self.peel_oldest(batch, refusal, todo);
                    return Ok(());
                }
                // No series in common: the newer part may land first.
                match self.send(&newer, Some(&refusal)).await? {
                    Sent::Refused(proof) if proof.kind.bounded_below() => {
                        self.give_up(&older, &proof, Basis::Proven);
                        todo.push(Todo::Refused(newer, proof));
                    }
                    Sent::Refused(other) => {
                        todo.push(Todo::Refused(newer, other));
                        todo.push(Todo::Refused(older, refusal));
                    }
                    Sent::Landed | Sent::Capped => todo.push(Todo::Refused(older, refusal)),
                }
            }
            (Kind::TooFarAhead, Some(cut)) => {
                let (older, newer) = batch.split_at_time(cut);
                match self.send(&older, Some(&refusal)).await? {
                    Sent::Refused(proof) if proof.kind == Kind::TooFarAhead => {
                        self.give_up(&newer, &proof, Basis::Proven);
                        todo.push(Todo::Refused(older, proof));
                    }
                    Sent::Refused(other) => {
                        todo.push(Todo::Refused(newer, refusal));
                        todo.push(Todo::Refused(older, other));
                    }
                    Sent::Landed | Sent::Capped => todo.push(Todo::Refused(newer, refusal)),
                }
            }
            _ if batch.pieces.len() > 1 => self.try_parts(batch, refusal, todo).await?,
            (Kind::OutOfOrder, Some(_)) => {
                // One series: its oldest sample is older than what it holds, or out of bounds.
                self.peel_oldest(batch, refusal, todo);
            }
            _ => {
                // One series, a refusal that proves nothing: halves, the older one resolved first.
                let (older, newer) = batch.split().expect("more than one sample");
                todo.push(Todo::Send(newer, Some(refusal.clone())));
                todo.push(Todo::Send(older, Some(refusal)));
            }
        }
        Ok(())
    }

    /// Drops the samples at the batch's oldest timestamp (proven refused by `refusal`) and queues
    /// the rest to send, in one request.
    fn peel_oldest(&mut self, batch: WireBatch, refusal: Refusal, todo: &mut Vec<Todo>) {
        let (oldest, _) = batch.time_range().expect("not empty");
        let (at_oldest, rest) = batch.split_at_time(oldest.saturating_add(1));
        self.give_up(&at_oldest, &refusal, Basis::Proven);
        todo.push(Todo::Send(rest, Some(refusal)));
    }

    /// Sends the batch's [`PARTS`] parts of whole series; all refused the same way drops the batch.
    async fn try_parts(&mut self, batch: WireBatch, refusal: Refusal, todo: &mut Vec<Todo>) -> Result<(), R::Error> {
        let parts = batch.split_series(PARTS);
        let count = parts.len();
        let mut refused = Vec::new();
        for part in parts {
            if let Sent::Refused(r) = self.send(&part, Some(&refusal)).await? {
                refused.push((part, r));
            }
        }
        if count == PARTS && refused.len() == PARTS && refused.iter().all(|(_, r)| r.same_as(&refusal)) {
            for (part, r) in &refused {
                self.give_up(part, r, Basis::Bet);
            }
            return Ok(());
        }
        for (part, r) in refused.into_iter().rev() {
            todo.push(Todo::Refused(part, r));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! The rule against a stand-in of Prometheus' head as the write handler uses it (every sample
    //! checked against what is committed, the first refusal rolls the request back, its text is
    //! the body), counting requests. The same cases against real Prometheus servers are in
    //! `tests/remote_write_split.rs`.

    use std::collections::{HashMap, HashSet};

    use super::super::batch::Piece;
    use super::super::proto::{Label, Sample, TimeSeries};
    use super::*;

    /// A sample by its series' encoded labels and its timestamp.
    type Key = (Vec<u8>, i64);

    #[derive(Default)]
    struct Head {
        /// Samples older than this are out of bounds.
        min_valid: i64,
        /// 3.5: samples newer than this are too far in the future.
        max_time: Option<i64>,
        /// Each series' newest committed sample.
        newest: HashMap<Vec<Label>, (i64, f64)>,
        requests: u32,
        sent: HashSet<Vec<Key>>,
        landed: usize,
        dropped: Vec<(usize, String, Basis)>,
    }

    impl Head {
        fn refusal(&self, labels: &[Label], p: &Sample) -> Option<&'static str> {
            if p.timestamp < self.min_valid {
                return Some("out of bounds");
            }
            if self.max_time.is_some_and(|max| p.timestamp > max) {
                return Some("out of bounds: timestamp is too far in the future");
            }
            match self.newest.get(labels) {
                Some(&(t, _)) if p.timestamp < t => Some("out of order sample"),
                Some(&(t, v)) if p.timestamp == t && v.to_bits() != p.value.to_bits() => {
                    Some("duplicate sample for timestamp")
                }
                _ => None,
            }
        }

        fn dropped_on(&self, basis: Basis) -> usize {
            self.dropped.iter().filter(|(_, _, b)| *b == basis).map(|(n, _, _)| n).sum()
        }
    }

    impl Receiver for Head {
        type Error = std::convert::Infallible;

        async fn send(&mut self, batch: &WireBatch) -> Result<Answer, Self::Error> {
            self.requests += 1;
            let mut keys: Vec<Key> = batch
                .pieces
                .iter()
                .flat_map(|s| s.samples.iter().map(|p| (s.labels.bytes().to_vec(), p.timestamp)))
                .collect();
            keys.sort();
            assert!(self.sent.insert(keys), "a request was sent twice");
            for s in &batch.pieces {
                for p in &s.samples {
                    if let Some(text) = self.refusal(s.labels.list(), p) {
                        return Ok(Answer::Refused(format!("400: {text}\n")));
                    }
                }
            }
            for s in &batch.pieces {
                for p in &s.samples {
                    self.newest.insert(s.labels.list().to_vec(), (p.timestamp, p.value));
                }
            }
            self.landed += batch.samples();
            Ok(Answer::Landed)
        }

        fn dropped(&mut self, batch: &WireBatch, reason: &str, basis: Basis) {
            self.dropped.push((batch.samples(), reason.to_string(), basis));
        }
    }

    fn labels(i: usize) -> Vec<Label> {
        vec![
            Label { name: "__name__".into(), value: "promstack_split".into() },
            Label { name: "n".into(), value: format!("{i:04}") },
        ]
    }

    /// `series` series, each with a sample at every timestamp `times` gives it.
    fn batch(series: usize, times: impl Fn(usize) -> Vec<i64>) -> WireBatch {
        WireBatch {
            pieces: (0..series)
                .map(|i| {
                    Piece::from_proto(TimeSeries {
                        labels: labels(i),
                        samples: times(i).into_iter().map(|t| Sample { value: i as f64, timestamp: t }).collect(),
                    })
                })
                .collect(),
        }
    }

    fn run(head: &mut Head, batch: WireBatch, cap: u32) -> Split {
        let total = batch.samples();
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let split = rt.block_on(send_splitting(head, batch, cap)).unwrap();
        let dropped: usize = head.dropped.iter().map(|(n, _, _)| n).sum();
        assert_eq!(head.landed + dropped, total, "every sample landed or was dropped once");
        assert_eq!(split.requests, head.requests);
        let on = (head.dropped_on(Basis::Proven), head.dropped_on(Basis::Bet), head.dropped_on(Basis::Cap));
        assert_eq!((split.proven, split.bet, split.capped), on);
        split
    }

    const NOW: i64 = 1_764_000_000_000;
    const OLD: i64 = NOW - 3 * 3_600_000;

    #[test]
    fn kinds_from_both_versions_bodies() {
        for (body, kind) in [
            ("out of bounds\n", Kind::OutOfBounds),
            ("out of bounds: timestamp is too far in the future", Kind::TooFarAhead),
            ("too old sample", Kind::TooOld),
            ("out of order sample\n", Kind::OutOfOrder),
            ("duplicate sample for timestamp", Kind::Duplicate),
            ("duplicate sample for timestamp 1000; overrides not allowed: existing 1, new value 2", Kind::Duplicate),
            ("snappy: corrupt input", Kind::Other),
        ] {
            assert_eq!(Kind::of(body), kind, "{body}");
            assert_eq!(Refusal::new(format!("400: {body}")).kind, kind, "{body}");
        }
    }

    #[test]
    fn out_of_bounds_at_one_timestamp_is_proven_by_the_first_request() {
        let mut head = Head { min_valid: NOW - 3_600_000, ..Head::default() };
        let split = run(&mut head, batch(2000, |_| vec![OLD]), 64);
        assert_eq!((split.requests, split.proven), (1, 2000));
        assert!(head.dropped.iter().all(|(_, reason, _)| reason == "400: out of bounds\n"), "{:?}", head.dropped);
    }

    #[test]
    fn out_of_bounds_at_distinct_timestamps_is_a_binary_search() {
        let mut head = Head { min_valid: NOW - 3_600_000, ..Head::default() };
        let split = run(&mut head, batch(2000, |i| vec![OLD + i as i64]), 64);
        // The request, then one per halving: 1 + ceil(log2(2,000)).
        assert_eq!((split.requests, split.proven, head.landed), (12, 2000, 0));
    }

    #[test]
    fn one_sample_out_of_bounds_among_2000_costs_two_requests() {
        let mut head = Head { min_valid: NOW - 3_600_000, ..Head::default() };
        let split = run(&mut head, batch(2000, |i| vec![if i == 700 { OLD } else { NOW }]), 64);
        assert_eq!((split.requests, split.proven, head.landed), (2, 1, 1999));
    }

    #[test]
    fn a_backfill_past_the_bound_peels_one_timestamp_per_request() {
        // 200 series × 10 minutes, the oldest 4 minutes out of bounds: every series spans the
        // bound, so no newer part may land first.
        let minute = 60_000;
        let mut head = Head { min_valid: OLD + 4 * minute, ..Head::default() };
        let split = run(&mut head, batch(200, |_| (0..10).map(|k| OLD + k * minute).collect()), 64);
        assert_eq!((split.requests, split.proven, head.landed), (5, 800, 1200));

        let mut head = Head { min_valid: NOW, ..Head::default() };
        let split = run(&mut head, batch(200, |_| (0..10).map(|k| OLD + k * minute).collect()), 64);
        assert_eq!(
            (split.requests, split.proven, head.landed),
            (10, 2000, 0),
            "the last timestamp is proven by its own request"
        );
    }

    #[test]
    fn one_out_of_order_sample_among_2000_lands_the_other_1999() {
        let mut head = Head::default();
        head.newest.insert(labels(1234), (NOW + 1, 0.0));
        let split = run(&mut head, batch(2000, |_| vec![NOW]), 64);
        assert_eq!((head.landed, split.proven, split.bet), (1999, 1, 0));
        assert_eq!(head.dropped, [(1, "400: out of order sample\n".to_string(), Basis::Proven)]);
        // Parts of 2,000 → 250 → 32 → 4 series (8 requests each), then 4 parts of one.
        assert_eq!(split.requests, 1 + 8 + 8 + 8 + 4);
    }

    #[test]
    fn a_batch_a_replica_already_holds_is_dropped_after_its_eight_parts() {
        let mut head = Head::default();
        for i in 0..2000 {
            head.newest.insert(labels(i), (NOW + 60_000, 0.0));
        }
        let split = run(&mut head, batch(2000, |_| vec![NOW]), 64);
        assert_eq!((split.requests, split.bet, head.landed), (1 + PARTS as u32, 2000, 0));
        assert!(head
            .dropped
            .iter()
            .all(|(_, r, _)| r.starts_with("400: out of order sample") && r.contains("every part")));
    }

    #[test]
    fn two_bad_samples_in_different_parts_cost_about_fifty_requests() {
        let mut head = Head::default();
        for i in [100, 1900] {
            head.newest.insert(labels(i), (NOW + 1, 0.0));
        }
        let split = run(&mut head, batch(2000, |_| vec![NOW]), 64);
        assert_eq!((head.landed, split.proven, split.bet, split.capped), (1998, 2, 0, 0));
        assert!((40..=49).contains(&split.requests), "{split:?}");
    }

    #[test]
    fn seven_bad_samples_are_found_one_by_one() {
        let bad = [3, 300, 600, 900, 1200, 1500, 1800];
        let mut head = Head::default();
        for i in bad {
            head.newest.insert(labels(i), (NOW + 1, 0.0));
        }
        let split = run(&mut head, batch(2000, |_| vec![NOW]), 1000);
        assert_eq!((head.landed, split.proven, split.bet), (1993, 7, 0));
    }

    #[test]
    fn the_cap_is_a_backstop_when_refusals_differ() {
        // Every 20th series refused, as out of order and duplicate by turns: no bet applies.
        let mut head = Head::default();
        for i in (0..2000).step_by(20) {
            let t = if i % 40 == 0 { NOW + 1 } else { NOW };
            head.newest.insert(labels(i), (t, -1.0));
        }
        let split = run(&mut head, batch(2000, |_| vec![NOW]), 64);
        assert_eq!(split.requests, 64);
        assert!(split.capped > 0 && head.landed > 0, "{split:?}");
        assert!(head.dropped.iter().any(|(_, r, b)| *b == Basis::Cap && r.contains("request cap")));
    }

    #[test]
    fn too_far_in_the_future_is_a_binary_search_oldest_first() {
        let mut head = Head { max_time: Some(NOW + 600_000), ..Head::default() };
        // Series i has one sample, i × 3.6 s ahead: those more than 10 minutes ahead are refused.
        let split = run(&mut head, batch(2000, |i| vec![NOW + i as i64 * 3_600]), 64);
        assert_eq!((head.landed, split.proven), (167, 1833));
        assert!(split.requests <= 13, "{split:?}");
    }

    #[test]
    fn one_series_out_of_order_drops_its_oldest_samples_only() {
        let mut head = Head::default();
        head.newest.insert(labels(0), (NOW + 2_500, 0.0));
        let split = run(&mut head, batch(1, |_| (0..10).map(|k| NOW + k * 1000).collect()), 64);
        assert_eq!((head.landed, split.proven, split.requests), (7, 3, 4));
    }
}
