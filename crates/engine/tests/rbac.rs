//! RBAC rules against known intent.
//!
//! * kube-linter's RBAC check inputs (`rbac/kube-linter/tests/checks/*.yml` of the shared corpus):
//!   kube-linter's own end-to-end test expects exactly one report per file, on a named object
//!   (`dont-fire` objects never). Where one of our rules corresponds, it must fire on exactly that
//!   object.
//! * rbac-police's policy catalogue (`rbac/rbac-police/docs/policies.md`): every policy is mapped
//!   to the risk of `analysis::rbac::RISKS` that detects the same attack path, or marked as not
//!   modelled; the table must stay complete.
//!
//! The corpus is found through `KUBEHARDEN_CORPUS` (default `../../../shared/corpus` from this
//! crate). Without it these tests are skipped, unless `KUBEHARDEN_REQUIRE_CORPUS=1`.

mod common;

use kubeharden_engine::analysis::rbac::{RISKS, Risk};
use kubeharden_engine::finding::Finding;
use kubeharden_engine::load::Input;
use kubeharden_engine::scan::scan_all;

/// A kube-linter check, the object (document index) its e2e test expects it to report, and the
/// rule of ours that corresponds, with what its finding must say.
struct Case {
    file: &'static str,
    check: &'static str,
    expected: usize,
    rule: &'static str,
    /// The risk the finding must name (service-account-risky-permissions reports several).
    risk: Option<&'static str>,
}

const CASES: &[Case] = &[
    // "RoleBinding: binding to "role1" role that has [create] access to [pods]"
    Case {
        file: "access-to-create-pods.yml",
        check: "access-to-create-pods",
        expected: 2,
        rule: "service-account-risky-permissions",
        risk: Some("create-pods"),
    },
    // "RoleBinding: binding to "role1" role that has [get] access to [secrets]"
    Case {
        file: "access-to-secrets.yml",
        check: "access-to-secrets",
        expected: 2,
        rule: "service-account-risky-permissions",
        risk: Some("read-secrets"),
    },
    // "ClusterRoleBinding: cluster-admin role is bound to [ServiceAccount account1]"; the
    // `dont-fire` binding grants the built-in `admin` cluster-wide, which our rule reports too
    // (secrets, exec, pod creation), but not as full control.
    Case {
        file: "cluster-admin-role-binding.yml",
        check: "cluster-admin-role-binding",
        expected: 1,
        rule: "service-account-risky-permissions",
        risk: Some("full-control"),
    },
    // "Role: wildcard "*" in verb specification" (the second of two Roles named role1).
    Case {
        file: "wildcard-in-rules.yml",
        check: "wildcard-in-rules",
        expected: 1,
        rule: "rbac-wildcard-permissions",
        risk: None,
    },
];

fn matches(case: &Case, f: &Finding) -> bool {
    f.rule == case.rule
        && case
            .risk
            .is_none_or(|id| f.message.contains(Risk::by_id(id).unwrap().label))
}

