//! How text becomes searchable words. The index, the query and the highlighter all
//! use these functions, so "José" typed, indexed and highlighted is the same word.

use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

/// Words longer than this are cut (in the index and in queries alike).
pub const MAX_WORD_CHARS: usize = 40;

/// A word of a text: its folded form, and where it sits in the original (byte offsets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    pub folded: String,
    pub start: usize,
    pub end: usize,
}

/// Apostrophes inside a word join its parts: "O'Brien" is the word "obrien".
fn is_apostrophe(ch: char) -> bool {
    matches!(ch, '\'' | '’' | 'ʼ')
}

/// Splits `text` into words (runs of letters and digits) and folds each one.
pub fn words(text: &str) -> Vec<Word> {
    let mut words = Vec::new();
    let mut start: Option<usize> = None;
    let mut end = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((at, ch)) = chars.next() {
        if ch.is_alphanumeric() {
            start.get_or_insert(at);
            end = at + ch.len_utf8();
        } else if is_apostrophe(ch)
            && start.is_some()
            && chars.peek().is_some_and(|(_, next)| next.is_alphanumeric())
        {
            // Part of the word; folding drops it.
        } else if let Some(begin) = start.take() {
            push_word(&mut words, text, begin, end);
        }
    }
    if let Some(begin) = start {
        push_word(&mut words, text, begin, end);
    }
    words
}

fn push_word(words: &mut Vec<Word>, text: &str, start: usize, end: usize) {
    let folded = fold(&text[start..end]);
    if !folded.is_empty() {
        words.push(Word { folded, start, end });
    }
}

/// Lower case, accents and compatibility forms removed, letters and digits only,
/// at most [`MAX_WORD_CHARS`] characters: "José" → "jose", "Łódź" → "lodz",
/// "Straße" → "strasse", "ﬁnance" → "finance".
pub fn fold(word: &str) -> String {
    // Most text is plain ASCII: no decomposition needed.
    if word.is_ascii() {
        return word
            .bytes()
            .filter(u8::is_ascii_alphanumeric)
            .take(MAX_WORD_CHARS)
            .map(|byte| char::from(byte.to_ascii_lowercase()))
            .collect();
    }
    let mut out = String::with_capacity(word.len());
    let mut count = 0;
    for ch in word.nfkd() {
        if count >= MAX_WORD_CHARS {
            break;
        }
        if is_combining_mark(ch) || !ch.is_alphanumeric() {
            continue;
        }
        let mapped: &str = match ch {
            'ø' | 'Ø' => "o",
            'æ' | 'Æ' => "ae",
            'œ' | 'Œ' => "oe",
            'ß' | 'ẞ' => "ss",
            'ł' | 'Ł' => "l",
            'đ' | 'Đ' | 'ð' | 'Ð' => "d",
            'ı' => "i",
            'þ' | 'Þ' => "th",
            _ => {
                for lower in ch.to_lowercase() {
                    out.push(lower);
                }
                count += 1;
                continue;
            }
        };
        out.push_str(mapped);
        count += 1;
    }
    out
}

/// The folded words of `text`, without positions.
pub fn folded_words(text: &str) -> Vec<String> {
    words(text).into_iter().map(|word| word.folded).collect()
}

