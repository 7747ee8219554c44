//! A real SMTP server for tests (mailin-embedded, in a thread), collecting the
//! mails it accepts. [`SmtpServer::start_secure`] is a server as a company's
//! relay would be: STARTTLS with a throwaway certificate (trusted by the test
//! configuration, see [`test_ca_pem`]) and AUTH PLAIN/LOGIN required, offered
//! only once the connection is encrypted.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    io::{BufRead, BufReader, Write},
    net::{IpAddr, TcpListener},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use mailin_embedded::{response, AuthMechanism, Handler, Response, Server, SslConfig};

/// A mail as the server received it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// Envelope sender.
    pub envelope_from: String,
    /// Envelope recipients.
    pub envelope_to: Vec<String>,
    /// The raw message.
    pub raw: Vec<u8>,
    /// The user the client authenticated as (on a server that requires it).
    pub authenticated_as: Option<String>,
}

/// The throwaway certificate of the secure test server: one per test process,
/// for `127.0.0.1` and `localhost`, self-signed, so the certificate is its own
/// authority. Its PEM files live in a temporary directory.
struct TestCertificate {
    cert_pem: String,
    cert_der: Vec<u8>,
    key_der: Vec<u8>,
    cert_path: String,
    key_path: String,
}

fn test_certificate() -> &'static TestCertificate {
    static CERT: std::sync::OnceLock<TestCertificate> = std::sync::OnceLock::new();
    CERT.get_or_init(|| {
        // The test server's rustls comes with two crypto providers in this
        // crate's graph (the server binary has one); name one. Another test
        // may have done so already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let generated = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).expect("a certificate");
        let dir = std::env::temp_dir().join(format!("rastro-smtp-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
        let cert_pem = generated.cert.pem();
        std::fs::write(&cert_path, &cert_pem).unwrap();
        std::fs::write(&key_path, generated.key_pair.serialize_pem()).unwrap();
        let (cert_der, key_der) = (generated.cert.der().to_vec(), generated.key_pair.serialize_der());
        TestCertificate { cert_pem, cert_der, key_der, cert_path: cert_path.display().to_string(), key_path: key_path.display().to_string() }
    })
}

/// The PEM certificate the test configuration trusts for company SMTP servers
/// (`RASTRO_SMTP_CA_FILE` in production).
pub fn test_ca_pem() -> Vec<u8> {
    test_certificate().cert_pem.as_bytes().to_vec()
}

impl ReceivedMail {
    /// The parsed message.
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default().parse(&self.raw).expect("a parsable message")
    }

    /// The decoded subject.
    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_owned()
    }

    /// The decoded plain-text body.
    pub fn text(&self) -> String {
        self.parsed().body_text(0).map(|t| t.into_owned()).unwrap_or_default()
    }

    /// The decoded HTML body.
    pub fn html(&self) -> String {
        self.parsed().body_html(0).map(|t| t.into_owned()).unwrap_or_default()
    }

    /// The `From` header's address and name.
    pub fn from(&self) -> (String, String) {
        let message = self.parsed();
        let addr = message.from().and_then(|a| a.first()).expect("a From header");
        (addr.address().unwrap_or_default().to_owned(), addr.name().unwrap_or_default().to_owned())
    }

    /// The `Reply-To` header's address, if any.
    pub fn reply_to(&self) -> Option<String> {
        let message = self.parsed();
        message.reply_to().and_then(|a| a.first()).and_then(|a| a.address()).map(str::to_owned)
    }

    /// The `Message-ID`.
    pub fn message_id(&self) -> String {
        self.parsed().message_id().unwrap_or_default().to_owned()
    }
}

#[derive(Clone)]
struct Collector {
    mails: Arc<Mutex<Vec<ReceivedMail>>>,
    current: Option<ReceivedMail>,
    /// The user and password AUTH must present, when required.
    account: Option<(String, String)>,
    /// Who authenticated on this connection.
    authenticated: Option<String>,
    /// How long accepting each message takes.
    delay: Duration,
}

impl Handler for Collector {
    fn helo(&mut self, _ip: IpAddr, _domain: &str) -> Response {
        response::OK
    }

    fn mail(&mut self, _ip: IpAddr, _domain: &str, from: &str) -> Response {
        if self.account.is_some() && self.authenticated.is_none() {
            return response::AUTHENTICATION_REQUIRED;
        }
        self.current = Some(ReceivedMail {
            envelope_from: from.to_owned(),
            envelope_to: vec![],
            raw: vec![],
            authenticated_as: self.authenticated.clone(),
        });
        response::OK
    }

