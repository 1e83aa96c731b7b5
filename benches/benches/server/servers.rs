//! The example servers under test: building them (release), starting one process per
//! configuration with its environment, and reading the CPU time they and this process used.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// One configuration of the example server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Config {
    /// Built `--no-default-features`: no `Instrumented`, `#[mcp_tool]` compiled out, no exporter.
    Bare,
    /// The default build with the Prometheus exporter and no span export.
    Metrics,
    /// Metrics, and every trace exported over OTLP/HTTP to the local sink.
    TracesAll,
    /// Metrics, and 1 % of traces exported over OTLP/HTTP to the local sink.
    TracesOnePercent,
}

impl Config {
    pub(crate) const ALL: [Config; 4] = [
        Config::Bare,
        Config::Metrics,
        Config::TracesAll,
        Config::TracesOnePercent,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Config::Bare => "bare",
            Config::Metrics => "metrics",
            Config::TracesAll => "metrics + traces 100 %",
            Config::TracesOnePercent => "metrics + traces 1 %",
        }
    }

    pub(crate) fn key(self) -> &'static str {
        match self {
            Config::Bare => "bare",
            Config::Metrics => "metrics",
            Config::TracesAll => "traces-100",
            Config::TracesOnePercent => "traces-1",
        }
    }

    pub(crate) fn instrumented(self) -> bool {
        self != Config::Bare
    }

    pub(crate) fn exports_traces(self) -> bool {
        matches!(self, Config::TracesAll | Config::TracesOnePercent)
    }

    /// The environment of the server process, given the OTLP sink's address.
    fn env(self, sink: Option<SocketAddr>) -> Vec<(&'static str, String)> {
        let mut env = Vec::new();
        match self {
            Config::Bare => {}
            Config::Metrics => env.push(("OTEL_TRACES_EXPORTER", "none".to_owned())),
            Config::TracesAll | Config::TracesOnePercent => {
                let sink = sink.expect("a trace sink for a tracing configuration");
                env.push((
                    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                    format!("http://{sink}/v1/traces"),
                ));
                env.push(("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".to_owned()));
                if self == Config::TracesAll {
                    env.push(("OTEL_TRACES_SAMPLER", "parentbased_always_on".to_owned()));
                } else {
                    env.push(("OTEL_TRACES_SAMPLER", "parentbased_traceidratio".to_owned()));
                    env.push(("OTEL_TRACES_SAMPLER_ARG", "0.01".to_owned()));
                }
            }
        }
        env
    }
}

/// The workspace root (the parent of this package).
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_owned()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Builds the example server in release mode, instrumented or with `--no-default-features` into
/// a target directory of its own (so no feature of another workspace member can switch metrics
/// on), and returns the binary.
pub(crate) fn build(instrumented: bool) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root()).args([
        "build",
        "--release",
        "-p",
        "mcp-metrics-examples",
        "--bin",
        "http-server",
    ]);
    let target = if instrumented {
        target_dir()
    } else {
        let dir = target_dir().join("compiled-out");
        cmd.arg("--no-default-features")
            .arg("--target-dir")
            .arg(&dir);
        dir
    };
    let status = cmd.status().expect("cargo build starts");
    assert!(status.success(), "building the example server failed");
    target.join("release/http-server")
}

/// A running example server, killed on drop.
pub(crate) struct Server {
    child: Child,
    pub(crate) addr: SocketAddr,
    pub(crate) log: PathBuf,
}

impl Server {
    /// Starts `binary` on a free loopback port with the environment of `config`.
    pub(crate) fn start(
        binary: &Path,
        config: Config,
        sink: Option<SocketAddr>,
        nodelay: bool,
        rust_log: &str,
        extra_env: &[(String, String)],
        log_dir: &Path,
    ) -> Server {
        let log = log_dir.join(format!("{}.log", config.key()));
        let mut cmd = Command::new(binary);
        configure(&mut cmd, config, sink, nodelay, rust_log, extra_env);
        Server::spawn(cmd, config, log)
    }

