//! The user's policies at admission: a Gatekeeper constraint with `enforcementAction: deny` and
//! a ValidatingAdmissionPolicy bound with `[Warn]` judge AdmissionReviews next to the built-in
//! rules; the request's operation and user reach the policies.

mod common;

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

/// A ValidatingAdmissionPolicy bound to the namespaces labelled `env: prod`: the AdmissionReview
/// does not carry the namespace's labels, so the webhook must look them up, or say it could not
/// and follow the policy's failurePolicy; never skip the policy in silence.
fn namespaced_policy(failure_policy: &str) -> String {
    format!(
        r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {{name: prod-replicas}}
spec:
  failurePolicy: {failure_policy}
  matchConstraints:
    resourceRules: [{{apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["deployments"]}}]
  validations:
    - {{expression: "object.spec.replicas >= 2", message: "prod needs at least 2 replicas"}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: prod-only}}
spec:
  policyName: prod-replicas
  validationActions: [Deny]
  matchResources:
    namespaceSelector: {{matchLabels: {{env: prod}}}}
"#
    )
}

fn namespaced_reviewer(
    failure_policy: &str,
    namespaces: Option<kubeharden_webhook::namespaces::Fixed>,
) -> Reviewer {
    let text = namespaced_policy(failure_policy);
    let loaded = kubeharden_engine::load::load_bytes("policies.yaml", text.into_bytes());
    let policies = Policies::from_objects(loaded.objects, Vec::new());
    assert!(
        policies.diagnostics.is_empty(),
        "{:?}",
        policies.diagnostics
    );
    let reviewer = Reviewer::new(Policy::default().with_custom(Arc::new(policies.policies)));
    match namespaces {
        Some(n) => reviewer.with_namespaces(Arc::new(n)),
        None => reviewer,
    }
}

fn deployment_review(namespace: &str) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "u-2",
            "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "namespace": namespace,
            "operation": "CREATE",
            "userInfo": {"username": "alice"},
            "object": {
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": namespace},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                         "template": {"metadata": {"labels": {"app": "web"}},
                                      "spec": {"containers": [{"name": "web", "image": "web:1"}]}}}
            }
        }
    })
}

fn namespaces() -> kubeharden_webhook::namespaces::Fixed {
    kubeharden_webhook::namespaces::Fixed::new([
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"env": "prod"}}}),
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "lab", "labels": {"env": "dev"}}}),
    ])
}

const RULE: &str = "vap/prod-replicas/prod-only";

