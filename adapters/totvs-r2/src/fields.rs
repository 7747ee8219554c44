//! Typed reading of one element's children against the layout: each value
//! read once, in any order, with the field's size, mandatory flag and type
//! checked, every problem collected as a [`Violation`] rather than stopping at
//! the first.

use chrono::{DateTime, FixedOffset, NaiveDateTime, Offset, TimeZone, Utc};

use crate::{
    rules::{Rule, Violation},
    xml::Element,
};

/// The offset of a date-time sent without one: Brasília time, where TOTVS
/// systems run (Brazil has kept UTC−3 all year since 2019).
pub const DEFAULT_OFFSET_SECONDS: i32 = -3 * 3600;

/// [`DEFAULT_OFFSET_SECONDS`] as an offset.
pub fn senders_offset() -> FixedOffset {
    FixedOffset::east_opt(DEFAULT_OFFSET_SECONDS).unwrap_or(Utc.fix())
}

/// Reads the fields of one element; `prefix` names them in violations.
pub struct Fields<'a> {
    element: &'a Element<'a>,
    prefix: String,
    /// Names the caller asked for; anything else is an unknown field.
    known: Vec<&'static str>,
    /// Problems found so far.
    pub violations: Vec<Violation>,
}

impl<'a> Fields<'a> {
    /// Starts reading `element`'s children.
    pub fn new(element: &'a Element<'a>, prefix: impl Into<String>) -> Self {
        Fields { element, prefix: prefix.into(), known: Vec::with_capacity(element.children.len().max(48)), violations: Vec::new() }
    }

    /// The path of a field in violations.
    pub fn path(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Records a violation at `name`.
    pub fn violate(&mut self, rule: Rule, name: &str, message: impl std::fmt::Display) {
        let path = self.path(name);
        self.violations.push(Violation::new(rule, path, message));
    }

    /// The elements named `name` (a repeated field, a group).
    pub fn all(&mut self, name: &'static str) -> Vec<&'a Element<'a>> {
        self.known.push(name);
        self.element.children.iter().filter(|c| c.name == name).collect()
    }

    /// The raw text of field `name`, trimmed; `None` when absent, nil or blank.
    pub fn raw(&mut self, name: &'static str, mandatory: bool) -> Option<&'a str> {
        self.known.push(name);
        // Read for every field of every item: no list is built.
        let element: &'a Element<'a> = self.element;
        let mut found = element.children.iter().filter(|c| c.name == name);
        let first = found.next();
        if found.next().is_some() {
            self.violate(Rule::UnknownField, name, "appears more than once");
        }
        let value = first.filter(|e| !e.nil).map(|e| e.text.trim()).filter(|t| !t.is_empty());
        if value.is_none() && mandatory {
            self.violate(Rule::Mandatory, name, "is mandatory");
        }
        value
    }

    /// A text of at most `max` characters.
    pub fn text(&mut self, name: &'static str, mandatory: bool, max: usize) -> Option<String> {
        let value = self.raw(name, mandatory)?;
        let length = value.chars().count();
        if length > max {
            self.violate(Rule::Size, name, format!("{length} characters, more than {max}"));
            return None;
        }
        Some(value.to_owned())
    }

    /// An integer of at most `max` characters.
    pub fn integer(&mut self, name: &'static str, mandatory: bool, max: usize) -> Option<i64> {
        let value = self.text(name, mandatory, max)?;
        match value.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                self.violate(Rule::Integer, name, format!("{value:?} is not an integer"));
                None
            }
        }
    }

    /// A decimal of at most 13 characters, as its text (money stays exact)
    /// and its value.
    pub fn decimal(&mut self, name: &'static str, mandatory: bool) -> Option<(String, f64)> {
        let value = self.text(name, mandatory, 13)?;
        let plain = value.strip_prefix('-').unwrap_or(&value);
        let (whole, fraction) = plain.split_once('.').unwrap_or((plain, ""));
        let digits = !whole.is_empty() && whole.chars().chain(fraction.chars()).all(|c| c.is_ascii_digit());
        match value.parse::<f64>() {
            Ok(n) if digits && n.is_finite() => Some((value, n)),
            _ => {
                self.violate(Rule::Decimal, name, format!("{value:?} is not a decimal number"));
                None
            }
        }
    }

