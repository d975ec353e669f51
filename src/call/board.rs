//! The shared whiteboard on the wire, and how it is drawn.
//!
//! A board has pages; a page is a list of elements (a pen stroke, a
//! highlighter stroke, a line, an arrow, a rectangle, an ellipse, a text)
//! in the order they are drawn over each other, on a 1600 × 900 surface.
//! The hub keeps the one true board (`hub::board`) and gives each element
//! a version: an edit names the version it was made from and is refused
//! if someone else changed the element since, so everyone ends with the
//! same board (as Excalidraw does, with the hub's order deciding). The
//! browser draws it from the site's bundle, loaded on a call page when
//! the board is first opened (`client::classroom`); [`Element::svg`] is
//! both what a page shows and what a download or a kept board holds.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// The drawing surface, in board units.
pub const WIDTH: u16 = 1600;
pub const HEIGHT: u16 = 900;
/// Most pages a board holds.
pub const PAGES: usize = 20;
/// Most elements on one page.
pub const ELEMENTS_PER_PAGE: usize = 10_000;
/// Most points in one stroke.
pub const STROKE_POINTS: usize = 2_000;
/// Longest text, in characters.
pub const TEXT_CHARS: usize = 500;
/// Most a whole board may weigh (about its size on the wire, in bytes):
/// what a late joiner is sent, and the hub holds, stays bounded.
pub const BOARD_WEIGHT: usize = 8 * 1024 * 1024;
/// What one message of a board sent whole may weigh, under the socket's
/// limits.
pub const CHUNK_WEIGHT: usize = 48 * 1024;

/// The colours a board draws in: ink, red, green, blue, amber, violet,
/// orange, white.
pub const PALETTE: [&str; 8] = ["#1f2328", "#d1242f", "#1a7f37", "#0969da", "#bf8700", "#8250df", "#f66a0a", "#ffffff"];
/// A pen's widths, thin to broad (a highlighter's are three times these).
pub const WIDTHS: [u16; 4] = [3, 6, 12, 24];
/// A text's sizes, for the same four choices.
pub const TEXT_SIZES: [u16; 4] = [20, 32, 48, 72];

/// What an element is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Pen,
    Highlighter,
    Line,
    Arrow,
    Rect,
    Ellipse,
    Text,
}

/// One thing drawn on a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Element {
    /// Made by the browser that drew it: 1 to 24 letters, digits, `-` or
    /// `_`, unique on its board.
    pub id: String,
    /// The hub's version of it. In an edit, the version it was made from
    /// (0 for something new).
    #[serde(default)]
    pub v: u32,
    pub k: Kind,
    /// Its colour: a place in [`PALETTE`].
    #[serde(default)]
    pub c: u8,
    /// Its width (or a text's size): a place in [`WIDTHS`].
    #[serde(default)]
    pub w: u8,
    /// Points, as x and y in turn: a stroke's path; two corners of a line,
    /// an arrow (from, to), a rectangle or an ellipse's box; where a text
    /// starts.
    pub p: Vec<u16>,
    /// A pen's pressure at each point (0–255), when it had one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub r: Vec<u8>,
    /// A text's words.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub t: String,
}

/// An element named with the version someone saw (to remove it), or that
/// is now gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElementRef {
    pub id: String,
    pub v: u32,
}

/// Who may draw on the board, as the host decides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DrawRule {
    /// Only hosts.
    Host,
    /// Hosts and whoever may speak (in a class, those let speak; in a
    /// meeting, everyone).
    #[default]
    Speakers,
    Everyone,
}

/// The board as one person is told it whenever it changes for them (not
/// its drawing: that comes as `board_changed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardStatus {
    pub rule: DrawRule,
    /// The host shows the board to everyone as the call's main picture.
    pub shown: bool,
    /// The page the host shows (from 0).
    pub page: u8,
    /// How many pages there are (at least one).
    pub pages: u8,
    /// Whether you may draw.
    pub may_draw: bool,
    /// Whether you host (may clear pages, show it, decide who draws).
    pub host: bool,
}

/// Why an element is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementProblem {
    Id,
    Colour,
    Width,
    Points,
    Pressure,
    Text,
}

