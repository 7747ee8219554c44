//! Every operation × every role × own/other company, with the expected outcome.
//!
//! - Operations: each query, mutation and subscription field of the schema, and
//!   each HTTP route. [`the_matrix_covers_every_root_field_the_server_serves`]
//!   reads the root fields from the running server, so a new operation cannot
//!   land without its rows.
//! - Roles: anonymous, platform admin, staff of company A, a customer of A, and
//!   a customer of B with the same e-mail (two separate accounts). Staff of B is
//!   staff of A acting on the other company's objects (`Target::Other`).
//! - A company user or customer asking for another company's object gets the
//!   same answer as for an id that does not exist, and never the data.
//! - A refused operation writes nothing: every table is the same before and
//!   after it (the login throttle aside, which counts refusals by design).

use std::{
    collections::BTreeSet,
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

use serde_json::{json, Value};
use tests::{
    error_code, fingerprint,
    ws::{WsClient, WsEvent},
    TestApp,
};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Anonymous,
    Admin,
    Company,
    Customer,
    /// A customer of the other company with the same e-mail as `Customer`.
    OtherCustomer,
}

const ROLES: [Role; 5] = [Role::Anonymous, Role::Admin, Role::Company, Role::Customer, Role::OtherCustomer];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Own,
    Other,
    Missing,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    Ok,
    Code(&'static str),
}

use Expect::{Code, Ok};

const UNAUTH: Expect = Code("UNAUTHENTICATED");
const FORBID: Expect = Code("FORBIDDEN");
const NOPE: Expect = Code("NOT_FOUND");
const INVALID: Expect = Code("VALIDATION");

/// Staff of the company only; another company's object looks missing.
const STAFF_OWN: [Expect; 5] = [UNAUTH, FORBID, Ok, FORBID, FORBID];
const STAFF_OTHER: [Expect; 5] = [UNAUTH, FORBID, NOPE, FORBID, FORBID];
/// Support reads (or acts on) every company; staff their own.
const SUPPORT_AND_STAFF_OWN: [Expect; 5] = [UNAUTH, Ok, Ok, FORBID, FORBID];
const SUPPORT_AND_STAFF_OTHER: [Expect; 5] = [UNAUTH, Ok, NOPE, FORBID, FORBID];
const SUPPORT_AND_STAFF_MISSING: [Expect; 5] = [UNAUTH, NOPE, NOPE, FORBID, FORBID];
/// Platform support only.
const SUPPORT_ONLY: [Expect; 5] = [UNAUTH, Ok, FORBID, FORBID, FORBID];
/// Anyone logged in.
const LOGGED_IN: [Expect; 5] = [UNAUTH, Ok, Ok, Ok, Ok];

