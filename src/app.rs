//! The page shell, the router and the header every page shares.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::{path, SsrMode};

use crate::api::accounts::{current_user, SignOut};
use crate::pages::{
    account::AccountPage,
    auth::{SignInPage, SignUpPage},
    home::HomePage,
    not_found::NotFound,
    room::RoomPage,
    room_settings::RoomSettingsPage,
    rooms::RoomsPage,
};

/// The HTML document around the app, rendered on the server only. Its
/// Content-Security-Policy admits exactly this response's hydration script.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>()) {
        let policy = crate::server::web_surface::page_csp(&nonce.to_string());
        if let Ok(policy) = http::HeaderValue::from_str(&policy) {
            response.insert_header(http::header::CONTENT_SECURITY_POLICY, policy);
        }
    }
    // A call page loads its call's own bundle (`pages::room::CallScripts`),
    // every other page the site's.
    #[cfg(feature = "ssr")]
    let call_page = use_context::<http::request::Parts>().is_some_and(|request| request.uri.path().starts_with("/r/"));
    #[cfg(not(feature = "ssr"))]
    let call_page = false;
    provide_context(options.clone());
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                {(!call_page).then(|| view! { <HydrationScripts options islands=true/> })}
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: header plus one page per route.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="huddle-style" href="/pkg/huddle.css"/>
        <Title formatter=|page: String| if page.is_empty() { "Huddle".to_string() } else { format!("{page} · Huddle") }/>
        <Router>
            <Header/>
            <main id="main">
                <Routes fallback=NotFound>
                    <Route path=path!("") view=HomePage/>
                    <Route path=path!("/signup") view=SignUpPage/>
                    <Route path=path!("/login") view=SignInPage/>
                    <Route path=path!("/rooms") view=RoomsPage ssr=SsrMode::Async/>
                    <Route path=path!("/rooms/:id") view=RoomSettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async/>
                    <Route path=path!("/r/:slug") view=RoomPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

/// Brand, and either sign-up/sign-in links or the signed-in person's name
/// with "Sign out".
#[component]
fn Header() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <header class="site-header">
            <a class="brand" href="/">"Huddle"</a>
            <nav aria-label="Account">
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match user.await {
                            Ok(Some(user)) => view! {
                                <A href="/rooms">"Your rooms"</A>
                                <A href="/account">"Account"</A>
                                <span class="who">{user.display_name}</span>
                                <ActionForm action=sign_out attr:class="inline">
                                    <button type="submit" class="link">"Sign out"</button>
                                </ActionForm>
                            }.into_any(),
                            _ => view! {
                                <A href="/login">"Sign in"</A>
                                <A href="/signup" attr:class="button">"Sign up"</A>
                            }.into_any(),
                        }
                    })}
                </Suspense>
            </nav>
        </header>
    }
}
