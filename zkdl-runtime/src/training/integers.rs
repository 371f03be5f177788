//! Compact storage of the witness's integers.
//!
//! Every value of a training run is a signed integer (`PROTOCOL.md` §1: the field element v mod p of a
//! signed v). The witness keeps them as integers, never as 32-byte field elements: each tensor in the
//! narrowest of i32, i64 and i128 that holds all its entries ([`IntVec`]), and bit tensors packed 64
//! to a word ([`crate::crypto::bits::BitVector`]). The prover converts entries to field elements as it consumes them.

use rayon::prelude::*;

/// A tensor's entries in the narrowest of i32, i64 and i128 that holds every one of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntVec {
    I32(Vec<i32>),
    I64(Vec<i64>),
    I128(Vec<i128>),
}

/// The integer width an [`IntVec`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IntWidth {
    I32,
    I64,
    I128,
}

impl IntWidth {
    /// The narrowest width holding every value of magnitude at most `max_abs`-ish: values in
    /// [min, max] are held when both ends are.
    pub fn for_range(min: i128, max: i128) -> IntWidth {
        if min >= i32::MIN as i128 && max <= i32::MAX as i128 {
            IntWidth::I32
        } else if min >= i64::MIN as i128 && max <= i64::MAX as i128 {
            IntWidth::I64
        } else {
            IntWidth::I128
        }
    }
    pub fn bytes(self) -> usize {
        match self {
            IntWidth::I32 => 4,
            IntWidth::I64 => 8,
            IntWidth::I128 => 16,
        }
    }
}

impl IntVec {
    /// Stores `values` in the narrowest width that holds them all.
    pub fn from_i128(values: &[i128]) -> IntVec {
        let (min, max) = min_max(values.iter().copied());
        match IntWidth::for_range(min, max) {
            IntWidth::I32 => IntVec::I32(values.iter().map(|&v| v as i32).collect()),
            IntWidth::I64 => IntVec::I64(values.iter().map(|&v| v as i64).collect()),
            IntWidth::I128 => IntVec::I128(values.to_vec()),
        }
    }

    /// Stores `values` in the narrowest width that holds them all.
    pub fn from_i64(values: Vec<i64>) -> IntVec {
        let (min, max) = min_max(values.iter().map(|&v| v as i128));
        match IntWidth::for_range(min, max) {
            IntWidth::I32 => IntVec::I32(values.iter().map(|&v| v as i32).collect()),
            _ => IntVec::I64(values),
        }
    }

    pub fn zeros(len: usize) -> IntVec {
        IntVec::I32(vec![0; len])
    }

