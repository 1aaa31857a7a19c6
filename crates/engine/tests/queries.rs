//! Known answers of the query commands' engine (`analysis::rbac_query`, `analysis::netpol_query`)
//! for every subtlety of the shared reference notes (rbac.md, netpol.md), the NetworkPolicy
//! recipes of the corpus as their EXPECTED.md states them, kubernetes-goat's `insecure-rbac` and
//! `hunger-check`, and properties: `rbac can` agrees with `rbac who-can`, and `netpol reach` with
//! `netpol explain`, on generated graphs (seeded `fastrand`; `KUBEHARDEN_PROPERTY_CASES` cases).

mod common;

use fastrand::Rng;
use kubeharden_engine::analysis::netpol::{Network, Protocol};
use kubeharden_engine::analysis::netpol_query::{
    self, Point, parse_point, points, ports_between, reach_matrix,
};
use kubeharden_engine::analysis::query::Inventory;
use kubeharden_engine::analysis::rbac::Rbac;
use kubeharden_engine::analysis::rbac_query::{Ask, Holder, Identity, Query, Target, Where};
use kubeharden_engine::load::load_bytes;

fn inventory(yaml: &str) -> Inventory {
    let loaded = load_bytes("t.yaml", yaml.as_bytes().to_vec());
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    Inventory::from_objects(loaded.objects)
}

fn ask(verb: &str, resource: &str) -> Ask {
    Ask::parse(verb, resource).unwrap()
}

fn id(s: &str) -> Identity {
    Identity::parse(s, &[]).unwrap()
}

/// `can` and the subjects of `who-can`, as strings.
struct R<'q, 'a> {
    q: Query<'q, 'a>,
}

impl R<'_, '_> {
    fn can(&self, who: &str, a: &Ask, place: Where) -> bool {
        self.q.can(&id(who), a, place).allowed
    }
    fn who(&self, a: &Ask, place: Where) -> Vec<String> {
        self.q
            .who_can(a, place)
            .subjects
            .iter()
            .map(|h| format!("{} {}", h.describe(), h.via.scope_text()))
            .collect()
    }
}

macro_rules! rbac {
    ($inv:ident, $rbac:ident, $r:ident, $yaml:expr) => {
        let $inv = inventory($yaml);
        let $rbac = Rbac::new(&$inv.objects);
        let $r = R {
            q: {
                let mut q = Query::new(&$rbac, &$inv.workloads);
                q.declare_namespaces(&$inv.objects);
                q
            },
        };
    };
}

const ROLES: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: secret-reader}
rules:
- {apiGroups: [""], resources: [secrets], verbs: [get, list]}
- {apiGroups: [""], resources: [nodes], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-reads, namespace: a}
subjects: [{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: secret-reader}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: status-and-literal}
rules:
- {apiGroups: ["*"], resources: ["*/status"], verbs: [get]}
- {apiGroups: [""], resources: ["pods/*"], verbs: [create]}
- {apiGroups: [""], resources: [configmaps], resourceNames: [app-config], verbs: [get, update]}
- {nonResourceURLs: ["/metrics", "/logs/*"], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: bob-status}
subjects: [{kind: User, name: bob}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: status-and-literal}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: carol-status, namespace: a}
subjects: [{kind: User, name: carol}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: status-and-literal}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: everything}
rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dave-ns-admin, namespace: b}
subjects: [{kind: User, name: dave}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: everything}
"#;

#[test]
fn role_binding_to_cluster_role_grants_only_its_namespace() {
    rbac!(inv, rbac, r, ROLES);
    let secrets = ask("get", "secrets");
    assert!(r.can("user:alice", &secrets, Where::Namespace("a")));
    assert!(!r.can("user:alice", &secrets, Where::Namespace("b")));
    assert!(!r.can("user:alice", &secrets, Where::AllNamespaces));
    assert!(r.can("user:alice", &secrets, Where::Anywhere));
    // A cluster-scoped resource is never granted by a RoleBinding.
    assert!(!r.can("user:alice", &ask("get", "nodes"), Where::Anywhere));
    assert!(!r.can("user:dave", &ask("get", "nodes"), Where::Anywhere));
    assert!(!r.can("user:dave", &ask("get", "namespaces"), Where::Anywhere));
    assert!(r.can(
        "user:dave",
        &ask("delete", "deployments.apps"),
        Where::Namespace("b")
    ));
    assert_eq!(
        r.who(&secrets, Where::Anywhere),
        [
            "User \"alice\" in namespace \"a\"",
            "User \"dave\" in namespace \"b\""
        ]
    );
    assert_eq!(
        r.who(&secrets, Where::Namespace("a")),
        ["User \"alice\" in namespace \"a\""]
    );
    assert!(r.who(&secrets, Where::AllNamespaces).is_empty());
    let answer = r.q.can(&id("user:alice"), &secrets, Where::Anywhere);
    let via = answer.via.unwrap();
    assert_eq!(via.binding.name, "alice-reads");
    assert_eq!(via.rule.position, "rules[0]");
    assert_eq!(via.rule.location.as_deref(), Some("t.yaml:6"));
    assert_eq!(via.binding.location.as_deref(), Some("t.yaml:9"));
}

/// The API server gives a request for `namespaces/NAME` the namespace NAME: a Role in NAME that
/// grants `get namespaces` lets its subjects read that one Namespace (found by the differential
/// test against SubjectAccessReview); the list of Namespaces stays cluster-only.
#[test]
fn a_role_grants_its_own_namespace_object() {
    rbac!(
        inv,
        rbac,
        r,
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: ns-reader, namespace: a}\nrules:\n- apiGroups: [\"\"]\n  resources: [namespaces]\n  verbs: [get, list]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: u1, namespace: a}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: ns-reader}\nsubjects:\n- {kind: User, name: u1}\n"
    );
    let mut named_a = ask("get", "namespaces");
    named_a.name = Some("a".to_owned());
    assert!(r.can("user:u1", &named_a, Where::Namespace("a")));
    assert!(!r.can("user:u1", &ask("list", "namespaces"), Where::Anywhere));
    assert!(!r.can("user:u1", &ask("get", "namespaces"), Where::Anywhere));
    assert_eq!(
        r.who(&named_a, Where::Namespace("a")),
        ["User \"u1\" in namespace \"a\""]
    );
}

