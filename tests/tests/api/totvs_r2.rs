//! TOTVS R2 over SOAP, black-box: the server's SOAP endpoint, the company's
//! integration token, what each order is answered, what the database holds.

use quick_xml::{events::Event, Reader};
use serde_json::json;
use tests::{fingerprint, TestApp, Tenant};

const PATH: &str = "/integrations/totvs-r2/OrderAcquisitionService";

/// One order of the R2 layout; `extra` goes inside the order, `item` is the
/// item's own fields after the mandatory ones.
fn order(id: &str, destination: &str, origin: &str, extra: &str, item_id: &str) -> String {
    format!(
        "<order><regionSourceId>SP</regionSourceId><identifier>{id}</identifier><code>Pedido {id}</code>\
         <shipperId>ACME</shipperId><orderTypeSourceId>VENDA</orderTypeSourceId><priority>5</priority>\
         <pickupStart>2026-12-07T00:01:00.000-03:00</pickupStart><deliveryEnd>2026-12-09T23:59:00.000-03:00</deliveryEnd>\
         <destinationId>{destination}</destinationId><integrationDataSource>PROTHEUS</integrationDataSource>{extra}\
         <items><item><orderId>{id}</orderId><sourceId>{item_id}</sourceId><productId>SKU-9</productId><originId>{origin}</originId>\
         <shipmentUnitWrapperCode>CX</shipmentUnitWrapperCode><price>30.00</price><quantity>3</quantity>\
         <quantityInShipmentUnits>1</quantityInShipmentUnits></item></items></order>"
    )
}

fn envelope(operation: &str, orders: &[String]) -> String {
    format!(
        r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><ord:{operation} xmlns:ord="http://www.neolog.com.br/cpl/acquisition/order/"><orders>{}</orders></ord:{operation}></soapenv:Body></soapenv:Envelope>"#,
        orders.concat()
    )
}

/// Posts `body` with the token in the `user.token` header.
async fn soap(app: &TestApp, token: Option<&str>, body: &str) -> (u16, String) {
    let mut request = app.http.post(format!("{}{PATH}", app.base)).header("content-type", "text/xml; charset=utf-8").body(body.to_owned());
    if let Some(token) = token {
        request = request.header("user.token", token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(content_type.as_deref(), Some("text/xml; charset=utf-8"));
    (status, response.text().await.unwrap())
}

/// Per order: identifier, success, error codes.
fn results(answer: &str) -> Vec<(String, bool, Vec<String>)> {
    let mut reader = Reader::from_str(answer);
    let mut path: Vec<String> = Vec::new();
    let mut found: Vec<(String, bool, Vec<String>)> = Vec::new();
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => {
                let name = String::from_utf8(e.local_name().as_ref().to_vec()).unwrap();
                if name == "result" && path.last().map(String::as_str) == Some("results") {
                    found.push((String::new(), false, vec![]));
                }
                path.push(name);
            }
            Event::End(_) => {
                path.pop();
            }
            Event::Text(t) => {
                let text = t.xml_content().unwrap().into_owned();
                let in_result = path.iter().any(|p| p == "results");
                match (in_result, path.last().map(String::as_str), found.last_mut()) {
                    (true, Some("identifier"), Some(r)) => r.0 = text,
                    (true, Some("sucess"), Some(r)) => r.1 = text == "true",
                    (true, Some("value"), Some(r)) => r.2.push(text),
                    _ => {}
                }
            }
            Event::Eof => return found,
            _ => {}
        }
    }
}

fn codes_of<'a>(results: &'a [(String, bool, Vec<String>)], id: &str) -> &'a [String] {
    &results.iter().find(|r| r.0 == id).unwrap_or_else(|| panic!("no result for {id}: {results:?}")).2
}

async fn orders(app: &TestApp, staff: &str) -> serde_json::Value {
    let body = app
        .gql(
            Some(staff),
            "{ orders(first: 50) { nodes { sourceId status priority destination { sourceId } address { city } \
             items { sourceId quantity unitPrice } attributes { key value } } } }",
            json!({}),
        )
        .await;
    body["data"]["orders"]["nodes"].clone()
}

async fn runs(app: &TestApp, staff: &str) -> serde_json::Value {
    let body = app
        .gql(Some(staff), "{ integrationRuns(first: 50) { nodes { adapter operation outcome received applied failed } } }", json!({}))
        .await;
    body["data"]["integrationRuns"]["nodes"].clone()
}

async fn tenant(app: &TestApp) -> Tenant {
    let admin = app.admin().await;
    app.tenant(&admin, "alpha").await
}

