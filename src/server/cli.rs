//! The `roster` command line: serve the site, or run one maintenance task.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use super::{config::Config, db, search::sync, seed, startup, telemetry};

#[derive(Parser)]
#[command(name = "roster", version, about = "A self-hosted contact directory")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web application (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Add generated demo contacts (deterministic for a given seed).
    Seed {
        /// How many contacts to add.
        #[arg(long, default_value_t = 1_000)]
        count: u64,
        /// The generator's seed: the same seed and count give the same contacts.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Do nothing if the directory already holds contacts.
        #[arg(long)]
        if_empty: bool,
    },
    /// Import contacts from a CSV or vCard file: a dry run, then the commit (rows with
    /// a known email update their contact; importing the same file again changes nothing).
    Import {
        /// The file (`.vcf` is read as vCard, anything else as CSV).
        file: std::path::PathBuf,
        /// Only report what would happen.
        #[arg(long)]
        dry_run: bool,
    },
    /// Rebuild the search index from Postgres (or ask the running servers to).
    Reindex,
    /// Measure performance (see docs/PERFORMANCE.md).
    Bench {
        #[command(subcommand)]
        what: Bench,
    },
}

#[derive(Subcommand)]
enum Bench {
    /// Importing a generated CSV into a fresh database, index included, then again.
    Import {
        /// Rows in the file.
        #[arg(long, default_value_t = 100_000)]
        rows: u64,
    },
    /// The search index against Postgres ILIKE and full text, on one query set.
    Search {
        /// Contacts in the bench database (seeded on first use).
        #[arg(long, default_value_t = 100_000)]
        contacts: u64,
        /// Queries in the mixed set.
        #[arg(long, default_value_t = 800)]
        queries: usize,
        /// Queries of the set run on each Postgres engine.
        #[arg(long, default_value_t = 80)]
        postgres_queries: usize,
        /// Timed passes over the set on the index.
        #[arg(long, default_value_t = 3)]
        passes: usize,
        /// Seed of the query set.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Keep the index in this folder between runs (built only when missing).
        #[arg(long)]
        index_dir: Option<std::path::PathBuf>,
        /// Run only this search (a URL query string such as `q=sa&tier=1`); repeatable.
        #[arg(long = "query")]
        only: Vec<String>,
    },
}

/// Parses the command line, runs the command, and turns failures into a message and
/// a non-zero exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("roster: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("roster: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command.unwrap_or(Command::Serve), config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("roster: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let app = startup::Application::build(config).await?;
            app.run_until(startup::shutdown_signal()).await
        }
        Command::Migrate => {
            let pool = db::connect(&config).await?;
            db::migrate(&pool).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Seed {
            count,
            seed,
            if_empty,
        } => {
            let pool = db::connect(&config).await?;
            db::migrate(&pool).await?;
            let report = seed::seed(
                &pool,
                seed::SeedOptions {
                    count,
                    seed,
                    if_empty,
                },
            )
            .await?;
            println!("{report}");
            Ok(())
        }
        Command::Bench {
            what: Bench::Import { rows },
        } => {
            println!("{}", super::bench::import(&config, rows).await?);
            Ok(())
        }
        Command::Bench {
            what:
                Bench::Search {
                    contacts,
                    queries,
                    postgres_queries,
                    passes,
                    seed,
                    index_dir,
                    only,
                },
        } => {
            let options = super::bench::BenchOptions {
                contacts,
                queries,
                postgres_queries,
                passes,
                seed,
                index_dir,
                only,
            };
            let report = super::bench::run(&config, options).await?;
            println!("{report}");
            Ok(())
        }
        Command::Import { file, dry_run } => {
            let pool = db::connect(&config).await?;
            db::migrate(&pool).await?;
            super::import::command_line(&pool, &config.data_dir, &file, dry_run).await
        }
        Command::Reindex => {
            let pool = db::connect(&config).await?;
            db::migrate(&pool).await?;
            let root = config.data_dir.join("index");
            match sync::reindex(&pool, &root).await? {
                sync::Reindexed::Built { documents, seconds } => println!(
                    "search index rebuilt in {}: {documents} contacts in {seconds:.1} s",
                    root.display()
                ),
                sync::Reindexed::Requested => println!(
                    "a running server is using {}; asked every running server to rebuild its index",
                    root.display()
                ),
            }
            Ok(())
        }
    }
}
