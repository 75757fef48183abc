//! The harness of the hostile-input property tests (`crates/*/tests/hostile_*.rs`). Each of those
//! test binaries includes this file with `#[path = "…/audio/tests/hostile_harness.rs"] mod harness;`
//! so that they all share one definition of:
//!
//! * **the allocation cap**: a `#[global_allocator]` wrapper around [`System`] that records any
//!   single allocation (or reallocation) above [`ALLOC_CAP`] = 256 MiB on the allocating thread.
//!   [`run_case`] turns such a record into a test failure, so a parser that sizes a buffer by a
//!   lying header field fails the property instead of quietly reserving gigabytes. An allocator
//!   must not unwind, so it only records; requests above [`ALLOC_REFUSE`] = 8 GiB are also refused
//!   (the process then aborts with "memory allocation of N bytes failed", after a note on stderr)
//!   rather than letting a 2-core CI machine swap.
//! * **the hang watchdog**: a background thread aborts the test binary (exit code 101) when one
//!   case has run for more than [`HANG_SECS`] seconds (`HOSTILE_HANG_SECS` overrides), after
//!   saving the input that hung under `$CARGO_TARGET_TMPDIR/hostile/`.
//! * **the mutators**: truncations, bit flips, byte writes, "interesting" integers (0, 2^31, 2^32-1,
//!   2^63, …) written over the header or over the seed's known length/count fields, insertions,
//!   deletions and duplicated ranges, applied to seeds derived from real files.
//!   Set `HOSTILE_ALLOC_BACKTRACE=1` to print where an over-cap allocation was made.
//! * **the configuration**: `cases(n)` honours `PROPTEST_CASES`, and failures persist to
//!   `<crate>/proptest-regressions/<binary>.txt`.
//!
//! Compiled on its own (it is also a test target of `jukemir-audio`), it checks itself.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError};

/// The largest single allocation a parser may make while reading hostile input.
pub const ALLOC_CAP: usize = 256 << 20;
/// Allocations above this are refused (the process aborts) rather than attempted.
pub const ALLOC_REFUSE: usize = 8 << 30;
/// A case running longer than this is a hang: the binary is stopped.
pub const HANG_SECS: u64 = 60;
/// A case that finishes but took longer than this fails as "too slow" (inputs are small).
pub const SLOW_SECS: u64 = 10;

pub struct CappedAlloc;

thread_local! {
    /// The largest allocation above the cap made by this thread since the last [`take_oversized`].
    static OVERSIZED: Cell<usize> = const { Cell::new(0) };
}

/// Set from `HOSTILE_ALLOC_BACKTRACE` by [`run_case`]: print where each over-cap allocation is made.
static PRINT_BACKTRACES: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn admit(size: usize) -> bool {
    if size > ALLOC_CAP {
        let _ = OVERSIZED.try_with(|c| c.set(c.get().max(size)));
        if PRINT_BACKTRACES.swap(false, std::sync::atomic::Ordering::Relaxed) {
            // Debugging aid only (the backtrace allocates, below the cap): re-armed per case.
            eprintln!("hostile harness: allocation of {size} bytes at\n{}", std::backtrace::Backtrace::force_capture());
        }
        if size > ALLOC_REFUSE {
            use std::io::Write;
            let _ = std::io::stderr().write_all(
                b"\nhostile harness: refusing an allocation above 8 GiB (a size taken from a hostile header?)\n",
            );
            return false;
        }
    }
    true
}