/// How many typing mistakes a word of this length tolerates: none up to 4 letters,
/// one for 5 to 8, two from 9 on (a swap of two neighbours counts as one).
pub fn typo_budget(word: &str) -> u8 {
    match word.chars().count() {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

/// The digits of `text`, in order.
pub fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// A query that is a phone number as people write one: digits and `+()-./` and
/// spaces only, with at least five digits.
pub fn looks_like_phone(text: &str) -> bool {
    let digit_count = text.chars().filter(char::is_ascii_digit).count();
    digit_count >= 5
        && text
            .chars()
            .all(|ch| ch.is_ascii_digit() || matches!(ch, '+' | '(' | ')' | '-' | '.' | '/' | ' '))
}

/// A query that is one email address: no spaces, one `@`, a dot in the domain.
pub fn looks_like_email(text: &str) -> bool {
    let text = text.trim();
    match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !text.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// How an email is compared: trimmed and in lower case.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Edit distance counting an insertion, a deletion, a substitution or a swap of two
/// neighbouring letters as one edit (optimal string alignment), as the index's fuzzy
/// matching does. Gives up above `limit`, returning `limit + 1`.
pub fn edit_distance(a: &str, b: &str, limit: usize) -> usize {
    // Most comparisons fail on length alone; decide those before allocating.
    if a.chars().count().abs_diff(b.chars().count()) > limit {
        return limit + 1;
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut previous2 = vec![0usize; width];
    let mut previous: Vec<usize> = (0..width).collect();
    let mut current = vec![0usize; width];
    for i in 1..=a.len() {
        current[0] = i;
        let mut row_min = current[0];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(previous2[j - 2] + 1);
            }
            current[j] = best;
            row_min = row_min.min(best);
        }
        if row_min > limit {
            return limit + 1;
        }
        std::mem::swap(&mut previous2, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()].min(limit + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_case_and_accents() {
        assert_eq!(fold("José"), "jose");
        assert_eq!(fold("ÉLODIE"), "elodie");
        assert_eq!(fold("Łódź"), "lodz");
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("Søren"), "soren");
        assert_eq!(fold("Nguyễn"), "nguyen");
        assert_eq!(fold("Çağlar"), "caglar");
        assert_eq!(fold("ﬁnance"), "finance");
        assert_eq!(fold("Ｒｏｓｔｅｒ"), "roster");
        assert_eq!(fold("王芳"), "王芳");
        assert_eq!(fold("x".repeat(100).as_str()).len(), MAX_WORD_CHARS);
    }

    #[test]
    fn words_split_on_punctuation_and_keep_offsets() {
        let text = "Siobhán O'Brien, Al-Masri (VP)";
        let found = words(text);
        let folded: Vec<&str> = found.iter().map(|w| w.folded.as_str()).collect();
        assert_eq!(folded, ["siobhan", "obrien", "al", "masri", "vp"]);
        assert_eq!(&text[found[0].start..found[0].end], "Siobhán");
        assert_eq!(&text[found[1].start..found[1].end], "O'Brien");
    }

    #[test]
    fn nothing_searchable_gives_no_words() {
        assert!(words("").is_empty());
        assert!(words("\"*:() AND ' -- 🎉").len() == 1, "only AND is a word");
        assert!(words("🎉🎉 ''' ***").is_empty());
    }

    #[test]
    fn typo_budget_scales_with_length() {
        assert_eq!(typo_budget("may"), 0);
        assert_eq!(typo_budget("anna"), 0);
        assert_eq!(typo_budget("maria"), 1);
        assert_eq!(typo_budget("anthonys"), 1);
        assert_eq!(typo_budget("christina"), 2);
        assert_eq!(typo_budget("josé"), 0, "counts letters, not bytes");
    }

    #[test]
    fn phone_numbers_normalize_to_digits() {
        assert_eq!(digits("+1 (555) 010-2000"), "15550102000");
        assert!(looks_like_phone("+1 (555) 010-2000"));
        assert!(looks_like_phone("5550102000"));
        assert!(!looks_like_phone("555"));
        assert!(!looks_like_phone("call 5550102000"));
    }

    #[test]
    fn emails_are_recognised() {
        assert!(looks_like_email("Jose.Pena@Northwind.example"));
        assert!(!looks_like_email("jose@"));
        assert!(!looks_like_email("@example.com"));
        assert!(!looks_like_email("a b@example.com"));
        assert!(!looks_like_email("jose@localhost"));
        assert_eq!(
            normalize_email("  Jose.Pena@Northwind.EXAMPLE "),
            "jose.pena@northwind.example"
        );
    }

    #[test]
    fn edit_distance_counts_a_swap_as_one() {
        assert_eq!(edit_distance("anthony", "anthony", 2), 0);
        assert_eq!(edit_distance("anthony", "antony", 2), 1);
        assert_eq!(edit_distance("anthony", "anhtony", 2), 1, "swap");
        assert_eq!(edit_distance("anthony", "anthonyx", 2), 1);
        assert_eq!(edit_distance("anthony", "xnthonx", 2), 2);
        assert_eq!(
            edit_distance("anthony", "zzzzzzz", 2),
            3,
            "capped at limit + 1"
        );
        assert_eq!(edit_distance("", "abc", 5), 3);
    }
}