    pub fn len(&self) -> usize {
        match self {
            IntVec::I32(v) => v.len(),
            IntVec::I64(v) => v.len(),
            IntVec::I128(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn width(&self) -> IntWidth {
        match self {
            IntVec::I32(_) => IntWidth::I32,
            IntVec::I64(_) => IntWidth::I64,
            IntVec::I128(_) => IntWidth::I128,
        }
    }

    /// Entry `i`. Panics when `i` is out of bounds, like slice indexing.
    #[inline]
    pub fn get(&self, i: usize) -> i128 {
        match self {
            IntVec::I32(v) => v[i] as i128,
            IntVec::I64(v) => v[i] as i128,
            IntVec::I128(v) => v[i],
        }
    }

    /// Overwrites entry `i`, widening the storage if `value` does not fit (used by tests that corrupt a
    /// witness).
    pub fn set(&mut self, i: usize, value: i128) {
        let fits = match self {
            IntVec::I32(_) => IntWidth::for_range(value, value) == IntWidth::I32,
            IntVec::I64(_) => IntWidth::for_range(value, value) <= IntWidth::I64,
            IntVec::I128(_) => true,
        };
        if !fits {
            *self = IntVec::I128(self.to_i128());
        }
        match self {
            IntVec::I32(v) => v[i] = value as i32,
            IntVec::I64(v) => v[i] = value as i64,
            IntVec::I128(v) => v[i] = value,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = i128> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    pub fn to_i128(&self) -> Vec<i128> {
        self.iter().collect()
    }

    /// The entries as i64, or `None` if one does not fit.
    pub fn to_i64(&self) -> Option<Vec<i64>> {
        match self {
            IntVec::I32(v) => Some(v.iter().map(|&x| x as i64).collect()),
            IntVec::I64(v) => Some(v.clone()),
            IntVec::I128(v) => v.iter().map(|&x| i64::try_from(x).ok()).collect(),
        }
    }

    /// self − other, entry by entry, in i64 when both are at most i64 and no difference overflows it.
    pub fn difference(&self, other: &IntVec) -> IntVec {
        assert_eq!(self.len(), other.len(), "difference of tensors of different lengths");
        if let (Some(a), Some(b)) = (self.as_i64_slice(), other.as_i64_slice()) {
            let out: Option<Vec<i64>> = a.par_iter().zip(b.par_iter()).map(|(x, y)| x.checked_sub(*y)).collect();
            if let Some(out) = out {
                return IntVec::from_i64(out);
            }
        }
        IntVec::from_i128(&(0..self.len()).into_par_iter().map(|i| self.get(i) - other.get(i)).collect::<Vec<_>>())
    }

    /// `self − 2^shift · other`, elementwise (U1 under a learning-rate schedule; `shift` 0 is
    /// [`difference`](Self::difference)). The caller bounds the result below 2^127.
    pub fn difference_shifted(&self, other: &IntVec, shift: u32) -> IntVec {
        if shift == 0 {
            return self.difference(other);
        }
        assert_eq!(self.len(), other.len(), "difference of tensors of different lengths");
        IntVec::from_i128(
            &(0..self.len()).into_par_iter().map(|i| self.get(i) - (other.get(i) << shift)).collect::<Vec<_>>(),
        )
    }

    /// The entries as an i64 slice, borrowing when stored as i64 (i32 entries are widened into a copy).
    fn as_i64_slice(&self) -> Option<std::borrow::Cow<'_, [i64]>> {
        match self {
            IntVec::I32(v) => Some(std::borrow::Cow::Owned(v.iter().map(|&x| x as i64).collect())),
            IntVec::I64(v) => Some(std::borrow::Cow::Borrowed(v)),
            IntVec::I128(_) => None,
        }
    }

    /// `s ⊙ self`: entry i where bit i of `sign` is set, else 0 (ReLU's A = s ⊙ Z', G = s ⊙ H').
    pub fn masked(&self, sign: &crate::crypto::bits::BitVector) -> IntVec {
        let keep = |i: usize| sign.get(i);
        match self {
            IntVec::I32(v) => IntVec::I32(v.iter().enumerate().map(|(i, &x)| if keep(i) { x } else { 0 }).collect()),
            IntVec::I64(v) => IntVec::I64(v.iter().enumerate().map(|(i, &x)| if keep(i) { x } else { 0 }).collect()),
            IntVec::I128(v) => IntVec::I128(v.iter().enumerate().map(|(i, &x)| if keep(i) { x } else { 0 }).collect()),
        }
    }

    /// The largest |entry| (0 when empty).
    pub fn max_abs(&self) -> u128 {
        self.iter().map(|v| v.unsigned_abs()).max().unwrap_or(0)
    }

    /// Heap bytes of the entries.
    pub fn heap_bytes(&self) -> usize {
        match self {
            IntVec::I32(v) => v.capacity() * 4,
            IntVec::I64(v) => v.capacity() * 8,
            IntVec::I128(v) => v.capacity() * 16,
        }
    }
}

fn min_max(values: impl Iterator<Item = i128>) -> (i128, i128) {
    values.fold((0, 0), |(lo, hi), v| (lo.min(v), hi.max(v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_vec_picks_the_narrowest_width() {
        assert_eq!(IntVec::from_i128(&[1, -5, i32::MAX as i128]).width(), IntWidth::I32);
        assert_eq!(IntVec::from_i128(&[i32::MIN as i128 - 1]).width(), IntWidth::I64);
        assert_eq!(IntVec::from_i128(&[i64::MAX as i128 + 1]).width(), IntWidth::I128);
        let v = IntVec::from_i128(&[3, -(1 << 40), 1 << 70]);
        assert_eq!(v.to_i128(), vec![3, -(1 << 40), 1 << 70]);
        assert_eq!(v.to_i64(), None);
        assert_eq!(v.max_abs(), 1 << 70);
    }

    #[test]
    fn int_vec_set_widens() {
        let mut v = IntVec::from_i128(&[1, 2, 3]);
        v.set(1, 1 << 80);
        assert_eq!(v.width(), IntWidth::I128);
        assert_eq!(v.to_i128(), vec![1, 1 << 80, 3]);
    }
}
