//! Everything that runs only on the server. This module is the one place the `ssr`
//! feature gates server code (see `lib.rs`).

pub mod auth;
pub mod backup;
pub mod bench;
pub mod bulk;
pub mod cache;
pub mod cli;
pub mod companies;
pub mod config;
pub mod contacts;
pub mod context;
pub mod custom_fields;
pub mod db;
pub mod error;
pub mod export;
pub mod http;
pub mod import;
pub mod limits;
pub mod loadtest;
pub mod monitor;
pub mod phones;
pub mod photos;
pub mod redis;
pub mod rendered;
pub mod search;
pub mod seed;
pub mod startup;
pub mod state;
pub mod telemetry;

pub use context::RequestContext;
pub use startup::Application;
pub use state::AppState;
