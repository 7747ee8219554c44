//! LGPD anonymization (seed `000_…`, "LGPD"): an order, a locality, or a
//! customer with everything it owns, erased for good.
//!
//! What goes: names, e-mails, phones, street addresses and coordinates, free
//! text (comments, observations, references, attributes), invoice keys and
//! links (an NF-e key opens the invoice, which names the buyer), tracking
//! numbers and links (a carrier's page shows the address) and the carrier's
//! words in a tracking timeline, mail recipients and
//! bodies, the raw integration payloads that carried the order, reset tokens,
//! and the account's login throttle rows. What stays: statuses,
//! dates, amounts, SKUs and product names, counts, source ids and codes, city,
//! state and country, so reports still add up.
//!
//! Each call is one transaction: everything or nothing. Anonymized rows carry
//! `anonymized_at`; an anonymized order is read-only, and a later import of its
//! source id creates a fresh order (see `ingest::apply`). Pending mail for
//! them is cancelled, and a customer's account can no longer log in. Running
//! it again is a no-op. The audit entry holds counts, never the erased values.
//!
//! On SQLite, connections run with `secure_delete` (overwritten and deleted
//! content is zeroed in the file) and the WAL is checkpointed and truncated
//! after each anonymization, so the old values leave the disk too. On
//! PostgreSQL the old row versions stay in the table files until `VACUUM`
//! reclaims them; they are invisible to every query.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use entities::{
    company, integration_run, integration_run_item, invoice, locality, notification, notification_attempt, order,
    order_attribute, order_status_history, password_reset_token, refund, shipment, tracking_event, user, NotificationState,
    UserRole,
};
use sea_orm::{
    sea_query::Expr,
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::json;

use crate::{actor::Scope, audit, tokens, validate, Action, Actor, Ctx, DomainError, DomainResult};

/// Rows per statement when a customer owns many orders.
const CHUNK: usize = 500;

/// What one anonymization erased. All zero when there was nothing left to
/// erase (a second run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Anonymized {
    /// Orders anonymized.
    pub orders: u64,
    /// Localities anonymized.
    pub localities: u64,
    /// Customer accounts anonymized (and closed).
    pub accounts: u64,
    /// Mails that had not gone out and never will.
    pub mails_cancelled: u64,
    /// Mails whose recipient and bodies were erased.
    pub mails_erased: u64,
    /// Integration runs whose raw request and answer were erased.
    pub runs_erased: u64,
}

impl Anonymized {
    fn nothing(&self) -> bool {
        *self == Anonymized::default()
    }

    fn add(&mut self, other: Anonymized) {
        self.orders += other.orders;
        self.localities += other.localities;
        self.accounts += other.accounts;
        self.mails_cancelled += other.mails_cancelled;
        self.mails_erased += other.mails_erased;
        self.runs_erased += other.runs_erased;
    }

    /// Counts only: the audit trail holds none of the erased values.
    fn detail(&self) -> serde_json::Value {
        json!({
            "orders": self.orders,
            "localities": self.localities,
            "accounts": self.accounts,
            "mailsCancelled": self.mails_cancelled,
            "mailsErased": self.mails_erased,
            "runsErased": self.runs_erased,
        })
    }
}

/// Anonymizes one order of the actor's company (admins: of any company).
pub async fn anonymize_order(ctx: &Ctx, actor: &Actor, order_id: i32) -> DomainResult<Anonymized> {
    ctx.authz.check(actor, Action::AnonymizePersonalData)?;
    let txn = crate::db::begin_write(&ctx.db).await?;
    let found = order::Entity::find_by_id(order_id).one(&txn).await?;
    let order = found.filter(|o| actor.sees_company(o.company_id)).ok_or_else(|| DomainError::not_found("order", order_id))?;
    if !lock_live(&txn, order::Entity::update_many().filter(order::Column::Id.eq(order.id)), order::Column::AnonymizedAt).await? {
        return Ok(Anonymized::default());
    }
    let now = Utc::now();
    let done = erase_orders(&txn, order.company_id, &[(order.id, order.source_id.clone())], now).await?;
    audit::record(&txn, actor, Some(order.company_id), "lgpd.anonymize_order", "order", order.id, Some(done.detail())).await?;
    txn.commit().await?;
    after_erasure(ctx).await;
    Ok(done)
}

