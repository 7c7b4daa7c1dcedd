//! Output files that never damage what they name, and never look finished when they are not.
//!
//! Every file swmap writes (SAM/BAM, the index, simulated reads, eval tables) goes through
//! [`OutputFile::create`], which decides before any work how the name is written:
//!
//! | what the name is                                   | what happens                              |
//! |----------------------------------------------------|-------------------------------------------|
//! | the same file (device and inode) as an input       | refused: the input would be destroyed     |
//! | a directory, a block device, a socket              | refused                                   |
//! | an existing regular file without write permission  | refused (also as root, who could write it)|
//! | a character device (`/dev/null`) or a FIFO        | written in place, never replaced          |
//! | anything else under `/dev` or `/proc` (`/dev/fd/3`)| written in place (appending), never replaced |
//! | `/dev/stdout`                                      | standard output, as `-`                   |
//! | a symbolic link                                    | followed: its target is written, the link stays |
//! | a new or existing regular file                     | written under a temporary name beside it, renamed over it by [`OutputFile::commit`] |
//!
//! The temporary name is `.NAME.swmap-tmp-PID` (NAME shortened when the whole would exceed the
//! file system's 255-byte limit). It is removed when the [`OutputFile`] is dropped without
//! `commit` (an error), and, in the `swmap` binary, on SIGINT, SIGTERM and SIGHUP (see
//! [`remove_temporary_files_on_signals`]), so an interrupted run leaves neither a truncated
//! file under the final name nor a temporary one.
//!
//! Why not compare path strings: `in/../in/r.fq` and `r.fq`, a hard link, or a symlink all
//! name one file under different strings.

use crate::error::{Error, Result};
use std::ffi::OsString;
use std::fs::{self, File, Metadata, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The longest file name most file systems accept, in bytes.
const NAME_MAX: usize = 255;

/// Symbolic links followed before giving up (the kernel's own limit is 40).
const MAX_LINKS: usize = 40;

/// Temporary files alive in this process, removed by the signal thread.
static TEMPORARY_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// How a named output is written (see the module documentation).
#[derive(Debug)]
pub struct OutputFile {
    /// The file the user will find afterwards (a symlink resolved to its target).
    target: PathBuf,
    /// The temporary file renamed over `target` by `commit`; `None` when written in place.
    temp: Option<PathBuf>,
}

/// True for the names that mean standard output.
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-" || path == Path::new("/dev/stdout")
}

impl OutputFile {
    /// Decides how `path` is written and opens it. `inputs` are the run's input files (`-` and
    /// names that do not exist are skipped): an output that is one of them is refused.
    pub fn create(path: &Path, inputs: &[&Path]) -> Result<(File, OutputFile)> {
        check_not_an_input(path, inputs)?;
        let target = resolve_links(path)?;
        match fs::metadata(&target) {
            Ok(meta) => {
                if let Some(guard) = in_place(path, &target, &meta)? {
                    let file = OpenOptions::new().append(true).open(&target).map_err(|e| Error::io(path, e))?;
                    return Ok((file, guard));
                }
                if meta.permissions().readonly() {
                    return Err(Error::io(
                        path,
                        io::Error::new(
                            io::ErrorKind::PermissionDenied,
                            "exists and is read-only; make it writable or remove it to replace it",
                        ),
                    ));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(path, e)),
        }
        let temp = temporary_name(&target);
        let file = create_registered(&temp).map_err(|e| Error::io(path, e))?;
        Ok((file, OutputFile { target, temp: Some(temp) }))
    }

    /// The name the bytes go to until [`OutputFile::commit`]: the temporary file, or the
    /// target itself when it is written in place.
    pub fn written_path(&self) -> &Path {
        self.temp.as_deref().unwrap_or(&self.target)
    }

    /// True when the target is written in place (a device, a FIFO), not renamed into place.
    pub fn is_in_place(&self) -> bool {
        self.temp.is_none()
    }

    /// Gives the written file its final name. Flush the file first.
    pub fn commit(mut self) -> Result<()> {
        if let Some(temp) = self.temp.take() {
            let result = fs::rename(&temp, &self.target);
            unregister(&temp);
            if let Err(e) = result {
                let _ = fs::remove_file(&temp);
                return Err(Error::io(&self.target, e));
            }
        }
        Ok(())
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            let _ = fs::remove_file(&temp);
            unregister(&temp);
        }
    }
}

/// A working file that never outlives the run: created beside an output, removed when
/// dropped, and by the signal thread (see [`remove_temporary_files_on_signals`]).
#[derive(Debug)]
pub struct ScratchFile {
    path: PathBuf,
}

