//! The storefront platforms' settings: webhook secrets (set, never read
//! back) and status mappings (a store's statuses read as canonical ones).

use async_graphql::{Context, Enum, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use domain::{status_mappings, webhooks};
use entities::webhook_secret;
use secrecy::SecretString;

use super::{
    error::GqlResultExt,
    orders::types::OrderStatus,
    request::{parse_id, parts},
};

/// A storefront platform that pushes signed webhooks.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entities::WebhookPlatform")]
pub enum WebhookPlatform {
    /// Shopify (`X-Shopify-Hmac-Sha256`).
    Shopify,
    /// Magento 2 / Adobe Commerce.
    Magento,
    /// Nuvemshop / Tiendanube (`X-Linkedstore-HMAC-SHA256`).
    Nuvemshop,
    /// Rastro's own signed status event, for every other platform.
    Generic,
}

/// That a company has a secret for a platform, and since when; never the
/// secret.
#[derive(SimpleObject)]
pub struct WebhookSecret {
    /// The platform.
    pub platform: WebhookPlatform,
    /// When it was last set.
    pub updated_at: DateTime<Utc>,
    /// Until when the secret it replaced is still accepted, if it is.
    pub previous_valid_until: Option<DateTime<Utc>>,
    /// The store it is for (Shopify's shop domain, Nuvemshop's store id), if set.
    pub account: Option<String>,
}

impl From<webhook_secret::Model> for WebhookSecret {
    fn from(s: webhook_secret::Model) -> Self {
        WebhookSecret {
            platform: s.platform.into(),
            updated_at: s.updated_at,
            previous_valid_until: s.previous_valid_until,
            account: s.account,
        }
    }
}

/// What one of a platform's status codes means for a company.
#[derive(SimpleObject)]
pub struct StatusMapping {
    /// The platform.
    pub platform: WebhookPlatform,
    /// The code as matched: trimmed, lower-case, spaces and hyphens as `_`.
    /// Shopify's and Nuvemshop's codes carry their field
    /// (`shipment_status:in_transit`); Magento's are order states.
    pub code: String,
    /// The canonical status it means; null: the event is recorded as skipped.
    pub status: Option<OrderStatus>,
    /// The company set it; else it is the platform's default.
    pub custom: bool,
    /// Whether the platform has a default for the code.
    pub has_default: bool,
    /// The platform's default (null with `hasDefault`: ignored by default).
    pub default_status: Option<OrderStatus>,
}

impl StatusMapping {
    fn of(platform: WebhookPlatform, e: status_mappings::Effective) -> Self {
        StatusMapping {
            platform,
            code: e.code,
            status: e.status.map(Into::into),
            custom: e.custom,
            has_default: e.default.is_some(),
            default_status: e.default.flatten().map(Into::into),
        }
    }
}

/// Webhook secret queries.
#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// The platforms a company has a webhook secret for (its staff, or
    /// platform support).
    async fn webhook_secrets(&self, ctx: &Context<'_>, company_id: ID) -> async_graphql::Result<Vec<WebhookSecret>> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("company", &company_id)?;
        Ok(webhooks::secrets_of(domain, actor, id).await.gql()?.into_iter().map(WebhookSecret::from).collect())
    }

    /// What each status code of a platform means for a company (its staff,
    /// or platform support): the platform's standard codes with the
    /// company's choices over them, then its own codes.
    async fn status_mappings(&self, ctx: &Context<'_>, company_id: ID, platform: WebhookPlatform) -> async_graphql::Result<Vec<StatusMapping>> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("company", &company_id)?;
        let defaults = adapter_storefront::mapping::defaults(platform.into());
        let listed = status_mappings::list(domain, actor, id, platform.into(), defaults).await.gql()?;
        Ok(listed.into_iter().map(|e| StatusMapping::of(platform, e)).collect())
    }
}

/// Webhook secret mutations.
#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Sets a company's secret for a platform's webhooks (its staff, or
    /// platform support); write-only, stored encrypted. The secret it
    /// replaces stays valid for `graceHours` (default 24, at most 168; 0
    /// ends it at once), while the platform is switched to the new one.
    /// `account` names the store the secret is for — Shopify's shop domain
    /// (`acme.myshopify.com`), Nuvemshop's store id — when the secret is an
    /// app's, shared by every store that installed it: a call for another
    /// store is then refused. Omitted, the one set stays; empty, it is
    /// cleared.
    async fn set_webhook_secret(
        &self,
        ctx: &Context<'_>,
        company_id: ID,
        platform: WebhookPlatform,
        #[graphql(secret)] secret: String,
        grace_hours: Option<i32>,
        account: Option<String>,
    ) -> async_graphql::Result<WebhookSecret> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("company", &company_id)?;
        let secret = SecretString::from(secret);
        let grace = grace_hours.map_or(webhooks::DEFAULT_GRACE_HOURS, i64::from);
        webhooks::set_secret(domain, actor, id, platform.into(), &secret, grace, account.as_deref()).await.gql().map(WebhookSecret::from)
    }

    /// Maps a platform's status code onto a canonical status for a company
    /// (its staff, or platform support), over the platform's default: a
    /// custom status of its store, or a standard one read otherwise. Without
    /// `status` the code is read and ignored (its events are recorded as
    /// skipped). Runs that failed for the code can then be reprocessed.
    async fn set_status_mapping(
        &self,
        ctx: &Context<'_>,
        company_id: ID,
        platform: WebhookPlatform,
        code: String,
        status: Option<OrderStatus>,
    ) -> async_graphql::Result<StatusMapping> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("company", &company_id)?;
        let code = status_mappings::set(domain, actor, id, platform.into(), &code, status.map(Into::into)).await.gql()?;
        let default = adapter_storefront::mapping::defaults(platform.into()).iter().find(|(c, _)| *c == code).map(|(_, s)| *s);
        let effective = status_mappings::Effective { code, status: status.map(Into::into), custom: true, default };
        Ok(StatusMapping::of(platform, effective))
    }

    /// Removes a company's own mapping of a code, so the platform's default
    /// (if any) applies again; whether there was one.
    async fn remove_status_mapping(&self, ctx: &Context<'_>, company_id: ID, platform: WebhookPlatform, code: String) -> async_graphql::Result<bool> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("company", &company_id)?;
        status_mappings::remove(domain, actor, id, platform.into(), &code).await.gql()
    }
}
