//! PHP messages: PHP's errors and warnings as they reach a log (`CONTRACT.md`,
//! "PHP message").
//!
//! They arrive inside nginx's `FastCGI sent in stderr: "PHP message: PHP
//! Warning:  ..."` entries (several per entry, joined by `; ` or by new
//! lines) and in php-fpm's worker output (`child N said into stderr:
//! "NOTICE: PHP message: PHP Fatal error:  ..."`). Both readers find the
//! message's parts ([`PhpMessage`]); this module says what they mean: the
//! level ([`PhpLevel`]), whether the message is fatal ([`is_fatal`]), and
//! counts by level ([`PhpCounts`]).

use memchr::memmem;

/// The level of a PHP message, as `CONTRACT.md` names them. Ordered from
/// the most severe: `Fatal < Parse < ... < Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PhpLevel {
    /// `Fatal error` (and `Recoverable fatal error`, `Catchable fatal
    /// error`), memory exhaustion, the execution time limit.
    Fatal,
    /// `Parse error`.
    Parse,
    /// `Warning`.
    Warning,
    /// `Notice`.
    Notice,
    /// `Deprecated`.
    Deprecated,
    /// Anything else: `Strict Standards`, unknown level names, messages
    /// without a level (`error_log()` output, `Primary script unknown`).
    Other,
}

impl PhpLevel {
    /// Every level, most severe first (the order of [`PhpLevel::index`]).
    pub const ALL: [PhpLevel; 6] = [
        PhpLevel::Fatal,
        PhpLevel::Parse,
        PhpLevel::Warning,
        PhpLevel::Notice,
        PhpLevel::Deprecated,
        PhpLevel::Other,
    ];

    /// The contract's name: `fatal`, `parse`, `warning`, `notice`,
    /// `deprecated`, `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            PhpLevel::Fatal => "fatal",
            PhpLevel::Parse => "parse",
            PhpLevel::Warning => "warning",
            PhpLevel::Notice => "notice",
            PhpLevel::Deprecated => "deprecated",
            PhpLevel::Other => "other",
        }
    }

    /// A dense index in `0..PhpLevel::ALL.len()`.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The level of a message from the name PHP prints after `PHP `
    /// (`Fatal error`, `Warning`, ...) and its text: a text saying that
    /// memory or the execution time ran out is fatal whatever the name.
    ///
    /// ```
    /// use baton_logparse::php::PhpLevel;
    /// assert_eq!(PhpLevel::of(b"Warning", b"Undefined array key \"x\""), PhpLevel::Warning);
    /// assert_eq!(PhpLevel::of(b"Recoverable fatal error", b"x"), PhpLevel::Fatal);
    /// assert_eq!(PhpLevel::of(b"", b"app error_log(): payment gateway returned HTTP 503"), PhpLevel::Other);
    /// ```
    pub fn of(name: &[u8], text: &[u8]) -> PhpLevel {
        let level = match name {
            b"Fatal error" => PhpLevel::Fatal,
            b"Parse error" => PhpLevel::Parse,
            b"Warning" => PhpLevel::Warning,
            b"Notice" => PhpLevel::Notice,
            b"Deprecated" => PhpLevel::Deprecated,
            n if n.ends_with(b"fatal error") || n.ends_with(b"Fatal error") => PhpLevel::Fatal,
            _ => PhpLevel::Other,
        };
        if level != PhpLevel::Fatal && fatal_text(text) {
            PhpLevel::Fatal
        } else {
            level
        }
    }
}

/// The texts that are fatal whatever level name carries them.
fn fatal_text(text: &[u8]) -> bool {
    // Both start with a capital and are searched only in messages that
    // hold one of their distinctive words.
    memmem::find(text, b"Allowed memory size").is_some()
        || memmem::find(text, b"Maximum execution time").is_some()
}

/// Whether a message of level name `name` and text `text` is fatal (the
/// contract's list: `Fatal error`, `Allowed memory size ... exhausted`,
/// `Maximum execution time ... exceeded`): evidence for `fatal_error`.
pub fn is_fatal(name: &[u8], text: &[u8]) -> bool {
    PhpLevel::of(name, text) == PhpLevel::Fatal
}

