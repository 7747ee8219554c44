//! Webhook secrets of the storefront platforms: set, never read back.

use async_graphql::{Context, Enum, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use domain::webhooks;
use entities::webhook_secret;
use secrecy::SecretString;

use super::{
    error::GqlResultExt,
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
}

impl From<webhook_secret::Model> for WebhookSecret {
    fn from(s: webhook_secret::Model) -> Self {
        WebhookSecret { platform: s.platform.into(), updated_at: s.updated_at, previous_valid_until: s.previous_valid_until }
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
    async fn set_webhook_secret(
        &self,
        ctx: &Context<'_>,
        company_id: ID,
        platform: WebhookPlatform,
        #[graphql(secret)] secret: String,
        grace_hours: Option<i32>,
    ) -> async_graphql::Result<WebhookSecret> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("company", &company_id)?;
        let secret = SecretString::from(secret);
        let grace = grace_hours.map_or(webhooks::DEFAULT_GRACE_HOURS, i64::from);
        webhooks::set_secret(domain, actor, id, platform.into(), &secret, grace).await.gql().map(WebhookSecret::from)
    }
}
