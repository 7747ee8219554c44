//! Closed sets stored as short strings, readable in the database and stable across
//! SQLite and PostgreSQL.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Who a user is to the platform; see the role table in DESIGN.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum UserRole {
    /// Platform support: manages companies and their users.
    #[sea_orm(string_value = "admin")]
    Admin,
    /// A tenant's staff: everything inside its own company.
    #[sea_orm(string_value = "company")]
    Company,
    /// An end customer: reads its own orders.
    #[sea_orm(string_value = "customer")]
    Customer,
}

impl UserRole {
    /// The subject name used in the casbin policy.
    pub fn as_str(self) -> &'static str {
        match self {
            UserRole::Admin => "admin",
            UserRole::Company => "company",
            UserRole::Customer => "customer",
        }
    }
}

/// The one canonical order status every source is mapped onto (DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
pub enum OrderStatus {
    /// Known to the platform, not yet approved.
    #[sea_orm(string_value = "RECEIVED")]
    Received,
    /// Payment or order confirmed.
    #[sea_orm(string_value = "APPROVED")]
    Approved,
    /// Being produced.
    #[sea_orm(string_value = "IN_PRODUCTION")]
    InProduction,
    /// Fiscal invoice issued.
    #[sea_orm(string_value = "INVOICED")]
    Invoiced,
    /// Being picked and prepared; tracking started.
    #[sea_orm(string_value = "IN_SEPARATION")]
    InSeparation,
    /// Shipped, on its way.
    #[sea_orm(string_value = "IN_TRANSIT")]
    InTransit,
    /// Delivery difficulty; will be retried.
    #[sea_orm(string_value = "DELIVERY_FAILED")]
    DeliveryFailed,
    /// Delivered.
    #[sea_orm(string_value = "DELIVERED")]
    Delivered,
    /// Cancelled before fulfilment (final).
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
    /// Closed after a refund (final).
    #[sea_orm(string_value = "REFUNDED")]
    Refunded,
    /// Frozen; release returns it to the status it had.
    #[sea_orm(string_value = "ON_HOLD")]
    OnHold,
}

impl OrderStatus {
    /// The wire and database name, e.g. `IN_TRANSIT`.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Received => "RECEIVED",
            OrderStatus::Approved => "APPROVED",
            OrderStatus::InProduction => "IN_PRODUCTION",
            OrderStatus::Invoiced => "INVOICED",
            OrderStatus::InSeparation => "IN_SEPARATION",
            OrderStatus::InTransit => "IN_TRANSIT",
            OrderStatus::DeliveryFailed => "DELIVERY_FAILED",
            OrderStatus::Delivered => "DELIVERED",
            OrderStatus::Cancelled => "CANCELLED",
            OrderStatus::Refunded => "REFUNDED",
            OrderStatus::OnHold => "ON_HOLD",
        }
    }

    /// The status named `name` (`IN_TRANSIT`), if any.
    pub fn from_name(name: &str) -> Option<Self> {
        <Self as sea_orm::Iterable>::iter().find(|s| s.as_str() == name)
    }
}

/// What a locality is used for in logistics (TOTVS R2 `logisticRole`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(12))")]
pub enum LogisticRole {
    /// Goods leave from here.
    #[sea_orm(string_value = "ORIGIN")]
    Origin,
    /// Goods are delivered here.
    #[sea_orm(string_value = "DESTINATION")]
    Destination,
    /// Both origin and destination.
    #[sea_orm(string_value = "BOTH")]
    Both,
}

/// Incoterm of a transport order (R2: 0=FOB, 1=CIF, 2=FOBT, 3=OP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum Incoterm {
    /// Free on board.
    #[sea_orm(string_value = "FOB")]
    Fob,
    /// Cost, insurance and freight.
    #[sea_orm(string_value = "CIF")]
    Cif,
    /// FOB with transport.
    #[sea_orm(string_value = "FOBT")]
    Fobt,
    /// Other / operator.
    #[sea_orm(string_value = "OP")]
    Op,
}

/// Whether an order key–value pair is a classification or a free attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum AttributeKind {
    /// A classification (type → value), used for grouping and filtering.
    #[sea_orm(string_value = "CLASSIFICATION")]
    Classification,
    /// A free attribute.
    #[sea_orm(string_value = "ATTRIBUTE")]
    Attribute,
}

/// How to secure the connection to an SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(10))")]
pub enum SmtpSecurity {
    /// Plain text (only for local relays).
    #[sea_orm(string_value = "NONE")]
    None,
    /// Plain connection upgraded with STARTTLS (usually port 587).
    #[sea_orm(string_value = "STARTTLS")]
    StartTls,
    /// TLS from the first byte (usually port 465).
    #[sea_orm(string_value = "TLS")]
    Tls,
}

/// A storefront platform that pushes signed webhooks, each company with a
/// secret of its own for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
pub enum WebhookPlatform {
    /// Shopify (`X-Shopify-Hmac-Sha256`).
    #[sea_orm(string_value = "SHOPIFY")]
    Shopify,
    /// Magento 2 / Adobe Commerce.
    #[sea_orm(string_value = "MAGENTO")]
    Magento,
    /// Nuvemshop / Tiendanube (`X-Linkedstore-HMAC-SHA256`).
    #[sea_orm(string_value = "NUVEMSHOP")]
    Nuvemshop,
    /// Rastro's own signed status event, for every other platform.
    #[sea_orm(string_value = "GENERIC")]
    Generic,
}

/// Where an outgoing mail is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(10))")]
pub enum NotificationState {
    /// Waiting to be sent (possibly after a failed attempt).
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// Claimed by a worker that is sending it now.
    #[sea_orm(string_value = "SENDING")]
    Sending,
    /// Accepted by the SMTP server.
    #[sea_orm(string_value = "SENT")]
    Sent,
    /// Given up: attempts exhausted, a permanent refusal, or an unknown outcome.
    #[sea_orm(string_value = "FAILED")]
    Failed,
    /// Kept until the company configures its sender.
    #[sea_orm(string_value = "HELD")]
    Held,
    /// Not sent and never to be: its order or recipient was anonymized (LGPD).
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

/// Why a mail is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum NotificationKind {
    /// An order's status changed.
    #[sea_orm(string_value = "STATUS_CHANGE")]
    StatusChange,
    /// A company user asked to send a notification again.
    #[sea_orm(string_value = "RESEND")]
    Resend,
    /// A password reset or first-access link.
    #[sea_orm(string_value = "PASSWORD_RESET")]
    PasswordReset,
}

/// Language of the built-in templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum Locale {
    /// Brazilian Portuguese (default).
    #[sea_orm(string_value = "pt-BR")]
    PtBr,
    /// English.
    #[sea_orm(string_value = "en")]
    En,
}

/// How an inbound integration call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(10))")]
pub enum RunOutcome {
    /// Every record applied or skipped (stale or repeated).
    #[sea_orm(string_value = "SUCCESS")]
    Success,
    /// Some records failed, others applied.
    #[sea_orm(string_value = "PARTIAL")]
    Partial,
    /// Every record failed, or the run stopped midway.
    #[sea_orm(string_value = "FAILED")]
    Failed,
    /// Refused before any record was read: bad credentials, a malformed body.
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
}

/// What happened to one record of an integration run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(10))")]
pub enum ItemOutcome {
    /// Applied, whole.
    #[sea_orm(string_value = "APPLIED")]
    Applied,
    /// Nothing to do: every command was stale or a repeat.
    #[sea_orm(string_value = "SKIPPED")]
    Skipped,
    /// Refused; nothing of it was applied.
    #[sea_orm(string_value = "FAILED")]
    Failed,
}
