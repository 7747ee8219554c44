//! Models read from a row's columns by position, for the statements a page
//! reads many rows of.
//!
//! Why not SeaORM's `FromQueryResult`: it finds every column by name (a
//! string hash per column, and a `format!` per column under a prefix) and
//! reports a NULL read into an `Option` as an error it formats and then
//! drops. For a page of orders with their destinations that was a fifth of
//! the server's CPU per request. Here each column is one indexed read.
//!
//! Position is checked against name on the first row of each statement
//! ([`Cells::new`]), so a model whose fields and columns disagree in order
//! fails the first read, in every test that reads a page, instead of
//! reading one field into another.

use entities::enums::{Incoterm, LogisticRole, OrderStatus};
use entities::{locality, order};
use sea_orm::prelude::DateTimeUtc;
use sea_orm::{ActiveEnum, DbErr, QueryResult, RuntimeErr};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Column, Row};

/// A row of one of the databases Rastro reads.
pub(crate) enum Raw<'r> {
    Postgres(&'r PgRow),
    Sqlite(&'r SqliteRow),
}

impl Raw<'_> {
    fn name(&self, at: usize) -> Option<&str> {
        match self {
            Raw::Postgres(row) => row.columns().get(at).map(Column::name),
            Raw::Sqlite(row) => row.columns().get(at).map(Column::name),
        }
    }
}

/// A row's columns, read one after another.
pub(crate) struct Cells<'r> {
    row: Raw<'r>,
    at: usize,
    /// Whether each column's name is compared with the one asked for.
    check: bool,
    /// What the names asked for are prefixed with in the statement.
    prefix: &'static str,
    /// The fields of the model being read that the statement left out (bit
    /// `i`: its `i`th field).
    left_out: u64,
    /// The field of that model read next.
    field: u32,
}

