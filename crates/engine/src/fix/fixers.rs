//! One fixer per rule: from the active findings of a rule on one object, the changes that make
//! them go away, each marked safe or unsafe, or the reason no change is proposed. Fixers read the
//! object through the same analysis the rules use ([`security_context`], [`PodTemplate`]), so a
//! fix targets exactly the field the rule judged.
//!
//! Safe means: a field that was unset gets its secure value, which changes nothing for a
//! workload that already behaves (runAsNonRoot, allowPrivilegeEscalation, dropped capabilities,
//! RuntimeDefault seccomp, no API token where no API use is visible, Pod Security audit/warn
//! labels). Unsafe means: a value the author wrote is overridden or removed, or the workload may
//! stop working (privileged, host namespaces, hostPath, read-only root, enforcing `restricted`).

use super::FixKind;
use super::edit::{New, Op};
use crate::analysis::pss::{self, Level};
use crate::analysis::rbac::{Principal, Rbac, ServiceAccounts};
use crate::analysis::security_context::{self, normalize_capability};
use crate::finding::Finding;
use crate::inventory::{Container, Object, PodTemplate};
use crate::yaml::Node;
use std::collections::BTreeMap;

/// The UID set by the unsafe `runAsUser` fixes (the one the remedies suggest).
pub const NON_ROOT_UID: i64 = 10001;

pub(crate) struct Ctx<'a> {
    pub rbac: &'a Rbac<'a>,
    /// Minor version pinned in `enforce-version` labels.
    pub pss_minor: u32,
    /// Per namespace: can it enforce `restricted` without rejecting its workloads (as the
    /// other fixes leave them)? `None` until decided.
    pub enforceable: Option<&'a BTreeMap<String, Result<(), String>>>,
}

/// The active findings of one object (of every selected rule).
pub(crate) struct Job<'a> {
    pub ctx: &'a Ctx<'a>,
    pub object: &'a Object,
    pub findings: &'a [&'a Finding],
}

/// What a fixer proposes for some findings.
pub(crate) struct Outcome {
    /// Indices (into [`Job::findings`]) of the findings this change fixes.
    pub findings: Vec<usize>,
    pub result: Result<Change, String>,
}

pub(crate) struct Change {
    pub kind: FixKind,
    pub ops: Vec<Op>,
    /// What the change does, for the user.
    pub what: String,
}

impl<'a> Job<'a> {
    fn mine(&self, rule: &str) -> Vec<(usize, &'a Finding)> {
        self.findings
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, f)| f.rule == rule)
            .collect()
    }

    /// The finding's pointer relative to the object.
    fn rel<'f>(&self, f: &'f Finding) -> &'f str {
        f.location
            .pointer
            .strip_prefix(self.object.base.as_str())
            .unwrap_or(&f.location.pointer)
    }

    /// Does `rule` have an active finding about container `name`?
    fn has(&self, rule: &str, container: &str) -> bool {
        self.findings
            .iter()
            .any(|f| f.rule == rule && f.subject.container.as_deref() == Some(container))
    }
}

fn ok(findings: Vec<usize>, kind: FixKind, ops: Vec<Op>, what: String) -> Outcome {
    Outcome {
        findings,
        result: Ok(Change { kind, ops, what }),
    }
}

fn no(findings: Vec<usize>, reason: impl Into<String>) -> Outcome {
    Outcome {
        findings,
        result: Err(reason.into()),
    }
}

fn set(ptr: String, value: New) -> Op {
    Op::Set { ptr, value }
}

