//! Custom policies: every fixture under `tests/fixtures/{gatekeeper,vap}` holds policies and
//! objects named `bad-*` (each must get a finding from a policy) and `good-*` (none may).
//! Specific tests then pin messages, severities and diagnostics.

use kubeharden_engine::finding::{Finding, Severity};
use kubeharden_engine::load::Input;
use kubeharden_engine::report::{Report, Status};
use kubeharden_engine::rules::{CustomPolicies, Section};
use kubeharden_engine::scan::{self, Extras};
use kubeharden_engine::source::{DiagLevel, Diagnostic};
use kubeharden_policy::Policies;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// Scans the inputs with the policies they hold (and no built-in rule).
fn scan_policies(inputs: &[Input]) -> (Report, Vec<Diagnostic>) {
    let loaded = Policies::from_inputs(inputs);
    let policies = Arc::new(loaded.policies);
    let rules = policies.rules().to_vec();
    let report = scan::scan_with(
        inputs,
        &rules,
        Extras {
            custom: Some(policies.clone()),
            ..Extras::default()
        },
    );
    let mut diagnostics = loaded.diagnostics;
    diagnostics.extend(policies.take_diagnostics());
    (report, diagnostics)
}

fn scan_file(rel: &str) -> (Report, Vec<Diagnostic>) {
    scan_policies(&[Input::File(fixture(rel))])
}

fn on<'r>(report: &'r Report, name: &str) -> Vec<&'r Finding> {
    report
        .findings
        .iter()
        .filter(|f| f.subject.name == name)
        .collect()
}

#[test]
fn every_fixture_flags_bad_objects_and_passes_good_ones() {
    let mut checked = 0;
    for dir in ["gatekeeper", "vap"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(fixture(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let (report, _) = scan_policies(&[Input::File(file.clone())]);
            let names: Vec<&str> = text
                .lines()
                .filter_map(|l| l.split("name: ").nth(1))
                .map(|n| {
                    n.trim_end_matches(['}', ',', ' '])
                        .split(',')
                        .next()
                        .unwrap()
                })
                .filter(|n| n.starts_with("bad-") || n.starts_with("good-"))
                .collect();
            assert!(
                !names.is_empty(),
                "{} has no bad-/good- objects",
                file.display()
            );
            for name in names {
                let found = on(&report, name);
                if name.starts_with("bad-") {
                    assert!(
                        !found.is_empty(),
                        "{}: {name} was not flagged",
                        file.display()
                    );
                } else {
                    assert!(
                        found.is_empty(),
                        "{}: {name} was flagged: {:?}",
                        file.display(),
                        found.iter().map(|f| &f.message).collect::<Vec<_>>()
                    );
                }
                checked += 1;
            }
            // Policy objects are configuration, never subjects.
            assert!(
                report
                    .findings
                    .iter()
                    .all(|f| !f.subject.kind.contains("Template")
                        && f.subject.kind != "ValidatingAdmissionPolicy"
                        && f.subject.kind != "ValidatingAdmissionPolicyBinding")
            );
        }
    }
    assert!(checked >= 30, "only {checked} objects checked");
}

#[test]
fn gatekeeper_messages_ids_and_severities_follow_the_constraint() {
    let (report, diagnostics) = scan_file("gatekeeper/required-labels.yaml");
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let f = on(&report, "bad-no-owner");
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].rule,
        "gatekeeper/k8srequiredlabels/deployments-need-owner"
    );
    assert_eq!(f[0].section, Section::Custom);
    assert_eq!(f[0].severity, Severity::High);
    assert_eq!(&*f[0].message, r#"you must provide labels: {"owner"}"#);
    assert_eq!(f[0].location.line, 38, "the object's first line");

    let (report, _) = scan_file("gatekeeper/namespaces.yaml");
    let f = on(&report, "bad-latest");
    assert_eq!(f[0].severity, Severity::Medium, "enforcementAction warn");
    assert_eq!(
        &*f[0].message,
        "container <app> uses the latest tag: nginx:latest"
    );

    let (report, _) = scan_file("gatekeeper/selectors.yaml");
    let f = on(&report, "bad-host-network");
    assert_eq!(f[0].severity, Severity::Info, "enforcementAction dryrun");
    assert_eq!(&*f[0].message, "Pod bad-host-network uses the host network");
}