#[test]
fn wildcards_subresources_names_and_urls() {
    rbac!(inv, rbac, r, ROLES);
    let bob = "user:bob";
    // `*/status`: that subresource of any resource, not the resource itself.
    assert!(r.can(bob, &ask("get", "pods/status"), Where::Namespace("x")));
    assert!(r.can(
        bob,
        &ask("get", "deployments.apps/status"),
        Where::Namespace("x")
    ));
    assert!(r.can(bob, &ask("get", "nodes/status"), Where::AllNamespaces));
    assert!(!r.can(bob, &ask("get", "pods"), Where::Namespace("x")));
    // `pods/*` is not a wildcard: only a subresource literally named `*`.
    assert!(!r.can(bob, &ask("create", "pods/exec"), Where::Namespace("x")));
    assert!(r.can(bob, &ask("create", "pods/*"), Where::Namespace("x")));
    // resourceNames: only named requests, never list or create.
    let mut named = ask("get", "configmaps");
    named.name = Some("app-config".into());
    assert!(r.can(bob, &named, Where::Namespace("x")));
    named.name = Some("other".into());
    assert!(!r.can(bob, &named, Where::Namespace("x")));
    assert!(!r.can(bob, &ask("get", "configmaps"), Where::Namespace("x")));
    assert!(!r.can(bob, &ask("list", "configmaps"), Where::Namespace("x")));
    // Non-resource URLs: exact, prefix `*`; only ClusterRoleBindings grant them.
    assert!(r.can(bob, &ask("get", "/metrics"), Where::Anywhere));
    assert!(r.can(
        bob,
        &ask("get", "/logs/kube-apiserver.log"),
        Where::Anywhere
    ));
    assert!(!r.can(bob, &ask("get", "/metrics/slis"), Where::Anywhere));
    assert!(!r.can(bob, &ask("post", "/metrics"), Where::Anywhere));
    assert!(!r.can("user:carol", &ask("get", "/metrics"), Where::Anywhere));
    assert!(r.can(
        "user:carol",
        &ask("get", "pods/status"),
        Where::Namespace("a")
    ));
    // `*` on `*`: every verb and resource, but no URL.
    assert!(r.can(
        "user:dave",
        &ask("escalate", "roles.rbac.authorization.k8s.io"),
        Where::Namespace("b")
    ));
    assert!(!r.can("user:dave", &ask("get", "/healthz"), Where::Anywhere));
    assert_eq!(
        r.who(&ask("get", "/metrics"), Where::Anywhere),
        ["User \"bob\" cluster-wide"]
    );
}

#[test]
fn ask_parses_as_kubectl() {
    let a = ask("get", "deployments.apps/scale");
    assert_eq!(
        (
            a.group.as_str(),
            a.resource.as_str(),
            a.subresource.as_str()
        ),
        ("apps", "deployments", "scale")
    );
    assert_eq!(
        ask("get", "/healthz").non_resource_url.as_deref(),
        Some("/healthz")
    );
    assert!(ask("get", "nodes").cluster_only());
    assert!(!ask("get", "pods").cluster_only());
    assert_eq!(
        id("system:serviceaccount:a:b").label,
        "ServiceAccount \"a/b\""
    );
    assert_eq!(id("serviceaccount:a/b").label, "ServiceAccount \"a/b\"");
    assert_eq!(id("group:devs").label, "Group \"devs\"");
    assert_eq!(id("alice").label, "User \"alice\"");
}

#[test]
fn aggregation_and_builtin_roles() {
    rbac!(
        inv,
        rbac,
        r,
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: monitoring}
aggregationRule:
  clusterRoleSelectors: [{matchLabels: {example.com/aggregate-to-monitoring: "true"}}]
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: monitoring-endpoints, labels: {example.com/aggregate-to-monitoring: "true"}}
rules: [{apiGroups: [""], resources: [endpoints], verbs: [list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: widgets-edit, labels: {rbac.authorization.k8s.io/aggregate-to-edit: "true"}}
rules: [{apiGroups: [example.com], resources: [widgets], verbs: [create]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: prom}
subjects: [{kind: ServiceAccount, name: prometheus, namespace: monitoring}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: monitoring}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: devs-admin, namespace: shop}
subjects: [{kind: Group, name: devs}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}
"#
    );
    let prom = "system:serviceaccount:monitoring:prometheus";
    assert!(r.can(prom, &ask("list", "endpoints"), Where::AllNamespaces));
    let answer =
        r.q.can(&id(prom), &ask("list", "endpoints"), Where::AllNamespaces);
    assert_eq!(
        answer.via.unwrap().rule.position,
        "rules[0] of ClusterRole \"monitoring-endpoints\""
    );
    // admin ⊇ edit ⊇ view, and edit picks up the input's aggregate-to-edit role.
    assert!(r.can(
        "group:devs",
        &ask("create", "widgets.example.com"),
        Where::Namespace("shop")
    ));
    assert!(r.can(
        "group:devs",
        &ask("create", "rolebindings.rbac.authorization.k8s.io"),
        Where::Namespace("shop")
    ));
    assert!(r.can(
        "group:devs",
        &ask("get", "secrets"),
        Where::Namespace("shop")
    ));
    assert!(r.can(
        "group:devs",
        &ask("create", "serviceaccounts/token"),
        Where::Namespace("shop")
    ));
    assert!(!r.can(
        "group:devs",
        &ask("update", "resourcequotas"),
        Where::Namespace("shop")
    ));
    let who = r.q.who_can(
        &ask("create", "widgets.example.com"),
        Where::Namespace("shop"),
    );
    assert_eq!(who.subjects.len(), 1);
    assert_eq!(who.subjects[0].via.role.name, "admin");
    assert_eq!(who.subjects[0].via.role.location, None, "built-in");
    assert_eq!(
        who.subjects[0].via.rule.position,
        "rules[0] of ClusterRole \"widgets-edit\""
    );
}

