//! The Kubernetes bundle in `deploy/kubernetes/`:
//! - the core kinds (Deployment, Service, Secret, ConfigMap, RBAC...) validate, in strict mode,
//!   against the Kubernetes 1.33 schemas that the PyPI package `kubernetes-validate` ships (offline);
//! - the custom resources, which have no schema there (PodMonitor, PrometheusRule), and the
//!   references between objects are checked structurally: selectors match the Deployment's pod
//!   labels, named ports exist, Secret keys exist, the PodMonitor's `job` is the bundle's job name,
//!   the collector's pipelines use only defined components, memory_limiter first and batch last;
//! - the agent variant: vmagent's scrape configuration selects the server's pods and port with
//!   the Secret's credentials under the bundle's job name, as the PodMonitor does, with the RBAC
//!   it needs, and the real `vmagent` (Debian package `victoria-metrics`) accepts it;
//! - the example server started with the Deployment's environment (Secret values substituted,
//!   `$(VAR)` expanded as the kubelet does) serves MCP to the Service's host names and /metrics to
//!   the PodMonitor's credentials.

use mcp_metrics_tests::deploy::{kubernetes_dir, scrape_job_name, yaml_document, yaml_documents};
use mcp_metrics_tests::harness::{ExampleServer, free_port, get, workspace_root};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;
use yaml_rust2::Yaml;

/// The Kubernetes version whose schemas the manifests are validated against.
const KUBERNETES_VERSION: &str = "1.33.0";
/// Kinds that `kubernetes-validate` has no schema for, checked structurally below.
const CUSTOM_KINDS: &[&str] = &["PodMonitor", "PrometheusRule", "Kustomization"];

fn python() -> PathBuf {
    let path = std::env::var_os("MCP_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv/bin/python"));
    assert!(
        path.exists(),
        "no Python with `kubernetes-validate` at {}: run `bash .ci/run`, or set MCP_TEST_PYTHON \
         to a venv with `pip install -r tests/python/requirements.txt`",
        path.display()
    );
    path
}

/// The manifest files, kustomization.yaml included.
fn manifest_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(kubernetes_dir())
        .expect("deploy/kubernetes/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    files
}

/// Every object of every manifest but kustomization.yaml.
fn objects() -> Vec<Yaml> {
    manifest_files()
        .iter()
        .filter(|p| !p.ends_with("kustomization.yaml"))
        .flat_map(|p| yaml_documents(p))
        .filter(|d| !d.is_null())
        .collect()
}

fn s(y: &Yaml) -> &str {
    y.as_str().unwrap_or_default()
}

fn list(y: &Yaml) -> &[Yaml] {
    y.as_vec().map(Vec::as_slice).unwrap_or_default()
}

fn labels(y: &Yaml) -> BTreeMap<String, String> {
    y.as_hash()
        .map(|h| {
            h.iter()
                .map(|(k, v)| (s(k).to_owned(), s(v).to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn of_kind<'a>(objects: &'a [Yaml], kind: &str) -> Vec<&'a Yaml> {
    objects.iter().filter(|o| s(&o["kind"]) == kind).collect()
}

fn named<'a>(objects: &'a [Yaml], kind: &str, name: &str) -> &'a Yaml {
    of_kind(objects, kind)
        .into_iter()
        .find(|o| s(&o["metadata"]["name"]) == name)
        .unwrap_or_else(|| panic!("no {kind} named {name} in deploy/kubernetes/"))
}

fn is_subset(small: &BTreeMap<String, String>, big: &BTreeMap<String, String>) -> bool {
    !small.is_empty() && small.iter().all(|(k, v)| big.get(k) == Some(v))
}

/// The one Deployment whose pod labels `selector` selects.
fn selected_deployment<'a>(objects: &'a [Yaml], selector: &BTreeMap<String, String>) -> &'a Yaml {
    let matching: Vec<&Yaml> = of_kind(objects, "Deployment")
        .into_iter()
        .filter(|d| {
            is_subset(
                selector,
                &labels(&d["spec"]["template"]["metadata"]["labels"]),
            )
        })
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "selector {selector:?} must select the pods of exactly one Deployment"
    );
    matching[0]
}

