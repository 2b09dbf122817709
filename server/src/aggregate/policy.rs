//! Channels and notification policies as domain types, parsed at the edge.
//!
//! [`parse_channel`] and [`parse_policy`] turn an API body into these types
//! and report *every* problem with its JSON pointer, so that a user fixes a
//! policy in one round trip. Past them nothing is re-checked: a [`Rule`]
//! always has a channel, a [`Schedule`] at least one day, a duration is never
//! zero.
//!
//! The stored form is the API form: durations are strings (`"1m"`, written
//! back by `format_duration`, so `"90s"` reads back as `"1m30s"`), times are
//! `"HH:MM"`, days are `"mon"`…`"sun"`, `when` is `"always"`, a schedule or
//! `{"not": schedule}`. Only the id differs (`_id` in MongoDB, `id` in the
//! API, see [`policy_json`]). Deserializing trusts stored documents (they were
//! parsed on the way in) and so uses plain serde, not the parsers.
//!
//! Leniency, on purpose: day names are case-insensitive and may be written in
//! full (`"Monday"`); duplicate days and channels are dropped; unknown fields
//! at the top of a body are ignored (a body fetched with GET, with its `id`,
//! can be sent back with PUT). Unknown fields *inside* a rule or a `when` are
//! errors, because a typo there (`"notify_resolve": false`) would silently
//! change when someone is woken up.

use jiff::civil::{Time, Weekday};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value, json};
use tellify_handlers::{Millis, Severity, parse_duration};

use crate::error::Problem;

/// The longest label of a channel and name of a policy, in characters.
const MAX_NAME: usize = 100;
/// The most rules a policy may have.
pub const MAX_RULES: usize = 20;
/// `aggregate_for` when a rule does not say.
pub const DEFAULT_AGGREGATE_FOR: Millis = 60_000;

/// Where a user hears of their alerts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Channel {
    #[serde(rename = "_id")]
    pub id: String,
    pub owner: String,
    /// What the user calls it ("work email").
    pub label: String,
    #[serde(flatten)]
    pub kind: ChannelKind,
}

/// How a channel is reached. The address, number and URL are already checked
/// and normalised (an SMS number is `+` and digits only).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ChannelKind {
    Email { address: String },
    Sms { number: String },
    Webhook { url: String },
}

impl ChannelKind {
    /// `email`, `sms` or `webhook`, as in JSON.
    pub fn name(&self) -> &'static str {
        match self {
            ChannelKind::Email { .. } => "email",
            ChannelKind::Sms { .. } => "sms",
            ChannelKind::Webhook { .. } => "webhook",
        }
    }

    /// The address, number or URL a digest goes to.
    pub fn target(&self) -> &str {
        match self {
            ChannelKind::Email { address } => address,
            ChannelKind::Sms { number } => number,
            ChannelKind::Webhook { url } => url,
        }
    }
}

/// A named, ordered list of rules; the first rule that applies decides.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Policy {
    #[serde(rename = "_id")]
    pub id: String,
    pub owner: String,
    pub name: String,
    /// Used by the owner's handler instances that name no policy.
    pub default: bool,
    /// At least one, at most [`MAX_RULES`].
    pub rules: Vec<Rule>,
}

impl Policy {
    /// Whether any rule sends to channel `id`.
    pub fn uses_channel(&self, id: &str) -> bool {
        self.rules
            .iter()
            .any(|r| r.channels.iter().any(|c| c == id))
    }
}

/// One rule of a policy: when it applies, from which severity, where to, and
/// how long to collect alerts before sending.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Rule {
    #[serde(default)]
    pub when: When,
    #[serde(default = "least_severe")]
    pub min_severity: Severity,
    /// Channel ids of the owner, at least one, no duplicates.
    pub channels: Vec<String>,
    #[serde(with = "duration_text", default = "default_aggregate_for")]
    pub aggregate_for: Millis,
    /// Alerts that arise while `when` holds are held until it stops holding.
    #[serde(default)]
    pub hold: bool,
    #[serde(
        with = "optional_duration_text",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub repeat_every: Option<Millis>,
    #[serde(default = "yes")]
    pub notify_resolved: bool,
}

fn least_severe() -> Severity {
    Severity::Info
}

fn default_aggregate_for() -> Millis {
    DEFAULT_AGGREGATE_FOR
}

fn yes() -> bool {
    true
}

/// When a rule applies, in the owner's timezone.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum When {
    #[default]
    Always,
    Schedule(Schedule),
    /// Whenever the schedule does not hold.
    Not(Schedule),
}

/// A weekly schedule: on each listed day, a range that starts at `from` and
/// ends at the next `to` on the clock. `09:00`–`18:00` is the same day,
/// `22:00`–`06:00` ends the next morning, and `from == to` lasts a whole day
/// (`00:00`–`00:00` is the calendar day).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Schedule {
    /// At least one, Monday first, no duplicates.
    pub days: Vec<Day>,
    #[serde(with = "hhmm")]
    pub from: Time,
    #[serde(with = "hhmm")]
    pub to: Time,
}

