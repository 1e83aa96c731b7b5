//! The builder ladder: [`crate::install`] in one call, or [`ExporterBuilder`] for full control.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use mcp_metrics::Objective;

use crate::auth::Auth;
use crate::build_info::BuildInfo;
use crate::config::metrics::{ExporterKind, MetricsSettings};
#[cfg(feature = "otlp")]
use crate::config::otlp::{HistogramAggregation, Temporality};
#[cfg(any(feature = "push", feature = "otlp"))]
use crate::config::outbound::Outbound;
#[cfg(any(feature = "push", feature = "otlp"))]
use crate::config::parse;
use crate::config::{Env, Lookup, vars};
use crate::error::{ConfigError, Error};
use crate::http::router;
use crate::registry::Registry;
use crate::rules::MetricMatcher;
use crate::task::{BackgroundTask, spawn_export};

/// Collects settings from code and from the environment.
///
/// Settings apply in call order, so `from_env()` followed by setters lets code override the
/// environment, and setters followed by [`ExporterBuilder::env`] let the environment win.
#[derive(Clone, Debug, Default)]
pub struct ExporterBuilder {
    settings: MetricsSettings,
    objectives: Vec<Objective>,
}

impl ExporterBuilder {
    /// Defaults: Prometheus pull on `127.0.0.1:9464`, no auth, 10000 series per metric.
    pub fn new() -> Self {
        Self::default()
    }

