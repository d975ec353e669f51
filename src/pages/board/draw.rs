//! The board on the page: its elements as SVG in `#board-drawn` (one `g`
//! each, changed in place as changes come), the shape being drawn in
//! `#board-draft`, where a touch lands, and downloads.

use wasm_bindgen::JsCast;

use crate::call::board::{page_svg, BoardCopy, Element, ElementRef, HEIGHT, WIDTH};

fn document() -> Option<web_sys::Document> {
    web_sys::window()?.document()
}

fn layer(id: &str) -> Option<web_sys::Element> {
    document()?.get_element_by_id(id)
}

fn node(element: &Element) -> String {
    format!(r#"<g data-id="{}">{}</g>"#, element.id, element.svg())
}

/// Draws `elements` in place of what the page showed.
pub fn page(elements: &[Element]) {
    if let Some(layer) = layer("board-drawn") {
        layer.set_inner_html(&elements.iter().map(node).collect::<String>());
    }
}

/// Draws `put` (in place of elements of the same id, else on top: `fresh`
/// says which are new to the page) and takes away `gone`.
pub fn changed(put: &[Element], fresh: &[bool], gone: &[ElementRef]) {
    let Some(layer) = layer("board-drawn") else { return };
    // Ids are letters, digits, `-` and `_` alone (`Element::checked`).
    let find = |id: &str| layer.query_selector(&format!(r#"g[data-id="{id}"]"#)).ok().flatten();
    let mut added = String::new();
    for (element, &new) in put.iter().zip(fresh) {
        match (!new).then(|| find(&element.id)).flatten() {
            Some(existing) => existing.set_inner_html(&element.svg()),
            None => added.push_str(&node(element)),
        }
    }
    if !added.is_empty() {
        let _ = layer.insert_adjacent_html("beforeend", &added);
    }
    for item in gone {
        if let Some(existing) = find(&item.id) {
            existing.remove();
        }
    }
}

/// Shows `markup` as what is being drawn (or nothing).
pub fn draft(markup: &str) {
    if let Some(layer) = layer("board-draft") {
        layer.set_inner_html(markup);
    }
}

/// A dashed box around `element`: it is selected.
pub fn selection(element: &Element) -> String {
    let (l, t, r, b) = element.bounds();
    let whole = |v: f32| v.round() as i32;
    format!(
        r##"<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#0969da" stroke-width="2" stroke-dasharray="8 6"/>"##,
        whole(l - 6.0),
        whole(t - 6.0),
        whole(r - l + 12.0),
        whole(b - t + 12.0)
    )
}

/// Where the drawing stands on screen: the board element's box, and the
/// drawing within it, centred and as large as it fits (its left and top
/// inside the box, and its scale), if the board is on screen.
fn placement() -> Option<(web_sys::DomRect, f64, f64, f64)> {
    let rect = layer("board-surface")?.get_bounding_client_rect();
    let (w, h) = (f64::from(WIDTH), f64::from(HEIGHT));
    let scale = (rect.width() / w).min(rect.height() / h);
    let (left, top) = ((rect.width() - w * scale) / 2.0, (rect.height() - h * scale) / 2.0);
    (scale > 0.0).then_some((rect, left, top, scale))
}

/// Where a touch at (`x`, `y`) on the screen lands on the board, in its
/// units, if the board is on screen.
pub fn board_point(x: i32, y: i32) -> Option<(f32, f32)> {
    let (rect, left, top, scale) = placement()?;
    let bx = ((f64::from(x) - rect.left() - left) / scale).clamp(0.0, f64::from(WIDTH));
    let by = ((f64::from(y) - rect.top() - top) / scale).clamp(0.0, f64::from(HEIGHT));
    Some((bx as f32, by as f32))
}

/// Where board point (`x`, `y`) is on the sheet the board fills, in CSS
/// pixels from its top left corner (whole ones).
pub fn on_sheet(x: u16, y: u16) -> (i32, i32) {
    let Some((_, left, top, scale)) = placement() else { return (0, 0) };
    ((left + f64::from(x) * scale).round() as i32, (top + f64::from(y) * scale).round() as i32)
}

/// Keeps a touch's moves coming to the board even off its edge.
pub fn capture(ev: &web_sys::PointerEvent) {
    if let Some(target) = ev.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) {
        let _ = target.set_pointer_capture(ev.pointer_id());
    }
}

/// A new element's id: random, short, unique enough on one board.
pub fn new_id() -> String {
    let random = (js_sys::Math::random() * 2f64.powi(52)) as u64;
    let now = js_sys::Date::now() as u64;
    format!("{:x}{:x}", now % 0xffff_ffff, random)
}

/// Saves `page` of the board as a file: SVG, or PNG drawn from it.
pub fn download(copy: &BoardCopy, page: u8, svg: bool) {
    let markup = page_svg(copy.pages.get(usize::from(page)).map(Vec::as_slice).unwrap_or_default());
    let url = format!("data:image/svg+xml;charset=utf-8,{}", js_sys::encode_uri_component(&markup));
    let name = format!("whiteboard-page-{}", u32::from(page) + 1);
    if svg {
        save(&url, &format!("{name}.svg"));
        return;
    }
    let Some(document) = document() else { return };
    let Ok(image) = web_sys::HtmlImageElement::new() else { return };
    let drawn = image.clone();
    let onload = wasm_bindgen::closure::Closure::once_into_js(move || {
        let Ok(canvas) = document.create_element("canvas").map(JsCast::unchecked_into::<web_sys::HtmlCanvasElement>) else { return };
        canvas.set_width(u32::from(WIDTH));
        canvas.set_height(u32::from(HEIGHT));
        let Ok(Some(context)) = canvas.get_context("2d") else { return };
        let context: web_sys::CanvasRenderingContext2d = context.unchecked_into();
        let _ = context.draw_image_with_html_image_element(&drawn, 0.0, 0.0);
        if let Ok(png) = canvas.to_data_url_with_type("image/png") {
            save(&png, &format!("{name}.png"));
        }
    });
    image.set_onload(Some(onload.unchecked_ref()));
    image.set_src(&url);
}

fn save(url: &str, name: &str) {
    let Some(document) = document() else { return };
    let Ok(link) = document.create_element("a").map(JsCast::unchecked_into::<web_sys::HtmlAnchorElement>) else { return };
    link.set_href(url);
    link.set_download(name);
    if let Some(body) = document.body() {
        let _ = body.append_child(&link);
        link.click();
        link.remove();
    }
}
