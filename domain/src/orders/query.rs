//! Reading orders: filtered, sorted keyset pages, single lookups, and the batch
//! loaders behind GraphQL's DataLoaders. Each loader answers for many orders in
//! one statement, scoped to what the actor may see.

use std::collections::HashMap;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Utc};
use entities::{invoice, order, order_attribute, order_item, order_status_history, refund, shipment, tracking_event, OrderStatus};
use sea_orm::{
    sea_query::Expr,
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect,
    IdenStatic, QueryTrait, Select, Statement,
};
use serde::{Deserialize, Serialize};

use super::{
    nested::{self, Lists, Nested, Plan},
    search::{self, Lookup},
    visible_order_ids, visible_orders,
};
use crate::{
    actor::Scope,
    page::MAX_PAGE,
    Action, Actor, Audience, Ctx, DomainError, DomainResult,
};

/// Filters of the order list (the back office's: number, product, date,
/// customer, status, value, locality).
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    /// Part of the order code or source id.
    pub code: Option<String>,
    /// Part of a product name or SKU of any item.
    pub product: Option<String>,
    /// Created at or after.
    pub created_from: Option<DateTime<Utc>>,
    /// Created before.
    pub created_to: Option<DateTime<Utc>>,
    /// Part of the customer name.
    pub customer_name: Option<String>,
    /// Any of these statuses.
    pub statuses: Vec<OrderStatus>,
    /// Total at least (cents).
    pub min_total_cents: Option<i64>,
    /// Total at most (cents).
    pub max_total_cents: Option<i64>,
    /// Destination locality.
    pub locality_id: Option<i32>,
    /// One company (admins).
    pub company_id: Option<i32>,
}

/// Longest search term accepted.
const MAX_TERM: usize = 200;

impl OrderFilter {
    /// Whether a condition whose best plan depends on its value narrows the
    /// list (a term, a window, a range, statuses, a destination): such a
    /// page is planned for its values ([`crate::db::planned_for_its_values`]).
    /// A company, the scope's own column, narrows the same way whichever it is.
    pub(crate) fn narrows_by_value(&self) -> bool {
        self.code.is_some() || self.product.is_some() || self.customer_name.is_some() || self.indexed_columns().next().is_some()
    }

    /// The columns of the conditions an order index of their own serves: not
    /// the text terms (the search index's), nor the company (the scope's).
    fn indexed_columns(&self) -> impl Iterator<Item = order::Column> {
        let OrderFilter { code: _, product: _, customer_name: _, company_id: _, created_from, created_to, statuses, min_total_cents, max_total_cents, locality_id } =
            self;
        [
            (created_from.is_some() || created_to.is_some(), order::Column::CreatedAt),
            (!statuses.is_empty(), order::Column::Status),
            (min_total_cents.is_some() || max_total_cents.is_some(), order::Column::TotalCents),
            (locality_id.is_some(), order::Column::DestinationLocalityId),
        ]
        .into_iter()
        .filter_map(|(set, column)| set.then_some(column))
    }

    /// Refuses search terms no order can match and no database should see: NUL
    /// characters (PostgreSQL cannot take them in text) and terms over
    /// [`MAX_TERM`] characters. Every entry point (GraphQL, exports) filters
    /// through here.
    pub fn check(&self) -> DomainResult<()> {
        for (field, term) in [("code", &self.code), ("product", &self.product), ("customerName", &self.customer_name)] {
            let Some(term) = term else { continue };
            if term.contains('\0') {
                return Err(DomainError::validation(field, "must not contain NUL characters"));
            }
            if term.chars().count() > MAX_TERM {
                return Err(DomainError::validation(field, format!("must be at most {MAX_TERM} characters")));
            }
        }
        Ok(())
    }
}

/// What the order list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum OrderSortField {
    /// Creation time (default).
    #[default]
    CreatedAt,
    /// Last change.
    UpdatedAt,
    /// Order total.
    Total,
    /// Order code.
    Code,
    /// Priority.
    Priority,
}

/// Sort order of the list; ties are broken by id in the same direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderSort {
    /// Field.
    pub field: OrderSortField,
    /// Largest first.
    pub descending: bool,
}

