//! The page shell, the router and the header every page shares.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::{path, SsrMode};

use crate::api::accounts::{current_user, SignOut};
#[cfg(feature = "ssr")]
use crate::i18n::browser_table;
use crate::i18n::{t, Locale, Text};
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
    // The language of this response: the person's choice, else their
    // browser's (`i18n`). Caches must keep one copy per language.
    #[cfg(feature = "ssr")]
    let locale = use_context::<http::request::Parts>().map_or(Locale::ENGLISH, |request| crate::server::language::of_request(&request.headers));
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.append_header(http::header::VARY, http::HeaderValue::from_static("Accept-Language, Cookie"));
    }
    #[cfg(not(feature = "ssr"))]
    let locale = crate::i18n::locale();
    #[cfg(feature = "ssr")]
    let table = browser_table(locale);
    #[cfg(not(feature = "ssr"))]
    let table = String::new();
    provide_context(locale);
    provide_context(options.clone());
    view! {
        <!DOCTYPE html>
        <html lang=locale.tag()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                {(!call_page).then(|| view! { <HydrationScripts options islands=true/> })}
                <MetaTags/>
            </head>
            <body>
                <App/>
                // This language's messages for the islands (`i18n`): data, never run.
                <script type="application/json" id="huddle-texts" inner_html=table></script>
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

/// Brand, either sign-up/sign-in links (not on a join link's page: a guest
/// needs no account) or the signed-in person's name with "Sign out", and
/// the language switch.
#[component]
fn Header() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    let path = leptos_router::hooks::use_location().pathname;
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <header class="site-header">
            <a class="brand" href="/">"Huddle"</a>
            <nav aria-label=t(Text::SiteAccountNav)>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match user.await {
                            Ok(Some(user)) => view! {
                                <A href="/rooms">{t(Text::SiteYourRooms)}</A>
                                <A href="/account">{t(Text::SiteAccount)}</A>
                                <span class="who">{user.display_name}</span>
                                <ActionForm action=sign_out attr:class="inline">
                                    <button type="submit" class="link">{t(Text::SiteSignOut)}</button>
                                </ActionForm>
                            }.into_any(),
                            _ if path.get().starts_with("/r/") => ().into_any(),
                            _ => view! {
                                <A href="/login">{t(Text::SiteSignIn)}</A>
                                <A href="/signup" attr:class="button">{t(Text::SiteSignUp)}</A>
                            }.into_any(),
                        }
                    })}
                </Suspense>
            </nav>
            <LanguageSwitch/>
        </header>
    }
}

/// Links to this page in each other language, each named in itself: they
/// work without JavaScript (`server::language`).
#[component]
fn LanguageSwitch() -> impl IntoView {
    let here = leptos_router::hooks::use_location();
    let (path, search) = (here.pathname.get_untracked(), here.search.get_untracked());
    let back = match search.trim_start_matches('?') {
        "" => path,
        query => format!("{path}?{query}"),
    };
    let back = percent_encoding::utf8_percent_encode(&back, percent_encoding::NON_ALPHANUMERIC).to_string();
    let current = crate::i18n::locale();
    let links = Locale::all().filter(|l| *l != current).map(|l| {
        let href = format!("{}?to={}&back={back}", crate::i18n::SWITCH_PATH, l.tag());
        view! { <a href=href lang=l.tag() hreflang=l.tag()>{l.own_name()}</a> }
    });
    view! { <nav class="languages" aria-label=t(Text::SiteLanguageNav)>{links.collect_view()}</nav> }
}
