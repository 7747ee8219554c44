//! Writing mails into the outbox (inside the caller's transaction), previewing
//! them, listing an order's mails and sending one again.

use chrono::Utc;
use entities::{
    company, locality, notification, order, order_status_history, shipment, smtp_settings, Locale, NotificationKind,
    NotificationState, OrderStatus,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::{settings, templates};
use crate::{orders, Action, Actor, Ctx, DomainError, DomainResult};

/// Why a mail waits for its company's sender.
pub const HELD_REASON: &str = "the company has no SMTP settings yet; the mail is held and goes out once they are saved";

/// What a status mail will say, and to whom.
#[derive(Debug, Clone)]
pub struct Draft {
    /// Recipient (the destination's responsible person).
    pub recipient: Option<String>,
    /// Rendered mail.
    pub mail: templates::MailParts,
}

/// The order's portal page. It names the company, so the login page it leads
/// to never asks the customer for one.
pub fn order_url(ctx: &Ctx, order_id: i32, company: &str) -> String {
    format!("{}/orders/{order_id}?company={company}", ctx.mail.public_base_url)
}

/// What a queued status mail will say, kept until the worker renders it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct RenderContext {
    /// Whose template applies (the company's own for `status`, else the built-in).
    pub locale: Locale,
    /// The status the mail announces.
    pub status: OrderStatus,
    /// The template's variables.
    pub vars: templates::Vars,
}

impl RenderContext {
    /// Renders the mail with the company's current template, off the runtime.
    pub(crate) async fn render(self, db: &impl ConnectionTrait, company_id: i32) -> DomainResult<templates::MailParts> {
        let parts = settings::template_of(db, company_id, self.locale, self.status).await?;
        templates::render_bounded(parts, self.vars).await
    }
}

/// The recipient and variables of the status mail for `order` moving `from → to`.
async fn gather(
    ctx: &Ctx,
    db: &impl ConnectionTrait,
    order: &order::Model,
    from: Option<OrderStatus>,
    to: OrderStatus,
    comment: Option<&str>,
) -> DomainResult<(Option<String>, RenderContext)> {
    let prefs = settings::prefs_of(db, order.company_id).await?;
    let locale = prefs.locale;
    let company = company::Entity::find_by_id(order.company_id).one(db).await?;
    let destination = match order.destination_locality_id {
        Some(id) => locality::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    let latest_shipment =
        shipment::Entity::find().filter(shipment::Column::OrderId.eq(order.id)).order_by_desc(shipment::Column::Id).one(db).await?;
    let recipient = destination.as_ref().and_then(|l| l.responsible_email.clone());
    let customer_name = order
        .customer_name
        .clone()
        .or_else(|| destination.as_ref().and_then(|l| l.responsible_name.clone()))
        .unwrap_or_default();
    let company_name = company.map(|c| c.identifier).unwrap_or_default();
    let vars = templates::Vars {
        customer_name,
        order_url: order_url(ctx, order.id, &company_name),
        track_url: crate::orders::public_tracking::link(ctx, db, order.id).await?,
        company_name,
        order_code: order.code.clone(),
        status: templates::status_label(locale, to).into(),
        previous_status: from.map(|f| templates::status_label(locale, f).to_owned()).unwrap_or_default(),
        comment: comment.unwrap_or_default().to_owned(),
        carrier: latest_shipment.as_ref().map(|s| s.title.clone().unwrap_or_else(|| s.carrier.clone())).unwrap_or_default(),
        tracking_number: latest_shipment.as_ref().map(|s| s.tracking_number.clone()).unwrap_or_default(),
        tracking_url: latest_shipment.and_then(|s| s.tracking_url).unwrap_or_default(),
        headline: templates::headline(locale, to).into(),
    };
    Ok((recipient, RenderContext { locale, status: to, vars }))
}

/// Marks bodies stored encrypted (they hold a one-time link).
pub(crate) const SEALED: &str = "sealed:";

/// A mail to queue.
pub(crate) struct NewMail<'a> {
    pub kind: NotificationKind,
    pub company_id: Option<i32>,
    pub order_id: Option<i32>,
    pub history_id: Option<i32>,
    pub recipient: &'a str,
    pub mail: templates::MailParts,
    /// Set for a status mail the worker renders (then `mail` is empty).
    pub render_context: Option<RenderContext>,
    /// Why it cannot go out yet, if so.
    pub held: Option<&'a str>,
}

