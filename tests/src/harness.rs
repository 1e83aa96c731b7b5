//! Real processes for end-to-end tests: the example servers, a Prometheus server, the services of
//! the scale-out bundle (VictoriaMetrics, vmagent, vmalert, Alertmanager) run from its compose
//! file's command lines, and a minimal MCP client speaking JSON-RPC over streamable HTTP. Every
//! process is killed when its handle drops.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
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

/// Builds the binaries of the examples package once per test process and returns the path of `name`.
pub fn example_bin(name: &str) -> PathBuf {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        // What Cargo sets for this test process describes the tests package: inherited, it would
        // change the environment that dependencies' builds read (ring reads CARGO_MANIFEST_DIR
        // and CARGO_PKG_NAME) and rebuild them and all above them, here and in the next outer
        // build.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            let set_by_cargo = [
                "CARGO_PKG_",
                "CARGO_MANIFEST_",
                "CARGO_CRATE_",
                "CARGO_BIN_",
            ]
            .iter()
            .any(|p| key.starts_with(p))
                || [
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                    "CARGO_RUSTC_CURRENT_DIR",
                ]
                .contains(&key.as_ref());
            if set_by_cargo {
                build.env_remove(key.as_ref());
            }
        }
        let out = build
            .current_dir(workspace_root())
            .args(["build", "-p", "mcp-metrics-examples", "--bins"])
            .output()
            .map_err(|e| format!("cargo build failed to start: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    });
    if let Err(e) = built {
        panic!("building the examples failed:\n{e}");
    }
    let path = target_dir().join("debug").join(name);
    assert!(
        path.exists(),
        "{} does not exist after the build",
        path.display()
    );
    path
}

/// A child process killed on drop.
pub struct Proc {
    child: Child,
    name: String,
}

impl Proc {
    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends SIGTERM and waits up to `timeout` for the process to exit; returns whether it did.
    pub fn terminate(&mut self, timeout: Duration) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if !self.is_running() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Proc {
    /// Kills the process with SIGKILL, as a crash or an OOM kill would, and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.is_running() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        let _ = &self.name;
    }
}

/// A running example server that printed `listening on http://ADDR` as its first stdout line.
pub struct ExampleServer {
    /// Its process.
    pub proc: Proc,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl ExampleServer {
    /// Starts example binary `name` on 127.0.0.1 port 0 with extra environment variables.
    pub fn start(name: &str, env: &[(&str, &str)]) -> Self {
        let bin = example_bin(name);
        let mut cmd = Command::new(&bin);
        cmd.env("MCP_BIND", "127.0.0.1:0")
            .env("RUST_LOG", "error")
            .env("RUST_BACKTRACE", "0");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut proc = Proc {
            child,
            name: name.to_owned(),
        };
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        assert!(
            read.is_ok() && !line.is_empty(),
            "{name} exited before printing its address"
        );
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line from {name}: {line:?}"))
            .parse()
            .unwrap_or_else(|e| panic!("bad address in {line:?}: {e}"));
        assert!(proc.is_running());
        ExampleServer { proc, addr }
    }

    /// `http://ADDR` + path.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

/// An HTTP agent that returns 4xx/5xx responses instead of errors.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

/// GET `url` and return status and body.
pub fn get(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut req = agent().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut resp = req.call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_string().unwrap_or_default())
}

/// A free TCP port on 127.0.0.1 (bound, read, released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Polls `f` every 100 ms until it returns `Some` or `timeout` passes.
pub fn eventually<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A real Prometheus server (Debian package `prometheus`) with a temporary data directory.
pub struct Prometheus {
    proc: Proc,
    /// Its HTTP address.
    pub addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Starts Prometheus with `config` (a prometheus.yml body); extra files are written beside it.
    pub fn start(config: &str, files: &[(&str, &str)]) -> Self {
        let bin = which("prometheus").expect(
            "the `prometheus` binary is not installed: `apt-get install -y prometheus` (.ci/run does it)",
        );
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("prometheus.yml"), config).expect("write config");
        for (name, body) in files {
            std::fs::write(dir.path().join(name), body).expect("write file");
        }
        let port = free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
        let child = Command::new(bin)
            .current_dir(dir.path())
            .arg(format!(
                "--config.file={}",
                dir.path().join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start prometheus");
        let mut proc = Proc {
            child,
            name: "prometheus".into(),
        };
        let ready = eventually(Duration::from_secs(30), || {
            assert!(proc.is_running(), "prometheus exited; see its log above");
            agent()
                .get(&format!("http://{addr}/-/ready"))
                .call()
                .ok()
                .filter(|r| r.status() == 200)
        });
        assert!(ready.is_some(), "prometheus did not become ready");
        Prometheus {
            proc,
            addr,
            _dir: dir,
        }
    }

    /// Its query API.
    pub fn api(&self) -> QueryApi {
        QueryApi {
            addr: self.addr,
            extra: &[],
        }
    }

    /// Runs an instant query and returns the result vector as `(labels, value)`.
    pub fn query(&self, expr: &str) -> QueryResult {
        self.api().query(expr)
    }

    /// Runs an instant query at `time` (Unix seconds; now if `None`).
    pub fn query_at(&self, expr: &str, time: Option<f64>) -> QueryResult {
        self.api().query_at(expr, time)
    }

    /// The single value of `expr`, once Prometheus has it.
    pub fn wait_value(&self, expr: &str, timeout: Duration) -> Option<f64> {
        self.api().wait_value(expr, timeout)
    }

    /// Waits until `expr` has the single value `want` (a slow scrape may first report
    /// something else, such as `up` 0); false if it never does within `timeout`.
    pub fn wait_for(&self, expr: &str, want: f64, timeout: Duration) -> bool {
        self.api().wait_for(expr, want, timeout)
    }

    /// Whether the process is running.
    pub fn is_running(&mut self) -> bool {
        self.proc.is_running()
    }
}

/// The result vector of an instant query: each series' labels and value.
pub type QueryResult = Vec<(serde_json::Map<String, Value>, f64)>;

/// The instant queries of the Prometheus HTTP API (`/api/v1/query`), which Prometheus and
/// VictoriaMetrics both answer.
#[derive(Debug, Clone, Copy)]
pub struct QueryApi {
    /// The server's HTTP address.
    pub addr: SocketAddr,
    /// Query parameters sent with every query besides `query` and `time`.
    extra: &'static [(&'static str, &'static str)],
}

impl QueryApi {
    /// Runs an instant query and returns the result vector as `(labels, value)`.
    pub fn query(&self, expr: &str) -> QueryResult {
        self.query_at(expr, None)
    }

    /// Runs an instant query at `time` (Unix seconds; now if `None`).
    pub fn query_at(&self, expr: &str, time: Option<f64>) -> QueryResult {
        let url = format!("http://{}/api/v1/query", self.addr);
        let mut request = agent().get(&url).query("query", expr);
        if let Some(time) = time {
            request = request.query("time", format!("{time:.3}"));
        }
        for (k, v) in self.extra {
            request = request.query(*k, *v);
        }
        let mut resp = request
            .call()
            .unwrap_or_else(|e| panic!("query {url}: {e}"));
        let body: Value =
            serde_json::from_str(&resp.body_mut().read_to_string().expect("body")).expect("json");
        assert_eq!(body["status"], "success", "query {expr} failed: {body}");
        body["data"]["result"]
            .as_array()
            .map(|rs| {
                rs.iter()
                    .map(|r| {
                        let labels = r["metric"].as_object().cloned().unwrap_or_default();
                        let v = r["value"][1]
                            .as_str()
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(f64::NAN);
                        (labels, v)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The single value of `expr`, once the server has it.
    pub fn wait_value(&self, expr: &str, timeout: Duration) -> Option<f64> {
        eventually(timeout, || {
            let r = self.query(expr);
            (r.len() == 1).then(|| r[0].1)
        })
    }

    /// Waits until `expr` has the single value `want`; false if it never does within `timeout`.
    pub fn wait_for(&self, expr: &str, want: f64, timeout: Duration) -> bool {
        eventually(timeout, || {
            let r = self.query(expr);
            (r.len() == 1 && r[0].1 == want).then_some(())
        })
        .is_some()
    }
}

/// The path of `name` on `PATH`.
pub fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

/// A minimal MCP client over streamable HTTP: enough to open a session and call tools.
pub struct McpHttp {
    url: String,
    session: Option<String>,
    next_id: u64,
}

impl McpHttp {
    /// Opens a session with `initialize` and `notifications/initialized`.
    pub fn connect(url: &str) -> Self {
        let mut c = McpHttp {
            url: url.to_owned(),
            session: None,
            next_id: 1,
        };
        let init = c.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "e2e", "version": "1"}}),
        );
        assert!(init.get("result").is_some(), "initialize failed: {init}");
        c.notify("notifications/initialized");
        c
    }

    fn post(&self, body: &Value) -> (u16, Option<String>, String) {
        let mut req = agent()
            .post(&self.url)
            .header("Accept", "application/json, text/event-stream")
            .header("Content-Type", "application/json")
            .header("MCP-Protocol-Version", "2025-06-18");
        if let Some(s) = &self.session {
            req = req.header("Mcp-Session-Id", s);
        }
        let mut resp = req.send(body.to_string()).expect("POST /mcp");
        let session = resp
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let status = resp.status().as_u16();
        (
            status,
            session,
            resp.body_mut().read_to_string().unwrap_or_default(),
        )
    }

    /// Sends a request and returns the JSON-RPC response object.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let (status, session, body) =
            self.post(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        assert_eq!(status, 200, "{method}: HTTP {status}: {body}");
        if self.session.is_none() {
            self.session = session;
        }
        parse_response(&body, id)
            .unwrap_or_else(|| panic!("{method}: no response with id {id} in {body:?}"))
    }

    /// Sends a notification.
    pub fn notify(&mut self, method: &str) {
        let (status, _, body) = self.post(&json!({"jsonrpc": "2.0", "method": method}));
        assert!(
            status == 202 || status == 200,
            "{method}: HTTP {status}: {body}"
        );
    }

    /// Calls a tool and returns the JSON-RPC response object.
    pub fn call_tool(&mut self, name: &str, arguments: Value) -> Value {
        self.request("tools/call", json!({"name": name, "arguments": arguments}))
    }

    /// Ends the session with DELETE.
    pub fn close(mut self) -> u16 {
        let Some(session) = self.session.take() else {
            return 0;
        };
        let resp = agent()
            .delete(&self.url)
            .header("Mcp-Session-Id", &session)
            .call()
            .expect("DELETE /mcp");
        resp.status().as_u16()
    }
}

/// The JSON-RPC message with `id` in a JSON body or a server-sent-events body.
fn parse_response(body: &str, id: u64) -> Option<Value> {
    let candidates: Vec<Value> = if body.trim_start().starts_with('{') {
        serde_json::from_str(body).ok().into_iter().collect()
    } else {
        body.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str(d.trim()).ok())
            .collect()
    };
    candidates.into_iter().find(|v| v["id"] == json!(id))
}

/// `labels` of a series of `name` recorded by the example server, with the `risk` label its tool
/// calls carry: none of its tools is annotated, so each is `destructive` (the MCP defaults), and a
/// name the server does not have is `_unknown`. Only the tool layer's duration and the request
/// layer's `tools/call` series carry it.
pub fn with_example_risk<'a>(name: &str, labels: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let get = |key: &str| labels.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let tool_call = name.starts_with("mcp_tool_duration_seconds")
        || (name.starts_with("mcp_server_operation_duration_seconds")
            && get("method") == Some("tools/call"));
    let mut labels = labels.to_vec();
    if tool_call {
        let risk = match get("tool") {
            Some("_unknown") => "_unknown",
            _ => "destructive",
        };
        labels.push(("risk", risk));
    }
    labels
}

/// Reads the value of one sample from a Prometheus text exposition, `None` when absent.
pub fn sample(exposition: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, "}"));
            if metric != name {
                return None;
            }
            let body = rest.strip_suffix('}')?;
            let mut found: Vec<(String, String)> = split_labels(body);
            found.sort();
            let mut want: Vec<(String, String)> = labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            want.sort();
            (found == want).then(|| value.parse().ok()).flatten()
        })
}

