//! Sessions: short-lived access tokens, rotating refresh tokens, reuse
//! detection, logout, and what password changes and deactivations end.

use serde_json::{json, Value};
use tests::{error_code, process::RastroProcess, TestApp, PASSWORD};

fn refreshed(body: &Value) -> (String, String) {
    let session = &body["data"]["refreshSession"];
    let access = session["accessToken"].as_str().unwrap_or_else(|| panic!("refresh failed: {body}"));
    (access.to_owned(), session["refreshToken"].as_str().unwrap().to_owned())
}

/// A company with one staff member; returns (app, admin token, company id, staff e-mail, staff user id).
async fn staff_app() -> (TestApp, String, String, String, String) {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (company, _) = app.create_company(&admin, "acme").await;
    let email = "staff@acme.test".to_owned();
    let (_, user_id) = app.company_user(&admin, &company, "acme", &email).await;
    (app, admin, company, email, user_id)
}

#[tokio::test]
async fn a_refresh_rotates_and_reusing_a_spent_token_ends_that_session_only() {
    let (app, _, _, email, _) = staff_app().await;
    let (_, first_refresh) = app.login_session(&email, PASSWORD, Some("acme")).await;
    let (other_access, other_refresh) = app.login_session(&email, PASSWORD, Some("acme")).await;

    let body = app.refresh_body(&first_refresh).await;
    let (access, refresh) = refreshed(&body);
    assert_ne!(refresh, first_refresh);
    assert!(app.token_works(&access).await, "the refreshed access token works");

    // The spent token again: refused, and the whole session ends with it.
    let reuse = app.refresh_body(&first_refresh).await;
    assert_eq!(error_code(&reuse), Some("UNAUTHENTICATED"), "{reuse}");
    assert!(!app.token_works(&access).await, "the session's access token stops at once");
    assert_eq!(error_code(&app.refresh_body(&refresh).await), Some("UNAUTHENTICATED"), "its newest refresh token too");

    // The account's other session is untouched.
    assert!(app.token_works(&other_access).await);
    refreshed(&app.refresh_body(&other_refresh).await);
}

#[tokio::test]
async fn of_two_concurrent_refreshes_with_one_token_exactly_one_wins() {
    let (app, _, _, email, _) = staff_app().await;
    for _ in 0..3 {
        let (_, refresh) = app.login_session(&email, PASSWORD, Some("acme")).await;
        let bodies = futures::future::join_all((0..4).map(|_| app.refresh_body(&refresh))).await;
        let winners = bodies.iter().filter(|b| b["data"]["refreshSession"].is_object()).count();
        assert_eq!(winners, 1, "{bodies:?}");
        for loser in bodies.iter().filter(|b| !b["data"]["refreshSession"].is_object()) {
            assert_eq!(error_code(loser), Some("UNAUTHENTICATED"), "{loser}");
        }
    }
}

#[tokio::test]
async fn logout_ends_the_session_at_once_and_only_that_one() {
    let (app, _, _, email, _) = staff_app().await;
    let (access, refresh) = app.login_session(&email, PASSWORD, Some("acme")).await;
    let (other_access, _) = app.login_session(&email, PASSWORD, Some("acme")).await;
    let body = app.gql(Some(&access), "mutation { logout }", json!({})).await;
    assert_eq!(body["data"]["logout"], true, "{body}");
    assert!(!app.token_works(&access).await);
    assert_eq!(error_code(&app.refresh_body(&refresh).await), Some("UNAUTHENTICATED"));
    assert!(app.token_works(&other_access).await);
    // Logging out needs a session.
    let anonymous = app.gql(None, "mutation { logout }", json!({})).await;
    assert_eq!(error_code(&anonymous), Some("UNAUTHENTICATED"), "{anonymous}");
}

