//! One pass over the parsed document: how many selections it expands to once
//! every fragment spread is inlined, its aliases, its deepest field, and whether
//! any text in it (or in its variables) holds a NUL.
//!
//! Each fragment is measured once, in dependency order, and a spread adds the
//! fragment's stored measure, so a chain of fragments that each spread the
//! next twice costs one visit per fragment here, while it would expand to 2ⁿ
//! selections in every check that inlines fragments (async-graphql's depth,
//! directive and complexity checks do). Recursion here only follows the nesting
//! of one selection set, which [`super::scan`] has bounded.

use std::collections::HashMap;

use async_graphql::{
    parser::types::{Directive, ExecutableDocument, Selection, SelectionSet},
    Name, Positioned, Variables,
};
use async_graphql_value::{ConstValue, Value};

use super::{Budget, Rejection};

/// What a selection set costs once fragments are inlined.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Measure {
    /// Fields, inline fragments and spreads, counted as often as they would run.
    pub selections: usize,
    /// Aliased fields, counted the same way.
    pub aliases: usize,
    /// Deepest field nesting.
    pub depth: usize,
}

impl Measure {
    fn add(self, other: Measure) -> Measure {
        Measure {
            selections: self.selections.saturating_add(other.selections),
            aliases: self.aliases.saturating_add(other.aliases),
            depth: self.depth.max(other.depth),
        }
    }
}

/// Checks `document` against `budget`; see the module documentation.
pub(super) fn check(document: &ExecutableDocument, variables: &Variables, budget: &Budget) -> Result<Measure, Rejection> {
    if document.fragments.len() > budget.fragments {
        return Err(Rejection::TooManyFragments { limit: budget.fragments });
    }
    check_variables(variables)?;
    let mut memo: HashMap<&Name, Measure> = HashMap::with_capacity(document.fragments.len());
    for name in dependency_order(document)? {
        let Some(fragment) = document.fragments.get(name) else { continue };
        if directives_have_nul(&fragment.node.directives) {
            return Err(Rejection::NulInText);
        }
        let measured = measure(&fragment.node.selection_set.node, &memo, budget)?;
        memo.insert(name, measured);
    }
    let mut total = Measure::default();
    for (_, operation) in document.operations.iter() {
        let operation = &operation.node;
        let defaults_have_nul = operation
            .variable_definitions
            .iter()
            .any(|v| v.node.default_value.as_ref().is_some_and(|d| const_has_nul(&d.node)) || directives_have_nul(&v.node.directives));
        if defaults_have_nul || directives_have_nul(&operation.directives) {
            return Err(Rejection::NulInText);
        }
        total = total.add(measure(&operation.selection_set.node, &memo, budget)?);
    }
    if total.selections > budget.selections {
        return Err(Rejection::TooManySelections { limit: budget.selections });
    }
    if total.aliases > budget.aliases {
        return Err(Rejection::TooManyAliases { limit: budget.aliases });
    }
    if total.depth > budget.depth {
        return Err(Rejection::TooDeep { limit: budget.depth });
    }
    Ok(total)
}

/// Refuses variables holding a NUL in a name or in any text.
pub(super) fn check_variables(variables: &Variables) -> Result<(), Rejection> {
    if variables.iter().any(|(name, value)| name.contains('\0') || const_has_nul(value)) {
        return Err(Rejection::NulInText);
    }
    Ok(())
}

