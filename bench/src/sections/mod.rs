//! The binary's side of a run: one module per section of `BENCHMARKS.md` (each measures its rows
//! and hands them to [`smartag_bench::report`]), the alternating rounds the A/B sections share,
//! the server child processes, and the host's description.

pub(crate) mod ab_rounds;
pub(crate) mod client;
pub(crate) mod generator;
pub(crate) mod host;
pub(crate) mod sdk;
pub(crate) mod server;
pub(crate) mod server_process;
pub(crate) mod service;
pub(crate) mod stores;
