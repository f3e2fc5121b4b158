//! The container and Kubernetes files cannot be run here (no Docker, no
//! cluster), so this reads them as text and checks them against the gateway
//! itself: the probe paths are routes it serves, ports agree everywhere,
//! every configured variable is one README.md documents and the gateway accepts, and README.md's table matches what the configuration reads, the example
//! Secret can never start a production gateway, and the settings that keep
//! streams alive (no proxy buffering, drain before SIGTERM) are in place.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a failed unwrap or expect is a failed test"
)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use gateway::App;
use gateway::config::{Config, EnvVars, Mode, VARIABLES};
use tower::ServiceExt as _;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn read(relative: &str) -> String {
    let path = repo().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn k8s(file: &str) -> String {
    read(&format!("deploy/kubernetes/{file}"))
}

/// Lines without comments or blank lines.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
}

/// The `key: value` entries directly under the top-level `section:` of a
/// flat manifest (a ConfigMap's `data`, a Secret's `stringData`).
fn section(text: &str, name: &str) -> Vec<(String, String)> {
    lines(text)
        .skip_while(|l| *l != format!("{name}:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| {
            let (k, v) = l.trim().split_once(':').unwrap();
            (k.to_owned(), v.trim().trim_matches('"').to_owned())
        })
        .collect()
}

/// The value of the first `key:` (or `- key:`) at or after the line
/// containing `after`.
fn value_after<'a>(text: &'a str, after: &str, key: &str) -> &'a str {
    let prefix = format!("{key}:");
    lines(text)
        .skip_while(|l| !l.contains(after))
        .find_map(|l| {
            l.trim()
                .trim_start_matches("- ")
                .strip_prefix(prefix.as_str())
        })
        .unwrap_or_else(|| panic!("no {key} after {after}"))
        .trim()
        .trim_matches('"')
}

fn number_after(text: &str, after: &str, key: &str) -> u64 {
    value_after(text, after, key).parse().unwrap()
}

/// The variables in README.md's configuration table: every backticked
/// name in the first cell of a row of the table under `## Configuration`.
fn readme_variables() -> Vec<String> {
    let readme = read("README.md");
    let section = readme
        .split("\n## Configuration")
        .nth(1)
        .expect("README.md has a Configuration section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut names = Vec::new();
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        let first_cell = row.trim_start_matches('|').split('|').next().unwrap();
        names.extend(first_cell.split('`').skip(1).step_by(2).map(str::to_owned));
    }
    assert!(names.len() >= 10, "README.md's table parsed: {names:?}");
    names
}

/// Whether `name` is in README.md's table (per-system Dify names match
/// their `DIFY_<SYSTEM>_…` pattern).
fn documented(name: &str) -> bool {
    readme_variables()
        .iter()
        .any(|documented| match documented.split_once("<SYSTEM>") {
            Some((head, tail)) => {
                name.len() > head.len() + tail.len()
                    && name.starts_with(head)
                    && name.ends_with(tail)
            }
            None => name == documented,
        })
}

