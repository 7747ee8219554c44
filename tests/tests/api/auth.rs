//! Login, tokens, temporary passwords, deactivation and throttling.

use entities::user;
use sea_orm::EntityTrait;
use serde_json::json;
use tests::{error_code, TestApp, PASSWORD};

const ME: &str = "{ me { id email role mustChangePassword } }";
const CHANGE: &str =
    "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { accessToken } }";

#[tokio::test]
async fn a_wrong_password_an_unknown_email_and_an_unknown_company_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (company_id, _) = app.create_company(&admin, "acme").await;
    app.company_user(&admin, &company_id, "acme", "staff@acme.test").await;

    let wrong_password = app.login_body("staff@acme.test", "Wrong-password-1", Some("acme")).await;
    let unknown_email = app.login_body("nobody@acme.test", PASSWORD, Some("acme")).await;
    let unknown_company = app.login_body("staff@acme.test", PASSWORD, Some("nope")).await;
    for body in [&wrong_password, &unknown_email, &unknown_company] {
        assert_eq!(error_code(body), Some("UNAUTHENTICATED"), "{body}");
        assert_eq!(body["errors"][0]["message"], wrong_password["errors"][0]["message"]);
        assert!(body["data"].is_null());
    }
    // Correct credentials with the company identifier in any case work.
    app.login("STAFF@acme.test", PASSWORD, Some("ACME")).await;
}

#[tokio::test]
async fn a_temporary_password_allows_only_changing_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (company_id, _) = app.create_company(&admin, "acme").await;
    let created = app
        .gql(
            Some(&admin),
            "mutation($i: CreateCompanyUserInput!) { createCompanyUser(input: $i) { user { id mustChangePassword } temporaryPassword } }",
            json!({ "i": { "companyId": company_id, "email": "new@acme.test", "name": "New", "temporaryPassword": "Temporary-2026" } }),
        )
        .await;
    assert_eq!(created["data"]["createCompanyUser"]["user"]["mustChangePassword"], true);
    assert!(created["data"]["createCompanyUser"]["temporaryPassword"].is_null(), "a chosen password is not echoed");

    let body = app.login_body("new@acme.test", "Temporary-2026", Some("acme")).await;
    assert_eq!(body["data"]["login"]["user"]["mustChangePassword"], true);
    let token = body["data"]["login"]["accessToken"].as_str().unwrap().to_owned();

    let me = app.gql(Some(&token), ME, json!({})).await;
    assert_eq!(error_code(&me), Some("FORBIDDEN"));
    assert_eq!(me["errors"][0]["extensions"]["reason"], "PASSWORD_CHANGE_REQUIRED");
    assert!(me["data"].is_null());
    let company = app.gql(Some(&token), "query($id: ID!) { company(id: $id) { id } }", json!({ "id": company_id })).await;
    assert_eq!(error_code(&company), Some("FORBIDDEN"));

    // The policy applies to the new password.
    let weak = app.gql(Some(&token), CHANGE, json!({ "c": "Temporary-2026", "n": "short1" })).await;
    assert_eq!(error_code(&weak), Some("VALIDATION"));
    assert_eq!(weak["errors"][0]["extensions"]["field"], "newPassword");
    let wrong_current = app.gql(Some(&token), CHANGE, json!({ "c": "Not-it-2026", "n": PASSWORD })).await;
    assert_eq!(error_code(&wrong_current), Some("VALIDATION"));

    let changed = app.gql(Some(&token), CHANGE, json!({ "c": "Temporary-2026", "n": PASSWORD })).await;
    let new_token = changed["data"]["changePassword"]["accessToken"].as_str().unwrap().to_owned();
    let me = app.gql(Some(&new_token), ME, json!({})).await;
    assert_eq!(me["data"]["me"]["email"], "new@acme.test");
    assert_eq!(me["data"]["me"]["mustChangePassword"], false);

    // The token issued before the change no longer works.
    let (status, body) = app.gql_raw(Some(&token), &json!({ "query": ME })).await;
    assert_eq!(status, 401);
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn deactivated_users_and_companies_cannot_log_in_and_their_tokens_stop_working() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (acme, _) = app.create_company(&admin, "acme").await;
    let (token, user_id) = app.company_user(&admin, &acme, "acme", "staff@acme.test").await;

    let deactivate = app.gql(Some(&admin), "mutation($id: ID!) { deactivateUser(id: $id) { active } }", json!({ "id": user_id })).await;
    assert_eq!(deactivate["data"]["deactivateUser"]["active"], false);
    let (status, _) = app.gql_raw(Some(&token), &json!({ "query": ME })).await;
    assert_eq!(status, 401, "an existing token of a deactivated user must stop working");
    let body = app.login_body("staff@acme.test", PASSWORD, Some("acme")).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
    assert_eq!(body["errors"][0]["extensions"]["reason"], "ACCOUNT_DEACTIVATED");

    app.gql(Some(&admin), "mutation($id: ID!) { activateUser(id: $id) { active } }", json!({ "id": user_id })).await;
    let token = app.login("staff@acme.test", PASSWORD, Some("acme")).await;

    let company = app.gql(Some(&admin), "mutation($id: ID!) { deactivateCompany(id: $id) { active } }", json!({ "id": acme })).await;
    assert_eq!(company["data"]["deactivateCompany"]["active"], false);
    let (status, _) = app.gql_raw(Some(&token), &json!({ "query": ME })).await;
    assert_eq!(status, 401, "tokens of a deactivated company's users must stop working");
    let body = app.login_body("staff@acme.test", PASSWORD, Some("acme")).await;
    assert_eq!(body["errors"][0]["extensions"]["reason"], "ACCOUNT_DEACTIVATED");

    app.gql(Some(&admin), "mutation($id: ID!) { activateCompany(id: $id) { active } }", json!({ "id": acme })).await;
    app.login("staff@acme.test", PASSWORD, Some("acme")).await;
}

