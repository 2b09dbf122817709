//! Sending a rendered digest: email over SMTP, SMS through an HTTP gateway,
//! webhooks.
//!
//! One attempt per call; retries, backoff and the log belong to the caller,
//! which learns from [`DeliveryError::retryable`] whether trying again can
//! help and shows the error's text to the user on the notifications page, so
//! the text names what failed in plain words and never carries a password.
//!
//! * SMTP URL: `smtp://host:port` (plain, for local relays and tests),
//!   `smtp://host:port?tls=starttls` (STARTTLS required), `smtps://host:port`
//!   (TLS from the start); `user:password@` (percent-encoded) logs in.
//! * SMS gateway: a POST of `application/x-www-form-urlencoded` with `To`
//!   and `Body` (Twilio's names). The query parameters of the gateway URL are
//!   sent as extra form fields and taken off the URL (so `?From=%2B1555…`
//!   works for Twilio); `user:password@` in the URL becomes HTTP Basic auth.
//! * Webhook: a POST of the digest's JSON document. Redirects are not
//!   followed: a webhook that moved should be edited, not chased.
//!
//! Any answer in 2xx means sent. The configured timeout bounds each whole
//! attempt (connecting included).

use std::fmt;
use std::time::Duration;

use anyhow::Context as _;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use reqwest::{StatusCode, Url};

use super::{ChannelKind, Rendered};

/// Longest piece of an HTTP answer quoted in an error.
const MAX_DETAIL_CHARS: usize = 200;

/// Sends rendered digests to channels; built once from the configuration.
pub struct Deliverer {
    smtp: Option<Smtp>,
    from: Mailbox,
    sms_gateway: Option<Url>,
    http: reqwest::Client,
    timeout: Duration,
}

struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// `host:port`, for messages.
    peer: String,
}

/// Why a delivery attempt failed, worded for the person who owns the channel.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The server has no SMTP server or no SMS gateway configured.
    #[error("no {0} configured")]
    NotConfigured(&'static str),
    /// The channel's address, number or URL cannot be used.
    #[error("{0}")]
    BadRecipient(String),
    #[error("{peer} refused the connection")]
    Refused { peer: String },
    #[error("{peer} did not answer within {after}")]
    TimedOut { peer: String, after: String },
    /// Name resolution, a reset connection, a TLS failure…
    #[error("could not reach {peer}: {reason}")]
    Unreachable { peer: String, reason: String },
    /// The SMTP server said no: 4xx (try later) or 5xx (final).
    #[error("{peer} rejected the message: {reason}")]
    Rejected {
        peer: String,
        reason: String,
        temporary: bool,
    },
    /// An HTTP gateway or webhook answered something other than 2xx.
    #[error("{service} answered {status}{detail}")]
    Status {
        service: &'static str,
        status: StatusCode,
        /// `: <start of the answer>` or empty.
        detail: String,
    },
}

impl DeliveryError {
    /// Whether the same attempt may succeed later. False when only a change
    /// of configuration or of the channel can help.
    pub fn retryable(&self) -> bool {
        match self {
            DeliveryError::NotConfigured(_) | DeliveryError::BadRecipient(_) => false,
            DeliveryError::Refused { .. }
            | DeliveryError::TimedOut { .. }
            | DeliveryError::Unreachable { .. } => true,
            DeliveryError::Rejected { temporary, .. } => *temporary,
            DeliveryError::Status { status, .. } => {
                status.is_server_error()
                    || *status == StatusCode::REQUEST_TIMEOUT
                    || *status == StatusCode::TOO_MANY_REQUESTS
            }
        }
    }
}