/// Runs the fixer of `rule` over its findings on the job's object.
pub(crate) fn run(rule: &str, job: &Job) -> Vec<Outcome> {
    let mine = job.mine(rule);
    if mine.is_empty() {
        return Vec::new();
    }
    if job.object.kind == "Namespace" {
        return match rule {
            "namespace-pss-version-or-audit-missing" => psa_pin_and_audit(job, &mine),
            "namespace-pss-not-restricted" => psa_enforce(job, &mine),
            _ => Vec::new(),
        };
    }
    let Some(t) = PodTemplate::of(job.object) else {
        return vec![no(
            mine.iter().map(|(i, _)| *i).collect(),
            "the object has no pod template",
        )];
    };
    // The container each finding is about.
    let containers: Vec<Container> = t.containers().collect();
    let container_of = |f: &Finding| -> Option<&Container> {
        let rel = job.rel(f);
        containers
            .iter()
            .find(|c| rel == c.ptr || rel.starts_with(&format!("{}/", c.ptr)))
            .or_else(|| {
                // Findings about a pod-level value name their container.
                let name = f.subject.container.as_deref()?;
                let mut named = containers.iter().filter(|c| c.name == name);
                named.next().filter(|_| named.next().is_none())
            })
    };
    let mut out = Vec::new();
    let mut per_container: Vec<(usize, &Container)> = Vec::new();
    for (i, f) in &mine {
        match container_of(f) {
            Some(c) => per_container.push((*i, c)),
            None if matches!(
                rule,
                "pod-host-namespaces"
                    | "pod-hostpath-volume"
                    | "workload-uses-default-service-account"
            ) => {}
            None => out.push(no(vec![*i], "the finding names no container of the pod")),
        }
    }
    match rule {
        "container-may-run-as-root" => run_as_non_root(&t, &containers, &per_container, &mut out),
        "container-runs-as-root" => run_as_root(&t, &containers, &per_container, &mut out),
        "container-privilege-escalation-allowed" => {
            for (i, c) in &per_container {
                out.push(no_escalation(job, c, *i));
            }
        }
        "container-capabilities-not-dropped" => {
            for (i, c) in &per_container {
                let caps = security_context::capabilities(c);
                let op = match caps
                    .drop
                    .iter()
                    .find(|(name, _)| normalize_capability(name) == "ALL")
                {
                    Some((_, ptr)) => set(ptr.clone(), New::str("ALL")),
                    None => Op::Append {
                        ptr: caps.drop_ptr.clone(),
                        value: New::str("ALL"),
                    },
                };
                out.push(ok(
                    vec![*i],
                    FixKind::Safe,
                    vec![op],
                    format!("{}: drop capability `ALL`", c.describe()),
                ));
            }
        }
        "container-seccomp-unconfined" => seccomp(&t, &containers, job, &per_container, &mut out),
        "container-privileged" => {
            for (i, c) in &per_container {
                let s = security_context::privileged(c);
                out.push(ok(
                    vec![*i],
                    FixKind::Unsafe,
                    vec![set(s.pointer, New::Bool(false))],
                    format!("{}: set `privileged: false`", c.describe()),
                ));
            }
        }
        "container-root-filesystem-writable" => read_only_root(&t, &per_container, &mut out),
        "pod-host-namespaces" => {
            for (i, f) in &mine {
                let field = job.rel(f).rsplit('/').next().unwrap_or("");
                out.push(ok(
                    vec![*i],
                    FixKind::Unsafe,
                    vec![Op::Remove {
                        ptr: job.rel(f).to_owned(),
                        fallback: New::Bool(false),
                    }],
                    format!("pod: remove `{field}: true`"),
                ));
            }
        }
        "pod-hostpath-volume" => {
            for (i, f) in &mine {
                let ptr = job.rel(f);
                let name = ptr
                    .strip_suffix("/hostPath")
                    .and_then(|v| job.object.root.pointer(v))
                    .and_then(|v| v.get("name"))
                    .and_then(Node::text)
                    .unwrap_or("");
                out.push(ok(
                    vec![*i],
                    FixKind::Unsafe,
                    vec![Op::Replace {
                        ptr: ptr.to_owned(),
                        key: "emptyDir".into(),
                        value: New::Map(Vec::new()),
                    }],
                    format!("volume \"{name}\": replace `hostPath` with an empty `emptyDir`"),
                ));
            }
        }
        "workload-uses-default-service-account" => {
            let ids: Vec<usize> = mine.iter().map(|(i, _)| *i).collect();
            out.push(no_token(job, &t, ids));
        }
        _ => {}
    }
    out
}

/// A safe fix sets an unset field: a field the author wrote, if only with a value of the wrong
/// type (`"true"`, `.R`), is overridden, which is unsafe.
fn safe_unless_written(c: &Container, rel: &str) -> FixKind {
    if c.field(rel).is_some_and(|n| !n.is_null()) {
        FixKind::Unsafe
    } else {
        FixKind::Safe
    }
}

