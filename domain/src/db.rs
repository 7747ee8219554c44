//! Opening the database with the settings each backend needs, and migrating it.

use std::{str::FromStr, time::Duration};

use migration::MigratorTrait;
use sea_orm::{
    sea_query::{Expr, Func, IntoColumnRef, LikeExpr, SimpleExpr},
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr, SqlxPostgresConnector,
    SqlxSqliteConnector, Statement, TransactionTrait,
};
use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

/// Opens a pool for a `sqlite:` or `postgres:` URL.
///
/// SQLite is opened in WAL mode (readers never block the writer), with foreign
/// keys enforced, a 5 s busy timeout so concurrent writers wait instead of
/// failing, and `synchronous = FULL` so a committed transaction survives power
/// loss, and `secure_delete` on. The file and its directory are created when missing; the file and its
/// `-wal`/`-shm` companions are readable by the owner only (0600), as they
/// hold everything, password hashes and sealed SMTP passwords included.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    let backend = backend_of(url);
    if backend == Some(DatabaseBackend::Sqlite) {
        let (options, on_disk) = sqlite_options(url)?;
        let path = options.get_filename().to_path_buf();
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                tokio::fs::create_dir_all(dir).await?;
            }
        }
        if on_disk {
            owner_only(&path, true).await?;
        }
        // A SQLite connection is a file handle in this process, not a socket
        // a server may have closed: pinging it before each use only costs a
        // round trip to its worker thread.
        let pool = open_sqlite(SqlitePoolOptions::new().max_connections(max_connections).test_before_acquire(false), options, SQLITE_BUSY_TIMEOUT).await?;
        // SQLite creates the WAL and shared-memory files with the database
        // file's mode; files left by an older version may be wider, so they
        // are narrowed too.
        for suffix in ["-wal", "-shm"].into_iter().filter(|_| on_disk) {
            let mut companion = path.clone().into_os_string();
            companion.push(suffix);
            owner_only(std::path::Path::new(&companion), false).await?;
        }
        Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
    } else if backend == Some(DatabaseBackend::Postgres) {
        let options = PgConnectOptions::from_str(url)?;
        // No ping before each use: most statements take a connection of
        // their own, and the round trip cost as much as a small statement.
        // A connection the server closed fails its next statement and leaves
        // the pool; idle ones are closed before servers commonly drop them.
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .test_before_acquire(false)
            .idle_timeout(Duration::from_secs(60))
            .connect_with(options)
            .await?;
        Ok(SqlxPostgresConnector::from_sqlx_postgres_pool(pool))
    } else {
        anyhow::bail!("unsupported DATABASE_URL scheme (use sqlite: or postgres:)")
    }
}

/// How long a SQLite connection waits for a lock another one holds.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens a SQLite pool, trying again for as long as `patience` while the
/// file is locked; any other error is answered at once.
///
/// Switching a file to WAL needs it to itself, and SQLite then answers
/// "database is locked" at once instead of waiting under the busy timeout.
/// Processes starting together on a new file meet exactly that: one of them
/// is switching it, or writing its first transaction before the switch.
async fn open_sqlite(pool: SqlitePoolOptions, options: SqliteConnectOptions, patience: Duration) -> Result<sqlx::SqlitePool, sqlx::Error> {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        match pool.clone().connect_with(options.clone()).await {
            Err(err) if is_busy(&err) && tokio::time::Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(20)).await,
            opened => return opened,
        }
    }
}

/// Whether SQLite refused for a lock someone else holds (`SQLITE_BUSY`, whose
/// extended codes keep 5 in their low byte).
fn is_busy(err: &sqlx::Error) -> bool {
    let code = err.as_database_error().and_then(|e| e.code()).and_then(|c| c.parse::<i32>().ok());
    code.is_some_and(|c| c & 0xff == 5)
}

