//! Transparent decompression: gzip (multi-member too) and zstd inputs,
//! recognized by their magic bytes and decoded in process.
//!
//! [`Decoder`] wraps any [`Read`]: it looks at the first bytes, and yields
//! the decompressed bytes of a gzip (`1f 8b`) or zstd (`28 b5 2f fd`)
//! stream, or the bytes as they are for anything else. It counts the
//! compressed bytes it reads ([`ByteCount`]), so a caller can report both
//! sizes, and it turns a decoder failure into an [`io::Error`] that says
//! what went wrong and where in the compressed input ([`DecodeError`]):
//! `gzip stream truncated at byte 4096`. Everything decoded before the
//! damage has been handed out by then, so a scan keeps those lines.
//!
//! # Example
//!
//! ```
//! use std::io::{Read, Write};
//! use baton_logparse::decode::{Compression, Decoder};
//!
//! let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
//! gz.write_all(b"one\ntwo\n").unwrap();
//! let bytes = gz.finish().unwrap();
//!
//! let mut d = Decoder::new(std::io::Cursor::new(bytes.clone())).unwrap();
//! assert_eq!(d.compression(), Compression::Gzip);
//! let count = d.compressed_bytes();
//! let mut text = String::new();
//! d.read_to_string(&mut text).unwrap();
//! assert_eq!(text, "one\ntwo\n");
//! assert_eq!(count.get(), bytes.len() as u64);
//! ```

use std::fmt;
use std::io::{self, Cursor, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The gzip magic bytes.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// The zstd frame magic bytes (0xFD2FB528, little-endian).
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// How an input is compressed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    /// Not compressed (or in a format baton does not decode).
    None,
    /// gzip, one member or several concatenated.
    Gzip,
    /// zstd, one frame or several.
    Zstd,
}

impl Compression {
    /// The compression whose magic bytes start `head` (which needs at most
    /// four bytes).
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&GZIP_MAGIC) {
            Compression::Gzip
        } else if head.starts_with(&ZSTD_MAGIC) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// The stable lower-case name: `none`, `gzip` or `zstd`.
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// Whether the input is compressed.
    pub fn is_compressed(self) -> bool {
        self != Compression::None
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Default)]
struct Progress {
    bytes: AtomicU64,
    eof: AtomicBool,
    io_failed: AtomicBool,
}

/// A shared count of the raw (compressed) bytes a [`Decoder`] has read;
/// it stays readable after the decoder has been moved into a scan.
#[derive(Debug, Clone, Default)]
pub struct ByteCount(Arc<Progress>);

impl ByteCount {
    /// Raw bytes read so far.
    pub fn get(&self) -> u64 {
        self.0.bytes.load(Ordering::Relaxed)
    }
}

/// Counts what the decoder reads from the raw input, and remembers whether
/// the raw input ended or failed.
struct Counting<R> {
    inner: R,
    progress: Arc<Progress>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                if n == 0 && !buf.is_empty() {
                    self.progress.eof.store(true, Ordering::Relaxed);
                }
                self.progress.bytes.fetch_add(n as u64, Ordering::Relaxed);
                Ok(n)
            }
            Err(e) => {
                if e.kind() != io::ErrorKind::Interrupted {
                    self.progress.io_failed.store(true, Ordering::Relaxed);
                }
                Err(e)
            }
        }
    }
}

/// Why a compressed stream could not be decoded to its end: carried inside
/// the [`io::Error`] a [`Decoder`] returns (see [`io::Error::get_ref`]), and
/// recognized by [`crate::Error::io`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// The stream's compression.
    pub compression: Compression,
    /// Compressed bytes read when decoding failed.
    pub offset: u64,
    /// The input ended inside the stream (rather than holding bad data).
    pub truncated: bool,
    /// The decoder's own words.
    pub detail: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.truncated {
            write!(
                f,
                "{} stream truncated at byte {}",
                self.compression, self.offset
            )
        } else {
            write!(
                f,
                "{} stream corrupt at byte {}: {}",
                self.compression, self.offset, self.detail
            )
        }
    }
}

impl std::error::Error for DecodeError {}

/// A reader that decompresses gzip and zstd inputs and passes any other
/// input through unchanged.
pub struct Decoder {
    compression: Compression,
    inner: Box<dyn Read + Send>,
    progress: Arc<Progress>,
}

impl fmt::Debug for Decoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoder")
            .field("compression", &self.compression)
            .field("compressed_bytes", &self.progress.bytes)
            .finish()
    }
}

impl Decoder {
    /// Reads the first bytes of `reader` to recognize its compression, and
    /// wraps it (the bytes read are not lost). Fails only when that first
    /// read fails.
    pub fn new<R: Read + Send + 'static>(mut reader: R) -> io::Result<Decoder> {
        let mut head = [0u8; 4];
        let mut n = 0;
        while n < head.len() {
            match reader.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let compression = Compression::sniff(&head[..n]);
        let progress = Arc::new(Progress::default());
        let raw = Counting {
            inner: Cursor::new(head[..n].to_vec()).chain(reader),
            progress: Arc::clone(&progress),
        };
        let inner: Box<dyn Read + Send> = match compression {
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(raw)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(raw)?),
            Compression::None => Box::new(raw),
        };
        log::trace!("input compression: {compression}");
        Ok(Decoder {
            compression,
            inner,
            progress,
        })
    }

    /// The compression recognized.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// A handle on the count of raw bytes read, which outlives the decoder.
    pub fn compressed_bytes(&self) -> ByteCount {
        ByteCount(Arc::clone(&self.progress))
    }

    fn failure(&self, err: io::Error) -> io::Error {
        if !self.compression.is_compressed() || self.progress.io_failed.load(Ordering::Relaxed) {
            // The raw input itself failed: its error says it best.
            return err;
        }
        let truncated =
            self.progress.eof.load(Ordering::Relaxed) || err.kind() == io::ErrorKind::UnexpectedEof;
        let e = DecodeError {
            compression: self.compression,
            offset: self.progress.bytes.load(Ordering::Relaxed),
            truncated,
            detail: err.to_string(),
        };
        let kind = if truncated {
            io::ErrorKind::UnexpectedEof
        } else {
            io::ErrorKind::InvalidData
        };
        io::Error::new(kind, e)
    }
}