/// The environment variables the configuration code reads: the quoted
/// names in `gateway/src/config` outside its tests and outside the
/// `--help` list (`VARIABLES`), with a per-system `DIFY_{sys}_…` written
/// as README.md writes it, `DIFY_<SYSTEM>_…`.
fn variables_the_config_reads() -> Vec<String> {
    let dir = repo().join("gateway/src/config");
    let mut names = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // Test modules and the `--help` list are not reads.
        let text = text.split("#[cfg(test)]").next().unwrap();
        let text = match text.split_once("pub const VARIABLES") {
            Some((before, after)) => {
                before.to_owned() + after.split_once("];").map_or("", |(_, rest)| rest)
            }
            None => text.to_owned(),
        };
        // Per-system names are matched, not looked up:
        // `.strip_prefix("DIFY_")…strip_suffix("_API_KEY")`.
        for (_, rest) in text
            .match_indices(".strip_prefix(\"")
            .map(|(i, _)| text.split_at(i))
        {
            let mut quoted = rest.split('"');
            let (Some(prefix), Some(chain)) = (quoted.nth(1), quoted.next()) else {
                continue;
            };
            if chain.starts_with(')')
                && chain.contains(".strip_suffix(")
                && let Some(suffix) = quoted.next()
            {
                names.insert(format!("{prefix}<SYSTEM>{suffix}"));
            }
        }
        // Per-system names of the other kinds go through one matcher:
        // `per_system_values(vars, "N8N_", &["_WEBHOOK_URL", …])`, or with a
        // named list of suffixes (`&OPENAI_SUFFIXES`).
        for (_, call) in text
            .match_indices("per_system_values(vars, \"")
            .map(|(i, _)| text.split_at(i))
        {
            let mut quoted = call.split('"');
            let Some(prefix) = quoted.nth(1) else {
                continue;
            };
            let rest = &call[call.find(", &").map_or(call.len(), |i| i + 3)..];
            let list = if rest.starts_with('[') {
                rest.split_once(']').map_or("", |(list, _)| list).to_owned()
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                text.split_once(&format!("const {name}: "))
                    .and_then(|(_, def)| def.split_once('='))
                    .and_then(|(_, def)| def.split_once(']'))
                    .map_or(String::new(), |(list, _)| list.to_owned())
            };
            for suffix in list.split('"').skip(1).step_by(2) {
                names.insert(format!("{prefix}<SYSTEM>{suffix}"));
            }
        }
        for quoted in text.split('"').skip(1).step_by(2) {
            let name = quoted
                .replace("{sys}", "<SYSTEM>")
                .replace("{system}", "<SYSTEM>");
            let is_variable = ["CHAT_GATEWAY_", "DIFY_", "N8N_", "OPENAI_", "ALLOWED_", "DATABASE_URL", "AWS_"]
                .iter()
                .any(|prefix| name.starts_with(prefix))
                && name.len() > "DIFY_".len()
                // A prefix handed to a matcher (`"OPENAI_"`), not a name.
                && !name.ends_with('_')
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "_<>".contains(c));
            if is_variable {
                names.insert(name);
            }
        }
    }
    assert!(names.len() >= 10, "the config's sources parsed: {names:?}");
    names.into_iter().collect()
}

/// Read by the gateway outside `config`, so not found there.
const READ_ELSEWHERE: &[(&str, &str)] = &[
    ("RUST_LOG", "tracing's EnvFilter reads it"),
    (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "the OpenTelemetry exporter reads it (the otel feature)",
    ),
];

#[test]
fn readme_documents_every_variable_the_config_reads_and_nothing_else() {
    let table = readme_variables();
    let read = variables_the_config_reads();
    for name in &read {
        assert!(
            table.contains(name),
            "{name} is read by the configuration but has no row in README.md's \
             Configuration table: add one"
        );
    }
    for name in &table {
        assert!(
            read.contains(name) || READ_ELSEWHERE.iter().any(|(n, _)| n == name),
            "README.md documents {name}, which the configuration never reads"
        );
    }
    // `chat-gateway --help` lists the same variables.
    let help: Vec<&str> = VARIABLES.iter().map(|(name, _)| *name).collect();
    for name in &table {
        assert!(help.contains(&name.as_str()), "{name} is missing in --help");
    }
    for name in help {
        assert!(
            table.iter().any(|t| t == name),
            "--help lists {name}, README.md does not"
        );
    }
}

/// Real-looking secrets, made here (never the example's).
fn good_secrets() -> Vec<(String, String)> {
    vec![
        (
            "CHAT_GATEWAY_JWT_SECRET".into(),
            gateway::secrets::jwt_secret(),
        ),
        ("CHAT_GATEWAY_API_KEY".into(), gateway::secrets::api_key()),
        (
            "DATABASE_URL".into(),
            "postgres://tzchat:pw@db.internal:5432/tzchat".into(),
        ),
        ("DIFY_API_KEY".into(), "app-0123456789".into()),
    ]
}

fn config_with(secrets: &[(String, String)]) -> Result<Config, gateway::config::ConfigError> {
    let mut vars = EnvVars::from_pairs(section(&k8s("configmap.yaml"), "data"));
    for (k, v) in secrets {
        vars.set(k.clone(), v.clone());
    }
    Config::from_env(&vars)
}

