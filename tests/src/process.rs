//! The real `rastro` binary as a second server process.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{path::PathBuf, process::Stdio, time::Duration};

use serde_json::{json, Value};
use tokio::process::{Child, Command};

/// A `rastro serve` process on a given database.
pub struct RastroProcess {
    child: Child,
    base: String,
    http: reqwest::Client,
}

/// The server binary Cargo built for these tests (see `src/bin`): beside the
/// running executable (the crash test) or one level up (test binaries live in
/// `target/<profile>/deps`).
fn binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let candidates: Vec<PathBuf> = exe.ancestors().skip(1).take(2).map(|dir| dir.join("rastro-under-test")).collect();
    let found = candidates.iter().find(|c| c.exists()).cloned();
    found.unwrap_or_else(|| panic!("rastro-under-test is missing beside {}; build with `cargo build -p tests --bins`", exe.display()))
}

/// Runs a one-off `rastro` command (`import`, `migrate`, …) on `database_url`
/// and waits for it; its exit status and standard output.
pub async fn run_command(database_url: &str, args: &[&str]) -> (std::process::ExitStatus, String, String) {
    let output = Command::new(binary())
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RASTRO_JWT_SECRET", "test-secret-".repeat(4))
        .env("RASTRO_SECRET_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("run rastro");
    (output.status, String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

impl RastroProcess {
    /// Starts `rastro serve` on `database_url` and waits until it answers.
    pub async fn start(database_url: &str) -> Self {
        Self::start_with(database_url, &[]).await
    }

    /// Like [`RastroProcess::start`], with a mail worker that retries as fast as
    /// the tests' own — and as often: with the default 8 attempts, fast
    /// retries give up after about 2 s of outage.
    pub async fn start_with_fast_mail(database_url: &str) -> Self {
        Self::start_with(
            database_url,
            &[("RASTRO_MAIL_BACKOFF_MS", "100"), ("RASTRO_MAIL_BACKOFF_MAX_MS", "400"), ("RASTRO_MAIL_POLL_MS", "100"), ("RASTRO_MAIL_MAX_ATTEMPTS", "1000")],
        )
        .await
    }

    /// Like [`RastroProcess::start`], with extra environment variables.
    pub async fn start_with(database_url: &str, env: &[(&str, &str)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(binary())
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("RASTRO_BIND", format!("127.0.0.1:{port}"))
            .env("RASTRO_JWT_SECRET", "test-secret-".repeat(4))
            .env("RUST_LOG", "warn")
            // The tests' SMTP sink listens on 127.0.0.1.
            .env("RASTRO_SMTP_ALLOW_PRIVATE", "true")
            .env("RASTRO_SECRET_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn rastro");
        let mut process = RastroProcess { child, base: format!("http://127.0.0.1:{port}"), http: reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap() };
        for _ in 0..100 {
            if process.http.get(format!("{}/healthz", process.base)).send().await.is_ok_and(|r| r.status().is_success()) {
                return process;
            }
            // Its reason is on standard error, which the test's output shows.
            if let Ok(Some(status)) = process.child.try_wait() {
                panic!("rastro exited before answering on port {port}: {status}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("rastro did not start on port {port}");
    }

    /// Runs `rastro serve` with `env` on `database_url`, expecting it to refuse to
    /// start; returns whether it exited with failure and what it printed on stderr.
    pub async fn refused_start(database_url: &str, env: &[(&str, &str)]) -> (bool, String) {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let run = Command::new(binary())
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("RASTRO_BIND", format!("127.0.0.1:{port}"))
            .env("RASTRO_JWT_SECRET", "test-secret-".repeat(4))
            .env("RASTRO_SECRET_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .output();
        let output = tokio::time::timeout(Duration::from_secs(30), run).await.expect("rastro kept running").expect("run rastro");
        (!output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
    }

    /// Runs a GraphQL operation against this process.
    pub async fn gql(&self, token: &str, query: &str, variables: Value) -> Value {
        let response = self
            .http
            .post(format!("{}/graphql", self.base))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    }

    /// Logs in through this process; returns the `login` result (access and
    /// refresh token, expiry).
    pub async fn login_session(&self, email: &str, password: &str, company: Option<&str>) -> Value {
        let response = self
            .http
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": "mutation($e: String!, $p: String!, $c: String) { login(email: $e, password: $p, company: $c) { accessToken expiresAt refreshToken } }",
                "variables": { "e": email, "p": password, "c": company } }))
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        assert!(body["data"]["login"].is_object(), "login failed: {body}");
        body["data"]["login"].clone()
    }

    /// Logs in through this process.
    pub async fn login(&self, email: &str, password: &str, company: &str) -> String {
        let session = self.login_session(email, password, Some(company)).await;
        session["accessToken"].as_str().unwrap_or_else(|| panic!("{session}")).to_owned()
    }

    /// The process's resident memory now and at its peak, in KiB. Panics when
    /// they cannot be read: a memory check must not pass on zeros.
    pub fn memory_kib(&self) -> (u64, u64) {
        let pid = self.child.id().expect("the process is running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/<pid>/status is readable");
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Waits for the process to exit by itself, at most `wait`; its exit status.
    pub async fn wait_exit(&mut self, wait: Duration) -> Option<std::process::ExitStatus> {
        tokio::time::timeout(wait, self.child.wait()).await.ok().and_then(Result::ok)
    }

    /// Sends SIGTERM, asking the server to stop gracefully.
    pub async fn terminate(&self) {
        let pid = self.pid().expect("running").to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().await.expect("run kill");
        assert!(sent.success(), "kill -TERM {pid}");
    }

    /// The base URL, `http://127.0.0.1:port`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// SIGKILLs the process (no chance to clean up) and waits for it.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    /// Stops the process and waits for it.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
