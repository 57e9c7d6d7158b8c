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
    /// Write the database to FILE (PostgreSQL's archive format, through pg_dump): one
    /// consistent snapshot, taken while the servers keep running.
    Backup { file: std::path::PathBuf },
    /// Restore a backup made by `roster backup` into the database, in one transaction.
    /// Stop the servers that use the database first; each rebuilds its search index
    /// from the restored data when it starts.
    Restore {
        file: std::path::PathBuf,
        /// Replace the data the database already holds (refused without this).
        #[arg(long)]
        replace: bool,
    },
    /// Manage accounts (a new password is read from standard input).
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Measure performance (see docs/PERFORMANCE.md).
    Bench {
        #[command(subcommand)]
        what: Bench,
    },
    /// Drive a running Roster as many people would, and report (`make loadtest`).
    /// Works only in a database whose name starts with `roster_load`.
    Loadtest {
        #[command(subcommand)]
        what: Loadtest,
    },
}

impl Command {
    /// Commands that work on the whole database (not the web's requests), and so are not
    /// bound by its statement timeout: a seed or reindex of millions of contacts takes
    /// longer than any page may.
    fn is_maintenance(&self) -> bool {
        match self {
            Command::Migrate
            | Command::Seed { .. }
            | Command::Import { .. }
            | Command::Backup { .. }
            | Command::Restore { .. }
            | Command::Reindex
            | Command::Loadtest {
                what: Loadtest::Prepare { .. },
            } => true,
            // The benches measure what the server does, under its settings.
            Command::Serve
            | Command::User { .. }
            | Command::Bench { .. }
            | Command::Loadtest { .. } => false,
        }
    }
}