#[test]
fn every_configured_variable_is_documented() {
    let config = section(&k8s("configmap.yaml"), "data");
    let secret = section(&k8s("secret.example.yaml"), "stringData");
    assert!(config.len() >= 5 && secret.len() >= 3, "both files parsed");
    for (name, _) in config.iter().chain(&secret) {
        assert!(documented(name), "{name} is not a documented variable");
    }
    // Secrets stay out of the ConfigMap.
    for (name, _) in &config {
        assert!(
            !(name.contains("SECRET") || name.contains("KEY") || name == "DATABASE_URL"),
            "{name} belongs in the Secret"
        );
    }
}

#[test]
fn the_configmap_makes_a_valid_production_configuration() {
    let config = config_with(&good_secrets()).unwrap();
    assert_eq!(config.mode, Mode::Production);
    assert!(config.database_url.starts_with("postgres://"));
    assert!(config.upstreams.demo.is_none());
    assert!(config.upstreams.shared.is_some());
    let port = number_after(&k8s("deployment.yaml"), "ports:", "containerPort");
    assert_eq!(
        u64::from(config.listen.port()),
        port,
        "listen port = containerPort"
    );
    assert!(
        config.listen.ip().is_unspecified(),
        "reachable from the kubelet and Service"
    );
}

#[test]
fn the_example_secret_never_starts_a_production_gateway() {
    let example = section(&k8s("secret.example.yaml"), "stringData");
    assert!(config_with(&example).is_err());
    // Each placeholder is refused on its own, even with the others filled in.
    for placeholder in ["CHAT_GATEWAY_JWT_SECRET", "CHAT_GATEWAY_API_KEY"] {
        let mut secrets = good_secrets();
        for (k, v) in &mut secrets {
            if k == placeholder {
                v.clone_from(&example.iter().find(|(e, _)| e == k).unwrap().1);
            }
        }
        assert!(
            config_with(&secrets).is_err(),
            "the example {placeholder} is refused"
        );
    }
    assert!(
        example
            .iter()
            .all(|(_, v)| v.contains("<replace>") || v.contains("<password>")),
        "only placeholders in the example"
    );
}

#[tokio::test]
async fn the_probes_are_routes_the_gateway_serves() {
    let deployment = k8s("deployment.yaml");
    let readiness = value_after(&deployment, "readinessProbe:", "path");
    let liveness = value_after(&deployment, "livenessProbe:", "path");
    let startup = value_after(&deployment, "startupProbe:", "path");
    assert_eq!(
        (readiness, liveness, startup),
        ("/ready", "/health", "/health")
    );
    for probe in ["readinessProbe:", "livenessProbe:", "startupProbe:"] {
        assert_eq!(value_after(&deployment, probe, "port"), "http");
    }
    assert_eq!(value_after(&deployment, "ports:", "name"), "http");

    let mut vars = EnvVars::from_pairs(good_secrets());
    vars.set("DATABASE_URL", "sqlite::memory:");
    vars.set("CHAT_GATEWAY_DEMO", "on");
    let app = App::build(Config::from_env(&vars).unwrap()).await.unwrap();
    for path in [readiness, liveness] {
        let resp = app
            .router()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "GET {path}, unauthenticated");
    }
    // The readiness probe waits longer than the gateway's database ping.
    let timeout = number_after(&deployment, "readinessProbe:", "timeoutSeconds");
    assert!(Duration::from_secs(timeout) > gateway::store::postgres::PING_TIMEOUT);
}

#[test]
fn ports_agree_between_the_image_and_the_manifests() {
    let dockerfile = read("Dockerfile");
    let port = number_after(&k8s("deployment.yaml"), "ports:", "containerPort");
    assert!(dockerfile.contains(&format!("\nEXPOSE {port}\n")));
    assert!(dockerfile.contains(&format!("CHAT_GATEWAY_LISTEN=0.0.0.0:{port}")));
    assert!(
        dockerfile.contains(&format!("/dev/tcp/127.0.0.1/{port}")),
        "HEALTHCHECK"
    );
    assert!(dockerfile.contains("GET /health "), "HEALTHCHECK");
    // The Service and Ingress reach the container by its port's name.
    assert_eq!(
        value_after(&k8s("service.yaml"), "ports:", "targetPort"),
        "http"
    );
    assert_eq!(value_after(&k8s("ingress.yaml"), "port:", "name"), "http");
}

