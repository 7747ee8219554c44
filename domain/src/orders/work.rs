//! A unit of work: one write transaction, the subscriber events it publishes
//! once committed, and whether it queued mail. Order commands run inside one,
//! so several of them (the commands of one ingested record) commit or roll
//! back together, and nobody hears of a change that was rolled back.

use sea_orm::DatabaseTransaction;

use crate::{events::OrderStatusEvent, Ctx, DomainResult};

/// See the module documentation.
pub struct Work {
    txn: DatabaseTransaction,
    events: Vec<OrderStatusEvent>,
    mailed: bool,
}

impl Work {
    /// Begins a write transaction (the write lock taken up front on SQLite).
    pub async fn begin(ctx: &Ctx) -> DomainResult<Self> {
        Ok(Work { txn: crate::db::begin_write(&ctx.db).await?, events: Vec::new(), mailed: false })
    }

    /// The transaction, for statements of the unit.
    pub fn txn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// An event to publish after the commit.
    pub(crate) fn publish(&mut self, event: OrderStatusEvent) {
        self.events.push(event);
    }

    /// Notes that mail was queued, so the worker is woken after the commit.
    pub(crate) fn queued_mail(&mut self, mailed: bool) {
        self.mailed |= mailed;
    }

    /// Commits, then publishes the events and wakes the mail worker.
    pub async fn commit(self, ctx: &Ctx) -> DomainResult<()> {
        let Work { txn, events, mailed } = self;
        let staged = ctx.events.stage(&txn, events).await?;
        txn.commit().await?;
        staged.after_commit();
        if mailed {
            ctx.mail_wakeup.notify_one();
        }
        Ok(())
    }
}
