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

/// What a staff user's answers depend on, apart from the question: its
/// company (or none, for support) and whether it may only change its password,
/// never who it is. Two users with the same viewpoint get the same answer to
/// the same subscription, so the API runs it once for both (see
/// [`Actor::viewpoint`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Viewpoint {
    /// `None` for support (admins), who see every company.
    company_id: Option<i32>,
    must_change_password: bool,
}

impl Viewpoint {
    /// The viewpoint of a company's staff (`Some`) or of support (`None`).
    pub fn new(company_id: Option<i32>, must_change_password: bool) -> Self {
        Viewpoint { company_id, must_change_password }
    }

    /// An actor with this viewpoint who is nobody: no user (id 0, which no
    /// row has) and no session. A shared execution runs as it, so a field that
    /// ever asked who is asking would find no one, never a colleague.
    pub fn stand_in(&self) -> Actor {
        let kind = match self.company_id {
            None => ActorKind::Admin { user_id: 0 },
            Some(company_id) => ActorKind::CompanyUser { user_id: 0, company_id },
        };
        Actor { kind, must_change_password: self.must_change_password, session_id: None }
    }
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

    /// The viewpoint this staff user shares with the others of its company
    /// (or with all of support); `None` for customers, whose answers depend on
    /// their own e-mail, and for actors that never hold a socket (the
    /// anonymous, integrations, the system).
    pub fn viewpoint(&self) -> Option<Viewpoint> {
        let company_id = match &self.kind {
            ActorKind::Admin { .. } => None,
            ActorKind::CompanyUser { company_id, .. } => Some(*company_id),
            ActorKind::Customer { .. } | ActorKind::Anonymous | ActorKind::Integration { .. } | ActorKind::System { .. } => {
                return None
            }
        };
        Some(Viewpoint::new(company_id, self.must_change_password))
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

#[cfg(test)]
mod tests {
    use entities::UserRole;

    use super::*;

    fn user(role: UserRole, user_id: i32, company_id: Option<i32>, must_change_password: bool) -> Actor {
        Actor::user(role, user_id, company_id, "someone@example.com", must_change_password, user_id).unwrap()
    }

    #[test]
    fn staff_of_one_company_share_a_viewpoint_whoever_they_are() {
        let (ana, bia) = (user(UserRole::Company, 1, Some(7), false), user(UserRole::Company, 2, Some(7), false));
        assert_eq!(ana.viewpoint(), bia.viewpoint());
        assert!(ana.viewpoint().is_some());
        assert_eq!(user(UserRole::Admin, 3, None, false).viewpoint(), user(UserRole::Admin, 4, None, false).viewpoint());
    }

    #[test]
    fn a_viewpoint_differs_by_company_role_and_password_state() {
        let ana = user(UserRole::Company, 1, Some(7), false).viewpoint();
        assert_ne!(ana, user(UserRole::Company, 2, Some(8), false).viewpoint());
        assert_ne!(ana, user(UserRole::Company, 2, Some(7), true).viewpoint());
        assert_ne!(ana, user(UserRole::Admin, 3, None, false).viewpoint());
    }

    #[test]
    fn only_staff_users_have_a_viewpoint() {
        assert_eq!(user(UserRole::Customer, 5, Some(7), false).viewpoint(), None);
        assert_eq!(Actor::anonymous().viewpoint(), None);
        assert_eq!(Actor::integration(7).viewpoint(), None);
        assert_eq!(Actor::system("test").viewpoint(), None);
    }

    #[test]
    fn a_stand_in_sees_what_its_viewpoint_sees_and_is_nobody() {
        for actor in [user(UserRole::Company, 1, Some(7), true), user(UserRole::Admin, 3, None, false)] {
            let stand_in = actor.viewpoint().unwrap().stand_in();
            assert_eq!(stand_in.viewpoint(), actor.viewpoint());
            assert_eq!((stand_in.scope(), stand_in.audience(), stand_in.role_name()), (actor.scope(), actor.audience(), actor.role_name()));
            assert_eq!(stand_in.must_change_password(), actor.must_change_password());
            assert_eq!((stand_in.user_id(), stand_in.session_id()), (Some(0), None));
        }
    }
}
