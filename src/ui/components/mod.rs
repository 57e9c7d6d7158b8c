//! Components shared by pages.

mod contact_table;
mod error_notice;
mod pager;

pub use contact_table::ContactTable;
pub use error_notice::ErrorNotice;
pub use pager::Pager;
