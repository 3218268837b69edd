//! # zkr-benches: measuring proving time per batch
//!
//! The code behind `zkr bench` and `zkr bench-pool`. Every number it reports is measured in the
//! same process, on the same machine, in the same run:
//!
//! * [`measure_row`]: for one (depth, batch size, threads): setup, native witness generation,
//!   constraint synthesis, proving (several runs: median, min, max), verification, sizes, peak
//!   memory, and the **Groth16 floor** ([`floor`]): the prove time of a synthetic circuit with the
//!   same numbers of constraints and variables, so that `prove / floor` says how much the batch
//!   circuit costs beyond what Groth16 itself must spend on a circuit of that size;
//! * [`msm_inputs`]: bases and scalars (random, and a real batch's witness) for the MSM
//!   benches (`cargo bench -p zkr-benches --bench msm`);
//! * [`pool_throughput`]: batches per second when several batches queue up, for a pool
//!   configuration.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod floor;
pub mod machine;
pub mod msm_inputs;
pub mod row;

pub use floor::floor;
pub use machine::Machine;
pub use row::{
    funded_state, measure_row, pool_throughput, sample_batches, transfers, BenchRow, PoolRow, Stats,
};
