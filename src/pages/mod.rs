//! One module per page, plus the form pieces they share.

pub mod account;
pub mod auth;
pub mod call;
pub mod form;
pub mod home;
pub mod join_link;
pub mod not_found;
// Drawn by the site's bundle on a call page; the call's bundles leave them out.
#[cfg(all(feature = "hydrate", not(any(feature = "bundle-mesh", feature = "bundle-sfu"))))]
pub mod board;
#[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
pub mod breakout;
#[cfg(not(any(feature = "bundle-mesh", feature = "bundle-sfu")))]
pub mod poll;
pub mod room;
pub mod room_boards;
pub mod room_polls;
pub mod room_settings;
pub mod rooms;
pub mod sessions;

/// Text from a person for an element whose text the server writes out
/// unescaped: `<Title>` (leptos_meta) and `<textarea>` (Leptos treats its
/// children like a script's). There a room name like `</title><script>`,
/// or a note with `</textarea>` (which once made real elements, inputs
/// joining the surrounding form), would become markup. The browser shows
/// `&lt;` as `<` in both, so people see what they typed; in the browser
/// build the text is set as text and needs no escaping.
pub fn raw_element_text(text: &str) -> String {
    if cfg!(feature = "ssr") {
        text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_in_a_textarea_cannot_close_it() {
        assert_eq!(raw_element_text("a</textarea><input name=x>&b"), "a&lt;/textarea&gt;&lt;input name=x&gt;&amp;b");
        assert_eq!(raw_element_text("plain\nlines, 中文"), "plain\nlines, 中文");
    }
}
