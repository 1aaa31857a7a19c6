//! The user's policies at admission: a Gatekeeper constraint with `enforcementAction: deny` and
//! a ValidatingAdmissionPolicy bound with `[Warn]` judge AdmissionReviews next to the built-in
//! rules; the request's operation and user reach the policies.

use kubeharden_engine::inventory::Object;
use kubeharden_policy::Policies;
use kubeharden_webhook::server::validate_body;
use kubeharden_webhook::{Policy, Reviewer};
use std::sync::Arc;

const POLICIES: &str = r#"
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8srequiredowner}
spec:
  crd: {spec: {names: {kind: K8sRequiredOwner}}}
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8srequiredowner
        violation[{"msg": msg}] {
          not input.review.object.metadata.labels.owner
          msg := sprintf("%v by %v: an owner label is required", [input.review.operation, input.review.userInfo.username])
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredOwner
metadata: {name: configmaps-need-owner}
spec:
  match: {kinds: [{apiGroups: [""], kinds: ["ConfigMap"]}]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: small-configmaps}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["configmaps"]}]
  validations:
    - expression: "!has(object.data) || size(object.data) <= 1"
      messageExpression: "'at most one key, not ' + string(size(object.data))"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: small-configmaps-warn}
spec: {policyName: small-configmaps, validationActions: [Warn]}
"#;

fn reviewer() -> Reviewer {
    let loaded = kubeharden_engine::load::load_bytes("policies.yaml", POLICIES.as_bytes().to_vec());
    let objects: Vec<Object> = loaded.objects;
    let policies = Policies::from_objects(objects, Vec::new());
    assert!(
        policies.diagnostics.is_empty(),
        "{:?}",
        policies.diagnostics
    );
    Reviewer::new(Policy::default().with_custom(Arc::new(policies.policies)))
}

fn review(reviewer: &Reviewer, object: serde_json::Value) -> serde_json::Value {
    let body = serde_json::json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "u-1",
            "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
            "resource": {"group": "", "version": "v1", "resource": "configmaps"},
            "namespace": "shop",
            "operation": "CREATE",
            "userInfo": {"username": "alice", "groups": ["dev"]},
            "object": object,
        }
    });
    let out = validate_body(reviewer, body.to_string().as_bytes()).unwrap();
    serde_json::from_slice::<serde_json::Value>(&out).unwrap()["response"].clone()
}

#[test]
fn gatekeeper_deny_denies_and_sees_the_request() {
    let r = reviewer();
    let resp = review(
        &r,
        serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "shop"}, "data": {"a": "1"}}),
    );
    assert_eq!(resp["allowed"], false, "{resp}");
    let message = resp["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("gatekeeper/k8srequiredowner/configmaps-need-owner")
            && message.contains("CREATE by alice: an owner label is required"),
        "{message}"
    );
}

#[test]
fn vap_warn_warns_and_clean_objects_pass() {
    let r = reviewer();
    let resp = review(
        &r,
        serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "shop", "labels": {"owner": "a"}}, "data": {"a": "1", "b": "2"}}),
    );
    assert_eq!(resp["allowed"], true, "{resp}");
    let warnings = resp["warnings"].to_string();
    assert!(warnings.contains("at most one key, not 2"), "{warnings}");

    let resp = review(
        &r,
        serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "shop", "labels": {"owner": "a"}}, "data": {"a": "1"}}),
    );
    assert_eq!(resp["allowed"], true, "{resp}");
    assert!(resp.get("warnings").is_none(), "{resp}");
}
