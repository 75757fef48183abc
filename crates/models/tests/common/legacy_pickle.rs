//! PyTorch's legacy (pre-1.6) checkpoint format built byte by byte from pickle opcodes, for the
//! cases torch itself never writes: lying storage sizes, offsets, shapes and strides.

#![allow(dead_code)] // each test binary uses its own part

pub fn s(x: &str) -> Vec<u8> {
    let mut v = vec![b'X'];
    v.extend((x.len() as u32).to_le_bytes());
    v.extend(x.as_bytes());
    v
}

pub fn int(i: i64) -> Vec<u8> {
    let mut v = vec![0x8a, 8];
    v.extend(i.to_le_bytes());
    v
}

pub fn tuple(items: &[Vec<u8>]) -> Vec<u8> {
    let mut v = vec![b'('];
    items.iter().for_each(|i| v.extend(i));
    v.push(b't');
    v
}

pub fn ints(xs: &[i64]) -> Vec<u8> {
    tuple(&xs.iter().map(|&x| int(x)).collect::<Vec<_>>())
}

pub fn tensor(class: &str, key: &str, numel: i64, offset: i64, shape: &[i64], strides: &[i64]) -> Vec<u8> {
    let mut v = b"ctorch._utils\n_rebuild_tensor_v2\n".to_vec();
    let pid =
        tuple(&[s("storage"), format!("ctorch\n{class}\n").into_bytes(), s(key), s("cpu"), int(numel), b"N".to_vec()]);
    let mut storage = pid;
    storage.push(b'Q');
    v.extend(tuple(&[storage, int(offset), ints(shape), ints(strides), vec![0x89], b"}".to_vec()]));
    v.push(b'R');
    v
}

pub fn legacy(entries: &[(&str, Vec<u8>)], keys: &[&str], data: &[(i64, Vec<u8>)], sys_info: &[u8]) -> Vec<u8> {
    let mut f = vec![0x80, 2, 0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, b'.'];
    f.extend([0x80, 2, b'M', 0xe9, 0x03, b'.']);
    f.extend(sys_info);
    f.extend([0x80, 2, b'}', b'(']);
    for (k, v) in entries {
        f.extend(s(k));
        f.extend(v);
    }
    f.extend([b'u', b'.']);
    f.extend([0x80, 2, b'(']);
    keys.iter().for_each(|k| f.extend(s(k)));
    f.extend([b'l', b'.']);
    for (count, bytes) in data {
        f.extend(count.to_le_bytes());
        f.extend(bytes);
    }
    f
}

pub const SYS_INFO: &[u8] = b"\x80\x02}.";
