//! Golden files: every fixture under `fixtures/rules` and `fixtures/faults`
//! is read as a request, and its answer must equal `<name>.answer.xml` beside
//! it byte for byte. A record the adapter accepts is answered as applied (what
//! the pipeline does with it is tested black-box in the server's suite).
//! `BLESS=1 cargo test -p adapter-totvs-r2 --test golden` rewrites the answers
//! after a deliberate change; review the diff.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{collections::BTreeSet, fs, path::Path};

use adapter_totvs_r2::{operation_of, rules::Rule, TotvsR2};
use chrono::{TimeZone, Utc};
use domain::ingest::{Adapter, Context, ItemReport, Report};
use entities::ItemOutcome;

fn context() -> Context {
    Context { now: Utc.with_ymd_and_hms(2026, 12, 5, 12, 0, 0).unwrap(), ..Context::default() }
}

/// The answer to `body`, with accepted records reported as applied.
fn answer(body: &[u8]) -> String {
    let adapter = TotvsR2::default();
    let operation = operation_of(body).unwrap_or_else(|| "unknown".to_owned());
    let bytes = match adapter.parse(&operation, body, &context()) {
        Err(error) => adapter.render_rejection(&operation, &error),
        Ok(batch) => {
            let mut report = Report::default();
            for (position, record) in batch.records.into_iter().enumerate() {
                let item = if record.refusals.is_empty() {
                    report.applied += 1;
                    ItemReport {
                        position,
                        source_id: record.source_id,
                        outcome: ItemOutcome::Applied,
                        order_id: Some(1),
                        notes: vec![],
                        error: None,
                        refusals: vec![],
                    }
                } else {
                    report.failed += 1;
                    ItemReport::refused(position, record)
                };
                report.items.push(item);
            }
            adapter.render(&operation, &report)
        }
    };
    String::from_utf8(bytes).expect("answers are UTF-8")
}

fn fixtures(folder: &str) -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(folder);
    let mut found: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml") && !p.to_string_lossy().ends_with(".answer.xml"))
        .collect();
    found.sort();
    found
}

/// Compares (or with `BLESS=1` writes) each fixture's answer; returns them.
fn check(folder: &str) -> Vec<(String, String)> {
    let bless = std::env::var_os("BLESS").is_some();
    let mut answers = Vec::new();
    let mut wrong = Vec::new();
    for request in fixtures(folder) {
        let got = answer(&fs::read(&request).unwrap());
        let expected_path = request.with_extension("answer.xml");
        if bless {
            fs::write(&expected_path, format!("{got}\n")).unwrap();
        } else {
            let expected = fs::read_to_string(&expected_path).unwrap_or_default();
            if expected.trim_end() != got {
                wrong.push(format!("{}:\n  expected {}\n  got      {got}", request.display(), expected.trim_end()));
            }
        }
        answers.push((request.file_stem().unwrap().to_string_lossy().into_owned(), got));
    }
    assert!(wrong.is_empty(), "answers differ from the golden files:\n{}", wrong.join("\n"));
    answers
}

#[test]
fn each_rule_fixture_gets_its_golden_answer() {
    let answers = check("rules");
    for (name, answer) in &answers {
        if name.starts_with("valid-") {
            assert!(!answer.contains("<ns1:sucess>false"), "{name} should be accepted: {answer}");
        }
        if let Some(rule) = name.strip_prefix("r2-") {
            // The fixture is named after the rule it breaks.
            let code = format!("R2_{}", rule.to_uppercase().replace('-', "_"));
            let code = Rule::ALL.iter().map(|r| r.code()).filter(|c| code.starts_with(c)).max_by_key(|c| c.len());
            let code = code.unwrap_or_else(|| panic!("{name} names no rule"));
            assert!(answer.contains(&format!("<ns1:value>{code}</ns1:value>")), "{name} should break {code}: {answer}");
        }
    }
}

#[test]
fn every_rule_the_adapter_checks_has_a_fixture() {
    let answers = check("rules");
    let covered: BTreeSet<&str> =
        Rule::ALL.iter().map(|r| r.code()).filter(|code| answers.iter().any(|(_, a)| a.contains(&format!(">{code}<")))).collect();
    // These need the company's localities and orders: the server's suite
    // answers them through the whole pipeline.
    let pipeline = [Rule::Destination, Rule::ItemTaken, Rule::Origin, Rule::Exists, Rule::NotFound, Rule::AlreadyDeleted, Rule::NotAllowed];
    let missing: Vec<&str> =
        Rule::ALL.iter().filter(|r| !pipeline.contains(r)).map(|r| r.code()).filter(|c| !covered.contains(c)).collect();
    assert!(missing.is_empty(), "rules without a fixture: {missing:?}");
}

#[test]
fn hostile_and_broken_requests_get_faults() {
    let answers = check("faults");
    for (name, answer) in &answers {
        assert!(answer.contains("<soap:Fault><faultcode>soap:"), "{name}: {answer}");
    }
    let code = |name: &str| answers.iter().find(|(n, _)| n == name).map(|(_, a)| a.clone()).unwrap();
    assert!(code("soap12").contains("soap:VersionMismatch"));
    assert!(code("doctype").contains("<r2:code>DOCTYPE</r2:code>"));
    assert!(code("deep-nesting").contains("<r2:code>TOO_DEEP</r2:code>"));
    assert!(code("unknown-operation").contains("<r2:code>UNKNOWN_OPERATION</r2:code>"));
}

#[test]
fn the_readme_tables_every_rule() {
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for rule in Rule::ALL {
        assert!(readme.contains(&format!("| `{}` |", rule.code())), "README.md has no row for {}", rule.code());
    }
}