    /// Defaults, then the process environment (see the
    /// [crate's table](crate#environment-variables)).
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the first variable with a bad value.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::new().env(&|name| std::env::var(name).ok())
    }

    /// Applies the variables that `lookup` returns, as [`ExporterBuilder::from_env`] does with
    /// the process environment: each variable is looked up once; empty values count as unset.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the first variable with a bad value.
    pub fn env(mut self, lookup: Lookup<'_>) -> Result<Self, ConfigError> {
        self.settings.apply_env(&Env::read(lookup, vars::METRICS))?;
        Ok(self)
    }

    /// Chooses where metrics go.
    pub fn exporter(mut self, kind: ExporterKind) -> Self {
        self.settings.kind = kind;
        self
    }

    /// Address of the standalone scrape listener (Prometheus exporter).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.settings.listen = Some(addr);
        self
    }

    /// No standalone listener: serve [`ExporterHandle::router`] from your own server instead.
    pub fn without_listener(mut self) -> Self {
        self.settings.listen = None;
        self
    }

    /// Requires HTTP basic auth from scrapers.
    pub fn basic_auth(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.settings.auth = Some(Auth::Basic {
            user: user.into(),
            password: password.into(),
        });
        self
    }

    /// Requires `Authorization: Bearer <token>` from scrapers.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.settings.auth = Some(Auth::Bearer(token.into()));
        self
    }

    /// Pushes to the Pushgateway at `url` (`http://host:port` or `https://host:port`): selects
    /// [`ExporterKind::Push`].
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] when the URL is not an `http://` or `https://` URL with a host.
    #[cfg(feature = "push")]
    pub fn push_gateway(mut self, url: &str) -> Result<Self, ConfigError> {
        self.settings.push.url = Some(parse::url("push_gateway", url)?);
        self.settings.kind = ExporterKind::Push;
        Ok(self)
    }

    /// Time between two pushes.
    #[cfg(feature = "push")]
    pub fn push_interval(mut self, interval: Duration) -> Self {
        self.settings.push.interval = interval;
        self
    }

    /// Pushgateway `job` grouping label (default: the service name).
    #[cfg(feature = "push")]
    pub fn push_job(mut self, job: impl Into<String>) -> Self {
        self.settings.push.job = Some(job.into());
        self
    }

    /// Pushgateway `instance` grouping label (default: the host name).
    #[cfg(feature = "push")]
    pub fn push_instance(mut self, instance: impl Into<String>) -> Self {
        self.settings.push.instance = Some(instance.into());
        self
    }

    /// Whether [`ExporterHandle::shutdown`] deletes this instance's group from the Pushgateway
    /// instead of pushing a last time (default `false`).
    #[cfg(feature = "push")]
    pub fn push_delete_on_shutdown(mut self, delete: bool) -> Self {
        self.settings.push.delete_on_shutdown = delete;
        self
    }

    /// TLS, headers (e.g. [`Outbound::basic_auth`]), timeout and compression of pushes.
    #[cfg(feature = "push")]
    pub fn push_outbound(mut self, outbound: Outbound) -> Self {
        self.settings.push.outbound = outbound;
        self
    }

    /// Sends OTLP metrics to the full URL `url`, such as `https://collector:4318/v1/metrics`:
    /// selects [`ExporterKind::Otlp`].
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] when the URL is not an `http://` or `https://` URL with a host.
    #[cfg(feature = "otlp")]
    pub fn otlp_endpoint(mut self, url: &str) -> Result<Self, ConfigError> {
        self.settings.otlp.endpoint = Some(parse::url("otlp_endpoint", url)?.to_string());
        self.settings.kind = ExporterKind::Otlp;
        Ok(self)
    }

    /// Time between two OTLP exports.
    #[cfg(feature = "otlp")]
    pub fn otlp_interval(mut self, interval: Duration) -> Self {
        self.settings.otlp.interval = interval;
        self
    }

    /// TLS, headers, timeout and compression of OTLP exports.
    #[cfg(feature = "otlp")]
    pub fn otlp_outbound(mut self, outbound: Outbound) -> Self {
        self.settings.otlp.outbound = outbound;
        self
    }

    /// Which OTLP metrics are deltas, as `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`
    /// sets it (default [`Temporality::Cumulative`]).
    #[cfg(feature = "otlp")]
    pub fn otlp_temporality(mut self, temporality: Temporality) -> Self {
        self.settings.otlp.temporality = temporality;
        self
    }

    /// How histograms leave over OTLP, as
    /// `OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION` sets it (default
    /// [`HistogramAggregation::ExplicitBucket`]).
    #[cfg(feature = "otlp")]
    pub fn otlp_histogram_aggregation(mut self, aggregation: HistogramAggregation) -> Self {
        self.settings.otlp.aggregation = aggregation;
        self
    }

    /// The service name, as `OTEL_SERVICE_NAME` sets it: `service.name` of the OTLP resource
    /// and the default Pushgateway `job` (default: the build info's service).
    #[cfg(any(feature = "push", feature = "otlp"))]
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.settings.resource.service_name = Some(name.into());
        self
    }

    /// Time between two prints of the stdout exporter.
    pub fn stdout_interval(mut self, interval: Duration) -> Self {
        self.settings.stdout_interval = interval;
        self
    }

    /// Series limit of every metric without a specific one.
    pub fn series_limit(mut self, limit: usize) -> Self {
        self.settings.registry = std::mem::take(&mut self.settings.registry).series_limit(limit);
        self
    }

    /// Series limit of the metrics `matcher` selects.
    pub fn series_limit_for(mut self, matcher: MetricMatcher, limit: usize) -> Self {
        self.settings.registry =
            std::mem::take(&mut self.settings.registry).series_limit_for(matcher, limit);
        self
    }

    /// Histogram buckets of the metrics `matcher` selects.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidBuckets`] for an empty, unsorted, NaN or infinite list.
    pub fn buckets_for(mut self, matcher: MetricMatcher, bounds: &[f64]) -> Result<Self, Error> {
        self.settings.registry =
            std::mem::take(&mut self.settings.registry).buckets_for(matcher, bounds)?;
        Ok(self)
    }

    /// Histogram buckets of the metrics no matcher selects.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidBuckets`] for an empty, unsorted, NaN or infinite list.
    pub fn default_buckets(mut self, bounds: &[f64]) -> Result<Self, Error> {
        self.settings.registry =
            std::mem::take(&mut self.settings.registry).default_buckets(bounds)?;
        Ok(self)
    }

    /// Exports `mcp_build_info{service, version} 1`; pass [`build_info!()`](crate::build_info).
    pub fn build_info(mut self, info: BuildInfo) -> Self {
        self.settings.build_info = Some(info);
        self
    }

    /// Adds the service-level objective of a tool defined elsewhere (one without
    /// `#[mcp_tool(objective(...))]`), exported with the declared ones as
    /// `mcp_tool_objective_ratio`; [`ExporterBuilder::build`] checks it.
    ///
    /// ```
    /// use mcp_metrics::Objective;
    /// use mcp_metrics_exporter::{ExporterBuilder, ExporterKind};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let exporter = ExporterBuilder::new()
    ///     .exporter(ExporterKind::None)
    ///     .objective(Objective::new("search").success(99.9)?.latency(0.5, 95.0)?)
    ///     .objective(Objective::new("batch").success(99.0)?)
    ///     .build()?;
    /// assert_eq!(exporter.objectives().len(), 2);
    /// # Ok(()) }
    /// ```
    pub fn objective(mut self, objective: Objective) -> Self {
        self.objectives.push(objective);
        self
    }

    /// Checks the settings and the objectives of tools, reads certificate files and builds the
    /// HTTP client of push or OTLP, and creates the registry, with the HELP text and units of
    /// the `mcp-metrics` names (`mcp_metrics::catalog`), the build info and the objectives;
    /// starts nothing.
    ///
    /// The objectives are those `mcp_metrics::objectives()` lists (declared with
    /// `#[mcp_tool(objective(...))]`) and those added with [`ExporterBuilder::objective`].
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] for a missing or inconsistent setting, or a TLS configuration that
    /// cannot be used; [`Error::Objective`], [`Error::DuplicateObjective`] or
    /// [`Error::ObjectiveThreshold`] naming the tool whose objective is empty, given twice, or
    /// has a latency threshold that is not a bucket bound of `mcp_tool_duration_seconds`.
    pub fn build(self) -> Result<Exporter, Error> {
        #[cfg(feature = "_client")]
        crate::tls::install_default_provider();
        self.settings.validate()?;
        let objectives = crate::objectives::checked(
            mcp_metrics::objectives(),
            &self.objectives,
            &self.settings.registry,
        )?;
        let plan = Plan::new(&self.settings)?;
        let registry = Registry::new(self.settings.registry_config());
        describe_catalog(&registry);
        if let Some(info) = &self.settings.build_info {
            info.record(&registry);
        }
        crate::objectives::record(&objectives, &registry);
        Ok(Exporter {
            registry,
            settings: self.settings,
            plan,
            objectives,
        })
    }

    /// [`ExporterBuilder::build`], then [`Exporter::install`].
    ///
    /// # Errors
    ///
    /// See both.
    pub fn install(self) -> Result<ExporterHandle, Error> {
        self.build()?.install()
    }
}

