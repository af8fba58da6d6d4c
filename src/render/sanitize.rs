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
//! Credentials are scrubbed before anything is clipped, so no prefix of one survives a cut.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;

/// Longest unbroken word shown; longer ones are clipped. Long enough for any URL, integrity
/// hash or workflow reference a report prints, short enough for table layout to stay instant.
pub const MAX_WORD_CHARS: usize = 256;
/// Longest value shown where one externally supplied string sits inside a line of text.
pub const MAX_INLINE_CHARS: usize = 300;
/// Longest line of a table cell or of the final text.
pub const MAX_LINE_CHARS: usize = 2048;

/// What replaces a credential or URL userinfo.
const MASK: &str = "***";

/// Scrubs configured credentials and URL userinfo, escapes control characters and clips long
/// text. Cheap to clone; built once per run from the npm configuration in effect.
#[derive(Clone, Default)]
pub struct Sanitizer {
    /// Longest first, so a secret that contains another is replaced whole.
    secrets: Vec<String>,
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
        let mut secrets: Vec<String> = secrets.into_iter().filter(|s| !s.is_empty()).collect();
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        Sanitizer { secrets }
    }

    /// Configured credentials and URL userinfo replaced by `***`; nothing else changes.
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = Cow::Owned(out.replace(s.as_str(), MASK));
            }
        }
        match userinfo().replace_all(&out, "${scheme}***@") {
            Cow::Borrowed(_) => out,
            Cow::Owned(o) => Cow::Owned(o),
        }
    }

    /// [`Sanitizer::scrub`] for JSON text, where a credential may appear with JSON escapes
    /// (a password with `"` or `\` in it). Control characters are already escaped by serde.
    pub fn scrub_json(&self, json: &str) -> String {
        let mut out = self.scrub(json).into_owned();
        for s in &self.secrets {
            let quoted = serde_json::to_string(s).expect("a string serializes");
            let escaped = &quoted[1..quoted.len() - 1];
            if escaped != s && out.contains(escaped) {
                out = out.replace(escaped, MASK);
            }
        }
        out
    }

    /// One externally supplied value inside a line of text: scrubbed, every control character
    /// escaped (newlines too, so it cannot start a line of its own), clipped.
    pub fn inline(&self, value: &str) -> String {
        let scrubbed = self.scrub(value);
        let escaped = escape_controls(&scrubbed, false);
        clip(&escaped, MAX_INLINE_CHARS).into_owned()
    }

    /// A message inside a line of text (an error, a note, a reason): scrubbed, every control
    /// character escaped, long words and the whole clipped more generously than a value.
    pub fn line(&self, message: &str) -> String {
        let scrubbed = self.scrub(message);
        let escaped = escape_controls(&scrubbed, false);
        let words = clip_words(&escaped, MAX_WORD_CHARS);
        clip(&words, MAX_LINE_CHARS).into_owned()
    }

    /// Text of several lines (a table cell, a stderr message): scrubbed, control characters
    /// other than newline escaped, long words and long lines clipped, so that table layout
    /// stays fast and a terminal shows what was meant.
    pub fn text(&self, text: &str) -> String {
        let scrubbed = self.scrub(text);
        let escaped = escape_controls(&scrubbed, true);
        let mut out = String::with_capacity(escaped.len().min(1 << 20));
        for (i, line) in escaped.split('\n').enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let words = clip_words(line, MAX_WORD_CHARS);
            out.push_str(&clip(&words, MAX_LINE_CHARS));
        }
        out
    }

    /// The finished table output, as a last guard for anything a renderer forgot: scrubbed and
    /// control characters escaped, but not clipped (table borders are long unbroken words).
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

/// `scheme://userinfo@`, where the userinfo has no `/`, `@` or whitespace.
fn userinfo() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)[^/?#@\s"'<>\\]+@"#)
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
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some((cut, _)) => Cow::Owned(format!("{}… ({} bytes)", &text[..cut], text.len())),
    }
}

/// Every whitespace-separated word of `line` clipped to `max` characters.
fn clip_words(line: &str, max: usize) -> Cow<'_, str> {
    if line.len() <= max {
        return Cow::Borrowed(line);
    }
    let mut out = String::new();
    let mut rest = line;
    let mut changed = false;
    while !rest.is_empty() {
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (word, tail) = rest.split_at(word_end);
        let clipped = clip(word, max);
        changed |= matches!(clipped, Cow::Owned(_));
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
