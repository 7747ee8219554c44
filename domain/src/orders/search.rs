//! The order list's text filters: a part of the order's code or source id, of
//! a product's name or SKU, of the customer's name, in any case.
//!
//! The rule is one `LIKE '%term%'` on the lowercased column
//! ([`crate::db::contains`]). On a large table that reads every order of the
//! company, so where a text index exists the filter first narrows to the rows
//! the index finds, and the `LIKE` still decides:
//! - SQLite: the FTS5 trigram tables `orders_search` and `order_items_search`
//!   (migration `m20261206_000027_order_search`). The trigram tokenizer finds
//!   every row holding the term, folding case beyond ASCII, so it finds a
//!   superset of what the `LIKE` keeps. It needs at least three characters;
//!   shorter terms are read row by row. SQLite's planner cannot tell a term
//!   that finds one order from one that finds half of them, so a page first
//!   asks the index (stopping at [`SELECTIVE`] + 1 rows) and narrows only
//!   with terms that find few; the others match so many orders that walking
//!   the sort order's index finds a page sooner, and a count of them walks
//!   the text index, which stops at the count's bound ([`Lookup::walk_index`]).
//! - PostgreSQL: the trigram GIN indexes on the same lowercased expressions,
//!   which the planner uses for the `LIKE` itself when the term is selective.

use entities::{order, order_item};
use sea_orm::{
    sea_query::{Alias, Expr, Query, SelectStatement, SimpleExpr},
    ColumnTrait, Condition, ConnectionTrait, DbBackend,
};

use super::query::OrderFilter;
use crate::{db::contains, DomainResult};

/// What the text index found for each text filter (SQLite's FTS5 tables).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Lookup {
    code: Found,
    product: Found,
    customer_name: Found,
}

/// What the text index found for one term.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Found {
    /// Not asked (no index, a short term, an export): rows are read.
    #[default]
    NotAsked,
    /// At most [`SELECTIVE`] rows: a page narrows to them.
    Few,
    /// More: a page walks its sort order, and a count walks the index.
    Many,
}

/// Fewest characters the trigram index can look up.
const TRIGRAM: usize = 3;

/// Most rows a term may find in the index for the index to be used. A term
/// that finds more matches so many orders that walking them in the page's
/// order finds a page sooner than sorting every match (the page reads at
/// most `21 / share` rows, and the share is at least this many over the
/// table); reading the index is then stopped at this many, not at the end.
pub(crate) const SELECTIVE: u64 = 2_000;

impl Lookup {
    /// Every text filter reads rows: for exports, which read every match
    /// anyway, and for PostgreSQL, whose planner picks its trigram indexes.
    pub(crate) const SCAN: Lookup = Lookup { code: Found::NotAsked, product: Found::NotAsked, customer_name: Found::NotAsked };

    /// For a page or a count: on SQLite, asks the index how many rows each
    /// term of three characters or more finds (one statement, each probe
    /// stopped at [`SELECTIVE`] + 1) and narrows with those that find few.
    pub(crate) async fn for_page(db: &impl ConnectionTrait, filter: &OrderFilter) -> DomainResult<Lookup> {
        if db.get_database_backend() != DbBackend::Sqlite {
            return Ok(Lookup::SCAN);
        }
        let probes = [
            (filter.code.as_deref(), "orders_search", "code source_id"),
            (filter.product.as_deref(), "order_items_search", "name product_id"),
            (filter.customer_name.as_deref(), "orders_search", "customer_name"),
        ];
        let mut statement = Query::select();
        let mut any = false;
        for (term, table, columns) in probes {
            match term.and_then(searchable) {
                Some(term) => {
                    let found = Query::select().expr(Expr::cust("rowid")).from(Alias::new(table)).and_where(matching(table, columns, &term)).limit(SELECTIVE + 1).to_owned();
                    let counted = Query::select().expr(Expr::cust("COUNT(*)")).from_subquery(found, Alias::new("found")).to_owned();
                    statement.expr(SimpleExpr::SubQuery(None, Box::new(counted.into_sub_query_statement())));
                    any = true;
                }
                None => {
                    statement.expr(Expr::val(Option::<i64>::None));
                }
            }
        }
        if !any {
            return Ok(Lookup::SCAN);
        }
        let Some(row) = db.query_one(db.get_database_backend().build(&statement)).await? else {
            return Ok(Lookup::SCAN);
        };
        let found = |i: usize| -> DomainResult<Found> {
            let rows: Option<i64> = row.try_get_by_index(i)?;
            Ok(match rows {
                None => Found::NotAsked,
                Some(n) if n <= SELECTIVE as i64 => Found::Few,
                Some(_) => Found::Many,
            })
        };
        Ok(Lookup { code: found(0)?, product: found(1)?, customer_name: found(2)? })
    }

