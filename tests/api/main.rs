//! Integration tests: the real application on a free port, against the real Postgres,
//! each test in a database of its own (cloned from a migrated template), so they run
//! in parallel without sharing rows. One binary, one module per area.

mod helpers;

mod assets;
mod auth;
mod backup;
mod bad_input;
mod bench;
mod bulk;
mod cluster;
mod config;
mod contacts;
mod crash;
mod custom;
mod directory;
mod export;
mod health;
mod import;
mod interchange;
mod loadtest;
mod metrics;
mod migration;
mod page_cache;
mod photos;
mod rich;
mod search;
mod security;
mod shutdown;
