//! What one GraphQL document may cost, checked before anything recursive runs.
//!
//! Every document — `POST` and `GET`, each operation of a batch, WebSocket
//! `subscribe` — is checked and parsed here ([`Parsed`]) before the schema
//! sees it ([`super::Runner`]):
//! 1. [`scan`]: one pass over the text bounds bracket nesting, so the parser
//!    (which recurses per level of selections, arguments and input values) never
//!    sees a document that could overflow its stack;
//! 2. the document is parsed here and [`measure`]d in one pass with each
//!    fragment measured once: the selections it expands to, aliases, field depth
//!    (introspection fields count like any other), the number of fragments and
//!    fragment cycles, and NUL characters in any text of it or its variables;
//! 3. the parsed document is handed on, so async-graphql's own checks (which
//!    inline fragments) and validation only ever walk a document whose expanded
//!    size is bounded.
//!
//! Clients send the same few documents over and over, so documents that
//! passed are kept, parsed, by their text ([`Documents`]): a known document
//! is only copied and its variables checked.

mod measure;
mod scan;

use std::{
    num::NonZeroUsize,
    sync::{Arc, Mutex},
};

use async_graphql::{
    parser::types::{ExecutableDocument, OperationType},
    ErrorExtensions, Request, ServerError, ServerResult, Variables,
};

use super::error::code;

/// The limits one document must keep.
#[derive(Debug, Clone)]
pub struct Budget {
    /// Deepest nesting of `{`, `[` and `(` anywhere in the text.
    pub nesting: usize,
    /// Deepest field nesting, fragments inlined.
    pub depth: usize,
    /// Selections once fragments are inlined.
    pub selections: usize,
    /// Aliased fields once fragments are inlined.
    pub aliases: usize,
    /// Fragment definitions.
    pub fragments: usize,
    /// Whether `__schema` and `__type` may be asked for.
    pub introspection: bool,
}

/// Why a document was refused. Every rejection is the client's input, answered
/// with `VALIDATION`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Rejection {
    /// Brackets nest deeper than [`Budget::nesting`].
    #[error("the document nests brackets too deep (limit {limit})")]
    TooDeeplyNested {
        /// The limit.
        limit: usize,
    },
    /// Fields nest deeper than [`Budget::depth`].
    #[error("the query is nested too deep (limit {limit})")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// More selections than [`Budget::selections`] once fragments are inlined.
    #[error("the query selects too many fields once fragments are expanded (limit {limit})")]
    TooManySelections {
        /// The limit.
        limit: usize,
    },
    /// More aliases than [`Budget::aliases`].
    #[error("too many aliases (limit {limit})")]
    TooManyAliases {
        /// The limit.
        limit: usize,
    },
    /// More fragments than [`Budget::fragments`].
    #[error("too many fragments (limit {limit})")]
    TooManyFragments {
        /// The limit.
        limit: usize,
    },
    /// A fragment spreads itself, directly or through others.
    #[error("fragment \"{fragment}\" spreads itself")]
    FragmentCycle {
        /// A fragment on the cycle.
        fragment: String,
    },
    /// `__schema` or `__type` while introspection is turned off.
    #[error("introspection is turned off on this server")]
    IntrospectionDisabled,
    /// Text holding U+0000, which no field accepts and PostgreSQL cannot store.
    #[error("text must not contain NUL characters (U+0000)")]
    NulInText,
}

impl Rejection {
    /// As a GraphQL error with `extensions.code = VALIDATION`.
    pub fn to_server_error(&self) -> ServerError {
        validation_error(self.to_string())
    }
}

fn validation_error(message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    error.extensions = async_graphql::Error::new("").extend_with(|_, e| e.set("code", code::VALIDATION)).extensions;
    error
}

/// Checks `query` (and `variables`) against `budget` and parses it; the only
/// way a document should reach the parser.
pub fn parse_within(query: &str, variables: &Variables, budget: &Budget) -> ServerResult<ExecutableDocument> {
    scan::check_nesting(query, budget.nesting).map_err(|r| r.to_server_error())?;
    let document = async_graphql::parser::parse_query(query).map_err(|err| {
        let mut error: ServerError = err.into();
        error.extensions = validation_error(String::new()).extensions;
        error
    })?;
    measure::check(&document, variables, budget).map_err(|r| r.to_server_error())?;
    Ok(document)
}

