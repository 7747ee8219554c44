//! Building SMTP transports and messages.
//!
//! A company's server is reached through connections of our own
//! ([`Pool`]) rather than lettre's pooled transport: they are opened with
//! `TCP_NODELAY` (lettre writes a message's end marker in a write of its own,
//! which Nagle's algorithm would hold until the server's delayed ACK of the
//! body, ~40 ms a mail), reused without a `NOOP` before each mail while fresh,
//! and bounded by the company's own connection and rate limits. lettre still
//! speaks the protocol: greeting, EHLO, STARTTLS, AUTH and the mail itself.

use std::{
    io,
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    pin::Pin,
    sync::{Arc, Mutex, PoisonError},
    task::{Context, Poll},
    time::{Duration, Instant},
};

use entities::{smtp_settings, SmtpSecurity};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use lettre::{
    message::{header::ContentType, Mailbox, MultiPart, SinglePart},
    transport::smtp::{
        authentication::{Credentials, DEFAULT_MECHANISMS},
        client::{AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters},
        extension::ClientId,
        response::Response,
        PoolConfig,
    },
    address::Envelope,
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
    sync::{OnceCell, Semaphore, SemaphorePermit},
};
use tokio_util::compat::{Compat, FuturesAsyncReadCompatExt};

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

/// Connections the platform's own sender keeps open.
const PLATFORM_POOL_SIZE: u32 = 4;
/// An idle connection younger than this is used without a `NOOP` first: a
/// server does not close a connection that just delivered (RFC 5321 asks it
/// to wait minutes).
const FRESH: Duration = Duration::from_secs(2);

type Smtp = AsyncSmtpTransport<Tokio1Executor>;

/// Where a mail goes out. Cheap to clone; clones share their connections.
#[derive(Clone)]
pub(crate) struct Transport(Arc<Route>);

// Built once per sender and kept behind an `Arc`: the size is paid once.
#[allow(clippy::large_enum_variant)]
enum Route {
    /// The operator's own sender, from its URL: lettre's pooled transport
    /// (password mails only, a trickle).
    Url(Smtp),
    /// A company's server, through connections of the worker's own.
    Company(Pool),
}

/// Connections to one company's server.
struct Pool {
    server: Server,
    /// `Some` when the host must be checked ([`smtp_host`]): resolved and
    /// checked on first use, then every connection goes to that address for
    /// the pool's life, so a later DNS answer (rebinding) cannot move it
    /// inside the network. `None` when the operator allows internal hosts.
    checked: Option<OnceCell<IpAddr>>,
    /// Connections between mails, with when they were put back.
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
    /// How long a connection may idle before it is closed rather than tried.
    idle_limit: Duration,
    /// One permit per connection the company allows at once.
    slots: Semaphore,
    /// The company's mails-a-second limit.
    rate: Option<DefaultDirectRateLimiter>,
}

/// How to reach a company's server, short of the address.
struct Server {
    host: String,
    port: u16,
    security: SmtpSecurity,
    credentials: Option<Credentials>,
    timeout: Duration,
    /// For the configured host name whatever address is used; `None` without TLS.
    tls: Option<TlsParameters>,
}

/// Why a conversation with the server broke off.
enum Failed {
    Smtp(lettre::transport::smtp::Error),
    /// No answer within the SMTP timeout (the connection is dropped).
    Timeout,
}

/// Whether `err` says the server ended the session rather than refused the
/// mail: the connection closed or broke, or `421` (closing).
fn ended(err: &lettre::transport::smtp::Error) -> bool {
    let answered = err.status().filter(|code| code.to_string() != "421");
    answered.is_none() && !err.is_tls() && !err.is_client() && !err.is_timeout()
}

/// Why a mail was not handed over: the reason in words and whether it is
/// permanent (not worth retrying).
pub(crate) type SendError = (String, bool);

fn smtp_error(err: &lettre::transport::smtp::Error) -> SendError {
    (describe(err), err.is_permanent())
}

impl Server {
    fn new(settings: &smtp_settings::Model, mail: &MailSettings, credentials: Option<Credentials>) -> Result<Self, String> {
        let port = u16::try_from(settings.port).map_err(|_| format!("invalid port {}", settings.port))?;
        // lettre would send AUTH to any server that offers it, encrypted or
        // not: a stored password travels only over TLS.
        if credentials.is_some() && settings.security == SmtpSecurity::None {
            return Err(PLAINTEXT_AUTH.to_owned());
        }
        let tls = match settings.security {
            SmtpSecurity::None => None,
            SmtpSecurity::StartTls | SmtpSecurity::Tls => {
                let mut params = TlsParameters::builder(smtp_host::bare(&settings.host).to_owned());
                for pem in &mail.extra_root_certificates {
                    params = params.add_root_certificate(Certificate::from_pem(pem).map_err(|e| format!("extra CA certificate: {e}"))?);
                }
                Some(params.build().map_err(|e| e.to_string())?)
            }
        };
        Ok(Server { host: settings.host.clone(), port, security: settings.security, credentials, timeout: mail.smtp_timeout, tls })
    }