/// The warnings about the user's policies (the built-in rules warn too).
fn policy_warnings(resp: &serde_json::Value) -> Vec<&str> {
    resp["warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w.as_str())
        .filter(|w| w.contains("[vap/"))
        .collect()
}

fn decide(
    reviewer: &Reviewer,
    namespace: &str,
) -> (kubeharden_webhook::review::Decision, serde_json::Value) {
    let body = deployment_review(namespace).to_string();
    let review: kubeharden_webhook::admission::ReviewIn<'_> = serde_json::from_str(&body).unwrap();
    let decision = reviewer.review(review.request.as_ref().unwrap()).unwrap();
    let out = validate_body(reviewer, body.as_bytes()).unwrap();
    let response = serde_json::from_slice::<serde_json::Value>(&out).unwrap()["response"].clone();
    (decision, response)
}

#[test]
fn namespace_selector_reads_the_looked_up_labels() {
    let r = namespaced_reviewer("Fail", Some(namespaces()));
    let (decision, resp) = decide(&r, "shop");
    assert_eq!(resp["allowed"], false, "{resp}");
    assert!(
        resp["status"]["message"]
            .as_str()
            .unwrap()
            .contains("[vap/prod-replicas/prod-only] (high) : ValidatingAdmissionPolicy 'prod-replicas' with binding 'prod-only' denied request: prod needs at least 2 replicas"),
        "{resp}"
    );
    assert!(
        decision.unevaluable.is_empty(),
        "{:?}",
        decision.unevaluable
    );

    // Not selected: admitted, with no warning of the policy.
    let (decision, resp) = decide(&r, "lab");
    assert_eq!(resp["allowed"], true, "{resp}");
    assert!(policy_warnings(&resp).is_empty(), "{resp}");
    assert!(decision.unevaluable.is_empty());
}

#[test]
fn namespace_labels_unavailable_fail_closed_denies_saying_why() {
    let r = namespaced_reviewer("Fail", None);
    let (decision, resp) = decide(&r, "shop");
    assert_eq!(resp["allowed"], false, "{resp}");
    let message = resp["status"]["message"].as_str().unwrap();
    assert!(
        message.contains(
            "[vap/prod-replicas/prod-only] (high) : ValidatingAdmissionPolicy 'prod-replicas' with binding 'prod-only' denied request: its namespaceSelector cannot be evaluated: the labels of namespace `shop` are not available: the webhook reads no Namespaces (started without access to the API server) (failurePolicy: Fail)"
        ),
        "{message}"
    );
    assert_eq!(decision.unevaluable.len(), 1);
    assert_eq!(decision.unevaluable[0].rule, RULE);
    assert_eq!(decision.unevaluable[0].reason, "namespace_labels");
    assert!(decision.unevaluable[0].fail_closed);
    assert_eq!(
        resp["auditAnnotations"]["unevaluable-policies"],
        "vap/prod-replicas/prod-only:namespace_labels"
    );
}

#[test]
fn namespace_labels_unavailable_fail_open_admits_with_a_warning() {
    let r = namespaced_reviewer("Ignore", None);
    let (decision, resp) = decide(&r, "shop");
    assert_eq!(resp["allowed"], true, "{resp}");
    assert_eq!(
        policy_warnings(&resp),
        [
            "kubeharden [vap/prod-replicas/prod-only] not evaluated, admitted without it (failurePolicy: Ignore): its namespaceSelector cannot be evaluated: the labels of namespace `shop` are not available: the webhook reads no Namespaces (started without access to …"
        ],
        "{resp}"
    );
    assert_eq!(decision.unevaluable.len(), 1);
    assert!(!decision.unevaluable[0].fail_closed);
}

#[test]
fn a_namespace_the_api_server_does_not_know_is_unevaluable() {
    let r = namespaced_reviewer("Ignore", Some(namespaces()));
    let (decision, resp) = decide(&r, "ghost");
    assert_eq!(resp["allowed"], true, "{resp}");
    assert_eq!(decision.unevaluable.len(), 1);
    assert!(
        decision.unevaluable[0]
            .detail
            .ends_with("the API server has no namespace `ghost`"),
        "{:?}",
        decision.unevaluable
    );
}

#[test]
fn policies_needing_namespace_labels_or_params_are_listed() {
    let r = namespaced_reviewer("Fail", None);
    assert_eq!(
        r.admission_needs(),
        [kubeharden_engine::rules::AdmissionNeed {
            rule: RULE,
            namespace: true,
            params: None,
            fail_closed: true,
        }]
    );
    // The built-in reviewer (test `reviewer()`) needs nothing beyond the request.
    assert!(
        reviewer()
            .admission_needs()
            .iter()
            .all(|n| !n.namespace && n.params.is_none())
    );
}

/// A policy with a paramKind whose parameter objects were not given: the webhook does not read
/// them from the cluster, so the policy is not evaluated (and says so), not skipped.
#[test]
fn params_not_given_follow_the_failure_policy() {
    let text = r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: replica-limit}
spec:
  failurePolicy: Fail
  paramKind: {apiVersion: v1, kind: ConfigMap}
  matchConstraints:
    resourceRules: [{apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["deployments"]}]
  validations:
    - {expression: "object.spec.replicas <= int(params.data.max)"}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replica-limit-binding}
spec:
  policyName: replica-limit
  validationActions: [Deny]
  paramRef: {name: limits, namespace: default, parameterNotFoundAction: Allow}
"#;
    let loaded = kubeharden_engine::load::load_bytes("policies.yaml", text.as_bytes().to_vec());
    let policies = Policies::from_objects(loaded.objects, Vec::new());
    let r = Reviewer::new(Policy::default().with_custom(Arc::new(policies.policies)));
    assert_eq!(
        r.admission_needs()[0].params,
        Some(("ConfigMap".to_owned(), 0))
    );
    let (decision, resp) = decide(&r, "shop");
    assert_eq!(resp["allowed"], false, "{resp}");
    assert_eq!(decision.unevaluable.len(), 1);
    assert_eq!(decision.unevaluable[0].reason, "params");
    assert_eq!(
        decision.unevaluable[0].detail,
        "no ConfigMap parameter object was given with --policy (paramRef default/limits); the webhook does not read parameters from the cluster"
    );
}

/// The server counts each policy it could not evaluate, by policy and reason.
#[tokio::test]
async fn unevaluable_policies_are_counted() {
    let r = namespaced_reviewer("Ignore", None);
    let s = common::start_with(r.policy, |_| {}).await;
    let mut c = common::Client::connect(s.running.addr, &s.ca.der).await;
    for _ in 0..2 {
        let (_, v) = c
            .review(deployment_review("shop").to_string().into_bytes())
            .await;
        assert_eq!(v["response"]["allowed"], true, "{v}");
    }
    let (_, metrics) = common::get_plain(s.running.metrics_addr.unwrap(), "/metrics").await;
    let line = "kubeharden_webhook_policy_unevaluable_total{policy=\"vap/prod-replicas/prod-only\",reason=\"namespace_labels\"} 2";
    assert!(metrics.contains(line), "missing `{line}` in\n{metrics}");
    s.running.shutdown().await.unwrap();
}
