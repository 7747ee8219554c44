//! A bounded reader of SOAP 1.1 envelopes into a small element tree.
//!
//! Names are compared by their local part, so prefixes and default
//! namespaces are the sender's business; only the envelope's own namespace is
//! checked (SOAP 1.1, and a SOAP 1.2 envelope is refused as such). A DOCTYPE,
//! an entity that is not one of XML's five or a character reference, and a
//! nesting deeper than [`MAX_DEPTH`] end the reading before any work is done
//! on the content, so a hostile document costs no more than its bytes.

use std::borrow::Cow;

use quick_xml::{
    events::{BytesStart, Event},
    name::ResolveResult,
    NsReader,
};

use domain::ingest::WireError;

/// The SOAP 1.1 envelope namespace.
pub const SOAP11_ENVELOPE: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// The SOAP 1.2 envelope namespace, refused with a version mismatch.
pub const SOAP12_ENVELOPE: &str = "http://www.w3.org/2003/05/soap-envelope";
/// The XML Schema instance namespace (`xsi:nil`).
const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Deepest element nesting read. Orders nest 10 deep
/// (`Envelope/Body/createOrders/orders/order/items/item/attributes/attribute/value`);
/// TRE's trip publication 16 (`…/stop/subStops/subStop/unloadedShipmentUnits/
/// shipmentUnit/deliveryUnitList/deliveryUnit/orderSourceId`).
pub const MAX_DEPTH: usize = 24;

/// Most elements one envelope may hold; bounds the tree whatever the body limit.
pub const MAX_ELEMENTS: usize = 2_000_000;

/// An element, by local name, with its text and children in document order.
/// Names and texts borrow from the document where they can: reading a large
/// call allocates per element, not per name and text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Element<'a> {
    /// Local name (no prefix).
    pub name: Cow<'a, str>,
    /// Its text (CDATA and references resolved), untrimmed.
    pub text: Cow<'a, str>,
    /// `xsi:nil="true"`.
    pub nil: bool,
    /// Child elements.
    pub children: Vec<Element<'a>>,
}

impl<'a> Element<'a> {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element<'a>> {
        self.children.iter().find(|c| c.name == name)
    }

    /// A digest of the element's content (names, trimmed texts, nesting),
    /// whatever its prefixes, namespaces and whitespace between elements: two
    /// sendings of one order have the same digest.
    pub fn digest(&self) -> String {
        use sha2::Digest as _;
        fn feed(element: &Element, hasher: &mut sha2::Sha256) {
            hasher.update(element.name.as_bytes());
            hasher.update([0, u8::from(element.nil)]);
            hasher.update(element.text.trim().as_bytes());
            hasher.update([1]);
            for child in &element.children {
                feed(child, hasher);
            }
            hasher.update([2]);
        }
        let mut hasher = sha2::Sha256::new();
        feed(self, &mut hasher);
        format!("{:x}", hasher.finalize())
    }
}

/// A SOAP 1.1 request, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope<'a> {
    /// The `Header`'s children (empty without a header).
    pub header: Vec<Element<'a>>,
    /// The body's one child: the operation and its arguments.
    pub operation: Element<'a>,
}

fn refused(code: &'static str, message: impl Into<String>) -> WireError {
    WireError { code, message: message.into() }
}

fn malformed(message: impl Into<String>) -> WireError {
    WireError::malformed(message)
}

/// The code of a refusal that is a SOAP `VersionMismatch` fault.
pub const VERSION_MISMATCH: &str = "VERSION_MISMATCH";

/// The element's name after its prefix, borrowed from `document` when the
/// reader lent it from there (it does for a document read from a slice).
fn local_name<'a>(document: &'a [u8], start: &BytesStart<'_>) -> Cow<'a, str> {
    let local = start.local_name();
    let bytes = local.as_ref();
    let base = document.as_ptr() as usize;
    let at = (bytes.as_ptr() as usize).wrapping_sub(base);
    match document.get(at..at + bytes.len()) {
        Some(lent) if lent.as_ptr() == bytes.as_ptr() => String::from_utf8_lossy(lent),
        _ => Cow::Owned(String::from_utf8_lossy(bytes).into_owned()),
    }
}

/// Text as the document has it, line ends normalized; borrowed unless they
/// needed it.
fn text_of<'a>(text: &quick_xml::events::BytesText<'a>) -> Result<Cow<'a, str>, WireError> {
    text.xml10_content().map_err(|e| malformed(format!("text is not UTF-8: {e}")))
}

