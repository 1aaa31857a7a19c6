//! Kubernetes versions and the upstream support table: which minor releases are past their end
//! of support, and where an input states the version a control plane or kubelet runs.
//!
//! The table is data with its date ([`TABLE_DATE`]): the end-of-life dates the Kubernetes
//! project publishes on <https://kubernetes.io/releases/> (one page per minor release, and the
//! "non-active branch history" of <https://kubernetes.io/releases/patch-releases/>). Where a
//! release reached its end of life later than planned, the page's actual date is used. A minor
//! release newer than the table is taken as supported; refresh the table with each release.

use crate::inventory::{Object, PodTemplate};
use crate::yaml::Node;

/// The day the table below was read from kubernetes.io.
pub const TABLE_DATE: &str = "2026-04-22";
/// Where the dates come from.
pub const TABLE_SOURCE: &str = "https://kubernetes.io/releases/";

/// `(minor, end of life)` of Kubernetes 1.minor, oldest first.
pub const END_OF_LIFE: &[(u32, &str)] = &[
    (10, "2019-02-13"),
    (11, "2019-05-01"),
    (12, "2019-07-08"),
    (13, "2019-10-15"),
    (14, "2019-12-11"),
    (15, "2020-05-06"),
    (16, "2020-09-02"),
    (17, "2021-01-13"),
    (18, "2021-06-18"),
    (19, "2021-10-28"),
    (20, "2022-02-28"),
    (21, "2022-06-28"),
    (22, "2022-10-28"),
    (23, "2023-02-28"),
    (24, "2023-07-28"),
    (25, "2023-10-28"),
    (26, "2024-02-28"),
    (27, "2024-06-28"),
    (28, "2024-10-28"),
    (29, "2025-02-28"),
    (30, "2025-07-15"),
    (31, "2025-10-28"),
    (32, "2026-02-28"),
    (33, "2026-06-28"),
    (34, "2026-10-27"),
    (35, "2027-02-28"),
    (36, "2027-06-28"),
];

/// The end of life of Kubernetes 1.minor; `None` for a release older than the table (long
/// past) is not returned: those are reported as past with an unknown date by [`support`].
pub fn end_of_life(minor: u32) -> Option<&'static str> {
    END_OF_LIFE
        .iter()
        .find(|(m, _)| *m == minor)
        .map(|(_, date)| *date)
}

/// Is Kubernetes 1.minor past its end of support on `today` (`YYYY-MM-DD`)? `Some(date)` with
/// its end-of-life date (`"before 2019-02-13"` for a release older than the table), `None`
/// while supported or newer than the table.
pub fn past_end_of_support(minor: u32, today: &str) -> Option<String> {
    let (oldest, oldest_date) = END_OF_LIFE[0];
    if minor < oldest {
        return Some(format!("before {oldest_date}"));
    }
    end_of_life(minor)
        .filter(|eol| *eol < today)
        .map(str::to_owned)
}

/// A version an input states, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stated {
    /// What runs it: `kube-apiserver`, `the kubeadm cluster`, `kind node`.
    pub what: String,
    /// As written (`v1.16.2`).
    pub version: String,
    pub minor: u32,
    /// Pointer within the object.
    pub pointer: String,
}

/// `v1.16.2`, `1.16`, `v1.30.0-rc.1`, `v1.29.3-eks-1234` → 16. Only Kubernetes 1.x.
pub fn minor_of(version: &str) -> Option<u32> {
    let v = version.trim().strip_prefix('v').unwrap_or(version.trim());
    let mut parts = v.split(['.', '-', '+']);
    if parts.next()? != "1" {
        return None;
    }
    parts.next()?.parse().ok()
}

/// Components whose image tag is the Kubernetes version.
const VERSIONED_IMAGES: &[&str] = &[
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kube-proxy",
    "hyperkube",
];

/// The component and version of a Kubernetes image: `registry.k8s.io/kube-apiserver:v1.16.2`,
/// `k8s.gcr.io/kube-apiserver-amd64:v1.10.0`, `kindest/node:v1.25.3@sha256:…`.
fn image_version(image: &str) -> Option<(&'static str, &str)> {
    let image = image.split('@').next()?;
    let (repo, tag) = image.rsplit_once(':')?;
    if tag.contains('/') {
        return None;
    }
    let name = repo.rsplit('/').next()?;
    let base = ["-amd64", "-arm64", "-arm", "-ppc64le", "-s390x"]
        .iter()
        .find_map(|s| name.strip_suffix(s))
        .unwrap_or(name);
    let what = if repo.ends_with("kindest/node") {
        "kind node"
    } else {
        VERSIONED_IMAGES.iter().copied().find(|c| *c == base)?
    };
    minor_of(tag).map(|_| (what, tag))
}

