//! Packed bit vectors: the stacked bit tensor b (`PROTOCOL.md` §3) and its used mask, one bit per
//! entry instead of one 32-byte field element.
//!
//! Entry `i` is bit `i mod 64` (least significant first) of word `⌊i / 64⌋`. At the paper network's
//! scale b has `2^30` entries: 128 MiB packed, 32 GiB as field elements. The prover keeps b packed and
//! works on it with additions selected by bits (commitment by subset sums, row combinations, weighted
//! sums) and with lookup tables (the first rounds of the bit sumcheck).

use rayon::prelude::*;

use crate::Fr;

/// A fixed-length vector of bits.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct BitVector {
    words: Vec<u64>,
    len: usize,
}

impl BitVector {
    /// `len` zero bits.
    pub fn zeros(len: usize) -> Self {
        Self { words: vec![0; len.div_ceil(64)], len }
    }

    /// The bits `f(0) … f(len − 1)`, computed in parallel, 64 per task item.
    pub fn from_fn(len: usize, f: impl Fn(usize) -> bool + Sync) -> Self {
        let words = (0..len.div_ceil(64))
            .into_par_iter()
            .map(|w| {
                let start = w * 64;
                let end = (start + 64).min(len);
                (start..end).fold(0u64, |word, i| word | (u64::from(f(i)) << (i - start)))
            })
            .collect();
        Self { words, len }
    }

    /// From whole words (bits past `len` must be zero).
    ///
    /// # Panics
    /// If the number of words does not fit `len`, or a bit past `len` is set.
    pub fn from_words(words: Vec<u64>, len: usize) -> Self {
        assert_eq!(words.len(), len.div_ceil(64), "{} words for {len} bits", words.len());
        if len % 64 != 0 {
            assert_eq!(words[len / 64] >> (len % 64), 0, "bits set past the end");
        }
        Self { words, len }
    }

    /// The bits of an iterator, in order.
    pub fn from_bools(bits: impl IntoIterator<Item = bool>) -> Self {
        let mut out = Self::default();
        for b in bits {
            out.push(b);
        }
        out
    }

    /// Appends a bit.
    pub fn push(&mut self, bit: bool) {
        if self.len % 64 == 0 {
            self.words.push(0);
        }
        self.words[self.len / 64] |= u64::from(bit) << (self.len % 64);
        self.len += 1;
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.words.capacity() * 8
    }

    /// The number of bits.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no bits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bit `i`.
    ///
    /// # Panics
    /// If `i` is out of range.
    #[inline]
    pub fn get(&self, i: usize) -> bool {
        assert!(i < self.len, "bit {i} of {}", self.len);
        (self.words[i / 64] >> (i % 64)) & 1 == 1
    }

    /// Sets bit `i` to `value`.
    ///
    /// # Panics
    /// If `i` is out of range.
    pub fn set(&mut self, i: usize, value: bool) {
        assert!(i < self.len, "bit {i} of {}", self.len);
        let mask = 1u64 << (i % 64);
        if value {
            self.words[i / 64] |= mask;
        } else {
            self.words[i / 64] &= !mask;
        }
    }

    /// The packed words.
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    /// The number of set bits.
    pub fn count_ones(&self) -> usize {
        self.words.par_iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The bits `[start, start + len)` as words (bit `k` of the result is bit `start + k`), for
    /// `start` a multiple of 64 or `len ≤ 64` within one word pair.
    pub fn range_words(&self, start: usize, len: usize) -> impl Iterator<Item = u64> + '_ {
        let shift = start % 64;
        let first = start / 64;
        (0..len.div_ceil(64)).map(move |k| {
            let low = self.words.get(first + k).copied().unwrap_or(0) >> shift;
            let high = if shift == 0 { 0 } else { self.words.get(first + k + 1).copied().unwrap_or(0) << (64 - shift) };
            let word = low | high;
            let remaining = len - 64 * k;
            if remaining >= 64 {
                word
            } else {
                word & ((1u64 << remaining) - 1)
            }
        })
    }

