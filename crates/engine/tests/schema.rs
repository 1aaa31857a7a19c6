//! Manifests the API server would reject or silently drop are input warnings at the field: the
//! Kubernetes schema (unknown fields, types, required fields, enumerations, quantities) and the
//! combinations its validation refuses (issue 19, items 7 and 8). Scanning goes on; warnings do
//! not change the exit code, like the type errors already reported.

use kubeharden_engine::finish::{Exit, exit};
use kubeharden_engine::load::Input;
use kubeharden_engine::report::Report;
use kubeharden_engine::scan::scan_all;
use kubeharden_engine::source::DiagLevel;
use kubeharden_model::meta::Severity;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn scan_named(name: &str, text: &str) -> Report {
    scan_all(&[Input::Bytes {
        name: name.to_owned(),
        bytes: Arc::from(text.as_bytes()),
    }])
}

/// (level, line, column, message) of every diagnostic.
fn diagnostics(report: &Report) -> Vec<(DiagLevel, u32, u32, String)> {
    report
        .diagnostics
        .iter()
        .map(|d| {
            (
                d.level,
                d.line.unwrap_or(0),
                d.column.unwrap_or(0),
                d.message.clone(),
            )
        })
        .collect()
}

fn warn(line: u32, col: u32, message: &str) -> (DiagLevel, u32, u32, String) {
    (DiagLevel::Warning, line, col, message.to_owned())
}

/// /work/shared/acceptance/inputs/trust/invalid.yaml
const INVALID: &str = "apiVersion: v1
kind: Pod
metadata: {name: invalid, namespace: ops}
spec:
  containers:
  - name: c
    image: ghcr.io/example/c:1.0
    volumeMounts:
    - name: config
      mountPath: /etc/app
      readOlny: true
  volumes:
  - configMap: {name: app-config}
";

#[test]
fn a_typo_and_a_volume_without_a_name_are_diagnosed_at_the_field() {
    let report = scan_named("invalid.yaml", INVALID);
    assert_eq!(
        diagnostics(&report),
        [
            warn(
                9,
                7,
                "Pod/ops/invalid: `spec.containers[0].volumeMounts[0].name`: no volume named `config` in the pod's `volumes` (Not found); the API server rejects this object"
            ),
            warn(
                11,
                7,
                "Pod/ops/invalid: `spec.containers[0].volumeMounts[0].readOlny` is not a field of VolumeMount (core/v1) (did you mean `readOnly`?): the API server drops it, and `kubectl apply` (strict field validation) rejects the object"
            ),
            warn(
                13,
                5,
                "Pod/ops/invalid: `spec.volumes[0].name` is required but missing; the API server rejects this object"
            ),
        ]
    );
    // The scan goes on, and warnings leave the exit code to the findings (as type errors do).
    assert!(!report.findings.is_empty());
    assert!(!report.has_input_errors());
    assert_eq!(exit(&report, Severity::Critical, false), Exit::Clean);
}

/// /work/shared/acceptance/inputs/trust/rejected-combo.yaml
const COMBO: &str = "apiVersion: v1
kind: Pod
metadata: {name: combo, namespace: ops}
spec:
  containers:
  - name: c
    image: ghcr.io/example/tool:1.0
    securityContext:
      privileged: true
      allowPrivilegeEscalation: false
";

#[test]
fn privileged_without_privilege_escalation_is_rejected() {
    let report = scan_named("combo.yaml", COMBO);
    assert_eq!(
        diagnostics(&report),
        [warn(
            8,
            5,
            "Pod/ops/combo: `spec.containers[0].securityContext`: cannot set `allowPrivilegeEscalation` to false and `privileged` to true; the API server rejects this object"
        )]
    );
    // The rules still judge what the manifest says.
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.rule == "container-privileged")
    );
}