#[test]
fn gatekeeper_says_what_it_cannot_evaluate() {
    let (report, diagnostics) = scan_file("gatekeeper/broken.yaml");
    assert!(report.findings.is_empty());
    let text: Vec<String> = diagnostics
        .iter()
        .map(|d| {
            format!(
                "{}:{} {}",
                d.origin.rsplit('/').next().unwrap(),
                d.line.unwrap_or(0),
                d.message
            )
        })
        .collect();
    let has = |needle: &str| text.iter().any(|t| t.contains(needle));
    assert!(
        has("broken.yaml:2 ConstraintTemplate k8sbrokenrego: Rego does not compile"),
        "{text:#?}"
    );
    assert!(
        has("ConstraintTemplate k8sbrokenrego: Rego does not compile"),
        "{text:#?}"
    );
    assert!(
        has("K8sNativeValidation (CEL) templates are not supported"),
        "{text:#?}"
    );
    assert!(
        has("no ConstraintTemplate for kind `K8sNoSuchTemplate`"),
        "{text:#?}"
    );
}

#[test]
fn vap_messages_follow_the_api_server() {
    let (report, _) = scan_file("vap/docs-replicas.yaml");
    let f = on(&report, "bad-too-many");
    assert_eq!(
        f[0].rule,
        "vap/demo-policy.example.com/demo-binding-test.example.com"
    );
    assert_eq!(
        &*f[0].message,
        "ValidatingAdmissionPolicy 'demo-policy.example.com' with binding 'demo-binding-test.example.com' denied request: failed expression: object.spec.replicas <= 5"
    );
    assert_eq!(f[0].severity, Severity::High);

    let (report, _) = scan_file("vap/docs-params.yaml");
    let f = on(&report, "bad-over-limit");
    assert!(
        f[0].message
            .ends_with(": object.spec.replicas must be no greater than 3"),
        "{}",
        f[0].message
    );
    let f = on(&report, "bad-staging-over-selected-limit");
    assert_eq!(f[0].severity, Severity::Medium, "validationActions [Warn]");
    assert!(
        f[0].message.ends_with("no greater than 2"),
        "{}",
        f[0].message
    );

    let (report, diagnostics) = scan_file("vap/libraries.yaml");
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let f = on(&report, "bad-foreign-registry");
    assert_eq!(f[0].severity, Severity::Info, "validationActions [Audit]");
    assert!(f.iter().any(|f| {
        f.message
            .ends_with("images must come from registry.example.com (reason: Forbidden)")
    }));
    let f = on(&report, "bad-unpinned");
    assert!(
        f.iter().any(|f| f
            .message
            .ends_with("images must be pinned: registry.example.com/app:latest")),
        "{f:?}"
    );
}

#[test]
fn vap_failure_policy_and_authorizer() {
    let (report, diagnostics) = scan_file("vap/failure.yaml");
    let f = on(&report, "bad-no-labels");
    assert_eq!(f.len(), 1);
    assert!(
        f[0].message.contains("resulted in error")
            && f[0].message.ends_with("(failurePolicy: Fail)"),
        "{}",
        f[0].message
    );
    let warn: Vec<&Diagnostic> = diagnostics
        .iter()
        .filter(|d| d.level == DiagLevel::Warning)
        .collect();
    assert!(
        warn.iter().any(|d| d.message.contains("uses `authorizer`")),
        "{diagnostics:?}"
    );
    assert!(
        warn.iter().any(|d| d.message.starts_with(
            "policy `vap/lenient-owner/lenient-owner` could not be evaluated on 1 object(s)"
        )),
        "{diagnostics:?}"
    );
}

#[test]
fn custom_policies_have_their_scorecard_section() {
    let (report, _) = scan_file("vap/docs-replicas.yaml");
    let custom = report
        .scorecard
        .iter()
        .find(|s| s.section == Section::Custom)
        .unwrap();
    assert_eq!(custom.status, Status::Fail);
    assert_eq!(custom.findings, 1);
    let plain = scan::scan_all(&[Input::File(fixture("vap/docs-replicas.yaml"))]);
    assert!(plain.scorecard.iter().all(|s| s.section != Section::Custom));
}

#[test]
fn suppression_annotations_and_fingerprints_work_for_policies() {
    let yaml = r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: p}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["configmaps"]}]
  validations:
    - {expression: "has(object.data)", message: "no data"}
    - {expression: "has(object.metadata.labels)", message: "no labels"}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: b}
