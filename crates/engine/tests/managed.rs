//! Managed clusters read offline: Terraform, eksctl, the cloud CLIs' JSON (issue 25). Exact
//! rule, line and message; unresolvable values left not assessed; the scorecard says which
//! sections the managed cluster's configuration settled.

use kubeharden_engine::load::Input;
use kubeharden_engine::report::{Report, Status};
use kubeharden_engine::rules::Section;
use kubeharden_engine::scan::scan_all;
use std::path::PathBuf;

fn scan(name: &str) -> Report {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/managed")
        .join(name);
    // A directory is walked as the CLI walks it.
    let (files, diagnostics) = kubeharden_model::paths::expand_paths(&[path]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let inputs: Vec<Input> = files.into_iter().map(Input::File).collect();
    let report = scan_all(&inputs);
    assert!(!report.has_input_errors(), "{:?}", report.diagnostics);
    report
}

fn findings(r: &Report) -> Vec<(String, u32, String)> {
    r.findings
        .iter()
        .map(|f| (f.rule.to_string(), f.location.line, f.message.to_string()))
        .collect()
}

fn status(r: &Report, n: u8) -> Status {
    r.scorecard
        .iter()
        .find(|s| s.section == Section::Rule(n))
        .unwrap()
        .status
}

#[test]
fn terraform_eks_literals_references_and_unresolved_values() {
    let r = scan("eks.tf");
    assert_eq!(
        findings(&r),
        [
            (
                "managed-cluster-endpoint-public".to_owned(),
                14,
                "EKS cluster `shop` (Terraform): the API server endpoint is public and open to 0.0.0.0/0 (`public_access_cidrs`)".to_owned()
            ),
            (
                "eks-human-cluster-admin".to_owned(),
                29,
                "IAM user `arn:aws:iam::111122223333:user/alice` holds cluster-admin through an EKS access entry with `AmazonEKSClusterAdminPolicy`".to_owned()
            ),
        ]
    );
    // `var.public_endpoint` resolves to its default; the KMS key is another resource's
    // attribute: envelope encryption is not assessed rather than guessed (section 14 is partial:
    // only the credential rules ran).
    assert_eq!(status(&r, 1), Status::Fail);
    assert_eq!(status(&r, 3), Status::Fail);
    let s14 = r
        .scorecard
        .iter()
        .find(|s| s.section == Section::Rule(14))
        .unwrap();
    assert_eq!(s14.status, Status::Partial);
    assert!(
        !s14.assessed
            .contains(&"managed-cluster-secrets-not-envelope-encrypted")
    );
    assert!(s14.missing.iter().any(|m| {
        m.starts_with("the managed cluster's envelope encryption settings could not be read")
    }));
    assert!(s14.settled_by_cloud.is_empty());
    let s4 = r
        .scorecard
        .iter()
        .find(|s| s.section == Section::Rule(4))
        .unwrap();
    assert!(
        s4.assessed
            .contains(&"managed-cluster-audit-logs-not-exported")
    );
    assert!(
        s4.settled_by_cloud.contains(
            &"apiserver-audit-not-shipped: the provider runs the control plane; settled by the managed cluster's configuration (cloud-audit-logs)".to_owned()
        ),
        "{:?}",
        s4.settled_by_cloud
    );
}

#[test]
fn terraform_aks() {
    let r = scan("aks.tf");
    assert_eq!(
        findings(&r),
        [
            (
                "managed-cluster-audit-logs-not-exported".to_owned(),
                3,
                "AKS cluster `shop` (Terraform): no `azurerm_monitor_diagnostic_setting` of the input exports its `kube-audit` or `kube-audit-admin` log category: the API server's audit log is not kept anywhere you can read".to_owned()
            ),
            (
                "managed-cluster-static-credentials".to_owned(),
                13,
                "AKS cluster `shop` (Terraform): local accounts are enabled: `az aks get-credentials --admin` hands out a static cluster-admin credential that bypasses Microsoft Entra ID".to_owned()
            ),
        ]
    );
    assert_eq!(status(&r, 1), Status::Pass);
    assert_eq!(status(&r, 5), Status::Fail);
    // No diagnostic setting of the input exports kube-audit (see aks-app/ for one that is
    // linked to its cluster).
    assert_eq!(status(&r, 4), Status::Fail);
    assert_ne!(status(&r, 14), Status::NotAssessed);
}

#[test]
fn aws_cli_describe_cluster() {
    let r = scan("describe-cluster.json");
    assert_eq!(
        findings(&r),
        [(
            "managed-cluster-audit-logs-not-exported".to_owned(),
            12,
            "EKS cluster `shop-prod` (cloud CLI output): the API server's `audit` log type is not exported (`logging.clusterLogging`): who did what in the cluster is not recorded anywhere you keep".to_owned()
        )]
    );
    assert_eq!(status(&r, 1), Status::Pass);
    assert_eq!(status(&r, 4), Status::Fail);
}

#[test]
fn managed_rules_do_not_apply_without_a_managed_cluster() {
    let r = scan_all(&[Input::Bytes {
        name: "pod.yaml".into(),
        bytes: b"apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: a, image: a}]}\n"
            .to_vec()
            .into(),
    }]);
    for s in &r.scorecard {
        assert!(s.settled_by_cloud.is_empty());
        assert!(
            !s.missing
                .iter()
                .any(|m| m.contains("managed cluster") || m.contains("aws-auth")),
            "{:?}",
            s.missing
        );
    }
}

#[test]
fn terraform_from_stdin_is_recognised_by_content() {
    let text = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/managed/aks.tf"),
    )
    .unwrap();
    let r = scan_all(&[Input::Bytes {
        name: "<stdin>".into(),
        bytes: text.into(),
    }]);
    assert_eq!(
        r.findings
            .iter()
            .map(|f| (f.rule.to_string(), f.location.line))
            .collect::<Vec<_>>(),
        [
            ("managed-cluster-audit-logs-not-exported".to_owned(), 3),
            ("managed-cluster-static-credentials".to_owned(), 13)
        ]
    );
}

