//! End-to-end test support.

pub mod deploy;
pub mod harness;
pub mod otlp;