#[tokio::test]
async fn a_create_call_applies_the_valid_orders_and_answers_each_one() {
    let app = TestApp::spawn().await;
    let alpha = tenant(&app).await;
    app.create_locality(&alpha.staff, "STORE-2", "DESTINATION", None).await;
    let token = Some(alpha.integration_token.as_str());
    let address = "<addressCountryAcronym>BR</addressCountryAcronym><addressStateAcronym>SP</addressStateAcronym>\
                   <addressCity>Campinas</addressCity><addressStreet>Rua das Flores</addressStreet>";
    let body = envelope(
        "createOrders",
        &[
            order("PED-1", "STORE-1", "CD-1", "", "PED-1-1"),
            order("PED-2", "STORE-1", "CD-1", "", "PED-2-1").replace("<priority>5</priority>", "<priority>99</priority>"),
            order("PED-3", "NOWHERE", "CD-1", "", "PED-3-1"),
            // An origin that is a destination only.
            order("PED-4", "STORE-1", "STORE-2", "", "PED-4-1"),
            // The alternative address makes the destination a dummy.
            order("PED-5", "DUMMY", "CD-1", address, "PED-5-1"),
        ],
    );
    let (status, answer) = soap(&app, token, &body).await;
    assert_eq!(status, 200, "{answer}");
    let results = results(&answer);
    assert_eq!(results.iter().map(|r| (r.0.as_str(), r.1)).collect::<Vec<_>>(), [
        ("PED-1", true),
        ("PED-2", false),
        ("PED-3", false),
        ("PED-4", false),
        ("PED-5", true)
    ]);
    assert_eq!(codes_of(&results, "PED-2"), ["R2_PRIORITY"]);
    assert_eq!(codes_of(&results, "PED-3"), ["R2_DESTINATION"]);
    assert_eq!(codes_of(&results, "PED-4"), ["R2_ORIGIN"]);
    assert!(answer.contains("priority: 99 is not between 0 and 10"), "{answer}");
    assert!(answer.ends_with("<ns1:sucess>false</ns1:sucess></ns1:result></ns1:createOrdersResponse></soap:Body></soap:Envelope>"));

    let orders = orders(&app, &alpha.staff).await;
    let mut ids: Vec<&str> = orders.as_array().unwrap().iter().map(|o| o["sourceId"].as_str().unwrap()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["PED-1", "PED-5"]);
    let first = orders.as_array().unwrap().iter().find(|o| o["sourceId"] == "PED-1").unwrap();
    assert_eq!(first["status"], "RECEIVED");
    assert_eq!(first["destination"]["sourceId"], "STORE-1");
    assert_eq!(first["items"], json!([{ "sourceId": "PED-1-1", "quantity": 3.0, "unitPrice": "10.00" }]));
    assert!(first["attributes"].as_array().unwrap().contains(&json!({ "key": "shipperId", "value": "ACME" })));
    let fifth = orders.as_array().unwrap().iter().find(|o| o["sourceId"] == "PED-5").unwrap();
    assert_eq!((fifth["destination"].clone(), fifth["address"]["city"].clone()), (json!(null), json!("Campinas")));

    let runs = runs(&app, &alpha.staff).await;
    assert_eq!(runs, json!([{ "adapter": "totvs-r2", "operation": "createOrders", "outcome": "PARTIAL", "received": 5, "applied": 2, "failed": 3 }]));
}

#[tokio::test]
async fn repeats_updates_and_deletes_are_answered_per_order() {
    let app = TestApp::spawn().await;
    let alpha = tenant(&app).await;
    let token = Some(alpha.integration_token.as_str());
    let create = envelope("createOrders", &[order("PED-1", "STORE-1", "CD-1", "", "PED-1-1")]);
    assert!(results(&soap(&app, token, &create).await.1)[0].1);

    // The same call again (a retry after a lost answer): success, no second order.
    let (_, again) = soap(&app, token, &create.replace("<orders>", "<orders>\n")).await;
    assert_eq!(results(&again), [("PED-1".to_owned(), true, vec![])]);
    // Other content under the same identifier is a conflict.
    let changed = create.replace("<priority>5</priority>", "<priority>6</priority>");
    assert_eq!(codes_of(&results(&soap(&app, token, &changed).await.1), "PED-1"), ["R2_EXISTS"]);
    // Item ids are unique across the company's orders.
    let second_item = "<item><orderId>PED-2</orderId><sourceId>PED-1-1</sourceId><productId>SKU-9</productId><originId>CD-1</originId>\
        <shipmentUnitWrapperCode>CX</shipmentUnitWrapperCode><quantity>1</quantity><quantityInShipmentUnits>1</quantityInShipmentUnits></item></items>";
    let taken = envelope("createOrders", &[order("PED-2", "STORE-1", "CD-1", "", "PED-2-1").replacen("</items>", second_item, 1)]);
    let (_, answer) = soap(&app, token, &taken).await;
    assert_eq!(codes_of(&results(&answer), "PED-2"), ["R2_ITEM_TAKEN"]);
    assert!(answer.contains("items[1].sourceId: PED-1-1 is an item of order PED-1"), "{answer}");
    assert_eq!(orders(&app, &alpha.staff).await.as_array().unwrap().len(), 1);

    let update = envelope("updateOrders", &[changed_order("PED-1", 7), changed_order("PED-9", 7)]);
    let (status, answer) = soap(&app, token, &update).await;
    assert_eq!(status, 200);
    let updated = results(&answer);
    assert!(updated[0].1, "{answer}");
    assert_eq!(codes_of(&updated, "PED-9"), ["R2_NOT_FOUND"]);
    assert_eq!(orders(&app, &alpha.staff).await[0]["priority"], 7);
    // After the update, the original creation is other content.
    assert_eq!(codes_of(&results(&soap(&app, token, &create).await.1), "PED-1"), ["R2_EXISTS"]);

    let delete = |id: &str| {
        format!(
            r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><deleteOrders><orders><order><identifier>{id}</identifier></order></orders></deleteOrders></s:Body></s:Envelope>"#
        )
    };
    assert_eq!(results(&soap(&app, token, &delete("PED-1")).await.1), [("PED-1".to_owned(), true, vec![])]);
    assert_eq!(orders(&app, &alpha.staff).await[0]["status"], "CANCELLED");
    assert_eq!(codes_of(&results(&soap(&app, token, &delete("PED-1")).await.1), "PED-1"), ["R2_ALREADY_DELETED"]);
    assert_eq!(codes_of(&results(&soap(&app, token, &delete("PED-404")).await.1), "PED-404"), ["R2_NOT_FOUND"]);
}

