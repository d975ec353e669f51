//! `/r/{slug}`: where a join link leads. Unknown links get the not-found
//! page with HTTP 404.

use crate::i18n::{t, Text};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::rooms::invitation;
use crate::error::AppError;
use crate::pages::call::Call;
use crate::pages::not_found::NotFound;

#[component]
pub fn RoomPage() -> impl IntoView {
    let params = use_params_map();
    let invite = Resource::new(move || params.read().get("slug").unwrap_or_default(), invitation);
    view! {
        <Suspense fallback=|| view! { <p role="status">{t(Text::PrejoinOpening)}</p> }>
            {move || Suspend::new(async move {
                match invite.await {
                    Ok(invitation) => view! {
                        <Title text=crate::pages::raw_element_text(&invitation.name)/>
                        <CallScripts topology=invitation.topology preview=invitation.availability != crate::api::rooms::Availability::Ended/>
                        <Call invitation/>
                    }.into_any(),
                    Err(AppError::NotFound) => view! { <NotFound/> }.into_any(),
                    Err(e) => {
                        // Whatever refused the link, the page answers with its status.
                        #[cfg(feature = "ssr")]
                        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                            response.set_status(e.status());
                        }
                        view! { <p class="form-error" role="alert">{e.words()}</p> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// Loads and starts the browser bundle of a call of `topology` (see
/// `Cargo.toml`'s features), and with a `preview`, starts the camera for
/// it at once.
#[component]
pub fn CallScripts(topology: crate::call::protocol::Topology, preview: bool) -> impl IntoView {
    let mut options = expect_context::<LeptosOptions>();
    let output_name = match topology {
        crate::call::protocol::Topology::Mesh => "huddle-mesh",
        crate::call::protocol::Topology::Sfu => "huddle-sfu",
    };
    options.output_name = output_name.into();
    // Admitted by the page's nonce, like the hydration script; not on a
    // page that shows no preview (a meeting that has ended).
    let nonce = leptos::nonce::use_nonce();
    view! {
        {preview.then(|| view! { <script nonce=nonce inner_html=EARLY_PREVIEW></script> })}
        <HydrationScripts options islands=true/>
    }
}

/// Starts the pre-join preview before the call's bundle has arrived.
const EARLY_PREVIEW: &str = include_str!("early_preview.js");