    /// Calls `f(k)` for every set bit `k` of `[start, start + len)`, `k` relative to `start`.
    #[inline]
    pub fn for_each_one(&self, start: usize, len: usize, mut f: impl FnMut(usize)) {
        for (w, mut word) in self.range_words(start, len).enumerate() {
            while word != 0 {
                let bit = word.trailing_zeros() as usize;
                f(64 * w + bit);
                word &= word - 1;
            }
        }
    }
}

/// Words per page of a [`PagedBits`]: 4096 bits.
pub const PAGE_WORDS: usize = 64;

/// Tag of a page of zeros (`ZERO_PAGE` in `kernels/src/cl/bits.cl`).
const ZERO_PAGE: u32 = u32::MAX;
/// Tag of a page of ones (`ONE_PAGE` in `kernels/src/cl/bits.cl`).
const ONE_PAGE: u32 = u32::MAX - 1;

/// A fixed-length vector of bits held by pages of 4096: a page of all zeros or all ones is a 4-byte
/// tag, any other page its 64 words. The used indicator of b is runs of ones (a row's used columns,
/// a chunk's used planes) and zeros (padding): at the paper network's T = 64, 2^33 bits that take
/// 1 GiB packed and a few MiB paged.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PagedBits {
    /// Per page: [`ZERO_PAGE`], [`ONE_PAGE`] or the index of its words in `mixed`.
    pages: Vec<u32>,
    mixed: Vec<[u64; PAGE_WORDS]>,
    len: usize,
}

impl PagedBits {
    /// The bits of `pages` (each [`PAGE_WORDS`] words, the last zero past `len`), paged.
    ///
    /// # Panics
    /// If there are not `⌈len / 4096⌉` pages, or more than 2^32 − 2 mixed ones.
    pub fn from_pages(pages: impl IntoIterator<Item = [u64; PAGE_WORDS]>, len: usize) -> Self {
        let mut paged = Self { pages: Vec::new(), mixed: Vec::new(), len };
        for page in pages {
            paged.push_page(page);
        }
        assert_eq!(paged.pages.len(), len.div_ceil(64 * PAGE_WORDS), "pages of {len} bits");
        paged
    }

    /// Appends a page (its tag, or its words when mixed).
    fn push_page(&mut self, page: [u64; PAGE_WORDS]) {
        let tag = if page.iter().all(|&w| w == 0) {
            ZERO_PAGE
        } else if page.iter().all(|&w| w == u64::MAX) {
            ONE_PAGE
        } else {
            self.mixed.push(page);
            u32::try_from(self.mixed.len() - 1).ok().filter(|&i| i < ONE_PAGE).expect("fewer than 2^32 − 2 mixed pages")
        };
        self.pages.push(tag);
    }

    /// Appends the pages of `other` (this vector's length a whole number of pages).
    ///
    /// # Panics
    /// If this vector does not end on a page boundary.
    pub fn append(&mut self, other: PagedBits) {
        assert_eq!(self.len, self.pages.len() * 64 * PAGE_WORDS, "appending after a partial page");
        let base = self.mixed.len() as u32;
        self.pages.extend(other.pages.iter().map(|&t| if t >= ONE_PAGE { t } else { t + base }));
        self.mixed.extend(other.mixed);
        self.len += other.len;
    }

    /// The bits of a packed vector, paged.
    pub fn from_bit_vector(bits: &BitVector) -> Self {
        let pages = bits.words().chunks(PAGE_WORDS).map(|chunk| {
            let mut page = [0u64; PAGE_WORDS];
            page[..chunk.len()].copy_from_slice(chunk);
            page
        });
        Self::from_pages(pages, bits.len())
    }

    /// The number of bits.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no bits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Per page its tag ([`ZERO_PAGE`], [`ONE_PAGE`]) or the index of its words in the second slice,
    /// the mixed pages.
    pub(crate) fn pages(&self) -> (&[u32], &[[u64; PAGE_WORDS]]) {
        (&self.pages, &self.mixed)
    }

