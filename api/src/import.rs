//! `rastro import`: bulk loads and migrations from files, through the same
//! pipeline as every integration call. Each file is one integration run; it is
//! read and applied in parts of [`PART_ORDERS`] orders, so memory stays flat
//! however large the file, and a progress bar follows the bytes read.

use std::{
    fs::File,
    io::{BufReader, Read},
    path::Path,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use domain::{
    ingest::{self, runs, Adapter, Context, Report, RunMeta},
    Actor, Ctx,
};
use indicatif::{ProgressBar, ProgressStyle};

/// Orders per part: enough to amortise the parse, few enough to bound memory.
pub const PART_ORDERS: usize = 500;

/// What importing one file did.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The run it was recorded as.
    pub run_id: i32,
    /// Counts over the whole file.
    pub report: Report,
    /// Why it stopped early, if it did.
    pub error: Option<String>,
    /// How long it took.
    pub elapsed: Duration,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = &self.report;
        let seconds = self.elapsed.as_secs_f64().max(0.001);
        write!(
            f,
            "run {}: {} orders received, {} applied, {} skipped, {} failed in {:.1} s ({:.0} orders/s)",
            self.run_id,
            r.received(),
            r.applied,
            r.skipped,
            r.failed,
            seconds,
            r.received() as f64 / seconds
        )?;
        if let Some(error) = &self.error {
            write!(f, "; stopped: {error}")?;
        }
        Ok(())
    }
}

/// One part of the file: the header and whole orders, as CSV bytes.
struct Part {
    writer: csv::Writer<Vec<u8>>,
    orders: usize,
    first_line: u64,
}

impl Part {
    fn new(header: &csv::ByteRecord, first_line: u64) -> anyhow::Result<Self> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_byte_record(header)?;
        Ok(Part { writer, orders: 0, first_line })
    }
}

/// Imports the CSV file at `path` for `company_id` through `adapter` (an
/// order-lines CSV, rows of one order together).
pub async fn import_csv(ctx: &Ctx, company_id: i32, adapter: &dyn Adapter, path: &Path, progress: &ProgressBar) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let total = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?.len();
    let mut head = Vec::new();
    File::open(path)?.take(runs::PAYLOAD_CAP as u64).read_to_end(&mut head)?;
    let meta = RunMeta { adapter: adapter.name().to_owned(), operation: "import".into(), reprocess_of: None };
    let run = runs::begin_large(ctx, Some(company_id), &meta, &head, total).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    drop(head);

    progress.set_length(total);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(BufReader::new(File::open(path)?));
    let header = reader.byte_headers()?.clone();
    let source_column = header.iter().position(|h| h == b"source_id");
    let actor = Actor::integration(company_id);
    let context = Context { now: chrono::Utc::now(), ..Context::default() };
    let mut report = Report { run_id: run.id, ..Report::default() };
    let mut part = Part::new(&header, 2)?;
    let mut previous: Option<Vec<u8>> = None;
    let mut row = csv::ByteRecord::new();
    let mut stopped = None;
    loop {
        let line = reader.position().line();
        let more = reader.read_byte_record(&mut row)?;
        let source = more.then(|| source_column.and_then(|c| row.get(c)).unwrap_or_default().to_vec());
        let new_order = source.is_some() && source != previous;
        // A part ends before the first row of an order that would not fit.
        if !more || (new_order && part.orders == PART_ORDERS) {
            let next = Part::new(&header, line)?;
            let done = std::mem::replace(&mut part, next);
            let first_line = done.first_line;
            let bytes = done.writer.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
            match adapter.parse("import", &bytes, &context) {
                Ok(batch) => {
                    let applied = ingest::apply_at(ctx, &actor, &run, batch, report.received()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                    report.add_counts(&applied);
                }
                Err(error) => {
                    stopped = Some(format!("in the part starting at line {first_line}: {error}"));
                    break;
                }
            }
            progress.set_position(reader.position().byte());
        }
        if !more {
            break;
        }
        if new_order {
            part.orders += 1;
            previous = source;
        }
        part.writer.write_byte_record(&row)?;
    }
    let answer = serde_json::json!({ "run": run.id, "received": report.received(), "applied": report.applied,
        "skipped": report.skipped, "failed": report.failed, "error": stopped })
    .to_string();
    match &stopped {
        Some(reason) => runs::abort(ctx, &run, &report, reason, answer.as_bytes()).await,
        None => runs::finish(ctx, &run, &report, answer.as_bytes()).await,
    }
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    progress.finish_and_clear();
    Ok(Summary { run_id: run.id, report, error: stopped, elapsed: started.elapsed() })
}

/// Imports a file that is one whole request of the adapter's protocol (a
/// saved SOAP envelope), through the same path as a call to its route.
pub async fn import_request(
    ctx: &Ctx,
    company_id: i32,
    adapter: &dyn Adapter,
    path: &Path,
    limit: usize,
    progress: &ProgressBar,
) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let total = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?.len();
    progress.set_length(total);
    if total > limit as u64 {
        anyhow::bail!("{} is {total} bytes, more than the {limit} one request may have", path.display());
    }
    let body = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let operation = adapter.operation_of(&body).unwrap_or_else(|| "import".to_owned());
    let answer = ingest::handle(ctx, company_id, adapter, &operation, &body, None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    progress.set_position(total);
    progress.finish_and_clear();
    let (report, error) = match answer.handled {
        ingest::Handled::Applied(report) => (report, None),
        ingest::Handled::Rejected(error) => (Report { run_id: answer.run_id, ..Report::default() }, Some(error.to_string())),
    };
    Ok(Summary { run_id: answer.run_id, report, error, elapsed: started.elapsed() })
}

/// A progress bar for one file on standard error (hidden when it is not a terminal).
pub fn progress_bar(name: &str) -> ProgressBar {
    let bar = ProgressBar::new(0);
    let style = ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} ({eta})")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(name.to_owned());
    bar
}