/// The findings of the managed-cluster, mesh and Falco rules: rule, kind/name, file, line, message.
fn platform_findings(r: &Report) -> Vec<(String, String, String, u32, String)> {
    const IDS: &[&str] = &[
        "managed-cluster-endpoint-public",
        "eks-human-cluster-admin",
        "managed-cluster-audit-logs-not-exported",
        "managed-cluster-static-credentials",
        "managed-cluster-secrets-not-envelope-encrypted",
        "eks-workload-identity-missing",
        "mesh-mtls-not-strict",
        "falco-detection-disabled",
        "falco-alerts-not-forwarded",
        "egress-to-any-destination",
    ];
    r.findings
        .iter()
        .filter(|f| IDS.contains(&f.rule))
        .map(|f| {
            (
                f.rule.to_string(),
                format!("{}/{}", f.subject.kind, f.subject.name),
                f.location
                    .origin
                    .to_string()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_owned(),
                f.location.line,
                f.message.to_string(),
            )
        })
        .collect()
}

fn section(r: &Report, n: u8) -> &kubeharden_engine::report::SectionScore {
    r.scorecard
        .iter()
        .find(|s| s.section == Section::Rule(n))
        .unwrap()
}

fn bytes(name: &str, text: &str) -> Input {
    Input::Bytes {
        name: name.into(),
        bytes: text.as_bytes().to_vec().into(),
    }
}

fn t(
    rule: &str,
    subject: &str,
    file: &str,
    line: u32,
    msg: &str,
) -> (String, String, String, u32, String) {
    (rule.into(), subject.into(), file.into(), line, msg.into())
}

/// An eksctl file, a Terraform EKS module (variables, locals and tfvars in other files of its
/// directory), an aws-auth ConfigMap and an app: rules 1, 3, 4 and 14 assessed with locations.
#[test]
fn eks_app_directory_settles_rules_1_3_4_and_14() {
    let r = scan("eks-app");
    assert_eq!(
        platform_findings(&r),
        [
            t(
                "eks-human-cluster-admin",
                "ConfigMap/aws-auth",
                "aws-auth.yaml",
                12,
                "IAM user `arn:aws:iam::111122223333:user/alice` (username `alice`) holds cluster-admin through `system:masters` in aws-auth `mapUsers`"
            ),
            t(
                "managed-cluster-endpoint-public",
                "ClusterConfig/shop-prod",
                "cluster.yaml",
                10,
                "EKS cluster `shop-prod` (eksctl ClusterConfig): the API server endpoint is public (`publicAccess`) with no `publicAccessCIDRs`, so it is open to 0.0.0.0/0"
            ),
            t(
                "eks-human-cluster-admin",
                "ClusterConfig/shop-prod",
                "cluster.yaml",
                18,
                "EKS cluster `shop-prod` (eksctl ClusterConfig): authentication mode `CONFIG_MAP`: the IAM principal that created the cluster holds `system:masters` for good, shown in no aws-auth entry, access entry or RBAC binding, and cannot be removed"
            ),
            // `var.log_types`: its default in variables.tf has no `audit`.
            t(
                "managed-cluster-audit-logs-not-exported",
                "aws_eks_cluster/shop",
                "main.tf",
                15,
                "EKS cluster `shop` (Terraform): the API server's `audit` log type is not exported (`enabled_cluster_log_types`): who did what in the cluster is not recorded anywhere you keep"
            ),
        ]
    );
    for (n, status) in [
        (1, Status::Fail),
        (3, Status::Fail),
        (4, Status::Fail),
        (14, Status::Pass),
    ] {
        assert_eq!(section(&r, n).status, status, "section {n}");
    }
    assert!(section(&r, 3).assessed.contains(&"eks-human-cluster-admin"));
    // `local.admin_cidrs` (locals.tf) restricts the Terraform endpoint; `var.kms_key_arn` is
    // set in terraform.tfvars: both are read, neither left unresolved.
    assert!(
        section(&r, 14)
            .assessed
            .contains(&"managed-cluster-secrets-not-envelope-encrypted")
    );
    assert_eq!(section(&r, 14).settled_by_cloud.len(), 3);
    // `iam.withOIDC: true`: the workload-identity rule ran and passed.
    assert!(
        section(&r, 15)
            .assessed
            .contains(&"eks-workload-identity-missing")
    );
}

