//! The scale-out bundle in `deploy/victoriametrics/`, offline: vmagent scrapes exactly what
//! `deploy/prometheus/prometheus.yml` scrapes, vmalert evaluates the rule files Prometheus loads
//! (referenced from `deploy/prometheus/`, not copied) at Prometheus's evaluation interval and
//! notifies its Alertmanager, the compose services point at one another, and the real `vmagent`
//! and `vmalert` (Debian package `victoria-metrics`) accept the configuration and the rules; the
//! README's Prometheus agent configuration (vmagent.yml with a `remote_write` block) passes
//! `promtool`. The fleet end-to-end test (`fleet_e2e`) runs the same command lines against three
//! replicas.

use mcp_metrics_tests::deploy::{deploy_dir, rule_file_names, yaml_document};
use mcp_metrics_tests::harness::{ComposeService, compose_file, compose_services, which};
use std::path::{Path, PathBuf};
use std::process::Command;
use yaml_rust2::Yaml;

fn service(name: &str) -> ComposeService {
    compose_services()
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("{} has no service {name}", compose_file().display()))
}

/// The single value of a flag of `service`.
fn flag(service: &ComposeService, name: &str) -> String {
    let values = service.flag(name);
    assert_eq!(values.len(), 1, "{}: -{name} {values:?}", service.name);
    values[0].clone()
}

/// `host:port` of an `http://` URL, without path or query.
fn authority(url: &str) -> &str {
    let rest = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("not an http:// URL: {url}"));
    rest.split(['/', '?']).next().unwrap_or_default()
}

/// The listen address of a compose service.
fn listen(service: &ComposeService) -> String {
    let values: Vec<String> = ["httpListenAddr", "web.listen-address"]
        .iter()
        .flat_map(|f| service.flag(f))
        .collect();
    assert_eq!(
        values.len(),
        1,
        "{}: listen address {values:?}",
        service.name
    );
    values[0].clone()
}

fn prometheus_config() -> Yaml {
    yaml_document(&deploy_dir().join("prometheus/prometheus.yml"))
}

fn tool(name: &str) -> PathBuf {
    let package = if name == "promtool" {
        "prometheus"
    } else {
        "victoria-metrics"
    };
    which(name).unwrap_or_else(|| {
        panic!("`{name}` is not installed: `apt-get install -y {package}` (.ci/run does it)")
    })
}

/// Runs `binary` with `args`; panics with its output unless it exits with 0.
fn accepts(binary: &str, args: &[String]) {
    let out = Command::new(tool(binary))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {binary}: {e}"));
    assert!(
        out.status.success(),
        "{binary} {} refused it:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn vmagent_scrapes_what_prometheus_scrapes() {
    let path = deploy_dir().join("victoriametrics/vmagent.yml");
    let vmagent = yaml_document(&path);
    let prometheus = prometheus_config();
    let keys: Vec<&str> = vmagent
        .as_hash()
        .expect("a mapping")
        .keys()
        .filter_map(Yaml::as_str)
        .collect();
    assert_eq!(keys, ["global", "scrape_configs"]);
    assert_eq!(
        vmagent["global"]["scrape_interval"], prometheus["global"]["scrape_interval"],
        "the same scrape interval"
    );
    assert_eq!(
        vmagent["global"].as_hash().map(|h| h.len()),
        Some(1),
        "vmagent.yml sets only the scrape interval globally"
    );
    assert!(
        vmagent["scrape_configs"] == prometheus["scrape_configs"],
        "vmagent.yml must scrape the same jobs, targets and credentials as prometheus.yml"
    );

    // The compose file runs vmagent on this file (in the mounted bundle directory), with the
    // password file beside it, and vmagent's strict parser accepts it.
    let agent = service("vmagent");
    let config = flag(&agent, "promscrape.config");
    assert_eq!(
        agent.host_path(&config),
        Some(std::fs::canonicalize(&path).unwrap())
    );
    let password = vmagent["scrape_configs"][0]["basic_auth"]["password_file"]
        .as_str()
        .expect("a password file");
    let beside = Path::new(&config).with_file_name(password);
    assert_eq!(
        agent.host_path(beside.to_str().unwrap()),
        Some(
            path.parent()
                .unwrap()
                .canonicalize()
                .unwrap()
                .join(password)
        ),
        "the password file is read from beside vmagent.yml"
    );
    let ignored = std::fs::read_to_string(path.with_file_name(".gitignore")).unwrap_or_default();
    assert!(
        ignored.lines().any(|l| l.trim() == password),
        "the scrape password file is kept out of git"
    );
    accepts(
        "vmagent",
        &[
            format!("-promscrape.config={}", path.display()),
            "-promscrape.config.dryRun".into(),
            "-loggerLevel=ERROR".into(),
        ],
    );
}

#[test]
fn vmalert_evaluates_the_prometheus_rule_files() {
    let vmalert = service("vmalert");
    let rules: Vec<PathBuf> = vmalert
        .flag("rule")
        .iter()
        .map(|r| {
            vmalert
                .host_path(r)
                .unwrap_or_else(|| panic!("-rule={r} is not a mounted file"))
        })
        .collect();
    let loaded: Vec<PathBuf> = rule_file_names()
        .iter()
        .map(|f| std::fs::canonicalize(deploy_dir().join("prometheus").join(f)).unwrap())
        .collect();
    assert_eq!(
        rules, loaded,
        "vmalert evaluates the rule files prometheus.yml loads, from deploy/prometheus/"
    );
    // One source of rules: no rule file in the bundle itself.
    for entry in std::fs::read_dir(deploy_dir().join("victoriametrics")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            !text.lines().any(|l| l.starts_with("groups:")),
            "{} holds rules: reference deploy/prometheus/ instead",
            path.display()
        );
    }

    let prometheus = prometheus_config();
    assert_eq!(
        Some(flag(&vmalert, "evaluationInterval").as_str()),
        prometheus["global"]["evaluation_interval"].as_str(),
        "vmalert evaluates as often as Prometheus"
    );
    let alertmanagers: Vec<String> = prometheus["alerting"]["alertmanagers"][0]["static_configs"]
        [0]["targets"]
        .as_vec()
        .expect("prometheus.yml names its Alertmanager")
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect();
    let notified: Vec<String> = vmalert
        .flag("notifier.url")
        .iter()
        .map(|u| authority(u).to_owned())
        .collect();
    assert_eq!(
        notified, alertmanagers,
        "the Alertmanager of prometheus.yml"
    );
    assert_eq!(flag(&vmalert, "disableAlertgroupLabel"), "true");

    let mut args: Vec<String> = rules
        .iter()
        .map(|r| format!("-rule={}", r.display()))
        .collect();
    args.extend(["-dryRun".into(), "-loggerLevel=ERROR".into()]);
    accepts("vmalert", &args);
}

