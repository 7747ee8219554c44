//! Keyset pagination arguments shared by every list.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select};

use crate::{DomainError, DomainResult};

/// Largest page a client may ask for.
pub const MAX_PAGE: u64 = 100;
/// Page size when none is given.
pub const DEFAULT_PAGE: u64 = 20;

/// A validated page request: up to `first` rows after the row with id `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows wanted (1..=100).
    pub first: u64,
    /// Exclusive lower bound of the id, from the `after` cursor.
    pub after: Option<i32>,
}

/// One page of rows and whether more follow.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The rows, in order.
    pub items: Vec<T>,
    /// Whether rows follow the last one.
    pub has_next_page: bool,
    /// Rows matching the filter in all pages.
    pub total_count: u64,
}

impl PageRequest {
    /// Checks `first` and decodes the `after` cursor.
    pub fn parse(first: Option<i32>, after: Option<&str>) -> Result<Self, DomainError> {
        let first = match first {
            None => DEFAULT_PAGE,
            Some(n) if n >= 1 && u64::try_from(n).is_ok_and(|n| n <= MAX_PAGE) => n as u64,
            Some(_) => return Err(DomainError::validation("first", format!("must be between 1 and {MAX_PAGE}"))),
        };
        let after = after.map(decode_cursor).transpose()?;
        Ok(PageRequest { first, after })
    }
}

/// One page of `query`, newest first by `id` (the `after` cursor is an id
/// bound from above), with the total count of the filtered query.
pub async fn newest_first<E>(db: &impl ConnectionTrait, query: Select<E>, id: E::Column, page: PageRequest) -> DomainResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Send + Sync,
{
    let total_count = query.clone().count(db).await?;
    let query = match page.after {
        Some(after) => query.filter(id.lt(after)),
        None => query,
    };
    let mut items = query.order_by_desc(id).limit(page.first + 1).all(db).await?;
    let has_next_page = items.len() as u64 > page.first;
    items.truncate(page.first as usize);
    Ok(Page { items, has_next_page, total_count })
}

/// The opaque cursor of a row id.
pub fn encode_cursor(id: i32) -> String {
    URL_SAFE_NO_PAD.encode(format!("id:{id}"))
}

fn decode_cursor(cursor: &str) -> Result<i32, DomainError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|s| s.strip_prefix("id:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| DomainError::validation("after", "is not a cursor returned by this API"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_bounds_are_checked() {
        let page = PageRequest::parse(Some(5), Some(&encode_cursor(42))).ok();
        assert_eq!(page, Some(PageRequest { first: 5, after: Some(42) }));
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(Some(101), None).is_err());
        assert!(PageRequest::parse(None, Some("garbage")).is_err());
    }
}