#[test]
fn implicit_groups_and_masters() {
    rbac!(
        inv,
        rbac,
        r,
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: everyone-lists-pods}
subjects: [{kind: Group, name: "system:authenticated"}]
roleRef: {kind: ClusterRole, name: view}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: batch-sas, namespace: batch}
subjects: [{kind: Group, name: "system:serviceaccounts:batch"}]
roleRef: {kind: ClusterRole, name: edit}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: all-sas}
subjects:
- {kind: Group, name: "system:serviceaccounts"}
- {kind: ServiceAccount, name: nons}
roleRef: {kind: ClusterRole, name: system:node-bootstrapper}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: job-runner, namespace: batch}
spec:
  template:
    spec: {serviceAccountName: runner, containers: [{name: c, image: x}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: quiet, namespace: batch}
spec:
  template:
    spec: {automountServiceAccountToken: false, containers: [{name: c, image: x}]}
"#
    );
    let pods = ask("list", "pods");
    assert!(r.can("user:alice", &pods, Where::AllNamespaces));
    assert!(r.can("system:serviceaccount:x:y", &pods, Where::AllNamespaces));
    assert!(!r.can("system:anonymous", &pods, Where::AllNamespaces));
    assert!(
        r.can("group:devs", &pods, Where::AllNamespaces),
        "members are authenticated"
    );
    assert!(!r.can("group:system:unauthenticated", &pods, Where::AllNamespaces));
    let exec = ask("create", "pods/exec");
    assert!(r.can(
        "system:serviceaccount:batch:runner",
        &exec,
        Where::Namespace("batch")
    ));
    assert!(!r.can(
        "system:serviceaccount:web:runner",
        &exec,
        Where::Namespace("batch")
    ));
    assert!(!r.can("user:alice", &exec, Where::Namespace("batch")));
    let csr = ask("create", "certificatesigningrequests.certificates.k8s.io");
    assert!(r.can("system:serviceaccount:web:runner", &csr, Where::Anywhere));
    assert!(!r.can("user:alice", &csr, Where::Anywhere));
    // system:masters is allowed everything before RBAC.
    assert!(r.can(
        "group:system:masters",
        &ask("delete", "nodes"),
        Where::AllNamespaces
    ));
    let who = r.q.who_can(&exec, Where::Namespace("batch"));
    let h: &Holder = &who.subjects[0];
    assert_eq!(h.describe(), "Group \"system:serviceaccounts:batch\"");
    assert_eq!(
        h.implicit.as_deref(),
        Some("every service account of namespace \"batch\"")
    );
    let workloads: Vec<&str> = h.workloads.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(
        workloads,
        ["job-runner"],
        "the token of `quiet` is not mounted"
    );
    assert_eq!(
        r.who(&pods, Where::AllNamespaces),
        ["Group \"system:authenticated\" cluster-wide"]
    );
    assert!(who.always[0].contains("system:masters"));
    // A ServiceAccount subject without a namespace in a ClusterRoleBinding matches nobody.
    assert_eq!(
        r.who(&csr, Where::Anywhere),
        ["Group \"system:serviceaccounts\" cluster-wide"]
    );
}

#[test]
fn effective_permissions_by_namespace() {
    rbac!(inv, rbac, r, ROLES);
    let p = r.q.permissions(&id("user:alice"), None);
    let scopes: Vec<Option<&str>> = p.scopes.iter().map(|s| s.namespace.as_deref()).collect();
    assert_eq!(scopes, [Some("a")]);
    assert_eq!(p.scopes[0].permissions.len(), 2);
    assert_eq!(p.scopes[0].permissions[0].resources, ["secrets"]);
    assert!(
        r.q.permissions(&id("user:alice"), Some("b"))
            .scopes
            .is_empty()
    );
}

// ---------------------------------------------------------------------------------------------
// kubernetes-goat and escalation paths

#[test]
fn goat_insecure_rbac_and_hunger_check() {
    let Some(dir) = common::corpus("vulnerable/kubernetes-goat/scenarios") else {
        return;
    };
    let text = std::fs::read_to_string(dir.join("insecure-rbac/setup.yaml")).unwrap();
    rbac!(inv, rbac, r, &text);
    let secrets = ask("get", "secrets");
    assert_eq!(
        r.who(&secrets, Where::Anywhere),
        ["ServiceAccount \"kube-system/superadmin\" cluster-wide"]
    );
    assert!(r.can(
        "system:serviceaccount:kube-system:superadmin",
        &secrets,
        Where::AllNamespaces
    ));
    assert!(!r.can(
        "system:serviceaccount:kube-system:default",
        &secrets,
        Where::Anywhere
    ));

    let text = std::fs::read_to_string(dir.join("hunger-check/deployment.yaml")).unwrap();
    rbac!(inv, rbac, r, &text);
    let sa = "system:serviceaccount:big-monolith:big-monolith-sa";
    assert!(r.can(
        sa,
        &ask("list", "secrets"),
        Where::Namespace("big-monolith")
    ));
    assert!(!r.can(sa, &ask("list", "secrets"), Where::Namespace("default")));
    assert!(!r.can(sa, &ask("create", "pods"), Where::Namespace("big-monolith")));
    let who = r.q.who_can(&secrets, Where::Namespace("big-monolith"));
    assert_eq!(who.subjects.len(), 1);
    let h = &who.subjects[0];
    assert_eq!(
        h.describe(),
        "ServiceAccount \"big-monolith/big-monolith-sa\""
    );
    assert_eq!(h.via.rule.text, "get, watch, list on *");
    let w: Vec<&str> = h.workloads.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(w, ["hunger-check-deployment"]);
}

const ESCALATION: &str = r#"
apiVersion: v1
kind: ServiceAccount
metadata: {name: ci, namespace: build}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: operator-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: operator, namespace: prod}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer, namespace: prod}
rules: [{apiGroups: [""], resources: [pods], verbs: [create, get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ci-deployer, namespace: prod}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
subjects: [{kind: ServiceAccount, name: ci, namespace: build}]
---
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {pod-security.kubernetes.io/enforce: restricted}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: operator, namespace: prod}
spec:
  template:
    spec: {serviceAccountName: operator, containers: [{name: operator, image: x}]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: intern-exec, namespace: tools}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: exec-only}
subjects: [{kind: User, name: intern}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: exec-only}
rules: [{apiGroups: [""], resources: [pods/exec], verbs: [create]}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: tools}
spec:
  template:
    spec:
      serviceAccountName: agent
      containers: [{name: a, image: x, securityContext: {privileged: true}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: agent-secrets}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: secret-lister}
