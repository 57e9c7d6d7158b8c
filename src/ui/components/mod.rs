//! Components shared by pages.

mod change_table;
mod chart;
mod contact_table;
mod error_notice;
mod filters;
mod flash_notice;
mod highlighted;
mod pager;
mod search_pager;

pub use change_table::ChangeTable;
pub use chart::{BarChart, LineChart};
pub use contact_table::ContactTable;
pub use error_notice::ErrorNotice;
pub use filters::{FilterSidebar, SortSelect};
pub use flash_notice::FlashNotice;
pub use highlighted::Highlighted;
pub use pager::Pager;
pub use search_pager::SearchPager;
