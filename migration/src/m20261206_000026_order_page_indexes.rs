//! Indexes that keep a page of orders at the same cost on a thousand orders as
//! on millions, whatever the list is sorted by and under the filters people
//! narrow it with most.
//!
//! - A page is read in the order of `(sort column, id)`; an index on
//!   `(company_id, column, id)` hands it over in that order, so a page reads
//!   its 21 rows instead of sorting every order of the company. Totals and
//!   priorities had none; codes had one without the id, which PostgreSQL then
//!   sorts by.
//! - A status filter (staff's status or the customer's) and a destination
//!   filter read the newest orders first: with `(created_at, id)` after the
//!   filtered column the index yields the matches newest first, where before
//!   every match was read and sorted.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Orders {
    Table,
    Id,
    CompanyId,
    TotalCents,
    Priority,
    Code,
    Status,
    CustomerStatus,
    DestinationLocalityId,
    CreatedAt,
}

/// `(old index and its columns, new index and its columns)`: `None` where an
/// index is only added.
type Change = (Option<(&'static str, &'static [Orders])>, (&'static str, &'static [Orders]));

const CHANGES: &[Change] = &[
    (None, ("ix_orders_company_total", &[Orders::CompanyId, Orders::TotalCents, Orders::Id])),
    (None, ("ix_orders_company_priority", &[Orders::CompanyId, Orders::Priority, Orders::Id])),
    (
        Some(("ix_orders_company_code", &[Orders::CompanyId, Orders::Code])),
        ("ix_orders_company_code_id", &[Orders::CompanyId, Orders::Code, Orders::Id]),
    ),
    (
        Some(("ix_orders_company_status", &[Orders::CompanyId, Orders::Status])),
        ("ix_orders_company_status_created", &[Orders::CompanyId, Orders::Status, Orders::CreatedAt, Orders::Id]),
    ),
    (
        Some(("ix_orders_company_customer_status", &[Orders::CompanyId, Orders::CustomerStatus])),
        (
            "ix_orders_company_customer_status_created",
            &[Orders::CompanyId, Orders::CustomerStatus, Orders::CreatedAt, Orders::Id],
        ),
    ),
    (
        Some(("ix_orders_destination", &[Orders::DestinationLocalityId])),
        ("ix_orders_destination_created", &[Orders::DestinationLocalityId, Orders::CreatedAt, Orders::Id]),
    ),
];

fn create(name: &str, cols: &[Orders]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(Orders::Table);
    for col in cols {
        index.col(*col);
    }
    index.to_owned()
}

fn drop(name: &str) -> IndexDropStatement {
    Index::drop().name(name).table(Orders::Table).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (old, (name, cols)) in CHANGES {
            m.create_index(create(name, cols)).await?;
            if let Some((old, _)) = old {
                m.drop_index(drop(old)).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (old, (name, _)) in CHANGES.iter().rev() {
            if let Some((old, cols)) = old {
                m.create_index(create(old, cols)).await?;
            }
            m.drop_index(drop(name)).await?;
        }
        Ok(())
    }
}
