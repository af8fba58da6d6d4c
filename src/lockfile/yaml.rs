//! YAML for lockfiles (pnpm-lock.yaml, yarn berry's yarn.lock), read from saphyr-parser's event
//! stream into a small tree with the line of every key.
//!
//! Neither pnpm nor yarn ever writes anchors or aliases, so an alias is refused outright: that
//! is the whole defence against alias bombs ("billion laughs"), with no expansion to budget.
//! The tree is built with an explicit stack, never by recursion, and nesting deeper than
//! [`MAX_DEPTH`] is refused, so a hostile file cannot overflow the stack.

use saphyr_parser::{Event, Parser};

use super::LockError;

/// Lockfiles nest 4-5 levels; 64 leaves room for anything legitimate.
pub const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A scalar as written (YAML types are not resolved: `1.0` stays the text `1.0`).
    Scalar(String),
    /// Keys in order, each with its 1-based line.
    Map(Vec<(String, usize, Node)>),
    Seq(Vec<Node>),
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _, _)| k == key).map(|(_, _, v)| v),
            _ => None,
        }
    }

    pub fn str(&self, key: &str) -> Option<&str> {
        match self.get(key)? {
            Node::Scalar(s) => Some(s),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(String, usize, Node)] {
        match self {
            Node::Map(entries) => entries,
            _ => &[],
        }
    }
}

/// The byte offset of the first `\r` that is not followed by `\n`.
fn lone_carriage_return(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    bytes
        .iter()
        .enumerate()
        .find(|&(i, &b)| b == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
        .map(|(i, _)| i)
}

enum Frame {
    Map {
        entries: Vec<(String, usize, Node)>,
        /// The key read, waiting for its value.
        key: Option<(String, usize)>,
    },
    Seq(Vec<Node>),
}

/// Every document of the stream, in order.
pub fn parse(text: &str) -> Result<Vec<Node>, LockError> {
    // YAML counts a carriage return alone as a line break, and every other reader of a file
    // (ours, `lines()`, SARIF consumers) does not: the lines of keys would point past the
    // file. Neither pnpm nor yarn writes one, so it is refused where it stands.
    if let Some(at) = lone_carriage_return(text) {
        let line = text[..at].matches('\n').count() + 1;
        return Err(LockError::new(
            Some(line),
            "a carriage return without a line feed (pnpm and yarn end lines with \\n or \\r\\n)",
        ));
    }
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| {
            LockError::new(
                Some(e.marker().line()),
                format!("not valid YAML: {}", e.info()),
            )
        })?;
        let line = span.start.line();
        let node = match event {
            Event::Alias(_) => {
                return Err(LockError::new(
                    Some(line),
                    "YAML alias: lockfiles never use anchors and aliases, and an alias can expand without bound; refused",
                ))
            }
            Event::Scalar(value, ..) => {
                if let Some(Frame::Map { key, .. }) = stack.last_mut() {
                    if key.is_none() {
                        *key = Some((value.into_owned(), line));
                        continue;
                    }
                }
                Node::Scalar(value.into_owned())
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if let Some(Frame::Map { key: None, .. }) = stack.last() {
                    return Err(LockError::new(
                        Some(line),
                        "a mapping key that is not a scalar: not a lockfile",
                    ));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(LockError::new(
                        Some(line),
                        format!("nested deeper than {MAX_DEPTH} levels: refused"),
                    ));
                }
                stack.push(if matches!(event, Event::MappingStart(..)) {
                    Frame::Map {
                        entries: Vec::new(),
                        key: None,
                    }
                } else {
                    Frame::Seq(Vec::new())
                });
                continue;
            }
            Event::MappingEnd | Event::SequenceEnd => match stack.pop() {
                Some(Frame::Map { entries, .. }) => Node::Map(entries),
                Some(Frame::Seq(items)) => Node::Seq(items),
                None => return Err(LockError::new(Some(line), "unbalanced YAML")),
            },
            _ => continue,
        };
        match stack.last_mut() {
            None => docs.push(node),
            Some(Frame::Seq(items)) => items.push(node),
            Some(Frame::Map { entries, key }) => {
                let Some((k, l)) = key.take() else {
                    return Err(LockError::new(
                        Some(line),
                        "a mapping key that is not a scalar: not a lockfile",
                    ));
                };
                entries.push((k, l, node));
            }
        }
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_carriage_return_is_refused_with_its_line() {
        // Found by the `lockfile` fuzz target: YAML counted the lone CR as a line, so a key's
        // line lay past the end of the file.
        let err = parse("a:\n  b: 1\rc: 2\n").unwrap_err();
        assert_eq!(err.line, Some(2), "{err:?}");
        assert!(parse("a:\r\n  b: 1\r\n").is_ok());
    }

    #[test]
    fn keys_keep_their_lines() {
        let docs = parse("a: 1\nb:\n  c: [x, y]\n  'd@1': {e: f}\n").unwrap();
        let top = &docs[0];
        assert_eq!(top.str("a"), Some("1"));
        let b = top.get("b").unwrap();
        assert_eq!(b.entries()[1].0, "d@1");
        assert_eq!(b.entries()[1].1, 4);
        assert_eq!(
            b.get("c"),
            Some(&Node::Seq(vec![
                Node::Scalar("x".into()),
                Node::Scalar("y".into())
            ]))
        );
    }

    #[test]
    fn aliases_and_depth_are_refused() {
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b]\n";
        let e = parse(bomb).unwrap_err();
        assert!(e.message.contains("alias"), "{}", e.message);
        assert_eq!(e.line, Some(2));
        // Flow nesting is stopped by the parser's own recursion limit, block nesting by ours.
        let deep = format!("{}x{}", "[".repeat(10_000), "]".repeat(10_000));
        let e = parse(&deep).unwrap_err();
        assert!(e.message.contains("recursion limit"), "{}", e.message);
        let block: String = (0..200)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        let e = parse(&block).unwrap_err();
        assert!(e.message.contains("deeper"), "{}", e.message);
        let e = parse("a: [1, 2\nb: {").unwrap_err();
        assert!(e.message.starts_with("not valid YAML"), "{}", e.message);
        assert!(e.line.is_some());
    }
}