/// SQLite's settings for `url`, and whether it names a file (not memory).
fn sqlite_options(url: &str) -> anyhow::Result<(SqliteConnectOptions, bool)> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .foreign_keys(true)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .synchronous(SqliteSynchronous::Full)
        // Deleted and overwritten content is zeroed in the file, so an
        // anonymization (LGPD) leaves no old values in free space.
        .pragma("secure_delete", "ON");
    // sqlx names `sqlite::memory:` databases `file:sqlx-in-memory-N`, which
    // is why the URL is read here and not the file name.
    let on_disk = !url.contains(":memory:") && !url.contains("mode=memory");
    Ok((options, on_disk))
}

/// For a SQLite file already opened with [`connect`]: one more connection to
/// it whose commits do not wait for the disk (`synchronous = NORMAL`).
///
/// In WAL mode such a commit is appended to the log unsynced, and the next
/// commit of [`connect`]'s pool syncs the whole log, so it reaches the disk
/// before anything committed after it; only a power cut or an OS crash in
/// between can lose it, never a crash of Rastro. It is for writes whose loss
/// then costs nothing: a run's arrival, which a call's own records (or its
/// rejection) then make durable, and whose call had no answer yet.
/// `None` for PostgreSQL (which has `synchronous_commit` per transaction)
/// and for in-memory databases (which never wait for a disk).
pub async fn connect_relaxed(url: &str) -> anyhow::Result<Option<DatabaseConnection>> {
    if backend_of(url) != Some(DatabaseBackend::Sqlite) {
        return Ok(None);
    }
    let (options, on_disk) = sqlite_options(url)?;
    if !on_disk {
        return Ok(None);
    }
    let options = options.create_if_missing(false).synchronous(SqliteSynchronous::Normal);
    let pool = open_sqlite(SqlitePoolOptions::new().max_connections(1).test_before_acquire(false), options, SQLITE_BUSY_TIMEOUT).await?;
    Ok(Some(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool)))
}

/// The backend a database URL names, when it is one of ours.
fn backend_of(url: &str) -> Option<DatabaseBackend> {
    if url.starts_with("sqlite:") {
        Some(DatabaseBackend::Sqlite)
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Some(DatabaseBackend::Postgres)
    } else {
        None
    }
}

/// Makes `path` readable and writable by its owner only, creating it (empty,
/// so SQLite takes it as a new database) when `create` is set and it is
/// missing. Creating it with the mode closes the window in which a file
/// created under the default umask would be world-readable.
async fn owner_only(path: &std::path::Path, create: bool) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if create {
            let opened = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path);
            match opened {
                Ok(_) => return Ok(()),
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(err) => return Err(err),
            }
        }
        match tokio::fs::metadata(path).await {
            Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
                tokio::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).await
            }
            Ok(_) => Ok(()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(err),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (path, create);
        Ok(())
    }
}

/// Begins a transaction that will write.
///
/// SQLite starts transactions deferred: one that reads first and writes later
/// fails at once with "database is locked" if another connection wrote in
/// between, since its snapshot is stale — the busy timeout cannot help. A no-op
/// write as the first statement takes the write lock up front (waiting for it
/// under the busy timeout instead), the same as `BEGIN IMMEDIATE`.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let txn = begin_whole(db).await?;
    if txn.get_database_backend() == DatabaseBackend::Sqlite {
        txn.execute_unprepared("UPDATE companies SET id = id WHERE 1 = 0").await?;
    }
    Ok(txn)
}

/// Begins a transaction in a task of its own, which the caller's going away
/// does not stop. sqlx counts a PostgreSQL transaction as open only once the
/// server has answered its `BEGIN`: a request cancelled while waiting for that
/// answer (a timeout, a client gone) would leave the connection inside a
/// transaction nobody rolls back, and give it back to the pool so. Begun
/// whole, a transaction the caller no longer wants is dropped and rolled back.
async fn begin_whole(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let db = db.clone();
    tokio::spawn(async move { db.begin().await })
        .await
        .map_err(|err| DbErr::Custom(format!("beginning a transaction: {err}")))?
}

