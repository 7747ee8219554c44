//! Write operations.

use async_graphql::{Context, InputObject, Object, ID};
use domain::{auth, companies, sessions, users, Actor};

use crate::ratelimit::Sensitive;

use super::{
    error::GqlResultExt,
    request::{charge, client_ip, parse_id, parts},
    types::{Company, CompanyWithToken, CreatedUser, Session, User},
};

/// Account and company mutations.
#[derive(Default)]
pub struct AccountMutation;

/// A new company.
#[derive(InputObject)]
pub struct CreateCompanyInput {
    /// Unique identifier: lower-case letters, digits and hyphens.
    pub identifier: String,
    /// Contact e-mail.
    pub email: String,
    /// Contact phone.
    pub phone: String,
    /// CNPJ, numeric or alphanumeric, with or without punctuation.
    pub cnpj: String,
}

/// A new company staff account.
#[derive(InputObject)]
pub struct CreateCompanyUserInput {
    /// The company.
    pub company_id: ID,
    /// Login e-mail.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Temporary password; one is generated and returned when omitted.
    pub temporary_password: Option<String>,
}

#[Object]
impl AccountMutation {
    /// Logs in. `company` is the company identifier; omit it for platform admins.
    async fn login(
        &self,
        ctx: &Context<'_>,
        email: String,
        #[graphql(secret)] password: String,
        company: Option<String>,
    ) -> async_graphql::Result<Session> {
        let (domain, _) = parts(ctx)?;
        charge(ctx, Sensitive::Login, None)?;
        let credentials = auth::Credentials { email, password, company, source: Some(client_ip(ctx)) };
        auth::login(domain, &Actor::anonymous(), credentials).await.gql().map(Session::from)
    }

    /// Swaps a refresh token for a new access token and refresh token of the same
    /// session. Each refresh token works once: presenting a spent one ends the
    /// session (its tokens stop working, its WebSockets close).
    async fn refresh_session(&self, ctx: &Context<'_>, #[graphql(secret)] refresh_token: String) -> async_graphql::Result<Session> {
        let (domain, _) = parts(ctx)?;
        charge(ctx, Sensitive::RefreshSession, None)?;
        sessions::refresh(domain, &Actor::anonymous(), &refresh_token).await.gql().map(Session::from)
    }

    /// Ends the current session: its access and refresh tokens stop working at
    /// once and its WebSockets close. Other sessions of the account go on.
    async fn logout(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let (domain, actor) = parts(ctx)?;
        sessions::logout(domain, actor).await.gql()?;
        Ok(true)
    }

    /// Changes the logged-in account's password. Every session of the account
    /// ends (older tokens stop working, WebSockets close); use the returned one.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(secret)] current_password: String,
        #[graphql(secret)] new_password: String,
    ) -> async_graphql::Result<Session> {
        let (domain, actor) = parts(ctx)?;
        charge(ctx, Sensitive::ChangePassword, actor.user_id().map(|id| id.to_string()).as_deref())?;
        auth::change_password(domain, actor, &current_password, &new_password).await.gql().map(Session::from)
    }

    /// Creates a company and returns its integration token (shown only here).
    async fn create_company(&self, ctx: &Context<'_>, input: CreateCompanyInput) -> async_graphql::Result<CompanyWithToken> {
        let (domain, actor) = parts(ctx)?;
        let input = companies::NewCompany {
            identifier: input.identifier,
            email: input.email,
            phone: input.phone,
            cnpj: input.cnpj,
        };
        companies::create(domain, actor, input).await.gql().map(CompanyWithToken::from)
    }

    /// Replaces a company's integration token; the old one stops working.
    async fn rotate_integration_token(&self, ctx: &Context<'_>, company_id: ID) -> async_graphql::Result<CompanyWithToken> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("company", &company_id)?;
        companies::rotate_integration_token(domain, actor, id).await.gql().map(CompanyWithToken::from)
    }

    /// Sets the company's VTEX options (its staff, or platform support).
    async fn set_vtex_options(
        &self,
        ctx: &Context<'_>,
        company_id: ID,
        require_invoice_file: bool,
        status_updates: bool,
    ) -> async_graphql::Result<Company> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("company", &company_id)?;
        let options = companies::VtexOptions { require_invoice_file, status_updates };
        companies::set_vtex_options(domain, actor, id, options).await.gql().map(Company::from)
    }

    /// Deactivates a company: its users and integrations stop working at once.
    async fn deactivate_company(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Company> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("company", &id)?;
        companies::set_active(domain, actor, id, false).await.gql().map(Company::from)
    }

    /// Re-activates a company.
    async fn activate_company(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Company> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("company", &id)?;
        companies::set_active(domain, actor, id, true).await.gql().map(Company::from)
    }

    /// Creates a company staff account with a temporary password to be changed at
    /// first login.
    async fn create_company_user(&self, ctx: &Context<'_>, input: CreateCompanyUserInput) -> async_graphql::Result<CreatedUser> {
        let (domain, actor) = parts(ctx)?;
        let company_id = parse_id("company", &input.company_id)?;
        let input = users::NewCompanyUser {
            company_id,
            email: input.email,
            name: input.name,
            temporary_password: input.temporary_password,
        };
        users::create_company_user(domain, actor, input).await.gql().map(CreatedUser::from)
    }

    /// Deactivates a company user or customer; its tokens stop working at once.
    async fn deactivate_user(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<User> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("user", &id)?;
        users::set_active(domain, actor, id, false).await.gql().map(User::from)
    }

    /// Re-activates a company user or customer.
    async fn activate_user(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<User> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("user", &id)?;
        users::set_active(domain, actor, id, true).await.gql().map(User::from)
    }
}
