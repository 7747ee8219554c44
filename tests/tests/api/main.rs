//! Black-box tests of the running server. Each test starts its own server on a
//! fresh database (SQLite, or PostgreSQL when `TEST_DATABASE_URL` is set).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod abuse;
mod audit;
mod auth;
mod companies;
mod customer_view;
mod demo;
mod exports;
mod feed_properties;
mod feeds;
mod guards;
mod guards_rules;
mod guards_tenancy;
mod health;
mod hostile_documents;
mod hostile_templates;
mod import;
mod ingest;
mod lgpd;
mod limits;
mod localities;
mod magento;
mod matrix;
mod migrations;
mod notifications;
mod nuvemshop;
mod operations;
mod orders_lifecycle;
mod orders_query;
mod smtp_safety;
mod smtp_secure;
mod shopify;
mod storefront;
mod schema;
mod sessions;
mod subscriptions;
mod totvs_r2;
mod tracking;
mod under_attack;
mod vtex;
mod vtex_tracking;
mod webhooks;
mod websocket;