/// main.tf alone (stdin): its variables and locals are in other files, so nothing is guessed.
#[test]
fn terraform_references_to_other_files_are_not_guessed_without_the_directory() {
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/managed/eks-app/main.tf"),
    )
    .unwrap();
    let r = scan_all(&[bytes("<stdin>", &text)]);
    assert_eq!(platform_findings(&r), []);
    for (n, rule) in [
        (1, "managed-cluster-endpoint-public"),
        (4, "managed-cluster-audit-logs-not-exported"),
        (14, "managed-cluster-secrets-not-envelope-encrypted"),
    ] {
        assert!(!section(&r, n).assessed.contains(&rule), "section {n}");
        assert!(
            section(&r, n)
                .missing
                .iter()
                .any(|m| m.contains("Terraform expression that cannot be resolved offline")),
            "section {n}"
        );
    }
}

#[test]
fn gke_app_directory() {
    let r = scan("gke-app");
    assert_eq!(
        platform_findings(&r),
        [t(
            "managed-cluster-endpoint-public",
            "google_container_cluster/shop",
            "main.tf",
            14,
            "GKE cluster `shop` (Terraform): the API server endpoint is public and its authorized networks include 0.0.0.0/0"
        )]
    );
    assert_eq!(section(&r, 1).status, Status::Fail);
    // GKE always writes Admin Activity audit logs; the key name is a local of variables.tf.
    assert!(
        section(&r, 4)
            .assessed
            .contains(&"managed-cluster-audit-logs-not-exported")
    );
    assert_eq!(section(&r, 14).status, Status::Pass);
    assert!(
        section(&r, 5)
            .assessed
            .contains(&"managed-cluster-static-credentials")
    );
    // Rule 3's EKS identities do not apply to GKE.
    assert!(section(&r, 3).assessed.is_empty());
}

#[test]
fn aks_app_directory_links_the_diagnostic_setting_to_its_cluster() {
    let r = scan("aks-app");
    assert_eq!(
        platform_findings(&r),
        [
            t(
                "managed-cluster-audit-logs-not-exported",
                "azurerm_monitor_diagnostic_setting/aks_metrics",
                "diagnostics.tf",
                6,
                "AKS cluster `shop` (Terraform): its diagnostic setting `aks_metrics` does not export the `kube-audit` or `kube-audit-admin` log category: the API server's audit log is not kept anywhere you can read"
            ),
            t(
                "managed-cluster-secrets-not-envelope-encrypted",
                "azurerm_kubernetes_cluster/shop",
                "main.tf",
                6,
                "AKS cluster `shop` (Terraform): Secrets are not envelope-encrypted with a KMS key you control (no `key_management_service.key_vault_key_id`)"
            ),
        ]
    );
    // `var.private_cluster` (variables.tf) is true.
    assert_eq!(section(&r, 1).status, Status::Pass);
    assert_eq!(section(&r, 4).status, Status::Fail);
    assert_eq!(section(&r, 14).status, Status::Fail);
}

const AKS: &str = r#"resource "azurerm_kubernetes_cluster" "shop" {
  name                    = "shop-prod"
  private_cluster_enabled = true
  local_account_disabled  = true
  key_management_service {
    key_vault_key_id = "https://shop-kv.vault.azure.net/keys/etcd/0123456789abcdef"
  }
}
"#;

