//! The text of the lines a report cites, read back from their files.
//!
//! A bad day has hundreds of thousands of failed requests and upstream
//! errors; their events keep no text when their file can be read again
//! ([`baton_logparse::Collect::defer_text`]), only the record's offset and
//! a hash of its first line. A report cites a few dozen of them: those are
//! read here, by a positioned read each, and checked against the hash.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Read, Seek, SeekFrom};

use baton_correlate::model::{Analysis, EvidenceRef};
use baton_logparse::Event;
use baton_logparse::event::{TEXT_MAX, first_line_of, text_hash};
use baton_logparse::text::escape;

/// Fills the empty texts of `analysis`' evidence lines from `events`
/// (whose `file` indexes `paths`).
pub fn fill(analysis: &mut Analysis, events: &[Event], paths: &[String]) {
    let mut refs: Vec<&mut EvidenceRef> = analysis
        .incidents
        .iter_mut()
        .flat_map(|i| i.evidence_refs.iter_mut())
        .chain(
            analysis
                .background
                .findings
                .iter_mut()
                .flat_map(|f| f.evidence_refs.iter_mut()),
        )
        .filter(|r| r.text.is_empty())
        .collect();
    if refs.is_empty() {
        return;
    }
    let file_of: HashMap<&str, u32> = paths
        .iter()
        .enumerate()
        .map(|(i, p)| (p.as_str(), i as u32))
        .collect();
    let wanted: HashSet<(u32, u64)> = refs
        .iter()
        .filter_map(|r| Some((*file_of.get(r.file.as_str())?, r.line)))
        .collect();
    // Where each wanted line is, per file, in offset order.
    let mut at: HashMap<(u32, u64), (u64, u32)> = HashMap::new();
    let mut per_file: BTreeMap<u32, Vec<(u64, u32)>> = BTreeMap::new();
    for e in events {
        if e.text_hash != 0 && wanted.contains(&(e.file, e.line)) {
            at.insert((e.file, e.line), (e.offset, e.text_hash));
            per_file
                .entry(e.file)
                .or_default()
                .push((e.offset, e.text_hash));
        }
    }
    let mut texts: HashMap<(u32, u64), String> = HashMap::new();
    for (file, mut spots) in per_file {
        spots.sort_unstable();
        spots.dedup();
        let path = &paths[file as usize];
        let read = read_lines(path, &spots);
        for (&(offset, _), text) in spots.iter().zip(read) {
            texts.insert(
                (file, offset),
                text.unwrap_or_else(|why| format!("(this line could not be read again: {why})")),
            );
        }
    }
    for r in refs.iter_mut() {
        let Some(&file) = file_of.get(r.file.as_str()) else {
            continue;
        };
        if let Some(&(offset, _)) = at.get(&(file, r.line))
            && let Some(t) = texts.get(&(file, offset))
        {
            r.text = t.clone();
        }
    }
}

/// The first lines at `spots` (offset, hash) of the file at `path`, each
/// checked against its hash, escaped.
fn read_lines(path: &str, spots: &[(u64, u32)]) -> Vec<Result<String, String>> {
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return spots.iter().map(|_| Err(e.to_string())).collect(),
    };
    let mut buf = Vec::new();
    spots
        .iter()
        .map(|&(offset, hash)| read_line(&mut f, &mut buf, offset, hash))
        .collect()
}

/// The first line at `offset` of `f`, checked against `hash`, escaped.
fn read_line(
    f: &mut std::fs::File,
    buf: &mut Vec<u8>,
    offset: u64,
    hash: u32,
) -> Result<String, String> {
    // A line's text is cut at TEXT_MAX bytes: that and a line end suffice.
    buf.resize(TEXT_MAX + 2, 0);
    f.seek(SeekFrom::Start(offset)).map_err(|e| e.to_string())?;
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    let mut bytes = &buf[..n];
    if offset == 0 {
        bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    }
    let line = first_line_of(bytes);
    if text_hash(line) != hash {
        return Err("the file changed since it was read".to_string());
    }
    Ok(escape(line))
}

/// Reads back the text of events that did not keep it, one at a time, its
/// files kept open: the rows of `baton events` (failed requests and
/// upstream errors, in time order across files).
#[derive(Debug, Default)]
pub struct Reader {
    open: HashMap<u32, Result<std::fs::File, String>>,
    buf: Vec<u8>,
}

impl Reader {
    /// `e`'s text, escaped, when it was not kept (`None` when it was):
    /// read at its offset in `path`, its input.
    pub fn text(&mut self, e: &Event, path: &str) -> Option<String> {
        if e.text_hash == 0 || !e.text.is_empty() {
            return None;
        }
        let f = self
            .open
            .entry(e.file)
            .or_insert_with(|| std::fs::File::open(path).map_err(|e| e.to_string()));
        Some(
            match f {
                Ok(f) => read_line(f, &mut self.buf, e.offset, e.text_hash),
                Err(why) => Err(why.clone()),
            }
            .unwrap_or_else(|why| format!("(this line could not be read again: {why})")),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_read_back_checked_and_cut() {
        let dir = std::env::temp_dir().join(format!("baton-texts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("access.log");
        let long = "x".repeat(400);
        std::fs::write(&path, format!("\u{feff}first\r\nsecond\n{long}\n")).unwrap();
        let p = path.to_str().unwrap();
        let spot = |offset: u64, line: &[u8]| (offset, text_hash(line));
        let got = read_lines(
            p,
            &[
                spot(0, b"first"),
                spot(10, b"second"),
                spot(17, &long.as_bytes()[..TEXT_MAX]),
                spot(10, b"other"),
            ],
        );
        assert_eq!(got[0], Ok("first".to_string()));
        assert_eq!(got[1], Ok("second".to_string()));
        assert_eq!(got[2], Ok(long[..TEXT_MAX].to_string()));
        assert!(got[3].as_ref().is_err_and(|e| e.contains("changed")));
        let gone = read_lines(dir.join("gone").to_str().unwrap(), &[spot(0, b"a")]);
        assert!(gone[0].is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
