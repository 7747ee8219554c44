//! Orders read together with the lists their reader asks for, in one
//! statement: each list is a JSON array the database builds beside its
//! order's row (`json_agg` on PostgreSQL, `json_group_array` on SQLite).
//!
//! Why one statement: a page used to take one per list on top of its own, and
//! each statement costs a round trip, the database's per-statement work and,
//! outside a transaction, a pool hand-off with sqlx's ping. One statement is
//! also one snapshot, so a page needs no transaction to read consistently.
//!
//! The orders are read first, limited, in a subquery (`page`); the lists are
//! correlated with its rows only, so their cost follows the page's size, not
//! the number of orders that match. The destination, one row per order, is
//! joined. A page's count, when asked for, is the row the page is joined to,
//! so it is read in the same statement (and snapshot) as the page.

use std::{collections::HashMap, marker::PhantomData};

use entities::{invoice, locality, order, order_attribute, order_item, order_status_history, refund, shipment, tracking_event};
use std::fmt::Write;

use sea_orm::{
    ColumnTrait, ColumnType, ConnectionTrait, DbBackend, EntityName, EntityTrait, IdenStatic, Iterable, Order, QuerySelect,
    QueryTrait, Select, Statement, Values,
};
use serde::de::DeserializeOwned;

use crate::cells::{self, Cells};
use crate::{Actor, Audience, DomainError, DomainResult};

/// Which lists of each order to read with it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Lists {
    /// Items.
    pub items: bool,
    /// Status history (for customers: what they may see, as they saw it).
    pub history: bool,
    /// Shipments.
    pub shipments: bool,
    /// Classifications and attributes.
    pub attributes: bool,
    /// Refunds.
    pub refunds: bool,
    /// Invoices.
    pub invoices: bool,
    /// The shipments' tracking events.
    pub tracking: bool,
    /// The destination locality.
    pub destination: bool,
    /// The order's own columns left unread (all are read by default).
    pub unread: Unread,
    /// The columns of the lists' rows left unread (all, by default).
    pub unread_in_lists: UnreadInLists,
}

/// Optional columns of the rows of `E` (a page's orders, or the rows of one
/// of their lists) that its reader does not need: they are left out of the
/// statement (a list writes `NULL` in their place) and read as `None`. What a
/// page's statement costs the database grows with the columns it carries,
/// and each column read costs the server a decode (and, in a list, a JSON
/// value to write and parse).
///
/// Only nullable columns can be left out, and never those the domain's own
/// rules read ([`Pruned::RULES`]): whatever a reader asks, the rows it gets
/// obey the same rules.
pub struct Unread<E = order::Entity> {
    /// Bit `i`: the `i`th of `E`'s columns.
    mask: u64,
    of: PhantomData<fn() -> E>,
}

/// An entity whose optional columns a reader may leave unread.
pub trait Pruned: EntityTrait {
    /// The optional columns the domain's rules read, never left out.
    const RULES: &'static [Self::Column];
}

impl Pruned for order::Entity {
    const RULES: &'static [order::Column] =
        &[order::Column::StatusBeforeHold, order::Column::DestinationLocalityId, order::Column::AnonymizedAt];
}

// A customer's history is rewritten from each entry's `from_status`
// (`visibility::rewrite_for_customers`).
impl Pruned for order_status_history::Entity {
    const RULES: &'static [order_status_history::Column] = &[order_status_history::Column::FromStatus];
}

macro_rules! pruned_freely {
    ($($entity:path),*) => {$(
        impl Pruned for $entity {
            const RULES: &'static [<$entity as EntityTrait>::Column] = &[];
        }
    )*};
}
pruned_freely!(order_item::Entity, shipment::Entity, order_attribute::Entity, refund::Entity, invoice::Entity, tracking_event::Entity);

impl<E: Pruned> Unread<E> {
    /// Every column the domain may leave out except `wanted`.
    pub fn all_but(wanted: &[E::Column]) -> Self {
        Self::of_mask(mask::<E>(|column| column.def().is_null() && !named::<E>(E::RULES, column) && !named::<E>(wanted, column)))
    }

    /// The same, reading `columns` too.
    fn reading(self, columns: &[E::Column]) -> Self {
        Self::of_mask(self.mask & !mask::<E>(|column| named::<E>(columns, column)))
    }
}