impl ScratchFile {
    /// Creates `.NAME.swmap-TAG-PID` beside `output` (`NAME` being `output`'s file name),
    /// for writing; `tag` (a few letters and digits) tells the scratch files of one run apart.
    pub fn create(output: &Path, tag: &str) -> Result<(File, ScratchFile)> {
        let path = working_name(&resolve_links(output)?, tag);
        let file = create_registered(&path).map_err(|e| Error::io(&path, e))?;
        Ok((file, ScratchFile { path }))
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
        unregister(&self.path);
    }
}

/// Refuses `output` when it is the same file as one of `inputs`. Call it before any work, so
/// that a run that would destroy its input does nothing at all.
pub fn check_not_an_input(output: &Path, inputs: &[&Path]) -> Result<()> {
    if is_stdout(output) {
        return Ok(());
    }
    for input in inputs {
        if same_file(output, input) {
            let message = if output == *input {
                "is also an input of this run; writing it would destroy that input".to_string()
            } else {
                format!("is the same file as the input {}; writing it would destroy that input", input.display())
            };
            return Err(Error::Options(format!("output {}: {message}", output.display())));
        }
    }
    Ok(())
}

/// True when `a` and `b` name one existing file (same device and inode, links followed), or
/// are both `-`. A character device (`/dev/null`) is never "the same file": reading it and
/// writing it do not interfere.
pub fn same_file(a: &Path, b: &Path) -> bool {
    if a.as_os_str() == "-" || b.as_os_str() == "-" {
        return a.as_os_str() == b.as_os_str();
    }
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(x), Ok(y)) => !is_char_device(&x) && file_id(&x) == file_id(&y),
        _ => false,
    }
}

/// For a name written in place, the guard without a temporary file; `None` for a regular file
/// to be replaced; an error for what cannot be written at all.
fn in_place(path: &Path, target: &Path, meta: &Metadata) -> Result<Option<OutputFile>> {
    let refuse = |what: &str| {
        Err(Error::io(path, io::Error::new(io::ErrorKind::InvalidInput, format!("is {what}; give a file name"))))
    };
    if meta.is_dir() {
        return refuse("a directory");
    }
    let special = !meta.is_file();
    if special && is_block_device(meta) {
        return refuse("a block device");
    }
    if special && is_socket(meta) {
        return refuse("a socket");
    }
    if special || target.starts_with("/dev") || target.starts_with("/proc") {
        return Ok(Some(OutputFile { target: target.to_path_buf(), temp: None }));
    }
    Ok(None)
}

/// Follows symbolic links from `path` to the name that is really written (which may not exist
/// yet: a dangling link creates its target). Links under `/dev` and `/proc` (such as
/// `/dev/stdout` or `/proc/self/fd/N`) are not followed: they are written in place.
fn resolve_links(path: &Path) -> Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        if current.starts_with("/dev") || current.starts_with("/proc") {
            return Ok(current);
        }
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = fs::read_link(&current).map_err(|e| Error::io(path, e))?;
                current = match current.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(Error::io(path, io::Error::other("too many levels of symbolic links")))
}

/// `.NAME.swmap-tmp-PID` beside `target`, NAME shortened (at a character boundary where the
/// name is UTF-8) so that the whole stays within [`NAME_MAX`] bytes.
fn temporary_name(target: &Path) -> PathBuf {
    working_name(target, "tmp")
}

/// `.NAME.swmap-TAG-PID` beside `target`, NAME shortened to keep the whole within the
/// file system's limit.
fn working_name(target: &Path, tag: &str) -> PathBuf {
    let suffix = format!(".swmap-{tag}-{}", std::process::id());
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let room = NAME_MAX - 1 - suffix.len();
    let mut end = name.len().min(room);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    let mut temp = OsString::from(".");
    temp.push(&name[..end]);
    temp.push(suffix);
    target.with_file_name(temp)
}

/// Creates the temporary file `temp` (it must not exist) and registers it for removal on a
/// signal, holding the registry's lock throughout: the signal thread, which takes the lock to
/// remove the files and keeps it until the process dies, then either sees the file or runs
/// before it exists (without the lock, a file created between the two is left behind:
/// `tests/it/output_safety.rs` catches that about 1 run in 10 under load).
fn create_registered(temp: &Path) -> std::io::Result<File> {
    let mut files = TEMPORARY_FILES.lock().unwrap_or_else(|p| p.into_inner());
    let file = OpenOptions::new().write(true).create_new(true).open(temp)?;
    files.push(temp.to_path_buf());
    Ok(file)
}

fn unregister(temp: &Path) {
    if let Ok(mut files) = TEMPORARY_FILES.lock() {
        files.retain(|f| f != temp);
    }
}

