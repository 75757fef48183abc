//! A small pickle virtual machine: enough of Python's `pickle` (protocols 0–5) to follow what
//! `torch.save` writes, without executing anything. Objects live in an arena and refer to each
//! other by index, so shared references (memo), mutation after memoisation (`SETITEMS` on a dict
//! fetched with `BINGET`) and even cycles cost nothing special, and dropping the arena never
//! recurses. Calls (`REDUCE`, `NEWOBJ`, `INST`, `OBJ`) are recorded, not performed; the caller
//! interprets the few it knows (`torch._utils._rebuild_tensor_v2`...).
//!
//! Every length read from the input is checked against the bytes left before anything is
//! allocated, and the number of opcodes, objects and pending marks is bounded ([`MAX_OPS`],
//! [`MAX_VALUES`]), so hostile input fails with a [`Fault`] rather than exhausting memory.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

/// Opcodes executed per pickle at most (torch's object pickle of a 5B-parameter checkpoint is a
/// few hundred thousand).
pub(crate) const MAX_OPS: u64 = 1 << 25;
/// Objects created per pickle at most.
pub(crate) const MAX_VALUES: usize = 1 << 23;
/// Longest string or bytes object accepted (the pickles of torch checkpoints hold short strings;
/// the longest are module sources saved with whole modules).
pub(crate) const MAX_STRING: u64 = 1 << 26;
/// Longest text line (protocol 0 arguments, `GLOBAL` names).
const MAX_LINE: u64 = 1 << 16;

/// What went wrong, before the file's name is attached.
#[derive(Debug)]
pub(crate) enum Fault {
    Io(io::Error),
    Bad(String),
}

impl From<io::Error> for Fault {
    fn from(e: io::Error) -> Self {
        Fault::Io(e)
    }
}

macro_rules! bad {
    ($($arg:tt)*) => { Fault::Bad(format!($($arg)*)) };
}
pub(crate) use bad;

/// A buffered, position-tracking view of a seekable input of known length. Every read is checked
/// against the bytes left, so a length field can never make it allocate more than the input holds.
pub(crate) struct Input<R: Read + Seek> {
    inner: BufReader<R>,
    pos: u64,
    len: u64,
}

impl<R: Read + Seek> Input<R> {
    pub(crate) fn new(mut inner: R) -> Result<Self, Fault> {
        let len = inner.seek(SeekFrom::End(0))?;
        inner.seek(SeekFrom::Start(0))?;
        Ok(Input { inner: BufReader::with_capacity(1 << 16, inner), pos: 0, len })
    }

    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    pub(crate) fn remaining(&self) -> u64 {
        self.len - self.pos
    }

    fn check(&self, n: u64, what: &str) -> Result<(), Fault> {
        if n > self.remaining() {
            return Err(bad!(
                "truncated: {what} at byte {} needs {n} bytes but the file ends {} bytes later",
                self.pos,
                self.remaining()
            ));
        }
        Ok(())
    }

    pub(crate) fn bytes(&mut self, n: u64, what: &str) -> Result<Vec<u8>, Fault> {
        self.check(n, what)?;
        let n_usize = usize::try_from(n).map_err(|_| bad!("{what} at byte {}: {n} bytes is too long", self.pos))?;
        let mut buf = vec![0u8; n_usize];
        self.inner.read_exact(&mut buf)?;
        self.pos += n;
        Ok(buf)
    }

