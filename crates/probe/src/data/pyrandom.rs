//! CPython's `random` module (MT19937, `seed(int)`, `shuffle`, `sample`), so that split orders and
//! training batches pick the same indices as the reference for the same seed.

const N: usize = 624;
const M: usize = 397;

pub struct PyRandom {
    mt: [u32; N],
    index: usize,
}

impl PyRandom {
    /// `random.seed(seed)`: CPython keys MT19937 with the 32-bit words of `abs(seed)`.
    pub fn new(seed: i64) -> Self {
        let mut n = seed.unsigned_abs();
        let mut key = Vec::new();
        while n > 0 {
            key.push(n as u32);
            n >>= 32;
        }
        if key.is_empty() {
            key.push(0);
        }
        Self::from_key(&key)
    }

    /// An unseeded generator (the reference with `seed: null`).
    pub fn from_entropy() -> Self {
        let words: [u32; 4] = rand::random();
        Self::from_key(&words)
    }

    fn from_key(key: &[u32]) -> Self {
        let mut mt = [0u32; N];
        mt[0] = 19_650_218;
        for i in 1..N {
            mt[i] = 1_812_433_253u32.wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_add(i as u32);
        }
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..N.max(key.len()) {
            let prev = mt[i - 1] ^ (mt[i - 1] >> 30);
            mt[i] = (mt[i] ^ prev.wrapping_mul(1_664_525)).wrapping_add(key[j]).wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..N - 1 {
            let prev = mt[i - 1] ^ (mt[i - 1] >> 30);
            mt[i] = (mt[i] ^ prev.wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
        }
        mt[0] = 0x8000_0000;
        Self { mt, index: N }
    }

    fn next_u32(&mut self) -> u32 {
        if self.index >= N {
            for k in 0..N {
                let y = (self.mt[k] & 0x8000_0000) | (self.mt[(k + 1) % N] & 0x7fff_ffff);
                let mag = if y & 1 == 1 { 0x9908_b0df } else { 0 };
                self.mt[k] = self.mt[(k + M) % N] ^ (y >> 1) ^ mag;
            }
            self.index = 0;
        }
        let mut y = self.mt[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `_randbelow(n)`: rejection sampling on `n.bit_length()` bits.
    fn below(&mut self, n: usize) -> usize {
        assert!(n > 0 && n <= 1 << 32, "PyRandom handles ranges up to 2^32");
        let k = usize::BITS - n.leading_zeros();
        loop {
            let r = (self.next_u32() >> (32 - k)) as usize;
            if r < n {
                return r;
            }
        }
    }

    /// `random.shuffle(x)`.
    pub fn shuffle<T>(&mut self, x: &mut [T]) {
        for i in (1..x.len()).rev() {
            let j = self.below(i + 1);
            x.swap(i, j);
        }
    }

    /// `random.sample(range(n), k)`, including CPython's switch between its two algorithms.
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
                let j = self.below(n - i);
                result.push(pool[j]);
                pool[j] = pool[n - i - 1];
            }
        } else {
            let mut selected = std::collections::HashSet::with_capacity(k);
            for _ in 0..k {
                let mut j = self.below(n);
                while !selected.insert(j) {
                    j = self.below(n);
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

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values printed by CPython 3.11 (`random.seed(s); ...`).
    #[test]
    fn matches_cpython() {
        let mut r = PyRandom::new(0);
        let mut v: Vec<usize> = (0..10).collect();
        r.shuffle(&mut v);
        assert_eq!(v, EXPECT_SHUFFLE_0);
        let mut r = PyRandom::new(0);
        assert_eq!(r.sample_indices(1000, 8), EXPECT_SAMPLE_1000_8);
        assert_eq!(r.sample_indices(100, 64)[..8], EXPECT_SAMPLE_100_64_HEAD);
        let mut r = PyRandom::new(-(1i64 << 40) - 7);
        assert_eq!(r.sample_indices(50, 5), EXPECT_SAMPLE_BIG_SEED);
    }

    const EXPECT_SHUFFLE_0: [usize; 10] = [7, 8, 1, 5, 3, 4, 2, 0, 9, 6];
    const EXPECT_SAMPLE_1000_8: [usize; 8] = [864, 394, 776, 911, 430, 41, 265, 988];
    const EXPECT_SAMPLE_100_64_HEAD: [usize; 8] = [65, 62, 51, 38, 61, 45, 74, 27];
    const EXPECT_SAMPLE_BIG_SEED: [usize; 5] = [39, 47, 40, 36, 45];
}
