//! What an introspection selection (`__schema`, `__type`) costs before it runs. async-graphql
//! counts every introspection field once, however many types or fields it lists; here each
//! list field multiplies the cost of what it selects by the schema's own list sizes (the type
//! count, the mean number of fields per type, …), and every alias is counted again.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::registry::{MetaType, Registry};
use std::cell::Cell;

/// How long the schema's introspection lists are.
#[derive(Debug, Clone, Copy)]
pub struct ListSizes {
    types: usize,
    fields: usize,
    args: usize,
    input_fields: usize,
    enum_values: usize,
    possible_types: usize,
    directives: usize,
}

/// `total / count`, rounded up, and at least 1.
fn mean(total: usize, count: usize) -> usize {
    total.div_ceil(count.max(1)).max(1)
}

impl ListSizes {
    pub fn of(registry: &Registry) -> ListSizes {
        let (mut with_fields, mut fields, mut args) = (0, 0, 0);
        let (mut inputs, mut input_fields, mut enums, mut enum_values, mut abstracts, mut possible) =
            (0, 0, 0, 0, 0, 0);
        for ty in registry.types.values() {
            match ty {
                MetaType::Object { fields: f, .. } => {
                    with_fields += 1;
                    fields += f.len();
                    args += f.values().map(|f| f.args.len()).sum::<usize>();
                }
                MetaType::Interface { fields: f, possible_types: p, .. } => {
                    with_fields += 1;
                    fields += f.len();
                    args += f.values().map(|f| f.args.len()).sum::<usize>();
                    abstracts += 1;
                    possible += p.len();
                }
                MetaType::Union { possible_types: p, .. } => {
                    abstracts += 1;
                    possible += p.len();
                }
                MetaType::Enum { enum_values: e, .. } => {
                    enums += 1;
                    enum_values += e.len();
                }
                MetaType::InputObject { input_fields: i, .. } => {
                    inputs += 1;
                    input_fields += i.len();
                }
                MetaType::Scalar { .. } => {}
            }
        }
        ListSizes {
            types: registry.types.len().max(1),
            fields: mean(fields, with_fields),
            args: mean(args, fields),
            input_fields: mean(input_fields, inputs),
            enum_values: mean(enum_values, enums),
            possible_types: mean(possible, abstracts),
            directives: registry.directives.len().max(1),
        }
    }

    /// How many values an introspection field named `name` answers per parent.
    fn multiplier(&self, name: &str) -> usize {
        match name {
            "types" => self.types,
            "fields" => self.fields,
            "args" => self.args,
            "inputFields" => self.input_fields,
            "enumValues" => self.enum_values,
            "possibleTypes" | "interfaces" => self.possible_types,
            "directives" => self.directives,
            _ => 1,
        }
    }
}

/// Fragments nest at most this deep here (deeper documents are refused by the parser's depth
/// limit or validation anyway); a cycle stops at it instead of looping.
const MAX_FRAGMENT_NESTING: usize = 64;

/// Selections visited at most: fragments spread twice in each of many fragments would
/// otherwise make the walk itself exponential. Past it the cost is unbounded (refused).
const MAX_STEPS: usize = 100_000;

/// The cost of every introspection field of every operation of `doc`.
pub fn introspection_cost(doc: &ExecutableDocument, sizes: &ListSizes) -> usize {
    let walker = Walker { doc, sizes, steps: Cell::new(0) };
    doc.operations.iter().map(|(_, op)| walker.roots(&op.node.selection_set.node, 0)).fold(0, usize::saturating_add)
}

struct Walker<'a> {
    doc: &'a ExecutableDocument,
    sizes: &'a ListSizes,
    steps: Cell<usize>,
}

impl Walker<'_> {
    /// The `__schema` and `__type` fields of an operation's root selection (through fragments).
    fn roots(&self, set: &SelectionSet, nesting: usize) -> usize {
        let mut cost = 0usize;
        for item in &set.items {
            let part = match &item.node {
                Selection::Field(field) => match field.node.name.node.as_str() {
                    "__schema" | "__type" => {
                        1usize.saturating_add(self.inside(&field.node.selection_set.node, nesting))
                    }
                    _ => 0,
                },
                other => self.fragment(other, nesting, Walker::roots),
            };
            cost = cost.saturating_add(part);
        }
        cost
    }

    /// The cost of a selection inside introspection: each field 1, plus what it selects
    /// times how many values it answers.
    fn inside(&self, set: &SelectionSet, nesting: usize) -> usize {
        let mut cost = 0usize;
        for item in &set.items {
            let part = match &item.node {
                Selection::Field(field) => {
                    let node = &field.node;
                    let children = self.inside(&node.selection_set.node, nesting);
                    1usize.saturating_add(self.sizes.multiplier(node.name.node.as_str()).saturating_mul(children))
                }
                other => self.fragment(other, nesting, Walker::inside),
            };
            cost = cost.saturating_add(part);
        }
        cost
    }

    fn fragment(&self, selection: &Selection, nesting: usize, walk: fn(&Self, &SelectionSet, usize) -> usize) -> usize {
        self.steps.set(self.steps.get() + 1);
        if nesting >= MAX_FRAGMENT_NESTING || self.steps.get() > MAX_STEPS {
            return usize::MAX;
        }
        match selection {
            Selection::InlineFragment(inline) => walk(self, &inline.node.selection_set.node, nesting + 1),
            Selection::FragmentSpread(spread) => match self.doc.fragments.get(&spread.node.fragment_name.node) {
                Some(fragment) => walk(self, &fragment.node.selection_set.node, nesting + 1),
                None => 0,
            },
            Selection::Field(_) => 0,
        }
    }
}
