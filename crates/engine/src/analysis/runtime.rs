//! Runtime, monitoring and cluster-only evidence: which platform components (runtime threat
//! detection, Prometheus, Grafana, kube-bench, in-cluster image scanning, secrets managers) an
//! object is, the `ClusterConnection` that `kubeharden cluster` records (API endpoint, anonymous
//! probe), and Secret ages.
//!
//! Components are recognised by the image repositories they run (the last path segments, so
//! registry mirrors still match) and by their custom resource kinds.

use crate::inventory::{Object, PodTemplate};
use crate::yaml::Node;
use std::net::IpAddr;

/// What a platform component provides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Component {
    /// A runtime threat detector that must run on every node (Falco, Tetragon, Tracee…).
    RuntimeDetector,
    /// Metrics collection and alerting (Prometheus and compatible).
    Metrics,
    /// Dashboards (Grafana).
    Dashboards,
    /// The CIS benchmark (kube-bench).
    CisBenchmark,
    /// Vulnerability scanning of running images (Trivy operator…).
    ImageScanner,
    /// A secrets manager issuing or syncing short-lived secrets (Vault…).
    SecretsManager,
}

/// Image repositories (last one or two path segments, without tag or digest) per component.
const IMAGES: &[(&str, Component, &str)] = &[
    ("falcosecurity/falco", Component::RuntimeDetector, "Falco"),
    ("falco", Component::RuntimeDetector, "Falco"),
    ("falco-no-driver", Component::RuntimeDetector, "Falco"),
    ("falco-distroless", Component::RuntimeDetector, "Falco"),
    ("tetragon", Component::RuntimeDetector, "Tetragon"),
    ("tracee", Component::RuntimeDetector, "Tracee"),
    ("kubearmor", Component::RuntimeDetector, "KubeArmor"),
    ("sysdig/agent", Component::RuntimeDetector, "Sysdig agent"),
    (
        "sysdig/agent-slim",
        Component::RuntimeDetector,
        "Sysdig agent",
    ),
    (
        "neuvector/enforcer",
        Component::RuntimeDetector,
        "NeuVector enforcer",
    ),
    (
        "aquasec/enforcer",
        Component::RuntimeDetector,
        "Aqua enforcer",
    ),
    ("prometheus", Component::Metrics, "Prometheus"),
    ("victoria-metrics", Component::Metrics, "VictoriaMetrics"),
    ("vmagent", Component::Metrics, "VictoriaMetrics vmagent"),
    ("vmsingle", Component::Metrics, "VictoriaMetrics"),
    ("grafana/agent", Component::Metrics, "Grafana Agent"),
    ("grafana/alloy", Component::Metrics, "Grafana Alloy"),
    ("grafana/grafana", Component::Dashboards, "Grafana"),
    ("grafana", Component::Dashboards, "Grafana"),
    ("grafana-oss", Component::Dashboards, "Grafana"),
    ("grafana-enterprise", Component::Dashboards, "Grafana"),
    ("kube-bench", Component::CisBenchmark, "kube-bench"),
    ("trivy-operator", Component::ImageScanner, "Trivy operator"),
    (
        "starboard-operator",
        Component::ImageScanner,
        "Starboard operator",
    ),
    ("kubevuln", Component::ImageScanner, "Kubescape kubevuln"),
    ("hashicorp/vault", Component::SecretsManager, "Vault"),
    ("vault", Component::SecretsManager, "Vault"),
    (
        "vault-k8s",
        Component::SecretsManager,
        "Vault agent injector",
    ),
    (
        "vault-secrets-operator",
        Component::SecretsManager,
        "Vault Secrets Operator",
    ),
    (
        "external-secrets",
        Component::SecretsManager,
        "External Secrets Operator",
    ),
];

/// Custom resources that show a component (the operator's own resources).
const KINDS: &[(&str, &str, Component, &str)] = &[
    (
        "Prometheus",
        "monitoring.coreos.com",
        Component::Metrics,
        "Prometheus (operator)",
    ),
    (
        "VMSingle",
        "operator.victoriametrics.com",
        Component::Metrics,
        "VictoriaMetrics",
    ),
    (
        "Grafana",
        "grafana.integreatly.org",
        Component::Dashboards,
        "Grafana (operator)",
    ),
    (
        "VaultDynamicSecret",
        "secrets.hashicorp.com",
        Component::SecretsManager,
        "Vault dynamic secret",
    ),
];

/// The repository of an image reference, without registry, tag or digest: `falcosecurity/falco`.
pub fn repository(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    let image = match image.rfind(':') {
        Some(i) if !image[i..].contains('/') => &image[..i],
        _ => image,
    };
    // Drop a registry host (first segment with a dot, a colon or `localhost`).
    match image.split_once('/') {
        Some((host, rest)) if host.contains('.') || host.contains(':') || host == "localhost" => {
            rest
        }
        _ => image,
    }
}