subjects: [{kind: ServiceAccount, name: agent, namespace: tools}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: secret-lister}
rules: [{apiGroups: [""], resources: [secrets], verbs: [list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: binder}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: binder}
subjects: [{kind: User, name: mallory}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: binder}
rules:
- {apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [bind], resourceNames: [cluster-admin]}
- {apiGroups: [rbac.authorization.k8s.io], resources: [clusterrolebindings], verbs: [create]}
"#;

#[test]
fn escalation_paths() {
    rbac!(inv, rbac, r, ESCALATION);
    let all =
        r.q.paths(&id("system:serviceaccount:build:ci"), &Target::ALL, 10);
    let summary: Vec<(Target, usize)> = all
        .chains
        .iter()
        .map(|c| (c.target, c.steps.len()))
        .collect();
    assert_eq!(
        summary,
        [
            (Target::ClusterAdmin, 2),
            (Target::Secrets, 2),
            (Target::Nodes, 2)
        ],
        "cluster-admin gives the other targets"
    );
    let p = r.q.paths(
        &id("system:serviceaccount:build:ci"),
        &[Target::ClusterAdmin],
        10,
    );
    assert_eq!(p.chains.len(), 1, "{:#?}", p.chains);
    let c = &p.chains[0];
    assert_eq!(c.target, Target::ClusterAdmin);
    let steps: Vec<String> = c
        .steps
        .iter()
        .map(|s| format!("{}: {} → {}", s.actor, s.permission, s.gains))
        .collect();
    assert_eq!(
        steps,
        [
            "ServiceAccount \"build/ci\": create pods in namespace \"prod\" → act as ServiceAccount \"prod/operator\" (run a pod as it)",
            "ServiceAccount \"prod/operator\": ServiceAccount \"prod/operator\" holds `*` on `*` cluster-wide → cluster-admin",
        ]
    );
    assert_eq!(c.steps[0].via.as_ref().unwrap().binding.name, "ci-deployer");
    let obj = c.steps[0].object.as_ref().unwrap();
    assert_eq!(
        (obj.kind.as_str(), obj.name.as_str()),
        ("Deployment", "operator")
    );
    // prod enforces `restricted`: no privileged pod; the way to a node is cluster-admin's.
    assert_eq!(
        all.chains[2].steps[1].gains,
        "nodes (as cluster-admin: a privileged pod on any node)"
    );

    // exec into a privileged DaemonSet: the node, then every DaemonSet's token.
    let p =
        r.q.paths(&id("user:intern"), &[Target::Nodes, Target::Secrets], 10);
    let summary: Vec<(Target, usize)> =
        p.chains.iter().map(|c| (c.target, c.steps.len())).collect();
    assert_eq!(summary, [(Target::Nodes, 1), (Target::Secrets, 2)]);
    assert_eq!(
        p.chains[0].steps[0].gains,
        "root on its node (exec into DaemonSet \"tools/agent\": container \"a\" is privileged)"
    );
    assert_eq!(
        p.chains[1].steps[0].gains,
        "act as ServiceAccount \"tools/agent\" (exec into DaemonSet \"tools/agent\", which mounts its token)"
    );
    assert_eq!(p.chains[1].steps[1].permission, "list secrets cluster-wide");

    // bind cluster-admin + create clusterrolebindings.
    let p = r.q.paths(&id("user:mallory"), &[Target::ClusterAdmin], 10);
    assert_eq!(p.chains.len(), 1);
    assert_eq!(
        p.chains[0].steps[0].permission,
        "bind ClusterRole \"cluster-admin\" and create clusterrolebindings"
    );
    // A subject without grants goes nowhere.
    assert!(
        r.q.paths(&id("user:nobody"), &Target::ALL, 10)
            .chains
            .is_empty()
    );
}

// ---------------------------------------------------------------------------------------------
// NetworkPolicy: known answers

fn deployment(ns: &str, name: &str, labels: &str, ports: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  template:\n    metadata: {{labels: {{{labels}}}}}\n    spec: {{containers: [{{name: c, image: x, ports: [{ports}]}}]}}\n---\n"
    )
}

struct Net {
    inv: Inventory,
}

impl Net {
    fn new(yaml: &str) -> Net {
        Net {
            inv: inventory(yaml),
        }
    }
    /// `explain` at a port: allowed?
    fn allowed(&self, from: &str, to: &str, port: i64, proto: Protocol) -> bool {
        let net = Network::from_objects(&self.inv.objects);
        let f = parse_point(from, &self.inv, "default").unwrap();
        let t = parse_point(to, &self.inv, "default").unwrap();
        let e = netpol_query::explain(&self.inv, &net, f.clone(), t.clone(), Some((port, proto)));
        // The matrix agrees.
        assert_eq!(
            ports_between(&net, &f, &t).contains(port, proto),
            e.allowed,
            "{from} -> {to} {port}"
        );
        e.allowed
    }
    fn tcp(&self, from: &str, to: &str, port: i64) -> bool {
        self.allowed(from, to, port, Protocol::Tcp)
    }
    fn ports(&self, from: &str, to: &str) -> String {
        let net = Network::from_objects(&self.inv.objects);
        let f = parse_point(from, &self.inv, "default").unwrap();
        let t = parse_point(to, &self.inv, "default").unwrap();
        ports_between(&net, &f, &t).describe()
    }
}

#[test]
fn netpol_semantics() {
    let mut y = deployment(
        "default",
        "web",
        "app: web",
        "{containerPort: 8080, name: http}",
    );
    y += &deployment("default", "client", "app: client", "");
    y += &deployment("other", "peer", "app: client", "");
    // No policy: everything is open.
    let n = Net::new(&y);
    assert!(n.tcp("default/client", "default/web", 8080));
    assert!(n.tcp("internet", "default/web", 1));
    assert_eq!(n.ports("default/web", "internet"), "all ports");

    // Named port, AND within one peer, OR across peers, ipBlock with except.
    let policy = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: default}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {team: ops}}
      podSelector: {matchLabels: {app: client}}
    - podSelector: {matchLabels: {app: client}}
    ports: [{port: http}]
  - from: [{ipBlock: {cidr: 203.0.113.0/24, except: [203.0.113.10/32]}}]
    ports: [{port: 443}]
