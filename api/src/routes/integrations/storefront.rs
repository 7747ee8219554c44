//! `POST /integrations/events/{company}` (Rastro's generic status event),
//! `POST /integrations/shopify/{company}` (Shopify's webhooks),
//! `POST /integrations/magento/{company}` (Magento / Adobe Commerce) and
//! `POST /integrations/nuvemshop/{company}` (Nuvemshop), through
//! `adapters/storefront`, for a company named by its identifier.
//!
//! No token: the signature is the credential. A body over the limit is a
//! 413 before it is read; an unknown or deactivated company, or a signature
//! that none of the company's accepted secrets (see `domain::webhooks`)
//! makes, or a timestamp more than five minutes away, is the same 401 for
//! every caller (a stranger learns nothing of the company) — recorded, with
//! its reason and without its body, as a rejected run when the company
//! exists, so it sees what was refused and why. A signed body that is not an
//! event is a 400, recorded as rejected with its body.

use adapter_storefront::{shopify::Delivery, signature, Storefront, GENERIC, MAGENTO, NUVEMSHOP, SHOPIFY};
use axum::{
    extract::{Path, Request, State},
    http::{HeaderMap, StatusCode},
    response::Response,
};
use domain::{
    ingest::{self, Adapter, Handled, WireError},
    webhooks,
};
use entities::WebhookPlatform;
use secrecy::ExposeSecret;

use super::{json, read_body, BodyError};
use crate::state::AppState;

/// The generic event's path.
pub const EVENTS_PATH: &str = "/integrations/events/{company}";
/// Magento's calls' path.
pub const MAGENTO_PATH: &str = "/integrations/magento/{company}";
/// Nuvemshop's notifications' path.
pub const NUVEMSHOP_PATH: &str = "/integrations/nuvemshop/{company}";
/// Shopify's webhooks' path.
pub const SHOPIFY_PATH: &str = "/integrations/shopify/{company}";

fn refusal(status: StatusCode, code: &'static str, message: impl Into<String>) -> Response {
    json(status, Storefront.render_rejection(GENERIC, &WireError { code, message: message.into() }))
}

/// `POST /integrations/events/{company}`.
pub async fn events(state: State<AppState>, Path(company): Path<String>, headers: HeaderMap, request: Request) -> Response {
    let feed = Feed {
        platform: WebhookPlatform::Generic,
        operation: GENERIC,
        headers_named: "X-Rastro-Timestamp, X-Rastro-Signature",
        store: None,
    };
    receive(state, &company, &headers, request, feed, |keys, body, now| {
        let header = |name: &str| super::header(&headers, name);
        signature::generic(keys, body, header(signature::TIMESTAMP_HEADER), header(signature::SIGNATURE_HEADER), now)
    }, |body| body.to_vec())
    .await
}

/// `POST /integrations/shopify/{company}`: recorded with its topic and
/// webhook id (a [`Delivery`]); a topic Rastro does not take is a 400.
pub async fn shopify(state: State<AppState>, Path(company): Path<String>, headers: HeaderMap, request: Request) -> Response {
    let feed = Feed { platform: WebhookPlatform::Shopify, operation: SHOPIFY, headers_named: "X-Shopify-Hmac-Sha256", store: Some(shop_domain) };
    let header = |name: &str| super::header(&headers, name);
    let topic = header("x-shopify-topic").unwrap_or_default().to_owned();
    let webhook_id = header("x-shopify-webhook-id").or_else(|| header("x-shopify-event-id")).map(str::to_owned);
    receive(state, &company, &headers, request, feed, |keys, body, _now| {
        signature::shopify(keys, body, header("x-shopify-hmac-sha256"))
    }, |body| Delivery::new(&topic, webhook_id.as_deref(), body).map_or_else(|| body.to_vec(), |d| d.to_bytes()))
    .await
}

/// `POST /integrations/magento/{company}`: signed like the generic event,
/// or carrying the secret in `X-Rastro-Webhook-Secret` (what Adobe
/// Commerce's `webhooks.xml` headers can do).
pub async fn magento(state: State<AppState>, Path(company): Path<String>, headers: HeaderMap, request: Request) -> Response {
    let feed = Feed {
        platform: WebhookPlatform::Magento,
        operation: MAGENTO,
        headers_named: "X-Rastro-Webhook-Secret, or X-Rastro-Timestamp and X-Rastro-Signature",
        store: None,
    };
    receive(state, &company, &headers, request, feed, |keys, body, now| {
        let header = |name: &str| super::header(&headers, name);
        let (timestamp, signed) = (header(signature::TIMESTAMP_HEADER), header(signature::SIGNATURE_HEADER));
        signature::magento(keys, body, timestamp, signed, header(signature::SECRET_HEADER), now)
    }, |body| body.to_vec())
    .await
}