#[test]
fn the_pod_runs_as_the_images_non_root_user() {
    let dockerfile = read("Dockerfile");
    let deployment = k8s("deployment.yaml");
    let user = lines(&dockerfile)
        .find_map(|l| l.strip_prefix("USER "))
        .unwrap()
        .split(':')
        .next()
        .unwrap();
    let uid: u32 = user
        .parse()
        .expect("a numeric USER, so runAsNonRoot can check it");
    assert_ne!(uid, 0);
    assert_eq!(
        number_after(&deployment, "securityContext:", "runAsUser"),
        u64::from(uid)
    );
    for setting in [
        "runAsNonRoot: true",
        "readOnlyRootFilesystem: true",
        "allowPrivilegeEscalation: false",
        "drop: [\"ALL\"]",
    ] {
        assert!(deployment.contains(setting), "{setting}");
    }
}

#[test]
fn streams_are_drained_and_never_buffered() {
    let deployment = k8s("deployment.yaml");
    let grace = number_after(&deployment, "spec:", "terminationGracePeriodSeconds");
    let pre_stop: u64 = value_after(&deployment, "preStop:", "command")
        .trim_matches(['[', ']'])
        .split(',')
        .nth(1)
        .unwrap()
        .trim()
        .trim_matches('"')
        .parse()
        .unwrap();
    let drain: u64 = value_after(
        &k8s("configmap.yaml"),
        "data:",
        "CHAT_GATEWAY_SHUTDOWN_GRACE_SECS",
    )
    .trim_matches('"')
    .parse()
    .unwrap();
    assert!(
        pre_stop >= 3,
        "time for the load balancer to stop sending requests"
    );
    assert!(drain >= 30, "open streams get time to finish after SIGTERM");
    assert!(
        grace >= pre_stop + drain + 5,
        "the pod is not killed while the gateway is still draining"
    );
    assert_eq!(
        value_after(&deployment, "rollingUpdate:", "maxUnavailable"),
        "0"
    );

    let ingress = k8s("ingress.yaml");
    assert_eq!(
        value_after(
            &ingress,
            "annotations:",
            "nginx.ingress.kubernetes.io/proxy-buffering"
        ),
        "off"
    );
    // The gateway writes an SSE keep-alive every 15 s; the proxy must wait longer.
    for timeout in ["proxy-read-timeout", "proxy-send-timeout"] {
        let key = format!("nginx.ingress.kubernetes.io/{timeout}");
        let secs: u64 = value_after(&ingress, "annotations:", &key).parse().unwrap();
        assert!(secs > 15, "{timeout}");
    }
}

#[test]
fn the_kustomization_applies_everything_but_the_example_secret() {
    let dir = repo().join("deploy/kubernetes");
    let kustomization = k8s("kustomization.yaml");
    let listed: Vec<&str> = lines(&kustomization)
        .skip_while(|l| *l != "resources:")
        .skip(1)
        .map_while(|l| l.trim().strip_prefix("- "))
        .collect();
    let mut manifests: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml") && n != "kustomization.yaml" && !n.contains("example"))
        .collect();
    manifests.sort();
    let mut sorted = listed.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, manifests);
    assert!(!listed.contains(&"secret.example.yaml"));

    // Everything selects the same pods, and the HPA scales the Deployment.
    let selector = "app.kubernetes.io/name: tz-chat-gateway";
    for file in ["deployment.yaml", "service.yaml", "pdb.yaml"] {
        let text = k8s(file);
        let after_selector = text.split("selector:").nth(1).unwrap_or_default();
        assert!(
            after_selector.contains(selector),
            "{file} selects the gateway pods"
        );
    }
    assert_eq!(
        value_after(&k8s("hpa.yaml"), "scaleTargetRef:", "kind"),
        "Deployment"
    );
    assert_eq!(
        value_after(&k8s("hpa.yaml"), "scaleTargetRef:", "name"),
        value_after(&k8s("deployment.yaml"), "metadata:", "name")
    );
    assert!(
        !k8s("deployment.yaml").contains("\n  replicas:"),
        "the HPA owns the replica count"
    );
}
