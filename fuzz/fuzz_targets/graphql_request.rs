//! The GraphQL request path up to the resolvers: a JSON body (one request or a
//! batch, as `POST /graphql` reads it) or, when the input is not JSON, the
//! bytes as a query document; then the document limits, parsing, async-graphql's
//! own checks and validation, as the server runs them (`graphql::Runner`:
//! the budget's `Parsed`, then the schema).
//!
//! The schema is built with the server's limits but without a database: a
//! document that passes validation reaches its root resolvers, which answer
//! "domain context missing" at once. What must never happen is a panic, a stack
//! overflow or a hang (libFuzzer's `-timeout`).

#![no_main]

use std::sync::OnceLock;

use api::{
    config::GraphqlLimits,
    graphql::{limits::Parsed, RastroSchema},
};
use async_graphql::{BatchRequest, Request};
use libfuzzer_sys::fuzz_target;

/// The most operations one batch may hold (the server refuses more).
const BATCH: usize = 10;

fn schema() -> &'static RastroSchema {
    static SCHEMA: OnceLock<RastroSchema> = OnceLock::new();
    SCHEMA.get_or_init(|| api::graphql::builder(&GraphqlLimits::default()).finish())
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().expect("runtime"))
}

fn requests(data: &[u8]) -> Vec<Request> {
    match serde_json::from_slice::<BatchRequest>(data) {
        Ok(BatchRequest::Single(request)) => vec![request],
        Ok(BatchRequest::Batch(requests)) => requests.into_iter().take(BATCH).collect(),
        Err(_) => std::str::from_utf8(data).map(|query| vec![Request::new(query)]).unwrap_or_default(),
    }
}

fuzz_target!(|data: &[u8]| {
    for request in requests(data) {
        let response = match Parsed::within(request, &api::graphql::budget(&GraphqlLimits::default())) {
            Ok(parsed) => runtime().block_on(schema().execute(parsed.into_request())),
            Err(refused) => async_graphql::Response::from_errors(vec![refused]),
        };
        // Refusals are answers, not failures: only their shape is checked.
        for error in &response.errors {
            assert!(!error.message.is_empty() || error.extensions.is_some(), "an error says what is wrong");
        }
    }
});
