//! The output edge. Registries, tarballs and MCP config files are written by whoever published
//! them, and everything they say may end up on a terminal or in a CI log. So every string that
//! leaves the program (table cells, lines of text, stderr, JSON) passes through a [`Sanitizer`]:
//!
//! - configured credentials are replaced by `***`, whatever their source: a registry can reflect
//!   the user's own token back in a packument (issue K7);
//! - URL userinfo (`scheme://user@`, `scheme://user:pass@`) becomes `scheme://***@`, because a
//!   user name alone is often a token (`https://TOKEN@host/`);
//! - control characters are escaped visibly (`\x1b`, `\r`): a package must not clear the screen
//!   or overwrite a FAIL line with a PASS (K2);
//! - long strings are clipped with "… (N bytes)": table layout is quadratic in the length of an
//!   unbroken word, so one 256 KiB `deprecated` message took 30 s to print (K1).
//!
//! Output never looks further into a value than its first [`MAX_HEAD_BYTES`]: every step above
//! runs on that head only, so a 64 MB field costs what a 64 KiB one does. Credentials are
//! scrubbed in the head before anything is clipped, and a credential or URL userinfo that the
//! cut itself splits is masked too, so no prefix of one survives a cut.

use std::borrow::Cow;
use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use regex::Regex;

/// Longest unbroken word shown; longer ones are clipped. Long enough for any URL, integrity
/// hash or workflow reference a report prints, short enough for table layout to stay instant.
pub const MAX_WORD_CHARS: usize = 256;
/// Longest value shown where one externally supplied string sits inside a line of text.
pub const MAX_INLINE_CHARS: usize = 300;
/// Longest line of a table cell or of the final text.
pub const MAX_LINE_CHARS: usize = 2048;
/// How much of a value display looks at. Well above what any of the limits above can show, so
/// the head decides nothing that the clipping would have shown; small enough that scrubbing,
/// escaping and word splitting stay instant however long the value is.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// What replaces a credential or URL userinfo.
const MASK: &str = "***";

/// Scrubs configured credentials and URL userinfo, escapes control characters and clips long
/// text. Cheap to clone; built once per run from the npm configuration in effect.
#[derive(Clone, Default)]
pub struct Sanitizer {
    /// Every configured credential, raw and as it reads inside a JSON string; longest first.
    secrets: Vec<String>,
    /// Finds all of `secrets` in one pass (`None` without secrets, or if they were too large
    /// to compile; then they are replaced one by one).
    finder: Option<AhoCorasick>,
}

// Hand-written so that a `{:?}` of the settings never prints the credentials it hides.
impl std::fmt::Debug for Sanitizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sanitizer({} secrets)", self.secrets.len())
    }
}

