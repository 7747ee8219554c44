//! The `rastro` server binary; see `rastro --help`.

use clap::Parser;

/// A general-purpose allocator built for many threads and small objects:
/// parsing a call and serving a page allocate per element and per field.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    api::telemetry::init_tracing();
    api::cli::Cli::parse().run().await
}