/// Containers that read `rel` from the pod because they do not set it themselves.
fn inheriting<'c>(
    containers: &'c [Container<'c>],
    rel: &str,
) -> impl Iterator<Item = &'c Container<'c>> {
    let rel = format!("securityContext/{rel}");
    containers.iter().filter(move |c| c.field(&rel).is_none())
}

fn flagged(per_container: &[(usize, &Container)], c: &Container) -> bool {
    per_container.iter().any(|(_, f)| f.ptr == c.ptr)
}

fn run_as_non_root(
    t: &PodTemplate,
    containers: &[Container],
    per_container: &[(usize, &Container)],
    out: &mut Vec<Outcome>,
) {
    if per_container.is_empty() {
        return;
    }
    // At pod level when every container that would inherit it is flagged (or already runs as a
    // non-zero UID) and none runs as UID 0 (the kubelet would refuse to start it).
    let pod_level = t.pod_field("securityContext/runAsNonRoot").is_none()
        && inheriting(containers, "runAsNonRoot").all(|c| {
            let user = security_context::run_as_user(t, c).value;
            user != Some(0) && (flagged(per_container, c) || user.is_some())
        });
    if pod_level {
        out.push(ok(
            per_container.iter().map(|(i, _)| *i).collect(),
            FixKind::Safe,
            vec![set(t.ptr("securityContext/runAsNonRoot"), New::Bool(true))],
            "pod: set `runAsNonRoot: true` in the pod's securityContext".into(),
        ));
    } else {
        for (i, c) in per_container {
            out.push(ok(
                vec![*i],
                safe_unless_written(c, "securityContext/runAsNonRoot"),
                vec![set(c.ptr("securityContext/runAsNonRoot"), New::Bool(true))],
                format!("{}: set `runAsNonRoot: true`", c.describe()),
            ));
        }
    }
    // Images of Docker Hub's official library run as root unless told otherwise: with
    // runAsNonRoot alone the kubelet refuses to start them, so give them a non-root UID.
    for (_, c) in per_container {
        let image = c.field("image").and_then(Node::text).unwrap_or("");
        if is_library_image(image) {
            out.push(ok(
                Vec::new(),
                FixKind::Unsafe,
                vec![set(
                    c.ptr("securityContext/runAsUser"),
                    New::Int(NON_ROOT_UID),
                )],
                format!(
                    "{}: set `runAsUser: {NON_ROOT_UID}` (image `{image}` runs as root by default)",
                    c.describe()
                ),
            ));
        }
    }
}

/// `nginx`, `redis:7`, `docker.io/library/postgres`: official images, which default to root.
fn is_library_image(image: &str) -> bool {
    let name = image.split('@').next().unwrap_or("");
    let name = match name.rfind(':') {
        Some(i) if !name[i..].contains('/') => &name[..i],
        _ => name,
    };
    let name = name
        .strip_prefix("docker.io/library/")
        .or_else(|| name.strip_prefix("index.docker.io/library/"))
        .or_else(|| name.strip_prefix("library/"))
        .unwrap_or(name);
    !name.is_empty() && !name.contains('/')
}

fn run_as_root(
    t: &PodTemplate,
    containers: &[Container],
    per_container: &[(usize, &Container)],
    out: &mut Vec<Outcome>,
) {
    for (i, c) in per_container {
        let user = security_context::run_as_user(t, c);
        let (field, eff, value, what) = if user.value == Some(0) {
            let e = (user.pointer, user.from_pod);
            (
                "runAsUser",
                e,
                New::Int(NON_ROOT_UID),
                format!("runAsUser: {NON_ROOT_UID}"),
            )
        } else {
            let s = security_context::run_as_non_root(t, c);
            (
                "runAsNonRoot",
                (s.pointer, s.from_pod),
                New::Bool(true),
                "runAsNonRoot: true".to_owned(),
            )
        };
        let (pointer, from_pod) = eff;
        // A pod-level value is changed only when every container reading it is flagged.
        let ptr = if from_pod && !inheriting(containers, field).all(|o| flagged(per_container, o)) {
            c.ptr(&format!("securityContext/{field}"))
        } else {
            pointer
        };
        out.push(ok(
            vec![*i],
            FixKind::Unsafe,
            vec![set(ptr, value)],
            format!("{}: set `{what}`", c.describe()),
        ));
    }
}