async fn orders_with_ids(app: &TestApp, staff: &str) -> Vec<serde_json::Value> {
    let query = "{ orders(first: 20) { nodes { id sourceId anonymizedAt items { sourceId } attributes { key } history { toStatus source } } } }";
    app.gql(Some(staff), query, json!({})).await["data"]["orders"]["nodes"].as_array().unwrap().clone()
}

/// The records of the company's latest run: position, outcome, notes, error.
async fn latest_run_items(app: &TestApp, staff: &str) -> Vec<(i64, String, Vec<String>, Option<String>)> {
    let id = app.gql(Some(staff), "{ integrationRuns(first: 1) { nodes { id } } }", json!({})).await["data"]["integrationRuns"]["nodes"][0]["id"].clone();
    let run = app
        .gql(Some(staff), "query($id: ID!) { integrationRun(id: $id) { items { position outcome applied errorMessage } } }", json!({ "id": id }))
        .await;
    run["data"]["integrationRun"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let notes = item["applied"].as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_owned()).collect();
            (item["position"].as_i64().unwrap(), item["outcome"].as_str().unwrap().to_owned(), notes, item["errorMessage"].as_str().map(str::to_owned))
        })
        .collect()
}

#[tokio::test]
async fn the_orders_of_one_call_are_decided_as_if_they_came_one_by_one() {
    let app = TestApp::spawn().await;
    let alpha = tenant(&app).await;
    let token = Some(alpha.integration_token.as_str());
    let first = order("PED-1", "STORE-1", "CD-1", "", "PED-1-1");
    let ninth = order("PED-9", "STORE-1", "CD-1", "", "PED-9-1");
    assert!(results(&soap(&app, token, &envelope("createOrders", &[first.clone(), ninth.clone()])).await.1).iter().all(|r| r.1));
    let anonymized = order("PED-0", "STORE-1", "CD-1", "", "PED-0-1");
    assert!(results(&soap(&app, token, &envelope("createOrders", std::slice::from_ref(&anonymized))).await.1)[0].1);
    let listed = orders_with_ids(&app, &alpha.staff).await;
    let id = listed.iter().find(|o| o["sourceId"] == "PED-0").unwrap()["id"].clone();
    let erased = app.gql(Some(&alpha.staff), "mutation($id: ID!) { anonymizeOrder(id: $id) { orders } }", json!({ "id": id })).await;
    assert_eq!(erased["data"]["anonymizeOrder"]["orders"], 1, "{erased}");

    let body = envelope(
        "createOrders",
        &[
            // A repeat of an earlier call's order: answered as done.
            first.clone(),
            order("PED-2", "STORE-1", "CD-1", "", "PED-2-1"),
            // Its item id belongs to the order just before it in this call.
            order("PED-3", "STORE-1", "CD-1", "", "PED-2-1"),
            // Refused before it could take its item id …
            order("PED-6", "NOWHERE", "CD-1", "", "PED-7-1"),
            // … so the next order may have it.
            order("PED-7", "STORE-1", "CD-1", "", "PED-7-1"),
            // The id of an anonymized order makes a fresh one.
            anonymized,
            // Other content under an existing id.
            ninth.replace("<priority>5</priority>", "<priority>4</priority>"),
        ],
    );
    let (status, answer) = soap(&app, token, &body).await;
    assert_eq!(status, 200, "{answer}");
    let answered = results(&answer);
    assert_eq!(
        answered.iter().map(|r| (r.0.as_str(), r.1, r.2.join(","))).collect::<Vec<_>>(),
        [
            ("PED-1", true, String::new()),
            ("PED-2", true, String::new()),
            ("PED-3", false, "R2_ITEM_TAKEN".to_owned()),
            ("PED-6", false, "R2_DESTINATION".to_owned()),
            ("PED-7", true, String::new()),
            ("PED-0", true, String::new()),
            ("PED-9", false, "R2_EXISTS".to_owned()),
        ]
    );
    assert!(answer.contains("items[0].sourceId: PED-2-1 is an item of order PED-2"), "{answer}");

    let items = latest_run_items(&app, &alpha.staff).await;
    let skipped = "create skipped: the order was created before from identical content";
    let fresh = "created as RECEIVED; created fresh: the order stored earlier under this source id was anonymized (LGPD); none of its data was restored";
    assert_eq!(
        items.iter().map(|(position, outcome, notes, _)| (*position, outcome.as_str(), notes.join("|"))).collect::<Vec<_>>(),
        [
            (0, "SKIPPED", skipped.to_owned()),
            (1, "APPLIED", "created as RECEIVED".to_owned()),
            (2, "FAILED", String::new()),
            (3, "FAILED", String::new()),
            (4, "APPLIED", "created as RECEIVED".to_owned()),
            (5, "APPLIED", fresh.to_owned()),
            (6, "FAILED", String::new()),
        ]
    );
    assert_eq!(items[3].3.as_deref(), Some("destination: no locality of this company has source id NOWHERE"));

    // Each created order is whole: its line, its attributes, one history entry.
    let listed = orders_with_ids(&app, &alpha.staff).await;
    let mut created: Vec<(String, String, usize, String)> = listed
        .iter()
        .filter(|o| !["PED-1", "PED-9"].contains(&o["sourceId"].as_str().unwrap()) && o["anonymizedAt"].is_null())
        .map(|o| {
            let history = o["history"].as_array().unwrap().iter().map(|h| format!("{}/{}", h["toStatus"].as_str().unwrap(), h["source"].as_str().unwrap())).collect::<Vec<_>>().join(",");
            (o["sourceId"].as_str().unwrap().to_owned(), o["items"][0]["sourceId"].as_str().unwrap().to_owned(), o["attributes"].as_array().unwrap().len(), history)
        })
        .collect();
    created.sort();
    let whole = |id: &str, item: &str| (id.to_owned(), item.to_owned(), 4, "RECEIVED/integration".to_owned());
    assert_eq!(created, [whole("PED-0", "PED-0-1"), whole("PED-2", "PED-2-1"), whole("PED-7", "PED-7-1")]);
    let audit = app.gql(Some(&alpha.staff), "{ auditLog(first: 50, filter: { action: \"order.create\" }) { edges { node { action } } } }", json!({})).await;
    // Three orders before this call, three in it.
    assert_eq!(audit["data"]["auditLog"]["edges"].as_array().unwrap().len(), 6, "{audit}");
}