impl Sanitizer {
    /// A sanitizer that also removes these credential values (empty values are ignored).
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut all = Vec::new();
        for s in secrets.into_iter().filter(|s| !s.is_empty()) {
            // A password with `"` or `\` in it reads differently inside JSON text.
            let quoted = serde_json::to_string(&s).expect("a string serializes");
            let escaped = &quoted[1..quoted.len() - 1];
            if escaped != s {
                all.push(escaped.to_string());
            }
            all.push(s);
        }
        all.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        all.dedup();
        let finder = if all.is_empty() {
            None
        } else {
            AhoCorasick::new(&all).ok()
        };
        Sanitizer {
            secrets: all,
            finder,
        }
    }

    /// Configured credentials and URL userinfo replaced by `***`; nothing else changes. Two
    /// linear passes over `text`, whatever the number of credentials.
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let out = self.mask_secrets(text);
        match userinfo().replace_all(&out, "${scheme}***@") {
            Cow::Borrowed(_) => out,
            Cow::Owned(o) => Cow::Owned(o),
        }
    }

    /// [`Sanitizer::scrub`] for JSON text, which is never clipped: the JSON-escaped form of
    /// each credential is among the ones looked for. Control characters are already escaped
    /// by serde.
    pub fn scrub_json(&self, json: &str) -> String {
        self.scrub(json).into_owned()
    }

    /// Every occurrence of a credential replaced by `***`. Overlapping occurrences (one
    /// credential's tail another's head) are masked as one span, so no part of either shows.
    fn mask_secrets<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let Some(finder) = &self.finder else {
            let mut out = Cow::Borrowed(text);
            for s in &self.secrets {
                if out.contains(s.as_str()) {
                    out = Cow::Owned(out.replace(s.as_str(), MASK));
                }
            }
            return out;
        };
        let longest = self.secrets.first().map_or(0, String::len);
        let mut out = String::new();
        let mut found = false;
        // text[..copied] is in `out` already.
        let mut copied = 0;
        // Masked spans not written yet: disjoint and ascending.
        let mut open: Vec<(usize, usize)> = Vec::new();
        let flush = |out: &mut String, copied: &mut usize, (start, end): (usize, usize)| {
            out.push_str(&text[*copied..start]);
            out.push_str(MASK);
            *copied = end;
        };
        // Overlapping matches arrive by end position; a later one starts at most `longest`
        // bytes before this one ends, so spans ending before that are final.
        for m in finder.find_overlapping_iter(text) {
            found = true;
            let settled = open
                .iter()
                .take_while(|&&(_, end)| end + longest <= m.end())
                .count();
            for span in open.drain(..settled) {
                flush(&mut out, &mut copied, span);
            }
            let (mut start, mut end) = (m.start(), m.end());
            while let Some(&(s, e)) = open.last() {
                if e < start {
                    break;
                }
                start = start.min(s);
                end = end.max(e);
                open.pop();
            }
            open.push((start, end));
        }
        if !found {
            return Cow::Borrowed(text);
        }
        for span in open {
            flush(&mut out, &mut copied, span);
        }
        out.push_str(&text[copied..]);
        Cow::Owned(out)
    }

    /// The part of `value` that output shows: its first [`MAX_HEAD_BYTES`] (cut on a char
    /// boundary), scrubbed, and the length of the whole when it was cut. Nothing after the cut
    /// is ever read, which is what keeps a huge value cheap.
    fn head<'a>(&self, value: &'a str) -> (Cow<'a, str>, Option<usize>) {
        if value.len() <= MAX_HEAD_BYTES {
            return (self.scrub(value), None);
        }
        let mut cut = MAX_HEAD_BYTES;
        while !value.is_char_boundary(cut) {
            cut -= 1;
        }
        let mut head = self.scrub(&value[..cut]).into_owned();
        self.mask_cut(&mut head);
        (Cow::Owned(head), Some(value.len()))
    }

    /// A head that a cut ended: a credential that the cut split is not whole, so the scrub
    /// missed it, and a URL userinfo that the cut split has lost its `@`. Either would show
    /// its first part; both are masked.
    fn mask_cut(&self, head: &mut String) {
        let split = self
            .secrets
            .iter()
            .map(|s| cut_prefix_len(head, s))
            .max()
            .unwrap_or(0);
        if split > 0 {
            head.truncate(head.len() - split);
            head.push_str(MASK);
        }
        if let Some(c) = open_userinfo().captures(head) {
            let scheme_end = c.name("scheme").expect("group in the regex").end();
            head.truncate(scheme_end);
            head.push_str(MASK);
        }
    }

    /// One externally supplied value inside a line of text: scrubbed, every control character
    /// escaped (newlines too, so it cannot start a line of its own), clipped.
    pub fn inline(&self, value: &str) -> String {
        let (head, whole) = self.head(value);
        let escaped = escape_controls(&head, false);
        clip_to(&escaped, MAX_INLINE_CHARS, whole).into_owned()
    }

    /// A message inside a line of text (an error, a note, a reason): scrubbed, every control
    /// character escaped, long words and the whole clipped more generously than a value.
    pub fn line(&self, message: &str) -> String {
        let (head, whole) = self.head(message);
        let escaped = escape_controls(&head, false);
        let words = clip_words(&escaped, MAX_WORD_CHARS, whole.is_some());
        clip_to(&words, MAX_LINE_CHARS, whole).into_owned()
    }

    /// Text of several lines (a table cell, a stderr message): scrubbed, control characters
    /// other than newline escaped, long words and long lines clipped, so that table layout
    /// stays fast and a terminal shows what was meant.
    pub fn text(&self, text: &str) -> String {
        let (head, whole) = self.head(text);
        let escaped = escape_controls(&head, true);
        let mut out = String::with_capacity(escaped.len() + 32);
        let mut lines = escaped.split('\n').peekable();
        while let Some(line) = lines.next() {
            // Only the last line of a cut head runs on past what is shown.
            let cut = whole.filter(|_| lines.peek().is_none());
            let words = clip_words(line, MAX_WORD_CHARS, cut.is_some());
            out.push_str(&clip_to(&words, MAX_LINE_CHARS, cut));
            if lines.peek().is_some() {
                out.push('\n');
            }
        }
        out
    }

    /// The finished table output, as a last guard for anything a renderer forgot: scrubbed and
    /// control characters escaped, but not clipped (table borders are long unbroken words).
    /// Linear in the output, which the methods above keep small.
    pub fn finish(&self, text: &str) -> String {
        let scrubbed = self.scrub(text);
        escape_controls(&scrubbed, true).into_owned()
    }

    /// A value in a markdown table cell or line (`--format markdown`): [`Sanitizer::inline`],
    /// then `|` (which would end the cell), backticks (which would open a code span) and `<`/`>`
    /// (HTML in a PR comment) escaped, so a package cannot reshape the table or the comment.
    pub fn markdown(&self, value: &str) -> String {
        markdown_escape(&self.line(value))
    }

    /// A value in a GitHub workflow command's message (`--format github`): [`Sanitizer::line`],
    /// then GitHub's own escaping, so it can neither end the command nor start another.
    pub fn workflow_message(&self, value: &str) -> String {
        workflow_escape(&self.line(value), false)
    }

    /// A value in a workflow command's property (`file=`, `title=`): `:` and `,` also escaped.
    pub fn workflow_property(&self, value: &str) -> String {
        workflow_escape(&self.inline(value), true)
    }
}