/// Whether the element carries `xsi:nil="true"`.
fn is_nil(reader: &NsReader<&[u8]>, start: &BytesStart<'_>) -> bool {
    start.attributes().flatten().any(|attribute| {
        let (ns, local) = reader.resolve_attribute(attribute.key);
        matches!(ns, ResolveResult::Bound(ns) if ns.as_ref() == XSI.as_bytes())
            && local.as_ref() == b"nil"
            && matches!(attribute.value.as_ref(), b"true" | b"1")
    })
}

/// Reads `body` as a SOAP 1.1 envelope.
pub fn read_envelope(body: &[u8]) -> Result<Envelope<'_>, WireError> {
    let mut reader = NsReader::from_reader(body);
    reader.config_mut().check_end_names = true;
    // The tree under construction: one open element per level.
    let mut open: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut elements = 0usize;
    loop {
        // Names are resolved only where a namespace matters (the envelope,
        // `xsi:nil`): resolving every element's costs a sixth of the reading.
        let event = reader.read_event().map_err(|e| malformed(format!("not well-formed XML: {e}")))?;
        match event {
            Event::DocType(_) => return Err(refused("DOCTYPE", "a DOCTYPE or entity declaration is not accepted")),
            Event::Start(ref start) | Event::Empty(ref start) => {
                elements += 1;
                if open.len() >= MAX_DEPTH {
                    return Err(refused("TOO_DEEP", format!("elements nest deeper than {MAX_DEPTH} levels")));
                }
                if elements > MAX_ELEMENTS {
                    return Err(refused("TOO_LARGE", format!("more than {MAX_ELEMENTS} elements")));
                }
                if open.is_empty() {
                    if root.is_some() {
                        return Err(malformed("more than one root element"));
                    }
                    let (ns, _) = reader.resolve_element(start.name());
                    let envelope_ns = match &ns {
                        ResolveResult::Bound(ns) => Some(ns.as_ref()),
                        _ => None,
                    };
                    check_envelope(&local_name(body, start), envelope_ns)?;
                }
                let element = Element { name: local_name(body, start), nil: is_nil(&reader, start), ..Element::default() };
                if matches!(event, Event::Empty(_)) {
                    close(&mut open, &mut root, element);
                } else {
                    open.push(element);
                }
            }
            Event::End(_) => {
                let element = open.pop().ok_or_else(|| malformed("an end tag without its start"))?;
                close(&mut open, &mut root, element);
            }
            Event::Text(text) => {
                // Indentation after a child element is nobody's text.
                if open.last().is_some_and(|e| !e.children.is_empty()) && text.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                push_text(&mut open, text_of(&text)?)?;
            }
            Event::CData(data) => {
                let text = data.decode().map_err(|e| malformed(format!("CDATA is not UTF-8: {e}")))?;
                push_text(&mut open, text)?;
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref().map_err(|e| malformed(e.to_string()))? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = reference.decode().map_err(|e| malformed(e.to_string()))?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| refused("DOCTYPE", format!("entity &{name}; is not defined: entity declarations are not accepted")))?
                            .to_owned()
                    }
                };
                push_text(&mut open, Cow::Owned(resolved))?;
            }
            Event::Comment(_) | Event::PI(_) | Event::Decl(_) => {}
            Event::Eof => break,
        }
    }
    if !open.is_empty() {
        return Err(malformed("the document ends inside an element"));
    }
    let root = root.ok_or_else(|| malformed("the request is empty"))?;
    split_envelope(root)
}

/// Text outside the root is only whitespace; inside, it joins its element's.
fn push_text<'a>(open: &mut [Element<'a>], text: Cow<'a, str>) -> Result<(), WireError> {
    match open.last_mut() {
        Some(element) if element.text.is_empty() => element.text = text,
        Some(element) => element.text.to_mut().push_str(&text),
        None if text.trim().is_empty() => {}
        None => return Err(malformed("text outside the envelope")),
    }
    Ok(())
}

