//! The character set of an import file, and the file converted to UTF-8 once, when it
//! arrives, so everything after reads text.
//!
//! Detection, in order: a byte-order mark (UTF-8, UTF-16 little- or big-endian, as
//! Outlook and Excel write "Unicode" files); UTF-16 without a mark, told by the zero
//! bytes of ASCII text in every other place; UTF-8 when every byte of the file is
//! valid UTF-8; otherwise Windows-1252 (the superset of ISO-8859-1 that Windows
//! programs write and browsers read "Latin-1" as). A person can also name the set at
//! upload, by any label the WHATWG Encoding Standard knows (`latin1`, `cp1252`,
//! `shift_jis`, `utf-16le`…); a label it does not know is refused in words.
//!
//! Conversion streams through `encoding_rs` in blocks: memory stays flat whatever the
//! size, and bytes that are not valid in the set become U+FFFD (counted, and told),
//! never a failure half-way.

use std::{
    fs::File,
    io::{self, BufReader, BufWriter, Read, Write},
    path::Path,
};

use encoding_rs::{CoderResult, Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

/// How the person chose to read the file: detected, or a set they named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Charset {
    Detect,
    Named(&'static Encoding),
}

impl Charset {
    /// Reads the upload form's choice: empty or `auto` is "detect"; anything else must
    /// be a label the Encoding Standard knows.
    pub fn parse(label: &str) -> Result<Charset, String> {
        let label = label.trim();
        if label.is_empty() || label.eq_ignore_ascii_case("auto") {
            return Ok(Charset::Detect);
        }
        // `utf-16` alone means little-endian, as Windows writes it.
        Encoding::for_label(label.as_bytes())
            .map(Charset::Named)
            .ok_or_else(|| {
                let shown: String = label.chars().take(40).collect();
                format!(
                    "Roster does not know the character set “{shown}”. Choose one from the list, \
                     or let Roster detect it."
                )
            })
    }
}

/// The file as UTF-8, and what it was read as.
pub struct Converted {
    pub path: tempfile::TempPath,
    pub encoding: &'static Encoding,
    /// Bytes that were not valid in that set (each became U+FFFD).
    pub replaced: u64,
}

/// What a file's bytes are (see the module's notes).
enum Detected {
    /// Valid UTF-8 without a byte-order mark: already what the import reads.
    Utf8,
    /// Anything else, to be converted from this set.
    In(&'static Encoding),
}

fn detect(path: &Path) -> io::Result<Detected> {
    let mut head = Vec::with_capacity(4096);
    File::open(path)?.take(4096).read_to_end(&mut head)?;
    if let Some((encoding, _)) = Encoding::for_bom(&head) {
        return Ok(Detected::In(encoding));
    }
    if let Some(encoding) = utf16_without_mark(&head) {
        return Ok(Detected::In(encoding));
    }
    Ok(if is_utf8(path)? {
        Detected::Utf8
    } else {
        Detected::In(WINDOWS_1252)
    })
}

/// UTF-16 without a byte-order mark: text that is mostly ASCII has a zero in every
/// other byte, on the even places for big-endian and the odd ones for little-endian.
fn utf16_without_mark(head: &[u8]) -> Option<&'static Encoding> {
    let pairs = head.len() / 2;
    if pairs < 8 {
        return None;
    }
    let zeros_at = |parity: usize| {
        head.iter()
            .skip(parity)
            .step_by(2)
            .take(pairs)
            .filter(|b| **b == 0)
            .count()
    };
    let (even, odd) = (zeros_at(0), zeros_at(1));
    if odd * 10 >= pairs * 7 && even * 10 < pairs {
        Some(UTF_16LE)
    } else if even * 10 >= pairs * 7 && odd * 10 < pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Whether every byte of the file is valid UTF-8 (read in blocks; a character cut by
/// a block's end is carried into the next).
fn is_utf8(path: &Path) -> io::Result<bool> {
    let mut file = File::open(path)?;
    let mut buffer = vec![0u8; 256 * 1024];
    let mut carried = 0;
    loop {
        let read = file.read(&mut buffer[carried..])?;
        let filled = carried + read;
        if read == 0 {
            return Ok(carried == 0);
        }
        match std::str::from_utf8(&buffer[..filled]) {
            Ok(_) => carried = 0,
            Err(error) if error.error_len().is_none() => {
                // An unfinished character at the end: keep its bytes for the next block.
                let valid = error.valid_up_to();
                buffer.copy_within(valid..filled, 0);
                carried = filled - valid;
            }
            Err(_) => return Ok(false),
        }
    }
}

/// The file as UTF-8 (without a byte-order mark), read in the `charset` chosen or
/// detected: a new file next to it, or the file itself when it is valid UTF-8 already
/// (checked whole by the detection: no second pass, no copy).
pub fn to_utf8(file: tempfile::TempPath, charset: Charset) -> io::Result<Converted> {
    let encoding = match charset {
        Charset::Named(encoding) => encoding,
        Charset::Detect => match detect(&file)? {
            Detected::Utf8 => {
                return Ok(Converted {
                    path: file,
                    encoding: UTF_8,
                    replaced: 0,
                });
            }
            Detected::In(encoding) => encoding,
        },
    };
    let path: &Path = &file;
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let (out, out_path) = tempfile::NamedTempFile::new_in(dir)?.into_parts();
    let mut out = BufWriter::new(out);
    let mut input = BufReader::new(File::open(path)?);
    // With a mark, the mark decides (and is dropped); without one, the set chosen.
    let mut decoder = encoding.new_decoder();
    let mut bytes = vec![0u8; 64 * 1024];
    let mut text = String::with_capacity(3 * 64 * 1024 + 16);
    let mut replaced = 0u64;
    loop {
        let read = input.read(&mut bytes)?;
        let last = read == 0;
        let mut from = 0;
        loop {
            text.clear();
            let (result, consumed, had_errors) =
                decoder.decode_to_string(&bytes[from..read], &mut text, last);
            if had_errors {
                replaced += text.matches('\u{FFFD}').count() as u64;
            }
            out.write_all(text.as_bytes())?;
            from += consumed;
            match result {
                CoderResult::InputEmpty => break,
                CoderResult::OutputFull => {}
            }
        }
        if last {
            break;
        }
    }
    out.flush()?;
    Ok(Converted {
        path: out_path,
        encoding: decoder.encoding(),
        replaced,
    })
}

/// How a person would name the set: "UTF-8", "UTF-16LE", "windows-1252"…
pub fn name(encoding: &'static Encoding) -> &'static str {
    encoding.name()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(bytes).unwrap();
        file
    }

    fn read_as(bytes: &[u8], charset: Charset) -> (String, &'static str, u64) {
        let converted = to_utf8(file(bytes).into_temp_path(), charset).unwrap();
        let text = std::fs::read_to_string(&converted.path).unwrap();
        (text, name(converted.encoding), converted.replaced)
    }

    #[test]
    fn every_usual_set_is_detected_and_read() {
        let text = "Name,Ville\nJosé Ærø,Zürich — “quoted”\n";
        let utf16le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let utf16be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (text.as_bytes().to_vec(), "UTF-8"),
            (
                [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
                "UTF-8",
            ),
            ([b"\xFF\xFE".as_slice(), &utf16le].concat(), "UTF-16LE"),
            ([b"\xFE\xFF".as_slice(), &utf16be].concat(), "UTF-16BE"),
            (utf16le.clone(), "UTF-16LE"),
            (utf16be.clone(), "UTF-16BE"),
            (WINDOWS_1252.encode(text).0.into_owned(), "windows-1252"),
        ];
        for (bytes, expected) in cases {
            let (read, encoding, replaced) = read_as(&bytes, Charset::Detect);
            assert_eq!(encoding, expected);
            assert_eq!(read, text, "read as {expected}");
            assert_eq!(replaced, 0);
        }
    }

    #[test]
    fn a_late_latin1_byte_makes_the_whole_file_latin1() {
        // Valid UTF-8 (plain ASCII) for longer than any block, then one Latin-1 byte:
        // reading the start as UTF-8 would mangle that byte.
        let mut bytes = "a,b\n".repeat(200_000).into_bytes();
        bytes.extend_from_slice(b"Jos\xe9,x\n");
        let (read, encoding, _) = read_as(&bytes, Charset::Detect);
        assert_eq!(encoding, "windows-1252");
        assert!(read.ends_with("José,x\n"));
        // A character cut at a block's edge is still UTF-8.
        let mut bytes = vec![b'a'; 256 * 1024 - 1];
        bytes.extend_from_slice("é".as_bytes());
        assert_eq!(read_as(&bytes, Charset::Detect).1, "UTF-8");
    }

    #[test]
    fn a_named_set_is_used_and_an_unknown_one_refused() {
        let Charset::Named(latin1) = Charset::parse("latin1").unwrap() else {
            panic!("latin1 is a label");
        };
        let (read, encoding, _) = read_as(b"Stra\xdfe", Charset::Named(latin1));
        assert_eq!((read.as_str(), encoding), ("Straße", "windows-1252"));
        assert_eq!(Charset::parse(" auto ").unwrap(), Charset::Detect);
        assert_eq!(Charset::parse("").unwrap(), Charset::Detect);
        let refused = Charset::parse("klingon-8").unwrap_err();
        assert!(refused.contains("“klingon-8”"), "{refused}");
        // Bytes invalid in the chosen set are counted, not fatal.
        let (read, _, replaced) = read_as(b"ok \xff\xfe end", Charset::Named(UTF_8));
        assert_eq!((read.as_str(), replaced), ("ok \u{FFFD}\u{FFFD} end", 2));
    }
}