/// The labels of a sample, `a="x",b="y"` without the braces, unescaped, in their order.
pub fn split_labels(body: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some((key, after)) = rest.split_once("=\"") {
        let mut value = String::new();
        let mut chars = after.char_indices();
        let mut end = after.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, n)) = chars.next() {
                        value.push(match n {
                            'n' => '\n',
                            other => other,
                        });
                    }
                }
                '"' => {
                    end = i + 1;
                    break;
                }
                c => value.push(c),
            }
        }
        out.push((key.trim_start_matches(',').to_owned(), value));
        rest = &after[end..];
    }
    out
}

/// How the export loop's log lines write a retry delay of `ms` milliseconds below a minute:
/// `800ms`, `1.6s`, `3.2s`.
pub fn retry_delay(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else {
        format!("{}s", ms as f64 / 1000.0)
    }
}

/// The Python with the packages of `tests/python/requirements.txt`: `MCP_TEST_PYTHON`, else the
/// `.venv` that `.ci/run` makes.
pub fn python() -> PathBuf {
    let path = std::env::var_os("MCP_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv/bin/python"));
    assert!(
        path.exists(),
        "no Python with the packages of tests/python/requirements.txt at {}: run `bash .ci/run`, or set MCP_TEST_PYTHON",
        path.display()
    );
    path
}

