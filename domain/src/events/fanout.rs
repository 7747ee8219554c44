//! In-process fan-out by recipient: an event wakes only the receivers that may
//! see it, not every subscriber of the process.
//!
//! Each company's staff share one channel, each customer (a company and an
//! e-mail) has one, and support (admins) hears everything on one more. An
//! event is sent on the channels of its [`Route`]s and on support's, so its
//! cost grows with its recipients, not with everyone who is listening.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use tokio::sync::broadcast;

use crate::{actor::Scope, Actor};

/// Events a slow subscriber of a company's or support's channel may fall
/// behind before it skips ahead: a batch of a few hundred orders fits.
const BUFFER: usize = 1024;
/// The same for one customer's channel, which hears only that customer's
/// orders. Kept small: there may be a channel per customer.
const CUSTOMER_BUFFER: usize = 64;
/// Fewest channels before the first sweep of unused ones.
const FIRST_SWEEP: usize = 64;

/// Who, besides support, an event is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Route {
    /// The staff of a company.
    Company(i32),
    /// A customer of a company, by the e-mail orders name them with.
    Customer {
        /// The company.
        company_id: i32,
        /// The customer's e-mail, as on the order's responsible person.
        email: String,
    },
}

/// An event that knows its recipients.
pub trait Routed {
    /// The routes the event goes to; support hears every event anyway.
    fn routes(&self) -> Vec<Route>;
}

/// The channels of one kind of event.
pub(super) struct Fanout<T> {
    /// Support's channel: every event.
    pub(super) everything: broadcast::Sender<Arc<T>>,
    routes: Mutex<Channels<T>>,
}

struct Channels<T> {
    by_route: HashMap<Route, broadcast::Sender<Arc<T>>>,
    /// Unused channels are dropped when the map reaches this size, which then
    /// doubles: amortised constant work per subscription, and a map no larger
    /// than twice the routes someone listens on.
    sweep_at: usize,
}

impl<T: Routed> Fanout<T> {
    pub(super) fn new() -> Self {
        Fanout {
            everything: broadcast::channel(BUFFER).0,
            routes: Mutex::new(Channels { by_route: HashMap::new(), sweep_at: FIRST_SWEEP }),
        }
    }

    /// Sends `event` to support and to the receivers of its routes. No
    /// receivers is fine: nobody is watching.
    pub(super) fn publish(&self, event: Arc<T>) {
        let routes = event.routes();
        if !routes.is_empty() {
            let channels = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
            for route in &routes {
                if let Some(sender) = channels.by_route.get(route) {
                    let _ = sender.send(event.clone());
                }
            }
        }
        let _ = self.everything.send(event);
    }

    /// A receiver of the events `actor` may see, from now on; `None` for an
    /// actor who sees none.
    pub(super) fn subscribe(&self, actor: &Actor) -> Option<broadcast::Receiver<Arc<T>>> {
        let route = match actor.scope() {
            Scope::All => return Some(self.everything.subscribe()),
            Scope::Company(company_id) => Route::Company(company_id),
            Scope::Customer { company_id, email, .. } => Route::Customer { company_id, email },
            Scope::Nothing => return None,
        };
        let mut channels = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        if channels.by_route.len() >= channels.sweep_at {
            // Receivers are dropped without the lock, but never made without
            // it: a channel found unused here stays unused.
            channels.by_route.retain(|_, sender| sender.receiver_count() > 0);
            channels.sweep_at = (channels.by_route.len() * 2).max(FIRST_SWEEP);
        }
        let buffer = match route {
            Route::Company(_) => BUFFER,
            Route::Customer { .. } => CUSTOMER_BUFFER,
        };
        Some(channels.by_route.entry(route).or_insert_with(|| broadcast::channel(buffer).0).subscribe())
    }

    /// Channels currently kept (for tests).
    #[cfg(test)]
    fn channels(&self) -> usize {
        self.routes.lock().unwrap_or_else(PoisonError::into_inner).by_route.len()
    }
}