impl fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deliverer")
            .field("smtp", &self.smtp.as_ref().map(|s| &s.peer))
            .field("from", &self.from)
            .field("sms_gateway", &self.sms_gateway.as_ref().map(host_port))
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Deliverer {
    /// Checks the URLs and the sender address; errors name the bad setting.
    pub fn new(
        smtp_url: Option<&str>,
        smtp_from: &str,
        sms_url: Option<&str>,
        timeout: Duration,
    ) -> anyhow::Result<Deliverer> {
        // reqwest is built without a default crypto provider (so that aws-lc
        // is not compiled in); use ring, as lettre and the MongoDB driver do.
        // An error means a provider is installed already, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let from: Mailbox = smtp_from
            .parse()
            .with_context(|| format!("--smtp-from: '{smtp_from}' is not an email address"))?;
        let smtp = smtp_url
            .map(|url| smtp_transport(url, timeout))
            .transpose()
            .context("--smtp-url")?;
        let sms_gateway = sms_url
            .map(|url| -> anyhow::Result<Url> {
                let url = Url::parse(url).context("not a URL")?;
                anyhow::ensure!(
                    matches!(url.scheme(), "http" | "https"),
                    "the SMS gateway must be an http:// or https:// URL"
                );
                Ok(url)
            })
            .transpose()
            .context("--sms-webhook-url")?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("tellify/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the HTTP client")?;
        Ok(Deliverer {
            smtp,
            from,
            sms_gateway,
            http,
            timeout,
        })
    }

    /// One attempt to deliver `rendered` to `channel`.
    pub async fn send(
        &self,
        channel: &ChannelKind,
        rendered: &Rendered,
    ) -> Result<(), DeliveryError> {
        match channel {
            ChannelKind::Email { address } => self.email(address, rendered).await,
            ChannelKind::Sms { number } => self.sms(number, &rendered.sms).await,
            ChannelKind::Webhook { url } => self.webhook(url, &rendered.webhook).await,
        }
    }

    async fn email(&self, address: &str, rendered: &Rendered) -> Result<(), DeliveryError> {
        let smtp = self
            .smtp
            .as_ref()
            .ok_or(DeliveryError::NotConfigured("SMTP server"))?;
        let to: Mailbox = address.parse().map_err(|_| {
            DeliveryError::BadRecipient(format!("'{address}' is not an email address"))
        })?;
        let mut message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(rendered.subject.as_str())
            .header(AutoSubmitted);
        if let Some(id) = self.message_id(rendered) {
            message = message.message_id(Some(id));
        }
        let message = message
            .multipart(MultiPart::alternative_plain_html(
                rendered.text.clone(),
                rendered.html.clone(),
            ))
            .map_err(|e| {
                DeliveryError::BadRecipient(format!("the email could not be built: {e}"))
            })?;
        match tokio::time::timeout(self.timeout, smtp.transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(smtp_error(&smtp.peer, &e, self.timeout)),
            Err(_) => Err(DeliveryError::TimedOut {
                peer: format!("SMTP server {}", smtp.peer),
                after: seconds(self.timeout),
            }),
        }
    }

    /// The same Message-ID for every attempt of one digest, so that a mail
    /// client can fold the copies an at-least-once delivery may make.
    fn message_id(&self, rendered: &Rendered) -> Option<String> {
        let id = rendered.webhook.get("digest_id")?.as_str()?;
        let safe = !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        safe.then(|| format!("<digest.{id}@{}>", self.from.email.domain()))
    }

    async fn sms(&self, number: &str, line: &str) -> Result<(), DeliveryError> {
        let gateway = self
            .sms_gateway
            .as_ref()
            .ok_or(DeliveryError::NotConfigured("SMS gateway"))?;
        let mut url = gateway.clone();
        let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        url.set_query(None);
        form.push(("To".to_owned(), number.to_owned()));
        form.push(("Body".to_owned(), line.to_owned()));
        let peer = format!("SMS gateway {}", host_port(&url));
        let request = self.http.post(url).form(&form);
        self.http_send(request, "SMS gateway", &peer).await
    }

    async fn webhook(&self, url: &str, document: &serde_json::Value) -> Result<(), DeliveryError> {
        let url = Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| DeliveryError::BadRecipient(format!("'{url}' is not an http(s) URL")))?;
        let peer = format!("webhook at {}", host_port(&url));
        let request = self.http.post(url).json(document);
        self.http_send(request, "webhook", &peer).await
    }

    async fn http_send(
        &self,
        request: reqwest::RequestBuilder,
        service: &'static str,
        peer: &str,
    ) -> Result<(), DeliveryError> {
        let response = request
            .send()
            .await
            .map_err(|e| http_error(peer, &e, self.timeout))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        // The start of the answer often says what is wrong (a gateway's
        // "invalid number"); it is only a hint, so a failure to read it is not.
        let body = response.text().await.unwrap_or_default();
        let detail = clip(&body);
        Err(DeliveryError::Status {
            service,
            status,
            detail: if detail.is_empty() {
                detail
            } else {
                format!(": {detail}")
            },
        })
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834), so vacation responders stay quiet.
#[derive(Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// An SMTP transport from one of the URL forms in the module doc.
fn smtp_transport(url: &str, timeout: Duration) -> anyhow::Result<Smtp> {
    let parsed = Url::parse(url).context("not a URL")?;
    let host = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .context("the URL names no host")?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let tls_param = parsed
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    let params = || TlsParameters::new(host.clone()).context("TLS settings");
    let (port, tls) = match (parsed.scheme(), tls_param.as_deref()) {
        ("smtp", None | Some("none")) => (25, Tls::None),
        ("smtp", Some("starttls")) => (587, Tls::Required(params()?)),
        ("smtps", None) => (465, Tls::Wrapper(params()?)),
        (scheme, tls) => anyhow::bail!(
            "unsupported SMTP URL (scheme '{scheme}', tls={tls:?}); use smtp://host:port, \
             smtp://host:port?tls=starttls or smtps://host:port"
        ),
    };
    let port = parsed.port().unwrap_or(port);
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
        .port(port)
        .tls(tls)
        .timeout(Some(timeout));
    if !parsed.username().is_empty() {
        let user = percent_decode(parsed.username()).context("user name in the URL")?;
        let password =
            percent_decode(parsed.password().unwrap_or("")).context("password in the URL")?;
        builder = builder.credentials(lettre::transport::smtp::authentication::Credentials::new(
            user, password,
        ));
    }
    Ok(Smtp {
        transport: builder.build(),
        peer: format!("{}:{port}", parsed.host_str().unwrap_or(&host)),
    })
}