/// A command running `tests/python/<script>` with `args`.
pub fn python_script(script: &str, args: &[&str]) -> Command {
    let mut command = Command::new(python());
    command
        .arg(workspace_root().join("tests/python").join(script))
        .args(args);
    command
}

/// Runs `tests/python/<script>` with `args` to the end and returns the JSON it prints.
pub fn run_python(script: &str, args: &[&str]) -> Value {
    let out = python_script(script, args)
        .output()
        .unwrap_or_else(|e| panic!("starting {script}: {e}"));
    assert!(
        out.status.success(),
        "{script} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{script} printed no JSON: {e}"))
}

/// `deploy/victoriametrics/compose.yaml`: the scale-out bundle's services and command lines.
pub fn compose_file() -> PathBuf {
    crate::deploy::deploy_dir().join("victoriametrics/compose.yaml")
}

/// A service of the scale-out bundle's compose file.
#[derive(Debug, Clone)]
pub struct ComposeService {
    /// The service's name.
    pub name: String,
    /// Its command line arguments, as written.
    pub command: Vec<String>,
    /// Its mounts as `(path in the container, path on the host)`: bind mounts resolved against
    /// the compose file's directory, `None` for a named volume.
    pub mounts: Vec<(String, Option<PathBuf>)>,
}

impl ComposeService {
    /// The values of flag `name` (`-name=value` or `--name=value`; `true` for `-name` alone), in
    /// the order written.
    pub fn flag(&self, name: &str) -> Vec<String> {
        self.command
            .iter()
            .filter_map(|arg| {
                let (flag, value) = split_flag(arg);
                (flag == name).then(|| value.to_owned())
            })
            .collect()
    }