#[derive(Subcommand)]
enum Loadtest {
    /// Ready the load-test database: contacts, the full-text baseline, accounts.
    Prepare {
        #[arg(long, default_value_t = 1_000_000)]
        contacts: u64,
        #[arg(long, default_value_t = 500)]
        accounts: usize,
    },
    /// The open model: visits arriving at a set rate, in three phases.
    Visits {
        /// The running Roster.
        #[arg(long, default_value = "http://127.0.0.1:3400")]
        url: String,
        /// Its `/metrics` on the metrics address, for the server's own figures.
        #[arg(long)]
        metrics_url: Option<String>,
        #[arg(long, default_value_t = 500)]
        accounts: usize,
        /// Seconds of the warm-up, sustained and peak phases (0 skips one).
        #[arg(long, default_value_t = 60)]
        warm_up_secs: u64,
        #[arg(long, default_value_t = 120)]
        sustained_secs: u64,
        #[arg(long, default_value_t = 60)]
        peak_secs: u64,
        /// New visits per second in each phase.
        #[arg(long, default_value_t = 10.0)]
        warm_up_rate: f64,
        #[arg(long, default_value_t = 50.0)]
        sustained_rate: f64,
        #[arg(long, default_value_t = 100.0)]
        peak_rate: f64,
        /// Share of visits that sign in anew (every account's first visit does).
        #[arg(long, default_value_t = 0.2)]
        sign_in_share: f64,
        /// Share of visits that edit the contact they open.
        #[arg(long, default_value_t = 0.1)]
        edit_share: f64,
        /// Pauses between steps, as a multiple of a person's pace.
        #[arg(long, default_value_t = 1.0)]
        pace: f64,
    },
    /// Throughput: server-rendered search pages on N connections, then beside many
    /// idle keep-alive connections, then the same queries on Postgres full text.
    Pages {
        #[arg(long, default_value = "http://127.0.0.1:3400")]
        url: String,
        #[arg(long)]
        metrics_url: Option<String>,
        #[arg(long, default_value_t = 500)]
        accounts: usize,
        #[arg(long, default_value_t = 200)]
        connections: usize,
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Pages a second in all for the open-model runs.
        #[arg(long, default_value_t = 3000.0)]
        rate: f64,
        /// Idle keep-alive connections for the last run (0 skips it).
        #[arg(long, default_value_t = 10_000)]
        idle_connections: usize,
        /// The Postgres baseline's pool (the server's default pool is 20).
        #[arg(long, default_value_t = 20)]
        postgres_connections: u32,
        /// Distinct searches drawn from the directory; requests take them in turn, so
        /// none repeats until all were asked (more than the run asks: none cached).
        #[arg(long, default_value_t = 2_000)]
        queries: usize,
        /// Seed of the searches drawn (another seed, other searches).
        #[arg(long, default_value_t = 11)]
        seed: u64,
        /// Only the runs at `--rate` (no closed loop, no Postgres baseline).
        #[arg(long)]
        rate_only: bool,
        /// What is asked: search pages, or the search box's server function.
        #[arg(long, value_enum, default_value_t = super::loadtest::pages::Endpoint::Page)]
        endpoint: super::loadtest::pages::Endpoint,
    },
    /// Reads while writes run: searches at a fixed rate alone, beside steady edits, then
    /// beside the edits and an import; and how soon each probed edit is found by search
    /// on every instance given.
    Writes {
        /// Where the reads and edits go.
        #[arg(long, default_value = "http://127.0.0.1:3400")]
        url: String,
        /// An instance to look for probed edits on (repeatable; default: `--url`).
        #[arg(long = "probe")]
        probes: Vec<String>,
        #[arg(long, default_value_t = 500)]
        accounts: usize,
        #[arg(long, default_value_t = 200)]
        connections: usize,
        /// Reads a second.
        #[arg(long, default_value_t = 300.0)]
        rate: f64,
        #[arg(long, value_enum, default_value_t = super::loadtest::pages::Endpoint::Page)]
        endpoint: super::loadtest::pages::Endpoint,
        /// Distinct searches the reads take in turn.
        #[arg(long, default_value_t = 2_000)]
        queries: usize,
        #[arg(long, default_value_t = 11)]
        seed: u64,
        #[arg(long, default_value_t = 50.0)]
        edits_per_second: f64,
        /// Look for one edit in this many on every probed instance.
        #[arg(long, default_value_t = 5)]
        probe_every: usize,
        /// Seconds measured in each phase.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Rows of the import beside the reads and edits (0: no import phase).
        #[arg(long, default_value_t = 0)]
        import_rows: u64,
        /// Seconds of the import phase (the import starts with it).
        #[arg(long, default_value_t = 60)]
        import_seconds: u64,
    },
    /// The visits' mix by a fixed crowd for a long stretch, then a verdict: no errors,
    /// p99 within the targets, the server's memory growing under 10% (`make soak`).
    /// Exits non-zero when the verdict is a failure.
    Soak {
        #[arg(long, default_value = "http://127.0.0.1:3400")]
        url: String,
        #[arg(long)]
        metrics_url: Option<String>,
        /// Accounts to sign in as (default: one per person).
        #[arg(long)]
        accounts: Option<usize>,
        /// People visiting at once.
        #[arg(long, default_value_t = 200)]
        users: usize,
        #[arg(long, default_value_t = 600)]
        seconds: u64,
        /// The server's process id (its memory is read from /proc).
        #[arg(long)]
        server_pid: u32,
        /// Seconds into the run of the memory reference sample.
        #[arg(long, default_value_t = 120)]
        memory_from_secs: u64,
    },
}

