//! The mutable half of a model: per-layer KV caches and the position, kept apart from
//! the weights so one set of weights serves many states and a prefix state can be
//! snapshotted once and restored cheaply for every request.

use candle_core::{DType, Device, Tensor};

use crate::{Error, Result};

/// Keys and values of one layer, preallocated for the configured context.
///
/// Pages of the zeroed buffers are only touched (and counted in RSS) once written.
#[derive(Debug)]
pub struct LayerCache {
    k: Tensor,
    v: Tensor,
}

impl LayerCache {
    fn new(n_kv_head: usize, context: usize, head_dim: usize, device: &Device) -> Result<Self> {
        let shape = (1, n_kv_head, context, head_dim);
        Ok(Self {
            k: Tensor::zeros(shape, DType::F32, device)?,
            v: Tensor::zeros(shape, DType::F32, device)?,
        })
    }

    /// Write `k`, `v` (1, n_kv, seq, hd) at rows `pos..pos+seq`; return views of rows `0..pos+seq`.
    pub fn append(&mut self, k: &Tensor, v: &Tensor, pos: usize) -> Result<(Tensor, Tensor)> {
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

/// KV caches of all layers plus the number of tokens they hold.
#[derive(Debug)]
pub struct ModelState {
    pub(crate) layers: Vec<LayerCache>,
    pos: usize,
    context: usize,
}

impl ModelState {
    /// Empty state for `n_layer` layers with room for `context` tokens.
    pub(crate) fn new(
        n_layer: usize,
        n_kv_head: usize,
        head_dim: usize,
        context: usize,
        device: &Device,
    ) -> Result<Self> {
        let layers = (0..n_layer)
            .map(|_| LayerCache::new(n_kv_head, context, head_dim, device))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            layers,
            pos: 0,
            context,
        })
    }

    /// Number of tokens already in the cache (the position of the next token).
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Capacity in tokens.
    pub fn context(&self) -> usize {
        self.context
    }

    /// Forget everything (keeps the allocation).
    pub fn reset(&mut self) {
        self.pos = 0;
    }

    /// Move the position forward after a forward pass wrote `n` rows.
    pub(crate) fn advance(&mut self, n: usize) {
        self.pos += n;
    }

    /// Copy of the first `pos()` rows of every cache, independent of later writes.
    pub fn snapshot(&self) -> Result<StateSnapshot> {
        let layers = self
            .layers
            .iter()
            .map(|l| Ok((owned_rows(&l.k, self.pos)?, owned_rows(&l.v, self.pos)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(StateSnapshot {
            layers,
            len: self.pos,
        })
    }

    /// Make this state hold exactly the snapshot's tokens (copies its rows in place).
    pub fn restore(&mut self, snap: &StateSnapshot) -> Result<()> {
        if snap.len > self.context {
            return Err(Error::ContextFull {
                context: self.context,
                needed: snap.len,
            });
        }
        if snap.layers.len() != self.layers.len() {
            return Err(Error::InvalidArgument {
                name: "snapshot",
                value: format!("{} layers", snap.layers.len()),
                reason: format!("this model has {} layers", self.layers.len()),
            });
        }
        if snap.len > 0 {
            for (l, (k, v)) in self.layers.iter_mut().zip(&snap.layers) {
                l.k.slice_set(k, 2, 0)?;
                l.v.slice_set(v, 2, 0)?;
            }
        }
        self.pos = snap.len;
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

/// The KV rows of a fixed prefix, copied out of a [`ModelState`].
#[derive(Debug, Clone)]
pub struct StateSnapshot {
    layers: Vec<(Tensor, Tensor)>,
    len: usize,
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
            .map(|(k, v)| (k.elem_count() + v.elem_count()) * 4)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_survives_later_writes_and_restores() -> Result<()> {
        let dev = Device::Cpu;
        let mut st = ModelState::new(1, 1, 2, 4, &dev)?;
        let k = Tensor::new(&[[[[1f32, 2.], [3., 4.]]]], &dev)?;
        st.layers[0].append(&k, &k, 0)?;
        st.advance(2);
        let snap = st.snapshot()?;
        let k2 = Tensor::new(&[[[[9f32, 9.]]]], &dev)?;
        st.reset();
        st.layers[0].append(&k2, &k2, 0)?;
        assert_eq!(
            snap.layers[0].0.flatten_all()?.to_vec1::<f32>()?,
            [1., 2., 3., 4.]
        );
        st.restore(&snap)?;
        assert_eq!(st.pos(), 2);
        let rows = st.layers[0]
            .k
            .narrow(2, 0, 2)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        assert_eq!(rows, [1., 2., 3., 4.]);
        Ok(())
    }

    #[test]
    fn append_past_context_is_an_error() -> Result<()> {
        let dev = Device::Cpu;
        let mut st = ModelState::new(1, 1, 2, 1, &dev)?;
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
