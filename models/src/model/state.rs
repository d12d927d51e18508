//! The mutable half of a model: per-layer KV caches, the position, the logits of the
//! last forward pass and (on the CPU) every scratch buffer a forward pass needs, kept
//! apart from the weights so one set of weights serves many states and a prefix state
//! can be snapshotted once and restored cheaply for every request.

use candle_core::{DType, Device, Tensor};

use super::cpu::scratch::Scratch;
use crate::{Error, Result};

/// Keys and values of one layer, preallocated for the configured context.
///
/// Pages of the zeroed buffers are only touched (and counted in RSS) once written.
#[derive(Debug)]
pub(crate) enum LayerCache {
    /// Plain f32 rows for the lean CPU path, laid out (kv head, position, head_dim).
    Cpu {
        /// Keys.
        k: Vec<f32>,
        /// Values.
        v: Vec<f32>,
    },
    /// Candle tensors (1, kv heads, context, head_dim) for the candle path (CUDA).
    Tensor {
        /// Keys.
        k: Tensor,
        /// Values.
        v: Tensor,
    },
}

impl LayerCache {
    /// Write `k`, `v` (1, n_kv, seq, hd) at rows `pos..pos+seq`; return views of rows
    /// `0..pos+seq`. Candle path only.
    pub(crate) fn append(
        &mut self,
        k: &Tensor,
        v: &Tensor,
        pos: usize,
    ) -> Result<(Tensor, Tensor)> {
        let LayerCache::Tensor { k: ck, v: cv } = self else {
            return Err(Error::InvalidArgument {
                name: "KV cache",
                value: "plain CPU buffers".into(),
                reason: "the candle forward needs a state made by a candle-path model".into(),
            });
        };
        let seq = k.dim(2)?;
        let context = ck.dim(2)?;
        if pos + seq > context {
            return Err(Error::ContextFull {
                context,
                needed: pos + seq,
            });
        }
        ck.slice_set(&k.contiguous()?, 2, pos)?;
        cv.slice_set(&v.contiguous()?, 2, pos)?;
        Ok((ck.narrow(2, 0, pos + seq)?, cv.narrow(2, 0, pos + seq)?))
    }
}

/// Shape of the caches: what a snapshot must agree with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KvShape {
    pub n_kv_head: usize,
    pub head_dim: usize,
    pub context: usize,
}

/// KV caches of all layers, the number of tokens they hold, the last logits and the
/// CPU forward's scratch.
#[derive(Debug)]
pub struct ModelState {
    pub(crate) layers: Vec<LayerCache>,
    pub(crate) shape: KvShape,
    pos: usize,
    /// Logits (vocab) of the last token of the last forward pass.
    pub(crate) logits: Vec<f32>,
    /// Buffers of the lean CPU forward (`None` on the candle path).
    pub(crate) scratch: Option<Scratch>,
}

