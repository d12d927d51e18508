//! Causal (and sliding-window) attention of one call's queries over a layer's KV cache,
//! split over the kernel pool by (token, head): on two threads the attention of a long
//! context no longer leaves the second core idle between weight products.

use super::ops::{axpy, dot, softmax_inplace};
use crate::kernels::pool;

/// Multiply-adds a thread must have to be worth involving (waking and joining a worker
/// costs about a microsecond).
const MIN_PART_WORK: usize = 64 * 1024;

/// Shapes of one layer's attention call.
pub(crate) struct Shape {
    /// Query tokens in this call.
    pub n: usize,
    /// Position of the first of them.
    pub pos: usize,
    /// Query heads.
    pub n_head: usize,
    /// Key/value heads (each serves `n_head / n_kv_head` query heads).
    pub n_kv_head: usize,
    /// Width of one head.
    pub head_dim: usize,
    /// Positions each KV head's cache holds (its row stride in rows).
    pub context: usize,
    /// Sliding window in tokens, for local layers.
    pub window: Option<usize>,
    /// Multiplier of q·k.
    pub scale: f32,
}

/// Floats of score scratch [`attend`] needs for `context` positions.
pub(crate) fn scores_len(context: usize) -> usize {
    context * pool::global().threads()
}

/// `att[t, h] = softmax(q[t, h] · K[lo..=p] * scale) · V[lo..=p]` for each query token `t`
/// at `p = pos + t` and head `h`, where `lo` is 0 or the window's first position. `q` and
/// `att` are (n, n_head * head_dim); `kc`, `vc` are (n_kv_head, context, head_dim) with
/// rows up to `pos + n` written; `scores` holds [`scores_len`] floats.
pub(crate) fn attend(
    sh: &Shape,
    q: &[f32],
    kc: &[f32],
    vc: &[f32],
    scores: &mut [f32],
    att: &mut [f32],
) {
    let pool = pool::global();
    let (hd, ctx) = (sh.head_dim, sh.context);
    let qd = sh.n_head * hd;
    let n_rep = sh.n_head / sh.n_kv_head.max(1);
    let total = sh.n * sh.n_head;
    let span = (sh.pos + sh.n).min(sh.window.unwrap_or(usize::MAX));
    let parts = (total * span * hd * 2)
        .div_ceil(MIN_PART_WORK)
        .min(total)
        .min(scores.len() / ctx.max(1));
    // The parts write disjoint (token, head) slices of `att` and their own `scores` rows.
    // Items are dealt round-robin: a later token attends to more keys, so contiguous
    // ranges would leave the last part up to three times the first one's work.
    let (att_p, sc_p) = (
        pool::PartPtr::new(att.as_mut_ptr()),
        pool::PartPtr::new(scores.as_mut_ptr()),
    );
    let job = |part: usize, parts: usize| {
        // SAFETY: part < parts <= scores.len() / ctx, so this row of `scores` exists, and
        // no other part uses it.
        let sc = unsafe { std::slice::from_raw_parts_mut(sc_p.at(part * ctx), ctx) };
        for i in (part..total).step_by(parts) {
            let (t, hq) = (i / sh.n_head, i % sh.n_head);
            let p = sh.pos + t;
            let lo = sh.window.map_or(0, |w| (p + 1).saturating_sub(w));
            let g = hq / n_rep;
            let qv = &q[t * qd + hq * hd..t * qd + (hq + 1) * hd];
            let keys = &kc[g * ctx * hd + lo * hd..g * ctx * hd + (p + 1) * hd];
            let vals = &vc[g * ctx * hd + lo * hd..g * ctx * hd + (p + 1) * hd];
            let sc = &mut sc[..p + 1 - lo];
            for (sj, kj) in sc.iter_mut().zip(keys.chunks_exact(hd)) {
                *sj = dot(qv, kj) * sh.scale;
            }
            softmax_inplace(sc);
            // SAFETY: (t, hq) belongs to this part alone and its slice lies inside `att`
            // (n x qd).
            let out = unsafe { std::slice::from_raw_parts_mut(att_p.at(t * qd + hq * hd), hd) };
            out.fill(0.0);
            for (&w, vj) in sc.iter().zip(vals.chunks_exact(hd)) {
                axpy(w, vj, out);
            }
        }
    };
    pool.run_parts(parts, &job);
}
