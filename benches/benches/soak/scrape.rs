//! The server under soak: built and started once, sampled once a second (resident memory from
//! `/proc`, a scrape of `/metrics` with its time and series), and read from the exposition.

use crate::load::{MAX_BODY, Tally};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The example server in release mode, killed on drop.
pub(crate) struct Server {
    child: Child,
    pub(crate) addr: SocketAddr,
    pub(crate) pid: u32,
}

impl Server {
    pub(crate) fn start() -> Self {
        let binary = crate::servers::build(true);
        let mut child = Command::new(binary)
            .env("MCP_BIND", "127.0.0.1:0")
            .env("RUST_LOG", "off")
            .env("MCP_LOG_FORMAT", "none")
            .env("MCP_MAX_BODY_BYTES", MAX_BODY.to_string())
            .env("MCP_SESSION_KEEP_ALIVE", "2")
            .env("MCP_METRICS_CLIENT_NAMES", "soak-0,soak-1,soak-2,soak-3")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the example server starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the server's first line");
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        let pid = child.id();
        Server { child, addr, pid }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One reading, once a second.
pub(crate) struct Sample {
    /// Requests answered when it was taken.
    pub(crate) requests: u64,
    pub(crate) rss_kib: u64,
    /// Series in the scrape (sample lines).
    pub(crate) series: usize,
    pub(crate) scrape_ms: f64,
    pub(crate) scrape_ok: bool,
}

/// Samples the server every second until `stop`.
pub(crate) fn sample_every_second(
    addr: SocketAddr,
    pid: u32,
    tally: &Tally,
    stop: &AtomicBool,
) -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut next = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let requests = tally.done.load(Ordering::Relaxed);
        let rss_kib = rss_kib(pid);
        let started = Instant::now();
        let scrape = get(addr, "/metrics");
        let scrape_ms = started.elapsed().as_secs_f64() * 1000.0;
        let series = scrape.as_ref().map_or(0, |(text, _)| series(text));
        let scrape_ok = scrape.is_ok_and(|(_, status)| status == 200);
        samples.push(Sample {
            requests,
            rss_kib,
            series,
            scrape_ms,
            scrape_ok,
        });
        next += Duration::from_secs(1);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    samples
}

/// `VmRSS` of `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// GET `path` on a new connection: the body and the status.
pub(crate) fn get(addr: SocketAddr, path: &str) -> std::io::Result<(String, u16)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (_, body) = text.split_once("\r\n\r\n").unwrap_or(("", ""));
    Ok((body.to_owned(), status))
}

/// The sample lines of an exposition.
fn series(text: &str) -> usize {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count()
}

/// The sum of the samples of `name` whose labels include every one of `labels`.
pub(crate) fn sum(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
            let matches = metric == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
            matches.then(|| value.parse::<f64>().ok()).flatten()
        })
        .sum()
}
