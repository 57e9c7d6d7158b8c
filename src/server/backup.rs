//! `roster backup FILE` and `roster restore FILE`: the database in Postgres's own
//! archive format (`pg_dump --format=custom`), restored with `pg_restore`. Nothing
//! else needs saving: the search index is rebuilt from Postgres, and sessions and
//! caches in Redis are disposable.
//!
//! A backup is one consistent snapshot: the contacts it reports are counted in the
//! very snapshot `pg_dump` writes. It is written beside FILE and renamed into place
//! once complete and readable, so a failed backup never leaves a file that looks
//! whole. A restore is one transaction: it applies completely or not at all.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
};

use anyhow::{Context as _, bail};
use secrecy::ExposeSecret as _;
use sqlx::{Connection as _, PgConnection};
use tokio::process::Command;

use super::{config::Config, db};
use crate::domain::search::decode_percent;

/// What a finished backup holds.
#[derive(Debug)]
pub struct BackupReport {
    pub file: PathBuf,
    pub bytes: u64,
    pub contacts: i64,
    pub database: String,
}

impl std::fmt::Display for BackupReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "backed up database {} ({} contacts) to {} ({} bytes)",
            self.database,
            self.contacts,
            self.file.display(),
            self.bytes
        )
    }
}

/// What a finished restore put in place.
#[derive(Debug)]
pub struct RestoreReport {
    pub contacts: i64,
    pub database: String,
}

impl std::fmt::Display for RestoreReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "restored database {} ({} contacts); each server rebuilds its search index \
             from it when it starts",
            self.database, self.contacts
        )
    }
}

/// The database URL without its password, and the password: the password goes to the
/// Postgres tools in their environment (`PGPASSWORD`), not on a command line that
/// every user of the machine can read.
fn split_password(url: &str) -> (String, Option<String>) {
    let Ok(mut parsed) = reqwest::Url::parse(url) else {
        return (url.to_owned(), None);
    };
    match parsed.password().map(decode_percent) {
        Some(password) if parsed.set_password(None).is_ok() => (parsed.to_string(), Some(password)),
        _ => (url.to_owned(), None),
    }
}

/// A Postgres client tool, pointed at the configured database.
struct Tool {
    url: String,
    password: Option<String>,
}

impl Tool {
    fn new(config: &Config) -> Self {
        let (url, password) = split_password(config.database_url.expose_secret());
        Tool { url, password }
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command.kill_on_drop(true).stdin(Stdio::null());
        if let Some(password) = &self.password {
            command.env("PGPASSWORD", password);
        }
        command
    }

    /// Runs `command`; on failure, the tool's own message.
    async fn run(mut command: Command, what: &str) -> anyhow::Result<Vec<u8>> {
        let output = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .await
            .with_context(|| {
                format!("could not run {what} (PostgreSQL's client tools must be installed)")
            })?;
        if !output.status.success() {
            bail!(
                "{what} failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(output.stdout)
    }
}

/// Writes a backup of the configured database to `file`.
pub async fn backup(config: &Config, file: &Path) -> anyhow::Result<BackupReport> {
    let tool = Tool::new(config);
    let mut connection = connect(config).await?;
    let database: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&mut connection)
        .await?;
    // One snapshot for the count and the dump: pg_dump joins it while this
    // transaction stays open.
    let mut snapshot = connection.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *snapshot)
        .await?;
    let snapshot_id: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
        .fetch_one(&mut *snapshot)
        .await?;
    let contacts: i64 =
        sqlx::query_scalar("SELECT count(*) FROM contacts WHERE deleted_at IS NULL")
            .fetch_one(&mut *snapshot)
            .await
            .context("the database holds no Roster data (no contacts table)")?;

    let partial = partial_path(file);
    // The whole directory is in it: readable by this user only, from its first byte
    // (pg_dump writes into the file made here, which keeps its mode).
    private_file(&partial).with_context(|| format!("could not create {}", partial.display()))?;
    let mut dump = tool.command("pg_dump");
    dump.arg("--format=custom")
        .arg("--no-owner")
        .arg("--no-privileges")
        .arg(format!("--snapshot={snapshot_id}"))
        .arg(format!("--file={}", partial.display()))
        .arg(format!("--dbname={}", tool.url));
    let dumped = Tool::run(dump, "pg_dump").await;
    snapshot.commit().await?;
    if let Err(error) = dumped {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(error);
    }
    // Readable as an archive before it takes FILE's place.
    if let Err(error) = list(&tool, &partial).await {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(error.context("the new backup could not be read back"));
    }
    private_file(&partial).with_context(|| format!("could not protect {}", partial.display()))?;
    tokio::fs::rename(&partial, file)
        .await
        .with_context(|| format!("could not move the backup into {}", file.display()))?;
    let bytes = tokio::fs::metadata(file).await?.len();
    Ok(BackupReport {
        file: file.to_owned(),
        bytes,
        contacts,
        database,
    })
}

