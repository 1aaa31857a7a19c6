//! What the API server's validation code rejects although every field has the right type
//! (k8s.io/kubernetes `pkg/apis/core/validation`, `pkg/apis/rbac/validation`,
//! `pkg/apis/apps/validation`), after its defaulting: a pod's volumes, containers, mounts and
//! security contexts; RBAC roles and bindings; workload selectors. Messages name the field as the
//! API server does and quote its reason.

use crate::{Issues, REJECTS, api_path};
use kubeharden_model::inventory::Object;
use kubeharden_model::selector::{LabelSelector, Labels};
use kubeharden_model::yaml::{Node, escape_token};
use std::collections::{HashMap, HashSet};

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// The semantic checks of one object whose kind the schema knows.
pub fn check(object: &Object, issues: &mut Issues) {
    let mut c = Checker {
        root: &object.root,
        issues,
    };
    match (object.group(), object.kind.as_str()) {
        (RBAC_GROUP, "RoleBinding") => c.binding(false),
        (RBAC_GROUP, "ClusterRoleBinding") => c.binding(true),
        (RBAC_GROUP, "Role") => c.role(true),
        (RBAC_GROUP, "ClusterRole") => c.role(false),
        _ => {}
    }
    if let Some(ptr) = pod_spec_pointer(object.group(), &object.kind)
        && let Some(spec) = object.root.pointer(ptr).filter(|n| n.is_map())
    {
        // A StatefulSet's volumeClaimTemplates are volumes of its pods.
        let claims: Vec<&str> = if object.kind == "StatefulSet" {
            object
                .root
                .pointer("/spec/volumeClaimTemplates")
                .map_or(&[][..], Node::items)
                .iter()
                .filter_map(|t| t.pointer("/metadata/name")?.as_str())
                .collect()
        } else {
            Vec::new()
        };
        c.pod_spec(spec, ptr, &claims);
    }
    if object.group() == "apps"
        && matches!(
            object.kind.as_str(),
            "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet"
        )
    {
        c.selector_matches_template(&object.kind);
    }
}

/// Where the pod spec of a built-in workload kind is.
fn pod_spec_pointer(group: &str, kind: &str) -> Option<&'static str> {
    Some(match (group, kind) {
        ("", "Pod") => "/spec",
        ("", "PodTemplate") => "/template/spec",
        ("", "ReplicationController")
        | ("apps", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet")
        | ("batch", "Job") => "/spec/template/spec",
        ("batch", "CronJob") => "/spec/jobTemplate/spec/template/spec",
        _ => return None,
    })
}

struct Checker<'a, 'i> {
    root: &'a Node,
    issues: &'i mut Issues,
}

fn child(ptr: &str, key: &str) -> String {
    format!("{ptr}/{}", escape_token(key))
}

/// A non-empty string field.
fn text<'a>(node: &'a Node, key: &str) -> Option<&'a str> {
    node.get(key)?.as_str().filter(|s| !s.is_empty())
}

/// Items of a list field (anything else is the schema's business).
fn items<'a>(node: &'a Node, key: &str) -> &'a [Node] {
    node.get(key).map_or(&[], Node::items)
}

impl Checker<'_, '_> {
    fn report(&mut self, pointer: String, why: &str) {
        let pos = self.root.locate(&pointer);
        let path = api_path(&pointer);
        self.issues
            .push(pointer, pos, format!("`{path}`: {why}; {REJECTS}"));
    }

    // -----------------------------------------------------------------------------------------
    // Pods
    // -----------------------------------------------------------------------------------------