/// A PHP message carried in `FastCGI sent in stderr: "PHP message: ..."`
/// (or in php-fpm's worker output). [`PhpMessage::php_level`] says its
/// level.
///
/// From `PHP message: PHP Fatal error:  Uncaught Error: boom in
/// /var/www/a.php:3` the level is `Fatal error`, the text `Uncaught Error:
/// boom`, the file `/var/www/a.php` and the line 3. A message without the
/// `PHP Level:` prefix (`PHP message: app error_log(): ...`, written by
/// `error_log()`) has an empty level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhpMessage<'a> {
    /// `Fatal error`, `Warning`, `Notice`, `Parse error`, ... (without `PHP `).
    pub level: &'a [u8],
    /// The message text (its first line).
    pub text: &'a [u8],
    /// The PHP file named by ` in /path/file.php on line N` / `:N`, if any.
    pub file: Option<&'a [u8]>,
    /// Its line number.
    pub line: Option<u32>,
}

impl PhpMessage<'_> {
    /// The message's level.
    pub fn php_level(&self) -> PhpLevel {
        PhpLevel::of(self.level, self.text)
    }

    /// Whether the message is fatal (see [`is_fatal`]).
    pub fn is_fatal(&self) -> bool {
        self.php_level() == PhpLevel::Fatal
    }
}

/// PHP messages counted by level (`php_messages` of `baton.stats.v1`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PhpCounts {
    /// Counts indexed by [`PhpLevel::index`].
    pub by_level: [u64; PhpLevel::ALL.len()],
}

impl PhpCounts {
    /// Counts one message.
    #[inline]
    pub fn add(&mut self, level: PhpLevel) {
        self.by_level[level.index()] += 1;
    }

    /// Messages of one level.
    pub fn get(&self, level: PhpLevel) -> u64 {
        self.by_level[level.index()]
    }

    /// Every message.
    pub fn total(&self) -> u64 {
        self.by_level.iter().sum()
    }

    /// Adds another count.
    pub fn merge(&mut self, other: &PhpCounts) {
        for (a, b) in self.by_level.iter_mut().zip(other.by_level) {
            *a += b;
        }
    }

    /// The most severe level counted, if any.
    pub fn most_severe(&self) -> Option<PhpLevel> {
        PhpLevel::ALL.into_iter().find(|l| self.get(*l) > 0)
    }

    /// The non-zero counts, most severe level first.
    pub fn non_zero(&self) -> Vec<(PhpLevel, u64)> {
        PhpLevel::ALL
            .iter()
            .map(|l| (*l, self.get(*l)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_from_php_names() {
        let cases: [(&[u8], &[u8], PhpLevel); 11] = [
            (b"Fatal error", b"Uncaught Error: boom", PhpLevel::Fatal),
            (b"Recoverable fatal error", b"x", PhpLevel::Fatal),
            (b"Catchable fatal error", b"x", PhpLevel::Fatal),
            (b"Parse error", b"syntax error", PhpLevel::Parse),
            (b"Warning", b"Undefined variable $x", PhpLevel::Warning),
            (b"Notice", b"Undefined index: y", PhpLevel::Notice),
            (
                b"Deprecated",
                b"Function create_function()",
                PhpLevel::Deprecated,
            ),
            (b"Strict Standards", b"x", PhpLevel::Other),
            (b"", b"Primary script unknown", PhpLevel::Other),
            (
                b"Warning",
                b"Allowed memory size of 1 bytes exhausted",
                PhpLevel::Fatal,
            ),
            (
                b"",
                b"Maximum execution time of 30 seconds exceeded",
                PhpLevel::Fatal,
            ),
        ];
        for (name, text, want) in cases {
            assert_eq!(PhpLevel::of(name, text), want, "{name:?}");
            assert_eq!(is_fatal(name, text), want == PhpLevel::Fatal);
        }
        let names: Vec<&str> = PhpLevel::ALL.iter().map(|l| l.as_str()).collect();
        assert_eq!(
            names,
            ["fatal", "parse", "warning", "notice", "deprecated", "other"]
        );
    }

    #[test]
    fn counts() {
        let mut c = PhpCounts::default();
        assert_eq!(c.most_severe(), None);
        c.add(PhpLevel::Notice);
        c.add(PhpLevel::Warning);
        c.add(PhpLevel::Warning);
        assert_eq!(c.most_severe(), Some(PhpLevel::Warning));
        let mut d = PhpCounts::default();
        d.add(PhpLevel::Fatal);
        c.merge(&d);
        assert_eq!(
            c.non_zero(),
            [
                (PhpLevel::Fatal, 1),
                (PhpLevel::Warning, 2),
                (PhpLevel::Notice, 1)
            ]
        );
        assert_eq!(c.total(), 4);
    }
}