/// Inserts a mail into the outbox: `PENDING`, or `HELD` when `held` says why not yet.
pub(crate) async fn insert(db: &impl ConnectionTrait, new: NewMail<'_>) -> DomainResult<notification::Model> {
    let NewMail { kind, company_id, order_id, history_id, recipient, mail, render_context, held } = new;
    let render_context = match render_context {
        Some(context) => Some(serde_json::to_string(&context).map_err(anyhow::Error::from)?),
        None => None,
    };
    let now = Utc::now();
    Ok(notification::ActiveModel {
        company_id: Set(company_id),
        order_id: Set(order_id),
        history_id: Set(history_id),
        kind: Set(kind),
        recipient: Set(recipient.to_owned()),
        subject: Set(mail.subject),
        html: Set(mail.html),
        text: Set(mail.text),
        state: Set(if held.is_some() { NotificationState::Held } else { NotificationState::Pending }),
        attempts: Set(0),
        next_attempt_at: Set(now),
        lease_until: Set(None),
        last_error: Set(held.map(str::to_owned)),
        sent_at: Set(None),
        message_id: Set(None),
        render_context: Set(render_context),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

async fn has_sender(db: &impl ConnectionTrait, company_id: i32) -> DomainResult<bool> {
    Ok(smtp_settings::Entity::find_by_id(company_id).one(db).await?.is_some())
}

/// Called in the transaction of an applied status change or comment: writes the
/// customer mail when the company's rules want one (and, for manual changes,
/// the user asked to notify; a comment mails only when asked to and visible to
/// the customer). Returns whether a mail was queued. `customer_before` is the
/// status the customer saw before the change: the mail speaks of what the
/// customer sees, so a hidden hold shows in neither `previous_status` nor, for
/// a comment, `status` (as in the customer's history, `visibility.rs`).
pub(crate) async fn enqueue_status_change(
    ctx: &Ctx,
    db: &impl ConnectionTrait,
    order: &order::Model,
    entry: &order_status_history::Model,
    customer_before: OrderStatus,
) -> DomainResult<bool> {
    let manual = entry.source == "manual";
    let comment_only = entry.from_status == Some(entry.to_status);
    let wanted = if comment_only {
        // A comment mails only when asked to and when the customer may see it.
        entry.notify_customer && entry.visible_to_customer
    } else {
        let prefs = settings::prefs_of(db, order.company_id).await?;
        prefs.statuses.contains(&entry.to_status) && (!manual || entry.notify_customer)
    };
    if !wanted {
        return Ok(false);
    }
    // A note hidden from the customer never goes into the customer's mail.
    let comment = entry.comment.as_deref().filter(|_| entry.visible_to_customer);
    let to = if comment_only { order.customer_status } else { entry.to_status };
    let (recipient, render_context) = gather(ctx, db, order, Some(customer_before), to, comment).await?;
    let Some(recipient) = recipient else {
        tracking_skip(order.id);
        return Ok(false);
    };
    let held = (!has_sender(db, order.company_id).await?).then_some(HELD_REASON);
    let new = NewMail {
        kind: NotificationKind::StatusChange,
        company_id: Some(order.company_id),
        order_id: Some(order.id),
        history_id: Some(entry.id),
        recipient: &recipient,
        // Rendered by the worker, outside this write transaction.
        mail: templates::MailParts { subject: String::new(), html: String::new(), text: String::new() },
        render_context: Some(render_context),
        held,
    };
    insert(db, new).await?;
    Ok(true)
}

fn tracking_skip(order_id: i32) {
    tracing::info!(order_id, "no responsible e-mail on the destination; no status mail");
}

/// The mail a status change to `status` would send for an order, rendered now
/// without sending.
pub async fn preview(ctx: &Ctx, actor: &Actor, order_id: i32, status: OrderStatus) -> DomainResult<Draft> {
    ctx.authz.check(actor, Action::ReadNotifications)?;
    let order = orders::get(ctx, &ctx.db, actor, order_id).await?;
    // As the mail would say it: from the status the customer sees.
    let (recipient, context) = gather(ctx, &ctx.db, &order, Some(order.customer_status), status, None).await?;
    Ok(Draft { recipient, mail: context.render(&ctx.db, order.company_id).await? })
}

/// The mails of an order, newest first.
pub async fn for_order(ctx: &Ctx, actor: &Actor, order_id: i32) -> DomainResult<Vec<notification::Model>> {
    ctx.authz.check(actor, Action::ReadNotifications)?;
    let order = orders::get(ctx, &ctx.db, actor, order_id).await?;
    Ok(notification::Entity::find()
        .filter(notification::Column::OrderId.eq(order.id))
        .order_by_desc(notification::Column::Id)
        .all(&ctx.db)
        .await?)
}

/// Queues a copy of a mail of the actor's company to be sent again.
pub async fn resend(ctx: &Ctx, actor: &Actor, notification_id: i32) -> DomainResult<notification::Model> {
    ctx.authz.check(actor, Action::ManageMail)?;
    let company_id = actor.company_id().ok_or(DomainError::Forbidden)?;
    let original = notification::Entity::find_by_id(notification_id)
        .filter(notification::Column::CompanyId.eq(company_id))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| DomainError::not_found("notification", notification_id))?;
    if original.erased_at.is_some() {
        return Err(DomainError::validation("id", "this mail was erased (LGPD); there is nothing to resend"));
    }
    if original.kind == NotificationKind::PasswordReset {
        return Err(DomainError::validation("id", "password mails are not resent; ask for a new link instead"));
    }
    let txn = crate::db::begin_write(&ctx.db).await?;
    let held = (!has_sender(&txn, company_id).await?).then_some(HELD_REASON);
    let mail = templates::MailParts { subject: original.subject, html: original.html, text: original.text };
    let new = NewMail {
        kind: NotificationKind::Resend,
        company_id: Some(company_id),
        order_id: original.order_id,
        history_id: original.history_id,
        recipient: &original.recipient,
        mail,
        render_context: original.render_context.as_deref().map(serde_json::from_str::<RenderContext>).transpose().map_err(anyhow::Error::from)?,
        held,
    };
    let copy = insert(&txn, new).await?;
    crate::audit::record(&txn, actor, Some(company_id), "notification.resend", "notification", notification_id, None).await?;
    txn.commit().await?;
    ctx.mail_wakeup.notify_one();
    Ok(copy)
}
