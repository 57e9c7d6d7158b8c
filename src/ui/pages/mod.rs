//! One file per page.

pub mod admin_dashboard;
pub mod admin_fields;
mod admin_users;
mod bulk;
mod company;
mod contact;
mod contact_form;
mod delete_contact;
pub mod directory;
mod import;
mod login;
mod merge;
mod not_found;

pub use admin_dashboard::AdminDashboardPage;
pub use admin_fields::AdminFieldsPage;
pub use admin_users::AdminUsersPage;
pub use bulk::BulkPage;
pub use company::CompanyPage;
pub use contact::ContactPage;
pub use contact_form::ContactFormPage;
pub use delete_contact::DeleteContactPage;
pub use directory::DirectoryPage;
pub use import::{ImportJobPage, ImportPage};
pub use login::LoginPage;
pub use merge::MergePage;
pub use not_found::NotFound;