fn no_escalation(job: &Job, c: &Container, i: usize) -> Outcome {
    let setting = security_context::allow_privilege_escalation(c);
    let caps = security_context::capabilities(c);
    if caps
        .add
        .iter()
        .any(|(n, _)| normalize_capability(n) == "SYS_ADMIN")
    {
        return no(
            vec![i],
            "the container adds CAP_SYS_ADMIN, which the API server does not accept with `allowPrivilegeEscalation: false`",
        );
    }
    let mut note = "";
    let mut kind = match setting.value {
        Some(true) => FixKind::Unsafe,
        _ => safe_unless_written(c, "securityContext/allowPrivilegeEscalation"),
    };
    if security_context::privileged(c).value == Some(true) {
        if !job.has("container-privileged", c.name) {
            return no(
                vec![i],
                "the container is privileged, and the API server rejects `allowPrivilegeEscalation: false` with `privileged: true`",
            );
        }
        // Only together with the (unsafe) removal of privileged mode.
        kind = FixKind::Unsafe;
        note = " (with `privileged: false`)";
    }
    ok(
        vec![i],
        kind,
        vec![set(
            c.ptr("securityContext/allowPrivilegeEscalation"),
            New::Bool(false),
        )],
        format!(
            "{}: set `allowPrivilegeEscalation: false`{note}",
            c.describe()
        ),
    )
}

fn seccomp(
    t: &PodTemplate,
    containers: &[Container],
    job: &Job,
    per_container: &[(usize, &Container)],
    out: &mut Vec<Outcome>,
) {
    let runtime_default = || New::str("RuntimeDefault");
    let all_inheriting_flagged =
        inheriting(containers, "seccompProfile/type").all(|c| flagged(per_container, c));
    // A type the container itself writes with the wrong type (`type: 1`) is not unset.
    let written = |c: &Container| {
        c.field("securityContext/seccompProfile/type")
            .is_some_and(|n| !n.is_null())
    };
    let unset: Vec<(usize, &Container)> = per_container
        .iter()
        .filter(|(_, c)| security_context::seccomp_type(t, c).value.is_none() && !written(c))
        .map(|(i, c)| (*i, *c))
        .collect();
    if !unset.is_empty() {
        if t.pod_field("securityContext/seccompProfile").is_none() && all_inheriting_flagged {
            out.push(ok(
                unset.iter().map(|(i, _)| *i).collect(),
                FixKind::Safe,
                vec![set(
                    t.ptr("securityContext/seccompProfile/type"),
                    runtime_default(),
                )],
                "pod: set `seccompProfile.type: RuntimeDefault` in the pod's securityContext"
                    .into(),
            ));
        } else {
            for (i, c) in &unset {
                out.push(ok(
                    vec![*i],
                    FixKind::Safe,
                    vec![set(
                        c.ptr("securityContext/seccompProfile/type"),
                        runtime_default(),
                    )],
                    format!(
                        "{}: set `seccompProfile.type: RuntimeDefault`",
                        c.describe()
                    ),
                ));
            }
        }
    }
    for (i, c) in per_container {
        let s = security_context::seccomp_type(t, c);
        if s.value.is_none() && written(c) {
            // Overriding what the author wrote is unsafe.
            out.push(ok(
                vec![*i],
                FixKind::Unsafe,
                vec![set(
                    c.ptr("securityContext/seccompProfile/type"),
                    runtime_default(),
                )],
                format!(
                    "{}: set `seccompProfile.type: RuntimeDefault`",
                    c.describe()
                ),
            ));
        }
        let Some(old) = s.value else { continue };
        let profile = s.pointer.strip_suffix("/type").unwrap_or(&s.pointer);
        if job
            .object
            .root
            .pointer(profile)
            .and_then(|p| p.get("localhostProfile"))
            .is_some()
        {
            out.push(no(
                vec![*i],
                "the seccomp profile names a `localhostProfile`; choose the profile by hand",
            ));
            continue;
        }
        let ptr = if s.from_pod && !all_inheriting_flagged {
            c.ptr("securityContext/seccompProfile/type")
        } else {
            s.pointer.clone()
        };
        out.push(ok(
            vec![*i],
            FixKind::Unsafe,
            vec![set(ptr, runtime_default())],
            format!(
                "{}: replace seccomp profile `{old}` with `RuntimeDefault`",
                c.describe()
            ),
        ));
    }
}

