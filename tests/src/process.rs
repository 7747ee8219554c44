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

/// `target/<profile>/rastro`, beside the directory of this test executable.
fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(|deps| deps.parent()).expect("target dir");
    let binary = dir.join("rastro");
    assert!(binary.exists(), "{} is missing: run `cargo build` first", binary.display());
    binary
}

impl RastroProcess {
    /// Starts `rastro serve` on `database_url` and waits until it answers.
    pub async fn start(database_url: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(binary())
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("RASTRO_BIND", format!("127.0.0.1:{port}"))
            .env("RASTRO_JWT_SECRET", "test-secret-".repeat(4))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn rastro");
        let process = RastroProcess { child, base: format!("http://127.0.0.1:{port}"), http: reqwest::Client::new() };
        for _ in 0..100 {
            if process.http.get(format!("{}/healthz", process.base)).send().await.is_ok_and(|r| r.status().is_success()) {
                return process;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("rastro did not start on port {port}");
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

    /// Logs in through this process.
    pub async fn login(&self, email: &str, password: &str, company: &str) -> String {
        let response = self
            .http
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": "mutation($e: String!, $p: String!, $c: String) { login(email: $e, password: $p, company: $c) { accessToken } }",
                "variables": { "e": email, "p": password, "c": company } }))
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        body["data"]["login"]["accessToken"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned()
    }

    /// Stops the process with SIGTERM-like kill and waits for it.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
