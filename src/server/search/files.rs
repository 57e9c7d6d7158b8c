//! How the index's files are read: which are mapped into the process's memory and
//! which are read through the kernel's file cache.
//!
//! tantivy maps every file of an index by default. Mapped pages a search has touched
//! stay counted in the process's resident memory (`RssFile`) for as long as the
//! segment is open, so at one million contacts a server under load counted up to
//! 650 MiB of index pages as its own (docs/PERFORMANCE.md, "Memory at one million"),
//! most of them stored contacts, of which a search reads a page's fifty, and
//! postings. [`IndexFiles`] keeps mapping only the files a search reads whole or
//! walks (fast-field columns, field norms, deletions, and the term dictionaries,
//! whose automaton tantivy holds as one slice: copied, it would all be heap) and reads
//! the rest, stored contacts and postings, in the small pieces a search asks for with
//! positioned reads. Those pages stay in the kernel's file cache, shared and
//! reclaimable, outside the process's count; a read costs a system call and a copy
//! of a few kilobytes.
//!
//! A whole file, or a large part of one (a merge stacking stored contacts, a
//! checksum), is still read through the mapping rather than copied onto the heap;
//! those reads are of segments about to be replaced, whose mappings go with them.

use std::{
    fs::File,
    io,
    ops::Range,
    os::unix::fs::FileExt as _,
    path::{Path, PathBuf},
    sync::Arc,
};

use tantivy::{
    HasLen,
    directory::{
        Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, OwnedBytes, WatchCallback,
        WatchHandle, WritePtr,
        error::{DeleteError, LockError, OpenDirectoryError, OpenReadError, OpenWriteError},
    },
};

/// A read at least this long goes through the mapping instead of a copy.
const LARGE_READ: usize = 4 * 1024 * 1024;

/// The extensions of the files searches read whole or walk: kept mapped.
const MAPPED_EXTENSIONS: [&str; 4] = ["fast", "fieldnorm", "del", "term"];

/// An index folder whose large files are read through the file cache (see the
/// module's comment), or mapped whole when `map_all` is set.
#[derive(Clone, Debug)]
pub struct IndexFiles {
    mapped: MmapDirectory,
    root: PathBuf,
    map_all: bool,
}

impl IndexFiles {
    pub fn open(root: &Path, map_all: bool) -> Result<Self, OpenDirectoryError> {
        Ok(IndexFiles {
            mapped: MmapDirectory::open(root)?,
            root: root.to_path_buf(),
            map_all,
        })
    }

    fn is_mapped(&self, path: &Path) -> bool {
        self.map_all
            || path
                .extension()
                .and_then(|extension| extension.to_str())
                .is_some_and(|extension| MAPPED_EXTENSIONS.contains(&extension))
    }
}

impl Directory for IndexFiles {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        let mapped = self.mapped.get_file_handle(path)?;
        if self.is_mapped(path) {
            return Ok(mapped);
        }
        let file = File::open(self.root.join(path)).map_err(|error| match error.kind() {
            io::ErrorKind::NotFound => OpenReadError::FileDoesNotExist(path.to_path_buf()),
            _ => OpenReadError::wrap_io_error(error, path.to_path_buf()),
        })?;
        Ok(Arc::new(ReadAt { file, mapped }))
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.mapped.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.mapped.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        self.mapped.open_write(path)
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.mapped.atomic_read(path)
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        self.mapped.atomic_write(path, data)
    }

    fn sync_directory(&self) -> io::Result<()> {
        self.mapped.sync_directory()
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        self.mapped.acquire_lock(lock)
    }

    fn watch(&self, callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.mapped.watch(callback)
    }
}

/// A file read with positioned reads, large reads through its mapping. The mapping
/// costs address space only until a large read touches it.
#[derive(Debug)]
struct ReadAt {
    file: File,
    mapped: Arc<dyn FileHandle>,
}

impl HasLen for ReadAt {
    fn len(&self) -> usize {
        self.mapped.len()
    }
}

impl FileHandle for ReadAt {
    fn read_bytes(&self, range: Range<usize>) -> io::Result<OwnedBytes> {
        if range.end > self.len() || range.start > range.end {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("read of {range:?} past a file of {} bytes", self.len()),
            ));
        }
        if range.is_empty() {
            return Ok(OwnedBytes::empty());
        }
        if range.len() >= LARGE_READ {
            return self.mapped.read_bytes(range);
        }
        let mut buffer = vec![0; range.len()];
        self.file.read_exact_at(&mut buffer, range.start as u64)?;
        Ok(OwnedBytes::new(buffer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder_with(name: &str, bytes: &[u8]) -> (tempfile::TempDir, IndexFiles) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(name), bytes).unwrap();
        let files = IndexFiles::open(dir.path(), false).unwrap();
        (dir, files)
    }

    #[test]
    fn small_reads_are_copies_of_the_file_large_ones_and_columns_are_mapped() {
        let bytes: Vec<u8> = (0..LARGE_READ + 10).map(|i| (i % 251) as u8).collect();
        let (_dir, files) = folder_with("a.store", &bytes);
        let handle = files.get_file_handle(Path::new("a.store")).unwrap();
        assert_eq!(handle.len(), bytes.len());
        let small = handle.read_bytes(7..4_103).unwrap();
        assert_eq!(small.as_slice(), &bytes[7..4_103]);
        let large = handle.read_bytes(3..LARGE_READ + 9).unwrap();
        assert_eq!(large.as_slice(), &bytes[3..LARGE_READ + 9]);
        assert!(handle.read_bytes(5..5).unwrap().is_empty());
        let past = handle.read_bytes(bytes.len() - 1..bytes.len() + 1);
        assert_eq!(past.unwrap_err().kind(), io::ErrorKind::InvalidInput);

        // A column file is the mapping itself, as with tantivy's own directory.
        assert!(files.is_mapped(Path::new("a.fast")));
        assert!(!files.is_mapped(Path::new("a.store")));
        assert!(
            IndexFiles::open(_dir.path(), true)
                .unwrap()
                .is_mapped(Path::new("a.store"))
        );
    }

    #[test]
    fn a_missing_file_is_reported_as_missing() {
        let (_dir, files) = folder_with("a.store", b"x");
        assert!(matches!(
            files.get_file_handle(Path::new("b.store")),
            Err(OpenReadError::FileDoesNotExist(_))
        ));
    }
}