#[test]
fn aks_kube_audit_export_pass_missing_and_unresolved() {
    let with = |setting: &str| scan_all(&[bytes("<stdin>", &format!("{AKS}{setting}"))]);
    // kube-audit-admin exported: pass.
    let r = with(
        r#"resource "azurerm_monitor_diagnostic_setting" "audit" {
  target_resource_id = azurerm_kubernetes_cluster.shop.id
  enabled_log {
    category = "kube-audit-admin"
  }
}
"#,
    );
    assert_eq!(platform_findings(&r), []);
    assert!(
        section(&r, 4)
            .assessed
            .contains(&"managed-cluster-audit-logs-not-exported")
    );
    // The deprecated `log` block with `kube-audit` enabled, the target as a literal ID: pass.
    let r = with(
        r#"resource "azurerm_monitor_diagnostic_setting" "audit" {
  target_resource_id = "/subscriptions/0000/resourceGroups/shop/providers/Microsoft.ContainerService/managedClusters/shop-prod"
  log {
    category = "kube-audit"
    enabled  = true
  }
}
"#,
    );
    assert_eq!(platform_findings(&r), []);
    // No diagnostic setting: the cluster fails, at its resource.
    let r = with("");
    assert_eq!(
        platform_findings(&r),
        [t(
            "managed-cluster-audit-logs-not-exported",
            "azurerm_kubernetes_cluster/shop",
            "<stdin>",
            1,
            "AKS cluster `shop` (Terraform): no `azurerm_monitor_diagnostic_setting` of the input exports its `kube-audit` or `kube-audit-admin` log category: the API server's audit log is not kept anywhere you can read"
        )]
    );
    // A setting exporting kube-audit for a target that cannot be resolved: not assessed.
    let r = with(
        r#"resource "azurerm_monitor_diagnostic_setting" "audit" {
  target_resource_id = var.cluster_id
  enabled_log {
    category = "kube-audit"
  }
}
"#,
    );
    assert_eq!(platform_findings(&r), []);
    let s4 = section(&r, 4);
    assert!(
        !s4.assessed
            .contains(&"managed-cluster-audit-logs-not-exported")
    );
    assert!(
        s4.missing
            .iter()
            .any(|m| m.contains("`target_resource_id`"))
    );
}

#[test]
fn az_aks_show_has_no_diagnostic_settings_so_section_4_is_not_assessed() {
    let r = scan_all(&[bytes(
        "aks.json",
        r#"{"id": "/subscriptions/0000/resourcegroups/shop/providers/Microsoft.ContainerService/managedClusters/shop-prod",
  "name": "shop-prod", "type": "Microsoft.ContainerService/ManagedClusters",
  "apiServerAccessProfile": {"enablePrivateCluster": true}, "disableLocalAccounts": true,
  "securityProfile": {"azureKeyVaultKms": {"enabled": true}}}"#,
    )]);
    assert_eq!(platform_findings(&r), []);
    let s4 = section(&r, 4);
    assert_eq!(s4.status, Status::NotAssessed);
    assert!(
        s4.missing
            .iter()
            .any(|m| m.contains("`az aks show` output, which holds no diagnostic settings")),
        "{:?}",
        s4.missing
    );
    assert_eq!(section(&r, 1).status, Status::Pass);
}

#[test]
fn eksctl_without_workload_identity() {
    let r = scan_all(&[bytes(
        "cluster.yaml",
        "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: a, region: eu-west-1}\nvpc:\n  clusterEndpoints: {publicAccess: false, privateAccess: true}\n",
    )]);
    assert_eq!(
        platform_findings(&r),
        [
            t(
                "eks-workload-identity-missing",
                "ClusterConfig/a",
                "cluster.yaml",
                1,
                "EKS cluster `a` (eksctl ClusterConfig): neither IRSA (`iam.withOIDC: true`) nor EKS Pod Identity (`iam.podIdentityAssociations`, the `eks-pod-identity-agent` addon): pods that need AWS get the node role's credentials, shared by every pod of the node, or long-lived access keys"
            ),
            t(
                "managed-cluster-audit-logs-not-exported",
                "ClusterConfig/a",
                "cluster.yaml",
                1,
                "EKS cluster `a` (eksctl ClusterConfig): the API server's `audit` log type is not exported (`enableTypes`): who did what in the cluster is not recorded anywhere you keep"
            ),
            t(
                "managed-cluster-secrets-not-envelope-encrypted",
                "ClusterConfig/a",
                "cluster.yaml",
                1,
                "EKS cluster `a` (eksctl ClusterConfig): Secrets are not envelope-encrypted with a KMS key you control (no `secretsEncryption.keyARN`)"
            ),
        ]
    );
}