impl Default for OrderSort {
    fn default() -> Self {
        OrderSort { field: OrderSortField::CreatedAt, descending: true }
    }
}

/// The position after which a page starts: sort field, its value, and the id.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cursor {
    f: OrderSortField,
    v: CursorValue,
    id: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
enum CursorValue {
    Int(i64),
    Text(String),
}

impl OrderSortField {
    fn column(self) -> order::Column {
        match self {
            OrderSortField::CreatedAt => order::Column::CreatedAt,
            OrderSortField::UpdatedAt => order::Column::UpdatedAt,
            OrderSortField::Total => order::Column::TotalCents,
            OrderSortField::Code => order::Column::Code,
            OrderSortField::Priority => order::Column::Priority,
        }
    }

    fn value_of(self, o: &order::Model) -> CursorValue {
        match self {
            OrderSortField::CreatedAt => CursorValue::Text(o.created_at.to_rfc3339()),
            OrderSortField::UpdatedAt => CursorValue::Text(o.updated_at.to_rfc3339()),
            OrderSortField::Total => CursorValue::Int(o.total_cents),
            OrderSortField::Code => CursorValue::Text(o.code.clone()),
            OrderSortField::Priority => CursorValue::Int(i64::from(o.priority)),
        }
    }

    fn bind(self, value: &CursorValue) -> Option<sea_orm::Value> {
        match (self, value) {
            (OrderSortField::CreatedAt | OrderSortField::UpdatedAt, CursorValue::Text(t)) => {
                DateTime::parse_from_rfc3339(t).ok().map(|d| d.with_timezone(&Utc).into())
            }
            (OrderSortField::Code, CursorValue::Text(t)) => Some(t.clone().into()),
            (OrderSortField::Total, CursorValue::Int(n)) => Some((*n).into()),
            (OrderSortField::Priority, CursorValue::Int(n)) => i32::try_from(*n).ok().map(Into::into),
            _ => None,
        }
    }
}

/// The cursor of `order` in a list sorted by `field`.
pub fn cursor_of(order: &order::Model, field: OrderSortField) -> String {
    let cursor = Cursor { f: field, v: field.value_of(order), id: order.id };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&cursor).unwrap_or_default())
}

fn decode_cursor(raw: &str, sort: OrderSort) -> DomainResult<(sea_orm::Value, i32)> {
    let bad = || DomainError::validation("after", "is not a cursor of this list and sort order");
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
    let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if cursor.f != sort.field {
        return Err(bad());
    }
    let value = sort.field.bind(&cursor.v).ok_or_else(bad)?;
    Ok((value, cursor.id))
}


/// Whether an index on `column` (with the company's or a status's prefix)
/// hands rows over in the order `sort` asks for: each filter's index ends
/// with the creation time, the total's with the total.
fn sorted_by_its_index(column: order::Column, sort: OrderSortField) -> bool {
    match column {
        order::Column::TotalCents => sort == OrderSortField::Total,
        order::Column::Status | order::Column::CustomerStatus | order::Column::DestinationLocalityId | order::Column::CreatedAt => {
            sort == OrderSortField::CreatedAt
        }
        _ => true,
    }
}

