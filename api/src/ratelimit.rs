//! Request budgets per client address and per account, kept in memory with
//! `governor` (GCRA: a steady rate plus a burst). Each process keeps its own;
//! behind a load balancer the budget is per instance, which bounds what any one
//! client costs an instance. Durable, cross-process throttling of password
//! guesses is the domain's (`domain::auth`), counted in the database per
//! account and source.
//!
//! The GraphQL endpoint as a whole is charged per address before the document
//! is parsed; the sensitive mutations are charged again per address and per
//! account in their resolvers, through [`Limits::check`].

use std::{net::IpAddr, num::NonZeroU32, sync::Arc, time::Duration};

use governor::{
    clock::{Clock, DefaultClock},
    DefaultKeyedRateLimiter, Quota, RateLimiter,
};

/// A budget: `per_minute` steady, up to `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests per minute, sustained.
    pub per_minute: u32,
    /// Requests allowed at once.
    pub burst: u32,
}

impl Rate {
    /// `per_minute` sustained with a burst of `burst`.
    pub const fn new(per_minute: u32, burst: u32) -> Self {
        Rate { per_minute, burst }
    }

    fn quota(self) -> Quota {
        let per_minute = NonZeroU32::new(self.per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(self.burst.max(1)).unwrap_or(NonZeroU32::MIN);
        Quota::per_minute(per_minute).allow_burst(burst)
    }
}

/// The budgets a server enforces.
#[derive(Debug, Clone)]
pub struct RateSettings {
    /// GraphQL operations (each of a batch counts), WebSocket upgrades and
    /// exports, per client address.
    pub requests_per_ip: Rate,
    /// Sensitive operations (log in, change or reset a password, ask for a
    /// reset, send a test e-mail, refresh a session) per client address.
    pub sensitive_per_ip: Rate,
    /// Sensitive operations per account: the user changing a password, the
    /// e-mail a reset is asked for, the company sending test e-mails.
    pub sensitive_per_account: Rate,
}

impl Default for RateSettings {
    fn default() -> Self {
        RateSettings {
            requests_per_ip: Rate::new(600, 120),
            sensitive_per_ip: Rate::new(20, 10),
            sensitive_per_account: Rate::new(6, 3),
        }
    }
}

/// A sensitive operation, with its own budgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sensitive {
    /// `login`.
    Login,
    /// `changePassword`.
    ChangePassword,
    /// `requestPasswordReset`.
    RequestPasswordReset,
    /// `resetPassword`.
    ResetPassword,
    /// `sendTestEmail`.
    SendTestEmail,
    /// `refreshSession`.
    RefreshSession,
}

impl Sensitive {
    fn name(self) -> &'static str {
        match self {
            Sensitive::Login => "login",
            Sensitive::ChangePassword => "changePassword",
            Sensitive::RequestPasswordReset => "requestPasswordReset",
            Sensitive::ResetPassword => "resetPassword",
            Sensitive::SendTestEmail => "sendTestEmail",
            Sensitive::RefreshSession => "refreshSession",
        }
    }
}

/// Refused: try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many requests; retry after {retry_after_secs} s")]
pub struct Exhausted {
    /// Whole seconds to wait, at least 1.
    pub retry_after_secs: u64,
}

impl From<Exhausted> for domain::DomainError {
    fn from(e: Exhausted) -> Self {
        domain::DomainError::RateLimited { retry_after_secs: e.retry_after_secs }
    }
}

/// The limiters of one server.
pub struct Limits {
    requests: DefaultKeyedRateLimiter<IpAddr>,
    requests_user: DefaultKeyedRateLimiter<i32>,
    sensitive_ip: DefaultKeyedRateLimiter<(Sensitive, IpAddr)>,
    sensitive_account: DefaultKeyedRateLimiter<(Sensitive, String)>,
    clock: DefaultClock,
}

impl Limits {
    /// Limiters with the given budgets.
    pub fn new(settings: &RateSettings) -> Arc<Self> {
        Arc::new(Limits {
            requests: RateLimiter::keyed(settings.requests_per_ip.quota()),
            requests_user: RateLimiter::keyed(settings.requests_per_ip.quota()),
            sensitive_ip: RateLimiter::keyed(settings.sensitive_per_ip.quota()),
            sensitive_account: RateLimiter::keyed(settings.sensitive_per_account.quota()),
            clock: DefaultClock::default(),
        })
    }

