//! The `hebb` binary's allocator: the system allocator, with the start of large blocks staggered
//! across the 4 KiB page (cache colouring).
//!
//! The neuron update streams several arrays of the same length in lockstep (`v`, `i_exc`,
//! `i_inh`, the refractory counters, the input slots of the ring), reading and writing element i
//! of each in the same iteration. glibc serves large blocks with their own `mmap` (from 128 KiB
//! on, a threshold that rises after large blocks are freed), so these arrays start at the same
//! offset (16 bytes) into a page: element i of every array has the same low 12 address bits. The
//! core then sees false store-to-load dependencies between them (4K aliasing) and they compete
//! for the same L1 sets. This allocator gives every block of at
//! least [`STAGGER_FROM`] bytes a different start within the page: it allocates 4160 bytes more
//! and moves the start by a multiple of 64 bytes that changes from block to block.
//!
//! Measured on the 2-core host (CUBA K=80, one thread, 0.5 s, medians of 7 alternating runs;
//! ARCHITECTURE.md, "Memory layout"): 40k neurons 0.139 -> 0.116 s, 100k neurons 0.375 -> 0.292 s;
//! 4k, whose arrays come from malloc's heap, unchanged. Which offset a block gets depends on the
//! order of allocation, never on the results, which stay bit-identical.
//!
//! Blocks below [`STAGGER_FROM`] bytes, and blocks asking for an alignment above 64 bytes, go to
//! the system allocator unchanged.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Blocks from this size on are staggered, bytes. Smaller blocks come from malloc's heap, where
/// they are not page-aligned anyway.
pub const STAGGER_FROM: usize = 64 << 10;
/// The span of the offsets (one page), bytes; a staggered block costs `SPAN + LINE` more.
const SPAN: usize = 4096;
/// The offsets are multiples of a cache line.
const LINE: usize = 64;

/// The system allocator with staggered starts for large blocks (see the module documentation).
pub struct StaggeredAlloc {
    next: AtomicUsize,
}

impl StaggeredAlloc {
    /// The allocator (a constant, for `#[global_allocator]`).
    pub const fn new() -> Self {
        StaggeredAlloc { next: AtomicUsize::new(0) }
    }

    /// The layout a staggered block is allocated with, or None when the block is not staggered.
    /// A function of the caller's layout only, so dealloc finds the same one.
    fn outer(layout: Layout) -> Option<Layout> {
        if layout.size() < STAGGER_FROM || layout.align() > LINE {
            return None;
        }
        // Alignment 16 (malloc's own on x86-64 and aarch64), so that zeroed blocks come from
        // calloc, which knows that fresh pages are zero; one more line to align the start.
        Layout::from_size_align(layout.size().checked_add(SPAN + LINE)?, 16).ok()
    }

    /// A block from `system` (the system allocator's `alloc` or `alloc_zeroed`), staggered when
    /// it is large.
    ///
    /// # Safety
    /// As for [`GlobalAlloc::alloc`].
    unsafe fn alloc_with(&self, layout: Layout, system: unsafe fn(&System, Layout) -> *mut u8) -> *mut u8 {
        let Some(outer) = Self::outer(layout) else {
            return unsafe { system(&System, layout) };
        };
        let base = unsafe { system(&System, outer) };
        if base.is_null() {
            base
        } else {
            unsafe { self.stagger(base) }
        }
    }

    /// Move the start of a fresh outer block to its offset and remember the block.
    ///
    /// # Safety
    /// `base` is a non-null block allocated with `outer(layout)`.
    unsafe fn stagger(&self, base: *mut u8) -> *mut u8 {
        // 1..=63 lines, stepping by 29 lines (coprime with 63), so that consecutive blocks (the
        // arrays of one population are allocated together) land far apart within the page.
        let lines = SPAN / LINE - 1;
        let k = self.next.fetch_add(1, Ordering::Relaxed) % lines;
        let offset = (k * 29 % lines + 1) * LINE;
        let start = (base as usize + offset).next_multiple_of(LINE);
        // SAFETY: start - base is at most offset + 63 < SPAN + LINE, the block's extra room, and at
        // least one line, so the word before `start` lies inside the block.
        unsafe {
            let p = base.add(start - base as usize);
            p.cast::<*mut u8>().sub(1).write(base);
            p
        }
    }
}

impl Default for StaggeredAlloc {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: every block comes from `System` and goes back to it with the layout it was allocated
// with; a staggered block stores its outer start in the word before the pointer handed out.
unsafe impl GlobalAlloc for StaggeredAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { self.alloc_with(layout, <System as GlobalAlloc>::alloc) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe { self.alloc_with(layout, <System as GlobalAlloc>::alloc_zeroed) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match Self::outer(layout) {
            None => unsafe { System.dealloc(ptr, layout) },
            Some(outer) => unsafe {
                let base = ptr.cast::<*mut u8>().sub(1).read();
                System.dealloc(base, outer)
            },
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees that new_size, rounded up to the alignment, fits in isize.
        let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if Self::outer(layout).is_none() && Self::outer(new).is_none() {
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        // A staggered block on either side: move it (growth of large vectors is amortised).
        let p = unsafe { self.alloc(new) };
        if !p.is_null() {
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_blocks_start_at_different_offsets_and_round_trip() {
        let a = StaggeredAlloc::new();
        let l = Layout::from_size_align(STAGGER_FROM, 8).unwrap();
        let mut offsets = Vec::new();
        let mut blocks = Vec::new();
        for _ in 0..8 {
            let p = unsafe { a.alloc(l) };
            assert!(!p.is_null() && (p as usize).is_multiple_of(LINE));
            // The distance from the start of the outer block (stored in the word before p).
            offsets.push(p as usize - unsafe { p.cast::<*mut u8>().sub(1).read() } as usize);
            blocks.push(p);
        }
        offsets.sort();
        offsets.dedup();
        assert_eq!(offsets.len(), 8, "eight consecutive blocks, eight offsets");
        for p in blocks {
            unsafe { a.dealloc(p, l) };
        }
        for size in [16, STAGGER_FROM - 1, STAGGER_FROM, 3 * STAGGER_FROM + 5] {
            let l = Layout::from_size_align(size, 8).unwrap();
            unsafe {
                let p = a.alloc_zeroed(l);
                assert!(!p.is_null());
                assert!((0..size).step_by(4093).all(|i| *p.add(i) == 0));
                p.add(size - 1).write(7);
                // Grow across the threshold and shrink back: the contents survive.
                let q = a.realloc(p, l, size * 2);
                assert_eq!(*q.add(size - 1), 7);
                let r = a.realloc(q, Layout::from_size_align(size * 2, 8).unwrap(), size);
                assert_eq!(*r.add(size - 1), 7);
                a.dealloc(r, l);
            }
        }
    }
}