/// A day of the week, written `mon` … `sun`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    pub const ALL: [Day; 7] = [
        Day::Mon,
        Day::Tue,
        Day::Wed,
        Day::Thu,
        Day::Fri,
        Day::Sat,
        Day::Sun,
    ];

    pub fn weekday(self) -> Weekday {
        match self {
            Day::Mon => Weekday::Monday,
            Day::Tue => Weekday::Tuesday,
            Day::Wed => Weekday::Wednesday,
            Day::Thu => Weekday::Thursday,
            Day::Fri => Weekday::Friday,
            Day::Sat => Weekday::Saturday,
            Day::Sun => Weekday::Sunday,
        }
    }

    /// `mon`, `Mon`, `monday`, `Monday`, …
    fn parse(s: &str) -> Option<Day> {
        const NAMES: [&str; 7] = [
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
        ];
        let s = s.to_ascii_lowercase();
        NAMES
            .iter()
            .position(|full| s == *full || s == full[..3])
            .map(|i| Day::ALL[i])
    }
}

impl Serialize for When {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            When::Always => s.serialize_str("always"),
            When::Schedule(schedule) => schedule.serialize(s),
            When::Not(schedule) => NotRef { not: schedule }.serialize(s),
        }
    }
}

#[derive(Serialize)]
struct NotRef<'a> {
    not: &'a Schedule,
}

impl<'de> Deserialize<'de> for When {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// The three stored shapes; `Not` comes before `Schedule` so that
        /// `{"not": …}` is not mistaken for a schedule.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Word(String),
            Not { not: Schedule },
            Schedule(Schedule),
        }
        match Repr::deserialize(d)? {
            Repr::Word(w) if w == "always" => Ok(When::Always),
            Repr::Word(w) => Err(serde::de::Error::custom(format!("'{w}' is not a when"))),
            Repr::Not { not } => Ok(When::Not(not)),
            Repr::Schedule(s) => Ok(When::Schedule(s)),
        }
    }
}

/// Times of day as `HH:MM`.
mod hhmm {
    use jiff::civil::Time;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Time, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_time(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Time, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_time(&s).map_err(serde::de::Error::custom)
    }
}

/// Durations as the API writes them (`1m30s`).
mod duration_text {
    use serde::{Deserialize, Deserializer, Serializer};
    use tellify_handlers::{Millis, format_duration, parse_duration};

    pub fn serialize<S: Serializer>(ms: &Millis, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration(*ms))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Millis, D::Error> {
        let s = String::deserialize(d)?;
        parse_duration(&s).map_err(serde::de::Error::custom)
    }
}

mod optional_duration_text {
    use serde::{Deserialize, Deserializer, Serializer};
    use tellify_handlers::{Millis, format_duration, parse_duration};

    pub fn serialize<S: Serializer>(ms: &Option<Millis>, s: S) -> Result<S::Ok, S::Error> {
        match ms {
            Some(ms) => s.serialize_str(&format_duration(*ms)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Millis>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| parse_duration(&s).map_err(serde::de::Error::custom))
            .transpose()
    }
}

fn format_time(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// `HH:MM` (or `H:MM`), 00:00 to 23:59.
fn parse_time(s: &str) -> Result<Time, String> {
    let bad = || format!("'{s}' is not a time (HH:MM)");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    let digits = |p: &str, max_len| {
        !p.is_empty() && p.len() <= max_len && p.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(h, 2) || !digits(m, 2) || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (i8, i8) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h == 24 && m == 0 {
        return Err(format!(
            "'{s}' is not a time (HH:MM); for the end of the day write 00:00"
        ));
    }
    Time::new(h, m, 0, 0).map_err(|_| bad())
}

/// The policy as the API shows it: the stored form with `id` for `_id`.
pub fn policy_json(p: &Policy) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "default": p.default,
        "rules": p.rules,
    })
}

/// Check a channel body (`{"kind":"email","label":"work","address":"ann@corp"}`,
/// `sms` with `number`, `webhook` with `url`) into its label and kind.
pub fn parse_channel(body: &Value) -> Result<(String, ChannelKind), Vec<Problem>> {
    let mut p = Problems::default();
    let Some(obj) = body.as_object() else {
        return Err(vec![Problem::at_pointer(
            "",
            "a channel is a JSON object with kind, label and an address, number or url",
        )]);
    };
    let label = p.name(obj, "", "label");
    let kind = match obj.get("kind") {
        None => p.missing("/kind", "use email, sms or webhook"),
        Some(Value::String(k)) => match k.as_str() {
            "email" => p
                .string(obj, "", "address")
                .and_then(|a| p.check("/address", email_address(a)))
                .map(|address| ChannelKind::Email { address }),
            "sms" => p
                .string(obj, "", "number")
                .and_then(|n| p.check("/number", sms_number(n)))
                .map(|number| ChannelKind::Sms { number }),
            "webhook" => p
                .string(obj, "", "url")
                .and_then(|u| p.check("/url", webhook_url(u)))
                .map(|url| ChannelKind::Webhook { url }),
            other => p.push(
                "/kind",
                format!("'{other}' is not a channel kind; use email, sms or webhook"),
            ),
        },
        Some(_) => p.push("/kind", "must be a string: email, sms or webhook"),
    };
    match (label, kind) {
        (Some(label), Some(kind)) if p.0.is_empty() => Ok((label, kind)),
        _ => Err(p.0),
    }
}

