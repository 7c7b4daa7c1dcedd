//! How much swmap says on stderr, bwa-mem's `-v`: 1 (or 0) errors, 2 warnings too, 3 (the default)
//! progress and summary lines too. An error is always printed, whatever the level: a run
//! that fails says why. The level is one setting for the whole process.
//!
//! The library reports its warnings through the `log` facade; [`install`] prints those of
//! swmap's own modules here, as `[swmap] warning: ...` lines (the GPU stack's own log
//! records stay quiet, as they would without a logger).

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};

/// Errors: printed at every level.
pub(super) const ERROR: u8 = 0;
/// Warnings: the run goes on, but the user should know (no insert-size model, no reads).
pub(super) const WARNING: u8 = 2;
/// Messages: the backend chosen, the summary at the end.
pub(super) const MESSAGE: u8 = 3;

static LEVEL: AtomicU8 = AtomicU8::new(MESSAGE);

/// Sets the level for the rest of the process.
pub(super) fn set_verbosity(level: u8) {
    LEVEL.store(level, Ordering::Relaxed);
}

/// Whether lines of `level` are printed.
fn enabled(level: u8) -> bool {
    LEVEL.load(Ordering::Relaxed) >= level
}

/// Prints one line on stderr if `level` is enabled. A closed or full stderr is ignored (a
/// message never stops the work, where `eprintln!` would panic).
pub(super) fn line(level: u8, text: std::fmt::Arguments<'_>) {
    if enabled(level) {
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }
}

/// The `log` facade's logger of the program: swmap's warnings (and errors) on stderr, each on
/// one line, at the level [`set_verbosity`] set.
struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn && metadata.target().starts_with("swmap")
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let level = if record.level() == log::Level::Error { ERROR } else { WARNING };
            line(level, format_args!("[swmap] warning: {}", record.args()));
        }
    }

    fn flush(&self) {}
}

/// Sends the library's log records to stderr ([`StderrLogger`]). Called once, first thing.
pub(super) fn install() {
    static LOGGER: StderrLogger = StderrLogger;
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Warn);
    }
}
