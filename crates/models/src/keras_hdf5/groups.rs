//! "Old-style" HDF5 groups (symbol table message → v1 B-tree of symbol table nodes, names in a
//! local heap) and global heap collections (where variable-length strings live).
//!
//! B-trees are walked iteratively with a visited set and level checks; every node, symbol and
//! heap object spends the file's work budget.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use super::error::{Fault, R};
use super::file::{msg, Cur, File};

impl<'a> File<'a> {
    /// The members of the group whose object header is at `addr`: name → object header address.
    pub(super) fn group(&self, addr: u64) -> R<Rc<HashMap<String, u64>>> {
        if let Some(g) = self.groups.borrow().get(&addr) {
            return Ok(g.clone());
        }
        let header = self.object_header(addr)?;
        let Some(table) = header.iter().find(|m| m.kind == msg::SYMBOL_TABLE) else {
            let at = self.abs(addr);
            return Err(if header.iter().any(|m| matches!(m.kind, msg::LINK_INFO | msg::LINK)) {
                Fault::unsupported(at, "new-style group (link messages, written with libver='latest' or track_order)")
            } else {
                Fault::not_keras("expected a group, found an object without a symbol table (a dataset?)")
            });
        };
        table.refuse_shared()?;
        let mut c = Cur::new(table.data, table.at, "symbol table message");
        let btree = c.addr(self.so)?;
        let heap = c.addr(self.so)?;
        let names = self.local_heap(heap)?;
        let mut members = HashMap::new();
        for snod in self.btree_leaves(btree)? {
            self.symbol_node(snod, names, &mut members)?;
        }
        let members = Rc::new(members);
        self.groups.borrow_mut().insert(addr, members.clone());
        Ok(members)
    }