fn markdown_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '`' => out.push_str("\\`"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

/// GitHub's escaping for workflow commands (`%`, CR and LF; `:` and `,` in properties).
fn workflow_escape(text: &str, property: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' if property => out.push_str("%3A"),
            ',' if property => out.push_str("%2C"),
            _ => out.push(c),
        }
    }
    out
}

/// Length of the longest proper prefix of `secret` that `text` ends with (Knuth-Morris-Pratt
/// over the last `secret.len()` bytes, so linear even for a long credential). It starts on a
/// char boundary of `text`, since the first byte of `secret` starts a char.
fn cut_prefix_len(text: &str, secret: &str) -> usize {
    let (t, s) = (text.as_bytes(), secret.as_bytes());
    if s.len() < 2 {
        return 0;
    }
    let mut border = vec![0usize; s.len()];
    let mut k = 0;
    for i in 1..s.len() {
        while k > 0 && s[i] != s[k] {
            k = border[k - 1];
        }
        if s[i] == s[k] {
            k += 1;
        }
        border[i] = k;
    }
    let mut q = 0;
    for &b in &t[t.len().saturating_sub(s.len())..] {
        while q > 0 && b != s[q] {
            q = border[q - 1];
        }
        if b == s[q] {
            q += 1;
        }
        if q == s.len() {
            q = border[q - 1];
        }
    }
    q
}

/// `scheme://userinfo@`, where the userinfo has no `/`, `@` or whitespace.
fn userinfo() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)[^/?#@\s"'<>\\]+@"#)
            .expect("static regex")
    })
}

/// `scheme://` and what could be the start of a userinfo, at the very end of a cut head.
fn open_userinfo() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)[^/?#@\s"'<>\\]*\z"#)
            .expect("static regex")
    })
}

/// Whether a character can move the cursor, change the terminal's state or reorder text.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        // Bidirectional overrides and isolates reorder what the reader sees ("Trojan source").
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Control characters written out visibly: `\r`, `\t`, `\x1b`, `\u{202e}`. With `keep_newline`,
/// `\n` stays a line break.
pub fn escape_controls(text: &str, keep_newline: bool) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|c| is_unsafe(c) && !(keep_newline && c == '\n'))
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\n' if keep_newline => out.push('\n'),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && is_unsafe(c) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// At most `max` characters of `text`, then "… (N bytes)" when it was longer.
pub fn clip(text: &str, max: usize) -> Cow<'_, str> {
    clip_to(text, max, None)
}

/// [`clip`], where `text` may be the start of a value of `whole` bytes that was cut: then the
/// marker is always there and counts the whole value.
fn clip_to(text: &str, max: usize, whole: Option<usize>) -> Cow<'_, str> {
    match (text.char_indices().nth(max), whole) {
        (None, None) => Cow::Borrowed(text),
        (None, Some(n)) => Cow::Owned(format!("{text}… ({n} bytes)")),
        (Some((cut, _)), n) => Cow::Owned(format!(
            "{}… ({} bytes)",
            &text[..cut],
            n.unwrap_or(text.len())
        )),
    }
}

