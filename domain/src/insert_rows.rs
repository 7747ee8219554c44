//! Multi-row INSERTs written straight from active models, for the batches
//! of the ingestion pipeline.
//!
//! SeaORM's `insert_many` wraps every value in an expression, builds a
//! statement tree, then walks it to write the SQL: for a batch of 10,000 order
//! lines that costs about as much CPU as the database spends executing the
//! rows. Here the values are moved out of the models into the statement's
//! parameters and the SQL is written once per shape. The statement is the same
//! one SeaORM would send (same columns, same bound values), so both databases
//! see no difference.

use std::fmt::Write as _;

use sea_orm::{
    ActiveModelTrait, ActiveValue, ConnectionTrait, DbBackend, DbErr, EntityName, EntityTrait, IdenStatic, Iterable, QueryResult, Statement, Value,
};


/// Bound parameters per statement: under SQLite's 32,766 (PostgreSQL allows
/// 65,535).
const MAX_PARAMETERS: usize = 32_000;

/// The columns `model` sets, in the entity's order.
fn set_columns<A: ActiveModelTrait>(model: &A) -> Vec<<A::Entity as EntityTrait>::Column> {
    <A::Entity as EntityTrait>::Column::iter().filter(|column| !model.is_not_set(*column)).collect()
}

/// `INSERT INTO "table" ("a", "b") VALUES (?, ?), …` for `rows` rows, with
/// `RETURNING` the `returning` columns when there are any.
fn sql<E: EntityTrait>(backend: DbBackend, columns: &[E::Column], rows: usize, returning: &[E::Column]) -> String {
    let quoted = |names: &[E::Column]| names.iter().map(|column| format!("\"{}\"", column.as_str())).collect::<Vec<_>>().join(", ");
    let mut sql = String::with_capacity(64 + rows * columns.len() * 6);
    let _ = write!(sql, "INSERT INTO \"{}\" ({}) VALUES ", E::default().table_name(), quoted(columns));
    let mut parameter = 0usize;
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns.len() {
            if column > 0 {
                sql.push_str(", ");
            }
            parameter += 1;
            match backend {
                DbBackend::Postgres => {
                    let _ = write!(sql, "${parameter}");
                }
                DbBackend::Sqlite | DbBackend::MySql => sql.push('?'),
            }
        }
        sql.push(')');
    }
    if !returning.is_empty() {
        let _ = write!(sql, " RETURNING {}", quoted(returning));
    }
    sql
}

/// The statements inserting `rows`, which all set the same columns, in
/// parts under the parameter limit.
fn statements<A: ActiveModelTrait>(
    backend: DbBackend,
    rows: Vec<A>,
    returning: &[<A::Entity as EntityTrait>::Column],
) -> Result<Vec<Statement>, DbErr> {
    let Some(first) = rows.first() else { return Ok(Vec::new()) };
    let columns = set_columns(first);
    let per_statement = (MAX_PARAMETERS / columns.len().max(1)).max(1);
    let mut statements = Vec::with_capacity(rows.len().div_ceil(per_statement));
    let mut rows = rows.into_iter();
    while !rows.as_slice().is_empty() {
        // Sized to the rows of this statement: a one-order call's rows need
        // a dozen values, not the limit's 32,000.
        let count = rows.len().min(per_statement);
        let mut values: Vec<Value> = Vec::with_capacity(count * columns.len());
        for mut row in rows.by_ref().take(count) {
            for column in &columns {
                match row.take(*column) {
                    ActiveValue::Set(value) | ActiveValue::Unchanged(value) => values.push(value),
                    ActiveValue::NotSet => {
                        let table = <A::Entity as Default>::default().table_name().to_owned();
                        return Err(DbErr::Custom(format!("a row for {table} leaves {} unset", column.as_str())));
                    }
                }
            }
        }
        statements.push(Statement::from_sql_and_values(backend, sql::<A::Entity>(backend, &columns, count, returning), values));
    }
    Ok(statements)
}

/// Inserts `rows`, which all set the same columns, in as few statements as
/// the parameter limit allows.
pub(crate) async fn insert_rows<A: ActiveModelTrait>(db: &impl ConnectionTrait, rows: Vec<A>) -> Result<(), DbErr> {
    for statement in statements(db.get_database_backend(), rows, &[])? {
        db.execute(statement).await?;
    }
    Ok(())
}

/// [`insert_rows`], answering the `returning` columns of every row inserted
/// (in no promised order: match them by a unique column).
pub(crate) async fn insert_rows_returning<A: ActiveModelTrait>(
    db: &impl ConnectionTrait,
    rows: Vec<A>,
    returning: &[<A::Entity as EntityTrait>::Column],
) -> Result<Vec<QueryResult>, DbErr> {
    let mut answered = Vec::new();
    for statement in statements(db.get_database_backend(), rows, returning)? {
        answered.extend(db.query_all(statement).await?);
    }
    Ok(answered)
}

#[cfg(test)]
mod tests {
    use entities::order_attribute;
    use sea_orm::Set;

    use super::*;

    fn pair(order_id: i32) -> order_attribute::ActiveModel {
        order_attribute::ActiveModel {
            order_id: Set(order_id),
            kind: Set(entities::AttributeKind::Attribute),
            key: Set("k".into()),
            value: Set("v".into()),
            ..Default::default()
        }
    }

    #[test]
    fn statements_bind_the_set_columns_of_every_row_in_order() {
        let written = statements(DbBackend::Postgres, vec![pair(1), pair(2)], &[order_attribute::Column::Id]).unwrap();
        assert_eq!(written.len(), 1);
        assert_eq!(
            written[0].sql,
            r#"INSERT INTO "order_attributes" ("order_id", "kind", "key", "value") VALUES ($1, $2, $3, $4), ($5, $6, $7, $8) RETURNING "id""#
        );
        let values = written[0].values.as_ref().unwrap().0.clone();
        assert_eq!(values.len(), 8);
        assert_eq!(values[4], Value::Int(Some(2)));
        let sqlite = statements(DbBackend::Sqlite, vec![pair(1)], &[]).unwrap();
        assert_eq!(sqlite[0].sql, r#"INSERT INTO "order_attributes" ("order_id", "kind", "key", "value") VALUES (?, ?, ?, ?)"#);
    }

    #[test]
    fn rows_are_split_under_the_parameter_limit_and_must_agree() {
        let rows: Vec<_> = (0..MAX_PARAMETERS / 4 + 1).map(|n| pair(n as i32)).collect();
        let written = statements(DbBackend::Sqlite, rows, &[]).unwrap();
        assert_eq!(written.len(), 2);
        assert_eq!(written[1].values.as_ref().unwrap().0.len(), 4);
        let mut partial = pair(3);
        partial.value = sea_orm::ActiveValue::NotSet;
        assert!(statements(DbBackend::Sqlite, vec![pair(1), partial], &[]).is_err());
        assert!(statements(DbBackend::Sqlite, Vec::<order_attribute::ActiveModel>::new(), &[]).unwrap().is_empty());
    }
}