impl Read for Decoder {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => Err(self.failure(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn text(n: usize) -> Vec<u8> {
        let mut v = Vec::new();
        for i in 0..n {
            writeln!(v, "line {i} with some text {}", i * 7919 % 1013).unwrap();
        }
        v
    }

    fn read_all(bytes: Vec<u8>) -> (Vec<u8>, Option<io::Error>, u64) {
        let mut d = Decoder::new(Cursor::new(bytes)).unwrap();
        let count = d.compressed_bytes();
        let mut out = Vec::new();
        let mut buf = [0u8; 1000];
        loop {
            match d.read(&mut buf) {
                Ok(0) => return (out, None, count.get()),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => return (out, Some(e), count.get()),
            }
        }
    }

    #[test]
    fn sniff() {
        assert_eq!(Compression::sniff(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(Compression::sniff(&ZSTD_MAGIC), Compression::Zstd);
        assert_eq!(Compression::sniff(b"12"), Compression::None);
        assert_eq!(Compression::sniff(&[0x1f]), Compression::None);
    }

    #[test]
    fn plain_passes_through() {
        let t = text(10);
        let (out, err, n) = read_all(t.clone());
        assert!(err.is_none());
        assert_eq!(out, t);
        assert_eq!(n, t.len() as u64);
        let (out, err, _) = read_all(b"a".to_vec());
        assert!(err.is_none());
        assert_eq!(out, b"a");
    }

    #[test]
    fn multi_member_gzip() {
        let (a, b) = (text(100), text(50));
        let mut z = gzip(&a);
        z.extend(gzip(&b));
        let (out, err, n) = read_all(z.clone());
        assert!(err.is_none());
        assert_eq!(out, [a, b].concat());
        assert_eq!(n, z.len() as u64);
    }

    #[test]
    fn zstd_frames() {
        let (a, b) = (text(100), text(50));
        let mut z = zstd::encode_all(&a[..], 3).unwrap();
        z.extend(zstd::encode_all(&b[..], 3).unwrap());
        let (out, err, n) = read_all(z.clone());
        assert!(err.is_none());
        assert_eq!(out, [a, b].concat());
        assert_eq!(n, z.len() as u64);
    }

    #[test]
    fn truncated_gzip_keeps_prefix() {
        let t = text(20_000);
        let z = gzip(&t);
        let cut = z.len() / 2;
        let (out, err, n) = read_all(z[..cut].to_vec());
        let err = err.expect("an error");
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert_eq!(
            err.to_string(),
            format!("gzip stream truncated at byte {cut}")
        );
        assert_eq!(n, cut as u64);
        assert!(!out.is_empty() && out.len() < t.len());
        assert_eq!(&out[..], &t[..out.len()]);
    }

    #[test]
    fn truncated_zstd_keeps_prefix() {
        let t = text(20_000);
        let z = zstd::encode_all(&t[..], 3).unwrap();
        let cut = z.len() / 2;
        let (out, err, _) = read_all(z[..cut].to_vec());
        let err = err.expect("an error");
        assert!(
            err.to_string()
                .starts_with("zstd stream truncated at byte ")
        );
        assert!(out.len() < t.len());
        assert_eq!(&out[..], &t[..out.len()]);
    }

    #[test]
    fn garbage_after_magic() {
        let mut z = vec![0x1f, 0x8b];
        z.extend_from_slice(&[0x55; 300]);
        let (out, err, _) = read_all(z);
        let err = err.expect("an error");
        let inner = err
            .get_ref()
            .unwrap()
            .downcast_ref::<DecodeError>()
            .unwrap();
        assert_eq!(inner.compression, Compression::Gzip);
        assert!(err.to_string().starts_with("gzip stream corrupt at byte "));
        assert!(out.is_empty());
        let mut z = ZSTD_MAGIC.to_vec();
        z.extend_from_slice(&[0x55; 300]);
        let (_, err, _) = read_all(z);
        assert!(
            err.expect("an error")
                .to_string()
                .starts_with("zstd stream")
        );
    }

    #[test]
    fn truncated_at_every_length_never_panics() {
        let t = text(300);
        for z in [gzip(&t), zstd::encode_all(&t[..], 3).unwrap()] {
            // Fewer than four bytes may not be recognized as compressed.
            for cut in 4..z.len() {
                let (out, err, _) = read_all(z[..cut].to_vec());
                assert_eq!(&out[..], &t[..out.len()]);
                assert!(err.is_some(), "cut {cut} read as whole");
            }
        }
    }
}