    pub(crate) fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], Fault> {
        self.check(N as u64, what)?;
        let mut buf = [0u8; N];
        self.inner.read_exact(&mut buf)?;
        self.pos += N as u64;
        Ok(buf)
    }

    fn u8(&mut self, what: &str) -> Result<u8, Fault> {
        Ok(self.array::<1>(what)?[0])
    }

    /// Bytes up to a newline (excluded), at most [`MAX_LINE`] of them.
    fn line(&mut self, what: &str) -> Result<Vec<u8>, Fault> {
        let start = self.pos;
        let mut buf = Vec::new();
        let limit = MAX_LINE.min(self.remaining());
        (&mut self.inner).take(limit).read_until(b'\n', &mut buf)?;
        self.pos += buf.len() as u64;
        if buf.pop() != Some(b'\n') {
            return Err(if buf.len() as u64 >= MAX_LINE {
                bad!("{what} at byte {start}: line longer than {MAX_LINE} bytes")
            } else {
                bad!("truncated: {what} at byte {start} has no end of line before the end of the file")
            });
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        Ok(buf)
    }

    /// The same input without read-ahead: for walking over large blocks of data, where a buffer
    /// would read tens of kilobytes after every seek only to use 8 bytes of them.
    pub(crate) fn unbuffered(self) -> Result<Self, Fault> {
        let (pos, len) = (self.pos, self.len);
        let mut raw = self.inner.into_inner();
        raw.seek(SeekFrom::Start(pos))?;
        Ok(Input { inner: BufReader::with_capacity(0, raw), pos, len })
    }

    /// Moves `n` bytes forward without reading them.
    pub(crate) fn skip(&mut self, n: u64, what: &str) -> Result<(), Fault> {
        self.check(n, what)?;
        let step = i64::try_from(n).map_err(|_| bad!("{what} at byte {}: {n} bytes is too long", self.pos))?;
        self.inner.seek_relative(step)?;
        self.pos += n;
        Ok(())
    }
}

/// Index of a [`Value`] in [`Pickle::values`].
pub(crate) type Id = u32;

/// One unpickled object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    None,
    Bool(bool),
    /// Python ints up to 128 bits (the magic number of torch's legacy format has 80).
    Int(i128),
    /// An int too large for `i128`; its value is not kept.
    HugeInt,
    Float(f64),
    /// Python 3 `str`, and Python 2 `str` when it is valid UTF-8 (as `torch.load` decodes it).
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<Id>),
    List(Vec<Id>),
    Dict(Vec<(Id, Id)>),
    Set(Vec<Id>),
    /// A reference to a global (`GLOBAL`, `STACK_GLOBAL`, `INST`).
    Global {
        module: String,
        name: String,
    },
    /// A recorded call `class(*args)` (`REDUCE`, `NEWOBJ`, `INST`, `OBJ`), with what was done to
    /// the result afterwards: `BUILD` (state), `SETITEM(S)` (items) and `APPEND(S)` (list).
    Object {
        class: Id,
        args: Id,
        state: Option<Id>,
        items: Vec<(Id, Id)>,
        list: Vec<Id>,
    },
    /// A persistent id (`BINPERSID`, `PERSID`): the object it names is resolved by the caller.
    Persistent(Id),
}

/// The result of one pickle: all objects created, the one returned by `STOP`, and every
/// persistent-id object in order of appearance.
#[derive(Debug)]
pub(crate) struct Pickle {
    pub values: Vec<Value>,
    pub root: Id,
    pub persistent: Vec<Id>,
}

impl Pickle {
    /// The value of an id handed out by this pickle (ids are only ever created by the arena, so
    /// they are in range; an out-of-range id reads as `None`).
    pub(crate) fn get(&self, id: Id) -> &Value {
        self.values.get(id as usize).unwrap_or(&Value::None)
    }