fn read_only_root(t: &PodTemplate, per_container: &[(usize, &Container)], out: &mut Vec<Outcome>) {
    let names: Vec<&str> = t
        .spec
        .get("volumes")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(|v| v.get("name").and_then(Node::text))
        .collect();
    let volume = std::iter::once("tmp".to_owned())
        .chain((1..).map(|n| match n {
            1 => "kubeharden-tmp".to_owned(),
            n => format!("kubeharden-tmp-{n}"),
        }))
        .find(|n| !names.contains(&n.as_str()))
        .unwrap_or_default();
    for (i, c) in per_container {
        let mut ops = vec![set(
            c.ptr("securityContext/readOnlyRootFilesystem"),
            New::Bool(true),
        )];
        let mut what = format!("{}: set `readOnlyRootFilesystem: true`", c.describe());
        let has_tmp = c
            .field("volumeMounts")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .any(|m| {
                m.get("mountPath")
                    .and_then(Node::text)
                    .is_some_and(|p| p.trim_end_matches('/') == "/tmp")
            });
        if !has_tmp {
            ops.push(Op::Append {
                ptr: t.ptr("volumes"),
                value: New::map(&[
                    ("name", New::Str(volume.clone())),
                    ("emptyDir", New::Map(Vec::new())),
                ]),
            });
            ops.push(Op::Append {
                ptr: c.ptr("volumeMounts"),
                value: New::map(&[
                    ("name", New::Str(volume.clone())),
                    ("mountPath", New::str("/tmp")),
                ]),
            });
            what.push_str(&format!(
                " and mount an `emptyDir` volume \"{volume}\" at /tmp"
            ));
        }
        out.push(ok(vec![*i], FixKind::Unsafe, ops, what));
    }
}

/// Signs that a workload calls the Kubernetes API with its ServiceAccount token.
fn api_use(job: &Job, t: &PodTemplate) -> Option<String> {
    let ns = job.object.effective_namespace().unwrap_or("default");
    let grants: Vec<String> = job
        .ctx
        .rbac
        .grants(&Principal::service_account(ns, "default"))
        .iter()
        // Bound to this very ServiceAccount: bindings to every ServiceAccount (of the cluster or
        // the namespace) would hold for a dedicated one as well.
        .filter(|g| {
            matches!(
                g.subject.service_accounts(),
                Some(ServiceAccounts::One { .. })
            )
        })
        .map(|g| g.binding.describe())
        .collect();
    if !grants.is_empty() {
        return Some(format!(
            "the \"default\" ServiceAccount of namespace \"{ns}\" is granted permissions ({})",
            grants.join(", ")
        ));
    }
    let projected_token = t
        .spec
        .get("volumes")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(|v| v.pointer("/projected/sources"))
        .flat_map(Node::items)
        .any(|s| s.get("serviceAccountToken").is_some());
    if projected_token {
        return Some("the pod mounts a projected ServiceAccount token".into());
    }
    const HINTS: &[&str] = &[
        "kubernetes_service",
        "serviceaccount",
        "kubeconfig",
        "kubectl",
        "operator",
        "controller",
        "kube-state-metrics",
    ];
    for c in t.containers() {
        let mut texts: Vec<&str> = Vec::new();
        texts.extend(c.field("image").and_then(Node::text));
        for field in ["command", "args"] {
            texts.extend(
                c.field(field)
                    .map(Node::items)
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(Node::text),
            );
        }
        for env in c.field("env").map(Node::items).unwrap_or(&[]) {
            texts.extend(env.get("name").and_then(Node::text));
            texts.extend(env.get("value").and_then(Node::text));
        }
        for text in texts {
            let lower = text.to_ascii_lowercase();
            if let Some(hint) = HINTS.iter().find(|h| lower.contains(*h)) {
                return Some(format!(
                    "{} mentions `{hint}`, a sign that it calls the Kubernetes API",
                    c.describe()
                ));
            }
        }
    }
    None
}