/// What [`Exporter::start`] will run, prepared (clients built) at build time.
#[derive(Debug)]
enum Plan {
    Nothing,
    Listen(SocketAddr),
    #[cfg(feature = "push")]
    Push(Box<crate::push::PushSink>, Duration),
    #[cfg(feature = "otlp")]
    Otlp(Box<crate::otlp::OtlpSink>, Duration),
    Stdout(Duration),
}

impl Plan {
    fn new(s: &MetricsSettings) -> Result<Self, ConfigError> {
        Ok(match s.kind {
            ExporterKind::None => Self::Nothing,
            ExporterKind::Prometheus => s.listen.map_or(Self::Nothing, Self::Listen),
            #[cfg(feature = "push")]
            ExporterKind::Push => Self::Push(
                Box::new(crate::push::PushSink::new(&s.push, s.service())?),
                s.push.interval,
            ),
            #[cfg(feature = "otlp")]
            ExporterKind::Otlp => Self::Otlp(
                Box::new(crate::otlp::OtlpSink::new(&s.otlp, s.otlp_resource())?),
                s.otlp.interval,
            ),
            ExporterKind::Stdout => Self::Stdout(s.stdout_interval),
            // Refused by `MetricsSettings::validate` when the feature is off.
            #[allow(unreachable_patterns)]
            _ => Self::Nothing,
        })
    }
}

/// A configured registry whose exporter has not started yet.
#[derive(Debug)]
pub struct Exporter {
    registry: Registry,
    settings: MetricsSettings,
    plan: Plan,
    objectives: Vec<Objective>,
}

impl Exporter {
    /// The registry, which is also the [`metrics::Recorder`] to install.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The objectives of tools this exporter exports, declared ones first.
    pub fn objectives(&self) -> &[Objective] {
        &self.objectives
    }