/// `walking`: the page walks the index of this sort (SQLite only, see
/// [`walks_its_sort`]), so a condition whose own index would hand rows over
/// in another order is written on `+"orders"."column"`, which SQLite does
/// not look up through an index (unary `+` leaves every value as it is).
fn apply_filter(actor: &Actor, mut query: Select<order::Entity>, filter: &OrderFilter, lookup: Lookup, walking: Option<OrderSortField>) -> Select<order::Entity> {
    let unindexed = |column: order::Column| {
        walking.filter(|sort| !sorted_by_its_index(column, *sort)).map(|_| Expr::expr(Expr::cust(format!("+\"orders\".\"{}\"", column.as_str()))))
    };
    // The column a condition is on, written as `unindexed` says.
    let subject = |column: order::Column| unindexed(column).unwrap_or_else(|| Expr::col((order::Entity, column)));
    let text = |t: &Option<String>| t.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
    if let Some(code) = text(&filter.code) {
        query = query.filter(search::code(lookup, &code));
    }
    if let Some(product) = text(&filter.product) {
        query = query.filter(search::product(lookup, &product));
    }
    if let Some(name) = text(&filter.customer_name) {
        query = query.filter(search::customer_name(lookup, &name));
    }
    if let Some(from) = filter.created_from {
        query = query.filter(subject(order::Column::CreatedAt).gte(from));
    }
    if let Some(to) = filter.created_to {
        query = query.filter(subject(order::Column::CreatedAt).lt(to));
    }
    if !filter.statuses.is_empty() {
        // A customer filters by the status it sees, or a hidden hold would
        // show up as a missing (or surprising) row. (The column's own `is_in`
        // casts to PostgreSQL's enum type; walking is SQLite's alone.)
        let column = super::visibility::status_column(actor);
        let statuses = filter.statuses.iter().copied();
        query = query.filter(match unindexed(column) {
            Some(plus) => plus.is_in(statuses),
            None => column.is_in(statuses),
        });
    }
    if let Some(min) = filter.min_total_cents {
        query = query.filter(subject(order::Column::TotalCents).gte(min));
    }
    if let Some(max) = filter.max_total_cents {
        query = query.filter(subject(order::Column::TotalCents).lte(max));
    }
    if let Some(locality) = filter.locality_id {
        query = query.filter(subject(order::Column::DestinationLocalityId).eq(locality));
    }
    if let Some(company) = filter.company_id {
        query = query.filter(order::Column::CompanyId.eq(company));
    }
    query
}

/// The filtered orders the actor may see, or `None`; `lookup` says whether
/// text filters go through the text index.
pub(crate) fn filtered(actor: &Actor, filter: &OrderFilter, lookup: Lookup) -> Option<Select<order::Entity>> {
    visible_orders(actor).map(|q| apply_filter(actor, q, filter, lookup, None))
}

/// Whether a page should walk its sort order's index instead of a filter's.
///
/// SQLite's planner does not see a condition's value: for a page newest
/// first under "total at most 20.00", it read all 10,000 matching orders of
/// a million through the total's index and sorted them (30 ms) where walking
/// the creation order finds 21 matches after about 2,100 orders. Walking is
/// right when the filter keeps many orders and wrong when it keeps few (it
/// would read every order to find them), so a page whose filter has a
/// condition indexed in another order than its sort first counts the matches
/// up to [`search::SELECTIVE`] + 1, as the text filters do, and walks when
/// there are more. PostgreSQL's planner decides this itself from the values
/// ([`crate::db::planned_for_its_values`]).
async fn walks_its_sort(db: &impl ConnectionTrait, filter: &OrderFilter, sort: OrderSortField, query: &Select<order::Entity>, lookup: Lookup) -> DomainResult<bool> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(false);
    }
    if filter.indexed_columns().all(|column| sorted_by_its_index(column, sort)) {
        return Ok(false);
    }
    let probe = count_statement(DbBackend::Sqlite, query.clone(), filter, lookup, search::SELECTIVE + 1);
    let found: Option<i64> = match db.query_one(probe).await? {
        Some(row) => Some(row.try_get("", "count")?),
        None => None,
    };
    Ok(found.is_some_and(|n| n > search::SELECTIVE as i64))
}

/// What `count` counts to when the caller names no bound.
pub const COUNT_UP_TO: u64 = 1_000;
/// The highest bound `count` accepts: a count reads one index entry per order,
/// so an exact figure over millions is a cost the caller asks for by name.
pub const MAX_COUNT_UP_TO: u64 = 1_000_000;

