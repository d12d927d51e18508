//! The mutable half of a model: per-layer KV caches, the position, the logits of the
//! last forward pass and (on the CPU) every scratch buffer a forward pass needs, kept
//! apart from the weights so one set of weights serves many states and a prefix state
//! can be snapshotted once and restored cheaply for every request.

use candle_core::{DType, Device, Tensor};

use super::cpu::scratch::Scratch;
use crate::{Error, Result};

/// Keys and values of one layer on the lean CPU path: plain f32 rows laid out (kv head,
/// position, head_dim), preallocated for the configured context. Pages of the zeroed
/// buffers are only touched (and counted in RSS) once written.
#[derive(Debug)]
pub(crate) struct CpuKv {
    /// Keys.
    pub k: Vec<f32>,
    /// Values.
    pub v: Vec<f32>,
}

/// Keys and values of one layer on the candle path: tensors (1, kv heads, context,
/// head_dim) on the model's device.
#[derive(Debug)]
pub(crate) struct TensorKv {
    k: Tensor,
    v: Tensor,
}

impl TensorKv {
    /// Write `k`, `v` (1, n_kv, seq, hd) at rows `pos..pos+seq`; return views of rows
    /// `0..pos+seq`.
    pub(crate) fn append(
        &mut self,
        k: &Tensor,
        v: &Tensor,
        pos: usize,
    ) -> Result<(Tensor, Tensor)> {
        let seq = k.dim(2)?;
        let context = self.k.dim(2)?;
        if pos + seq > context {
            return Err(Error::ContextFull {
                context,
                needed: pos + seq,
            });
        }
        self.k.slice_set(&k.contiguous()?, 2, pos)?;
        self.v.slice_set(&v.contiguous()?, 2, pos)?;
        Ok((
            self.k.narrow(2, 0, pos + seq)?,
            self.v.narrow(2, 0, pos + seq)?,
        ))
    }
}

/// A state's caches: each backend ([`Backend`](super::Backend)) has its own, so a lean
/// state always has its scratch and a candle state never carries one.
#[derive(Debug)]
pub(crate) enum Caches {
    /// The lean CPU path: per-layer plain buffers and the forward pass's scratch.
    Lean {
        /// One per layer.
        layers: Vec<CpuKv>,
        /// Every buffer a forward pass needs (boxed: a dozen vectors' headers).
        scratch: Box<Scratch>,
    },
    /// Candle ops (CUDA, and the CPU reference): per-layer tensors.
    Candle {
        /// One per layer.
        layers: Vec<TensorKv>,
    },
}

impl Caches {
    fn n_layers(&self) -> usize {
        match self {
            Caches::Lean { layers, .. } => layers.len(),
            Caches::Candle { layers } => layers.len(),
        }
    }
}

/// The error for a state used with a model of the other backend.
pub(crate) fn wrong_backend(wanted: &str) -> Error {
    Error::InvalidArgument {
        name: "model state",
        value: "a state of the other backend".into(),
        reason: format!("the {wanted} forward needs a state made by this model's new_state()"),
    }
}

/// Shape of the caches: what a snapshot must agree with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KvShape {
    pub n_kv_head: usize,
    pub head_dim: usize,
    pub context: usize,
}

/// KV caches of all layers, the number of tokens they hold, the last logits and (on
/// the lean CPU path) the forward pass's scratch.
#[derive(Debug)]
pub struct ModelState {
    pub(crate) caches: Caches,
    pub(crate) shape: KvShape,
    pos: usize,
    /// Logits (vocab) of the last token of the last forward pass.
    pub(crate) logits: Vec<f32>,
}

impl ModelState {
    /// Empty lean-CPU state for `n_layer` layers with room for `shape.context` tokens.
    pub(crate) fn new_lean(n_layer: usize, shape: KvShape, vocab: usize, scratch: Scratch) -> Self {
        let n = shape.n_kv_head * shape.context * shape.head_dim;
        let layers = (0..n_layer)
            .map(|_| CpuKv {
                k: vec![0.0; n],
                v: vec![0.0; n],
            })
            .collect();
        let scratch = Box::new(scratch);
        Self::with(Caches::Lean { layers, scratch }, shape, vocab)
    }