---
apiVersion: v1
kind: Namespace
metadata: {name: ops, labels: {team: ops}}
---
"#;
    let y2 = y.clone() + policy + &deployment("ops", "monitor", "app: client", "");
    let n = Net::new(&y2);
    assert!(
        n.tcp("default/client", "default/web", 8080),
        "named port http"
    );
    assert!(!n.tcp("default/client", "default/web", 9090));
    assert!(!n.allowed("default/client", "default/web", 8080, Protocol::Udp));
    assert!(
        n.tcp("ops/monitor", "default/web", 8080),
        "AND: ns team=ops and app=client"
    );
    assert!(
        !n.tcp("other/peer", "default/web", 8080),
        "other ns not team=ops"
    );
    assert!(n.tcp("203.0.113.7", "default/web", 443));
    assert!(
        !n.tcp("internet", "default/web", 443),
        "except 203.0.113.10/32"
    );
    assert!(!n.tcp("203.0.113.7", "default/web", 8080));
    assert_eq!(n.ports("default/client", "default/web"), "TCP 8080");
    // Egress is not isolated by an ingress-only policy.
    assert!(n.tcp("default/web", "internet", 80));

    // Both sides are needed: the destination admits, the source's egress blocks.
    let deny_egress = r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: client-egress, namespace: default}
spec:
  podSelector: {matchLabels: {app: client}}
  egress:
  - to: [{podSelector: {matchLabels: {app: db}}}]
"#;
    let n = Net::new(&(y2.clone() + deny_egress));
    assert!(!n.tcp("default/client", "default/web", 8080));
    // policyTypes defaulting: an `egress` section without policyTypes isolates ingress too.
    assert!(!n.tcp("default/web", "default/client", 80));
    let explained = {
        let net = Network::from_objects(&n.inv.objects);
        let f = parse_point("default/client", &n.inv, "default").unwrap();
        let t = parse_point("default/web", &n.inv, "default").unwrap();
        netpol_query::explain(&n.inv, &net, f, t, Some((8080, Protocol::Tcp)))
    };
    assert_eq!(explained.egress.verdict, "blocked");
    assert_eq!(
        explained.egress.isolated_by[0].policy,
        "NetworkPolicy/default/client-egress"
    );
    assert_eq!(explained.egress.isolated_by[0].location, "t.yaml:53");
    assert_eq!(explained.ingress.verdict, "admitted");
    assert_eq!(explained.ingress.admitted_by[0].rule, "/spec/ingress/0");
    assert_eq!(explained.ingress.admitted_by[0].location, "t.yaml:32");

    // Explicit policyTypes [Egress]: ingress untouched.
    let egress_only = deny_egress.replace("spec:\n", "spec:\n  policyTypes: [Egress]\n");
    let n = Net::new(&(y2 + &egress_only));
    assert!(n.tcp("default/web", "default/client", 80));
}