/// (operation, target, [anonymous, admin, company, customer, other customer]).
/// HTTP routes are named `METHOD /path`. Rows run in this order; the ones that
/// erase or end what later rows use come last.
const TABLE: &[(&str, Target, [Expect; 5])] = &[
    ("me", Target::Own, LOGGED_IN),
    ("login", Target::Own, [Ok, Ok, Ok, Ok, Ok]),
    ("refreshSession", Target::Own, [Ok, Ok, Ok, Ok, Ok]),
    // A wrong current password: the role may change it, the check refuses it.
    ("changePassword", Target::Own, [UNAUTH, INVALID, INVALID, INVALID, INVALID]),
    ("requestPasswordReset", Target::Own, [Ok, Ok, Ok, Ok, Ok]),
    ("resetPassword", Target::Own, [INVALID, INVALID, INVALID, INVALID, INVALID]),
    ("company", Target::Own, SUPPORT_AND_STAFF_OWN),
    ("company", Target::Other, SUPPORT_AND_STAFF_OTHER),
    ("company", Target::Missing, SUPPORT_AND_STAFF_MISSING),
    ("companies", Target::Own, SUPPORT_ONLY),
    ("companyUsers", Target::Own, SUPPORT_AND_STAFF_OWN),
    ("companyUsers", Target::Other, SUPPORT_AND_STAFF_OTHER),
    ("companyUsers", Target::Missing, SUPPORT_AND_STAFF_MISSING),
    ("createCompany", Target::Own, SUPPORT_ONLY),
    ("setVtexOptions", Target::Own, SUPPORT_AND_STAFF_OWN),
    ("setVtexOptions", Target::Other, SUPPORT_AND_STAFF_OTHER),
    ("setVtexOptions", Target::Missing, SUPPORT_AND_STAFF_MISSING),
    ("setWebhookSecret", Target::Own, SUPPORT_AND_STAFF_OWN),
    ("setWebhookSecret", Target::Other, SUPPORT_AND_STAFF_OTHER),
    ("setWebhookSecret", Target::Missing, SUPPORT_AND_STAFF_MISSING),
    ("webhookSecrets", Target::Own, SUPPORT_AND_STAFF_OWN),
    ("webhookSecrets", Target::Other, SUPPORT_AND_STAFF_OTHER),
    ("webhookSecrets", Target::Missing, SUPPORT_AND_STAFF_MISSING),
    ("statusMappings", Target::Own, SUPPORT_AND_STAFF_OWN),
    ("statusMappings", Target::Other, SUPPORT_AND_STAFF_OTHER),
    ("statusMappings", Target::Missing, SUPPORT_AND_STAFF_MISSING),
    ("setStatusMapping", Target::Own, SUPPORT_AND_STAFF_OWN),
    ("setStatusMapping", Target::Other, SUPPORT_AND_STAFF_OTHER),
    ("setStatusMapping", Target::Missing, SUPPORT_AND_STAFF_MISSING),
    ("removeStatusMapping", Target::Own, SUPPORT_AND_STAFF_OWN),
    ("removeStatusMapping", Target::Other, SUPPORT_AND_STAFF_OTHER),
    ("removeStatusMapping", Target::Missing, SUPPORT_AND_STAFF_MISSING),
    ("rotateIntegrationToken", Target::Own, SUPPORT_ONLY),
    ("rotateIntegrationToken", Target::Other, SUPPORT_ONLY),
    ("deactivateCompany", Target::Own, SUPPORT_ONLY),
    ("deactivateCompany", Target::Other, SUPPORT_ONLY),
    // Deactivating the other company (to activate it) logged its customer out.
    ("activateCompany", Target::Other, [UNAUTH, Ok, FORBID, FORBID, UNAUTH]),
    ("createCompanyUser", Target::Own, SUPPORT_ONLY),
    ("createCompanyUser", Target::Other, SUPPORT_ONLY),
    ("deactivateUser", Target::Own, SUPPORT_AND_STAFF_OWN),
    ("deactivateUser", Target::Other, SUPPORT_AND_STAFF_OTHER),
    ("deactivateUser", Target::Missing, SUPPORT_AND_STAFF_MISSING),
    ("activateUser", Target::Other, SUPPORT_AND_STAFF_OTHER),
    // Orders: support reads everything and changes nothing; a customer reads
    // the orders delivered to it, in its own company only.
    ("orders", Target::Own, LOGGED_IN),
    ("order", Target::Own, [UNAUTH, Ok, Ok, Ok, NOPE]),
    ("order", Target::Other, [UNAUTH, Ok, NOPE, NOPE, Ok]),
    ("order", Target::Missing, [UNAUTH, NOPE, NOPE, NOPE, NOPE]),
    ("orderBySourceId", Target::Own, [UNAUTH, Ok, Ok, Ok, NOPE]),
    ("orderBySourceId", Target::Other, [UNAUTH, Ok, NOPE, NOPE, Ok]),
    ("createOrder", Target::Own, STAFF_OWN),
    ("updateOrder", Target::Own, STAFF_OWN),
    ("updateOrder", Target::Other, STAFF_OTHER),
    ("updateOrder", Target::Missing, STAFF_OTHER),
    ("updateOrderStatus", Target::Own, STAFF_OWN),
    ("updateOrderStatus", Target::Other, STAFF_OTHER),
    ("holdOrder", Target::Own, STAFF_OWN),
    ("holdOrder", Target::Other, STAFF_OTHER),
    ("releaseOrder", Target::Own, STAFF_OWN),
    ("releaseOrder", Target::Other, STAFF_OTHER),
    ("cancelOrder", Target::Own, STAFF_OWN),
    ("cancelOrder", Target::Other, STAFF_OTHER),
    ("invoiceOrder", Target::Own, STAFF_OWN),
    ("invoiceOrder", Target::Other, STAFF_OTHER),
    ("addShipment", Target::Own, STAFF_OWN),
    ("addShipment", Target::Other, STAFF_OTHER),
    ("markDelivered", Target::Own, STAFF_OWN),
    ("markDelivered", Target::Other, STAFF_OTHER),
    ("refundOrder", Target::Own, STAFF_OWN),
    ("refundOrder", Target::Other, STAFF_OTHER),
    ("addOrderComment", Target::Own, STAFF_OWN),
    ("addOrderComment", Target::Other, STAFF_OTHER),
    ("addOrderComment", Target::Missing, STAFF_OTHER),
    ("revokeTrackingLink", Target::Own, STAFF_OWN),
    ("revokeTrackingLink", Target::Other, STAFF_OTHER),
    // The portal's pages, with the role's login as the session cookie: as the
    // `order` query, another company's order is a missing one.
    ("PAGE /orders", Target::Own, LOGGED_IN),
    ("PAGE /orders/{order}", Target::Own, [UNAUTH, Ok, Ok, Ok, NOPE]),
    ("PAGE /orders/{order}", Target::Other, [UNAUTH, Ok, NOPE, NOPE, Ok]),
    ("PAGE /orders/{order}", Target::Missing, [UNAUTH, NOPE, NOPE, NOPE, NOPE]),
    ("PAGE /orders/{order}/live", Target::Own, [UNAUTH, Ok, Ok, Ok, NOPE]),
    ("PAGE /orders/{order}/live", Target::Other, [UNAUTH, Ok, NOPE, NOPE, Ok]),
    ("PAGE /orders/{order}/live", Target::Missing, [UNAUTH, NOPE, NOPE, NOPE, NOPE]),
    // A live order page's stream: opened only for an order the role may open.
    ("PAGE /orders/{order}/events", Target::Own, [NOPE, Ok, Ok, Ok, NOPE]),
    ("PAGE /orders/{order}/events", Target::Other, [NOPE, Ok, NOPE, NOPE, Ok]),
    ("PAGE /admin/events", Target::Own, [NOPE, Ok, Ok, NOPE, NOPE]),
    // The company's dashboard (support sees every company's); customers have none.
    ("PAGE /admin", Target::Own, [UNAUTH, Ok, Ok, NOPE, NOPE]),
    ("PAGE /admin/live", Target::Own, [UNAUTH, Ok, Ok, NOPE, NOPE]),
    // Mail settings belong to a company: support has none of its own.
    ("PAGE /admin/mail", Target::Own, [UNAUTH, NOPE, Ok, NOPE, NOPE]),
    ("PAGE /admin/mail/templates/IN_TRANSIT", Target::Own, [UNAUTH, NOPE, Ok, NOPE, NOPE]),
    // Support's pages: staff may read their own company, as through GraphQL.
    ("PAGE /support", Target::Own, [UNAUTH, Ok, NOPE, NOPE, NOPE]),
    ("PAGE /support/companies/{company}", Target::Own, [UNAUTH, Ok, Ok, NOPE, NOPE]),
    ("PAGE /support/companies/{company}", Target::Other, [UNAUTH, Ok, NOPE, NOPE, NOPE]),
    ("PAGE /support/companies/{company}", Target::Missing, [UNAUTH, NOPE, NOPE, NOPE, NOPE]),
    ("GET /exports/orders.csv", Target::Own, STAFF_OWN),
    ("GET /exports/order-lines.csv", Target::Own, STAFF_OWN),
    ("GET /exports/orders.xml", Target::Own, STAFF_OWN),
    // Integration routes take a company's integration token, never a login's;
    // the service description is public.
    ("POST /integrations/totvs-r2/OrderAcquisitionService", Target::Own, [UNAUTH; 5]),
    ("GET /integrations/totvs-r2/OrderAcquisitionService?wsdl", Target::Own, [Ok; 5]),
    // Signed, not tokened: no role's token is a signature.
    ("POST /integrations/events/acme", Target::Own, [UNAUTH; 5]),
    ("POST /integrations/shopify/acme", Target::Own, [UNAUTH; 5]),
    ("POST /integrations/magento/acme", Target::Own, [UNAUTH; 5]),
    ("POST /integrations/nuvemshop/acme", Target::Own, [UNAUTH; 5]),
    ("POST /integrations/vtex/orders", Target::Own, [UNAUTH; 5]),
    ("POST /integrations/vtex/hook", Target::Own, [UNAUTH; 5]),
    ("PATCH /integrations/vtex/orders/X-1/invoice/1", Target::Own, [UNAUTH; 5]),
    ("PUT /integrations/vtex/orders/X-1/invoice/1/tracking", Target::Own, [UNAUTH; 5]),
    ("PATCH /integrations/vtex/api/oms/pvt/orders/X-1/invoice/1", Target::Own, [UNAUTH; 5]),
    ("PUT /integrations/vtex/api/oms/pvt/orders/X-1/invoice/1/tracking", Target::Own, [UNAUTH; 5]),
    ("orderStatusChanged", Target::Own, LOGGED_IN),
    ("localities", Target::Own, STAFF_OWN),
    ("locality", Target::Own, STAFF_OWN),
    ("locality", Target::Other, STAFF_OTHER),
    ("locality", Target::Missing, STAFF_OTHER),
    ("createLocality", Target::Own, STAFF_OWN),
    ("updateLocality", Target::Own, STAFF_OWN),
    ("updateLocality", Target::Other, STAFF_OTHER),
    ("upsertLocalities", Target::Own, STAFF_OWN),
    // Mail: the company's own settings, rules, templates and outbox.
    ("smtpSettings", Target::Own, STAFF_OWN),
    ("saveSmtpSettings", Target::Own, STAFF_OWN),
    ("sendTestEmail", Target::Own, STAFF_OWN),
    ("notificationRules", Target::Own, STAFF_OWN),
    ("saveNotificationRules", Target::Own, STAFF_OWN),
    ("notificationTemplates", Target::Own, STAFF_OWN),
    ("saveNotificationTemplate", Target::Own, STAFF_OWN),
    ("resetNotificationTemplate", Target::Own, STAFF_OWN),
    ("previewNotification", Target::Own, STAFF_OWN),
    ("previewNotification", Target::Other, STAFF_OTHER),
    ("orderNotifications", Target::Own, STAFF_OWN),
    ("orderNotifications", Target::Other, STAFF_OTHER),
    ("resendNotification", Target::Own, STAFF_OWN),
    ("resendNotification", Target::Other, STAFF_OTHER),
    // The integrations log: the company's own; support sees every company's.
    ("integrationRuns", Target::Own, SUPPORT_AND_STAFF_OWN),
    ("integrationRun", Target::Own, SUPPORT_AND_STAFF_OWN),
    ("integrationRun", Target::Other, SUPPORT_AND_STAFF_OTHER),
    ("integrationRun", Target::Missing, SUPPORT_AND_STAFF_MISSING),
    ("integrationMonitor", Target::Own, SUPPORT_AND_STAFF_OWN),
    ("integrationRunFinished", Target::Own, SUPPORT_AND_STAFF_OWN),
    ("reprocessIntegrationRun", Target::Own, STAFF_OWN),
    ("reprocessIntegrationRun", Target::Other, STAFF_OTHER),
    ("reprocessIntegrationRun", Target::Missing, STAFF_OTHER),
    ("auditLog", Target::Own, SUPPORT_AND_STAFF_OWN),
    // LGPD: the company for its own, support for any. The customer row names
    // an e-mail nobody has (the customers above are still needed).
    ("anonymizeCustomer", Target::Own, SUPPORT_AND_STAFF_OWN),
    ("anonymizeCustomer", Target::Other, SUPPORT_AND_STAFF_OTHER),
    ("anonymizeCustomer", Target::Missing, SUPPORT_AND_STAFF_MISSING),
    ("anonymizeLocality", Target::Other, SUPPORT_AND_STAFF_OTHER),
    ("anonymizeLocality", Target::Missing, SUPPORT_AND_STAFF_MISSING),
    ("anonymizeLocality", Target::Own, SUPPORT_AND_STAFF_OWN),
    ("anonymizeOrder", Target::Other, SUPPORT_AND_STAFF_OTHER),
    ("anonymizeOrder", Target::Missing, SUPPORT_AND_STAFF_MISSING),
    ("anonymizeOrder", Target::Own, SUPPORT_AND_STAFF_OWN),
    // Ends the caller's own session: the tokens are renewed after each role.
    ("logout", Target::Own, LOGGED_IN),
];

