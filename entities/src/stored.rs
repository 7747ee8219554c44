//! Reading rows from JSON the database built (`json_agg`, `json_group_array`):
//! closed sets arrive as their stored strings (`IN_TRANSIT`), not as the
//! variant names their own serde derives use, and times are read by a faster
//! parser than chrono's own `Deserialize`, so the models that are read this
//! way name these functions on those fields.

use std::fmt;

use chrono::{DateTime, FixedOffset, Utc};
use sea_orm::ActiveEnum;
use serde::{
    de::{Error, Visitor},
    Deserialize, Deserializer,
};

/// A closed set from its stored string.
pub fn active_enum<'de, D, E>(deserializer: D) -> Result<E, D::Error>
where
    D: Deserializer<'de>,
    E: ActiveEnum<Value = String>,
{
    let stored = String::deserialize(deserializer)?;
    E::try_from_value(&stored).map_err(|_| D::Error::custom(format!("{stored:?} is not a stored value of {}", E::name().to_string())))
}

/// An optional closed set from its stored string or `null`.
pub fn optional_active_enum<'de, D, E>(deserializer: D) -> Result<Option<E>, D::Error>
where
    D: Deserializer<'de>,
    E: ActiveEnum<Value = String>,
{
    match Option::<String>::deserialize(deserializer)? {
        None => Ok(None),
        Some(stored) => E::try_from_value(&stored)
            .map(Some)
            .map_err(|_| D::Error::custom(format!("{stored:?} is not a stored value of {}", E::name().to_string()))),
    }
}

/// A time as the database wrote it: RFC 3339, as PostgreSQL writes a
/// `timestamptz` into JSON and sqlx stores one in SQLite.
///
/// chrono's `Deserialize` reads with its relaxed `FromStr`, about four times
/// the cost of its strict RFC 3339 parser; a page's lists hold a few hundred
/// times, so the strict parser goes first. Whatever it refuses is read as
/// chrono would have read it, so what is accepted does not change.
pub fn timestamp<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    deserializer.deserialize_str(Timestamp)
}

/// An optional time ([`timestamp`]) or `null`.
pub fn optional_timestamp<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    deserializer.deserialize_option(OptionalTimestamp)
}

struct Timestamp;

impl Visitor<'_> for Timestamp {
    type Value = DateTime<Utc>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an RFC 3339 time")
    }

    fn visit_str<E: Error>(self, text: &str) -> Result<Self::Value, E> {
        DateTime::parse_from_rfc3339(text)
            .or_else(|_| text.parse::<DateTime<FixedOffset>>())
            .map(|time| time.with_timezone(&Utc))
            .map_err(E::custom)
    }
}

struct OptionalTimestamp;

impl<'de> Visitor<'de> for OptionalTimestamp {
    type Value = Option<DateTime<Utc>>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an RFC 3339 time or null")
    }

    fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        timestamp(deserializer).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OrderStatus;

    #[derive(Deserialize)]
    struct Row {
        #[serde(deserialize_with = "active_enum")]
        to: OrderStatus,
        #[serde(deserialize_with = "optional_active_enum")]
        from: Option<OrderStatus>,
    }

    #[test]
    fn stored_strings_read_back_and_others_are_refused() {
        let row: Row = serde_json::from_str(r#"{"to":"IN_TRANSIT","from":null}"#).unwrap();
        assert_eq!((row.to, row.from), (OrderStatus::InTransit, None));
        let row: Row = serde_json::from_str(r#"{"to":"DELIVERED","from":"ON_HOLD"}"#).unwrap();
        assert_eq!((row.to, row.from), (OrderStatus::Delivered, Some(OrderStatus::OnHold)));
        // The variant name is not what is stored.
        assert!(serde_json::from_str::<Row>(r#"{"to":"InTransit","from":null}"#).is_err());
        assert!(serde_json::from_str::<Row>(r#"{"to":"DELIVERED","from":"nope"}"#).is_err());
    }

    #[derive(Deserialize)]
    struct Times {
        #[serde(deserialize_with = "timestamp")]
        at: DateTime<Utc>,
        #[serde(deserialize_with = "optional_timestamp")]
        until: Option<DateTime<Utc>>,
    }

    fn times(json: &str) -> Result<Times, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn times_read_as_chrono_reads_them() {
        let cases = [
            // PostgreSQL's JSON, sqlx's text in SQLite, whole seconds, UTC as `Z`.
            "2026-12-07T13:22:32.608222+00:00",
            "2026-12-07T13:22:32.608222312+00:00",
            "2026-12-07T13:22:32+00:00",
            "2026-12-07T13:22:32Z",
            // Another offset, read as the same instant in UTC.
            "2026-12-07T10:22:32.5-03:00",
            // What only chrono's relaxed parser takes.
            "2026-12-07 13:22:32.608222 +00:00",
            "2026-12-07T13:22:32+0000",
        ];
        for text in cases {
            let chrono: DateTime<Utc> = serde_json::from_str(&format!("{text:?}")).expect(text);
            let read = times(&format!(r#"{{"at":{text:?},"until":{text:?}}}"#)).expect(text);
            assert_eq!((read.at, read.until), (chrono, Some(chrono)), "{text}");
        }
        let read = times(r#"{"at":"2026-12-07T10:22:32.5-03:00","until":null}"#).unwrap();
        assert_eq!(read.at.to_rfc3339(), "2026-12-07T13:22:32.500+00:00");
        assert_eq!(read.until, None);
    }

    #[test]
    fn what_is_not_a_time_is_refused() {
        for at in [r#""2026-13-07T13:22:32Z""#, r#""yesterday""#, r#""""#, "1765113752", "null"] {
            assert!(times(&format!(r#"{{"at":{at},"until":null}}"#)).is_err(), "{at}");
        }
        assert!(times(r#"{"at":"2026-12-07T13:22:32Z","until":"soon"}"#).is_err());
        assert!(times(r#"{"at":"2026-12-07T13:22:32Z","until":7}"#).is_err());
    }
}