#[test]
fn kube_linter_rbac_checks_agree() {
    let Some(dir) = common::corpus("rbac/kube-linter/tests/checks") else {
        return;
    };
    let mut agree = 0;
    let mut total = 0;
    let mut broader = Vec::new();
    let mut disagreements = Vec::new();
    for case in CASES {
        let path = dir.join(case.file);
        let loaded = kubeharden_engine::load::load_file(&path);
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        let starts: Vec<u32> = loaded.objects.iter().map(|o| o.root.pos.line).collect();
        let report = scan_all(&[Input::File(path.clone())]);
        assert!(!report.has_input_errors(), "{:?}", report.diagnostics);
        // The object a finding belongs to: the last one starting at or before its line.
        let object_of = |f: &Finding| starts.iter().rposition(|&s| s <= f.location.line).unwrap();
        for (i, object) in loaded.objects.iter().enumerate() {
            let expected = i == case.expected;
            assert!(
                !(expected && object.name == "dont-fire"),
                "{}: expectation contradicts the object name",
                case.file
            );
            let ours: Vec<&Finding> = report
                .findings
                .iter()
                .filter(|f| object_of(f) == i && f.rule == case.rule)
                .collect();
            let fired = ours.iter().any(|f| matches(case, f));
            total += 1;
            if fired == expected {
                agree += 1;
            } else {
                disagreements.push(format!(
                    "{} ({}): {} {} {}: kube-linter {}, kubeharden {}",
                    case.file,
                    case.check,
                    i,
                    object.kind,
                    object.name,
                    if expected { "fires" } else { "passes" },
                    if fired { "fires" } else { "passes" },
                ));
            }
            if !expected && !ours.is_empty() {
                broader.push(format!(
                    "{} {} {}: {}",
                    case.file, object.kind, object.name, ours[0].message
                ));
            }
        }
    }
    println!("kube-linter RBAC checks: {agree}/{total} objects agree");
    for b in &broader {
        println!("  reported beyond kube-linter's check: {b}");
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

/// rbac-police policy → the risk id of our catalogue that covers it (`None`: not modelled).
const RBAC_POLICE: &[(&str, Option<&str>)] = &[
    ("approve_csrs", Some("approve-csr")),
    ("assign_sa", Some("create-pods")),
    ("bind_roles", Some("bind")),
    ("cluster_admin", Some("full-control")),
    ("control_webhooks", Some("webhook-config")),
    ("eks_modify_aws_auth", None),
    ("escalate_roles", Some("escalate")),
    ("impersonate", Some("impersonate")),
    ("issue_token_secrets", Some("issue-token-secrets")),
    ("list_secrets", Some("read-secrets")),
    ("modify_node_status", None),
    ("modify_pod_status", None),
    ("modify_pods", Some("modify-pods")),
    ("modify_service_status_cve_2020_8554", None),
    ("nodes_proxy", Some("nodes-proxy")),
    ("obtain_token_weak_ns", Some("token-request")),
    ("pods_ephemeral_ctrs", Some("modify-pods")),
    ("pods_exec", Some("pod-exec")),
    ("providerIAM", None),
    ("rce_weak_ns", Some("pod-exec")),
    ("retrieve_token_secrets", Some("read-secrets")),
    ("steal_pods", None),
    ("token_request", Some("token-request")),
];

#[test]
fn rbac_police_catalogue_is_mapped() {
    let Some(path) = common::corpus("rbac/rbac-police/docs/policies.md") else {
        return;
    };
    let text = std::fs::read_to_string(path).unwrap();
    let policies: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("### ["))
        .filter_map(|l| l.split(']').next())
        .collect();
    assert!(policies.len() >= 20, "{policies:?}");
    let mut covered = 0;
    for p in &policies {
        let entry = RBAC_POLICE.iter().find(|(name, _)| name == p);
        let Some((_, risk)) = entry else {
            panic!("rbac-police policy `{p}` is not in the mapping table");
        };
        if let Some(id) = risk {
            assert!(RISKS.iter().any(|r| r.id == *id), "unknown risk {id}");
            covered += 1;
        }
    }
    println!(
        "rbac-police policies covered by the risk catalogue: {covered}/{}",
        policies.len()
    );
}

fn scan_text(text: &str) -> Vec<Finding> {
    let report = scan_all(&[Input::Bytes {
        name: "t.yaml".into(),
        bytes: text.as_bytes().into(),
    }]);
    assert!(!report.has_input_errors(), "{:?}", report.diagnostics);
    report.findings
}

const GOAT: &str = r#"
apiVersion: v1
kind: ServiceAccount
metadata: {name: superadmin, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: superadmin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {kind: ServiceAccount, name: superadmin, namespace: kube-system}
---
apiVersion: v1
kind: Pod
metadata: {name: hunger, namespace: kube-system}
spec:
  serviceAccountName: superadmin
  containers: [{name: c, image: busybox}]
"#;

#[test]
fn service_account_finding_names_permission_binding_scope_and_workloads() {
    let f: Vec<Finding> = scan_text(GOAT)
        .into_iter()
        .filter(|f| f.rule == "service-account-risky-permissions")
        .collect();
    assert_eq!(f.len(), 1);
    assert_eq!(&*f[0].location.pointer, "/subjects/0");
    assert_eq!(f[0].subject.kind, "ClusterRoleBinding");
    assert_eq!(
        &*f[0].message,
        "ServiceAccount \"kube-system/superadmin\" can do anything to any resource (full control: \
         cluster-admin equivalent) (`* on * (apiGroups *)`) cluster-wide through \
         ClusterRoleBinding \"superadmin\" to ClusterRole \"cluster-admin\" (built-in); workloads \
         running as it: Pod \"kube-system/hunger\""
    );
}

#[test]
fn suppression_on_the_binding() {
    let text = GOAT.replace(
        "metadata: {name: superadmin}",
        "metadata:\n  name: superadmin\n  annotations: {kubeharden.io/ignore: service-account-risky-permissions}",
    );
    assert!(
        scan_text(&text)
            .iter()
            .all(|f| f.rule != "service-account-risky-permissions")
    );
}

#[test]
fn group_of_all_service_accounts_and_role_binding_to_cluster_role() {
    let text = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: all-sa-edit, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects:
- {kind: Group, name: "system:serviceaccounts:shop"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      serviceAccountName: web
      containers: [{name: c, image: busybox}]
"#;
    let f: Vec<Finding> = scan_text(text)
        .into_iter()
        .filter(|f| f.rule == "service-account-risky-permissions")
        .collect();
    assert_eq!(f.len(), 1);
    let m = &f[0].message;
    assert!(
        m.starts_with(
            "every ServiceAccount of namespace \"shop\" (Group \"system:serviceaccounts:shop\") can "
        ),
        "{m}"
    );
    for part in [
        "impersonate other identities",
        "read secrets",
        "create pods",
        "in namespace \"shop\" through RoleBinding \"shop/all-sa-edit\" to ClusterRole \"edit\" (built-in)",
        "workloads running as it: Deployment \"shop/web\"",
    ] {
        assert!(m.contains(part), "{part} not in {m}");
    }
    // A RoleBinding cannot grant cluster-scoped resources.
    assert!(!m.contains("PersistentVolumes"), "{m}");
}

#[test]
fn bindings_only_inputs_do_not_report_missing_roles() {
    let text = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: app, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: defined-elsewhere}
subjects: [{kind: ServiceAccount, name: app}]
"#;
    assert!(
        scan_text(text)
            .iter()
            .all(|f| f.rule != "role-binding-to-missing-role")
    );
    let with_role = format!(
        "{text}---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: other, namespace: shop}}\nrules: []\n"
    );
    let f: Vec<Finding> = scan_text(&with_role)
        .into_iter()
        .filter(|f| f.rule == "role-binding-to-missing-role")
        .collect();
    assert_eq!(f.len(), 1);
    assert_eq!(&*f[0].location.pointer, "/roleRef/name");
}

#[test]
fn break_glass_by_name_and_single_group() {
    let text = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: breakglass-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: Group, name: sre}]
"#;
    let f = scan_text(text);
    assert!(f.iter().all(|f| f.rule != "human-bound-to-cluster-admin"));
    let count: Vec<&Finding> = f
        .iter()
        .filter(|f| f.rule == "break-glass-account-count")
        .collect();
    assert_eq!(count.len(), 1);
    assert!(
        count[0]
            .message
            .starts_with("the only cluster-admin identity is Group \"sre\"")
    );
}
