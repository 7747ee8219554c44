//! The `rastro` server binary; see `rastro --help`.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    api::telemetry::init_tracing();
    api::cli::Cli::parse().run().await
}