    /// The chosen exporter.
    pub fn kind(&self) -> ExporterKind {
        self.settings.kind
    }

    /// A `GET /metrics` router over this registry, with the configured auth.
    pub fn router(&self) -> Router {
        router(self.registry.clone(), self.settings.auth.clone())
    }

    /// Starts the exporter (listener or export loop) without touching the global recorder:
    /// record through [`Exporter::registry`], e.g. with `metrics::with_local_recorder`.
    ///
    /// # Errors
    ///
    /// [`Error::NoRuntime`] outside a Tokio runtime (except for `none`, and Prometheus without
    /// a listener), [`Error::Bind`] when the listener cannot bind.
    pub fn start(self) -> Result<ExporterHandle, Error> {
        let runtime = || tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime);
        let router = self.router();
        let registry = self.registry.clone();
        let task = match self.plan {
            Plan::Nothing => None,
            Plan::Listen(addr) => Some(BackgroundTask::serve(router, addr)?),
            #[cfg(feature = "push")]
            Plan::Push(sink, interval) => {
                let runtime = runtime()?;
                tracing::info!(
                    url = %crate::task::Sink::destination(&*sink),
                    "pushing metrics every {}",
                    crate::task::human(interval)
                );
                Some(spawn_export(&runtime, "push", registry, *sink, interval))
            }
            #[cfg(feature = "otlp")]
            Plan::Otlp(sink, interval) => {
                let runtime = runtime()?;
                tracing::info!(
                    endpoint = %crate::task::Sink::destination(&*sink),
                    "exporting metrics over OTLP every {}",
                    crate::task::human(interval)
                );
                Some(spawn_export(&runtime, "otlp", registry, *sink, interval))
            }
            Plan::Stdout(interval) => Some(spawn_export(
                &runtime()?,
                "stdout",
                registry,
                crate::stdout::StdoutSink,
                interval,
            )),
        };
        Ok(ExporterHandle {
            registry: self.registry,
            auth: self.settings.auth,
            task,
        })
    }

    /// Starts the exporter and makes the registry (with the descriptions of
    /// `mcp_metrics::catalog`, set by [`ExporterBuilder::build`]) the global `metrics` recorder
    /// and the store of every `mcp-metrics` instrument (`mcp_metrics::store::set_store`). With
    /// [`ExporterKind::None`] it installs nothing, so recording stays a no-op.
    ///
    /// # Errors
    ///
    /// As [`Exporter::start`], and [`Error::RecorderAlreadySet`] when another global
    /// recorder is installed (the exporter is then stopped again).
    pub fn install(self) -> Result<ExporterHandle, Error> {
        if self.settings.kind == ExporterKind::None {
            return self.start();
        }
        let registry = self.registry.clone();
        let handle = self.start()?;
        metrics::set_global_recorder(registry.clone()).map_err(|_| Error::RecorderAlreadySet)?;
        // `mcp-metrics` instruments record straight into this registry's atomics from now on.
        // The global recorder can be set once, so no other store was handed over before.
        let _ = mcp_metrics::store::set_store(std::sync::Arc::new(registry));
        Ok(handle)
    }
}

/// Registers the HELP text and units of every metric of `mcp_metrics::catalog` in `registry`.
pub(crate) fn describe_catalog(registry: &Registry) {
    for metric in mcp_metrics::catalog::METRICS {
        registry.describe_metric(metric);
    }
}

/// A running exporter. Dropping it stops the listener or export loop at once;
/// [`ExporterHandle::shutdown`] stops gracefully (with a last push or OTLP export, or the
/// deletion of the Pushgateway group when configured), and [`ExporterHandle::detach`] lets it
/// run for the life of the runtime.
#[derive(Debug)]
#[must_use = "dropping the handle stops the exporter; keep it, or call `.detach()`"]
pub struct ExporterHandle {
    registry: Registry,
    auth: Option<Auth>,
    task: Option<BackgroundTask>,
}

impl ExporterHandle {
    /// The registry behind this exporter.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// A `GET /metrics` router over the registry, with the configured auth, to merge into
    /// your own `axum` app (e.g. beside rmcp's `StreamableHttpService` at `/mcp`).
    pub fn router(&self) -> Router {
        router(self.registry.clone(), self.auth.clone())
    }