impl ModelState {
    /// Empty state for `n_layer` layers with room for `context` tokens: plain buffers
    /// when `scratch` is given (lean CPU path), candle tensors on `device` otherwise.
    pub(crate) fn new(
        n_layer: usize,
        shape: KvShape,
        vocab: usize,
        scratch: Option<Scratch>,
        device: &Device,
    ) -> Result<Self> {
        let KvShape {
            n_kv_head,
            head_dim,
            context,
        } = shape;
        let layers = (0..n_layer)
            .map(|_| {
                Ok(if scratch.is_some() {
                    let n = n_kv_head * context * head_dim;
                    LayerCache::Cpu {
                        k: vec![0.0; n],
                        v: vec![0.0; n],
                    }
                } else {
                    let dims = (1, n_kv_head, context, head_dim);
                    LayerCache::Tensor {
                        k: Tensor::zeros(dims, DType::F32, device)?,
                        v: Tensor::zeros(dims, DType::F32, device)?,
                    }
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            layers,
            shape,
            pos: 0,
            logits: vec![0.0; vocab],
            scratch,
        })
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

    /// Move the position forward after a forward pass wrote `n` rows.
    pub(crate) fn advance(&mut self, n: usize) {
        self.pos += n;
    }

    /// Copy of the first `pos()` rows of every cache, independent of later writes.
    pub fn snapshot(&self) -> Result<StateSnapshot> {
        let (n, hd, ctx) = (self.pos, self.shape.head_dim, self.shape.context);
        let layers = self
            .layers
            .iter()
            .map(|l| {
                Ok(match l {
                    LayerCache::Cpu { k, v } => {
                        let rows = |buf: &Vec<f32>| -> Vec<f32> {
                            buf.chunks_exact(ctx * hd)
                                .flat_map(|head| &head[..n * hd])
                                .copied()
                                .collect()
                        };
                        SnapLayer::Cpu(rows(k), rows(v))
                    }
                    LayerCache::Tensor { k, v } => {
                        SnapLayer::Tensor(owned_rows(k, n)?, owned_rows(v, n)?)
                    }
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(StateSnapshot {
            layers,
            len: n,
            shape: self.shape,
        })
    }

    /// Make this state hold exactly the snapshot's tokens (copies its rows in place).
    pub fn restore(&mut self, snap: &StateSnapshot) -> Result<()> {
        if snap.len > self.shape.context {
            return Err(Error::ContextFull {
                context: self.shape.context,
                needed: snap.len,
            });
        }
        if snap.layers.len() != self.layers.len()
            || snap.shape.n_kv_head != self.shape.n_kv_head
            || snap.shape.head_dim != self.shape.head_dim
        {
            return Err(Error::InvalidArgument {
                name: "snapshot",
                value: format!("{} layers", snap.layers.len()),
                reason: format!(
                    "this model has {} layers of {} kv heads x {}; take the snapshot from a state of the same model",
                    self.layers.len(),
                    self.shape.n_kv_head,
                    self.shape.head_dim
                ),
            });
        }
        let (n, hd, ctx) = (snap.len, self.shape.head_dim, self.shape.context);
        if n > 0 {
            for (l, s) in self.layers.iter_mut().zip(&snap.layers) {
                match (l, s) {
                    (LayerCache::Cpu { k, v }, SnapLayer::Cpu(sk, sv)) => {
                        for (dst, src) in [(k, sk), (v, sv)] {
                            for (d, s) in
                                dst.chunks_exact_mut(ctx * hd).zip(src.chunks_exact(n * hd))
                            {
                                d[..n * hd].copy_from_slice(s);
                            }
                        }
                    }
                    (LayerCache::Tensor { k, v }, SnapLayer::Tensor(sk, sv)) => {
                        k.slice_set(sk, 2, 0)?;
                        v.slice_set(sv, 2, 0)?;
                    }
                    _ => {
                        return Err(Error::InvalidArgument {
                            name: "snapshot",
                            value: "other backend".into(),
                            reason:
                                "a snapshot restores only into a state of the same model and device"
                                    .into(),
                        })
                    }
                }
            }
        }
        self.pos = n;
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

/// One layer's rows in a snapshot.
#[derive(Debug, Clone)]
enum SnapLayer {
    /// (kv head, row, head_dim) keys and values.
    Cpu(Vec<f32>, Vec<f32>),
    /// Candle tensors (1, kv heads, rows, head_dim).
    Tensor(Tensor, Tensor),
}

/// The KV rows of a fixed prefix, copied out of a [`ModelState`].
#[derive(Debug, Clone)]
pub struct StateSnapshot {
    layers: Vec<SnapLayer>,
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
        self.layers
            .iter()
            .map(|l| match l {
                SnapLayer::Cpu(k, v) => (k.len() + v.len()) * 4,
                SnapLayer::Tensor(k, v) => (k.elem_count() + v.elem_count()) * 4,
            })
            .sum()
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

    fn cpu_k(st: &ModelState) -> &[f32] {
        match &st.layers[0] {
            LayerCache::Cpu { k, .. } => k,
            LayerCache::Tensor { .. } => &[],
        }
    }

    #[test]
    fn cpu_snapshot_survives_later_writes_and_restores() -> Result<()> {
        let mut st = ModelState::new(1, SHAPE, 3, Some(Scratch::default()), &Device::Cpu)?;
        // Two tokens: head 0 rows at 0..4, head 1 rows at 8..12.
        if let LayerCache::Cpu { k, .. } = &mut st.layers[0] {
            k[..4].copy_from_slice(&[1., 2., 3., 4.]);
            k[8..12].copy_from_slice(&[5., 6., 7., 8.]);
        }
        st.advance(2);
        let snap = st.snapshot()?;
        assert_eq!(snap.bytes(), 2 * 2 * 2 * 2 * 4);
        st.reset();
        if let LayerCache::Cpu { k, .. } = &mut st.layers[0] {
            k.fill(9.0);
        }
        st.restore(&snap)?;
        assert_eq!(st.pos(), 2);
        assert_eq!(&cpu_k(&st)[..4], [1., 2., 3., 4.]);
        assert_eq!(&cpu_k(&st)[8..12], [5., 6., 7., 8.]);
        Ok(())
    }

    #[test]
    fn tensor_snapshot_survives_later_writes_and_restores() -> Result<()> {
        let dev = Device::Cpu;
        let shape = KvShape {
            n_kv_head: 1,
            ..SHAPE
        };
        let mut st = ModelState::new(1, shape, 3, None, &dev)?;
        let k = Tensor::new(&[[[[1f32, 2.], [3., 4.]]]], &dev)?;
        st.layers[0].append(&k, &k, 0)?;
        st.advance(2);
        let snap = st.snapshot()?;
        let k2 = Tensor::new(&[[[[9f32, 9.]]]], &dev)?;
        st.reset();
        st.layers[0].append(&k2, &k2, 0)?;
        st.restore(&snap)?;
        assert_eq!(st.pos(), 2);
        let LayerCache::Tensor { k, .. } = &st.layers[0] else {
            panic!("tensor cache expected");
        };
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
        let mut st = ModelState::new(1, shape, 3, None, &dev)?;
        let k = Tensor::zeros((1, 1, 2, 2), DType::F32, &dev)?;
        assert!(matches!(
            st.layers[0].append(&k, &k, 0),
            Err(Error::ContextFull {
                context: 1,
                needed: 2
            })
        ));
        Ok(())
    }
}