#[tokio::test]
async fn repeated_failures_slow_down_one_account_whatever_the_cause() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (acme, _) = app.create_company(&admin, "acme").await;
    app.company_user(&admin, &acme, "acme", "staff@acme.test").await;

    for _ in 0..domain::auth::FREE_ATTEMPTS {
        let body = app.login_body("staff@acme.test", "Wrong-password-1", Some("acme")).await;
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
    }
    // Now even the right password is refused until the lock passes.
    let body = app.login_body("staff@acme.test", PASSWORD, Some("acme")).await;
    assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
    assert!(body["errors"][0]["extensions"]["retryAfterSeconds"].as_u64().unwrap() >= 1);

    // An unknown account is throttled exactly alike, so the lock reveals nothing.
    for _ in 0..domain::auth::FREE_ATTEMPTS {
        app.login_body("ghost@acme.test", "Wrong-password-1", Some("acme")).await;
    }
    let ghost = app.login_body("ghost@acme.test", "Wrong-password-1", Some("acme")).await;
    assert_eq!(error_code(&ghost), Some("RATE_LIMITED"));

    // Other accounts are not affected.
    let (_, _) = app.company_user(&admin, &acme, "acme", "other@acme.test").await;

    // After the lock, the right password works and the counter resets.
    let lock = u64::try_from(domain::auth::BASE_LOCK_SECS).unwrap() * 1000;
    tokio::time::sleep(std::time::Duration::from_millis(lock + 200)).await;
    app.login("staff@acme.test", PASSWORD, Some("acme")).await;
}

#[tokio::test]
async fn one_email_can_be_a_customer_of_two_companies_without_mixing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (acme, _) = app.create_company(&admin, "acme").await;
    let (beta, _) = app.create_company(&admin, "beta").await;
    let in_acme = app.customer(&acme, "acme", "maria@example.test").await;
    let in_beta = app.customer(&beta, "beta", "maria@example.test").await;

    let me_acme = app.gql(Some(&in_acme), "{ me { id companyId role } }", json!({})).await;
    let me_beta = app.gql(Some(&in_beta), "{ me { id companyId role } }", json!({})).await;
    assert_eq!(me_acme["data"]["me"]["companyId"], acme);
    assert_eq!(me_beta["data"]["me"]["companyId"], beta);
    assert_eq!(me_acme["data"]["me"]["role"], "CUSTOMER");
    assert_ne!(me_acme["data"]["me"]["id"], me_beta["data"]["me"]["id"]);

    // Without the company the admin login path is used, which a customer is not.
    let body = app.login_body("maria@example.test", tests::PASSWORD, None).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id_hashes_and_never_returned() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (acme, _) = app.create_company(&admin, "acme").await;
    app.company_user(&admin, &acme, "acme", "staff@acme.test").await;
    for stored in user::Entity::find().all(&app.db).await.unwrap() {
        assert!(stored.password_hash.starts_with("$argon2id$"), "{}", stored.password_hash);
        assert!(!stored.password_hash.contains(tests::PASSWORD));
    }
    // Every field of the type, so a field that leaked a hash would show.
    let users = app
        .gql(
            Some(&admin),
            "query($id: ID!) { companyUsers(companyId: $id) { id email name role companyId active mustChangePassword lastLoginAt createdAt anonymizedAt } }",
            json!({ "id": acme }),
        )
        .await;
    assert_eq!(users["data"]["companyUsers"].as_array().map(Vec::len), Some(1), "{users}");
    let text = users.to_string();
    assert!(!text.contains("argon2") && !text.contains(tests::PASSWORD), "{text}");
    // No field of the User type can hold a password.
    let introspection = app.gql(None, "{ __type(name: \"User\") { fields { name } } }", json!({})).await;
    let fields: Vec<String> = introspection["data"]["__type"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_lowercase())
        .collect();
    assert!(fields.contains(&"email".to_owned()));
    assert!(!fields.iter().any(|f| f == "password" || f.contains("hash")), "{fields:?}");
}
