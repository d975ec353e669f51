//! One module per page, plus the form pieces they share.

pub mod account;
pub mod auth;
pub mod call;
pub mod form;
pub mod home;
pub mod join_link;
pub mod not_found;
pub mod room;
pub mod room_settings;
pub mod rooms;
pub mod sessions;

/// Text for `<Title>` that came from a person (a room name). leptos_meta
/// writes the title unescaped into the server-rendered HTML, where a name
/// like `</title><script>` would become markup; the browser sets
/// `document.title` as plain text and needs no escaping.
pub fn title_text(text: &str) -> String {
    if cfg!(feature = "ssr") {
        text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
    } else {
        text.to_string()
    }
}
