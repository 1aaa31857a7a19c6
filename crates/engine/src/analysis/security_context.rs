//! Effective security settings of each container: pod-level defaults, container overrides.
//!
//! Kubernetes merges `spec.securityContext` (PodSecurityContext) into each container's
//! `securityContext` for the fields both have (runAsUser, runAsGroup, runAsNonRoot, seLinuxOptions,
//! seccompProfile, appArmorProfile, windowsOptions): the container value wins when set. Fields that
//! exist only on containers (privileged, allowPrivilegeEscalation, capabilities,
//! readOnlyRootFilesystem, procMount) have no pod-level default. Getting this inheritance wrong is
//! the most common false positive of peer scanners.

use crate::inventory::{Container, PodTemplate};
use crate::yaml::{Node, Value};

/// A setting as it applies to one container, and where it comes from.
#[derive(Clone, Debug, PartialEq)]
pub struct Effective<T> {
    /// The effective value (None: set nowhere, the runtime/image default applies).
    pub value: Option<T>,
    /// Pointer (within the object) of the field that decided, or, when unset, of where the
    /// container-level field belongs.
    pub pointer: String,
    /// The value comes from the pod-level securityContext.
    pub from_pod: bool,
}

/// Fields both PodSecurityContext and SecurityContext have: the container's wins when set.
fn inherited<'a, T>(
    t: &PodTemplate<'a>,
    c: &Container<'a>,
    rel: &str,
    read: impl Fn(&'a Node) -> Option<T>,
) -> Effective<T> {
    let container_rel = format!("securityContext/{rel}");
    if let Some(v) = c.field(&container_rel).and_then(&read) {
        return Effective {
            value: Some(v),
            pointer: c.ptr(&container_rel),
            from_pod: false,
        };
    }
    if let Some(v) = t.pod_field(&container_rel).and_then(&read) {
        return Effective {
            value: Some(v),
            pointer: t.ptr(&container_rel),
            from_pod: true,
        };
    }
    Effective {
        value: None,
        pointer: c.ptr(&container_rel),
        from_pod: false,
    }
}

/// Container-only fields.
fn own<'a, T>(c: &Container<'a>, rel: &str, read: impl Fn(&'a Node) -> Option<T>) -> Effective<T> {
    let container_rel = format!("securityContext/{rel}");
    Effective {
        value: c.field(&container_rel).and_then(read),
        pointer: c.ptr(&container_rel),
        from_pod: false,
    }
}

pub fn run_as_non_root<'a>(t: &PodTemplate<'a>, c: &Container<'a>) -> Effective<bool> {
    inherited(t, c, "runAsNonRoot", Node::as_bool)
}

pub fn run_as_user<'a>(t: &PodTemplate<'a>, c: &Container<'a>) -> Effective<i64> {
    inherited(t, c, "runAsUser", Node::as_i64)
}

pub fn seccomp_type<'a>(t: &PodTemplate<'a>, c: &Container<'a>) -> Effective<&'a str> {
    inherited(t, c, "seccompProfile/type", Node::as_str)
}

pub fn privileged<'a>(c: &Container<'a>) -> Effective<bool> {
    own(c, "privileged", Node::as_bool)
}

pub fn allow_privilege_escalation<'a>(c: &Container<'a>) -> Effective<bool> {
    own(c, "allowPrivilegeEscalation", Node::as_bool)
}

pub fn read_only_root_filesystem<'a>(c: &Container<'a>) -> Effective<bool> {
    own(c, "readOnlyRootFilesystem", Node::as_bool)
}

/// Capabilities as written; names compared as the runtime does after normalisation
/// (`CAP_` prefix optional, case-insensitive) — see [`normalize_capability`].
pub struct Capabilities<'a> {
    pub drop: Vec<(&'a str, String)>,
    pub add: Vec<(&'a str, String)>,
    pub drop_ptr: String,
    pub add_ptr: String,
}

pub fn capabilities<'a>(c: &Container<'a>) -> Capabilities<'a> {
    let list = |rel: &str| -> Vec<(&'a str, String)> {
        c.field(rel)
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.text().map(|t| (t, c.ptr(&format!("{rel}/{i}")))))
            .collect()
    };
    Capabilities {
        drop: list("securityContext/capabilities/drop"),
        add: list("securityContext/capabilities/add"),
        drop_ptr: c.ptr("securityContext/capabilities/drop"),
        add_ptr: c.ptr("securityContext/capabilities/add"),
    }
}

/// `cap_sys_admin` → `SYS_ADMIN`. Container runtimes accept either form.
pub fn normalize_capability(name: &str) -> String {
    let upper = name.trim().to_ascii_uppercase();
    upper
        .strip_prefix("CAP_")
        .map(str::to_owned)
        .unwrap_or(upper)
}

/// The pod runs in a user namespace (`hostUsers: false`): UID 0 inside maps to an unprivileged host UID.
pub fn user_namespaced(t: &PodTemplate<'_>) -> bool {
    t.spec.get("hostUsers").and_then(Node::as_bool) == Some(false)
}

