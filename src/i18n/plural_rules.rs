// The plural rules a language's `[meta] plural` may name: for whole
// numbers, which of its forms (CLDR's categories, in the order a message's
// table gives them) a count takes. Read by the crate (`i18n`) and by
// `build.rs` (`include!`), which checks each message has exactly these
// forms. A language whose rule is here is a file; another rule is a line
// here and a test.

/// Each rule's name, the languages it serves, and its forms in order.
pub const PLURAL_RULES: &[(&str, &str, &[&str])] = &[
    ("other", "zh, ja, ko, vi, th, id", &["other"]),
    ("one_other", "en, de, nl, sv, da, nb, it, es, el, hu, fi, tr", &["one", "other"]),
    ("one_with_zero", "fr, pt-BR, hi", &["one", "other"]),
    ("east_slavic", "ru, uk, be", &["one", "few", "many"]),
    ("polish", "pl", &["one", "few", "many"]),
    ("czech", "cs, sk", &["one", "few", "other"]),
    ("arabic", "ar", &["zero", "one", "two", "few", "many", "other"]),
];

/// The forms of plural rule `rule`, if Huddle knows it.
pub fn plural_forms(rule: &str) -> Option<&'static [&'static str]> {
    PLURAL_RULES.iter().find(|(name, _, _)| *name == rule).map(|(_, _, forms)| *forms)
}

/// Which form (its place in the rule's forms) `n` takes under `rule` (the
/// build accepts no other rule).
pub fn plural_index(rule: &str, n: u64) -> usize {
    let (ten, hundred) = (n % 10, n % 100);
    let few = (2..=4).contains(&ten) && !(12..=14).contains(&hundred);
    match rule {
        "other" => 0,
        "one_other" => usize::from(n != 1),
        "one_with_zero" => usize::from(n > 1),
        "east_slavic" if ten == 1 && hundred != 11 => 0,
        "east_slavic" if few => 1,
        "east_slavic" => 2,
        "polish" if n == 1 => 0,
        "polish" if few => 1,
        "polish" => 2,
        "czech" if n == 1 => 0,
        "czech" if (2..=4).contains(&n) => 1,
        "czech" => 2,
        "arabic" => match (n, hundred) {
            (0, _) => 0,
            (1, _) => 1,
            (2, _) => 2,
            (_, 3..=10) => 3,
            (_, 11..=99) => 4,
            _ => 5,
        },
        _ => 0,
    }
}
