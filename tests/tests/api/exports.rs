//! CSV and XML exports: same filters and scoping as `orders`, streamed.

use futures::StreamExt;
use tests::{seed_orders, TestApp};

const ROWS: usize = 10_000;

/// Downloads an export as a client would, keeping only the first lines;
/// returns the lines seen (empty strings past the first two) and the chunks.
async fn download(http: &reqwest::Client, url: &str, token: &str) -> (Vec<String>, usize) {
    let response = http.get(url).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(response.headers().get("content-length").is_none(), "the body is streamed, not buffered");
    let mut body = response.bytes_stream();
    let (mut chunks, mut lines, mut partial) = (0, Vec::new(), Vec::new());
    while let Some(chunk) = body.next().await {
        chunks += 1;
        for byte in chunk.unwrap().iter() {
            if *byte == b'\n' {
                let line = std::mem::take(&mut partial);
                lines.push(if lines.len() < 2 { String::from_utf8(line).unwrap() } else { String::new() });
            } else {
                partial.push(*byte);
            }
        }
    }
    (lines, chunks)
}

/// The export runs in a separate server process so its memory can be read
/// alone: after exporting 1,000 orders and then 10,000, its peak memory has not
/// grown with the tenfold export.
#[tokio::test]
async fn a_csv_export_of_ten_thousand_orders_streams_with_flat_memory() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    // One database connection: SQLite's page cache (2 MiB) is per connection, and
    // a varying number of warm connections would blur what is measured.
    let server = tests::process::RastroProcess::start_with(&app.database_url, &[("RASTRO_DB_MAX_CONNECTIONS", "1")]).await;
    let token = server.login(&format!("staff@{}.test", t.identifier), tests::PASSWORD, "acme").await;
    let url = format!("{}/exports/orders.csv", server.base());

    seed_orders(&app.db, &t.id, &t.destination, 1_000).await;
    let (lines, _) = download(&app.http, &url, &token).await;
    assert_eq!(lines.len(), 1 + 1_000);
    let (_, peak_after_small) = server.memory_kib();

    seed_orders(&app.db, &t.id, &t.destination, ROWS - 1_000).await;
    let (lines, chunks) = download(&app.http, &url, &token).await;
    assert_eq!(lines.len(), ROWS + 1, "a header and one row per order");
    assert!(lines[0].starts_with("id,source_id,code,status,customer_name"));
    assert!(lines[1].contains("\"Customer \"\"0\"\", Ltd.\""), "quotes and commas are escaped: {}", lines[1]);
    assert!(chunks > 10, "{chunks} chunks");
    let (_, peak_after_large) = server.memory_kib();
    let grown = peak_after_large.saturating_sub(peak_after_small);
    // Holding the 10k rows (each with ~1 KB of text) would take well over
    // 10 MiB; streaming leaves only caches that fill up to their bounds (SQLite's
    // page cache is 2 MiB per connection).
    assert!(grown < 6 * 1024, "peak memory grew by {grown} KiB from a 1k to a 10k export");
    server.stop().await;
}

#[tokio::test]
async fn a_large_export_reads_rows_in_bounded_batches() {
    // No mail worker: its polling would add statements to the count.
    let app = TestApp::spawn_with(|c| c.run_mail_worker = false).await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    seed_orders(&app.db, &t.id, &t.destination, ROWS).await;
    let before = app.statements_run().await;
    let (lines, _) = download(&app.http, &format!("{}/exports/orders.csv", app.base), &t.staff).await;
    assert_eq!(lines.len(), ROWS + 1);
    // Two statements per batch (orders, items), plus authentication and the
    // query that finds no more rows.
    let batches = ROWS.div_ceil(domain::orders::EXPORT_BATCH as usize);
    let statements = app.statements_run().await - before;
    assert!(statements as usize <= 2 * batches + 3, "{statements} statements");
}

#[tokio::test]
async fn the_export_stream_reads_one_batch_at_a_time() {
    // No mail worker: its polling would add statements to the count.
    let app = TestApp::spawn_with(|c| c.run_mail_worker = false).await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    seed_orders(&app.db, &t.id, &t.destination, 1_200).await;
    let system = domain::Actor::system("export test");
    let stream = domain::orders::export_batches(&app.ctx, &system, Default::default()).unwrap();
    futures::pin_mut!(stream);
    let start = app.statements_run().await;
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.len(), domain::orders::EXPORT_BATCH as usize);
    assert_eq!(app.statements_run().await - start, 2, "pulling one batch reads one batch, nothing ahead");
    let rest: Vec<_> = stream.collect().await;
    assert_eq!(rest.iter().map(|b| b.as_ref().unwrap().len()).sum::<usize>(), 700);
    assert_eq!(app.statements_run().await - start, 6, "three batches of two statements, the last one short");
}

#[tokio::test]
async fn exports_apply_filters_scoping_and_authorization() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = app.tenant(&admin, "acme").await;
    let beta = app.tenant(&admin, "beta").await;
    seed_orders(&app.db, &acme.id, &acme.destination, 40).await;
    app.create_order(&beta.staff, "BETA-1", &beta.destination, Some("DELIVERED")).await;

    let get = |path: String, token: Option<String>| {
        let app = &app;
        async move {
            let mut request = app.http.get(format!("{}{path}", app.base));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let (status, csv) = get("/exports/orders.csv?status=IN_TRANSIT,DELIVERED".into(), Some(acme.staff.clone())).await;
    assert_eq!(status, 200);
    assert_eq!(csv.lines().count(), 1 + 20, "{csv}");
    assert!(!csv.contains("BETA-1"), "another company's orders never appear");
    let (_, csv) = get("/exports/orders.csv?maxTotal=10.04".into(), Some(acme.staff.clone())).await;
    assert_eq!(csv.lines().count(), 1 + 5);

    let (status, xml) = get("/exports/orders.xml?code=S1".into(), Some(acme.staff.clone())).await;
    assert_eq!(status, 200);
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut orders, mut items) = (0, 0);
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Start(e) if e.name().as_ref() == b"order" => orders += 1,
            quick_xml::events::Event::Start(e) if e.name().as_ref() == b"item" => items += 1,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    // S1, S10..S19: eleven orders, one item each; the XML is well formed.
    assert_eq!((orders, items), (11, 11), "{xml}");
    assert!(xml.contains("Seeded &lt;item&gt; &amp; co"));

    let (status, body) = get("/exports/orders.csv".into(), None).await;
    assert_eq!(status, 401, "{body}");
    let customer = app.customer(&acme.id, "acme", &acme.customer_email()).await;
    let (status, body) = get("/exports/orders.csv".into(), Some(customer)).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("FORBIDDEN"));
    let (status, body) = get("/exports/orders.csv?status=LOST".into(), Some(acme.staff.clone())).await;
    assert_eq!(status, 400);
    assert!(body.contains("unknown status LOST"), "{body}");
    let (status, _) = get("/exports/orders.csv?nonsense=1".into(), Some(acme.staff.clone())).await;
    assert_eq!(status, 400);
}