fn container_ports(deployment: &Yaml) -> BTreeMap<String, i64> {
    list(&deployment["spec"]["template"]["spec"]["containers"])
        .iter()
        .flat_map(|c| list(&c["ports"]))
        .map(|p| {
            (
                s(&p["name"]).to_owned(),
                p["containerPort"].as_i64().unwrap_or(-1),
            )
        })
        .collect()
}

/// The keys a Secret holds (`stringData` and `data`).
fn secret_keys(secret: &Yaml) -> BTreeMap<String, String> {
    let mut keys = labels(&secret["stringData"]);
    keys.extend(labels(&secret["data"]));
    keys
}

#[test]
fn core_kinds_validate_against_the_kubernetes_schemas() {
    let out = Command::new(python())
        .arg(workspace_root().join("tests/python/validate_manifests.py"))
        .arg(KUBERNETES_VERSION)
        .args(manifest_files())
        .output()
        .expect("run validate_manifests.py");
    assert!(
        out.status.success(),
        "validate_manifests.py failed (is `kubernetes-validate` installed? \
         `pip install -r tests/python/requirements.txt`):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Vec<Value> = serde_json::from_slice(&out.stdout).expect("JSON report");
    let mut valid = BTreeSet::new();
    for entry in &report {
        let kind = entry["kind"].as_str().unwrap_or_default();
        match entry["result"].as_str() {
            Some("valid") => {
                valid.insert(kind.to_owned());
            }
            Some("no_schema") => assert!(
                CUSTOM_KINDS.contains(&kind),
                "no schema for {kind} in {}: only custom resources may lack one",
                entry["file"]
            ),
            _ => panic!("invalid manifest: {entry}"),
        }
    }
    for kind in [
        "Namespace",
        "Secret",
        "Deployment",
        "Service",
        "ConfigMap",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
    ] {
        assert!(valid.contains(kind), "no valid {kind} in {valid:?}");
    }
    // Every object of the bundle was validated or is a custom resource.
    assert_eq!(report.len(), objects().len() + 1, "{report:?}");
}

#[test]
fn kustomization_lists_every_manifest_and_names_its_namespace() {
    let kustomization = yaml_document(&kubernetes_dir().join("kustomization.yaml"));
    let listed: BTreeSet<String> = list(&kustomization["resources"])
        .iter()
        .map(|r| s(r).to_owned())
        .collect();
    let present: BTreeSet<String> = manifest_files()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|n| n != "kustomization.yaml")
        .collect();
    assert_eq!(listed, present);
    let namespace = s(&kustomization["namespace"]);
    assert!(!namespace.is_empty());
    for o in objects() {
        let kind = s(&o["kind"]);
        assert!(!s(&o["apiVersion"]).is_empty(), "{o:?}");
        assert!(
            !s(&o["metadata"]["name"]).is_empty(),
            "{kind} without a name"
        );
        if !matches!(kind, "Namespace" | "ClusterRole" | "ClusterRoleBinding") {
            assert_eq!(
                s(&o["metadata"]["namespace"]),
                namespace,
                "{kind} {}",
                s(&o["metadata"]["name"])
            );
        }
    }
    let objects = objects();
    named(&objects, "Namespace", namespace);
}

