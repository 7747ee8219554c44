//! The order status machine of DESIGN.md: one pure function over the canonical
//! [`OrderStatus`], exhaustive, with no catch-all arm, so adding a status forces
//! a decision for every move.
//!
//! - forward moves may skip steps (`RECEIVED → INVOICED`);
//! - `IN_TRANSIT ⇄ DELIVERY_FAILED`;
//! - `CANCELLED` only before `IN_TRANSIT`;
//! - `REFUNDED` from `APPROVED` onwards, `DELIVERED` included;
//! - `CANCELLED` and `REFUNDED` are final;
//! - `ON_HOLD` from any non-final status; release restores the status held, and a
//!   held order may still be cancelled or refunded as its held status allows.

use entities::OrderStatus::{self, *};

use crate::DomainError;

/// Position on the forward path; `None` for statuses off it.
fn rank(status: OrderStatus) -> Option<u8> {
    match status {
        Received => Some(0),
        Approved => Some(1),
        InProduction => Some(2),
        Invoiced => Some(3),
        InSeparation => Some(4),
        InTransit | DeliveryFailed => Some(5),
        Delivered => Some(6),
        Cancelled | Refunded | OnHold => None,
    }
}

/// Whether no move leaves this status.
pub fn is_final(status: OrderStatus) -> bool {
    match status {
        Cancelled | Refunded => true,
        Received | Approved | InProduction | Invoiced | InSeparation | InTransit | DeliveryFailed | Delivered
        | OnHold => false,
    }
}

/// Whether an order in `from` may be cancelled.
fn cancellable(from: OrderStatus) -> bool {
    match from {
        Received | Approved | InProduction | Invoiced | InSeparation => true,
        InTransit | DeliveryFailed | Delivered | Cancelled | Refunded | OnHold => false,
    }
}

/// Whether an order in `from` may be refunded.
fn refundable(from: OrderStatus) -> bool {
    match from {
        Approved | InProduction | Invoiced | InSeparation | InTransit | DeliveryFailed | Delivered => true,
        Received | Cancelled | Refunded | OnHold => false,
    }
}

/// Whether `from → to` is allowed. `held` is the status an `ON_HOLD` order had
/// (ignored otherwise).
pub fn allowed(from: OrderStatus, to: OrderStatus, held: Option<OrderStatus>) -> bool {
    if from == to {
        return false;
    }
    match (from, to) {
        (Cancelled | Refunded, _) => false,
        (OnHold, Cancelled) => held.is_some_and(cancellable),
        (OnHold, Refunded) => held.is_some_and(refundable),
        (OnHold, other) => held == Some(other),
        (_, OnHold) => true,
        (_, Cancelled) => cancellable(from),
        (_, Refunded) => refundable(from),
        (InTransit, DeliveryFailed) | (DeliveryFailed, InTransit) => true,
        (_, Received | Approved | InProduction | Invoiced | InSeparation | InTransit | DeliveryFailed | Delivered) => {
            match (rank(from), rank(to)) {
                (Some(f), Some(t)) => t > f,
                _ => false,
            }
        }
    }
}

/// [`allowed`], as a validation error naming both statuses.
pub fn check(from: OrderStatus, to: OrderStatus, held: Option<OrderStatus>) -> Result<(), DomainError> {
    if allowed(from, to, held) {
        Ok(())
    } else {
        Err(DomainError::InvalidTransition { from, to })
    }
}

/// Why a feed's status `to` is nothing to do for an order in `from`, when
/// it is not: a feed that sends the whole order each time (a storefront's
/// `orders/updated`) repeats the stage the order is at, or one it has
/// passed, and that is no error. A held order is left as it is (only a
/// release ends a hold), and so is a cancelled or refunded one (a feed
/// still sends it), and a move the machine refuses (a store that cancels an
/// order already on its way) is recorded with why rather than failing the
/// rest of what the feed sent. `None`: move.
pub fn reached(from: OrderStatus, to: OrderStatus) -> Option<String> {
    if from == to {
        return Some(format!("the order is {} already", to.as_str()));
    }
    if is_final(from) {
        return Some(format!("the order is {}, final; {} is not applied", from.as_str(), to.as_str()));
    }
    if from == OnHold {
        return Some(format!("the order is on hold; {} waits for its release", to.as_str()));
    }
    match (rank(from), rank(to)) {
        (Some(now), Some(then)) if then < now => Some(format!("the order is {}, past {}", from.as_str(), to.as_str())),
        _ if !allowed(from, to, None) => Some(format!("the order is {}; {} cannot follow it", from.as_str(), to.as_str())),
        _ => None,
    }
}