/// Anonymizes one locality of the actor's company (admins: of any company):
/// its responsible person and street address, and the mails sent to that
/// person. With `with_orders`, every order delivered there too (also when the
/// locality itself was anonymized before): once the locality's e-mail is gone,
/// this is how a customer's orders delivered there are found.
pub async fn anonymize_locality(ctx: &Ctx, actor: &Actor, locality_id: i32, with_orders: bool) -> DomainResult<Anonymized> {
    ctx.authz.check(actor, Action::AnonymizePersonalData)?;
    let txn = crate::db::begin_write(&ctx.db).await?;
    let found = locality::Entity::find_by_id(locality_id).one(&txn).await?;
    let place = found
        .filter(|l| actor.sees_company(l.company_id))
        .ok_or_else(|| DomainError::not_found("locality", locality_id))?;
    let now = Utc::now();
    // The row lock comes first whatever the state, so two calls with
    // `with_orders` on an already anonymized locality run one after the other.
    locality::Entity::update_many()
        .col_expr(locality::Column::Id, Expr::col(locality::Column::Id).into())
        .filter(locality::Column::Id.eq(place.id))
        .exec(&txn)
        .await?;
    let live = lock_live(&txn, locality::Entity::update_many().filter(locality::Column::Id.eq(place.id)), locality::Column::AnonymizedAt).await?;
    let mut done = Anonymized::default();
    if with_orders {
        let orders = live_orders_to(&txn, place.company_id, std::slice::from_ref(&place)).await?;
        done.add(erase_orders(&txn, place.company_id, &orders, now).await?);
    }
    if live {
        done.add(erase_localities(&txn, place.company_id, std::slice::from_ref(&place), now).await?);
    }
    if done.nothing() {
        return Ok(done);
    }
    audit::record(&txn, actor, Some(place.company_id), "lgpd.anonymize_locality", "locality", place.id, Some(done.detail())).await?;
    txn.commit().await?;
    after_erasure(ctx).await;
    Ok(done)
}

/// Anonymizes a customer of a company, known by e-mail: its account (closed
/// for good, sessions ended), every locality it is responsible for, every
/// order delivered to them, and every mail sent to it. `company_id` is
/// required of admins; a company user may omit it (its own company). An
/// e-mail with nothing left to erase is a no-op.
pub async fn anonymize_customer(ctx: &Ctx, actor: &Actor, company_id: Option<i32>, email: &str) -> DomainResult<Anonymized> {
    ctx.authz.check(actor, Action::AnonymizePersonalData)?;
    let company_id = match (actor.scope(), company_id) {
        (Scope::Company(own), None) => own,
        (Scope::Company(own), Some(asked)) if asked == own => own,
        (Scope::Company(_), Some(asked)) => return Err(DomainError::not_found("company", asked)),
        (Scope::All, Some(asked)) => asked,
        (Scope::All, None) => return Err(DomainError::validation("companyId", "is required for platform admins")),
        (Scope::Customer { .. } | Scope::Nothing, _) => return Err(DomainError::Forbidden),
    };
    let email = validate::email("email", email)?;
    let company = company::Entity::find_by_id(company_id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| DomainError::not_found("company", company_id))?;
    // Hashed before the transaction: argon2 is slow on purpose.
    let unusable = crate::auth::hash_password(tokens::random_token(32)).await?;

    let txn = crate::db::begin_write(&ctx.db).await?;
    let now = Utc::now();
    let places = locality::Entity::find()
        .filter(locality::Column::CompanyId.eq(company_id))
        .filter(locality::Column::ResponsibleEmail.eq(email.as_str()))
        .all(&txn)
        .await?;
    let orders = live_orders_to(&txn, company_id, &places).await?;
    let accounts = user::Entity::find()
        .filter(user::Column::CompanyId.eq(company_id))
        .filter(user::Column::Role.eq(UserRole::Customer))
        .filter(user::Column::Email.eq(email.as_str()))
        .all(&txn)
        .await?;

    let mut done = erase_orders(&txn, company_id, &orders, now).await?;
    done.add(erase_localities(&txn, company_id, &places, now).await?);
    let mut ended = Vec::new();
    for account in &accounts {
        erase_account(&txn, account, &unusable, now).await?;
        ended.push(crate::sessions::end_all_of_user(ctx, &txn, account.id, now).await?);
        done.accounts += 1;
    }
    done.add(erase_mails(&txn, mails_to(company_id, std::slice::from_ref(&email)), now).await?);
    crate::auth::forget_failures(&txn, Some(&company.identifier), &email).await?;
    if done.nothing() {
        txn.commit().await?;
        return Ok(done);
    }
    let entity_id = accounts.first().map_or_else(|| "-".to_owned(), |a| a.id.to_string());
    audit::record(&txn, actor, Some(company_id), "lgpd.anonymize_customer", "customer", entity_id, Some(done.detail())).await?;
    txn.commit().await?;
    for staged in ended {
        staged.after_commit();
    }
    after_erasure(ctx).await;
    Ok(done)
}

