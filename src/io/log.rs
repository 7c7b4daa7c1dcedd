//! How much swmap says on stderr, bwa-mem's `-v`: 1 (or 0) errors, 2 warnings too, 3 (the default)
//! progress and summary lines too. An error is always printed, whatever the level: a run
//! that fails says why. The level is one setting for the whole process.

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};

/// Errors: printed at every level.
pub const ERROR: u8 = 0;
/// Warnings: the run goes on, but the user should know (no insert-size model, no reads).
pub const WARNING: u8 = 2;
/// Messages: the backend chosen, the summary at the end.
pub const MESSAGE: u8 = 3;

static LEVEL: AtomicU8 = AtomicU8::new(MESSAGE);

/// Sets the level for the rest of the process.
pub fn set_verbosity(level: u8) {
    LEVEL.store(level, Ordering::Relaxed);
}

/// Whether lines of `level` are printed.
pub fn enabled(level: u8) -> bool {
    LEVEL.load(Ordering::Relaxed) >= level
}

/// Prints one line on stderr if `level` is enabled. A closed or full stderr is ignored (a
/// message never stops the work, where `eprintln!` would panic).
pub fn line(level: u8, text: std::fmt::Arguments<'_>) {
    if enabled(level) {
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }
}