fn close<'a>(open: &mut [Element<'a>], root: &mut Option<Element<'a>>, element: Element<'a>) {
    match open.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

fn check_envelope(name: &str, ns: Option<&[u8]>) -> Result<(), WireError> {
    if name != "Envelope" {
        return Err(malformed(format!("the root element is {name}, not a SOAP Envelope")));
    }
    match ns {
        Some(ns) if ns == SOAP11_ENVELOPE.as_bytes() => Ok(()),
        Some(ns) if ns == SOAP12_ENVELOPE.as_bytes() => Err(refused(VERSION_MISMATCH, 
            "a SOAP 1.2 envelope: this service speaks SOAP 1.1 (namespace http://schemas.xmlsoap.org/soap/envelope/)",
        )),
        _ => Err(refused(VERSION_MISMATCH, "the Envelope is not in the SOAP 1.1 namespace http://schemas.xmlsoap.org/soap/envelope/")),
    }
}

fn split_envelope(root: Element<'_>) -> Result<Envelope<'_>, WireError> {
    let mut header = Vec::new();
    let mut body = None;
    for child in root.children {
        match (child.name.as_ref(), &body) {
            ("Header", None) if header.is_empty() => header = child.children,
            ("Body", None) => body = Some(child),
            (other, _) => return Err(malformed(format!("unexpected {other} in the Envelope"))),
        }
    }
    let body = body.ok_or_else(|| malformed("the Envelope has no Body"))?;
    let mut operations = body.children.into_iter();
    let operation = operations.next().ok_or_else(|| malformed("the Body is empty: it names no operation"))?;
    if operations.next().is_some() {
        return Err(malformed("the Body holds more than one operation"));
    }
    Ok(Envelope { header, operation })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(body: &str) -> String {
        format!(r#"<s:Envelope xmlns:s="{SOAP11_ENVELOPE}"><s:Body>{body}</s:Body></s:Envelope>"#)
    }

    #[test]
    fn prefixes_and_default_namespaces_read_alike() {
        let (a, b) = (
            envelope(r#"<o:createOrders xmlns:o="urn:x"><o:orders><o:order><o:code>A&amp;B</o:code></o:order></o:orders></o:createOrders>"#),
            envelope(r#"<createOrders xmlns="urn:y"><orders><order><code><![CDATA[A&B]]></code></order></orders></createOrders>"#),
        );
        let (a, b) = (read_envelope(a.as_bytes()).unwrap(), read_envelope(b.as_bytes()).unwrap());
        assert_eq!(a, b);
        assert_eq!(a.operation.name, "createOrders");
        assert_eq!(a.operation.child("orders").unwrap().children[0].child("code").unwrap().text, "A&B");
    }

    #[test]
    fn hostile_documents_are_refused_before_any_work() {
        let doctype = format!(r#"<!DOCTYPE x [<!ENTITY a "aaaa">]>{}"#, envelope("<createOrders/>"));
        assert_eq!(read_envelope(doctype.as_bytes()).unwrap_err().code, "DOCTYPE");
        let entity = envelope("<createOrders>&a;</createOrders>");
        assert_eq!(read_envelope(entity.as_bytes()).unwrap_err().code, "DOCTYPE");
        let deep = envelope(&format!("{}{}", "<a>".repeat(100), "</a>".repeat(100)));
        assert_eq!(read_envelope(deep.as_bytes()).unwrap_err().code, "TOO_DEEP");
        let soap12 = r#"<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>"#;
        assert_eq!(read_envelope(soap12.as_bytes()).unwrap_err().code, "VERSION_MISMATCH");
        for broken in ["", "<", "<a>", "not xml", &envelope("<a></b>"), &envelope("")] {
            assert_eq!(read_envelope(broken.as_bytes()).unwrap_err().code, "MALFORMED", "{broken}");
        }
    }

    #[test]
    fn texts_are_read_whole_with_line_ends_normalized() {
        let document = envelope("<op><a>linha 1\r\nlinha 2</a><b>x&amp;y z</b><c>\n   </c>\n  <d/></op>");
        let read = read_envelope(document.as_bytes()).unwrap();
        let texts: Vec<(&str, &str)> = read.operation.children.iter().map(|c| (c.name.as_ref(), c.text.as_ref())).collect();
        assert_eq!(texts, [("a", "linha 1\nlinha 2"), ("b", "x&y z"), ("c", "\n   "), ("d", "")]);
    }

    #[test]
    fn nil_elements_are_marked() {
        let document = envelope(r#"<op xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><a i:nil="true"/><b>x</b></op>"#);
        let read = read_envelope(document.as_bytes()).unwrap();
        assert!(read.operation.children[0].nil);
        assert!(!read.operation.children[1].nil);
    }
}