/// Takes the row lock of the rows `lock` selects (a no-op update, as
/// `orders::lock_for_write` does) when they are not anonymized yet; false when
/// there is nothing left to do. Of two concurrent calls the second waits for
/// the first and then finds the work done, so a second run stays a no-op.
async fn lock_live<E: EntityTrait>(db: &impl ConnectionTrait, lock: sea_orm::UpdateMany<E>, anonymized_at: E::Column) -> DomainResult<bool> {
    let locked = lock.col_expr(anonymized_at, Expr::col(anonymized_at).into()).filter(anonymized_at.is_null()).exec(db).await?;
    Ok(locked.rows_affected > 0)
}

/// The orders delivered to `places` that are not anonymized yet: (id, source id).
async fn live_orders_to(db: &impl ConnectionTrait, company_id: i32, places: &[locality::Model]) -> DomainResult<Vec<(i32, String)>> {
    let mut orders = Vec::new();
    for chunk in places.chunks(CHUNK) {
        let rows: Vec<(i32, String)> = order::Entity::find()
            .select_only()
            .column(order::Column::Id)
            .column(order::Column::SourceId)
            .filter(order::Column::CompanyId.eq(company_id))
            .filter(order::Column::AnonymizedAt.is_null())
            .filter(order::Column::DestinationLocalityId.is_in(chunk.iter().map(|l| l.id)))
            .into_tuple()
            .all(db)
            .await?;
        orders.extend(rows);
    }
    Ok(orders)
}

/// Erases the personal data of `orders` (id, source id) of `company_id`, with
/// their mails and the integration payloads that carried them.
async fn erase_orders(
    db: &impl ConnectionTrait,
    company_id: i32,
    orders: &[(i32, String)],
    now: DateTime<Utc>,
) -> DomainResult<Anonymized> {
    let mut done = Anonymized::default();
    for chunk in orders.chunks(CHUNK) {
        let ids: Vec<i32> = chunk.iter().map(|(id, _)| *id).collect();
        let source_ids: Vec<String> = chunk.iter().map(|(_, s)| s.clone()).collect();
        let none = || Expr::value(Option::<String>::None);
        let no_place = || Expr::value(Option::<f64>::None);
        done.orders += order::Entity::update_many()
            .col_expr(order::Column::CustomerName, none())
            .col_expr(order::Column::AddressStreet, none())
            .col_expr(order::Column::AddressNumber, none())
            .col_expr(order::Column::AddressComplement, none())
            .col_expr(order::Column::AddressDistrict, none())
            .col_expr(order::Column::AddressZipCode, none())
            .col_expr(order::Column::AddressLatitude, no_place())
            .col_expr(order::Column::AddressLongitude, no_place())
            .col_expr(order::Column::Reference, none())
            .col_expr(order::Column::Observations, none())
            .col_expr(order::Column::InvoiceKey, none())
            .col_expr(order::Column::InvoiceUrl, none())
            // A digest of the order as sent could confirm a guess of its content.
            .col_expr(order::Column::SourceDigest, none())
            .col_expr(order::Column::AnonymizedAt, Expr::value(Some(now)))
            .col_expr(order::Column::UpdatedAt, Expr::value(now))
            .filter(order::Column::CompanyId.eq(company_id))
            .filter(order::Column::Id.is_in(ids.clone()))
            .filter(order::Column::AnonymizedAt.is_null())
            .exec(db)
            .await?
            .rows_affected;
        order_attribute::Entity::delete_many().filter(order_attribute::Column::OrderId.is_in(ids.clone())).exec(db).await?;
        order_status_history::Entity::update_many()
            .col_expr(order_status_history::Column::Comment, none())
            .filter(order_status_history::Column::OrderId.is_in(ids.clone()))
            .exec(db)
            .await?;
        refund::Entity::update_many()
            .col_expr(refund::Column::Comment, none())
            .filter(refund::Column::OrderId.is_in(ids.clone()))
            .exec(db)
            .await?;
        shipment::Entity::update_many()
            .col_expr(shipment::Column::TrackingNumber, Expr::value(""))
            .col_expr(shipment::Column::TrackingUrl, none())
            .filter(shipment::Column::OrderId.is_in(ids.clone()))
            .exec(db)
            .await?;
        invoice::Entity::update_many()
            .col_expr(invoice::Column::Key, none())
            .col_expr(invoice::Column::Url, none())
            .filter(invoice::Column::OrderId.is_in(ids.clone()))
            .exec(db)
            .await?;
        // A carrier's words can name the person who received it.
        tracking_event::Entity::update_many()
            .col_expr(tracking_event::Column::Description, Expr::value(""))
            .filter(tracking_event::Column::OrderId.is_in(ids.clone()))
            .exec(db)
            .await?;
        done.add(erase_mails(db, Condition::all().add(notification::Column::OrderId.is_in(ids.clone())), now).await?);
        done.runs_erased += erase_payloads(db, company_id, &ids, &source_ids, now).await?;
    }
    Ok(done)
}