#[test]
fn falco_rules_files_helm_values_and_alert_sink() {
    let r = scan("falco");
    assert_eq!(
        platform_findings(&r),
        [
            t(
                "falco-detection-disabled",
                "FalcoRules/falco_rules",
                "falco_rules.local.yaml",
                7,
                "Falco rule `Terminal shell in container` (a shell started in a container) is disabled by an appended exception that matches every event in Falco rules file `falco_rules`"
            ),
            t(
                "falco-detection-disabled",
                "FalcoRules/falco_rules",
                "falco_rules.local.yaml",
                17,
                "Falco rule `Read sensitive file untrusted` (reads of sensitive files such as /etc/shadow) is disabled by an appended condition that is never true in Falco rules file `falco_rules`"
            ),
            t(
                "falco-detection-disabled",
                "FalcoHelmValues/values",
                "values.yaml",
                4,
                "Falco rule `Read sensitive file trusted after startup` (reads of sensitive files after startup) is disabled by `enabled: false` in the falco chart's Helm values `values`"
            ),
            t(
                "falco-alerts-not-forwarded",
                "FalcoHelmValues/values",
                "values.yaml",
                12,
                "the falco chart's Helm values `values` sends Falco's alerts to no alerting sink: falcosidekick is not enabled and `http_output`, `program_output` and `grpc_output` are off, so detections stay in the nodes' logs"
            ),
        ]
    );
    // A narrow exception (one process in one image) keeps `Write below binary dir` on, and
    // falco.yaml's http_output is a sink: neither is reported.
}

#[test]
fn falco_config_in_a_configmap_without_a_sink() {
    let r = scan_all(&[bytes(
        "falco-cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: falco, namespace: falco}\ndata:\n  falco.yaml: |\n    rules_files: [/etc/falco/falco_rules.yaml]\n    stdout_output: {enabled: true}\n    http_output: {enabled: false}\n",
    )]);
    assert_eq!(
        platform_findings(&r),
        [t(
            "falco-alerts-not-forwarded",
            "ConfigMap/falco",
            "falco-cm.yaml",
            5,
            "ConfigMap `falco` sends Falco's alerts to no alerting sink: falcosidekick is not enabled and `http_output`, `program_output` and `grpc_output` are off, so detections stay in the nodes' logs"
        )]
    );
}

#[test]
fn linkerd_servers_and_authorization_policies() {
    let r = scan_all(&[bytes(
        "linkerd.yaml",
        r#"# Written from https://linkerd.io/2/reference/authorization-policy/
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: web-http, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  port: http
  accessPolicy: all-unauthenticated
---
apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  port: 5432
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {name: api-from-office, namespace: shop}
spec:
  targetRef: {group: policy.linkerd.io, kind: Server, name: api}
  requiredAuthenticationRefs:
    - {group: policy.linkerd.io, kind: NetworkAuthentication, name: office}
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata: {name: db-from-web, namespace: shop}
spec:
  targetRef: {group: policy.linkerd.io, kind: Server, name: db}
  requiredAuthenticationRefs:
    - {group: policy.linkerd.io, kind: MeshTLSAuthentication, name: web}
"#,
    )]);
    assert_eq!(
        platform_findings(&r),
        [
            t(
                "mesh-mtls-not-strict",
                "Server/web-http",
                "linkerd.yaml",
                8,
                "Linkerd Server `web-http` in namespace `shop` has `accessPolicy: all-unauthenticated`: connections to its port are accepted without mTLS"
            ),
            t(
                "mesh-mtls-not-strict",
                "AuthorizationPolicy/api-from-office",
                "linkerd.yaml",
                22,
                "Linkerd AuthorizationPolicy `api-from-office` in namespace `shop` authorizes clients of `api` by network only (`NetworkAuthentication`, no `MeshTLSAuthentication` or ServiceAccount): unauthenticated plaintext connections from those networks are accepted"
            ),
        ]
    );
}