    /// Starts `binary` as [`Server::start`] does, under `valgrind --tool=cachegrind` writing its
    /// counts to `out` when the server exits (see [`Server::terminate`]).
    pub(crate) fn start_under_valgrind(
        binary: &Path,
        config: Config,
        sink: Option<SocketAddr>,
        rust_log: &str,
        extra_env: &[(String, String)],
        log_dir: &Path,
        out: &Path,
    ) -> Server {
        let stem = out.file_stem().map_or_else(
            || config.key().to_owned(),
            |s| s.to_string_lossy().into_owned(),
        );
        let log = log_dir.join(format!("{stem}.log"));
        // `MCP_BENCH_VALGRIND_TOOL=callgrind` counts the same instructions with call graphs,
        // for `callgrind_annotate --inclusive=yes` of one row.
        let tool = std::env::var("MCP_BENCH_VALGRIND_TOOL").unwrap_or_else(|_| "cachegrind".into());
        let mut cmd = Command::new("valgrind");
        cmd.arg(format!("--tool={tool}"))
            .arg("--cache-sim=no")
            .arg(format!("--{tool}-out-file={}", out.display()))
            .arg(binary);
        configure(&mut cmd, config, sink, true, rust_log, extra_env);
        Server::spawn(cmd, config, log)
    }

    /// Starts `cmd` with standard error into `log`, and reads the address from the first line of
    /// standard output.
    fn spawn(mut cmd: Command, config: Config, log: PathBuf) -> Server {
        let stderr = std::fs::File::create(&log).expect("server log file");
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("starting {cmd:?}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the server's first line");
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| {
                panic!(
                    "{}: unexpected first line {line:?}; see {}",
                    config.name(),
                    log.display()
                )
            });
        Server { child, addr, log }
    }

    /// Asks the server to stop (SIGTERM: it shuts down gracefully) and waits until it has.
    pub(crate) fn terminate(mut self) {
        // SAFETY: kill has no memory preconditions; the pid is our child's, not yet reaped.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let status = self.child.wait().expect("waiting for the server");
        assert!(
            status.success(),
            "the server exited with {status}; see {}",
            self.log.display()
        );
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// User plus system CPU time of the server process so far.
    pub(crate) fn cpu(&self) -> Duration {
        proc_stat_cpu(&format!("/proc/{}/stat", self.pid()))
    }

    /// Log lines the server wrote to standard error.
    pub(crate) fn log_lines(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The environment of a server process: nothing inherited that could change what it does, then
/// what this configuration and the caller set.
fn configure(
    cmd: &mut Command,
    config: Config,
    sink: Option<SocketAddr>,
    nodelay: bool,
    rust_log: &str,
    extra_env: &[(String, String)],
) {
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("OTEL_") || name.starts_with("MCP_") || name == "RUST_LOG" {
            cmd.env_remove(&*name);
        }
    }
    cmd.env("MCP_BIND", "127.0.0.1:0")
        .env("MCP_TCP_NODELAY", if nodelay { "1" } else { "0" })
        .env("RUST_LOG", rust_log)
        .envs(config.env(sink))
        .envs(extra_env.iter().map(|(k, v)| (k, v)));
}

/// utime + stime of a `/proc/.../stat` file.
pub(crate) fn proc_stat_cpu(path: &str) -> Duration {
    let stat = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    let after = &stat[stat.rfind(')').expect("a stat line") + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    // Fields 14 and 15 of the line are the 12th and 13th after the command name.
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    Duration::from_nanos(ticks * 1_000_000_000 / clock_ticks_per_second())
}

/// CPU time of the whole machine so far, from `/proc/stat`: busy (everything but idle and I/O
/// wait) and idle, summed over all cores.
#[derive(Clone, Copy)]
pub(crate) struct MachineCpu {
    pub(crate) busy: Duration,
    pub(crate) idle: Duration,
}

pub(crate) fn machine_cpu() -> MachineCpu {
    let stat = std::fs::read_to_string("/proc/stat").expect("/proc/stat");
    let ticks: Vec<u64> = stat
        .lines()
        .next()
        .expect("the cpu line")
        .split_whitespace()
        .skip(1)
        .map(|t| t.parse().expect("a tick count"))
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is inside user already)
    let idle = ticks[3] + ticks[4];
    let busy: u64 = ticks.iter().take(8).sum::<u64>() - idle;
    let per_second = clock_ticks_per_second();
    MachineCpu {
        busy: Duration::from_nanos(busy * 1_000_000_000 / per_second),
        idle: Duration::from_nanos(idle * 1_000_000_000 / per_second),
    }
}

fn clock_ticks_per_second() -> u64 {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64
}

/// User plus system CPU time of this whole process so far.
pub(crate) fn own_cpu() -> Duration {
    // SAFETY: an all-zero `rusage` is valid, and getrusage only writes into it.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}

/// User plus system CPU time of one thread of this process so far.
pub(crate) fn thread_cpu(tid: i32) -> Duration {
    proc_stat_cpu(&format!("/proc/self/task/{tid}/stat"))
}
