//! The Huddle server: `huddle --help` lists its commands and settings.

use std::process::ExitCode;

use huddle::server::config::{Config, HELP};
use huddle::startup::Application;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let command = match args.as_slice() {
        [] => Command::Serve,
        ["--help" | "-h"] => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        ["--check-config"] => Command::CheckConfig,
        ["backup", file] => Command::Backup(std::path::PathBuf::from(file)),
        ["copy-to-postgres", url] => Command::CopyToPostgres(url.to_string()),
        _ => {
            eprintln!("huddle: unknown arguments {args:?}; `huddle --help` lists the commands");
            return ExitCode::from(2);
        }
    };
    // str0m warns of what browsers routinely offer (each connection's RED
    // payload type, say): only its errors, unless RUST_LOG names it.
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
    let filter = if filter.contains("str0m") { filter } else { format!("{filter},str0m=error") };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|_| "info,str0m=error".into()))
        .with_writer(std::io::stderr)
        .init();
    let result = match command {
        Command::Serve => serve().await,
        Command::CheckConfig => check_config(),
        Command::Backup(to) => backup(&to).await,
        Command::CopyToPostgres(url) => copy_to_postgres(&url).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("huddle: {e:#}");
            ExitCode::FAILURE
        }
    }
}

enum Command {
    Serve,
    CheckConfig,
    Backup(std::path::PathBuf),
    CopyToPostgres(String),
}

/// `huddle copy-to-postgres URL`: the SQLite database (`HUDDLE_DATABASE`)
/// copied into the empty PostgreSQL database at `URL`, and checked.
async fn copy_to_postgres(url: &str) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    #[cfg(feature = "postgres")]
    {
        let counts = huddle::server::db::copy::copy_to_postgres(&config.database, url).await?;
        for (table, rows) in &counts {
            println!("{table}: {rows} rows copied and compared");
        }
        println!("done: point HUDDLE_DATABASE at {} and start Huddle", huddle::server::db::Database::parse(url));
        Ok(())
    }
    #[cfg(not(feature = "postgres"))]
    {
        let _ = (config, url);
        anyhow::bail!("this build of Huddle has SQLite only: build it with --features ssr,postgres (docs/deploy.md) to copy into PostgreSQL")
    }
}

async fn serve() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let app = Application::build(config).await?;
    tracing::info!(addr = %app.addr(), origin = app.origin(), "Huddle is serving");
    app.run_until_stopped(shutdown_signal()).await?;
    tracing::info!("Huddle stopped");
    Ok(())
}

/// Prints every setting in force (secrets masked); a bad one, or a
/// certificate that does not load, is an error.
fn check_config() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    if let Some(files) = config.tls.clone() {
        huddle::server::tls::Certificates::load(files)?;
    }
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    let origin = config.public_origin.clone().unwrap_or_else(|| format!("{scheme}://{}", config.addr));
    for (name, value) in config.describe(&origin) {
        println!("{name}={value}");
    }
    println!("# the settings are valid");
    Ok(())
}

async fn backup(to: &std::path::Path) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let bytes = huddle::server::backup::backup(&config.database, to).await?;
    println!("backed up {} to {} ({bytes} bytes)", config.database, to.display());
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