    fn auth_plain(&mut self, _authorization_id: &str, user: &str, password: &str) -> Response {
        self.auth_login(user, password)
    }

    fn auth_login(&mut self, user: &str, password: &str) -> Response {
        match &self.account {
            Some((u, p)) if u == user && p == password => {
                self.authenticated = Some(user.to_owned());
                response::AUTH_OK
            }
            _ => response::INVALID_CREDENTIALS,
        }
    }

    fn rcpt(&mut self, to: &str) -> Response {
        if let Some(mail) = &mut self.current {
            mail.envelope_to.push(to.to_owned());
        }
        response::OK
    }

    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, _to: &[String]) -> Response {
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if let Some(mail) = &mut self.current {
            mail.raw.extend_from_slice(buf);
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        std::thread::sleep(self.delay);
        if let Some(mail) = self.current.take() {
            self.mails.lock().unwrap().push(mail);
        }
        response::OK
    }
}

/// A mail as the outbox holds it when it is due now: `PENDING`, not tried yet.
pub fn pending_mail(company_id: i32, recipient: &str, subject: &str, body: &str) -> entities::notification::ActiveModel {
    use sea_orm::Set;
    let now = chrono::Utc::now();
    entities::notification::ActiveModel {
        company_id: Set(Some(company_id)),
        kind: Set(entities::NotificationKind::Resend),
        recipient: Set(recipient.to_owned()),
        subject: Set(subject.to_owned()),
        html: Set(format!("<p>{body}</p>")),
        text: Set(body.to_owned()),
        state: Set(entities::NotificationState::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// A running SMTP server on 127.0.0.1.
pub struct SmtpServer {
    /// Its port.
    pub port: u16,
    mails: Arc<Mutex<Vec<ReceivedMail>>>,
}

/// A free port to start a server on later (an "outage" until then).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl SmtpServer {
    /// Starts a server on a free port.
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    /// Starts a server on `port`.
    pub fn start_on(port: u16) -> Self {
        Self::start_with(port, Duration::ZERO)
    }

    /// Starts a server on a free port that takes `delay` to accept each message.
    pub fn start_slow(delay: Duration) -> Self {
        Self::start_with(free_port(), delay)
    }

    /// Starts a server that offers STARTTLS with the test certificate and
    /// takes mail only from `user` with `password`, authenticated (PLAIN or
    /// LOGIN) over the encrypted connection.
    pub fn start_secure(user: &str, password: &str) -> Self {
        Self::start_full(free_port(), Duration::ZERO, Some((user.to_owned(), password.to_owned())))
    }

    /// Starts a server that speaks TLS from the first byte (port 465), with
    /// the test certificate: a TLS front on a free port passing the
    /// conversation to a plain server behind it.
    pub fn start_implicit_tls() -> Self {
        use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
        let behind = Self::start();
        let cert = test_certificate();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key_der.clone()));
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![CertificateDer::from(cert.cert_der.clone())], key)
            .expect("a TLS configuration");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let backend = behind.port;
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                while let Ok((stream, _)) = listener.accept().await {
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        let Ok(mut tls) = acceptor.accept(stream).await else { return };
                        let Ok(mut plain) = tokio::net::TcpStream::connect(("127.0.0.1", backend)).await else { return };
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                    });
                }
            });
        });
        SmtpServer { port, mails: behind.mails }
    }

    fn start_with(port: u16, delay: Duration) -> Self {
        Self::start_full(port, delay, None)
    }

    fn start_full(port: u16, delay: Duration, account: Option<(String, String)>) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind SMTP port");
        let mails = Arc::new(Mutex::new(Vec::new()));
        let secure = account.is_some();
        let mut server = Server::new(Collector { mails: mails.clone(), current: None, delay, account, authenticated: None });
        server.with_name("smtp.test").with_num_threads(16).with_tcp_listener(listener);
        if secure {
            let cert = test_certificate();
            server
                .with_ssl(SslConfig::SelfSigned { cert_path: cert.cert_path.clone(), key_path: cert.key_path.clone() })
                .expect("STARTTLS configuration");
            server.with_auth(AuthMechanism::Plain).with_auth(AuthMechanism::Login);
        }
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        SmtpServer { port, mails }
    }

    /// Everything received so far.
    pub fn mails(&self) -> Vec<ReceivedMail> {
        self.mails.lock().unwrap().clone()
    }

    /// Waits until at least `count` mails arrived (at most `within`), then
    /// returns all received.
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<ReceivedMail> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let mails = self.mails();
            if mails.len() >= count || tokio::time::Instant::now() >= deadline {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A relay that meters how it is used: connections opened, the most open at
/// once, the commands it heard and when each mail arrived. It speaks just
/// enough SMTP (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and follows its
/// [`RelayRules`].
pub struct MeteredRelay {
    /// Its port.
    pub port: u16,
    meter: Arc<Meter>,
}

/// How a [`MeteredRelay`] behaves besides taking mail.
#[derive(Clone, Copy, Default)]
pub struct RelayRules {
    /// Ends a session with `421` at the next `MAIL` after this many mails,
    /// as relays that cap mails per connection do.
    pub mails_per_session: Option<usize>,
    /// Refuses recipients containing this for good (`550`).
    pub refused: Option<&'static str>,
    /// Closes a connection left unused this long.
    pub idle_close: Option<Duration>,
    /// How long taking each mail takes.
    pub delay: Option<Duration>,
}

#[derive(Default)]
struct Meter {
    opened: AtomicUsize,
    open: AtomicUsize,
    most_open: AtomicUsize,
    commands: Mutex<Vec<String>>,
    arrivals: Mutex<Vec<Instant>>,
}

impl MeteredRelay {
    /// Starts a relay on a free port.
    pub fn start(rules: RelayRules) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let meter = Arc::new(Meter::default());
        let shared = meter.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let meter = shared.clone();
                meter.opened.fetch_add(1, Ordering::SeqCst);
                let now_open = meter.open.fetch_add(1, Ordering::SeqCst) + 1;
                meter.most_open.fetch_max(now_open, Ordering::SeqCst);
                std::thread::spawn(move || {
                    let _ = session(stream, &meter, rules);
                    meter.open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        MeteredRelay { port, meter }
    }

    /// Connections opened so far.
    pub fn opened(&self) -> usize {
        self.meter.opened.load(Ordering::SeqCst)
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.meter.open.load(Ordering::SeqCst)
    }

    /// The most connections that were open at once.
    pub fn most_open(&self) -> usize {
        self.meter.most_open.load(Ordering::SeqCst)
    }

    /// How many commands heard start with `verb` (`NOOP`, `RCPT TO:<a@b>`, …).
    pub fn heard(&self, verb: &str) -> usize {
        self.meter.commands.lock().unwrap().iter().filter(|c| c.starts_with(verb)).count()
    }

    /// When each mail was taken, in order.
    pub fn arrivals(&self) -> Vec<Instant> {
        self.meter.arrivals.lock().unwrap().clone()
    }
}

fn session(stream: std::net::TcpStream, meter: &Meter, rules: RelayRules) -> std::io::Result<()> {
    stream.set_read_timeout(rules.idle_close)?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    writer.write_all(b"220 metered.test ESMTP\r\n")?;
    let (mut taken, mut in_data, mut line) = (0, false, Vec::new());
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                writer.write_all(b"421 metered.test idle too long\r\n")?;
                return Ok(());
            }
            Err(e) => return Err(e),
        }
        if in_data {
            if line == b".\r\n" {
                in_data = false;
                taken += 1;
                std::thread::sleep(rules.delay.unwrap_or_default());
                meter.arrivals.lock().unwrap().push(Instant::now());
                writer.write_all(b"250 taken\r\n")?;
            }
            continue;
        }
        let command = String::from_utf8_lossy(&line).trim_end().to_ascii_uppercase();
        meter.commands.lock().unwrap().push(command.clone());
        let refused = rules.refused.is_some_and(|r| command.contains(&r.to_ascii_uppercase()));
        let reply: &[u8] = match command.get(..4).unwrap_or_default() {
            "EHLO" => b"250-metered.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "MAIL" if rules.mails_per_session.is_some_and(|most| taken >= most) => {
                writer.write_all(b"421 metered.test closing: enough mails for one session\r\n")?;
                return Ok(());
            }
            "RCPT" if refused => b"550 no such mailbox\r\n",
            "DATA" => {
                in_data = true;
                b"354 go ahead\r\n"
            }
            "QUIT" => {
                writer.write_all(b"221 bye\r\n")?;
                return Ok(());
            }
            _ => b"250 ok\r\n",
        };
        writer.write_all(reply)?;
    }
}
