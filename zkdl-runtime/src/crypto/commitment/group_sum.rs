//! Sums of many groups of G1 points in affine coordinates with shared inversions.
//!
//! Adding affine points `P + Q` needs `λ = (y_Q − y_P) / (x_Q − x_P)`, then
//! `x = λ² − x_P − x_Q`, `y = λ (x_P − x) − y_P`. One inversion per addition would be slow, but the
//! inversions of a whole batch of independent additions share one field inversion by Montgomery's
//! trick (three multiplications each), so an addition costs about six base-field multiplications,
//! against eleven for a mixed projective addition.
//!
//! A group sum `Σ_{p ∈ group} p` is computed as a binary tree, one level at a time over every group
//! of a chunk at once: each level adds adjacent pairs in one batch. Equal or opposite `x`
//! coordinates (a doubling or a sum to zero, which happen with negligible probability for
//! hash-derived generators) and the point at infinity take the projective path instead, so the result
//! is exact for every input.

use ark_bls12_381::Fq;
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{Field, One};

use crate::G1Affine;

/// `x_Q − x_P`, or 1 where the pair needs the projective path.
#[inline]
fn denominator(p: &G1Affine, q: &G1Affine) -> Fq {
    if p.is_zero() || q.is_zero() || p.x == q.x {
        Fq::one()
    } else {
        q.x - p.x
    }
}

/// `P + Q` given `inverse = 1 / denominator(P, Q)`.
#[inline]
fn add_with_inverse(p: &G1Affine, q: &G1Affine, inverse: &Fq) -> G1Affine {
    if p.is_zero() {
        return *q;
    }
    if q.is_zero() {
        return *p;
    }
    if p.x == q.x {
        return (p.into_group() + q).into_affine();
    }
    let lambda = (q.y - p.y) * inverse;
    let x = lambda.square() - p.x - q.x;
    let y = lambda * (p.x - x) - p.y;
    G1Affine::new_unchecked(x, y)
}

/// Replaces every element by its inverse (all must be nonzero), with one field inversion.
fn batch_invert(values: &mut [Fq], prefix: &mut Vec<Fq>) {
    prefix.clear();
    let mut running = Fq::one();
    for v in values.iter() {
        prefix.push(running);
        running *= v;
    }
    let mut inverse = running.inverse().expect("denominators are nonzero");
    for (v, before) in values.iter_mut().zip(prefix.iter()).rev() {
        let next = inverse * *v;
        *v = inverse * before;
        inverse = next;
    }
}

/// Reusable buffers of one thread.
#[derive(Default)]
pub(crate) struct Scratch {
    denominators: Vec<Fq>,
    prefix: Vec<Fq>,
}

/// Sums groups laid out back to back: group `g` is `points[starts[g] .. starts[g] + lens[g]]`.
/// On return `points[starts[g]]` holds the sum of group `g` if `lens[g]` is 1; `lens[g]` is 0 for an
/// empty group (whose sum is the identity); the rest of `points` is scratch.
pub(crate) fn sum_groups_in_place(
    points: &mut [G1Affine],
    starts: &[usize],
    lens: &mut [usize],
    scratch: &mut Scratch,
) {
    loop {
        scratch.denominators.clear();
        for (&start, &len) in starts.iter().zip(lens.iter()) {
            for k in 0..len / 2 {
                scratch.denominators.push(denominator(&points[start + 2 * k], &points[start + 2 * k + 1]));
            }
        }
        if scratch.denominators.is_empty() {
            break;
        }
        batch_invert(&mut scratch.denominators, &mut scratch.prefix);
        let mut inverses = scratch.denominators.iter();
        for (&start, len) in starts.iter().zip(lens.iter_mut()) {
            // Writing pair k's sum to start + k never overwrites a pair not yet read (k ≤ 2k).
            for k in 0..*len / 2 {
                let inverse = inverses.next().expect("one inverse per pair");
                points[start + k] = add_with_inverse(&points[start + 2 * k], &points[start + 2 * k + 1], inverse);
            }
            if *len % 2 == 1 {
                points[start + *len / 2] = points[start + *len - 1];
            }
            *len = len.div_ceil(2);
        }
    }
}

/// `out[i] = a[i] + b[i]` for every `i`, with one shared inversion.
pub(crate) fn add_pairs(a: &[G1Affine], b: &[G1Affine], out: &mut [G1Affine], scratch: &mut Scratch) {
    scratch.denominators.clear();
    scratch.denominators.extend(a.iter().zip(b).map(|(p, q)| denominator(p, q)));
    batch_invert(&mut scratch.denominators, &mut scratch.prefix);
    for (((p, q), inverse), o) in a.iter().zip(b).zip(&scratch.denominators).zip(out.iter_mut()) {
        *o = add_with_inverse(p, q, inverse);
    }
}

/// Collects groups of points and sums them: the builder for one chunk of rows.
#[derive(Default)]
pub(crate) struct GroupSums {
    points: Vec<G1Affine>,
    starts: Vec<usize>,
    lens: Vec<usize>,
    scratch: Scratch,
}

impl GroupSums {
    /// Starts a new group.
    pub(crate) fn begin_group(&mut self) {
        self.starts.push(self.points.len());
        self.lens.push(0);
    }

    /// Adds a point to the current group.
    #[inline]
    pub(crate) fn push(&mut self, point: G1Affine) {
        self.points.push(point);
        *self.lens.last_mut().expect("a group was begun") += 1;
    }

    /// The sums of all groups, in order; the builder is emptied for reuse.
    pub(crate) fn finish(&mut self) -> Vec<G1Affine> {
        sum_groups_in_place(&mut self.points, &self.starts, &mut self.lens, &mut self.scratch);
        let sums = self
            .starts
            .iter()
            .zip(&self.lens)
            .map(|(&start, &len)| if len == 0 { G1Affine::identity() } else { self.points[start] })
            .collect();
        self.points.clear();
        self.starts.clear();
        self.lens.clear();
        sums
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::G1Projective;
    use ark_std::UniformRand;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn group_sums_match_projective_sums_including_doublings_and_cancellations() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let p = G1Projective::rand(&mut rng).into_affine();
        let q = G1Projective::rand(&mut rng).into_affine();
        let groups: Vec<Vec<G1Affine>> = vec![
            vec![],
            vec![p],
            vec![p, p],                              // doubling
            vec![p, -p],                             // cancels to the identity
            vec![p, q, -p, G1Affine::identity(), q], // identity inside, then 2q
            (0..37).map(|_| G1Projective::rand(&mut rng).into_affine()).collect(),
            vec![],
        ];
        let mut sums = GroupSums::default();
        for group in &groups {
            sums.begin_group();
            for point in group {
                sums.push(*point);
            }
        }
        let got = sums.finish();
        for (group, sum) in groups.iter().zip(got) {
            let expected: G1Projective = group.iter().map(|p| p.into_group()).sum();
            assert_eq!(sum, expected.into_affine());
        }
    }

    #[test]
    fn pairwise_additions_match() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let a: Vec<G1Affine> = (0..9).map(|_| G1Projective::rand(&mut rng).into_affine()).collect();
        let mut b: Vec<G1Affine> = (0..9).map(|_| G1Projective::rand(&mut rng).into_affine()).collect();
        b[2] = a[2];
        b[5] = -a[5];
        let mut out = vec![G1Affine::identity(); 9];
        add_pairs(&a, &b, &mut out, &mut Scratch::default());
        for i in 0..9 {
            assert_eq!(out[i], (a[i].into_group() + b[i]).into_affine());
        }
    }
}