    /// Word `i` (entries `64i … 64i + 63`); zero past the end.
    #[inline]
    pub fn word(&self, i: usize) -> u64 {
        match self.pages.get(i / PAGE_WORDS) {
            None | Some(&ZERO_PAGE) => 0,
            Some(&ONE_PAGE) => u64::MAX,
            Some(&m) => self.mixed[m as usize][i % PAGE_WORDS],
        }
    }

    /// Entry `i`.
    pub fn get(&self, i: usize) -> bool {
        (self.word(i / 64) >> (i % 64)) & 1 == 1
    }

    /// The number of ones.
    pub fn count_ones(&self) -> usize {
        let ones = self.pages.iter().filter(|&&t| t == ONE_PAGE).count() * 64 * PAGE_WORDS;
        ones + self.mixed.iter().flatten().map(|w| w.count_ones() as usize).sum::<usize>()
    }

    /// Bytes on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.pages.capacity() * 4 + self.mixed.capacity() * 8 * PAGE_WORDS
    }
}

/// The subset sums of at most eight weights, the byte table of a bit mask: `table[v]` is the sum of
/// `group[i]` over the set bits `i` of `v`, for `v < 2^group.len()` (`table[0]`, the empty sum, is left
/// as it is: zero in a zeroed table). One addition per entry.
///
/// # Panics
/// If `table` has fewer than `2^group.len()` entries.
pub fn fill_byte_subset_sums(group: &[Fr], table: &mut [Fr]) {
    for v in 1..1usize << group.len() {
        table[v] = table[v & (v - 1)] + group[v.trailing_zeros() as usize];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip_through_words_and_ranges() {
        let f = |i: usize| (i * 7 + i / 3) % 5 == 1;
        let v = BitVector::from_fn(1000, f);
        assert_eq!(v.len(), 1000);
        for i in 0..1000 {
            assert_eq!(v.get(i), f(i), "bit {i}");
        }
        assert_eq!(v.count_ones(), (0..1000).filter(|&i| f(i)).count());
        for (start, len) in [(0, 1000), (3, 100), (64, 64), (130, 7), (999, 1), (500, 0)] {
            let mut ones = Vec::new();
            v.for_each_one(start, len, |k| ones.push(start + k));
            let expected: Vec<usize> = (start..start + len).filter(|&i| f(i)).collect();
            assert_eq!(ones, expected, "range {start}+{len}");
        }
        let mut w = v.clone();
        w.set(5, !v.get(5));
        assert_ne!(w, v);
        assert_eq!(BitVector::from_words(v.words().to_vec(), 1000), v);
        assert_eq!(BitVector::from_bools((0..1000).map(f)), v);
        assert_eq!(BitVector::zeros(1000).heap_bytes(), 16 * 8);
    }

    #[test]
    fn paged_bits_read_as_the_packed_bits() {
        // Pages of zeros, of ones, mixed, and a partial last page.
        let len = 5 * 4096 + 100;
        let f = |i: usize| match i / 4096 {
            0 => false,
            1 | 3 => true,
            2 => i % 3 == 0,
            _ => i % 7 < 3,
        };
        let packed = BitVector::from_fn(len, f);
        let paged = PagedBits::from_bit_vector(&packed);
        assert_eq!(paged.len(), len);
        assert_eq!(paged.mixed.len(), 3, "three mixed pages (one partial), two of ones, one of zeros");
        for i in 0..len {
            assert_eq!(paged.get(i), f(i), "bit {i}");
        }
        for w in 0..packed.words().len() + 70 {
            assert_eq!(paged.word(w), packed.words().get(w).copied().unwrap_or(0), "word {w}");
        }
        let (head, tail) = (BitVector::from_fn(2 * 4096, f), BitVector::from_fn(len - 2 * 4096, |i| f(i + 2 * 4096)));
        let mut joined = PagedBits::from_bit_vector(&head);
        joined.append(PagedBits::from_bit_vector(&tail));
        assert_eq!(joined, paged);
    }
}
