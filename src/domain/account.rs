//! Accounts as both sides see them: roles, the signed-in user, and what the admin
//! pages list.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a user may do. Each role includes the ones before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads and searches the directory.
    Viewer,
    /// Also creates, edits, deletes, merges, imports and exports contacts.
    Editor,
    /// Also sees the monitoring dashboard and manages users and sessions.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Editor, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// The role's name as a person reads it.
    pub fn label(self) -> &'static str {
        match self {
            Role::Viewer => "Viewer",
            Role::Editor => "Editor",
            Role::Admin => "Admin",
        }
    }

    /// Whether this role includes `needed`.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }

    pub fn can_edit(self) -> bool {
        self.allows(Role::Editor)
    }

    pub fn is_admin(self) -> bool {
        self.allows(Role::Admin)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The user a request is made by.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
}

/// One account on the admin page, with its open sessions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at_micros: i64,
    pub sessions: Vec<SessionSummary>,
}

/// One signed-in session, as an admin sees it (never its id or cookie).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// A handle to revoke it by: not the session id, which never leaves the server.
    pub handle: String,
    pub signed_in_at_micros: i64,
    pub last_seen_at_micros: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The users page: every account (up to a limit), and how many there are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UsersPage {
    pub users: Vec<UserSummary>,
    pub total: u64,
    /// The signed-in admin, who cannot disable or demote themselves here.
    pub me: Uuid,
}

/// The longest email address (RFC 5321's path limit): a sign-in with a longer one is
/// refused before anything is counted or stored.
pub const MAX_EMAIL_BYTES: usize = 254;

/// The shortest password an account may have.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest: hashing is deliberately slow, and its cost must stay bounded.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Why a new password is refused, or `None` if it is acceptable.
pub fn password_problem(password: &str) -> Option<String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        Some(format!(
            "The password must be at least {MIN_PASSWORD_CHARS} characters long."
        ))
    } else if password.len() > MAX_PASSWORD_BYTES {
        Some(format!(
            "The password must be at most {MAX_PASSWORD_BYTES} bytes long."
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_include_the_ones_below() {
        assert!(Role::Admin.allows(Role::Editor));
        assert!(Role::Editor.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Editor));
        assert!(!Role::Editor.is_admin());
        assert!(Role::Editor.can_edit());
    }

    #[test]
    fn roles_parse_from_their_names_only() {
        assert_eq!(Role::parse(" Editor "), Some(Role::Editor));
        assert_eq!(Role::parse("root"), None);
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
    }

    #[test]
    fn passwords_have_bounds() {
        assert!(password_problem("short").is_some());
        assert!(password_problem("long enough pass").is_none());
        assert!(password_problem(&"x".repeat(2000)).is_some());
    }
}
