//! Digests into the forms channels carry: an email (subject, plain text and
//! HTML), one SMS line, and the webhook's JSON document.
//!
//! The alerts of a digest are grouped by handler type, in the stable order of
//! [`tellify_handlers::handler_types`], and each type renders its own piece
//! (`alert_ascii`, `alert_html`, `alert_text`): the type knows best how its
//! alerts read. This module only frames the pieces: it counts, orders the
//! headline most severe first, and fits the subject and the SMS into their
//! lengths. Everything is a pure function of the [`Digest`], so a retried
//! digest renders the same.
//!
//! Escaping: the email bodies come from askama templates
//! (`templates/digest/email.{txt,html}`); the HTML one escapes every value
//! except the handler types' HTML fragments, which their renderer escaped.

use std::cmp::Reverse;

use askama::Template;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::{Value, json};
use tellify_handlers::{AlertStatus, AlertView, DigestItem, Millis, Severity};

use super::{Digest, Notice, Rendered};

/// Longest subject, in characters; the top alert's summary is cut to fit.
pub const MAX_SUBJECT_CHARS: usize = 120;
/// Longest SMS line, in characters (not bytes).
pub const MAX_SMS_CHARS: usize = 160;

/// Renders a digest in every form.
pub fn render(d: &Digest) -> Rendered {
    let sections = sections(&d.notices);
    let counts = Counts::of(&d.notices);
    let top = d.notices.iter().min_by_key(|n| rank(&n.alert));
    let subject = subject(&counts, top, d.notices.len());
    let kind = d.channel.kind.name();
    let base = d.dashboard_url.trim_end_matches('/');
    let email = Email {
        subject: &subject,
        headline: &counts.headline(),
        when: &when(d.created_at, &d.timezone),
        sections: &sections,
        dashboard_url: &d.dashboard_url,
        policies_url: &format!("{base}/policies"),
        channel_label: &d.channel.label,
        channel_kind: kind,
    };
    // Rendering into a String fails only if a value's Display fails, and
    // ours never do; a digest is still worth sending with its other parts.
    let text = EmailText { email: &email }
        .render()
        .unwrap_or_else(|e| format!("(the text of this digest could not be rendered: {e})"));
    let html = EmailHtml { email: &email }.render().unwrap_or_default();
    let sms = sms(&counts, &sections);
    let webhook = webhook(d, &counts, &subject);
    Rendered {
        subject,
        text,
        html,
        sms,
        webhook,
    }
}

/// What both email templates show.
struct Email<'a> {
    subject: &'a str,
    headline: &'a str,
    when: &'a str,
    sections: &'a [Section],
    dashboard_url: &'a str,
    policies_url: &'a str,
    channel_label: &'a str,
    channel_kind: &'a str,
}

#[derive(Template)]
#[template(path = "digest/email.txt")]
struct EmailText<'a> {
    email: &'a Email<'a>,
}

#[derive(Template)]
#[template(path = "digest/email.html")]
struct EmailHtml<'a> {
    email: &'a Email<'a>,
}

/// The alerts of one handler type, rendered by that type.
struct Section {
    title: String,
    count: usize,
    ascii: String,
    /// Escaped by the type's renderer.
    html: String,
    /// The type's one-line piece.
    text: String,
    /// Rank of its most important alert, to order the SMS pieces.
    top: Rank,
}

type Rank = (AlertStatus, Reverse<Severity>, Reverse<Millis>);

/// Firing before resolved before cleared, then most severe, then most recent:
/// the order the renderers of the handler types use too.
fn rank(a: &AlertView) -> Rank {
    (a.status, Reverse(a.severity), Reverse(a.last_seen))
}

