//! Plain-text rules of message bodies that more than one layer shows: the first line of a
//! body (a push's text, a reply's quote). No state, no I/O.

/// The first line of `body` that is not blank, trimmed, cut to `max` characters (the last
/// one then "…").
pub fn first_line(body: &str, max: usize) -> String {
    let line = body.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
    if line.chars().count() <= max {
        return line.to_string();
    }
    let mut cut: String = line.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_lines() {
        assert_eq!(first_line("hello\nworld", 140), "hello");
        assert_eq!(first_line("\n\n  hi there  \nnext", 140), "hi there");
        assert_eq!(first_line("", 140), "");
        let long = "é".repeat(300);
        let cut = first_line(&long, 140);
        assert_eq!(cut.chars().count(), 140);
        assert!(cut.ends_with('…'));
        assert_eq!(first_line("abc", 3), "abc");
        assert_eq!(first_line("abcd", 3), "ab…");
    }
}