    /// Empty candle state for `n_layer` layers, tensors on `device`.
    pub(crate) fn new_candle(
        n_layer: usize,
        shape: KvShape,
        vocab: usize,
        device: &Device,
    ) -> Result<Self> {
        let dims = (1, shape.n_kv_head, shape.context, shape.head_dim);
        let layers = (0..n_layer)
            .map(|_| {
                Ok(TensorKv {
                    k: Tensor::zeros(dims, DType::F32, device)?,
                    v: Tensor::zeros(dims, DType::F32, device)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self::with(Caches::Candle { layers }, shape, vocab))
    }

    fn with(caches: Caches, shape: KvShape, vocab: usize) -> Self {
        Self {
            caches,
            shape,
            pos: 0,
            logits: vec![0.0; vocab],
        }
    }

    /// Number of tokens already in the cache (the position of the next token).
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Capacity in tokens.
    pub fn context(&self) -> usize {
        self.shape.context
    }

    /// Forget everything (keeps the allocation).
    pub fn reset(&mut self) {
        self.pos = 0;
    }

    /// Logits (one per vocabulary entry) of the last token of the last forward pass;
    /// mutable so a guide can mask them in place before sampling.
    pub fn logits_mut(&mut self) -> &mut [f32] {
        &mut self.logits
    }

    /// Logits of the last token of the last forward pass.
    pub fn logits(&self) -> &[f32] {
        &self.logits
    }

    /// Forget every token from position `pos` on (their cache rows are overwritten by the
    /// next forward pass), e.g. the rejected part of a verified draft; a `pos` at or past
    /// [`pos`](Self::pos) changes nothing.
    pub fn rewind(&mut self, pos: usize) {
        self.pos = self.pos.min(pos);
    }

    /// Move the position forward after a forward pass wrote `n` rows.
    pub(crate) fn advance(&mut self, n: usize) {
        self.pos += n;
    }

    /// Copy of the first `pos()` rows of every cache, independent of later writes.
    pub fn snapshot(&self) -> Result<StateSnapshot> {
        let (n, hd, ctx) = (self.pos, self.shape.head_dim, self.shape.context);
        let rows = |buf: &Vec<f32>| -> Vec<f32> {
            buf.chunks_exact(ctx * hd)
                .flat_map(|head| &head[..n * hd])
                .copied()
                .collect()
        };
        let layers = match &self.caches {
            Caches::Lean { layers, .. } => {
                SnapLayers::Cpu(layers.iter().map(|l| (rows(&l.k), rows(&l.v))).collect())
            }
            Caches::Candle { layers } => SnapLayers::Tensor(
                layers
                    .iter()
                    .map(|l| Ok((owned_rows(&l.k, n)?, owned_rows(&l.v, n)?)))
                    .collect::<Result<Vec<_>>>()?,
            ),
        };
        Ok(StateSnapshot {
            layers,
            len: n,
            shape: self.shape,
        })
    }

    /// Make this state hold exactly the snapshot's tokens (copies its rows in place).
    pub fn restore(&mut self, snap: &StateSnapshot) -> Result<()> {
        self.check_snapshot(snap)?;
        let (n, hd, ctx) = (snap.len, self.shape.head_dim, self.shape.context);
        match (&mut self.caches, &snap.layers) {
            (_, _) if n == 0 => {}
            (Caches::Lean { layers, .. }, SnapLayers::Cpu(snap_layers)) => {
                for (l, (sk, sv)) in layers.iter_mut().zip(snap_layers) {
                    for (dst, src) in [(&mut l.k, sk), (&mut l.v, sv)] {
                        for (d, s) in dst.chunks_exact_mut(ctx * hd).zip(src.chunks_exact(n * hd)) {
                            d[..n * hd].copy_from_slice(s);
                        }
                    }
                }
            }
            (Caches::Candle { layers }, SnapLayers::Tensor(snap_layers)) => {
                for (l, (sk, sv)) in layers.iter_mut().zip(snap_layers) {
                    l.k.slice_set(sk, 2, 0)?;
                    l.v.slice_set(sv, 2, 0)?;
                }
            }
            _ => {
                return Err(Error::InvalidArgument {
                    name: "snapshot",
                    value: "other backend".into(),
                    reason: "a snapshot restores only into a state of the same model and device"
                        .into(),
                })
            }
        }
        self.pos = n;
        Ok(())
    }

    /// Refuses a snapshot longer than the context or of another model's shape.
    fn check_snapshot(&self, snap: &StateSnapshot) -> Result<()> {
        if snap.len > self.shape.context {
            return Err(Error::ContextFull {
                context: self.shape.context,
                needed: snap.len,
            });
        }
        let n_layers = self.caches.n_layers();
        if snap.layers.len() != n_layers
            || snap.shape.n_kv_head != self.shape.n_kv_head
            || snap.shape.head_dim != self.shape.head_dim
        {
            return Err(Error::InvalidArgument {
                name: "snapshot",
                value: format!("{} layers", snap.layers.len()),
                reason: format!(
                    "this model has {} layers of {} kv heads x {}; take the snapshot from a state of the same model",
                    n_layers, self.shape.n_kv_head, self.shape.head_dim
                ),
            });
        }
        Ok(())
    }
}

/// A contiguous copy of rows `0..n` (dim 2) that shares no storage with `t`.
fn owned_rows(t: &Tensor, n: usize) -> Result<Tensor> {
    let rows = t.narrow(2, 0, n)?;
    // `contiguous` copies a strided view but returns a shared handle to a contiguous one.
    Ok(if rows.is_contiguous() {
        rows.copy()?
    } else {
        rows.contiguous()?
    })
}

/// Every layer's rows in a snapshot, in its backend's form.
#[derive(Debug, Clone)]
enum SnapLayers {
    /// Per layer, (kv head, row, head_dim) keys and values.
    Cpu(Vec<(Vec<f32>, Vec<f32>)>),
    /// Per layer, candle tensors (1, kv heads, rows, head_dim).
    Tensor(Vec<(Tensor, Tensor)>),
}

impl SnapLayers {
    fn len(&self) -> usize {
        match self {
            SnapLayers::Cpu(l) => l.len(),
            SnapLayers::Tensor(l) => l.len(),
        }
    }
}

/// The KV rows of a fixed prefix, copied out of a [`ModelState`].
#[derive(Debug, Clone)]
pub struct StateSnapshot {
    layers: SnapLayers,
    len: usize,
    shape: KvShape,
}

impl StateSnapshot {
    /// Number of tokens the snapshot holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the snapshot holds no tokens.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of KV data held.
    pub fn bytes(&self) -> usize {
        match &self.layers {
            SnapLayers::Cpu(l) => l.iter().map(|(k, v)| (k.len() + v.len()) * 4).sum(),
            SnapLayers::Tensor(l) => l
                .iter()
                .map(|(k, v)| (k.elem_count() + v.elem_count()) * 4)
                .sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHAPE: KvShape = KvShape {
        n_kv_head: 2,
        head_dim: 2,
        context: 4,
    };

    fn cpu_k(st: &mut ModelState) -> &mut Vec<f32> {
        match &mut st.caches {
            Caches::Lean { layers, .. } => &mut layers[0].k,
            Caches::Candle { .. } => panic!("lean state expected"),
        }
    }

    fn tensor_kv(st: &mut ModelState) -> &mut TensorKv {
        match &mut st.caches {
            Caches::Candle { layers } => &mut layers[0],
            Caches::Lean { .. } => panic!("candle state expected"),
        }
    }

    #[test]
    fn cpu_snapshot_survives_later_writes_and_restores() -> Result<()> {
        let mut st = ModelState::new_lean(1, SHAPE, 3, Scratch::default());
        // Two tokens: head 0 rows at 0..4, head 1 rows at 8..12.
        cpu_k(&mut st)[..4].copy_from_slice(&[1., 2., 3., 4.]);
        cpu_k(&mut st)[8..12].copy_from_slice(&[5., 6., 7., 8.]);
        st.advance(2);
        let snap = st.snapshot()?;
        assert_eq!(snap.bytes(), 2 * 2 * 2 * 2 * 4);
        st.reset();
        cpu_k(&mut st).fill(9.0);
        st.restore(&snap)?;
        assert_eq!(st.pos(), 2);
        assert_eq!(&cpu_k(&mut st)[..4], [1., 2., 3., 4.]);
        assert_eq!(&cpu_k(&mut st)[8..12], [5., 6., 7., 8.]);
        Ok(())
    }

    #[test]
    fn tensor_snapshot_survives_later_writes_and_restores() -> Result<()> {
        let dev = Device::Cpu;
        let shape = KvShape {
            n_kv_head: 1,
            ..SHAPE
        };
        let mut st = ModelState::new_candle(1, shape, 3, &dev)?;
        let k = Tensor::new(&[[[[1f32, 2.], [3., 4.]]]], &dev)?;
        tensor_kv(&mut st).append(&k, &k, 0)?;
        st.advance(2);
        let snap = st.snapshot()?;
        let k2 = Tensor::new(&[[[[9f32, 9.]]]], &dev)?;
        st.reset();
        tensor_kv(&mut st).append(&k2, &k2, 0)?;
        st.restore(&snap)?;
        assert_eq!(st.pos(), 2);
        let k = &tensor_kv(&mut st).k;
        let rows = k.narrow(2, 0, 2)?.flatten_all()?.to_vec1::<f32>()?;
        assert_eq!(rows, [1., 2., 3., 4.]);
        Ok(())
    }

    #[test]
    fn append_past_context_is_an_error() -> Result<()> {
        let dev = Device::Cpu;
        let shape = KvShape {
            n_kv_head: 1,
            head_dim: 2,
            context: 1,
        };
        let mut st = ModelState::new_candle(1, shape, 3, &dev)?;
        let k = Tensor::zeros((1, 1, 2, 2), DType::F32, &dev)?;
        assert!(matches!(
            tensor_kv(&mut st).append(&k, &k, 0),
            Err(Error::ContextFull {
                context: 1,
                needed: 2
            })
        ));
        Ok(())
    }
}