/// A page of the orders the actor may see, each with the lists `lists` names,
/// read in one statement ([`super::nested`]); with `count_up_to`, what
/// [`count`] would answer for the same filter, read in the same statement.
/// A page's cost does not grow with the table.
#[allow(clippy::too_many_arguments)]
pub async fn list(
    ctx: &Ctx,
    db: &impl ConnectionTrait,
    actor: &Actor,
    filter: &OrderFilter,
    sort: OrderSort,
    first: u64,
    after: Option<&str>,
    lists: Lists,
    count_up_to: Option<u64>,
) -> DomainResult<OrderPage> {
    ctx.authz.check(actor, Action::ReadOrders)?;
    if first == 0 || first > MAX_PAGE {
        return Err(DomainError::validation("first", format!("must be between 1 and {MAX_PAGE}")));
    }
    check_filter(filter)?;
    if let Some(up_to) = count_up_to {
        check_up_to(up_to)?;
    }
    let lookup = Lookup::for_page(db, filter).await?;
    let Some(query) = filtered(actor, filter, lookup) else {
        return Ok(OrderPage { items: vec![], has_next_page: false, nested: Nested::default(), total: count_up_to.map(|_| 0) });
    };
    let backend = db.get_database_backend();
    let counting = count_up_to.map(|up_to| count_statement(backend, query.clone(), filter, lookup, up_to));
    let column = sort.field.column();
    let mut page_query = match walks_its_sort(db, filter, sort.field, &query, lookup).await? {
        true => visible_orders(actor).map_or(query, |q| apply_filter(actor, q, filter, lookup, Some(sort.field))),
        false => query,
    };
    if let Some(raw) = after {
        let (value, id) = decode_cursor(raw, sort)?;
        let (beyond, id_beyond) = if sort.descending {
            (Expr::col(column).lt(value.clone()), Expr::col(order::Column::Id).lt(id))
        } else {
            (Expr::col(column).gt(value.clone()), Expr::col(order::Column::Id).gt(id))
        };
        page_query = page_query.filter(
            Condition::any().add(beyond).add(Condition::all().add(Expr::col(column).eq(value)).add(id_beyond)),
        );
    }
    let direction = if sort.descending { Order::Desc } else { Order::Asc };
    let order_by = [(column, direction.clone()), (order::Column::Id, direction)];
    let page_query = order_by.iter().fold(page_query, |q, (c, d)| q.order_by(*c, d.clone()));
    let read = nested::read(db, actor, page_query, first + 1, &order_by, lists, counting, Plan::of(filter)).await?;
    let mut items = read.orders;
    let has_next_page = items.len() as u64 > first;
    items.truncate(first as usize);
    let total = count_up_to.map(|up_to| counted(read.counted, up_to));
    Ok(OrderPage { items, has_next_page, nested: read.nested, total })
}

/// One page of orders and whether more follow.
#[derive(Debug)]
pub struct OrderPage {
    /// The orders, in the page's order.
    pub items: Vec<order::Model>,
    /// Whether orders follow the last one.
    pub has_next_page: bool,
    /// The lists read with them. (With `first + 1` read to learn whether more
    /// follow, they may hold the lists of one order past the page.)
    pub nested: Nested,
    /// The count asked for with the page, as [`count`] answers it.
    pub total: Option<u64>,
}

fn check_filter(filter: &OrderFilter) -> DomainResult<()> {
    filter.check()?;
    if let (Some(min), Some(max)) = (filter.min_total_cents, filter.max_total_cents) {
        if min > max {
            return Err(DomainError::validation("filter.maxTotal", "must not be below minTotal"));
        }
    }
    Ok(())
}

/// How many orders the actor may see match `filter`, counted up to `up_to`
/// (1 to `MAX_COUNT_UP_TO`): exact below it; `up_to` itself means that many
/// or more. The count stops at the bound, so it costs the same on a
/// thousand orders as on millions. (A page counts in its own statement:
/// [`list`]'s `count_up_to`.)
pub async fn count(ctx: &Ctx, db: &impl ConnectionTrait, actor: &Actor, filter: &OrderFilter, up_to: u64) -> DomainResult<u64> {
    ctx.authz.check(actor, Action::ReadOrders)?;
    check_up_to(up_to)?;
    check_filter(filter)?;
    let lookup = Lookup::for_page(db, filter).await?;
    let Some(query) = filtered(actor, filter, lookup) else {
        return Ok(0);
    };
    let statement = Plan::of(filter).apply(count_statement(db.get_database_backend(), query, filter, lookup, up_to));
    let found: Option<i64> = match db.query_one(statement).await? {
        Some(row) => Some(row.try_get("", "count")?),
        None => None,
    };
    Ok(counted(found, up_to))
}

/// Refuses a count bound outside 1 to [`MAX_COUNT_UP_TO`].
pub fn check_up_to(up_to: u64) -> DomainResult<()> {
    if up_to == 0 || up_to > MAX_COUNT_UP_TO {
        return Err(DomainError::validation("upTo", format!("must be between 1 and {MAX_COUNT_UP_TO}")));
    }
    Ok(())
}

