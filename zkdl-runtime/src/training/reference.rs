//! The float reference: the same network trained in f32, from the same initial weights, on the same
//! batches, with the same learning rate, to measure how far fixed point drifts from ordinary training.
//!
//! The step is §2 without rounding: Z^l = A^(l−1)·W^l, A^l = max(Z^l, 0) (ReLU'(0) = 0), G^L = Z^L − Y,
//! G_W^l = (A^(l−1))ᵀ·G^l, G^(l−1) = [Z^(l−1) > 0] ⊙ (G^l·(W^l)ᵀ), W^l ← W^l − 2^(−k)·G_W^l, where
//! 2^(−k) = η'/B is the mean-gradient learning rate on the batch-summed gradient. Products run through
//! `sgemm`.

use crate::training::data::Dataset;
use crate::training::gemm::sgemm;
use crate::training::trainer::{argmax, Evaluation};
use crate::training::weights::FixedWeights;

/// Float weights W^1 … W^L, row-major d_(l−1) × d_l.
#[derive(Clone, Debug, PartialEq)]
pub struct FloatNetwork {
    pub shapes: Vec<(usize, usize)>,
    pub layers: Vec<Vec<f32>>,
    /// β^l of each layer with a bias.
    pub biases: Vec<Option<Vec<f32>>>,
    /// 2^(−k), on the batch-summed gradient.
    pub step_size: f32,
}

/// The examples `indices` of `data` as a float batch: features (B × d_0) and one-hot targets (B × `classes`).
pub fn float_batch(data: &Dataset, indices: &[usize], classes: usize) -> (Vec<f32>, Vec<f32>) {
    let x = indices.iter().flat_map(|&i| data.example(i).iter().copied()).collect();
    let mut y = vec![0f32; indices.len() * classes];
    for (r, &i) in indices.iter().enumerate() {
        y[r * classes + data.labels[i] as usize] = 1.0;
    }
    (x, y)
}

/// C = A·B for row-major A (m × k) and B (k × n), either transposed as flagged.
fn matmul(a: &[f32], m: usize, k: usize, a_t: bool, b: &[f32], n: usize, b_t: bool) -> Vec<f32> {
    let mut c = vec![0f32; m * n];
    let (rsa, csa) = if a_t { (1, m as isize) } else { (k as isize, 1) };
    let (rsb, csb) = if b_t { (1, k as isize) } else { (n as isize, 1) };
    sgemm(m, k, n, a, rsa, csa, b, rsb, csb, &mut c, n as isize);
    c
}

impl FloatNetwork {
    /// The fixed-point weights as f32, with the step size of their spec.
    pub fn from_fixed(weights: &FixedWeights, update_shift: u32) -> FloatNetwork {
        FloatNetwork {
            shapes: weights.shapes.clone(),
            layers: (0..weights.layers.len())
                .map(|l| weights.to_f64(l).into_iter().map(|w| w as f32).collect())
                .collect(),
            biases: (0..weights.layers.len())
                .map(|l| weights.bias_to_f64(l).map(|b| b.into_iter().map(|v| v as f32).collect()))
                .collect(),
            step_size: (-(update_shift as f32)).exp2(),
        }
    }

    /// Sets the step size to 2^(−update_shift), for the step of a learning-rate schedule about to run.
    pub fn set_update_shift(&mut self, update_shift: u32) {
        self.step_size = (-(update_shift as f32)).exp2();
    }

    /// Forward pass: the pre-activations of every layer.
    fn forward(&self, x: &[f32], rows: usize) -> Vec<Vec<f32>> {
        let mut zs: Vec<Vec<f32>> = Vec::with_capacity(self.layers.len());
        for (l, (w, &(k, n))) in self.layers.iter().zip(&self.shapes).enumerate() {
            let a: Vec<f32> = if l == 0 { x.to_vec() } else { zs[l - 1].iter().map(|&z| z.max(0.0)).collect() };
            let mut z = matmul(&a, rows, k, false, w, n, false);
            if let Some(bias) = &self.biases[l] {
                for (i, v) in z.iter_mut().enumerate() {
                    *v += bias[i % n];
                }
            }
            zs.push(z);
        }
        zs
    }

    /// One SGD step on (x, one-hot y); returns the mean loss and the examples classified correctly.
    pub fn step(&mut self, x: &[f32], y: &[f32], labels: &[u32]) -> (f64, usize) {
        let b = labels.len();
        let depth = self.layers.len();
        let zs = self.forward(x, b);
        let dl = self.shapes[depth - 1].1;
        let out = &zs[depth - 1];
        let mut g: Vec<f32> = out.iter().zip(y).map(|(z, y)| z - y).collect();
        let loss = g.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / 2.0 / b as f64;
        let correct = (0..b).filter(|&r| argmax(&out[r * dl..(r + 1) * dl]) == labels[r] as usize).count();
        for l in (0..depth).rev() {
            let (k, n) = self.shapes[l];
            let a: Vec<f32> = if l == 0 { x.to_vec() } else { zs[l - 1].iter().map(|&z| z.max(0.0)).collect() };
            let gw = matmul(&a, k, b, true, &g, n, false);
            if let Some(bias) = self.biases[l].as_mut() {
                let mut sums = vec![0f32; n];
                for (i, v) in g.iter().enumerate() {
                    sums[i % n] += v;
                }
                for (beta, d) in bias.iter_mut().zip(sums) {
                    *beta -= self.step_size * d;
                }
            }
            if l > 0 {
                let h = matmul(&g, b, n, false, &self.layers[l], k, true);
                g = h.iter().zip(&zs[l - 1]).map(|(&h, &z)| if z > 0.0 { h } else { 0.0 }).collect();
            }
            for (w, d) in self.layers[l].iter_mut().zip(&gw) {
                *w -= self.step_size * d;
            }
        }
        (loss, correct)
    }

    /// Loss and accuracy over a data set.
    pub fn evaluate(&self, data: &Dataset) -> Evaluation {
        if data.is_empty() {
            return Evaluation { loss: f64::NAN, accuracy: f64::NAN };
        }
        let depth = self.layers.len();
        let dl = self.shapes[depth - 1].1;
        let (mut loss, mut correct) = (0.0, 0usize);
        let indices: Vec<usize> = (0..data.len()).collect();
        for chunk in indices.chunks(256) {
            let x: Vec<f32> = chunk.iter().flat_map(|&i| data.example(i).iter().copied()).collect();
            let zs = self.forward(&x, chunk.len());
            for (r, &i) in chunk.iter().enumerate() {
                let out = &zs[depth - 1][r * dl..(r + 1) * dl];
                let label = data.labels[i] as usize;
                correct += (argmax(out) == label) as usize;
                loss +=
                    out.iter().enumerate().map(|(j, &z)| (z as f64 - (j == label) as u8 as f64).powi(2)).sum::<f64>()
                        / 2.0;
            }
        }
        Evaluation { loss: loss / data.len() as f64, accuracy: correct as f64 / data.len() as f64 }
    }

    /// The largest |w_fixed − w_float| over all layers, in real units.
    pub fn max_weight_difference(&self, fixed: &FixedWeights) -> f64 {
        let weights = (0..self.layers.len()).flat_map(|l| fixed.to_f64(l).into_iter().zip(self.layers[l].clone()));
        let biases = (0..self.layers.len()).flat_map(|l| {
            fixed.bias_to_f64(l).unwrap_or_default().into_iter().zip(self.biases[l].clone().unwrap_or_default())
        });
        weights.chain(biases).map(|(a, b)| (a - b as f64).abs()).fold(0.0, f64::max)
    }
}
