//! Custom scalars.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

/// A money amount, exact to the cent. Sent as a decimal string with two places
/// (`"1299.90"`); accepted as a string or number with at most two decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money(pub i64);

pub use domain::money::{format_cents, parse_cents};

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