fn changed_order(id: &str, priority: u8) -> String {
    order(id, "STORE-1", "CD-1", "", &format!("{id}-1")).replace("<priority>5</priority>", &format!("<priority>{priority}</priority>"))
}

#[tokio::test]
async fn hostile_calls_get_faults_and_write_nothing_but_their_run() {
    let app = TestApp::spawn_with(|c| c.integrations.body_bytes = 64 * 1024).await;
    let alpha = tenant(&app).await;
    let token = Some(alpha.integration_token.as_str());
    let valid = envelope("createOrders", &[order("PED-1", "STORE-1", "CD-1", "", "PED-1-1")]);

    // Without a company there is no run to write: nothing changes at all.
    let before = fingerprint(&app.db, &[]).await;
    for token in [None, Some("rst_not-a-token"), Some("")] {
        let (status, answer) = soap(&app, token, &valid).await;
        assert_eq!(status, 401, "{answer}");
        assert!(answer.contains("<faultcode>soap:Client</faultcode>") && answer.contains("<r2:code>UNAUTHENTICATED</r2:code>"), "{answer}");
    }
    let huge = envelope("createOrders", &vec![order("PED-1", "STORE-1", "CD-1", "", "PED-1-1"); 200]);
    let (status, answer) = soap(&app, token, &huge).await;
    assert_eq!(status, 413, "{answer}");
    assert!(answer.contains("<r2:code>TOO_LARGE</r2:code>"), "{answer}");
    // A wrong token in the headers is refused before the body is read.
    let (status, answer) = soap(&app, Some("rst_wrong"), &huge).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(fingerprint(&app.db, &[]).await, before);

    let bomb = format!(
        r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>{}"#,
        valid.replace("PED-1</identifier>", "&b;</identifier>")
    );
    let soap12 = valid.replace("http://schemas.xmlsoap.org/soap/envelope/", "http://www.w3.org/2003/05/soap-envelope");
    let deep = valid.replace("<orders>", &format!("<orders>{}", "<x>".repeat(5_000))).replace("</orders>", &format!("{}</orders>", "</x>".repeat(5_000)));
    let broken = valid.replace("</identifier>", "</identifer>");
    let unknown = valid.replace("createOrders", "dropOrders");
    let cases = [
        (bomb, "soap:Client", "DOCTYPE"),
        (soap12, "soap:VersionMismatch", "VERSION_MISMATCH"),
        (deep, "soap:Client", "TOO_DEEP"),
        (broken, "soap:Client", "MALFORMED"),
        (unknown, "soap:Client", "UNKNOWN_OPERATION"),
    ];
    for (body, faultcode, code) in &cases {
        let (status, answer) = soap(&app, token, body).await;
        assert_eq!(status, 500, "{code}: {answer}");
        assert!(answer.contains(&format!("<faultcode>{faultcode}</faultcode>")), "{code}: {answer}");
        assert!(answer.contains(&format!("<r2:code>{code}</r2:code>")), "{code}: {answer}");
    }
    // Each refused call is a run, and nothing else was written.
    assert_eq!(fingerprint(&app.db, &["integration_runs"]).await, fingerprint_without_runs(&before));
    let runs = runs(&app, &alpha.staff).await;
    assert_eq!(runs.as_array().unwrap().len(), cases.len(), "{runs}");
    assert!(runs.as_array().unwrap().iter().all(|r| r["outcome"] == "REJECTED" && r["adapter"] == "totvs-r2"), "{runs}");
    // The server is still there, and a valid call goes through.
    let (status, answer) = soap(&app, token, &valid).await;
    assert_eq!((status, results(&answer)), (200, vec![("PED-1".to_owned(), true, vec![])]));
}

fn fingerprint_without_runs(all: &[(String, String)]) -> Vec<(String, String)> {
    all.iter().filter(|(table, _)| table != "integration_runs").cloned().collect()
}