unsafe impl GlobalAlloc for CappedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if admit(layout.size()) {
            unsafe { System.alloc(layout) }
        } else {
            std::ptr::null_mut()
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if admit(layout.size()) {
            unsafe { System.alloc_zeroed(layout) }
        } else {
            std::ptr::null_mut()
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if admit(new_size) {
            unsafe { System.realloc(ptr, layout, new_size) }
        } else {
            std::ptr::null_mut()
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CappedAlloc = CappedAlloc;

/// The largest over-cap allocation this thread made since the last call (and resets it).
pub fn take_oversized() -> Option<usize> {
    let n = OVERSIZED.with(|c| c.replace(0));
    (n > 0).then_some(n)
}

/// proptest's configuration: `default_cases` unless `PROPTEST_CASES` says otherwise; failures
/// are persisted to `proptest-regressions/<binary>.txt` in the crate (cargo runs tests there).
pub fn config(regressions: &'static str, default_cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default_cases);
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        // Inputs are built from seeds, never rejected; keep shrinking bounded in time.
        max_shrink_time: 60_000,
        ..Config::default()
    }
}

struct Running {
    target: String,
    started: Instant,
    input: Vec<u8>,
}

fn running() -> &'static Mutex<HashMap<ThreadId, Running>> {
    static RUNNING: OnceLock<Mutex<HashMap<ThreadId, Running>>> = OnceLock::new();
    RUNNING.get_or_init(|| {
        let limit = std::env::var("HOSTILE_HANG_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(HANG_SECS);
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(250));
            let hung = {
                let map = running().lock().unwrap_or_else(|e| e.into_inner());
                map.values()
                    .find(|r| r.started.elapsed() > Duration::from_secs(limit))
                    .map(|r| (r.target.clone(), r.input.clone()))
            };
            if let Some((target, input)) = hung {
                let saved = save_input(&format!("hang-{target}"), &input);
                // Straight to fd 2: this thread inherited a test's output capture, which exit() would lose.
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr(),
                    "\nhostile harness: {target} has been running on one input for more than {limit} s (a hang); \
                     the input is saved as {saved}"
                );
                std::process::exit(101);
            }
        });
        Mutex::new(HashMap::new())
    })
}

/// Saves an input that broke a parser under `$CARGO_TARGET_TMPDIR/hostile/` and returns its
/// path, for copying into `fixtures/hostile/`.
pub fn save_input(name: &str, input: &[u8]) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hostile");
    let _ = std::fs::create_dir_all(&dir);
    let hash = input.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let name: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    let path = dir.join(format!("{name}-{hash:016x}.bin"));
    let _ = std::fs::write(&path, input);
    path.display().to_string()
}

/// Runs one parser call on `input` under the harness: a panic, an allocation above the cap or
/// a slow return becomes a case failure (with the input saved for replay), a hang stops the
/// binary. `target` names the parser and seed in messages.
pub fn run_case<T>(target: &str, input: &[u8], f: impl FnOnce() -> T) -> Result<T, TestCaseError> {
    let me = std::thread::current().id();
    take_oversized();
    if std::env::var_os("HOSTILE_ALLOC_BACKTRACE").is_some() {
        PRINT_BACKTRACES.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    running()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(me, Running { target: target.to_string(), started: Instant::now(), input: input.to_vec() });
    let started = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(f));
    let elapsed = started.elapsed();
    running().lock().unwrap_or_else(|e| e.into_inner()).remove(&me);
    let oversized = take_oversized();
    let fail = |what: String| {
        let saved = save_input(target, input);
        Err(TestCaseError::fail(format!("{target}: {what} (input of {} bytes saved as {saved})", input.len())))
    };
    match outcome {
        Err(payload) => {
            let msg = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "non-string panic payload".into());
            fail(format!("panicked: {msg}"))
        }
        Ok(_) if oversized.is_some() => fail(format!(
            "made a single allocation of {} bytes (cap {ALLOC_CAP}): a size taken from the input unchecked?",
            oversized.unwrap_or(0)
        )),
        Ok(_) if elapsed > Duration::from_secs(SLOW_SECS) => fail(format!("took {elapsed:?} (limit {SLOW_SECS} s)")),
        Ok(out) => Ok(out),
    }
}

/// `Err(message)` unless `message` mentions `label` (the path or name the API was given).
pub fn names(label: &str, message: &str) -> Result<(), TestCaseError> {
    if message.contains(label) {
        Ok(())
    } else {
        Err(TestCaseError::fail(format!("the error does not name {label:?}: {message}")))
    }
}

/// A known integer field of a seed (a length, count, offset or size), for [`Mutation::Lie`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    pub at: usize,
    pub width: u8,
    pub big_endian: bool,
}

impl Field {
    pub fn le(at: usize, width: u8) -> Self {
        Field { at, width, big_endian: false }
    }

    pub fn be(at: usize, width: u8) -> Self {
        Field { at, width, big_endian: true }
    }
}

/// A real file (or a prefix of one) to mutate, with its known fields.
#[derive(Clone)]
pub struct Seed {
    pub name: String,
    pub bytes: Vec<u8>,
    pub fields: Vec<Field>,
}

impl Seed {
    pub fn new(name: impl Into<String>, bytes: Vec<u8>) -> Self {
        Seed { name: name.into(), bytes, fields: Vec::new() }
    }

    pub fn with_fields(mut self, fields: Vec<Field>) -> Self {
        let len = self.bytes.len();
        self.fields = fields.into_iter().filter(|f| f.at + usize::from(f.width) <= len).collect();
        self
    }
}

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} bytes, {} fields)", self.name, self.bytes.len(), self.fields.len())
    }
}

