//! The call's small building blocks: an icon (a CSS mask over a file of
//! the Lucide set, so icons cost the WASM bundle nothing), the microphone
//! and camera switches, and a menu button that opens a short list of
//! actions.

use crate::i18n::{t, Text};
use leptos::prelude::*;

use crate::call::ui::CallUi;

/// The microphone or the camera, as switched on the pre-join preview and
/// in the call's toolbar.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Switch {
    Microphone,
    Camera,
}

impl Switch {
    fn on(self, ui: CallUi) -> RwSignal<bool> {
        match self {
            Self::Microphone => ui.microphone_on,
            Self::Camera => ui.camera_on,
        }
    }

    /// (icon when on, icon when off, name when on, name when off, key).
    fn words(self) -> (&'static str, &'static str, &'static str, &'static str, &'static str) {
        match self {
            Self::Microphone => ("mic", "mic-off", t(Text::SwitchMute), t(Text::SwitchUnmute), "M"),
            Self::Camera => ("video", "video-off", t(Text::SwitchStopCamera), t(Text::SwitchStartCamera), "V"),
        }
    }

    /// The microphone stays off for someone who may not unmute themselves.
    fn blocked(self, ui: CallUi) -> bool {
        self == Self::Microphone && !ui.microphone_on.get() && !ui.may_unmute.get()
    }

    /// Turns it on or off (unless blocked), in the preview and in what is sent.
    pub(super) fn flip(self, ui: CallUi) {
        if untrack(|| self.blocked(ui)) {
            return;
        }
        self.on(ui).update(|on| *on = !*on);
        #[cfg(feature = "hydrate")]
        crate::client::apply_send_state(ui);
    }

    /// Its button: icon and name say what pressing does, `aria-pressed`
    /// that it is off. In the call it also has its key (named in the
    /// tooltip, not in the name) and the hint on asking to speak.
    pub(super) fn button(self, ui: CallUi, in_call: bool) -> AnyView {
        let on = self.on(ui);
        let (icon_on, icon_off, name_on, name_off, key) = self.words();
        let speak_hint = (in_call && self == Self::Microphone).then_some("speak-hint");
        view! {
            <button type="button" class="tool" class:off=move || !on.get() aria-pressed=move || (!on.get()).to_string()
                aria-keyshortcuts=in_call.then_some(key) aria-describedby=speak_hint disabled=move || self.blocked(ui)
                on:click=move |_| self.flip(ui)>
                {icon(Signal::derive(move || if on.get() { icon_on } else { icon_off }))}
                <span class="label">{move || if on.get() { name_on } else { name_off }}
                    {in_call.then(|| view! { <span aria-hidden="true">{format!(" ({key})")}</span> })}
                </span>
            </button>
        }
        .into_any()
    }
}

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
