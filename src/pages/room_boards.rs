//! The whiteboards kept with a room on its settings page: when each was
//! kept, how many pages, and each page to download as SVG.

use crate::i18n::{t, t_count, t_with, Text};
use leptos::prelude::*;

use crate::api::boards::{room_boards, BoardSummary};

/// The room's kept whiteboards, newest first.
#[component]
pub fn RoomBoards(room: i64) -> impl IntoView {
    let boards = Resource::new(|| (), move |_| room_boards(room));
    view! {
        <Suspense fallback=|| view! { <p role="status">{t(Text::SettingsBoardsLoading)}</p> }>
            {move || Suspend::new(async move {
                match boards.await {
                    Ok(list) if list.is_empty() => view! { <p class="empty">{t(Text::SettingsBoardsNone)}</p> }.into_any(),
                    Ok(list) => view! {
                        // Laid out as the kept polls are (their classes), until boards have their own.
                        <ul class="kept-polls kept-boards">{list.into_iter().map(|board| view! { <KeptBoard room board/> }).collect_view()}</ul>
                    }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.words()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// One kept board: when, how many pages, a link to each page. Every
/// board's links read "Page 1 (SVG)", …: each names its board's heading
/// too (`aria-describedby`), so a list of the page's links tells them apart.
#[component]
fn KeptBoard(room: i64, board: BoardSummary) -> impl IntoView {
    let heading = format!("board-{}-kept", board.id);
    view! {
        <li class="kept-poll kept-board">
            <h3 id=heading.clone()><time data-at-ms=board.kept_at_ms>{board.kept}</time></h3>
            <p class="hint">{t_count(Text::SettingsBoardPages, u64::from(board.pages))}</p>
            <ul class="board-pages">
                {(1..=board.pages).map(|page| view! {
                    <li>
                        <a href=page_link(room, board.id, page) download="" aria-describedby=heading.clone()>
                            {t_with(Text::SettingsBoardPageSvg, &[("n", &page.to_string())])}
                        </a>
                    </li>
                }).collect_view()}
            </ul>
        </li>
    }
}

/// Where page `page` (from 1) of board `board` of room `room` downloads.
fn page_link(room: i64, board: i64, page: u32) -> String {
    format!("/rooms/{room}/boards/{board}/{page}.svg")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_page_downloads_from_its_boards_path_counted_from_one() {
        assert_eq!(super::page_link(4, 17, 1), "/rooms/4/boards/17/1.svg");
    }
}
