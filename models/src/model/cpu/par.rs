//! Element-wise work of the lean forward pass split over the kernel pool (prefill: the
//! MLP activation of every token would otherwise leave the other threads waiting).

use super::ops::{self, GeluTable};
use crate::kernels::pool;
use crate::model::config::Activation;

/// Values a thread must have to be worth involving.
const MIN_PART_VALUES: usize = 32 * 1024;

/// `g = act(g) * u` element-wise (SiLU, or GELU through llama.cpp's table), in parts
/// over the pool when `g` is large; each element is computed alone, so the split never
/// changes a bit.
pub(crate) fn gated_activation(act: Activation, gelu: &GeluTable, g: &mut [f32], u: &[f32]) {
    let apply = |g: &mut [f32], u: &[f32]| match act {
        Activation::Silu => ops::silu_mul(g, u),
        Activation::GeluTanh => ops::gelu_mul(gelu, g, u),
    };
    let (len, parts) = (g.len(), g.len() / MIN_PART_VALUES);
    if parts < 2 {
        return apply(g, u);
    }
    // The parts rewrite disjoint ranges of `g`.
    let gp = pool::PartPtr::new(g.as_mut_ptr());
    pool::global().run_parts(parts, &|part, parts| {
        let (a, b) = (len * part / parts, len * (part + 1) / parts);
        // SAFETY: elements a..b of `g` belong to this part alone.
        let gs = unsafe { std::slice::from_raw_parts_mut(gp.at(a), b - a) };
        apply(gs, &u[a..b]);
    });
}