struct World {
    app: TestApp,
    admin: String,
    company_token: String,
    other_company_token: String,
    customer_token: String,
    other_customer_token: String,
    own_company: String,
    other_company: String,
    own_staff: String,
    other_staff: String,
    own_order: String,
    other_order: String,
    own_destination: String,
    other_destination: String,
    own_mail: String,
    other_mail: String,
    own_run: String,
    other_run: String,
}

impl World {
    fn token(&self, role: Role) -> Option<String> {
        match role {
            Role::Anonymous => None,
            Role::Admin => Some(self.admin.clone()),
            Role::Company => Some(self.company_token.clone()),
            Role::Customer => Some(self.customer_token.clone()),
            Role::OtherCustomer => Some(self.other_customer_token.clone()),
        }
    }

    fn pick(&self, target: Target, own: &str, other: &str) -> String {
        match target {
            Target::Own => own.to_owned(),
            Target::Other => other.to_owned(),
            Target::Missing => "999999".into(),
        }
    }

    /// A fresh order of the own company in `status` for a lifecycle operation
    /// (so each call starts from a status that allows it); the other
    /// company's order otherwise.
    async fn lifecycle_target(&self, target: Target, status: &str) -> String {
        match target {
            Target::Own => {
                let n = COUNTER.fetch_add(1, Ordering::SeqCst);
                self.app.create_order(&self.company_token, &format!("LC-{n}"), &self.own_destination, Some(status)).await
            }
            Target::Other => self.other_order.clone(),
            Target::Missing => "999999".into(),
        }
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// How an operation is sent.
enum Call {
    Graphql(String, Value),
    /// A subscription, and what makes both companies publish an event for it.
    Subscription(&'static str, Trigger),
    Get(String),
    /// A portal page, with the role's login as its session cookie.
    Page(String),
    /// An integration call (its method; SOAP or JSON, by its path) with the role's token
    /// as `Authorization: Bearer`.
    Integration(reqwest::Method, String),
}

#[derive(Clone, Copy)]
enum Trigger {
    /// A new order in each company moves to APPROVED.
    OrderMoves,
    /// Each company's integration finishes a run.
    Runs,
}

impl World {
    /// Makes both companies publish an event of the kind a subscription hears.
    async fn trigger(&self, trigger: Trigger) {
        match trigger {
            Trigger::OrderMoves => {
                for (token, destination) in [(&self.company_token, &self.own_destination), (&self.other_company_token, &self.other_destination)] {
                    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
                    let id = self.app.create_order(token, &format!("EV-{n}"), destination, None).await;
                    let moved = self
                        .app
                        .gql(Some(token), "mutation($id: ID!) { updateOrderStatus(id: $id, status: APPROVED) { applied } }", json!({ "id": id }))
                        .await;
                    assert_eq!(moved["data"]["updateOrderStatus"]["applied"], true, "{moved}");
                }
            }
            Trigger::Runs => {
                failed_run(&self.app, &self.own_company).await;
                failed_run(&self.app, &self.other_company).await;
            }
        }
    }
}

async fn operation(world: &World, name: &str, target: Target) -> Call {
    let company = world.pick(target, &world.own_company, &world.other_company);
    let user = world.pick(target, &world.own_staff, &world.other_staff);
    let order = world.pick(target, &world.own_order, &world.other_order);
    let locality = world.pick(target, &world.own_destination, &world.other_destination);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let gql = |query: &str, vars: Value| Call::Graphql(query.to_owned(), vars);
    let moved = |query: &str, id: String| Call::Graphql(query.to_owned(), json!({ "id": id }));
    match name {
        "me" => gql("{ me { id email } }", json!({})),
        "login" => gql(
            "mutation { login(email: \"second@own.test\", password: \"Test-password-2026\", company: \"own\") { accessToken } }",
            json!({}),
        ),
        "refreshSession" => {
            let (_, refresh) = world.app.login_session("second@own.test", tests::PASSWORD, Some("own")).await;
            gql("mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken } }", json!({ "r": refresh }))
        }
        "changePassword" => gql(
            "mutation { changePassword(currentPassword: \"not-the-password\", newPassword: \"Another-password-2026\") { accessToken } }",
            json!({}),
        ),
        "requestPasswordReset" => gql("mutation { requestPasswordReset(email: \"customer@own.test\", company: \"own\") }", json!({})),
        "resetPassword" => gql("mutation { resetPassword(token: \"not-a-token\", newPassword: \"Another-password-2026\") { accessToken } }", json!({})),
        "logout" => gql("mutation { logout }", json!({})),
        "company" => gql("query($id: ID!) { company(id: $id) { id identifier email } }", json!({ "id": company })),
        "setVtexOptions" => gql(
            "mutation($id: ID!) { setVtexOptions(companyId: $id, requireInvoiceFile: true, statusUpdates: true) { vtex { statusUpdates } } }",
            json!({ "id": company }),
        ),
        "setWebhookSecret" => gql(
            "mutation($id: ID!) { setWebhookSecret(companyId: $id, platform: SHOPIFY, secret: \"shpss_matrix-secret-0001\") { platform } }",
            json!({ "id": company }),
        ),
        "webhookSecrets" => gql("query($id: ID!) { webhookSecrets(companyId: $id) { platform updatedAt } }", json!({ "id": company })),
        "statusMappings" => gql("query($id: ID!) { statusMappings(companyId: $id, platform: GENERIC) { code status } }", json!({ "id": company })),
        "setStatusMapping" => gql(
            "mutation($id: ID!) { setStatusMapping(companyId: $id, platform: GENERIC, code: \"separado\", status: IN_SEPARATION) { code } }",
            json!({ "id": company }),
        ),
        "removeStatusMapping" => {
            gql("mutation($id: ID!) { removeStatusMapping(companyId: $id, platform: GENERIC, code: \"separado\") }", json!({ "id": company }))
        }
        "companies" => gql("{ companies { totalCount edges { node { id identifier } } } }", json!({})),
        "companyUsers" => gql("query($id: ID!) { companyUsers(companyId: $id) { id email } }", json!({ "id": company })),
        "createCompany" => gql(
            "mutation($i: CreateCompanyInput!) { createCompany(input: $i) { company { id } integrationToken } }",
            json!({ "i": { "identifier": format!("matrix-{n}"), "email": "m@example.test", "phone": "+55 11 3333-4444", "cnpj": "11222333000181" } }),
        ),
        "rotateIntegrationToken" => {
            gql("mutation($id: ID!) { rotateIntegrationToken(companyId: $id) { integrationToken } }", json!({ "id": company }))
        }
        "deactivateCompany" => gql("mutation($id: ID!) { deactivateCompany(id: $id) { id active } }", json!({ "id": company })),
        "activateCompany" => gql("mutation($id: ID!) { activateCompany(id: $id) { id active } }", json!({ "id": company })),
        "createCompanyUser" => gql(
            "mutation($i: CreateCompanyUserInput!) { createCompanyUser(input: $i) { user { id } temporaryPassword } }",
            json!({ "i": { "companyId": company, "email": format!("matrix{n}@example.test"), "name": "M" } }),
        ),
        "deactivateUser" => gql("mutation($id: ID!) { deactivateUser(id: $id) { id active } }", json!({ "id": user })),
        "activateUser" => gql("mutation($id: ID!) { activateUser(id: $id) { id active } }", json!({ "id": user })),
        "orders" => gql("{ orders(first: 5) { totalCount edges { node { code } } } }", json!({})),
        "order" => gql("query($id: ID!) { order(id: $id) { code history { toStatus } } }", json!({ "id": order })),
        "orderBySourceId" => {
            let source = world.pick(target, "OWN-1", "OTHER-1");
            gql("query($s: String!, $c: ID) { orderBySourceId(sourceId: $s, companyId: $c) { code } }", json!({ "s": source, "c": company }))
        }
        "createOrder" => gql(
            "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
            json!({ "i": { "sourceId": format!("M-{n}"), "code": "M", "destinationLocalityId": world.own_destination,
                "items": [{ "sourceId": "1", "productId": "S", "name": "N", "quantity": 1, "unitPrice": "1" }] } }),
        ),
        "updateOrder" => gql("mutation($id: ID!) { updateOrder(id: $id, input: { code: \"#EDITED\" }) { id } }", json!({ "id": order })),
        "updateOrderStatus" => moved(
            "mutation($id: ID!) { updateOrderStatus(id: $id, status: APPROVED) { applied } }",
            world.lifecycle_target(target, "RECEIVED").await,
        ),
        "holdOrder" => moved("mutation($id: ID!) { holdOrder(id: $id) { applied } }", world.lifecycle_target(target, "RECEIVED").await),
        "releaseOrder" => {
            let id = world.lifecycle_target(target, "RECEIVED").await;
            if target == Target::Own {
                world.app.gql(Some(&world.company_token), "mutation($id: ID!) { holdOrder(id: $id) { applied } }", json!({ "id": id })).await;
            }
            moved("mutation($id: ID!) { releaseOrder(id: $id) { applied } }", id)
        }
        "cancelOrder" => moved("mutation($id: ID!) { cancelOrder(id: $id) { applied } }", world.lifecycle_target(target, "RECEIVED").await),
        "invoiceOrder" => moved(
            "mutation($id: ID!) { invoiceOrder(id: $id, invoice: { number: \"1\" }) { applied } }",
            world.lifecycle_target(target, "APPROVED").await,
        ),
        "addShipment" => moved(
            "mutation($id: ID!) { addShipment(id: $id, shipment: { carrier: \"C\", trackingNumber: \"T\" }) { applied } }",
            world.lifecycle_target(target, "IN_SEPARATION").await,
        ),
        "markDelivered" => {
            moved("mutation($id: ID!) { markDelivered(id: $id) { applied } }", world.lifecycle_target(target, "IN_TRANSIT").await)
        }
        "refundOrder" => moved(
            "mutation($id: ID!) { refundOrder(id: $id, amount: \"1.00\") { applied } }",
            world.lifecycle_target(target, "APPROVED").await,
        ),
        "revokeTrackingLink" => moved("mutation($id: ID!) { revokeTrackingLink(id: $id) }", order),
        "addOrderComment" => gql("mutation($id: ID!) { addOrderComment(id: $id, comment: \"matrix\") { applied } }", json!({ "id": order })),
        "localities" => gql("{ localities { totalCount } }", json!({})),
        "locality" => gql("query($id: ID!) { locality(id: $id) { id name } }", json!({ "id": locality })),
        "createLocality" => gql(
            "mutation($i: LocalityInput!) { createLocality(input: $i) { id } }",
            json!({ "i": { "sourceId": format!("L-{n}"), "name": "L", "logisticRole": "ORIGIN" } }),
        ),
        "updateLocality" => gql(
            "mutation($id: ID!, $i: LocalityInput!) { updateLocality(id: $id, input: $i) { id } }",
            json!({ "id": locality, "i": { "sourceId": "D-1", "name": "Renamed", "logisticRole": "DESTINATION",
                "responsible": { "name": "Responsible", "email": "customer@own.test" } } }),
        ),
        "upsertLocalities" => gql(
            "mutation($i: [LocalityInput!]!) { upsertLocalities(input: $i) { id } }",
            json!({ "i": [{ "sourceId": format!("U-{n}"), "name": "U", "logisticRole": "ORIGIN" }] }),
        ),
        "smtpSettings" => gql("{ smtpSettings { host } }", json!({})),
        "saveSmtpSettings" => gql(
            "mutation { saveSmtpSettings(input: { host: \"127.0.0.1\", port: 9, security: NONE, fromAddress: \"m@own.test\" }) { host } }",
            json!({}),
        ),
        "sendTestEmail" => gql("mutation { sendTestEmail(to: \"m@own.test\") { success } }", json!({})),
        "notificationRules" => gql("{ notificationRules { locale statuses } }", json!({})),
        "saveNotificationRules" => gql("mutation { saveNotificationRules(locale: PT_BR, statuses: [IN_TRANSIT]) { locale } }", json!({})),
        "notificationTemplates" => gql("{ notificationTemplates { status custom } }", json!({})),
        "saveNotificationTemplate" => gql(
            "mutation { saveNotificationTemplate(status: DELIVERED, subject: \"{{ order_code }}\", html: \"<p>ok</p>\", text: \"ok\") { custom } }",
            json!({}),
        ),
        "resetNotificationTemplate" => gql("mutation { resetNotificationTemplate(status: DELIVERED) { custom } }", json!({})),
        "previewNotification" => {
            gql("query($id: ID!) { previewNotification(orderId: $id, status: DELIVERED) { subject } }", json!({ "id": order }))
        }
        "orderNotifications" => gql("query($id: ID!) { orderNotifications(orderId: $id) { id } }", json!({ "id": order })),
        "resendNotification" => gql(
            "mutation($id: ID!) { resendNotification(id: $id) { id } }",
            json!({ "id": world.pick(target, &world.own_mail, &world.other_mail) }),
        ),
        "integrationRuns" => gql("{ integrationRuns(first: 5) { totalCount edges { node { id outcome } } } }", json!({})),
        "integrationRun" => gql(
            "query($id: ID!) { integrationRun(id: $id) { id items { outcome } } }",
            json!({ "id": world.pick(target, &world.own_run, &world.other_run) }),
        ),
        "integrationMonitor" => gql("{ integrationMonitor { adapter operation last24h { success } } }", json!({})),
        "reprocessIntegrationRun" => gql(
            "mutation($id: ID!) { reprocessIntegrationRun(id: $id) { run { id } } }",
            json!({ "id": world.pick(target, &world.own_run, &world.other_run) }),
        ),
        "auditLog" => gql("{ auditLog(first: 5) { totalCount edges { node { action } } } }", json!({})),
        "anonymizeCustomer" => gql(
            "mutation($c: ID) { anonymizeCustomer(email: \"nobody@own.test\", companyId: $c) { orders accounts } }",
            json!({ "c": company }),
        ),
        "anonymizeLocality" => gql("mutation($id: ID!) { anonymizeLocality(id: $id) { localities } }", json!({ "id": locality })),
        "anonymizeOrder" => gql("mutation($id: ID!) { anonymizeOrder(id: $id) { orders } }", json!({ "id": order })),
        "orderStatusChanged" => Call::Subscription("subscription { orderStatusChanged { orderId status } }", Trigger::OrderMoves),
        "integrationRunFinished" => Call::Subscription("subscription { integrationRunFinished { runId outcome } }", Trigger::Runs),
        route if route.starts_with("GET ") => Call::Get(route.trim_start_matches("GET ").to_owned()),
        route if route.starts_with("PAGE ") => Call::Page(route.trim_start_matches("PAGE ").replace("{order}", &order).replace("{company}", &company)),
        route if route.contains(" /integrations/") && !route.starts_with("GET ") => {
            let (method, path) = route.split_once(' ').unwrap();
            Call::Integration(method.parse().unwrap(), path.to_owned())
        }
        other => panic!("unknown operation {other}"),
    }
}

/// Sends a call as `token`; the outcome and (for GraphQL) the body.
async fn perform(world: &World, call: Call, token: Option<&str>) -> (Expect, Value) {
    match call {
        Call::Graphql(query, vars) => {
            let (status, body) = world.app.gql_raw(token, &json!({ "query": query, "variables": vars })).await;
            let got = match error_code(&body) {
                _ if status != 200 && status != 401 => Code("HTTP STATUS"),
                None if body["data"].is_object() => Ok,
                None => Code("NO DATA"),
                Some(code) => Code(known(code)),
            };
            (got, body)
        }
        Call::Get(path) => http(world.app.http.get(format!("{}{path}", world.app.base)), token).await,
        Call::Page(path) => page(&world.app, &path, token).await,
        Call::Integration(method, path) => {
            // What each protocol would carry: a deletion, a cancellation.
            let (kind, body) = if path.starts_with("/integrations/totvs-r2/") {
                ("text/xml", r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><deleteOrders><orders><order><identifier>X-1</identifier></order></orders></deleteOrders></s:Body></s:Envelope>"#)
            } else {
                ("application/json", r#"{"OrderId":"X-1","State":"canceled","orderId":"X-1","status":"canceled"}"#)
            };
            http(world.app.http.request(method, format!("{}{path}", world.app.base)).header("content-type", kind).body(body), token).await
        }
        Call::Subscription(query, trigger) => {
            let mut socket = WsClient::connect(&world.app.base).await;
            socket.init(token.unwrap_or("")).await;
            match socket.next(Duration::from_secs(5)).await {
                WsEvent::Json(ack) if ack["type"] == "connection_ack" => {}
                WsEvent::Closed(4403) => return (UNAUTH, Value::Null),
                other => return (Code("OTHER"), json!(format!("{other:?}"))),
            }
            socket.send(json!({ "id": "1", "type": "subscribe", "payload": { "query": query } })).await;
            // Accepted means an event arrives; refused means an error does.
            // Events are made again until one of them comes (the subscription
            // may not be listening yet when the first is published).
            for _ in 0..10 {
                world.trigger(trigger).await;
                loop {
                    match socket.next(Duration::from_secs(1)).await {
                        WsEvent::Json(message) if message["type"] == "next" && message["payload"]["errors"].is_null() => {
                            return (Ok, message)
                        }
                        // A refusal is a `next` carrying the error (the field
                        // resolves to an error), or an `error` for the whole
                        // operation.
                        WsEvent::Json(message) if message["type"] == "next" || message["type"] == "error" => {
                            let errors = if message["type"] == "next" { &message["payload"]["errors"] } else { &message["payload"] };
                            let code = errors[0]["extensions"]["code"].as_str().unwrap_or("NONE");
                            return (Code(known(code)), message);
                        }
                        WsEvent::Json(_) => continue,
                        WsEvent::Timeout => break,
                        other => return (Code("OTHER"), json!(format!("{other:?}"))),
                    }
                }
            }
            (Code("SILENT"), Value::Null)
        }
    }
}

/// Opens a portal page logged in as the role (its token is what the login
/// form puts in the session cookie); a redirect to the login page is
/// `UNAUTHENTICATED`.
async fn page(app: &TestApp, path: &str, token: Option<&str>) -> (Expect, Value) {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut request = client.get(format!("{}{path}", app.base));
    if let Some(token) = token {
        request = request.header("cookie", format!("rastro_session={token}"));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let to_login = response.headers().get("location").and_then(|v| v.to_str().ok()).is_some_and(|l| l.contains("/login"));
    let got = match status {
        200 => Ok,
        303 if to_login => UNAUTH,
        // The live parts answer an anonymous fetch with 401 (the page reloads).
        401 => UNAUTH,
        404 => NOPE,
        _ => Code("OTHER"),
    };
    (got, json!({ "status": status }))
}

/// Sends an HTTP route's request with the role's token as `Authorization:
/// Bearer`; the outcome by status.
async fn http(mut request: reqwest::RequestBuilder, token: Option<&str>) -> (Expect, Value) {
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let status = request.send().await.unwrap().status().as_u16();
    let got = match status {
        200 => Ok,
        401 => UNAUTH,
        403 => FORBID,
        404 => NOPE,
        _ => Code("OTHER"),
    };
    (got, json!({ "status": status }))
}

fn known(code: &str) -> &'static str {
    match code {
        "UNAUTHENTICATED" => "UNAUTHENTICATED",
        "FORBIDDEN" => "FORBIDDEN",
        "NOT_FOUND" => "NOT_FOUND",
        "VALIDATION" => "VALIDATION",
        _ => "OTHER",
    }
}

/// Puts back what a successful operation ended: deactivation, logout and
/// token rotation retire tokens, so the roles log in again.
async fn restore(world: &mut World, name: &str) {
    if !matches!(name, "deactivateCompany" | "activateCompany" | "deactivateUser" | "activateUser" | "logout") {
        return;
    }
    if name == "logout" {
        world.admin = world.app.admin().await;
    }
    for company in [&world.own_company, &world.other_company] {
        world.app.gql(Some(&world.admin), "mutation($id: ID!) { activateCompany(id: $id) { id } }", json!({ "id": company })).await;
    }
    for user in [&world.own_staff, &world.other_staff] {
        world.app.gql(Some(&world.admin), "mutation($id: ID!) { activateUser(id: $id) { id } }", json!({ "id": user })).await;
    }
    world.company_token = world.app.login("staff@own.test", tests::PASSWORD, Some("own")).await;
    world.other_company_token = world.app.login("boss@other.test", tests::PASSWORD, Some("other")).await;
    world.customer_token = world.app.login("customer@own.test", tests::PASSWORD, Some("own")).await;
    world.other_customer_token = world.app.login("customer@own.test", tests::PASSWORD, Some("other")).await;
}

/// Activation is only observable on an inactive target: deactivate it first.
async fn prepare(world: &World, name: &str, target: Target) {
    let (company, user) = match target {
        Target::Own => (&world.own_company, &world.own_staff),
        Target::Other => (&world.other_company, &world.other_staff),
        Target::Missing => return,
    };
    match name {
        "activateCompany" => {
            world.app.gql(Some(&world.admin), "mutation($id: ID!) { deactivateCompany(id: $id) { id } }", json!({ "id": company })).await;
        }
        "activateUser" => {
            world.app.gql(Some(&world.admin), "mutation($id: ID!) { deactivateUser(id: $id) { id } }", json!({ "id": user })).await;
        }
        _ => {}
    }
}

/// A failed run of a company's integration: its record names a destination
/// that does not exist.
async fn failed_run(app: &TestApp, company_id: &str) -> String {
    let csv = "source_id,code,status,customer_name,destination,item_source_id,product_id,item_name,quantity,unit_price\n\
               R-1,#R-1,RECEIVED,Maria,NOWHERE,1,SKU-1,Chair,1,10.00\n";
    let answer = domain::ingest::handle(&app.ctx, company_id.parse().unwrap(), &adapter_rastro_csv::RastroCsv, "import", csv.as_bytes(), None)
        .await
        .unwrap();
    answer.run_id.to_string()
}

/// The first mail of an order: a notified status change with no SMTP sender
/// configured is held in the outbox.
async fn held_mail(app: &TestApp, token: &str, order: &str) -> String {
    let moved = app
        .gql(Some(token), "mutation($id: ID!) { updateOrderStatus(id: $id, status: IN_SEPARATION, notifyCustomer: true) { applied } }", json!({ "id": order }))
        .await;
    assert_eq!(moved["data"]["updateOrderStatus"]["applied"], true, "{moved}");
    let mails = app.gql(Some(token), "query($id: ID!) { orderNotifications(orderId: $id) { id } }", json!({ "id": order })).await;
    mails["data"]["orderNotifications"][0]["id"].as_str().unwrap_or_else(|| panic!("{mails}")).to_owned()
}

async fn world() -> World {
    // No mail worker: held mails stay as they are, so the only writes are the
    // operations' own.
    let app = TestApp::spawn_with(|c| c.run_mail_worker = false).await;
    let admin = app.admin().await;
    let (own_company, _) = app.create_company(&admin, "own").await;
    let (other_company, _) = app.create_company(&admin, "other").await;
    let (company_token, _) = app.company_user(&admin, &own_company, "own", "staff@own.test").await;
    let (_, own_staff) = app.company_user(&admin, &own_company, "own", "second@own.test").await;
    let (_, other_staff) = app.company_user(&admin, &other_company, "other", "staff@other.test").await;
    let customer_token = app.customer(&own_company, "own", "customer@own.test").await;
    let other_customer_token = app.customer(&other_company, "other", "customer@own.test").await;
    let own_destination = app.create_locality(&company_token, "D-1", "DESTINATION", Some("customer@own.test")).await;
    let own_order = app.create_order(&company_token, "OWN-1", &own_destination, None).await;
    let (other_token, _) = app.company_user(&admin, &other_company, "other", "boss@other.test").await;
    let other_destination = app.create_locality(&other_token, "D-1", "DESTINATION", Some("customer@own.test")).await;
    let other_order = app.create_order(&other_token, "OTHER-1", &other_destination, None).await;
    let own_mail = held_mail(&app, &company_token, &own_order).await;
    let other_mail = held_mail(&app, &other_token, &other_order).await;
    let own_run = failed_run(&app, &own_company).await;
    let other_run = failed_run(&app, &other_company).await;
    World {
        app,
        admin,
        company_token,
        other_company_token: other_token,
        customer_token,
        other_customer_token,
        own_company,
        other_company,
        own_staff,
        other_staff,
        own_order,
        other_order,
        own_destination,
        other_destination,
        own_mail,
        other_mail,
        own_run,
        other_run,
    }
}

#[tokio::test]
async fn every_operation_by_every_role_on_own_and_other_company() {
    let mut world = world().await;
    let mut failures = Vec::new();
    for (name, target, expectations) in TABLE {
        for (role, expected) in ROLES.into_iter().zip(expectations) {
            prepare(&world, name, *target).await;
            let call = operation(&world, name, *target).await;
            // A subscription writes nothing itself; the events it is tested
            // with are written on purpose.
            let checks_writes = !matches!(call, Call::Subscription(..));
            let before = fingerprint(&world.app.db, &["login_throttle"]).await;
            let (got, body) = perform(&world, call, world.token(role).as_deref()).await;
            if got != Ok && !body["data"].is_null() && body.get("data").is_some() {
                failures.push(format!("{role:?} {name} {target:?}: data returned with an error: {body}"));
            }
            if got != *expected {
                failures.push(format!("{role:?} {name} {target:?}: expected {expected:?}, got {got:?}: {body}"));
            }
            if got != Ok && checks_writes {
                let after = fingerprint(&world.app.db, &["login_throttle"]).await;
                let changed: Vec<&str> =
                    before.iter().zip(&after).filter(|(b, a)| b != a).map(|(b, _)| b.0.as_str()).collect();
                if !changed.is_empty() || before.len() != after.len() {
                    failures.push(format!("{role:?} {name} {target:?}: refused, yet it wrote to {changed:?}"));
                }
            }
            restore(&mut world, name).await;
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test]
async fn the_matrix_covers_every_root_field_the_server_serves() {
    let app = TestApp::spawn().await;
    let schema = app
        .gql(None, "{ __schema { queryType { fields { name } } mutationType { fields { name } } subscriptionType { fields { name } } } }", json!({}))
        .await;
    let served: BTreeSet<String> = ["queryType", "mutationType", "subscriptionType"]
        .iter()
        .flat_map(|root| schema["data"]["__schema"][root]["fields"].as_array().unwrap_or_else(|| panic!("{schema}")).clone())
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect();
    let covered: BTreeSet<String> = TABLE.iter().map(|(name, _, _)| (*name).to_owned()).filter(|n| !n.contains(" /")).collect();
    let missing: Vec<_> = served.difference(&covered).collect();
    let unknown: Vec<_> = covered.difference(&served).collect();
    assert!(missing.is_empty() && unknown.is_empty(), "operations without matrix rows: {missing:?}; rows for no operation: {unknown:?}");
    assert_eq!(covered.len(), served.len());
    println!("the matrix covers {} of the {} root fields the server serves", covered.len(), served.len());
}

#[tokio::test]
async fn another_companys_object_looks_exactly_like_a_missing_one() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (own, _) = app.create_company(&admin, "own").await;
    let (other, _) = app.create_company(&admin, "other").await;
    let (token, _) = app.company_user(&admin, &own, "own", "staff@own.test").await;
    let query = "query($id: ID!) { company(id: $id) { id identifier } }";
    let existing = app.gql(Some(&token), query, json!({ "id": other })).await;
    let missing = app.gql(Some(&token), query, json!({ "id": "999999" })).await;
    let shape = |body: &Value, id: &str| body.to_string().replace(id, "ID");
    assert_eq!(shape(&existing, &other), shape(&missing, "999999"));
    assert!(!existing.to_string().contains("other"), "{existing}");
}
