//! Types shared by the browser and the server. No feature gates here: whatever is
//! defined in this module means the same on both sides of the wire, and each type
//! that comes from outside (a URL, a form, a file) has a `parse` that validates it.

pub mod account;
pub mod bulk;
pub mod card;
pub mod columns;
pub mod company;
pub mod contact;
pub mod countries;
pub mod custom;
pub mod dashboard;
pub mod draft;
pub mod edit;
pub mod field;
pub mod format;
pub mod import;
pub mod merge;
pub mod page;
pub mod reach;
pub mod search;

pub use account::{CurrentUser, Role};
pub use contact::{Contact, ContactSummary, RESTORE_DAYS, Tier, TierError, UpcomingBirthday};
pub use draft::{Card, ContactInput, Email, Field, FieldErrors, Phone};
pub use edit::{AuditAction, FieldChange, HistoryEntry, SaveOutcome};
pub use page::{Cursor, DirectoryPage, PageRequest};
pub use search::{DirectoryParts, SearchPage, SearchQuery, SortOrder};
