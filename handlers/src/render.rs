//! Digest renderers shared by the handler types.
//!
//! A digest gangs many alerts; each handler type renders its own piece in
//! three ways. The shape is the same for every type: alerts grouped by
//! handler instance (in the order given), firing before resolved before
//! cleared, most severe and then most recent first. Types choose how one
//! alert reads in the SMS line (`short`).
//!
//! * plain text: one line per alert, columns aligned for fixed-width fonts;
//! * HTML: a small table per instance, from an askama template (so every
//!   value is escaped), with inline styles since mail clients drop `<style>`;
//! * one line: the most important alert and how many others, at most
//!   [`MAX_TEXT_CHARS`] characters.

use std::cmp::Reverse;

use askama::Template as _;

use crate::{AlertStatus, AlertView, DigestItem, Severity};

/// Longest one-line text (one SMS).
pub const MAX_TEXT_CHARS: usize = 160;
/// Longest summary in the plain text and HTML pieces.
const MAX_SUMMARY_CHARS: usize = 300;

#[derive(askama::Template)]
#[template(path = "alerts.html")]
struct AlertsHtml<'a> {
    type_name: &'a str,
    groups: Vec<HtmlGroup<'a>>,
}

struct HtmlGroup<'a> {
    name: &'a str,
    rows: Vec<HtmlRow>,
}

struct HtmlRow {
    status: &'static str,
    severity: &'static str,
    summary: String,
    count: u64,
    color: &'static str,
}

/// Order of alerts within a piece: firing first, then most severe, then most recent.
fn rank(a: &AlertView) -> (AlertStatus, Reverse<Severity>, Reverse<i64>) {
    (a.status, Reverse(a.severity), Reverse(a.last_seen))
}

/// Items grouped by instance name (groups in order of first appearance), each group ranked.
fn grouped(items: &[DigestItem]) -> Vec<(&str, Vec<&AlertView>)> {
    let mut groups: Vec<(&str, Vec<&AlertView>)> = Vec::new();
    for item in items {
        match groups
            .iter_mut()
            .find(|(name, _)| *name == item.instance_name)
        {
            Some((_, alerts)) => alerts.push(&item.alert),
            None => groups.push((&item.instance_name, vec![&item.alert])),
        }
    }
    for (_, alerts) in &mut groups {
        alerts.sort_by_key(|a| rank(a));
    }
    groups
}

/// One line, no control characters, at most `max` characters (with `…` when cut).
pub(crate) fn one_line(s: &str, max: usize) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.trim();
    if clean.chars().count() <= max {
        clean.to_owned()
    } else {
        let mut cut: String = clean.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// The plain text piece.
pub fn ascii(type_name: &str, items: &[DigestItem]) -> String {
    let mut out = String::new();
    for (name, alerts) in grouped(items) {
        out.push_str(&format!("{} [{type_name}]\n", one_line(name, 100)));
        for a in alerts {
            let status = a.status.as_str().to_uppercase();
            let summary = one_line(&a.summary, MAX_SUMMARY_CHARS);
            let line = format!("  {status:<9} {:<9} {summary}", a.severity.as_str());
            out.push_str(line.trim_end());
            if a.count > 1 {
                out.push_str(&format!("  ({} times)", a.count));
            }
            out.push('\n');
        }
    }
    out
}

/// The HTML piece.
pub fn html(type_name: &str, items: &[DigestItem]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let groups = grouped(items)
        .into_iter()
        .map(|(name, alerts)| HtmlGroup {
            name,
            rows: alerts
                .into_iter()
                .map(|a| HtmlRow {
                    status: a.status.as_str(),
                    severity: a.severity.as_str(),
                    summary: one_line(&a.summary, MAX_SUMMARY_CHARS),
                    count: a.count,
                    color: color(a),
                })
                .collect(),
        })
        .collect();
    let page = AlertsHtml { type_name, groups };
    // Rendering into a String only fails if a value's Display fails, which
    // ours never do; an empty piece beats a broken digest if it ever did.
    page.render().unwrap_or_default()
}

fn color(a: &AlertView) -> &'static str {
    match (a.status, a.severity) {
        (AlertStatus::Firing, Severity::Critical) => "#b00020",
        (AlertStatus::Firing, Severity::Warning) => "#b36b00",
        (AlertStatus::Firing, Severity::Info) => "#1f5fa8",
        (AlertStatus::Resolved, _) => "#2e7d32",
        (AlertStatus::Cleared, _) => "#666666",
    }
}

/// The one-line piece: `instance: <short of the top alert>, +N`; `short`
/// says how one alert reads, status included.
pub fn text(items: &[DigestItem], short: fn(&AlertView) -> String) -> String {
    let Some(top) = items.iter().min_by_key(|i| rank(&i.alert)) else {
        return String::new();
    };
    let what = short(&top.alert);
    let more = match items.len() - 1 {
        0 => String::new(),
        n => format!(", +{n}"),
    };
    let name = one_line(&top.instance_name, 30);
    let room = MAX_TEXT_CHARS.saturating_sub(name.chars().count() + 2 + more.chars().count());
    format!("{name}: {}{more}", one_line(&what, room))
}

/// The default short form of an alert: its summary, and its status unless firing.
pub fn summary_short(a: &AlertView) -> String {
    match a.status {
        AlertStatus::Firing => a.summary.clone(),
        status => format!("{} ({status})", a.summary),
    }
}

#[cfg(test)]
mod tests;