impl Element {
    /// The element if it is one the board takes (a text trimmed to one
    /// line), or what is wrong with it.
    pub fn checked(mut self) -> Result<Element, ElementProblem> {
        let id_fits = (1..=24).contains(&self.id.len()) && self.id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
        if !id_fits {
            return Err(ElementProblem::Id);
        }
        if usize::from(self.c) >= PALETTE.len() {
            return Err(ElementProblem::Colour);
        }
        if usize::from(self.w) >= WIDTHS.len() {
            return Err(ElementProblem::Width);
        }
        let values = self.p.len();
        let count_fits = match self.k {
            Kind::Pen | Kind::Highlighter => values.is_multiple_of(2) && (2..=STROKE_POINTS * 2).contains(&values),
            Kind::Line | Kind::Arrow | Kind::Rect | Kind::Ellipse => values == 4,
            Kind::Text => values == 2,
        };
        let inside = self.p.chunks(2).all(|xy| xy[0] <= WIDTH && xy.get(1).is_some_and(|&y| y <= HEIGHT));
        if !count_fits || !inside {
            return Err(ElementProblem::Points);
        }
        if !self.r.is_empty() && (self.k != Kind::Pen || self.r.len() * 2 != values) {
            return Err(ElementProblem::Pressure);
        }
        if self.k == Kind::Text {
            let line: String = self.t.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
            let line = line.trim();
            if line.is_empty() || line.chars().count() > TEXT_CHARS {
                return Err(ElementProblem::Text);
            }
            self.t = line.to_string();
        } else if !self.t.is_empty() {
            return Err(ElementProblem::Text);
        }
        Ok(self)
    }

    /// About what it weighs on the wire, in bytes.
    pub fn weight(&self) -> usize {
        64 + self.id.len() + self.p.len() * 5 + self.r.len() * 4 + self.t.len() * 2
    }

    /// Where it is: the smallest box around it (left, top, right,
    /// bottom), its line's width included.
    pub fn bounds(&self) -> (f32, f32, f32, f32) {
        let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for xy in self.p.chunks(2) {
            let (x, y) = (f32::from(xy[0]), f32::from(xy.get(1).copied().unwrap_or(0)));
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        }
        if self.k == Kind::Text {
            let size = f32::from(self.text_size());
            let chars = self.t.chars().count() as f32;
            return (x0, y0 - size, x0 + chars * size * 0.6, y0 + size * 0.3);
        }
        let pad = self.line_width() / 2.0;
        (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    }

    /// Whether a touch at (`x`, `y`) with reach `reach` falls on it: near
    /// a stroke's or a line's path, a shape's outline, or within a text.
    pub fn hit(&self, x: f32, y: f32, reach: f32) -> bool {
        let reach = reach + self.line_width() / 2.0;
        let point = |i: usize| (f32::from(self.p[i * 2]), f32::from(self.p[i * 2 + 1]));
        match self.k {
            Kind::Pen | Kind::Highlighter | Kind::Line | Kind::Arrow => {
                let n = self.p.len() / 2;
                if n == 1 {
                    let (px, py) = point(0);
                    return (px - x).hypot(py - y) <= reach;
                }
                (1..n).any(|i| segment_distance((x, y), point(i - 1), point(i)) <= reach)
            }
            Kind::Rect => {
                let ((ax, ay), (bx, by)) = (point(0), point(1));
                let (l, r, t, b) = (ax.min(bx), ax.max(bx), ay.min(by), ay.max(by));
                let corners = [(l, t), (r, t), (r, b), (l, b), (l, t)];
                corners.windows(2).any(|side| segment_distance((x, y), side[0], side[1]) <= reach)
            }
            Kind::Ellipse => {
                let ((ax, ay), (bx, by)) = (point(0), point(1));
                let (cx, cy, rx, ry) = ((ax + bx) / 2.0, (ay + by) / 2.0, (ax - bx).abs() / 2.0, (ay - by).abs() / 2.0);
                // Distance to the outline, near enough for a touch.
                let (dx, dy) = (x - cx, y - cy);
                let along = dx.hypot(dy);
                if along < f32::EPSILON {
                    return rx.min(ry) <= reach;
                }
                let angle = dy.atan2(dx);
                let edge = (rx * angle.cos()).hypot(ry * angle.sin());
                (along - edge).abs() <= reach
            }
            Kind::Text => {
                let (l, t, r, b) = self.bounds();
                x >= l - reach && x <= r + reach && y >= t - reach && y <= b + reach
            }
        }
    }

    /// The same element moved by (`dx`, `dy`), kept on the board.
    pub fn moved(&self, dx: i32, dy: i32) -> Element {
        let (l, t, r, b) = {
            let xs = self.p.iter().step_by(2).map(|&x| i32::from(x));
            let ys = self.p.iter().skip(1).step_by(2).map(|&y| i32::from(y));
            (xs.clone().min().unwrap_or(0), ys.clone().min().unwrap_or(0), xs.max().unwrap_or(0), ys.max().unwrap_or(0))
        };
        let dx = dx.clamp(-l, i32::from(WIDTH) - r);
        let dy = dy.clamp(-t, i32::from(HEIGHT) - b);
        let p = self
            .p
            .chunks(2)
            .flat_map(|xy| {
                let x = i32::from(xy[0]) + dx;
                let y = i32::from(xy.get(1).copied().unwrap_or(0)) + dy;
                [u16::try_from(x).unwrap_or(0), u16::try_from(y).unwrap_or(0)]
            })
            .collect();
        Element { p, ..self.clone() }
    }

    fn line_width(&self) -> f32 {
        f32::from(self.stroke_width())
    }

    fn text_size(&self) -> u16 {
        TEXT_SIZES[usize::from(self.w).min(TEXT_SIZES.len() - 1)]
    }

    fn colour(&self) -> &'static str {
        PALETTE[usize::from(self.c).min(PALETTE.len() - 1)]
    }

