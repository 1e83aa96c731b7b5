//! Per-request cost of the transport layer.
fn main() {}
