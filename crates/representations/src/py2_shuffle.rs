//! Python 2.7's `random.seed(seed); random.shuffle(x)`, which the choi reference applies to its
//! sorted input paths before cutting them into batches (its outputs depend on the batch), and
//! Python 3's, which the original jukemir README's GTZAN example applies to its feature paths.

use rand_mt::Mt;

/// Python's `random.random()`: 53 random bits from two 32-bit draws (`genrand_res53`).
fn random(mt: &mut Mt) -> f64 {
    let a = mt.next_u32() >> 5;
    let b = mt.next_u32() >> 6;
    (f64::from(a) * 67108864.0 + f64::from(b)) * (1.0 / 9007199254740992.0)
}

/// Python's `random.seed(seed)` for a non-negative integer (the same in Python 2 and 3): the seed's
/// 32-bit words, least significant first (`[0]` for 0), through `init_by_array`.
fn seeded(seed: u64) -> Mt {
    let mut key: Vec<u32> = Vec::new();
    let mut rest = seed;
    while rest > 0 {
        key.push(rest as u32);
        rest >>= 32;
    }
    if key.is_empty() {
        key.push(0);
    }
    Mt::new_with_key(key)
}

/// Shuffles `items` in place exactly as Python 2.7 does after `random.seed(seed)`.
///
/// Python 2 seeds from an integer by splitting its absolute value into 32-bit words (0 gives the
/// key `[0]`) and calling `init_by_array`; its `shuffle` then swaps `x[i]` with
/// `x[int(random() * (i + 1))]` for `i = n−1 … 1`. (Python 3 seeds the same way but shuffles
/// with `_randbelow`, so its order differs.)
pub fn python2_shuffle<T>(items: &mut [T], seed: u64) {
    let mut mt = seeded(seed);
    for i in (1..items.len()).rev() {
        let j = (random(&mut mt) * (i + 1) as f64) as usize;
        items.swap(i, j);
    }
}

/// Python 3's `getrandbits(k)` for `1 ≤ k ≤ 64`: 32-bit words, least significant first, the last
/// one shifted right to keep its top bits.
fn getrandbits(mt: &mut Mt, k: u32) -> u64 {
    debug_assert!((1..=64).contains(&k));
    if k <= 32 {
        return u64::from(mt.next_u32() >> (32 - k));
    }
    let low = u64::from(mt.next_u32());
    let high = u64::from(mt.next_u32() >> (64 - k));
    (high << 32) | low
}

/// Python 3's `_randbelow_with_getrandbits(n)`: `k = n.bit_length()` bits, drawn again while `≥ n`.
fn randbelow(mt: &mut Mt, n: u64) -> u64 {
    let k = u64::BITS - n.leading_zeros();
    loop {
        let r = getrandbits(mt, k);
        if r < n {
            return r;
        }
    }
}

/// Shuffles `items` in place exactly as Python 3 does after `random.seed(seed)`.
///
/// The generator is seeded as in Python 2 (`init_by_array` over the 32-bit words of the seed,
/// `[0]` for 0); `shuffle` then swaps `x[i]` with `x[_randbelow(i + 1)]` for `i = n−1 … 1`.
pub fn python3_shuffle<T>(items: &mut [T], seed: u64) {
    let mut mt = seeded(seed);
    for i in (1..items.len()).rev() {
        let j = randbelow(&mut mt, i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_draws_equal_pythons() {
        // Python: random.seed(0); [random.random() for _ in range(2)]
        let mut mt = Mt::new_with_key([0u32]);
        assert_eq!(random(&mut mt), 0.8444218515250481);
        assert_eq!(random(&mut mt), 0.7579544029403025);
    }

    #[test]
    fn permutations_equal_python2s() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/choi/py2_shuffle_seed0.json");
        let fixture: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let permutations = fixture["permutations"].as_object().unwrap();
        assert!(permutations.len() >= 8);
        for (n, expected) in permutations {
            let n: usize = n.parse().unwrap();
            let mut items: Vec<usize> = (0..n).collect();
            python2_shuffle(&mut items, 0);
            let expected: Vec<usize> =
                expected.as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
            assert_eq!(items, expected, "n = {n}");
        }
    }

    #[test]
    fn first_draws_equal_python3s() {
        // Python 3: random.seed(0); [random.getrandbits(k) for k in (1, 5, 32, 40)]
        let mut mt = Mt::new_with_key([0u32]);
        let draws: Vec<u64> = [1, 5, 32, 40].iter().map(|&k| getrandbits(&mut mt, k)).collect();
        assert_eq!(draws, [1, 12, 3255389356, 463385069186]);
        // random.seed(0); random.randrange(1000), random.randrange(1000)
        let mut mt = Mt::new_with_key([0u32]);
        assert_eq!([randbelow(&mut mt, 1000), randbelow(&mut mt, 1000)], [864, 394]);
        // A seed of two 32-bit words: random.seed(2**40 + 5); random.shuffle(list(range(10)))
        let mut items: Vec<usize> = (0..10).collect();
        python3_shuffle(&mut items, (1 << 40) + 5);
        assert_eq!(items, [1, 2, 3, 6, 7, 0, 5, 4, 9, 8]);
    }

    #[test]
    fn permutations_equal_python3s() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/svm/py3_shuffle_seed0.json");
        let fixture: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let permutations = fixture["permutations"].as_object().unwrap();
        assert!(permutations.contains_key("1000"));
        for (n, expected) in permutations {
            let n: usize = n.parse().unwrap();
            let mut items: Vec<usize> = (0..n).collect();
            python3_shuffle(&mut items, 0);
            let expected: Vec<usize> =
                expected.as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
            assert_eq!(items, expected, "n = {n}");
        }
    }
}