/// `%XX` sequences to bytes, which must then be UTF-8.
fn percent_decode(s: &str) -> anyhow::Result<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hex: Vec<u8> = bytes.by_ref().take(2).collect();
            let hex = std::str::from_utf8(&hex).ok().filter(|h| h.len() == 2);
            let byte = hex
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .context("a % not followed by two hex digits")?;
            out.push(byte);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).context("not UTF-8 once decoded")
}

/// Words for an SMTP failure.
fn smtp_error(peer: &str, e: &lettre::transport::smtp::Error, timeout: Duration) -> DeliveryError {
    let peer = format!("SMTP server {peer}");
    if let Some(code) = e.status() {
        // The source of a reply error is the server's text.
        let reason = match std::error::Error::source(e) {
            Some(text) => format!("{code} {}", clip(&text.to_string())),
            None => code.to_string(),
        };
        return DeliveryError::Rejected {
            peer,
            reason,
            temporary: e.is_transient(),
        };
    }
    connection_error(peer, e, timeout)
}

/// Words for an HTTP failure that left no answer.
fn http_error(peer: &str, e: &reqwest::Error, timeout: Duration) -> DeliveryError {
    if e.is_builder() {
        return DeliveryError::BadRecipient(format!("{peer}: {}", innermost(e)));
    }
    if e.is_timeout() {
        return DeliveryError::TimedOut {
            peer: peer.to_owned(),
            after: seconds(timeout),
        };
    }
    connection_error(peer.to_owned(), e, timeout)
}

/// Refused, timed out or otherwise unreachable, from the I/O error in the chain.
fn connection_error(
    peer: String,
    e: &(dyn std::error::Error + 'static),
    timeout: Duration,
) -> DeliveryError {
    let mut source = Some(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return DeliveryError::Refused { peer },
                std::io::ErrorKind::TimedOut => {
                    return DeliveryError::TimedOut {
                        peer,
                        after: seconds(timeout),
                    };
                }
                _ => {}
            }
        }
        source = err.source();
    }
    DeliveryError::Unreachable {
        peer,
        reason: innermost(e),
    }
}

/// The deepest cause's message: the one that says what happened
/// ("Connection reset by peer", "invalid peer certificate: UnknownIssuer").
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

/// A timeout as people write it: `10s`, `1m30s`, `500ms`.
fn seconds(d: Duration) -> String {
    let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    if ms < 1000 {
        format!("{ms}ms")
    } else {
        tellify_handlers::format_duration(ms)
    }
}

/// `host:port` of a URL, without credentials or path (which may hold secrets).
fn host_port(url: &Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        _ => "?".to_owned(),
    }
}