#[tokio::test]
async fn a_password_change_ends_every_session_and_starts_a_new_one() {
    let (app, _, _, email, _) = staff_app().await;
    let (access, _) = app.login_session(&email, PASSWORD, Some("acme")).await;
    let (other_access, other_refresh) = app.login_session(&email, PASSWORD, Some("acme")).await;
    let body = app
        .gql(
            Some(&access),
            "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { accessToken refreshToken } }",
            json!({ "c": PASSWORD, "n": "Another-password-2026" }),
        )
        .await;
    let new_access = body["data"]["changePassword"]["accessToken"].as_str().unwrap_or_else(|| panic!("{body}"));
    let new_refresh = body["data"]["changePassword"]["refreshToken"].as_str().unwrap();
    assert!(!app.token_works(&other_access).await);
    assert_eq!(error_code(&app.refresh_body(&other_refresh).await), Some("UNAUTHENTICATED"));
    assert!(app.token_works(new_access).await);
    refreshed(&app.refresh_body(new_refresh).await);
}

#[tokio::test]
async fn deactivation_ends_sessions_and_reactivation_revives_none() {
    let (app, admin, company, email, user_id) = staff_app().await;
    let set = |what: &'static str, id: String| {
        let admin = admin.clone();
        let app = &app;
        async move {
            let body = app.gql(Some(&admin), &format!("mutation($id: ID!) {{ {what}(id: $id) {{ active }} }}"), json!({ "id": id })).await;
            assert!(body["data"][what].is_object(), "{body}");
        }
    };

    // The user.
    let (access, refresh) = app.login_session(&email, PASSWORD, Some("acme")).await;
    set("deactivateUser", user_id.clone()).await;
    assert_eq!(error_code(&app.refresh_body(&refresh).await), Some("UNAUTHENTICATED"));
    set("activateUser", user_id).await;
    assert!(!app.token_works(&access).await);
    assert_eq!(error_code(&app.refresh_body(&refresh).await), Some("UNAUTHENTICATED"));

    // The company.
    let (access, refresh) = app.login_session(&email, PASSWORD, Some("acme")).await;
    set("deactivateCompany", company.clone()).await;
    assert_eq!(error_code(&app.refresh_body(&refresh).await), Some("UNAUTHENTICATED"));
    set("activateCompany", company).await;
    assert!(!app.token_works(&access).await, "re-activating the company does not revive old access tokens");
    assert_eq!(error_code(&app.refresh_body(&refresh).await), Some("UNAUTHENTICATED"), "nor refresh tokens");
    let (fresh, _) = app.login_session(&email, PASSWORD, Some("acme")).await;
    assert!(app.token_works(&fresh).await);
}

#[tokio::test]
async fn refresh_tokens_are_secrets_stored_only_as_hashes() {
    let (app, _, _, email, _) = staff_app().await;
    let (access, refresh) = app.login_session(&email, PASSWORD, Some("acme")).await;
    let (_, rotated) = refreshed(&app.refresh_body(&refresh).await);
    for token in [&refresh, &rotated] {
        assert!(!tests::database_contains(&app, token).await, "a refresh token is stored in clear");
        assert!(tests::database_contains(&app, &domain::tokens::token_hash(token)).await);
    }
    // The account shows no token, and an access token or garbage is no refresh token.
    let me = app.gql(Some(&access), "{ me { id email } }", json!({})).await.to_string();
    assert!(!me.contains(&rotated));
    for wrong in [access.as_str(), "rsr_not-a-token", ""] {
        assert_eq!(error_code(&app.refresh_body(wrong).await), Some("UNAUTHENTICATED"));
    }
}

#[tokio::test]
async fn access_tokens_live_fifteen_minutes_and_longer_lifetimes_are_refused() {
    let (app, _, _, email, _) = staff_app().await;
    let (refused, stderr) = RastroProcess::refused_start(&app.database_url, &[("RASTRO_TOKEN_TTL_MINUTES", "16")]).await;
    assert!(refused, "a 16-minute token lifetime was accepted");
    assert!(stderr.contains("RASTRO_TOKEN_TTL_MINUTES"), "{stderr}");

    let server = RastroProcess::start(&app.database_url).await;
    let session = server.login_session(&email, PASSWORD, Some("acme")).await;
    let expires: chrono::DateTime<chrono::Utc> = session["expiresAt"].as_str().unwrap().parse().unwrap();
    let lifetime = expires - chrono::Utc::now();
    assert!(lifetime <= chrono::Duration::minutes(15), "default lifetime {lifetime}");
    assert!(lifetime > chrono::Duration::minutes(14), "default lifetime {lifetime}");
    server.stop().await;
}