#[tokio::test]
async fn the_wsdl_is_served_and_the_token_may_come_three_ways() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let alpha = app.tenant(&admin, "alpha").await;
    let beta = app.tenant(&admin, "beta").await;

    let response = app.http.get(format!("{}{PATH}?wsdl", app.base)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let wsdl = response.text().await.unwrap();
    assert!(wsdl.contains(r#"<soap:address location="http://rastro.test/integrations/totvs-r2/OrderAcquisitionService"/>"#));
    assert!(wsdl.contains(r#"<wsdl:operation name="createOrders">"#) && wsdl.contains(r#"name="deleteOrders""#));

    let create = |id: &str| envelope("createOrders", &[order(id, "STORE-1", "CD-1", "", &format!("{id}-1"))]);
    let send = |body: String| app.http.post(format!("{}{PATH}", app.base)).header("content-type", "text/xml").body(body);
    let bearer = send(create("BEARER-1")).header("authorization", format!("Bearer {}", alpha.integration_token)).send().await.unwrap();
    assert_eq!(bearer.status(), 200);
    let ws_security = create("WSSE-1").replace(
        "<soapenv:Body>",
        &format!(
            r#"<soapenv:Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><wsse:UsernameToken><wsse:Username>erp</wsse:Username><wsse:Password>{}</wsse:Password></wsse:UsernameToken></wsse:Security></soapenv:Header><soapenv:Body>"#,
            beta.integration_token
        ),
    );
    assert_eq!(send(ws_security).send().await.unwrap().status(), 200);
    let (status, _) = soap(&app, Some(&alpha.integration_token), &create("HEADER-1")).await;
    assert_eq!(status, 200);

    // The company is the token's: each sees its own orders only.
    let ids = |orders: serde_json::Value| {
        let mut ids: Vec<String> = orders.as_array().unwrap().iter().map(|o| o["sourceId"].as_str().unwrap().to_owned()).collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(orders(&app, &alpha.staff).await), ["BEARER-1", "HEADER-1"]);
    assert_eq!(ids(orders(&app, &beta.staff).await), ["WSSE-1"]);
}

/// zeep, a WSDL-driven client (Python), calls every operation from the WSDL
/// the server serves; `.ci/run` installs it and sets `RASTRO_ZEEP_PYTHON`.
#[tokio::test]
#[cfg_attr(not(zeep_tests), ignore = "needs zeep: .ci/run installs it and sets RASTRO_ZEEP_PYTHON")]
async fn a_wsdl_driven_client_calls_every_operation() {
    let app = TestApp::spawn().await;
    let alpha = tenant(&app).await;
    let python = std::env::var("RASTRO_ZEEP_PYTHON").expect("RASTRO_ZEEP_PYTHON names a Python with zeep");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/interop/zeep_r2.py");
    let endpoint = format!("{}{PATH}", app.base);
    let output = tokio::process::Command::new(python)
        .args([script, &format!("{endpoint}?wsdl"), &endpoint, &alpha.integration_token, "STORE-1", "CD-1"])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "zeep failed: {}\n{stdout}", String::from_utf8_lossy(&output.stderr));
    let calls: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let summary = |call: &serde_json::Value| {
        call["results"].as_array().unwrap().iter().map(|r| (r["identifier"].as_str().unwrap().to_owned(), r["sucess"].as_bool().unwrap(), r["codes"].clone())).collect::<Vec<_>>()
    };
    assert_eq!(calls[0]["call"], "createOrders");
    assert_eq!(calls[0]["sucess"], false);
    assert_eq!(summary(&calls[0]), [
        ("Z-1".to_owned(), true, json!([])),
        ("Z-2".to_owned(), true, json!([])),
        ("Z-3".to_owned(), false, json!(["R2_DESTINATION"]))
    ]);
    assert_eq!((calls[1]["call"].clone(), calls[1]["sucess"].clone()), (json!("updateOrders"), json!(true)));
    assert_eq!(summary(&calls[2]), [("Z-2".to_owned(), true, json!([])), ("Z-404".to_owned(), false, json!(["R2_NOT_FOUND"]))]);

    let orders = orders(&app, &alpha.staff).await;
    let state = |id: &str| {
        let order = orders.as_array().unwrap().iter().find(|o| o["sourceId"] == id).unwrap();
        (order["status"].as_str().unwrap().to_owned(), order["priority"].as_i64().unwrap())
    };
    assert_eq!(state("Z-1"), ("RECEIVED".to_owned(), 7));
    assert_eq!(state("Z-2"), ("CANCELLED".to_owned(), 5));
    assert_eq!(orders.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn saved_envelopes_import_through_the_same_path() {
    let app = TestApp::spawn().await;
    let alpha = tenant(&app).await;
    let dir = std::env::temp_dir().join(format!("rastro-r2-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let create = dir.join("create.xml");
    std::fs::write(&create, envelope("createOrders", &[order("IMP-1", "STORE-1", "CD-1", "", "IMP-1-1"), order("IMP-2", "NOWHERE", "CD-1", "", "IMP-2-1")])).unwrap();
    let broken = dir.join("broken.xml");
    std::fs::write(&broken, "<!DOCTYPE x><x/>").unwrap();

    let (status, stdout, stderr) =
        tests::process::run_command(&app.database_url, &["import", "--company", "alpha", "--adapter", "totvs-r2", create.to_str().unwrap()]).await;
    // One order failed, so the command says so.
    assert!(!status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("2 orders received, 1 applied, 0 skipped, 1 failed"), "{stdout}\n{stderr}");
    let (status, stdout, _) =
        tests::process::run_command(&app.database_url, &["import", "--company", "alpha", "--adapter", "totvs-r2", broken.to_str().unwrap()]).await;
    assert!(!status.success() && stdout.contains("stopped: a DOCTYPE or entity declaration is not accepted"), "{stdout}");

    let orders = orders(&app, &alpha.staff).await;
    assert_eq!(orders.as_array().unwrap().iter().map(|o| o["sourceId"].as_str().unwrap()).collect::<Vec<_>>(), ["IMP-1"]);
    let runs = runs(&app, &alpha.staff).await;
    let mut seen: Vec<(String, String)> =
        runs.as_array().unwrap().iter().map(|r| (r["operation"].as_str().unwrap().to_owned(), r["outcome"].as_str().unwrap().to_owned())).collect();
    seen.sort();
    assert_eq!(seen, [("createOrders".to_owned(), "PARTIAL".to_owned()), ("import".to_owned(), "REJECTED".to_owned())]);
    let _ = std::fs::remove_dir_all(&dir);
}

fn released_trip(trip: &str, orders: &[&str]) -> String {
    let units: String = orders
        .iter()
        .map(|o| format!("<deliveryUnit><identifier>DU-{o}</identifier><orderSourceId>{o}</orderSourceId></deliveryUnit>"))
        .collect();
    format!(
        r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><ns1:publishReleasedTrip xmlns:ns1="urn:neolog:cockpit:TripReleaseRequestPublishingService"><messageId>M-{trip}</messageId><tripReleaseRequests><tripReleaseRequest><identifier>{trip}</identifier><carrierId>TRANSP-1</carrierId><vehicleId>VAN-3</vehicleId><truckLicensePlate>ABC1D23</truckLicensePlate><loads><load><stops><stop><subStops><subStop><unloadedShipmentUnits><shipmentUnit><deliveryUnitList>{units}</deliveryUnitList></shipmentUnit></unloadedShipmentUnits></subStop></subStops></stop></stops></load></loads></tripReleaseRequest></tripReleaseRequests></ns1:publishReleasedTrip></soapenv:Body></soapenv:Envelope>"#
    )
}

fn tracking(events: &[(&str, &str, &str, &str)]) -> String {
    let events: String = events
        .iter()
        .map(|(id, order, kind, at)| {
            format!("<event><eventId>{id}</eventId><orderSourceId>{order}</orderSourceId><type>{kind}</type><occurredAt>{at}</occurredAt><location>Campinas/SP</location></event>")
        })
        .collect();
    format!(
        r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><publishTrackingEvents xmlns="http://www.neolog.com.br/cpl/acquisition/order/"><events>{events}</events></publishTrackingEvents></s:Body></s:Envelope>"#
    )
}

/// The seed's story end to end: the company gets its token, its localities
/// their responsible person; TRE sends the order, then the trip; tracking
/// follows; the customer gets a mail at each step and reads the history.
#[tokio::test]
async fn the_seed_story_from_the_order_to_the_customers_mails() {
    let smtp = tests::smtp::SmtpServer::start();
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let acme = app.tenant(&admin, "acme").await;
    crate::notifications::use_smtp(&app, &acme, smtp.port, None).await;
    let token = Some(acme.integration_token.as_str());

    let (_, created) = soap(&app, token, &envelope("createOrders", &[order("PED-1", "STORE-1", "CD-1", "", "PED-1-1")])).await;
    assert_eq!(results(&created), [("PED-1".to_owned(), true, vec![])]);

    let (status, released) = soap(&app, token, &released_trip("TRIP-9", &["PED-1", "PED-404"])).await;
    assert_eq!(status, 200, "{released}");
    let released = results(&released);
    assert!(released[0].1, "{released:?}");
    assert_eq!(codes_of(&released, "PED-404"), ["R2_NOT_FOUND"]);
    let mails = smtp.wait_for(1, std::time::Duration::from_secs(10)).await;
    assert_eq!(mails[0].envelope_to, [acme.customer_email()]);
    assert!(mails[0].subject().ends_with("Em separação"), "{}", mails[0].subject());

    let events = tracking(&[("EV-1", "PED-1", "IN_TRANSIT", "2030-01-01T09:00:00-03:00"), ("EV-2", "PED-1", "DELIVERED", "2030-01-01T15:00:00-03:00")]);
    // The tracking times are in the future: refused per event, nothing moves.
    let (_, early) = soap(&app, token, &events).await;
    assert!(results(&early).iter().all(|r| !r.1), "{early}");
    let now = chrono::Utc::now();
    let at = |minutes: i64| (now + chrono::Duration::minutes(minutes)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    // After the trip's release (stamped when it arrived), within the clock
    // skew the server allows.
    let events = tracking(&[("EV-1", "PED-1", "IN_TRANSIT", &at(1)), ("EV-2", "PED-1", "DELIVERED", &at(2))]);
    let (_, tracked) = soap(&app, token, &events).await;
    assert!(results(&tracked).iter().all(|r| r.1), "{tracked}");
    // Sent again (TRE retries): recognised, nothing moves twice.
    let (_, again) = soap(&app, token, &events).await;
    assert!(results(&again).iter().all(|r| r.1), "{again}");
    let mails = smtp.wait_for(3, std::time::Duration::from_secs(10)).await;
    // The worker sends an order's mails as they come, not one after another.
    let mut subjects: Vec<String> = mails.iter().map(|m| m.subject()).collect();
    subjects.sort();
    assert_eq!(subjects, [
        "acme: pedido Pedido PED-1 — Em separação",
        "acme: pedido Pedido PED-1 — Em trânsito",
        "acme: pedido Pedido PED-1 — Pedido entregue"
    ]);
    assert!(mails.iter().all(|m| m.envelope_to == [acme.customer_email()]));

    let customer = app.customer(&acme.id, "acme", &acme.customer_email()).await;
    let seen = app
        .gql(Some(&customer), "{ orders(first: 5) { nodes { code status history { toStatus comment } } } }", json!({}))
        .await;
    let order = &seen["data"]["orders"]["nodes"][0];
    assert_eq!(order["code"], "Pedido PED-1", "{seen}");
    assert_eq!(order["status"], "DELIVERED");
    let history: Vec<(String, String)> = order["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["toStatus"].as_str().unwrap().to_owned(), h["comment"].as_str().unwrap_or_default().to_owned()))
        .collect();
    assert_eq!(history, [
        ("RECEIVED".to_owned(), String::new()),
        ("IN_SEPARATION".to_owned(), "Trip TRIP-9 released, carrier TRANSP-1".to_owned()),
        ("IN_TRANSIT".to_owned(), "Campinas/SP".to_owned()),
        ("DELIVERED".to_owned(), "Campinas/SP".to_owned()),
    ]);
    let staff = app.gql(Some(&acme.staff), "{ orders(first: 5) { nodes { attributes { key value } } } }", json!({})).await;
    let attributes = &staff["data"]["orders"]["nodes"][0]["attributes"];
    assert!(attributes.as_array().unwrap().contains(&json!({ "key": "tre.tripId", "value": "TRIP-9" })), "{attributes}");
    assert!(attributes.as_array().unwrap().contains(&json!({ "key": "tre.truckLicensePlate", "value": "ABC1D23" })), "{attributes}");
}

/// A tracking event of a whole trip: every live order released with it moves,
/// each on its own; the items keep R2's own fields and their exact totals.
#[tokio::test]
async fn a_trip_event_moves_each_order_of_the_trip() {
    let app = TestApp::spawn().await;
    let alpha = tenant(&app).await;
    let token = Some(alpha.integration_token.as_str());
    let orders_xml: Vec<String> = ["PED-1", "PED-2", "PED-3"].iter().map(|id| order(id, "STORE-1", "CD-1", "", &format!("{id}-1"))).collect();
    // 100.00 for 3 units: 33.33 a unit, but the line is worth 100.00.
    let orders_xml: Vec<String> = orders_xml.iter().map(|o| o.replace("<price>30.00</price>", "<price>100.00</price><MIT>M7</MIT>")).collect();
    assert!(results(&soap(&app, token, &envelope("createOrders", &orders_xml)).await.1).iter().all(|r| r.1));
    assert!(results(&soap(&app, token, &released_trip("TRIP-9", &["PED-1", "PED-2"])).await.1).iter().all(|r| r.1));
    let delete = r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><deleteOrders><orders><order><identifier>PED-2</identifier></order></orders></deleteOrders></s:Body></s:Envelope>"#;
    assert!(results(&soap(&app, token, delete).await.1)[0].1);

    let at = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let trip_event = |event: &str, trip: &str| {
        tracking(&[(event, "", "IN_TRANSIT", &at)]).replace("<orderSourceId></orderSourceId>", &format!("<tripId>{trip}</tripId>"))
    };
    let (status, answer) = soap(&app, token, &trip_event("EV-T1", "TRIP-9")).await;
    assert_eq!(status, 200, "{answer}");
    let moved = results(&answer);
    assert_eq!(moved.iter().map(|r| (r.0.as_str(), r.1)).collect::<Vec<_>>(), [("PED-1", true), ("PED-2", false)], "{answer}");
    assert_eq!(codes_of(&moved, "PED-2"), ["R2_NOT_ALLOWED"]);
    let (_, unknown) = soap(&app, token, &trip_event("EV-T2", "TRIP-404")).await;
    assert_eq!(codes_of(&results(&unknown), "TRIP-404"), ["R2_NOT_FOUND"]);

    let listed = app
        .gql(
            Some(&alpha.staff),
            "{ orders(first: 10) { nodes { sourceId status total items { unitPrice total attributes { key value } } } } }",
            json!({}),
        )
        .await;
    let mut statuses: Vec<(String, String)> = listed["data"]["orders"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["sourceId"].as_str().unwrap().to_owned(), o["status"].as_str().unwrap().to_owned()))
        .collect();
    statuses.sort();
    assert_eq!(statuses, [
        ("PED-1".to_owned(), "IN_TRANSIT".to_owned()),
        ("PED-2".to_owned(), "CANCELLED".to_owned()),
        ("PED-3".to_owned(), "RECEIVED".to_owned())
    ]);
    let first = &listed["data"]["orders"]["nodes"][0];
    assert_eq!((first["total"].clone(), first["items"][0]["unitPrice"].clone(), first["items"][0]["total"].clone()), (json!("100.00"), json!("33.33"), json!("100.00")));
    assert_eq!(first["items"][0]["attributes"], json!([
        { "key": "MIT", "value": "M7" },
        { "key": "quantityInShipmentUnits", "value": "1" },
        { "key": "shipmentUnitWrapperCode", "value": "CX" }
    ]));
}

/// The token is the company's key: a rotated one and a deactivated
/// company's are refused at the door, and such calls write nothing.
#[tokio::test]
async fn a_rotated_token_and_a_deactivated_companys_token_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let alpha = app.tenant(&admin, "alpha").await;
    let create = |id: &str| envelope("createOrders", &[order(id, "STORE-1", "CD-1", "", &format!("{id}-1"))]);
    assert_eq!(soap(&app, Some(&alpha.integration_token), &create("PED-1")).await.0, 200);

    let rotated = app
        .gql(Some(&admin), "mutation($id: ID!) { rotateIntegrationToken(companyId: $id) { integrationToken } }", json!({ "id": alpha.id }))
        .await;
    let new_token = rotated["data"]["rotateIntegrationToken"]["integrationToken"].as_str().unwrap().to_owned();
    let before = fingerprint(&app.db, &[]).await;
    let (status, answer) = soap(&app, Some(&alpha.integration_token), &create("PED-2")).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(fingerprint(&app.db, &[]).await, before);
    assert_eq!(soap(&app, Some(&new_token), &create("PED-2")).await.0, 200);

    let done = app.gql(Some(&admin), "mutation($id: ID!) { deactivateCompany(id: $id) { active } }", json!({ "id": alpha.id })).await;
    assert_eq!(done["data"]["deactivateCompany"]["active"], false, "{done}");
    let before = fingerprint(&app.db, &[]).await;
    let (status, answer) = soap(&app, Some(&new_token), &create("PED-3")).await;
    assert_eq!(status, 401, "{answer}");
    assert!(answer.contains("<r2:code>UNAUTHENTICATED</r2:code>"), "{answer}");
    assert_eq!(fingerprint(&app.db, &[]).await, before);
}

/// A call's creations cost the same number of statements whatever their
/// number: they are checked and written together, not one by one.
#[tokio::test]
async fn the_statements_of_a_create_call_do_not_grow_with_its_orders() {
    let app = TestApp::spawn().await;
    let alpha = tenant(&app).await;
    let token = Some(alpha.integration_token.as_str());
    let mut counts = Vec::new();
    for (first, count) in [(0, 5), (100, 50)] {
        let orders: Vec<String> =
            (first..first + count).map(|n| order(&format!("PED-{n}"), "STORE-1", "CD-1", "", &format!("PED-{n}-1"))).collect();
        let body = envelope("createOrders", &orders);
        let before = app.statements_run().await;
        let (status, answer) = soap(&app, token, &body).await;
        let after = app.statements_run().await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(results(&answer).iter().filter(|r| r.1).count(), count);
        counts.push(after - before);
    }
    // About 14 either way (run, lookups, one INSERT per table, run items,
    // outcome); one by one, 50 orders would take some 600. The margin is for
    // the mail worker's polls, which share the counter.
    assert!(counts[1] <= counts[0] + 4 && counts[1] < 30, "statement count grows with the orders of a call: {counts:?}");
}

/// A call of more orders than one transaction takes is written in parts; the
/// last part is committed with the run's outcome. Every order of every part
/// is created, answered and counted once.
#[tokio::test]
async fn a_call_of_several_parts_creates_every_order_and_completes_its_run() {
    let app = TestApp::spawn().await;
    let alpha = tenant(&app).await;
    let token = Some(alpha.integration_token.as_str());
    // A full part of 1,000 and a second of 201.
    let count = 1_201;
    let orders: Vec<String> = (0..count).map(|n| order(&format!("PED-{n}"), "STORE-1", "CD-1", "", &format!("PED-{n}-1"))).collect();
    let (status, answer) = soap(&app, token, &envelope("createOrders", &orders)).await;
    assert_eq!(status, 200, "{answer}");
    let answered = results(&answer);
    assert_eq!(answered.len(), count);
    assert!(answered.iter().enumerate().all(|(n, r)| r.1 && r.0 == format!("PED-{n}")), "every order answered as created, in order");
    let runs = app.gql(Some(&alpha.staff), "{ integrationRuns(first: 1) { nodes { id } } }", json!({})).await;
    let query = "query($id: ID!) { integrationRun(id: $id) { outcome received applied failed finishedAt items { position } } }";
    let run = app.gql(Some(&alpha.staff), query, json!({ "id": runs["data"]["integrationRuns"]["nodes"][0]["id"] })).await;
    let run = &run["data"]["integrationRun"];
    let counts = (run["outcome"].as_str(), run["received"].as_i64(), run["applied"].as_i64(), run["failed"].as_i64());
    assert_eq!(counts, (Some("SUCCESS"), Some(1_201), Some(1_201), Some(0)), "{run}");
    assert!(run["finishedAt"].is_string(), "{run}");
    let positions: Vec<i64> = run["items"].as_array().unwrap().iter().map(|item| item["position"].as_i64().unwrap()).collect();
    assert_eq!(positions, (0..count as i64).collect::<Vec<_>>());
    // Past the default bound of 1,000 the count says "at least"; the exact figure is asked for.
    let total = app.gql(Some(&alpha.staff), "{ orders(first: 1) { bounded: totalCount exact: totalCount(upTo: 2000) } }", json!({})).await;
    assert_eq!(total["data"]["orders"]["bounded"], 1_000, "{total}");
    assert_eq!(total["data"]["orders"]["exact"], count, "{total}");
}
