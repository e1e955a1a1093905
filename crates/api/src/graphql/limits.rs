//! Bounds on what one `POST /api/graphql` may cost, so that a small request can never make a
//! huge answer: at most [`MAX_BATCH`] queries in a batch and [`MAX_QUERY_CHARS`] characters of
//! query text (GitLab's `MAX_QUERY_SIZE`), a complexity and depth limit per caller (anonymous,
//! signed in, admin; GitLab's three tiers) shared by all queries of a batch, and a cap on the
//! answer's size. Complexity is async-graphql's count, in which list fields multiply what they
//! select by their list's size and every alias counts again; introspection is charged apart
//! ([`super::introspection_cost`]). Refusals are GitLab's (graphql-ruby's) messages.

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerError, ServerResult, ValidationResult, Variables};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use super::introspection_cost::{ListSizes, introspection_cost};
use auditrelay_service::Caller;

/// Queries one batch may hold.
pub const MAX_BATCH: usize = 10;
/// Characters of query text one request may send, summed over a batch (GitLab's limit).
pub const MAX_QUERY_CHARS: usize = 10_000;
/// Bytes of JSON one request may answer, summed over a batch.
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// The complexity multiplier of a list of destinations: an owner has at most 5 active
/// destinations per category (GitLab's limit), 15 in all; inactive ones are rare.
pub const LISTED_DESTINATIONS: usize = 15;

/// Who is asking, for the limits that apply (GitLab: `DEFAULT_`, `AUTHENTICATED_`,
/// `ADMIN_MAX_COMPLEXITY`, with depth 15 anonymous and 20 otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    Anonymous,
    User,
    Admin,
}

impl Tier {
    pub fn of(caller: Option<&Caller>) -> Tier {
        match caller {
            None => Tier::Anonymous,
            Some(caller) if caller.is_admin() => Tier::Admin,
            Some(_) => Tier::User,
        }
    }

    /// Anonymous callers can read nothing but the schema (and `currentUser: null`).
    pub fn max_complexity(self) -> usize {
        match self {
            Tier::Anonymous => 2_500,
            Tier::User => 10_000,
            Tier::Admin => 20_000,
        }
    }

    /// Introspection is charged apart (see [`super::introspection_cost`]): the standard
    /// introspection query costs about 94,000, as it lists every field of every type.
    /// Anonymous callers may run it once per request, others twice.
    pub fn max_introspection(self) -> usize {
        match self {
            Tier::Anonymous => 100_000,
            Tier::User | Tier::Admin => 200_000,
        }
    }

    pub fn max_depth(self) -> usize {
        match self {
            Tier::Anonymous => 15,
            Tier::User | Tier::Admin => 20,
        }
    }
}

/// What the queries of one request have spent; shared by a batch through the request data.
#[derive(Debug)]
pub struct Budget {
    tier: Tier,
    spent: AtomicUsize,
    introspection: AtomicUsize,
}

impl Budget {
    pub fn new(tier: Tier) -> Arc<Budget> {
        Arc::new(Budget { tier, spent: AtomicUsize::new(0), introspection: AtomicUsize::new(0) })
    }

    /// Charges one validated query (its complexity, introspection cost and depth), or says
    /// why it may not run.
    pub fn charge(&self, complexity: usize, introspection: usize, depth: usize) -> Result<(), String> {
        let max_depth = self.tier.max_depth();
        if depth > max_depth {
            return Err(format!("Query has depth of {depth}, which exceeds max depth of {max_depth}"));
        }
        charge(&self.spent, complexity, self.tier.max_complexity(), "complexity")?;
        charge(&self.introspection, introspection, self.tier.max_introspection(), "introspection complexity")
    }
}

fn charge(spent: &AtomicUsize, cost: usize, max: usize, what: &str) -> Result<(), String> {
    if cost > max {
        return Err(format!("Query has {what} of {cost}, which exceeds max {what} of {max}"));
    }
    let total = spent.fetch_add(cost, Ordering::SeqCst).saturating_add(cost);
    if total > max {
        return Err(format!("Queries of this batch have {what} of {total}, which exceeds max {what} of {max}"));
    }
    Ok(())
}

/// Why a request is refused before any of it runs (GitLab answers these `422`).
pub fn check_request(queries: &[&str]) -> Result<(), String> {
    if queries.len() > MAX_BATCH {
        return Err(format!("Too many queries in a batch: {} (maximum is {MAX_BATCH})", queries.len()));
    }
    if queries.iter().map(|q| q.chars().count()).sum::<usize>() > MAX_QUERY_CHARS {
        return Err("Query too large".into());
    }
    Ok(())
}

/// The answer in place of one that would pass [`MAX_RESPONSE_BYTES`] (GitLab's wording for a
/// query that reads too much).
pub const TOO_LARGE: &str = "Response too large. Please try a less complex query or a smaller set of records.";

/// The JSON answer of a request, built query by query, that never passes
/// [`MAX_RESPONSE_BYTES`] (but for the refusals): a query whose answer would pass it is
/// answered [`TOO_LARGE`] instead.
pub struct Answer {
    batch: bool,
    parts: Vec<Vec<u8>>,
    size: usize,
    cap: usize,
}

impl Answer {
    pub fn new(batch: bool) -> Answer {
        Answer::with_cap(batch, MAX_RESPONSE_BYTES)
    }

    fn with_cap(batch: bool, cap: usize) -> Answer {
        Answer { batch, parts: Vec::new(), size: 0, cap }
    }

    /// Adds one query's answer (`None`: not serializable).
    pub fn push(&mut self, json: Option<Vec<u8>>) {
        match json {
            Some(json) if self.size + json.len() <= self.cap => {
                self.size += json.len();
                self.parts.push(json);
            }
            _ => self.parts.push(
                serde_json::to_vec(&serde_json::json!({"errors": [{"message": TOO_LARGE}]})).expect("static JSON"),
            ),
        }
    }

    pub fn finish(self) -> Vec<u8> {
        if self.batch {
            [b"[".to_vec(), self.parts.join(&b","[..]), b"]".to_vec()].concat()
        } else {
            self.parts.concat()
        }
    }
}

/// Installs the complexity and depth checks on the schema.
pub struct Limits;

impl ExtensionFactory for Limits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(LimitsExtension { introspection: AtomicUsize::new(0) })
    }
}

struct LimitsExtension {
    /// The parsed document's introspection cost, for the validation step.
    introspection: AtomicUsize,
}

fn list_sizes(ctx: &ExtensionContext<'_>) -> &'static ListSizes {
    static SIZES: OnceLock<ListSizes> = OnceLock::new();
    SIZES.get_or_init(|| ListSizes::of(&ctx.schema_env.registry))
}

#[async_trait::async_trait]
impl Extension for LimitsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        self.introspection.store(introspection_cost(&document, list_sizes(ctx)), Ordering::SeqCst);
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        let introspection = self.introspection.load(Ordering::SeqCst);
        // Without a budget (a request built elsewhere), the strictest limits apply.
        let fallback;
        let budget = match ctx.data_opt::<Arc<Budget>>() {
            Some(budget) => budget.as_ref(),
            None => {
                fallback =
                    Budget { tier: Tier::Anonymous, spent: AtomicUsize::new(0), introspection: AtomicUsize::new(0) };
                &fallback
            }
        };
        budget
            .charge(result.complexity, introspection, result.depth)
            .map_err(|message| vec![ServerError::new(message, None)])?;
        Ok(result)
    }
}

#[cfg(test)]
#[path = "limits_tests.rs"]
mod tests;
