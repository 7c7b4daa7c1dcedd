//! Typed errors of the library. Only `main` turns them into a message and an exit code; every
//! variant's message is one line that names the file and the record or line where it applies.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Everything the library can fail with. `Display` gives the one-line message; `source()`
/// gives the underlying I/O error of [`Error::Io`].
#[derive(Debug)]
pub enum Error {
    /// A file could not be opened, read or written.
    Io {
        /// The file; `-` for standard input or output.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// Malformed input data: a FASTQ or FASTA record, a SAM line. `location` says where
    /// (e.g. "record 12 (line 45)").
    Input {
        /// The input file; `-` for standard input.
        path: PathBuf,
        /// Where in it, e.g. "record 12 (line 45)".
        location: String,
        /// What was wrong there.
        message: String,
    },
    /// An index file that is not ours, is truncated, damaged or of another format version.
    Index {
        /// The index file.
        path: PathBuf,
        /// What was wrong with it.
        message: String,
    },
    /// Options that make no sense together, or out of range.
    Options(String),
    /// The GPU backend could not be set up or failed during a batch.
    Gpu(String),
    /// An alignment backend (named first) returned results that cannot be its batch's: an
    /// internal error, reported instead of writing a wrong record.
    Backend(String, String),
}

/// The library's result type: [`Error`] unless another error type is named.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::Io`] for `path` (`-` for standard input or output).
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> Error {
        Error::Io { path: path.into(), source }
    }

    /// An [`Error::Input`]: `message` about `location` in `path`.
    pub(crate) fn input(path: impl Into<PathBuf>, location: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Input { path: path.into(), location: location.into(), message: message.into() }
    }

    /// An [`Error::Index`]: `message` about the index file `path`.
    pub(crate) fn index(path: impl Into<PathBuf>, message: impl Into<String>) -> Error {
        Error::Index { path: path.into(), message: message.into() }
    }

    /// True when the error is a closed output pipe (e.g. `swmap map ... | head`), which the
    /// program treats as a normal, quiet end.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
    }
}

/// Shows `-` as "standard input/output" rather than a file called "-".
fn show_path(path: &std::path::Path) -> String {
    if path.as_os_str() == "-" {
        "<stdin/stdout>".to_string()
    } else {
        path.display().to_string()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "{}: {}", show_path(path), source),
            Error::Input { path, location, message } => {
                write!(f, "{}: {}: {}", show_path(path), location, message)
            }
            Error::Index { path, message } => write!(f, "{}: {}", show_path(path), message),
            Error::Options(msg) => write!(f, "{msg}"),
            Error::Gpu(msg) => write!(f, "GPU backend: {msg}"),
            Error::Backend(backend, msg) => {
                write!(f, "internal error: the {backend} backend returned an impossible alignment, {msg}")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
