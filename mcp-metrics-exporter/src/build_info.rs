//! `mcp_build_info{service, version} 1`, filled in from the user's crate.

use metrics::{Key, Label, Recorder as _};

use crate::registry::Registry;

/// Name and version of the server being measured, exported as
/// `mcp_build_info{service, version} 1`. Build it with [`build_info!`](crate::build_info) so
/// that it names your crate, not this one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildInfo {
    /// Service name; by default the user crate's package name.
    pub service: String,
    /// Service version; by default the user crate's package version.
    pub version: String,
}

impl BuildInfo {
    /// Build info with these values.
    pub fn new(service: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            version: version.into(),
        }
    }

    /// Sets `mcp_build_info{service, version}` to 1 in `registry`.
    pub(crate) fn record(&self, registry: &Registry) {
        let labels = vec![
            Label::new("service", self.service.clone()),
            Label::new("version", self.version.clone()),
        ];
        let key = Key::from_parts(mcp_metrics::names::BUILD_INFO, labels);
        let metadata = metrics::Metadata::new(module_path!(), metrics::Level::INFO, None);
        registry.describe_metric(&mcp_metrics::catalog::BUILD_INFO);
        registry.register_gauge(&key, &metadata).set(1.0);
    }
}

/// The [`BuildInfo`] of the crate this macro is written in: its `CARGO_PKG_NAME` and
/// `CARGO_PKG_VERSION`, read at compile time at the call site.
///
/// ```
/// let info = mcp_metrics_exporter::build_info!();
/// assert_eq!(info.service, "mcp-metrics-exporter"); // this doctest is compiled as part of this crate
/// ```
#[macro_export]
macro_rules! build_info {
    () => {
        $crate::BuildInfo::new(
            ::core::env!("CARGO_PKG_NAME"),
            ::core::env!("CARGO_PKG_VERSION"),
        )
    };
}
