//! When to notify: which rule of a policy applies and when a digest is due.
//!
//! Pure functions of a policy, an instant and the owner's timezone; the
//! caller passes the clock in, so tests move time instead of sleeping.
//!
//! A schedule is a set of local ranges ("Mon–Fri 09:00–18:00"). Each range is
//! turned into an interval of absolute instants for the actual calendar days
//! around the moment asked about, so daylight-saving changes fall out of the
//! timezone rules instead of special cases:
//! * a range boundary the clock skips (02:30 on the spring-forward night)
//!   is the first instant after the jump (03:00 local);
//! * a boundary the clock shows twice (02:30 on the fall-back night) is the
//!   first time it shows it;
//! * a range the jump swallows whole (02:00–02:30 that night) is empty;
//! * "06:00" is 06:00 on the wall clock of that very day, whatever the offset
//!   was when the alert arrived.
//!
//! Ranges are half-open: 09:00–18:00 holds at 09:00 and no longer at 18:00.
//! Searches go day by day over the ranges of at most ten calendar days,
//! never minute by minute.
//!
//! Decisions (also for the README):
//! * [`rule_for`]: the first rule whose `when` holds *now* and whose
//!   `min_severity` is at most the alert's severity. A resolve is routed
//!   like a transition of the severity the alert had, at the moment it
//!   resolves; it is sent only if *that* rule has `notify_resolved`. Later
//!   rules are not tried: the rule that would carry the alert now decides,
//!   so a resolve never goes to a channel that the fired alert would not
//!   have reached at the same moment.
//! * [`due_at`]: `now + aggregate_for`; for a `hold` rule whose window is
//!   open, exactly the end of that window (not later: "hold until 06:00"
//!   means 06:00, even for an alert that came at 05:59:50). A hold window
//!   that never ends (a schedule covering the whole week) falls back to
//!   `aggregate_for`, so nothing is held forever.
//! * [`next_repeat`]: `last_sent + repeat_every`. The caller routes the
//!   repeat with [`rule_for`] at that instant, so a repeat that falls into a
//!   hold window is held like anything else.

use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use tellify_handlers::{Millis, Severity};

use super::policy::{Policy, Rule, Schedule, When};

/// A window lasting longer than this is a schedule that covers every moment
/// of the week, i.e. one that never ends (a week plus a DST hour is less).
const FOREVER: SignedDuration = SignedDuration::from_hours(8 * 24);
/// Days of ranges computed after the local date asked about: enough to see
/// the end of any window shorter than [`FOREVER`] and the next start of any
/// weekly schedule.
const DAYS_AHEAD: usize = 9;

/// A timezone by its IANA name (`Europe/Paris`), for the user's profile.
pub fn parse_timezone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name.trim()).map_err(|_| {
        format!(
            "'{name}' is not a timezone; use an IANA name like Europe/Paris or America/New_York"
        )
    })
}

impl Schedule {
    /// Whether `t` falls in one of the schedule's ranges, on the owner's
    /// wall clock.
    pub fn contains(&self, t: Timestamp, tz: &TimeZone) -> bool {
        self.windows(t, tz, 0).iter().any(|w| w.contains(t))
    }

    /// The ranges that started on the local date of `t` or the two days
    /// before (one may still be open), up to those that start `ahead` days
    /// after it, as instants, in order, merged where they touch.
    fn windows(&self, t: Timestamp, tz: &TimeZone, ahead: usize) -> Vec<Window> {
        let today = tz.to_datetime(t).date();
        let first = today.yesterday().and_then(Date::yesterday).unwrap_or(today);
        let mut windows: Vec<Window> = Vec::new();
        let mut day = Some(first);
        for _ in 0..ahead + 3 {
            let Some(d) = day else { break };
            if self
                .days
                .iter()
                .any(|listed| listed.weekday() == d.weekday())
            {
                match (self.range_on(d, tz), windows.last_mut()) {
                    (Some(w), Some(last)) if w.start <= last.end => last.end = last.end.max(w.end),
                    (Some(w), _) => windows.push(w),
                    (None, _) => {}
                }
            }
            day = d.tomorrow().ok();
        }
        windows
    }

