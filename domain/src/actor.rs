//! Who is asking. Every domain call takes an [`Actor`]; which rows it may touch
//! follows from [`Actor::scope`], the one place tenant scoping is decided.

use entities::UserRole;

/// The authenticated party behind a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    kind: ActorKind,
    /// Logged in with a temporary password: only `changePassword` is allowed.
    must_change_password: bool,
    /// The login session the access token belongs to (users only).
    session_id: Option<i32>,
}

/// The kinds of actor, each with what scoping needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActorKind {
    /// Nobody logged in (login, password reset).
    Anonymous,
    /// Platform support.
    Admin {
        /// The admin's user id.
        user_id: i32,
    },
    /// A company's staff member.
    CompanyUser {
        /// The user's id.
        user_id: i32,
        /// The company the user belongs to.
        company_id: i32,
    },
    /// An end customer of one company.
    Customer {
        /// The customer's user id.
        user_id: i32,
        /// The company the account belongs to.
        company_id: i32,
        /// Lower-cased e-mail; matched against localities' responsible person.
        email: String,
    },
    /// An external system authenticated with the company's integration token.
    Integration {
        /// The company whose token was presented.
        company_id: i32,
    },
    /// The platform itself (workers, migrations, demo data). Built only through
    /// [`Actor::system`], so every use is greppable.
    System {
        /// Why the platform acts on its own.
        purpose: &'static str,
    },
}

/// Whose eyes a read is for. Staff (the company, its integrations, support)
/// see an order as it is; a customer sees only what is meant for customers:
/// entries visible to them, the status as of the newest visible change, and no
/// staff-only fields (source ids, internal notes, flags, integration data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The company side: everything.
    Staff,
    /// An end customer (or anyone else who is not staff).
    Customer,
}

/// Which rows an actor may see, derived from its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every tenant (admins, the system).
    All,
    /// One company's rows.
    Company(i32),
    /// One company's rows that belong to this customer.
    Customer {
        /// The customer's company.
        company_id: i32,
        /// The customer's user id.
        user_id: i32,
        /// The customer's e-mail (responsible person of localities).
        email: String,
    },
    /// Nothing at all.
    Nothing,
}

impl Actor {
    /// The anonymous actor.
    pub fn anonymous() -> Self {
        Actor { kind: ActorKind::Anonymous, must_change_password: false, session_id: None }
    }

    /// The platform acting on its own, for `purpose`.
    pub fn system(purpose: &'static str) -> Self {
        Actor { kind: ActorKind::System { purpose }, must_change_password: false, session_id: None }
    }

    /// An external system of `company_id`, authenticated by integration token.
    pub fn integration(company_id: i32) -> Self {
        Actor { kind: ActorKind::Integration { company_id }, must_change_password: false, session_id: None }
    }

    /// A logged-in user; built by [`crate::auth::authenticate`] from a checked token.
    pub(crate) fn user(
        role: UserRole,
        user_id: i32,
        company_id: Option<i32>,
        email: &str,
        must_change_password: bool,
        session_id: i32,
    ) -> Option<Self> {
        let kind = match (role, company_id) {
            (UserRole::Admin, _) => ActorKind::Admin { user_id },
            (UserRole::Company, Some(company_id)) => ActorKind::CompanyUser { user_id, company_id },
            (UserRole::Customer, Some(company_id)) => {
                ActorKind::Customer { user_id, company_id, email: email.to_owned() }
            }
            (UserRole::Company | UserRole::Customer, None) => return None,
        };
        Some(Actor { kind, must_change_password, session_id: Some(session_id) })
    }

    /// What kind of actor this is.
    pub fn kind(&self) -> &ActorKind {
        &self.kind
    }

    /// Whether only a password change is allowed.
    pub fn must_change_password(&self) -> bool {
        self.must_change_password
    }

    /// The login session behind this actor's access token, for users.
    pub fn session_id(&self) -> Option<i32> {
        self.session_id
    }

    /// The logged-in user's id, if a user is behind this actor.
    pub fn user_id(&self) -> Option<i32> {
        match &self.kind {
            ActorKind::Admin { user_id }
            | ActorKind::CompanyUser { user_id, .. }
            | ActorKind::Customer { user_id, .. } => Some(*user_id),
            ActorKind::Anonymous | ActorKind::Integration { .. } | ActorKind::System { .. } => None,
        }
    }

    /// The actor's company, for tenant-bound actors.
    pub fn company_id(&self) -> Option<i32> {
        match &self.kind {
            ActorKind::CompanyUser { company_id, .. }
            | ActorKind::Customer { company_id, .. }
            | ActorKind::Integration { company_id } => Some(*company_id),
            ActorKind::Anonymous | ActorKind::Admin { .. } | ActorKind::System { .. } => None,
        }
    }

    /// The casbin subject for this actor.
    pub fn role_name(&self) -> &'static str {
        match &self.kind {
            ActorKind::Anonymous => "anonymous",
            ActorKind::Admin { .. } => "admin",
            ActorKind::CompanyUser { .. } => "company",
            ActorKind::Customer { .. } => "customer",
            ActorKind::Integration { .. } => "integration",
            ActorKind::System { .. } => "system",
        }
    }

    /// Which rows this actor may see.
    pub fn scope(&self) -> Scope {
        match &self.kind {
            ActorKind::Admin { .. } | ActorKind::System { .. } => Scope::All,
            ActorKind::CompanyUser { company_id, .. } | ActorKind::Integration { company_id } => {
                Scope::Company(*company_id)
            }
            ActorKind::Customer { user_id, company_id, email } => {
                Scope::Customer { company_id: *company_id, user_id: *user_id, email: email.clone() }
            }
            ActorKind::Anonymous => Scope::Nothing,
        }
    }

    /// Whose eyes a read is for, which decides which fields and which status
    /// of an order it gets (see [`Audience`]).
    pub fn audience(&self) -> Audience {
        match &self.kind {
            ActorKind::Admin { .. } | ActorKind::System { .. } | ActorKind::CompanyUser { .. } | ActorKind::Integration { .. } => {
                Audience::Staff
            }
            // Anonymous callers see nothing anyway; if they ever reach a field,
            // they get the least.
            ActorKind::Customer { .. } | ActorKind::Anonymous => Audience::Customer,
        }
    }

    /// Whether the actor may see rows of `company_id` at all.
    pub fn sees_company(&self, company_id: i32) -> bool {
        match self.scope() {
            Scope::All => true,
            Scope::Company(c) | Scope::Customer { company_id: c, .. } => c == company_id,
            Scope::Nothing => false,
        }
    }
}