#[test]
fn pod_monitor_scrapes_the_deployment_with_the_secret() {
    let objects = objects();
    let monitors = of_kind(&objects, "PodMonitor");
    assert_eq!(monitors.len(), 1);
    let monitor = monitors[0];
    assert_eq!(s(&monitor["apiVersion"]), "monitoring.coreos.com/v1");
    let selector = labels(&monitor["spec"]["selector"]["matchLabels"]);
    let deployment = selected_deployment(&objects, &selector);
    let pod_labels = labels(&deployment["spec"]["template"]["metadata"]["labels"]);
    let ports = container_ports(deployment);

    // `job` comes from a pod label whose value is the bundle's job name, so that the rules'
    // `job` matchers (McpTargetDown) and the dashboards see the same job as deploy/prometheus/.
    let job_label = s(&monitor["spec"]["jobLabel"]);
    assert_eq!(
        pod_labels.get(job_label).map(String::as_str),
        Some(scrape_job_name().as_str()),
        "jobLabel {job_label:?} must name a pod label whose value is the scrape job's name"
    );

    let endpoints = list(&monitor["spec"]["podMetricsEndpoints"]);
    assert!(!endpoints.is_empty());
    for endpoint in endpoints {
        let port = s(&endpoint["port"]);
        assert!(ports.contains_key(port), "port {port:?} not in {ports:?}");
        assert_eq!(s(&endpoint["path"]), "/metrics");
        for part in ["username", "password"] {
            let reference = &endpoint["basicAuth"][part];
            let secret = named(&objects, "Secret", s(&reference["name"]));
            let key = s(&reference["key"]);
            assert!(
                secret_keys(secret).contains_key(key),
                "no key {key} in the Secret"
            );
        }
    }
}

/// The values of `-flag=value` in a container's args.
fn arg_values(container: &Yaml, flag: &str) -> Vec<String> {
    let prefix = format!("-{flag}=");
    list(&container["args"])
        .iter()
        .filter_map(|a| s(a).strip_prefix(prefix.as_str()).map(str::to_owned))
        .collect()
}

/// The single value of `-flag=value` in a container's args.
fn arg(container: &Yaml, flag: &str) -> String {
    let values = arg_values(container, flag);
    assert_eq!(values.len(), 1, "-{flag}: {values:?}");
    values[0].clone()
}

/// The volume that holds `path` in the first container of a pod `spec`, and the key (ConfigMap
/// or Secret) of the file at `path` in it (empty for the mount point itself).
fn mounted<'a>(spec: &'a Yaml, path: &str) -> (&'a Yaml, String) {
    let (mount, rest) = list(&spec["containers"][0]["volumeMounts"])
        .iter()
        .find_map(|m| {
            let rest = path.strip_prefix(s(&m["mountPath"]))?;
            (rest.is_empty() || rest.starts_with('/')).then(|| (m, rest.trim_start_matches('/')))
        })
        .unwrap_or_else(|| panic!("{path} is not in a mounted volume"));
    let volume = list(&spec["volumes"])
        .iter()
        .find(|v| s(&v["name"]) == s(&mount["name"]))
        .unwrap_or_else(|| panic!("no volume {:?}", mount["name"]));
    let key = list(&volume["secret"]["items"])
        .iter()
        .find(|i| s(&i["path"]) == rest)
        .map_or(rest, |i| s(&i["key"]));
    (volume, key.to_owned())
}

/// The Prometheus service-discovery label of a Kubernetes pod label.
fn pod_label_meta(label: &str) -> String {
    let sanitized: String = label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("__meta_kubernetes_pod_label_{sanitized}")
}

