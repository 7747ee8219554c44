//! Streaming exports: the filtered orders in batches, so memory stays flat
//! however many orders there are.

use entities::{order, order_item};
use futures::{stream, Stream};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{
    query::{filtered, items_for, OrderFilter},
    search::Lookup,
};
use crate::{Action, Actor, Ctx, DomainResult};

/// Orders read per batch.
pub const EXPORT_BATCH: u64 = 500;

/// One exported order with its items.
#[derive(Debug, Clone)]
pub struct ExportRow {
    /// The order.
    pub order: order::Model,
    /// Its items.
    pub items: Vec<order_item::Model>,
    /// The destination locality's source id (what another installation
    /// knows it by).
    pub destination_source_id: Option<String>,
}

/// What an export reads besides orders and their items.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExportOptions {
    /// Also the destination localities' source ids (one more statement per
    /// batch), for exports another installation imports.
    pub destination_source_ids: bool,
}

/// The orders matching `filter` that the actor may see, oldest first, as a stream
/// of batches: two statements per batch (three with destination source ids), whatever
/// the total.
pub fn export_batches(
    ctx: &Ctx,
    actor: &Actor,
    filter: OrderFilter,
    options: ExportOptions,
) -> DomainResult<impl Stream<Item = DomainResult<Vec<ExportRow>>> + Send + 'static> {
    ctx.authz.check(actor, Action::ExportOrders)?;
    filter.check()?;
    let mut query = filtered(actor, &filter, Lookup::SCAN);
    if options.destination_source_ids {
        // The order-lines layout is what `rastro import` reads back: an
        // anonymized order would come back as a second order with its source
        // id, its lines merged into the live one's.
        query = query.map(|q| q.filter(order::Column::AnonymizedAt.is_null()));
    }
    let (db, actor) = (ctx.db.clone(), actor.clone());
    Ok(stream::try_unfold(Some(0_i32), move |after| {
        let (db, actor, query) = (db.clone(), actor.clone(), query.clone());
        async move {
            let (Some(after), Some(query)) = (after, query) else { return Ok(None) };
            let orders = query
                .filter(order::Column::Id.gt(after))
                .order_by_asc(order::Column::Id)
                .limit(EXPORT_BATCH)
                .all(&db)
                .await?;
            if orders.is_empty() {
                return Ok(None);
            }
            let ids: Vec<i32> = orders.iter().map(|o| o.id).collect();
            let mut items = items_for(&db, &actor, &ids).await?;
            let localities = if options.destination_source_ids {
                let destinations: Vec<i32> = orders.iter().filter_map(|o| o.destination_locality_id).collect();
                crate::localities::by_ids(&db, &actor, &destinations).await?
            } else {
                std::collections::HashMap::new()
            };
            let next = (orders.len() as u64 == EXPORT_BATCH).then(|| ids[ids.len() - 1]);
            let rows = orders
                .into_iter()
                .map(|order| ExportRow {
                    items: items.remove(&order.id).unwrap_or_default(),
                    destination_source_id: order.destination_locality_id.and_then(|id| localities.get(&id)).map(|l| l.source_id.clone()),
                    order,
                })
                .collect();
            Ok(Some((rows, next)))
        }
    }))
}

/// Undoes [`csv_text_cell`]: the `'` it put before a leading formula
/// character (or a quote of the text's own) is dropped, so an exported file
/// imports back as it was.
pub fn csv_text_uncell(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r', '\'']) => rest,
        _ => value,
    }
}

/// A text cell made safe for spreadsheets (OWASP CSV injection): a cell that
/// starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be read by
/// Excel, LibreOffice or Google Sheets as a formula (or, for tab/CR, as one
/// after the leading whitespace is skipped), so it gets a leading `'`, which
/// those programs show as "this is text" and which keeps the rest intact. A
/// text that starts with a `'` of its own gets one too, so that the quote
/// survives both a spreadsheet and [`csv_text_uncell`].
///
/// Apply it to every cell whose text comes from outside (codes, names, SKUs,
/// invoice numbers). Cells the export formats itself — ids, amounts such as
/// `-12.50`, RFC 3339 times, status names — are left alone: a negative amount
/// *is* a number, and quoting it would turn it into text in the spreadsheet.
pub fn csv_text_cell(value: &str) -> std::borrow::Cow<'_, str> {
    match value.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\'') => format!("'{value}").into(),
        _ => value.into(),
    }
}

/// Whether XML 1.0 allows `c` in a document at all (its `Char` production);
/// lone surrogates, also forbidden, cannot occur in a Rust string.
fn xml_char_allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// `value` as XML element text or attribute value: markup characters escaped,
/// and characters XML 1.0 forbids (most C0 controls, U+FFFE, U+FFFF) replaced
/// by U+FFFD, since even escaped as `&#1;` they make the document ill-formed
/// and one dirty order would break the whole export.
///
/// Tab, LF and CR are written as character references: a parser normalises raw
/// ones (CR to LF in text, all three to spaces in attributes), and the
/// references survive that, so the value reads back unchanged.
pub fn xml_escape(value: &str) -> std::borrow::Cow<'_, str> {
    let clean = |c: char| xml_char_allowed(c) && !matches!(c, '<' | '>' | '&' | '"' | '\'' | '\t' | '\n' | '\r');
    if value.chars().all(clean) {
        return value.into();
    }
    let mut out = String::with_capacity(value.len() + 16);
    for c in value.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if xml_char_allowed(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::{csv_text_cell, csv_text_uncell, xml_escape};

    #[test]
    fn formula_starts_are_quoted_and_the_rest_kept() {
        for (input, expected) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@x", "'@x"),
            ("\tfoo", "'\tfoo"),
            ("\rbar", "'\rbar"),
            ("plain", "plain"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(csv_text_cell(input), expected);
            assert_eq!(csv_text_uncell(expected), input, "a quoted cell reads back as it was");
        }
        // A text that starts with a quote of its own keeps it, whatever follows.
        for own in ["'Nice' pillow", "'", "'=1", "''"] {
            let cell = csv_text_cell(own);
            assert_eq!(cell, format!("'{own}"));
            assert_eq!(csv_text_uncell(&cell), own);
        }
        // A quote the export did not put there is text.
        assert_eq!(csv_text_uncell("'Nice'"), "'Nice'");
    }

    #[test]
    fn xml_forbidden_characters_become_replacement_characters() {
        assert_eq!(xml_escape("a\u{1}b\u{B}c\u{1F}d\u{FFFE}\u{FFFF}"), "a\u{FFFD}b\u{FFFD}c\u{FFFD}d\u{FFFD}\u{FFFD}");
        assert_eq!(xml_escape("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;");
        assert_eq!(xml_escape("t\tl\nc\r"), "t&#9;l&#10;c&#13;");
        assert_eq!(xml_escape("São Paulo 📦"), "São Paulo 📦");
    }
}
