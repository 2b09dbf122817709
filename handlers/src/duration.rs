//! Durations as users write them: `90s`, `5m`, `1h`, `1d`, `1h30m`.
//!
//! A duration is one or more `<digits><unit>` parts with units `w d h m s ms`,
//! largest first, each unit at most once, no spaces, e.g. `1d12h` or `2m30s`.
//! Zero is refused (a zero window or timeout is always a mistake) and so is
//! anything longer than [`MAX_DURATION`] (ten years), which also keeps every
//! `now + duration` far from overflowing.

use crate::Millis;

const SECOND: Millis = 1_000;
const MINUTE: Millis = 60 * SECOND;
const HOUR: Millis = 60 * MINUTE;
const DAY: Millis = 24 * HOUR;
const WEEK: Millis = 7 * DAY;

/// The longest duration accepted: 3650 days.
pub const MAX_DURATION: Millis = 3650 * DAY;

/// The regular expression a duration string matches (used in schemas).
/// It does not check the order of units nor the range; [`parse_duration`] does.
pub const DURATION_PATTERN: &str = "^([0-9]+(ms|s|m|h|d|w))+$";

/// Units, largest first (so their index gives the required order).
const UNITS: [(&str, Millis); 6] = [
    ("w", WEEK),
    ("d", DAY),
    ("h", HOUR),
    ("m", MINUTE),
    ("s", SECOND),
    ("ms", 1),
];

/// Parse a duration such as `90s`, `5m`, `1h30m` into milliseconds.
pub fn parse_duration(s: &str) -> Result<Millis, String> {
    const HINT: &str = "write a duration like 90s, 5m, 1h, 1d or 1h30m";
    if s.is_empty() {
        return Err(format!("empty duration; {HINT}"));
    }
    let mut rest = s;
    let mut total: Millis = 0;
    let mut last_unit: Option<usize> = None;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!(
                "'{s}' is not a duration: expected a number at '{rest}'; {HINT}"
            ));
        }
        let (number, tail) = rest.split_at(digits);
        let unit_len = tail.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (unit, tail) = tail.split_at(unit_len);
        if unit.is_empty() && tail.starts_with(['.', ',']) {
            return Err(format!(
                "'{s}' is not a duration: use whole numbers, like 1h30m for 1.5h"
            ));
        }
        if unit.is_empty() {
            return Err(format!(
                "'{s}' is not a duration: missing unit after {number}; {HINT}"
            ));
        }
        let Some(index) = UNITS.iter().position(|(name, _)| *name == unit) else {
            return Err(format!(
                "'{s}' is not a duration: unknown unit '{unit}'; units are w, d, h, m, s, ms"
            ));
        };
        if last_unit.is_some_and(|last| last >= index) {
            return Err(format!(
                "'{s}' is not a duration: units must go from largest to smallest, each once (like 1h30m)"
            ));
        }
        last_unit = Some(index);
        let too_long = || format!("'{s}' is too long; the longest duration is 3650d");
        let n: Millis = number.parse().map_err(|_| too_long())?;
        total = n
            .checked_mul(UNITS[index].1)
            .and_then(|part| part.checked_add(total))
            .filter(|t| *t <= MAX_DURATION)
            .ok_or_else(too_long)?;
        rest = tail;
    }
    if total == 0 {
        return Err(format!(
            "'{s}' is zero; a duration must be longer than that"
        ));
    }
    Ok(total)
}

/// Format milliseconds the way [`parse_duration`] reads them, largest units
/// first and without weeks (`14d` reads better than `2w`): `5400000` → `1h30m`.
pub fn format_duration(ms: Millis) -> String {
    if ms == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    if ms < 0 {
        out.push('-');
    }
    let mut rest = ms.unsigned_abs();
    for (name, size) in &UNITS[1..] {
        let size = size.unsigned_abs();
        let n = rest / size;
        if n > 0 {
            out.push_str(&n.to_string());
            out.push_str(name);
            rest %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn good_durations() {
        let table = [
            ("90s", 90 * SECOND),
            ("5m", 5 * MINUTE),
            ("1h", HOUR),
            ("1d", DAY),
            ("1h30m", HOUR + 30 * MINUTE),
            ("2w", 14 * DAY),
            ("1d2h3m4s5ms", DAY + 2 * HOUR + 3 * MINUTE + 4 * SECOND + 5),
            ("250ms", 250),
            ("0h5m", 5 * MINUTE),
            ("3650d", MAX_DURATION),
        ];
        for (text, ms) in table {
            assert_eq!(parse_duration(text), Ok(ms), "{text}");
        }
    }

    #[test]
    fn bad_durations_say_why() {
        let table = [
            ("", "empty duration"),
            ("90", "missing unit after 90"),
            ("5 m", "missing unit after 5"),
            ("m", "expected a number at 'm'"),
            ("5x", "unknown unit 'x'"),
            ("5M", "unknown unit 'M'"),
            ("30m1h", "largest to smallest"),
            ("1h1h", "largest to smallest"),
            ("0s", "is zero"),
            ("0h0m", "is zero"),
            ("3651d", "too long"),
            ("99999999999999999999999s", "too long"),
            ("9223372036854775807w", "too long"),
            ("-5m", "expected a number"),
            ("1.5h", "use whole numbers"),
            (" 5m", "expected a number"),
        ];
        for (text, expected) in table {
            let err = parse_duration(text).expect_err(text);
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }

    #[test]
    fn formats_largest_units_first() {
        assert_eq!(format_duration(90 * SECOND), "1m30s");
        assert_eq!(format_duration(HOUR + 30 * MINUTE), "1h30m");
        assert_eq!(format_duration(14 * DAY), "14d");
        assert_eq!(format_duration(1_500), "1s500ms");
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(-MINUTE), "-1m");
        assert_eq!(format_duration(Millis::MIN), "-106751991167d7h12m55s808ms");
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,24}") {
            let _ = parse_duration(&s);
        }

        #[test]
        fn parse_never_panics_on_near_misses(s in "[0-9]{0,22}(ms|s|m|h|d|w|x)?([0-9]{0,22}(ms|s|m|h|d|w))?") {
            if let Ok(ms) = parse_duration(&s) {
                prop_assert!(ms > 0 && ms <= MAX_DURATION);
            }
        }

        #[test]
        fn format_round_trips(ms in 1..=MAX_DURATION) {
            prop_assert_eq!(parse_duration(&format_duration(ms)), Ok(ms));
        }
    }
}
