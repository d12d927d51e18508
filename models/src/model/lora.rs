//! A low-rank update on a quantized projection at inference: `y = W x + scale * B (A x)`,
//! the LoRA adapters `bora tune` trains, applied beside the quantized product instead of
//! merged into it (the quantized weight stays as the file has it; the update costs
//! `rank * (in + out)` multiply-adds per token, under 1 % of the projection's).

use candle_core::{Device, Tensor};

use crate::kernels::pool::{self, PartPtr};
use crate::{Error, Result};

/// A projection of a transformer block an adapter may target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projection {
    /// Attention query projection.
    Q,
    /// Attention key projection.
    K,
    /// Attention value projection.
    V,
    /// Attention output projection.
    O,
}

/// One low-rank update: `A` (rank x in) and `B` (out x rank), row-major f32, and its scale.
#[derive(Debug, Clone)]
pub struct LowRank {
    a: Vec<f32>,
    b: Vec<f32>,
    rank: usize,
    in_dim: usize,
    out_dim: usize,
    scale: f32,
    /// The same matrices as tensors on the model's device, for the tensor forward.
    a_t: Tensor,
    b_t: Tensor,
}

impl LowRank {
    /// An update from `a` (rank x in_dim) and `b` (out_dim x rank), row-major, times
    /// `scale`; an error when the lengths do not fit the shapes or a value is not finite.
    pub fn new(
        a: Vec<f32>,
        b: Vec<f32>,
        (rank, in_dim, out_dim): (usize, usize, usize),
        scale: f32,
        device: &Device,
    ) -> Result<Self> {
        let bad = |reason: String| Error::InvalidArgument {
            name: "adapter",
            value: format!("rank {rank}, in {in_dim}, out {out_dim}"),
            reason,
        };
        if rank == 0 || a.len() != rank * in_dim || b.len() != out_dim * rank {
            return Err(bad(format!(
                "A has {} values and B {}; expected rank x in and out x rank",
                a.len(),
                b.len()
            )));
        }
        if !scale.is_finite() || a.iter().chain(&b).any(|v| !v.is_finite()) {
            return Err(bad("a value or the scale is not finite".into()));
        }
        let a_t = Tensor::from_slice(&a, (rank, in_dim), device)?;
        let b_t = Tensor::from_slice(&b, (out_dim, rank), device)?;
        Ok(Self {
            a,
            b,
            rank,
            in_dim,
            out_dim,
            scale,
            a_t,
            b_t,
        })
    }

    /// Input width.
    pub fn in_dim(&self) -> usize {
        self.in_dim
    }

    /// Output width.
    pub fn out_dim(&self) -> usize {
        self.out_dim
    }

    /// Adds `scale * B (A x)` to `y` for `tokens` rows of `x` (in_dim each) and `y`
    /// (out_dim each); several tokens are split over the kernel pool (each token's
    /// update is computed alone, so the split never changes a bit).
    pub fn add_to(&self, x: &[f32], tokens: usize, y: &mut [f32]) {
        let (inp, out) = (self.in_dim, self.out_dim);
        let yp = PartPtr::new(y.as_mut_ptr());
        pool::global().run_parts(tokens, &|part, parts| {
            let (t0, t1) = (tokens * part / parts, tokens * (part + 1) / parts);
            for n in t0..t1 {
                // SAFETY: row n of `y` (out_dim values) belongs to this part alone, and
                // `y` holds `tokens` rows (the caller's contract, as for `x`).
                let yr = unsafe { std::slice::from_raw_parts_mut(yp.at(n * out), out) };
                self.add_row(&x[n * inp..(n + 1) * inp], yr);
            }
        });
    }

