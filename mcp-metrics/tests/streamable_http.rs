//! The streamable HTTP transport layer and session manager, in process.
