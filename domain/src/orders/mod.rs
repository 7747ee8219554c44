//! Orders: creation, the lifecycle (through the [`crate::status`] machine),
//! queries with filters and keyset pagination, batch loaders and exports.
//!
//! Every read goes through [`visible_orders`], the one place that decides which
//! orders an actor sees; every write locks the order row inside the transaction
//! that changes it and appends its history entry in the same transaction.

mod create;
mod create_many;
pub mod dashboard;
mod export;
mod input;
mod lifecycle;
mod nested;
pub mod public_tracking;
mod query;
mod search;
mod shipping;
mod visibility;
mod work;

pub use create::{create, update};
pub use export::{csv_text_cell, csv_text_uncell, export_batches, ExportOptions, xml_escape, ExportRow, EXPORT_BATCH};
pub use input::{
    stored_item_attributes, Address, Invoice, NewItem, NewOrder, OrderPatch, Shipment, TrackingEvent, TrackingUpdate,
    MAX_TRACKING_EVENTS,
};
pub use lifecycle::{
    add_comment, add_shipment, cancel, change_status, hold, invoice, mark_delivered, refund, release, EventMeta,
    StatusOutcome,
};
pub use query::{
    attributes_for, by_source_id, check_up_to, count, cursor_of, get, get_with, history_for, invoices_for, items_for, list, refunds_for,
    shipments_for, tracking_events_for, OrderFilter, OrderPage, OrderSort, OrderSortField, COUNT_UP_TO, MAX_COUNT_UP_TO,
};

pub use nested::{ById, Lists, Nested, Pruned, Unread, UnreadInLists};
pub use visibility::shown_status;
pub use work::Work;
pub(crate) use create::{annotate_in, check_roles, create_in, prepare, source_id_taken, update_in, Prepared};
pub(crate) use create_many::insert_prepared;
pub(crate) use lifecycle::{execute_in, Change};

use entities::{locality, order};
use sea_orm::{
    sea_query::{Expr, Query, SelectStatement},
    ColumnTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait, Select,
};

use crate::{actor::Scope, Actor};

/// The orders `actor` may see, or `None` when it may see none.
///
/// Company users and integrations see their company's orders; customers see the
/// orders of their company whose destination locality has them (by e-mail) as
/// responsible person, except anonymized ones (LGPD: whoever is responsible for
/// the locality now need not be the person the order was for); admins and the
/// system see all.
pub fn visible_orders(actor: &Actor) -> Option<Select<order::Entity>> {
    let query = order::Entity::find();
    match actor.scope() {
        Scope::All => Some(query),
        Scope::Company(company_id) => Some(query.filter(order::Column::CompanyId.eq(company_id))),
        Scope::Customer { company_id, email, .. } => {
            let owned: SelectStatement = Query::select()
                .column(locality::Column::Id)
                .from(locality::Entity)
                .and_where(Expr::col(locality::Column::CompanyId).eq(company_id))
                .and_where(Expr::col(locality::Column::ResponsibleEmail).eq(email))
                .to_owned();
            Some(
                query
                    .filter(order::Column::CompanyId.eq(company_id))
                    .filter(order::Column::AnonymizedAt.is_null())
                    .filter(order::Column::DestinationLocalityId.in_subquery(owned)),
            )
        }
        Scope::Nothing => None,
    }
}

/// `SELECT id FROM orders WHERE id IN (ids) AND <visible to actor>`, for
/// scoping child rows of `ids`. Naming the ids inside keeps the subquery to
/// primary-key lookups instead of every order of the tenant.
pub(crate) fn visible_order_ids(actor: &Actor, ids: &[i32]) -> Option<SelectStatement> {
    visible_orders(actor)
        .map(|q| q.filter(order::Column::Id.is_in(ids.iter().copied())).select_only().column(order::Column::Id).into_query())
}