impl<E> Unread<E> {
    /// Whether the `at`th column is read.
    fn reads(self, at: usize) -> bool {
        self.mask >> at & 1 == 0
    }

    fn of_mask(mask: u64) -> Self {
        Unread { mask, of: PhantomData }
    }
}

// By hand: derived, each would require `E` to have the trait itself.
impl<E> Clone for Unread<E> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<E> Copy for Unread<E> {}
impl<E> Default for Unread<E> {
    /// Everything read.
    fn default() -> Self {
        Self::of_mask(0)
    }
}
impl<E> PartialEq for Unread<E> {
    fn eq(&self, other: &Self) -> bool {
        self.mask == other.mask
    }
}
impl<E> Eq for Unread<E> {}
impl<E> std::hash::Hash for Unread<E> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.mask.hash(state);
    }
}
impl<E> std::fmt::Debug for Unread<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Unread({:#x})", self.mask)
    }
}

/// The bits of `E`'s columns `chosen` chooses (bit `i`: the `i`th).
fn mask<E: EntityTrait>(chosen: impl Fn(&E::Column) -> bool) -> u64 {
    E::Column::iter().enumerate().filter(|(_, column)| chosen(column)).fold(0, |mask, (i, _)| mask | 1 << i)
}

/// Whether `columns` holds `column` (columns compare by name).
fn named<E: EntityTrait>(columns: &[E::Column], column: &E::Column) -> bool {
    columns.iter().any(|c| c.as_str() == column.as_str())
}

/// The columns of each list's rows left unread. (Classifications and
/// attributes have no optional column.)
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UnreadInLists {
    /// Of the items.
    pub items: Unread<order_item::Entity>,
    /// Of the history.
    pub history: Unread<order_status_history::Entity>,
    /// Of the shipments.
    pub shipments: Unread<shipment::Entity>,
    /// Of the refunds.
    pub refunds: Unread<refund::Entity>,
    /// Of the invoices.
    pub invoices: Unread<invoice::Entity>,
    /// Of the shipments' tracking events.
    pub tracking: Unread<tracking_event::Entity>,
}

/// Values by the id of their order (or locality). The ids are the
/// database's, never a client's text, so std's flood-resistant SipHash buys
/// nothing here; foldhash (still seeded per process) costs a fraction of it.
pub type ById<V> = HashMap<i32, V, foldhash::fast::RandomState>;

/// The lists read with some orders. A list asked for holds an entry for every
/// order read (empty when it has no rows), so a cache fed from it never asks
/// again; a list not asked for is `None`.
#[derive(Debug, Default)]
pub struct Nested {
    /// Items by order id.
    pub items: Option<ById<Vec<order_item::Model>>>,
    /// History by order id, oldest first.
    pub history: Option<ById<Vec<order_status_history::Model>>>,
    /// Shipments by order id.
    pub shipments: Option<ById<Vec<shipment::Model>>>,
    /// Classifications and attributes by order id.
    pub attributes: Option<ById<Vec<order_attribute::Model>>>,
    /// Refunds by order id.
    pub refunds: Option<ById<Vec<refund::Model>>>,
    /// Invoices by order id.
    pub invoices: Option<ById<Vec<invoice::Model>>>,
    /// Tracking events by order id.
    pub tracking: Option<ById<Vec<tracking_event::Model>>>,
    /// Destinations by locality id (only those the reader may see).
    pub destinations: Option<ById<locality::Model>>,
    /// The columns of the lists' rows left unread (read as `None`).
    pub unread: UnreadInLists,
}

/// The alias the orders are read under, which the lists correlate with.
const PAGE: &str = "page";

/// The lists' columns' aliases.
const ITEMS: &str = "nested_items";
const HISTORY: &str = "nested_history";
const SHIPMENTS: &str = "nested_shipments";
const ATTRIBUTES: &str = "nested_attributes";
const REFUNDS: &str = "nested_refunds";
const INVOICES: &str = "nested_invoices";
const TRACKING: &str = "nested_tracking";

/// One list column: its alias in the statement and its SQL.
struct Column {
    alias: &'static str,
    sql: String,
}

