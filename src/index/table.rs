//! The index's large arrays, held either in memory of their own (built here, or read from a
//! pipe) or as views into the index file mapped read-only ([`Mapping`]): then every process
//! that maps the same file shares one copy in the page cache, and a second run starts without
//! reading the file into private memory first.

use bytemuck::Pod;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// An immutable array of `T`: a `Vec` of its own, or a view into a mapped file.
pub struct Table<T: Pod> {
    /// Where the elements are: the `Vec`'s buffer or a place in the mapping, both kept alive
    /// by `owner` and never written while the table exists.
    ptr: *const T,
    len: usize,
    owner: Owner<T>,
}

enum Owner<T> {
    Vec(#[allow(dead_code)] Vec<T>), // holds the elements `ptr` points at
    Map(#[allow(dead_code)] Arc<Mapping>),
}

// SAFETY: a table is a read-only view of memory its owner keeps alive (a `Vec`, which may go
// between threads, or a mapping, which is never unmapped while an `Arc` to it exists), and
// `T: Pod` values are plain bytes; sharing it between threads is sharing a `&[T]`.
unsafe impl<T: Pod> Send for Table<T> {}
unsafe impl<T: Pod> Sync for Table<T> {}

impl<T: Pod> Table<T> {
    /// A view of `len` elements at byte `offset` of `map`; `None` unless the bytes lie inside
    /// the mapping and `offset` is aligned for `T` (the file pads its sections to 8 bytes,
    /// and a mapping starts on a page).
    pub fn view(map: &Arc<Mapping>, offset: usize, len: usize) -> Option<Table<T>> {
        let bytes = len.checked_mul(size_of::<T>())?;
        let end = offset.checked_add(bytes)?;
        let data = map.bytes();
        if end > data.len() {
            return None;
        }
        let ptr = data[offset..].as_ptr();
        if ptr.align_offset(align_of::<T>()) != 0 {
            return None;
        }
        Some(Table { ptr: ptr.cast(), len, owner: Owner::Map(Arc::clone(map)) })
    }

    /// Whether the elements are a view into a mapped file.
    pub fn is_mapped(&self) -> bool {
        matches!(self.owner, Owner::Map(_))
    }
}

impl<T: Pod> From<Vec<T>> for Table<T> {
    fn from(v: Vec<T>) -> Table<T> {
        Table { ptr: v.as_ptr(), len: v.len(), owner: Owner::Vec(v) }
    }
}

impl<T: Pod> Deref for Table<T> {
    type Target = [T];

    #[inline(always)]
    fn deref(&self) -> &[T] {
        // SAFETY: `ptr` points at `len` initialised elements that `owner` keeps alive and
        // nothing writes (see the struct); a `Vec`'s buffer does not move when the `Vec` does.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl<T: Pod> Default for Table<T> {
    fn default() -> Table<T> {
        Vec::new().into()
    }
}

impl<T: Pod> Clone for Table<T> {
    fn clone(&self) -> Table<T> {
        match &self.owner {
            Owner::Vec(_) => self.to_vec().into(),
            Owner::Map(map) => Table { ptr: self.ptr, len: self.len, owner: Owner::Map(Arc::clone(map)) },
        }
    }
}

impl<T: Pod + PartialEq> PartialEq for Table<T> {
    fn eq(&self, other: &Table<T>) -> bool {
        **self == **other
    }
}

impl<T: Pod + Eq> Eq for Table<T> {}

impl<T: Pod> fmt::Debug for Table<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = if self.is_mapped() { "mapped" } else { "in memory" };
        write!(f, "Table({} x {} bytes, {how})", self.len, size_of::<T>())
    }
}

/// A file mapped read-only into memory, unmapped when dropped.
///
/// The file must not be truncated or rewritten while mapped (a process touching a page that
/// is gone gets SIGBUS). swmap writes an index through a temporary file renamed over the old
/// one, which leaves a mapped file's pages alone.
pub struct Mapping {
    ptr: *const u8,
    len: usize,
}

// SAFETY: the mapping is read-only and lives until drop; its bytes are shared like a `&[u8]`.
unsafe impl Send for Mapping {}
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Maps the whole of `file` read-only; `None` where the platform or the file (a pipe, an
    /// empty file) does not allow it, and the caller reads the file instead.
    #[cfg(unix)]
    pub fn new(file: &std::fs::File) -> Option<Mapping> {
        use std::os::unix::io::AsRawFd;
        let meta = file.metadata().ok()?;
        let len = usize::try_from(meta.len()).ok()?;
        if !meta.is_file() || len == 0 {
            return None;
        }
        // SAFETY: a fresh read-only shared mapping of an open file; the result is checked.
        let ptr =
            unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_SHARED, file.as_raw_fd(), 0) };
        if ptr == libc::MAP_FAILED {
            return None;
        }
        // Start reading ahead; the checksum touches every page at once anyway.
        // SAFETY: advice on the mapping just made; failure is harmless.
        unsafe { libc::madvise(ptr, len, libc::MADV_WILLNEED) };
        Some(Mapping { ptr: ptr as *const u8, len })
    }

    #[cfg(not(unix))]
    pub fn new(_file: &std::fs::File) -> Option<Mapping> {
        None
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: `len` bytes mapped readable at `ptr` until drop.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// A mapped file truncated or overwritten in place (`cp new.swi old.swi` while a run uses
/// it) takes its pages away, and the next read of one raises SIGBUS, which would end the
/// process with "Bus error" and nothing more. Installs a handler that says what happened in
/// one line, then ends the process as SIGTERM would (through
/// [`crate::io::output::remove_temporary_files_on_signals`], which removes the temporary
/// output; the named output is never created). For programs, not libraries: `swmap`'s `main`
/// calls it after that one; a program embedding swmap decides about its own signals.
#[cfg(all(unix, feature = "cli"))]
pub fn exit_on_bus_errors() {
    extern "C" fn on_bus_error(_: libc::c_int) {
        const MESSAGE: &[u8] = b"swmap: error: a mapped index file was truncated or overwritten while in use \
(replace an index with `swmap index -o`, which writes a new file, or copy it to a new name)\n";
        // SAFETY: write(2), kill(2), getpid(2) and pause(2) are async-signal-safe; MESSAGE is
        // static. Returning would fault again, so the thread waits for the SIGTERM to end
        // the process.
        unsafe {
            libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
            libc::kill(libc::getpid(), libc::SIGTERM);
            loop {
                libc::pause();
            }
        }
    }
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: a handler that only calls async-signal-safe functions, installed with a
        // zeroed (empty) mask and no flags.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_bus_error as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
        }
    });
}

/// Without Unix signals there is nothing to install.
#[cfg(all(not(unix), feature = "cli"))]
pub fn exit_on_bus_errors() {}

impl Drop for Mapping {
    fn drop(&mut self) {
        #[cfg(unix)]
        // SAFETY: unmaps exactly the mapping `new` made; no table views it any more (each
        // holds an `Arc` to it).
        unsafe {
            libc::munmap(self.ptr as *mut libc::c_void, self.len);
        }
    }
}
