//! The portal in a real headless Chromium: the seed's story from the mail's
//! link through first access to the order, the order updating live when the
//! company moves it, and the public tracking page. Screenshots of each page
//! at desktop and phone width land in `target/screenshots/`.
//!
//! These need Chromium and ChromeDriver (`RASTRO_CHROMEDRIVER`, set by
//! `.ci/run`); without them they show as ignored.

use std::time::Duration;

use serde_json::json;
use tests::{
    browser::{Browser, DESKTOP, PHONE},
    portal::link_in,
    smtp::SmtpServer,
    TestApp,
};

use crate::{
    notifications::use_smtp,
    portal::{mailed_order, Mailed},
};

#[tokio::test]
#[cfg_attr(not(browser_tests), ignore = "needs Chromium and ChromeDriver (RASTRO_CHROMEDRIVER; .ci/run installs them)")]
async fn the_seed_story_in_a_browser_from_the_mail_to_a_live_order_page() {
    let Mailed { smtp, app, admin, t, order, hidden, mail } = mailed_order().await;
    let link = link_in(&mail.html(), "http://rastro.test/orders/").expect("the mail's button");
    let link = link.replace("http://rastro.test", &app.base);

    let browser = Browser::start().await;
    // The mail's link, not logged in: the login page of the mail's company.
    browser.open(&link).await;
    browser.wait_for_path("/login").await;
    browser.assert_accessible().await;
    browser.screenshot("login-desktop", DESKTOP).await;
    browser.screenshot("login-phone", PHONE).await;
    browser.client.set_window_size(DESKTOP.0, DESKTOP.1).await.expect("resize");
    assert!(browser.visible_text().await.contains("acme"));

    // First access: "forgot password" from the login page, the mailed link, a new password.
    browser.click("a[href^='/forgot-password']").await;
    browser.fill("#email", &t.customer_email()).await;
    browser.click("form button[type=submit]").await;
    browser.find("#sent").await;
    let mails = smtp.wait_for(2, Duration::from_secs(10)).await;
    let reset = link_in(&mails[1].html(), "http://rastro.test/reset-password?token=").expect("reset link");
    browser.open(&reset.replace("http://rastro.test", &app.base)).await;
    browser.fill("#password", "Nova-senha-2026").await;
    browser.fill("#confirm", "Nova-senha-2026").await;
    browser.click("form button[type=submit]").await;
    browser.wait_for_path("/orders").await;
    browser.find("#orders").await;
    browser.assert_accessible().await;
    browser.screenshot("orders-desktop", DESKTOP).await;
    browser.screenshot("orders-phone", PHONE).await;

    // The mail's link again: now the order, with its visible history only.
    browser.open(&link).await;
    browser.wait_for_text("#status", "Em separação").await;
    let text = browser.visible_text().await;
    assert!(text.contains("#A-1") && text.contains("Office chair"), "{text}");
    assert!(!text.contains(hidden), "hidden notes stay hidden: {text}");
    browser.assert_accessible().await;
    browser.screenshot("order-phone", PHONE).await;
    browser.screenshot("order-desktop", DESKTOP).await;

    // The company moves the order in its own area, in another browser: the
    // customer's open page follows without a reload (a mark left in it survives).
    browser.run("window.rastroMark = 'still here';").await;
    browser.find("#live[data-opened='1']").await;
    app.company_user(&admin, &t.id, "acme", "ops@acme.test").await;
    let staff = Browser::start().await;
    staff.open(&format!("{}/admin/login?company=acme", app.base)).await;
    staff.fill("#email", "ops@acme.test").await;
    staff.fill("#password", tests::PASSWORD).await;
    staff.click("form button[type=submit]").await;
    staff.wait_for_path("/admin").await;
    staff.find("#count-IN_SEPARATION").await;
    staff.assert_accessible().await;
    staff.screenshot("company-dashboard-desktop", DESKTOP).await;
    staff.screenshot("company-dashboard-phone", PHONE).await;
    staff.client.set_window_size(DESKTOP.0, DESKTOP.1).await.expect("resize");
    staff.open(&format!("{}/orders/{order}", app.base)).await;
    staff.find("#new-status option[value='IN_TRANSIT']").await.click().await.expect("choose");
    staff.assert_accessible().await;
    staff.fill("#status-comment", "Saiu para entrega").await;
    staff.click("#form-status button[type=submit]").await;
    staff.wait_for_text("#status", "Em trânsito").await;
    staff.screenshot("company-order-desktop", DESKTOP).await;
    staff.screenshot("company-order-phone", PHONE).await;
    browser.wait_for_text("#status", "Em trânsito").await;
    assert!(browser.visible_text().await.contains("Saiu para entrega"));
    for (page, name) in [("/admin/mail", "company-mail"), ("/admin/localities", "company-localities"), ("/admin/integrations", "company-integrations"), ("/admin/privacy", "company-privacy"), ("/orders", "company-orders")] {
        staff.open(&format!("{}{page}", app.base)).await;
        staff.find("main h1").await;
        staff.assert_accessible().await;
        staff.screenshot(&format!("{name}-desktop"), DESKTOP).await;
        staff.screenshot(&format!("{name}-phone"), PHONE).await;
        staff.client.set_window_size(DESKTOP.0, DESKTOP.1).await.expect("resize");
    }
    staff.quit().await;
    assert_eq!(browser.run("return window.rastroMark;").await, json!("still here"), "the page was not reloaded");
    assert!(browser.visible_text().await.contains("Em trânsito"));

    // Logout ends the session: the order link leads to the login page again.
    browser.click("form[action='/logout'] button").await;
    browser.wait_for_path("/login").await;
    browser.open(&link).await;
    browser.wait_for_path("/login").await;
    browser.quit().await;
}