#[cfg(test)]
mod tests {
    use entities::UserRole;

    use super::*;

    #[derive(Debug, PartialEq)]
    struct Event(Vec<Route>);

    impl Routed for Event {
        fn routes(&self) -> Vec<Route> {
            self.0.clone()
        }
    }

    fn staff(company_id: i32) -> Actor {
        Actor::user(UserRole::Company, 100 + company_id, Some(company_id), "staff@x.test", false, 1).expect("staff")
    }

    fn customer(company_id: i32, email: &str) -> Actor {
        Actor::user(UserRole::Customer, 200 + company_id, Some(company_id), email, false, 1).expect("customer")
    }

    fn admin() -> Actor {
        Actor::user(UserRole::Admin, 1, None, "admin@x.test", false, 1).expect("admin")
    }

    fn customer_route(company_id: i32, email: &str) -> Route {
        Route::Customer { company_id, email: email.into() }
    }

    #[test]
    fn an_event_reaches_its_routes_and_support_and_no_one_else() {
        let fanout = Fanout::<Event>::new();
        let mut acme = fanout.subscribe(&staff(1)).expect("acme");
        let mut beta = fanout.subscribe(&staff(2)).expect("beta");
        let mut maria_at_acme = fanout.subscribe(&customer(1, "maria@x.test")).expect("maria");
        let mut maria_at_beta = fanout.subscribe(&customer(2, "maria@x.test")).expect("maria at beta");
        let mut joao_at_acme = fanout.subscribe(&customer(1, "joao@x.test")).expect("joao");
        let mut support = fanout.subscribe(&admin()).expect("support");

        fanout.publish(Arc::new(Event(vec![Route::Company(1), customer_route(1, "maria@x.test")])));

        assert!(acme.try_recv().is_ok());
        assert!(maria_at_acme.try_recv().is_ok());
        assert!(support.try_recv().is_ok());
        assert!(beta.try_recv().is_err());
        assert!(maria_at_beta.try_recv().is_err(), "the same e-mail at another company is another customer");
        assert!(joao_at_acme.try_recv().is_err());
    }

    #[test]
    fn an_actor_who_sees_nothing_gets_no_receiver() {
        let fanout = Fanout::<Event>::new();
        assert!(fanout.subscribe(&Actor::anonymous()).is_none());
    }

    #[test]
    fn channels_nobody_listens_on_are_swept_as_more_are_made() {
        let fanout = Fanout::<Event>::new();
        for company_id in 0..1_000 {
            // Subscribed and dropped at once: the channel is left unused.
            drop(fanout.subscribe(&staff(company_id)));
        }
        let kept = fanout.subscribe(&staff(5_000)).expect("kept");
        assert!(fanout.channels() < 2 * FIRST_SWEEP, "{} channels kept", fanout.channels());
        // A channel with a receiver survives any number of sweeps.
        for company_id in 0..1_000 {
            drop(fanout.subscribe(&staff(company_id)));
        }
        fanout.publish(Arc::new(Event(vec![Route::Company(5_000)])));
        let mut kept = kept;
        assert!(kept.try_recv().is_ok());
    }

    #[test]
    fn the_map_stays_within_twice_the_channels_listened_on() {
        let fanout = Fanout::<Event>::new();
        // More live channels than the first sweep's threshold.
        let live: Vec<_> = (0..200).map(|c| fanout.subscribe(&staff(c))).collect();
        for company_id in 1_000..3_000 {
            drop(fanout.subscribe(&staff(company_id)));
        }
        let channels = fanout.channels();
        assert!((200..=400).contains(&channels), "{channels} channels for 200 listened on");
        let sweep_at = fanout.routes.lock().unwrap_or_else(PoisonError::into_inner).sweep_at;
        // Twice what was live at the last sweep: the next comes after as many new channels again.
        assert!((400..=2 * channels).contains(&sweep_at), "next sweep at {sweep_at} with {channels} channels");
        drop(live);
    }
}