/// Erases the raw request and answer of every run that carried one of these
/// orders (by order id, or by source id for records that failed before the
/// order existed), and the messages of their items. A payload holds other
/// orders too, and it goes whole: formats cannot be redacted in part.
async fn erase_payloads(
    db: &impl ConnectionTrait,
    company_id: i32,
    ids: &[i32],
    source_ids: &[String],
    now: DateTime<Utc>,
) -> DomainResult<u64> {
    let items = Condition::all().add(integration_run_item::Column::CompanyId.eq(company_id)).add(
        Condition::any()
            .add(integration_run_item::Column::OrderId.is_in(ids.to_vec()))
            .add(integration_run_item::Column::SourceId.is_in(source_ids.to_vec())),
    );
    let runs: BTreeSet<i32> = integration_run_item::Entity::find()
        .select_only()
        .column(integration_run_item::Column::RunId)
        .filter(items.clone())
        .into_tuple::<i32>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    integration_run_item::Entity::update_many()
        .col_expr(integration_run_item::Column::ErrorMessage, Expr::value(Option::<String>::None))
        .filter(items)
        .exec(db)
        .await?;
    let mut erased = 0;
    let runs: Vec<i32> = runs.into_iter().collect();
    for chunk in runs.chunks(CHUNK) {
        erased += integration_run::Entity::update_many()
            .col_expr(integration_run::Column::Request, Expr::value(""))
            .col_expr(integration_run::Column::Response, Expr::value(Option::<String>::None))
            .col_expr(integration_run::Column::Error, Expr::value(Option::<String>::None))
            .col_expr(integration_run::Column::PayloadErasedAt, Expr::value(Some(now)))
            .filter(integration_run::Column::Id.is_in(chunk.to_vec()))
            .filter(integration_run::Column::PayloadErasedAt.is_null())
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(erased)
}

/// Erases localities' responsible person and street address, and the mails
/// sent to their responsible people.
async fn erase_localities(
    db: &impl ConnectionTrait,
    company_id: i32,
    places: &[locality::Model],
    now: DateTime<Utc>,
) -> DomainResult<Anonymized> {
    let mut done = Anonymized::default();
    let none = || Expr::value(Option::<String>::None);
    for chunk in places.chunks(CHUNK) {
        done.localities += locality::Entity::update_many()
            .col_expr(locality::Column::Name, Expr::value(ANONYMIZED_NAME))
            .col_expr(locality::Column::Street, none())
            .col_expr(locality::Column::Number, none())
            .col_expr(locality::Column::Complement, none())
            .col_expr(locality::Column::District, none())
            .col_expr(locality::Column::ZipCode, none())
            .col_expr(locality::Column::Latitude, Expr::value(Option::<f64>::None))
            .col_expr(locality::Column::Longitude, Expr::value(Option::<f64>::None))
            .col_expr(locality::Column::ResponsibleName, none())
            .col_expr(locality::Column::ResponsibleEmail, none())
            .col_expr(locality::Column::ResponsiblePhone, none())
            .col_expr(locality::Column::AnonymizedAt, Expr::value(Some(now)))
            .col_expr(locality::Column::UpdatedAt, Expr::value(now))
            .filter(locality::Column::CompanyId.eq(company_id))
            .filter(locality::Column::Id.is_in(chunk.iter().map(|l| l.id)))
            .exec(db)
            .await?
            .rows_affected;
        let emails: Vec<String> = chunk.iter().filter_map(|l| l.responsible_email.clone()).collect();
        if !emails.is_empty() {
            done.add(erase_mails(db, mails_to(company_id, &emails), now).await?);
        }
    }
    Ok(done)
}

/// What an anonymized locality is called: its name may be a person's.
pub const ANONYMIZED_NAME: &str = "(anonymized)";

/// Mails of a company to these recipients.
fn mails_to(company_id: i32, emails: &[String]) -> Condition {
    Condition::all()
        .add(notification::Column::CompanyId.eq(company_id))
        .add(notification::Column::Recipient.is_in(emails.to_vec()))
}

/// Erases the recipient and bodies of the mails matching `which` (and what
/// their attempts recorded), and cancels those not yet sent. A mail being sent
/// at this very moment is marked cancelled too, and the worker's final write
/// (which only lands on a mail still marked as sending) records nothing of it;
/// but that one send, already handed to the SMTP server, may still arrive.
async fn erase_mails(db: &impl ConnectionTrait, which: Condition, now: DateTime<Utc>) -> DomainResult<Anonymized> {
    // By id from here on: erasing the recipient changes what `which` matches.
    let ids: Vec<i32> = notification::Entity::find()
        .select_only()
        .column(notification::Column::Id)
        .filter(which)
        .filter(notification::Column::ErasedAt.is_null())
        .into_tuple()
        .all(db)
        .await?;
    let mut done = Anonymized::default();
    let none = || Expr::value(Option::<String>::None);
    for chunk in ids.chunks(CHUNK) {
        notification_attempt::Entity::update_many()
            .col_expr(notification_attempt::Column::Detail, none())
            .filter(notification_attempt::Column::NotificationId.is_in(chunk.to_vec()))
            .exec(db)
            .await?;
        done.mails_erased += notification::Entity::update_many()
            .col_expr(notification::Column::Recipient, Expr::value(""))
            .col_expr(notification::Column::Subject, Expr::value(""))
            .col_expr(notification::Column::Html, Expr::value(""))
            .col_expr(notification::Column::Text, Expr::value(""))
            .col_expr(notification::Column::RenderContext, none())
            // An SMTP error may quote the address.
            .col_expr(notification::Column::LastError, none())
            .col_expr(notification::Column::ErasedAt, Expr::value(Some(now)))
            .col_expr(notification::Column::UpdatedAt, Expr::value(now))
            .filter(notification::Column::Id.is_in(chunk.to_vec()))
            .filter(notification::Column::ErasedAt.is_null())
            .exec(db)
            .await?
            .rows_affected;
        done.mails_cancelled += notification::Entity::update_many()
            .col_expr(notification::Column::State, Expr::value(NotificationState::Cancelled))
            .col_expr(notification::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(notification::Column::LastError, Expr::value(CANCELLED_REASON))
            .filter(notification::Column::Id.is_in(chunk.to_vec()))
            .filter(notification::Column::State.is_in([NotificationState::Pending, NotificationState::Held, NotificationState::Sending]))
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(done)
}

/// Why a mail was cancelled.
pub const CANCELLED_REASON: &str = "cancelled: its order or recipient was anonymized (LGPD)";

/// Closes a customer account for good: its e-mail and name are replaced, its
/// password can match nothing, its reset links are gone and every token it
/// held stops working.
async fn erase_account(db: &impl ConnectionTrait, account: &user::Model, unusable: &str, now: DateTime<Utc>) -> DomainResult<()> {
    user::Entity::update_many()
        .col_expr(user::Column::Email, Expr::value(format!("anonymized-{}@anonymized.invalid", account.id)))
        .col_expr(user::Column::Name, Expr::value(ANONYMIZED_NAME))
        .col_expr(user::Column::PasswordHash, Expr::value(unusable))
        .col_expr(user::Column::MustChangePassword, Expr::value(false))
        .col_expr(user::Column::Active, Expr::value(false))
        .col_expr(user::Column::TokenVersion, Expr::col(user::Column::TokenVersion).add(1))
        .col_expr(user::Column::LastLoginAt, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(user::Column::AnonymizedAt, Expr::value(Some(now)))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(account.id))
        .exec(db)
        .await?;
    password_reset_token::Entity::delete_many().filter(password_reset_token::Column::UserId.eq(account.id)).exec(db).await?;
    Ok(())
}

/// On SQLite, moves the WAL's pages (which still hold the old values) into the
/// database file, where `secure_delete` has zeroed what was overwritten, and
/// truncates the WAL. Best effort: a busy reader postpones it to SQLite's own
/// next checkpoint, and the anonymization has committed either way.
async fn after_erasure(ctx: &Ctx) {
    if ctx.db.get_database_backend() == DatabaseBackend::Sqlite {
        if let Err(err) = ctx.db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await {
            tracing::warn!(error = %err, "WAL checkpoint after an anonymization failed");
        }
    }
}
