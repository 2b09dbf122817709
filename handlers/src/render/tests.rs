use serde_json::Map;

use super::*;
use crate::handler_type;

fn item(
    instance: &str,
    key: &str,
    status: AlertStatus,
    severity: Severity,
    summary: &str,
    count: u64,
    last_seen: i64,
) -> DigestItem {
    DigestItem {
        instance_name: instance.to_owned(),
        alert: AlertView {
            key: key.to_owned(),
            status,
            severity,
            summary: summary.to_owned(),
            count,
            first_seen: 0,
            last_seen,
            fields: Map::new(),
        },
    }
}

fn digest() -> Vec<DigestItem> {
    vec![
        item(
            "Disk",
            "a",
            AlertStatus::Resolved,
            Severity::Warning,
            "cad02:/home pct 80 (warning ≥ 90)",
            2,
            10,
        ),
        item(
            "Disk",
            "b",
            AlertStatus::Firing,
            Severity::Warning,
            "cad01:/x pct 91 (warning ≥ 90)",
            1,
            20,
        ),
        item(
            "Builds",
            "c",
            AlertStatus::Firing,
            Severity::Info,
            "blk001 failed place",
            1,
            30,
        ),
        item(
            "Disk",
            "d",
            AlertStatus::Firing,
            Severity::Critical,
            "cad01:/sarc/fs02 pct 97.5 (critical ≥ 97)",
            3,
            5,
        ),
    ]
}

#[test]
fn ascii_groups_by_instance_and_ranks_alerts() {
    let text = ascii("threshold", &digest());
    let expected = "\
Disk [threshold]
  FIRING    critical  cad01:/sarc/fs02 pct 97.5 (critical ≥ 97)  (3 times)
  FIRING    warning   cad01:/x pct 91 (warning ≥ 90)
  RESOLVED  warning   cad02:/home pct 80 (warning ≥ 90)  (2 times)
Builds [threshold]
  FIRING    info      blk001 failed place
";
    assert_eq!(text, expected);
    assert_eq!(ascii("threshold", &[]), "");
}

#[test]
fn ascii_keeps_one_line_per_alert() {
    let items = [item(
        "I\nJ",
        "k",
        AlertStatus::Firing,
        Severity::Info,
        "line one\nline two\r\t",
        1,
        0,
    )];
    assert_eq!(
        ascii("match", &items),
        "I J [match]\n  FIRING    info      line one line two\n"
    );
}

#[test]
fn html_escapes_everything_users_wrote() {
    let items = [
        item(
            "<b>mine</b>",
            "k",
            AlertStatus::Firing,
            Severity::Critical,
            "<script>alert('x')</script> & \"q\"",
            4,
            0,
        ),
        item(
            "<b>mine</b>",
            "j",
            AlertStatus::Cleared,
            Severity::Info,
            "plain",
            1,
            0,
        ),
    ];
    let html = html("match", &items);
    assert!(!html.contains("<script>"), "{html}");
    assert!(!html.contains("<b>"), "{html}");
    assert!(
        html.contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62; &#38; &#34;q&#34;"),
        "{html}"
    );
    assert!(html.contains("&#60;b&#62;mine&#60;/b&#62;"), "{html}");
    assert!(html.contains("×4"), "{html}");
    assert_eq!(html.matches("<tr").count(), 2);
    assert!(html.find("firing").expect("firing row") < html.find("cleared").expect("cleared row"));
    assert_eq!(super::html("match", &[]), "");
}

#[test]
fn text_is_the_top_alert_and_a_count() {
    let text = text(&digest(), summary_short);
    assert_eq!(text, "Disk: cad01:/sarc/fs02 pct 97.5 (critical ≥ 97), +3");
    let single = [item(
        "Builds",
        "c",
        AlertStatus::Resolved,
        Severity::Info,
        "blk001 failed place",
        1,
        0,
    )];
    assert_eq!(
        super::text(&single, summary_short),
        "Builds: blk001 failed place (resolved)"
    );
    assert_eq!(super::text(&[], summary_short), "");
}

#[test]
fn text_fits_one_sms() {
    let long = "x".repeat(500);
    let items = vec![
        item(
            &"n".repeat(80),
            "k",
            AlertStatus::Firing,
            Severity::Info,
            &long,
            1,
            0
        );
        12
    ];
    let text = text(&items, summary_short);
    assert_eq!(text.chars().count(), MAX_TEXT_CHARS);
    assert!(text.ends_with("…, +11"), "{text}");
}

#[test]
fn every_type_renders_the_three_ways() {
    let items = digest();
    for name in ["match", "threshold", "distinct_count", "rate", "heartbeat"] {
        let t = handler_type(name).expect("type");
        assert!(
            t.alert_ascii(&items)
                .starts_with(&format!("Disk [{name}]\n"))
        );
        assert!(
            t.alert_html(&items)
                .contains(&format!("data-type=\"{name}\""))
        );
        assert!(t.alert_text(&items).starts_with("Disk: cad01:/sarc/fs02"));
    }
}