/// The recipes of `netpol/ahmetb-recipes` and `netpol/kubernetes-website`, answered as their
/// EXPECTED.md says.
#[test]
fn recipes_answer_as_expected() {
    let Some(dir) = common::corpus("netpol") else {
        return;
    };
    let recipe = |name: &str| -> String {
        let p = dir.join("ahmetb-recipes/extracted-yaml").join(name);
        std::fs::read_to_string(p).unwrap() + "\n---\n"
    };
    let website = |name: &str| -> String {
        let p = dir.join("kubernetes-website/service/networking").join(name);
        std::fs::read_to_string(p).unwrap() + "\n---\n"
    };
    let namespaces = r#"
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {purpose: production}}
---
apiVersion: v1
kind: Namespace
metadata: {name: dev, labels: {purpose: testing}}
---
apiVersion: v1
kind: Namespace
metadata: {name: other, labels: {team: operations}}
---
"#;
    let mut pods = String::from(namespaces);
    for (ns, name, labels, ports) in [
        ("default", "web", "app: web", "{containerPort: 80}"),
        (
            "default",
            "api",
            "app: bookstore, role: api",
            "{containerPort: 8080}",
        ),
        ("default", "frontend", "app: bookstore, role: frontend", ""),
        ("default", "plain", "run: test", ""),
        ("default", "mon", "type: monitoring, role: monitoring", ""),
        (
            "default",
            "apiserver",
            "app: apiserver",
            "{containerPort: 5000}, {containerPort: 8000}",
        ),
        (
            "default",
            "db",
            "app: bookstore, role: db",
            "{containerPort: 6379}",
        ),
        ("default", "inventory", "app: inventory, role: web", ""),
        ("default", "search", "app: bookstore, role: search", ""),
        ("default", "foo", "app: foo", ""),
        ("foo", "other-bookstore", "app: bookstore", ""),
        ("prod", "p", "run: p", ""),
        ("dev", "d", "run: d", ""),
        ("other", "monitoring", "type: monitoring", ""),
        ("other", "plain", "run: x", ""),
        (
            "kube-system",
            "coredns",
            "k8s-app: kube-dns",
            "{containerPort: 53, protocol: UDP}, {containerPort: 53}",
        ),
    ] {
        pods += &deployment(ns, name, labels, ports);
    }
    let with = |docs: &[String]| Net::new(&(pods.clone() + &docs.concat()));

    // 01: all ingress to app=web denied; egress unaffected.
    let n = with(&[recipe("01-web-deny-all.yaml")]);
    assert!(!n.tcp("default/plain", "default/web", 80));
    assert!(!n.tcp("other/plain", "default/web", 80));
    assert!(n.tcp("default/web", "default/api", 8080));
    // 02: same-namespace app=bookstore only.
    let n = with(&[recipe("02-api-allow.yaml")]);
    assert!(n.tcp("default/frontend", "default/api", 8080));
    assert!(!n.tcp("default/plain", "default/api", 8080));
    assert!(!n.tcp("foo/other-bookstore", "default/api", 8080));
    assert!(!n.tcp("internet", "default/api", 8080));
    // 02a with 01: allow wins.
    let n = with(&[
        recipe("01-web-deny-all.yaml"),
        recipe("02a-web-allow-all.yaml"),
    ]);
    assert!(n.tcp("other/plain", "default/web", 80));
    assert!(n.tcp("internet", "default/web", 80));
    // 03: ingress-only default deny in default.
    let n = with(&[recipe("03-default-deny-all.yaml")]);
    assert!(!n.tcp("default/plain", "default/api", 8080));
    assert!(n.tcp("default/api", "other/plain", 80));
    assert!(n.tcp("default/api", "internet", 443));
    // 04: `matchLabels:` null selects everything; same namespace only.
    let n = with(&[recipe("04-deny-from-other-namespaces.yaml")]);
    assert!(n.tcp("default/plain", "default/api", 8080));
    assert!(!n.tcp("foo/other-bookstore", "default/api", 8080));
    assert!(!n.tcp("internet", "default/api", 8080));
    // 05: every pod of every namespace, not outside.
    let n = with(&[recipe("05-web-allow-all-namespaces.yaml")]);
    assert!(n.tcp("dev/d", "default/web", 80));
    assert!(n.tcp("other-namespaces", "default/web", 80));
    assert!(!n.tcp("internet", "default/web", 80));
    // 06: namespaces labelled purpose=production, not default itself.
    let n = with(&[recipe("06-web-allow-prod.yaml")]);
    assert!(n.tcp("prod/p", "default/web", 80));
    assert!(!n.tcp("dev/d", "default/web", 80));
    assert!(!n.tcp("default/plain", "default/web", 80));
    // 07: AND of namespaceSelector and podSelector.
    let n = with(&[recipe("07-web-allow-all-ns-monitoring.yaml")]);
    assert!(n.tcp("other/monitoring", "default/web", 80));
    assert!(!n.tcp("default/mon", "default/web", 80));
    assert!(!n.tcp("other/plain", "default/web", 80));
    // 08: everything, external included.
    let n = with(&[recipe("08-web-allow-external.yaml")]);
    assert!(n.tcp("internet", "default/web", 80));
    // 09: TCP 5000 from role=monitoring only.
    let n = with(&[recipe("09-api-allow-5000.yaml")]);
    assert!(n.tcp("default/mon", "default/apiserver", 5000));
    assert!(!n.tcp("default/mon", "default/apiserver", 8000));
    assert!(!n.tcp("default/plain", "default/apiserver", 5000));
    assert_eq!(n.ports("default/mon", "default/apiserver"), "TCP 5000");
    // 10: three podSelectors OR'ed.
    let n = with(&[recipe("10-redis-allow-services.yaml")]);
    assert!(n.tcp("default/inventory", "default/db", 6379));
    assert!(n.tcp("default/api", "default/db", 6379));
    assert!(n.tcp("default/search", "default/db", 6379));
    assert!(!n.tcp("default/frontend", "default/db", 6379));
    assert!(!n.tcp("default/plain", "default/db", 6379));
    // 11a: all egress of app=foo, DNS included; ingress unaffected.
    let n = with(&[recipe("11a-foo-deny-egress.yaml")]);
    assert!(!n.allowed("default/foo", "kube-dns", 53, Protocol::Udp));
    assert!(!n.tcp("default/foo", "default/web", 80));
    assert!(n.tcp("default/plain", "default/foo", 80));
    // 11b and 14: DNS to kube-dns in kube-system only; the YAML, not the README, is the truth.
    for file in [
        "11b-foo-deny-egress.yaml",
        "14-foo-deny-external-egress.yaml",
    ] {
        let n = with(&[recipe(file)]);
        assert!(
            n.allowed("default/foo", "kube-dns", 53, Protocol::Udp),
            "{file}"
        );
        assert!(n.tcp("default/foo", "kube-dns", 53), "{file}");
        assert!(!n.tcp("default/foo", "default/web", 80), "{file}");
        assert!(!n.tcp("default/foo", "internet", 443), "{file}");
    }
    // 12: every egress of default denied; ingress unaffected.
    let n = with(&[recipe("12-default-deny-all-egress.yaml")]);
    assert!(!n.allowed("default/web", "kube-dns", 53, Protocol::Udp));
    assert!(n.tcp("other/plain", "default/web", 80));

    // kubernetes.io examples.
    let n = with(&[website("network-policy-default-deny-ingress.yaml")]);
    assert!(!n.tcp("other/plain", "default/web", 80));
    assert!(n.tcp("default/web", "internet", 80));
    let n = with(&[
        website("network-policy-default-deny-ingress.yaml"),
        website("network-policy-allow-all-ingress.yaml"),
    ]);
    assert!(n.tcp("internet", "default/web", 80));
    let n = with(&[website("network-policy-default-deny-egress.yaml")]);
    assert!(!n.tcp("default/web", "internet", 80));
    assert!(n.tcp("internet", "default/web", 80));
    let n = with(&[
        website("network-policy-default-deny-egress.yaml"),
        website("network-policy-allow-all-egress.yaml"),
    ]);
    assert!(n.tcp("default/web", "internet", 80));
    let n = with(&[website("network-policy-default-deny-all.yaml")]);
    assert!(!n.tcp("default/web", "internet", 80));
    assert!(!n.tcp("internet", "default/web", 80));
    // test-network-policy: role=db, ingress TCP 6379 from ipBlock (except), project=myproject,
    // role=frontend; egress 10.0.0.0/24 TCP 5978.
    let mut extra = deployment("default", "fe", "role: frontend", "");
    extra += &deployment("default", "rdb", "role: db", "{containerPort: 6379}");
    extra += &deployment("myproject", "m", "run: m", "");
    extra += "apiVersion: v1\nkind: Namespace\nmetadata: {name: myproject, labels: {project: myproject}}\n---\n";
    let n = with(&[website("networkpolicy.yaml"), extra.clone()]);
    assert!(n.tcp("default/fe", "default/rdb", 6379));
    assert!(!n.tcp("default/fe", "default/rdb", 80));
    assert!(n.tcp("myproject/m", "default/rdb", 6379));
    assert!(!n.tcp("default/plain", "default/rdb", 6379));
    assert!(n.tcp("172.17.0.5", "default/rdb", 6379));
    assert!(!n.tcp("172.17.1.5", "default/rdb", 6379));
    assert!(n.tcp("default/rdb", "10.0.0.7", 5978));
    assert!(!n.tcp("default/rdb", "10.0.0.7", 80));
    assert!(!n.tcp("default/rdb", "default/web", 80));
    let n = with(&[
        website("networkpolicy-multiport-egress.yaml"),
        extra.clone(),
    ]);
    assert!(n.tcp("default/rdb", "10.0.0.7", 32000));
    assert!(n.tcp("default/rdb", "10.0.0.7", 32768));
    assert!(!n.tcp("default/rdb", "10.0.0.7", 32769));
    assert!(
        n.tcp("default/plain", "default/rdb", 6379),
        "ingress unaffected"
    );
    let mut nginx = deployment("default", "nginx", "app: nginx", "{containerPort: 80}");
    nginx += &deployment("default", "ok", "access: \"true\"", "");
    let n = with(&[website("nginx-policy.yaml"), nginx]);
    assert!(n.tcp("default/ok", "default/nginx", 80));
    assert!(!n.tcp("default/plain", "default/nginx", 80));
}