impl Lists {
    /// The list columns these lists add, for `actor` on `backend`.
    fn columns(self, backend: DbBackend, actor: &Actor) -> Vec<Column> {
        // Customers see only applied entries; the rest of what they may not
        // see is rewritten after reading (`visibility::rewrite_for_customers`).
        let history_filter = match actor.audience() {
            Audience::Staff => "",
            Audience::Customer => " AND c.\"applied\" = TRUE",
        };
        // Each list's SQL is built only when it is asked for: this runs on
        // every page.
        let unread = self.unread_in_lists;
        let wanted: [(bool, &'static str, &dyn Fn() -> String); 7] = [
            (self.items, ITEMS, &|| array(backend, "", unread.items)),
            (self.history, HISTORY, &|| array(backend, history_filter, unread.history)),
            (self.shipments, SHIPMENTS, &|| array(backend, "", unread.shipments)),
            (self.attributes, ATTRIBUTES, &|| array::<order_attribute::Entity>(backend, "", Unread::default())),
            (self.refunds, REFUNDS, &|| array(backend, "", unread.refunds)),
            (self.invoices, INVOICES, &|| array(backend, "", unread.invoices)),
            (self.tracking, TRACKING, &|| array(backend, "", unread.tracking)),
        ];
        wanted.into_iter().filter(|(on, ..)| *on).map(|(_, alias, sql)| Column { alias, sql: sql() }).collect()
    }
}

/// The rows of `E` belonging to a page's order, as a JSON array of arrays,
/// each row's columns in the order of the model's fields, which is how serde
/// reads a struct from a sequence. (Positional: a row as an object, with its
/// column names, cost PostgreSQL a third more on a page.) `filter` adds
/// conditions on the rows (`c`); the columns `unread` names are `NULL`.
///
/// In no particular order: [`list_of`] sorts each list by id. An aggregate's
/// own `ORDER BY` sorts every order's rows apart (PostgreSQL 15 starts a sort
/// per group), a seventh of what a page's statement cost the database, for
/// lists of a few rows that mostly arrive sorted already.
fn array<E: EntityTrait>(backend: DbBackend, filter: &str, unread: Unread<E>) -> String {
    let entity = E::default();
    let table = entity.table_name();
    let rows = match backend {
        DbBackend::Postgres => format!("COALESCE(json_agg({}), '[]')::text", row::<E>("json_build_array", false, unread)),
        // SQLite, the only other database Rastro connects to.
        DbBackend::Sqlite | DbBackend::MySql => format!("json_group_array({})", row::<E>("json_array", true, unread)),
    };
    format!("(SELECT {rows} FROM \"{table}\" AS c WHERE c.\"order_id\" = \"{PAGE}\".\"id\"{filter})")
}

/// `function(c."a", c."b", …)` over every column of `E`, for a row that
/// reads the same from either database. On SQLite (`sqlite`): booleans,
/// stored as 0 and 1, become JSON's own; and floating-point numbers are
/// written with 17 significant digits, as `json_array` would round them to
/// 15 (a quantity of 1/3 would read back as 0.333333333333333). The
/// columns `unread` names are written as `NULL`, which the row's place keeps.
fn row<E: EntityTrait>(function: &str, sqlite: bool, unread: Unread<E>) -> String {
    let values: Vec<String> = E::Column::iter()
        .enumerate()
        .map(|(at, column)| {
            let name = column.as_str();
            if !unread.reads(at) {
                return "NULL".to_owned();
            }
            match column.def().get_column_type() {
                ColumnType::Boolean if sqlite => format!("json(CASE c.\"{name}\" WHEN 1 THEN 'true' WHEN 0 THEN 'false' END)"),
                // `printf` writes NULL as 0.0.
                ColumnType::Double | ColumnType::Float if sqlite => {
                    format!("CASE WHEN c.\"{name}\" IS NULL THEN NULL ELSE json(printf('%!.17g', c.\"{name}\")) END")
                }
                _ => format!("c.\"{name}\""),
            }
        })
        .collect();
    format!("{function}({})", values.join(", "))
}

/// The prefix of the destination's columns, joined beside the page's.
const DESTINATION: &str = "nested_destination_";
/// The alias of the count read with a page, and of its column.
const TOTAL: &str = "total";
const COUNTED: &str = "nested_count";

/// How the database plans a page's statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Once, for every value of its parameters: a page whose best plan is
    /// the same whatever they are (one order, a company's newest).
    Shared,
    /// For its own values ([`crate::db::planned_for_its_values`]): a page a
    /// filter narrows, whose best plan depends on how much the filter keeps.
    PerValues,
}

