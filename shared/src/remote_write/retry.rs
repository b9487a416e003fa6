//! Which answers are worth another try, and how long to wait before it.

use std::time::Duration;

/// What to do with a response status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// 2xx: the request landed.
    Done,
    /// 5xx, 429, 408: the server may accept the same request later.
    Retry,
    /// 400: Prometheus rolled the whole request back because of some of its samples; send the
    /// halves so the good series land and the bad ones are found.
    Split,
    /// Any other 4xx (auth, not found, too large): resending cannot help.
    Fail,
}

impl Disposition {
    pub fn of(status: u16) -> Self {
        match status {
            200..=299 => Self::Done,
            400 => Self::Split,
            408 | 429 | 500..=599 => Self::Retry,
            _ => Self::Fail,
        }
    }
}

/// Capped exponential backoff with jitter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Delay before the first retry.
    pub initial: Duration,
    /// No single delay is longer than this.
    pub max_delay: Duration,
    /// Give up after this many retries of one request.
    pub max_retries: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { initial: Duration::from_millis(250), max_delay: Duration::from_secs(8), max_retries: 8 }
    }
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (1-based): `initial * 2^(attempt-1)`, capped, then
    /// scaled by a random factor in [0.5, 1) so that many clients do not retry in step. A server's
    /// `Retry-After` raises the wait (never above `max_delay`).
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self.initial.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let capped = exp.min(self.max_delay);
        let jittered = capped.mul_f64(0.5 + fastrand::f64() / 2.0);
        match retry_after {
            Some(ra) => jittered.max(ra.min(self.max_delay)),
            None => jittered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(Disposition::of(200), Disposition::Done);
        assert_eq!(Disposition::of(204), Disposition::Done);
        assert_eq!(Disposition::of(400), Disposition::Split);
        for s in [408, 429, 500, 502, 503, 504] {
            assert_eq!(Disposition::of(s), Disposition::Retry, "{s}");
        }
        for s in [401, 403, 404, 409, 413, 415] {
            assert_eq!(Disposition::of(s), Disposition::Fail, "{s}");
        }
    }

    #[test]
    fn delay_grows_is_capped_and_jittered() {
        let p = RetryPolicy { initial: Duration::from_millis(100), max_delay: Duration::from_secs(1), max_retries: 10 };
        for _ in 0..100 {
            let d1 = p.delay(1, None);
            assert!(d1 >= Duration::from_millis(50) && d1 < Duration::from_millis(100), "{d1:?}");
            let d3 = p.delay(3, None);
            assert!(d3 >= Duration::from_millis(200) && d3 < Duration::from_millis(400), "{d3:?}");
            let d10 = p.delay(10, None);
            assert!(d10 >= Duration::from_millis(500) && d10 < Duration::from_secs(1), "{d10:?}");
            assert_eq!(p.delay(1, Some(Duration::from_secs(60))), Duration::from_secs(1));
        }
        let spread: std::collections::HashSet<Duration> = (0..50).map(|_| p.delay(2, None)).collect();
        assert!(spread.len() > 10, "jitter spreads the delays");
    }
}
