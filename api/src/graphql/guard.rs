//! Staff-only fields: the one place a customer is kept from reading them.
//!
//! A field marked `#[graphql(guard = "StaffOnly")]` answers a customer with a
//! `FORBIDDEN` error instead of its value. An error rather than `null`: the
//! schema stays as it is (non-null fields stay non-null), and a client that
//! asks for what it may not read is told so instead of guessing why a value is
//! missing. Which fields carry the guard is decided per type in
//! `orders/types.rs` and `orders/subscription.rs`; who counts as staff is
//! decided by the domain ([`domain::Actor::audience`]).
//!
//! What is staff-only, and why: ids and data of the company's own systems
//! (`sourceId` of orders, items and localities, item origins, classifications
//! and attributes, history `source`/`eventId`), internal working data
//! (`priority`, `reference`, `observations`, pickup windows,
//! `statusBeforeHold`, refund comments — the internal reason), and history
//! bookkeeping (`notifyCustomer`, `visibleToCustomer`, `applied`,
//! `skipReason`). Hidden and skipped history entries are not fields: the
//! domain never returns them to customers.

use async_graphql::{Context, Guard};
use domain::{Audience, DomainError};

use super::{error::to_gql, request::parts};

/// Refuses customers; staff pass.
pub struct StaffOnly;

impl Guard for StaffOnly {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let (_, actor) = parts(ctx)?;
        match actor.audience() {
            Audience::Staff => Ok(()),
            Audience::Customer => Err(to_gql(DomainError::Forbidden)),
        }
    }
}