    /// A boolean: `true`, `false`, `1` or `0` (xsd:boolean).
    pub fn boolean(&mut self, name: &'static str) -> Option<bool> {
        let value = self.raw(name, false)?;
        match value {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            other => {
                self.violate(Rule::Boolean, name, format!("{other:?} is not true or false"));
                None
            }
        }
    }

    /// A date-time of at most 29 characters; see [`parse_datetime`].
    pub fn datetime(&mut self, name: &'static str, mandatory: bool) -> Option<DateTime<Utc>> {
        let value = self.text(name, mandatory, 29)?;
        match parse_datetime(&value) {
            Some(at) => Some(at),
            None => {
                self.violate(
                    Rule::DateTime,
                    name,
                    format!("{value:?} is not a date-time like 2019-01-01T00:01:00.000-03:00"),
                );
                None
            }
        }
    }

    /// A list of strings, each of at most `max` characters. Read as the
    /// senders write it: one element per entry (`<ids>A</ids><ids>B</ids>`),
    /// or one element whose children are the entries (`<ids><id>A</id></ids>`).
    pub fn list(&mut self, name: &'static str, max: usize) -> Vec<String> {
        let mut entries = Vec::new();
        for element in self.all(name) {
            if element.children.is_empty() {
                entries.push(element.text.trim().to_owned());
            } else {
                entries.extend(element.children.iter().map(|c| c.text.trim().to_owned()));
            }
        }
        entries.retain(|e| !e.is_empty());
        for (n, entry) in entries.iter().enumerate() {
            let length = entry.chars().count();
            if length > max {
                let path = format!("{name}[{n}]");
                self.violations.push(Violation::new(Rule::Size, self.path(&path), format!("{length} characters, more than {max}")));
            }
        }
        entries
    }

    /// Ends the reading: every child not asked for is an unknown field.
    pub fn finish(mut self) -> Vec<Violation> {
        let unknown: Vec<String> =
            self.element.children.iter().filter(|c| !self.known.contains(&c.name.as_ref())).map(|c| c.name.to_string()).collect();
        for name in unknown {
            let path = self.path(&name);
            self.violations.push(Violation::new(Rule::UnknownField, path, "is not a field of this layout"));
        }
        self.violations
    }
}

/// Parses `2019-01-01T00:01:00.000-03:00`, with or without milliseconds and
/// seconds, with an offset, `Z`, or none (then [`DEFAULT_OFFSET_SECONDS`]).
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M%:z"] {
        if let Ok(at) = DateTime::parse_from_str(text, format) {
            return Some(at.with_timezone(&Utc));
        }
    }
    let offset = senders_offset();
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .and_then(|local| offset.from_local_datetime(&local).single())
        .map(|at| at.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times_with_and_without_offset() {
        let utc = |s: &str| parse_datetime(s).map(|d| d.to_rfc3339());
        assert_eq!(utc("2019-01-01T00:01:00.000-03:00").as_deref(), Some("2019-01-01T03:01:00+00:00"));
        assert_eq!(utc("2019-01-01T00:01:00-03:00").as_deref(), Some("2019-01-01T03:01:00+00:00"));
        assert_eq!(utc("2019-01-01T00:01-03:00").as_deref(), Some("2019-01-01T03:01:00+00:00"));
        assert_eq!(utc("2019-01-01T03:01:00Z").as_deref(), Some("2019-01-01T03:01:00+00:00"));
        assert_eq!(utc("2019-01-01T00:01:00").as_deref(), Some("2019-01-01T03:01:00+00:00"));
        assert_eq!(utc("2019-01-01T00:01").as_deref(), Some("2019-01-01T03:01:00+00:00"));
        for bad in ["2019-01-01", "01/01/2019 00:01", "2019-13-01T00:01:00", "2019-01-01T25:00:00", "yesterday", ""] {
            assert_eq!(utc(bad), None, "{bad}");
        }
    }
}
