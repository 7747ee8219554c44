use tests::TestApp;

#[tokio::test]
async fn healthz_reports_the_database_and_metrics_count_requests() {
    let app = TestApp::spawn().await;
    let (status, body) = app.get("/healthz").await;
    assert_eq!(status, 200);
    assert!(body.contains("\"database\":\"ok\""), "{body}");

    let (status, metrics) = app.get("/metrics").await;
    assert_eq!(status, 200);
    assert!(metrics.contains("rastro_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"), "{metrics}");
    assert!(metrics.contains("rastro_graphql_ws_connections"), "{metrics}");
}

#[tokio::test]
async fn graphiql_is_served() {
    let app = TestApp::spawn().await;
    let (status, body) = app.get("/graphiql").await;
    assert_eq!(status, 200);
    assert!(body.contains("graphiql"), "{body}");
    assert!(body.contains("/graphql/ws"), "subscription endpoint missing");
}