/// A plausible address that the SMTP client will also accept: one `@`, no
/// spaces, no list or header characters. A domain without a dot is fine
/// (`ann@corp` on an intranet).
fn email_address(s: &str) -> Result<String, String> {
    let s = s.trim();
    let bad = |why: &str| Err(format!("'{s}' is not an email address: {why}"));
    let Some((user, domain)) = s.split_once('@') else {
        return bad("it has no @");
    };
    if user.is_empty() || domain.is_empty() || domain.contains('@') {
        return bad("write it like ann@example.com");
    }
    if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("no spaces, at most 254 characters");
    }
    if s.parse::<lettre::Address>().is_err() {
        return bad("write it like ann@example.com");
    }
    Ok(s.to_owned())
}

/// E.164-ish: `+`, then 6 to 15 digits; spaces and dashes are dropped.
fn sms_number(s: &str) -> Result<String, String> {
    let number: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let digits = number.strip_prefix('+').unwrap_or("");
    if (6..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(number)
    } else {
        Err(format!(
            "'{s}' is not a phone number; write it in international form, like +33 6 12 34 56 78"
        ))
    }
}

/// An absolute `http` or `https` URL with a host.
fn webhook_url(s: &str) -> Result<String, String> {
    let s = s.trim();
    let bad = || format!("'{s}' is not a URL; write it like https://chat.example.com/hooks/123");
    if s.len() > 2048 {
        return Err("a URL has at most 2048 characters".to_owned());
    }
    let uri: axum::http::Uri = s.parse().map_err(|_| bad())?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(format!("'{s}' is not an http or https URL"));
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(bad());
    }
    Ok(s.to_owned())
}

/// Check a policy body into its name, whether it is the default, and its
/// rules. `owned_channel_ids` are the caller's channels: any other id
/// (unknown or someone else's) gets the same "no channel" problem.
pub fn parse_policy(
    body: &Value,
    owned_channel_ids: &[String],
) -> Result<(String, bool, Vec<Rule>), Vec<Problem>> {
    let mut p = Problems::default();
    let Some(obj) = body.as_object() else {
        return Err(vec![Problem::at_pointer(
            "",
            "a policy is a JSON object with name, default and rules",
        )]);
    };
    let name = p.name(obj, "", "name");
    let default = p.boolean(obj, "", "default", false);
    let rules = match obj.get("rules") {
        None => p.missing("/rules", "a policy needs at least one rule"),
        Some(Value::Array(rules)) if rules.is_empty() => {
            p.push("/rules", "a policy needs at least one rule")
        }
        Some(Value::Array(rules)) if rules.len() > MAX_RULES => p.push(
            "/rules",
            format!(
                "a policy has at most {MAX_RULES} rules, not {}",
                rules.len()
            ),
        ),
        Some(Value::Array(rules)) => Some(
            rules
                .iter()
                .enumerate()
                .filter_map(|(i, r)| p.rule(r, &format!("/rules/{i}"), owned_channel_ids))
                .collect::<Vec<_>>(),
        ),
        Some(_) => p.push("/rules", "must be a list of rules"),
    };
    match (name, default, rules) {
        (Some(name), Some(default), Some(rules)) if p.0.is_empty() => Ok((name, default, rules)),
        _ => Err(p.0),
    }
}

const RULE_FIELDS: [&str; 7] = [
    "when",
    "min_severity",
    "channels",
    "aggregate_for",
    "hold",
    "repeat_every",
    "notify_resolved",
];

