//! LGPD anonymization (seed `000_…`, "LGPD"): company staff for their own
//! company, platform support for any. See `domain::privacy` for what is
//! erased and what stays.

use async_graphql::{Context, Object, SimpleObject, ID};
use domain::privacy;

use super::{
    error::GqlResultExt,
    request::{parse_id, parts},
};

/// What an anonymization erased; all zero when there was nothing left to
/// erase (running it again is a no-op).
#[derive(SimpleObject)]
pub struct Anonymization {
    /// Orders anonymized.
    pub orders: u64,
    /// Localities anonymized.
    pub localities: u64,
    /// Customer accounts closed and anonymized.
    pub accounts: u64,
    /// Mails not yet sent that were cancelled.
    pub mails_cancelled: u64,
    /// Mails whose recipient and bodies were erased.
    pub mails_erased: u64,
    /// Integration runs whose raw request and answer were erased.
    pub integration_runs_erased: u64,
}

impl From<privacy::Anonymized> for Anonymization {
    fn from(a: privacy::Anonymized) -> Self {
        Anonymization {
            orders: a.orders,
            localities: a.localities,
            accounts: a.accounts,
            mails_cancelled: a.mails_cancelled,
            mails_erased: a.mails_erased,
            integration_runs_erased: a.runs_erased,
        }
    }
}

/// Anonymization mutations.
#[derive(Default)]
pub struct PrivacyMutation;

#[Object]
impl PrivacyMutation {
    /// Erases an order's personal data for good: customer name, address,
    /// free text, invoice key and link, tracking codes, its mails (pending
    /// ones are cancelled) and the integration payloads that carried it.
    /// Statuses, dates, amounts and lines stay. The order becomes read-only.
    async fn anonymize_order(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Anonymization> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("order", &id)?;
        privacy::anonymize_order(domain, actor, id).await.gql().map(Into::into)
    }

    /// Erases a locality's responsible person and street address (city,
    /// state and country stay), and the mails sent to that person. With
    /// `orders: true`, also every order delivered there, even when the
    /// locality was anonymized before (its e-mail, which ties a customer to
    /// its orders, is gone by then).
    async fn anonymize_locality(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(default = false)] orders: bool,
    ) -> async_graphql::Result<Anonymization> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("locality", &id)?;
        privacy::anonymize_locality(domain, actor, id, orders).await.gql().map(Into::into)
    }

    /// Erases a customer, known by e-mail: its account (closed; it cannot log
    /// in any more), every locality it is responsible for, every order
    /// delivered there, and every mail sent to it. `companyId` is required of
    /// platform admins; company staff may omit it.
    async fn anonymize_customer(
        &self,
        ctx: &Context<'_>,
        email: String,
        company_id: Option<ID>,
    ) -> async_graphql::Result<Anonymization> {
        let (domain, actor) = parts(ctx)?;
        let company_id = company_id.map(|c| parse_id("company", &c)).transpose()?;
        privacy::anonymize_customer(domain, actor, company_id, &email).await.gql().map(Into::into)
    }
}