    /// The address the standalone listener bound, if there is one.
    pub fn listen_addr(&self) -> Option<SocketAddr> {
        self.task.as_ref().and_then(BackgroundTask::local_addr)
    }

    /// Whether the listener or export loop is alive; `true` for exporters that run nothing
    /// (`none`, Prometheus without a listener). An export loop only ends on shutdown, so
    /// `false` here means it failed.
    pub fn is_running(&self) -> bool {
        self.task.as_ref().is_none_or(BackgroundTask::is_running)
    }

    /// Lets the listener or export loop run for as long as the Tokio runtime does.
    pub fn detach(mut self) {
        if let Some(task) = self.task.take() {
            task.detach();
        }
    }

    /// Stops the listener or export loop: the listener finishes its scrapes; push and OTLP
    /// export once more (or the push group is deleted, when configured).
    pub async fn shutdown(mut self) {
        if let Some(task) = self.task.take() {
            task.shutdown().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_metrics::names;

    #[test]
    fn build_describes_the_facade_names_and_records_build_info() {
        let exporter = ExporterBuilder::new()
            .exporter(ExporterKind::None)
            .build_info(BuildInfo::new("svc", "1.2.3"))
            .build()
            .unwrap();
        metrics::with_local_recorder(exporter.registry(), || {
            metrics::histogram!(names::TOOL_DURATION_SECONDS, "tool" => "t").record(0.1);
        });
        let text = exporter.registry().render_prometheus();
        let help = text
            .lines()
            .find(|l| l.starts_with("# HELP mcp_tool_duration_seconds "))
            .unwrap();
        assert!(!help.contains("no description registered"), "{help}");
        assert!(
            text.contains("mcp_build_info{service=\"svc\",version=\"1.2.3\"} 1\n"),
            "{text}"
        );
    }

    #[test]
    fn start_without_a_runtime_fails_only_where_a_task_is_needed() {
        let none = ExporterBuilder::new()
            .exporter(ExporterKind::None)
            .build()
            .unwrap();
        assert!(none.start().is_ok());
        let router_only = ExporterBuilder::new().without_listener().build().unwrap();
        assert!(router_only.start().unwrap().listen_addr().is_none());
        let stdout = ExporterBuilder::new()
            .exporter(ExporterKind::Stdout)
            .build()
            .unwrap();
        assert!(matches!(stdout.start(), Err(Error::NoRuntime)));
    }

    #[cfg(feature = "push")]
    #[test]
    fn zero_intervals_are_refused_at_build() {
        let err = ExporterBuilder::new()
            .push_interval(Duration::ZERO)
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("push_interval"), "{err}");
    }

    #[cfg(feature = "push")]
    #[test]
    fn the_push_gateway_setter_selects_push() {
        let exporter = ExporterBuilder::new()
            .push_gateway("https://gw.example:9091")
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(exporter.kind(), ExporterKind::Push);
        // Code that chooses after the URL wins, as every setter applies in call order.
        let exporter = ExporterBuilder::new()
            .push_gateway("http://gw:9091")
            .unwrap()
            .exporter(ExporterKind::None)
            .build()
            .unwrap();
        assert_eq!(exporter.kind(), ExporterKind::None);
    }

    #[cfg(feature = "otlp")]
    #[test]
    fn the_otlp_endpoint_setter_selects_otlp() {
        let exporter = ExporterBuilder::new()
            .otlp_endpoint("https://collector:4318/v1/metrics")
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(exporter.kind(), ExporterKind::Otlp);
    }

    #[cfg(not(feature = "push"))]
    #[test]
    fn push_in_a_build_without_it_is_a_config_error() {
        let err = ExporterBuilder::new()
            .exporter(ExporterKind::Push)
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("`push` feature"), "{err}");
    }

    #[cfg(not(feature = "otlp"))]
    #[test]
    fn otlp_in_a_build_without_it_is_a_config_error() {
        let err = ExporterBuilder::new()
            .exporter(ExporterKind::Otlp)
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("`otlp` feature"), "{err}");
    }
}
