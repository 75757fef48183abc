//! The HDF5 container: superblock v0/v1 and version-1 object headers (with continuation blocks).
//! Groups and heaps are in `groups.rs`.
//!
//! Every read goes through [`File::slice`] or [`Cur`], which check offsets and lengths against
//! the buffer. Cycles are caught by visited sets; total effort is bounded by a work budget
//! proportional to the file size, so a hostile file can neither hang nor exhaust memory.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use super::error::{Fault, R};

/// The "undefined address" (all bits set), whatever the size of offsets.
pub(super) const UNDEF: u64 = u64::MAX;

const SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

/// Message types this reader interprets or knowingly skips (0x00..=0x18 are defined by the spec).
pub(super) mod msg {
    pub const DATASPACE: u16 = 0x01;
    pub const LINK_INFO: u16 = 0x02;
    pub const DATATYPE: u16 = 0x03;
    pub const LINK: u16 = 0x06;
    pub const EXTERNAL_FILES: u16 = 0x07;
    pub const LAYOUT: u16 = 0x08;
    pub const FILTERS: u16 = 0x0B;
    pub const ATTRIBUTE: u16 = 0x0C;
    pub const CONTINUATION: u16 = 0x10;
    pub const SYMBOL_TABLE: u16 = 0x11;
    pub const ATTRIBUTE_INFO: u16 = 0x15;
    pub const LAST_DEFINED: u16 = 0x18;
}

/// A bounds-checked little-endian cursor over a slice of the file.
pub(super) struct Cur<'a> {
    data: &'a [u8],
    pos: usize,
    /// File offset of `data[0]`, for error messages.
    origin: u64,
    what: &'static str,
}

impl<'a> Cur<'a> {
    pub(super) fn new(data: &'a [u8], origin: u64, what: &'static str) -> Self {
        Self { data, pos: 0, origin, what }
    }

    /// The file offset of the next byte.
    pub(super) fn at(&self) -> u64 {
        self.origin.saturating_add(self.pos as u64)
    }

    pub(super) fn bytes(&mut self, n: usize) -> R<&'a [u8]> {
        let end =
            self.pos.checked_add(n).filter(|&e| e <= self.data.len()).ok_or_else(|| {
                Fault::malformed(self.at(), format!("{} ends early: {n} more bytes needed", self.what))
            })?;
        let out = &self.data[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    pub(super) fn skip(&mut self, n: usize) -> R<()> {
        self.bytes(n).map(|_| ())
    }

    pub(super) fn u8(&mut self) -> R<u8> {
        Ok(self.bytes(1)?[0])
    }

    pub(super) fn u16(&mut self) -> R<u16> {
        Ok(self.uint(2)? as u16)
    }

    pub(super) fn u32(&mut self) -> R<u32> {
        Ok(self.uint(4)? as u32)
    }

    /// An unsigned little-endian integer of `n` ≤ 8 bytes.
    pub(super) fn uint(&mut self, n: usize) -> R<u64> {
        debug_assert!(n <= 8);
        Ok(self.bytes(n)?.iter().rev().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    /// An address of `n` bytes; all bits set maps to [`UNDEF`].
    pub(super) fn addr(&mut self, n: usize) -> R<u64> {
        let v = self.uint(n)?;
        Ok(if n < 8 && v == (1u64 << (8 * n)) - 1 { UNDEF } else { v })
    }

    pub(super) fn rest(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }
}

/// One header message: its type, flags, and body (with the body's file offset).
#[derive(Clone, Copy, Debug)]
pub(super) struct Message<'a> {
    pub kind: u16,
    pub flags: u8,
    pub data: &'a [u8],
    pub at: u64,
}

impl Message<'_> {
    /// Shared messages hold a reference to a message stored elsewhere (committed datatypes, the
    /// shared-message table): never written by h5py for Keras weights.
    pub(super) fn refuse_shared(&self) -> R<()> {
        if self.flags & 0x02 != 0 {
            return Err(Fault::unsupported(self.at, format!("shared header message (type {:#04x})", self.kind)));
        }
        Ok(())
    }
}

pub(super) type ObjectHeader<'a> = Rc<[Message<'a>]>;

/// The objects of one global heap collection, by index.
pub(super) type HeapObjects<'a> = Rc<HashMap<u16, &'a [u8]>>;