impl<'r> Cells<'r> {
    /// The columns of `row`, from its first. With `check` (the first row of
    /// a statement: every row of one statement has the same columns), each
    /// read compares the column's name with the one the reader names.
    pub(crate) fn new(row: &'r QueryResult, check: bool) -> Result<Cells<'r>, DbErr> {
        let row = match (row.try_as_pg_row(), row.try_as_sqlite_row()) {
            (Some(row), _) => Raw::Postgres(row),
            (None, Some(row)) => Raw::Sqlite(row),
            (None, None) => return Err(DbErr::Type("a row of a database Rastro does not read".into())),
        };
        Ok(Cells { row, at: 0, check, prefix: "", left_out: 0, field: 0 })
    }

    /// Reads the next column, named `name` (after the current prefix); a
    /// field the statement left out reads as unset.
    pub(crate) fn take<T: Cell>(&mut self, name: &str) -> Result<T, DbErr> {
        let field = self.field;
        self.field = field.saturating_add(1);
        if self.left_out.checked_shr(field).is_some_and(|bits| bits & 1 == 1) {
            return T::unread(name);
        }
        let value = self.peek(name)?;
        self.at += 1;
        Ok(value)
    }

    /// Starts a model, whose fields in `left_out` (bit `i`: its `i`th field)
    /// the statement left out.
    pub(crate) fn leaving_out(&mut self, left_out: u64) {
        self.left_out = left_out;
        self.field = 0;
    }

    /// Reads the next column, named `name`, and stays on it.
    pub(crate) fn peek<T: Cell>(&self, name: &str) -> Result<T, DbErr> {
        if self.check {
            let actual = self.row.name(self.at);
            if actual.and_then(|actual| actual.strip_prefix(self.prefix)) != Some(name) {
                return Err(DbErr::Type(format!(
                    "column {} is {actual:?}, read as {}{name}: the reader and the statement disagree",
                    self.at, self.prefix
                )));
            }
        }
        T::read(&self.row, self.at)
    }

    /// Names the following columns with `prefix` before their model's names.
    pub(crate) fn under(&mut self, prefix: &'static str) {
        self.prefix = prefix;
    }
}

/// A value one column holds.
pub(crate) trait Cell: Sized {
    /// The value of column `at` of `row`.
    fn read(row: &Raw<'_>, at: usize) -> Result<Self, DbErr>;

    /// The value of a field `name` the statement left out: unset, for an
    /// optional one.
    fn unread(name: &str) -> Result<Self, DbErr> {
        Err(DbErr::Type(format!("{name} is required and the statement left it out")))
    }
}

fn null(row: &Raw<'_>, at: usize) -> DbErr {
    DbErr::Type(format!("column {at} ({:?}) is NULL where a value is required", row.name(at)))
}

/// `Cell` for `$t` and its option, given how its option is read from `$row`
/// at `$at`: a required one refuses NULL, and an optional one the statement
/// left out reads as unset.
macro_rules! cell {
    ($t:ty, |$row:ident, $at:ident| $read:expr) => {
        impl Cell for Option<$t> {
            fn unread(_: &str) -> Result<Self, DbErr> {
                Ok(None)
            }
            fn read($row: &Raw<'_>, $at: usize) -> Result<Self, DbErr> {
                $read
            }
        }
        impl Cell for $t {
            fn read(row: &Raw<'_>, at: usize) -> Result<Self, DbErr> {
                Option::<$t>::read(row, at)?.ok_or_else(|| null(row, at))
            }
        }
    };
}

/// `Cell` for types both databases' drivers decode.
macro_rules! decoded {
    ($($t:ty),*) => {$(
        cell!($t, |row, at| match row {
            Raw::Postgres(row) => row.try_get::<Option<$t>, usize>(at),
            Raw::Sqlite(row) => row.try_get::<Option<$t>, usize>(at),
        }
        .map_err(|e| DbErr::Query(RuntimeErr::SqlxError(e))));
    )*};
}
decoded!(bool, i32, i64, f64, String, DateTimeUtc);

/// `Cell` for enums stored as their text.
macro_rules! enumerated {
    ($($t:ty),*) => {$(
        cell!($t, |row, at| Option::<String>::read(row, at)?.map(|text| <$t>::try_from_value(&text)).transpose());
    )*};
}
enumerated!(OrderStatus, Incoterm, LogisticRole);

/// An order from the next columns, in the order of `order::Column`.
pub(crate) fn order(c: &mut Cells<'_>) -> Result<order::Model, DbErr> {
    Ok(order::Model {
        id: c.take("id")?,
        company_id: c.take("company_id")?,
        source_id: c.take("source_id")?,
        code: c.take("code")?,
        status: c.take("status")?,
        status_before_hold: c.take("status_before_hold")?,
        customer_status: c.take("customer_status")?,
        customer_name: c.take("customer_name")?,
        destination_locality_id: c.take("destination_locality_id")?,
        address_street: c.take("address_street")?,
        address_number: c.take("address_number")?,
        address_complement: c.take("address_complement")?,
        address_district: c.take("address_district")?,
        address_city: c.take("address_city")?,
        address_state: c.take("address_state")?,
        address_country: c.take("address_country")?,
        address_zip_code: c.take("address_zip_code")?,
        address_latitude: c.take("address_latitude")?,
        address_longitude: c.take("address_longitude")?,
        pickup_start: c.take("pickup_start")?,
        pickup_end: c.take("pickup_end")?,
        delivery_start: c.take("delivery_start")?,
        delivery_end: c.take("delivery_end")?,
        priority: c.take("priority")?,
        incoterm: c.take("incoterm")?,
        total_cents: c.take("total_cents")?,
        reference: c.take("reference")?,
        observations: c.take("observations")?,
        invoice_number: c.take("invoice_number")?,
        invoice_key: c.take("invoice_key")?,
        invoice_series: c.take("invoice_series")?,
        invoice_value_cents: c.take("invoice_value_cents")?,
        invoice_issued_at: c.take("invoice_issued_at")?,
        invoice_url: c.take("invoice_url")?,
        refunded_cents: c.take("refunded_cents")?,
        last_event_at: c.take("last_event_at")?,
        created_at: c.take("created_at")?,
        updated_at: c.take("updated_at")?,
        anonymized_at: c.take("anonymized_at")?,
        source_digest: c.take("source_digest")?,
    })
}

/// A locality from the next columns, in the order of `locality::Column`.
pub(crate) fn locality(c: &mut Cells<'_>) -> Result<locality::Model, DbErr> {
    Ok(locality::Model {
        id: c.take("id")?,
        company_id: c.take("company_id")?,
        source_id: c.take("source_id")?,
        name: c.take("name")?,
        logistic_role: c.take("logistic_role")?,
        street: c.take("street")?,
        number: c.take("number")?,
        complement: c.take("complement")?,
        district: c.take("district")?,
        city: c.take("city")?,
        state: c.take("state")?,
        country: c.take("country")?,
        zip_code: c.take("zip_code")?,
        latitude: c.take("latitude")?,
        longitude: c.take("longitude")?,
        responsible_name: c.take("responsible_name")?,
        responsible_email: c.take("responsible_email")?,
        responsible_phone: c.take("responsible_phone")?,
        created_at: c.take("created_at")?,
        updated_at: c.take("updated_at")?,
        anonymized_at: c.take("anonymized_at")?,
    })
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, IdenStatic, IntoActiveModel, Iterable, QueryOrder, QuerySelect, QueryTrait};

