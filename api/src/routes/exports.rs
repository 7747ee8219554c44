//! `GET /exports/orders.csv` and `GET /exports/orders.xml`: the orders the
//! caller may see, with the same filters as the `orders` query, streamed in
//! batches so memory stays flat whatever the size.
//!
//! Query parameters (all optional): `code`, `product`, `customerName`,
//! `createdFrom`, `createdTo` (RFC 3339), `status` (comma-separated, e.g.
//! `IN_TRANSIT,DELIVERED`), `minTotal`, `maxTotal` (`"1299.90"`), `localityId`,
//! `companyId` (admins). Authenticate with `Authorization: Bearer …`, or the
//! portal's session cookie (its export buttons).
//!
//! CSV: a header row, then one row per order; `skus` lists the items' SKUs
//! separated by `|`. Text cells starting with `=`, `+`, `-`, `@`, tab, CR or `'`
//! get a leading `'` so spreadsheets do not run them as formulas
//! ([`domain::orders::csv_text_cell`]). XML: always well-formed — characters
//! XML 1.0 forbids are written as U+FFFD ([`domain::orders::xml_escape`]):
//!
//! ```xml
//! <?xml version="1.0" encoding="UTF-8"?>
//! <orders>
//!   <order id="1" sourceId="ACME-1" code="#1" status="IN_TRANSIT">
//!     <customerName>…</customerName> <destinationLocalityId>…</destinationLocalityId>
//!     <total>12.50</total> <refunded>0.00</refunded> <invoiceNumber>…</invoiceNumber>
//!     <createdAt>…</createdAt> <updatedAt>…</updatedAt>
//!     <items><item sourceId="1" productId="SKU" quantity="2" unitPrice="6.25">Name</item></items>
//!   </order>
//! </orders>
//! ```

use axum::{
    body::{Body, Bytes},
    extract::{RawQuery, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use chrono::{DateTime, Utc};
use domain::{
    orders::{self, csv_text_cell as text, xml_escape as escape, ExportRow, OrderFilter},
    DomainError,
};
use entities::OrderStatus;
use futures::{stream, StreamExt};
use serde::Deserialize;

use crate::{
    graphql::{
        error::{classify, client_message, code, error_body, http_status},
        scalars::{format_cents, parse_cents},
    },
    routes::graphql_http::{actor_from_headers, refuse},
    state::AppState,
};

/// The filters, as query parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Params {
    code: Option<String>,
    product: Option<String>,
    customer_name: Option<String>,
    created_from: Option<DateTime<Utc>>,
    created_to: Option<DateTime<Utc>>,
    status: Option<String>,
    min_total: Option<String>,
    max_total: Option<String>,
    locality_id: Option<i32>,
    company_id: Option<i32>,
}

impl Params {
    fn into_filter(self) -> Result<OrderFilter, DomainError> {
        let money = |field: &str, value: Option<String>| {
            value
                .map(|v| parse_cents(&v).ok_or_else(|| DomainError::validation(field, "must be an amount like 1299.90")))
                .transpose()
        };
        let statuses = match self.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => vec![],
            Some(list) => list
                .split(',')
                .map(|name| {
                    OrderStatus::from_name(name.trim())
                        .ok_or_else(|| DomainError::validation("status", format!("unknown status {}", name.trim())))
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(OrderFilter {
            min_total_cents: money("minTotal", self.min_total)?,
            max_total_cents: money("maxTotal", self.max_total)?,
            code: self.code,
            product: self.product,
            created_from: self.created_from,
            created_to: self.created_to,
            customer_name: self.customer_name,
            statuses,
            locality_id: self.locality_id,
            company_id: self.company_id,
        })
    }
}

fn domain_refusal(err: &DomainError) -> Response {
    (http_status(err), Json(error_body(&client_message(err), classify(err).0))).into_response()
}

#[derive(Clone, Copy)]
enum Format {
    Csv,
    /// One row per order line, in the layout `rastro import` reads
    /// (`adapters/rastro-csv`), so another installation can load it.
    Lines,
    Xml,
}

impl Format {
    fn head(self) -> Vec<u8> {
        match self {
            Format::Csv => csv_rows(&[], true),
            Format::Lines => line_rows(&[], true),
            Format::Xml => b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<orders>\n".to_vec(),
        }
    }

    fn tail(self) -> Vec<u8> {
        match self {
            Format::Csv | Format::Lines => vec![],
            Format::Xml => b"</orders>\n".to_vec(),
        }
    }

    fn batch(self, rows: &[ExportRow]) -> Vec<u8> {
        match self {
            Format::Csv => csv_rows(rows, false),
            Format::Lines => line_rows(rows, false),
            Format::Xml => xml_rows(rows),
        }
    }
}

const CSV_HEADER: [&str; 13] = [
    "id",
    "source_id",
    "code",
    "status",
    "customer_name",
    "destination_locality_id",
    "total",
    "refunded",
    "invoice_number",
    "created_at",
    "updated_at",
    "item_count",
    "skus",
];

fn csv_rows(rows: &[ExportRow], header: bool) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 160));
    // Writing to a Vec cannot fail.
    if header {
        let _ = writer.write_record(CSV_HEADER);
    }
    for row in rows {
        let o = &row.order;
        let skus: Vec<&str> = row.items.iter().map(|i| i.product_id.as_str()).collect();
        // Every cell holding outside text goes through `text`; the others are
        // ids, amounts, times and status names this function formats itself.
        let _ = writer.write_record([
            o.id.to_string(),
            text(&o.source_id).into_owned(),
            text(&o.code).into_owned(),
            o.status.as_str().to_owned(),
            text(o.customer_name.as_deref().unwrap_or_default()).into_owned(),
            o.destination_locality_id.map(|d| d.to_string()).unwrap_or_default(),
            format_cents(o.total_cents),
            format_cents(o.refunded_cents),
            text(o.invoice_number.as_deref().unwrap_or_default()).into_owned(),
            o.created_at.to_rfc3339(),
            o.updated_at.to_rfc3339(),
            row.items.len().to_string(),
            text(&skus.join("|")).into_owned(),
        ]);
    }
    writer.into_inner().unwrap_or_default()
}