#[test]
fn vmagent_scrapes_the_server_pods_as_the_pod_monitor_does() {
    let objects = objects();
    let agent = of_kind(&objects, "Deployment")
        .into_iter()
        .find(|d| {
            !arg_values(
                &d["spec"]["template"]["spec"]["containers"][0],
                "promscrape.config",
            )
            .is_empty()
        })
        .expect("a vmagent Deployment");
    let spec = &agent["spec"]["template"]["spec"];
    let container = &spec["containers"][0];
    let (volume, key) = mounted(spec, &arg(container, "promscrape.config"));
    let config_map = named(&objects, "ConfigMap", s(&volume["configMap"]["name"]));
    let text = s(&config_map["data"][key.as_str()]).to_owned();
    let config = yaml_rust2::YamlLoader::load_from_str(&text).expect("scrape YAML")[0].clone();
    let jobs = list(&config["scrape_configs"]);
    assert_eq!(jobs.len(), 1, "one scrape job");
    let job = &jobs[0];
    assert_eq!(s(&job["job_name"]), scrape_job_name(), "the rules' job");
    assert_eq!(s(&job["metrics_path"]), "/metrics");

    // The PodMonitor's credentials, interval, pods and port.
    let monitor = of_kind(&objects, "PodMonitor")[0];
    let endpoint = &list(&monitor["spec"]["podMetricsEndpoints"])[0];
    let auth = &endpoint["basicAuth"];
    let username = &auth["username"];
    let username =
        &secret_keys(named(&objects, "Secret", s(&username["name"])))[s(&username["key"])];
    assert_eq!(s(&job["basic_auth"]["username"]), username);
    let (volume, key) = mounted(spec, s(&job["basic_auth"]["password_file"]));
    assert_eq!(
        s(&volume["secret"]["secretName"]),
        s(&auth["password"]["name"])
    );
    assert_eq!(key, s(&auth["password"]["key"]));
    assert_eq!(config["global"]["scrape_interval"], endpoint["interval"]);
    let keeps: BTreeMap<String, String> = list(&job["relabel_configs"])
        .iter()
        .filter(|r| s(&r["action"]) == "keep")
        .map(|r| {
            let sources: Vec<&str> = list(&r["source_labels"]).iter().map(s).collect();
            (sources.join(";"), s(&r["regex"]).to_owned())
        })
        .collect();
    for (label, value) in labels(&monitor["spec"]["selector"]["matchLabels"]) {
        assert_eq!(
            keeps.get(&pod_label_meta(&label)),
            Some(&value),
            "{keeps:?}"
        );
    }
    assert_eq!(
        keeps
            .get("__meta_kubernetes_pod_container_port_name")
            .map(String::as_str),
        Some(s(&endpoint["port"])),
        "{keeps:?}"
    );

    // Pods of its own namespace, which a Role bound to its ServiceAccount lets it list.
    let sd = &list(&job["kubernetes_sd_configs"])[0];
    assert_eq!(s(&sd["role"]), "pod");
    assert_eq!(sd["namespaces"]["own_namespace"].as_bool(), Some(true));
    let account = s(&spec["serviceAccountName"]);
    let binding = of_kind(&objects, "RoleBinding")
        .into_iter()
        .find(|b| {
            list(&b["subjects"])
                .iter()
                .any(|x| s(&x["name"]) == account)
        })
        .expect("a RoleBinding for vmagent's ServiceAccount");
    let role = named(&objects, "Role", s(&binding["roleRef"]["name"]));
    assert!(
        list(&role["rules"]).iter().any(|r| {
            let has = |k: &str, v: &str| list(&r[k]).iter().any(|x| s(x) == v);
            has("resources", "pods") && ["get", "list", "watch"].iter().all(|v| has("verbs", v))
        }),
        "the Role lets vmagent watch pods"
    );

    // It remote-writes, buffering on a writable volume.
    assert!(arg(container, "remoteWrite.url").starts_with("http"));
    let (buffer, _) = mounted(spec, &arg(container, "remoteWrite.tmpDataPath"));
    assert!(
        !buffer["emptyDir"].is_badvalue(),
        "the buffer is an emptyDir"
    );

    // vmagent's strict parser accepts the configuration.
    let vmagent = mcp_metrics_tests::harness::which("vmagent").expect(
        "`vmagent` is not installed: `apt-get install -y victoria-metrics` (.ci/run does it)",
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scrape.yml");
    std::fs::write(&file, &text).unwrap();
    let out = Command::new(vmagent)
        .arg(format!("-promscrape.config={}", file.display()))
        .args(["-promscrape.config.dryRun", "-loggerLevel=ERROR"])
        .output()
        .expect("run vmagent");
    assert!(
        out.status.success(),
        "vmagent refused the scrape configuration:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn services_and_deployments_reference_what_exists() {
    let objects = objects();
    for service in of_kind(&objects, "Service") {
        let deployment = selected_deployment(&objects, &labels(&service["spec"]["selector"]));
        let ports = container_ports(deployment);
        for port in list(&service["spec"]["ports"]) {
            match &port["targetPort"] {
                Yaml::String(name) => assert!(ports.contains_key(name), "{name} not in {ports:?}"),
                Yaml::Integer(n) => assert!(ports.values().any(|p| p == n), "{n} not in {ports:?}"),
                other => panic!("targetPort {other:?}"),
            }
        }
    }
    for deployment in of_kind(&objects, "Deployment") {
        let name = s(&deployment["metadata"]["name"]);
        let spec = &deployment["spec"]["template"]["spec"];
        assert!(
            is_subset(
                &labels(&deployment["spec"]["selector"]["matchLabels"]),
                &labels(&deployment["spec"]["template"]["metadata"]["labels"])
            ),
            "{name}: the selector must match the pod labels"
        );
        assert_eq!(
            spec["securityContext"]["runAsNonRoot"].as_bool(),
            Some(true),
            "{name}"
        );
        let ports = container_ports(deployment);
        for c in list(&spec["containers"]) {
            let sc = &c["securityContext"];
            assert_eq!(
                sc["allowPrivilegeEscalation"].as_bool(),
                Some(false),
                "{name}"
            );
            assert_eq!(sc["readOnlyRootFilesystem"].as_bool(), Some(true), "{name}");
            for kind in ["requests", "limits"] {
                assert!(
                    c["resources"][kind]["memory"].as_str().is_some(),
                    "{name}: {kind}"
                );
            }
            for probe in ["readinessProbe", "livenessProbe"] {
                let p = &c[probe];
                let port = &[&p["tcpSocket"]["port"], &p["httpGet"]["port"]];
                let port = port
                    .iter()
                    .find(|p| !p.is_badvalue())
                    .expect("a probe port");
                assert!(ports.contains_key(s(port)), "{name}: {probe} port {port:?}");
            }
            for env in list(&c["env"]) {
                let r = &env["valueFrom"]["secretKeyRef"];
                if r.is_badvalue() || r["optional"].as_bool() == Some(true) {
                    continue;
                }
                let secret = named(&objects, "Secret", s(&r["name"]));
                assert!(
                    secret_keys(secret).contains_key(s(&r["key"])),
                    "{name}: {r:?}"
                );
            }
        }
        for v in list(&spec["volumes"]) {
            if !v["configMap"].is_badvalue() {
                named(&objects, "ConfigMap", s(&v["configMap"]["name"]));
            }
            if !v["secret"].is_badvalue() {
                let secret = named(&objects, "Secret", s(&v["secret"]["secretName"]));
                for item in list(&v["secret"]["items"]) {
                    assert!(
                        secret_keys(secret).contains_key(s(&item["key"])),
                        "{name}: {item:?}"
                    );
                }
            }
        }
        if let Some(account) = spec["serviceAccountName"].as_str() {
            named(&objects, "ServiceAccount", account);
        }
    }
    for binding in [
        of_kind(&objects, "ClusterRoleBinding"),
        of_kind(&objects, "RoleBinding"),
    ]
    .concat()
    {
        named(
            &objects,
            s(&binding["roleRef"]["kind"]),
            s(&binding["roleRef"]["name"]),
        );
        for subject in list(&binding["subjects"]) {
            let account = named(&objects, "ServiceAccount", s(&subject["name"]));
            assert_eq!(
                s(&subject["namespace"]),
                s(&account["metadata"]["namespace"])
            );
        }
    }
}

/// The MCP server's Deployment: the one the PodMonitor selects.
fn server_deployment(objects: &[Yaml]) -> &Yaml {
    let monitor = of_kind(objects, "PodMonitor")[0];
    selected_deployment(
        objects,
        &labels(&monitor["spec"]["selector"]["matchLabels"]),
    )
}

/// The environment of the first container, as the kubelet builds it: Secret keys substituted,
/// `$(NAME)` replaced by variables defined before. Field references get a stand-in value.
fn container_env(objects: &[Yaml], deployment: &Yaml) -> Vec<(String, String)> {
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    let mut env: Vec<(String, String)> = Vec::new();
    for e in list(&container["env"]) {
        let name = s(&e["name"]).to_owned();
        let value = if let Some(v) = e["value"].as_str() {
            let mut v = v.to_owned();
            for (k, val) in &env {
                v = v.replace(&format!("$({k})"), val);
            }
            v
        } else if !e["valueFrom"]["secretKeyRef"].is_badvalue() {
            let r = &e["valueFrom"]["secretKeyRef"];
            let secret = named(objects, "Secret", s(&r["name"]));
            secret_keys(secret)[s(&r["key"])].clone()
        } else {
            "stand-in".to_owned()
        };
        env.push((name, value));
    }
    env
}

#[test]
fn otel_collector_pipelines_use_defined_components() {
    let objects = objects();
    let server = server_deployment(&objects);
    let collector = of_kind(&objects, "Deployment")
        .into_iter()
        .find(|d| {
            list(&d["spec"]["template"]["spec"]["containers"][0]["args"])
                .iter()
                .any(|a| s(a).starts_with("--config="))
        })
        .expect("a collector Deployment reading its configuration with --config");
    let volume = &list(&collector["spec"]["template"]["spec"]["volumes"])[0];
    let config_map = named(&objects, "ConfigMap", s(&volume["configMap"]["name"]));
    let container = &collector["spec"]["template"]["spec"]["containers"][0];
    let mount = list(&container["volumeMounts"])
        .iter()
        .find(|m| s(&m["name"]) == s(&volume["name"]))
        .expect("the configuration is mounted");
    let (file, text) = config_map["data"]
        .as_hash()
        .and_then(|h| h.iter().next())
        .map(|(k, v)| (s(k), s(v)))
        .expect("the ConfigMap holds the configuration");
    let args: Vec<&str> = list(&container["args"]).iter().map(s).collect();
    assert!(
        args.contains(&format!("--config={}/{file}", s(&mount["mountPath"])).as_str()),
        "{args:?}"
    );

    let config = yaml_rust2::YamlLoader::load_from_str(text).expect("collector YAML")[0].clone();
    let defined = |section: &str| -> BTreeSet<String> {
        config[section]
            .as_hash()
            .map(|h| h.keys().map(|k| s(k).to_owned()).collect())
            .unwrap_or_default()
    };
    let pipelines = config["service"]["pipelines"].as_hash().expect("pipelines");
    let mut exporters_of = BTreeMap::new();
    for (name, pipeline) in pipelines {
        let name = s(name);
        for section in ["receivers", "processors", "exporters"] {
            for component in list(&pipeline[section]) {
                assert!(
                    defined(section).contains(s(component)),
                    "pipeline {name}: {section} {component:?} is not defined"
                );
            }
        }
        let processors: Vec<&str> = list(&pipeline["processors"]).iter().map(s).collect();
        assert_eq!(
            processors.first(),
            Some(&"memory_limiter"),
            "{name}: {processors:?}"
        );
        assert_eq!(processors.last(), Some(&"batch"), "{name}: {processors:?}");
        assert!(list(&pipeline["receivers"]).iter().any(|r| s(r) == "otlp"));
        let exporters: Vec<String> = list(&pipeline["exporters"])
            .iter()
            .map(|e| s(e).to_owned())
            .collect();
        exporters_of.insert(name.split('/').next().unwrap_or(name).to_owned(), exporters);
    }
    let is_otlp = |e: &String| e.starts_with("otlp");
    assert!(
        exporters_of["traces"].iter().any(is_otlp),
        "{exporters_of:?}"
    );
    assert!(
        exporters_of["metrics"].iter().any(is_otlp),
        "{exporters_of:?}"
    );
    assert!(
        exporters_of["metrics"]
            .iter()
            .any(|e| e.starts_with("prometheusremotewrite")),
        "{exporters_of:?}"
    );
    for extension in list(&config["service"]["extensions"]) {
        assert!(defined("extensions").contains(s(extension)));
    }

    // The server sends OTLP/HTTP to a Service of the collector, on a port that reaches it.
    let env: BTreeMap<String, String> = container_env(&objects, server).into_iter().collect();
    let endpoint = &env["OTEL_EXPORTER_OTLP_ENDPOINT"];
    let authority = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let (host, port) = authority.split_once(':').expect("host:port");
    let service = named(&objects, "Service", host);
    let collector_ports = container_ports(collector);
    let service_port = list(&service["spec"]["ports"])
        .iter()
        .find(|p| p["port"].as_i64() == port.parse().ok())
        .unwrap_or_else(|| panic!("{host} has no port {port}"));
    let target = &collector_ports[s(&service_port["targetPort"])];
    assert!(
        text.contains(&format!(":{target}")),
        "the collector listens for OTLP on {target}"
    );
}

/// Sends one HTTP/1.1 request with a chosen Host header and returns the status code.
fn raw_status(addr: std::net::SocketAddr, request: &str) -> u16 {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request.as_bytes()).expect("send");
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).expect("status line");
    String::from_utf8_lossy(&head[9..12])
        .parse()
        .expect("status code")
}