fn image_component(image: &str) -> Option<(Component, &'static str)> {
    let repo = repository(image);
    let last = repo.rsplit('/').next().unwrap_or(repo);
    let last_two = {
        let mut parts = repo.rsplitn(3, '/');
        let a = parts.next().unwrap_or("");
        match parts.next() {
            Some(b) => format!("{b}/{a}"),
            None => a.to_owned(),
        }
    };
    IMAGES
        .iter()
        .find(|(name, _, _)| {
            if name.contains('/') {
                last_two == *name
            } else {
                last == *name
            }
        })
        .map(|(_, c, p)| (*c, *p))
}

/// A platform component an object is (or runs).
#[derive(Clone, Copy, Debug)]
pub struct Found<'a> {
    pub component: Component,
    pub product: &'static str,
    pub object: &'a Object,
    /// The image that showed it, if it was an image.
    pub image: Option<&'a str>,
}

/// The components an object runs (workloads, by image) or is (operator resources).
pub fn components(o: &Object) -> Vec<Found<'_>> {
    let mut out = Vec::new();
    if let Some((_, _, c, p)) = KINDS
        .iter()
        .find(|(k, g, _, _)| *k == o.kind && *g == o.group())
    {
        out.push(Found {
            component: *c,
            product: p,
            object: o,
            image: None,
        });
    }
    if let Some(t) = PodTemplate::of(o) {
        for c in t.containers() {
            let Some(image) = c.field("image").and_then(Node::text) else {
                continue;
            };
            if let Some((component, product)) = image_component(image)
                && !out.iter().any(|f: &Found| f.component == component)
            {
                out.push(Found {
                    component,
                    product,
                    object: o,
                    image: Some(image),
                });
            }
        }
    }
    out
}

/// `kubeharden.io/v1alpha1 ClusterConnection`: what `kubeharden cluster` learned about the API
/// endpoint (`server`, `addresses`) and, with `--probe-anonymous`, the unauthenticated probe.
pub fn is_cluster_connection(o: &Object) -> bool {
    o.kind == "ClusterConnection" && o.group() == "kubeharden.io"
}

/// The `kubernetes` Service's EndpointSlice or Endpoints in `default`: the API server's addresses.
pub fn is_apiserver_endpoints(o: &Object) -> bool {
    if o.effective_namespace() != Some("default") {
        return false;
    }
    match (o.kind.as_str(), o.group()) {
        ("EndpointSlice", "discovery.k8s.io") => {
            o.label("kubernetes.io/service-name") == Some("kubernetes")
        }
        ("Endpoints", "") => o.name == "kubernetes",
        _ => false,
    }
}

/// Objects the runtime rules read whole after phase 1: platform components (`found`, the
/// [`components`] of the object) and Nodes.
pub fn retained(o: &Object, found: &[Found<'_>]) -> bool {
    (o.kind == "Node" && o.group().is_empty()) || !found.is_empty()
}

/// Addresses reachable only from a private network (RFC 1918, CGNAT, loopback, link-local, ULA).
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || (o[0] == 100 && (64..128).contains(&o[1]))
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// Days since 1970-01-01 of an RFC 3339 timestamp's date (`2024-05-01T10:00:00Z`).
pub fn days_since_epoch(timestamp: &str) -> Option<i64> {
    let t = timestamp.trim();
    let b = t.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = t.get(0..4)?.parse().ok()?;
    let m: i64 = t.get(5..7)?.parse().ok()?;
    let d: i64 = t.get(8..10)?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Today as days since 1970-01-01 (UTC).
pub fn today() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    (secs / 86_400) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_and_components() {
        assert_eq!(
            repository("docker.io/falcosecurity/falco:0.38.1@sha256:ab"),
            "falcosecurity/falco"
        );
        assert_eq!(repository("localhost:5000/grafana:10"), "grafana");
        assert_eq!(
            repository("quay.io/prometheus/prometheus"),
            "prometheus/prometheus"
        );
        assert_eq!(
            image_component("registry.corp/mirror/falco:0.38").map(|c| c.0),
            Some(Component::RuntimeDetector)
        );
        assert_eq!(
            image_component("falcosecurity/falcosidekick:2").map(|c| c.0),
            None
        );
        assert_eq!(
            image_component("ghcr.io/aquasecurity/trivy-operator:0.20").map(|c| c.0),
            Some(Component::ImageScanner)
        );
        assert_eq!(image_component("prom/node-exporter").map(|c| c.0), None);
    }

    #[test]
    fn dates() {
        assert_eq!(days_since_epoch("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(days_since_epoch("2024-03-01T00:00:00Z"), Some(19_783));
        assert_eq!(
            kubeharden_model::date::date_from_days(days_since_epoch("2023-12-31").unwrap()),
            "2023-12-31"
        );
        assert_eq!(days_since_epoch("soon"), None);
    }
}
