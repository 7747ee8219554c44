//! Indexes for the order list's text filters (`code`, `product`,
//! `customerName`: a part of the text, in any case), so that looking for one
//! order among millions reads the few that match instead of every order of
//! the company.
//!
//! - PostgreSQL: trigram GIN indexes (`pg_trgm`, shipped with PostgreSQL's
//!   contrib and trusted, so the database's owner may create it) on the
//!   lowercased columns; the planner uses them for `lower(col) LIKE '%…%'`
//!   when the term is selective, and reads the sort order's index otherwise.
//!   Where the extension is not installed the filters still work, by reading
//!   the rows.
//! - SQLite: FTS5 tables with the trigram tokenizer over the same columns,
//!   kept by triggers (`orders_search`, `order_items_search`; external
//!   content, so the text is not stored twice). The domain narrows with them
//!   first and keeps its `LIKE` for the exact rule (see `domain::orders::search`).

use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::{prelude::*, SchemaManagerConnection};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `(index, table, column)` of PostgreSQL's trigram indexes.
const TRIGRAM_INDEXES: &[(&str, &str, &str)] = &[
    ("ix_orders_code_trgm", "orders", "code"),
    ("ix_orders_source_id_trgm", "orders", "source_id"),
    ("ix_orders_customer_name_trgm", "orders", "customer_name"),
    ("ix_order_items_name_trgm", "order_items", "name"),
    ("ix_order_items_product_id_trgm", "order_items", "product_id"),
];

/// `(search table, content table, columns)` of SQLite's FTS5 tables.
const FTS_TABLES: &[(&str, &str, &[&str])] =
    &[("orders_search", "orders", &["code", "source_id", "customer_name"]), ("order_items_search", "order_items", &["name", "product_id"])];

fn sqlite_up(search: &str, content: &str, columns: &[&str]) -> Vec<String> {
    let list = columns.join(", ");
    let new = columns.iter().map(|c| format!("new.{c}")).collect::<Vec<_>>().join(", ");
    let old = columns.iter().map(|c| format!("old.{c}")).collect::<Vec<_>>().join(", ");
    let insert = format!("INSERT INTO {search} (rowid, {list}) VALUES (new.id, {new});");
    let delete = format!("INSERT INTO {search} ({search}, rowid, {list}) VALUES ('delete', old.id, {old});");
    vec![
        format!("CREATE VIRTUAL TABLE {search} USING fts5({list}, content='{content}', content_rowid='id', tokenize='trigram')"),
        format!("INSERT INTO {search} ({search}) VALUES ('rebuild')"),
        format!("CREATE TRIGGER {search}_insert AFTER INSERT ON {content} BEGIN {insert} END"),
        format!("CREATE TRIGGER {search}_delete AFTER DELETE ON {content} BEGIN {delete} END"),
        format!("CREATE TRIGGER {search}_update AFTER UPDATE OF {list} ON {content} BEGIN {delete} {insert} END"),
    ]
}

/// Whether `pg_trgm` is in the database, creating it where it is installed
/// and this role may. A role that may not (not the database's owner, or
/// PostgreSQL before 13) gets a warning and filters that read rows, not a
/// server that will not start: migrations run in one transaction, so the
/// attempt runs under a savepoint that a refusal rolls back. An
/// administrator who creates the extension later re-creates the indexes by
/// hand (the statements are in `TRIGRAM_INDEXES`).
async fn trigram_extension(db: &SchemaManagerConnection<'_>) -> Result<bool, DbErr> {
    let exists = |sql: &'static str| async move { Ok::<_, DbErr>(db.query_one(Statement::from_string(DbBackend::Postgres, sql)).await?.is_some()) };
    if exists("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").await? {
        return Ok(true);
    }
    if !exists("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'").await? {
        tracing::warn!("pg_trgm is not installed: the order list's text filters will read every order of the company");
        return Ok(false);
    }
    db.execute_unprepared("SAVEPOINT create_pg_trgm").await?;
    match db.execute_unprepared("CREATE EXTENSION pg_trgm").await {
        Ok(_) => {
            db.execute_unprepared("RELEASE SAVEPOINT create_pg_trgm").await?;
            Ok(true)
        }
        Err(error) => {
            db.execute_unprepared("ROLLBACK TO SAVEPOINT create_pg_trgm").await?;
            db.execute_unprepared("RELEASE SAVEPOINT create_pg_trgm").await?;
            tracing::warn!(%error, "pg_trgm could not be created: the order list's text filters will read every order of the company");
            Ok(false)
        }
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match db.get_database_backend() {
            DbBackend::Postgres => {
                if !trigram_extension(db).await? {
                    return Ok(());
                }
                for (index, table, column) in TRIGRAM_INDEXES {
                    db.execute_unprepared(&format!("CREATE INDEX {index} ON {table} USING gin (lower({column}) gin_trgm_ops)"))
                        .await?;
                }
            }
            DbBackend::Sqlite => {
                for (search, content, columns) in FTS_TABLES {
                    for statement in sqlite_up(search, content, columns) {
                        db.execute_unprepared(&statement).await?;
                    }
                }
                // Customer names leave the file when an order is anonymized
                // (README, LGPD): without this, FTS5 only marks an old entry
                // deleted and its trigrams stay until segments merge.
                db.execute_unprepared("INSERT INTO orders_search (orders_search, rank) VALUES ('secure-delete', 1)").await?;
            }
            DbBackend::MySql => return Err(DbErr::Migration("MySQL is not supported".into())),
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match db.get_database_backend() {
            DbBackend::Postgres => {
                // The extension stays: other schemas may use it.
                for (index, _, _) in TRIGRAM_INDEXES {
                    db.execute_unprepared(&format!("DROP INDEX IF EXISTS {index}")).await?;
                }
            }
            DbBackend::Sqlite => {
                for (search, _, _) in FTS_TABLES {
                    for trigger in ["insert", "delete", "update"] {
                        db.execute_unprepared(&format!("DROP TRIGGER {search}_{trigger}")).await?;
                    }
                    db.execute_unprepared(&format!("DROP TABLE {search}")).await?;
                }
            }
            DbBackend::MySql => return Err(DbErr::Migration("MySQL is not supported".into())),
        }
        Ok(())
    }
}
