//! `schema.graphql` must be exactly what the server serves.

#[test]
fn schema_graphql_is_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let served = api::graphql::sdl();
    assert!(
        committed == served,
        "schema.graphql is stale: run `cargo run -p api -- export-schema --out schema.graphql` and commit it"
    );
}