/// `statement` as the database should plan it when the best plan depends on
/// its values: with the values written into its text, so each is planned for
/// them.
///
/// - PostgreSQL plans a prepared statement's parameters for their values only
///   for its first five runs; after that it may settle on one generic plan,
///   and a generic plan for `LIKE $1` or `total_cents >= $1` cannot tell a
///   term that matches one order from one that matches half of them. At a
///   million orders such a plan read the whole table for one order's code
///   (800 ms where its own plan took 20).
/// - Unchanged on SQLite, which is built to keep a statement's plan whatever
///   values are bound (`.cargo/config.toml`). Writing them in would let its
///   statistics (STAT4) see them, but not with sea-query's writing: it puts
///   a time as `'2026-12-07 13:22:32.608222 +00:00'` where sqlx stores
///   `2026-12-07T13:22:32.608222312+00:00`, and SQLite compares times as
///   text; and it reads a backslash in quotes as an escape, which SQLite's
///   quotes know nothing of (`contains` writes `ESCAPE '\'`).
///
/// The values are written by sea-query's own quoting, the one its
/// `to_string` uses (strings as `E'…'` with every quote and backslash
/// escaped); no value can add a placeholder, as the text is read for them
/// before any value is written in.
pub fn planned_for_its_values(statement: Statement) -> Statement {
    match (statement.db_backend, statement.values) {
        (DatabaseBackend::Postgres, Some(values)) => {
            let sql = sea_orm::sea_query::inject_parameters(&statement.sql, values.0, &sea_orm::sea_query::PostgresQueryBuilder);
            Statement { sql, values: None, db_backend: DatabaseBackend::Postgres }
        }
        (db_backend, values) => Statement { sql: statement.sql, values, db_backend },
    }
}

