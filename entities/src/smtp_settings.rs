//! A company's SMTP sender. The password is stored encrypted with the server key.

use sea_orm::entity::prelude::*;

use crate::enums::SmtpSecurity;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "smtp_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub company_id: i32,
    pub host: String,
    pub port: i32,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    /// XChaCha20-Poly1305 nonce and ciphertext, base64; never the password itself.
    pub password_encrypted: Option<String>,
    pub from_address: String,
    pub from_name: Option<String>,
    pub reply_to: Option<String>,
    /// Connections the mail worker keeps to the server at most.
    pub max_connections: i32,
    /// Mails a second at most; `None`: no limit.
    pub max_per_second: Option<i32>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