/// Restores `file` into the configured database. Refuses while other sessions use the
/// database (a running server would keep serving what it had), and refuses to
/// overwrite Roster data unless `replace` is set.
pub async fn restore(config: &Config, file: &Path, replace: bool) -> anyhow::Result<RestoreReport> {
    let tool = Tool::new(config);
    let contents = list(&tool, file).await?;
    if !contents.contains(" TABLE public contacts ") {
        bail!(
            "{} is a PostgreSQL archive but not a Roster backup (it has no contacts table)",
            file.display()
        );
    }
    let mut connection = connect(config).await?;
    let database: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&mut connection)
        .await?;
    // Clients only: an autovacuum worker visits a newly created database (one made from
    // `template0` has old transaction ids to freeze) and gives way to the restore's
    // locks; it is no server using the directory.
    let others: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()
           AND backend_type = 'client backend'",
    )
    .fetch_one(&mut connection)
    .await?;
    if others > 0 {
        bail!(
            "{others} other connection(s) use database {database}: stop every Roster server \
             using it before restoring"
        );
    }
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_one(&mut connection)
    .await?;
    if tables > 0 && !replace {
        bail!(
            "database {database} already holds data ({tables} tables); pass --replace to \
             replace it with the backup"
        );
    }
    connection.close().await?;

    // The archive as SQL, applied by psql in one transaction after emptying the
    // schema: a failure anywhere leaves the database as it was.
    let script = tool
        .command("pg_restore")
        .arg("--no-owner")
        .arg("--no-privileges")
        .arg("--file=-")
        .arg(file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("could not run pg_restore (PostgreSQL's client tools must be installed)")?;
    let restored = restore_script(&tool, script).await;
    restored?;

    let pool = db::connect(config).await?;
    db::migrate(&pool).await?;
    let contacts: i64 =
        sqlx::query_scalar("SELECT count(*) FROM contacts WHERE deleted_at IS NULL")
            .fetch_one(&pool)
            .await?;
    pool.close().await;
    Ok(RestoreReport { contacts, database })
}

/// Feeds pg_restore's script to psql, with the schema emptied first and a new
/// directory id last, all in psql's single transaction.
async fn restore_script(tool: &Tool, mut script: tokio::process::Child) -> anyhow::Result<()> {
    let stdout: Stdio = script
        .stdout
        .take()
        .context("pg_restore's output")?
        .try_into()
        .context("pg_restore's output")?;
    let mut apply = tool.command("psql");
    apply
        .arg("--no-psqlrc")
        .arg("--quiet")
        .arg("--single-transaction")
        .arg("--set=ON_ERROR_STOP=1")
        .arg("--command=DROP SCHEMA IF EXISTS public CASCADE")
        .arg("--command=CREATE SCHEMA public")
        .arg("--file=-")
        // The restored data is a new line of history: search indexes and cached
        // answers made from the database as it was must not be taken for it.
        .arg("--command=UPDATE public.directory SET id = gen_random_uuid()")
        .arg(format!("--dbname={}", tool.url))
        .stdin(stdout);
    let applied = Tool::run(apply, "psql (applying the backup)").await;
    let read = script.wait_with_output().await?;
    if !read.status.success() {
        bail!(
            "pg_restore could not read the backup: {}",
            String::from_utf8_lossy(&read.stderr).trim()
        );
    }
    applied.map(drop)
}

/// The archive's table of contents; fails with a plain message if it is not one.
async fn list(tool: &Tool, file: &Path) -> anyhow::Result<String> {
    if !file.is_file() {
        bail!("{} is not a file", file.display());
    }
    let mut command = tool.command("pg_restore");
    command.arg("--list").arg(file);
    let listed = Tool::run(command, "pg_restore").await.map_err(|_| {
        anyhow::anyhow!(
            "{} is not a backup made by `roster backup` (pg_restore cannot read it)",
            file.display()
        )
    })?;
    Ok(String::from_utf8_lossy(&listed).into_owned())
}

async fn connect(config: &Config) -> anyhow::Result<PgConnection> {
    PgConnection::connect_with(&db::connect_options(config)?)
        .await
        .context("could not connect to Postgres (DATABASE_URL)")
}

/// Creates `path` (or keeps it) with mode 600: readable and writable by its owner only.
fn private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
}

fn partial_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_owned();
    name.push(".partial");
    file.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::split_password;

    #[test]
    fn the_password_leaves_the_url() {
        assert_eq!(
            split_password("postgres://roster:s%40cret@127.0.0.1:5432/roster?sslmode=disable"),
            (
                "postgres://roster@127.0.0.1:5432/roster?sslmode=disable".to_owned(),
                Some("s@cret".to_owned())
            )
        );
        // In a URL's user info `+` is itself, not a space.
        assert_eq!(
            split_password("postgres://roster:a+b%2B@localhost/db").1,
            Some("a+b+".to_owned())
        );
        assert_eq!(
            split_password("postgres://roster@localhost/db"),
            ("postgres://roster@localhost/db".to_owned(), None)
        );
        assert_eq!(
            split_password("postgres://localhost/db"),
            ("postgres://localhost/db".to_owned(), None)
        );
    }
}
