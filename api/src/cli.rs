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

fn print_demo_logins(base_url: &str, loaded: bool) {
    println!();
    println!("Rastro demo {}", if loaded { "data loaded" } else { "data already present" });
    println!("GraphiQL: {base_url}/graphiql");
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
