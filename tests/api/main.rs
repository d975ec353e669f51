//! Integration tests: the whole application on 127.0.0.1:0 with a fresh
//! SQLite file per test, driven over real HTTP and real WebSockets.

mod account_changes;
mod accounts;
mod attendance;
mod backup;
mod boards;
mod cluster;
mod connections;
mod copy_to_postgres;
mod deployment;
mod heartbeat;
mod helpers;
mod host_controls;
mod hostile_clients;
mod https;
mod languages;
mod lobby;
mod media;
mod metrics;
mod nodes;
mod pages;
mod passcode;
mod polls;
mod protocol_document;
mod resume;
mod retention;
mod room_kinds;
mod rooms;
mod schedule;
mod sessions;
mod shutdown;
mod signaling;
mod throttling;
mod turn;
mod web_surface;