    /// Makes a count of the filtered orders walk the text index for the
    /// terms it finds many rows of: the index yields matches as it reads, so
    /// the count stops at its bound, where reading the orders in any order
    /// would go through most of the table for a term of a few thousand rows.
    /// The filter's own conditions stay in `bounded`; a line's product adds a
    /// `DISTINCT`, as an order may have several matching lines.
    pub(crate) fn walk_index(self, filter: &OrderFilter, bounded: &mut SelectStatement) {
        let many = |found: Found, term: &Option<String>| term.as_deref().and_then(searchable).filter(|_| found == Found::Many);
        let phrases: Vec<String> = [(self.code, &filter.code, "code source_id"), (self.customer_name, &filter.customer_name, "customer_name")]
            .into_iter()
            .filter_map(|(found, term, columns)| many(found, term).map(|t| phrase(columns, &t)))
            .collect();
        if !phrases.is_empty() {
            bounded.inner_join(Alias::new("orders_search"), Expr::cust("orders_search.rowid = orders.id"));
            bounded.and_where(Expr::cust_with_values("orders_search MATCH ?", [phrases.join(" AND ")]));
        }
        if let Some(term) = many(self.product, &filter.product) {
            bounded.inner_join(Alias::new("order_items_search"), matching("order_items_search", "name product_id", &term));
            bounded.inner_join(
                Alias::new("order_items"),
                Expr::cust("order_items.id = order_items_search.rowid AND order_items.order_id = orders.id"),
            );
            bounded.distinct();
        }
    }
}

/// The term as the index is asked for it, if it is long enough to ask.
fn searchable(term: &str) -> Option<String> {
    let term = term.trim();
    (term.chars().count() >= TRIGRAM).then(|| term.to_lowercase())
}

/// `table MATCH '{columns}: "term"'`.
fn matching(table: &str, columns: &str, term: &str) -> SimpleExpr {
    Expr::cust_with_values(format!("{table} MATCH ?"), [phrase(columns, term)])
}

/// The FTS5 query for `term` in `columns`: one phrase, quoted, so nothing in
/// the term is read as FTS5 syntax (a quote is written twice).
fn phrase(columns: &str, term: &str) -> String {
    format!("{{{columns}}}: \"{}\"", term.replace('"', "\"\""))
}

/// `rowid`s of `table`'s search index matching `term` in `columns`, where
/// `narrow` and the term is long enough.
fn narrowed(found: Found, table: &str, columns: &str, term: &str) -> Option<SelectStatement> {
    let term = searchable(term).filter(|_| found == Found::Few)?;
    Some(Query::select().expr(Expr::cust("rowid")).from(Alias::new(table)).and_where(matching(table, columns, &term)).to_owned())
}

/// Orders whose code or source id holds `term`.
pub(crate) fn code(lookup: Lookup, term: &str) -> Condition {
    let rule = Condition::any().add(contains((order::Entity, order::Column::Code), term)).add(contains((order::Entity, order::Column::SourceId), term));
    match narrowed(lookup.code, "orders_search", "code source_id", term) {
        Some(ids) => Condition::all().add(order::Column::Id.in_subquery(ids)).add(rule),
        None => rule,
    }
}

/// Orders whose customer name holds `term`.
pub(crate) fn customer_name(lookup: Lookup, term: &str) -> Condition {
    let rule = Condition::all().add(contains((order::Entity, order::Column::CustomerName), term));
    match narrowed(lookup.customer_name, "orders_search", "customer_name", term) {
        Some(ids) => rule.add(order::Column::Id.in_subquery(ids)),
        None => rule,
    }
}