/// Where a version was read: a file on the node or the API server's `/version` (`file`), its
/// line and column (1-based) and the text of that line.
#[derive(Clone, Debug)]
pub struct ReadAt {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub text: String,
}

/// A version read outside the manifests — a node's version file, the live API server's
/// `/version` — as a scan input: a `KubernetesVersion` document (`kubeharden.io/v1alpha1`)
/// stating what runs it (`what`, as messages name it) and its `gitVersion`, with the `origin` it
/// was read at, where findings point (`control_plane::written_at`).
pub fn version_input(name: &str, what: &str, version: &str, at: &ReadAt) -> crate::load::Input {
    let doc = serde_json::json!({
        "apiVersion": "kubeharden.io/v1alpha1",
        "kind": "KubernetesVersion",
        "metadata": {"name": name},
        "what": what,
        "gitVersion": version,
        "origin": {"file": at.file, "line": at.line, "column": at.column, "text": at.text},
    });
    crate::load::Input::Bytes {
        name: format!("{}#{name}", at.file),
        bytes: serde_json::to_vec_pretty(&doc).unwrap_or_default().into(),
    }
}

/// The versions a node's files state, each read as a [`version_input`] (`shown`: the path as
/// reports name it):
/// - `/kind/version`: the Kubernetes version of a kind node image, one line (kind reads the
///   node's version from it: `nodeutils.KubeVersion`);
/// - `/var/lib/dpkg/status`: the installed `kubelet` package (the pkgs.k8s.io packages kubeadm's
///   install guide uses), its `Version:` without the Debian revision.
///
/// Binaries installed by hand (Kubernetes The Hard Way), RPM installs and k3s/RKE2 (the version
/// is inside their binaries) leave no version file to read.
pub fn node_versions(
    kind_version: Option<(&str, &str)>,
    dpkg_status: Option<(&str, &str)>,
) -> Vec<crate::load::Input> {
    let mut out = Vec::new();
    if let Some((shown, text)) = kind_version {
        let line = text.lines().next().unwrap_or("").trim();
        if minor_of(line).is_some() {
            let at = ReadAt {
                file: shown.to_owned(),
                line: 1,
                column: 1,
                text: line.to_owned(),
            };
            out.push(version_input("kind-node", "the kind node image", line, &at));
        }
    }
    if let Some((shown, text)) = dpkg_status {
        let mut line_no = 0u32;
        let mut package = String::new();
        let mut installed = false;
        let mut version: Option<(String, u32, u32, String)> = None;
        let mut flush =
            |package: &str, installed: bool, version: &Option<(String, u32, u32, String)>| {
                if package == "kubelet"
                    && installed
                    && let Some((v, line, column, text)) = version
                    && minor_of(v).is_some()
                {
                    let at = ReadAt {
                        file: shown.to_owned(),
                        line: *line,
                        column: *column,
                        text: text.clone(),
                    };
                    out.push(version_input(
                        "kubelet",
                        "the kubelet (Debian package `kubelet`)",
                        v,
                        &at,
                    ));
                }
            };
        for raw in text.lines() {
            line_no += 1;
            if raw.trim().is_empty() {
                flush(&package, installed, &version);
                package.clear();
                installed = false;
                version = None;
            } else if let Some(p) = raw.strip_prefix("Package:") {
                package = p.trim().to_owned();
            } else if let Some(st) = raw.strip_prefix("Status:") {
                installed = st.split_whitespace().last() == Some("installed");
            } else if let Some(v) = raw.strip_prefix("Version:") {
                let value = v.trim();
                let column = u32::try_from(raw.len() - v.trim_start().len() + 1).unwrap_or(1);
                // `[epoch:]upstream[-revision]`: the upstream version.
                let upstream = value.rsplit_once(':').map_or(value, |(_, u)| u);
                let upstream = upstream.rsplit_once('-').map_or(upstream, |(u, _)| u);
                version = Some((upstream.to_owned(), line_no, column, raw.to_owned()));
            }
        }
        flush(&package, installed, &version);
    }
    out
}

