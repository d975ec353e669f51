//! The shared whiteboard as a call page shows it: a page of the board
//! over the stage, tools to draw with (pen, highlighter, line, arrow,
//! rectangle, ellipse, text, eraser, select and move), colours and widths,
//! undo and redo, pages, downloads, and the host's say over who draws and
//! whether everyone sees it. The site's bundle draws it, loaded on a call
//! page when the board is first opened or the host shows it
//! (`client::classroom`); the hub keeps the one true board
//! (`call::hub::board`). What a page draws is applied at once and sent;
//! the hub's answer then takes its place ([`BoardCopy`]).

mod draw;
mod history;

use leptos::prelude::*;

use crate::call::board::{BoardCopy, BoardStatus, DrawRule, Element, ElementRef, Kind, PALETTE, STROKE_POINTS, TEXT_SIZES};
use crate::call::protocol::ClientMessage;
use crate::i18n::{t, t_with, Text};
use history::{Action, History};

/// A board message from the server, as the call's bundle passes it on.
#[derive(serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BoardMessage {
    BoardState {
        state: BoardStatus,
    },
    BoardChanged {
        page: u8,
        #[serde(default)]
        cleared: bool,
        #[serde(default)]
        put: Vec<Element>,
        #[serde(default)]
        gone: Vec<ElementRef>,
    },
}

/// What a tool does with a touch on the board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    Draw(Kind),
    Eraser,
    Select,
}

/// A touch under way.
#[derive(Debug, Clone)]
enum Gesture {
    Draw(Element),
    /// What the eraser went over.
    Erase(Vec<Element>),
    /// Moving `original` from where the touch began.
    Move {
        original: Element,
        from: (f32, f32),
        now: Element,
    },
}

/// The board on this page.
#[derive(Clone, Copy)]
pub struct BoardRoom {
    pub open: RwSignal<bool>,
    /// Opened because the host showed it: it closes when they stop.
    auto: RwSignal<bool>,
    status: RwSignal<Option<BoardStatus>>,
    /// The page looked at (from 0).
    page: RwSignal<u8>,
    copy: StoredValue<BoardCopy>,
    history: StoredValue<History>,
    /// How many steps there are to undo and to redo.
    steps: RwSignal<(usize, usize)>,
    tool: RwSignal<Tool>,
    colour: RwSignal<u8>,
    width: RwSignal<u8>,
    gesture: StoredValue<Option<Gesture>>,
    selected: RwSignal<Option<String>>,
    /// Where a text is being typed (board units), while it is.
    text_at: RwSignal<Option<(u16, u16)>>,
    /// The host kept the board with the session.
    kept: RwSignal<bool>,
    /// This page asked for a new page: it turns to it once there.
    adding: RwSignal<bool>,
    send: Callback<ClientMessage>,
}

impl BoardRoom {
    pub fn new(send: Callback<ClientMessage>) -> Self {
        Self {
            open: RwSignal::new(false),
            auto: RwSignal::new(false),
            status: RwSignal::new(None),
            page: RwSignal::new(0),
            copy: StoredValue::new(BoardCopy::default()),
            history: StoredValue::new(History::default()),
            steps: RwSignal::new((0, 0)),
            tool: RwSignal::new(Tool::Draw(Kind::Pen)),
            colour: RwSignal::new(0),
            width: RwSignal::new(1),
            gesture: StoredValue::new(None),
            selected: RwSignal::new(None),
            text_at: RwSignal::new(None),
            kept: RwSignal::new(false),
            adding: RwSignal::new(false),
            send,
        }
    }

    /// Opens the board: the hub sends it whole.
    pub fn show(&self, auto: bool) {
        if !self.open.get_untracked() {
            self.copy.set_value(BoardCopy::default());
            self.history.set_value(History::default());
            self.steps.set((0, 0));
            self.auto.set(auto);
            self.open.set(true);
            self.send.run(ClientMessage::BoardWatch { on: true });
        }
    }

    pub fn close(&self) {
        if self.open.get_untracked() {
            self.open.set(false);
            self.status.set(None);
            self.send.run(ClientMessage::BoardWatch { on: false });
        }
    }