/// Problems found so far. Each check returns `None` after recording its
/// problem, so parsing goes on and reports everything at once.
#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn push<T>(&mut self, pointer: &str, message: impl Into<String>) -> Option<T> {
        self.0.push(Problem::at_pointer(pointer, message));
        None
    }

    fn missing<T>(&mut self, pointer: &str, hint: &str) -> Option<T> {
        self.push(pointer, format!("missing; {hint}"))
    }

    fn check<T>(&mut self, pointer: &str, r: Result<T, String>) -> Option<T> {
        r.map_err(|m| self.0.push(Problem::at_pointer(pointer, m)))
            .ok()
    }

    /// A required string field.
    fn string<'v>(&mut self, obj: &'v Map<String, Value>, at: &str, key: &str) -> Option<&'v str> {
        let pointer = format!("{at}/{key}");
        match obj.get(key) {
            Some(Value::String(s)) => Some(s),
            None => self.missing(&pointer, "it is required"),
            Some(_) => self.push(&pointer, "must be a string"),
        }
    }

    /// A label or name: 1 to [`MAX_NAME`] characters once trimmed.
    fn name(&mut self, obj: &Map<String, Value>, at: &str, key: &str) -> Option<String> {
        let s = self.string(obj, at, key)?.trim();
        if s.is_empty() || s.chars().count() > MAX_NAME {
            return self.push(
                &format!("{at}/{key}"),
                format!("must have 1 to {MAX_NAME} characters"),
            );
        }
        Some(s.to_owned())
    }

    fn boolean(
        &mut self,
        obj: &Map<String, Value>,
        at: &str,
        key: &str,
        default: bool,
    ) -> Option<bool> {
        match obj.get(key) {
            None | Some(Value::Null) => Some(default),
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => self.push(&format!("{at}/{key}"), "must be true or false"),
        }
    }

    fn duration(&mut self, v: &Value, pointer: &str) -> Option<Millis> {
        match v {
            Value::String(s) => self.check(pointer, parse_duration(s)),
            _ => self.push(pointer, "a duration is a string like 90s, 5m or 1h"),
        }
    }

    fn unknown_fields(&mut self, obj: &Map<String, Value>, at: &str, known: &[&str], has: &str) {
        for key in obj.keys().filter(|k| !known.contains(&k.as_str())) {
            self.push::<()>(
                &format!("{at}/{}", escape_pointer(key)),
                format!("unknown field '{key}'; {has}"),
            );
        }
    }

    fn rule(&mut self, v: &Value, at: &str, owned: &[String]) -> Option<Rule> {
        let Some(obj) = v.as_object() else {
            return self.push(
                at,
                "a rule is an object with when, min_severity, channels, …",
            );
        };
        self.unknown_fields(
            obj,
            at,
            &RULE_FIELDS,
            "a rule has when, min_severity, channels, aggregate_for, hold, repeat_every and notify_resolved",
        );
        let when = match obj.get("when") {
            None | Some(Value::Null) => Some(When::Always),
            Some(w) => self.when(w, &format!("{at}/when")),
        };
        let min_severity = match obj.get("min_severity") {
            None | Some(Value::Null) => Some(Severity::Info),
            Some(v) => match v.as_str().and_then(severity) {
                Some(s) => Some(s),
                None => self.push(
                    &format!("{at}/min_severity"),
                    format!(
                        "{} is not a severity; use info, warning or critical",
                        shown(v)
                    ),
                ),
            },
        };
        let channels = self.channels(obj.get("channels"), &format!("{at}/channels"), owned);
        let aggregate_for = match obj.get("aggregate_for") {
            None | Some(Value::Null) => Some(DEFAULT_AGGREGATE_FOR),
            Some(v) => self.duration(v, &format!("{at}/aggregate_for")),
        };
        let repeat_every = match obj.get("repeat_every") {
            None | Some(Value::Null) => Some(None),
            Some(v) => self.duration(v, &format!("{at}/repeat_every")).map(Some),
        };
        let hold = self.boolean(obj, at, "hold", false);
        let notify_resolved = self.boolean(obj, at, "notify_resolved", true);
        if hold == Some(true) && when == Some(When::Always) {
            return self.push(
                &format!("{at}/hold"),
                "hold needs a schedule to end: with \"when\": \"always\" nothing would ever be sent",
            );
        }
        Some(Rule {
            when: when?,
            min_severity: min_severity?,
            channels: channels?,
            aggregate_for: aggregate_for?,
            hold: hold?,
            repeat_every: repeat_every?,
            notify_resolved: notify_resolved?,
        })
    }

    fn channels(&mut self, v: Option<&Value>, at: &str, owned: &[String]) -> Option<Vec<String>> {
        let list = match v {
            None => return self.missing(at, "list at least one channel id"),
            Some(Value::Array(list)) if list.is_empty() => {
                return self.push(at, "list at least one channel id");
            }
            Some(Value::Array(list)) => list,
            Some(_) => return self.push(at, "must be a list of channel ids"),
        };
        let mut ids: Vec<String> = Vec::new();
        let mut ok = true;
        for (i, id) in list.iter().enumerate() {
            match id.as_str() {
                Some(id) if owned.iter().any(|o| o == id) => {
                    if !ids.iter().any(|known| known == id) {
                        ids.push(id.to_owned());
                    }
                }
                Some(id) => {
                    ok = false;
                    self.push::<()>(&format!("{at}/{i}"), format!("no channel with id '{id}'"));
                }
                None => {
                    ok = false;
                    self.push::<()>(&format!("{at}/{i}"), "a channel id is a string");
                }
            }
        }
        ok.then_some(ids)
    }

    fn when(&mut self, v: &Value, at: &str) -> Option<When> {
        const HINT: &str =
            "use \"always\", a schedule {\"days\", \"from\", \"to\"} or {\"not\": schedule}";
        match v {
            Value::String(s) if s == "always" => Some(When::Always),
            Value::Object(obj) if obj.contains_key("not") => {
                self.unknown_fields(obj, at, &["not"], "{\"not\": …} holds only a schedule");
                let inner = self.schedule(&obj["not"], &format!("{at}/not"));
                (obj.len() == 1).then_some(When::Not(inner?))
            }
            Value::Object(_) => self.schedule(v, at).map(When::Schedule),
            other => self.push(at, format!("{} is not a when; {HINT}", shown(other))),
        }
    }

    fn schedule(&mut self, v: &Value, at: &str) -> Option<Schedule> {
        let Some(obj) = v.as_object() else {
            return self.push(at, "a schedule is an object with days, from and to");
        };
        self.unknown_fields(
            obj,
            at,
            &["days", "from", "to"],
            "a schedule has days, from and to",
        );
        let days = self.days(obj.get("days"), &format!("{at}/days"));
        let mut time = |key: &str| {
            let pointer = format!("{at}/{key}");
            match obj.get(key) {
                None => self.missing(&pointer, "write a time like 09:00"),
                Some(Value::String(s)) => self.check(&pointer, parse_time(s)),
                Some(other) => {
                    self.push(&pointer, format!("{} is not a time (HH:MM)", shown(other)))
                }
            }
        };
        let (from, to) = (time("from"), time("to"));
        let known = obj
            .keys()
            .all(|k| ["days", "from", "to"].contains(&k.as_str()));
        known.then_some(Schedule {
            days: days?,
            from: from?,
            to: to?,
        })
    }

    fn days(&mut self, v: Option<&Value>, at: &str) -> Option<Vec<Day>> {
        let list = match v {
            None => return self.missing(at, "list the days, like [\"mon\", \"tue\"]"),
            Some(Value::Array(list)) if list.is_empty() => {
                return self.push(at, "list at least one day");
            }
            Some(Value::Array(list)) => list,
            Some(_) => return self.push(at, "must be a list of days, like [\"mon\", \"tue\"]"),
        };
        let mut days = Vec::new();
        let mut ok = true;
        for (i, d) in list.iter().enumerate() {
            match d.as_str().and_then(Day::parse) {
                Some(day) => days.push(day),
                None => {
                    ok = false;
                    self.push::<()>(
                        &format!("{at}/{i}"),
                        format!(
                            "{} is not a day; use mon, tue, wed, thu, fri, sat or sun",
                            shown(d)
                        ),
                    );
                }
            }
        }
        days.sort();
        days.dedup();
        ok.then_some(days)
    }
}

