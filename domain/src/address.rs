//! Postal addresses with coordinates, shared by localities and orders'
//! alternative delivery addresses, and their validation.

use crate::{validate, DomainError};

/// An address as a client sends it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Address {
    /// Street.
    pub street: Option<String>,
    /// Number.
    pub number: Option<String>,
    /// Complement.
    pub complement: Option<String>,
    /// District.
    pub district: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State, two letters.
    pub state: Option<String>,
    /// Country, two letters.
    pub country: Option<String>,
    /// Postal code.
    pub zip_code: Option<String>,
    /// Latitude, −90..90; with longitude or not at all.
    pub latitude: Option<f64>,
    /// Longitude, −180..180; with latitude or not at all.
    pub longitude: Option<f64>,
}

impl Address {
    /// Whether it has enough to deliver to: zip code, or city and state.
    pub fn is_complete(&self) -> bool {
        let has = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        has(&self.zip_code) || (has(&self.city) && has(&self.state))
    }

    /// Trims and checks every part; `prefix` names the fields in errors (e.g.
    /// `address.` or `localities[3].`).
    pub fn cleaned(self, prefix: &str) -> Result<Address, DomainError> {
        let f = |name: &str| format!("{prefix}{name}");
        let opt = |name: &str, value: Option<String>, max| validate::optional_text(&f(name), value.as_deref(), max);
        coordinates(prefix, self.latitude, self.longitude)?;
        Ok(Address {
            street: opt("street", self.street, 200)?,
            number: opt("number", self.number, 30)?,
            complement: opt("complement", self.complement, 30)?,
            district: opt("district", self.district, 50)?,
            city: opt("city", self.city, 50)?,
            state: two_letters(&f("state"), self.state)?,
            country: two_letters(&f("country"), self.country)?,
            zip_code: opt("zipCode", self.zip_code, 10)?,
            latitude: self.latitude,
            longitude: self.longitude,
        })
    }
}

/// Parses a two-letter code (state, country), upper-cased.
fn two_letters(field: &str, value: Option<String>) -> Result<Option<String>, DomainError> {
    match value.map(|v| v.trim().to_uppercase()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) if v.len() == 2 && v.chars().all(|c| c.is_ascii_uppercase()) => Ok(Some(v)),
        Some(_) => Err(DomainError::validation(field, "must be a two-letter code")),
    }
}

/// Checks a latitude/longitude pair.
pub fn coordinates(prefix: &str, latitude: Option<f64>, longitude: Option<f64>) -> Result<(), DomainError> {
    match (latitude, longitude) {
        (None, None) => Ok(()),
        (Some(lat), Some(lon)) => {
            if !(-90.0..=90.0).contains(&lat) {
                return Err(DomainError::validation(format!("{prefix}latitude"), "must be between -90 and 90"));
            }
            if !(-180.0..=180.0).contains(&lon) {
                return Err(DomainError::validation(format!("{prefix}longitude"), "must be between -180 and 180"));
            }
            Ok(())
        }
        (Some(_), None) => Err(DomainError::validation(format!("{prefix}longitude"), "is required with latitude")),
        (None, Some(_)) => Err(DomainError::validation(format!("{prefix}latitude"), "is required with longitude")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_must_be_in_range_and_come_in_pairs() {
        assert!(coordinates("", Some(-23.5), Some(-46.6)).is_ok());
        assert!(coordinates("", None, None).is_ok());
        assert!(coordinates("", Some(90.1), Some(0.0)).is_err());
        assert!(coordinates("", Some(0.0), Some(-180.5)).is_err());
        assert!(coordinates("", Some(1.0), None).is_err());
        assert!(coordinates("", None, Some(1.0)).is_err());
        assert!(coordinates("", Some(f64::NAN), Some(1.0)).is_err());
    }

    #[test]
    fn two_letter_codes_are_upper_cased() {
        assert_eq!(two_letters("s", Some(" sp ".into())).ok().flatten().as_deref(), Some("SP"));
        assert!(two_letters("s", Some("São".into())).is_err());
        assert_eq!(two_letters("s", Some(" ".into())).ok().flatten(), None);
    }

    #[test]
    fn an_address_needs_a_zip_code_or_city_and_state() {
        assert!(Address { zip_code: Some("01000-000".into()), ..Address::default() }.is_complete());
        assert!(Address { city: Some("Rio".into()), state: Some("RJ".into()), ..Address::default() }.is_complete());
        assert!(!Address { city: Some("Rio".into()), ..Address::default() }.is_complete());
    }
}