    /// A string, or bytes decoded as UTF-8 (lossily); ints as their decimal text.
    pub(crate) fn text(&self, id: Id) -> Option<String> {
        match self.get(id) {
            Value::Str(s) => Some(s.clone()),
            Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }

    /// Whether the value is the string (or bytes) `want`, without copying it.
    pub(crate) fn text_is(&self, id: Id, want: &str) -> bool {
        match self.get(id) {
            Value::Str(s) => s == want,
            Value::Bytes(b) => b == want.as_bytes(),
            _ => false,
        }
    }

    /// The length in bytes of a string or bytes value.
    pub(crate) fn text_len(&self, id: Id) -> Option<usize> {
        match self.get(id) {
            Value::Str(s) => Some(s.len()),
            Value::Bytes(b) => Some(b.len()),
            _ => None,
        }
    }

    pub(crate) fn int(&self, id: Id) -> Option<i128> {
        match self.get(id) {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub(crate) fn global(&self, id: Id) -> Option<(&str, &str)> {
        match self.get(id) {
            Value::Global { module, name } => Some((module, name)),
            _ => None,
        }
    }

    /// The items of a tuple or list.
    pub(crate) fn seq(&self, id: Id) -> Option<&[Id]> {
        match self.get(id) {
            Value::Tuple(v) | Value::List(v) => Some(v),
            _ => None,
        }
    }

    /// The entries of a dict, of an `OrderedDict` (or any recorded object that received items).
    pub(crate) fn dict(&self, id: Id) -> Option<&[(Id, Id)]> {
        match self.get(id) {
            Value::Dict(e) => Some(e),
            Value::Object { class, items, .. } => {
                let dict_class = matches!(
                    self.global(*class),
                    Some(("collections", "OrderedDict" | "defaultdict") | ("builtins" | "__builtin__", "dict"))
                );
                (dict_class || !items.is_empty()).then_some(items.as_slice())
            }
            _ => None,
        }
    }

    /// A short description for error messages (never recursive).
    pub(crate) fn describe(&self, id: Id) -> String {
        match self.get(id) {
            Value::None => "None".into(),
            Value::Bool(b) => format!("bool {b}"),
            Value::Int(i) => format!("int {i}"),
            Value::HugeInt => "a huge int".into(),
            Value::Float(f) => format!("float {f}"),
            Value::Str(s) => format!("str {:?}", truncate(s)),
            Value::Bytes(b) => format!("{} bytes", b.len()),
            Value::Tuple(v) => format!("a tuple of {}", v.len()),
            Value::List(v) => format!("a list of {}", v.len()),
            Value::Dict(v) => format!("a dict of {}", v.len()),
            Value::Set(v) => format!("a set of {}", v.len()),
            Value::Global { module, name } => format!("{}.{}", truncate(module), truncate(name)),
            Value::Object { class, .. } => match self.global(*class) {
                Some((m, n)) => format!("a {}.{} object", truncate(m), truncate(n)),
                None => "an object".into(),
            },
            Value::Persistent(_) => "a persistent id".into(),
        }
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 60 {
        s.chars().take(60).chain("…".chars()).collect()
    } else {
        s.to_string()
    }
}

struct Vm {
    values: Vec<Value>,
    stack: Vec<Id>,
    marks: Vec<usize>,
    memo: HashMap<u64, Id>,
    persistent: Vec<Id>,
}

impl Vm {
    fn new_value(&mut self, v: Value) -> Result<Id, Fault> {
        if self.values.len() >= MAX_VALUES {
            return Err(bad!("the pickle creates more than {MAX_VALUES} objects"));
        }
        let id = self.values.len() as Id;
        self.values.push(v);
        Ok(id)
    }

    fn push(&mut self, v: Value) -> Result<(), Fault> {
        let id = self.new_value(v)?;
        self.stack.push(id);
        Ok(())
    }

    fn floor(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn pop(&mut self, op: &str, at: u64) -> Result<Id, Fault> {
        if self.stack.len() <= self.floor() {
            return Err(bad!("{op} at byte {at} pops from an empty stack"));
        }
        self.stack.pop().ok_or_else(|| bad!("{op} at byte {at} pops from an empty stack"))
    }

    fn top(&self, op: &str, at: u64) -> Result<Id, Fault> {
        match self.stack.last() {
            Some(&id) if self.stack.len() > self.floor() => Ok(id),
            _ => Err(bad!("{op} at byte {at} needs an object on the stack")),
        }
    }

    fn pop_mark(&mut self, op: &str, at: u64) -> Result<Vec<Id>, Fault> {
        let mark = self.marks.pop().ok_or_else(|| bad!("{op} at byte {at} has no matching MARK"))?;
        Ok(self.stack.split_off(mark.min(self.stack.len())))
    }

    fn memo_get(&mut self, key: u64, op: &str, at: u64) -> Result<(), Fault> {
        let id = *self.memo.get(&key).ok_or_else(|| bad!("{op} at byte {at} reads memo entry {key}, never stored"))?;
        self.stack.push(id);
        Ok(())
    }

    fn memo_put(&mut self, key: u64, op: &str, at: u64) -> Result<(), Fault> {
        let id = self.top(op, at)?;
        self.memo.insert(key, id);
        Ok(())
    }

    fn append(&mut self, target: Id, items: Vec<Id>, op: &str, at: u64) -> Result<(), Fault> {
        match self.values.get_mut(target as usize) {
            Some(Value::List(v)) | Some(Value::Object { list: v, .. }) => v.extend(items),
            _ => return Err(bad!("{op} at byte {at} appends to something that is not a list")),
        }
        Ok(())
    }

    fn set_items(&mut self, target: Id, flat: Vec<Id>, op: &str, at: u64) -> Result<(), Fault> {
        if !flat.len().is_multiple_of(2) {
            return Err(bad!("{op} at byte {at} has an odd number of keys and values"));
        }
        let pairs = flat.chunks_exact(2).map(|kv| (kv[0], kv[1]));
        match self.values.get_mut(target as usize) {
            Some(Value::Dict(v)) | Some(Value::Object { items: v, .. }) => v.extend(pairs),
            _ => return Err(bad!("{op} at byte {at} sets items on something that is not a dict")),
        }
        Ok(())
    }

    fn object(&mut self, class: Id, args: Id) -> Result<(), Fault> {
        self.push(Value::Object { class, args, state: None, items: Vec::new(), list: Vec::new() })
    }

    fn int(&mut self, i: i128) -> Result<(), Fault> {
        self.push(Value::Int(i))
    }

    fn text(&mut self, raw: Vec<u8>) -> Result<(), Fault> {
        self.push(match String::from_utf8(raw) {
            Ok(s) => Value::Str(s),
            Err(e) => Value::Bytes(e.into_bytes()),
        })
    }
}

/// A little-endian two's-complement integer (`LONG1`, `LONG4`).
fn long_from_le(bytes: &[u8]) -> Value {
    let negative = bytes.last().is_some_and(|b| b & 0x80 != 0);
    let fill = if negative { 0xff } else { 0 };
    if bytes.len() > 16 && bytes[16..].iter().any(|&b| b != fill) {
        return Value::HugeInt;
    }
    let mut buf = [fill; 16];
    for (dst, src) in buf.iter_mut().zip(bytes) {
        *dst = *src;
    }
    let v = i128::from_le_bytes(buf);
    // Bytes past 16 equal to the fill, but the sign of the 16-byte value must match too.
    if bytes.len() > 16 && (v < 0) != negative {
        return Value::HugeInt;
    }
    Value::Int(v)
}

/// A protocol-0 int (`INT`, `LONG`): decimal text, `L` suffix allowed; `INT` spells bools `00`/`01`.
fn int_from_text(raw: &[u8], op: &str, at: u64) -> Result<Value, Fault> {
    let s = std::str::from_utf8(raw).map_err(|_| bad!("{op} at byte {at}: not an integer"))?;
    let s = s.trim().trim_end_matches('L');
    if op == "INT" && s == "00" {
        return Ok(Value::Bool(false));
    }
    if op == "INT" && s == "01" {
        return Ok(Value::Bool(true));
    }
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad!("{op} at byte {at}: {:?} is not an integer", truncate(s)));
    }
    Ok(s.parse::<i128>().map(Value::Int).unwrap_or(Value::HugeInt))
}

/// A protocol-0 `STRING` argument: a Python bytes literal in quotes.
fn string_from_repr(raw: &[u8], at: u64) -> Result<Vec<u8>, Fault> {
    let inner = match raw {
        [q, inner @ .., q2] if (*q == b'\'' || *q == b'"') && q == q2 => inner,
        _ => return Err(bad!("STRING at byte {at}: argument is not quoted")),
    };
    let mut out = Vec::with_capacity(inner.len());
    let mut it = inner.iter().copied();
    while let Some(b) = it.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        let e = it.next().ok_or_else(|| bad!("STRING at byte {at}: dangling backslash"))?;
        out.push(match e {
            b'\\' | b'\'' | b'"' => e,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'0' => 0,
            b'x' => {
                let mut digit = || it.next().and_then(|d| (d as char).to_digit(16));
                match (digit(), digit()) {
                    (Some(hi), Some(lo)) => (hi * 16 + lo) as u8,
                    _ => return Err(bad!("STRING at byte {at}: bad \\x escape")),
                }
            }
            _ => return Err(bad!("STRING at byte {at}: unsupported escape \\{}", e as char)),
        });
    }
    Ok(out)
}

/// A protocol-0 `UNICODE` argument (raw-unicode-escape: `\uXXXX` and `\UXXXXXXXX`, the rest is
/// Latin-1).
fn unicode_from_raw(raw: &[u8], at: u64) -> Result<String, Fault> {
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        let width = match (b, raw.get(i + 1)) {
            (b'\\', Some(b'u')) => 4,
            (b'\\', Some(b'U')) => 8,
            _ => 0,
        };
        if width == 0 {
            out.push(b as char);
            i += 1;
            continue;
        }
        let hex = raw.get(i + 2..i + 2 + width).ok_or_else(|| bad!("UNICODE at byte {at}: truncated escape"))?;
        let code = std::str::from_utf8(hex)
            .ok()
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32)
            .ok_or_else(|| bad!("UNICODE at byte {at}: bad escape"))?;
        out.push(code);
        i += 2 + width;
    }
    Ok(out)
}

