//! Form pieces: a labelled field with its error next to it.

use leptos::prelude::*;

use crate::error::AppError;

/// What the person typed in field `name` before their form was refused
/// (kept by the server function, see `api::context::keep_typed`), when the
/// server renders the form again; `None` otherwise and in the browser.
pub fn typed(name: &str) -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        use crate::server::cookies::TYPED as TYPED_COOKIE;
        let parts = use_context::<http::request::Parts>()?;
        let kept = parts
            .headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|h| h.to_str().ok())
            .flat_map(|h| h.split(';'))
            .find_map(|c| c.trim().strip_prefix(TYPED_COOKIE).and_then(|rest| rest.strip_prefix('=')))?
            .to_string();
        // Read once: the page that shows it also forgets it.
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            if let Ok(forget) = http::HeaderValue::from_str(&format!("{TYPED_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict")) {
                response.append_header(http::header::SET_COOKIE, forget);
            }
        }
        form_urlencoded::parse(kept.as_bytes()).find(|(field, _)| field == name).map(|(_, value)| value.into_owned())
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = name;
        None
    }
}

/// A labelled input whose error message sits right under it and is tied to
/// it for screen readers.
#[component]
pub fn Field(
    /// Visible label.
    label: &'static str,
    /// Form field name; also the server function argument it fills.
    name: &'static str,
    /// Error for this field, if any.
    #[prop(into)]
    error: Signal<Option<String>>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(optional, into)] value: Option<String>,
    #[prop(optional)] readonly: bool,
    #[prop(default = true)] required: bool,
    /// Suggestions: the id of a `<datalist>`.
    #[prop(optional)]
    list: Option<&'static str>,
    #[prop(optional)] node_ref: NodeRef<leptos::html::Input>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let described_by = format!("{id}-hint {id}-error");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id.clone()
                name=name
                type=kind
                autocomplete=autocomplete
                value=value.or_else(|| if kind == "password" { None } else { typed(name) })
                readonly=readonly
                required=required
                list=list
                node_ref=node_ref
                aria-describedby=described_by
                aria-invalid=move || error.get().map(|_| "true")
            />
            <p class="hint" id=format!("{id}-hint")>{hint}</p>
            <p class="field-error" id=format!("{id}-error")>{move || error.get()}</p>
        </div>
    }
}

/// The outcome of an action's last submission, as a plain signal.
pub fn outcome<S>(action: ServerAction<S>) -> Signal<Option<Result<S::Output, AppError>>>
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get())
}

/// The error of the last submission about `field`.
pub fn field_error<T: Send + Sync + 'static>(value: Signal<Option<Result<T, AppError>>>, field: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || value.with(|v| v.as_ref().and_then(|r| r.as_ref().err()).and_then(|e| e.for_field(field))))
}

/// The error of the last submission that concerns the whole form.
#[component]
pub fn FormError<T: Send + Sync + 'static>(value: Signal<Option<Result<T, AppError>>>) -> impl IntoView {
    let message = move || value.with(|v| v.as_ref().and_then(|r| r.as_ref().err()).and_then(AppError::for_form));
    view! { <p class="form-error" role="alert">{message}</p> }
}

/// Puts the keyboard in `field` as soon as it is on the page (a form that
/// opens over a call).
pub fn focus_when_shown(field: NodeRef<leptos::html::Input>) {
    Effect::new(move |_| {
        if let Some(input) = field.get() {
            let _ = input.focus();
        }
    });
}

/// A key handler that runs `close` on Escape.
pub fn on_escape(close: impl Fn() + 'static) -> impl Fn(leptos::ev::KeyboardEvent) + 'static {
    move |ev| {
        if ev.key() == "Escape" {
            close();
        }
    }
}