    /// A message from the server.
    pub fn receive(&self, message: BoardMessage) {
        match message {
            BoardMessage::BoardState { state } => {
                self.status.set(Some(state));
                if state.shown && !self.open.get_untracked() {
                    self.show(true);
                } else if !state.shown && self.auto.get_untracked() {
                    self.auto.set(false);
                    self.close();
                    return;
                }
                let page = self.page.get_untracked();
                if self.adding.get_untracked() && state.pages > page + 1 {
                    self.adding.set(false);
                    self.go_to(state.pages - 1);
                } else if state.shown && !state.host && page != state.page {
                    self.page.set(state.page);
                } else if page >= state.pages {
                    self.page.set(state.pages.saturating_sub(1));
                }
            }
            BoardMessage::BoardChanged { page, cleared, put, gone } => {
                if !self.open.get_untracked() {
                    return;
                }
                let here = page == self.page.get_untracked();
                // Something new while this page waits on its own drawing:
                // the hub's order decides what is over what, drawn whole.
                let whole = cleared || self.copy.with_value(|copy| copy.reorders(page, &put));
                if here && !whole {
                    let fresh = self.copy.with_value(|copy| copy.new_on(page, &put));
                    draw::changed(&put, &fresh, &gone);
                }
                self.copy.update_value(|copy| copy.apply(page, cleared, put, &gone));
                if here && whole {
                    self.redraw();
                }
            }
        }
    }

    fn may_draw(&self) -> bool {
        self.status.with(|s| s.is_some_and(|s| s.may_draw))
    }

    /// Draws the page looked at whole.
    fn redraw(&self) {
        let page = self.page.get_untracked();
        self.copy.with_value(|copy| draw::page(copy.pages.get(usize::from(page)).map(Vec::as_slice).unwrap_or_default()));
    }

    /// Takes the page from how it stands to `targets` (an element each,
    /// or `None` to remove it): here at once, and at the hub.
    fn change(&self, page: u8, targets: &[(String, Option<Element>)]) {
        let (mut put, mut drop) = (Vec::new(), Vec::new());
        self.copy.with_value(|copy| {
            for (id, target) in targets {
                let v = copy.version(page, id);
                match target {
                    Some(element) => put.push(Element { v, ..element.clone() }),
                    None if copy.get(page, id).is_some() => drop.push(ElementRef { id: id.clone(), v }),
                    None => {}
                }
            }
        });
        let gone: Vec<ElementRef> = drop.iter().map(|r| ElementRef { id: r.id.clone(), v: r.v + 1 }).collect();
        if page == self.page.get_untracked() {
            let fresh = self.copy.with_value(|copy| copy.new_on(page, &put));
            draw::changed(&put, &fresh, &gone);
        }
        self.copy.update_value(|copy| copy.draw(page, put.clone(), &gone));
        for items in crate::call::board::batches(put) {
            self.send.run(ClientMessage::BoardPut { page, items });
        }
        if !drop.is_empty() {
            self.send.run(ClientMessage::BoardDrop { page, items: drop });
        }
    }

    /// Does `action` and keeps it to undo.
    fn act(&self, action: Action) {
        self.kept.set(false);
        self.change(action.page, &action.after);
        self.history.update_value(|h| h.push(action));
        self.steps.set(self.history.with_value(History::steps));
    }

    fn undo(&self) {
        if let Some(action) = self.history.try_update_value(History::undo).flatten() {
            self.change(action.page, &action.before);
        }
        self.steps.set(self.history.with_value(History::steps));
        self.selected.set(None);
    }

    fn redo(&self) {
        if let Some(action) = self.history.try_update_value(History::redo).flatten() {
            self.change(action.page, &action.after);
        }
        self.steps.set(self.history.with_value(History::steps));
    }

    fn go_to(&self, page: u8) {
        self.page.set(page);
        self.selected.set(None);
        self.text_at.set(None);
        draw::draft("");
        self.redraw();
        // The host shows everyone the page they turn to.
        if let Some(state) = self.status.get_untracked().filter(|s| s.host && s.shown) {
            if state.page != page {
                self.send.run(ClientMessage::BoardShow { shown: true, page });
            }
        }
    }

