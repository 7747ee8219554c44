//! The `rastro` command line.

use std::path::PathBuf;

use anyhow::Context;

use crate::{
    config::{Config, ServerArgs},
    startup::{domain_ctx, open_database, shutdown_signal, Application},
};

/// Rastro: order tracking platform server.
#[derive(clap::Parser)]
#[command(name = "rastro", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    server: ServerArgs,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Migrate the database and serve (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Create a platform admin.
    CreateAdmin {
        /// The admin's e-mail.
        #[arg(long)]
        email: String,
        /// The password (10+ characters, letters and digits).
        #[arg(long, env = "RASTRO_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Migrate, load demo data (once), print the demo logins, and serve.
    Demo,
    /// Import orders from files through the ingestion pipeline, as the
    /// company's integration: each file is one integration run. With
    /// `rastro-csv` (the default) files are order-lines CSV, e.g. from another
    /// Rastro's `/exports/order-lines.csv`, and importing the same file again
    /// changes nothing; with another adapter each file is one saved request
    /// of its protocol (a `totvs-r2` SOAP envelope).
    Import {
        /// The company's identifier.
        #[arg(long)]
        company: String,
        /// The adapter that reads the files.
        #[arg(long, default_value = adapter_rastro_csv::NAME)]
        adapter: String,
        /// The files, imported in order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the GraphQL schema (SDL), or write it to a file.
    ExportSchema {
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

impl Cli {
    /// Runs the chosen command.
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command.unwrap_or(Command::Serve) {
            Command::ExportSchema { out } => {
                let sdl = crate::graphql::sdl();
                match out {
                    Some(path) => std::fs::write(&path, sdl).with_context(|| format!("writing {}", path.display()))?,
                    None => print!("{sdl}"),
                }
                Ok(())
            }
            Command::Serve => serve(Config::from_args(&self.server).await?, None).await,
            Command::Migrate => {
                open_database(&Config::from_args(&self.server).await?).await?;
                tracing::info!("migrations applied");
                Ok(())
            }
            Command::CreateAdmin { email, password } => {
                let config = Config::from_args(&self.server).await?;
                let ctx = domain_ctx(&config, open_database(&config).await?).await?;
                let admin = domain::users::create_admin(&ctx, &domain::Actor::system("create-admin command"), &email, &password)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                println!("created admin {} (id {})", admin.email, admin.id);
                Ok(())
            }
            Command::Import { company, adapter, files } => {
                let config = Config::from_args(&self.server).await?;
                let ctx = domain_ctx(&config, open_database(&config).await?).await?;
                import(&ctx, &company, &adapter, &files, config.integrations.body_bytes).await
            }
            Command::Demo => {
                let config = Config::from_args(&self.server).await?;
                let db = open_database(&config).await?;
                let ctx = domain_ctx(&config, db.clone()).await?;
                let loaded = domain::demo::load(&ctx).await.map_err(|e| anyhow::anyhow!("loading demo data: {e}"))?;
                serve(config, Some((db, loaded))).await
            }
        }
    }
}

async fn import(ctx: &domain::Ctx, company: &str, adapter: &str, files: &[PathBuf], limit: usize) -> anyhow::Result<()> {
    let system = domain::Actor::system("import command");
    let company = domain::companies::by_identifier(ctx, &system, company).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let adapters = crate::adapters::all();
    let adapter = adapters
        .iter()
        .find(|a| a.name() == adapter)
        .with_context(|| format!("no adapter {adapter} (have: {})", adapters.iter().map(|a| a.name()).collect::<Vec<_>>().join(", ")))?;
    let mut failed = 0;
    for file in files {
        let bar = crate::import::progress_bar(&file.display().to_string());
        let summary = if adapter.name() == adapter_rastro_csv::NAME {
            crate::import::import_csv(ctx, company.id, *adapter, file, &bar).await?
        } else {
            crate::import::import_request(ctx, company.id, *adapter, file, limit, &bar).await?
        };
        println!("{}: {summary}", file.display());
        failed += summary.report.failed + usize::from(summary.error.is_some());
    }
    if failed > 0 {
        anyhow::bail!("{failed} orders or parts failed; integrationRun(id) shows why");
    }
    Ok(())
}

fn print_demo_logins(base_url: &str, loaded: bool) {
    println!();
    println!("Rastro demo {}", if loaded { "data loaded" } else { "data already present" });
    println!("GraphiQL: {base_url}/graphiql");
    println!("Portal:   {base_url}/login?company=acme-logistica (customers), {base_url}/admin/login (company staff), {base_url}/support/login (support)");
    println!("{:<9} {:<16} {:<24} password", "role", "company", "e-mail");
    for login in domain::demo::logins() {
        println!("{:<9} {:<16} {:<24} {}", login.role, login.company.unwrap_or("-"), login.email, login.password);
    }
    println!();
}

async fn serve(config: Config, demo: Option<(sea_orm::DatabaseConnection, bool)>) -> anyhow::Result<()> {
    let app = match demo {
        Some((db, loaded)) => {
            let app = Application::with_database(config, db).await?;
            print_demo_logins(&format!("http://{}", app.local_addr()?), loaded);
            app
        }
        None => Application::build(config).await?,
    };
    tracing::info!(addr = %app.local_addr()?, "listening");
    app.run_until(shutdown_signal()).await
}
