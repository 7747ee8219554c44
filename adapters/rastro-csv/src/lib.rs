//! Rastro's order-lines CSV, the format `rastro import` reads: one row per
//! order line, the order's fields repeated on each, rows of one order next to
//! each other. Header (order of columns free, names fixed):
//!
//! ```text
//! source_id,code,status,customer_name,destination,item_source_id,product_id,item_name,quantity,unit_price
//! ```
//!
//! `GET /exports/order-lines.csv` writes this layout. Cells the export
//! guarded against spreadsheet formulas (a leading `'`) are read back as they
//! were. `destination` is the destination locality's `sourceId` (ids differ between
//! installations); `unit_price` is a decimal amount (`459.90`); `status` a
//! canonical status name. Each order becomes one record of [`Command::Import`]
//! (so a second import of the same file changes nothing), followed, for the
//! statuses an order cannot start in, by the moves that reach it, each with an
//! event id so a repeat is skipped.
//!
//! Pure: bytes in, commands out; the answer is JSON rendered from the report.

use domain::ingest::{Adapter, Batch, Command, Context, Record, Report, WireError};
use domain::orders::{EventMeta, NewItem, NewOrder};
use entities::OrderStatus;

/// The adapter's name in runs.
pub const NAME: &str = "rastro-csv";
/// Its one operation.
pub const IMPORT: &str = "import";

/// Columns every file must have.
pub const COLUMNS: [&str; 10] =
    ["source_id", "code", "status", "customer_name", "destination", "item_source_id", "product_id", "item_name", "quantity", "unit_price"];

/// Most rows one call may carry (a bigger file is sent in parts).
pub const MAX_ROWS: usize = 50_000;

/// See the crate documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct RastroCsv;

/// One row, by column.
struct Row<'a> {
    fields: &'a csv::StringRecord,
    index: &'a [usize; 10],
}

impl Row<'_> {
    /// A cell, trimmed, with the export's spreadsheet guard undone.
    fn get(&self, column: usize) -> &str {
        domain::orders::csv_text_uncell(self.fields.get(self.index[column]).unwrap_or_default().trim())
    }
}

/// The commands that bring a new order to `status`: where it may start, it
/// starts there; otherwise it starts as `RECEIVED` (or `APPROVED`) and moves.
fn reaching(source_id: &str, status: OrderStatus, total_cents: i64) -> (OrderStatus, Vec<Command>) {
    let meta = |step: &str| EventMeta {
        event_id: Some(format!("import:{source_id}:{step}")),
        source: NAME.to_owned(),
        visible_to_customer: false,
        ..EventMeta::default()
    };
    use OrderStatus::*;
    match status {
        Received | Approved | InProduction | Invoiced | InSeparation | InTransit | DeliveryFailed | Delivered => (status, vec![]),
        OnHold => (Received, vec![Command::Hold(meta("hold"))]),
        Cancelled => (Received, vec![Command::ChangeStatus { to: Cancelled, meta: meta("cancel") }]),
        Refunded => (Approved, vec![Command::Refund { amount_cents: total_cents.max(1), meta: meta("refund") }]),
    }
}

fn malformed(line: u64, message: impl std::fmt::Display) -> WireError {
    WireError::malformed(format!("line {line}: {message}"))
}

impl Adapter for RastroCsv {
    fn name(&self) -> &'static str {
        NAME
    }

    /// A file says nothing of its operation: it is always an import.
    fn operation_of(&self, _body: &[u8]) -> Option<String> {
        None
    }

    fn parse(&self, operation: &str, body: &[u8], _context: &Context) -> Result<Batch, WireError> {
        if operation != IMPORT {
            return Err(WireError::unknown_operation(operation));
        }
        let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(body);
        let header = reader.headers().map_err(|e| malformed(1, e))?.clone();
        let mut index = [0usize; 10];
        for (slot, column) in index.iter_mut().zip(COLUMNS) {
            *slot = header.iter().position(|h| h.trim() == column).ok_or_else(|| malformed(1, format!("missing column {column}")))?;
        }
        let mut records: Vec<Record> = Vec::new();
        let mut orders: Vec<(NewOrder, OrderStatus)> = Vec::new();
        let mut fields = csv::StringRecord::new();
        let mut rows = 0usize;
        loop {
            let line = reader.position().line();
            match reader.read_record(&mut fields) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => return Err(malformed(line, e)),
            }
            rows += 1;
            if rows > MAX_ROWS {
                return Err(WireError { code: "TOO_LARGE", message: format!("more than {MAX_ROWS} rows; send the file in parts") });
            }
            let row = Row { fields: &fields, index: &index };
            let source_id = row.get(0);
            if source_id.is_empty() {
                return Err(malformed(line, "source_id is empty"));
            }
            let status = match row.get(2) {
                "" => OrderStatus::Received,
                name => OrderStatus::from_name(name).ok_or_else(|| malformed(line, format!("unknown status {name}")))?,
            };
            let quantity: f64 = row.get(8).parse().map_err(|_| malformed(line, "quantity is not a number"))?;
            let unit_price_cents = domain::money::parse_cents(row.get(9)).filter(|c| *c >= 0).ok_or_else(|| malformed(line, "unit_price is not an amount like 459.90"))?;
            let item = NewItem {
                source_id: row.get(5).to_owned(),
                product_id: row.get(6).to_owned(),
                name: row.get(7).to_owned(),
                quantity,
                unit_price_cents,
                height: None,
                length: None,
                width: None,
                weight: None,
                ..NewItem::default()
            };
            match orders.last_mut() {
                Some((order, _)) if order.source_id == source_id => order.items.push(item),
                _ => {
                    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
                    orders.push((
                        NewOrder {
                            source_id: source_id.to_owned(),
                            code: row.get(1).to_owned(),
                            customer_name: non_empty(row.get(3)),
                            destination_source_id: non_empty(row.get(4)),
                            items: vec![item],
                            ..NewOrder::default()
                        },
                        status,
                    ));
                }
            }
        }
        for (mut order, status) in orders {
            let total: i64 = order.items.iter().map(|i| (i.unit_price_cents as f64 * i.quantity).round() as i64).sum();
            let (start, moves) = reaching(&order.source_id, status, total);
            order.status = Some(start);
            let source_id = order.source_id.clone();
            let mut commands = vec![Command::Import(order)];
            commands.extend(moves);
            records.push(Record::new(source_id, commands));
        }
        Ok(Batch { records })
    }

    fn render(&self, _operation: &str, report: &Report) -> Vec<u8> {
        let items: Vec<serde_json::Value> = report
            .items
            .iter()
            .map(|item| {
                serde_json::json!({
                    "sourceId": item.source_id,
                    "outcome": format!("{:?}", item.outcome).to_uppercase(),
                    "orderId": item.order_id,
                    "notes": item.notes,
                    "error": item.error.as_ref().map(|e| serde_json::json!({ "code": e.code, "field": e.field, "message": e.message })),
                })
            })
            .collect();
        let answer = serde_json::json!({
            "run": report.run_id,
            "received": report.items.len(),
            "applied": report.applied,
            "skipped": report.skipped,
            "failed": report.failed,
            "items": items,
        });
        answer.to_string().into_bytes()
    }

    fn render_rejection(&self, _operation: &str, error: &WireError) -> Vec<u8> {
        serde_json::json!({ "error": { "code": error.code, "message": error.message } }).to_string().into_bytes()
    }
}