#[test]
fn reach_matrix_endpoints() {
    let mut y = deployment("default", "web", "app: web", "{containerPort: 80}");
    y += &deployment("shop", "api", "app: api", "{containerPort: 8080}");
    y += r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
"#;
    let inv = inventory(&y);
    let net = Network::from_objects(&inv.objects);
    let ids: Vec<String> = points(&inv, None).into_iter().map(|p| p.id).collect();
    assert_eq!(
        ids,
        [
            "default/web",
            "shop/api",
            "kube-dns",
            "other-namespaces",
            "internet"
        ]
    );
    let m = reach_matrix(&net, points(&inv, None));
    let pairs: Vec<String> = m
        .connections
        .iter()
        .map(|c| format!("{}->{}", c.from, c.to))
        .collect();
    assert!(!pairs.iter().any(|p| p.contains("shop/api")), "{pairs:?}");
    assert!(pairs.contains(&"default/web->internet".to_owned()));
    assert!(pairs.contains(&"internet->default/web".to_owned()));
    assert!(!pairs.contains(&"internet->internet".to_owned()));
    assert_eq!(
        points(&inv, Some("shop")).len(),
        4,
        "shop/api and the three outside endpoints"
    );
}

// ---------------------------------------------------------------------------------------------
// Properties

fn cases() -> u64 {
    std::env::var("KUBEHARDEN_PROPERTY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12)
}

fn pick<'a>(rng: &mut Rng, items: &[&'a str]) -> &'a str {
    items[rng.usize(..items.len())]
}

fn list(rng: &mut Rng, items: &[&str]) -> String {
    let n = rng.usize(1..=2);
    let v: Vec<String> = (0..n)
        .map(|_| format!("\"{}\"", pick(rng, items)))
        .collect();
    format!("[{}]", v.join(", "))
}

const NAMESPACES: &[&str] = &["a", "b", "c"];
const VERBS: &[&str] = &["get", "list", "create", "*"];
const RESOURCES: &[&str] = &["pods", "secrets", "pods/exec", "*/exec", "nodes", "*"];
const GROUPS: &[&str] = &["", "apps", "*"];

fn random_rbac(rng: &mut Rng) -> String {
    let mut y = String::new();
    for i in 0..rng.usize(2..6) {
        let cluster = rng.bool();
        let mut rules = String::new();
        for _ in 0..rng.usize(1..3) {
            if rng.u8(..10) == 0 {
                rules += "- {nonResourceURLs: [\"/metrics\", \"/logs/*\"], verbs: [get]}\n";
                continue;
            }
            let names = if rng.u8(..4) == 0 {
                ", resourceNames: [x]"
            } else {
                ""
            };
            rules += &format!(
                "- {{apiGroups: {}, resources: {}, verbs: {}{names}}}\n",
                list(rng, GROUPS),
                list(rng, RESOURCES),
                list(rng, VERBS)
            );
        }
        let labels = if rng.u8(..3) == 0 {
            "  labels: {agg: \"yes\"}\n"
        } else {
            ""
        };
        if cluster {
            y += &format!(
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: r{i}\n{labels}rules:\n{rules}---\n"
            );
        } else {
            let ns = pick(rng, NAMESPACES);
            y += &format!(
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: r{i}, namespace: {ns}}}\nrules:\n{rules}---\n"
            );
        }
    }
    y += "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: aggregated}\naggregationRule: {clusterRoleSelectors: [{matchLabels: {agg: \"yes\"}}]}\n---\n";
    let subjects = [
        "{kind: User, name: alice}",
        "{kind: User, name: \"system:serviceaccount:a:sa\"}",
        "{kind: Group, name: devs}",
        "{kind: Group, name: \"system:authenticated\"}",
        "{kind: Group, name: \"system:serviceaccounts:b\"}",
        "{kind: Group, name: \"system:serviceaccounts\"}",
        "{kind: Group, name: \"system:unauthenticated\"}",
        "{kind: ServiceAccount, name: sa, namespace: a}",
        "{kind: ServiceAccount, name: sa}",
        "{kind: ServiceAccount, name: sb, namespace: b}",
    ];
    for i in 0..rng.usize(2..7) {
        let n = rng.usize(1..3);
        let s: Vec<&str> = (0..n)
            .map(|_| subjects[rng.usize(..subjects.len())])
            .collect();
        let role = format!("r{}", rng.usize(0..6));
        let (role_kind, role) = match rng.u8(..5) {
            0 => ("ClusterRole", "aggregated".to_owned()),
            1 => ("ClusterRole", "edit".to_owned()),
            2 => ("Role", role),
            _ => ("ClusterRole", role),
        };
        if rng.bool() {
            y += &format!(
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: b{i}}}\nsubjects: [{}]\nroleRef: {{kind: ClusterRole, name: {role}}}\n---\n",
                s.join(", ")
            );
        } else {
            let ns = pick(rng, NAMESPACES);
            y += &format!(
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: b{i}, namespace: {ns}}}\nsubjects: [{}]\nroleRef: {{kind: {role_kind}, name: {role}}}\n---\n",
                s.join(", ")
            );
        }
    }
    y
}

fn holder_is(h: &Holder, who: &Identity) -> bool {
    let p = &who.principal;
    match h.kind.as_str() {
        "User" => p.user.as_deref() == Some(h.name.as_str()),
        "Group" => p.groups.contains(&h.name),
        "ServiceAccount" => {
            p.user.as_deref()
                == Some(&format!(
                    "system:serviceaccount:{}:{}",
                    h.namespace.as_deref().unwrap(),
                    h.name
                ))
        }
        _ => false,
    }
}