    fn pod_spec(&mut self, spec: &Node, ptr: &str, claims: &[&str]) {
        // Volumes: unique names, at most one source each.
        let mut volumes: HashSet<&str> = claims.iter().copied().collect();
        for (i, v) in items(spec, "volumes").iter().enumerate() {
            let vptr = format!("{ptr}/volumes/{i}");
            if text(v, "name").is_some_and(|n| claims.contains(&n)) {
                continue; // replaced by the claim template's volume before validation
            }
            if let Some(name) = text(v, "name")
                && !volumes.insert(name)
            {
                self.report(
                    child(&vptr, "name"),
                    &format!("duplicate volume name `{name}`"),
                );
            }
            let sources: Vec<&str> = v
                .effective_entries()
                .filter(|e| e.key != "name" && !e.value.is_null())
                .map(|e| e.key.as_str())
                .collect();
            if sources.len() > 1 {
                self.report(
                    vptr,
                    &format!(
                        "may not specify more than 1 volume type (found `{}`)",
                        sources.join("`, `")
                    ),
                );
            }
        }
        // Containers of every kind: unique names; mounts naming a volume; security contexts.
        let host_network = spec.get("hostNetwork").and_then(Node::as_bool) == Some(true);
        let mut names: HashSet<&str> = HashSet::new();
        for field in ["initContainers", "containers", "ephemeralContainers"] {
            for (i, c) in items(spec, field).iter().enumerate() {
                let cptr = format!("{ptr}/{field}/{i}");
                if let Some(name) = text(c, "name")
                    && !names.insert(name)
                {
                    self.report(
                        child(&cptr, "name"),
                        &format!("duplicate container name `{name}`"),
                    );
                }
                self.container(c, &cptr, &volumes);
                if field == "containers" && host_network {
                    self.host_ports(c, &cptr);
                }
            }
        }
    }

    fn container(&mut self, c: &Node, cptr: &str, volumes: &HashSet<&str>) {
        // A container without an image is a fragment (a kustomize patch naming the container,
        // a template a controller completes), not what the API server receives: its mounts may
        // name volumes defined elsewhere.
        let complete = text(c, "image").is_some();
        let mut paths: HashSet<&str> = HashSet::new();
        for (j, m) in items(c, "volumeMounts").iter().enumerate() {
            let mptr = format!("{cptr}/volumeMounts/{j}");
            if let Some(name) = text(m, "name")
                && complete
                && !volumes.contains(name)
            {
                self.report(
                    child(&mptr, "name"),
                    &format!("no volume named `{name}` in the pod's `volumes` (Not found)"),
                );
            }
            if let Some(path) = text(m, "mountPath")
                && !paths.insert(path)
            {
                self.report(
                    child(&mptr, "mountPath"),
                    &format!("mount path `{path}` must be unique"),
                );
            }
        }
        for (j, d) in items(c, "volumeDevices").iter().enumerate() {
            if let Some(name) = text(d, "name")
                && complete
                && !volumes.contains(name)
            {
                self.report(
                    format!("{cptr}/volumeDevices/{j}/name"),
                    &format!("no volume named `{name}` in the pod's `volumes` (Not found)"),
                );
            }
        }
        let mut ports: HashMap<&str, usize> = HashMap::new();
        for (j, p) in items(c, "ports").iter().enumerate() {
            if let Some(name) = text(p, "name")
                && ports.insert(name, j).is_some()
            {
                self.report(
                    format!("{cptr}/ports/{j}/name"),
                    &format!("duplicate port name `{name}` in this container"),
                );
            }
        }
        let Some(sc) = c.get("securityContext").filter(|n| n.is_map()) else {
            return;
        };
        if sc.get("allowPrivilegeEscalation").and_then(Node::as_bool) != Some(false) {
            return;
        }
        let sptr = child(cptr, "securityContext");
        if sc.get("privileged").and_then(Node::as_bool) == Some(true) {
            self.report(
                sptr.clone(),
                "cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
            );
        }
        // Upstream compares the literal string: `SYS_ADMIN` (the usual spelling) is accepted.
        let adds = sc.pointer("/capabilities/add").map_or(&[][..], Node::items);
        if adds.iter().any(|a| a.as_str() == Some("CAP_SYS_ADMIN")) {
            self.report(
                sptr,
                "cannot set `allowPrivilegeEscalation` to false and `capabilities.add` CAP_SYS_ADMIN",
            );
        }
    }

