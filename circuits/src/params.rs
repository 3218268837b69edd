//! Circuit parameters: the shape a batch circuit is set up for.

use serde::{Deserialize, Serialize};

/// The account index that collects every fee of a batch (the operator's account).
pub const OPERATOR_INDEX: u64 = 0;

/// The largest supported tree depth: indices must fit the 32-bit fields of the public data.
pub const MAX_DEPTH: u32 = 32;

/// Invalid circuit parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    /// The depth is zero, odd, or too large.
    #[error("depth must be an even number between 2 and {MAX_DEPTH}, got {0}")]
    BadDepth(u32),
    /// The batch size is zero or unreasonably large.
    #[error("batch size must be between 1 and 4096, got {0}")]
    BadBatchSize(usize),
}

/// The shape of a batch circuit. A Groth16 setup is specific to one `CircuitParams`; the chain id
/// is not part of it (see [`crate::genesis`]), so one setup serves every deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CircuitParams {
    /// Address bits: the tree holds `2^depth` accounts (8-ary levels of 3 bits, and one or two
    /// 4-ary levels of 2 bits when `depth` is not a multiple of 3: [`crate::merkle::level_bits`]).
    pub depth: u32,
    /// Number of transaction slots per batch.
    pub batch_size: usize,
}

impl CircuitParams {
    /// Validated parameters.
    pub fn new(depth: u32, batch_size: usize) -> Result<Self, ParamsError> {
        if !(2..=MAX_DEPTH).contains(&depth) || !depth.is_multiple_of(2) {
            return Err(ParamsError::BadDepth(depth));
        }
        if batch_size == 0 || batch_size > 4096 {
            return Err(ParamsError::BadBatchSize(batch_size));
        }
        Ok(Self { depth, batch_size })
    }

    /// Re-checks parameters that came from outside (e.g. deserialized).
    pub fn validate(&self) -> Result<(), ParamsError> {
        Self::new(self.depth, self.batch_size).map(|_| ())
    }

    /// Number of levels of the account tree.
    pub fn levels(&self) -> usize {
        crate::merkle::level_bits(self.depth).len()
    }

    /// Number of account slots, `2^depth`.
    pub fn capacity(&self) -> u64 {
        1u64 << self.depth
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        assert!(CircuitParams::new(4, 2).is_ok());
        assert_eq!(CircuitParams::new(3, 2), Err(ParamsError::BadDepth(3)));
        assert_eq!(CircuitParams::new(0, 2), Err(ParamsError::BadDepth(0)));
        assert_eq!(CircuitParams::new(34, 2), Err(ParamsError::BadDepth(34)));
        assert_eq!(CircuitParams::new(4, 0), Err(ParamsError::BadBatchSize(0)));
        assert_eq!(CircuitParams::new(24, 1).unwrap().levels(), 8);
        assert_eq!(CircuitParams::new(16, 1).unwrap().levels(), 6);
    }
}