#[test]
fn property_can_agrees_with_who_can() {
    let identities = [
        "user:alice",
        "user:bob",
        "group:devs",
        "system:serviceaccount:a:sa",
        "system:serviceaccount:b:sb",
        "system:serviceaccount:c:sa",
        "system:anonymous",
    ];
    let asks = [
        ask("get", "pods"),
        ask("create", "pods/exec"),
        ask("list", "secrets"),
        ask("get", "nodes"),
        ask("get", "deployments.apps"),
        ask("get", "/metrics"),
        ask("get", "/logs/x"),
        {
            let mut a = ask("get", "secrets");
            a.name = Some("x".into());
            a
        },
    ];
    let places = [
        Where::Anywhere,
        Where::AllNamespaces,
        Where::Namespace("a"),
        Where::Namespace("b"),
        Where::Namespace("z"),
    ];
    for seed in 0..cases() * 4 {
        let mut rng = Rng::with_seed(seed);
        let text = random_rbac(&mut rng);
        let inv = inventory(&text);
        let rbac = Rbac::new(&inv.objects);
        let q = Query::new(&rbac, &inv.workloads);
        for who in identities.iter().map(|s| id(s)) {
            // The subject index finds the same grants as the model.
            let mine: Vec<String> = q
                .grants(&who.principal)
                .iter()
                .map(|g| g.binding.describe())
                .collect();
            let model: Vec<String> = rbac
                .grants(&who.principal)
                .iter()
                .map(|g| g.binding.describe())
                .collect();
            assert_eq!(mine, model, "seed {seed}");
            for a in &asks {
                for place in places {
                    let can = q.can(&who, a, place).allowed;
                    let listed = q
                        .who_can(a, place)
                        .subjects
                        .iter()
                        .any(|h| holder_is(h, &who));
                    assert_eq!(
                        can,
                        listed,
                        "seed {seed}: {} {} {place:?}\n{text}",
                        who.label,
                        a.describe()
                    );
                }
            }
        }
    }
}

fn random_network(rng: &mut Rng) -> String {
    let labels = ["app: a", "app: b", "app: a, tier: x", "tier: x", "app: c"];
    let mut y = String::new();
    for (i, ns) in ["n1", "n2"].iter().enumerate() {
        let l = if rng.bool() {
            "{env: prod}"
        } else {
            "{env: dev}"
        };
        y += &format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}, labels: {l}}}\n---\n"
        );
        for j in 0..rng.usize(1..4) {
            let ports = match rng.u8(..3) {
                0 => "",
                1 => "{containerPort: 80, name: http}",
                _ => {
                    "{containerPort: 8080, name: http}, {containerPort: 53, protocol: UDP, name: dns}"
                }
            };
            y += &deployment(ns, &format!("w{i}{j}"), pick(rng, &labels), ports);
        }
    }
    let sel = |rng: &mut Rng| -> String {
        match rng.u8(..4) {
            0 => "{}".into(),
            _ => format!(
                "{{matchLabels: {{{}}}}}",
                pick(rng, &["app: a", "app: b", "tier: x"])
            ),
        }
    };
    let peer = |rng: &mut Rng| -> String {
        match rng.u8(..5) {
            0 => format!("{{podSelector: {}}}", sel(rng)),
            1 => format!(
                "{{namespaceSelector: {{matchLabels: {{env: {}}}}}}}",
                pick(rng, &["prod", "dev"])
            ),
            2 => format!(
                "{{namespaceSelector: {}, podSelector: {}}}",
                if rng.bool() {
                    "{}"
                } else {
                    "{matchLabels: {env: prod}}"
                },
                sel(rng)
            ),
            3 => "{ipBlock: {cidr: 203.0.113.0/24, except: [203.0.113.0/28]}}".into(),
            _ => "{ipBlock: {cidr: 0.0.0.0/0}}".into(),
        }
    };
    let ports = |rng: &mut Rng| -> String {
        match rng.u8(..5) {
            0 => String::new(),
            1 => ", ports: [{port: 80}]".into(),
            2 => ", ports: [{port: http}]".into(),
            3 => ", ports: [{port: 53, protocol: UDP}, {port: 8000, endPort: 8100}]".into(),
            _ => ", ports: [{protocol: UDP}]".into(),
        }
    };
    for k in 0..rng.usize(0..5) {
        let ns = pick(rng, &["n1", "n2"]);
        let mut spec = format!("  podSelector: {}\n", sel(rng));
        match rng.u8(..4) {
            0 => spec += "  policyTypes: [Ingress, Egress]\n",
            1 => spec += "  policyTypes: [Egress]\n",
            _ => {}
        }
        for dir in ["ingress", "egress"] {
            if rng.bool() {
                let field = if dir == "ingress" { "from" } else { "to" };
                spec += &format!("  {dir}:\n");
                for _ in 0..rng.usize(0..3) {
                    if rng.u8(..5) == 0 {
                        spec += "  - {}\n";
                        continue;
                    }
                    let peers: Vec<String> = (0..rng.usize(1..3)).map(|_| peer(rng)).collect();
                    spec += &format!("  - {{{field}: [{}]{}}}\n", peers.join(", "), ports(rng));
                }
            }
        }
        y += &format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p{k}, namespace: {ns}}}\nspec:\n{spec}---\n"
        );
    }
    y
}

#[test]
fn property_reach_agrees_with_explain() {
    let probes: &[(i64, Protocol)] = &[
        (80, Protocol::Tcp),
        (8080, Protocol::Tcp),
        (53, Protocol::Udp),
        (53, Protocol::Tcp),
        (8050, Protocol::Tcp),
        (8101, Protocol::Tcp),
        (9999, Protocol::Udp),
        (80, Protocol::Sctp),
    ];
    for seed in 0..cases() * 2 {
        let mut rng = Rng::with_seed(seed);
        let text = random_network(&mut rng);
        let inv = inventory(&text);
        let net = Network::from_objects(&inv.objects);
        let mut all = points(&inv, None);
        all.push(Point::external(
            "203.0.113.1",
            "203.0.113.1".parse().unwrap(),
        ));
        let m = reach_matrix(&net, all.clone());
        for from in &all {
            for to in &all {
                if from.namespace.is_none() && to.namespace.is_none() {
                    continue;
                }
                let conn = m
                    .connections
                    .iter()
                    .find(|c| c.from == from.id && c.to == to.id);
                let e = netpol_query::explain(&inv, &net, from.clone(), to.clone(), None);
                assert_eq!(
                    e.allowed,
                    conn.is_some(),
                    "seed {seed}: {} -> {}\n{text}",
                    from.id,
                    to.id
                );
                for &(port, proto) in probes {
                    let e = netpol_query::explain(
                        &inv,
                        &net,
                        from.clone(),
                        to.clone(),
                        Some((port, proto)),
                    );
                    let in_matrix = conn.is_some_and(|c| {
                        c.ports.iter().any(|r| {
                            r.protocol == proto.as_str() && (r.from..=r.to).contains(&port)
                        })
                    });
                    assert_eq!(
                        e.allowed, in_matrix,
                        "seed {seed}: {} -> {} {port}/{proto}\n{text}",
                        from.id, to.id
                    );
                }
            }
        }
    }
}
