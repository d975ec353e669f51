//! Everything that only exists on the server: configuration, the database,
//! password hashing, sessions and the HTTP application itself.

pub mod accounts;
pub mod attendance;
pub mod audit;
pub mod backup;
pub mod boards;
pub mod calendar;
pub mod client_address;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod cookies;
pub mod db;
pub mod download;
pub mod guest;
pub mod known_device;
pub mod language;
pub mod log_budget;
pub mod media;
pub mod metrics;
pub mod password;
pub mod polls;
pub mod refusal_tally;
pub mod retention;
pub mod room_files;
pub mod rooms;
pub mod schedule;
pub mod serve;
pub mod session;
pub mod session_store;
pub mod signaling;
pub mod state;
pub mod throttle;
pub mod tls;
pub mod token;
pub mod web_surface;