    use super::*;

    fn at(second: u32) -> DateTimeUtc {
        Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, second).single().expect("a time")
    }

    fn full_order() -> order::Model {
        order::Model {
            id: 7,
            company_id: 1,
            source_id: "S-7".into(),
            code: "#7".into(),
            status: OrderStatus::OnHold,
            status_before_hold: Some(OrderStatus::InTransit),
            customer_status: OrderStatus::Invoiced,
            customer_name: Some("Ana".into()),
            destination_locality_id: Some(3),
            address_street: Some("Rua A".into()),
            address_number: Some("10".into()),
            address_complement: Some("ap 2".into()),
            address_district: Some("Centro".into()),
            address_city: Some("Recife".into()),
            address_state: Some("PE".into()),
            address_country: Some("BR".into()),
            address_zip_code: Some("50000-000".into()),
            address_latitude: Some(-8.0476),
            address_longitude: Some(-34.877_000_000_000_01),
            pickup_start: Some(at(1)),
            pickup_end: Some(at(2)),
            delivery_start: Some(at(3)),
            delivery_end: Some(at(4)),
            priority: 9,
            incoterm: Some(Incoterm::Fob),
            total_cents: 12_345_678_901,
            reference: Some("ref".into()),
            observations: Some("obs".into()),
            invoice_number: Some("NF-1".into()),
            invoice_key: Some("key".into()),
            invoice_series: Some("1".into()),
            invoice_value_cents: Some(999),
            invoice_issued_at: Some(at(5)),
            invoice_url: Some("https://nf.example/1".into()),
            refunded_cents: 11,
            last_event_at: Some(at(6)),
            created_at: at(7),
            updated_at: at(8),
            anonymized_at: Some(at(9)),
            source_digest: Some("digest".into()),
        }
    }

    fn bare_order() -> order::Model {
        order::Model {
            id: 8,
            source_id: "S-8".into(),
            code: "#8".into(),
            status: OrderStatus::Received,
            status_before_hold: None,
            customer_status: OrderStatus::Received,
            customer_name: None,
            destination_locality_id: None,
            address_street: None,
            address_number: None,
            address_complement: None,
            address_district: None,
            address_city: None,
            address_state: None,
            address_country: None,
            address_zip_code: None,
            address_latitude: None,
            address_longitude: None,
            pickup_start: None,
            pickup_end: None,
            delivery_start: None,
            delivery_end: None,
            incoterm: None,
            reference: None,
            observations: None,
            invoice_number: None,
            invoice_key: None,
            invoice_series: None,
            invoice_value_cents: None,
            invoice_issued_at: None,
            invoice_url: None,
            last_event_at: None,
            anonymized_at: None,
            source_digest: None,
            ..full_order()
        }
    }

    fn full_locality() -> locality::Model {
        locality::Model {
            id: 3,
            company_id: 1,
            source_id: "L-3".into(),
            name: "Depósito".into(),
            logistic_role: LogisticRole::Destination,
            street: Some("Rua B".into()),
            number: Some("20".into()),
            complement: Some("sala 1".into()),
            district: Some("Boa Vista".into()),
            city: Some("Olinda".into()),
            state: Some("PE".into()),
            country: Some("BR".into()),
            zip_code: Some("53000-000".into()),
            latitude: Some(1.0 / 3.0),
            longitude: Some(-2.0 / 3.0),
            responsible_name: Some("Bia".into()),
            responsible_email: Some("bia@cliente.example".into()),
            responsible_phone: Some("+55 81 90000-0000".into()),
            created_at: at(10),
            updated_at: at(11),
            anonymized_at: Some(at(12)),
        }
    }

