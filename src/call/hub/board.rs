//! The shared whiteboard: one per call, kept by the hub in the order its
//! changes arrive. Each element has a version; a change names the version
//! it was made from and is taken only if that is still the element's, so
//! of two people moving the same shape at once the first wins and the
//! second is sent the shape as it is (everyone converges on the hub's
//! board). Those who have the board open ([`Board::watching`]) are sent
//! each change; whoever opens it, or comes back, is sent it whole.

use crate::call::board::{batches, page_svg, BoardStatus, DrawRule, Element, ElementRef, BOARD_WEIGHT, ELEMENTS_PER_PAGE, PAGES};

use super::*;

/// One call's board.
#[derive(Debug)]
pub(super) struct Board {
    pages: Vec<Page>,
    rule: DrawRule,
    shown: bool,
    page: u8,
    /// Those who have it open: each change is sent to them.
    watching: HashSet<ParticipantId>,
    /// What all its pages weigh ([`Element::weight`]).
    weight: usize,
}

#[derive(Debug, Default)]
struct Page {
    /// In drawing order, the last on top.
    elements: Vec<Element>,
    /// Removed elements' last versions, so that an edit made from before
    /// the removal is refused (and an undo, made from it, is taken).
    gone: HashMap<String, u32>,
}

impl Default for Board {
    fn default() -> Self {
        Self { pages: vec![Page::default()], rule: DrawRule::default(), shown: false, page: 0, watching: HashSet::new(), weight: 0 }
    }
}

/// A change to one page, as it is sent.
fn changed(page: usize, cleared: bool, put: Vec<Element>, gone: Vec<ElementRef>) -> ServerMessage {
    ServerMessage::BoardChanged { page: u8::try_from(page).unwrap_or(u8::MAX), cleared, put, gone }
}

impl Hub {
    /// Whether `who` may draw on their call's board now.
    fn may_draw(&self, who: ParticipantId, rule: DrawRule) -> bool {
        let Some(seat) = self.seats.get(&who) else { return false };
        seat.host
            || match rule {
                DrawRule::Host => false,
                DrawRule::Speakers => self.rules_for(who).may_unmute,
                DrawRule::Everyone => true,
            }
    }

    fn board_status(&self, room: RoomId, who: ParticipantId) -> ServerMessage {
        let board = self.boards.get(&room);
        let rule = board.map_or(DrawRule::default(), |b| b.rule);
        ServerMessage::BoardState {
            state: BoardStatus {
                rule,
                shown: board.is_some_and(|b| b.shown),
                page: board.map_or(0, |b| b.page),
                pages: board.map_or(1, |b| u8::try_from(b.pages.len()).unwrap_or(u8::MAX)),
                may_draw: self.may_draw(who, rule),
                host: self.seats.get(&who).is_some_and(|seat| seat.host),
            },
        }
    }

    /// The room `who` is in the call of, or why not.
    fn call_of(&self, who: ParticipantId) -> Result<RoomId, ErrorCode> {
        match self.seats.get(&who) {
            None => Err(ErrorCode::NotJoined),
            Some(seat) if !seat.admitted => Err(ErrorCode::NotAdmitted),
            Some(seat) => Ok(seat.room),
        }
    }

    /// `who` opens the board (and is sent it whole) or closes it.
    pub(super) fn board_watch(&mut self, who: ParticipantId, on: bool) -> Vec<Outgoing> {
        let room = match self.call_of(who) {
            Ok(room) => room,
            Err(code) => return refuse(who, code),
        };
        if !on {
            if let Some(board) = self.boards.get_mut(&room) {
                board.watching.remove(&who);
            }
            return Vec::new();
        }
        self.boards.entry(room).or_default().watching.insert(who);
        self.whole_board(room, who)
    }

    /// The board as `who` is sent it on opening it: how it stands, then
    /// each page in messages of a bounded size, the first clearing it.
    pub(super) fn whole_board(&self, room: RoomId, who: ParticipantId) -> Vec<Outgoing> {
        let mut out = vec![Outgoing { to: who, message: self.board_status(room, who) }];
        let Some(board) = self.boards.get(&room) else { return out };
        for (number, page) in board.pages.iter().enumerate() {
            // The first piece clears the page, even an empty one.
            let mut pieces = batches(page.elements.iter().cloned());
            if pieces.is_empty() {
                pieces.push(Vec::new());
            }
            let sent = pieces.into_iter().enumerate().map(|(n, piece)| Outgoing { to: who, message: changed(number, n == 0, piece, Vec::new()) });
            out.extend(sent);
        }
        out
    }