#[tokio::test]
#[cfg_attr(not(browser_tests), ignore = "needs Chromium and ChromeDriver (RASTRO_CHROMEDRIVER; .ci/run installs them)")]
async fn the_public_tracking_page_in_a_browser_shows_no_personal_data() {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    use_smtp(&app, &t, smtp.port, None).await;
    let order = app.create_order(&t.staff, "A-1", &t.destination, Some("INVOICED")).await;
    let shipment = json!({ "carrier": "jadlog", "title": "Jadlog Expresso", "trackingNumber": "JD123", "trackingUrl": "https://jadlog.example/JD123" });
    app.gql(
        Some(&t.staff),
        "mutation($id: ID!, $s: ShipmentInput!) { addShipment(id: $id, shipment: $s, notifyCustomer: true) { applied } }",
        json!({ "id": order, "s": shipment }),
    )
    .await;
    let mail = &smtp.wait_for(1, Duration::from_secs(10)).await[0];
    let link = link_in(&mail.html(), "http://rastro.test/track/").expect("tracking link");

    let browser = Browser::start().await;
    browser.open(&link.replace("http://rastro.test", &app.base)).await;
    browser.find("#history").await;
    let text = browser.visible_text().await;
    for shown in ["#A-1", "Em trânsito", "Jadlog Expresso", "JD123", "São Paulo – SP"] {
        assert!(text.contains(shown), "{shown} in {text}");
    }
    for personal in ["Maria Souza", "customer@acme.test", "Responsible", "Office chair", "1.299"] {
        assert!(!text.contains(personal), "{personal} leaked: {text}");
    }
    browser.assert_accessible().await;
    browser.screenshot("track-desktop", DESKTOP).await;
    browser.screenshot("track-phone", PHONE).await;
    browser.quit().await;
}

#[tokio::test]
#[cfg_attr(not(browser_tests), ignore = "needs Chromium and ChromeDriver (RASTRO_CHROMEDRIVER; .ci/run installs them)")]
async fn support_creates_a_company_and_its_user_in_a_browser() {
    let app = TestApp::spawn().await;
    domain::users::create_admin(&app.ctx, &domain::Actor::system("test"), "support@rastro.test", tests::PASSWORD).await.unwrap();
    let browser = Browser::start().await;
    browser.open(&format!("{}/support", app.base)).await;
    browser.wait_for_path("/support/login").await;
    browser.fill("#email", "support@rastro.test").await;
    browser.fill("#password", tests::PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser.wait_for_path("/support").await;
    browser.assert_accessible().await;
    browser.fill("#identifier", "nova-loja").await;
    browser.fill("#cnpj", "12.ABC.345/01DE-35").await;
    browser.fill("#email", "ti@nova.test").await;
    browser.fill("#phone", "+55 11 4000-0000").await;
    browser.click("form[action='/support/companies'] button").await;
    let token = browser.find("#secret").await.prop("value").await.expect("value").unwrap_or_default();
    assert!(token.starts_with("rst_"), "{token}");
    browser.click("#continue").await;
    browser.wait_for_path("/support/companies/").await;
    browser.fill("#user-email", "chefe@nova.test").await;
    browser.fill("#user-name", "Chefe").await;
    browser.click("form[action$='/users'] button").await;
    let password = browser.find("#secret").await.prop("value").await.expect("value").unwrap_or_default();
    assert!(password.len() >= 12, "a temporary password: {password}");
    browser.screenshot("support-secret-desktop", DESKTOP).await;
    browser.click("#continue").await;
    browser.find("#staff").await;
    browser.assert_accessible().await;
    assert!(browser.visible_text().await.contains("chefe@nova.test"));
    assert!(!browser.visible_text().await.contains(&password), "shown once");
    browser.screenshot("support-company-desktop", DESKTOP).await;
    browser.screenshot("support-company-phone", PHONE).await;
    browser.quit().await;

    // The new user's first login asks for a new password, then the company area.
    let (status, body) = app.gql_raw(None, &json!({ "query": "mutation($p: String!) { login(email: \"chefe@nova.test\", password: $p, company: \"nova-loja\") { accessToken } }", "variables": { "p": password } })).await;
    assert_eq!(status, 200);
    assert!(body["data"]["login"]["accessToken"].is_string(), "{body}");
}
