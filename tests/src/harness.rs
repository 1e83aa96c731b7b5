//! Real processes for end-to-end tests: the example servers, a Prometheus server, and a minimal
//! MCP client speaking JSON-RPC over streamable HTTP. Every process is killed when its handle drops.

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
        let out = Command::new(cargo)
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

    /// Runs an instant query and returns the result vector as `(labels, value)`.
    pub fn query(&self, expr: &str) -> Vec<(serde_json::Map<String, Value>, f64)> {
        self.query_at(expr, None)
    }

    /// Runs an instant query at `time` (Unix seconds; now if `None`).
    pub fn query_at(
        &self,
        expr: &str,
        time: Option<f64>,
    ) -> Vec<(serde_json::Map<String, Value>, f64)> {
        let url = format!("http://{}/api/v1/query", self.addr);
        let mut request = agent().get(&url).query("query", expr);
        if let Some(time) = time {
            request = request.query("time", format!("{time:.3}"));
        }
        let mut resp = request.call().expect("query prometheus");
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

    /// The single value of `expr`, once Prometheus has it.
    pub fn wait_value(&self, expr: &str, timeout: Duration) -> Option<f64> {
        eventually(timeout, || {
            let r = self.query(expr);
            (r.len() == 1).then(|| r[0].1)
        })
    }

    /// Waits until `expr` has the single value `want` (a slow scrape may first report
    /// something else, such as `up` 0); false if it never does within `timeout`.
    pub fn wait_for(&self, expr: &str, want: f64, timeout: Duration) -> bool {
        eventually(timeout, || {
            let r = self.query(expr);
            (r.len() == 1 && r[0].1 == want).then_some(())
        })
        .is_some()
    }

    /// Whether the process is running.
    pub fn is_running(&mut self) -> bool {
        self.proc.is_running()
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
