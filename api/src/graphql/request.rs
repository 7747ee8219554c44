//! Per-request context for resolvers.

use async_graphql::Context;
use domain::{Actor, Ctx};

/// The domain context and the actor of this request.
pub fn parts<'a>(ctx: &Context<'a>) -> async_graphql::Result<(&'a Ctx, &'a Actor)> {
    static ANONYMOUS: std::sync::OnceLock<Actor> = std::sync::OnceLock::new();
    let actor = ctx.data_opt::<Actor>().unwrap_or_else(|| ANONYMOUS.get_or_init(Actor::anonymous));
    let domain = ctx
        .data_opt::<Ctx>()
        .ok_or_else(|| super::error::to_gql(domain::DomainError::Unexpected(anyhow::anyhow!("domain context missing"))))?;
    Ok((domain, actor))
}

/// Parses a GraphQL `ID` into a row id. A malformed id is simply not found.
pub fn parse_id(entity: &'static str, id: &async_graphql::ID) -> async_graphql::Result<i32> {
    id.parse::<i32>()
        .map_err(|_| super::error::to_gql(domain::DomainError::not_found(entity, id.as_str())))
}

/// The client address of this request (unspecified when the transport set none).
pub fn client_ip(ctx: &Context<'_>) -> std::net::IpAddr {
    ctx.data_opt::<crate::ratelimit::ClientIp>().map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0)
}

/// Charges a sensitive operation to this request's address and, when given, to
/// `account`; `RATE_LIMITED` (with `retryAfterSeconds`) once either is spent.
pub fn charge(ctx: &Context<'_>, operation: crate::ratelimit::Sensitive, account: Option<&str>) -> async_graphql::Result<()> {
    let Some(limits) = ctx.data_opt::<std::sync::Arc<crate::ratelimit::Limits>>() else { return Ok(()) };
    limits
        .check(operation, client_ip(ctx), account)
        .map_err(|exhausted| super::error::to_gql(exhausted.into()))
}
