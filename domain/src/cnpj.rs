//! CNPJ, the Brazilian company registry number, in both its numeric form and the
//! alphanumeric form issued from July 2026 (12 characters `0-9A-Z` followed by two
//! numeric check digits). Both use the same modulo-11 check with each character
//! valued as its ASCII code minus 48.

use std::fmt;

use crate::DomainError;

/// A CNPJ whose format and check digits are valid. Stored as 14 characters,
/// upper-case, without punctuation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cnpj(String);

const WEIGHTS_FIRST: [u32; 12] = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
const WEIGHTS_SECOND: [u32; 13] = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];

impl Cnpj {
    /// Parses `12.345.678/0001-95`, `12345678000195` or an alphanumeric CNPJ such
    /// as `12.ABC.345/01DE-35`. Dots, slash, hyphen and spaces are ignored.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let bad = |message: &str| DomainError::validation("cnpj", message);
        let chars: String = input
            .chars()
            .filter(|c| !matches!(c, '.' | '/' | '-' | ' '))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if chars.len() != 14 {
            return Err(bad("must have 14 characters (digits, or letters in the first 12)"));
        }
        let bytes = chars.as_bytes();
        if !bytes[..12].iter().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()) {
            return Err(bad("the first 12 characters must be digits or letters A-Z"));
        }
        if !bytes[12..].iter().all(u8::is_ascii_digit) {
            return Err(bad("the last 2 characters (check digits) must be digits"));
        }
        if bytes.iter().all(|b| *b == bytes[0]) {
            return Err(bad("all characters are the same"));
        }
        let values: Vec<u32> = bytes.iter().map(|b| u32::from(*b) - 48).collect();
        let first = check_digit(&values[..12], &WEIGHTS_FIRST);
        let second = check_digit(&values[..13], &WEIGHTS_SECOND);
        if values[12] != first || values[13] != second {
            return Err(bad("check digits do not match"));
        }
        Ok(Cnpj(chars))
    }

    /// The 14 normalised characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_digit(values: &[u32], weights: &[u32]) -> u32 {
    let sum: u32 = values.iter().zip(weights).map(|(v, w)| v * w).sum();
    match sum % 11 {
        0 | 1 => 0,
        rest => 11 - rest,
    }
}

impl fmt::Display for Cnpj {
    /// `12.345.678/0001-95`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.0;
        write!(f, "{}.{}.{}/{}-{}", &s[..2], &s[2..5], &s[5..8], &s[8..12], &s[12..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_formatted_numeric_cnpj_is_accepted_and_normalised() {
        let cnpj = Cnpj::parse("11.222.333/0001-81").map(|c| c.as_str().to_owned());
        assert_eq!(cnpj.ok().as_deref(), Some("11222333000181"));
    }

    #[test]
    fn an_unformatted_numeric_cnpj_is_accepted() {
        assert!(Cnpj::parse("11222333000181").is_ok());
    }

    #[test]
    fn the_official_alphanumeric_example_is_accepted() {
        // Receita Federal's example of the alphanumeric CNPJ.
        assert!(Cnpj::parse("12.ABC.345/01DE-35").is_ok());
        assert!(Cnpj::parse("12abc34501de35").is_ok());
    }

    #[test]
    fn a_wrong_check_digit_is_rejected() {
        assert!(Cnpj::parse("11.222.333/0001-82").is_err());
        assert!(Cnpj::parse("12.ABC.345/01DE-36").is_err());
    }

    #[test]
    fn wrong_lengths_letters_in_check_digits_and_repeated_digits_are_rejected() {
        assert!(Cnpj::parse("1122233300018").is_err());
        assert!(Cnpj::parse("112223330001811").is_err());
        assert!(Cnpj::parse("112223330001A1").is_err());
        assert!(Cnpj::parse("00000000000000").is_err());
        assert!(Cnpj::parse("11.222.333/0001-8!").is_err());
    }

    #[test]
    fn display_formats_with_punctuation() {
        let shown = Cnpj::parse("11222333000181").map(|c| c.to_string());
        assert_eq!(shown.ok().as_deref(), Some("11.222.333/0001-81"));
    }
}