fn length(n: u64, op: &str, at: u64) -> Result<u64, Fault> {
    if n > MAX_STRING {
        return Err(bad!("{op} at byte {at} declares {n} bytes (more than the {MAX_STRING} accepted)"));
    }
    Ok(n)
}

/// Runs one pickle from the input's position through its `STOP`, leaving the input right after it.
pub(crate) fn load<R: Read + Seek>(input: &mut Input<R>) -> Result<Pickle, Fault> {
    let mut vm =
        Vm { values: Vec::new(), stack: Vec::new(), marks: Vec::new(), memo: HashMap::new(), persistent: Vec::new() };
    let mut ops = 0u64;
    loop {
        ops += 1;
        if ops > MAX_OPS {
            return Err(bad!("the pickle runs more than {MAX_OPS} opcodes"));
        }
        let at = input.pos();
        let op = input.u8("a pickle opcode")?;
        match op {
            // PROTO, FRAME: framing is transparent to a reader that does not prefetch.
            0x80 => {
                let proto = input.u8("PROTO")?;
                if proto > 5 {
                    return Err(bad!("PROTO at byte {at}: pickle protocol {proto} is unknown"));
                }
            }
            0x95 => {
                input.array::<8>("FRAME")?;
            }
            b'.' => {
                let root = vm.pop("STOP", at)?;
                return Ok(Pickle { values: vm.values, root, persistent: vm.persistent });
            }
            b'(' => {
                if vm.marks.len() >= MAX_VALUES {
                    return Err(bad!("too many open MARKs"));
                }
                vm.marks.push(vm.stack.len());
            }
            b'0' => {
                // POP: an object, or the mark itself when the stack above it is empty.
                if vm.stack.len() > vm.floor() {
                    vm.stack.pop();
                } else if vm.marks.pop().is_none() {
                    return Err(bad!("POP at byte {at} pops from an empty stack"));
                }
            }
            b'1' => {
                vm.pop_mark("POP_MARK", at)?;
            }
            b'2' => {
                let id = vm.top("DUP", at)?;
                vm.stack.push(id);
            }
            // Constants and numbers.
            b'N' => vm.push(Value::None)?,
            0x88 => vm.push(Value::Bool(true))?,
            0x89 => vm.push(Value::Bool(false))?,
            b'K' => vm.int(i128::from(input.u8("BININT1")?))?,
            b'M' => vm.int(i128::from(u16::from_le_bytes(input.array("BININT2")?)))?,
            b'J' => vm.int(i128::from(i32::from_le_bytes(input.array("BININT")?)))?,
            0x8a => {
                let n = input.u8("LONG1")?;
                let b = input.bytes(u64::from(n), "LONG1")?;
                vm.push(long_from_le(&b))?;
            }
            0x8b => {
                let n = i32::from_le_bytes(input.array("LONG4")?);
                let n = u64::try_from(n).map_err(|_| bad!("LONG4 at byte {at} has a negative length"))?;
                let b = input.bytes(length(n, "LONG4", at)?, "LONG4")?;
                vm.push(long_from_le(&b))?;
            }
            b'I' | b'L' => {
                let name = if op == b'I' { "INT" } else { "LONG" };
                let raw = input.line(name)?;
                vm.push(int_from_text(&raw, name, at)?)?;
            }
            b'G' => vm.push(Value::Float(f64::from_be_bytes(input.array("BINFLOAT")?)))?,
            b'F' => {
                let raw = input.line("FLOAT")?;
                let f = std::str::from_utf8(&raw)
                    .ok()
                    .and_then(|s| s.trim().parse::<f64>().ok())
                    .ok_or_else(|| bad!("FLOAT at byte {at}: not a number"))?;
                vm.push(Value::Float(f))?;
            }
            // Strings and bytes.
            b'X' | 0x8c | 0x8d => {
                let (name, n) = match op {
                    b'X' => ("BINUNICODE", u64::from(u32::from_le_bytes(input.array("BINUNICODE")?))),
                    0x8c => ("SHORT_BINUNICODE", u64::from(input.u8("SHORT_BINUNICODE")?)),
                    _ => ("BINUNICODE8", u64::from_le_bytes(input.array("BINUNICODE8")?)),
                };
                let raw = input.bytes(length(n, name, at)?, name)?;
                vm.push(Value::Str(String::from_utf8_lossy(&raw).into_owned()))?;
            }
            b'V' => {
                let raw = input.line("UNICODE")?;
                vm.push(Value::Str(unicode_from_raw(&raw, at)?))?;
            }
            b'U' | b'T' => {
                let n = if op == b'U' {
                    u64::from(input.u8("SHORT_BINSTRING")?)
                } else {
                    let n = i32::from_le_bytes(input.array("BINSTRING")?);
                    u64::try_from(n).map_err(|_| bad!("BINSTRING at byte {at} has a negative length"))?
                };
                let raw = input.bytes(length(n, "BINSTRING", at)?, "BINSTRING")?;
                vm.text(raw)?;
            }
            b'S' => {
                let raw = input.line("STRING")?;
                vm.text(string_from_repr(&raw, at)?)?;
            }
            b'C' | b'B' | 0x8e | 0x96 => {
                let n = match op {
                    b'C' => u64::from(input.u8("SHORT_BINBYTES")?),
                    b'B' => u64::from(u32::from_le_bytes(input.array("BINBYTES")?)),
                    _ => u64::from_le_bytes(input.array("BINBYTES8")?),
                };
                let raw = input.bytes(length(n, "BINBYTES", at)?, "BINBYTES")?;
                vm.push(Value::Bytes(raw))?;
            }
            0x97 | 0x82..=0x84 => {
                return Err(bad!(
                    "opcode {op:#04x} at byte {at} (out-of-band buffer or extension registry) is unsupported"
                ));
            }
            0x98 => {
                vm.top("READONLY_BUFFER", at)?;
            }
            // Containers.
            b')' => vm.push(Value::Tuple(Vec::new()))?,
            b']' => vm.push(Value::List(Vec::new()))?,
            b'}' => vm.push(Value::Dict(Vec::new()))?,
            0x8f => vm.push(Value::Set(Vec::new()))?,
            b't' => {
                let items = vm.pop_mark("TUPLE", at)?;
                vm.push(Value::Tuple(items))?;
            }
            0x85..=0x87 => {
                let n = usize::from(op - 0x84);
                let mut items = vec![0; n];
                for slot in items.iter_mut().rev() {
                    *slot = vm.pop("TUPLE1/2/3", at)?;
                }
                vm.push(Value::Tuple(items))?;
            }
            b'l' => {
                let items = vm.pop_mark("LIST", at)?;
                vm.push(Value::List(items))?;
            }
            b'd' => {
                let flat = vm.pop_mark("DICT", at)?;
                let id = vm.new_value(Value::Dict(Vec::new()))?;
                vm.set_items(id, flat, "DICT", at)?;
                vm.stack.push(id);
            }
            0x91 => {
                let items = vm.pop_mark("FROZENSET", at)?;
                vm.push(Value::Set(items))?;
            }
            b'a' => {
                let item = vm.pop("APPEND", at)?;
                let target = vm.top("APPEND", at)?;
                vm.append(target, vec![item], "APPEND", at)?;
            }
            b'e' => {
                let items = vm.pop_mark("APPENDS", at)?;
                let target = vm.top("APPENDS", at)?;
                vm.append(target, items, "APPENDS", at)?;
            }
            b's' => {
                let value = vm.pop("SETITEM", at)?;
                let key = vm.pop("SETITEM", at)?;
                let target = vm.top("SETITEM", at)?;
                vm.set_items(target, vec![key, value], "SETITEM", at)?;
            }
            b'u' => {
                let flat = vm.pop_mark("SETITEMS", at)?;
                let target = vm.top("SETITEMS", at)?;
                vm.set_items(target, flat, "SETITEMS", at)?;
            }
            0x90 => {
                let items = vm.pop_mark("ADDITEMS", at)?;
                let target = vm.top("ADDITEMS", at)?;
                match vm.values.get_mut(target as usize) {
                    Some(Value::Set(v)) => v.extend(items),
                    _ => return Err(bad!("ADDITEMS at byte {at} adds to something that is not a set")),
                }
            }
            // Memo.
            b'h' => {
                let key = input.u8("BINGET")?;
                vm.memo_get(u64::from(key), "BINGET", at)?;
            }
            b'j' => {
                let key = u32::from_le_bytes(input.array("LONG_BINGET")?);
                vm.memo_get(u64::from(key), "LONG_BINGET", at)?;
            }
            b'g' | b'p' => {
                let name = if op == b'g' { "GET" } else { "PUT" };
                let raw = input.line(name)?;
                let key = std::str::from_utf8(&raw)
                    .ok()
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .ok_or_else(|| bad!("{name} at byte {at}: bad memo key"))?;
                if op == b'g' {
                    vm.memo_get(key, name, at)?;
                } else {
                    vm.memo_put(key, name, at)?;
                }
            }
            b'q' => {
                let key = input.u8("BINPUT")?;
                vm.memo_put(u64::from(key), "BINPUT", at)?;
            }
            b'r' => {
                let key = u32::from_le_bytes(input.array("LONG_BINPUT")?);
                vm.memo_put(u64::from(key), "LONG_BINPUT", at)?;
            }
            0x94 => {
                let key = vm.memo.len() as u64;
                vm.memo_put(key, "MEMOIZE", at)?;
            }
            // Classes, calls and persistent ids.
            b'c' => {
                let module = input.line("GLOBAL")?;
                let name = input.line("GLOBAL")?;
                vm.push(Value::Global {
                    module: String::from_utf8_lossy(&module).into_owned(),
                    name: String::from_utf8_lossy(&name).into_owned(),
                })?;
            }
            0x93 => {
                let name = vm.pop("STACK_GLOBAL", at)?;
                let module = vm.pop("STACK_GLOBAL", at)?;
                let (Some(Value::Str(module)), Some(Value::Str(name))) =
                    (vm.values.get(module as usize), vm.values.get(name as usize))
                else {
                    return Err(bad!("STACK_GLOBAL at byte {at} needs two strings"));
                };
                let global = Value::Global { module: module.clone(), name: name.clone() };
                vm.push(global)?;
            }
            b'R' | 0x81 => {
                let args = vm.pop("REDUCE", at)?;
                let class = vm.pop("REDUCE", at)?;
                vm.object(class, args)?;
            }
            0x92 => {
                let _kwargs = vm.pop("NEWOBJ_EX", at)?;
                let args = vm.pop("NEWOBJ_EX", at)?;
                let class = vm.pop("NEWOBJ_EX", at)?;
                vm.object(class, args)?;
            }
            b'i' => {
                let module = input.line("INST")?;
                let name = input.line("INST")?;
                let items = vm.pop_mark("INST", at)?;
                let class = vm.new_value(Value::Global {
                    module: String::from_utf8_lossy(&module).into_owned(),
                    name: String::from_utf8_lossy(&name).into_owned(),
                })?;
                let args = vm.new_value(Value::Tuple(items))?;
                vm.object(class, args)?;
            }
            b'o' => {
                let mut items = vm.pop_mark("OBJ", at)?;
                if items.is_empty() {
                    return Err(bad!("OBJ at byte {at} has no class"));
                }
                let class = items.remove(0);
                let args = vm.new_value(Value::Tuple(items))?;
                vm.object(class, args)?;
            }
            b'b' => {
                let state = vm.pop("BUILD", at)?;
                let target = vm.top("BUILD", at)?;
                // Objects keep their state; anything else (an OrderedDict's `_metadata`
                // attribute...) is not needed and is dropped.
                if let Some(Value::Object { state: s, .. }) = vm.values.get_mut(target as usize) {
                    *s = Some(state);
                }
            }
            b'Q' => {
                let pid = vm.pop("BINPERSID", at)?;
                vm.push(Value::Persistent(pid))?;
                if let Some(&id) = vm.stack.last() {
                    vm.persistent.push(id);
                }
            }
            b'P' => {
                let raw = input.line("PERSID")?;
                let pid = vm.new_value(Value::Str(String::from_utf8_lossy(&raw).into_owned()))?;
                vm.push(Value::Persistent(pid))?;
                if let Some(&id) = vm.stack.last() {
                    vm.persistent.push(id);
                }
            }
            _ => return Err(bad!("byte {op:#04x} at byte {at} is not a pickle opcode")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn run(bytes: &[u8]) -> Result<(Pickle, u64), Fault> {
        let mut input = Input::new(Cursor::new(bytes))?;
        let p = load(&mut input)?;
        Ok((p, input.pos()))
    }

    #[test]
    fn protocol_0_text_opcodes() {
        // pickle.dumps({'a': 5, 'b': 12345678901234567890, 'c': [1.5, u'\xe9\u20ac'], 'd': ('x', None)}, 0)
        let bytes = b"(dp0\nVa\np1\nI5\nsVb\np2\nL12345678901234567890L\nsVc\np3\n(lp4\nF1.5\naV\xe9\\u20ac\np5\nasVd\np6\n(S'x'\np7\nNtp8\ns.trailing";
        let (p, end) = run(bytes).unwrap();
        assert_eq!(end as usize, bytes.len() - "trailing".len());
        let d = p.dict(p.root).unwrap();
        assert_eq!(d.len(), 4);
        assert_eq!(p.text(d[0].0).as_deref(), Some("a"));
        assert_eq!(p.int(d[0].1), Some(5));
        assert_eq!(p.int(d[1].1), Some(12345678901234567890));
        let c = p.seq(d[2].1).unwrap();
        assert_eq!(p.get(c[0]), &Value::Float(1.5));
        assert_eq!(p.text(c[1]).as_deref(), Some("é€"));
        let t = p.seq(d[3].1).unwrap();
        assert_eq!(p.text(t[0]).as_deref(), Some("x"));
        assert_eq!(p.get(t[1]), &Value::None);
    }

    #[test]
    fn longs_and_py2_strings() {
        // LONG1 of torch's magic number, SHORT_BINSTRING, a negative LONG1, a huge LONG4
        let mut bytes = vec![0x80, 2, b'(', 0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
        bytes.extend([b'U', 3, b'k', b'e', b'y', 0x8a, 1, 0xff, 0x8b, 20, 0, 0, 0]);
        bytes.extend([1; 20]);
        bytes.extend([b't', b'.']);
        let (p, _) = run(&bytes).unwrap();
        let t = p.seq(p.root).unwrap();
        assert_eq!(p.int(t[0]), Some(0x1950a86a20f9469cfc6c));
        assert_eq!(p.text(t[1]).as_deref(), Some("key"));
        assert_eq!(p.int(t[2]), Some(-1));
        assert_eq!(p.get(t[3]), &Value::HugeInt);
    }

    #[test]
    fn hostile_pickles_fail_cleanly() {
        let cases: &[&[u8]] = &[
            b"",
            b"\x80\x02",
            b"X\xff\xff\xff\xff",                    // 4 GiB string in a few bytes
            b"\x8d\xff\xff\xff\xff\xff\xff\xff\xff", // BINUNICODE8 of 2^64-1
            b"h\x05.",                               // memo entry never stored
            b"j\xff\xff\xff\xff.",
            b"q\x00.",    // BINPUT with empty stack
            b"(t(u.",     // SETITEMS on a tuple
            b"(}K\x01u.", // odd SETITEMS
            b"\x85.",     // TUPLE1 on an empty stack
            b"(.",        // STOP under a mark with nothing on top
            b"}(K\x01t0a.",
            b"\x80\x09.",
            b"\xfe.",
            b"T\xff\xff\xff\xff", // negative BINSTRING length
            b"cmod\n",            // GLOBAL without its second line
            b"S'abc\n.",
        ];
        for case in cases {
            assert!(matches!(run(case), Err(Fault::Bad(_))), "{case:?} was accepted");
        }
        // Deep nesting costs only arena slots: no recursion anywhere, so no stack overflow.
        let mut deep = vec![b']'; 200_000];
        deep.extend(vec![b'a'; 199_999]);
        let mut nested = vec![b'('; 100_000];
        for _ in 0..100_000 {
            nested.extend([b')', b'a']);
        }
        deep.push(b'.');
        assert!(run(&deep).is_ok());
        assert!(run(&nested).is_err());
    }
}