/// One section per handler type present: the built-in types in their stable
/// order, then (should a type ever disappear while alerts of it wait) unknown
/// types by first appearance, rendered by the generic renderers.
fn sections(notices: &[Notice]) -> Vec<Section> {
    let mut names: Vec<&str> = tellify_handlers::handler_types()
        .iter()
        .map(|t| t.name())
        .collect();
    for n in notices {
        if !names.contains(&n.handler_type.as_str()) {
            names.push(&n.handler_type);
        }
    }
    names
        .into_iter()
        .filter_map(|name| {
            let items: Vec<DigestItem> = notices
                .iter()
                .filter(|n| n.handler_type == name)
                .map(|n| DigestItem {
                    instance_name: n.instance_name.clone(),
                    alert: n.alert.clone(),
                })
                .collect();
            let top = items.iter().map(|i| rank(&i.alert)).min()?;
            let (ascii, html, text) = match tellify_handlers::handler_type(name) {
                Some(t) => (
                    t.alert_ascii(&items),
                    t.alert_html(&items),
                    t.alert_text(&items),
                ),
                None => {
                    use tellify_handlers::render;
                    (
                        render::ascii(name, &items),
                        render::html(name, &items),
                        render::text(&items, render::summary_short),
                    )
                }
            };
            Some(Section {
                title: title(name),
                count: items.len(),
                ascii: ascii.trim_end().to_owned(),
                html,
                text,
                top,
            })
        })
        .collect()
}

/// `distinct_count` → `Distinct count`.
fn title(type_name: &str) -> String {
    let words = type_name.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => words,
    }
}

/// How many alerts of each kind a digest holds: firing ones by severity,
/// then resolved and cleared ones.
#[derive(Debug, Default, PartialEq)]
struct Counts {
    critical: usize,
    warning: usize,
    info: usize,
    resolved: usize,
    cleared: usize,
}

impl Counts {
    fn of(notices: &[Notice]) -> Counts {
        let mut c = Counts::default();
        for n in notices {
            let slot = match (n.alert.status, n.alert.severity) {
                (AlertStatus::Firing, Severity::Critical) => &mut c.critical,
                (AlertStatus::Firing, Severity::Warning) => &mut c.warning,
                (AlertStatus::Firing, Severity::Info) => &mut c.info,
                (AlertStatus::Resolved, _) => &mut c.resolved,
                (AlertStatus::Cleared, _) => &mut c.cleared,
            };
            *slot += 1;
        }
        c
    }

