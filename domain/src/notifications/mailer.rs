//! Building lettre transports and messages.

use std::time::Duration;

use entities::{smtp_settings, SmtpSecurity};
use lettre::{
    message::{header::ContentType, Mailbox, MultiPart, SinglePart},
    transport::smtp::{authentication::Credentials, PoolConfig},
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};

use super::SecretKey;

/// Connections a worker keeps open to one SMTP server.
pub(crate) const POOL_SIZE: u32 = 4;

/// An SMTP connection pool to one server.
pub(crate) type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// The transport for a company's settings.
pub(crate) fn company_transport(settings: &smtp_settings::Model, key: &SecretKey, timeout: Duration) -> Result<Transport, String> {
    let builder = match settings.security {
        SmtpSecurity::None => Transport::builder_dangerous(&settings.host),
        SmtpSecurity::StartTls => Transport::starttls_relay(&settings.host).map_err(|e| e.to_string())?,
        SmtpSecurity::Tls => Transport::relay(&settings.host).map_err(|e| e.to_string())?,
    };
    let port = u16::try_from(settings.port).map_err(|_| format!("invalid port {}", settings.port))?;
    let mut builder = builder.port(port).timeout(Some(timeout)).pool_config(PoolConfig::new().max_size(POOL_SIZE));
    if let Some(username) = &settings.username {
        let password = match &settings.password_encrypted {
            Some(sealed) => key.decrypt(settings.company_id, sealed).map_err(|e| e.to_string())?,
            None => String::new(),
        };
        builder = builder.credentials(Credentials::new(username.clone(), password));
    }
    Ok(builder.build())
}

/// The platform's transport from an `smtp://` / `smtps://` URL.
pub(crate) fn url_transport(url: &str, timeout: Duration) -> Result<Transport, String> {
    Transport::from_url(url)
        .map(|b| b.timeout(Some(timeout)).pool_config(PoolConfig::new().max_size(POOL_SIZE)).build())
        .map_err(|e| e.to_string())
}

/// Who a company's mails come from.
pub(crate) fn company_sender(settings: &smtp_settings::Model) -> Result<(Mailbox, Option<Mailbox>), String> {
    let address = settings.from_address.parse().map_err(|e| format!("invalid from address: {e}"))?;
    let from = Mailbox::new(settings.from_name.clone(), address);
    let reply_to = settings
        .reply_to
        .as_deref()
        .map(|r| r.parse::<Mailbox>().map_err(|e| format!("invalid reply-to: {e}")))
        .transpose()?;
    Ok((from, reply_to))
}

/// A multipart (text + HTML) message with a stable `Message-ID`.
pub(crate) fn message(
    from: Mailbox,
    reply_to: Option<Mailbox>,
    to: &str,
    subject: &str,
    text: &str,
    html: &str,
    message_id: &str,
) -> Result<Message, String> {
    let to: Mailbox = to.parse().map_err(|e| format!("invalid recipient {to}: {e}"))?;
    let mut builder = Message::builder().from(from).to(to).subject(subject).message_id(Some(message_id.to_owned()));
    if let Some(reply_to) = reply_to {
        builder = builder.reply_to(reply_to);
    }
    builder
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text.to_owned()))
                .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(html.to_owned())),
        )
        .map_err(|e| e.to_string())
}

/// Sends; `Ok` with the server's answer, or the error as text and whether it
/// is permanent (not worth retrying).
pub(crate) async fn send(transport: &Transport, message: Message) -> Result<String, (String, bool)> {
    match transport.send(message).await {
        Ok(response) => Ok(format!("{} {}", response.code(), response.message().collect::<Vec<_>>().join(" "))),
        Err(err) => Err((describe(&err), err.is_permanent())),
    }
}

/// lettre's error with its sources, which carry the useful part ("Connection
/// refused", "failed to lookup address", the server's reply).
fn describe(err: &lettre::transport::smtp::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        let part = inner.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = inner.source();
    }
    text
}

/// The domain of an address, for `Message-ID`s.
pub(crate) fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("rastro.local", |(_, d)| d.trim_end_matches('>'))
}