/// One edit of a seed. Positions are [`Index`]es, proportional to the length, so one mutation
/// list applies to any seed and shrinks well.
#[derive(Clone, Debug)]
pub enum Mutation {
    /// Keep only a prefix.
    Truncate(Index),
    FlipBit(Index, u8),
    SetByte(Index, u8),
    /// Write `value` as a `width`-byte integer, in the first 64 bytes when `header`.
    Overwrite {
        at: Index,
        header: bool,
        width: u8,
        value: u64,
        big_endian: bool,
    },
    /// Write `value` into one of the seed's known fields (a lying length/count/offset).
    Lie {
        field: Index,
        value: u64,
    },
    Insert(Index, Vec<u8>),
    Remove(Index, usize),
    /// Copy `len` bytes from `from` over the bytes at `to`.
    Duplicate {
        from: Index,
        to: Index,
        len: usize,
    },
}

/// Values that break arithmetic: zero, one, sign bits, all-ones, powers of two near type limits.
pub fn interesting() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => prop::sample::select(vec![
            0u64,
            1,
            2,
            3,
            4,
            7,
            8,
            0x7f,
            0x80,
            0xff,
            0x100,
            0x7fff,
            0x8000,
            0xffff,
            0x1_0000,
            0x10_0000,
            0x7fff_ffff,
            0x8000_0000,
            0xffff_fffe,
            0xffff_ffff,
            1 << 32,
            1 << 40,
            1 << 48,
            i64::MAX as u64,
            1 << 63,
            u64::MAX - 1,
            u64::MAX,
        ]),
        1 => 0u64..4096,
        1 => any::<u64>(),
    ]
}

pub fn mutation() -> impl Strategy<Value = Mutation> {
    let width = prop::sample::select(vec![1u8, 2, 4, 8]);
    prop_oneof![
        2 => any::<Index>().prop_map(Mutation::Truncate),
        3 => (any::<Index>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(i, v)| Mutation::SetByte(i, v)),
        3 => (any::<Index>(), any::<bool>(), width, interesting(), any::<bool>()).prop_map(
            |(at, header, width, value, big_endian)| Mutation::Overwrite { at, header, width, value, big_endian }
        ),
        4 => (any::<Index>(), interesting()).prop_map(|(field, value)| Mutation::Lie { field, value }),
        1 => (any::<Index>(), vec(any::<u8>(), 1..64)).prop_map(|(i, b)| Mutation::Insert(i, b)),
        1 => (any::<Index>(), 1usize..512).prop_map(|(i, n)| Mutation::Remove(i, n)),
        1 => (any::<Index>(), any::<Index>(), 1usize..512).prop_map(|(from, to, len)| Mutation::Duplicate {
            from,
            to,
            len
        }),
    ]
}

/// One to four mutations.
pub fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    vec(mutation(), 1..=4)
}

fn write_int(bytes: &mut [u8], at: usize, width: u8, value: u64, big_endian: bool) {
    let le = value.to_le_bytes();
    let w = usize::from(width).min(8);
    for k in 0..w {
        let Some(b) = bytes.get_mut(at + k) else { return };
        *b = if big_endian { le[w - 1 - k] } else { le[k] };
    }
}

/// Applies `mutations` to `seed` in order.
pub fn apply(seed: &Seed, mutations: &[Mutation]) -> Vec<u8> {
    let mut b = seed.bytes.clone();
    for m in mutations {
        let len = b.len();
        let pos = |i: &Index| if len == 0 { 0 } else { i.index(len) };
        match m {
            Mutation::Truncate(i) => b.truncate(if len == 0 { 0 } else { i.index(len) }),
            Mutation::FlipBit(i, bit) if len > 0 => b[i.index(len)] ^= 1 << bit,
            Mutation::SetByte(i, v) if len > 0 => b[i.index(len)] = *v,
            Mutation::Overwrite { at, header, width, value, big_endian } if len > 0 => {
                let at = if *header { at.index(len.min(64)) } else { pos(at) };
                write_int(&mut b, at, *width, *value, *big_endian);
            }
            Mutation::Lie { field, value } => {
                match seed.fields.get(if seed.fields.is_empty() { 0 } else { field.index(seed.fields.len()) }) {
                    Some(f) => write_int(&mut b, f.at, f.width, *value, f.big_endian),
                    None if len > 0 => write_int(&mut b, field.index(len.min(64)), 4, *value, false),
                    None => {}
                }
            }
            Mutation::Insert(i, bytes) => {
                let at = if len == 0 { 0 } else { i.index(len + 1) };
                b.splice(at..at, bytes.iter().copied());
            }
            Mutation::Remove(i, n) if len > 0 => {
                let at = i.index(len);
                b.drain(at..(at + n).min(len));
            }
            Mutation::Duplicate { from, to, len: n } if len > 0 => {
                let (from, to) = (from.index(len), to.index(len));
                let n = (*n).min(len - from).min(len - to);
                b.copy_within(from..from + n, to);
            }
            _ => {}
        }
    }
    b
}

