//! Validated values shared by the server and the browser.
//!
//! Each type can only exist valid ("parse, don't validate"): forms check input
//! with the same rules in the browser and on the server, and the server never
//! stores or relays a value that did not pass through one of these.

mod account_id;
mod call_rules;
mod chat_text;
mod client_network;
mod display_name;
mod email;
mod password;
mod problem;
mod room_kind;
mod room_name;
mod room_slug;
pub(crate) mod text;
mod welcome_note;

pub use account_id::AccountId;
pub use call_rules::CallRules;
pub use chat_text::ChatText;
pub use client_network::ClientNetwork;
pub use display_name::DisplayName;
pub use email::Email;
pub use password::Password;
pub use problem::Problem;
pub use room_kind::{RoomDefaults, RoomKind};
pub use room_name::RoomName;
pub use room_slug::RoomSlug;
pub use welcome_note::WelcomeNote;
