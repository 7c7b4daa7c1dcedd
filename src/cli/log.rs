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

/// The time now as Java's `Date.toString` writes it in UTC (`Mon Dec 07 04:38:03 UTC 2026`),
/// the form Picard's metrics files carry.
pub(super) fn java_date_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    java_date(secs)
}

fn java_date(secs: u64) -> String {
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + (month <= 2) as i64;
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!(
        "{} {} {day:02} {:02}:{:02}:{:02} UTC {year}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[month as usize - 1],
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_are_written_as_java_writes_them() {
        assert_eq!(super::java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
        // 2026-12-07 04:38:03 UTC, as Picard wrote it in a metrics file.
        assert_eq!(super::java_date(1_796_618_283), "Mon Dec 07 04:38:03 UTC 2026");
        assert_eq!(super::java_date(951_782_400), "Tue Feb 29 00:00:00 UTC 2000");
    }
}
