//! Huddle: self-hosted video meetings for scheduled, private sessions.
//!
//! One crate, two builds. With feature `ssr` it is the server: axum serves
//! Leptos pages rendered on the server, the server functions in [`api`], the
//! signaling WebSocket and the SQLite database. With feature `hydrate` it is
//! the browser client: the interactive islands of those pages (the call, the
//! copy button) hydrated as WASM, plus `client`, which drives WebRTC. Every
//! form is a plain HTML form posting to its server function, so it works
//! before and without the WASM. The two features are never on together.
//!
//! The invariant everything else serves: the server decides who is who. It
//! stamps identity on every relayed signaling message and lets a message
//! reach only the one participant it is addressed to, in the same room.

pub mod api;
pub mod app;
pub mod call;
pub mod domain;
pub mod error;
pub mod i18n;
pub mod pages;

#[cfg(feature = "hydrate")]
pub mod client;
#[cfg(feature = "ssr")]
pub mod server;
/// Putting the server together: the pages, the API and the server's parts.
#[cfg(feature = "ssr")]
pub mod startup;

/// Entry point the hydration script calls once the WASM has loaded: brings
/// each island (`#[island]` component) on the page to life, and shows the
/// server-rendered page's times in the reader's own time zone (the server
/// writes UTC; see `client::localise_page`).
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    client::localise_page();
}
