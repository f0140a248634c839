//! Splits an uploaded file into its documents as its bytes arrive, so the file itself is never
//! held whole: a JSON array of objects (`[{..}, {..}]`), or objects one after another (NDJSON,
//! or a single object). A UTF-8 byte order mark is skipped.
//!
//! Only the document being read is buffered; each complete one is handed out as its bytes.

/// Why a file could not be split, with the index of the document at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitError {
    /// Something other than an array or objects at the top.
    NotDocuments,
    /// Malformed JSON around document `index`.
    Malformed { index: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Nothing but whitespace (or a BOM) yet.
    Unknown,
    /// Inside `[ .. ]`.
    Array,
    /// Top-level objects one after another.
    Objects,
    /// After the closing `]`: only whitespace may follow.
    Closed,
}

pub struct Splitter {
    shape: Shape,
    current: Vec<u8>,
    /// Nesting depth within the current document.
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// Documents handed out so far.
    index: usize,
    /// Bytes seen, to recognise a BOM at the very start.
    seen: usize,
    /// In an array: a comma was read and a document must follow.
    expecting: bool,
}

impl Default for Splitter {
    fn default() -> Self {
        Self {
            shape: Shape::Unknown,
            current: Vec::new(),
            depth: 0,
            in_string: false,
            escaped: false,
            index: 0,
            seen: 0,
            expecting: false,
        }
    }
}

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

impl Splitter {
    /// Feeds the next bytes; complete documents go to `out`.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<Vec<u8>>) -> Result<(), SplitError> {
        for &b in bytes {
            let at = self.seen;
            self.seen += 1;
            if at < 3 && b == BOM[at] && self.shape == Shape::Unknown && self.current.is_empty() {
                continue;
            }
            self.byte(b, out)?;
        }
        Ok(())
    }

    fn malformed(&self) -> SplitError {
        SplitError::Malformed { index: self.index }
    }

    fn byte(&mut self, b: u8, out: &mut Vec<Vec<u8>>) -> Result<(), SplitError> {
        if self.depth > 0 {
            self.current.push(b);
            if self.in_string {
                match (self.escaped, b) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
                return Ok(());
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        out.push(std::mem::take(&mut self.current));
                        self.index += 1;
                        self.expecting = false;
                    }
                }
                _ => {}
            }
            return Ok(());
        }
        if b.is_ascii_whitespace() {
            return Ok(());
        }
        match (self.shape, b) {
            (Shape::Unknown, b'[') => self.shape = Shape::Array,
            (Shape::Unknown, b'{') => {
                self.shape = Shape::Objects;
                self.open(b);
            }
            (Shape::Unknown, _) => return Err(SplitError::NotDocuments),
            (Shape::Objects, b'{') => self.open(b),
            (Shape::Array, b'{' | b'[') if self.expecting || self.index == 0 => self.open(b),
            (Shape::Array, b',') if !self.expecting && self.index > 0 => self.expecting = true,
            (Shape::Array, b']') if !self.expecting => self.shape = Shape::Closed,
            // A scalar where a document should be: named by its index.
            _ => return Err(self.malformed()),
        }
        Ok(())
    }

    fn open(&mut self, b: u8) {
        self.current.push(b);
        self.depth = 1;
    }

    /// The end of the file: anything unfinished is malformed.
    pub fn finish(&self) -> Result<(), SplitError> {
        match self.shape {
            _ if self.depth > 0 => Err(self.malformed()),
            Shape::Array => Err(self.malformed()),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Result<Vec<String>, SplitError> {
        let mut s = Splitter::default();
        let mut out = Vec::new();
        for c in chunks {
            s.push(c, &mut out)?;
        }
        s.finish()?;
        Ok(out
            .into_iter()
            .map(|d| String::from_utf8(d).unwrap())
            .collect())
    }

    #[test]
    fn arrays_objects_and_ndjson_split_across_chunks() {
        let docs = split(&[
            b"\xEF\xBB\xBF [{\"a\": \"}\\\"\"",
            b", \"b\": [1]}, {\"c\"",
            b": {}}]\n",
        ]);
        assert_eq!(
            docs.unwrap(),
            ["{\"a\": \"}\\\"\", \"b\": [1]}", "{\"c\": {}}"]
        );
        assert_eq!(split(&[b"{\"a\":1}\n{\"a\":2}\n"]).unwrap().len(), 2);
        assert_eq!(split(&[b"[]"]).unwrap().len(), 0);
    }

    #[test]
    fn bad_files_name_the_document() {
        assert_eq!(
            split(&[b"[{\"a\":1}, 5]"]),
            Err(SplitError::Malformed { index: 1 })
        );
        assert_eq!(
            split(&[b"[{\"a\":1},]"]),
            Err(SplitError::Malformed { index: 1 })
        );
        assert_eq!(
            split(&[b"[{\"a\":1}"]),
            Err(SplitError::Malformed { index: 1 })
        );
        assert_eq!(
            split(&[b"[{\"a\":1}] x"]),
            Err(SplitError::Malformed { index: 1 })
        );
        assert_eq!(split(&[b"\"text\""]), Err(SplitError::NotDocuments));
    }
}
