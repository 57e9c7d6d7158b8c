//! One file per page.

mod directory;
mod not_found;

pub use directory::DirectoryPage;
pub use not_found::NotFound;