    /// `3 critical, 2 warning, 1 resolved`: most severe first, zeros left out.
    fn headline(&self) -> String {
        let parts: Vec<String> = [
            (self.critical, "critical"),
            (self.warning, "warning"),
            (self.info, "info"),
            (self.resolved, "resolved"),
            (self.cleared, "cleared"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        if parts.is_empty() {
            "no alerts".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

/// `3 critical, 2 warning: <top summary> and 4 more`, or `critical: <summary>`
/// for a single alert; at most [`MAX_SUBJECT_CHARS`].
fn subject(counts: &Counts, top: Option<&Notice>, total: usize) -> String {
    let Some(top) = top else {
        return "Tellify: no alerts".to_owned();
    };
    let (head, more) = if total == 1 {
        let head = match top.alert.status {
            AlertStatus::Firing => top.alert.severity.as_str(),
            status => status.as_str(),
        };
        (head.to_owned(), String::new())
    } else {
        (counts.headline(), format!(" and {} more", total - 1))
    };
    let what = if top.alert.summary.trim().is_empty() {
        &top.instance_name
    } else {
        &top.alert.summary
    };
    let room = MAX_SUBJECT_CHARS.saturating_sub(head.chars().count() + 2 + more.chars().count());
    format!("{head}: {}{more}", clip(what, room))
}

/// `<counts>: <piece>; <piece>…`, the pieces of the types most severe first,
/// cut to [`MAX_SMS_CHARS`].
fn sms(counts: &Counts, sections: &[Section]) -> String {
    let mut ordered: Vec<&Section> = sections.iter().collect();
    ordered.sort_by_key(|s| s.top);
    let pieces: Vec<&str> = ordered
        .iter()
        .map(|s| s.text.as_str())
        .filter(|t| !t.is_empty())
        .collect();
    clip(
        &format!("{}: {}", counts.headline(), pieces.join("; ")),
        MAX_SMS_CHARS,
    )
}

/// The webhook document; its shape is documented in the README.
fn webhook(d: &Digest, counts: &Counts, subject: &str) -> Value {
    let mut notices: Vec<&Notice> = d.notices.iter().collect();
    notices.sort_by_key(|n| rank(&n.alert));
    let alerts: Vec<Value> = notices
        .into_iter()
        .map(|n| {
            let a = &n.alert;
            json!({
                "id": n.alert_id,
                "handler_id": n.handler_id,
                "handler_type": n.handler_type,
                "instance": n.instance_name,
                "key": a.key,
                "status": a.status,
                "severity": a.severity,
                "summary": a.summary,
                "count": a.count,
                "first_seen": rfc3339(a.first_seen),
                "last_seen": rfc3339(a.last_seen),
                "fields": a.fields,
            })
        })
        .collect();
    json!({
        "digest_id": d.id,
        "user": d.owner,
        "channel": {
            "id": d.channel.id,
            "label": d.channel.label,
            "kind": d.channel.kind.name(),
        },
        "created_at": rfc3339(d.created_at),
        "counts": {
            "critical": counts.critical,
            "warning": counts.warning,
            "info": counts.info,
            "resolved": counts.resolved,
            "cleared": counts.cleared,
        },
        // The subject, under the name chat tools (Slack, Mattermost) show.
        "text": subject,
        "alerts": alerts,
        "dashboard_url": d.dashboard_url,
    })
}

/// RFC 3339 in UTC (`null` for a time out of range, which no clock makes).
fn rfc3339(ms: Millis) -> Value {
    Timestamp::from_millisecond(ms).map_or(Value::Null, |t| Value::from(t.to_string()))
}

/// When the digest was made, in the owner's timezone (UTC if it is unknown).
fn when(ms: Millis, timezone: &str) -> String {
    let tz = TimeZone::get(timezone).unwrap_or(TimeZone::UTC);
    let name = tz.iana_name().unwrap_or("UTC").to_owned();
    match Timestamp::from_millisecond(ms) {
        Ok(t) => format!(
            "Digest of {} ({name})",
            t.to_zoned(tz).strftime("%a %-d %b %Y, %H:%M")
        ),
        Err(_) => String::new(),
    }
}

/// One line (control characters become spaces), at most `max` characters,
/// ending in `…` when cut.
fn clip(s: &str, max: usize) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.trim();
    if clean.chars().count() <= max {
        return clean.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let mut cut: String = clean.chars().take(max - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::{Channel, ChannelKind};

    const T0: Millis = 1_715_068_800_000; // 2024-05-07T08:00:00Z, a Tuesday

    fn notice(
        handler_type: &str,
        instance: &str,
        status: AlertStatus,
        sev: Severity,
        summary: &str,
    ) -> Notice {
        Notice {
            alert_id: format!("a-{summary}"),
            handler_id: format!("h-{instance}"),
            handler_type: handler_type.to_owned(),
            instance_name: instance.to_owned(),
            alert: AlertView {
                key: summary.to_owned(),
                status,
                severity: sev,
                summary: summary.to_owned(),
                count: 1,
                first_seen: T0,
                last_seen: T0 + 60_000,
                fields: serde_json::Map::new(),
            },
        }
    }

    fn firing(sev: Severity, summary: &str) -> Notice {
        notice("threshold", "Disk space", AlertStatus::Firing, sev, summary)
    }

    fn resolved(summary: &str) -> Notice {
        notice(
            "threshold",
            "Disk space",
            AlertStatus::Resolved,
            Severity::Warning,
            summary,
        )
    }

    fn digest(notices: Vec<Notice>) -> Digest {
        Digest {
            id: "d1".to_owned(),
            owner: "ann".to_owned(),
            channel: Channel {
                id: "c1".to_owned(),
                owner: "ann".to_owned(),
                label: "work email".to_owned(),
                kind: ChannelKind::Email {
                    address: "ann@corp".to_owned(),
                },
            },
            notices,
            created_at: T0,
            timezone: "Europe/Paris".to_owned(),
            dashboard_url: "https://tellify.corp/".to_owned(),
        }
    }

    #[test]
    fn script_is_escaped_in_html_and_intact_in_text() {
        let evil = "<script>alert(1)</script>";
        let d = digest(vec![
            notice("match", evil, AlertStatus::Firing, Severity::Critical, evil),
            notice(
                "threshold",
                "disk",
                AlertStatus::Firing,
                Severity::Warning,
                "disk 91%",
            ),
        ]);
        let r = render(&d);
        assert!(!r.html.contains("<script>"), "{}", r.html);
        assert!(
            r.html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{}",
            r.html
        );
        assert!(
            r.html.contains("href=\"https://tellify.corp/\""),
            "{}",
            r.html
        );
        assert!(r.html.contains("work email"));
        assert!(r.text.contains(evil), "{}", r.text);
        assert!(
            r.text.contains("Dashboard: https://tellify.corp/"),
            "{}",
            r.text
        );
        assert!(r.text.contains("\"work email\" (email)"), "{}", r.text);
        assert!(
            r.text.contains("Tue 7 May 2024, 10:00 (Europe/Paris)"),
            "{}",
            r.text
        );
        // Types in their stable order: match before threshold.
        let m = r.text.find("== Match (1) ==").expect("match section");
        let t = r
            .text
            .find("== Threshold (1) ==")
            .expect("threshold section");
        assert!(m < t, "{}", r.text);
        assert!(r.sms.contains(evil), "{}", r.sms);
        assert_eq!(r.webhook["alerts"][0]["instance"], evil);
    }

    #[test]
    fn subject_counts_most_severe_first() {
        use AlertStatus::*;
        use Severity::*;
        let long = "x".repeat(200);
        let cases: Vec<(Vec<Notice>, &str)> = vec![
            (
                vec![firing(Critical, "disk /sarc/cad 97.5%")],
                "critical: disk /sarc/cad 97.5%",
            ),
            (vec![resolved("disk /a 80%")], "resolved: disk /a 80%"),
            (
                vec![
                    firing(Warning, "disk /a 91%"),
                    firing(Critical, "disk /sarc/cad 97.5%"),
                    firing(Warning, "disk /c 92%"),
                    firing(Critical, "disk /b 97.1%"),
                    firing(Critical, "disk /d 98%"),
                ],
                "3 critical, 2 warning: disk /sarc/cad 97.5% and 4 more",
            ),
            (
                vec![
                    resolved("disk /a 80%"),
                    firing(Critical, "disk /b 99%"),
                    resolved("disk /c 70%"),
                ],
                "1 critical, 2 resolved: disk /b 99% and 2 more",
            ),
            (
                vec![
                    notice("heartbeat", "alive", Firing, Info, "host up"),
                    notice("match", "build", Cleared, Critical, "build failed"),
                    firing(Warning, "disk /a 91%"),
                ],
                "1 warning, 1 info, 1 cleared: disk /a 91% and 2 more",
            ),
        ];
        for (notices, want) in cases {
            let r = render(&digest(notices));
            // Equal alerts (same status, severity and time): the first is the top one.
            assert_eq!(r.subject, want);
        }
        let r = render(&digest(vec![firing(Critical, &long), firing(Warning, "b")]));
        assert_eq!(
            r.subject.chars().count(),
            MAX_SUBJECT_CHARS,
            "{}",
            r.subject
        );
        assert!(
            r.subject.starts_with("1 critical, 1 warning: xxx"),
            "{}",
            r.subject
        );
        assert!(r.subject.ends_with("x… and 1 more"), "{}", r.subject);
    }

    #[test]
    fn sms_is_one_line_of_at_most_160_chars() {
        let long = "disque plein à 99,5 % sur /sarc/cad/échantillons/très/long/chemin — ".repeat(5);
        let mut notices = Vec::new();
        for i in 0..40 {
            let kind = ["match", "threshold", "rate", "heartbeat"][i % 4];
            let sev = Severity::ALL[i % 3];
            notices.push(notice(
                kind,
                &format!("Instance ünïcödé {i}\n"),
                AlertStatus::Firing,
                sev,
                &format!("{i} {long}"),
            ));
        }
        let r = render(&digest(notices));
        assert!(
            r.sms.chars().count() <= MAX_SMS_CHARS,
            "{}",
            r.sms.chars().count()
        );
        assert!(!r.sms.contains('\n'));
        assert!(
            r.sms.starts_with("13 critical, 13 warning, 14 info: "),
            "{}",
            r.sms
        );
        assert!(r.sms.ends_with('…'), "{}", r.sms);

        let one = render(&digest(vec![firing(
            Severity::Critical,
            "disk /sarc/cad 97.5%",
        )]));
        assert_eq!(one.sms, "1 critical: Disk space: disk /sarc/cad 97.5%");
    }

    #[test]
    fn sms_puts_the_most_severe_type_first() {
        let r = render(&digest(vec![
            notice(
                "match",
                "build",
                AlertStatus::Firing,
                Severity::Info,
                "build ok",
            ),
            notice(
                "heartbeat",
                "alive",
                AlertStatus::Firing,
                Severity::Critical,
                "host gone",
            ),
        ]));
        let gone = r.sms.find("host gone").expect("heartbeat piece");
        let ok = r.sms.find("build ok").expect("match piece");
        assert!(gone < ok, "{}", r.sms);
    }

    #[test]
    fn webhook_has_the_documented_shape() {
        let mut n = firing(Severity::Critical, "disk /b 99%");
        n.alert.fields.insert("pct".to_owned(), json!(99.0));
        let r = render(&digest(vec![resolved("disk /a 80%"), n]));
        assert_eq!(
            r.webhook,
            json!({
                "digest_id": "d1",
                "user": "ann",
                "channel": {"id": "c1", "label": "work email", "kind": "email"},
                "created_at": "2024-05-07T08:00:00Z",
                "counts": {"critical": 1, "warning": 0, "info": 0, "resolved": 1, "cleared": 0},
                "text": "1 critical, 1 resolved: disk /b 99% and 1 more",
                "alerts": [
                    {"id": "a-disk /b 99%", "handler_id": "h-Disk space", "handler_type": "threshold",
                     "instance": "Disk space", "key": "disk /b 99%", "status": "firing",
                     "severity": "critical", "summary": "disk /b 99%", "count": 1,
                     "first_seen": "2024-05-07T08:00:00Z", "last_seen": "2024-05-07T08:01:00Z",
                     "fields": {"pct": 99.0}},
                    {"id": "a-disk /a 80%", "handler_id": "h-Disk space", "handler_type": "threshold",
                     "instance": "Disk space", "key": "disk /a 80%", "status": "resolved",
                     "severity": "warning", "summary": "disk /a 80%", "count": 1,
                     "first_seen": "2024-05-07T08:00:00Z", "last_seen": "2024-05-07T08:01:00Z",
                     "fields": {}},
                ],
                "dashboard_url": "https://tellify.corp/",
            })
        );
    }

    #[test]
    fn clip_counts_chars_not_bytes() {
        assert_eq!(clip("héllo wörld", 20), "héllo wörld");
        assert_eq!(clip("héllo wörld", 6), "héllo…");
        assert_eq!(clip("a\nb", 5), "a b");
        assert_eq!(clip("abc", 0), "");
    }
}
