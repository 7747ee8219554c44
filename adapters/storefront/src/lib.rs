//! Storefront status feeds ⇄ ingestion commands: the platforms that push
//! signed webhooks about their orders (Shopify, Magento / Adobe Commerce,
//! Nuvemshop) and Rastro's own signed generic event for every other one.
//!
//! Pure: bytes in, commands out. Signatures are checked here too
//! ([`signature`]), over the raw body, before anything is parsed; the secrets
//! come in as arguments (the company's, from `domain::webhooks`).

pub mod adapter;
pub mod creation;
pub mod generic;
pub mod magento;
pub mod mapping;
pub mod nuvemshop;
pub mod shopify;
pub mod signature;

pub use adapter::{Storefront, GENERIC, MAGENTO, NUVEMSHOP, SHOPIFY};

/// The adapter's name in runs and URLs.
pub const NAME: &str = "storefront";
