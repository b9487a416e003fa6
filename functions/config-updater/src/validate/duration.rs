//! Prometheus durations (`model.ParseDuration`): `1h30m`, `90s`, `500ms`, `0`. Units y, w, d,
//! h, m, s, ms, each at most once and largest first.

/// Milliseconds in `s`, or why it is not a Prometheus duration.
pub fn parse(s: &str) -> Result<u64, String> {
    if s == "0" {
        return Ok(0);
    }
    const UNITS: [(&str, u64); 7] = [
        ("y", 365 * 86_400_000),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ];
    let invalid = || format!("{s:?} is not a valid duration (e.g. 30s, 1m, 1h30m)");
    let mut rest = s;
    let mut next_unit = 0;
    let mut total: u64 = 0;
    if rest.is_empty() {
        return Err(invalid());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(invalid)?;
        if digits == 0 {
            return Err(invalid());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let index = UNITS[next_unit..].iter().position(|(u, _)| *u == unit).ok_or_else(invalid)? + next_unit;
        total = n.checked_mul(UNITS[index].1).and_then(|v| v.checked_add(total)).ok_or_else(invalid)?;
        next_unit = index + 1;
        rest = &rest[unit_len..];
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn valid_durations() {
        assert_eq!(parse("30s"), Ok(30_000));
        assert_eq!(parse("1h30m"), Ok(5_400_000));
        assert_eq!(parse("500ms"), Ok(500));
        assert_eq!(parse("1m500ms"), Ok(60_500));
        assert_eq!(parse("0"), Ok(0));
        assert_eq!(parse("2w"), Ok(14 * 86_400_000));
    }

    /// `evaluation_interval: X` through `promtool check config --syntax-only` of 2.42.0 and 3.5.3:
    /// the same verdict on both.
    #[test]
    fn durations_as_promtool_judges_them() {
        for good in ["0", "1d1h", "100ms", "1y", "1w2d", "01m", "1m0s", "1h30m15s500ms"] {
            assert!(parse(good).is_ok(), "{good:?} should be valid");
        }
        for bad in ["", "1h1d", "5", "1.0s", "-1m", "1M"] {
            assert!(parse(bad).is_err(), "{bad:?} should be invalid");
        }
    }

    #[test]
    fn invalid_durations() {
        for bad in ["", "5", "1.5m", "m", "30 s", "1m1h", "1s1s", "-5m", "5min", "1h 30m"] {
            assert!(parse(bad).is_err(), "{bad:?} should be invalid");
        }
    }
}
