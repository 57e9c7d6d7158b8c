//! Components shared by pages.

mod chart;
mod contact_table;
mod error_notice;
mod filters;
mod flash_notice;
mod highlighted;
mod pager;
mod search_box;
mod search_pager;

pub use chart::{BarChart, LineChart};
pub use contact_table::ContactTable;
pub use error_notice::{ErrorNotice, provide_retry_clock, retry_tick};
pub use filters::{FilterSidebar, SortSelect};
pub use flash_notice::FlashNotice;
pub use highlighted::Highlighted;
pub use pager::Pager;
pub use search_box::SearchBox;
pub use search_pager::SearchPager;