impl Plan {
    /// How a page or count under `filter` is planned.
    pub(crate) fn of(filter: &super::query::OrderFilter) -> Plan {
        if filter.narrows_by_value() {
            Plan::PerValues
        } else {
            Plan::Shared
        }
    }

    /// `statement`, ready to be planned this way.
    pub(crate) fn apply(self, statement: Statement) -> Statement {
        match self {
            Plan::Shared => statement,
            Plan::PerValues => crate::db::planned_for_its_values(statement),
        }
    }
}

/// What [`read`] read.
pub(crate) struct Read {
    /// The orders, in the page's order.
    pub orders: Vec<order::Model>,
    /// Their lists.
    pub nested: Nested,
    /// What the count read with them found, when one was given.
    pub counted: Option<i64>,
}

/// Reads the first `limit` orders `orders` selects, each with the lists
/// `lists` names, in one statement; with `count` (a statement answering
/// one row, its figure named `count`), that figure too. `orders` is filtered and sorted, with no
/// limit of its own, and comes from [`super::visible_orders`]: the lists are
/// those of its rows, scoped by it alone. `order_by` repeats the sort, which
/// the outer statement keeps.
///
/// The limit is written into the statement, not bound: PostgreSQL cannot
/// plan a `LIMIT $n` once for all values, so it planned this statement anew
/// on every execution, which cost more than running it. (A page size is one
/// of 100 numbers; a client who cycles through them costs the planning the
/// bound limit cost on every request.)
#[allow(clippy::too_many_arguments)]
pub(crate) async fn read(
    db: &impl ConnectionTrait,
    actor: &Actor,
    orders: Select<order::Entity>,
    limit: u64,
    order_by: &[(order::Column, Order)],
    lists: Lists,
    count: Option<Statement>,
    plan: Plan,
) -> DomainResult<Read> {
    let backend = db.get_database_backend();
    // The sort's columns make the cursors, so they are read whatever the
    // reader asked.
    let sorted: Vec<order::Column> = order_by.iter().map(|(column, _)| *column).collect();
    let unread = lists.unread.reading(&sorted);
    let orders = match unread.mask {
        0 => orders,
        _ => orders.select_only().columns(order::Column::iter().enumerate().filter(|(i, _)| unread.reads(*i)).map(|(_, c)| c)),
    };
    let Statement { sql: inner, values, .. } = backend.build(&orders.into_query());
    debug_assert!(!inner.contains(" LIMIT "), "the orders to read come without a limit: {inner}");
    let counting = count.is_some();
    // The columns are read by position (`cells`), in this order: the count,
    // the order's, its lists', its destination's.
    let mut sql = String::from("SELECT ");
    if counting {
        write!(sql, "\"{TOTAL}\".\"count\" AS \"{COUNTED}\", ").ok();
    }
    write!(sql, "\"{PAGE}\".*").ok();
    let columns = lists.columns(backend, actor);
    for column in &columns {
        write!(sql, ", {} AS \"{}\"", column.sql, column.alias).ok();
    }
    if lists.destination {
        for column in locality::Column::iter() {
            let name = column.as_str();
            write!(sql, ", \"destination\".\"{name}\" AS \"{DESTINATION}{name}\"").ok();
        }
    }
    // The count, one row, is what the page is joined to: an empty page (a
    // cursor past the last match) still answers its row, with no order.
    let values = match count {
        Some(Statement { sql: count_sql, values: count_values, .. }) => {
            let count_values = count_values.unwrap_or(Values(Vec::new()));
            let inner = following(backend, count_values.0.len(), &inner);
            write!(sql, " FROM ({count_sql}) AS \"{TOTAL}\" LEFT JOIN ({inner} LIMIT {limit}) AS \"{PAGE}\" ON 1 = 1").ok();
            let mut all = count_values;
            all.0.extend(values.map(|v| v.0).unwrap_or_default());
            Some(all)
        }
        None => {
            write!(sql, " FROM ({inner} LIMIT {limit}) AS \"{PAGE}\"").ok();
            values
        }
    };
    if lists.destination {
        // A join, not a list: one row per order, read once per page.
        let table = locality::Entity.table_name();
        write!(sql, " LEFT JOIN \"{table}\" AS \"destination\" ON \"destination\".\"id\" = \"{PAGE}\".\"destination_locality_id\"").ok();
    }
    let sort: Vec<String> = order_by
        .iter()
        .map(|(column, direction)| {
            let direction = match direction {
                Order::Desc => "DESC",
                Order::Asc | Order::Field(_) => "ASC",
            };
            format!("\"{PAGE}\".\"{}\" {direction}", column.as_str())
        })
        .collect();
    if !sort.is_empty() {
        write!(sql, " ORDER BY {}", sort.join(", ")).ok();
    }
    let statement = plan.apply(Statement { sql, values, db_backend: backend });
    let rows = db.query_all(statement).await?;
    let mut nested = Nested::empty(lists, rows.len());
    let mut read = Vec::with_capacity(rows.len());
    let mut counted = None;
    for (n, row) in rows.iter().enumerate() {
        let mut cells = Cells::new(row, n == 0)?;
        if counting {
            counted = Some(cells.take::<i64>(COUNTED)?);
            if cells.peek::<Option<i32>>("id")?.is_none() {
                // The row of an empty page: its count, and no order.
                continue;
            }
        }
        cells.leaving_out(unread.mask);
        let order = cells::order(&mut cells)?;
        cells.leaving_out(0);
        nested.add(&mut cells, &columns, actor, &order)?;
        read.push(order);
    }
    if counting && counted.is_none() {
        return Err(DomainError::Unexpected(anyhow::anyhow!("the page's count answered no row")));
    }
    Ok(Read { orders: read, nested, counted })
}