/// `POST /integrations/nuvemshop/{company}`: a notification, with the order
/// under `order` (Rastro cannot fetch it), signed with
/// `X-Linkedstore-HMAC-SHA256` over the body.
pub async fn nuvemshop(state: State<AppState>, Path(company): Path<String>, headers: HeaderMap, request: Request) -> Response {
    let feed = Feed { platform: WebhookPlatform::Nuvemshop, operation: NUVEMSHOP, headers_named: "X-Linkedstore-HMAC-SHA256", store: Some(store_id) };
    receive(state, &company, &headers, request, feed, |keys, body, _now| {
        signature::nuvemshop(keys, body, super::header(&headers, "x-linkedstore-hmac-sha256"))
    }, |body| body.to_vec())
    .await
}

/// The store a Shopify call is from: `X-Shopify-Shop-Domain`. Not signed:
/// it keeps one store's webhooks from landing on another company by
/// mistake, and only a secret of the store's own (a custom app's) keeps out
/// a store that shares the app.
fn shop_domain(headers: &HeaderMap, _body: &[u8]) -> Option<String> {
    super::header(headers, "x-shopify-shop-domain").map(|v| v.trim().to_lowercase())
}

/// The store a Nuvemshop call is from: its `store_id`, inside the signed body.
fn store_id(_headers: &HeaderMap, body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Store {
        store_id: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<Store>(body).ok()?.store_id? {
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::String(s) => Some(s.trim().to_lowercase()),
        _ => None,
    }
}

/// Reads the store a call names.
type StoreOf = fn(&HeaderMap, &[u8]) -> Option<String>;

/// A platform's route, as [`receive`] needs it.
struct Feed {
    platform: WebhookPlatform,
    operation: &'static str,
    /// The headers that sign it, for the 401's message.
    headers_named: &'static str,
    /// The store a call names, for platforms whose secret an app's stores share.
    store: Option<StoreOf>,
}

/// What every storefront route does: bound the body, find the company,
/// check the signature against its accepted secrets with `verify`, record a
/// refusal without its body, then hand the call (as `record` writes it) to
/// the pipeline.
async fn receive(
    State(state): State<AppState>,
    company: &str,
    headers: &HeaderMap,
    request: Request,
    feed: Feed,
    verify: impl FnOnce(&[&[u8]], &[u8], chrono::DateTime<chrono::Utc>) -> Result<(), signature::SignatureError>,
    record: impl FnOnce(&[u8]) -> Vec<u8>,
) -> Response {
    let body = match read_body(headers, request.into_body(), state.config.integrations.body_bytes).await {
        Ok(body) => body,
        Err(error @ BodyError::TooLarge(_)) => return refusal(StatusCode::PAYLOAD_TOO_LARGE, "TOO_LARGE", error.to_string()),
        Err(error @ BodyError::Unreadable) => return refusal(StatusCode::BAD_REQUEST, "MALFORMED", error.to_string()),
    };
    let unsigned = || {
        let message = format!("the signature was not accepted ({}); the company's integrations log says why", feed.headers_named);
        refusal(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message)
    };
    let company_id = match webhooks::company_of(&state.ctx, company).await {
        Ok(Some(id)) => id,
        Ok(None) => return unsigned(),
        Err(error) => return server_error(&error),
    };
    let now = chrono::Utc::now();
    let accepted = match webhooks::accepted_for(&state.ctx, company_id, feed.platform, now).await {
        Ok(accepted) => accepted,
        Err(error) => return server_error(&error),
    };
    let keys: Vec<&[u8]> = accepted.secrets.iter().map(|s| s.expose_secret().as_bytes()).collect();
    let refused = verify(&keys, &body, now).map_err(|e| e.to_string()).and_then(|()| {
        let (Some(expected), Some(store)) = (&accepted.account, feed.store) else { return Ok(()) };
        match store(headers, &body) {
            Some(named) if &named == expected => Ok(()),
            Some(named) => Err(format!("the call is for store {named:?}; this company's secret is for {expected:?}")),
            None => Err(format!("the call names no store; this company's secret is for {expected:?}")),
        }
    });
    if let Err(message) = refused {
        let error = WireError { code: "UNAUTHENTICATED", message };
        return match ingest::refuse(&state.ctx, company_id, &Storefront, feed.operation, body.len() as u64, &error).await {
            Ok(_) => unsigned(),
            Err(error) => server_error(&error),
        };
    }
    let Ok(_slot) = state.integration_slots.0.acquire().await else { return server_error(&"closing") };
    match ingest::handle(&state.ctx, company_id, &Storefront, feed.operation, &record(&body), None).await {
        Ok(answer) => match answer.handled {
            Handled::Applied(_) => json(StatusCode::OK, answer.body),
            Handled::Rejected(_) => json(StatusCode::BAD_REQUEST, answer.body),
        },
        Err(error) => server_error(&error),
    }
}

fn server_error(error: &dyn std::fmt::Display) -> Response {
    super::server_error("storefront", error)
}