fn no_token(job: &Job, t: &PodTemplate, ids: Vec<usize>) -> Outcome {
    if t.spec.get("automountServiceAccountToken").is_some() {
        return no(
            ids,
            "the pod asks for the token explicitly (`automountServiceAccountToken`)",
        );
    }
    if let Some(reason) = api_use(job, t) {
        return no(
            ids,
            format!("{reason}: give the workload its own ServiceAccount instead"),
        );
    }
    ok(
        ids,
        FixKind::Safe,
        vec![set(t.ptr("automountServiceAccountToken"), New::Bool(false))],
        "pod: set `automountServiceAccountToken: false` (no use of the API is visible)".into(),
    )
}

fn label_ptr(key: &str) -> String {
    format!("/metadata/labels/{}", crate::yaml::escape_token(key))
}

fn psa_pin_and_audit(job: &Job, mine: &[(usize, &Finding)]) -> Vec<Outcome> {
    let o = job.object;
    let policy = pss::namespace_policy(|k| o.label(k).map(str::to_owned));
    let version = format!("v1.{}", job.ctx.pss_minor);
    mine.iter()
        .map(|(i, f)| {
            if job.rel(f).ends_with("enforce-version") {
                ok(
                    vec![*i],
                    FixKind::Safe,
                    vec![set(
                        label_ptr(pss::ENFORCE_VERSION_LABEL),
                        New::Str(version.clone()),
                    )],
                    format!(
                        "namespace \"{}\": pin `{}: {version}`",
                        o.name,
                        pss::ENFORCE_VERSION_LABEL
                    ),
                )
            } else {
                let mut ops = vec![set(
                    label_ptr(pss::AUDIT_LEVEL_LABEL),
                    New::str("restricted"),
                )];
                if policy.warn.level != Level::Restricted {
                    ops.push(set(
                        label_ptr(pss::WARN_LEVEL_LABEL),
                        New::str("restricted"),
                    ));
                }
                ok(
                    vec![*i],
                    FixKind::Safe,
                    ops,
                    format!("namespace \"{}\": audit and warn at `restricted`", o.name),
                )
            }
        })
        .collect()
}

fn psa_enforce(job: &Job, mine: &[(usize, &Finding)]) -> Vec<Outcome> {
    let o = job.object;
    if let Some(Err(reason)) = job.ctx.enforceable.and_then(|v| v.get(&o.name)) {
        return vec![no(mine.iter().map(|(i, _)| *i).collect(), reason.clone())];
    }
    let policy = pss::namespace_policy(|k| o.label(k).map(str::to_owned));
    let mut ops = vec![set(
        label_ptr(pss::ENFORCE_LEVEL_LABEL),
        New::str("restricted"),
    )];
    if !policy.enforce_version_label_present || policy.enforce.version == pss::Version::Latest {
        ops.push(set(
            label_ptr(pss::ENFORCE_VERSION_LABEL),
            New::Str(format!("v1.{}", job.ctx.pss_minor)),
        ));
    }
    if policy.audit.level != Level::Restricted {
        ops.push(set(
            label_ptr(pss::AUDIT_LEVEL_LABEL),
            New::str("restricted"),
        ));
    }
    if policy.warn.level != Level::Restricted {
        ops.push(set(
            label_ptr(pss::WARN_LEVEL_LABEL),
            New::str("restricted"),
        ));
    }
    vec![ok(
        mine.iter().map(|(i, _)| *i).collect(),
        FixKind::Unsafe,
        ops,
        format!(
            "namespace \"{}\": enforce Pod Security `restricted` (pods that violate it will be rejected)",
            o.name
        ),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_images() {
        for yes in [
            "nginx",
            "nginx:1.25",
            "docker.io/library/redis:7",
            "busybox@sha256:ab",
        ] {
            assert!(is_library_image(yes), "{yes}");
        }
        for no in [
            "",
            "localhost:5000/app",
            "bitnami/redis",
            "ghcr.io/x/y:1",
            "quay.io/prometheus/node-exporter",
            "registry.k8s.io/pause:3",
        ] {
            assert!(!is_library_image(no), "{no}");
        }
    }
}
