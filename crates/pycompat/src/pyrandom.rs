//! CPython's `random` module, as far as the reference used it: `random.seed(int)` (MT19937 keyed
//! with the seed's 32-bit words), `random()`, Python 3's `shuffle` and `sample`, and Python 2.7's
//! `shuffle`. The choi reference shuffles its sorted inputs with Python 2 before cutting them into
//! batches (its outputs depend on the batch); the original README's GTZAN example shuffles its
//! features with Python 3; the probes' splits and training batches follow the reference's
//! `random.seed(seed)`. One implementation serves all three.

use rand_mt::Mt;

/// A `random.Random` instance.
pub struct PyRandom {
    mt: Mt,
}

impl PyRandom {
    /// `random.seed(seed)`: MT19937's `init_by_array` over the 32-bit words of `abs(seed)`, least
    /// significant first (`[0]` for 0). Python 2 and 3 seed integers alike.
    pub fn new(seed: i64) -> Self {
        Self::from_u64(seed.unsigned_abs())
    }

    fn from_u64(seed: u64) -> Self {
        let mut key: Vec<u32> = Vec::new();
        let mut rest = seed;
        while rest > 0 {
            key.push(rest as u32);
            rest >>= 32;
        }
        if key.is_empty() {
            key.push(0);
        }
        Self::with_key(&key)
    }

    /// Keyed with arbitrary words (fresh entropy for the reference's unseeded runs).
    pub fn with_key(key: &[u32]) -> Self {
        PyRandom { mt: Mt::new_with_key(key.iter().copied()) }
    }

    /// `random.random()`: 53 random bits from two 32-bit draws (`genrand_res53`).
    pub fn random(&mut self) -> f64 {
        let a = self.mt.next_u32() >> 5;
        let b = self.mt.next_u32() >> 6;
        (f64::from(a) * 67108864.0 + f64::from(b)) * (1.0 / 9007199254740992.0)
    }

    /// Python 3's `getrandbits(k)` for `1 ≤ k ≤ 64`: 32-bit words, least significant first, the
    /// last one shifted right to keep its top bits.
    fn getrandbits(&mut self, k: u32) -> u64 {
        debug_assert!((1..=64).contains(&k));
        if k <= 32 {
            return u64::from(self.mt.next_u32() >> (32 - k));
        }
        let low = u64::from(self.mt.next_u32());
        let high = u64::from(self.mt.next_u32() >> (64 - k));
        (high << 32) | low
    }

    /// Python 3's `_randbelow_with_getrandbits(n)`: `k = n.bit_length()` bits, drawn again while
    /// `≥ n`.
    fn below(&mut self, n: u64) -> u64 {
        let k = u64::BITS - n.leading_zeros();
        loop {
            let r = self.getrandbits(k);
            if r < n {
                return r;
            }
        }
    }

    /// Python 3's `random.shuffle(x)`: swaps `x[i]` with `x[_randbelow(i + 1)]` for `i = n−1 … 1`.
    pub fn shuffle<T>(&mut self, x: &mut [T]) {
        for i in (1..x.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            x.swap(i, j);
        }
    }

    /// Python 2.7's `random.shuffle(x)`: swaps `x[i]` with `x[int(random() * (i + 1))]`.
    pub fn shuffle_python2<T>(&mut self, x: &mut [T]) {
        for i in (1..x.len()).rev() {
            let j = (self.random() * (i + 1) as f64) as usize;
            x.swap(i, j);
        }
    }

    /// Python 3's `random.sample(range(n), k)`, including CPython's switch between its two
    /// algorithms.
    pub fn sample_indices(&mut self, n: usize, k: usize) -> Vec<usize> {
        assert!(k <= n, "sample larger than population");
        let mut setsize = 21usize;
        if k > 5 {
            setsize += 4usize.pow(log4_ceil(3 * k));
        }
        let mut result = Vec::with_capacity(k);
        if n <= setsize {
            let mut pool: Vec<usize> = (0..n).collect();
            for i in 0..k {
                let j = self.below((n - i) as u64) as usize;
                result.push(pool[j]);
                pool[j] = pool[n - i - 1];
            }
        } else {
            let mut selected = std::collections::HashSet::with_capacity(k);
            for _ in 0..k {
                let mut j = self.below(n as u64) as usize;
                while !selected.insert(j) {
                    j = self.below(n as u64) as usize;
                }
                result.push(j);
            }
        }
        result
    }
}

/// `ceil(math.log(x, 4))`, computed as CPython does (`log(x) / log(4)`) so the rounding agrees.
fn log4_ceil(x: usize) -> u32 {
    ((x as f64).ln() / 4f64.ln()).ceil() as u32
}

/// Shuffles `items` in place exactly as Python 2.7 does after `random.seed(seed)`.
pub fn python2_shuffle<T>(items: &mut [T], seed: u64) {
    PyRandom::from_u64(seed).shuffle_python2(items);
}

/// Shuffles `items` in place exactly as Python 3 does after `random.seed(seed)`.
pub fn python3_shuffle<T>(items: &mut [T], seed: u64) {
    PyRandom::from_u64(seed).shuffle(items);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_draws_equal_pythons() {
        // Python: random.seed(0); [random.random() for _ in range(2)]
        let mut r = PyRandom::new(0);
        assert_eq!(r.random(), 0.8444218515250481);
        assert_eq!(r.random(), 0.7579544029403025);
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
        let mut r = PyRandom::new(0);
        let draws: Vec<u64> = [1, 5, 32, 40].iter().map(|&k| r.getrandbits(k)).collect();
        assert_eq!(draws, [1, 12, 3255389356, 463385069186]);
        // random.seed(0); random.randrange(1000), random.randrange(1000)
        let mut r = PyRandom::new(0);
        assert_eq!([r.below(1000), r.below(1000)], [864, 394]);
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

    // Expected values printed by CPython 3.11 (`random.seed(s); ...`).
    #[test]
    fn samples_and_shuffles_match_cpython() {
        let mut r = PyRandom::new(0);
        let mut v: Vec<usize> = (0..10).collect();
        r.shuffle(&mut v);
        assert_eq!(v, [7, 8, 1, 5, 3, 4, 2, 0, 9, 6]);
        let mut r = PyRandom::new(0);
        assert_eq!(r.sample_indices(1000, 8), [864, 394, 776, 911, 430, 41, 265, 988]);
        assert_eq!(r.sample_indices(100, 64)[..8], [65, 62, 51, 38, 61, 45, 74, 27]);
        let mut r = PyRandom::new(-(1i64 << 40) - 7);
        assert_eq!(r.sample_indices(50, 5), [39, 47, 40, 36, 45]);
    }
}