    /// Opens a connection to `address` (or the host name), ready for mail:
    /// greeted, encrypted as configured and logged in.
    async fn open(&self, address: Option<IpAddr>) -> Result<AsyncSmtpConnection, SendError> {
        let stream = match address {
            Some(ip) => TcpStream::connect((ip, self.port)).await,
            None => TcpStream::connect((smtp_host::bare(&self.host), self.port)).await,
        }
        .map_err(|e| (format!("connection to {}:{} failed: {e}", self.host, self.port), false))?;
        stream.set_nodelay(true).map_err(|e| (format!("connection to {}:{}: {e}", self.host, self.port), false))?;
        let hello = ClientId::default();
        let mut conn = match (self.security, &self.tls) {
            (SmtpSecurity::Tls, Some(tls)) => {
                let wrapped = ImplicitTls::over(stream, tls.clone()).await.map_err(|e| smtp_error(&e))?;
                AsyncSmtpConnection::connect_with_transport(Box::new(wrapped), &hello).await
            }
            _ => AsyncSmtpConnection::connect_with_transport(Box::new(stream), &hello).await,
        }
        .map_err(|e| smtp_error(&e))?;
        if let (SmtpSecurity::StartTls, Some(tls)) = (self.security, &self.tls) {
            conn.starttls(tls.clone(), &hello).await.map_err(|e| smtp_error(&e))?;
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials).await.map_err(|e| smtp_error(&e))?;
        }
        Ok(conn)
    }
}

impl Pool {
    /// The address to connect to, resolving and checking the host first when needed.
    async fn address(&self) -> Result<Option<IpAddr>, SendError> {
        let Some(checked) = &self.checked else { return Ok(None) };
        let address = checked
            .get_or_try_init(|| async {
                let addresses = smtp_host::resolve_allowed(&self.server.host, self.server.port).await.map_err(|e| {
                    let permanent = matches!(e, smtp_host::HostError::Internal { .. });
                    (e.to_string(), permanent)
                })?;
                // `resolve_allowed` never returns an empty list.
                addresses.first().copied().ok_or_else(|| ("no address".to_owned(), false))
            })
            .await?;
        Ok(Some(*address))
    }

    /// An idle connection still worth using, if any.
    async fn reuse(&self) -> Option<AsyncSmtpConnection> {
        loop {
            let (mut conn, since) = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop()?;
            let idle = since.elapsed();
            if idle < FRESH {
                return Some(conn);
            }
            if idle < self.idle_limit && tokio::time::timeout(self.server.timeout, conn.test_connected()).await.unwrap_or(false) {
                return Some(conn);
            }
        }
    }

    /// Keeps `conn` for the next mail, unless lettre marked it broken (it
    /// does on any error).
    fn put_back(&self, conn: AsyncSmtpConnection) {
        if !conn.has_broken() {
            self.idle.lock().unwrap_or_else(PoisonError::into_inner).push((conn, Instant::now()));
        }
    }

    async fn send(&self, message: &Message) -> Result<Response, SendError> {
        let (envelope, body) = (message.envelope(), message.formatted());
        if let Some(conn) = self.reuse().await {
            match self.deliver(conn, envelope, &body).await {
                // The server ended the session while it idled, or after so many
                // mails: this one was not taken, so a new connection takes it.
                Err(Failed::Smtp(err)) if ended(&err) => {}
                done => return done.map_err(|failed| self.described(failed)),
            }
        }
        let address = self.address().await?;
        let conn = tokio::time::timeout(self.server.timeout, self.server.open(address))
            .await
            .map_err(|_| self.described(Failed::Timeout))??;
        self.deliver(conn, envelope, &body).await.map_err(|failed| self.described(failed))
    }

    /// One mail over `conn` within the SMTP timeout; the connection is kept
    /// for the next one if the conversation ended cleanly. One that timed out
    /// is dropped: it is somewhere in the middle of a conversation.
    async fn deliver(&self, mut conn: AsyncSmtpConnection, envelope: &Envelope, body: &[u8]) -> Result<Response, Failed> {
        let done = tokio::time::timeout(self.server.timeout, conn.send(envelope, body)).await.map_err(|_| Failed::Timeout)?;
        self.put_back(conn);
        done.map_err(Failed::Smtp)
    }