/// Random bytes, half of them behind one of `magics` (so they reach past format detection).
pub fn random_bytes(magics: Vec<Vec<u8>>, max_len: usize) -> impl Strategy<Value = Vec<u8>> {
    let magics = if magics.is_empty() { vec![Vec::new()] } else { magics };
    (prop::sample::select(magics), any::<bool>(), vec(any::<u8>(), 0..max_len)).prop_map(|(magic, use_magic, tail)| {
        if use_magic {
            magic.into_iter().chain(tail).collect()
        } else {
            tail
        }
    })
}

/// The length, count and offset fields of a zip archive: every local header (sizes, CRC, name and
/// extra lengths), central directory record (the same, plus the local header offset) and
/// end-of-central-directory record (entry counts, directory size and offset, comment length),
/// zip64 records included.
pub fn zip_fields(b: &[u8]) -> Vec<Field> {
    let mut f = Vec::new();
    for p in 0..b.len().saturating_sub(4) {
        match &b[p..p + 4] {
            b"PK\x03\x04" => f.extend(
                [14, 18, 22].map(|o| Field::le(p + o, 4)).into_iter().chain([26, 28].map(|o| Field::le(p + o, 2))),
            ),
            b"PK\x01\x02" => f.extend(
                [16, 20, 24, 42]
                    .map(|o| Field::le(p + o, 4))
                    .into_iter()
                    .chain([28, 30, 32, 34].map(|o| Field::le(p + o, 2))),
            ),
            b"PK\x05\x06" => f.extend(
                [8, 10, 20].map(|o| Field::le(p + o, 2)).into_iter().chain([12, 16].map(|o| Field::le(p + o, 4))),
            ),
            b"PK\x06\x06" => f.extend([24, 32, 40, 48].map(|o| Field::le(p + o, 8))),
            b"PK\x06\x07" => f.extend([Field::le(p + 8, 8), Field::le(p + 16, 4)]),
            _ => {}
        }
    }
    f
}

/// Replays every file of `fixtures/hostile/<dir>/` (inputs that once broke a parser) through `f`
/// under the harness; returns how many there were.
pub fn replay_fixtures(dir: &str, mut f: impl FnMut(&str, &[u8]) -> Result<(), TestCaseError>) -> usize {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/hostile").join(dir);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&root) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect(),
        Err(_) => return 0,
    };
    files.sort();
    for path in &files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        if name.ends_with(".md") {
            continue;
        }
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if let Err(e) = f(&name, &bytes) {
            panic!("fixtures/hostile/{dir}/{name} breaks the parser again: {e}");
        }
    }
    files.len()
}

#[cfg(test)]
mod harness_self_test {
    use super::*;
    use proptest::strategy::ValueTree;

    #[test]
    fn oversized_allocations_are_caught() {
        let r = run_case("self-test", b"x", || {
            let v: Vec<u8> = Vec::with_capacity(ALLOC_CAP + 1);
            v.capacity()
        });
        assert!(r.is_err(), "a 256 MiB + 1 allocation must fail the case");
        let ok = run_case("self-test", b"x", || vec![0u8; 1 << 20].len());
        assert_eq!(ok.ok(), Some(1 << 20));
    }

    #[test]
    fn panics_are_failures_not_crashes() {
        let r: Result<(), _> = run_case("self-test", b"x", || panic!("boom"));
        assert!(format!("{:?}", r.unwrap_err()).contains("boom"));
    }

    #[test]
    fn mutations_stay_in_bounds() {
        let seed = Seed::new("s", (0..100u8).collect()).with_fields(vec![Field::le(4, 4), Field::be(98, 4)]);
        assert_eq!(seed.fields.len(), 1, "fields past the end are dropped");
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        for _ in 0..2000 {
            let m = mutations().new_tree(&mut runner).unwrap().current();
            let out = apply(&seed, &m);
            assert!(out.len() <= 100 + 4 * 64);
            let _ = apply(&Seed::new("empty", Vec::new()), &m);
        }
    }
}