    fn erase_selected(&self) {
        let page = self.page.get_untracked();
        let Some(id) = self.selected.get_untracked() else { return };
        let Some(element) = self.copy.with_value(|c| c.get(page, &id).cloned()) else { return };
        self.selected.set(None);
        draw::draft("");
        self.act(Action { page, before: vec![(id.clone(), Some(element))], after: vec![(id, None)] });
    }

    fn pointer_down(&self, at: (f32, f32), pressure: Option<u8>) {
        let page = self.page.get_untracked();
        let (x, y) = (at.0.round() as u16, at.1.round() as u16);
        let new = |k: Kind, p: Vec<u16>| Element {
            id: draw::new_id(),
            v: 0,
            k,
            c: self.colour.get_untracked(),
            w: self.width.get_untracked(),
            p,
            r: Vec::new(),
            t: String::new(),
        };
        let gesture = match self.tool.get_untracked() {
            Tool::Draw(Kind::Text) => {
                self.text_at.set(Some((x, y)));
                None
            }
            Tool::Draw(k @ (Kind::Pen | Kind::Highlighter)) => {
                let mut element = new(k, vec![x, y]);
                if let (Kind::Pen, Some(pressure)) = (k, pressure) {
                    element.r.push(pressure);
                }
                Some(Gesture::Draw(element))
            }
            Tool::Draw(k) => Some(Gesture::Draw(new(k, vec![x, y, x, y]))),
            Tool::Eraser => Some(Gesture::Erase(Vec::new())),
            Tool::Select => {
                let hit = self.copy.with_value(|c| c.hit(page, at.0, at.1, 8.0).cloned());
                self.selected.set(hit.as_ref().map(|e| e.id.clone()));
                draw::draft(&hit.as_ref().map(draw::selection).unwrap_or_default());
                hit.map(|original| Gesture::Move { now: original.clone(), original, from: at })
            }
        };
        self.gesture.set_value(gesture);
        self.pointer_move(at, pressure);
    }

    fn pointer_move(&self, at: (f32, f32), pressure: Option<u8>) {
        let page = self.page.get_untracked();
        let (x, y) = (at.0.round() as u16, at.1.round() as u16);
        self.gesture.update_value(|gesture| match gesture {
            Some(Gesture::Draw(element)) => {
                if element.k == Kind::Pen || element.k == Kind::Highlighter {
                    let n = element.p.len();
                    let (lx, ly) = (element.p[n - 2], element.p[n - 1]);
                    if (lx.abs_diff(x) + ly.abs_diff(y) >= 2) && n / 2 < STROKE_POINTS {
                        element.p.extend([x, y]);
                        if !element.r.is_empty() {
                            element.r.push(pressure.unwrap_or(128));
                        }
                    }
                } else {
                    element.p[2] = x;
                    element.p[3] = y;
                }
                draw::draft(&element.svg());
            }
            Some(Gesture::Erase(erased)) => {
                let hit = self.copy.with_value(|c| c.hit(page, at.0, at.1, 10.0).cloned());
                if let Some(element) = hit.filter(|e| !erased.iter().any(|o| o.id == e.id)) {
                    draw::changed(&[], &[], &[ElementRef { id: element.id.clone(), v: 0 }]);
                    erased.push(element);
                }
            }
            Some(Gesture::Move { original, from, now }) => {
                *now = original.moved((at.0 - from.0).round() as i32, (at.1 - from.1).round() as i32);
                draw::draft(&format!("{}{}", now.svg(), draw::selection(now)));
            }
            None => {}
        });
    }

    fn pointer_up(&self) {
        let page = self.page.get_untracked();
        let Some(gesture) = self.gesture.try_update_value(Option::take).flatten() else { return };
        match gesture {
            Gesture::Draw(element) => {
                draw::draft("");
                let kept = match element.k {
                    Kind::Pen | Kind::Highlighter => true,
                    // A shape needs some size.
                    _ => element.p[0].abs_diff(element.p[2]) + element.p[1].abs_diff(element.p[3]) >= 4,
                };
                if kept {
                    self.act(Action { page, before: vec![(element.id.clone(), None)], after: vec![(element.id.clone(), Some(element))] });
                }
            }
            Gesture::Erase(erased) if !erased.is_empty() => {
                let before = erased.iter().map(|e| (e.id.clone(), Some(e.clone()))).collect();
                let after = erased.into_iter().map(|e| (e.id, None)).collect();
                self.act(Action { page, before, after });
            }
            Gesture::Erase(_) => {}
            Gesture::Move { original, now, .. } => {
                if now.p != original.p {
                    draw::draft(&draw::selection(&now));
                    self.act(Action { page, before: vec![(original.id.clone(), Some(original))], after: vec![(now.id.clone(), Some(now))] });
                }
            }
        }
    }

