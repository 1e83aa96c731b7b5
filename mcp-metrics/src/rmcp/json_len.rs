//! The serialised size of a value without serialising it into memory: serde writes into a
//! counter that keeps no byte. Self-contained, so that the sizing benchmark measures this very
//! code.

use serde_json::ser::Serializer;
use std::io;

/// An `io::Write` that counts the bytes written to it and keeps none.
#[derive(Debug, Default, Clone, Copy)]
struct ByteCounter(u64);

impl io::Write for ByteCounter {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0 += buf.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The length in bytes of the compact JSON serialisation of `value` (as `serde_json::to_vec`
/// would produce it), computed without allocating; `None` if it does not serialise.
pub(crate) fn json_len<T: serde::Serialize + ?Sized>(value: &T) -> Option<u64> {
    let mut counter = ByteCounter::default();
    value
        .serialize(&mut Serializer::new(&mut counter))
        .ok()
        .map(|()| counter.0)
}