/// Documents that passed [`parse_within`], parsed, by their text; the least
/// recently used goes first.
///
/// What it can hold is bounded whatever clients send: [`Documents::ENTRIES`]
/// documents of at most [`Documents::LARGEST`] bytes of text each; a larger
/// document is parsed every time. Only the document is kept: variables are
/// checked on every request.
pub struct Documents(Mutex<lru::LruCache<String, Arc<ExecutableDocument>>>);

impl Documents {
    /// Documents kept.
    pub const ENTRIES: usize = 256;
    /// Longest document text kept, in bytes.
    pub const LARGEST: usize = 8 * 1024;

    /// None kept yet.
    pub(crate) fn new() -> Self {
        Documents(Mutex::new(lru::LruCache::new(NonZeroUsize::new(Self::ENTRIES).unwrap_or(NonZeroUsize::MIN))))
    }

    fn get(&self, query: &str) -> Option<Arc<ExecutableDocument>> {
        self.0.lock().ok()?.get(query).cloned()
    }

    fn keep(&self, query: &str, document: &ExecutableDocument) {
        if query.len() <= Self::LARGEST {
            if let Ok(mut documents) = self.0.lock() {
                documents.put(query.to_owned(), Arc::new(document.clone()));
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.lock().map_or(0, |documents| documents.len())
    }

    /// `query` parsed, from the kept documents or through [`parse_within`]
    /// (and then kept); its variables are checked either way.
    pub fn parse(&self, query: &str, variables: &Variables, budget: &Budget) -> ServerResult<ExecutableDocument> {
        if let Some(document) = self.get(query) {
            measure::check_variables(variables).map_err(|r| r.to_server_error())?;
            return Ok(ExecutableDocument::clone(&document));
        }
        let document = parse_within(query, variables, budget)?;
        self.keep(query, &document);
        Ok(document)
    }
}

/// A request whose document passed its [`Budget`]. Only a `Parsed` request
/// reaches the schema ([`super::Runner`]), and async-graphql runs its parsed
/// document without parsing the text again.
pub struct Parsed {
    request: Request,
    document: ExecutableDocument,
}

impl Parsed {
    /// `request`, its document checked and parsed by [`parse_within`].
    pub fn within(request: Request, budget: &Budget) -> ServerResult<Parsed> {
        let document = parse_within(&request.query, &request.variables, budget)?;
        Ok(Parsed { request, document })
    }

    /// Adds `data` to the request's, as [`Request::data`] does.
    #[must_use]
    pub fn data<D: std::any::Any + Send + Sync>(mut self, data: D) -> Self {
        self.request = self.request.data(data);
        self
    }

    /// The request as sent.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The type of the operation async-graphql will run (the one named, or
    /// the only one); `None` where it would refuse the request for want of one.
    pub fn operation_type(&self) -> Option<OperationType> {
        let mut operations = self.document.operations.iter();
        let (_, operation) = match self.request.operation_name.as_deref() {
            Some(name) => operations.find(|(n, _)| n.is_some_and(|n| n.as_str() == name))?,
            None => operations.next().filter(|_| operations.next().is_none())?,
        };
        Some(operation.node.ty)
    }

    /// The request with its parsed document, for the schema.
    pub fn into_request(self) -> Request {
        let mut request = self.request;
        request.set_parsed_query(self.document);
        request
    }
}

impl Documents {
    /// `request` with its document from [`Documents::parse`].
    pub fn parse_request(&self, request: Request, budget: &Budget) -> ServerResult<Parsed> {
        let document = self.parse(&request.query, &request.variables, budget)?;
        Ok(Parsed { request, document })
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    fn budget() -> Budget {
        Budget { nesting: 48, depth: 16, selections: 2_000, aliases: 30, fragments: 64, introspection: true }
    }

    fn rejection(query: &str) -> Option<String> {
        parse_within(query, &Variables::default(), &budget()).err().map(|e| e.message)
    }

    #[test]
    fn a_fragment_chain_that_doubles_is_refused_at_once() {
        let mut query = String::from("{ ...F0 }\n");
        for n in 0..40 {
            query.push_str(&format!("fragment F{n} on QueryRoot {{ ...F{m} ...F{m} }}\n", m = n + 1));
        }
        query.push_str("fragment F40 on QueryRoot { __typename }\n");
        let started = Instant::now();
        let refused = rejection(&query);
        assert!(started.elapsed() < Duration::from_millis(100));
        assert!(refused.is_some_and(|m| m.contains("too many fields")));
    }

    #[test]
    fn cycles_are_refused_without_recursing() {
        let refused = rejection("{ ...A } fragment A on Q { ...B } fragment B on Q { ...A }");
        assert!(refused.is_some_and(|m| m.contains("spreads itself")));
    }

    #[test]
    fn deep_values_are_refused_before_parsing() {
        for deep in [
            format!("{{ a(x: {}1{}) }}", "[".repeat(5_000), "]".repeat(5_000)),
            format!("{{ a(x: {}1{}) }}", "{a: ".repeat(5_000), "}".repeat(5_000)),
            format!("query($v: Int = {}1{}) {{ a }}", "[".repeat(5_000), "]".repeat(5_000)),
        ] {
            assert!(rejection(&deep).is_some_and(|m| m.contains("brackets too deep")));
        }
    }

    #[test]
    fn nul_in_literals_and_variables_is_refused() {
        assert!(rejection(r#"{ a(x: "a\u0000b") }"#).is_some_and(|m| m.contains("NUL")));
        assert!(rejection(r#"{ a(x: [{ y: "\u0000" }]) }"#).is_some_and(|m| m.contains("NUL")));
        let variables = Variables::from_json(serde_json::json!({ "v": { "deep": ["ok", "x\u{0}"] } }));
        let refused = parse_within("query($v: JSON) { a }", &variables, &budget()).err();
        assert!(refused.is_some_and(|e| e.message.contains("NUL")));
    }

    #[test]
    fn kept_documents_are_served_again_and_their_variables_still_checked() {
        let documents = Documents::new();
        let query = "query($v: String) { a(x: $v) { b } }";
        let first = documents.parse(query, &Variables::default(), &budget()).expect("parses");
        assert_eq!(documents.len(), 1);
        let again = documents.parse(query, &Variables::default(), &budget()).expect("kept");
        assert_eq!(documents.len(), 1);
        assert_eq!(format!("{first:?}"), format!("{again:?}"));
        let nul = Variables::from_json(serde_json::json!({ "v": "x\u{0}" }));
        let refused = documents.parse(query, &nul, &budget()).err();
        assert!(refused.is_some_and(|e| e.message.contains("NUL")), "a kept document's variables are checked");
        let refused = documents.parse(r#"{ a(x: "\u0000") }"#, &Variables::default(), &budget()).err();
        assert!(refused.is_some_and(|e| e.message.contains("NUL")));
        assert_eq!(documents.len(), 1, "a refused document is not kept");
    }

    #[test]
    fn the_kept_documents_are_bounded_in_number_and_size() {
        let documents = Documents::new();
        for n in 0..Documents::ENTRIES + 10 {
            documents.parse(&format!("{{ a{n} }}"), &Variables::default(), &budget()).expect("parses");
        }
        assert_eq!(documents.len(), Documents::ENTRIES);
        // The least recently used went first: the oldest is gone, the newest kept.
        assert!(documents.get("{ a0 }").is_none());
        assert!(documents.get(&format!("{{ a{} }}", Documents::ENTRIES + 9)).is_some());
        let large = format!("{{ a(x: \"{}\") }}", "b".repeat(Documents::LARGEST));
        assert!(large.len() > Documents::LARGEST);
        documents.parse(&large, &Variables::default(), &budget()).expect("parses");
        assert!(documents.get(&large).is_none(), "a document over the size limit is parsed, not kept");
        let at_limit = format!("{{ a(x: \"{}\") }}", "b".repeat(Documents::LARGEST - 12));
        assert_eq!(at_limit.len(), Documents::LARGEST);
        documents.parse(&at_limit, &Variables::default(), &budget()).expect("parses");
        assert!(documents.get(&at_limit).is_some());
    }

    #[test]
    fn shared_fragments_are_counted_as_often_as_they_are_spread() {
        let query = "{ ...A ...A } fragment A on Q { a b c }";
        let document = async_graphql::parser::parse_query(query).ok();
        let measured = document.map(|d| measure::check(&d, &Variables::default(), &budget()));
        assert_eq!(measured, Some(Ok(measure::Measure { selections: 8, aliases: 0, depth: 1 })));
    }
}