/// Orders with a line whose product name or SKU holds `term`: through the
/// lines the index found, or else line by line for each order walked (a
/// subquery of every matching line would read the whole lines table first).
pub(crate) fn product(lookup: Lookup, term: &str) -> SimpleExpr {
    let rule = Condition::any().add(contains((order_item::Entity, order_item::Column::Name), term)).add(contains((order_item::Entity, order_item::Column::ProductId), term));
    match narrowed(lookup.product, "order_items_search", "name product_id", term) {
        Some(ids) => {
            let lines = Condition::all().add(order_item::Column::Id.in_subquery(ids)).add(rule);
            order::Column::Id.in_subquery(Query::select().column(order_item::Column::OrderId).from(order_item::Entity).cond_where(lines).to_owned())
        }
        None => {
            let own = Expr::col((order_item::Entity, order_item::Column::OrderId)).equals((order::Entity, order::Column::Id));
            Expr::exists(Query::select().expr(Expr::val(1)).from(order_item::Entity).cond_where(Condition::all().add(own).add(rule)).to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phrase_keeps_the_term_literal() {
        assert_eq!(phrase("code source_id", "#12"), "{code source_id}: \"#12\"");
        assert_eq!(phrase("name", "a\"b OR c*"), "{name}: \"a\"\"b OR c*\"");
    }

    /// The probe against a migrated database: where the boundary between few
    /// and many lies, that short terms and other backends are not asked, and
    /// what each answer makes of a page and a count. The answers are the
    /// same either way (the black-box suite checks that), so only this sees a
    /// probe that never says "many" or is never made.
    #[tokio::test]
    async fn the_index_tells_few_rows_from_many_at_the_bound() {
        let db = crate::db::connect("sqlite::memory:", 1).await.expect("connects");
        crate::db::migrate(&db).await.expect("migrates");
        db.execute_unprepared("PRAGMA foreign_keys = OFF").await.expect("no company needed");
        let bound = SELECTIVE as usize;
        db.execute_unprepared(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {many}) \
             INSERT INTO orders (company_id, source_id, code, status, customer_status, customer_name, priority, total_cents, refunded_cents, created_at, updated_at) \
             SELECT 1, 'S-' || i, '#BULK-' || i, 'RECEIVED', 'RECEIVED', CASE WHEN i <= {bound} THEN 'Few Name' ELSE 'Other' END, 0, 0, 0, \
             '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z' FROM n",
            many = bound + 1
        ))
        .await
        .expect("seeds");
        let filter = |code: &str, name: &str| OrderFilter { code: Some(code.into()), customer_name: Some(name.into()), ..OrderFilter::default() };
        let lookup = Lookup::for_page(&db, &filter("bulk", "few name")).await.expect("probes");
        assert_eq!((lookup.code, lookup.customer_name, lookup.product), (Found::Many, Found::Few, Found::NotAsked));
        let short = Lookup::for_page(&db, &filter("bu", "  fe ")).await.expect("probes");
        assert_eq!(short, Lookup::SCAN, "below three characters the index is not asked");
        assert!(narrowed(lookup.customer_name, "orders_search", "customer_name", "few name").is_some());
        assert!(narrowed(lookup.code, "orders_search", "code source_id", "bulk").is_none(), "many rows: the page walks");
        let mut count = Query::select().expr(Expr::val(1)).from(order::Entity).to_owned();
        lookup.walk_index(&filter("bulk", "few name"), &mut count);
        let sql = db.get_database_backend().build(&count).to_string();
        assert!(sql.contains("JOIN") && sql.contains("orders_search MATCH"), "the count walks the index for the many: {sql}");
        assert!(!sql.contains("few name"), "and not for the few: {sql}");
    }

    #[test]
    fn only_terms_of_three_characters_or_more_are_narrowed() {
        assert!(narrowed(Found::Few, "orders_search", "code", "abc").is_some());
        assert!(narrowed(Found::Few, "orders_search", "code", " ab ").is_none());
        assert!(narrowed(Found::Few, "orders_search", "code", "ção").is_some());
        assert!(narrowed(Found::NotAsked, "orders_search", "code", "abcdef").is_none());
        assert!(narrowed(Found::Many, "orders_search", "code", "abcdef").is_none());
    }
}
