//! How one signal of the tracing pipeline (spans, log records) leaves the process: its exporter
//! (`OTEL_TRACES_EXPORTER`, `OTEL_LOGS_EXPORTER`), its OTLP endpoint, protocol and connection, and
//! its batch processor (`OTEL_BSP_*`, `OTEL_BLRP_*`), each with the defaults of the OpenTelemetry
//! SDK specification. [`traces`](super::traces) and [`logs`](super::logs) hold one each.

use std::time::Duration;

use crate::config::otlp::{OtlpProtocol, Signal};
use crate::config::outbound::Outbound;
use crate::config::{Env, parse, vars};
use crate::error::ConfigError;

/// Where a signal goes, as its `OTEL_*_EXPORTER` variable names it.
pub(crate) trait ExporterKind: Copy + PartialEq + std::fmt::Debug + 'static {
    /// The variable that chooses it.
    const VARIABLE: &'static str;
    /// Its names in that variable.
    const CHOICES: &'static [(&'static str, Self)];
    /// OTLP, which an endpoint alone chooses.
    const OTLP: Self;
    /// Nowhere, the default.
    const NONE: Self;
}

/// The variables of a batch processor and its default delay (the other defaults are the same
/// for spans and log records).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct BatchVars {
    /// Milliseconds between two exports.
    pub(crate) schedule_delay: &'static str,
    /// The longest one export may take, in milliseconds.
    pub(crate) export_timeout: &'static str,
    /// Items kept while they wait; later ones are dropped.
    pub(crate) max_queue_size: &'static str,
    /// Items of one export.
    pub(crate) max_export_batch_size: &'static str,
    /// The default of `schedule_delay`.
    pub(crate) default_delay: Duration,
}

/// The batch span processor: `OTEL_BSP_*`, 5 s between exports.
pub(crate) const SPANS: BatchVars = BatchVars {
    schedule_delay: vars::OTEL_BSP_SCHEDULE_DELAY,
    export_timeout: vars::OTEL_BSP_EXPORT_TIMEOUT,
    max_queue_size: vars::OTEL_BSP_MAX_QUEUE_SIZE,
    max_export_batch_size: vars::OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
    default_delay: Duration::from_millis(5000),
};

/// The batch log record processor: `OTEL_BLRP_*`, 1 s between exports.
pub(crate) const LOGS: BatchVars = BatchVars {
    schedule_delay: vars::OTEL_BLRP_SCHEDULE_DELAY,
    export_timeout: vars::OTEL_BLRP_EXPORT_TIMEOUT,
    max_queue_size: vars::OTEL_BLRP_MAX_QUEUE_SIZE,
    max_export_batch_size: vars::OTEL_BLRP_MAX_EXPORT_BATCH_SIZE,
    default_delay: Duration::from_millis(1000),
};

/// The specification's default of `OTEL_B{SP,LRP}_MAX_EXPORT_BATCH_SIZE`.
const DEFAULT_BATCH_SIZE: usize = 512;

/// A batch processor, with the defaults of the OpenTelemetry SDK specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchSettings {
    /// Its variables, which errors name.
    pub(crate) vars: &'static BatchVars,
    /// Time between two exports.
    pub(crate) schedule_delay: Duration,
    /// The longest one export may take.
    pub(crate) export_timeout: Duration,
    /// Items kept while they wait; later ones are dropped.
    pub(crate) max_queue_size: usize,
    /// Items of one export, when set.
    pub(crate) max_export_batch_size: Option<usize>,
}

impl BatchSettings {
    /// The defaults of the processor that `vars` configure.
    pub(crate) fn new(vars: &'static BatchVars) -> Self {
        Self {
            vars,
            schedule_delay: vars.default_delay,
            export_timeout: Duration::from_millis(30_000),
            max_queue_size: 2048,
            max_export_batch_size: None,
        }
    }