/// `LOWER(col) LIKE '%term%'`, with the user's `%` and `_` taken literally.
/// (SQLite's `LOWER` folds ASCII letters only; PostgreSQL's folds all.)
pub fn contains(col: impl IntoColumnRef, term: &str) -> SimpleExpr {
    let escaped = term.trim().to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    Expr::expr(Func::lower(Expr::col(col))).like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

/// Key of the PostgreSQL advisory lock migrations run under ("rastro"
/// spelled in ASCII, so it is recognisable in `pg_locks`).
const MIGRATION_LOCK: i64 = 0x7261_7374_726f;

/// Applies every pending migration.
///
/// They run in one transaction that first takes a lock, so processes starting
/// together on a fresh database wait for each other instead of racing to create
/// the same tables (the later ones then find nothing left to do), and a crash
/// mid-migration leaves nothing half-applied. On PostgreSQL the lock is an
/// advisory lock; on SQLite it is the write lock, taken up front by writing the
/// header's application-defined `user_version` (Rastro uses it for nothing
/// else), waiting under the busy timeout.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    let txn = db.begin().await?;
    let lock = match db.get_database_backend() {
        DatabaseBackend::Postgres => format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"),
        _ => "PRAGMA user_version = 1".to_owned(),
    };
    txn.execute_unprepared(&lock).await?;
    migration::Migrator::up(&txn, None).await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// A path of its own under the temporary directory.
    fn scratch(name: &str) -> PathBuf {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
        std::env::temp_dir().join(format!("rastro-db-{}-{name}-{nanos}", std::process::id()))
    }

    #[tokio::test]
    async fn a_database_file_is_created_owner_only_with_its_missing_directories() {
        let dir = scratch("dirs");
        let file = dir.join("a").join("b").join("rastro.db");
        let db = connect(&format!("sqlite://{}?mode=rwc", file.display()), 1).await.expect("connects");
        db.execute_unprepared("CREATE TABLE t (x INTEGER)").await.expect("writes");
        db.close().await.expect("closes");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).expect("the file exists").permissions().mode();
            assert_eq!(mode & 0o077, 0, "mode {mode:o}");
        }
        std::fs::remove_dir_all(&dir).expect("cleans up");
    }

    /// A file still in rollback mode whose first transaction another process
    /// is writing: switching it to WAL is refused at once, so opening it waits
    /// and tries again until that transaction ends.
    #[tokio::test]
    async fn opening_a_file_another_connection_is_writing_waits_for_it() {
        use sqlx::{ConnectOptions, Connection};
        let dir = scratch("busy");
        std::fs::create_dir_all(&dir).expect("a directory");
        let file = dir.join("rastro.db");
        let url = format!("sqlite://{}?mode=rwc", file.display());
        let mut other = SqliteConnectOptions::from_str(&url).expect("options").journal_mode(SqliteJournalMode::Delete).connect().await.expect("connects");
        sqlx::query("BEGIN IMMEDIATE").execute(&mut other).await.expect("locks");
        sqlx::query("CREATE TABLE t (x INTEGER)").execute(&mut other).await.expect("writes");
        let release = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            sqlx::query("COMMIT").execute(&mut other).await.expect("commits");
        };
        let (db, ()) = tokio::join!(connect(&url, 1), release);
        let db = db.expect("opens once the other transaction ends");
        db.execute_unprepared("INSERT INTO t VALUES (1)").await.expect("writes");
        other.close().await.expect("closes");
        std::fs::remove_dir_all(&dir).expect("cleans up");
    }

    /// Only a lock is waited out: a file that is not a database is refused
    /// at once, however long the patience.
    #[tokio::test]
    async fn a_file_that_is_not_a_database_is_refused_without_waiting() {
        let dir = scratch("not-a-database");
        std::fs::create_dir_all(&dir).expect("a directory");
        let file = dir.join("rastro.db");
        std::fs::write(&file, vec![b'x'; 4096]).expect("writes");
        let (options, _) = sqlite_options(&format!("sqlite://{}", file.display())).expect("options");
        let pool = SqlitePoolOptions::new().max_connections(1);
        // A deadline for the test, far below the patience: waiting fails it.
        let opened = tokio::time::timeout(Duration::from_secs(60), open_sqlite(pool, options, Duration::from_secs(3600))).await;
        let error = opened.expect("refused before the test's deadline").expect_err("not a database");
        assert!(!is_busy(&error) && error.to_string().contains("not a database"), "{error}");
        std::fs::remove_dir_all(&dir).expect("cleans up");
    }

    /// SQLite is built with its query planner stability guarantee
    /// (`.cargo/config.toml`): a statement keeps the plan it was prepared
    /// with, instead of being prepared again whenever its bound values could
    /// change it (STAT4, after `ANALYZE`), which every orders page paid for.
    /// Two columns skewed opposite ways: planned for its values, the rare one's
    /// index would be read each time.
    #[tokio::test]
    async fn a_statement_keeps_its_plan_whatever_its_bound_values() {
        let db = connect("sqlite::memory:", 1).await.expect("connects");
        for sql in [
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER NOT NULL, b INTEGER NOT NULL)",
            "CREATE INDEX t_a ON t (a)",
            "CREATE INDEX t_b ON t (b)",
            "INSERT INTO t (id, a, b) WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 19999) \
             SELECT i, CASE WHEN i % 2000 = 0 THEN i ELSE 1 END, CASE WHEN i % 2000 = 1 THEN i ELSE 1 END FROM n",
            "ANALYZE",
        ] {
            db.execute_unprepared(sql).await.expect(sql);
        }
        let plan = |a: i64, b: i64| {
            let db = db.clone();
            async move {
                let sql = "EXPLAIN QUERY PLAN SELECT id FROM t WHERE a = ? AND b = ?";
                let rows = db.query_all(Statement::from_sql_and_values(DatabaseBackend::Sqlite, sql, [a.into(), b.into()])).await.expect("explains");
                rows.iter().map(|row| row.try_get_by_index::<String>(3).expect("a plan's detail")).collect::<Vec<_>>().join("; ")
            }
        };
        let (rare_a, rare_b) = (plan(4000, 1).await, plan(1, 4001).await);
        assert!(rare_a.contains("INDEX t_"), "{rare_a}");
        assert_eq!(rare_a, rare_b, "the plan followed the bound values");
    }

    #[tokio::test]
    async fn an_in_memory_database_leaves_no_file() {
        let dir = scratch("memory");
        std::fs::create_dir_all(&dir).expect("a directory");
        let file = dir.join("memory.db");
        let db = connect(&format!("sqlite://{}?mode=memory", file.display()), 1).await.expect("connects");
        db.execute_unprepared("CREATE TABLE t (x INTEGER)").await.expect("writes");
        assert!(!file.exists(), "an in-memory database created {}", file.display());
        std::fs::remove_dir_all(&dir).expect("cleans up");
    }

    #[tokio::test]
    async fn the_relaxed_connection_shares_the_file_and_does_not_wait_for_the_disk() {
        let dir = scratch("relaxed");
        let file = dir.join("rastro.db");
        let url = format!("sqlite://{}?mode=rwc", file.display());
        let db = connect(&url, 1).await.expect("connects");
        let relaxed = connect_relaxed(&url).await.expect("connects").expect("a file has one");
        let synchronous = |db: DatabaseConnection| async move {
            let row = db.query_one(sea_orm::Statement::from_string(DatabaseBackend::Sqlite, "PRAGMA synchronous")).await.expect("reads");
            row.expect("a row").try_get_by_index::<i32>(0).expect("a number")
        };
        // 2 is FULL, 1 NORMAL.
        assert_eq!(synchronous(db.clone()).await, 2);
        assert_eq!(synchronous(relaxed.clone()).await, 1);
        relaxed.execute_unprepared("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (7)").await.expect("writes");
        let row = db.query_one(sea_orm::Statement::from_string(DatabaseBackend::Sqlite, "SELECT x FROM t")).await.expect("reads");
        assert_eq!(row.expect("the row").try_get_by_index::<i32>(0).expect("x"), 7);
        for other in [
            "sqlite::memory:".to_owned(),
            format!("sqlite://{}?mode=memory", dir.join("memory.db").display()),
            "postgres://127.0.0.1:1/test".to_owned(),
        ] {
            assert!(connect_relaxed(&other).await.expect("no connection made").is_none(), "{other}");
        }
        std::fs::remove_dir_all(&dir).expect("cleans up");
    }

    #[test]
    fn postgresql_statements_planned_for_their_values_carry_them_in_their_text() {
        let values = || sea_orm::Values(vec![7.into(), "it's \\ $1".into()]);
        let sql = r#"SELECT 1 WHERE "a" = $1 AND "b" LIKE $2 ESCAPE E'\\' AND "c" = '$2'"#;
        let planned = planned_for_its_values(Statement { sql: sql.into(), values: Some(values()), db_backend: DatabaseBackend::Postgres });
        assert_eq!(planned.values, None);
        assert_eq!(planned.sql, r#"SELECT 1 WHERE "a" = 7 AND "b" LIKE E'it\'s \\ $1' ESCAPE E'\\' AND "c" = '$2'"#);
        let sqlite = Statement { sql: "SELECT ? , ?".into(), values: Some(values()), db_backend: DatabaseBackend::Sqlite };
        let kept = planned_for_its_values(sqlite.clone());
        assert_eq!((kept.sql, kept.values), (sqlite.sql, sqlite.values));
    }

    #[test]
    fn urls_name_their_backend_by_scheme() {
        assert_eq!(backend_of("sqlite://rastro.db?mode=rwc"), Some(DatabaseBackend::Sqlite));
        assert_eq!(backend_of("postgres://127.0.0.1/test"), Some(DatabaseBackend::Postgres));
        assert_eq!(backend_of("postgresql://127.0.0.1/test"), Some(DatabaseBackend::Postgres));
        assert_eq!(backend_of("mysql://127.0.0.1/test"), None);
    }

    #[tokio::test]
    async fn another_backend_is_refused_by_name() {
        let error = connect("mysql://127.0.0.1:1/test", 1).await.expect_err("not a backend of ours").to_string();
        assert!(error.contains("unsupported DATABASE_URL scheme"), "{error}");
    }
}