    fn exhausted(&self, not_until: &governor::NotUntil<<DefaultClock as Clock>::Instant>) -> Exhausted {
        let wait = not_until.wait_time_from(self.clock.now());
        Exhausted { retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0) }
    }

    /// Charges `n` requests to `ip`'s general budget.
    pub fn charge_requests(&self, ip: IpAddr, n: u32) -> Result<(), Exhausted> {
        self.charge_n(&self.requests, &ip, n)
    }

    /// Charges `n` requests to a logged-in user's general budget (the same size
    /// as an address's), so one account spread over many addresses is bounded too.
    pub fn charge_user_requests(&self, user_id: i32, n: u32) -> Result<(), Exhausted> {
        self.charge_n(&self.requests_user, &user_id, n)
    }

    fn charge_n<K: Clone + Eq + std::hash::Hash>(&self, limiter: &DefaultKeyedRateLimiter<K>, key: &K, n: u32) -> Result<(), Exhausted> {
        let n = NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN);
        match limiter.check_key_n(key, n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(self.exhausted(&not_until)),
            // More than the burst at once can never pass.
            Err(_) => Err(Exhausted { retry_after_secs: 60 }),
        }
    }

    /// Charges one `operation` to `ip` and, when given, to `account`.
    pub fn check(&self, operation: Sensitive, ip: IpAddr, account: Option<&str>) -> Result<(), Exhausted> {
        self.sensitive_ip.check_key(&(operation, ip)).map_err(|n| self.exhausted(&n))?;
        if let Some(account) = account {
            let key = (operation, account.trim().to_lowercase());
            self.sensitive_account.check_key(&key).map_err(|n| self.exhausted(&n))?;
        }
        tracing::trace!(operation = operation.name(), "rate budget charged");
        Ok(())
    }

    /// Forgets keys whose budget is full again, so the maps do not grow with
    /// every address ever seen.
    pub fn forget_idle(&self) {
        self.requests.retain_recent();
        self.requests_user.retain_recent();
        self.sensitive_ip.retain_recent();
        self.sensitive_account.retain_recent();
        self.requests.shrink_to_fit();
        self.requests_user.shrink_to_fit();
        self.sensitive_ip.shrink_to_fit();
        self.sensitive_account.shrink_to_fit();
    }

    /// Runs [`Limits::forget_idle`] every `every` for as long as the limiter lives.
    pub fn spawn_housekeeping(self: &Arc<Self>, every: Duration) {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let Some(limits) = weak.upgrade() else { break };
                limits.forget_idle();
            }
        });
    }
}

/// The address a request came from, as data on every GraphQL request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Which peers are trusted proxies whose `X-Forwarded-For` names the client.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<ipnet::IpNet>);

impl TrustedProxies {
    /// The client address: the peer, or, when the peer is a trusted proxy, the
    /// right-most address in `X-Forwarded-For` that is not itself a trusted
    /// proxy (the left part of the header is whatever the client wrote).
    pub fn client(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let Some(header) = forwarded_for else { return peer };
        let mut client = peer;
        for hop in header.rsplit(',') {
            let Ok(address) = hop.trim().parse::<IpAddr>() else { break };
            client = address;
            if !self.trusts(address) {
                break;
            }
        }
        client
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxies = TrustedProxies(vec!["10.0.0.0/8".parse().unwrap_or_else(|_| unreachable!())]);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap_or_else(|_| unreachable!());
        assert_eq!(proxies.client(ip("203.0.113.9"), Some("1.2.3.4")), ip("203.0.113.9"));
        assert_eq!(proxies.client(ip("10.0.0.2"), Some("1.2.3.4, 198.51.100.7")), ip("198.51.100.7"));
        assert_eq!(proxies.client(ip("10.0.0.2"), Some("198.51.100.7, 10.0.0.3")), ip("198.51.100.7"));
        assert_eq!(proxies.client(ip("10.0.0.2"), Some("garbage")), ip("10.0.0.2"));
    }

    #[test]
    fn budgets_refuse_after_the_burst_and_name_a_wait() {
        let limits = Limits::new(&RateSettings { sensitive_per_ip: Rate::new(1, 2), ..RateSettings::default() });
        let ip = IpAddr::from([192, 0, 2, 1]);
        assert!(limits.check(Sensitive::Login, ip, None).is_ok());
        assert!(limits.check(Sensitive::Login, ip, None).is_ok());
        let refused = limits.check(Sensitive::Login, ip, None);
        assert!(matches!(refused, Err(Exhausted { retry_after_secs }) if (1..=60).contains(&retry_after_secs)));
        assert!(limits.check(Sensitive::SendTestEmail, ip, None).is_ok(), "each operation has its own budget");
    }
}