    /// Places `text` where the text tool touched.
    fn place_text(&self, text: String) {
        let Some((x, y)) = self.text_at.get_untracked() else { return };
        self.text_at.set(None);
        let w = self.width.get_untracked();
        let size = TEXT_SIZES[usize::from(w).min(TEXT_SIZES.len() - 1)];
        let element = Element {
            id: draw::new_id(),
            v: 0,
            k: Kind::Text,
            c: self.colour.get_untracked(),
            w,
            p: vec![x, y.saturating_add(size / 3).min(crate::call::board::HEIGHT)],
            r: Vec::new(),
            t: text,
        };
        if let Ok(element) = element.checked() {
            let page = self.page.get_untracked();
            self.act(Action { page, before: vec![(element.id.clone(), None)], after: vec![(element.id.clone(), Some(element))] });
        }
    }
}

/// The tools, each a button named by its text.
const TOOLS: [(Tool, Text); 9] = [
    (Tool::Draw(Kind::Pen), Text::BoardPen),
    (Tool::Draw(Kind::Highlighter), Text::BoardHighlighter),
    (Tool::Draw(Kind::Line), Text::BoardLine),
    (Tool::Draw(Kind::Arrow), Text::BoardArrow),
    (Tool::Draw(Kind::Rect), Text::BoardRect),
    (Tool::Draw(Kind::Ellipse), Text::BoardEllipse),
    (Tool::Draw(Kind::Text), Text::BoardText),
    (Tool::Eraser, Text::BoardEraser),
    (Tool::Select, Text::BoardSelect),
];
/// The colours' names, in the palette's order.
const COLOURS: [Text; 8] =
    [Text::BoardBlack, Text::BoardRed, Text::BoardGreen, Text::BoardBlue, Text::BoardAmber, Text::BoardViolet, Text::BoardOrange, Text::BoardWhite];
const WIDTH_NAMES: [Text; 4] = [Text::BoardThin, Text::BoardMedium, Text::BoardThick, Text::BoardBroad];
const RULES: [(DrawRule, &str, Text); 3] = [
    (DrawRule::Host, "host", Text::BoardRuleHost),
    (DrawRule::Speakers, "speakers", Text::BoardRuleSpeakers),
    (DrawRule::Everyone, "everyone", Text::BoardRuleEveryone),
];

/// The board, over the call's stage while it is open.
#[component]
pub fn Board(room: BoardRoom) -> impl IntoView {
    move || room.open.get().then(|| view! { <OpenBoard room/> })
}

/// Gives the keyboard to the board's chosen tool (from a text box that is
/// about to close, so the focus is not lost to the page).
fn back_to_tool() {
    use wasm_bindgen::JsCast;
    let tool = document().query_selector(".board-bar button[aria-pressed=\"true\"]").ok().flatten();
    if let Some(tool) = tool.and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = tool.focus();
    }
}

