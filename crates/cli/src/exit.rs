//! The contract's exit codes.

use std::process::ExitCode;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// `0`: done.
    Done,
    /// `1`: `report --fail-on` found a matching incident.
    Incident,
    /// `2`: bad usage, reported before any input is read.
    Usage,
    /// `3`: an input was missing, unreadable or cut short.
    Input,
    /// `4`: no input held a log that can show a gateway error, or none
    /// covered the window asked for.
    NoWitness,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Done => 0,
            Exit::Incident => 1,
            Exit::Usage => 2,
            Exit::Input => 3,
            Exit::NoWitness => 4,
        }
    }

    /// Combines two outcomes: `3` outranks `4`, which outranks `1`, which
    /// outranks `0`.
    pub fn worst(self, other: Exit) -> Exit {
        let rank = |e: Exit| match e {
            Exit::Done => 0,
            Exit::Incident => 1,
            Exit::NoWitness => 2,
            Exit::Input => 3,
            Exit::Usage => 4,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code())
    }
}

/// Whether an error chain ends in a broken pipe (`baton stats | head`),
/// which is not a failure.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        let kind = c
            .downcast_ref::<std::io::Error>()
            .map(|io| io.kind())
            .or_else(|| {
                c.downcast_ref::<serde_json::Error>()
                    .and_then(|j| j.io_error_kind())
            });
        kind == Some(std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_contract() {
        assert_eq!(Exit::Done.code(), 0);
        assert_eq!(Exit::Incident.code(), 1);
        assert_eq!(Exit::Usage.code(), 2);
        assert_eq!(Exit::Input.code(), 3);
        assert_eq!(Exit::NoWitness.code(), 4);
    }

    #[test]
    fn no_witness_ranks_between_input_error_and_incident() {
        assert_eq!(Exit::NoWitness.worst(Exit::Input), Exit::Input);
        assert_eq!(Exit::Input.worst(Exit::NoWitness), Exit::Input);
        assert_eq!(Exit::Incident.worst(Exit::NoWitness), Exit::NoWitness);
        assert_eq!(Exit::NoWitness.worst(Exit::Incident), Exit::NoWitness);
        assert_eq!(Exit::Done.worst(Exit::NoWitness), Exit::NoWitness);
    }

    #[test]
    fn input_error_outranks_incident() {
        assert_eq!(Exit::Incident.worst(Exit::Input), Exit::Input);
        assert_eq!(Exit::Input.worst(Exit::Incident), Exit::Input);
        assert_eq!(Exit::Done.worst(Exit::Incident), Exit::Incident);
    }

    #[test]
    fn broken_pipe_is_detected_through_context() {
        let io = std::io::Error::new(std::io::ErrorKind::BrokenPipe, "pipe");
        let e = anyhow::Error::new(io).context("writing output");
        assert!(is_broken_pipe(&e));
        assert!(!is_broken_pipe(&anyhow::anyhow!("other")));
        // serde_json wraps the write error in its own type.
        let io = std::io::Error::new(std::io::ErrorKind::BrokenPipe, "pipe");
        let json = anyhow::Error::new(serde_json::Error::io(io));
        assert!(is_broken_pipe(&json));
    }
}