/// The first `max` characters of `text`.
fn first_chars(text: &str, max: usize) -> &str {
    text.char_indices()
        .nth(max)
        .map_or(text, |(cut, _)| &text[..cut])
}

/// Every whitespace-separated word of `line` clipped to `max` characters. With `open_end` the
/// line was cut, so its last word runs on: it is shortened without a marker, which the caller
/// adds for the whole value.
fn clip_words(line: &str, max: usize, open_end: bool) -> Cow<'_, str> {
    if line.len() <= max {
        return Cow::Borrowed(line);
    }
    let mut out = String::new();
    let mut rest = line;
    let mut changed = false;
    while !rest.is_empty() {
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (word, tail) = rest.split_at(word_end);
        let clipped = if open_end && tail.is_empty() {
            Cow::Borrowed(first_chars(word, max))
        } else {
            clip(word, max)
        };
        changed |= clipped.len() != word.len();
        out.push_str(&clipped);
        let space_end = tail
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(tail.len());
        out.push_str(&tail[..space_end]);
        rest = &tail[space_end..];
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_visibly() {
        let s = Sanitizer::default();
        let hostile = "a\x1b[2Jb\x1b]8;;http://x\x07c\rd\x08e\u{202e}f\x7f";
        let out = s.text(hostile);
        assert_eq!(
            out,
            "a\\x1b[2Jb\\x1b]8;;http://x\\x07c\\rd\\x08e\\u{202e}f\\x7f"
        );
        assert!(!out.chars().any(is_unsafe));
        assert_eq!(s.inline("two\nlines"), "two\\nlines");
        assert_eq!(s.text("two\nlines"), "two\nlines");
    }

    #[test]
    fn secrets_and_userinfo_are_scrubbed() {
        let s = Sanitizer::new(["npm_SECRET1".to_string(), "pa\"ss".to_string()]);
        assert_eq!(s.scrub("by npm_SECRET1 now"), "by *** now");
        assert_eq!(
            s.scrub("git+https://bob:pw@github.com/x.git and https://TOKEN@h/p"),
            "git+https://***@github.com/x.git and https://***@h/p"
        );
        // A package path with an `@` after the host is not userinfo.
        assert_eq!(
            s.scrub("http://r/-/npm/v1/attestations/pkg@1.2.0"),
            "http://r/-/npm/v1/attestations/pkg@1.2.0"
        );
        assert_eq!(s.scrub_json(r#"{"x":"pa\"ss"}"#), r#"{"x":"***"}"#);
    }

    #[test]
    fn a_secret_is_scrubbed_before_it_could_be_cut() {
        let token = "npm_".to_string() + &"Z".repeat(40);
        let s = Sanitizer::new([token.clone()]);
        let text = "x".repeat(MAX_INLINE_CHARS - 10) + &token;
        let out = s.inline(&text);
        assert!(!out.contains("npm_ZZ"), "{out}");
    }

    #[test]
    fn long_words_and_lines_are_clipped() {
        let s = Sanitizer::default();
        let word = "w".repeat(10_000_000);
        let out = s.text(&word);
        assert!(out.len() < MAX_WORD_CHARS + 40, "{}", out.len());
        assert!(out.ends_with("… (10000000 bytes)"), "{out}");
        let words = "ab ".repeat(100_000);
        assert!(s.text(&words).len() < MAX_LINE_CHARS + 40);
        assert_eq!(s.text("short words stay"), "short words stay");
    }

    /// Many short lines, so that the last line of the head is what a cut value shows.
    fn filler(bytes: usize) -> String {
        let mut s = "line\n".repeat(bytes / 5);
        s.push_str(&"-".repeat(bytes - s.len()));
        s
    }

    #[test]
    fn a_secret_split_by_the_head_cut_shows_no_part() {
        let token = "npm_".to_string() + &"Z".repeat(40);
        let s = Sanitizer::new([token.clone()]);
        let value = filler(MAX_HEAD_BYTES - 10) + "\n" + &token + " and more";
        let out = s.text(&value);
        assert!(!out.contains("npm_"), "{}", &out[out.len() - 100..]);
        assert!(
            out.ends_with(&format!("\n***… ({} bytes)", value.len())),
            "{}",
            &out[out.len() - 100..]
        );
        // The token whole, just before the cut, is scrubbed as usual.
        let value = filler(MAX_HEAD_BYTES - 50) + "\n" + &token + " " + &"x".repeat(100);
        let out = s.text(&value);
        assert!(!out.contains("npm_"), "{}", &out[out.len() - 100..]);
        assert!(out.contains("\n*** xx"), "{}", &out[out.len() - 100..]);
        // Without the credential, the same cut shows the text as it is.
        let value = filler(MAX_HEAD_BYTES - 10) + "\n" + &token;
        let plain = Sanitizer::default().text(&value);
        let end = format!("\nnpm_ZZZZZ… ({} bytes)", value.len());
        assert!(plain.ends_with(&end), "{}", &plain[plain.len() - 100..]);
    }

    #[test]
    fn a_userinfo_split_by_the_head_cut_shows_no_part() {
        let s = Sanitizer::default();
        let value = filler(MAX_HEAD_BYTES - 12) + " https://TOKEN_SECRET_VALUE@host/x";
        let out = s.text(&value);
        assert!(!out.contains("TOK"), "{}", &out[out.len() - 100..]);
        let end = format!(" https://***… ({} bytes)", value.len());
        assert!(out.ends_with(&end), "{}", &out[out.len() - 100..]);
    }

    #[test]
    fn overlapping_secrets_are_masked_as_one() {
        let s = Sanitizer::new(["abcdef".to_string(), "efgh".to_string(), "zz".to_string()]);
        assert_eq!(s.scrub("1abcdefgh2 zzz abcdef efgh"), "1***2 *** *** ***");
        assert_eq!(s.scrub("nothing here"), "nothing here");
        assert!(matches!(s.scrub("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn the_cut_lands_on_a_char_boundary_and_counts_the_whole() {
        let s = Sanitizer::default();
        let value = "a".to_string() + &"é".repeat(MAX_HEAD_BYTES);
        let out = s.inline(&value);
        assert!(
            out.ends_with(&format!("é… ({} bytes)", value.len())),
            "{out}"
        );
        assert_eq!(
            out.chars().filter(|&c| c == 'é').count(),
            MAX_INLINE_CHARS - 1
        );
        let out = s.line(&value);
        assert!(
            out.ends_with(&format!("é… ({} bytes)", value.len())),
            "{out}"
        );
        assert!(out.chars().count() < MAX_WORD_CHARS + 30, "{out}");
    }

    #[test]
    fn a_huge_value_is_clipped_with_one_marker() {
        let s = Sanitizer::new(["npm_TOKEN".to_string()]);
        let word = "x".repeat(64_000_000);
        for out in [s.inline(&word), s.line(&word), s.text(&word)] {
            assert!(out.ends_with("x… (64000000 bytes)"), "{out}");
            assert_eq!(out.matches("bytes)").count(), 1, "{out}");
            assert!(out.len() < MAX_INLINE_CHARS + 40, "{}", out.len());
        }
    }

    #[test]
    fn cut_prefix_len_finds_the_longest_split_credential() {
        assert_eq!(cut_prefix_len("xxabcab", "abcabd"), 5);
        assert_eq!(cut_prefix_len("xxabca", "abcabd"), 4);
        assert_eq!(cut_prefix_len("xx", "abc"), 0);
        assert_eq!(cut_prefix_len("xabc", "abc"), 0);
        assert_eq!(cut_prefix_len("xa", "a"), 0);
        assert_eq!(cut_prefix_len("", "abc"), 0);
        assert_eq!(cut_prefix_len("xé", "éa"), "é".len());
    }

    #[test]
    fn markdown_cells_cannot_reshape_the_table() {
        let s = Sanitizer::new(["s3cret".to_string()]);
        assert_eq!(
            s.markdown("a|b `c` <img> s3cret\nx"),
            "a\\|b \\`c\\` &lt;img&gt; ***\\nx"
        );
    }

    #[test]
    fn workflow_commands_are_escaped_as_github_does() {
        let s = Sanitizer::new(["s3cret".to_string()]);
        // Controls are already visible escapes; `%` must not decode into a new line.
        assert_eq!(
            s.workflow_message("100% %0A::error::x s3cret"),
            "100%25 %250A::error::x ***"
        );
        assert_eq!(s.workflow_property("a:b,c\r"), "a%3Ab%2Cc\\r");
    }
}
