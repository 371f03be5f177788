//! The stacked weights W and weight gradients G_W, never tabulated (`PROTOCOL.md` §4's linear reductions).
//!
//! The stacked W holds W_t of every step and G_W every step's gradient: `T · |W|` entries each, the
//! largest tensors of a run (21 GB of field elements for the paper network at T = 64). Neither is
//! committed, and every value the prover needs of them is a partial evaluation that follows from
//! W_0 and the activation-sized factors of each step, because
//!
//! ```text
//!     G_W,s(k, c) = Σ_i A_s(i, k) · G_s(i, c)                 (M3; A_s = A^{l−1}, G_s = G^l of step s)
//!     W_t       = W_0 − Σ_{s<t} m_s·G_W,s                      (U1; m_s = 1 at one learning rate)
//! ```
//!
//! are bilinear and linear. For a point ρ_c over the columns (M1 binds W's column) and ρ_k over the
//! rows (M2 binds W's row):
//!
//! ```text
//!     G_W,s(k, ρ_c)   = Σ_i A_s(i, k) · G_s(i, ρ_c)      = A_sᵀ · (G_s · eq(ρ_c))
//!     G_W,s(ρ_k, c)   = Σ_i A_s(i, ρ_k) · G_s(i, c)      = G_sᵀ · (A_s · eq(ρ_k))
//!     G_W,s(ρ_k, ρ_c) = ⟨A_s · eq(ρ_k), G_s · eq(ρ_c)⟩
//!     W_t(k, ρ_c)     = W_0(k, ρ_c) − Σ_{s<t} m_s·G_W,s(k, ρ_c)     (prefix sums over the steps)
//! ```
//!
//! so [`bound_weights`] builds the table `W_t(·, ρ_c)` (or `W_t(ρ_k, ·)`) of every step in one walk
//! over the steps, and [`gradient_evaluation`] evaluates `Σ_s c(s) · G_W,s(ρ_k, ρ_c)`: each costs
//! `|W|` once (binding W_0) plus `B · (d_in + d_out)` per step and layer — activation-sized — and
//! neither ever holds a parameter-sized table per step. The integers of A_s and G_s are read from the
//! witness; a product of an integer and a field element is one field multiplication.

use ark_ff::{Field, Zero};
use rayon::prelude::*;
use std::borrow::Cow;
use zkdl_compiler::plan::StackedTensor;

use crate::crypto::tensor::eq_table;
use crate::training::integers::IntVec;
use crate::training::witness::Witness;
use crate::Fr;

/// Which index of W a point binds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    /// W's column (M1, W on the right with the summed row index): tables over the rows.
    Column,
    /// W's row (M2, W on the right with the summed column index): tables over the columns.
    Row,
}

/// `M · e` for a row-major `rows × cols` integer matrix and `e` over at least `cols` entries.
fn times_vector(m: &IntVec, rows: usize, cols: usize, e: &[Fr]) -> Vec<Fr> {
    (0..rows).into_par_iter().map(|i| (0..cols).map(|j| int_times(m.get(i * cols + j), &e[j])).sum()).collect()
}

/// `Mᵀ · v` for a row-major `rows × cols` integer matrix and `v` over `rows` entries.
fn transpose_times_vector(m: &IntVec, rows: usize, cols: usize, v: &[Fr]) -> Vec<Fr> {
    (0..cols).into_par_iter().map(|j| (0..rows).map(|i| int_times(m.get(i * cols + j), &v[i])).sum()).collect()
}

/// `x · e` for an integer `x` (zero costs nothing).
fn int_times(x: i128, e: &Fr) -> Fr {
    match x {
        0 => Fr::zero(),
        1 => *e,
        -1 => -*e,
        _ => Fr::from(x) * e,
    }
}

/// The per-step factors of layer `l` (1-based) at step `s`: (A^{l−1}_s, B × d_in) and (G^l_s, B × d_out),
/// derived from s, Z' and H' where a compact witness dropped them (activation-sized, per step).
fn factors(witness: &Witness, l: usize, s: usize) -> (Cow<'_, IntVec>, Cow<'_, IntVec>) {
    (witness.layer_input(l, s), witness.layer_signal(l, s))
}

