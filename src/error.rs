//! One error type for the whole library. The library never panics on bad input: every problem a
//! user can cause (a model file, an override, an output path) comes back as an [`Error`] whose
//! message names the file, the field, the offending value and what is allowed.

use std::path::PathBuf;

/// One problem found in a model specification.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecIssue {
    /// Dotted path of the field, e.g. `population.exc.neuron.tau_m`.
    pub field: String,
    /// What is wrong: the value and what is allowed.
    pub message: String,
}

impl SpecIssue {
    /// Convenience constructor.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        SpecIssue {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for SpecIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Everything that can go wrong in hebb.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {message}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// The model file is not valid TOML or does not match the schema.
    #[error("{}: {message}", file.display())]
    Parse {
        /// The model file.
        file: PathBuf,
        /// The parser's message (line, column, field).
        message: String,
    },
    /// The model parsed but some values are not allowed.
    #[error("{}: invalid values:\n{}", file.display(), issues.iter().map(|i| format!("  - {i}")).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// The model file.
        file: PathBuf,
        /// Every problem found, not just the first.
        issues: Vec<SpecIssue>,
    },
    /// A command-line value (override, option) is not allowed.
    #[error("{0}")]
    Usage(String),
    /// A distributed run failed and rank 0 has reported why; this rank exits with `code` quietly.
    #[error("reported by rank 0")]
    Reported {
        /// Exit code.
        code: i32,
    },
    /// Another rank (or thread) of a distributed run failed and reports why itself; this one
    /// stopped at the same step.
    #[error("stopped at {reached_ms} ms because another {unit} failed ({unit} 0 reports its error)")]
    PeerFailed {
        /// Simulated time reached, ms.
        reached_ms: f64,
        /// What the others are: "rank" or "thread".
        unit: &'static str,
    },
    /// The run was stopped by the user (Ctrl-C); its outputs are closed and marked incomplete.
    #[error("interrupted at {reached_ms} ms; the outputs hold everything up to then and are marked incomplete (completed = 0)")]
    Interrupted {
        /// Simulated time reached, ms.
        reached_ms: f64,
    },
}

impl Error {
    /// Wrap an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, err: impl std::fmt::Display) -> Self {
        Error::Io {
            path: path.into(),
            message: err.to_string(),
        }
    }
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