    /// The room whose board `who` may draw on, or a refusal for them.
    fn drawing_room(&self, who: ParticipantId, page: u8) -> Result<RoomId, Vec<Outgoing>> {
        let room = self.call_of(who).map_err(|code| refuse(who, code))?;
        let board = self.boards.get(&room);
        if !self.may_draw(who, board.map_or(DrawRule::default(), |b| b.rule)) {
            return Err(refuse(who, ErrorCode::MayNotDraw));
        }
        if usize::from(page) >= board.map_or(1, |b| b.pages.len()) {
            return Err(refuse(who, ErrorCode::InvalidBoard));
        }
        Ok(room)
    }

    /// `who` draws `elements` on `page` (new ones, or changes of ones
    /// there, each named with the version it was made from).
    pub(super) fn board_put(&mut self, who: ParticipantId, page: u8, elements: Vec<Element>) -> Vec<Outgoing> {
        let room = match self.drawing_room(who, page) {
            Ok(room) => room,
            Err(refusal) => return refusal,
        };
        let Ok(elements) = elements.into_iter().map(Element::checked).collect::<Result<Vec<_>, _>>() else {
            return refuse(who, ErrorCode::InvalidBoard);
        };
        let board = self.boards.entry(room).or_default();
        let at = usize::from(page);
        // Within the limits once taken, or not at all.
        let adds = elements.iter().filter(|e| !board.pages[at].elements.iter().any(|old| old.id == e.id)).count();
        let added_weight: usize = elements.iter().map(Element::weight).sum();
        if board.pages[at].elements.len() + adds > ELEMENTS_PER_PAGE || board.weight + added_weight > BOARD_WEIGHT {
            return refuse(who, ErrorCode::BoardFull);
        }
        let (mut taken, mut stale, mut unknown) = (Vec::new(), Vec::new(), Vec::new());
        let target = &mut board.pages[at];
        for mut element in elements {
            if let Some(old) = target.elements.iter_mut().find(|old| old.id == element.id) {
                if old.v == element.v {
                    element.v += 1;
                    board.weight = board.weight - old.weight() + element.weight();
                    *old = element.clone();
                    taken.push(element);
                } else {
                    stale.push(old.clone());
                }
                continue;
            }
            let base = target.gone.get(&element.id).copied().unwrap_or(0);
            if element.v == base {
                target.gone.remove(&element.id);
                element.v += 1;
                board.weight += element.weight();
                target.elements.push(element.clone());
                taken.push(element);
            } else {
                unknown.push(ElementRef { id: element.id, v: base.max(element.v) });
            }
        }
        let mut out = Vec::new();
        if !stale.is_empty() || !unknown.is_empty() {
            out.push(Outgoing { to: who, message: changed(at, false, stale, unknown) });
        }
        if !taken.is_empty() {
            out.extend(tell(board.watching.iter().copied(), changed(at, false, taken, Vec::new())));
        }
        out
    }

    /// `who` removes `items` from `page`, each as the version they saw.
    pub(super) fn board_drop(&mut self, who: ParticipantId, page: u8, items: Vec<ElementRef>) -> Vec<Outgoing> {
        let room = match self.drawing_room(who, page) {
            Ok(room) => room,
            Err(refusal) => return refusal,
        };
        let board = self.boards.entry(room).or_default();
        let target = &mut board.pages[usize::from(page)];
        let (mut gone, mut stale) = (Vec::new(), Vec::new());
        for item in items {
            match target.elements.iter().position(|e| e.id == item.id) {
                Some(at) if target.elements[at].v == item.v => {
                    let element = target.elements.remove(at);
                    board.weight -= element.weight();
                    target.gone.insert(item.id.clone(), item.v + 1);
                    gone.push(ElementRef { id: item.id, v: item.v + 1 });
                }
                Some(at) => stale.push(target.elements[at].clone()),
                None => {}
            }
        }
        let mut out = Vec::new();
        if !stale.is_empty() {
            out.push(Outgoing { to: who, message: changed(usize::from(page), false, stale, Vec::new()) });
        }
        if !gone.is_empty() {
            out.extend(tell(board.watching.iter().copied(), changed(usize::from(page), false, Vec::new(), gone)));
        }
        out
    }