/// `SELECT COUNT(*) AS "count"` of the orders `query` selects, stopped at
/// `up_to` rounded up to a power of two. The bound is written in, not bound
/// as a parameter (see `nested::read`), and rounded so that the million
/// bounds a client may name make some twenty statements, not a million for
/// each connection to prepare; [`counted`] cuts the figure to `up_to`.
fn count_statement(backend: DbBackend, query: Select<order::Entity>, filter: &OrderFilter, lookup: Lookup, up_to: u64) -> Statement {
    let mut bounded = query.select_only().column(order::Column::Id).into_query();
    lookup.walk_index(filter, &mut bounded);
    let Statement { sql, values, .. } = backend.build(&bounded);
    let counted_to = up_to.next_power_of_two();
    let sql = format!("SELECT COUNT(*) AS \"count\" FROM ({sql} LIMIT {counted_to}) AS \"bounded\"");
    Statement { sql, values, db_backend: backend }
}

/// A count's figure, at most `up_to` (none read is none found).
fn counted(found: Option<i64>, up_to: u64) -> u64 {
    found.and_then(|n| u64::try_from(n).ok()).unwrap_or(0).min(up_to)
}

/// One order the actor may see; another tenant's looks like a missing one.
pub async fn get(ctx: &Ctx, db: &impl ConnectionTrait, actor: &Actor, order_id: i32) -> DomainResult<order::Model> {
    ctx.authz.check(actor, Action::ReadOrders)?;
    // `all`, not `one`: by id there is at most one row, and `one`'s bound
    // `LIMIT $n` made PostgreSQL plan the statement on every call.
    get_query(actor, order_id)?.all(db).await?.into_iter().next().ok_or_else(|| DomainError::not_found("order", order_id))
}

/// [`get`], with the lists `lists` names read in the same statement.
pub async fn get_with(ctx: &Ctx, db: &impl ConnectionTrait, actor: &Actor, order_id: i32, lists: Lists) -> DomainResult<(order::Model, Nested)> {
    ctx.authz.check(actor, Action::ReadOrders)?;
    let read = nested::read(db, actor, get_query(actor, order_id)?, 1, &[], lists, None, Plan::Shared).await?;
    let order = read.orders.into_iter().next().ok_or_else(|| DomainError::not_found("order", order_id))?;
    Ok((order, read.nested))
}

fn get_query(actor: &Actor, order_id: i32) -> DomainResult<Select<order::Entity>> {
    let query = visible_orders(actor).ok_or_else(|| DomainError::not_found("order", order_id))?;
    Ok(query.filter(order::Column::Id.eq(order_id)))
}

/// An order by the company's own id (`sourceId`); the newest when an
/// anonymized order had the id before. Admins name the company. Read with
/// the lists `lists` names, in one statement.
pub async fn by_source_id(
    ctx: &Ctx,
    db: &impl ConnectionTrait,
    actor: &Actor,
    source_id: &str,
    company_id: Option<i32>,
    lists: Lists,
) -> DomainResult<(order::Model, Nested)> {
    ctx.authz.check(actor, Action::ReadOrders)?;
    let company = match (actor.scope(), company_id) {
        (Scope::All, Some(c)) => c,
        (Scope::All, None) => return Err(DomainError::validation("companyId", "is required for admins")),
        (Scope::Company(c) | Scope::Customer { company_id: c, .. }, _) => c,
        (Scope::Nothing, _) => return Err(DomainError::not_found("order", source_id)),
    };
    let query = visible_orders(actor).ok_or_else(|| DomainError::not_found("order", source_id))?;
    let query = query
        .filter(order::Column::CompanyId.eq(company))
        .filter(order::Column::SourceId.eq(source_id))
        // After an anonymization a fresh order may hold the same source id:
        // the live one comes first, the anonymized ones after it.
        .order_by_desc(order::Column::Id);
    let read = nested::read(db, actor, query, 1, &[], lists, None, Plan::Shared).await?;
    let order = read.orders.into_iter().next().ok_or_else(|| DomainError::not_found("order", source_id))?;
    Ok((order, read.nested))
}

