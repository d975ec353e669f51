//! Choosing a language from a browser's `Accept-Language` (RFC 9110
//! §12.5.4): the ranges in order of their quality, the first that one of
//! Huddle's languages serves well. A range serves well if its language is
//! the same and nothing in it asks for another script: `en-GB` gets `en`,
//! `zh`, `zh-Hans` and `zh-SG` get `zh-CN`. A range in the same language
//! but another script (`zh-TW`, `zh-HK`, `zh-Hant`: traditional Chinese) is
//! served only if no range is served well: a Taiwanese reader who also
//! accepts English gets English; one who accepts only Chinese gets
//! simplified Chinese rather than English. Otherwise English.

use super::Locale;

/// Regions that write Chinese in its traditional script.
const TRADITIONAL: [&str; 3] = ["tw", "hk", "mo"];

pub(super) fn best(header: &str) -> Locale {
    let mut ranges: Vec<(u16, usize, &str)> = header
        .split(',')
        .enumerate()
        .filter_map(|(order, part)| {
            let mut pieces = part.split(';');
            let range = pieces.next()?.trim();
            let quality = pieces.find_map(|p| p.trim().strip_prefix("q=")).map_or(Some(1000), thousandths)?;
            (!range.is_empty() && quality > 0).then_some((quality, order, range))
        })
        .collect();
    // Highest quality first; equal ones in the order given.
    ranges.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut fallback = None;
    for (_, _, range) in ranges {
        if range == "*" {
            return Locale::ENGLISH;
        }
        for locale in Locale::all() {
            match fit(range, locale.tag()) {
                Fit::Well => return locale,
                Fit::OtherScript => fallback = fallback.or(Some(locale)),
                Fit::No => {}
            }
        }
    }
    fallback.unwrap_or(Locale::ENGLISH)
}

/// A quality value (`0.8`) in thousandths; None if malformed.
fn thousandths(q: &str) -> Option<u16> {
    let value: f32 = q.trim().parse().ok()?;
    (0.0..=1.0).contains(&value).then(|| (value * 1000.0).round() as u16)
}

enum Fit {
    Well,
    OtherScript,
    No,
}

/// How well a language `tag` of Huddle's serves a browser's `range`.
fn fit(range: &str, tag: &str) -> Fit {
    let range = range.to_ascii_lowercase();
    let tag = tag.to_ascii_lowercase();
    if range == tag {
        return Fit::Well;
    }
    let mut asked = range.split('-');
    let mut ours = tag.split('-');
    if asked.next() != ours.next() {
        return Fit::No;
    }
    let script = |subtags: &[&str]| -> Option<&'static str> {
        subtags.iter().find_map(|s| match *s {
            "hant" => Some("hant"),
            "hans" => Some("hans"),
            s if TRADITIONAL.contains(&s) => Some("hant"),
            _ => None,
        })
    };
    let asked: Vec<&str> = asked.collect();
    let ours: Vec<&str> = ours.collect();
    // Only Chinese has scripts to tell apart here; ours is simplified.
    let ours_script = if tag.starts_with("zh") { script(&ours).or(Some("hans")) } else { None };
    match (script(&asked), ours_script) {
        (Some(a), Some(o)) if a != o => Fit::OtherScript,
        _ => Fit::Well,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(header: &str) -> &'static str {
        best(header).tag()
    }

    #[test]
    fn the_best_quality_that_huddle_speaks_wins() {
        assert_eq!(tag("zh-CN,zh;q=0.9,en;q=0.8"), "zh-CN");
        assert_eq!(tag("en-US,en;q=0.9,zh-CN;q=0.8"), "en");
        assert_eq!(tag("fr-FR,fr;q=0.9,zh;q=0.5,en;q=0.4"), "zh-CN", "French is not spoken: the next best");
        assert_eq!(tag("en;q=0.5, zh-CN"), "zh-CN", "quality, not order");
        assert_eq!(tag("zh;q=0, en"), "en", "q=0 means not acceptable");
    }

    #[test]
    fn chinese_in_any_simplified_form_gets_simplified_chinese() {
        for header in ["zh", "zh-cn", "zh-Hans", "zh-Hans-CN", "zh-SG", "ZH-CN"] {
            assert_eq!(tag(header), "zh-CN", "{header}");
        }
    }

    #[test]
    fn traditional_chinese_gets_simplified_only_if_nothing_better_is_accepted() {
        assert_eq!(tag("zh-TW"), "zh-CN");
        assert_eq!(tag("zh-Hant-HK,zh;q=0.5"), "zh-CN");
        assert_eq!(tag("zh-TW,en;q=0.8"), "en", "accepts English: English, rather than another script");
        assert_eq!(tag("zh-HK,en-GB;q=0.5"), "en");
    }

    #[test]
    fn nothing_known_empty_or_malformed_gets_english() {
        for header in ["", "fr", "*", "de-DE;q=0.9", ";;;", "zh;q=abc", "en;q=7", "x-klingon", ",,,"] {
            assert_eq!(tag(header), "en", "{header:?}");
        }
    }
}
