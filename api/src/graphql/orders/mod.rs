//! Orders and localities in the GraphQL schema.

mod inputs;
mod localities;
mod mutation;
mod query;
mod subscription;
pub mod types;

pub use localities::{LocalityMutation, LocalityQuery};
pub use mutation::OrderMutation;
pub use query::OrderQuery;
pub use subscription::SubscriptionRoot;