    /// [`add_to`](Self::add_to) for one token.
    fn add_row(&self, xr: &[f32], yr: &mut [f32]) {
        let mut stack = [0f32; 64];
        let mut heap = Vec::new();
        let t = if self.rank <= stack.len() {
            &mut stack[..self.rank]
        } else {
            heap.resize(self.rank, 0.0);
            &mut heap[..]
        };
        for (r, tr) in t.iter_mut().enumerate() {
            let ar = &self.a[r * self.in_dim..(r + 1) * self.in_dim];
            *tr = self.scale * dot(ar, xr);
        }
        for (o, yo) in yr.iter_mut().enumerate() {
            *yo += dot(&self.b[o * self.rank..(o + 1) * self.rank], t);
        }
    }

    /// `scale * B (A x)` for `x` of shape (..., in_dim), as a tensor (..., out_dim).
    pub fn delta(&self, x: &Tensor) -> Result<Tensor> {
        let x = x.to_dtype(candle_core::DType::F32)?;
        let t = x.broadcast_matmul(&self.a_t.t()?)?;
        Ok((t.broadcast_matmul(&self.b_t.t()?)? * f64::from(self.scale))?)
    }
}

/// `a . b` in eight interleaved partial sums, added pairwise at the end: the compiler
/// keeps them in vector registers, where one running sum waits on every add's latency
/// (that made the update cost 1.2 ms per token of SmolLM2 with a rank-16 adapter on all
/// four attention projections, a third of a prefill row, for 1 % of its multiply-adds).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ac
        .remainder()
        .iter()
        .zip(bc.remainder())
        .map(|(x, y)| x * y)
        .sum();
    let mut acc = [0f32; 8];
    for (x, y) in ac.zip(bc) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_and_tensor_forms_agree_with_a_hand_worked_update() {
        // A = [[1, 0, 2]], B = [[1], [-1]], scale 0.5: x = (1, 1, 1) -> A x = 3 -> (1.5, -1.5).
        let lr = LowRank::new(
            vec![1.0, 0.0, 2.0],
            vec![1.0, -1.0],
            (1, 3, 2),
            0.5,
            &Device::Cpu,
        )
        .unwrap();
        let mut y = vec![10.0, 10.0];
        lr.add_to(&[1.0, 1.0, 1.0], 1, &mut y);
        assert_eq!(y, [11.5, 8.5]);
        let x = Tensor::from_slice(&[1f32, 1.0, 1.0], (1, 3), &Device::Cpu).unwrap();
        let d = lr
            .delta(&x)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        assert_eq!(d, [1.5, -1.5]);
        assert!(LowRank::new(vec![1.0; 2], vec![1.0; 2], (1, 3, 2), 1.0, &Device::Cpu).is_err());
        assert!(LowRank::new(
            vec![f32::NAN; 3],
            vec![1.0; 2],
            (1, 3, 2),
            1.0,
            &Device::Cpu
        )
        .is_err());
    }

    #[test]
    fn tokens_split_over_the_pool_get_the_bits_each_gets_alone() {
        // Prefill and verification rows share the pool; a token's update must not depend
        // on how many tokens came with it. Rank 70 also takes the heap buffer.
        for rank in [16, 70] {
            let (inp, out, tokens) = (96, 40, 7);
            let val = |i: usize| ((i * 7919) % 1000) as f32 / 500.0 - 1.0;
            let a: Vec<f32> = (0..rank * inp).map(val).collect();
            let b: Vec<f32> = (0..out * rank).map(|i| val(i + 3)).collect();
            let lr = LowRank::new(a, b, (rank, inp, out), 0.25, &Device::Cpu).unwrap();
            let x: Vec<f32> = (0..tokens * inp).map(|i| val(i + 11)).collect();
            let mut all = vec![1.0f32; tokens * out];
            lr.add_to(&x, tokens, &mut all);
            for n in 0..tokens {
                let mut one = vec![1.0f32; out];
                lr.add_to(&x[n * inp..(n + 1) * inp], 1, &mut one);
                let got: Vec<u32> = all[n * out..(n + 1) * out]
                    .iter()
                    .map(|v| v.to_bits())
                    .collect();
                let want: Vec<u32> = one.iter().map(|v| v.to_bits()).collect();
                assert_eq!(got, want, "rank {rank} token {n}");
            }
        }
    }
}