    /// Host `by` clears `page`.
    pub(super) fn board_clear(&mut self, by: ParticipantId, page: u8) -> Vec<Outgoing> {
        let room = match self.host_room(by) {
            Ok(room) => room,
            Err(code) => return refuse(by, code),
        };
        let board = self.boards.entry(room).or_default();
        let Some(target) = board.pages.get_mut(usize::from(page)) else {
            return refuse(by, ErrorCode::InvalidBoard);
        };
        board.weight -= target.elements.iter().map(Element::weight).sum::<usize>();
        *target = Page::default();
        tell(board.watching.iter().copied(), changed(usize::from(page), true, Vec::new(), Vec::new()))
    }

    /// `who` adds a page at the end.
    pub(super) fn board_add_page(&mut self, who: ParticipantId) -> Vec<Outgoing> {
        let room = match self.drawing_room(who, 0) {
            Ok(room) => room,
            Err(refusal) => return refusal,
        };
        let board = self.boards.entry(room).or_default();
        if board.pages.len() >= PAGES {
            return refuse(who, ErrorCode::BoardFull);
        }
        board.pages.push(Page::default());
        let watching: Vec<ParticipantId> = board.watching.iter().copied().collect();
        self.board_status_to(room, watching)
    }

    /// Host `by` shows the board's `page` to everyone as the call's main
    /// picture, or stops.
    pub(super) fn board_show(&mut self, by: ParticipantId, shown: bool, page: u8) -> Vec<Outgoing> {
        let room = match self.host_room(by) {
            Ok(room) => room,
            Err(code) => return refuse(by, code),
        };
        let board = self.boards.entry(room).or_default();
        if usize::from(page) >= board.pages.len() {
            return refuse(by, ErrorCode::InvalidBoard);
        }
        (board.shown, board.page) = (shown, page);
        self.board_status_to(room, self.everyone_in(room))
    }

    /// Host `by` keeps the board with the session: a [`Record::Board`] of
    /// its pages that have anything on them (none: nothing is kept).
    pub(super) fn board_keep(&mut self, by: ParticipantId) -> Vec<Outgoing> {
        let room = match self.host_room(by) {
            Ok(room) => room,
            Err(code) => return refuse(by, code),
        };
        let pages: Vec<String> = self
            .boards
            .get(&room)
            .map(|board| board.pages.iter().filter(|p| !p.elements.is_empty()).map(|p| page_svg(&p.elements)).collect())
            .unwrap_or_default();
        if !pages.is_empty() {
            self.journal.push(Record::Board { room, pages });
        }
        Vec::new()
    }

    /// Host `by` decides who may draw.
    pub(super) fn board_rule(&mut self, by: ParticipantId, rule: DrawRule) -> Vec<Outgoing> {
        let room = match self.host_room(by) {
            Ok(room) => room,
            Err(code) => return refuse(by, code),
        };
        let board = self.boards.entry(room).or_default();
        board.rule = rule;
        let watching: Vec<ParticipantId> = board.watching.iter().copied().collect();
        self.board_status_to(room, watching)
    }

    fn board_status_to(&self, room: RoomId, to: Vec<ParticipantId>) -> Vec<Outgoing> {
        to.into_iter().map(|who| Outgoing { to: who, message: self.board_status(room, who) }).collect()
    }

    /// What `who` is told of the board on entering a call, or coming back:
    /// it whole if they had it open, how it stands if it is shown.
    pub(super) fn board_for(&self, room: RoomId, who: ParticipantId) -> Vec<Outgoing> {
        match self.boards.get(&room) {
            Some(board) if board.watching.contains(&who) => self.whole_board(room, who),
            Some(board) if board.shown => vec![Outgoing { to: who, message: self.board_status(room, who) }],
            _ => Vec::new(),
        }
    }

    /// `who`'s leave to draw may have changed: they are told, if they
    /// have the board open.
    pub(super) fn board_rules_changed(&self, who: ParticipantId) -> Vec<Outgoing> {
        let Some(room) = self.room_of(who) else { return Vec::new() };
        match self.boards.get(&room) {
            Some(board) if board.watching.contains(&who) => vec![Outgoing { to: who, message: self.board_status(room, who) }],
            _ => Vec::new(),
        }
    }

    /// `who` left: they watch no more.
    pub(super) fn board_forget(&mut self, room: RoomId, who: ParticipantId) {
        if let Some(board) = self.boards.get_mut(&room) {
            board.watching.remove(&who);
        }
    }
}