    /// The range that starts on `day`, unless the clock skips all of it.
    fn range_on(&self, day: Date, tz: &TimeZone) -> Option<Window> {
        let end_day = if self.from < self.to {
            day
        } else {
            day.tomorrow().ok()?
        };
        let start = first_instant(day.to_datetime(self.from), tz)?;
        let end = first_instant(end_day.to_datetime(self.to), tz)?;
        (start < end).then_some(Window { start, end })
    }
}

impl When {
    /// Whether a rule with this `when` applies at `t`.
    pub fn holds(&self, t: Timestamp, tz: &TimeZone) -> bool {
        match self {
            When::Always => true,
            When::Schedule(s) => s.contains(t, tz),
            When::Not(s) => !s.contains(t, tz),
        }
    }
}

/// A half-open interval of instants.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: Timestamp,
    end: Timestamp,
}

impl Window {
    fn contains(&self, t: Timestamp) -> bool {
        self.start <= t && t < self.end
    }
}

/// The first instant at which the wall clock shows `dt` or a later time.
fn first_instant(dt: DateTime, tz: &TimeZone) -> Option<Timestamp> {
    match tz.to_ambiguous_timestamp(dt).offset() {
        AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(dt).ok(),
        // Shown twice: the first time, still with the offset before.
        AmbiguousOffset::Fold { before, .. } => before.to_timestamp(dt).ok(),
        // Skipped: the jump itself. Read with the offset after the jump,
        // `dt` is an instant before it, so the next transition is the jump.
        AmbiguousOffset::Gap { before, after } => {
            let before_jump = after.to_timestamp(dt).ok()?;
            tz.following(before_jump)
                .next()
                .map(|transition| transition.timestamp())
                .or_else(|| before.to_timestamp(dt).ok())
        }
    }
}

/// The rule that applies to an alert transition at `now`: the first whose
/// `when` holds and whose `min_severity` is at most `severity`. For a
/// resolve (`resolved`, with the severity the alert had), that same rule
/// decides, and only if it has `notify_resolved`.
pub fn rule_for<'a>(
    policy: &'a Policy,
    severity: Severity,
    resolved: bool,
    now: Timestamp,
    tz: &TimeZone,
) -> Option<&'a Rule> {
    let rule = policy
        .rules
        .iter()
        .find(|r| r.min_severity <= severity && r.when.holds(now, tz))?;
    (!resolved || rule.notify_resolved).then_some(rule)
}

/// When a digest holding a notice that `rule` routed at `now` is due:
/// `now + aggregate_for`, or for a `hold` rule whose window is open, the end
/// of that window.
pub fn due_at(rule: &Rule, now: Timestamp, tz: &TimeZone) -> Timestamp {
    if rule.hold
        && rule.when.holds(now, tz)
        && let Some(end) = window_end(&rule.when, now, tz)
    {
        return end;
    }
    after(now, rule.aggregate_for)
}

/// The end of the current window of `when`: the first instant at or after
/// `now` at which it does not hold (`now` itself if it does not hold now).
/// `None` if it never stops holding: `Always`, or a schedule that covers the
/// whole week.
pub fn window_end(when: &When, now: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
    match when {
        When::Always => None,
        When::Schedule(s) => match s
            .windows(now, tz, DAYS_AHEAD)
            .iter()
            .find(|w| w.contains(now))
        {
            None => Some(now),
            Some(w) if w.end.duration_since(now) > FOREVER => None,
            Some(w) => Some(w.end),
        },
        When::Not(s) => {
            let windows = s.windows(now, tz, DAYS_AHEAD);
            if windows.iter().any(|w| w.contains(now)) {
                return Some(now);
            }
            windows.iter().map(|w| w.start).find(|start| *start > now)
        }
    }
}

/// When an alert still firing is sent again: `last_sent + repeat_every`, or
/// `None` if the rule does not repeat.
pub fn next_repeat(rule: &Rule, last_sent: Timestamp) -> Option<Timestamp> {
    rule.repeat_every.map(|every| after(last_sent, every))
}

/// `t + ms`, at the end of time rather than overflowing (durations are at
/// most ten years, so only absurd instants get there).
fn after(t: Timestamp, ms: Millis) -> Timestamp {
    t.checked_add(SignedDuration::from_millis(ms))
        .unwrap_or(Timestamp::MAX)
}