#[component]
fn OpenBoard(room: BoardRoom) -> impl IntoView {
    // Drawn again whole when the page changes (and once it is on screen).
    Effect::new(move |_| {
        room.page.track();
        room.redraw();
    });
    let pages = move || room.status.with(|s| s.map_or(1, |s| s.pages));
    let host = move || room.status.with(|s| s.is_some_and(|s| s.host));
    let shown = move || room.status.with(|s| s.is_some_and(|s| s.shown));
    let may_draw = move || room.may_draw();
    let loading = move || room.status.with(Option::is_none);
    let keys = move |ev: web_sys::KeyboardEvent| {
        let key = ev.key();
        let command = ev.ctrl_key() || ev.meta_key();
        let typing = room.text_at.get_untracked().is_some();
        match key.as_str() {
            "z" | "Z" if command && ev.shift_key() => room.redo(),
            "z" | "Z" if command => room.undo(),
            "y" if command => room.redo(),
            "Delete" | "Backspace" if !typing => room.erase_selected(),
            "Escape" => {
                if typing {
                    back_to_tool();
                }
                room.text_at.set(None);
                room.selected.set(None);
                draw::draft("");
                return;
            }
            _ => return,
        }
        ev.prevent_default();
    };
    let tools = TOOLS
        .iter()
        .map(|&(tool, text)| {
            view! {
                <button type="button" aria-pressed=move || (room.tool.get() == tool).to_string() on:click=move |ev: web_sys::MouseEvent| {
                    room.tool.set(tool);
                    room.selected.set(None);
                    draw::draft("");
                    // Chosen from the keyboard (no pointer: `detail` 0), the
                    // text tool opens its box at once, left of the middle.
                    if tool == Tool::Draw(Kind::Text) && ev.detail() == 0 {
                        room.text_at.set(Some((crate::call::board::WIDTH / 4, crate::call::board::HEIGHT / 2)));
                    }
                }>{t(text)}</button>
            }
        })
        .collect_view();
    let colours = COLOURS
        .iter()
        .enumerate()
        .map(|(n, &name)| {
            let n = n as u8;
            view! {
                <button type="button" class="swatch" aria-pressed=move || (room.colour.get() == n).to_string() on:click=move |_| room.colour.set(n)>
                    <span class="chip" style:background=PALETTE[usize::from(n)]></span>
                    <span class="visually-hidden">{t(name)}</span>
                </button>
            }
        })
        .collect_view();
    let widths = WIDTH_NAMES
        .iter()
        .enumerate()
        .map(|(n, &name)| view! { <option value=n.to_string() selected=move || usize::from(room.width.get()) == n>{t(name)}</option> })
        .collect_view();
    let rules = move || {
        RULES
            .iter()
            .map(|&(rule, value, name)| {
                view! { <option value=value selected=move || room.status.with(|s| s.is_some_and(|s| s.rule == rule))>{t(name)}</option> }
            })
            .collect_view()
    };
    let page_label = move || t_with(Text::BoardPageOf, &[("n", &(u32::from(room.page.get()) + 1).to_string()), ("count", &pages().to_string())]);
    let surface_label = move || t_with(Text::BoardSurface, &[("n", &(u32::from(room.page.get()) + 1).to_string())]);
    let typing: NodeRef<leptos::html::Input> = NodeRef::new();
    // The box takes the keyboard as it opens.
    Effect::new(move |_| {
        if let Some(input) = typing.get() {
            let _ = input.focus();
        }
    });
    let text_box = move || {
        room.text_at.get().map(|(x, y)| {
            let (left, top) = draw::on_sheet(x, y);
            let (left, top) = (format!("{left}px"), format!("{top}px"));
            view! {
                <input type="text" class="board-text" node_ref=typing style:left=left style:top=top aria-label=t(Text::BoardTextLabel) maxlength="500"
                    on:keydown=move |ev: web_sys::KeyboardEvent| {
                        if ev.key() == "Enter" {
                            ev.prevent_default();
                            // The keyboard goes back to the tool (Enter again: more text).
                            back_to_tool();
                            room.place_text(event_target_value(&ev));
                        }
                    }
                    on:blur=move |ev| {
                        let text = event_target_value(&ev);
                        if text.trim().is_empty() { room.text_at.set(None) } else { room.place_text(text) }
                    }/>
            }
        })
    };
    let host_tools = move || {
        host().then(|| {
            view! {
                <label>{t(Text::BoardWhoDraws)}" "
                    <select on:change=move |ev| {
                        let rule = match event_target_value(&ev).as_str() { "host" => DrawRule::Host, "everyone" => DrawRule::Everyone, _ => DrawRule::Speakers };
                        room.send.run(ClientMessage::BoardRule { rule });
                    }>{rules()}</select>
                </label>
                <button type="button" on:click=move |_| {
                    if window().confirm_with_message(t(Text::BoardClearConfirm)).unwrap_or(false) {
                        room.send.run(ClientMessage::BoardClear { page: room.page.get_untracked() });
                    }
                }>{t(Text::BoardClear)}</button>
                <button type="button" aria-pressed=move || shown().to_string() on:click=move |_| {
                    room.send.run(ClientMessage::BoardShow { shown: !shown(), page: room.page.get_untracked() });
                }>{move || t(if shown() { Text::BoardStopShowing } else { Text::BoardShow })}</button>
                <button type="button" on:click=move |_| {
                    room.send.run(ClientMessage::BoardKeep);
                    room.kept.set(true);
                }>{t(Text::BoardKeep)}</button>
            }
        })
    };
    let note = move || {
        if loading() {
            t(Text::BoardLoading)
        } else if !may_draw() {
            t(Text::BoardViewOnly)
        } else if shown() && !host() {
            t(Text::BoardShown)
        } else if room.kept.get() {
            t(Text::BoardKept)
        } else {
            ""
        }
    };
    let at = move |ev: &web_sys::PointerEvent| draw::board_point(ev.client_x(), ev.client_y());
    let pressure = |ev: &web_sys::PointerEvent| (ev.pointer_type() == "pen").then(|| (ev.pressure() * 255.0).round().clamp(0.0, 255.0) as u8);
    view! {
        <section class="board" aria-label=t(Text::BoardTitle) on:keydown=keys>
            <div class="board-bar" role="toolbar" aria-label=t(Text::BoardTools) hidden=move || !may_draw()>
                {tools}
                <span class="board-colours" role="group" aria-label=t(Text::BoardColour)>{colours}</span>
                <label>{t(Text::BoardWidth)}" "
                    <select on:change=move |ev| room.width.set(event_target_value(&ev).parse().unwrap_or(1))>{widths}</select>
                </label>
                <button type="button" prop:disabled=move || room.steps.get().0 == 0 on:click=move |_| room.undo()>{t(Text::BoardUndo)}</button>
                <button type="button" prop:disabled=move || room.steps.get().1 == 0 on:click=move |_| room.redo()>{t(Text::BoardRedo)}</button>
                <button type="button" hidden=move || room.selected.with(Option::is_none) on:click=move |_| room.erase_selected()>{t(Text::BoardDelete)}</button>
            </div>
            <div class="board-sheet">
                <svg id="board-surface" viewBox="0 0 1600 900" role="img" aria-label=surface_label
                    class:drawing=may_draw
                    on:pointerdown=move |ev: web_sys::PointerEvent| {
                        if !may_draw() || ev.button() > 0 {
                            return;
                        }
                        ev.prevent_default();
                        draw::capture(&ev);
                        if let Some(point) = at(&ev) {
                            room.pointer_down(point, pressure(&ev));
                        }
                    }
                    on:pointermove=move |ev: web_sys::PointerEvent| {
                        if let Some(point) = at(&ev) {
                            room.pointer_move(point, pressure(&ev));
                        }
                    }
                    on:pointerup=move |_| room.pointer_up()
                    on:pointercancel=move |_| room.pointer_up()>
                    <rect width="1600" height="900" fill="#ffffff"></rect>
                    <g id="board-drawn"></g>
                    <g id="board-draft"></g>
                </svg>
                {text_box}
            </div>
            <div class="board-bar">
                <button type="button" prop:disabled=move || room.page.get() == 0 on:click=move |_| room.go_to(room.page.get_untracked().saturating_sub(1))>
                    {t(Text::BoardPreviousPage)}
                </button>
                <span class="board-page" aria-live="polite">{page_label}</span>
                <button type="button" prop:disabled=move || { room.page.get() + 1 >= pages() } on:click=move |_| room.go_to(room.page.get_untracked() + 1)>
                    {t(Text::BoardNextPage)}
                </button>
                <button type="button" hidden=move || !may_draw() on:click=move |_| {
                    room.adding.set(true);
                    room.send.run(ClientMessage::BoardAddPage);
                }>{t(Text::BoardAddPage)}</button>
                {host_tools}
                <button type="button" on:click=move |_| room.copy.with_value(|c| draw::download(c, room.page.get_untracked(), false))>{t(Text::BoardDownloadPng)}</button>
                <button type="button" on:click=move |_| room.copy.with_value(|c| draw::download(c, room.page.get_untracked(), true))>{t(Text::BoardDownloadSvg)}</button>
                <button type="button" on:click=move |_| room.close()>{t(Text::BoardClose)}</button>
            </div>
            <p class="board-note" role="status">{note}</p>
        </section>
    }
}
