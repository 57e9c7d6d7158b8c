//! One file per page.

mod bulk;
mod contact;
mod contact_form;
mod delete_contact;
mod directory;
mod import;
mod merge;
mod not_found;

pub use bulk::BulkPage;
pub use contact::ContactPage;
pub use contact_form::ContactFormPage;
pub use delete_contact::DeleteContactPage;
pub use directory::DirectoryPage;
pub use import::{ImportJobPage, ImportPage};
pub use merge::MergePage;
pub use not_found::NotFound;
