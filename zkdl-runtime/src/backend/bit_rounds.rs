//! The bit relation's rounds on bits on a device ([`BitRoundTables`]; `proof::binary` derives the
//! sums). b goes up once as its packed words (`2^n / 8` bytes) and `used` as its pages (one tag word
//! per 4096 bits, then the words of the mixed pages only: a few MiB where packed it would take as
//! much as b); both stay on the device across the rounds on bits.
//!
//! - round `j`: the host builds the byte tables of `eq(r_<j, ·)` (`2^(j−1)/8 · 256` sums of at most
//!   eight weights, at most 2 MiB at `j = 12`) and the two halves of `eq(ρ_{>j}, y) = eq(ρ_hi, y_hi) ·
//!   eq(ρ_lo, y_lo)` (`2^⌈(n−j)/2⌉` entries at most, never the whole table); `bit_round_sums` (one
//!   work-item per `y`, partial sums per work-group) and `reduce_partials` leave `[A_0, A_1, A_2]`,
//!   three field elements read back.
//! - binding: `bind_bits` computes `b(r, ·)` and `used(r, ·)` from the byte tables of `eq(r, ·)`, and
//!   both come back (`2 · 2^(n−k)` entries) for the remaining rounds.
//!
//! The sums are those of the host's bit rounds in exact field arithmetic, so the messages, and the
//! proof, are the host's byte for byte.

use std::sync::Arc;

use ark_ff::Zero;

use crate::backend::device::{
    device_failed, fr_words, upload, words_fr, Arg, Device, Kernel, GROUP_SIZE, MAX_ROUND_GROUPS,
};
use crate::backend::BackendError;
use crate::crypto::bits::{fill_byte_subset_sums, BitVector, PagedBits};
use crate::crypto::device::BitRoundTables;
use crate::crypto::tensor::eq_table;
use crate::Fr;

/// b and `used` on the device.
pub(crate) struct DeviceBitRounds<D: Device> {
    device: Arc<D>,
    /// The number of variables `n`.
    num_vars: usize,
    bits: D::Buffer,
    pages: D::Buffer,
    mixed: D::Buffer,
    partials: D::Buffer,
    sums: D::Buffer,
}

impl<D: Device> DeviceBitRounds<D> {
    /// Uploads b and `used` (`2^n` entries each, `n = num_vars`).
    pub(crate) fn new(device: Arc<D>, bits: &BitVector, used: &PagedBits) -> Result<Self, BackendError> {
        let d = &*device;
        let (tags, mixed) = used.pages();
        let tags: Vec<u64> = tags.iter().map(|&t| u64::from(t)).collect();
        Ok(Self {
            num_vars: bits.len().trailing_zeros() as usize,
            bits: upload(d, bits.words())?,
            pages: upload(d, &tags)?,
            mixed: upload(d, mixed.as_flattened())?,
            partials: d.alloc(4 * 3 * MAX_ROUND_GROUPS)?,
            sums: d.alloc(4 * 3)?,
            device,
        })
    }

    fn try_sums(&self, point: &[Fr], tail: &[Fr]) -> Result<[Fr; 3], BackendError> {
        let d = &*self.device;
        let m = tail.len();
        debug_assert_eq!(point.len() + 1 + m, self.num_vars);
        let subsets = upload(d, fr_words(&subset_tables(&eq_table(point))))?;
        let (hi, lo) = tail.split_at(m / 2);
        let eq_hi = upload(d, fr_words(&eq_table(hi)))?;
        let eq_lo = upload(d, fr_words(&eq_table(lo)))?;
        let groups = (1usize << m).div_ceil(GROUP_SIZE).clamp(1, MAX_ROUND_GROUPS);
        d.launch(
            Kernel::BitRoundSums,
            groups,
            &[
                Arg::Buffer(&self.bits),
                Arg::Buffer(&self.pages),
                Arg::Buffer(&self.mixed),
                Arg::Buffer(&subsets),
                Arg::U64(1 << point.len()),
                Arg::U32(m as u32),
                Arg::Buffer(&eq_hi),
                Arg::Buffer(&eq_lo),
                Arg::U32(lo.len() as u32),
                Arg::Buffer(&self.partials),
            ],
        )?;
        d.launch(
            Kernel::ReducePartials,
            1,
            &[Arg::Buffer(&self.partials), Arg::U64(groups as u64), Arg::U32(3), Arg::Buffer(&self.sums)],
        )?;
        let mut out = [0u64; 12];
        d.read(&self.sums, 0, &mut out)?;
        let sums = words_fr(&out);
        Ok([sums[0], sums[1], sums[2]])
    }

    fn try_bind(&self, r: &[Fr]) -> Result<[Vec<Fr>; 2], BackendError> {
        let d = &*self.device;
        let m = self.num_vars - r.len();
        let subsets = upload(d, fr_words(&subset_tables(&eq_table(r))))?;
        let out = d.alloc(4 * (2 << m))?;
        d.launch(
            Kernel::BindBits,
            (2usize << m).div_ceil(GROUP_SIZE),
            &[
                Arg::Buffer(&self.bits),
                Arg::Buffer(&self.pages),
                Arg::Buffer(&self.mixed),
                Arg::Buffer(&subsets),
                Arg::U64(1 << r.len()),
                Arg::U32(m as u32),
                Arg::Buffer(&out),
            ],
        )?;
        let mut words = vec![0u64; 4 * (2 << m)];
        d.read(&out, 0, &mut words)?;
        let mut b = words_fr(&words);
        let used = b.split_off(1 << m);
        Ok([b, used])
    }
}

impl<D: Device> BitRoundTables for DeviceBitRounds<D> {
    fn sums(&mut self, point: &[Fr], tail: &[Fr]) -> [Fr; 3] {
        self.try_sums(point, tail).unwrap_or_else(device_failed)
    }

    fn bind(self: Box<Self>, r: &[Fr]) -> [Vec<Fr>; 2] {
        self.try_bind(r).unwrap_or_else(device_failed)
    }
}

/// The byte tables of subset sums of `weights` as `bits.cl` reads them: table `g` (256 entries) holds
/// at `v` the sum of `weights[8g + i]` over the set bits `i` of `v` (entries past `2^len` of a last,
/// shorter group stay zero and are never read).
fn subset_tables(weights: &[Fr]) -> Vec<Fr> {
    let mut tables = vec![Fr::zero(); 256 * weights.len().div_ceil(8)];
    for (group, table) in weights.chunks(8).zip(tables.chunks_exact_mut(256)) {
        fill_byte_subset_sums(group, table);
    }
    tables
}
