//! A company's secret for one platform's signed webhooks, stored encrypted
//! with the server key; the one it replaced stays valid until a deadline,
//! so the platform and Rastro need not switch at the same instant.

use sea_orm::entity::prelude::*;

use crate::enums::WebhookPlatform;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_secrets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub company_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub platform: WebhookPlatform,
    /// XChaCha20-Poly1305 nonce and ciphertext, base64; never the secret itself.
    pub secret_encrypted: String,
    /// The secret it replaced, encrypted alike, while it is still accepted.
    pub previous_encrypted: Option<String>,
    /// Until when the previous secret is accepted.
    pub previous_valid_until: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
    /// The store the secret is for (Shopify's shop domain, Nuvemshop's
    /// store id), lower-case; calls for another store are refused.
    pub account: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
