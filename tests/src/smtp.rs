//! A real SMTP server for tests (mailin-embedded, in a thread), collecting the
//! mails it accepts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    net::{IpAddr, TcpListener},
    sync::{Arc, Mutex},
    time::Duration,
};

use mailin_embedded::{response, Handler, Response, Server};

/// A mail as the server received it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// Envelope sender.
    pub envelope_from: String,
    /// Envelope recipients.
    pub envelope_to: Vec<String>,
    /// The raw message.
    pub raw: Vec<u8>,
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

    /// The `Message-ID`.
    pub fn message_id(&self) -> String {
        self.parsed().message_id().unwrap_or_default().to_owned()
    }
}

#[derive(Clone)]
struct Collector {
    mails: Arc<Mutex<Vec<ReceivedMail>>>,
    current: Option<ReceivedMail>,
    /// How long accepting each message takes.
    delay: Duration,
}

impl Handler for Collector {
    fn helo(&mut self, _ip: IpAddr, _domain: &str) -> Response {
        response::OK
    }

    fn mail(&mut self, _ip: IpAddr, _domain: &str, from: &str) -> Response {
        self.current = Some(ReceivedMail { envelope_from: from.to_owned(), envelope_to: vec![], raw: vec![] });
        response::OK
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

    fn start_with(port: u16, delay: Duration) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind SMTP port");
        let mails = Arc::new(Mutex::new(Vec::new()));
        let mut server = Server::new(Collector { mails: mails.clone(), current: None, delay });
        server.with_name("smtp.test").with_num_threads(16).with_tcp_listener(listener);
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