#[cfg(unix)]
fn file_id(meta: &Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn file_id(meta: &Metadata) -> (u64, u64) {
    // No inode numbers: compare sizes and modification times, the best a portable API offers.
    let modified = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
    (meta.len(), modified.map_or(0, |d| d.as_nanos() as u64))
}

#[cfg(unix)]
fn is_char_device(meta: &Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    meta.file_type().is_char_device()
}

#[cfg(unix)]
fn is_block_device(meta: &Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    meta.file_type().is_block_device()
}

#[cfg(unix)]
fn is_socket(meta: &Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    meta.file_type().is_socket()
}

#[cfg(not(unix))]
fn is_char_device(_: &Metadata) -> bool {
    false
}

#[cfg(not(unix))]
fn is_block_device(_: &Metadata) -> bool {
    false
}

#[cfg(not(unix))]
fn is_socket(_: &Metadata) -> bool {
    false
}

/// Makes SIGINT, SIGTERM and SIGHUP remove this process's temporary output files before it
/// dies of the signal (so the exit status still says which signal ended it).
///
/// Call it first thing in `main`, while the process has one thread: the signals are blocked
/// in the calling thread, every thread started later inherits that, and one thread of our own
/// waits for them with `sigwait`, where it may take locks and remove files (a signal handler
/// may do neither).
#[cfg(all(unix, feature = "cli"))]
pub fn remove_temporary_files_on_signals() {
    // SAFETY: sigset_t is plain data, initialised by sigemptyset before use; the calls only
    // read and write that set and this thread's signal mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, sig);
        }
        if libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
            return;
        }
        let spawned = std::thread::Builder::new().name("swmap-signals".into()).spawn(move || {
            let mut sig: libc::c_int = 0;
            if libc::sigwait(&set, &mut sig) != 0 {
                return;
            }
            // The lock is kept until the process dies, so no temporary file is created
            // after the removal (see `create_registered`).
            let files = TEMPORARY_FILES.lock().unwrap_or_else(|p| p.into_inner());
            for f in files.iter() {
                let _ = fs::remove_file(f);
            }
            // Die of the signal itself, as an unhandled one would.
            libc::signal(sig, libc::SIG_DFL);
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            libc::raise(sig);
            drop(files);
        });
        if spawned.is_err() {
            // Nobody would receive the signals: give them back their default action.
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        }
    }
}

/// Without Unix signals there is nothing to install.
#[cfg(all(not(unix), feature = "cli"))]
pub fn remove_temporary_files_on_signals() {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("swmap-output-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn long_names_get_a_temporary_name_within_the_limit() {
        let name = "x".repeat(250);
        let temp = temporary_name(Path::new("/tmp").join(&name).as_path());
        let temp_name = temp.file_name().unwrap().len();
        assert!(temp_name <= NAME_MAX, "{temp_name}");
        let short = temporary_name(Path::new("/tmp/out.sam"));
        assert_eq!(short, PathBuf::from(format!("/tmp/.out.sam.swmap-tmp-{}", std::process::id())));
    }

    #[test]
    fn uncommitted_output_leaves_nothing_and_committed_replaces() {
        let dir = temp_dir("commit");
        let path = dir.join("out.txt");
        fs::write(&path, "old").unwrap();
        {
            let (mut f, _guard) = OutputFile::create(&path, &[]).unwrap();
            f.write_all(b"half").unwrap();
        }
        assert_eq!(fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "temporary file left behind");
        let (mut f, guard) = OutputFile::create(&path, &[]).unwrap();
        f.write_all(b"new").unwrap();
        drop(f);
        guard.commit().unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn symlink_is_followed_and_kept() {
        let dir = temp_dir("link");
        let real = dir.join("real.sam");
        let link = dir.join("link.sam");
        std::os::unix::fs::symlink("real.sam", &link).unwrap();
        let (mut f, guard) = OutputFile::create(&link, &[]).unwrap();
        f.write_all(b"data").unwrap();
        drop(f);
        guard.commit().unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "data");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn same_file_sees_through_dot_dot() {
        let dir = temp_dir("same");
        fs::create_dir_all(dir.join("in")).unwrap();
        let a = dir.join("in/m.fq");
        fs::write(&a, "@r\nA\n+\nI\n").unwrap();
        let b = dir.join("in/../in/m.fq");
        assert!(same_file(&a, &b));
        assert!(check_not_an_input(&b, &[&a]).is_err());
        assert!(!same_file(&a, &dir.join("in")));
        assert!(!same_file(Path::new("/dev/null"), Path::new("/dev/null")));
        fs::remove_dir_all(&dir).unwrap();
    }
}
