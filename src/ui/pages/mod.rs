//! One file per page.

mod contact;
mod directory;
mod not_found;

pub use contact::ContactPage;
pub use directory::DirectoryPage;
pub use not_found::NotFound;