#[test]
fn compose_services_point_at_one_another() {
    let services = compose_services();
    let store = service("victoria-metrics");
    let store_addr = listen(&store);
    let agent = service("vmagent");
    let write = flag(&agent, "remoteWrite.url");
    assert_eq!(write, format!("http://{store_addr}/api/v1/write"));
    let vmalert = service("vmalert");
    for url in ["datasource.url", "remoteWrite.url", "remoteRead.url"] {
        assert_eq!(
            authority(&flag(&vmalert, url)),
            store_addr,
            "vmalert -{url}"
        );
    }
    // Rules read what has arrived, as Prometheus's do (see the comment in compose.yaml).
    assert!(
        flag(&vmalert, "datasource.url").ends_with("?nocache=1"),
        "vmalert -datasource.url"
    );
    assert_eq!(authority(&flag(&vmalert, "external.url")), listen(&vmalert));
    let alertmanager = service("alertmanager");
    assert_eq!(
        vmalert
            .flag("notifier.url")
            .iter()
            .map(|u| authority(u).to_owned())
            .collect::<Vec<_>>(),
        [listen(&alertmanager)]
    );
    let config = flag(&alertmanager, "config.file");
    assert_eq!(
        alertmanager.host_path(&config),
        Some(std::fs::canonicalize(deploy_dir().join("alertmanager/alertmanager.yml")).unwrap())
    );

    let doc = yaml_document(&compose_file());
    let volumes = doc["volumes"].as_hash().expect("named volumes");
    let mut images = Vec::new();
    for s in &services {
        let spec = &doc["services"][s.name.as_str()];
        assert_eq!(
            spec["network_mode"].as_str(),
            Some("host"),
            "{}: the addresses are the host's",
            s.name
        );
        assert!(
            listen(s).starts_with("127.0.0.1:"),
            "{}: listens on loopback only",
            s.name
        );
        for (target, host) in &s.mounts {
            match host {
                Some(path) => assert!(path.exists(), "{}: {} is missing", s.name, path.display()),
                None => {
                    let name = spec["volumes"]
                        .as_vec()
                        .unwrap()
                        .iter()
                        .filter_map(Yaml::as_str)
                        .find(|m| m.split(':').nth(1) == Some(target.as_str()))
                        .and_then(|m| m.split(':').next())
                        .unwrap();
                    assert!(
                        volumes.contains_key(&Yaml::String(name.into())),
                        "{}: volume {name} is not declared",
                        s.name
                    );
                }
            }
        }
        let image = spec["image"].as_str().expect("an image");
        let (repository, tag) = image.rsplit_once(':').expect("a pinned image tag");
        if repository.starts_with("victoriametrics/") {
            images.push(tag.to_owned());
        }
    }
    assert_eq!(images.len(), 3, "victoria-metrics, vmagent and vmalert");
    assert!(
        images.iter().all(|t| *t == images[0]),
        "one VictoriaMetrics version: {images:?}"
    );
}

/// The README's other path: Prometheus in agent mode, with vmagent.yml plus a `remote_write`
/// block to the store vmagent writes to, is a valid agent configuration.
#[test]
fn vmagent_config_with_remote_write_is_a_prometheus_agent_config() {
    let path = deploy_dir().join("victoriametrics/vmagent.yml");
    let url = flag(&service("vmagent"), "remoteWrite.url");
    let config = format!(
        "{}\nremote_write:\n  - url: {url}\n",
        std::fs::read_to_string(&path).unwrap()
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agent.yml");
    std::fs::write(&file, config).unwrap();
    let password = yaml_document(&path)["scrape_configs"][0]["basic_auth"]["password_file"]
        .as_str()
        .unwrap()
        .to_owned();
    std::fs::write(dir.path().join(password), "s3cret").unwrap();
    accepts(
        "promtool",
        &[
            "check".into(),
            "config".into(),
            "--agent".into(),
            file.display().to_string(),
        ],
    );
}