#[test]
fn types_enums_quantities_as_kubernetes_reads_yaml() {
    let report = scan_named(
        "t.yaml",
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
  labels: {version: 1.0, on: yes}
spec:
  replicas: 2.0
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: a}}
    spec:
      restartPolicy: Always
      containers:
      - name: c
        image: i
        imagePullPolicy: Allways
        env:
        - {name: PORT, value: 8080}
        ports:
        - {containerPort: \"8080\"}
        resources:
          limits: {memory: 512mb, cpu: 0.5}
          requests: {memory: \"\"}
        securityContext: {privileged: \"true\"}
",
    );
    assert_eq!(
        diagnostics(&report),
        [
            warn(
                5,
                12,
                "Deployment/default/d: `metadata.labels.version` is number `1.0`, but Kubernetes expects a string; the API server rejects this object"
            ),
            // The key `on` is the boolean true to go-yaml: Kubernetes reads the label `true`.
            warn(
                5,
                26,
                "Deployment/default/d: `metadata.labels.true` is boolean `yes`, but Kubernetes expects a string; the API server rejects this object"
            ),
            warn(
                16,
                9,
                "Deployment/default/d: `spec.template.spec.containers[0].imagePullPolicy` is `Allways`, not one of the supported values `Always`, `IfNotPresent`, `Never`; the API server rejects this object"
            ),
            warn(
                18,
                24,
                "Deployment/default/d: `spec.template.spec.containers[0].env[0].value` is integer `8080`, but Kubernetes expects a string; the API server rejects this object"
            ),
            warn(
                20,
                12,
                "Deployment/default/d: `spec.template.spec.containers[0].ports[0].containerPort` is string `8080`, but Kubernetes expects a 32-bit integer; the API server rejects this object"
            ),
            warn(
                22,
                20,
                "Deployment/default/d: `spec.template.spec.containers[0].resources.limits.memory` is `512mb`, which is not a quantity (such as `512Mi`, `1G`, `0.5` or `500m`); the API server rejects this object"
            ),
            warn(
                23,
                22,
                "Deployment/default/d: `spec.template.spec.containers[0].resources.requests.memory` is ``, which is not a quantity (such as `512Mi`, `1G`, `0.5` or `500m`); the API server rejects this object"
            ),
            // Reported once, by the security-context type check (not again by the schema).
            warn(
                24,
                27,
                "Deployment/default/d: `securityContext.privileged` is string `true`, but Kubernetes expects a boolean; the API server rejects this object"
            ),
        ]
    );
}

/// Integers past 63 bits are go-yaml's uint64: JSON carries them exact, an int64 field cannot
/// hold one (the API server refuses the object), a quantity or a number can.
#[test]
fn integers_past_64_signed_bits() {
    let report = scan_named(
        "big.yaml",
        "apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  activeDeadlineSeconds: 9223372036854775807
  terminationGracePeriodSeconds: 9223372036854775808
  containers:
  - name: c
    image: ghcr.io/example/c:1.0
    resources:
      limits: {memory: 18446744073709551615}
",
    );
    assert_eq!(
        diagnostics(&report),
        [warn(
            6,
            3,
            "Pod/default/p: `spec.terminationGracePeriodSeconds` is integer `9223372036854775808`, but Kubernetes expects a 64-bit signed integer; the API server rejects this object"
        )]
    );
}

#[test]
fn rbac_and_unknown_kinds() {
    let report = scan_named(
        "rbac.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: b, namespace: ns}
roleRef: {apiGroup: rbac.authorization.k8s.io/v1, kind: ClusterRole, name: view}
subjects:
- {kind: ServiceAccount, name: s, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: defaulted, namespace: ns}
roleRef: {apiGroup: \"\", kind: ClusterRole, name: view}
subjects: [{kind: User, name: u}]
---
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: custom-resources-are-not-validated}
spec: {anything: [1, 2], readOlny: true}
---
apiVersion: extensions/v1beta1
kind: Deployment
metadata: {name: removed-api-versions-are-not-validated}
spec: {readOlny: true}
",
    );
    assert_eq!(
        diagnostics(&report),
        [
            warn(
                4,
                11,
                "RoleBinding/ns/b: `roleRef.apiGroup`: unsupported value `rbac.authorization.k8s.io/v1`: the only supported value is `rbac.authorization.k8s.io`; the API server rejects this object"
            ),
            warn(
                6,
                35,
                "RoleBinding/ns/b: `subjects[0].apiGroup`: unsupported value `rbac.authorization.k8s.io`: a ServiceAccount subject's apiGroup is `\"\"`; the API server rejects this object"
            ),
        ]
    );
}

#[test]
fn live_objects_are_not_validated_again() {
    for name in ["cluster:v1/pods", "admission:1234"] {
        let report = scan_named(name, INVALID);
        assert_eq!(diagnostics(&report), [], "{name}");
    }
}

#[test]
fn hostile_objects_are_bounded_and_fast() {
    // 200,000 unknown fields, deep unknown nesting, a huge list of bad items.
    let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n");
    for i in 0..200_000 {
        text.push_str(&format!("  readOlny{i}: 1\n"));
    }
    text.push_str("data:\n  k: v\n");
    text.push_str("binaryData: ");
    text.push_str(&"[".repeat(200));
    text.push_str(&"]".repeat(200));
    text.push('\n');
    let started = Instant::now();
    let report = scan_named("big.yaml", &text);
    assert!(started.elapsed() < Duration::from_secs(20));
    let d = diagnostics(&report);
    assert_eq!(d.len(), 51, "{:#?}", &d[..3]);
    assert_eq!(
        d[1],
        warn(
            5,
            3,
            "ConfigMap/default/c: `metadata.readOlny0` is not a field of ObjectMeta (meta/v1): the API server drops it, and `kubectl apply` (strict field validation) rejects the object"
        )
    );
    assert_eq!(
        d[0].3,
        "ConfigMap/default/c: 199951 more problems the API server would reject (only the first 50 are listed)"
    );
}
