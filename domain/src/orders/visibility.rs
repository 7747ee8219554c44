//! What a customer sees of an order's status: the one place that decides it.
//!
//! Rule: the status a customer sees is the `to_status` of the newest applied
//! history entry visible to customers that changed the status (the creation
//! entry counts), or the order's initial status if there is none. So a hidden
//! hold shows as the status before it, and a hidden move as the last visible
//! one. `orders.customer_status` keeps that value, written in the transaction
//! of each change ([`customer_status_after`]), so lists, filters and single
//! orders read one column; history entries are rewritten to match
//! ([`rewrite_for_customers`]) so no hidden status leaks through `fromStatus`.

use entities::{order, order_status_history, OrderStatus};

use crate::{Actor, Audience};

/// The status `actor` sees for `order`.
pub fn shown_status(actor: &Actor, order: &order::Model) -> OrderStatus {
    match actor.audience() {
        Audience::Staff => order.status,
        Audience::Customer => order.customer_status,
    }
}

/// The column that holds the status `actor` sees, for filters.
pub(crate) fn status_column(actor: &Actor) -> order::Column {
    match actor.audience() {
        Audience::Staff => order::Column::Status,
        Audience::Customer => order::Column::CustomerStatus,
    }
}

/// The customer status after a change `from → to`: only a visible change of
/// the status moves it.
pub(crate) fn customer_status_after(before: OrderStatus, from: OrderStatus, to: OrderStatus, visible_to_customer: bool) -> OrderStatus {
    if visible_to_customer && from != to {
        to
    } else {
        before
    }
}

/// Turns one order's history (oldest first, every applied entry) into what a
/// customer sees: only visible entries, each `fromStatus`/`toStatus` in terms
/// of the customer status, so an entry after a hidden change does not reveal
/// it. The creation entry sets the starting status even when hidden, as the
/// order's initial status is what the customer sees until a visible change.
pub(crate) fn rewrite_for_customers(entries: Vec<order_status_history::Model>) -> Vec<order_status_history::Model> {
    let mut shown: Option<OrderStatus> = None;
    let mut out = Vec::with_capacity(entries.len());
    for mut entry in entries {
        if !entry.applied {
            continue;
        }
        let changes = entry.from_status != Some(entry.to_status);
        if !entry.visible_to_customer {
            if entry.from_status.is_none() && shown.is_none() {
                shown = Some(entry.to_status);
            }
            continue;
        }
        entry.from_status = shown;
        if changes {
            shown = Some(entry.to_status);
        } else if let Some(status) = shown {
            entry.to_status = status;
        }
        out.push(entry);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;

    fn entry(id: i32, from: Option<OrderStatus>, to: OrderStatus, visible: bool) -> order_status_history::Model {
        order_status_history::Model {
            id,
            order_id: 1,
            company_id: 1,
            from_status: from,
            to_status: to,
            comment: None,
            notify_customer: false,
            visible_to_customer: visible,
            source: "manual".into(),
            actor_user_id: None,
            event_id: None,
            applied: true,
            skip_reason: None,
            occurred_at: chrono::Utc::now(),
            recorded_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn a_hidden_hold_and_its_visible_release_show_no_hold() {
        let history = vec![
            entry(1, None, Invoiced, true),
            entry(2, Some(Invoiced), InTransit, true),
            entry(3, Some(InTransit), OnHold, false),
            entry(4, Some(OnHold), OnHold, true), // a visible comment while held
            entry(5, Some(OnHold), InTransit, true),
        ];
        let shown: Vec<_> = rewrite_for_customers(history).iter().map(|e| (e.id, e.from_status, e.to_status)).collect();
        assert_eq!(
            shown,
            [(1, None, Invoiced), (2, Some(Invoiced), InTransit), (4, Some(InTransit), InTransit), (5, Some(InTransit), InTransit)]
        );
    }

    #[test]
    fn a_hidden_creation_still_sets_the_starting_status() {
        let history = vec![entry(1, None, Approved, false), entry(2, Some(Approved), Approved, true)];
        let shown = rewrite_for_customers(history);
        assert_eq!((shown[0].from_status, shown[0].to_status), (Some(Approved), Approved));
    }

    #[test]
    fn only_visible_changes_move_the_customer_status() {
        assert_eq!(customer_status_after(InTransit, InTransit, OnHold, false), InTransit);
        assert_eq!(customer_status_after(InTransit, InTransit, OnHold, true), OnHold);
        assert_eq!(customer_status_after(Invoiced, InSeparation, InSeparation, true), Invoiced);
    }
}
