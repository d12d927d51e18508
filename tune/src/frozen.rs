//! Products with a frozen weight whose backward pass yields only the input's gradient.
//!
//! candle's `matmul` backward computes the gradient of both operands, so every frozen
//! weight would get a full-size gradient each step (0.54 GB for SmolLM2-135M, plus the
//! work of a second product and a zero-fill and add of that size). On the CPU,
//! [`linear`] wraps `x W^T` in a custom op whose backward is `dy W` alone. On other
//! devices it falls back to candle's matmul (correct, slower).

use candle_core::{CpuStorage, CustomOp1, Device, Layout, Shape, Tensor};

use crate::Result;

/// `x W^T` for `x` (rows, in) and a frozen `w` (out, in): (rows, out). Gradients flow to
/// `x` only.
pub fn linear(x: &Tensor, w: &Tensor) -> Result<Tensor> {
    if x.device().is_cpu() && w.device().is_cpu() && x.rank() == 2 {
        Ok(x.apply_op1(FrozenLinear { w: w.clone() })?)
    } else {
        Ok(x.matmul(&w.t()?)?)
    }
}

/// The custom op: holds the frozen weight (out, in).
struct FrozenLinear {
    w: Tensor,
}

impl CustomOp1 for FrozenLinear {
    fn name(&self) -> &'static str {
        "frozen-linear"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let CpuStorage::F32(data) = storage else {
            candle_core::bail!("frozen-linear: input must be f32")
        };
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("frozen-linear: input must be contiguous")
        };
        let x = Tensor::from_slice(&data[start..end], layout.shape(), &Device::Cpu)?;
        let y = x.matmul(&self.w.t()?)?;
        let shape = y.shape().clone();
        Ok((CpuStorage::F32(y.flatten_all()?.to_vec1::<f32>()?), shape))
    }

    fn bwd(
        &self,
        _arg: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        Ok(Some(grad_res.matmul(&self.w)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Var;

    #[test]
    fn forward_and_input_gradient_equal_plain_matmul() -> Result<()> {
        let dev = Device::Cpu;
        let w = Tensor::randn(0f32, 1.0, (5, 3), &dev)?;
        let x = Var::from_tensor(&Tensor::randn(0f32, 1.0, (4, 3), &dev)?)?;
        let ours = linear(x.as_tensor(), &w)?;
        let plain = x.as_tensor().matmul(&w.t()?)?;
        let d = (&ours - &plain)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(d < 1e-6, "forward differs by {d}");
        let g_ours = ours.sqr()?.sum_all()?.backward()?;
        let g_plain = plain.sqr()?.sum_all()?.backward()?;
        let (a, b) = (g_ours.get(&x), g_plain.get(&x));
        let (Some(a), Some(b)) = (a, b) else {
            panic!("no gradient for x")
        };
        let d = (a - b)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(d < 1e-4, "gradient differs by {d}");
        assert!(g_ours.get(&w).is_none(), "frozen weight got a gradient");
        Ok(())
    }
}