    /// Every field, set and unset, reads back by position as SeaORM reads
    /// it by name; a reader whose names disagree with the statement's
    /// columns fails on the first row.
    #[tokio::test]
    async fn orders_and_localities_read_by_position_as_by_name() {
        let db = crate::db::connect("sqlite::memory:", 1).await.expect("connects");
        crate::db::migrate(&db).await.expect("migrates");
        db.execute_unprepared("PRAGMA foreign_keys = OFF").await.expect("no company needed");
        full_locality().into_active_model().reset_all().insert(&db).await.expect("a locality");
        for model in [full_order(), bare_order()] {
            model.into_active_model().reset_all().insert(&db).await.expect("an order");
        }
        let by_name = order::Entity::find().all(&db).await.expect("by name");
        assert_eq!(by_name, vec![full_order(), bare_order()]);

        let backend = db.get_database_backend();
        // SeaORM's own select names the columns in the model's order (a
        // table's `*` need not: columns added later come last).
        let select = backend.build(&order::Entity::find().order_by_asc(order::Column::Id).into_query());
        let rows = db.query_all(select).await.expect("rows");
        let mut read = Vec::new();
        for (n, row) in rows.iter().enumerate() {
            let mut cells = Cells::new(row, n == 0).expect("a SQLite row");
            read.push(order(&mut cells).expect("reads"));
        }
        assert_eq!(read, by_name);

        let sql = "SELECT l.id AS x_id, l.company_id AS x_company_id, l.source_id AS x_source_id, l.name AS x_name, \
                   l.logistic_role AS x_logistic_role, l.street AS x_street, l.number AS x_number, l.complement AS x_complement, \
                   l.district AS x_district, l.city AS x_city, l.state AS x_state, l.country AS x_country, l.zip_code AS x_zip_code, \
                   l.latitude AS x_latitude, l.longitude AS x_longitude, l.responsible_name AS x_responsible_name, \
                   l.responsible_email AS x_responsible_email, l.responsible_phone AS x_responsible_phone, \
                   l.created_at AS x_created_at, l.updated_at AS x_updated_at, l.anonymized_at AS x_anonymized_at \
                   FROM orders AS o JOIN localities AS l ON l.id = o.destination_locality_id";
        let rows = db.query_all(sea_orm::Statement::from_string(backend, sql)).await.expect("rows");
        let mut cells = Cells::new(&rows[0], true).expect("a SQLite row");
        cells.under("x_");
        assert_eq!(locality(&mut cells).expect("reads"), full_locality());

        // A statement that left some optional fields out: they read as unset,
        // and the fields after them from the columns that are there.
        let select = backend.build(
            &order::Entity::find()
                .select_only()
                .columns(order::Column::iter().filter(|c| !matches!(c, order::Column::CustomerName | order::Column::Observations)))
                .order_by_asc(order::Column::Id)
                .into_query(),
        );
        let narrowed = db.query_all(select).await.expect("rows");
        let fields: Vec<String> = order::Column::iter().map(|c| c.as_str().to_owned()).collect();
        let left_out = ["customer_name", "observations"]
            .iter()
            .map(|name| fields.iter().position(|f| f == name).expect("a field"))
            .fold(0u64, |mask, at| mask | 1 << at);
        let mut cells = Cells::new(&narrowed[0], true).expect("a SQLite row");
        cells.leaving_out(left_out);
        let narrow = order(&mut cells).expect("reads");
        assert_eq!(narrow, order::Model { customer_name: None, observations: None, ..full_order() });
        let mut required = Cells::new(&narrowed[0], true).expect("a SQLite row");
        required.leaving_out(1 << fields.iter().position(|f| *f == "code").expect("a field"));
        assert!(order(&mut required).expect_err("a required field").to_string().contains("left it out"));

        // Unprefixed, the same columns are not the locality's.
        let mut unprefixed = Cells::new(&rows[0], true).expect("a SQLite row");
        let refused = locality(&mut unprefixed).expect_err("the names disagree");
        assert!(refused.to_string().contains("disagree"), "{refused}");
        // Unchecked (a later row), nothing but the types is compared.
        let mut unchecked = Cells::new(&rows[0], false).expect("a SQLite row");
        assert_eq!(locality(&mut unchecked).expect("reads"), full_locality());
    }
}
