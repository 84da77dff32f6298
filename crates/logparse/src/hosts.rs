//! The machines a log's records name: the journal's `_HOSTNAME`, the host
//! field of syslog lines (RFC 3164, RFC 5424, `journalctl -o short*`).
//!
//! Counted per name, bounded: at most [`MAX_HOSTS`] names are kept, the
//! smallest ones, so the names kept and their counts are the same however
//! the input was cut into chunks (a name is kept only while fewer than
//! [`MAX_HOSTS`] smaller names were seen, so it never missed a count).

use std::collections::BTreeMap;

/// How many host names a summary keeps.
pub const MAX_HOSTS: usize = 64;

/// Records by host name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hosts {
    /// Records per host name kept (see the module's documentation).
    pub by_name: BTreeMap<Vec<u8>, u64>,
    /// Records of names not kept.
    pub other: u64,
}

impl Hosts {
    /// Counts `n` records of `name` (an empty name or syslog's `-` is no
    /// host and is not counted).
    pub fn add(&mut self, name: &[u8], n: u64) {
        if name.is_empty() || name == b"-" || n == 0 {
            return;
        }
        if let Some(c) = self.by_name.get_mut(name) {
            *c += n;
            return;
        }
        if self.by_name.len() < MAX_HOSTS {
            self.by_name.insert(name.to_vec(), n);
            return;
        }
        // Full: keep the smallest names, evicting the largest.
        let largest = self.by_name.keys().next_back().cloned();
        match largest {
            Some(l) if name < l.as_slice() => {
                let evicted = self.by_name.remove(&l).unwrap_or(0);
                self.other += evicted;
                self.by_name.insert(name.to_vec(), n);
            }
            _ => self.other += n,
        }
    }

    /// Adds the counts of another part of the input (or another input).
    pub fn merge(&mut self, other: &Hosts) {
        for (k, v) in &other.by_name {
            self.add(k, *v);
        }
        self.other += other.other;
    }

    /// Records that named a host.
    pub fn records(&self) -> u64 {
        self.by_name.values().sum::<u64>() + self.other
    }

    /// The host most records name (the smallest name on a tie), and its
    /// count.
    pub fn dominant(&self) -> Option<(&[u8], u64)> {
        let mut best: Option<(&[u8], u64)> = None;
        for (k, v) in &self.by_name {
            if best.is_none_or(|(_, b)| *v > b) {
                best = Some((k.as_slice(), *v));
            }
        }
        best
    }

    /// Whether no record named a host.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty() && self.other == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_merge_alike_however_the_input_is_cut() {
        let names: Vec<String> = (0..200)
            .map(|i| format!("h{:03}", (i * 37) % 150))
            .collect();
        let mut whole = Hosts::default();
        for n in &names {
            whole.add(n.as_bytes(), 1);
        }
        for cut in [1, 7, 64, 100, 199] {
            let (mut a, mut b) = (Hosts::default(), Hosts::default());
            for n in &names[..cut] {
                a.add(n.as_bytes(), 1);
            }
            for n in &names[cut..] {
                b.add(n.as_bytes(), 1);
            }
            a.merge(&b);
            assert_eq!(a, whole, "cut at {cut}");
        }
        assert_eq!(whole.by_name.len(), MAX_HOSTS);
        assert_eq!(whole.records(), 200);
        assert_eq!(whole.by_name.keys().next().unwrap(), b"h000");
    }

    #[test]
    fn dominant_and_no_host() {
        let mut h = Hosts::default();
        h.add(b"", 5);
        h.add(b"-", 5);
        assert!(h.is_empty());
        h.add(b"web2", 2);
        h.add(b"web1", 2);
        h.add(b"web3", 1);
        assert_eq!(h.dominant(), Some((&b"web1"[..], 2)));
    }
}
