//! The mail outbox: one row per mail, written in the transaction that caused it
//! and sent by the worker.

use sea_orm::entity::prelude::*;

use crate::enums::{NotificationKind, NotificationState};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub company_id: Option<i32>,
    pub order_id: Option<i32>,
    /// The status change it announces; unique for `STATUS_CHANGE`, so each change
    /// is mailed at most once.
    pub history_id: Option<i32>,
    pub kind: NotificationKind,
    pub recipient: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    pub state: NotificationState,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// While `SENDING`: until when the claiming worker owns it.
    pub lease_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
    pub message_id: Option<String>,
    /// A status mail not rendered yet: JSON of what its template needs (see
    /// `domain::notifications::outbox`). `NULL` once rendered.
    pub render_context: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// When its recipient and bodies were erased (LGPD).
    pub erased_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