    fn apply_env(&mut self, env: &Env) -> Result<(), ConfigError> {
        let vars = self.vars;
        if let Some(delay) = env.parsed(vars.schedule_delay, parse::millis)? {
            self.schedule_delay = delay;
        }
        if let Some(timeout) = env.parsed(vars.export_timeout, parse::millis)? {
            self.export_timeout = timeout;
        }
        if let Some(size) = env.parsed(vars.max_queue_size, parse::size)? {
            self.max_queue_size = size;
        }
        if let Some(size) = env.parsed(vars.max_export_batch_size, parse::size)? {
            self.max_export_batch_size = Some(size);
        }
        Ok(())
    }

    /// Items of one export: the number set, else the default, no more than the queue holds.
    pub(crate) fn batch_size(&self) -> usize {
        self.max_export_batch_size
            .unwrap_or(DEFAULT_BATCH_SIZE)
            .min(self.max_queue_size)
    }

    /// A batch size that was set must fit in the queue, as the specification requires.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        match self.max_export_batch_size {
            Some(size) if size > self.max_queue_size => Err(ConfigError::new(
                self.vars.max_export_batch_size,
                &size.to_string(),
                format!(
                    "must not exceed the queue size ({}, {})",
                    self.max_queue_size, self.vars.max_queue_size
                ),
            )),
            _ => Ok(()),
        }
    }
}

/// Where one signal goes and how it is batched.
#[derive(Debug, Clone)]
pub(crate) struct ExportSettings<E> {
    /// Its OTLP variables.
    pub(crate) signal: &'static Signal,
    pub(crate) exporter: E,
    /// The OTLP endpoint set, if any.
    pub(crate) endpoint: Option<String>,
    pub(crate) protocol: OtlpProtocol,
    pub(crate) outbound: Outbound,
    pub(crate) batch: BatchSettings,
}

impl<E: ExporterKind> ExportSettings<E> {
    /// No export, HTTP/protobuf to the default endpoint once chosen, a default connection and
    /// batch processor.
    pub(crate) fn new(signal: &'static Signal, batch: &'static BatchVars) -> Self {
        Self {
            signal,
            exporter: E::NONE,
            endpoint: None,
            protocol: OtlpProtocol::HttpProtobuf,
            outbound: Outbound::new(),
            batch: BatchSettings::new(batch),
        }
    }

    /// Applies the exporter, the OTLP endpoint, protocol and connection, and the batch
    /// processor's variables. An endpoint alone chooses OTLP.
    pub(crate) fn apply_env(&mut self, env: &Env) -> Result<(), ConfigError> {
        let signal = self.signal;
        if let Some((_, protocol)) = signal.protocol(env)? {
            self.protocol = protocol;
        }
        let endpoint = signal.endpoint(env, self.protocol)?;
        self.outbound = signal.outbound(env, std::mem::take(&mut self.outbound))?;
        let chosen = env.parsed(E::VARIABLE, |var, v| parse::choice(var, v, E::CHOICES))?;
        match (chosen, endpoint) {
            (Some(exporter), endpoint) => {
                self.exporter = exporter;
                self.endpoint = endpoint.or(self.endpoint.take());
            }
            (None, Some(endpoint)) => {
                self.exporter = E::OTLP;
                self.endpoint = Some(endpoint);
            }
            (None, None) => {}
        }
        self.batch.apply_env(env)
    }

    /// Exports over OTLP to the full URL `endpoint` (checked by the caller).
    pub(crate) fn set_otlp(&mut self, endpoint: String, protocol: OtlpProtocol) {
        self.endpoint = Some(endpoint);
        self.protocol = protocol;
        self.exporter = E::OTLP;
    }

    /// The OTLP endpoint: the one set, else the OpenTelemetry default of the protocol.
    pub(crate) fn otlp_endpoint(&self) -> String {
        self.endpoint
            .clone()
            .unwrap_or_else(|| self.protocol.default_endpoint(self.signal))
    }

    /// How long one export may take, retries included: the OTLP timeout, and no longer than the
    /// batch processor's export timeout.
    pub(crate) fn export_timeout(&self) -> Duration {
        self.outbound.timeout.min(self.batch.export_timeout)
    }
}