fn line_rows(rows: &[ExportRow], header: bool) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 200));
    if header {
        let _ = writer.write_record(adapter_rastro_csv::COLUMNS);
    }
    for row in rows {
        let o = &row.order;
        for item in &row.items {
            let _ = writer.write_record([
                text(&o.source_id).into_owned(),
                text(&o.code).into_owned(),
                o.status.as_str().to_owned(),
                text(o.customer_name.as_deref().unwrap_or_default()).into_owned(),
                text(row.destination_source_id.as_deref().unwrap_or_default()).into_owned(),
                text(&item.source_id).into_owned(),
                text(&item.product_id).into_owned(),
                text(&item.name).into_owned(),
                item.quantity.to_string(),
                format_cents(item.unit_price_cents),
            ]);
        }
    }
    writer.into_inner().unwrap_or_default()
}

fn xml_rows(rows: &[ExportRow]) -> Vec<u8> {
    use std::fmt::Write;
    let mut out = String::with_capacity(rows.len() * 400);
    let opt = |v: &Option<String>| v.as_deref().map(|s| escape(s).into_owned()).unwrap_or_default();
    for row in rows {
        let o = &row.order;
        let _ = write!(
            out,
            "  <order id=\"{}\" sourceId=\"{}\" code=\"{}\" status=\"{}\">\n    <customerName>{}</customerName>\n    \
             <destinationLocalityId>{}</destinationLocalityId>\n    <total>{}</total>\n    <refunded>{}</refunded>\n    \
             <invoiceNumber>{}</invoiceNumber>\n    <createdAt>{}</createdAt>\n    <updatedAt>{}</updatedAt>\n    <items>\n",
            o.id,
            escape(&o.source_id),
            escape(&o.code),
            o.status.as_str(),
            opt(&o.customer_name),
            o.destination_locality_id.map(|d| d.to_string()).unwrap_or_default(),
            format_cents(o.total_cents),
            format_cents(o.refunded_cents),
            opt(&o.invoice_number),
            o.created_at.to_rfc3339(),
            o.updated_at.to_rfc3339(),
        );
        for item in &row.items {
            let _ = writeln!(
                out,
                "      <item sourceId=\"{}\" productId=\"{}\" quantity=\"{}\" unitPrice=\"{}\">{}</item>",
                escape(&item.source_id),
                escape(&item.product_id),
                item.quantity,
                format_cents(item.unit_price_cents),
                escape(&item.name),
            );
        }
        out.push_str("    </items>\n  </order>\n");
    }
    out.into_bytes()
}

async fn export(state: AppState, headers: HeaderMap, raw: Option<String>, format: Format) -> Response {
    let params: Params = match serde_urlencoded::from_str(raw.as_deref().unwrap_or_default()) {
        Ok(params) => params,
        Err(err) => return refuse(StatusCode::BAD_REQUEST, &format!("invalid export parameters: {err}"), code::VALIDATION),
    };
    // A bearer token, else the portal's session cookie (its export buttons):
    // reading is all an export does, so a cross-site link gains nothing.
    let actor = if headers.contains_key(header::AUTHORIZATION) {
        match actor_from_headers(&state, &headers).await {
            Ok(actor) => actor,
            Err(response) => return response,
        }
    } else {
        // The cookie rides along on any top-level link, another site's too:
        // only a request from the portal's own pages exports with it.
        if headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()).is_some_and(|site| site == "cross-site" || site == "same-site") {
            return refuse(StatusCode::FORBIDDEN, "exports with the session cookie start from the portal's own pages", code::FORBIDDEN);
        }
        match crate::portal::session::cookie_actor(&state, &headers).await {
            Ok(actor) => actor,
            Err(err) => return domain_refusal(&err),
        }
    };
    let filter = match params.into_filter() {
        Ok(filter) => filter,
        Err(err) => return domain_refusal(&err),
    };
    let options = orders::ExportOptions { destination_source_ids: matches!(format, Format::Lines) };
    let batches = match orders::export_batches(&state.ctx, &actor, filter, options) {
        Ok(batches) => batches,
        Err(err) => return domain_refusal(&err),
    };
    let body = stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(format.head())) })
        .chain(batches.map(move |batch| match batch {
            Ok(rows) => Ok(Bytes::from(format.batch(&rows))),
            Err(err) => {
                // Headers are gone already; cutting the body short is all that is
                // left, and the client sees an incomplete transfer.
                let message = client_message(&err);
                Err(std::io::Error::other(message))
            }
        }))
        .chain(stream::once(async move { Ok(Bytes::from(format.tail())) }));
    let (content_type, file) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "orders.csv"),
        Format::Lines => ("text/csv; charset=utf-8", "order-lines.csv"),
        Format::Xml => ("application/xml; charset=utf-8", "orders.xml"),
    };
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// `GET /exports/orders.csv`.
pub async fn orders_csv(State(state): State<AppState>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    export(state, headers, raw, Format::Csv).await
}

/// `GET /exports/order-lines.csv`: one row per order line, importable.
pub async fn order_lines_csv(State(state): State<AppState>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    export(state, headers, raw, Format::Lines).await
}

/// `GET /exports/orders.xml`.
pub async fn orders_xml(State(state): State<AppState>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    export(state, headers, raw, Format::Xml).await
}