    /// The host path that `path` in the container is, through the bind mount that holds it.
    pub fn host_path(&self, path: &str) -> Option<PathBuf> {
        let (mount, rest) = self.mount_of(path)?;
        let base = mount.1.clone()?;
        Some(if rest.is_empty() {
            base
        } else {
            base.join(rest)
        })
    }

    /// The mount holding `path` (the longest that does) and the rest of the path below it.
    fn mount_of<'a>(&self, path: &'a str) -> Option<(&(String, Option<PathBuf>), &'a str)> {
        self.mounts
            .iter()
            .filter_map(|m| {
                let rest = path.strip_prefix(m.0.trim_end_matches('/'))?;
                (rest.is_empty() || rest.starts_with('/'))
                    .then(|| (m, rest.trim_start_matches('/')))
            })
            .max_by_key(|(m, _)| m.0.len())
    }
}

/// `-name=value` or `--name=value` as `(name, value)`; `-name` alone as `(name, "true")`.
fn split_flag(arg: &str) -> (&str, &str) {
    let arg = arg.trim_start_matches('-');
    arg.split_once('=').unwrap_or((arg, "true"))
}

/// Every service of the compose file, in file order.
pub fn compose_services() -> Vec<ComposeService> {
    let path = compose_file();
    let dir = path.parent().expect("a directory").to_owned();
    let doc = crate::deploy::yaml_document(&path);
    let services = doc["services"]
        .as_hash()
        .unwrap_or_else(|| panic!("{}: no services", path.display()));
    services
        .iter()
        .map(|(name, service)| {
            let name = name.as_str().expect("a service name").to_owned();
            let strings = |key: &str| -> Vec<String> {
                service[key]
                    .as_vec()
                    .map(|v| {
                        v.iter()
                            .map(|a| a.as_str().expect("a string").to_owned())
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let mounts = strings("volumes")
                .iter()
                .map(|m| {
                    let mut parts = m.split(':');
                    let source = parts.next().unwrap_or_default();
                    let target = parts.next().unwrap_or_else(|| panic!("mount {m:?}"));
                    let bind = source.starts_with(['.', '/']).then(|| {
                        let path = dir.join(source);
                        std::fs::canonicalize(&path).unwrap_or(path)
                    });
                    (target.to_owned(), bind)
                })
                .collect();
            ComposeService {
                command: strings("command"),
                mounts,
                name,
            }
        })
        .collect()
}

/// The compose services this host runs from Debian packages: the binary, the flag that sets the
/// listen address, the path that answers 200 once the service is ready.
const BUNDLE_BINARIES: &[(&str, &str, &str, &str)] = &[
    (
        "victoria-metrics",
        "victoria-metrics",
        "httpListenAddr",
        "/health",
    ),
    (
        "alertmanager",
        "prometheus-alertmanager",
        "web.listen-address",
        "/-/ready",
    ),
    ("vmagent", "vmagent", "httpListenAddr", "/health"),
    ("vmalert", "vmalert", "httpListenAddr", "/health"),
];

/// The scale-out bundle running on this host: VictoriaMetrics, Alertmanager, vmagent and vmalert
/// (Debian packages `victoria-metrics` and `prometheus-alertmanager`) started with the command
/// lines of `deploy/victoriametrics/compose.yaml`. Each address of the bundle (`127.0.0.1:8428`,
/// ...) becomes a free port, wherever a command line names it; a path in a bind mount becomes
/// the file in the repository (the rule files of `deploy/prometheus/` themselves); a named volume
/// becomes a temporary directory. vmagent's scrape configuration is the one passed to `start`.
pub struct ScaleOut {
    services: Vec<(String, Proc, SocketAddr)>,
    dir: tempfile::TempDir,
}

impl ScaleOut {
    /// Starts the bundle with `scrape_config` as vmagent's configuration (`files` beside it) and
    /// `overrides` (service, flag, value) replacing or adding flags; waits until every service is
    /// ready.
    pub fn start(
        scrape_config: &str,
        files: &[(&str, &str)],
        overrides: &[(&str, &str, &str)],
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let scrape_dir = dir.path().join("scrape");
        std::fs::create_dir(&scrape_dir).expect("scrape dir");
        std::fs::write(scrape_dir.join("scrape.yml"), scrape_config).expect("write config");
        for (name, body) in files {
            std::fs::write(scrape_dir.join(name), body).expect("write file");
        }
        let scrape_path = scrape_dir.join("scrape.yml").display().to_string();
        let mut overrides = overrides.to_vec();
        overrides.push(("vmagent", "promscrape.config", &scrape_path));

        let services = compose_services();
        let names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
        let mut known: Vec<&str> = BUNDLE_BINARIES.iter().map(|b| b.0).collect();
        known.sort_unstable();
        let mut listed = names.clone();
        listed.sort_unstable();
        assert_eq!(listed, known, "the compose services this harness runs");
        // Each service, its binary, its readiness path, and its address in the bundle together
        // with the free port that replaces it here.
        let bundle: Vec<(&ComposeService, &str, &str, (String, SocketAddr))> = BUNDLE_BINARIES
            .iter()
            .map(|(name, binary, flag, ready)| {
                let service = &services[names.iter().position(|n| n == name).unwrap()];
                let listen = service
                    .flag(flag)
                    .pop()
                    .unwrap_or_else(|| panic!("compose service {name} sets no -{flag}"));
                let here = format!("127.0.0.1:{}", free_port()).parse().unwrap();
                (service, *binary, *ready, (listen, here))
            })
            .collect();
        let addrs: Vec<(String, SocketAddr)> = bundle.iter().map(|b| b.3.clone()).collect();
        let mut running = Vec::new();
        for (service, binary, ready, (_, addr)) in &bundle {
            let args = service_args(service, &addrs, dir.path(), &overrides);
            let ready = format!("http://{addr}{ready}");
            let proc = start_service(binary, &args, dir.path(), &service.name, &ready);
            running.push((service.name.clone(), proc, *addr));
        }
        ScaleOut {
            services: running,
            dir,
        }
    }

    /// The address of compose service `name` here.
    pub fn addr(&self, name: &str) -> SocketAddr {
        self.services
            .iter()
            .find(|s| s.0 == name)
            .unwrap_or_else(|| panic!("no service {name}"))
            .2
    }

    /// VictoriaMetrics' query API. Queries carry `nocache=1`, so that VictoriaMetrics answers
    /// from the samples as stored (no response cache, no shift of recent query times by
    /// `-search.latencyOffset`), as vmalert's own queries do.
    pub fn victoria_metrics(&self) -> QueryApi {
        QueryApi {
            addr: self.addr("victoria-metrics"),
            extra: &[("nocache", "1")],
        }
    }

    /// What a service has logged so far.
    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{name}.log"))).unwrap_or_default()
    }
}

/// The command line of `service` here: bundle addresses replaced by `addrs`, mounted paths by
/// host paths (named volumes under `dir`), `overrides` applied.
fn service_args(
    service: &ComposeService,
    addrs: &[(String, SocketAddr)],
    dir: &Path,
    overrides: &[(&str, &str, &str)],
) -> Vec<String> {
    let mut args: Vec<String> = service
        .command
        .iter()
        .map(|arg| {
            // Through placeholders, so that a replaced address is never replaced again.
            let mut arg = arg.clone();
            for (i, (from, _)) in addrs.iter().enumerate() {
                arg = arg.replace(from, &format!("\u{0}{i}\u{0}"));
            }
            for (i, (_, to)) in addrs.iter().enumerate() {
                arg = arg.replace(&format!("\u{0}{i}\u{0}"), &to.to_string());
            }
            let (flag, value) = split_flag(&arg);
            match service.mount_of(value) {
                Some(((target, bind), rest)) => {
                    let base = bind.clone().unwrap_or_else(|| {
                        let volume = dir.join(target.trim_start_matches('/').replace('/', "-"));
                        std::fs::create_dir_all(&volume).expect("volume dir");
                        volume
                    });
                    let dashes = &arg[..arg.len() - arg.trim_start_matches('-').len()];
                    let path = if rest.is_empty() {
                        base
                    } else {
                        base.join(rest)
                    };
                    format!("{dashes}{flag}={}", path.display())
                }
                None => arg,
            }
        })
        .collect();
    for (_, flag, value) in overrides.iter().filter(|o| o.0 == service.name) {
        let dashes = if service.command.iter().any(|a| a.starts_with("--")) {
            "--"
        } else {
            "-"
        };
        args.retain(|a| split_flag(a).0 != *flag);
        args.push(format!("{dashes}{flag}={value}"));
    }
    args
}

/// Starts `binary` with `args` in `dir`, its output in `dir/<name>.log`, and waits until
/// `ready` answers 200.
fn start_service(binary: &str, args: &[String], dir: &Path, name: &str, ready: &str) -> Proc {
    let bin = which(binary).unwrap_or_else(|| {
        panic!("`{binary}` is not installed: `apt-get install -y victoria-metrics prometheus-alertmanager` (.ci/run does it)")
    });
    let log_path = dir.join(format!("{name}.log"));
    let log = std::fs::File::create(&log_path).expect("log file");
    let child = Command::new(bin)
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log file"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("start {binary}: {e}"));
    let mut proc = Proc {
        child,
        name: name.to_owned(),
    };
    let up = eventually(Duration::from_secs(30), || {
        if !proc.is_running() {
            return Some(false);
        }
        let resp = agent().get(ready).call().ok()?;
        (resp.status() == 200).then_some(true)
    });
    if up != Some(true) {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        panic!(
            "{name} ({binary} {}) did not become ready:\n{log}",
            args.join(" ")
        );
    }
    proc
}