fn severity(s: &str) -> Option<Severity> {
    Severity::ALL.into_iter().find(|sev| sev.as_str() == s)
}

/// A value in a message: a string in single quotes, anything else as JSON.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{s}'"),
        other => other.to_string(),
    }
}

/// RFC 6901: `~` and `/` in a key.
fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Vec<String> {
        vec!["c1".to_owned(), "c2".to_owned()]
    }

    fn problems(body: Value) -> Vec<(String, String)> {
        parse_policy(&body, &ids())
            .expect_err("must be refused")
            .into_iter()
            .map(|p| (p.pointer.unwrap_or_default(), p.message))
            .collect()
    }

    fn one_rule(rule: Value) -> Value {
        json!({"name": "p", "rules": [rule]})
    }

    fn work_hours() -> Value {
        json!({"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "18:00"})
    }

    #[test]
    fn the_design_example_parses_and_round_trips() {
        let body = json!({"name": "disk", "default": false, "rules": [
            {"when": work_hours(), "min_severity": "warning", "channels": ["c1"], "aggregate_for": "1m"},
            {"when": {"not": work_hours()}, "min_severity": "critical", "channels": ["c1", "c2"],
             "aggregate_for": "90s", "repeat_every": "1h", "notify_resolved": false},
        ]});
        let (name, default, rules) = parse_policy(&body, &ids()).expect("valid");
        assert_eq!((name.as_str(), default), ("disk", false));
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].min_severity, Severity::Warning);
        assert!(rules[0].notify_resolved && !rules[0].hold);
        assert_eq!(rules[1].aggregate_for, 90_000);
        assert_eq!(rules[1].repeat_every, Some(3_600_000));
        let When::Not(s) = &rules[1].when else {
            panic!("expected a not: {:?}", rules[1].when)
        };
        assert_eq!(s.days.len(), 5);
        assert_eq!(s.from, Time::constant(9, 0, 0, 0));

        let policy = Policy {
            id: "p1".into(),
            owner: "ann".into(),
            name,
            default,
            rules,
        };
        // The API form parses back to the same rules (what a GET then PUT does).
        let shown = policy_json(&policy);
        assert_eq!(shown["id"], "p1");
        assert_eq!(shown["rules"][1]["aggregate_for"], "1m30s");
        assert_eq!(shown["rules"][1]["when"]["not"]["from"], "09:00");
        assert_eq!(shown["rules"][0]["when"]["days"][4], "fri");
        let (_, _, again) = parse_policy(&shown, &ids()).expect("the API form parses");
        assert_eq!(again, policy.rules);
        // And the stored form round-trips through JSON and BSON.
        let text = serde_json::to_string(&policy).expect("serializes");
        assert_eq!(
            serde_json::from_str::<Policy>(&text).expect("reads back"),
            policy
        );
        let doc = mongodb::bson::to_document(&policy).expect("to bson");
        assert_eq!(doc.get_str("_id").expect("_id"), "p1");
        let back: Policy = mongodb::bson::from_document(doc).expect("from bson");
        assert_eq!(back, policy);
    }

    #[test]
    fn defaults_and_leniency() {
        let (_, default, rules) = parse_policy(
            &json!({"name": " night ", "default": true, "id": "ignored", "rules": [
                {"when": {"days": ["Sunday", "sat", "SAT"], "from": "7:00", "to": "00:00"},
                 "channels": ["c2", "c2"], "hold": true},
                {"channels": ["c1"]},
            ]}),
            &ids(),
        )
        .expect("valid");
        assert!(default);
        let r = &rules[1];
        assert_eq!(r.when, When::Always);
        assert_eq!(r.min_severity, Severity::Info);
        assert_eq!(r.aggregate_for, DEFAULT_AGGREGATE_FOR);
        assert_eq!(
            (r.hold, r.repeat_every, r.notify_resolved),
            (false, None, true)
        );
        assert_eq!(rules[0].channels, ["c2"]);
        let When::Schedule(s) = &rules[0].when else {
            panic!("expected a schedule")
        };
        assert_eq!(s.days, [Day::Sat, Day::Sun]);
        assert_eq!(s.from, Time::constant(7, 0, 0, 0));
        assert_eq!(s.to, Time::MIN);
    }

    #[test]
    fn bad_policies_say_where_and_what() {
        let no_channel = |id: &str| format!("no channel with id '{id}'");
        let day_hint = "is not a day; use mon, tue, wed, thu, fri, sat or sun";
        let cases: Vec<(Value, &str, String)> = vec![
            (json!([]), "", "a policy is a JSON object with name, default and rules".into()),
            (json!({"rules": [{"channels": ["c1"]}]}), "/name", "missing; it is required".into()),
            (json!({"name": "  ", "rules": [{"channels": ["c1"]}]}), "/name", "must have 1 to 100 characters".into()),
            (json!({"name": "p", "default": "yes", "rules": [{"channels": ["c1"]}]}), "/default", "must be true or false".into()),
            (json!({"name": "p"}), "/rules", "missing; a policy needs at least one rule".into()),
            (json!({"name": "p", "rules": []}), "/rules", "a policy needs at least one rule".into()),
            (json!({"name": "p", "rules": vec![json!({"channels": ["c1"]}); 21]}), "/rules", "a policy has at most 20 rules, not 21".into()),
            (json!({"name": "p", "rules": {"channels": ["c1"]}}), "/rules", "must be a list of rules".into()),
            (json!({"name": "p", "rules": [{"channels": ["c1"]}, 3]}), "/rules/1", "a rule is an object with when, min_severity, channels, …".into()),
            (one_rule(json!({})), "/rules/0/channels", "missing; list at least one channel id".into()),
            (one_rule(json!({"channels": []})), "/rules/0/channels", "list at least one channel id".into()),
            (one_rule(json!({"channels": ["c1", "bob's"]})), "/rules/0/channels/1", no_channel("bob's")),
            (one_rule(json!({"channels": [7]})), "/rules/0/channels/0", "a channel id is a string".into()),
            (one_rule(json!({"channels": ["c1"], "min_severity": "urgent"})), "/rules/0/min_severity", "'urgent' is not a severity; use info, warning or critical".into()),
            (one_rule(json!({"channels": ["c1"], "aggregate_for": "0s"})), "/rules/0/aggregate_for", "'0s' is zero; a duration must be longer than that".into()),
            (one_rule(json!({"channels": ["c1"], "aggregate_for": 60})), "/rules/0/aggregate_for", "a duration is a string like 90s, 5m or 1h".into()),
            (one_rule(json!({"channels": ["c1"], "repeat_every": "1x"})), "/rules/0/repeat_every", "'1x' is not a duration: unknown unit 'x'; units are w, d, h, m, s, ms".into()),
            (one_rule(json!({"channels": ["c1"], "hold": 1})), "/rules/0/hold", "must be true or false".into()),
            (one_rule(json!({"channels": ["c1"], "hold": true})), "/rules/0/hold", "hold needs a schedule to end: with \"when\": \"always\" nothing would ever be sent".into()),
            (one_rule(json!({"channels": ["c1"], "notify_resolve": false})), "/rules/0/notify_resolve", "unknown field 'notify_resolve'; a rule has when, min_severity, channels, aggregate_for, hold, repeat_every and notify_resolved".into()),
            (one_rule(json!({"channels": ["c1"], "when": "sometimes"})), "/rules/0/when", "'sometimes' is not a when; use \"always\", a schedule {\"days\", \"from\", \"to\"} or {\"not\": schedule}".into()),
            (one_rule(json!({"channels": ["c1"], "when": {"days": ["mon"], "from": "09:00"}})), "/rules/0/when/to", "missing; write a time like 09:00".into()),
            (one_rule(json!({"channels": ["c1"], "when": {"from": "09:00", "to": "10:00"}})), "/rules/0/when/days", "missing; list the days, like [\"mon\", \"tue\"]".into()),
            (one_rule(json!({"channels": ["c1"], "when": {"days": [], "from": "09:00", "to": "10:00"}})), "/rules/0/when/days", "list at least one day".into()),
            (one_rule(json!({"channels": ["c1"], "when": {"days": "mon", "from": "09:00", "to": "10:00"}})), "/rules/0/when/days", "must be a list of days, like [\"mon\", \"tue\"]".into()),
            (one_rule(json!({"channels": ["c1"], "when": {"days": ["mon"], "from": "09:00", "to": "10:00", "tz": "UTC"}})), "/rules/0/when/tz", "unknown field 'tz'; a schedule has days, from and to".into()),
            (one_rule(json!({"channels": ["c1"], "when": {"not": work_hours(), "days": ["mon"]}})), "/rules/0/when/days", "unknown field 'days'; {\"not\": …} holds only a schedule".into()),
            (one_rule(json!({"channels": ["c1"], "when": {"not": "always"}})), "/rules/0/when/not", "a schedule is an object with days, from and to".into()),
            (one_rule(json!({"channels": ["c1"], "when": {"days": ["mon"], "from": "9h", "to": "10:00"}})), "/rules/0/when/from", "'9h' is not a time (HH:MM)".into()),
            (one_rule(json!({"channels": ["c1"], "when": {"days": ["mon"], "from": "09:00", "to": "24:00"}})), "/rules/0/when/to", "'24:00' is not a time (HH:MM); for the end of the day write 00:00".into()),
            (one_rule(json!({"channels": ["c1"], "when": {"days": ["mon"], "from": "09:60", "to": "10:00"}})), "/rules/0/when/from", "'09:60' is not a time (HH:MM)".into()),
            (one_rule(json!({"channels": ["c1"], "when": {"days": ["mon"], "from": 9, "to": "10:00"}})), "/rules/0/when/from", "9 is not a time (HH:MM)".into()),
            (one_rule(json!({"channels": ["c1"], "when": {"days": ["mon"], "from": "09:5", "to": "10:00"}})), "/rules/0/when/from", "'09:5' is not a time (HH:MM)".into()),
            (one_rule(json!({"channels": ["c1"], "when": {"days": ["mon", 2], "from": "09:00", "to": "10:00"}})), "/rules/0/when/days/1", format!("2 {day_hint}")),
        ];
        for (body, pointer, message) in cases {
            let got = problems(body.clone());
            assert_eq!(got, [(pointer.to_owned(), message)], "for {body}");
        }
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let body = json!({"name": "p", "rules": [
            {"channels": ["c1"]},
            {"when": {"days": ["mon", "tue", "tus"], "from": "09:00", "to": "18:00"}, "channels": ["c1", "nope"]},
            {"when": {"days": ["sat"], "from": "25:00", "to": "06:00"}, "channels": ["c2"], "aggregate_for": "1.5m"},
        ]});
        assert_eq!(
            problems(body),
            [
                (
                    "/rules/1/when/days/2".to_owned(),
                    "'tus' is not a day; use mon, tue, wed, thu, fri, sat or sun".to_owned()
                ),
                (
                    "/rules/1/channels/1".to_owned(),
                    "no channel with id 'nope'".to_owned()
                ),
                (
                    "/rules/2/when/from".to_owned(),
                    "'25:00' is not a time (HH:MM)".to_owned()
                ),
                (
                    "/rules/2/aggregate_for".to_owned(),
                    "'1.5m' is not a duration: use whole numbers, like 1h30m for 1.5h".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn channels_parse_and_normalise() {
        let ok = |body: Value| parse_channel(&body).expect("valid channel");
        assert_eq!(
            ok(json!({"kind": "email", "label": " work ", "address": "ann@corp"})),
            (
                "work".to_owned(),
                ChannelKind::Email {
                    address: "ann@corp".into()
                }
            )
        );
        assert_eq!(
            ok(json!({"kind": "sms", "label": "phone", "number": "+33 6 12-34-56-78"})).1,
            ChannelKind::Sms {
                number: "+33612345678".into()
            }
        );
        assert_eq!(
            ok(json!({"kind": "webhook", "label": "chat", "url": "https://chat.example.com/h/1?x=2", "id": "old"})).1,
            ChannelKind::Webhook { url: "https://chat.example.com/h/1?x=2".into() }
        );

        let channel = Channel {
            id: "c1".into(),
            owner: "ann".into(),
            label: "phone".into(),
            kind: ChannelKind::Sms {
                number: "+33612345678".into(),
            },
        };
        let stored = serde_json::to_value(&channel).expect("serializes");
        assert_eq!(
            stored,
            json!({"_id": "c1", "owner": "ann", "label": "phone", "kind": "sms", "number": "+33612345678"})
        );
        let doc = mongodb::bson::to_document(&channel).expect("to bson");
        let back: Channel = mongodb::bson::from_document(doc).expect("from bson");
        assert_eq!(back, channel);
        assert_eq!(
            (channel.kind.name(), channel.kind.target()),
            ("sms", "+33612345678")
        );
    }

    #[test]
    fn bad_channels_say_where_and_what() {
        let phone_hint =
            "is not a phone number; write it in international form, like +33 6 12 34 56 78";
        let cases: Vec<(Value, Vec<(&str, String)>)> = vec![
            (json!("email"), vec![("", "a channel is a JSON object with kind, label and an address, number or url".into())]),
            (json!({"label": "x"}), vec![("/kind", "missing; use email, sms or webhook".into())]),
            (json!({"kind": "fax", "label": "x"}), vec![("/kind", "'fax' is not a channel kind; use email, sms or webhook".into())]),
            (json!({"kind": 1, "label": "x"}), vec![("/kind", "must be a string: email, sms or webhook".into())]),
            (json!({"kind": "email", "address": "ann@corp"}), vec![("/label", "missing; it is required".into())]),
            (json!({"kind": "email", "label": "x".repeat(101), "address": "ann@corp"}), vec![("/label", "must have 1 to 100 characters".into())]),
            (json!({"kind": "email", "label": "x"}), vec![("/address", "missing; it is required".into())]),
            (json!({"kind": "email", "label": "x", "number": "+33612345678"}), vec![("/address", "missing; it is required".into())]),
            (json!({"kind": "email", "label": "x", "address": "ann.corp"}), vec![("/address", "'ann.corp' is not an email address: it has no @".into())]),
            (json!({"kind": "email", "label": "x", "address": "ann@@corp"}), vec![("/address", "'ann@@corp' is not an email address: write it like ann@example.com".into())]),
            (json!({"kind": "email", "label": "x", "address": "ann bob@corp"}), vec![("/address", "'ann bob@corp' is not an email address: no spaces, at most 254 characters".into())]),
            (json!({"kind": "email", "label": "x", "address": "ann@corp>,eve@evil"}), vec![("/address", "'ann@corp>,eve@evil' is not an email address: write it like ann@example.com".into())]),
            (json!({"kind": "email", "label": "", "address": 3}), vec![("/label", "must have 1 to 100 characters".into()), ("/address", "must be a string".into())]),
            (json!({"kind": "sms", "label": "x", "number": "0612345678"}), vec![("/number", format!("'0612345678' {phone_hint}"))]),
            (json!({"kind": "sms", "label": "x", "number": "+12345"}), vec![("/number", format!("'+12345' {phone_hint}"))]),
            (json!({"kind": "sms", "label": "x", "number": "+1234567890123456"}), vec![("/number", format!("'+1234567890123456' {phone_hint}"))]),
            (json!({"kind": "sms", "label": "x", "number": "+33 (6) 12"}), vec![("/number", format!("'+33 (6) 12' {phone_hint}"))]),
            (json!({"kind": "webhook", "label": "x", "url": "ftp://host/x"}), vec![("/url", "'ftp://host/x' is not an http or https URL".into())]),
            (json!({"kind": "webhook", "label": "x", "url": "/hooks/1"}), vec![("/url", "'/hooks/1' is not an http or https URL".into())]),
            (json!({"kind": "webhook", "label": "x", "url": "https://exa mple.com/"}), vec![("/url", "'https://exa mple.com/' is not a URL; write it like https://chat.example.com/hooks/123".into())]),
        ];
        for (body, want) in cases {
            let got: Vec<(String, String)> = parse_channel(&body)
                .expect_err("must be refused")
                .into_iter()
                .map(|p| (p.pointer.unwrap_or_default(), p.message))
                .collect();
            let want: Vec<(String, String)> =
                want.into_iter().map(|(p, m)| (p.to_owned(), m)).collect();
            assert_eq!(got, want, "for {body}");
        }
    }
}
