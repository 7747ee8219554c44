//! The TOTVS R2 SOAP path, pure part: the preamble scan (operation and
//! WS-Security token), the envelope reader, the order layout's rules and the
//! answer, for every operation the service has. What must never happen is a
//! panic, a stack overflow or a hang (libFuzzer's `-timeout`); whatever the
//! bytes, the answer is rendered.

#![no_main]

use adapter_totvs_r2::{preamble, trip, TotvsR2, CREATE_ORDERS, DELETE_ORDERS, UPDATE_ORDERS};
use domain::ingest::{Adapter, Context, ItemReport, Report};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let adapter = TotvsR2::default();
    let context = Context { now: chrono::Utc::now(), ..Context::default() };
    let named = preamble(data).operation;
    for operation in [CREATE_ORDERS, UPDATE_ORDERS, DELETE_ORDERS, trip::PUBLISH_RELEASED_TRIP, trip::PUBLISH_TRACKING_EVENTS] {
        if named.as_deref().is_some_and(|n| n != operation) {
            continue;
        }
        match adapter.parse(operation, data, &context) {
            Ok(batch) => {
                let mut report = Report::default();
                for (position, record) in batch.records.into_iter().enumerate() {
                    report.failed += 1;
                    report.items.push(ItemReport::refused(position, record));
                }
                let _ = adapter.render(operation, &report);
            }
            Err(error) => {
                let _ = adapter.render_rejection(operation, &error);
            }
        }
    }
});
