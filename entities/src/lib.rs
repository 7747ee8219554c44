//! SeaORM entities: Rastro's data model and nothing else.
//!
//! # Layout
//! - [`enums`]: the closed sets stored as strings (roles, order status, …), shared by
//!   every layer so no one compares status strings by hand.
//! - one module per table. Money is stored as integer cents; times are UTC.
//!
//! Business rules live in the `domain` crate; this crate only says what is stored.

pub mod audit_log;
pub mod company;
pub mod enums;
pub mod integration_run;
pub mod invoice;
pub mod integration_run_item;
pub mod locality;
pub mod login_throttle;
pub mod notification;
pub mod notification_attempt;
pub mod notification_settings;
pub mod notification_template;
pub mod order;
pub mod order_attribute;
pub mod order_item;
pub mod order_status_history;
pub mod password_reset_token;
pub mod refresh_token;
pub mod refund;
pub mod session;
pub mod shipment;
pub mod smtp_settings;
pub mod tracking_event;
pub mod user;
pub mod webhook_secret;
pub mod status_mapping;
pub mod stored;
pub mod tracking_link;

pub use enums::{
    AttributeKind, Incoterm, ItemOutcome, Locale, LogisticRole, NotificationKind, NotificationState, OrderStatus, RunOutcome,
    SmtpSecurity, UserRole, WebhookPlatform,
};
