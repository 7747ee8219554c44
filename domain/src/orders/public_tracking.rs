//! Public tracking links (`/track/{token}`): what anyone holding an order's
//! link may see, without logging in: the code, the status timeline as
//! customers see it, shipments with carrier and tracking, and the
//! destination city. No names, addresses, e-mails, comments or prices.
//!
//! A token is `{order id}.{MAC}`, the MAC taken with the server's key over the
//! order id and the order's link key. The key is empty until a link is
//! revoked, so sending a link costs no write; revoking stores a random key,
//! which retires every link handed out before. Anonymized orders show nothing.

use chrono::{DateTime, Utc};
use entities::{company, locality, order, order_status_history, shipment, tracking_link, OrderStatus};
use sea_orm::{
    sea_query::OnConflict, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use crate::{audit, Action, Actor, Ctx, DomainError, DomainResult};

/// The MAC's purpose label.
const PURPOSE: &str = "track";

/// What the public page shows of an order.
#[derive(Debug, Clone)]
pub struct PublicOrder {
    /// The order code.
    pub code: String,
    /// The company's identifier (the shop's name on the page).
    pub company: String,
    /// The status customers see.
    pub status: OrderStatus,
    /// Status changes customers see, oldest first: (status, when).
    pub timeline: Vec<(OrderStatus, DateTime<Utc>)>,
    /// Parcels: carrier, tracking number and link, delivery time.
    pub shipments: Vec<PublicShipment>,
    /// The destination's city and state, when known.
    pub city: Option<String>,
    /// The promised delivery window.
    pub delivery_window: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
}

/// One parcel on the public page.
#[derive(Debug, Clone)]
pub struct PublicShipment {
    /// The carrier's name (its title when given).
    pub carrier: String,
    /// The carrier's tracking number.
    pub tracking_number: String,
    /// The carrier's tracking page.
    pub tracking_url: Option<String>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
}

/// The order's current link key ("" until a link is revoked).
async fn key_of(db: &impl ConnectionTrait, order_id: i32) -> DomainResult<String> {
    Ok(tracking_link::Entity::find_by_id(order_id).one(db).await?.map(|l| l.key).unwrap_or_default())
}

fn token_of(ctx: &Ctx, order_id: i32, key: &str) -> String {
    format!("{order_id}.{}", ctx.tokens.mac(PURPOSE, &format!("{order_id}:{key}")))
}

/// The public tracking page of `order_id`, for its status mails.
pub async fn link(ctx: &Ctx, db: &impl ConnectionTrait, order_id: i32) -> DomainResult<String> {
    let key = key_of(db, order_id).await?;
    Ok(format!("{}/track/{}", ctx.mail.public_base_url, token_of(ctx, order_id, &key)))
}

/// Retires every public link of the order handed out so far (staff of its
/// company, or an admin); the next status mail carries a new one. Audited.
pub async fn revoke(ctx: &Ctx, actor: &Actor, order_id: i32) -> DomainResult<String> {
    ctx.authz.check(actor, Action::WriteOrders)?;
    let order = super::get(ctx, &ctx.db, actor, order_id).await?;
    let txn = crate::db::begin_write(&ctx.db).await?;
    replace_key(&txn, order.id).await?;
    audit::record(&txn, actor, Some(order.company_id), "order.tracking_link_revoked", "order", order.id, None).await?;
    let url = link(ctx, &txn, order.id).await?;
    txn.commit().await?;
    Ok(url)
}

/// Stores a new random key for the order, retiring its earlier links.
pub(crate) async fn replace_key(db: &impl ConnectionTrait, order_id: i32) -> DomainResult<()> {
    let row = tracking_link::ActiveModel {
        order_id: Set(order_id),
        key: Set(crate::tokens::random_token(24)),
        created_at: Set(Utc::now()),
    };
    tracking_link::Entity::insert(row)
        .on_conflict(
            OnConflict::column(tracking_link::Column::OrderId)
                .update_columns([tracking_link::Column::Key, tracking_link::Column::CreatedAt])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// What the link `token` shows; any token that is malformed, forged, revoked
/// or of an anonymized order is the same `NOT_FOUND`.
pub async fn view(ctx: &Ctx, token: &str) -> DomainResult<PublicOrder> {
    let missing = || DomainError::not_found("tracking link", "");
    let (order_id, mac) = split(token).ok_or_else(missing)?;
    let key = key_of(&ctx.db, order_id).await?;
    if !ctx.tokens.mac_matches(PURPOSE, &format!("{order_id}:{key}"), mac) {
        return Err(missing());
    }
    let order = order::Entity::find_by_id(order_id)
        .one(&ctx.db)
        .await?
        .filter(|o| o.anonymized_at.is_none())
        .ok_or_else(missing)?;
    let company = company::Entity::find_by_id(order.company_id).one(&ctx.db).await?;
    let history = order_status_history::Entity::find()
        .filter(order_status_history::Column::OrderId.eq(order.id))
        .filter(order_status_history::Column::Applied.eq(true))
        .order_by_asc(order_status_history::Column::Id)
        .all(&ctx.db)
        .await?;
    let timeline = super::visibility::rewrite_for_customers(history)
        .into_iter()
        .filter(|e| e.from_status != Some(e.to_status))
        .map(|e| (e.to_status, e.occurred_at))
        .collect();
    let shipments = shipment::Entity::find()
        .filter(shipment::Column::OrderId.eq(order.id))
        .order_by_asc(shipment::Column::Id)
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|s| PublicShipment {
            carrier: s.title.unwrap_or(s.carrier),
            tracking_number: s.tracking_number,
            tracking_url: s.tracking_url,
            delivered_at: s.delivered_at,
        })
        .collect();
    // The order's own address when it has one, else its destination's.
    let city = match (place(order.address_city.clone(), order.address_state.clone()), order.destination_locality_id) {
        (Some(own), _) => Some(own),
        (None, Some(id)) => locality::Entity::find_by_id(id).one(&ctx.db).await?.and_then(|l| place(l.city, l.state)),
        (None, None) => None,
    };
    Ok(PublicOrder {
        code: order.code,
        company: company.map(|c| c.identifier).unwrap_or_default(),
        status: order.customer_status,
        timeline,
        shipments,
        city,
        delivery_window: (order.delivery_start, order.delivery_end),
    })
}

/// A token's order id and MAC, if it has their shape (an `i32`, a dot, 32
/// hex digits): anything else is refused before the database is asked.
fn split(token: &str) -> Option<(i32, &str)> {
    let (id, mac) = token.split_once('.')?;
    let well_formed = mac.len() == 32 && mac.bytes().all(|b| b.is_ascii_hexdigit()) && id.bytes().all(|b| b.is_ascii_digit());
    Some((id.parse().ok().filter(|_| well_formed)?, mac))
}

/// "City – ST", or the city alone.
fn place(city: Option<String>, state: Option<String>) -> Option<String> {
    let city = city.filter(|c| !c.trim().is_empty())?;
    Some(match state.filter(|s| !s.trim().is_empty()) {
        Some(state) => format!("{city} – {state}"),
        None => city,
    })
}

#[cfg(test)]
mod tests {
    use super::{place, split};

    #[test]
    fn only_an_id_and_a_32_digit_mac_are_a_token() {
        let mac = "0123456789abcdef0123456789ABCDEF";
        assert_eq!(split(&format!("2147483647.{mac}")), Some((i32::MAX, mac)));
        assert_eq!(split(&format!("7.{mac}")), Some((7, mac)));
        for bad in [format!("7.{mac}0"), format!("7.{}", &mac[1..]), format!("2147483648.{mac}"), format!("-7.{mac}"), format!("+7.{mac}"), format!("7{mac}"), format!("7.{}g", &mac[1..])] {
            assert_eq!(split(&bad), None, "{bad}");
        }
    }

    #[test]
    fn a_place_is_the_city_with_its_state_when_known() {
        assert_eq!(place(Some("Campinas".into()), Some("SP".into())).as_deref(), Some("Campinas – SP"));
        assert_eq!(place(Some("Campinas".into()), Some(" ".into())).as_deref(), Some("Campinas"));
        assert_eq!(place(Some(" ".into()), Some("SP".into())), None);
        assert_eq!(place(None, None), None);
    }
}
