//! The call's small building blocks: an icon (a CSS mask over a file of
//! the Lucide set, so icons cost the WASM bundle nothing) and a menu
//! button that opens a short list of actions.

use leptos::prelude::*;

/// An icon from `style/icons/` (drawn by the stylesheet); hidden from
/// screen readers, since the button's text names it.
/// Not generic (one copy in the bundle): `name` is a signal, fixed or not.
pub(super) fn icon(name: Signal<&'static str>) -> AnyView {
    view! { <span class="icon" data-icon=name aria-hidden="true"></span> }.into_any()
}

/// An icon that never changes.
pub(super) fn fixed(name: &'static str) -> AnyView {
    icon(Signal::stored(name))
}

/// A button named `label` (shown on hover and focus) that opens `items`: a
/// disclosure, closed again by choosing an item, by Escape (which returns
/// to the button), by a click elsewhere or by the button itself.
pub(super) fn menu(label: String, icon_name: &'static str, class: &'static str, items: ViewFn) -> AnyView {
    let open = RwSignal::new(false);
    let toggle = NodeRef::<leptos::html::Button>::new();
    let root = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let outside = window_event_listener(leptos::ev::click, move |ev| {
            let inside = root.get_untracked().zip(ev.target().and_then(|t| t.dyn_into::<web_sys::Node>().ok()));
            if open.get_untracked() && !inside.is_some_and(|(root, target)| root.contains(Some(&target))) {
                open.set(false);
            }
        });
        on_cleanup(move || outside.remove());
    }
    let keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" && open.get_untracked() {
            open.set(false);
            if let Some(button) = toggle.get_untracked() {
                let _ = button.focus();
            }
        }
    };
    view! {
        <div class=format!("menu {class}") node_ref=root on:keydown=keydown>
            <button type="button" class="tool" node_ref=toggle aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)>
                {fixed(icon_name)}<span class="label">{label}</span>
            </button>
            <div class="menu-items" hidden=move || !open.get() on:click=move |_| open.set(false)>{move || items.run()}</div>
        </div>
    }
    .into_any()
}