fn initialize(addr: std::net::SocketAddr, host: &str) -> u16 {
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"probe","version":"1"}}}"#;
    raw_status(
        addr,
        &format!(
            "POST /mcp HTTP/1.1\r\nHost: {host}\r\nAccept: application/json, text/event-stream\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

#[test]
fn example_server_serves_the_service_names_and_the_scrape_credentials() {
    let objects = objects();
    let deployment = server_deployment(&objects);
    let namespace = s(&deployment["metadata"]["namespace"]);
    let http_port = container_ports(deployment)["http"];
    let mut env = container_env(&objects, deployment);
    let bind = env
        .iter()
        .find(|(k, _)| k == "MCP_BIND")
        .expect("MCP_BIND")
        .1
        .clone();
    assert!(
        bind.starts_with("0.0.0.0:") && bind.ends_with(&format!(":{http_port}")),
        "the server must listen on all addresses of the pod, on the `http` port: {bind}"
    );
    // Here: any free loopback port, no collector (spans are dropped), quieter logs.
    let nobody = format!("http://127.0.0.1:{}", free_port());
    env.retain(|(k, _)| k != "MCP_BIND" && k != "RUST_LOG");
    for (k, v) in &mut env {
        if k.starts_with("OTEL_EXPORTER_OTLP") {
            *v = nobody.clone();
        }
    }
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = ExampleServer::start("http-server", &env_refs);

    // The probes connect to the port.
    TcpStream::connect(server.addr).expect("the tcpSocket probes connect");

    // The PodMonitor's credentials open /metrics; nothing else does.
    let monitor = of_kind(&objects, "PodMonitor")[0];
    let auth = &list(&monitor["spec"]["podMetricsEndpoints"])[0]["basicAuth"];
    let part = |p: &str| {
        let r = &auth[p];
        secret_keys(named(&objects, "Secret", s(&r["name"])))[s(&r["key"])].clone()
    };
    let token = base64(&format!("{}:{}", part("username"), part("password")));
    let (status, body) = get(
        &server.url("/metrics"),
        &[("Authorization", &format!("Basic {token}"))],
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("mcp_build_info"));
    assert_eq!(get(&server.url("/metrics"), &[]).0, 401);

    // MCP clients in the cluster reach the Service by its names; other Host headers stay refused.
    for service in of_kind(&objects, "Service") {
        if selected_deployment(&objects, &labels(&service["spec"]["selector"])) != deployment {
            continue;
        }
        let name = s(&service["metadata"]["name"]);
        for port in list(&service["spec"]["ports"]) {
            let port = port["port"].as_i64().unwrap();
            for host in [
                format!("{name}:{port}"),
                format!("{name}.{namespace}:{port}"),
                format!("{name}.{namespace}.svc:{port}"),
                format!("{name}.{namespace}.svc.cluster.local:{port}"),
            ] {
                assert_eq!(initialize(server.addr, &host), 200, "Host: {host}");
            }
        }
    }
    assert_eq!(initialize(server.addr, "attacker.example:8080"), 403);
}

/// Standard base64 of `text`.
fn base64(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