#[test]
fn cilium_l7_http_host_rules_are_an_egress_allowlist() {
    let policy = |http: &str| {
        format!(
            "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {{name: web-egress, namespace: shop}}\nspec:\n  endpointSelector: {{matchLabels: {{app: web}}}}\n  egress:\n    - toEntities: [world]\n      toPorts:\n        - ports: [{{port: \"80\", protocol: TCP}}]\n          rules:\n            http:\n{http}"
        )
    };
    // Written from docs.cilium.io layer-7 HTTP policy (`rules.http` with `host`).
    let r = scan_all(&[bytes(
        "cnp.yaml",
        &policy("              - {method: GET, host: \"api.example.com\"}\n"),
    )]);
    assert_eq!(platform_findings(&r), []);
    let r = scan_all(&[bytes(
        "cnp.yaml",
        &policy("              - {method: GET, path: \"/v1/.*\"}\n"),
    )]);
    assert_eq!(
        platform_findings(&r),
        [t(
            "egress-to-any-destination",
            "CiliumNetworkPolicy/web-egress",
            "cnp.yaml",
            7,
            "CiliumNetworkPolicy \"web-egress\" allows egress on port 80 to the entity `world` (every address outside the cluster)"
        )]
    );
}

const AWS_AUTH: &str = "# https://docs.aws.amazon.com/eks/latest/userguide/auth-configmap.html\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: aws-auth, namespace: kube-system}\ndata:\n  mapUsers: |\n    - userarn: arn:aws:iam::111122223333:user/alice\n      username: alice\n      groups: [system:masters]\n";

fn eksctl_with_mode(mode: &str) -> String {
    format!(
        "# https://eksctl.io/usage/access-entries/\napiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {{name: shop, region: eu-west-1}}\nvpc:\n  clusterEndpoints: {{publicAccess: false, privateAccess: true}}\ncloudWatch:\n  clusterLogging: {{enableTypes: [audit]}}\nsecretsEncryption: {{keyARN: \"arn:aws:kms:eu-west-1:111122223333:key/1\"}}\niam: {{withOIDC: true}}\naccessConfig:\n  authenticationMode: {mode}\n"
    )
}

/// With the authentication mode `API`, EKS reads access entries only: aws-auth's grants are
/// not cluster-admin (issue 25). `API_AND_CONFIG_MAP`, or no cluster in the input, keeps them.
#[test]
fn aws_auth_is_ignored_with_authentication_mode_api() {
    let alice = t(
        "eks-human-cluster-admin",
        "ConfigMap/aws-auth",
        "aws-auth.yaml",
        6,
        "IAM user `arn:aws:iam::111122223333:user/alice` (username `alice`) holds cluster-admin through `system:masters` in aws-auth `mapUsers`",
    );
    let r = scan_all(&[
        bytes("aws-auth.yaml", AWS_AUTH),
        bytes("cluster.yaml", &eksctl_with_mode("API")),
    ]);
    assert_eq!(platform_findings(&r), []);
    assert!(section(&r, 3).assessed.contains(&"eks-human-cluster-admin"));
    let r = scan_all(&[
        bytes("aws-auth.yaml", AWS_AUTH),
        bytes("cluster.yaml", &eksctl_with_mode("API_AND_CONFIG_MAP")),
    ]);
    assert_eq!(platform_findings(&r), std::slice::from_ref(&alice));
    let r = scan_all(&[bytes("aws-auth.yaml", AWS_AUTH)]);
    assert_eq!(platform_findings(&r), std::slice::from_ref(&alice));
    // Terraform `access_config.authentication_mode = "API"`.
    let r = scan_all(&[
        bytes("aws-auth.yaml", AWS_AUTH),
        bytes(
            "<stdin>",
            "resource \"aws_eks_cluster\" \"shop\" {\n  name = \"shop\"\n  access_config {\n    authentication_mode = \"API\"\n  }\n}\n",
        ),
    ]);
    assert!(
        !platform_findings(&r)
            .iter()
            .any(|f| f.0 == "eks-human-cluster-admin"),
        "{:?}",
        platform_findings(&r)
    );
}

