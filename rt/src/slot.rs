//! A latest-value slot: one writer publishes the newest value (world state, current
//! plan); any number of readers, up to a bound fixed at construction, read the newest
//! value at any time. Neither side blocks, locks or allocates (beyond `T::clone`).
//!
//! How: the slot holds `max_readers + 2` buffers and the index of the current one.
//! A reader announces itself on the current buffer (a per-buffer reader count), checks
//! the buffer is still current, clones the value and leaves. The writer writes into a
//! buffer that is neither current nor announced, then makes it current. Each reader
//! announces on at most one buffer at a time, so the writer always finds a free buffer
//! in one scan: writing is wait-free; a reader retries only when the writer published
//! in between (lock-free). The writer inspects reader counts with read-modify-writes
//! (not loads) so that the announce/check handshake holds through release/acquire
//! synchronisation alone, without relying on SeqCst store-load ordering. Checked with
//! loom in `rt/tests/loom_slot.rs` (which found the plain-load version racy under
//! acquire/release semantics).

use crossbeam_utils::CachePadded;

use crate::error::{Error, Result};
use crate::sync::{spin_hint, Arc, AtomicUsize, Ordering, UnsafeCell};

/// A value with the number of the write that produced it (0 for the initial value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Versioned<T> {
    /// How many writes the slot had seen when this value was written.
    pub version: u64,
    /// The value.
    pub value: T,
}

struct Buffer<T> {
    readers: CachePadded<AtomicUsize>,
    cell: UnsafeCell<Versioned<T>>,
}

struct Shared<T> {
    name: String,
    buffers: Box<[Buffer<T>]>,
    current: CachePadded<AtomicUsize>,
    registered: AtomicUsize,
    max_readers: usize,
}

// SAFETY: the buffers are only accessed under the announce/check protocol described in
// the module docs: the writer (one thread, `&mut SlotWriter`) writes a buffer only when
// no reader is announced on it and it is not current; readers only read a buffer they
// announced on and found current. So `T` moves between threads (`Send`) and is read by
// several threads at once through `&T` (`Sync`).
unsafe impl<T: Send + Sync> Sync for Shared<T> {}
// SAFETY: as above; owning the slot from another thread only needs `T: Send`.
unsafe impl<T: Send> Send for Shared<T> {}

/// Builds a slot named `name` holding `initial`, for at most `max_readers` readers at
/// once. Returns the writer; make readers with [`SlotWriter::reader`].
pub fn latest_slot<T: Clone>(name: &str, initial: T, max_readers: usize) -> Result<SlotWriter<T>> {
    if max_readers == 0 {
        return Err(Error::InvalidCapacity {
            queue: name.to_owned(),
            capacity: max_readers,
            reason: "a latest-value slot needs at least one reader",
        });
    }
    let buffers = (0..max_readers + 2)
        .map(|_| Buffer {
            readers: CachePadded::new(AtomicUsize::new(0)),
            cell: UnsafeCell::new(Versioned {
                version: 0,
                value: initial.clone(),
            }),
        })
        .collect();
    let shared = Arc::new(Shared {
        name: name.to_owned(),
        buffers,
        current: CachePadded::new(AtomicUsize::new(0)),
        registered: AtomicUsize::new(0),
        max_readers,
    });
    Ok(SlotWriter {
        shared,
        current: 0,
        version: 0,
    })
}

/// The single writer of a latest-value slot.
pub struct SlotWriter<T> {
    shared: Arc<Shared<T>>,
    current: usize,
    version: u64,
}

impl<T> SlotWriter<T> {
    /// Publishes `value` as the newest. Wait-free; never allocates (the replaced old
    /// value in the reused buffer is dropped here).
    pub fn write(&mut self, value: T) {
        let target = self.free_buffer();
        self.version += 1;
        let version = self.version;
        self.shared.buffers[target].cell.with_mut(|p| {
            // SAFETY: `target` is not current and had no announced reader when scanned
            // (SeqCst); a reader that announces later re-checks `current`, finds it is
            // not `target` and retries without touching the cell. `&mut self` makes
            // this the only writer.
            unsafe { *p = Versioned { version, value } }
        });
        self.shared.current.store(target, Ordering::SeqCst);
        self.current = target;
    }

    /// How many values have been written.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// A new reader, or an error when the slot already has `max_readers` readers.
    pub fn reader(&self) -> Result<SlotReader<T>> {
        SlotReader::register(&self.shared)
    }

    fn free_buffer(&self) -> usize {
        loop {
            // A read-modify-write, not a load: it reads the newest count in the
            // counter's modification order, and a reader's later increment reads from
            // it, which makes our earlier store of `current` visible to that reader's
            // check. A plain load would need SeqCst's store-load ordering instead,
            // which loom does not model.
            let free = (0..self.shared.buffers.len()).find(|&i| {
                i != self.current
                    && self.shared.buffers[i]
                        .readers
                        .fetch_add(0, Ordering::SeqCst)
                        == 0
            });
            if let Some(i) = free {
                return i;
            }
            // Unreachable while each reader announces on one buffer at a time (there
            // are max_readers + 2 buffers); kept as a retry rather than a panic.
            spin_hint();
        }
    }
}

