//! The service's answers: `ordersResponse` (seed `003_…`, "Answer Layout")
//! and SOAP 1.1 faults.
//!
//! ```xml
//! <ns1:createOrdersResponse xmlns:ns1="…">
//!   <ns1:result>                          <!-- ordersResponse -->
//!     <ns1:results>
//!       <ns1:result>                      <!-- one per order, in order -->
//!         <ns1:identifier>PED-1</ns1:identifier>
//!         <ns1:sucess>false</ns1:sucess>  <!-- the layout's spelling -->
//!         <ns1:errorCodes><ns1:errorCode><ns1:value>R2_PRIORITY</ns1:value></ns1:errorCode></ns1:errorCodes>
//!         <ns1:errorMessage>priority: 11 is not between 0 and 10</ns1:errorMessage>
//!       </ns1:result>
//!     </ns1:results>
//!     <ns1:sucess>false</ns1:sucess>      <!-- every order succeeded -->
//!   </ns1:result>
//! </ns1:createOrdersResponse>
//! ```
//!
//! This nesting is what TOTVS's own clients read (`RESULT/RESULTS/RESULT[]`,
//! `ERRORCODES/ERRORCODE/VALUE[]` in Protheus; `…Response/result` in others).

use std::fmt::Write as _;

use domain::ingest::WireError;
use quick_xml::escape::escape;

use crate::xml::{SOAP11_ENVELOPE, VERSION_MISMATCH};

/// The answer's size limit for `errorMessage`.
pub const MESSAGE_MAX: usize = 255;

/// What became of one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderResult {
    /// Its identifier as sent (at most 30 characters).
    pub identifier: String,
    /// Whether it was applied (or already was).
    pub success: bool,
    /// The codes of the rules it broke.
    pub codes: Vec<String>,
    /// Every reason, in words.
    pub message: Option<String>,
}

fn envelope(body: &str) -> Vec<u8> {
    format!(r#"<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{SOAP11_ENVELOPE}"><soap:Body>{body}</soap:Body></soap:Envelope>"#)
        .into_bytes()
}

/// Cuts `text` to `max` characters, marking the cut.
fn capped(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// `<operation>Response` with one `result` per order.
pub fn orders_response(namespace: &str, operation: &str, results: &[OrderResult]) -> Vec<u8> {
    let mut body = String::with_capacity(200 + results.len() * 160);
    let _ = write!(body, r#"<ns1:{operation}Response xmlns:ns1="{}"><ns1:result><ns1:results>"#, escape(namespace));
    for result in results {
        let _ = write!(
            body,
            "<ns1:result><ns1:identifier>{}</ns1:identifier><ns1:sucess>{}</ns1:sucess>",
            escape(capped(&result.identifier, 30)),
            result.success
        );
        if !result.codes.is_empty() {
            body.push_str("<ns1:errorCodes>");
            for code in &result.codes {
                let _ = write!(body, "<ns1:errorCode><ns1:value>{}</ns1:value></ns1:errorCode>", escape(capped(code, 30)));
            }
            body.push_str("</ns1:errorCodes>");
        }
        if let Some(message) = &result.message {
            let _ = write!(body, "<ns1:errorMessage>{}</ns1:errorMessage>", escape(capped(message, MESSAGE_MAX)));
        }
        body.push_str("</ns1:result>");
    }
    let all = results.iter().all(|r| r.success);
    let _ = write!(body, "</ns1:results><ns1:sucess>{all}</ns1:sucess></ns1:result></ns1:{operation}Response>");
    envelope(&body)
}

/// The fault code of a refusal: `VersionMismatch` for a wrong envelope,
/// `Server` for our own failures, `Client` for everything the caller sent.
pub fn fault_code(error: &WireError) -> &'static str {
    match error.code {
        VERSION_MISMATCH => "soap:VersionMismatch",
        SERVER => "soap:Server",
        _ => "soap:Client",
    }
}

/// The code of a refusal that is our failure, not the caller's.
pub const SERVER: &str = "SERVER";

/// A SOAP 1.1 fault for a call refused whole; `detail` carries the stable code.
pub fn fault(namespace: &str, error: &WireError) -> Vec<u8> {
    envelope(&format!(
        r#"<soap:Fault><faultcode>{}</faultcode><faultstring>{}</faultstring><detail><r2:fault xmlns:r2="{}"><r2:code>{}</r2:code></r2:fault></detail></soap:Fault>"#,
        fault_code(error),
        escape(&error.message),
        escape(namespace),
        escape(error.code),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_capped_and_escaped() {
        let long = "é<".repeat(300);
        let answer = String::from_utf8(orders_response(
            "urn:x",
            "createOrders",
            &[OrderResult { identifier: "A&B".into(), success: false, codes: vec!["R2_SIZE".into()], message: Some(long) }],
        ))
        .unwrap();
        assert!(answer.contains("<ns1:identifier>A&amp;B</ns1:identifier>"));
        let message = answer.split("<ns1:errorMessage>").nth(1).unwrap().split("</ns1:errorMessage>").next().unwrap();
        let unescaped = quick_xml::escape::unescape(message).unwrap();
        assert_eq!(unescaped.chars().count(), MESSAGE_MAX);
        assert!(unescaped.ends_with('…'));
    }

    #[test]
    fn faults_say_whose_fault() {
        let client = String::from_utf8(fault("urn:x", &WireError::malformed("bad <xml>"))).unwrap();
        assert!(client.contains("<faultcode>soap:Client</faultcode><faultstring>bad &lt;xml&gt;</faultstring>"));
        assert!(client.contains("<r2:code>MALFORMED</r2:code>"));
        let server = fault("urn:x", &WireError { code: SERVER, message: "try again".into() });
        assert!(String::from_utf8(server).unwrap().contains("soap:Server"));
        let version = fault("urn:x", &WireError { code: VERSION_MISMATCH, message: "1.2".into() });
        assert!(String::from_utf8(version).unwrap().contains("soap:VersionMismatch"));
    }
}
