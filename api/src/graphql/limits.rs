//! Document limits checked right after parsing, before validation and execution:
//! aliased fields (async-graphql has no setting for them) and selection depth
//! counted over every field, introspection included (async-graphql's own depth
//! limit skips introspection, where `ofType { ofType { … } }` nests freely).

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery},
    parser::types::{ExecutableDocument, FragmentDefinition, Selection, SelectionSet},
    Name, Positioned, ServerError, ServerResult, Variables,
};

/// Rejects documents with more than `aliases` aliased fields (which would let one
/// request run an expensive field many times) or nested deeper than `depth`.
pub struct DocumentLimits {
    /// Maximum aliased fields.
    pub aliases: usize,
    /// Maximum selection depth.
    pub depth: usize,
}

impl ExtensionFactory for DocumentLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(DocumentLimitsExtension { aliases: self.aliases, depth: self.depth })
    }
}

struct DocumentLimitsExtension {
    aliases: usize,
    depth: usize,
}

/// Deepest level and aliases of a selection set.
#[derive(Default, Clone, Copy)]
struct Measure {
    aliases: usize,
    depth: usize,
}

struct Walker<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    /// Each fragment measured once (relative to where it is spread), so a
    /// fragment spread many times costs no more than once: no exponential blow-up.
    memo: HashMap<&'a Name, Measure>,
    /// Fragments being measured; a cycle is left for validation to report.
    path: Vec<&'a Name>,
}

impl<'a> Walker<'a> {
    fn measure(&mut self, set: &'a SelectionSet) -> Measure {
        let mut total = Measure::default();
        for item in &set.items {
            let inner = match &item.node {
                Selection::Field(field) => {
                    let below = self.measure(&field.node.selection_set.node);
                    Measure {
                        aliases: below.aliases + usize::from(field.node.alias.is_some()),
                        depth: below.depth + 1,
                    }
                }
                Selection::InlineFragment(fragment) => self.measure(&fragment.node.selection_set.node),
                Selection::FragmentSpread(spread) => self.fragment(&spread.node.fragment_name.node),
            };
            total.aliases = total.aliases.saturating_add(inner.aliases);
            total.depth = total.depth.max(inner.depth);
        }
        total
    }

    fn fragment(&mut self, name: &'a Name) -> Measure {
        if let Some(known) = self.memo.get(name) {
            return *known;
        }
        let Some(definition) = self.fragments.get(name) else { return Measure::default() };
        if self.path.contains(&name) {
            return Measure::default();
        }
        self.path.push(name);
        let measured = self.measure(&definition.node.selection_set.node);
        self.path.pop();
        self.memo.insert(name, measured);
        measured
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for DocumentLimitsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let mut walker = Walker { fragments: &document.fragments, memo: HashMap::new(), path: Vec::new() };
        // Aliases count over all operations (a document is sent whole), depth is
        // the deepest of any.
        let mut measure = Measure::default();
        for (_, operation) in document.operations.iter() {
            let one = walker.measure(&operation.node.selection_set.node);
            measure.aliases = measure.aliases.saturating_add(one.aliases);
            measure.depth = measure.depth.max(one.depth);
        }
        if measure.aliases > self.aliases {
            return Err(ServerError::new(format!("too many aliases (limit {})", self.aliases), None));
        }
        if measure.depth > self.depth {
            return Err(ServerError::new(format!("the query is nested too deep (limit {})", self.depth), None));
        }
        Ok(document)
    }
}
