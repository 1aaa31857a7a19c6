//! The query commands' engine on large generated inputs (issue 18's budgets):
//!
//! ```sh
//! cargo bench -p kubeharden-engine --bench queries
//! ```
//!
//! - `who_can`: 10,000 Roles and 10,000 RoleBindings (one service account each, 1,000
//!   namespaces) plus 100 ClusterRoleBindings: `who-can get secrets` anywhere, after load
//!   (budget 20 ms);
//! - `can_list`: the effective permissions of one service account;
//! - `paths`: every escalation chain of one identity that may create pods in every namespace
//!   (so every one of the 10,000 service accounts is reachable) (budget 100 ms);
//! - `reach_matrix`: 1,000 workloads and 1,000 NetworkPolicies in 50 namespaces: the full
//!   allowed-connection matrix (1,003 x 1,003 pairs) (budget 1 s on 2 cores).

use divan::Bencher;
use kubeharden_engine::analysis::netpol::Network;
use kubeharden_engine::analysis::netpol_query::{points, reach_matrix};
use kubeharden_engine::analysis::query::Inventory;
use kubeharden_engine::analysis::rbac::Rbac;
use kubeharden_engine::analysis::rbac_query::{Ask, Identity, Query, Target, Where};
use kubeharden_engine::load::load_bytes;
use std::fmt::Write;
use std::sync::LazyLock;

fn main() {
    divan::main();
}

static RBAC_INPUT: LazyLock<Inventory> = LazyLock::new(|| {
    let mut y = String::new();
    let verbs = ["get", "list", "create", "update"];
    let resources = ["pods", "secrets", "configmaps", "deployments", "pods/exec"];
    for i in 0..10_000 {
        let ns = format!("ns{}", i % 1000);
        let _ = write!(
            y,
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: r{i}, namespace: {ns}}}\nrules:\n- {{apiGroups: [\"\", apps], resources: [{}], verbs: [{}]}}\n- {{apiGroups: [\"\"], resources: [services], verbs: [get]}}\n---\n",
            resources[i % resources.len()],
            verbs[(i / 5) % verbs.len()]
        );
        let _ = write!(
            y,
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: b{i}, namespace: {ns}}}\nsubjects: [{{kind: ServiceAccount, name: sa{i}, namespace: {ns}}}]\nroleRef: {{kind: Role, name: r{i}}}\n---\n"
        );
    }
    for i in 0..100 {
        let _ = write!(
            y,
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: c{i}}}\nsubjects: [{{kind: User, name: u{i}}}]\nroleRef: {{kind: ClusterRole, name: {}}}\n---\n",
            if i % 2 == 0 { "view" } else { "edit" }
        );
    }
    // The subject of `paths`: may create pods everywhere.
    y.push_str("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: deployer}\nrules: [{apiGroups: [\"\"], resources: [pods], verbs: [create]}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: deployer}\nsubjects: [{kind: User, name: ci}]\nroleRef: {kind: ClusterRole, name: deployer}\n");
    Inventory::from_objects(load_bytes("rbac.yaml", y.into_bytes()).objects)
});

static NET_INPUT: LazyLock<Inventory> = LazyLock::new(|| {
    let mut y = String::new();
    for n in 0..50 {
        let _ = write!(
            y,
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: ns{n}, labels: {{tier: t{}}}}}\n---\n",
            n % 5
        );
    }
    for i in 0..1000 {
        let _ = write!(
            y,
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: w{i}, namespace: ns{}}}\nspec:\n  template:\n    metadata: {{labels: {{app: a{}, role: r{}}}}}\n    spec: {{containers: [{{name: c, image: x, ports: [{{containerPort: 8080, name: http}}, {{containerPort: 9090}}]}}]}}\n---\n",
            i % 50,
            i % 20,
            i % 3
        );
    }
    for i in 0..1000 {
        let ns = i % 50;
        let _ = match i % 4 {
            0 => write!(
                y,
                "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p{i}, namespace: ns{ns}}}\nspec:\n  podSelector: {{matchLabels: {{app: a{}}}}}\n  ingress:\n  - from: [{{podSelector: {{matchLabels: {{role: r{}}}}}}}]\n    ports: [{{port: http}}]\n---\n",
                i % 20,
                i % 3
            ),
            1 => write!(
                y,
                "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p{i}, namespace: ns{ns}}}\nspec:\n  podSelector: {{matchLabels: {{role: r{}}}}}\n  policyTypes: [Egress]\n  egress:\n  - to: [{{namespaceSelector: {{matchLabels: {{tier: t{}}}}}}}]\n  - ports: [{{port: 53, protocol: UDP}}]\n---\n",
                i % 3,
                i % 5
            ),
            2 => write!(
                y,
                "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p{i}, namespace: ns{ns}}}\nspec:\n  podSelector: {{}}\n  ingress:\n  - from: [{{namespaceSelector: {{matchLabels: {{tier: t{}}}}}, podSelector: {{matchLabels: {{app: a{}}}}}}}, {{ipBlock: {{cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}}}]\n    ports: [{{port: 8000, endPort: 9000}}]\n---\n",
                i % 5,
                i % 20
            ),
            _ => write!(
                y,
                "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p{i}, namespace: ns{ns}}}\nspec:\n  podSelector: {{matchExpressions: [{{key: app, operator: In, values: [a{}, a{}]}}]}}\n  policyTypes: [Ingress, Egress]\n---\n",
                i % 20,
                (i + 7) % 20
            ),
        };
    }
    Inventory::from_objects(load_bytes("net.yaml", y.into_bytes()).objects)
});

#[divan::bench(sample_count = 20)]
fn who_can(bencher: Bencher) {
    let inv = &*RBAC_INPUT;
    let rbac = Rbac::new(&inv.objects);
    let q = Query::new(&rbac, &inv.workloads);
    let ask = Ask::parse("get", "secrets").unwrap();
    bencher.bench(|| q.who_can(&ask, Where::Anywhere).subjects.len());
}

#[divan::bench(sample_count = 20)]
fn can_list(bencher: Bencher) {
    let inv = &*RBAC_INPUT;
    let rbac = Rbac::new(&inv.objects);
    let q = Query::new(&rbac, &inv.workloads);
    let who = Identity::parse("system:serviceaccount:ns7:sa7", &[]).unwrap();
    bencher.bench(|| q.permissions(&who, None).scopes.len());
}

#[divan::bench(sample_count = 10)]
fn paths(bencher: Bencher) {
    let inv = &*RBAC_INPUT;
    let rbac = Rbac::new(&inv.objects);
    let q = Query::new(&rbac, &inv.workloads);
    let who = Identity::parse("user:ci", &[]).unwrap();
    bencher.bench(|| q.paths(&who, &Target::ALL, 10).reachable_identities.len());
}

#[divan::bench(sample_count = 5)]
fn reach(bencher: Bencher) {
    let inv = &*NET_INPUT;
    let net = Network::from_objects(&inv.objects);
    bencher.bench(|| reach_matrix(&net, points(inv, None)).connections.len());
}
