//! Small parsers for user-supplied fields. Each returns the normalised value or a
//! [`DomainError::Validation`] naming the field.

use crate::DomainError;

/// A syntactically valid e-mail address, lower-cased.
pub fn email(field: &str, input: &str) -> Result<String, DomainError> {
    let value = input.trim().to_lowercase();
    let bad = || DomainError::validation(field, "must be a valid e-mail address");
    if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = value.split_once('@').ok_or_else(bad)?;
    if local.is_empty() || local.len() > 64 || domain.contains('@') {
        return Err(bad());
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty() && !l.starts_with('-') && !l.ends_with('-') && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(bad());
    }
    Ok(value)
}

/// A company identifier: 2–60 characters of lower-case letters, digits and
/// hyphens, starting with a letter or digit. Customers type it at login.
pub fn identifier(field: &str, input: &str) -> Result<String, DomainError> {
    let value = input.trim().to_lowercase();
    let ok_len = (2..=60).contains(&value.len());
    let ok_chars = value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let ok_start = value.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    if ok_len && ok_chars && ok_start {
        Ok(value)
    } else {
        Err(DomainError::validation(
            field,
            "must be 2 to 60 characters: lower-case letters, digits and hyphens, starting with a letter or digit",
        ))
    }
}

/// A phone number: digits with optional `+`, spaces, parentheses and hyphens,
/// 8 to 15 digits in all (E.164 allows 15).
pub fn phone(field: &str, input: &str) -> Result<String, DomainError> {
    let value = input.trim().to_owned();
    let allowed = value.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '(' | ')' | '-'));
    let digits = value.chars().filter(char::is_ascii_digit).count();
    if allowed && (8..=15).contains(&digits) && !value[1..].contains('+') {
        Ok(value)
    } else {
        Err(DomainError::validation(field, "must be a phone number with 8 to 15 digits"))
    }
}

/// A required text of at most `max` characters, trimmed.
pub fn text(field: &str, input: &str, max: usize) -> Result<String, DomainError> {
    let value = input.trim();
    if value.is_empty() {
        return Err(DomainError::validation(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(DomainError::validation(field, format!("must be at most {max} characters")));
    }
    Ok(value.to_owned())
}

/// An optional text: blank becomes `None`.
pub fn optional_text(field: &str, input: Option<&str>, max: usize) -> Result<Option<String>, DomainError> {
    match input.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => text(field, value, max).map(Some),
    }
}

/// `text` trimmed, when anything is left: what a wire format's optional
/// field means when it may come empty or padded.
pub fn given(text: Option<&str>) -> Option<String> {
    text.map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(email("e", " Ana@Example.COM ").ok().as_deref(), Some("ana@example.com"));
        for bad in ["", "ana", "ana@", "@x.com", "ana@x", "a b@x.com", "a@x..com", "a@b@c.com"] {
            assert!(email("e", bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn identifiers_are_slugs() {
        assert_eq!(identifier("i", "Acme-Logistics").ok().as_deref(), Some("acme-logistics"));
        for bad in ["a", "-acme", "acme co", "açme", &"x".repeat(61)] {
            assert!(identifier("i", bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn phones_need_enough_digits() {
        assert!(phone("p", "+55 (11) 3333-4444").is_ok());
        assert!(phone("p", "123").is_err());
        assert!(phone("p", "11 3333-44x4").is_err());
        assert!(phone("p", "11+33334444").is_err());
    }
}
