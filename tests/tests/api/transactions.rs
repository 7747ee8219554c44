//! Transactions and the pool: what a request cancelled mid-way leaves behind.

use std::time::{Duration, Instant};

use sea_orm::ConnectionTrait;

/// A transaction whose `BEGIN` is cancelled before the server answers it (a
/// request timed out, a client gone) leaves no pooled connection inside a
/// transaction. sqlx counts a transaction as open only once its `BEGIN` is
/// answered, so one cancelled in between went back to the pool still in it,
/// and the next borrower's statements ran inside a transaction nobody ended.
#[tokio::test]
#[cfg_attr(not(postgres_tests), ignore = "PostgreSQL only: sessions seen in pg_stat_activity (TEST_DATABASE_URL)")]
async fn a_transaction_cancelled_while_beginning_leaves_no_connection_inside_it() {
    use sqlx::Connection;
    let (url, _) = tests::fresh_database_url().await;
    let db = domain::db::connect(&url, 2).await.unwrap();
    db.execute_unprepared("SELECT 1").await.unwrap();
    for _ in 0..100 {
        let mut begin = Box::pin(domain::db::begin_write(&db));
        // Polled until it waits (for a connection, or for the server's
        // answer to `BEGIN`), then dropped.
        let _ = futures::poll!(&mut begin);
        drop(begin);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let pool = db.get_postgres_connection_pool();
    let deadline = Instant::now() + Duration::from_secs(10);
    while pool.num_idle() < pool.size() as usize {
        assert!(Instant::now() < deadline, "connections never came back to the pool");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let name = url.rsplit_once('/').unwrap().1.to_owned();
    let mut admin = sqlx::PgConnection::connect(&std::env::var("TEST_DATABASE_URL").unwrap()).await.unwrap();
    let stuck: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1 AND state LIKE 'idle in transaction%'")
        .bind(&name)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(stuck, 0, "pooled connections left inside a transaction");
}
