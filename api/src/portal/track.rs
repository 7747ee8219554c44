//! `GET /track/{token}`: the public tracking page every status mail links
//! to, for anyone holding the link: no login, no personal data
//! ([`domain::orders::public_tracking`]).

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};
use domain::{orders::public_tracking, DomainError};
use minijinja::{context, Value};

use super::{
    i18n,
    session::Visitor,
    view::{self, render, when},
};
use crate::state::AppState;

/// `GET /track/{token}`. A forged, revoked or anonymized link is one 404.
pub async fn page(State(state): State<AppState>, visitor: Visitor, Path(token): Path<String>) -> Response {
    let locale = visitor.locale;
    match public_tracking::view(&state.ctx, &token).await {
        Ok(order) => {
            let timeline: Vec<Value> = order
                .timeline
                .iter()
                .rev()
                .map(|(status, at)| context! { status => i18n::status(locale, *status), at => when(*at) })
                .collect();
            let shipments: Vec<Value> = order
                .shipments
                .iter()
                .map(|s| context! { carrier => s.carrier, number => s.tracking_number, url => s.tracking_url, delivered => s.delivered_at.map(when) })
                .collect();
            let values = context! {
                code => order.code, company => order.company, status => i18n::status(locale, order.status),
                city => order.city, timeline => timeline, shipments => shipments,
                window_from => order.delivery_window.0.map(when), window_to => order.delivery_window.1.map(when),
                here => format!("/track/{token}"),
            };
            render(&state, &visitor, StatusCode::OK, "track.html", values)
        }
        Err(err @ DomainError::Unexpected(_)) => view::error_page(locale, &err),
        Err(_) => view::message(locale, StatusCode::NOT_FOUND, "track_title", "track_gone"),
    }
}
