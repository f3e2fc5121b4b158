//! A private PostgreSQL server for tests and benchmarks: started from the
//! system's `initdb` and `pg_ctl` in a fresh temporary directory, on a free
//! loopback port, and stopped (`pg_ctl stop -m immediate`) and deleted when
//! the [`ThrowawayPostgres`] is dropped.
//!
//! The binaries are looked up in `/usr/lib/postgresql/<version>/bin` (the
//! Debian `postgresql` package; the highest version wins), then on `PATH`.
//! PostgreSQL refuses to run as root: when this process is root, the server
//! runs as the `postgres` user (through `runuser`) and owns its directory.
//!
//! The server is tuned for throwaway data: `fsync` and synchronous commit are
//! off, it listens on `127.0.0.1` only, with its Unix socket inside its own
//! directory, and trusts every local connection. Never point it at data you
//! want to keep.

use std::ffi::OsStr;
use std::io::Write as _;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use sqlx::Connection as _;
use tokio::process::Command;

/// The database created for the caller.
const DATABASE: &str = "tzchat";
/// The superuser `initdb` creates.
const SUPERUSER: &str = "postgres";
/// The system user PostgreSQL runs as when we are root.
const SERVICE_USER: &str = "postgres";
/// Attempts at finding a free port (another process may take the one we
/// picked before the server binds it).
const PORT_ATTEMPTS: usize = 3;
/// What to tell someone whose machine lacks PostgreSQL.
const INSTALL_HINT: &str = "install the Debian `postgresql` package (`apt-get install postgresql`; \
     the README's test command installs it)";

/// Why a throwaway server could not be started. `Debug` prints the same
/// sentence as `Display`, so an `unwrap()` in a test or a `main` returning
/// this error tells the reader what to install.
#[derive(thiserror::Error)]
pub enum ThrowawayError {
    /// No `initdb`/`pg_ctl` on this machine.
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/<version>/bin \
         or on PATH: {INSTALL_HINT}"
    )]
    NotInstalled,
    /// Running as root, but the `postgres` user or `runuser` is missing.
    #[error(
        "running as root, so PostgreSQL must run as the `{SERVICE_USER}` user, but {0}: {INSTALL_HINT}"
    )]
    NoServiceUser(String),
    /// A PostgreSQL command failed; the text includes its output.
    #[error("{command} failed: {detail}")]
    Command {
        /// What was run.
        command: String,
        /// Exit status and output (or the server log).
        detail: String,
    },
    /// A file or process operation failed.
    #[error("throwaway PostgreSQL: {0}")]
    Io(#[from] std::io::Error),
    /// Creating the database failed.
    #[error("creating the throwaway database: {0}")]
    Database(#[from] sqlx::Error),
}

impl std::fmt::Debug for ThrowawayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// A running private PostgreSQL server. See the module docs.
#[derive(Debug)]
pub struct ThrowawayPostgres {
    dir: PathBuf,
    bin: PathBuf,
    run_as: Option<&'static str>,
    port: u16,
    running: bool,
}

impl ThrowawayPostgres {
    /// Create, start and open a server with an empty database.
    pub async fn start() -> Result<Self, ThrowawayError> {
        let bin = find_binaries().ok_or(ThrowawayError::NotInstalled)?;
        let dir = std::env::temp_dir().join(format!("tz-chat-pg-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir(&dir)?;
        // Whoever owns what we just created is who we are.
        let run_as = (std::fs::metadata(&dir)?.uid() == 0).then_some(SERVICE_USER);
        let mut server = Self {
            dir,
            bin,
            run_as,
            port: 0,
            running: false,
        };
        if run_as.is_some() {
            server.hand_directory_to_service_user().await?;
        }
        server.init().await?;
        let mut last_error = None;
        for _ in 0..PORT_ATTEMPTS {
            server.port = free_port()?;
            match server.launch().await {
                Ok(()) => {
                    last_error = None;
                    break;
                }
                Err(e) => last_error = Some(e),
            }
        }
        if let Some(e) = last_error {
            return Err(e);
        }
        server.create_database().await?;
        Ok(server)
    }

    /// URL of the (initially empty) database, as `DATABASE_URL` takes it.
    pub fn url(&self) -> String {
        self.url_of(DATABASE)
    }

    /// The TCP port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn url_of(&self, database: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{database}", self.port)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn log_file(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    /// `chown` the directory to the service user (root only).
    async fn hand_directory_to_service_user(&self) -> Result<(), ThrowawayError> {
        for tool in ["runuser", "chown"] {
            if find_on_path(tool).is_none() {
                return Err(ThrowawayError::NoServiceUser(format!(
                    "`{tool}` is not on PATH"
                )));
            }
        }
        let out = Command::new("chown")
            .arg(format!("{SERVICE_USER}:"))
            .arg(&self.dir)
            .stdin(Stdio::null())
            .output()
            .await?;
        if !out.status.success() {
            return Err(ThrowawayError::NoServiceUser(format!(
                "`chown {SERVICE_USER}: <dir>` failed ({})",
                output_text(&out)
            )));
        }
        Ok(())
    }

    /// A PostgreSQL binary, run as the service user when we are root.
    fn command(&self, tool: &str) -> Command {
        let program = self.bin.join(tool);
        let mut cmd = match self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(program);
                c
            }
            None => Command::new(program),
        };
        cmd.stdin(Stdio::null()).kill_on_drop(true);
        cmd
    }

    async fn init(&self) -> Result<(), ThrowawayError> {
        let data = self.data_dir();
        run(self.command("initdb").arg("-D").arg(&data).args([
            "--auth=trust",
            &format!("--username={SUPERUSER}"),
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        ]))
        .await?;
        // Settings that must not depend on what the packaged defaults are.
        let settings = format!(
            "\n# throwaway test server\n\
             listen_addresses = '127.0.0.1'\n\
             unix_socket_directories = '{}'\n\
             fsync = off\n\
             synchronous_commit = off\n\
             full_page_writes = off\n\
             max_connections = 200\n",
            conf_quote(&self.dir)
        );
        std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))?
            .write_all(settings.as_bytes())?;
        Ok(())
    }

    async fn launch(&mut self) -> Result<(), ThrowawayError> {
        let result = run(self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(self.log_file())
            .args(["-w", "-t", "60", "-o"])
            .arg(format!("-p {}", self.port))
            .arg("start"))
        .await;
        match result {
            Ok(_) => {
                self.running = true;
                Ok(())
            }
            Err(ThrowawayError::Command { command, detail }) => Err(ThrowawayError::Command {
                command,
                detail: format!("{detail}\nserver log:\n{}", self.log_tail()),
            }),
            Err(e) => Err(e),
        }
    }

    async fn create_database(&self) -> Result<(), ThrowawayError> {
        let mut admin = sqlx::PgConnection::connect(&self.url_of("postgres")).await?;
        sqlx::query("CREATE DATABASE tzchat")
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        Ok(())
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.log_file()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Stop the server now (also done on drop). Waits for it to exit.
    pub fn stop(&mut self) {
        if !self.running {
            return;
        }
        self.running = false;
        let program = self.bin.join("pg_ctl");
        let mut cmd = match self.run_as {
            Some(user) => {
                let mut c = std::process::Command::new("runuser");
                c.args(["-u", user, "--"]).arg(program);
                c
            }
            None => std::process::Command::new(program),
        };
        let stopped = cmd
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "immediate", "-w", "stop"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !stopped.is_ok_and(|s| s.success()) {
            tracing::warn!(dir = %self.dir.display(), "could not stop the throwaway PostgreSQL");
        }
    }
}