/// A company with one staff member, on a server whose token checks answer
/// for an hour (until a revocation) and whose sweep for revoked sessions
/// looks every `sweep`; returns the app and the staff e-mail.
async fn remembering_app(sweep: std::time::Duration) -> (TestApp, String) {
    let app = TestApp::spawn_with(|c| {
        // No mail worker: its polling would add statements to the count.
        c.run_mail_worker = false;
        c.limits.token_recheck = std::time::Duration::from_secs(3600);
        c.limits.revocation_sweep = sweep;
    })
    .await;
    let admin = app.admin().await;
    let (company, _) = app.create_company(&admin, "acme").await;
    let email = "staff@acme.test".to_owned();
    app.company_user(&admin, &company, "acme", &email).await;
    (app, email)
}

/// Statements the server ran for `{ me { id } }` with `token`, which must work.
async fn cost_of_me(app: &TestApp, token: &str) -> u64 {
    let before = app.statements_run().await;
    assert!(app.token_works(token).await);
    app.statements_run().await - before
}

/// A token's check against the database answers for its next requests
/// within `token_recheck`, and any revocation makes every token be checked
/// again: the ended session's is refused at once, another is read again.
#[tokio::test]
async fn a_token_checked_a_moment_ago_is_read_again_only_after_a_revocation() {
    // No sweep meanwhile: its statement would count.
    let (app, email) = remembering_app(std::time::Duration::from_secs(3600)).await;
    let (ending, _) = app.login_session(&email, PASSWORD, Some("acme")).await;
    let (staying, _) = app.login_session(&email, PASSWORD, Some("acme")).await;
    let (checked, recalled) = (cost_of_me(&app, &ending).await, cost_of_me(&app, &ending).await);
    assert_eq!(checked, recalled + 1, "a check a moment ago answers for the token's next request");
    assert_eq!((cost_of_me(&app, &staying).await, cost_of_me(&app, &staying).await), (checked, recalled), "per token");

    let body = app.gql(Some(&ending), "mutation { logout }", json!({})).await;
    assert_eq!(body["data"]["logout"], true, "{body}");
    assert!(!app.token_works(&ending).await, "the logged-out token is refused at once");
    assert_eq!(cost_of_me(&app, &staying).await, checked, "after a revocation every token is read again");
    // Then remembered again. (On PostgreSQL the process also hears its own
    // signal a moment later, which clears the checks once more.)
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while cost_of_me(&app, &staying).await != recalled {
        assert!(tokio::time::Instant::now() < deadline, "the token's check is never remembered again");
    }
}

/// A revocation made through another process reaches this one's remembered
/// checks as its signal arrives (PostgreSQL's `LISTEN`), or as this
/// process's sweep finds it (SQLite, whose signals stay in their process):
/// here checks would otherwise answer for an hour.
#[tokio::test]
async fn a_revocation_through_another_process_clears_the_checks_this_one_remembers() {
    let (app, email) = remembering_app(std::time::Duration::from_millis(200)).await;
    let other = RastroProcess::start(&app.database_url).await;
    let session = other.login_session(&email, PASSWORD, Some("acme")).await;
    let access = session["accessToken"].as_str().unwrap_or_else(|| panic!("{session}")).to_owned();
    let checked = cost_of_me(&app, &access).await;
    // The least of three: the sweep's own statement may fall into one.
    let mut recalled = u64::MAX;
    for _ in 0..3 {
        recalled = recalled.min(cost_of_me(&app, &access).await);
    }
    assert!(recalled < checked, "remembered here: {recalled} statements, {checked} when checked");

    let body = other.gql(&access, "mutation { logout }", json!({})).await;
    assert_eq!(body["data"]["logout"], true, "{body}");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while app.token_works(&access).await {
        assert!(tokio::time::Instant::now() < deadline, "this process still takes the token logged out through the other");
    }
    other.stop().await;
}