    fn described(&self, failed: Failed) -> SendError {
        match failed {
            Failed::Smtp(err) => smtp_error(&err),
            Failed::Timeout => {
                (format!("no answer from {}:{} within {} s", self.server.host, self.server.port, self.server.timeout.as_secs()), false)
            }
        }
    }

    /// Says goodbye on connections idle past the limit.
    async fn close_stale(&self) {
        let stale: Vec<AsyncSmtpConnection> = {
            let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
            let (stale, fresh) = std::mem::take(&mut *idle).into_iter().partition(|(_, since)| since.elapsed() >= self.idle_limit);
            *idle = fresh;
            stale.into_iter().map(|(conn, _)| conn).collect()
        };
        for mut conn in stale {
            let _ = tokio::time::timeout(self.server.timeout, conn.quit()).await;
        }
    }
}

/// A turn to send through a transport, once its limits allow: holds one of
/// the company's connection slots.
pub(crate) struct Turn<'a> {
    route: &'a Route,
    _slot: Option<SemaphorePermit<'a>>,
}

impl Transport {
    /// Waits for a free connection slot, then for the rate limit.
    pub(crate) async fn turn(&self) -> Turn<'_> {
        let route = self.0.as_ref();
        let slot = match route {
            Route::Url(_) => None,
            Route::Company(pool) => {
                // Never closed: `acquire` cannot fail.
                let slot = pool.slots.acquire().await.ok();
                if let Some(rate) = &pool.rate {
                    rate.until_ready().await;
                }
                slot
            }
        };
        Turn { route, _slot: slot }
    }

    /// Closes connections that have idled past use.
    pub(crate) async fn close_stale(&self) {
        if let Route::Company(pool) = self.0.as_ref() {
            pool.close_stale().await;
        }
    }
}

impl Turn<'_> {
    /// Sends; `Ok` with the server's answer.
    pub(crate) async fn send(self, message: Message) -> Result<String, SendError> {
        let response = match self.route {
            Route::Url(smtp) => smtp.send(message).await.map_err(|e| smtp_error(&e))?,
            Route::Company(pool) => pool.send(&message).await?,
        };
        Ok(format!("{} {}", response.code(), response.message().collect::<Vec<_>>().join(" ")))
    }
}

/// The transport for a company's settings. Unless the operator allows
/// internal addresses, the host is checked right before connecting
/// ([`smtp_host`]).
pub(crate) fn company_transport(settings: &smtp_settings::Model, mail: &MailSettings) -> Result<Transport, String> {
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
    let connections = usize::try_from(settings.max_connections).unwrap_or(1).max(1);
    let rate = settings.max_per_second.and_then(|n| u32::try_from(n).ok()).and_then(NonZeroU32::new);
    let pool = Pool {
        server: Server::new(settings, mail, credentials)?,
        checked: (!mail.allow_private_smtp).then(OnceCell::new),
        idle: Mutex::new(Vec::with_capacity(connections)),
        idle_limit: mail.smtp_idle,
        slots: Semaphore::new(connections),
        rate: rate.map(|n| RateLimiter::direct(Quota::per_second(n))),
    };
    Ok(Transport(Arc::new(Route::Company(pool))))
}

/// The platform's transport from an `smtp://` / `smtps://` URL. The operator
/// configured it, so it is not checked.
pub(crate) fn url_transport(url: &str, timeout: Duration) -> Result<Transport, String> {
    Smtp::from_url(url)
        .map(|b| Transport(Arc::new(Route::Url(b.timeout(Some(timeout)).pool_config(PoolConfig::new().max_size(PLATFORM_POOL_SIZE)).build()))))
        .map_err(|e| e.to_string())
}

/// A TCP stream wrapped in TLS before the server's greeting (port 465).
/// lettre's `AsyncSmtpConnection` takes a stream of our own only in plain
/// text, so its TLS stream is set up here and handed over as one.
#[derive(Debug)]
#[allow(deprecated)] // `AsyncNetworkStream`: lettre's only way to its TLS set-up over our socket.
struct ImplicitTls(Compat<lettre::transport::smtp::client::AsyncNetworkStream>);

#[allow(deprecated)]
impl ImplicitTls {
    async fn over(stream: TcpStream, tls: TlsParameters) -> Result<Self, lettre::transport::smtp::Error> {
        let mut network = lettre::transport::smtp::client::AsyncNetworkStream::use_existing_tokio1(Box::new(stream));
        network.upgrade_tls(tls).await?;
        Ok(ImplicitTls(network.compat()))
    }
}

impl AsyncRead for ImplicitTls {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for ImplicitTls {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for ImplicitTls {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.get_ref().peer_addr()
    }
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

/// Sends as soon as the transport's limits allow; `Ok` with the server's
/// answer.
pub(crate) async fn send(transport: &Transport, message: Message) -> Result<String, SendError> {
    transport.turn().await.send(message).await
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
