//! A join link as the host meets it (a room, a session, today's list):
//! labelled, selectable, with Copy link and whatever goes beside it.

use crate::i18n::{t, Text};
use leptos::prelude::*;

/// The link in a read-only field named `label`, Copy link, then `children`
/// (an "Open room" or "Start" button).
#[component]
pub fn JoinLink(id: String, label: String, link: String, #[prop(optional)] children: Option<Children>) -> impl IntoView {
    view! {
        <label for=id.clone()>{label}</label>
        <div class="link-row">
            <input id=id class="join-link" type="text" readonly=true value=link.clone()/>
            <CopyLinkButton link/>
            {children.map(|c| c())}
        </div>
    }
}

/// "Copy link", which says "Copied" for a moment after copying. Without WASM
/// the link stays selectable in its field.
// An island in the site's bundle; in the call's, a component nothing uses.
#[cfg_attr(any(feature = "ssr", not(any(feature = "bundle-mesh", feature = "bundle-sfu"))), island)]
#[cfg_attr(not(any(feature = "ssr", not(any(feature = "bundle-mesh", feature = "bundle-sfu")))), component)]
pub fn CopyLinkButton(link: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            crate::client::copy_to_clipboard(&link);
            copied.set(true);
            set_timeout(move || copied.set(false), std::time::Duration::from_secs(2));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &link;
    };
    view! {
        <button type="button" on:click=copy>{move || t(if copied.get() { Text::CopyCopied } else { Text::CopyLink })}</button>
        <span class="visually-hidden" role="status">{move || copied.get().then(|| t(Text::CopyLinkCopied))}</span>
    }
}