fn deployment(ns: &str, name: &str, template_meta: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {template_meta}\n    spec:\n      containers: [{{name: {name}, image: \"registry.example.com/{name}:1.0\"}}]\n"
    )
}

fn mesh_findings(r: &Report) -> Vec<(String, String, u32, String)> {
    r.findings
        .iter()
        .filter(|f| f.rule == "mesh-namespace-plaintext")
        .map(|f| {
            (
                format!("{}/{}", f.subject.kind, f.subject.name),
                f.location.origin.to_string(),
                f.location.line,
                f.message.to_string(),
            )
        })
        .collect()
}

/// Per namespace: whose pod-to-pod traffic is plaintext (issue 25, item 3). Linkerd injection by
/// pod template annotation, a namespace-wide Istio DISABLE over a mesh-wide STRICT, and no
/// Namespace object (the finding names the namespace, located at its first plaintext workload).
#[test]
fn mesh_plaintext_per_namespace() {
    let r = scan_all(&[
        bytes(
            "mesh.yaml",
            // https://istio.io/latest/docs/reference/config/security/peer_authentication/
            "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: istio-system}\nspec:\n  mtls: {mode: STRICT}\n---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: off, namespace: legacy}\nspec:\n  mtls: {mode: DISABLE}\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: legacy\n  labels: {istio-injection: enabled}\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {istio-injection: enabled}\n",
        ),
        bytes(
            "apps.yaml",
            &[
                deployment("legacy", "old", "{labels: {app: old}}"),
                deployment("shop", "web", "{labels: {app: web}}"),
                // https://linkerd.io/2/features/proxy-injection/: injected by its pod template
                // annotation, Linkerd's default inbound policy (all-unauthenticated).
                deployment(
                    "payments",
                    "api",
                    "{labels: {app: api}, annotations: {linkerd.io/inject: enabled}}",
                ),
                deployment(
                    "payments",
                    "ledger",
                    "{labels: {app: ledger}, annotations: {linkerd.io/inject: enabled, config.linkerd.io/default-inbound-policy: all-authenticated}}",
                ),
                deployment("payments", "batch", "{labels: {app: batch}}"),
            ]
            .join("---\n"),
        ),
    ]);
    assert_eq!(
        mesh_findings(&r),
        [
            (
                "Namespace/payments".to_owned(),
                "apps.yaml".to_owned(),
                21,
                "namespace `payments`: pod-to-pod traffic is accepted in plain text by 2 of its 3 workloads — Deployment `batch`: not in the mesh (no injection label or annotation on the namespace or the pod template); Deployment `api`: Linkerd default inbound policy `all-unauthenticated` (Linkerd's default: no `config.linkerd.io/default-inbound-policy` annotation)".to_owned()
            ),
            (
                "Namespace/legacy".to_owned(),
                "mesh.yaml".to_owned(),
                13,
                "namespace `legacy`: pod-to-pod traffic is accepted in plain text by 1 of its 1 workloads — Deployment `old`: Istio mTLS `DISABLE` (PeerAuthentication `legacy/off`)".to_owned()
            ),
        ]
    );
    // No mesh in the input: nothing is concluded.
    let r = scan_all(&[bytes(
        "apps.yaml",
        &deployment("shop", "web", "{labels: {app: web}}"),
    )]);
    assert_eq!(mesh_findings(&r), []);
}

/// Registry modules followed by their inputs (issue 25): terraform-aws-modules/eks/aws v20 with
/// access entries and authentication mode `API` (the leftover aws-auth beside it is ignored).
#[test]
fn terraform_eks_module_v20() {
    let r = scan("modules/eks");
    let d = "EKS cluster `eks` (Terraform module `terraform-aws-modules/eks/aws`)";
    assert_eq!(
        platform_findings(&r),
        [
            t(
                "managed-cluster-endpoint-public",
                "module/eks",
                "main.tf",
                11,
                &format!(
                    "{d}: the API server endpoint is public and open to 0.0.0.0/0 (`cluster_endpoint_public_access_cidrs`)"
                )
            ),
            t(
                "managed-cluster-audit-logs-not-exported",
                "module/eks",
                "main.tf",
                12,
                &format!(
                    "{d}: the API server's `audit` log type is not exported (`cluster_enabled_log_types`): who did what in the cluster is not recorded anywhere you keep"
                )
            ),
            t(
                "managed-cluster-secrets-not-envelope-encrypted",
                "module/eks",
                "main.tf",
                13,
                &format!(
                    "{d}: Secrets are not envelope-encrypted with a KMS key you control (`cluster_encryption_config` turns encryption off)"
                )
            ),
            t(
                "eks-human-cluster-admin",
                "module/eks",
                "main.tf",
                21,
                "IAM user `arn:aws:iam::111122223333:user/alice` holds cluster-admin through an EKS access entry with `AmazonEKSClusterAdminPolicy` (module input `access_entries`)"
            ),
        ]
    );
    for n in [1, 3, 4, 14] {
        assert_eq!(section(&r, n).status, Status::Fail, "section {n}");
    }
}

/// The module's defaults where inputs are absent: a private endpoint, audit logs exported, and
/// Secrets encrypted with the KMS key the module creates (terraform-aws-eks variables.tf).
#[test]
fn terraform_eks_module_defaults_pass() {
    let r = scan_all(&[bytes(
        "<stdin>",
        "module \"eks\" {\n  source  = \"terraform-aws-modules/eks/aws\"\n  version = \"~> 20.0\"\n  cluster_name = \"shop\"\n}\n",
    )]);
    assert_eq!(platform_findings(&r), []);
    for (n, rule) in [
        (1, "managed-cluster-endpoint-public"),
        (4, "managed-cluster-audit-logs-not-exported"),
        (14, "managed-cluster-secrets-not-envelope-encrypted"),
    ] {
        assert!(section(&r, n).assessed.contains(&rule), "section {n}");
    }
    // An input that is not a literal: not assessed, never guessed.
    let r = scan_all(&[bytes(
        "<stdin>",
        "module \"eks\" {\n  source = \"terraform-aws-modules/eks/aws\"\n  cluster_endpoint_public_access = module.flags.public\n}\n",
    )]);
    assert_eq!(platform_findings(&r), []);
    assert!(
        !section(&r, 1)
            .assessed
            .contains(&"managed-cluster-endpoint-public")
    );
}

/// Terraform's JSON syntax (`.tf.json`): a resource and a v21 module, exact lines; `${var.X}`
/// resolves from the file's `variable` defaults.
#[test]
fn terraform_json_syntax() {
    let r = scan("modules/eks-resource.tf.json");
    assert_eq!(
        platform_findings(&r),
        [t(
            "managed-cluster-endpoint-public",
            "aws_eks_cluster/shop",
            "eks-resource.tf.json",
            9,
            "EKS cluster `shop` (Terraform): the API server endpoint is public and open to 0.0.0.0/0 (`public_access_cidrs`)"
        )]
    );
    for (n, rule) in [
        (4, "managed-cluster-audit-logs-not-exported"),
        (14, "managed-cluster-secrets-not-envelope-encrypted"),
    ] {
        assert!(section(&r, n).assessed.contains(&rule), "section {n}");
    }
    let r = scan("modules/eks-v21.tf.json");
    assert_eq!(
        platform_findings(&r),
        [t(
            "managed-cluster-secrets-not-envelope-encrypted",
            "module/eks",
            "eks-v21.tf.json",
            17,
            "EKS cluster `eks` (Terraform module `terraform-aws-modules/eks/aws`): Secrets are not envelope-encrypted with a KMS key you control (`encryption_config` turns encryption off)"
        )]
    );
    // `endpoint_public_access_cidrs = "${var.admin_cidrs}"` resolves to 203.0.113.0/24.
    assert_eq!(section(&r, 1).status, Status::Pass);
    // The same text on stdin is recognised by content.
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/managed/modules/eks-resource.tf.json"),
    )
    .unwrap();
    let r = scan_all(&[bytes("<stdin>", &text)]);
    assert_eq!(
        r.findings
            .iter()
            .filter(|f| f.rule == "managed-cluster-endpoint-public")
            .map(|f| f.location.line)
            .collect::<Vec<_>>(),
        [9]
    );
}

#[test]
fn terraform_gke_and_aks_modules() {
    let r = scan("modules/gke");
    assert_eq!(
        platform_findings(&r),
        [t(
            "managed-cluster-endpoint-public",
            "module/gke",
            "main.tf",
            17,
            "GKE cluster `gke` (Terraform module `terraform-google-modules/kubernetes-engine/google//modules/private-cluster`): the API server endpoint is public and its authorized networks include 0.0.0.0/0"
        )]
    );
    // `key_name = var.etcd_key` has no value in the directory: encryption not assessed.
    assert!(
        !section(&r, 14)
            .assessed
            .contains(&"managed-cluster-secrets-not-envelope-encrypted")
    );
    let r = scan("modules/aks");
    assert_eq!(
        platform_findings(&r),
        [t(
            "managed-cluster-static-credentials",
            "module/aks",
            "main.tf",
            3,
            "AKS cluster `aks` (Terraform module `Azure/aks/azurerm`): local accounts are enabled: `az aks get-credentials --admin` hands out a static cluster-admin credential that bypasses Microsoft Entra ID"
        )]
    );
    assert_eq!(section(&r, 1).status, Status::Pass);
    // The diagnostic setting targets `module.aks.aks_id` and exports kube-audit-admin.
    assert!(
        section(&r, 4)
            .assessed
            .contains(&"managed-cluster-audit-logs-not-exported")
    );
    assert!(
        !section(&r, 14)
            .assessed
            .contains(&"managed-cluster-secrets-not-envelope-encrypted")
    );
}