fn group<T>(rows: Vec<T>, key: impl Fn(&T) -> i32) -> HashMap<i32, Vec<T>> {
    let mut map: HashMap<i32, Vec<T>> = HashMap::new();
    for row in rows {
        map.entry(key(&row)).or_default().push(row);
    }
    map
}

macro_rules! children_loader {
    ($(#[$doc:meta])* $name:ident, $entity:ident, $order_col:expr, $sort_col:expr) => {
        $(#[$doc])*
        pub async fn $name(db: &impl ConnectionTrait, actor: &Actor, order_ids: &[i32]) -> DomainResult<HashMap<i32, Vec<$entity::Model>>> {
            let Some(visible) = visible_order_ids(actor, order_ids) else { return Ok(HashMap::new()) };
            let rows = $entity::Entity::find()
                .filter($order_col.in_subquery(visible))
                .order_by_asc($sort_col)
                .all(db)
                .await?;
            Ok(group(rows, |r| r.order_id))
        }
    };
}

children_loader!(
    /// Items of many orders, by order id.
    items_for, order_item, order_item::Column::OrderId, order_item::Column::Id
);
children_loader!(
    /// Shipments of many orders, by order id.
    shipments_for, shipment, shipment::Column::OrderId, shipment::Column::Id
);
children_loader!(
    /// Classifications and attributes of many orders, by order id.
    attributes_for, order_attribute, order_attribute::Column::OrderId, order_attribute::Column::Id
);
children_loader!(
    /// Refunds of many orders, by order id.
    refunds_for, refund, refund::Column::OrderId, refund::Column::Id
);
children_loader!(
    /// Invoices of many orders, by order id, in the order they came.
    invoices_for, invoice, invoice::Column::OrderId, invoice::Column::Id
);
children_loader!(
    /// Tracking timelines of many orders' shipments, by order id, each
    /// shipment's events in its carrier's order (they are written in it).
    tracking_events_for, tracking_event, tracking_event::Column::OrderId, tracking_event::Column::Id
);

/// History of many orders, oldest first. Customers see only entries marked
/// visible to them, never skipped events, and statuses as they saw them
/// ([`super::visibility`]): the hidden entries are read too (same statement),
/// because the starting status may be in a hidden creation entry.
pub async fn history_for(
    db: &impl ConnectionTrait,
    actor: &Actor,
    order_ids: &[i32],
) -> DomainResult<HashMap<i32, Vec<order_status_history::Model>>> {
    let Some(visible) = visible_order_ids(actor, order_ids) else { return Ok(HashMap::new()) };
    let mut query =
        order_status_history::Entity::find().filter(order_status_history::Column::OrderId.in_subquery(visible));
    let audience = actor.audience();
    if audience == Audience::Customer {
        query = query.filter(order_status_history::Column::Applied.eq(true));
    }
    let rows = query.order_by_asc(order_status_history::Column::Id).all(db).await?;
    let grouped = group(rows, |r| r.order_id);
    Ok(match audience {
        Audience::Staff => grouped,
        Audience::Customer => {
            grouped.into_iter().map(|(id, entries)| (id, super::visibility::rewrite_for_customers(entries))).collect()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_narrows_by_value_when_any_condition_but_the_company_is_set() {
        assert!(!OrderFilter::default().narrows_by_value());
        assert!(!OrderFilter { company_id: Some(1), ..OrderFilter::default() }.narrows_by_value());
        let now = Utc::now();
        let each: [OrderFilter; 9] = [
            OrderFilter { code: Some("a".into()), ..OrderFilter::default() },
            OrderFilter { product: Some("a".into()), ..OrderFilter::default() },
            OrderFilter { created_from: Some(now), ..OrderFilter::default() },
            OrderFilter { created_to: Some(now), ..OrderFilter::default() },
            OrderFilter { customer_name: Some("a".into()), ..OrderFilter::default() },
            OrderFilter { statuses: vec![OrderStatus::Received], ..OrderFilter::default() },
            OrderFilter { min_total_cents: Some(1), ..OrderFilter::default() },
            OrderFilter { max_total_cents: Some(1), ..OrderFilter::default() },
            OrderFilter { locality_id: Some(1), ..OrderFilter::default() },
        ];
        for filter in each {
            assert!(filter.narrows_by_value(), "{filter:?}");
        }
    }
}
