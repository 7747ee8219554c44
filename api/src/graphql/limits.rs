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

#[derive(Default)]
struct Measure {
    aliases: usize,
    depth: usize,
}

struct Walker<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    /// Fragments on the current path; a cycle is left for validation to report.
    path: Vec<&'a Name>,
}

impl<'a> Walker<'a> {
    fn walk(&mut self, set: &'a SelectionSet, level: usize, measure: &mut Measure) {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    measure.aliases += usize::from(field.node.alias.is_some());
                    measure.depth = measure.depth.max(level + 1);
                    self.walk(&field.node.selection_set.node, level + 1, measure);
                }
                Selection::InlineFragment(fragment) => self.walk(&fragment.node.selection_set.node, level, measure),
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    if self.path.contains(&name) {
                        continue;
                    }
                    if let Some(fragment) = self.fragments.get(name) {
                        self.path.push(name);
                        self.walk(&fragment.node.selection_set.node, level, measure);
                        self.path.pop();
                    }
                }
            }
        }
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
        let mut measure = Measure::default();
        let mut walker = Walker { fragments: &document.fragments, path: Vec::new() };
        for (_, operation) in document.operations.iter() {
            walker.walk(&operation.node.selection_set.node, 0, &mut measure);
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