/// A parsed file: the buffer, the superblock's parameters, budgets, and caches.
pub(super) struct File<'a> {
    buf: &'a [u8],
    /// Absolute offset that addresses are relative to (the superblock's offset).
    base: u64,
    /// Size of offsets (addresses) and of lengths, in bytes.
    pub so: usize,
    pub sl: usize,
    /// Object header address of the root group.
    pub root: u64,
    /// Structural items (messages, B-tree nodes, symbols, heap objects, ...) still allowed.
    work: Cell<u64>,
    /// Bytes of tensor data and strings still allowed to be decoded.
    out_bytes: Cell<u64>,
    headers: RefCell<HashMap<u64, ObjectHeader<'a>>>,
    pub(super) groups: RefCell<HashMap<u64, Rc<HashMap<String, u64>>>>,
    pub(super) global_heaps: RefCell<HashMap<u64, HeapObjects<'a>>>,
}

impl<'a> File<'a> {
    /// Finds and checks the superblock (at 0, or after a user block at 512, 1024, 2048, ...).
    pub(super) fn open(buf: &'a [u8]) -> R<Self> {
        if buf.is_empty() {
            return Err(Fault::malformed(0, "the file is empty"));
        }
        let mut at = 0usize;
        while !buf[at..].starts_with(SIGNATURE) {
            at = if at == 0 { 512 } else { at.saturating_mul(2) };
            if at >= buf.len() {
                return Err(Fault::malformed(0, "no HDF5 signature (\\x89HDF\\r\\n\\x1a\\n) at 0, 512, 1024, ..."));
            }
        }
        let mut c = Cur::new(&buf[at..], at as u64, "superblock");
        c.skip(8)?;
        let version = c.u8()?;
        if version > 1 {
            return Err(Fault::unsupported(
                at as u64 + 8,
                format!("superblock version {version} (written with libver='latest' or SWMR); only 0 and 1 are read"),
            ));
        }
        c.skip(3)?; // free-space, root symbol table entry and reserved versions
        let shared_version = c.u8()?;
        let (so, sl) = (usize::from(c.u8()?), usize::from(c.u8()?));
        for (name, size) in [("offsets", so), ("lengths", sl)] {
            if ![2, 4, 8].contains(&size) {
                return Err(Fault::unsupported(c.at(), format!("size of {name} {size} (only 2, 4 and 8 are read)")));
            }
        }
        if shared_version != 0 {
            return Err(Fault::malformed(c.at(), format!("shared header message format version {shared_version}")));
        }
        c.skip(1 + 2 + 2 + 4)?; // reserved, leaf K, internal K, consistency flags
        if version == 1 {
            c.skip(4)?; // indexed storage K, reserved
        }
        // Addresses are relative to the base address, which the library takes to be where the
        // superblock is (after a user block); the end-of-file address counts from the stored base.
        let stored_base = c.addr(so)?;
        let _free_space = c.addr(so)?;
        let eof_at = c.at();
        let eof = c.addr(so)?;
        let _driver = c.addr(so)?;
        let _root_name = c.addr(so)?;
        let root_at = c.at();
        let root = c.addr(so)?;
        c.skip(4 + 4 + 16)?; // cache type, reserved, scratch pad
        let base = at as u64;
        let stored_end = eof.checked_sub(stored_base).and_then(|e| e.checked_add(base)).filter(|_| eof != UNDEF);
        match stored_end {
            Some(end) if end <= buf.len() as u64 => {}
            Some(end) => {
                return Err(Fault::malformed(
                    eof_at,
                    format!("the file is truncated: it should end at byte {end} but has {} bytes", buf.len()),
                ))
            }
            None => return Err(Fault::malformed(eof_at, "undefined end-of-file address, or one before the base")),
        }
        if root == UNDEF {
            return Err(Fault::malformed(root_at, "undefined root group address"));
        }
        let budget = buf.len() as u64;
        Ok(Self {
            buf,
            base,
            so,
            sl,
            root,
            work: Cell::new(budget / 2 + 10_000),
            out_bytes: Cell::new(budget),
            headers: RefCell::default(),
            groups: RefCell::default(),
            global_heaps: RefCell::default(),
        })
    }

    /// Spends `n` items of the work budget.
    pub(super) fn tick(&self, n: u64, at: u64) -> R<()> {
        let left = self.work.get().checked_sub(n).ok_or_else(|| {
            Fault::malformed(at, "structure too large or cyclic for the file's size (work limit exceeded)")
        })?;
        self.work.set(left);
        Ok(())
    }