/// `G_W,s(·, ρ_c)` (for [`Bound::Column`], over d_in) or `G_W,s(ρ_k, ·)` (for [`Bound::Row`], over
/// d_out) of layer `l`, given `e = eq(ρ)` over W's bound index.
fn gradient_partial(witness: &Witness, l: usize, s: usize, bound: Bound, e: &[Fr]) -> Vec<Fr> {
    let (b, (d_in, d_out)) = (witness.batch_size(), witness.layer_shape(l));
    let (a, g) = factors(witness, l, s);
    match bound {
        Bound::Column => transpose_times_vector(&a, b, d_in, &times_vector(&g, b, d_out, e)),
        Bound::Row => transpose_times_vector(&g, b, d_out, &times_vector(&a, b, d_in, e)),
    }
}

/// For stacked tensor `tensor` (a stacked W) and every instance `p = (t, position)` of it, the table of
/// `W_t^l` with the index `bound` bound to `point` — over the rows, padded to `2^row_bits`, for
/// [`Bound::Column`]; over the columns, padded to `2^col_bits`, for [`Bound::Row`] — concatenated in
/// instance order (zero at padded instances): the tensor's table with that index bound.
pub fn bound_weights(witness: &Witness, tensor: &StackedTensor, bound: Bound, point: &[Fr]) -> Vec<Fr> {
    let layout = tensor.layout;
    let block_bits = match bound {
        Bound::Column => layout.row_bits,
        Bound::Row => layout.col_bits,
    };
    let block = 1usize << block_bits;
    let layer_slots = 1usize << layout.layer_bits;
    let mut table = vec![Fr::zero(); block << layout.instance_bits()];
    let e = eq_table(point);
    let first = tensor.steps.first as usize;
    let count = tensor.steps.count as usize;
    for (position, &layer) in tensor.layers.iter().enumerate() {
        let l = layer as usize;
        let (d_in, d_out) = witness.layer_shape(l);
        let w0 = witness.initial_layer(l);
        let mut current = match bound {
            Bound::Column => times_vector(w0, d_in, d_out, &e),
            Bound::Row => transpose_times_vector(w0, d_in, d_out, &e),
        };
        for t in 0..first + count {
            if t >= first {
                let p = (t - first) * layer_slots + position;
                table[p * block..p * block + current.len()].copy_from_slice(&current);
            }
            if t + 1 < first + count {
                let delta = gradient_partial(witness, l, t, bound, &e);
                match witness.plan.update_multiplier_log2(t as u64) {
                    0 => current.par_iter_mut().zip(delta).for_each(|(w, d)| *w -= d),
                    k => {
                        let m = Fr::from(2u64).pow([k as u64]);
                        current.par_iter_mut().zip(delta).for_each(|(w, d)| *w -= d * m)
                    }
                }
            }
        }
    }
    table
}

/// `Σ_p c(p) · G_W(p, ρ_k, ρ_c)` over the instances `p = (t, position)` of stacked tensor `tensor` (a
/// stacked G_W), for the instance weights `c` (one per instance, over the tensor's instance bits) and
/// the point `(ρ_k, ρ_c)` over its rows and columns.
pub fn gradient_evaluation(witness: &Witness, tensor: &StackedTensor, c: &[Fr], point: &[Fr]) -> Fr {
    let layout = tensor.layout;
    let (rho_k, rho_c) = point.split_at(layout.row_bits as usize);
    let (e_k, e_c) = (eq_table(rho_k), eq_table(rho_c));
    let layer_slots = 1usize << layout.layer_bits;
    let b = witness.batch_size();
    let mut total = Fr::zero();
    for (position, &layer) in tensor.layers.iter().enumerate() {
        let l = layer as usize;
        let (d_in, d_out) = witness.layer_shape(l);
        let weighted: Vec<(usize, Fr)> = (0..tensor.steps.count as usize)
            .map(|t| (t, c[t * layer_slots + position]))
            .filter(|(_, w)| !w.is_zero())
            .collect();
        total += weighted
            .into_par_iter()
            .map(|(t, w)| {
                let (a, g) = factors(witness, l, tensor.steps.first as usize + t);
                let left = times_vector(&a, b, d_in, &e_k);
                let right = times_vector(&g, b, d_out, &e_c);
                w * left.iter().zip(&right).map(|(x, y)| *x * y).sum::<Fr>()
            })
            .sum::<Fr>();
    }
    total
}