impl Drop for ThrowawayPostgres {
    fn drop(&mut self) {
        self.stop();
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            tracing::warn!(dir = %self.dir.display(), error = %e, "could not remove the throwaway PostgreSQL");
        }
    }
}

/// Run a command to completion; a non-zero exit is an error with its output.
async fn run(cmd: &mut Command) -> Result<Output, ThrowawayError> {
    let described = describe(cmd);
    let out = cmd.output().await.map_err(|e| ThrowawayError::Command {
        command: described.clone(),
        detail: e.to_string(),
    })?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(ThrowawayError::Command {
            command: described,
            detail: format!("{}: {}", out.status, output_text(&out)),
        })
    }
}

fn describe(cmd: &Command) -> String {
    let std = cmd.as_std();
    std::iter::once(std.get_program())
        .chain(std.get_args())
        .map(OsStr::to_string_lossy)
        .collect::<Vec<_>>()
        .join(" ")
}

fn output_text(out: &Output) -> String {
    let mut text = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !stdout.trim().is_empty() {
        text.push('\n');
        text.push_str(stdout.trim());
    }
    text
}

/// A `postgresql.conf` string literal body (quotes doubled).
fn conf_quote(path: &Path) -> String {
    path.display().to_string().replace('\'', "''")
}

/// A port nobody listens on right now.
fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// The directory holding `initdb` and `pg_ctl`.
fn find_binaries() -> Option<PathBuf> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = version_key(&entry.file_name().to_string_lossy())?;
            let bin = entry.path().join("bin");
            has_both(&bin).then_some((version, bin))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, bin)| bin);
    debian.or_else(|| {
        find_on_path("initdb")?
            .parent()
            .map(Path::to_path_buf)
            .filter(|d| has_both(d))
    })
}

/// `"15"` → `[15]`, `"9.6"` → `[9, 6]`; `None` for anything else.
fn version_key(name: &str) -> Option<Vec<u32>> {
    name.split('.').map(|part| part.parse().ok()).collect()
}

fn find_on_path(tool: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_numerically() {
        assert!(version_key("15") > version_key("9.6"));
        assert!(version_key("16") > version_key("15"));
        assert_eq!(version_key("main"), None);
    }

    #[test]
    fn config_strings_are_quoted() {
        assert_eq!(conf_quote(Path::new("/a/it's")), "/a/it''s");
    }

    #[tokio::test]
    async fn starts_answers_and_cleans_up() {
        let server = ThrowawayPostgres::start().await.unwrap();
        let dir = server.dir.clone();
        let mut conn = sqlx::PgConnection::connect(&server.url()).await.unwrap();
        let (db,): (String,) = sqlx::query_as("SELECT current_database()")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(db, DATABASE);
        conn.close().await.unwrap();
        let url = server.url();
        drop(server);
        assert!(!dir.exists(), "the data directory is removed");
        assert!(
            sqlx::PgConnection::connect(&url).await.is_err(),
            "the server is stopped"
        );
    }
}
