//! Starting and stopping: processes that start together on a fresh database
//! migrate it once, and a stopping server leaves no mail half-sent.

use std::time::Duration;

use entities::{notification, NotificationState};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tests::{process::RastroProcess, smtp::SmtpServer, TestApp};

use crate::notifications::use_smtp;

#[tokio::test]
async fn processes_starting_together_on_a_fresh_database_migrate_it_once() {
    let (url, _dir) = tests::fresh_database_url().await;
    let (a, b, c) = tokio::join!(RastroProcess::start(&url), RastroProcess::start(&url), RastroProcess::start(&url));
    let db = domain::db::connect(&url, 1).await.unwrap();
    let row = db
        .query_one(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n, COUNT(DISTINCT version) AS d FROM seaql_migrations",
        ))
        .await
        .unwrap()
        .unwrap();
    let (n, d): (i64, i64) = (row.try_get("", "n").unwrap(), row.try_get("", "d").unwrap());
    assert_eq!(n, d, "each migration recorded once");
    use migration::MigratorTrait;
    assert_eq!(n as usize, migration::Migrator::migrations().len(), "all applied");
    for process in [a, b, c] {
        process.stop().await;
    }
}

/// 100 mails queued for an SMTP server that takes 200 ms per message, and the
/// server asked to stop after the first few went out. It must stop without
/// working off the backlog, and leave every mail either sent (and received
/// once) or waiting — none `SENDING`, so none is written off as "outcome
/// unknown" later. The next process sends the rest.
#[tokio::test]
async fn a_stopping_server_leaves_no_mail_in_progress_and_the_next_one_sends_the_rest() {
    const MAILS: usize = 100;
    let smtp = SmtpServer::start_slow(Duration::from_millis(200));
    let app = TestApp::spawn_with(|c| c.run_mail_worker = false).await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "stop").await;
    use_smtp(&app, &t, smtp.port, None).await;
    let company_id = t.id.parse().unwrap();
    for i in 0..MAILS {
        tests::smtp::pending_mail(company_id, "someone@stop.test", &format!("mail {i}"), "x").insert(&app.db).await.unwrap();
    }

    let mut server = RastroProcess::start_with_fast_mail(&app.database_url).await;
    smtp.wait_for(3, Duration::from_secs(20)).await;
    server.terminate().await;
    let status = server.wait_exit(Duration::from_secs(30)).await.expect("the server exits");
    assert!(status.success(), "{status:?}");

    let count = |state: NotificationState| {
        notification::Entity::find().filter(notification::Column::State.eq(state)).count(&app.db)
    };
    assert_eq!(count(NotificationState::Sending).await.unwrap(), 0, "nothing left in progress");
    let sent = count(NotificationState::Sent).await.unwrap();
    let waiting = count(NotificationState::Pending).await.unwrap();
    eprintln!("at stop: sent {sent}, waiting {waiting}");
    assert_eq!(sent + waiting, MAILS as u64, "every mail sent or waiting");
    assert!(waiting > 0, "stopped without working off the backlog");
    assert_eq!(smtp.mails().len() as u64, sent, "each sent mail received, once");
    let given_back = notification::Entity::find()
        .filter(notification::Column::State.eq(NotificationState::Pending))
        .filter(notification::Column::Attempts.ne(0))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(given_back, 0, "a mail given back untried has no attempt counted");

    let next = RastroProcess::start_with_fast_mail(&app.database_url).await;
    let mails = smtp.wait_for(MAILS, Duration::from_secs(60)).await;
    let mut subjects: Vec<String> = mails.iter().map(|m| m.subject()).collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), MAILS, "every mail once");
    assert_eq!(mails.len(), MAILS, "and no mail twice");
    next.stop().await;
}
