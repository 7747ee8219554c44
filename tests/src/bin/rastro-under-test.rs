//! The `rastro` server, built as part of the test package so black-box tests can
//! run it as a separate process (Cargo builds a package's binaries before its
//! integration tests and tells them where: `CARGO_BIN_EXE_rastro-under-test`).
//! It is `api/src/main.rs`, line for line.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    api::telemetry::init_tracing();
    api::cli::Cli::parse().run().await
}
