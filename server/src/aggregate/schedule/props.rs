//! Property tests of the schedules: for any rules, instants and zones
//! (instants chosen near daylight-saving changes half of the time), nothing
//! panics, the rule chosen is the first that applies, a digest is never due
//! before now, and an alert inside a hold window waits exactly until the
//! window ends.

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use proptest::sample::Index;
use tellify_handlers::{Millis, Severity};

use super::*;
use crate::aggregate::policy::{Day, Policy, Rule, Schedule, When};

/// Zones with daylight saving in both hemispheres, one that shifts by half
/// an hour (Lord Howe), one whose clock skips midnight (Santiago), and UTC.
const ZONES: [&str; 5] = [
    "Europe/Paris",
    "America/New_York",
    "Australia/Lord_Howe",
    "America/Santiago",
    "UTC",
];

fn time() -> impl Strategy<Value = Time> {
    (0i8..24, 0i8..60).prop_map(|(h, m)| Time::constant(h, m, 0, 0))
}

fn schedule() -> impl Strategy<Value = Schedule> {
    (
        prop::sample::subsequence(Day::ALL.to_vec(), 1..=7),
        time(),
        time(),
    )
        .prop_map(|(days, from, to)| Schedule { days, from, to })
}

fn when() -> impl Strategy<Value = When> {
    prop_oneof![
        1 => Just(When::Always),
        3 => schedule().prop_map(When::Schedule),
        3 => schedule().prop_map(When::Not),
    ]
}

fn severity() -> impl Strategy<Value = Severity> {
    prop_oneof![
        Just(Severity::Info),
        Just(Severity::Warning),
        Just(Severity::Critical)
    ]
}

/// 1 ms to 30 days, or the longest a duration may be (ten years).
fn duration() -> impl Strategy<Value = Millis> {
    prop_oneof![
        4 => 1..=30 * 24 * 3_600_000i64,
        1 => Just(tellify_handlers::duration::MAX_DURATION),
    ]
}

fn rule() -> impl Strategy<Value = Rule> {
    (
        when(),
        severity(),
        duration(),
        any::<bool>(),
        prop::option::of(duration()),
        any::<bool>(),
    )
        .prop_map(
            |(when, min_severity, aggregate_for, hold, repeat_every, notify_resolved)| Rule {
                when,
                min_severity,
                channels: vec!["c".into()],
                aggregate_for,
                hold,
                repeat_every,
                notify_resolved,
            },
        )
}

/// A zone, and an instant in it: anywhere in 2024–2028, or within 36 hours
/// of one of the zone's clock changes in 2025–2027.
fn zone_and_instant() -> impl Strategy<Value = (TimeZone, Timestamp)> {
    (
        prop::sample::select(ZONES.to_vec()),
        any::<bool>(),
        any::<Index>(),
        -36 * 3600i64..36 * 3600,
        1_704_067_200i64..1_861_920_000,
    )
        .prop_map(|(name, near_change, which, offset, anywhere)| {
            let tz = TimeZone::get(name).expect("a zone of the system's database");
            let start: Timestamp = "2025-01-01T00:00:00Z".parse().expect("an instant");
            let changes: Vec<Timestamp> =
                tz.following(start).take(6).map(|t| t.timestamp()).collect();
            let t = if near_change && !changes.is_empty() {
                changes[which.index(changes.len())] + SignedDuration::from_secs(offset)
            } else {
                Timestamp::from_second(anywhere).expect("in range")
            };
            (tz, t)
        })
}

fn ms(t: Millis) -> SignedDuration {
    SignedDuration::from_millis(t)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_first_rule_that_applies_decides_and_nothing_is_due_before_now(
        rules in prop::collection::vec(rule(), 1..5),
        (tz, now) in zone_and_instant(),
        severity in severity(),
        resolved in any::<bool>(),
    ) {
        let policy = Policy {
            id: "p".into(),
            owner: "ann".into(),
            name: "p".into(),
            default: true,
            rules,
        };
        let first = policy
            .rules
            .iter()
            .position(|r| r.min_severity <= severity && r.when.holds(now, &tz));
        let chosen = rule_for(&policy, severity, resolved, now, &tz);
        let want = first.filter(|i| !resolved || policy.rules[*i].notify_resolved);
        prop_assert_eq!(
            chosen.map(std::ptr::from_ref),
            want.map(|i| std::ptr::from_ref(&policy.rules[i]))
        );
        for rule in &policy.rules {
            let due = due_at(rule, now, &tz);
            prop_assert!(due > now, "due {due} is not after now {now}");
            if let Some(end) = window_end(&rule.when, now, &tz) {
                prop_assert!(end >= now, "window end {end} before now {now}");
            }
            if let Some(next) = next_repeat(rule, now) {
                prop_assert!(next > now);
            }
        }
    }

    #[test]
    fn an_alert_inside_a_hold_window_is_held_until_the_window_ends(
        when in when(),
        aggregate_for in duration(),
        (tz, now) in zone_and_instant(),
    ) {
        let rule = Rule {
            when: when.clone(),
            min_severity: Severity::Info,
            channels: vec!["c".into()],
            aggregate_for,
            hold: true,
            repeat_every: None,
            notify_resolved: true,
        };
        let due = due_at(&rule, now, &tz);
        let aggregated = now + ms(aggregate_for);
        if !when.holds(now, &tz) {
            prop_assert_eq!(due, aggregated, "outside the window: just aggregated");
            return Ok(());
        }
        match window_end(&when, now, &tz) {
            Some(end) => {
                prop_assert_eq!(due, end, "held until the window ends");
                prop_assert!(end > now);
                // It holds all the way to the end, and no longer.
                let span = end.duration_since(now);
                for k in 0..8 {
                    let t = now + span / 8 * k;
                    prop_assert!(when.holds(t, &tz), "not holding at {t}, before the end {end}");
                }
                let last = end - SignedDuration::from_millis(1);
                prop_assert!(when.holds(last, &tz), "not holding at {last}, just before {end}");
                prop_assert!(!when.holds(end, &tz), "still holding at the end {end}");
            }
            None => {
                // A window that never ends: it holds at every moment of the
                // week to come, and nothing is held for ever.
                prop_assert_eq!(due, aggregated);
                for hours in (0..7 * 24).step_by(5) {
                    let t = now + SignedDuration::from_hours(hours);
                    prop_assert!(when.holds(t, &tz), "a never-ending window stops at {t}");
                }
            }
        }
    }
}
