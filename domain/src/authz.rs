//! Role → action decisions with casbin, from `policies/model.conf` and
//! `policies/policy.csv`. Row-level scoping is not casbin's job: see
//! [`crate::actor::Scope`].

use std::{path::Path, sync::Arc};

use casbin::{CoreApi, DefaultModel, Enforcer, StringAdapter};

use crate::{actor::ActorKind, Actor, DomainError, DomainResult};

const EMBEDDED_MODEL: &str = include_str!("../../policies/model.conf");
const EMBEDDED_POLICY: &str = include_str!("../../policies/policy.csv");

/// Every action a transport can ask for, as casbin (object, action) pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Log in.
    Login,
    /// End one's own session (`logout`); allowed even before a temporary
    /// password is changed.
    Logout,
    /// Read one's own account (`me`).
    ReadOwnAccount,
    /// Change one's own password.
    ChangeOwnPassword,
    /// Create a company.
    CreateCompany,
    /// List companies.
    ListCompanies,
    /// Read one company.
    ReadCompany,
    /// Deactivate or re-activate a company.
    DeactivateCompany,
    /// Issue a new integration token.
    RotateIntegrationToken,
    /// Create a user of a company.
    CreateCompanyUser,
    /// List a company's users.
    ListCompanyUsers,
    /// Deactivate or re-activate a company user or customer.
    DeactivateUser,
    /// Read localities.
    ReadLocalities,
    /// Create or change localities.
    WriteLocalities,
    /// Read orders, their history and tracking; subscribe to their changes.
    ReadOrders,
    /// Create orders and move them through their lifecycle.
    WriteOrders,
    /// Export orders as CSV or XML.
    ExportOrders,
    /// Configure the company's mail: SMTP sender, rules, templates; test and
    /// resend mails.
    ManageMail,
    /// See an order's mails and preview them.
    ReadNotifications,
    /// Ask for a password reset link and use it.
    ResetPassword,
    /// Read the integrations log and monitor.
    ReadIntegrations,
    /// Replay a failed integration run.
    ReprocessIntegrations,
    /// Choose a company's integration options (VTEX's, say).
    ConfigureIntegrations,
    /// Read the audit log.
    ReadAuditLog,
    /// Erase an order's, a locality's or a customer's personal data (LGPD).
    AnonymizePersonalData,
}

impl Action {
    /// The (object, action) pair in the policy file.
    pub fn as_policy(self) -> (&'static str, &'static str) {
        match self {
            Action::Login => ("session", "create"),
            Action::Logout => ("session", "delete"),
            Action::ReadOwnAccount => ("account", "read"),
            Action::ChangeOwnPassword => ("account", "change_password"),
            Action::CreateCompany => ("company", "create"),
            Action::ListCompanies => ("company", "list"),
            Action::ReadCompany => ("company", "read"),
            Action::DeactivateCompany => ("company", "deactivate"),
            Action::RotateIntegrationToken => ("company", "rotate_token"),
            Action::CreateCompanyUser => ("company_user", "create"),
            Action::ListCompanyUsers => ("company_user", "list"),
            Action::DeactivateUser => ("company_user", "deactivate"),
            Action::ReadLocalities => ("locality", "read"),
            Action::WriteLocalities => ("locality", "write"),
            Action::ReadOrders => ("order", "read"),
            Action::WriteOrders => ("order", "write"),
            Action::ExportOrders => ("order", "export"),
            Action::ManageMail => ("mail", "manage"),
            Action::ReadNotifications => ("notification", "read"),
            Action::ResetPassword => ("password_reset", "use"),
            Action::ReadIntegrations => ("integration_run", "read"),
            Action::ReprocessIntegrations => ("integration_run", "reprocess"),
            Action::ConfigureIntegrations => ("integration", "configure"),
            Action::ReadAuditLog => ("audit_log", "read"),
            Action::AnonymizePersonalData => ("personal_data", "anonymize"),
        }
    }
}

/// The loaded policy. Cheap to clone; the policy is read-only at run time.
#[derive(Clone)]
pub struct Authorizer {
    enforcer: Arc<Enforcer>,
}

impl Authorizer {
    /// The policy compiled into the binary from `policies/`.
    pub async fn embedded() -> anyhow::Result<Self> {
        Self::from_strings(EMBEDDED_MODEL, EMBEDDED_POLICY).await
    }

    /// A policy read from a directory holding `model.conf` and `policy.csv`.
    pub async fn from_dir(dir: &Path) -> anyhow::Result<Self> {
        let model = tokio::fs::read_to_string(dir.join("model.conf")).await?;
        let policy = tokio::fs::read_to_string(dir.join("policy.csv")).await?;
        Self::from_strings(&model, &policy).await
    }

    async fn from_strings(model: &str, policy: &str) -> anyhow::Result<Self> {
        let model = DefaultModel::from_str(model).await?;
        // casbin's CSV reader does not skip comments or blank lines.
        let policy: String = policy
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        let enforcer = Enforcer::new(model, StringAdapter::new(policy)).await?;
        Ok(Authorizer { enforcer: Arc::new(enforcer) })
    }

    /// Whether the policy lets `role` take `action`.
    pub fn allows(&self, role: &str, action: Action) -> bool {
        let (obj, act) = action.as_policy();
        // An enforcement error means a broken model; deny.
        self.enforcer.enforce((role, obj, act)).unwrap_or(false)
    }

    /// Checks that `actor` may take `action`, with the error a client should see.
    pub fn check(&self, actor: &Actor, action: Action) -> DomainResult<()> {
        if let ActorKind::System { .. } = actor.kind() {
            return Ok(());
        }
        if actor.must_change_password() && !matches!(action, Action::ChangeOwnPassword | Action::Logout) {
            return Err(DomainError::PasswordChangeRequired);
        }
        if self.allows(actor.role_name(), action) {
            return Ok(());
        }
        match actor.kind() {
            ActorKind::Anonymous => Err(DomainError::Unauthenticated),
            _ => Err(DomainError::Forbidden),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn embedded_policy_loads_and_separates_roles() -> anyhow::Result<()> {
        let authz = Authorizer::embedded().await?;
        assert!(authz.allows("admin", Action::CreateCompany));
        assert!(!authz.allows("company", Action::CreateCompany));
        assert!(!authz.allows("customer", Action::ReadCompany));
        assert!(authz.allows("customer", Action::ChangeOwnPassword));
        assert!(!authz.allows("anonymous", Action::ReadOwnAccount));
        Ok(())
    }

    #[tokio::test]
    async fn the_system_actor_is_always_allowed() -> anyhow::Result<()> {
        let authz = Authorizer::embedded().await?;
        assert!(authz.check(&Actor::system("test"), Action::CreateCompany).is_ok());
        Ok(())
    }
}