pub fn is_windows(t: &PodTemplate<'_>) -> bool {
    t.spec.pointer("/os/name").and_then(Node::text) == Some("windows")
}

enum Expect {
    Bool,
    Int,
    Map,
    List,
}

impl Expect {
    fn name(&self) -> &'static str {
        match self {
            Expect::Bool => "a boolean",
            Expect::Int => "an integer",
            Expect::Map => "a mapping",
            Expect::List => "a list",
        }
    }
    fn accepts(&self, n: &Node) -> bool {
        if n.is_null() {
            return true;
        }
        match self {
            Expect::Bool => n.as_bool().is_some(),
            Expect::Int => matches!(n.resolve(), Some(crate::yaml::Resolved::Int(_))),
            Expect::Map => n.is_map(),
            Expect::List => n.is_seq(),
        }
    }
}

const POD_FIELDS: &[(&str, Expect)] = &[
    ("hostNetwork", Expect::Bool),
    ("hostPID", Expect::Bool),
    ("hostIPC", Expect::Bool),
    ("hostUsers", Expect::Bool),
    ("automountServiceAccountToken", Expect::Bool),
    ("containers", Expect::List),
    ("initContainers", Expect::List),
    ("ephemeralContainers", Expect::List),
    ("volumes", Expect::List),
    ("securityContext", Expect::Map),
    ("securityContext/runAsNonRoot", Expect::Bool),
    ("securityContext/runAsUser", Expect::Int),
];

const CONTAINER_FIELDS: &[(&str, Expect)] = &[
    ("securityContext", Expect::Map),
    ("securityContext/privileged", Expect::Bool),
    ("securityContext/allowPrivilegeEscalation", Expect::Bool),
    ("securityContext/readOnlyRootFilesystem", Expect::Bool),
    ("securityContext/runAsNonRoot", Expect::Bool),
    ("securityContext/runAsUser", Expect::Int),
    ("securityContext/capabilities", Expect::Map),
    ("securityContext/capabilities/drop", Expect::List),
    ("securityContext/capabilities/add", Expect::List),
    ("ports", Expect::List),
];

/// Security-relevant fields whose value has a type Kubernetes would reject (`privileged: "true"`,
/// `containers: {}`): the API server refuses such an object, and a scanner that reads the string
/// as true or false would be guessing. Returns (pointer, message) pairs.
pub fn type_errors(t: &PodTemplate<'_>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut check = |node: &Node, base: &str, fields: &[(&str, Expect)]| {
        for (rel, expect) in fields {
            if let Some(n) = node.pointer(&format!("/{rel}"))
                && !expect.accepts(n)
            {
                let shown = match &n.value {
                    Value::Scalar(s) => format!("{} `{}`", n.kind_name(), s.text),
                    _ => n.kind_name().to_owned(),
                };
                out.push((
                    format!("{base}/{rel}"),
                    format!(
                        "`{}` is {}, but Kubernetes expects {}; the API server rejects this object",
                        rel.replace('/', "."),
                        shown,
                        expect.name()
                    ),
                ));
            }
        }
    };
    check(t.spec, t.spec_ptr, POD_FIELDS);
    for c in t.containers() {
        check(c.node, &c.pointer(), CONTAINER_FIELDS);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_bytes;

    fn with_template(yaml: &str, f: impl FnOnce(&PodTemplate)) {
        let l = load_bytes("t.yaml", yaml.as_bytes().to_vec());
        f(&PodTemplate::of(&l.objects[0]).unwrap());
    }

    #[test]
    fn container_overrides_pod() {
        with_template(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: {runAsNonRoot: true}\n  containers:\n  - name: a\n  - name: b\n    securityContext: {runAsNonRoot: false}\n",
            |t| {
                let cs: Vec<_> = t.containers().collect();
                let a = run_as_non_root(t, &cs[0]);
                assert_eq!(a.value, Some(true));
                assert!(a.from_pod);
                assert_eq!(a.pointer, "/spec/securityContext/runAsNonRoot");
                let b = run_as_non_root(t, &cs[1]);
                assert_eq!(b.value, Some(false));
                assert_eq!(b.pointer, "/spec/containers/1/securityContext/runAsNonRoot");
            },
        );
    }

    #[test]
    fn wrong_types_are_reported() {
        with_template(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostNetwork: \"true\"\n  containers:\n  - name: a\n    securityContext: {privileged: \"yes\"}\n",
            |t| {
                let errs = type_errors(t);
                assert_eq!(errs.len(), 2, "{errs:?}");
                assert_eq!(errs[0].0, "/spec/hostNetwork");
                assert_eq!(errs[1].0, "/spec/containers/0/securityContext/privileged");
                assert!(errs[1].1.contains("expects a boolean"));
                // A quoted "yes" is not true.
                assert_eq!(privileged(&t.containers().next().unwrap()).value, None);
            },
        );
    }

    #[test]
    fn capability_names_normalise() {
        assert_eq!(normalize_capability("cap_sys_admin"), "SYS_ADMIN");
        assert_eq!(normalize_capability("all"), "ALL");
    }
}