    /// The data segment of the local heap at `addr` (where a group keeps its member names).
    fn local_heap(&self, addr: u64) -> R<&'a [u8]> {
        let mut c = self.cursor(addr, 8 + 2 * self.sl as u64 + self.so as u64, "local heap header")?;
        if c.bytes(4)? != b"HEAP" {
            return Err(Fault::malformed(self.abs(addr), "local heap signature HEAP missing"));
        }
        let version = c.u8()?;
        if version != 0 {
            return Err(Fault::malformed(c.at(), format!("local heap version {version}")));
        }
        c.skip(3)?;
        let size = c.uint(self.sl)?;
        let _free_list = c.uint(self.sl)?;
        let data = c.addr(self.so)?;
        self.slice(data, size, "local heap data segment")
    }

    /// The symbol-table-node addresses under the group B-tree rooted at `root`, in key order.
    fn btree_leaves(&self, root: u64) -> R<Vec<u64>> {
        let mut leaves = Vec::new();
        let mut stack = vec![(root, None::<u8>)];
        let mut seen = HashSet::new();
        while let Some((node, expected_level)) = stack.pop() {
            let at = self.abs(node);
            if !seen.insert(node) {
                return Err(Fault::malformed(at, "group B-tree nodes form a cycle"));
            }
            self.tick(1, at)?;
            let header = 8 + 2 * self.so as u64;
            let mut c = self.cursor(node, header, "v1 B-tree node")?;
            if c.bytes(4)? != b"TREE" {
                return Err(Fault::malformed(at, "v1 B-tree signature TREE missing"));
            }
            let node_type = c.u8()?;
            if node_type != 0 {
                return Err(Fault::malformed(at, format!("group B-tree has node type {node_type} (expected 0)")));
            }
            let level = c.u8()?;
            if let Some(expected) = expected_level.filter(|&l| l != level) {
                return Err(Fault::malformed(at, format!("B-tree node at level {level}, expected {expected}")));
            }
            let used = u64::from(c.u16()?);
            // keys and children interleaved: key, child, key, ..., child, key
            let body = used * (self.sl + self.so) as u64 + self.sl as u64;
            let mut c = self.cursor(node.saturating_add(header), body, "v1 B-tree node entries")?;
            let mut children = Vec::new();
            for _ in 0..used {
                c.skip(self.sl)?;
                children.push(c.addr(self.so)?);
            }
            self.tick(used, at)?;
            if level == 0 {
                leaves.extend(children);
            } else {
                stack.extend(children.into_iter().rev().map(|child| (child, Some(level - 1))));
            }
        }
        Ok(leaves)
    }

    /// Adds the entries of the symbol table node at `addr` to `members`.
    fn symbol_node(&self, addr: u64, heap: &'a [u8], members: &mut HashMap<String, u64>) -> R<()> {
        let at = self.abs(addr);
        let mut c = self.cursor(addr, 8, "symbol table node")?;
        if c.bytes(4)? != b"SNOD" {
            return Err(Fault::malformed(at, "symbol table node signature SNOD missing"));
        }
        let version = c.u8()?;
        if version != 1 {
            return Err(Fault::malformed(at, format!("symbol table node version {version}")));
        }
        c.skip(1)?;
        let count = u64::from(c.u16()?);
        let entry = 2 * self.so as u64 + 24;
        self.tick(count, at)?;
        let mut c = self.cursor(addr.saturating_add(8), count * entry, "symbol table node entries")?;
        for _ in 0..count {
            let name_at = c.at();
            let name_offset = c.uint(self.so)?;
            let object = c.addr(self.so)?;
            c.skip(24)?; // cache type, reserved, scratch pad
            let name = usize::try_from(name_offset).ok().and_then(|o| heap.get(o..)).ok_or_else(|| {
                Fault::malformed(name_at, format!("member name offset {name_offset} is outside the local heap"))
            })?;
            let end = name
                .iter()
                .position(|&b| b == 0)
                .ok_or_else(|| Fault::malformed(name_at, "member name is not NUL-terminated within the local heap"))?;
            let name = String::from_utf8_lossy(&name[..end]).into_owned();
            if members.insert(name.clone(), object).is_some() {
                return Err(Fault::malformed(name_at, format!("group has two members named `{name}`")));
            }
        }
        Ok(())
    }

    /// The object with index `index` in the global heap collection at `addr`.
    pub(super) fn global_heap_object(&self, addr: u64, index: u32) -> R<&'a [u8]> {
        let at = self.abs(addr);
        let cached = self.global_heaps.borrow().get(&addr).cloned();
        let objects = match cached {
            Some(o) => o,
            None => {
                let o = Rc::new(self.parse_global_heap(addr)?);
                self.global_heaps.borrow_mut().insert(addr, o.clone());
                o
            }
        };
        u16::try_from(index)
            .ok()
            .and_then(|i| objects.get(&i).copied())
            .ok_or_else(|| Fault::malformed(at, format!("global heap collection has no object {index}")))
    }

    fn parse_global_heap(&self, addr: u64) -> R<HashMap<u16, &'a [u8]>> {
        let at = self.abs(addr);
        let mut c = self.cursor(addr, 8 + self.sl as u64, "global heap collection header")?;
        if c.bytes(4)? != b"GCOL" {
            return Err(Fault::malformed(at, "global heap signature GCOL missing"));
        }
        let version = c.u8()?;
        if version != 1 {
            return Err(Fault::malformed(at, format!("global heap collection version {version}")));
        }
        c.skip(3)?;
        let size = c.uint(self.sl)?;
        let mut c = self.cursor(addr, size, "global heap collection")?;
        c.skip(8 + self.sl)?;
        let mut objects = HashMap::new();
        while c.rest().len() >= 8 + self.sl {
            self.tick(1, c.at())?;
            let index = c.u16()?;
            c.skip(2 + 4)?; // reference count, reserved
            let object_at = c.at();
            let object_size = c.uint(self.sl)?;
            if index == 0 {
                break; // free space: the rest of the collection
            }
            let object_size = usize::try_from(object_size).unwrap_or(usize::MAX);
            let data = c.bytes(object_size)?;
            if objects.insert(index, data).is_some() {
                return Err(Fault::malformed(object_at, format!("global heap object {index} appears twice")));
            }
            let padding = (8 - object_size % 8) % 8;
            c.skip(padding.min(c.rest().len()))?;
        }
        Ok(objects)
    }
}
