//! Reading rows from JSON the database built (`json_agg`, `json_group_array`):
//! closed sets arrive as their stored strings (`IN_TRANSIT`), not as the
//! variant names their own serde derives use, so the models that are read
//! this way name these functions on those fields.

use sea_orm::ActiveEnum;
use serde::{de::Error, Deserialize, Deserializer};

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
}