/// The SQL of a statement whose values follow `before` values of another's
/// in the statement both are written into. SQLite numbers its `?` by their
/// place, so nothing changes; PostgreSQL's `$n` move up by `before`.
/// (Outside quotes only: the SQL sea-query writes has no `$` but its
/// placeholders, and quoted text is skipped to be sure.)
fn following(backend: DbBackend, before: usize, sql: &str) -> String {
    if backend != DbBackend::Postgres {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            (None, '$') if chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut n = 0usize;
                while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                    n = n * 10 + d as usize;
                    chars.next();
                }
                write!(out, "${}", n + before).ok();
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

impl Nested {
    /// No lists yet, with room for those of `orders` orders.
    fn empty(lists: Lists, orders: usize) -> Nested {
        fn map<V>(on: bool, orders: usize) -> Option<ById<V>> {
            on.then(|| ById::with_capacity_and_hasher(orders, Default::default()))
        }
        Nested {
            items: map(lists.items, orders),
            history: map(lists.history, orders),
            shipments: map(lists.shipments, orders),
            attributes: map(lists.attributes, orders),
            refunds: map(lists.refunds, orders),
            invoices: map(lists.invoices, orders),
            tracking: map(lists.tracking, orders),
            destinations: map(lists.destination, orders),
            unread: lists.unread_in_lists,
        }
    }

    /// Adds the lists of `order`'s row, whose columns `cells` reads next:
    /// `columns`, then the destination's when it was asked for (last in the
    /// row, so a row without a destination leaves them unread).
    fn add(&mut self, cells: &mut Cells<'_>, columns: &[Column], actor: &Actor, order: &order::Model) -> DomainResult<()> {
        let id = order.id;
        for column in columns {
            let text: String = cells.take(column.alias)?;
            match column.alias {
                ITEMS => add_list(&mut self.items, &text, column.alias, id, |row| row.id)?,
                SHIPMENTS => add_list(&mut self.shipments, &text, column.alias, id, |row| row.id)?,
                ATTRIBUTES => add_list(&mut self.attributes, &text, column.alias, id, |row| row.id)?,
                REFUNDS => add_list(&mut self.refunds, &text, column.alias, id, |row| row.id)?,
                INVOICES => add_list(&mut self.invoices, &text, column.alias, id, |row| row.id)?,
                TRACKING => add_list(&mut self.tracking, &text, column.alias, id, |row| row.id)?,
                HISTORY => {
                    if let Some(history) = &mut self.history {
                        let entries = list_of(&text, column.alias, |entry: &order_status_history::Model| entry.id)?;
                        history.insert(id, match actor.audience() {
                            Audience::Staff => entries,
                            Audience::Customer => super::visibility::rewrite_for_customers(entries),
                        });
                    }
                }
                other => return Err(DomainError::Unexpected(anyhow::anyhow!("no list is read as {other}"))),
            }
        }
        if let Some(destinations) = &mut self.destinations {
            cells.under(DESTINATION);
            if cells.peek::<Option<i32>>("id")?.is_some() {
                let locality = cells::locality(cells)?;
                if actor.sees_company(locality.company_id) {
                    destinations.insert(locality.id, locality);
                }
            }
        }
        Ok(())
    }
}

/// Adds one order's list, when it was asked for.
fn add_list<T: DeserializeOwned>(
    list: &mut Option<ById<Vec<T>>>,
    text: &str,
    alias: &str,
    id: i32,
    row_id: fn(&T) -> i32,
) -> DomainResult<()> {
    if let Some(list) = list {
        list.insert(id, list_of(text, alias, row_id)?);
    }
    Ok(())
}

/// The list the database built as `text` in column `alias`, oldest (lowest
/// `row_id`) first. It builds an array for every order, empty or not, so a
/// missing column is an error, not a list without rows.
fn list_of<T: DeserializeOwned>(text: &str, alias: &str, row_id: fn(&T) -> i32) -> DomainResult<Vec<T>> {
    let mut rows: Vec<T> =
        serde_json::from_str(text).map_err(|e| DomainError::Unexpected(anyhow::anyhow!("reading {alias} as the database built it: {e}")))?;
    // Ids are unique, so no two rows tie; a list read in order is checked
    // in one pass.
    rows.sort_unstable_by_key(row_id);
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_after_another_numbers_its_postgresql_placeholders_after_the_others() {
        let sql = r#"SELECT "a" FROM "t" WHERE "x" = $1 AND "y" IN ($2, $10) AND "z" = '$3' AND "$4" = 1"#;
        assert_eq!(
            following(DbBackend::Postgres, 3, sql),
            r#"SELECT "a" FROM "t" WHERE "x" = $4 AND "y" IN ($5, $13) AND "z" = '$3' AND "$4" = 1"#
        );
        assert_eq!(following(DbBackend::Postgres, 0, sql), sql);
        // Quoted text is kept to its end, wherever a `$` stands in it.
        let quoted = r#"SELECT 'a $1' AS "b $2" WHERE "x" = $1"#;
        assert_eq!(following(DbBackend::Postgres, 2, quoted), r#"SELECT 'a $1' AS "b $2" WHERE "x" = $3"#);
        // A `$` that no digit follows is not a placeholder (PostgreSQL allows it in names).
        assert_eq!(following(DbBackend::Postgres, 2, "SELECT a$b, $ FROM t WHERE x = $1"), "SELECT a$b, $ FROM t WHERE x = $3");
        let sqlite = r#"SELECT "a" FROM "t" WHERE "x" = ? AND "y" = ?"#;
        assert_eq!(following(DbBackend::Sqlite, 2, sqlite), sqlite, "SQLite's placeholders are numbered by their place");
    }

    #[test]
    fn a_page_leaves_out_only_the_optional_columns_no_rule_reads() {
        let reads = |unread: Unread, column: order::Column| {
            let at = order::Column::iter().position(|c| c.as_str() == column.as_str()).expect("a column");
            unread.reads(at)
        };
        let none_wanted = Unread::all_but(&[]);
        for kept in [order::Column::Id, order::Column::Code, order::Column::CreatedAt, order::Column::TotalCents] {
            assert!(reads(none_wanted, kept), "{} is required", kept.as_str());
        }
        for kept in <order::Entity as Pruned>::RULES.iter().copied() {
            assert!(reads(none_wanted, kept), "{} is a rule's", kept.as_str());
        }
        for left in [order::Column::CustomerName, order::Column::Observations, order::Column::AddressCity, order::Column::InvoiceUrl] {
            assert!(!reads(none_wanted, left), "{} is asked by no field", left.as_str());
        }
        let wanted = Unread::all_but(&[order::Column::CustomerName]);
        assert!(reads(wanted, order::Column::CustomerName) && !reads(wanted, order::Column::Observations));
        let sorted = none_wanted.reading(&[order::Column::Observations]);
        assert!(reads(sorted, order::Column::Observations) && !reads(sorted, order::Column::CustomerName));
        assert!(order::Column::iter().enumerate().all(|(at, _)| Unread::<order::Entity>::default().reads(at)), "by default, everything");
    }

    /// A list's row keeps every column's place; those left unread are
    /// `NULL`, and only optional columns no rule reads are ever left out.
    #[test]
    fn a_list_writes_null_in_the_place_of_each_column_left_unread() {
        let items = row::<order_item::Entity>("json_build_array", false, Unread::all_but(&[order_item::Column::Weight]));
        assert_eq!(
            items,
            "json_build_array(c.\"id\", c.\"order_id\", c.\"source_id\", c.\"product_id\", c.\"name\", c.\"quantity\", \
             c.\"unit_price_cents\", NULL, NULL, NULL, c.\"weight\", NULL, NULL, NULL)"
        );
        let history = row::<order_status_history::Entity>("json_array", true, Unread::all_but(&[]));
        assert!(history.contains("c.\"from_status\"") && history.contains("c.\"to_status\""), "a rule's column stays: {history}");
        assert!(!history.contains("c.\"comment\"") && history.matches("NULL").count() == 4, "{history}");
        assert_eq!(row::<order_attribute::Entity>("json_array", true, Unread::all_but(&[])).matches("NULL").count(), 0);
    }

    /// A list read narrow and one read in full are different cache keys
    /// (the loaders': `api::graphql::loaders::ListKey`), so neither answers
    /// for the other.
    #[test]
    fn two_readings_of_a_list_are_told_apart() {
        let narrow = Unread::<order_item::Entity>::all_but(&[]);
        let weighed = Unread::<order_item::Entity>::all_but(&[order_item::Column::Weight]);
        assert_ne!(narrow, Unread::default());
        assert_ne!(narrow, weighed);
        assert_eq!(weighed, Unread::all_but(&[order_item::Column::Weight, order_item::Column::Name]), "a required column changes nothing");
    }

    /// The database hands each list over in whatever order it read it (an
    /// updated row may move); the list is sorted by id as it is read.
    #[test]
    fn a_list_is_read_oldest_first_whatever_order_the_database_gave() {
        let text = r#"[[3, 1, "ATTRIBUTE", "c", "3"], [1, 1, "CLASSIFICATION", "a", "1"], [2, 1, "ATTRIBUTE", "b", "2"]]"#;
        let rows = list_of(text, ATTRIBUTES, |row: &order_attribute::Model| row.id).expect("reads");
        assert_eq!(rows.iter().map(|row| (row.id, row.key.as_str())).collect::<Vec<_>>(), [(1, "a"), (2, "b"), (3, "c")]);
        assert!(list_of(r#"{"not": "a list"}"#, ATTRIBUTES, |row: &order_attribute::Model| row.id).is_err());
    }

    #[test]
    fn postgresql_reads_columns_as_they_are_and_sqlite_converts_booleans_and_floats() {
        let history = row::<order_status_history::Entity>("json_build_array", false, Unread::default());
        assert!(history.starts_with("json_build_array(c.\"id\", c.\"order_id\", "), "{history}");
        assert!(history.contains(", c.\"applied\", "), "{history}");
        let items = row::<order_item::Entity>("json_build_array", false, Unread::default());
        assert!(items.contains(", c.\"quantity\", "), "{items}");
        // PostgreSQL has neither `json(…)` nor `printf`.
        for postgresql in [&history, &items] {
            assert!(!postgresql.contains("json(") && !postgresql.contains("printf"), "{postgresql}");
        }
        let history = row::<order_status_history::Entity>("json_array", true, Unread::default());
        assert!(history.contains("json(CASE c.\"applied\" WHEN 1 THEN 'true' WHEN 0 THEN 'false' END)"), "{history}");
        let items = row::<order_item::Entity>("json_array", true, Unread::default());
        assert!(
            items.contains("CASE WHEN c.\"quantity\" IS NULL THEN NULL ELSE json(printf('%!.17g', c.\"quantity\")) END"),
            "{items}"
        );
    }
}