    /// With `hostNetwork`, a port's `hostPort` is its `containerPort` (defaulted in a Pod; 0
    /// allowed in templates, where the Pod will be defaulted).
    fn host_ports(&mut self, c: &Node, cptr: &str) {
        for (j, p) in items(c, "ports").iter().enumerate() {
            let host = p.get("hostPort").and_then(Node::as_i64).unwrap_or(0);
            let container = p.get("containerPort").and_then(Node::as_i64).unwrap_or(0);
            if host != 0 && host != container {
                self.report(
                    format!("{cptr}/ports/{j}/hostPort"),
                    "must match `containerPort` when `hostNetwork` is true",
                );
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // RBAC
    // -----------------------------------------------------------------------------------------

    fn binding(&mut self, cluster: bool) {
        let root = self.root;
        if let Some(rr) = root.get("roleRef").filter(|n| n.is_map()) {
            // An empty apiGroup is defaulted to rbac.authorization.k8s.io.
            if let Some(g) = text(rr, "apiGroup")
                && g != RBAC_GROUP
            {
                self.report(
                    "/roleRef/apiGroup".into(),
                    &format!("unsupported value `{g}`: the only supported value is `{RBAC_GROUP}`"),
                );
            }
            if let Some(k) = rr.get("kind").and_then(Node::as_str) {
                let allowed: &[&str] = if cluster {
                    &["ClusterRole"]
                } else {
                    &["Role", "ClusterRole"]
                };
                if !allowed.contains(&k) {
                    self.report(
                        "/roleRef/kind".into(),
                        &format!(
                            "unsupported value `{k}`: supported values are `{}`",
                            allowed.join("`, `")
                        ),
                    );
                }
            }
        }
        for (i, s) in items(root, "subjects").iter().enumerate() {
            let sptr = format!("/subjects/{i}");
            let group = s.get("apiGroup").and_then(Node::as_str).unwrap_or("");
            match s.get("kind").and_then(Node::as_str) {
                Some("ServiceAccount") => {
                    if !group.is_empty() {
                        self.report(
                            child(&sptr, "apiGroup"),
                            &format!(
                                "unsupported value `{group}`: a ServiceAccount subject's apiGroup is `\"\"`"
                            ),
                        );
                    }
                    if cluster && text(s, "namespace").is_none() {
                        self.report(
                            child(&sptr, "namespace"),
                            "a ServiceAccount subject of a ClusterRoleBinding needs its `namespace` (Required value)",
                        );
                    }
                }
                Some(kind @ ("User" | "Group")) if !group.is_empty() && group != RBAC_GROUP => {
                    self.report(
                        child(&sptr, "apiGroup"),
                        &format!(
                            "unsupported value `{group}`: a {kind} subject's apiGroup is `{RBAC_GROUP}`"
                        ),
                    );
                }
                Some("User" | "Group") => {}
                Some(kind) => self.report(
                    child(&sptr, "kind"),
                    &format!(
                        "unsupported value `{kind}`: supported values are `ServiceAccount`, `User`, `Group`"
                    ),
                ),
                None => {}
            }
        }
    }

    fn role(&mut self, namespaced: bool) {
        let root = self.root;
        for (i, r) in items(root, "rules").iter().enumerate() {
            let rptr = format!("/rules/{i}");
            let non_empty = |k: &str| !items(r, k).is_empty();
            if r.get("verbs")
                .is_some_and(|v| v.is_seq() && v.items().is_empty())
            {
                self.report(
                    child(&rptr, "verbs"),
                    "verbs must contain at least one value",
                );
            }
            if non_empty("nonResourceURLs") {
                if namespaced {
                    self.report(
                        child(&rptr, "nonResourceURLs"),
                        "namespaced rules cannot apply to non-resource URLs",
                    );
                } else if non_empty("apiGroups")
                    || non_empty("resources")
                    || non_empty("resourceNames")
                {
                    self.report(
                        child(&rptr, "nonResourceURLs"),
                        "rules cannot apply to both regular resources and non-resource URLs",
                    );
                }
                continue;
            }
            if !non_empty("apiGroups") {
                self.report(
                    child(&rptr, "apiGroups"),
                    "resource rules must supply at least one api group (Required value; `\"\"` is the core group)",
                );
            }
            if !non_empty("resources") {
                self.report(
                    child(&rptr, "resources"),
                    "resource rules must supply at least one resource (Required value)",
                );
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Workloads
    // -----------------------------------------------------------------------------------------

    fn selector_matches_template(&mut self, kind: &str) {
        let root = self.root;
        let Some(sel_node) = root.pointer("/spec/selector").filter(|n| n.is_map()) else {
            return;
        };
        let mut problems = Vec::new();
        let selector = LabelSelector::parse(sel_node, "/spec/selector", &mut problems);
        if !problems.is_empty() || selector.invalid {
            return; // the schema check reports malformed selectors
        }
        if selector.is_empty() {
            self.report(
                "/spec/selector".into(),
                &format!("empty selector is invalid for {}", kind.to_lowercase()),
            );
            return;
        }
        let labels: Labels = root
            .pointer("/spec/template/metadata/labels")
            .map(|l| {
                l.effective_entries()
                    .filter_map(|e| Some((e.key.to_string(), e.value.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        if !selector.matches(&labels) {
            self.report(
                "/spec/template/metadata/labels".into(),
                "`selector` does not match template `labels`",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::validate;
    use kubeharden_model::load::load_bytes;

    /// (line, column, message) of every issue of the first object.
    fn issues(yaml: &str) -> Vec<(u32, u32, String)> {
        let l = load_bytes("t.yaml", yaml.as_bytes().to_vec());
        validate(&l.objects[0])
            .into_iter()
            .map(|i| (i.pos.line, i.pos.col, i.message))
            .collect()
    }

    #[test]
    fn privileged_or_cap_sys_admin_without_privilege_escalation() {
        let got = issues(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: i\n    securityContext:\n      privileged: true\n      allowPrivilegeEscalation: false\n      capabilities: {add: [CAP_SYS_ADMIN, SYS_ADMIN]}\n",
        );
        assert_eq!(
            got,
            [
                (8, 5, "`spec.containers[0].securityContext`: cannot set `allowPrivilegeEscalation` to false and `privileged` to true; the API server rejects this object".to_owned()),
                (8, 5, "`spec.containers[0].securityContext`: cannot set `allowPrivilegeEscalation` to false and `capabilities.add` CAP_SYS_ADMIN; the API server rejects this object".to_owned()),
            ]
        );
        // `SYS_ADMIN` alone, or escalation allowed: accepted upstream.
        assert!(issues("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    securityContext:\n      allowPrivilegeEscalation: false\n      capabilities: {add: [SYS_ADMIN]}\n").is_empty());
        assert!(issues("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    securityContext: {privileged: true, allowPrivilegeEscalation: true}\n").is_empty());
    }

    #[test]
    fn volumes_mounts_and_names() {
        let got = issues(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n    spec:\n      initContainers:\n      - name: c\n      containers:\n      - name: c\n        image: i\n        volumeMounts:\n        - {name: data, mountPath: /d}\n        - {name: gone, mountPath: /d}\n      volumes:\n      - {name: data, emptyDir: {}}\n      - {name: data, emptyDir: {}, hostPath: {path: /}}\n",
        );
        let want: Vec<(u32, u32, String)> = vec![
            (19, 10, "`spec.template.spec.volumes[1].name`: duplicate volume name `data`; the API server rejects this object".into()),
            (19, 9, "`spec.template.spec.volumes[1]`: may not specify more than 1 volume type (found `emptyDir`, `hostPath`); the API server rejects this object".into()),
            (12, 9, "`spec.template.spec.containers[0].name`: duplicate container name `c`; the API server rejects this object".into()),
            (16, 12, "`spec.template.spec.containers[0].volumeMounts[1].name`: no volume named `gone` in the pod's `volumes` (Not found); the API server rejects this object".into()),
            (16, 24, "`spec.template.spec.containers[0].volumeMounts[1].mountPath`: mount path `/d` must be unique; the API server rejects this object".into()),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn claim_templates_are_volumes_and_fragments_are_not_judged() {
        // A StatefulSet's pods get a volume per volumeClaimTemplate, which replaces a volume of
        // the same name.
        assert_eq!(
            issues("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec:\n  selector: {matchLabels: {app: a}}\n  serviceName: s\n  template:\n    metadata: {labels: {app: a}}\n    spec:\n      containers:\n      - name: c\n        image: i\n        volumeMounts: [{name: www, mountPath: /w}, {name: logs, mountPath: /l}]\n      volumes: [{name: www, emptyDir: {}}]\n  volumeClaimTemplates:\n  - metadata: {name: www}\n"),
            [(13, 53, "`spec.template.spec.containers[0].volumeMounts[1].name`: no volume named `logs` in the pod's `volumes` (Not found); the API server rejects this object".to_owned())]
        );
        // A kustomize patch: no selector, no image, a mount of the base's volume, a directive.
        assert_eq!(
            issues(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        volumeMounts: [{name: from-base, mountPath: /b}]\n      - {name: sidecar, $patch: delete}\n"
            ),
            []
        );
    }

    #[test]
    fn bindings() {
        let got = issues(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {apiGroup: rbac.authorization.k8s.io/v1, kind: Role, name: r}\nsubjects:\n- {kind: ServiceAccount, name: s}\n- {kind: user, name: u}\n",
        );
        let want: Vec<(u32, u32, String)> = vec![
            (4, 11, "`roleRef.apiGroup`: unsupported value `rbac.authorization.k8s.io/v1`: the only supported value is `rbac.authorization.k8s.io`; the API server rejects this object".into()),
            (4, 51, "`roleRef.kind`: unsupported value `Role`: supported values are `ClusterRole`; the API server rejects this object".into()),
            (6, 3, "`subjects[0].namespace`: a ServiceAccount subject of a ClusterRoleBinding needs its `namespace` (Required value); the API server rejects this object".into()),
            (7, 4, "`subjects[1].kind`: unsupported value `user`: supported values are `ServiceAccount`, `User`, `Group`; the API server rejects this object".into()),
        ];
        assert_eq!(got, want);
        // An empty roleRef.apiGroup is defaulted; User subjects get their group by default too.
        assert!(issues("apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: ns}\nroleRef: {apiGroup: \"\", kind: Role, name: r}\nsubjects:\n- {kind: User, name: u}\n- {kind: ServiceAccount, name: s}\n").is_empty());
    }

    #[test]
    fn roles_and_selectors() {
        let got = issues(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: ns}\nrules:\n- {verbs: [get], resources: [pods]}\n- {verbs: [get], nonResourceURLs: [/healthz]}\n",
        );
        assert_eq!(got.len(), 2, "{got:#?}");
        assert!(got[0].2.contains("rules[0].apiGroups"), "{got:?}");
        assert!(
            got[1]
                .2
                .contains("namespaced rules cannot apply to non-resource URLs")
        );
        let got = issues(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: b}}\n    spec: {containers: [{name: c, image: i}]}\n",
        );
        assert_eq!(
            got,
            [(7, 16, "`spec.template.metadata.labels`: `selector` does not match template `labels`; the API server rejects this object".to_owned())]
        );
    }
}
