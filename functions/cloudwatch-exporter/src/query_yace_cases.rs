//! YACE's own test vectors for the GetMetricData window, run against promstack's calculator.

use super::*;

const NS: i128 = 1_000_000_000;

/// Nanoseconds since the Unix epoch of a UTC date and time.
fn utc(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64, nanos: i128) -> i128 {
    // Days from 1970-01-01 to the date (the proleptic Gregorian calendar).
    let (y, mo) = if mo <= 2 { (y - 1, mo + 12) } else { (y, mo) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (mo - 3) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    i128::from(((days * 24 + h) * 60 + mi) * 60 + s) * NS + nanos
}

// YACE 1a0ddb1e pkg/job/getmetricdata/windowcalculator_test.go (Test_MetricWindow)
// (period, length, delay in seconds; now; expected start; expected end)
#[allow(clippy::type_complexity)]
const METRIC_WINDOW: [(&str, i64, i64, i64, [i64; 6], i128, [i64; 6], i128, [i64; 6], i128); 4] = [
    (
        "Go back four minutes and round to the nearest two minutes with two minute delay",
        120,
        120,
        120,
        [2021, 11, 20, 0, 0, 0],
        0,
        [2021, 11, 19, 23, 56, 0],
        0,
        [2021, 11, 19, 23, 58, 0],
        0,
    ),
    (
        "Go back four minutes with two minute delay nad no rounding",
        0,
        120,
        120,
        [2021, 1, 1, 0, 2, 22],
        33,
        [2020, 12, 31, 23, 58, 22],
        33,
        [2021, 1, 1, 0, 0, 22],
        33,
    ),
    (
        "Go back two days and round to the nearest day (midnight) with zero delay",
        86400,
        172800,
        0,
        [2021, 11, 20, 8, 33, 44],
        0,
        [2021, 11, 18, 0, 0, 0],
        0,
        [2021, 11, 20, 0, 0, 0],
        0,
    ),
    (
        "Go back two days and round to the nearest 5 minutes with zero delay",
        300,
        172800,
        0,
        [2021, 11, 20, 8, 33, 44],
        0,
        [2021, 11, 18, 8, 30, 0],
        0,
        [2021, 11, 20, 8, 30, 0],
        0,
    ),
];

fn at(t: [i64; 6], nanos: i128) -> i128 {
    utc(t[0], t[1], t[2], t[3], t[4], t[5], nanos)
}

#[test]
fn metric_window() {
    for (name, period, length, delay, now, now_ns, start, start_ns, end, end_ns) in METRIC_WINDOW {
        let got = yace_window_ns(at(now, now_ns), period, length, delay);
        assert_eq!(got, (at(start, start_ns), at(end, end_ns)), "{name}");
    }
}

/// The same cases through the window a run uses (whole seconds, a period above 0, no watermark).
#[test]
fn metric_window_of_a_run() {
    for (name, period, length, delay, now, now_ns, start, _, end, _) in METRIC_WINDOW {
        if period == 0 || now_ns != 0 {
            continue;
        }
        let w = Window::at((at(now, 0) / NS) as i64, period, length, delay, None, 3600);
        let expected = ((at(start, 0) / NS) as i64, (at(end, 0) / NS) as i64);
        assert_eq!((w.start, w.end), expected, "{name}");
    }
}

// Paths of YACE's windowcalculator.go (1a0ddb1e) its table does not reach; expected values worked
// out from Go's Time.Round (relative to Go's zero time, halves round up).
#[test]
fn go_round_is_relative_to_go_zero_time_and_rounds_halves_up() {
    // 62135596800 s (Go's zero time before the epoch) is 4 mod 7: a 7 s period's grid points are
    // 3 mod 7 in Unix time, so 100 - 3.5 = 96.5 rounds to 94, where the Unix grid would give 98.
    let (_, end) = yace_window_ns(100 * NS, 7, 0, 0);
    assert_eq!(end, 94 * NS);
    // Halfway rounds up: now = 60 s puts now - period/2 = 30 s halfway between 0 and 60; a
    // nanosecond earlier rounds down.
    let (_, end) = yace_window_ns(60 * NS, 60, 0, 0);
    assert_eq!(end, 60 * NS);
    let (_, end) = yace_window_ns(60 * NS - 1, 60, 0, 0);
    assert_eq!(end, 0);
    // The delay is subtracted after rounding: the end is off the period's grid (period 300, delay 120).
    let (start, end) = yace_window_ns(1_700_000_123 * NS, 300, 600, 120);
    assert_eq!((start, end), (1_699_999_380 * NS, 1_699_999_980 * NS));
}