#[cfg(test)]
mod props;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::policy::parse_policy;
    use jiff::Zoned;
    use serde_json::{Value, json};

    const ALL_DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

    fn tz(name: &str) -> TimeZone {
        parse_timezone(name).expect("known timezone")
    }

    /// `"2026-06-02T10:00[Europe/Paris]"`, as an instant.
    fn at(s: &str) -> Timestamp {
        s.parse::<Zoned>().expect("zoned datetime").timestamp()
    }

    fn utc(s: &str) -> Timestamp {
        s.parse().expect("RFC 3339 instant")
    }

    fn policy(rules: Value) -> Policy {
        let ids = ["work", "home", "sms"].map(String::from);
        let (name, default, rules) =
            parse_policy(&json!({"name": "test", "rules": rules}), &ids).expect("valid policy");
        Policy {
            id: "p".into(),
            owner: "ann".into(),
            name,
            default,
            rules,
        }
    }

    fn schedule(days: &[&str], from: &str, to: &str) -> Schedule {
        match policy(
            json!([{"when": {"days": days, "from": from, "to": to}, "channels": ["work"]}]),
        )
        .rules
        .remove(0)
        .when
        {
            When::Schedule(s) => s,
            other => panic!("not a schedule: {other:?}"),
        }
    }

    /// Which rule (by index) applies.
    fn which(
        p: &Policy,
        severity: Severity,
        resolved: bool,
        now: Timestamp,
        tz: &TimeZone,
    ) -> Option<usize> {
        rule_for(p, severity, resolved, now, tz).map(|r| {
            p.rules
                .iter()
                .position(|candidate| std::ptr::eq(candidate, r))
                .expect("a rule of the policy")
        })
    }

    fn story_1() -> Policy {
        let work =
            json!({"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "18:00"});
        policy(json!([
            {"when": work, "min_severity": "warning", "channels": ["work"], "aggregate_for": "1m"},
            {"when": {"not": work}, "min_severity": "critical", "channels": ["home", "sms"], "aggregate_for": "1m",
             "notify_resolved": false},
        ]))
    }

    fn story_5() -> Policy {
        let night = json!({"days": ALL_DAYS, "from": "19:00", "to": "06:00"});
        policy(json!([
            {"when": {"not": night}, "channels": ["work"], "aggregate_for": "1m"},
            {"when": night, "channels": ["work"], "hold": true},
        ]))
    }

    #[test]
    fn story_1_work_hours_and_evenings() {
        let (p, paris) = (story_1(), tz("Europe/Paris"));
        // 2026-06-02 is a Tuesday, 2026-06-06 a Saturday.
        assert_eq!(
            at("2026-06-02T10:00[Europe/Paris]")
                .to_zoned(paris.clone())
                .weekday(),
            jiff::civil::Weekday::Tuesday
        );
        let tuesday_10 = at("2026-06-02T10:00[Europe/Paris]");
        assert_eq!(
            which(&p, Severity::Warning, false, tuesday_10, &paris),
            Some(0)
        );
        assert_eq!(which(&p, Severity::Info, false, tuesday_10, &paris), None);
        let tuesday_21 = at("2026-06-02T21:00[Europe/Paris]");
        assert_eq!(
            which(&p, Severity::Warning, false, tuesday_21, &paris),
            None
        );
        assert_eq!(
            which(&p, Severity::Critical, false, tuesday_21, &paris),
            Some(1)
        );
        let saturday_11 = at("2026-06-06T11:00[Europe/Paris]");
        assert_eq!(
            which(&p, Severity::Critical, false, saturday_11, &paris),
            Some(1)
        );
        assert_eq!(
            which(&p, Severity::Warning, false, saturday_11, &paris),
            None
        );
        // Half-open: 09:00 is work time, 18:00 no longer.
        assert_eq!(
            which(
                &p,
                Severity::Warning,
                false,
                at("2026-06-02T09:00[Europe/Paris]"),
                &paris
            ),
            Some(0)
        );
        assert_eq!(
            which(
                &p,
                Severity::Warning,
                false,
                at("2026-06-02T18:00[Europe/Paris]"),
                &paris
            ),
            None
        );
        // The same instant is evening in Paris but work time in New York.
        let ny = tz("America/New_York");
        assert_eq!(
            which(&p, Severity::Warning, false, tuesday_21, &ny),
            Some(0)
        );
        // Resolves: the rule that applies now decides.
        assert_eq!(
            which(&p, Severity::Warning, true, tuesday_10, &paris),
            Some(0)
        );
        assert_eq!(
            which(&p, Severity::Critical, true, saturday_11, &paris),
            None
        );
        assert_eq!(
            due_at(&p.rules[0], tuesday_10, &paris),
            at("2026-06-02T10:01[Europe/Paris]")
        );
    }

    #[test]
    fn story_5_hold_the_night_until_six() {
        let (p, paris) = (story_5(), tz("Europe/Paris"));
        let due = |now: &str| {
            let now = at(now);
            let rule =
                rule_for(&p, Severity::Warning, false, now, &paris).expect("a rule always applies");
            due_at(rule, now, &paris)
        };
        assert_eq!(
            due("2026-06-02T23:10[Europe/Paris]"),
            at("2026-06-03T06:00[Europe/Paris]")
        );
        assert_eq!(
            due("2026-06-02T12:00[Europe/Paris]"),
            at("2026-06-02T12:01[Europe/Paris]")
        );
        assert_eq!(
            due("2026-06-02T19:00[Europe/Paris]"),
            at("2026-06-03T06:00[Europe/Paris]")
        );
        assert_eq!(
            due("2026-06-03T05:59:50[Europe/Paris]"),
            at("2026-06-03T06:00[Europe/Paris]")
        );
        assert_eq!(
            due("2026-06-03T06:00[Europe/Paris]"),
            at("2026-06-03T06:01[Europe/Paris]")
        );
        // The day rule's window ends when the night starts.
        assert_eq!(
            window_end(
                &p.rules[0].when,
                at("2026-06-02T12:00[Europe/Paris]"),
                &paris
            ),
            Some(at("2026-06-02T19:00[Europe/Paris]"))
        );
        // A hold rule asked outside its window just aggregates.
        assert_eq!(
            due_at(&p.rules[1], at("2026-06-02T12:00[Europe/Paris]"), &paris),
            at("2026-06-02T12:01[Europe/Paris]")
        );
    }

    #[test]
    fn ranges_cross_midnight() {
        let (s, paris) = (schedule(&["fri"], "22:00", "06:00"), tz("Europe/Paris"));
        // 2026-06-05 is a Friday.
        let holds = |t: &str| s.contains(at(t), &paris);
        assert!(holds("2026-06-05T23:00[Europe/Paris]"));
        assert!(holds("2026-06-06T05:00[Europe/Paris]"));
        assert!(!holds("2026-06-06T06:00[Europe/Paris]"));
        assert!(!holds("2026-06-06T07:00[Europe/Paris]"));
        assert!(
            !holds("2026-06-05T05:00[Europe/Paris]"),
            "Thursday night is not listed"
        );
        assert!(!holds("2026-06-04T23:00[Europe/Paris]"));
        assert!(!holds("2026-06-06T23:00[Europe/Paris]"));
        let when = When::Schedule(s.clone());
        assert_eq!(
            window_end(&when, at("2026-06-05T23:00[Europe/Paris]"), &paris),
            Some(at("2026-06-06T06:00[Europe/Paris]"))
        );
        // Not holding: it has already ended.
        let noon = at("2026-06-05T12:00[Europe/Paris]");
        assert_eq!(window_end(&when, noon, &paris), Some(noon));
        // The complement ends when the next range starts.
        assert_eq!(
            window_end(&When::Not(s), at("2026-06-06T07:00[Europe/Paris]"), &paris),
            Some(at("2026-06-12T22:00[Europe/Paris]"))
        );
    }

    #[test]
    fn from_equal_to_is_a_whole_day() {
        let paris = tz("Europe/Paris");
        // 2026-06-01 is a Monday.
        let monday = When::Schedule(schedule(&["mon"], "00:00", "00:00"));
        assert!(monday.holds(at("2026-06-01T00:00[Europe/Paris]"), &paris));
        assert!(monday.holds(at("2026-06-01T23:59:59[Europe/Paris]"), &paris));
        assert!(!monday.holds(at("2026-05-31T23:59[Europe/Paris]"), &paris));
        assert!(!monday.holds(at("2026-06-02T00:00[Europe/Paris]"), &paris));
        assert_eq!(
            window_end(&monday, at("2026-06-01T10:00[Europe/Paris]"), &paris),
            Some(at("2026-06-02T00:00[Europe/Paris]"))
        );
        // A day from 09:00 to 09:00 the next morning.
        let from_nine = schedule(&["mon"], "09:00", "09:00");
        assert!(from_nine.contains(at("2026-06-02T08:59[Europe/Paris]"), &paris));
        assert!(!from_nine.contains(at("2026-06-01T08:59[Europe/Paris]"), &paris));
        assert!(!from_nine.contains(at("2026-06-02T09:00[Europe/Paris]"), &paris));
        // Touching days make one window.
        let weekend = When::Schedule(schedule(&["sat", "sun"], "00:00", "00:00"));
        assert_eq!(
            window_end(&weekend, at("2026-06-06T10:00[Europe/Paris]"), &paris),
            Some(at("2026-06-08T00:00[Europe/Paris]"))
        );
        // Every day, all day: never ends, its complement never holds, and a
        // hold on it does not hold forever.
        let always = schedule(&ALL_DAYS, "00:00", "00:00");
        let now = at("2026-06-03T10:00[Europe/Paris]");
        assert_eq!(
            window_end(&When::Schedule(always.clone()), now, &paris),
            None
        );
        assert!(!When::Not(always.clone()).holds(now, &paris));
        assert_eq!(window_end(&When::Not(always), now, &paris), Some(now));
        let p = policy(
            json!([{"when": {"days": ALL_DAYS, "from": "00:00", "to": "00:00"}, "hold": true, "channels": ["work"]}]),
        );
        assert_eq!(
            due_at(&p.rules[0], now, &paris),
            at("2026-06-03T10:01[Europe/Paris]")
        );
        assert_eq!(window_end(&When::Always, now, &paris), None);
    }

    #[test]
    fn paris_spring_forward() {
        // 2026-03-29 (a Sunday): 02:00 CET jumps to 03:00 CEST at 01:00Z.
        let paris = tz("Europe/Paris");
        let to_0230 = When::Schedule(schedule(&["sat"], "22:00", "02:30"));
        let end = window_end(&to_0230, at("2026-03-28T23:00[Europe/Paris]"), &paris);
        assert_eq!(end, Some(utc("2026-03-29T01:00:00Z")));
        assert_eq!(end, Some(at("2026-03-29T03:00[Europe/Paris]")));
        assert!(to_0230.holds(utc("2026-03-29T00:59:59Z"), &paris));
        assert!(!to_0230.holds(utc("2026-03-29T01:00:00Z"), &paris));
        // A range starting in the gap starts at the jump.
        let from_0230 = schedule(&["sun"], "02:30", "04:00");
        assert!(!from_0230.contains(utc("2026-03-29T00:59:59Z"), &paris));
        assert!(from_0230.contains(utc("2026-03-29T01:00:00Z"), &paris));
        // A range inside the gap never holds that night; its complement runs
        // on to the next Sunday.
        let swallowed = schedule(&["sun"], "02:00", "02:30");
        assert!(!swallowed.contains(utc("2026-03-29T01:00:00Z"), &paris));
        assert_eq!(
            window_end(
                &When::Not(swallowed),
                at("2026-03-29T01:00[Europe/Paris]"),
                &paris
            ),
            Some(at("2026-04-05T02:00[Europe/Paris]"))
        );
        // The night hold ends at 06:00 summer time, a 7h night in 8h of clock.
        let p = story_5();
        let late = at("2026-03-28T23:10[Europe/Paris]");
        assert_eq!(
            due_at(&p.rules[1], late, &paris),
            utc("2026-03-29T04:00:00Z")
        );
        // A whole Sunday lasts 23 hours.
        let sunday = When::Schedule(schedule(&["sun"], "00:00", "00:00"));
        assert_eq!(
            window_end(&sunday, at("2026-03-29T12:00[Europe/Paris]"), &paris),
            Some(utc("2026-03-29T22:00:00Z"))
        );
        assert!(sunday.holds(utc("2026-03-28T23:00:00Z"), &paris));
        assert!(!sunday.holds(utc("2026-03-28T22:59:59Z"), &paris));
    }

    #[test]
    fn paris_fall_back() {
        // 2026-10-25 (a Sunday): 03:00 CEST goes back to 02:00 CET at 01:00Z,
        // so 02:00–03:00 happens twice.
        let paris = tz("Europe/Paris");
        let to_0230 = When::Schedule(schedule(&["sat"], "22:00", "02:30"));
        // It ends the first time the clock shows 02:30 (summer time)…
        assert_eq!(
            window_end(&to_0230, at("2026-10-24T23:00[Europe/Paris]"), &paris),
            Some(utc("2026-10-25T00:30:00Z"))
        );
        assert!(to_0230.holds(utc("2026-10-25T00:29:59Z"), &paris));
        assert!(!to_0230.holds(utc("2026-10-25T00:30:00Z"), &paris));
        // …and does not open again when 02:15 comes round a second time.
        assert!(!to_0230.holds(utc("2026-10-25T01:15:00Z"), &paris));
        // A range starting in the repeated hour starts the first time.
        let from_0230 = schedule(&["sun"], "02:30", "04:00");
        assert!(from_0230.contains(utc("2026-10-25T00:30:00Z"), &paris));
        assert!(from_0230.contains(utc("2026-10-25T02:59:59Z"), &paris));
        assert!(!from_0230.contains(utc("2026-10-25T03:00:00Z"), &paris));
        // The night hold ends at 06:00 winter time: a 9h wait from 23:10.
        let p = story_5();
        assert_eq!(
            due_at(&p.rules[1], at("2026-10-24T23:10[Europe/Paris]"), &paris),
            utc("2026-10-25T05:00:00Z")
        );
    }

    #[test]
    fn new_york_changes() {
        let ny = tz("America/New_York");
        let p = story_5();
        let due = |now: Timestamp| {
            let rule = rule_for(&p, Severity::Critical, false, now, &ny).expect("a rule");
            due_at(rule, now, &ny)
        };
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT.
        assert_eq!(
            due(at("2026-03-07T23:10[America/New_York]")),
            utc("2026-03-08T10:00:00Z")
        );
        // The morning after the change, 06:00 is 06:00 EDT.
        assert_eq!(
            due(at("2026-03-08T23:10[America/New_York]")),
            utc("2026-03-09T10:00:00Z")
        );
        // 2026-11-01: 02:00 EDT goes back to 01:00 EST.
        assert_eq!(
            due(at("2026-10-31T23:10[America/New_York]")),
            utc("2026-11-01T11:00:00Z")
        );
        assert_eq!(
            due(at("2026-11-01T23:10[America/New_York]")),
            utc("2026-11-02T11:00:00Z")
        );
        // The day rule at 05:30 EST is still night: held until 06:00 EST.
        assert_eq!(
            due(utc("2026-11-01T10:30:00Z")),
            utc("2026-11-01T11:00:00Z")
        );
        // A range starting in the repeated hour starts the first time (EDT).
        let s = schedule(&["sun"], "01:30", "05:00");
        assert!(!s.contains(utc("2026-11-01T05:29:59Z"), &ny));
        assert!(s.contains(utc("2026-11-01T05:30:00Z"), &ny));
        assert!(s.contains(utc("2026-11-01T09:59:59Z"), &ny));
        assert!(!s.contains(utc("2026-11-01T10:00:00Z"), &ny));
    }

    #[test]
    fn repeats() {
        let p = policy(json!([
            {"channels": ["work"], "repeat_every": "1h"},
            {"channels": ["work"]},
        ]));
        let sent = utc("2026-06-02T10:00:00Z");
        assert_eq!(
            next_repeat(&p.rules[0], sent),
            Some(utc("2026-06-02T11:00:00Z"))
        );
        assert_eq!(next_repeat(&p.rules[1], sent), None);
        assert_eq!(after(Timestamp::MAX, 1), Timestamp::MAX);
    }

    #[test]
    fn timezones() {
        assert!(parse_timezone("Europe/Paris").is_ok());
        assert_eq!(
            parse_timezone("Europe/Pari").expect_err("unknown"),
            "'Europe/Pari' is not a timezone; use an IANA name like Europe/Paris or America/New_York"
        );
    }
}