/// Every status, for tables and tests.
pub const ALL: [OrderStatus; 11] =
    [Received, Approved, InProduction, Invoiced, InSeparation, InTransit, DeliveryFailed, Delivered, Cancelled, Refunded, OnHold];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feed_reaches_a_stage_once_and_never_goes_back_nor_releases() {
        assert_eq!(reached(InTransit, InTransit).as_deref(), Some("the order is IN_TRANSIT already"));
        assert_eq!(reached(Delivered, Approved).as_deref(), Some("the order is DELIVERED, past APPROVED"));
        assert_eq!(reached(OnHold, Approved).as_deref(), Some("the order is on hold; APPROVED waits for its release"));
        assert_eq!(reached(Cancelled, Approved).as_deref(), Some("the order is CANCELLED, final; APPROVED is not applied"));
        assert_eq!(reached(Refunded, Cancelled).as_deref(), Some("the order is REFUNDED, final; CANCELLED is not applied"));
        // A move the machine refuses is recorded, not failed.
        assert_eq!(reached(InTransit, Cancelled).as_deref(), Some("the order is IN_TRANSIT; CANCELLED cannot follow it"));
        assert_eq!(reached(Received, Refunded).as_deref(), Some("the order is RECEIVED; REFUNDED cannot follow it"));
        // Forward, sideways between transit and a failed delivery, and to
        // the final statuses where allowed: moves.
        for (from, to) in [(Received, Approved), (Approved, Delivered), (InTransit, DeliveryFailed), (DeliveryFailed, InTransit), (Approved, Cancelled), (Delivered, Refunded), (Approved, OnHold)] {
            assert_eq!(reached(from, to), None, "{from:?} → {to:?}");
        }
    }

    /// The design's rules written out as the full set of allowed (from, to) pairs
    /// for orders that are not on hold; every other pair must be refused.
    const ALLOWED: &[(OrderStatus, &[OrderStatus])] = &[
        (Received, &[Approved, InProduction, Invoiced, InSeparation, InTransit, DeliveryFailed, Delivered, Cancelled, OnHold]),
        (Approved, &[InProduction, Invoiced, InSeparation, InTransit, DeliveryFailed, Delivered, Cancelled, Refunded, OnHold]),
        (InProduction, &[Invoiced, InSeparation, InTransit, DeliveryFailed, Delivered, Cancelled, Refunded, OnHold]),
        (Invoiced, &[InSeparation, InTransit, DeliveryFailed, Delivered, Cancelled, Refunded, OnHold]),
        (InSeparation, &[InTransit, DeliveryFailed, Delivered, Cancelled, Refunded, OnHold]),
        (InTransit, &[DeliveryFailed, Delivered, Refunded, OnHold]),
        (DeliveryFailed, &[InTransit, Delivered, Refunded, OnHold]),
        (Delivered, &[Refunded, OnHold]),
        (Cancelled, &[]),
        (Refunded, &[]),
    ];

    #[test]
    fn every_move_between_unheld_statuses_follows_the_design_table() {
        for (from, targets) in ALLOWED {
            for to in ALL {
                let expected = targets.contains(&to);
                assert_eq!(allowed(*from, to, None), expected, "{} -> {}", from.as_str(), to.as_str());
            }
        }
    }

    #[test]
    fn forward_moves_may_skip_steps() {
        assert!(allowed(Received, Invoiced, None));
        assert!(allowed(Approved, Delivered, None));
    }

    #[test]
    fn backward_moves_are_refused() {
        assert!(!allowed(Invoiced, Approved, None));
        assert!(!allowed(Delivered, InTransit, None));
        assert!(!allowed(InSeparation, Received, None));
    }

    #[test]
    fn in_transit_and_delivery_failed_go_both_ways() {
        assert!(allowed(InTransit, DeliveryFailed, None));
        assert!(allowed(DeliveryFailed, InTransit, None));
    }

    #[test]
    fn cancelling_is_refused_from_in_transit_on() {
        for from in [InTransit, DeliveryFailed, Delivered] {
            assert!(!allowed(from, Cancelled, None), "{}", from.as_str());
        }
    }

    #[test]
    fn refunding_is_allowed_from_approved_on_including_delivered_but_not_before() {
        assert!(!allowed(Received, Refunded, None));
        assert!(allowed(Delivered, Refunded, None));
    }

    #[test]
    fn cancelled_and_refunded_are_final() {
        for from in [Cancelled, Refunded] {
            assert!(is_final(from));
            for to in ALL {
                assert!(!allowed(from, to, Some(Approved)), "{} -> {}", from.as_str(), to.as_str());
            }
        }
    }

    #[test]
    fn any_non_final_status_can_be_held() {
        for from in ALL {
            let expected = !is_final(from) && from != OnHold;
            assert_eq!(allowed(from, OnHold, None), expected, "{}", from.as_str());
        }
    }

    #[test]
    fn a_held_order_only_goes_back_to_the_status_it_had() {
        for held in ALL.into_iter().filter(|s| !is_final(*s) && *s != OnHold) {
            for to in ALL {
                let expected = to == held
                    || (to == Cancelled && cancellable(held))
                    || (to == Refunded && refundable(held));
                assert_eq!(allowed(OnHold, to, Some(held)), expected, "held {} -> {}", held.as_str(), to.as_str());
            }
        }
    }

    #[test]
    fn a_held_order_without_a_remembered_status_cannot_move_but_the_error_names_both() {
        assert!(!allowed(OnHold, Approved, None));
        let err = check(Delivered, Cancelled, None).err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("cannot change status from DELIVERED to CANCELLED"));
    }

    #[test]
    fn staying_in_the_same_status_is_not_a_move() {
        for status in ALL {
            assert!(!allowed(status, status, Some(status)), "{}", status.as_str());
        }
    }
}
