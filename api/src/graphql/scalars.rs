//! Custom scalars.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

/// A money amount, exact to the cent. Sent as a decimal string with two places
/// (`"1299.90"`); accepted as a string or number with at most two decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money(pub i64);

/// Parses `"12"`, `"12.3"`, `"-12.34"` into cents.
pub fn parse_cents(text: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() || fraction.len() > 2 || !whole.chars().chain(fraction.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = format!("{fraction:0<2}").parse().ok()?;
    let cents = whole.checked_mul(100)?.checked_add(fraction)?;
    Some(if negative { -cents } else { cents })
}

/// Formats cents as `"1299.90"`.
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[Scalar(name = "Money")]
impl ScalarType for Money {
    fn parse(value: Value) -> InputValueResult<Self> {
        let text = match &value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return Err(InputValueError::expected_type(value)),
        };
        parse_cents(&text)
            .map(Money)
            .ok_or_else(|| InputValueError::custom("a money amount has at most two decimal places, e.g. \"1299.90\""))
    }

    fn to_value(&self) -> Value {
        Value::String(format_cents(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_round_trip_exactly() {
        assert_eq!(parse_cents("1299.9"), Some(129_990));
        assert_eq!(parse_cents("0.05"), Some(5));
        assert_eq!(parse_cents("-3"), Some(-300));
        assert_eq!(parse_cents("1.234"), None);
        assert_eq!(parse_cents("1e3"), None);
        assert_eq!(parse_cents(".5"), None);
        assert_eq!(format_cents(129_990), "1299.90");
        assert_eq!(format_cents(-5), "-0.05");
    }
}