/// One line of at most [`MAX_DETAIL_CHARS`].
fn clip(s: &str) -> String {
    let line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= MAX_DETAIL_CHARS {
        line
    } else {
        let mut cut: String = line.chars().take(MAX_DETAIL_CHARS - 1).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::extract::State;
    use axum::http::HeaderMap;
    use axum::routing::post;
    use axum::{Form, Json, Router};
    use serde_json::{Value, json};

    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(5);

    fn rendered(subject: &str) -> Rendered {
        Rendered {
            subject: subject.to_owned(),
            text: "Disk space\n  FIRING critical disk /sarc/cad 97.5%\n".to_owned(),
            html: "<p>disk /sarc/cad 97.5%</p>".to_owned(),
            sms: "1 critical: Disk space: disk /sarc/cad 97.5%".to_owned(),
            webhook: json!({"digest_id": "d-1", "alerts": [{"summary": "disk /sarc/cad 97.5%"}]}),
        }
    }

    /// A name no other test run uses.
    fn unique(prefix: &str) -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        format!("{prefix}-{}-{nanos}", std::process::id())
    }

    #[tokio::test]
    async fn email_arrives_with_both_parts() {
        let (Ok(smtp_url), Ok(maildir)) = (
            std::env::var("TELLIFY_SMTP_URL"),
            std::env::var("TELLIFY_TEST_MAILDIR"),
        ) else {
            panic!(
                "TELLIFY_SMTP_URL and TELLIFY_TEST_MAILDIR are not set: run the tests with \
                 scripts/test.sh, or first eval \"$(scripts/services.sh start)\""
            );
        };
        let deliverer = Deliverer::new(
            Some(&smtp_url),
            "Tellify <tellify@example.test>",
            None,
            TIMEOUT,
        )
        .expect("deliverer");
        let address = format!("{}@example.test", unique("deliver"));
        let subject = format!("1 critical: disk /sarc/cad 97.5% ({address})");
        deliverer
            .send(
                &ChannelKind::Email {
                    address: address.clone(),
                },
                &rendered(&subject),
            )
            .await
            .expect("sent");

        let mail = wait_for_mail(std::path::Path::new(&maildir), &address).await;
        let (headers, body) = mail.split_once("\r\n\r\n").expect("headers and body");
        let unfolded = headers.replace("\r\n ", " ").replace("\r\n\t", " ");
        let header = |name: &str| {
            unfolded
                .lines()
                .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(": ")))
                .map(str::to_owned)
        };
        assert_eq!(
            header("Subject").as_deref(),
            Some(subject.as_str()),
            "{headers}"
        );
        assert_eq!(header("To").as_deref(), Some(address.as_str()));
        assert_eq!(
            header("From").as_deref(),
            Some("Tellify <tellify@example.test>")
        );
        assert_eq!(header("Auto-Submitted").as_deref(), Some("auto-generated"));
        assert_eq!(
            header("Message-ID").as_deref(),
            Some("<digest.d-1@example.test>")
        );
        let content_type = header("Content-Type").expect("Content-Type");
        assert!(
            content_type.starts_with("multipart/alternative"),
            "{content_type}"
        );
        let boundary = content_type
            .split("boundary=")
            .nth(1)
            .expect("boundary")
            .trim_matches('"');
        let parts: Vec<&str> = body
            .split(&format!("--{boundary}"))
            .filter(|p| p.contains("Content-Type"))
            .collect();
        assert_eq!(parts.len(), 2, "{body}");
        assert!(
            parts[0].contains("Content-Type: text/plain; charset=utf-8"),
            "{}",
            parts[0]
        );
        assert!(
            parts[0].contains("FIRING critical disk /sarc/cad 97.5%"),
            "{}",
            parts[0]
        );
        assert!(
            parts[1].contains("Content-Type: text/html; charset=utf-8"),
            "{}",
            parts[1]
        );
        assert!(
            parts[1].contains("<p>disk /sarc/cad 97.5%</p>"),
            "{}",
            parts[1]
        );
    }

    /// The .eml the test SMTP server wrote for `address` (it records the
    /// envelope recipients in its first line).
    async fn wait_for_mail(dir: &std::path::Path, address: &str) -> String {
        let marker = format!("X-Envelope-To: {address}\r\n");
        for _ in 0..100 {
            for entry in std::fs::read_dir(dir).expect("maildir").flatten() {
                let name = entry.file_name();
                if name.to_string_lossy().starts_with('.') {
                    continue; // still being written
                }
                if let Ok(text) = std::fs::read_to_string(entry.path())
                    && text.starts_with(&marker)
                {
                    return text;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no mail to {address} arrived in {}", dir.display());
    }

    #[tokio::test]
    async fn smtp_server_down_is_a_retryable_readable_error() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("addr").port()
        }; // dropped: nothing listens there now
        let deliverer = Deliverer::new(
            Some(&format!("smtp://127.0.0.1:{port}")),
            "t@example.test",
            None,
            TIMEOUT,
        )
        .expect("deliverer");
        let err = deliverer
            .send(
                &ChannelKind::Email {
                    address: "ann@example.test".to_owned(),
                },
                &rendered("s"),
            )
            .await
            .expect_err("nothing listens");
        assert_eq!(
            err.to_string(),
            format!("SMTP server 127.0.0.1:{port} refused the connection")
        );
        assert!(err.retryable());
    }

    #[tokio::test]
    async fn what_is_not_configured_or_not_valid_is_final() {
        let deliverer = Deliverer::new(None, "t@example.test", None, TIMEOUT).expect("deliverer");
        let cases = [
            (
                ChannelKind::Email {
                    address: "ann@example.test".to_owned(),
                },
                "no SMTP server configured",
            ),
            (
                ChannelKind::Sms {
                    number: "+15550100".to_owned(),
                },
                "no SMS gateway configured",
            ),
            (
                ChannelKind::Webhook {
                    url: "ftp://example.test/x".to_owned(),
                },
                "'ftp://example.test/x' is not an http(s) URL",
            ),
        ];
        for (channel, want) in cases {
            let err = deliverer
                .send(&channel, &rendered("s"))
                .await
                .expect_err("fails");
            assert_eq!(err.to_string(), want);
            assert!(!err.retryable(), "{want}");
        }
    }

    #[test]
    fn bad_settings_are_named() {
        let cases = [
            (
                Some("smtp://127.0.0.1:25?tls=maybe"),
                "t@example.test",
                None,
                "--smtp-url",
            ),
            (
                Some("imap://127.0.0.1"),
                "t@example.test",
                None,
                "--smtp-url",
            ),
            (
                Some("smtp://u:%zz@127.0.0.1"),
                "t@example.test",
                None,
                "--smtp-url",
            ),
            (None, "not an address", None, "--smtp-from"),
            (
                None,
                "t@example.test",
                Some("ftp://gw"),
                "--sms-webhook-url",
            ),
        ];
        for (smtp, from, sms, want) in cases {
            let err = Deliverer::new(smtp, from, sms, TIMEOUT).expect_err("bad setting");
            assert!(format!("{err:#}").contains(want), "{err:#}");
        }
        for url in [
            "smtp://h:2525",
            "smtp://u:p%40ss@h:587?tls=starttls",
            "smtps://h",
            "smtp://[::1]:25",
        ] {
            Deliverer::new(Some(url), "t@example.test", None, TIMEOUT).expect(url);
        }
        assert_eq!(percent_decode("p%40ss%C3%A9").expect("decodes"), "p@ssé");
    }

    /// What the local HTTP server received.
    #[derive(Default)]
    struct Seen {
        headers: Vec<HeaderMap>,
        forms: Vec<Vec<(String, String)>>,
        json: Vec<Value>,
    }

    type Shared = Arc<Mutex<Seen>>;

    /// A local server: `/ok` and `/sms` answer 204, `/fail` answers 500,
    /// anything else 404.
    async fn server() -> (String, Shared) {
        async fn sms(
            State(seen): State<Shared>,
            headers: HeaderMap,
            Form(form): Form<Vec<(String, String)>>,
        ) {
            let mut seen = seen.lock().expect("lock");
            seen.headers.push(headers);
            seen.forms.push(form);
        }
        async fn hook(
            State(seen): State<Shared>,
            headers: HeaderMap,
            Json(body): Json<Value>,
        ) -> axum::http::StatusCode {
            let mut seen = seen.lock().expect("lock");
            seen.headers.push(headers);
            seen.json.push(body);
            axum::http::StatusCode::NO_CONTENT
        }
        async fn fail() -> (axum::http::StatusCode, &'static str) {
            (
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "database\nis down",
            )
        }
        let seen = Shared::default();
        let app = Router::new()
            .route("/sms", post(sms))
            .route("/ok", post(hook))
            .route("/fail", post(fail))
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://{addr}"), seen)
    }

    #[tokio::test]
    async fn sms_posts_a_twilio_style_form() {
        let (base, seen) = server().await;
        let gateway = format!(
            "{}/sms?From=%2B15550199",
            base.replace("http://", "http://AC1:s%40cret@")
        );
        let deliverer =
            Deliverer::new(None, "t@example.test", Some(&gateway), TIMEOUT).expect("deliverer");
        let rendered = rendered("s");
        deliverer
            .send(
                &ChannelKind::Sms {
                    number: "+33612345678".to_owned(),
                },
                &rendered,
            )
            .await
            .expect("sent");
        let seen = seen.lock().expect("lock");
        assert_eq!(
            seen.forms,
            vec![vec![
                ("From".to_owned(), "+15550199".to_owned()),
                ("To".to_owned(), "+33612345678".to_owned()),
                ("Body".to_owned(), rendered.sms.clone()),
            ]]
        );
        let headers = &seen.headers[0];
        assert_eq!(headers["content-type"], "application/x-www-form-urlencoded");
        // base64("AC1:s@cret")
        assert_eq!(headers["authorization"], "Basic QUMxOnNAY3JldA==");
    }

    #[tokio::test]
    async fn webhook_posts_the_json_document() {
        let (base, seen) = server().await;
        let deliverer = Deliverer::new(None, "t@example.test", None, TIMEOUT).expect("deliverer");
        let rendered = rendered("s");
        deliverer
            .send(
                &ChannelKind::Webhook {
                    url: format!("{base}/ok"),
                },
                &rendered,
            )
            .await
            .expect("sent");
        let seen = seen.lock().expect("lock");
        assert_eq!(seen.json, vec![rendered.webhook.clone()]);
        assert_eq!(seen.headers[0]["content-type"], "application/json");
    }

    #[tokio::test]
    async fn http_answers_decide_whether_to_retry() {
        let (base, _seen) = server().await;
        let deliverer = Deliverer::new(
            None,
            "t@example.test",
            Some(&format!("{base}/fail")),
            TIMEOUT,
        )
        .expect("deliverer");
        let hook = |path: &str| ChannelKind::Webhook {
            url: format!("{base}{path}"),
        };
        let sms = ChannelKind::Sms {
            number: "+15550100".to_owned(),
        };
        let cases = [
            (
                hook("/fail"),
                "webhook answered 500 Internal Server Error: database is down",
                true,
            ),
            (hook("/nowhere"), "webhook answered 404 Not Found", false),
            (
                sms,
                "SMS gateway answered 500 Internal Server Error: database is down",
                true,
            ),
        ];
        for (channel, want, retryable) in cases {
            let err = deliverer
                .send(&channel, &rendered("s"))
                .await
                .expect_err("fails");
            assert_eq!(err.to_string(), want);
            assert_eq!(err.retryable(), retryable, "{want}");
        }
    }

    #[tokio::test]
    async fn webhook_down_is_retryable() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("addr").port()
        };
        let deliverer = Deliverer::new(None, "t@example.test", None, TIMEOUT).expect("deliverer");
        let err = deliverer
            .send(
                &ChannelKind::Webhook {
                    url: format!("http://127.0.0.1:{port}/x"),
                },
                &rendered("s"),
            )
            .await
            .expect_err("nothing listens");
        assert_eq!(
            err.to_string(),
            format!("webhook at 127.0.0.1:{port} refused the connection")
        );
        assert!(err.retryable());
    }

    #[test]
    fn status_retryability() {
        let status = |code: u16| DeliveryError::Status {
            service: "webhook",
            status: StatusCode::from_u16(code).expect("status"),
            detail: String::new(),
        };
        for (code, retryable) in [
            (500, true),
            (503, true),
            (408, true),
            (429, true),
            (400, false),
            (401, false),
            (404, false),
            (410, false),
            (301, false),
        ] {
            assert_eq!(status(code).retryable(), retryable, "{code}");
        }
    }
}
