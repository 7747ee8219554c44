//! Read operations.

use async_graphql::{connection::Connection, Context, Object, ID};
use domain::{auth, companies, page::PageRequest, users};

use super::{
    error::GqlResultExt,
    request::{parse_id, parts},
    types::{Company, CountFields, User},
};

/// Account and company queries.
#[derive(Default)]
pub struct AccountQuery;

/// A page of companies.
pub type CompanyConnection = Connection<String, Company, CountFields>;

#[Object]
impl AccountQuery {
    /// The logged-in account.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let (domain, actor) = parts(ctx)?;
        auth::me(domain, actor).await.gql().map(User::from)
    }

    /// One company: any for admins, their own for company users.
    async fn company(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Company> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("company", &id)?;
        companies::get(domain, actor, id).await.gql().map(Company::from)
    }

    /// Companies, oldest first (admins).
    async fn companies(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor of the last row of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<CompanyConnection> {
        let (domain, actor) = parts(ctx)?;
        let request = PageRequest::parse(first, after.as_deref()).gql()?;
        let page = companies::list(domain, actor, request).await.gql()?;
        let mut connection =
            Connection::with_additional_fields(request.after.is_some(), page.has_next_page, CountFields {
                total_count: page.total_count,
            });
        connection.edges.extend(
            page.items.into_iter().map(|c| async_graphql::connection::Edge::new(domain::page::encode_cursor(c.id), c.into())),
        );
        Ok(connection)
    }

    /// The users of a company.
    async fn company_users(&self, ctx: &Context<'_>, company_id: ID) -> async_graphql::Result<Vec<User>> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("company", &company_id)?;
        let list = users::list_company_users(domain, actor, id).await.gql()?;
        Ok(list.into_iter().map(User::from).collect())
    }
}