/// The versions an object states: a kubeadm `ClusterConfiguration`'s `kubernetesVersion`, the
/// image tags of the control-plane and kube-proxy containers of a pod template (static Pods,
/// DaemonSets, hosted control planes), a kind `Cluster`'s node images.
pub fn stated(o: &Object) -> Vec<Stated> {
    let mut out = Vec::new();
    let group = o.group();
    if group == "kubeharden.io" && o.kind == "KubernetesVersion" {
        if let (Some(what), Some(v)) = (
            o.root.get("what").and_then(Node::text),
            o.root.get("gitVersion").and_then(Node::text),
        ) && let Some(minor) = minor_of(v)
        {
            out.push(Stated {
                what: what.to_owned(),
                version: v.to_owned(),
                minor,
                pointer: "/gitVersion".to_owned(),
            });
        }
        return out;
    }
    if group == "kubeadm.k8s.io" && o.kind == "ClusterConfiguration" {
        if let Some(v) = o.root.get("kubernetesVersion").and_then(Node::text)
            && let Some(minor) = minor_of(v)
        {
            out.push(Stated {
                what: "the kubeadm ClusterConfiguration's control plane".to_owned(),
                version: v.to_owned(),
                minor,
                pointer: "/kubernetesVersion".to_owned(),
            });
        }
        return out;
    }
    if group.starts_with("kind.x-k8s.io") && o.kind == "Cluster" {
        for (i, n) in o
            .root
            .get("nodes")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            if let Some(image) = n.get("image").and_then(Node::text)
                && let Some((what, tag)) = image_version(image)
            {
                out.push(Stated {
                    what: what.to_owned(),
                    version: tag.to_owned(),
                    minor: minor_of(tag).unwrap_or_default(),
                    pointer: format!("/nodes/{i}/image"),
                });
            }
        }
        return out;
    }
    if let Some(t) = PodTemplate::of(o) {
        for c in t.containers() {
            if let Some(image) = c.field("image").and_then(Node::text)
                && let Some((what, tag)) = image_version(image)
            {
                out.push(Stated {
                    what: what.to_owned(),
                    version: tag.to_owned(),
                    minor: minor_of(tag).unwrap_or_default(),
                    pointer: c.ptr("image"),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_ordered_and_dated() {
        assert!(
            END_OF_LIFE
                .windows(2)
                .all(|w| w[0].0 + 1 == w[1].0 && w[0].1 < w[1].1)
        );
        assert!(kubeharden_model::date::parse_date(TABLE_DATE).is_some());
        for (_, d) in END_OF_LIFE {
            assert!(kubeharden_model::date::parse_date(d).is_some(), "{d}");
        }
    }

    #[test]
    fn versions_and_support() {
        assert_eq!(minor_of("v1.16.2"), Some(16));
        assert_eq!(minor_of("1.29.3-eks-1234"), Some(29));
        assert_eq!(minor_of("v1.30.0-rc.1"), Some(30));
        assert_eq!(minor_of("stable-1"), None);
        assert_eq!(minor_of("v2.0.0"), None);
        assert_eq!(
            image_version("registry.k8s.io/kube-apiserver:v1.16.2"),
            Some(("kube-apiserver", "v1.16.2"))
        );
        assert_eq!(
            image_version("k8s.gcr.io/kube-apiserver-amd64:v1.10.0"),
            Some(("kube-apiserver", "v1.10.0"))
        );
        assert_eq!(image_version("quay.io/coreos/etcd:v3.5.15"), None);
        assert_eq!(image_version("registry.k8s.io/kube-apiserver"), None);
        assert_eq!(
            past_end_of_support(16, "2026-01-01").as_deref(),
            Some("2020-09-02")
        );
        assert_eq!(past_end_of_support(33, "2026-06-28"), None);
        assert_eq!(
            past_end_of_support(33, "2026-06-29").as_deref(),
            Some("2026-06-28")
        );
        assert_eq!(
            past_end_of_support(9, "2026-01-01").as_deref(),
            Some("before 2019-02-13")
        );
        assert_eq!(past_end_of_support(99, "2030-01-01"), None);
    }
}