spec: {policyName: p, validationActions: [Deny]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: two, namespace: x}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: silenced
  namespace: x
  annotations: {kubeharden.io/ignore: "vap/p/b", kubeharden.io/ignore-reason: "test"}
"#;
    let input = Input::Bytes {
        name: "inline.yaml".into(),
        bytes: Arc::from(yaml.as_bytes()),
    };
    let (report, _) = scan_policies(&[input]);
    let two = on(&report, "two");
    assert_eq!(two.len(), 2);
    assert_ne!(
        two[0].fingerprint, two[1].fingerprint,
        "distinct violations, distinct fingerprints"
    );
    assert!(on(&report, "silenced").is_empty());
    assert_eq!(report.suppressed, 2);
}

#[test]
fn referential_templates_see_the_inputs_and_say_so_without_them() {
    let (report, diagnostics) = scan_file("gatekeeper/referential.yaml");
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let f = on(&report, "bad-shop");
    assert_eq!(
        &*f[0].message,
        "ingress host <shop.example.com> is also used by staging/bad-shop-copy"
    );
    // Without inputs (the webhook), the template is reported and not evaluated.
    let loaded = kubeharden_engine::load::load_file(&fixture("gatekeeper/referential.yaml"));
    let without = Policies::from_objects(loaded.objects, Vec::new());
    assert!(without.policies.is_empty());
    assert!(
        without.diagnostics[0]
            .message
            .contains("uses data.inventory"),
        "{:?}",
        without.diagnostics
    );
}

/// At admission (`check_reporting`): an `objectSelector` selects an UPDATE when it selects the
/// old object or the new one, as the API server matches it; a `namespaceSelector` on the
/// namespace's name needs no lookup; one on other labels, when they cannot be read, is reported
/// unevaluable (and, failing closed, a finding says why), never skipped.
#[test]
fn selectors_at_admission() {
    use kubeharden_engine::rules::{Context, NamespaceLookup, RequestInfo, Unevaluable};
    let text = r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: no-latest}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["configmaps"]}]
  validations:
    - {expression: "!has(object.data) || !('latest' in object.data)", message: "no latest key"}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: web-objects}
spec:
  policyName: no-latest
  validationActions: [Deny]
  matchResources:
    objectSelector: {matchLabels: {app: web}}
    namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: In, values: [shop]}]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: prod}
spec:
  policyName: no-latest
  validationActions: [Deny]
  matchResources:
    namespaceSelector: {matchLabels: {env: prod}}
"#;
    let loaded = kubeharden_engine::load::load_bytes("p.yaml", text.as_bytes().to_vec());
    let policies = Policies::from_objects(loaded.objects, Vec::new());
    assert!(
        policies.diagnostics.is_empty(),
        "{:?}",
        policies.diagnostics
    );
    let policies = policies.policies;
    let object = kubeharden_engine::load::load_bytes(
        "cm.yaml",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\ndata: {latest: x}\n"
            .to_vec(),
    )
    .objects
    .remove(0);
    let ctx = Context {
        request: Some(RequestInfo {
            operation: "UPDATE".into(),
            old_object: Some(serde_json::json!({"metadata": {"labels": {"app": "web"}}})),
            namespace: NamespaceLookup::Unavailable("no source".into()),
            ..RequestInfo::default()
        }),
        ..Context::default()
    };
    let rules = policies.rules().to_vec();
    let mut unevaluable = Vec::new();
    let emitters = policies.check_reporting(&ctx, &object, &rules, &mut unevaluable);
    let findings: Vec<(&str, &str)> = emitters
        .iter()
        .flat_map(|e| e.findings.iter())
        .map(|f| (f.rule, &*f.message))
        .collect();
    assert_eq!(
        findings,
        [
            (
                "vap/no-latest/web-objects",
                "ValidatingAdmissionPolicy 'no-latest' with binding 'web-objects' denied request: no latest key"
            ),
            (
                "vap/no-latest/prod",
                "ValidatingAdmissionPolicy 'no-latest' with binding 'prod' denied request: its namespaceSelector cannot be evaluated: the labels of namespace `shop` are not available: no source (failurePolicy: Fail)"
            ),
        ]
    );
    assert_eq!(
        unevaluable,
        [Unevaluable {
            rule: "vap/no-latest/prod",
            reason: "namespace_labels",
            detail: "its namespaceSelector cannot be evaluated: the labels of namespace `shop` are not available: no source".into(),
            fail_closed: true,
        }]
    );
}