impl<T> std::fmt::Debug for SlotWriter<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlotWriter")
            .field("slot", &self.shared.name)
            .field("version", &self.version)
            .finish()
    }
}

/// A reader of a latest-value slot. Clone with [`SlotReader::try_clone`]; dropping it
/// frees its place.
pub struct SlotReader<T> {
    shared: Arc<Shared<T>>,
    seen: Option<u64>,
}

impl<T> SlotReader<T> {
    fn register(shared: &Arc<Shared<T>>) -> Result<Self> {
        let mut n = shared.registered.load(Ordering::SeqCst);
        loop {
            if n >= shared.max_readers {
                return Err(Error::TooManyReaders {
                    slot: shared.name.clone(),
                    max_readers: shared.max_readers,
                });
            }
            match shared
                .registered
                .compare_exchange(n, n + 1, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => {
                    return Ok(Self {
                        shared: Arc::clone(shared),
                        seen: None,
                    })
                }
                Err(now) => n = now,
            }
        }
    }

    /// Another reader of the same slot, or an error when it is at `max_readers`.
    pub fn try_clone(&self) -> Result<Self> {
        Self::register(&self.shared)
    }

    /// The slot's name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }
}

impl<T: Clone> SlotReader<T> {
    /// The newest value with its version. Never blocks; retries only if the writer
    /// published during the read.
    pub fn read_versioned(&self) -> Versioned<T> {
        let shared = &*self.shared;
        loop {
            let i = shared.current.load(Ordering::SeqCst);
            let buffer = &shared.buffers[i];
            buffer.readers.fetch_add(1, Ordering::SeqCst);
            if shared.current.load(Ordering::SeqCst) == i {
                let value = buffer.cell.with(|p| {
                    // SAFETY: we announced on `i` and then saw it current, so the writer
                    // finished writing it (SeqCst store of `current` after the write) and
                    // will not write it again until we leave (it skips announced
                    // buffers).
                    unsafe { (*p).clone() }
                });
                buffer.readers.fetch_sub(1, Ordering::SeqCst);
                return value;
            }
            buffer.readers.fetch_sub(1, Ordering::SeqCst);
            spin_hint();
        }
    }

    /// The newest value.
    pub fn read(&self) -> T {
        self.read_versioned().value
    }

    /// The newest value if it was written after the last one this reader returned from
    /// `read_new` (the initial value counts as new on the first call).
    pub fn read_new(&mut self) -> Option<T> {
        let v = self.read_versioned();
        if self.seen.is_some_and(|seen| seen >= v.version) {
            return None;
        }
        self.seen = Some(v.version);
        Some(v.value)
    }
}

impl<T> Drop for SlotReader<T> {
    fn drop(&mut self) {
        self.shared.registered.fetch_sub(1, Ordering::SeqCst);
    }
}

impl<T> std::fmt::Debug for SlotReader<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlotReader")
            .field("slot", &self.shared.name)
            .field("seen", &self.seen)
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn readers_see_the_newest_value_and_new_ones_once() {
        let mut w = latest_slot("world", 0u32, 2).unwrap();
        let mut r = w.reader().unwrap();
        assert_eq!(r.read_new(), Some(0));
        assert_eq!(r.read_new(), None);
        w.write(5);
        w.write(6);
        assert_eq!(
            r.read_versioned(),
            Versioned {
                version: 2,
                value: 6
            }
        );
        assert_eq!(r.read_new(), Some(6));
        assert_eq!(r.read_new(), None);
    }

    #[test]
    fn reader_limit_is_enforced_and_freed_on_drop() {
        let w = latest_slot("plan", 'a', 1).unwrap();
        let r = w.reader().unwrap();
        assert!(matches!(
            r.try_clone(),
            Err(Error::TooManyReaders { max_readers: 1, .. })
        ));
        drop(r);
        assert!(w.reader().is_ok());
        assert!(latest_slot("plan", 'a', 0).is_err());
    }

    #[test]
    fn concurrent_readers_never_see_a_torn_value() {
        let mut w = latest_slot("pair", (0u64, 0u64), 2).unwrap();
        let writes = if cfg!(miri) { 100 } else { 100_000 };
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let r = w.reader().unwrap();
                std::thread::spawn(move || {
                    let mut last = 0;
                    while last < writes {
                        let v = r.read_versioned();
                        assert_eq!(v.value.0, v.value.1, "torn read");
                        assert_eq!(v.value.0, v.version, "value does not match its version");
                        assert!(v.version >= last, "went back in time");
                        last = v.version;
                    }
                })
            })
            .collect();
        for i in 1..=writes {
            w.write((i, i));
        }
        for r in readers {
            r.join().unwrap();
        }
    }
}