    /// Spends `n` bytes of the output budget (decoded data never exceeds the file's size).
    pub(super) fn spend_output(&self, n: u64, at: u64) -> R<()> {
        let left = self.out_bytes.get().checked_sub(n).ok_or_else(|| {
            Fault::malformed(at, "the data read so far exceeds the file's size (objects overlap or repeat)")
        })?;
        self.out_bytes.set(left);
        Ok(())
    }

    /// The absolute file offset of relative address `addr` (for error messages).
    pub(super) fn abs(&self, addr: u64) -> u64 {
        addr.saturating_add(self.base)
    }

    /// `len` bytes at relative address `addr`, checked against the buffer.
    pub(super) fn slice(&self, addr: u64, len: u64, what: &str) -> R<&'a [u8]> {
        if addr == UNDEF {
            return Err(Fault::malformed(0, format!("{what} has an undefined address")));
        }
        let start = self.base.checked_add(addr);
        let end = start.and_then(|s| s.checked_add(len));
        match (start, end) {
            (Some(s), Some(e)) if e <= self.buf.len() as u64 => Ok(&self.buf[s as usize..e as usize]),
            _ => Err(Fault::malformed(
                self.abs(addr),
                format!(
                    "{what} ({len} bytes at address {addr:#x}) lies beyond the end of the file ({} bytes)",
                    self.buf.len()
                ),
            )),
        }
    }

    /// A cursor over `len` bytes at `addr`, reporting absolute file offsets.
    pub(super) fn cursor(&self, addr: u64, len: u64, what: &'static str) -> R<Cur<'a>> {
        Ok(Cur::new(self.slice(addr, len, what)?, self.base.saturating_add(addr), what))
    }

    /// The messages of the version-1 object header at `addr`, continuation blocks included.
    pub(super) fn object_header(&self, addr: u64) -> R<ObjectHeader<'a>> {
        if let Some(h) = self.headers.borrow().get(&addr) {
            return Ok(h.clone());
        }
        let mut c = self.cursor(addr, 16, "object header prefix")?;
        let version = c.u8()?;
        if version != 1 {
            let start = self.abs(addr);
            return Err(if c.rest().starts_with(b"HDR") && version == b'O' {
                Fault::unsupported(start, "version 2 object header (OHDR: libver='latest' or track_order=True)")
            } else {
                Fault::malformed(start, format!("object header version {version} (expected 1)"))
            });
        }
        c.skip(1)?;
        // The message count is not checked: old library versions miscounted, and HDF5 tolerates it.
        let _message_count = c.u16()?;
        let _refcount = c.u32()?;
        let first_len = c.u32()?;
        let mut blocks = vec![(addr.saturating_add(16), u64::from(first_len))];
        let mut seen_blocks = HashSet::new();
        let mut messages = Vec::new();
        while let Some((block, len)) = blocks.pop() {
            if !seen_blocks.insert(block) {
                return Err(Fault::malformed(self.abs(block), "object header continuation blocks form a cycle"));
            }
            self.tick(1, block)?;
            let mut c = self.cursor(block, len, "object header block")?;
            let mut found = Vec::new();
            while c.rest().len() >= 8 {
                let kind = c.u16()?;
                let size = c.u16()?;
                let flags = c.u8()?;
                c.skip(3)?;
                let at = c.at();
                let data = c.bytes(usize::from(size))?;
                self.tick(1, at)?;
                if kind > msg::LAST_DEFINED && flags & 0x80 != 0 {
                    return Err(Fault::unsupported(
                        at,
                        format!("unknown header message type {kind:#06x} marked fail-if-unknown"),
                    ));
                }
                if kind == msg::CONTINUATION {
                    let m = Message { kind, flags, data, at };
                    m.refuse_shared()?;
                    let mut d = Cur::new(data, at, "continuation message");
                    let next = d.addr(self.so)?;
                    let next_len = d.uint(self.sl)?;
                    found.push((next, next_len));
                }
                messages.push(Message { kind, flags, data, at });
            }
            // Blocks are visited depth-first in file order, like the library does.
            blocks.extend(found.into_iter().rev());
        }
        let header: ObjectHeader<'a> = messages.into();
        self.headers.borrow_mut().insert(addr, header.clone());
        Ok(header)
    }
}