    /// Its line's width in board units (a highlighter's three times a pen's).
    fn stroke_width(&self) -> u16 {
        let base = WIDTHS[usize::from(self.w).min(WIDTHS.len() - 1)];
        if self.k == Kind::Highlighter {
            base * 3
        } else {
            base
        }
    }

    /// The element as SVG markup (whole numbers only: a page's bundle then
    /// needs no float formatting).
    pub fn svg(&self) -> String {
        let mut out = String::new();
        let colour = self.colour();
        let width = self.stroke_width();
        let stroke = format!(r#"fill="none" stroke="{colour}" stroke-width="{width}" stroke-linecap="round" stroke-linejoin="round""#);
        let point = |i: usize| (self.p[i * 2], self.p[i * 2 + 1]);
        match self.k {
            Kind::Pen if !self.r.is_empty() => {
                let _ = write!(out, r#"<path d="{}" fill="{colour}"/>"#, self.outline());
            }
            Kind::Pen | Kind::Highlighter => {
                let mut d = String::new();
                for (i, xy) in self.p.chunks(2).enumerate() {
                    let _ = write!(d, "{}{} {}", if i == 0 { "M" } else { " L" }, xy[0], xy[1]);
                }
                if self.p.len() == 2 {
                    d.push_str(" l0 0");
                }
                let faint = if self.k == Kind::Highlighter { r#" stroke-opacity="0.35""# } else { "" };
                let _ = write!(out, r#"<path d="{d}" {stroke}{faint}/>"#);
            }
            Kind::Line => {
                let ((x1, y1), (x2, y2)) = (point(0), point(1));
                let _ = write!(out, r#"<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" {stroke}/>"#);
            }
            Kind::Arrow => {
                let ((x1, y1), (x2, y2)) = (point(0), point(1));
                let (fx, fy, tx, ty) = (f32::from(x1), f32::from(y1), f32::from(x2), f32::from(y2));
                let angle = (ty - fy).atan2(tx - fx);
                let head = (f32::from(width) * 4.0).max(14.0);
                let wing = |turn: f32| ((tx - head * (angle + turn).cos()).round() as i32, (ty - head * (angle + turn).sin()).round() as i32);
                let ((ax, ay), (bx, by)) = (wing(0.5), wing(-0.5));
                let _ = write!(out, r#"<path d="M{x1} {y1} L{x2} {y2} M{ax} {ay} L{x2} {y2} L{bx} {by}" {stroke}/>"#);
            }
            Kind::Rect => {
                let ((x1, y1), (x2, y2)) = (point(0), point(1));
                let (x, y, w, h) = (x1.min(x2), y1.min(y2), x1.abs_diff(x2), y1.abs_diff(y2));
                let _ = write!(out, r#"<rect x="{x}" y="{y}" width="{w}" height="{h}" {stroke}/>"#);
            }
            Kind::Ellipse => {
                let ((x1, y1), (x2, y2)) = (point(0), point(1));
                let (cx, cy) = ((u32::from(x1) + u32::from(x2)) / 2, (u32::from(y1) + u32::from(y2)) / 2);
                let (rx, ry) = (x1.abs_diff(x2) / 2, y1.abs_diff(y2) / 2);
                let _ = write!(out, r#"<ellipse cx="{cx}" cy="{cy}" rx="{rx}" ry="{ry}" {stroke}/>"#);
            }
            Kind::Text => {
                let (x, y) = point(0);
                let size = self.text_size();
                let _ =
                    write!(out, r#"<text x="{x}" y="{y}" font-size="{size}" font-family="sans-serif" fill="{colour}">{}</text>"#, escaped(&self.t));
            }
        }
        out
    }

    /// A pen stroke with pressure as one filled shape: its path widened at
    /// each point by the pressure there.
    fn outline(&self) -> String {
        let points: Vec<(f32, f32)> = self.p.chunks(2).map(|xy| (f32::from(xy[0]), f32::from(xy[1]))).collect();
        let half = |i: usize| self.line_width() * (0.25 + 0.75 * f32::from(self.r[i]) / 255.0) / 2.0;
        let n = points.len();
        let whole = |v: f32| v.round() as i32;
        if n == 1 {
            let ((x, y), r) = (points[0], whole(half(0)).max(1));
            return format!("M{} {} a{r} {r} 0 1 0 {} 0 a{r} {r} 0 1 0 {} 0", whole(x) - r, whole(y), 2 * r, -2 * r);
        }
        let side = |i: usize, sign: f32| {
            let (before, after) = (points[i.saturating_sub(1)], points[(i + 1).min(n - 1)]);
            let (dx, dy) = (after.0 - before.0, after.1 - before.1);
            let length = dx.hypot(dy).max(f32::EPSILON);
            let (nx, ny) = (-dy / length, dx / length);
            (whole(points[i].0 + sign * nx * half(i)), whole(points[i].1 + sign * ny * half(i)))
        };
        let mut d = String::new();
        let left = (0..n).map(|i| side(i, 1.0));
        let right = (0..n).rev().map(|i| side(i, -1.0));
        for (i, (x, y)) in left.chain(right).enumerate() {
            let _ = write!(d, "{}{x} {y}", if i == 0 { "M" } else { " L" });
        }
        d.push_str(" Z");
        d
    }
}

/// `elements` in order, in messages each within [`CHUNK_WEIGHT`] (an
/// element heavier alone is a message alone): what a page sends of its
/// drawing, and the hub of a board sent whole.
pub fn batches(elements: impl IntoIterator<Item = Element>) -> Vec<Vec<Element>> {
    let mut out: Vec<Vec<Element>> = Vec::new();
    let mut weight = 0;
    for element in elements {
        let heavy = element.weight();
        match out.last_mut() {
            Some(last) if weight + heavy <= CHUNK_WEIGHT => {
                last.push(element);
                weight += heavy;
            }
            _ => {
                out.push(vec![element]);
                weight = heavy;
            }
        }
    }
    out
}

/// A page as a whole SVG picture on white: what a download holds.
pub fn page_svg(elements: &[Element]) -> String {
    let mut out = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}"><rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>"##
    );
    for element in elements {
        out.push_str(&element.svg());
    }
    out.push_str("</svg>");
    out
}

/// A board as a page holds it: what the hub sent, applied in order,
/// with the page's own drawing applied at once. What the page drew new
/// waits on top until the hub's answer puts it where the hub has it, so
/// every page ends with the hub's order of what is drawn over what.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BoardCopy {
    pub pages: Vec<Vec<Element>>,
    /// Removed elements' versions, by page and id: what an undo names.
    gone: Vec<HashMap<String, u32>>,
    /// By page, what this page drew anew and the hub has not answered:
    /// always the last of the page's elements.
    pending: Vec<HashSet<String>>,
}

impl BoardCopy {
    fn page_mut(&mut self, page: u8) -> (&mut Vec<Element>, &mut HashMap<String, u32>, &mut HashSet<String>) {
        let at = usize::from(page);
        if self.pages.len() <= at {
            self.pages.resize_with(at + 1, Vec::new);
        }
        self.gone.resize_with(self.pages.len(), Default::default);
        self.pending.resize_with(self.pages.len(), Default::default);
        (&mut self.pages[at], &mut self.gone[at], &mut self.pending[at])
    }

    /// `page` changed at the hub: cleared first if `cleared`, then `put`
    /// drawn (in place of an element of the same id, else over all the
    /// hub had sent), `gone` removed.
    pub fn apply(&mut self, page: u8, cleared: bool, put: Vec<Element>, gone: &[ElementRef]) {
        let (elements, removed, pending) = self.page_mut(page);
        if cleared {
            elements.clear();
            removed.clear();
            pending.clear();
        }
        if pending.is_empty() {
            // One pass over the page however many change (a board sent
            // whole comes in pieces of hundreds).
            let mut places: HashMap<String, usize> =
                if put.is_empty() { HashMap::new() } else { elements.iter().enumerate().map(|(i, e)| (e.id.clone(), i)).collect() };
            for element in put {
                removed.remove(&element.id);
                match places.get(&element.id) {
                    Some(&i) => elements[i] = element,
                    None => {
                        places.insert(element.id.clone(), elements.len());
                        elements.push(element);
                    }
                }
            }
        } else {
            for element in put {
                removed.remove(&element.id);
                let held = elements.iter().position(|e| e.id == element.id);
                match held {
                    Some(i) if !pending.remove(&element.id) => elements[i] = element,
                    _ => {
                        // New to the hub's order: after what the hub sent,
                        // under what this page still waits on.
                        if let Some(i) = held {
                            elements.remove(i);
                        }
                        let under = elements.iter().position(|e| pending.contains(&e.id)).unwrap_or(elements.len());
                        elements.insert(under, element);
                    }
                }
            }
        }
        if !gone.is_empty() {
            let ids: HashSet<&str> = gone.iter().map(|g| g.id.as_str()).collect();
            elements.retain(|e| !ids.contains(e.id.as_str()));
            pending.retain(|id| !ids.contains(id.as_str()));
            removed.extend(gone.iter().map(|g| (g.id.clone(), g.v)));
        }
    }

    /// This page drew on `page`: `put` (each with the version it was made
    /// from) and removed `gone`, before the hub answers. What is new waits
    /// on top.
    pub fn draw(&mut self, page: u8, put: Vec<Element>, gone: &[ElementRef]) {
        let (elements, removed, pending) = self.page_mut(page);
        for element in put {
            removed.remove(&element.id);
            match elements.iter().position(|e| e.id == element.id) {
                Some(i) => elements[i] = element,
                None => {
                    pending.insert(element.id.clone());
                    elements.push(element);
                }
            }
        }
        let ids: HashSet<&str> = gone.iter().map(|g| g.id.as_str()).collect();
        elements.retain(|e| !ids.contains(e.id.as_str()));
        pending.retain(|id| !ids.contains(id.as_str()));
        removed.extend(gone.iter().map(|g| (g.id.clone(), g.v)));
    }

    /// Whether the hub's answer to `put` on `page` changes which element
    /// is over which here (then the page is drawn again whole): something
    /// new arrives while this page waits on its own.
    pub fn reorders(&self, page: u8, put: &[Element]) -> bool {
        let Some(pending) = self.pending.get(usize::from(page)).filter(|p| !p.is_empty()) else { return false };
        let elements = &self.pages[usize::from(page)];
        put.iter().any(|e| pending.contains(&e.id) || !elements.iter().any(|held| held.id == e.id))
    }

    /// Of `put`, those `page` does not hold yet.
    pub fn new_on(&self, page: u8, put: &[Element]) -> Vec<bool> {
        let Some(elements) = self.pages.get(usize::from(page)) else { return vec![true; put.len()] };
        if put.len() == 1 {
            return vec![!elements.iter().any(|e| e.id == put[0].id)];
        }
        let held: std::collections::HashSet<&str> = elements.iter().map(|e| e.id.as_str()).collect();
        put.iter().map(|e| !held.contains(e.id.as_str())).collect()
    }

    /// The version of `id` on `page` as this copy knows it: the element's,
    /// else the one it was removed at, else 0.
    pub fn version(&self, page: u8, id: &str) -> u32 {
        let at = usize::from(page);
        let element = self.pages.get(at).and_then(|p| p.iter().find(|e| e.id == id)).map(|e| e.v);
        element.or_else(|| self.gone.get(at).and_then(|g| g.get(id)).copied()).unwrap_or(0)
    }

    /// The element `id` on `page`, if there.
    pub fn get(&self, page: u8, id: &str) -> Option<&Element> {
        self.pages.get(usize::from(page))?.iter().find(|e| e.id == id)
    }

    /// The topmost element on `page` under a touch at (`x`, `y`).
    pub fn hit(&self, page: u8, x: f32, y: f32, reach: f32) -> Option<&Element> {
        self.pages.get(usize::from(page))?.iter().rev().find(|e| e.hit(x, y, reach))
    }
}

/// `text` safe inside SVG markup.
fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// How far `p` is from the segment from `a` to `b`.
fn segment_distance(p: (f32, f32), a: (f32, f32), b: (f32, f32)) -> f32 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let length = dx * dx + dy * dy;
    let t = if length < f32::EPSILON { 0.0 } else { (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / length).clamp(0.0, 1.0) };
    (p.0 - a.0 - t * dx).hypot(p.1 - a.1 - t * dy)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn stroke(id: &str, p: Vec<u16>) -> Element {
        Element { id: id.into(), v: 0, k: Kind::Pen, c: 0, w: 1, p, r: Vec::new(), t: String::new() }
    }

    #[test]
    fn only_what_fits_the_board_is_taken() {
        assert!(stroke("a1", vec![10, 10, 20, 20]).checked().is_ok());
        assert_eq!(stroke("", vec![10, 10]).checked(), Err(ElementProblem::Id));
        assert_eq!(stroke("a b", vec![10, 10]).checked(), Err(ElementProblem::Id));
        assert_eq!(stroke("a", vec![10, 10, 20]).checked(), Err(ElementProblem::Points), "an odd number of values");
        assert_eq!(stroke("a", vec![]).checked(), Err(ElementProblem::Points));
        assert_eq!(stroke("a", vec![1601, 10]).checked(), Err(ElementProblem::Points), "off the board");
        assert_eq!(stroke("a", vec![0; STROKE_POINTS * 2 + 2]).checked(), Err(ElementProblem::Points));
        assert_eq!(Element { c: 8, ..stroke("a", vec![1, 1]) }.checked(), Err(ElementProblem::Colour));
        assert_eq!(Element { w: 4, ..stroke("a", vec![1, 1]) }.checked(), Err(ElementProblem::Width));
        assert_eq!(Element { r: vec![1], ..stroke("a", vec![1, 1, 2, 2]) }.checked(), Err(ElementProblem::Pressure));
        assert_eq!(Element { k: Kind::Rect, ..stroke("a", vec![1, 1]) }.checked(), Err(ElementProblem::Points));
        let text = Element { k: Kind::Text, t: "  two\nlines ".into(), ..stroke("t", vec![5, 50]) };
        assert_eq!(text.checked().map(|e| e.t), Ok("two lines".to_string()), "a text is one line, trimmed");
        let blank = Element { k: Kind::Text, t: " ".into(), ..stroke("t", vec![5, 50]) };
        assert_eq!(blank.checked(), Err(ElementProblem::Text));
        assert_eq!(Element { t: "x".into(), ..stroke("a", vec![1, 1]) }.checked(), Err(ElementProblem::Text), "text on a stroke");
    }

    #[test]
    fn what_is_drawn_is_the_element_and_a_text_cannot_become_markup() {
        let pen = stroke("a", vec![10, 20, 30, 40]);
        assert!(pen.svg().starts_with(r##"<path d="M10 20 L30 40" fill="none" stroke="#1f2328" stroke-width="6""##), "{}", pen.svg());
        let dot = stroke("a", vec![10, 20]);
        assert!(dot.svg().contains("M10 20 l0 0"), "a single point still shows");
        let pressed = Element { r: vec![0, 255], ..pen.clone() };
        assert!(pressed.svg().contains(" Z\" fill=\"#1f2328\""), "a pressed stroke is a filled shape: {}", pressed.svg());
        let rect = Element { k: Kind::Rect, c: 1, ..stroke("r", vec![50, 60, 10, 20]) };
        assert!(rect.svg().starts_with(r##"<rect x="10" y="20" width="40" height="40" fill="none" stroke="#d1242f""##), "{}", rect.svg());
        let text = Element { k: Kind::Text, t: r#"<script>"&"#.into(), ..stroke("t", vec![5, 50]) };
        assert!(text.svg().contains("&lt;script&gt;&quot;&amp;</text>"), "{}", text.svg());
        let faint = Element { k: Kind::Highlighter, w: 2, ..stroke("h", vec![10, 20, 30, 40]) };
        assert!(faint.svg().contains(r#"stroke-width="36""#) && faint.svg().contains(r#"stroke-opacity="0.35""#), "three times a pen, see-through");
        let arrow = Element { k: Kind::Arrow, ..stroke("a", vec![0, 100, 200, 100]) };
        assert!(
            arrow.svg().starts_with(r#"<path d="M0 100 L200 100 M"#) && arrow.svg().matches(" L200 100").count() == 2,
            "a shaft and a head at its end: {}",
            arrow.svg()
        );
        let page = page_svg(&[pen, rect]);
        assert!(page.starts_with("<svg xmlns=") && page.ends_with("</svg>") && page.contains("<rect x=\"10\""));
    }

    #[test]
    fn two_pages_drawing_at_once_end_with_the_hubs_order() {
        let (a1, b1) = (Element { v: 1, ..stroke("a1", vec![1, 1]) }, Element { v: 1, ..stroke("b1", vec![2, 2]) });
        let (mut a, mut b) = (BoardCopy::default(), BoardCopy::default());
        a.draw(0, vec![Element { v: 0, ..a1.clone() }], &[]);
        b.draw(0, vec![Element { v: 0, ..b1.clone() }], &[]);
        // The hub took b1 first, then a1; each page hears both in that order.
        assert!(a.reorders(0, std::slice::from_ref(&b1)), "something new while a1 waits");
        a.apply(0, false, vec![b1.clone()], &[]);
        assert_eq!(a.pages[0].iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["b1", "a1"], "a1 still waits on top");
        a.apply(0, false, vec![a1.clone()], &[]);
        b.apply(0, false, vec![b1.clone()], &[]);
        b.apply(0, false, vec![a1.clone()], &[]);
        assert_eq!(a, b);
        assert_eq!(a.pages[0], vec![b1, a1]);
        assert!(!a.reorders(0, &a.pages[0].clone()), "nothing waits any more");
    }

    #[test]
    fn a_touch_finds_what_is_under_it_and_a_move_stays_on_the_board() {
        let line = Element { k: Kind::Line, ..stroke("l", vec![0, 0, 100, 0]) };
        assert!(line.hit(50.0, 4.0, 2.0));
        assert!(!line.hit(50.0, 30.0, 2.0));
        let rect = Element { k: Kind::Rect, ..stroke("r", vec![100, 100, 200, 200]) };
        assert!(rect.hit(100.0, 150.0, 2.0), "on its left side");
        assert!(!rect.hit(150.0, 150.0, 2.0), "inside an outline is not on it");
        let ellipse = Element { k: Kind::Ellipse, ..stroke("e", vec![0, 0, 200, 100]) };
        assert!(ellipse.hit(200.0, 50.0, 2.0) && ellipse.hit(100.0, 0.0, 2.0));
        assert!(!ellipse.hit(100.0, 50.0, 2.0));
        let moved = rect.moved(2000, -50);
        assert_eq!(moved.p, vec![1500, 50, 1600, 150], "pushed no further than the edge");
    }
}