#[derive(Subcommand)]
enum UserAction {
    /// Create an account; its password is read from standard input (one line).
    Add {
        #[arg(long)]
        email: String,
        /// viewer, editor or admin.
        #[arg(long, default_value = "viewer")]
        role: String,
    },
    /// Change an account's role (its sessions end).
    SetRole {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: String,
    },
    /// Disable an account (its sessions end).
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled account.
    Enable {
        #[arg(long)]
        email: String,
    },
    /// End every session of an account (changing nothing else).
    EndSessions {
        #[arg(long)]
        email: String,
    },
    /// Set an account's password, read from standard input (one line); its sessions end.
    SetPassword {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum Bench {
    /// Importing rich generated contacts as CSV and as vCard into a directory, index
    /// included, then again; then exporting the directory as vCard.
    Import {
        /// Rows in each file.
        #[arg(long, default_value_t = 100_000)]
        rows: u64,
        /// Contacts in the directory imported into (seeded once, then copied).
        #[arg(long, default_value_t = 0)]
        into: u64,
    },
    /// The search index against Postgres full text (GIN, and RUM where installed) and
    /// SQLite FTS5, tuned, on the same questions, with their answers compared.
    Search {
        /// Contacts in the bench database (seeded on first use).
        #[arg(long, default_value_t = 100_000)]
        contacts: u64,
        /// Queries in the mixed set (every engine runs them all).
        #[arg(long, default_value_t = 1_000)]
        queries: usize,
        /// Timed runs over the set on each engine (after one untimed warm-up run).
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Seed of the query set.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Keep the index and the SQLite copy in this folder between runs (built only
        /// when missing or made from other contacts).
        #[arg(long)]
        index_dir: Option<std::path::PathBuf>,
        /// Run only this search (a URL query string such as `q=sa&tier=1`); repeatable.
        #[arg(long = "query")]
        only: Vec<String>,
        /// The engines compared with the index, comma-separated (the index always
        /// runs; `--engines` with none after it runs the index alone).
        #[arg(
            long,
            value_enum,
            value_delimiter = ',',
            num_args = 0..,
            default_values_t = [
                super::bench::Compared::Postgres,
                super::bench::Compared::Rum,
                super::bench::Compared::Sqlite,
            ]
        )]
        engines: Vec<super::bench::Compared>,
    },
    /// From a server's process start to its first correct search, on an index on disk
    /// and on none (built from Postgres), on the bench database of `--contacts`.
    Start {
        /// Contacts in the bench database (seeded on first use).
        #[arg(long, default_value_t = 100_000)]
        contacts: u64,
    },
    /// Directory pages past the first and contact pages of a running Roster, each a
    /// different URL, asked one at a time (contacts drawn from `DATABASE_URL`), signed
    /// in as the load test's first account (`roster loadtest prepare` makes it).
    Pages {
        #[arg(long, default_value = "http://127.0.0.1:3400")]
        url: String,
        /// Timed requests of each kind.
        #[arg(long, default_value_t = 2000)]
        requests: usize,
        #[arg(long, default_value_t = 100)]
        warm_up: usize,
        #[arg(long, default_value_t = 11)]
        seed: u64,
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
    super::phones::set_default_region_from(&config);
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
    let config = if command.is_maintenance() {
        config.for_maintenance()
    } else {
        config
    };
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
            what: Bench::Import { rows, into },
        } => {
            println!("{}", super::bench::import(&config, rows, into).await?);
            Ok(())
        }
        Command::Bench {
            what:
                Bench::Search {
                    contacts,
                    queries,
                    runs,
                    seed,
                    index_dir,
                    only,
                    engines,
                },
        } => {
            let options = super::bench::BenchOptions {
                contacts,
                queries,
                runs,
                seed,
                index_dir,
                only,
                compared: engines,
            };
            let report = super::bench::run(&config, options).await?;
            println!("{report}");
            Ok(())
        }
        Command::Bench {
            what: Bench::Start { contacts },
        } => {
            let options = super::bench::start::StartOptions { contacts };
            println!("{}", super::bench::start::run(&config, options).await?);
            Ok(())
        }
        Command::Bench {
            what:
                Bench::Pages {
                    url,
                    requests,
                    warm_up,
                    seed,
                },
        } => {
            let options = super::bench::pages::PagesOptions {
                url,
                requests,
                warm_up,
                seed,
            };
            println!("{}", super::bench::pages::run(&config, options).await?);
            Ok(())
        }
        Command::Loadtest { what } => {
            println!("{}", loadtest(&config, what).await?);
            Ok(())
        }
        Command::Import { file, dry_run } => {
            let pool = db::connect(&config).await?;
            db::migrate(&pool).await?;
            super::import::command_line(
                &pool,
                &config.data_dir,
                &file,
                dry_run,
                super::import::ImportLimits::from_config(&config),
            )
            .await
        }
        Command::User { action } => user(action, &config).await,
        Command::Backup { file } => {
            println!("{}", super::backup::backup(&config, &file).await?);
            Ok(())
        }
        Command::Restore { file, replace } => {
            println!("{}", super::backup::restore(&config, &file, replace).await?);
            Ok(())
        }
        Command::Reindex => {
            let pool = db::connect(&config).await?;
            db::migrate(&pool).await?;
            let index = config.search_index();
            let root = index.root().to_owned();
            match sync::reindex(&pool, index).await? {
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

/// Reads a password: one line of standard input (prompted for when it is a terminal).
fn read_password() -> anyhow::Result<String> {
    use std::io::{BufRead as _, IsTerminal as _};
    if std::io::stdin().is_terminal() {
        // Typed without echo, as `passwd` reads it.
        let prompt = format!(
            "Password (at least {} characters, not a common one): ",
            crate::domain::account::MIN_PASSWORD_CHARS
        );
        return Ok(read_without_echo(&prompt)?);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Prompts on the terminal and reads a line typed there without showing it, as
/// `passwd` does. Echo goes off before the prompt shows, so nothing typed after the
/// prompt is seen, and comes back however the read ends.
fn read_without_echo(prompt: &str) -> std::io::Result<String> {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    use std::io::{BufRead as _, Write as _};
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")?;
    let saved = tcgetattr(&tty)?;
    let mut quiet = saved.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    // The Enter typed still moves to a new line.
    quiet.local_modes.insert(LocalModes::ECHONL);
    tcsetattr(&tty, OptionalActions::Flush, &quiet)?;
    struct Restore<'a>(&'a std::fs::File, rustix::termios::Termios);
    impl Drop for Restore<'_> {
        fn drop(&mut self) {
            let _ = tcsetattr(self.0, OptionalActions::Now, &self.1);
        }
    }
    let _restore = Restore(&tty, saved);
    (&tty).write_all(prompt.as_bytes())?;
    (&tty).flush()?;
    let mut line = String::new();
    std::io::BufReader::new(&tty).read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn user(action: UserAction, config: &Config) -> anyhow::Result<()> {
    use super::auth::{Sessions, password, users};
    use crate::domain::Role;

    let pool = db::connect(config).await?;
    db::migrate(&pool).await?;
    let role_of = |text: &str| {
        Role::parse(text)
            .ok_or_else(|| anyhow::anyhow!("{text:?} is not a role: viewer, editor or admin"))
    };
    let account = |email: String| {
        let pool = pool.clone();
        async move {
            db::users::by_email(&pool, &email)
                .await?
                .ok_or_else(|| anyhow::anyhow!("there is no account with the email {email}"))
        }
    };
    // Ending sessions needs the store the servers use.
    let deployment = super::auth::sessions::Deployment {
        db: pool.clone(),
        directory: super::search::sync::directory_id(&pool).await?,
    };
    let sessions = match &config.redis_url {
        Some(url) => {
            let sessions = Sessions::redis(
                super::redis::connect_with_timeout(url, super::redis::SESSION_COMMAND_TIMEOUT)?,
                &config.redis_prefix,
                deployment,
            );
            wait_for_redis(&sessions).await;
            sessions
        }
        None => Sessions::memory(deployment),
    };
    // Whether the change's sessions ended; if not, says so and fails.
    let ended = |what: String, ended: users::Ended| -> anyhow::Result<()> {
        match ended {
            Ok(_) if sessions.is_shared() => {
                println!("{what}; their sessions have ended on every server");
                Ok(())
            }
            Ok(_) => anyhow::bail!(
                "{what}, but their sessions kept in Redis were NOT ended: REDIS_URL is not set, \
                 so this command cannot reach the session store. Servers without Redis refuse \
                 those sessions at their next request; for servers with Redis, run \
                 `roster user end-sessions` with the servers' REDIS_URL and ROSTER_REDIS_PREFIX"
            ),
            Err(users::SessionsNotEnded(error)) => anyhow::bail!(
                "{what}, but their sessions were NOT ended: the session store (Redis) could not \
                 be told ({error}). Run `roster user end-sessions` once Redis answers"
            ),
        }
    };
    match action {
        UserAction::Add { email, role } => {
            let role = role_of(&role)?;
            let id = users::create(&pool, &email, &read_password()?, role).await?;
            println!("created {email} ({role}), id {id}");
        }
        UserAction::SetRole { email, role } => {
            let role = role_of(&role)?;
            let user = account(email).await?;
            let done = users::change_role(&pool, &sessions, user.id, role).await?;
            tracing::info!(user = %user.id, role = %role, security_event = "role_changed", "role changed from the command line");
            ended(format!("{} is now {role}", user.email), done)?;
        }
        UserAction::Disable { email } => {
            let user = account(email).await?;
            let done = users::change_disabled(&pool, &sessions, user.id, true).await?;
            tracing::info!(user = %user.id, security_event = "account_disabled_or_enabled", "account disabled from the command line");
            ended(format!("{} is disabled", user.email), done)?;
        }
        UserAction::Enable { email } => {
            let user = account(email).await?;
            let done = users::change_disabled(&pool, &sessions, user.id, false).await?;
            // The account had no session to end (disabling ended them).
            let _ = done;
            println!("{} is enabled", user.email);
        }
        UserAction::EndSessions { email } => {
            let user = account(email).await?;
            let done = users::end_sessions(&pool, &sessions, user.id).await?;
            tracing::info!(user = %user.id, security_event = "sessions_revoked", "sessions ended from the command line");
            ended(format!("{} stays as they are", user.email), done)?;
        }
        UserAction::SetPassword { email } => {
            let user = account(email).await?;
            let new = read_password()?;
            if let Some(problem) = password::policy_problem(&new, Some(&user.email)) {
                anyhow::bail!("{problem}");
            }
            let hash = password::hash(new).await?;
            // Whoever knew the old password is signed out with it.
            let done = users::change_password(&pool, &sessions, user.id, &hash).await?;
            ended(format!("the password of {} is changed", user.email), done)?;
        }
    }
    Ok(())
}

/// Gives a fresh Redis connection a moment to come up before it is needed.
async fn wait_for_redis(sessions: &super::auth::Sessions) {
    let _ = tokio::time::timeout(std::time::Duration::from_secs(3), sessions.ready()).await;
}

async fn loadtest(config: &Config, what: Loadtest) -> anyhow::Result<String> {
    use super::loadtest;
    match what {
        Loadtest::Soak {
            url,
            metrics_url,
            accounts,
            users,
            seconds,
            server_pid,
            memory_from_secs,
        } => {
            let users = users.max(1);
            let command = loadtest::soak::SoakCommand {
                url,
                metrics_url,
                accounts: accounts.unwrap_or(users).max(1),
                users,
                seconds: seconds.max(1),
                server_pid,
                memory_from_secs,
            };
            let (report, passed) = loadtest::soak::soak(config, command).await?;
            if !passed {
                println!("{report}");
                anyhow::bail!("the soak missed its targets (see the verdict above)");
            }
            Ok(report)
        }
        Loadtest::Writes {
            url,
            probes,
            accounts,
            connections,
            rate,
            endpoint,
            queries,
            seed,
            edits_per_second,
            probe_every,
            seconds,
            import_rows,
            import_seconds,
        } => {
            anyhow::ensure!(
                rate.is_finite()
                    && rate > 0.0
                    && edits_per_second.is_finite()
                    && edits_per_second > 0.0,
                "--rate and --edits-per-second must be positive"
            );
            let command = loadtest::writes::WritesCommand {
                url,
                probes,
                accounts,
                connections: connections.max(1),
                rate,
                endpoint,
                queries: queries.max(1),
                seed,
                edits_per_second,
                probe_every: probe_every.max(1),
                seconds: seconds.max(1),
                import_rows,
                import_seconds: import_seconds.max(1),
            };
            loadtest::writes::writes(config, command).await
        }
        Loadtest::Prepare { contacts, accounts } => {
            loadtest::prepare(config, contacts, accounts).await
        }
        Loadtest::Visits {
            url,
            metrics_url,
            accounts,
            warm_up_secs,
            sustained_secs,
            peak_secs,
            warm_up_rate,
            sustained_rate,
            peak_rate,
            sign_in_share,
            edit_share,
            pace,
        } => {
            anyhow::ensure!(
                [warm_up_rate, sustained_rate, peak_rate]
                    .iter()
                    .all(|rate| *rate > 0.0 && rate.is_finite()),
                "rates must be above 0"
            );
            anyhow::ensure!(
                (0.0..=1.0).contains(&sign_in_share) && (0.0..=1.0).contains(&edit_share),
                "shares are between 0 and 1"
            );
            let command = loadtest::VisitsCommand {
                url,
                accounts,
                durations: [warm_up_secs, sustained_secs, peak_secs],
                rates: [warm_up_rate, sustained_rate, peak_rate],
                sign_in_share,
                edit_share,
                pace,
                metrics_url,
            };
            loadtest::visits(config, command).await
        }
        Loadtest::Pages {
            url,
            metrics_url,
            accounts,
            connections,
            seconds,
            rate,
            idle_connections,
            postgres_connections,
            queries,
            seed,
            rate_only,
            endpoint,
        } => {
            let command = loadtest::PagesCommand {
                queries: queries.max(1),
                seed,
                rate_only,
                endpoint,
                url,
                accounts,
                connections: connections.max(1),
                seconds: seconds.max(1),
                rate: if rate.is_finite() {
                    rate.max(1.0)
                } else {
                    3000.0
                },
                idle_connections,
                postgres_connections: postgres_connections.max(1),
                metrics_url,
            };
            loadtest::pages(config, command).await
        }
    }
}