/// Fragment names ordered so that every fragment comes after the fragments it
/// spreads; a cycle is refused here (validation would refuse it too, but only
/// after the inlining checks had walked it). Iterative, so a long chain of
/// fragments cannot exhaust the stack.
fn dependency_order(document: &ExecutableDocument) -> Result<Vec<&Name>, Rejection> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    let spreads: HashMap<&Name, Vec<&Name>> = document
        .fragments
        .iter()
        .map(|(name, fragment)| {
            let mut found = Vec::new();
            collect_spreads(&fragment.node.selection_set.node, &mut found);
            (name, found)
        })
        .collect();
    let mut marks: HashMap<&Name, Mark> = HashMap::with_capacity(spreads.len());
    let mut order = Vec::with_capacity(spreads.len());
    for root in document.fragments.keys() {
        if marks.contains_key(root) {
            continue;
        }
        // (fragment, index of the next spread of it to follow)
        let mut stack: Vec<(&Name, usize)> = vec![(root, 0)];
        marks.insert(root, Mark::Open);
        while let Some((name, next)) = stack.last_mut() {
            let children = spreads.get(*name).map(Vec::as_slice).unwrap_or_default();
            if let Some(child) = children.get(*next).copied() {
                *next += 1;
                match marks.get(child) {
                    Some(Mark::Open) => return Err(Rejection::FragmentCycle { fragment: child.to_string() }),
                    Some(Mark::Done) => {}
                    None if spreads.contains_key(child) => {
                        marks.insert(child, Mark::Open);
                        stack.push((child, 0));
                    }
                    // Unknown fragments are reported by validation.
                    None => {}
                }
            } else {
                let name = *name;
                marks.insert(name, Mark::Done);
                order.push(name);
                stack.pop();
            }
        }
    }
    Ok(order)
}

fn collect_spreads<'a>(set: &'a SelectionSet, found: &mut Vec<&'a Name>) {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => collect_spreads(&field.node.selection_set.node, found),
            Selection::InlineFragment(fragment) => collect_spreads(&fragment.node.selection_set.node, found),
            Selection::FragmentSpread(spread) => found.push(&spread.node.fragment_name.node),
        }
    }
}

/// Measures one selection set; the fragments it spreads are already in `memo`.
fn measure(set: &SelectionSet, memo: &HashMap<&Name, Measure>, budget: &Budget) -> Result<Measure, Rejection> {
    let mut total = Measure::default();
    for item in &set.items {
        let one = match &item.node {
            Selection::Field(field) => {
                let field = &field.node;
                if !budget.introspection && matches!(field.name.node.as_str(), "__schema" | "__type") {
                    return Err(Rejection::IntrospectionDisabled);
                }
                let arguments_have_nul = field.arguments.iter().any(|(_, value)| value_has_nul(&value.node));
                if arguments_have_nul || directives_have_nul(&field.directives) {
                    return Err(Rejection::NulInText);
                }
                let below = measure(&field.selection_set.node, memo, budget)?;
                Measure {
                    selections: below.selections.saturating_add(1),
                    aliases: below.aliases.saturating_add(usize::from(field.alias.is_some())),
                    depth: below.depth + 1,
                }
            }
            Selection::InlineFragment(fragment) => {
                if directives_have_nul(&fragment.node.directives) {
                    return Err(Rejection::NulInText);
                }
                let below = measure(&fragment.node.selection_set.node, memo, budget)?;
                Measure { selections: below.selections.saturating_add(1), ..below }
            }
            Selection::FragmentSpread(spread) => {
                if directives_have_nul(&spread.node.directives) {
                    return Err(Rejection::NulInText);
                }
                let inlined = memo.get(&spread.node.fragment_name.node).copied().unwrap_or_default();
                Measure { selections: inlined.selections.saturating_add(1), ..inlined }
            }
        };
        total = total.add(one);
    }
    Ok(total)
}

fn directives_have_nul(directives: &[Positioned<Directive>]) -> bool {
    directives.iter().any(|d| d.node.arguments.iter().any(|(_, value)| value_has_nul(&value.node)))
}

/// Whether a literal or variable holds a NUL in a string or an object key.
/// Iterative: JSON variables may nest as deep as serde_json allows.
macro_rules! has_nul {
    ($name:ident, $ty:ident) => {
        fn $name(value: &$ty) -> bool {
            let mut pending = vec![value];
            while let Some(value) = pending.pop() {
                match value {
                    $ty::String(text) if text.contains('\0') => return true,
                    $ty::List(items) => pending.extend(items),
                    $ty::Object(fields) => {
                        if fields.keys().any(|k| k.contains('\0')) {
                            return true;
                        }
                        pending.extend(fields.values());
                    }
                    _ => {}
                }
            }
            false
        }
    };
}
has_nul!(value_has_nul, Value);
has_nul!(const_has_nul, ConstValue);
