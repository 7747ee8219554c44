//! The portal's stylesheet and script, compiled into the binary.

use axum::{
    extract::Path,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
};

const STYLE: &str = include_str!("../../portal/assets/portal.css");
const SCRIPT: &str = include_str!("../../portal/assets/portal.js");

/// `GET /assets/{name}`.
pub async fn serve(Path(name): Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "portal.css" => (STYLE, "text/css; charset=utf-8"),
        "portal.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "no such asset").into_response(),
    };
    ([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "public, max-age=300")], body).into_response()
}
