//! Which compute device runs the model: `cpu` or `cuda:N`.

use std::fmt;
use std::str::FromStr;

use crate::{Error, Result};

/// A compute device as the user names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceSpec {
    /// The CPU: bora's kernels, on [`ModelOptions::threads`](crate::ModelOptions::threads) threads
    /// (candle's own CPU ops, used by Whisper and as the test reference, size their
    /// threads from RAYON_NUM_THREADS).
    #[default]
    Cpu,
    /// CUDA GPU with this ordinal (needs the `cuda` feature).
    Cuda(usize),
}

impl DeviceSpec {
    /// Create the candle device; a typed error when CUDA is asked for but not compiled in.
    pub fn open(self) -> Result<candle_core::Device> {
        match self {
            Self::Cpu => Ok(candle_core::Device::Cpu),
            Self::Cuda(n) => {
                if !candle_core::utils::cuda_is_available() {
                    return Err(Error::DeviceUnavailable {
                        device: self.to_string(),
                        reason: "this build has no CUDA support; rebuild with `--features cuda`"
                            .into(),
                    });
                }
                candle_core::Device::new_cuda(n).map_err(|e| Error::DeviceUnavailable {
                    device: self.to_string(),
                    reason: format!("{e}; check the GPU ordinal and driver (nvidia-smi)"),
                })
            }
        }
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cpu => write!(f, "cpu"),
            Self::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

impl FromStr for DeviceSpec {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::InvalidArgument {
            name: "device",
            value: s.to_string(),
            reason: "expected `cpu`, `cuda` or `cuda:N`".into(),
        };
        match s {
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda(0)),
            _ => {
                let n = s.strip_prefix("cuda:").ok_or_else(bad)?;
                n.parse().map(Self::Cuda).map_err(|_| bad())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_devices() -> Result<()> {
        assert_eq!("cpu".parse::<DeviceSpec>()?, DeviceSpec::Cpu);
        assert_eq!("cuda:1".parse::<DeviceSpec>()?, DeviceSpec::Cuda(1));
        assert_eq!(DeviceSpec::Cuda(2).to_string(), "cuda:2");
        assert!(matches!(
            "gpu".parse::<DeviceSpec>(),
            Err(Error::InvalidArgument { name: "device", .. })
        ));
        Ok(())
    }

    #[test]
    fn cuda_without_the_feature_is_a_typed_error() {
        if !candle_core::utils::cuda_is_available() {
            assert!(matches!(
                DeviceSpec::Cuda(0).open(),
                Err(Error::DeviceUnavailable { .. })
            ));
        }
    }
}
