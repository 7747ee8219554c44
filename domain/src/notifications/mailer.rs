//! Building lettre transports and messages.

use std::{net::IpAddr, sync::Arc, time::Duration};

use entities::{smtp_settings, SmtpSecurity};
use lettre::{
    message::{header::ContentType, Mailbox, MultiPart, SinglePart},
    transport::smtp::{
        authentication::Credentials,
        client::{Certificate, Tls, TlsParameters},
        PoolConfig,
    },
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};

use super::{smtp_host, MailSettings};

/// Checks a PEM file of extra trusted certificates: at least one, all readable.
pub fn check_root_certificate(pem: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(pem);
    if !text.contains("-----BEGIN CERTIFICATE-----") {
        return Err("no PEM certificate in the file".to_owned());
    }
    Certificate::from_pem(pem).map(|_| ()).map_err(|e| format!("unreadable certificate: {e}"))
}

/// Why a sender with a user name and no TLS is refused.
pub(crate) const PLAINTEXT_AUTH: &str = "the SMTP password is sent only over TLS: choose STARTTLS or TLS, or remove the user name";

/// Connections a worker keeps open to one SMTP server.
pub(crate) const POOL_SIZE: u32 = 4;

type Smtp = AsyncSmtpTransport<Tokio1Executor>;

/// An SMTP connection pool to one server. Cheap to clone; clones share the pool.
#[derive(Clone)]
pub(crate) struct Transport(Arc<Route>);

enum Route {
    /// Connects wherever lettre resolves the host: the operator's own sender,
    /// or company hosts when the operator allows internal addresses.
    Direct(Smtp),
    /// A company host: resolved and checked on first use, then bound to the
    /// checked address for the transport's life, so a later DNS answer
    /// (rebinding) cannot move it inside the network.
    Checked { server: Server, ready: tokio::sync::OnceCell<Smtp> },
}

/// How to reach a company's server, short of the address.
struct Server {
    host: String,
    port: u16,
    security: SmtpSecurity,
    credentials: Option<Credentials>,
    timeout: Duration,
    /// PEM certificates trusted besides the public roots.
    extra_roots: Vec<Vec<u8>>,
}

impl Server {
    /// A pool towards `address` (or the host name itself), speaking TLS for
    /// the configured host name whatever address is used.
    fn build(&self, address: Option<IpAddr>) -> Result<Smtp, String> {
        // lettre would send AUTH to any server that offers it, encrypted or
        // not: a stored password travels only over TLS.
        if self.credentials.is_some() && self.security == SmtpSecurity::None {
            return Err(PLAINTEXT_AUTH.to_owned());
        }
        let tls_for = || {
            let mut params = TlsParameters::builder(smtp_host::bare(&self.host).to_owned());
            for pem in &self.extra_roots {
                params = params.add_root_certificate(Certificate::from_pem(pem).map_err(|e| format!("extra CA certificate: {e}"))?);
            }
            params.build().map_err(|e| e.to_string())
        };
        let tls = match self.security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::StartTls => Tls::Required(tls_for()?),
            SmtpSecurity::Tls => Tls::Wrapper(tls_for()?),
        };
        let server = address.map_or_else(|| smtp_host::bare(&self.host).to_owned(), |ip| ip.to_string());
        let mut builder = Smtp::builder_dangerous(server)
            .port(self.port)
            .tls(tls)
            .timeout(Some(self.timeout))
            .pool_config(PoolConfig::new().max_size(POOL_SIZE));
        if let Some(credentials) = &self.credentials {
            builder = builder.credentials(credentials.clone());
        }
        Ok(builder.build())
    }
}

impl Transport {
    /// The pool to send through, resolving and checking the host first when
    /// needed. `Err` with the reason and whether it is permanent.
    async fn ready(&self) -> Result<&Smtp, (String, bool)> {
        match self.0.as_ref() {
            Route::Direct(smtp) => Ok(smtp),
            Route::Checked { server, ready } => {
                ready
                    .get_or_try_init(|| async {
                        let addresses = smtp_host::resolve_allowed(&server.host, server.port).await.map_err(|e| {
                            let permanent = matches!(e, smtp_host::HostError::Internal { .. });
                            (e.to_string(), permanent)
                        })?;
                        // `resolve_allowed` never returns an empty list.
                        let first = addresses.first().copied().ok_or_else(|| ("no address".to_owned(), false))?;
                        server.build(Some(first)).map_err(|e| (e, true))
                    })
                    .await
            }
        }
    }
}

/// The transport for a company's settings. Unless the operator allows
/// internal addresses, the host is checked right before connecting
/// ([`smtp_host`]).
pub(crate) fn company_transport(settings: &smtp_settings::Model, mail: &MailSettings) -> Result<Transport, String> {
    let port = u16::try_from(settings.port).map_err(|_| format!("invalid port {}", settings.port))?;
    let credentials = match &settings.username {
        Some(username) => {
            let password = match &settings.password_encrypted {
                Some(sealed) => mail.secret_key.decrypt(settings.company_id, sealed).map_err(|e| e.to_string())?,
                None => String::new(),
            };
            Some(Credentials::new(username.clone(), password))
        }
        None => None,
    };
    let server = Server {
        host: settings.host.clone(),
        port,
        security: settings.security,
        credentials,
        timeout: mail.smtp_timeout,
        extra_roots: mail.extra_root_certificates.clone(),
    };
    let route = if mail.allow_private_smtp {
        Route::Direct(server.build(None)?)
    } else {
        Route::Checked { server, ready: tokio::sync::OnceCell::new() }
    };
    Ok(Transport(Arc::new(route)))
}

/// The platform's transport from an `smtp://` / `smtps://` URL. The operator
/// configured it, so it is not checked.
pub(crate) fn url_transport(url: &str, timeout: Duration) -> Result<Transport, String> {
    Smtp::from_url(url)
        .map(|b| Transport(Arc::new(Route::Direct(b.timeout(Some(timeout)).pool_config(PoolConfig::new().max_size(POOL_SIZE)).build()))))
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
    match transport.ready().await?.send(message).await {
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
