//! GraphQL object types. Each is built from a domain model field by field, so a
//! column added to the database (a hash, a secret) never leaks by accident.

use async_graphql::{Enum, SimpleObject, ID};
use chrono::{DateTime, Utc};
use entities::{company, user};

/// A user's role.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "entities::UserRole")]
pub enum Role {
    /// Platform support.
    Admin,
    /// A company's staff.
    Company,
    /// An end customer.
    Customer,
}

/// A tenant of the platform.
#[derive(SimpleObject)]
pub struct Company {
    /// Company id.
    pub id: ID,
    /// Unique identifier customers type at login.
    pub identifier: String,
    /// Contact e-mail.
    pub email: String,
    /// Contact phone.
    pub phone: String,
    /// CNPJ, formatted (`12.345.678/0001-95`).
    pub cnpj: String,
    /// Whether the company's users and integrations may act.
    pub active: bool,
    /// The first characters of the current integration token, to tell tokens apart.
    pub integration_token_prefix: String,
    /// The options of the VTEX integration.
    pub vtex: VtexOptions,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<company::Model> for Company {
    fn from(c: company::Model) -> Self {
        let cnpj = domain::cnpj::Cnpj::parse(&c.cnpj).map_or(c.cnpj.clone(), |v| v.to_string());
        Company {
            id: ID(c.id.to_string()),
            identifier: c.identifier,
            email: c.email,
            phone: c.phone,
            cnpj,
            active: c.active,
            integration_token_prefix: c.integration_token_prefix,
            vtex: VtexOptions { require_invoice_file: c.vtex_require_invoice_file, status_updates: c.vtex_status_updates },
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A company's choices for the VTEX integration (VTEX Tracking's own two
/// options), both off until turned on.
#[derive(SimpleObject)]
pub struct VtexOptions {
    /// Import only orders whose invoices came with their file (`invoiceUrl`
    /// or `embeddedInvoice`).
    pub require_invoice_file: bool,
    /// Let VTEX's hook notifications move orders (`canceled` → `CANCELLED`);
    /// off, each is recorded as skipped.
    pub status_updates: bool,
}

/// An account.
#[derive(SimpleObject)]
pub struct User {
    /// User id.
    pub id: ID,
    /// Login e-mail.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// The company, for company users and customers.
    pub company_id: Option<ID>,
    /// Whether the account may log in.
    pub active: bool,
    /// Whether the account must change its temporary password first.
    pub must_change_password: bool,
    /// Last successful login.
    pub last_login_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When a customer account's personal data was erased (LGPD); it can no
    /// longer log in.
    pub anonymized_at: Option<DateTime<Utc>>,
}

impl From<user::Model> for User {
    fn from(u: user::Model) -> Self {
        User {
            id: ID(u.id.to_string()),
            email: u.email,
            name: u.name,
            role: u.role.into(),
            company_id: u.company_id.map(|c| ID(c.to_string())),
            active: u.active,
            must_change_password: u.must_change_password,
            last_login_at: u.last_login_at,
            created_at: u.created_at,
            anonymized_at: u.anonymized_at,
        }
    }
}

/// A logged-in session.
#[derive(SimpleObject)]
pub struct Session {
    /// Send as `Authorization: Bearer <accessToken>` (or in `connection_init`).
    /// Short-lived (at most 15 minutes): get the next one with `refreshSession`.
    pub access_token: String,
    /// When the access token expires.
    pub expires_at: DateTime<Utc>,
    /// Opaque, single-use token for `refreshSession`, shown only here. Presenting
    /// it a second time ends the whole session.
    pub refresh_token: String,
    /// When the refresh token expires.
    pub refresh_token_expires_at: DateTime<Utc>,
    /// The account.
    pub user: User,
}

impl From<domain::auth::Session> for Session {
    fn from(s: domain::auth::Session) -> Self {
        Session {
            access_token: s.access_token,
            expires_at: s.expires_at,
            refresh_token: s.refresh_token,
            refresh_token_expires_at: s.refresh_expires_at,
            user: s.user.into(),
        }
    }
}

/// A company and its integration token, shown only in this answer.
#[derive(SimpleObject)]
pub struct CompanyWithToken {
    /// The company.
    pub company: Company,
    /// The integration token adapters authenticate with. Store it now: only its
    /// hash is kept, and it is never shown again.
    pub integration_token: String,
}

impl From<domain::companies::CompanyWithToken> for CompanyWithToken {
    fn from(c: domain::companies::CompanyWithToken) -> Self {
        CompanyWithToken { company: c.company.into(), integration_token: c.integration_token }
    }
}

/// A created account.
#[derive(SimpleObject)]
pub struct CreatedUser {
    /// The account.
    pub user: User,
    /// The temporary password, when the platform generated it (shown once).
    pub temporary_password: Option<String>,
}

impl From<domain::users::CreatedUser> for CreatedUser {
    fn from(c: domain::users::CreatedUser) -> Self {
        CreatedUser { user: c.user.into(), temporary_password: c.generated_password }
    }
}

/// Extra fields of a connection.
#[derive(SimpleObject)]
pub struct CountFields {
    /// Rows matching the filter across all pages.
    pub total_count: u64,
}
