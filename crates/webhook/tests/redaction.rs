//! No secret value in an AdmissionReview response: objects with canary secrets reviewed over real
//! HTTPS, next to the user's policies whose messages quote the values (a Gatekeeper constraint
//! printing env values, a ValidatingAdmissionPolicy printing a ConfigMap's URL). The findings are
//! still there (denied, warned), their messages masked; no byte of the response holds a canary.

mod common;

use common::{Client, start_with};
use hyper::StatusCode;
use kubeharden_engine::inventory::Object;
use kubeharden_policy::Policies;
use kubeharden_webhook::Policy;
use serde_json::{Value, json};
use std::sync::Arc;

const CANARIES: &[&str] = &[
    "zqCANARYwJalrXUtnFEMIK7MDENGbPxRfiCY0003",
    "zqCANARYblock0004",
    "zqCANARYurl0008",
    "CANARY",
];

const POLICIES: &str = r#"
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8sprintenv}
spec:
  crd: {spec: {names: {kind: K8sPrintEnv}}}
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8sprintenv
        violation[{"msg": msg}] {
          c := input.review.object.spec.template.spec.containers[_]
          e := c.env[_]
          msg := sprintf("container %v sets %v=%v", [c.name, e.name, e.value])
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sPrintEnv
metadata: {name: print-env}
spec:
  match: {kinds: [{apiGroups: ["apps"], kinds: ["Deployment"]}]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: no-urls}
spec:
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["configmaps"]}]
  validations:
    - expression: "!has(object.data) || !('DATABASE_URL' in object.data)"
      messageExpression: "'DATABASE_URL is ' + object.data.DATABASE_URL"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: no-urls-warn}
spec: {policyName: no-urls, validationActions: [Warn]}
"#;

fn policy() -> Policy {
    let loaded = kubeharden_engine::load::load_bytes("policies.yaml", POLICIES.as_bytes().to_vec());
    let objects: Vec<Object> = loaded.objects;
    let policies = Policies::from_objects(objects, Vec::new());
    assert!(
        policies.diagnostics.is_empty(),
        "{:?}",
        policies.diagnostics
    );
    Policy::default().with_custom(Arc::new(policies.policies))
}

fn review(uid: &str, group: &str, kind: &str, resource: &str, object: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": group, "version": "v1", "kind": kind},
            "resource": {"group": group, "version": "v1", "resource": resource},
            "name": object["metadata"]["name"],
            "namespace": "pay",
            "operation": "CREATE",
            "userInfo": {"username": "alice", "groups": ["dev"]},
            "object": object,
            "oldObject": null,
            "dryRun": false,
        }
    }))
    .unwrap()
}

#[track_caller]
fn assert_no_secret(what: &str, body: &[u8]) {
    let text = String::from_utf8_lossy(body);
    for c in CANARIES {
        assert!(
            !text.contains(c),
            "{what} copies the secret value {c}: {text}"
        );
    }
}

#[tokio::test]
async fn admission_responses_carry_no_secret_value() {
    let s = start_with(policy(), |_| {}).await;
    let mut c = Client::connect(s.running.addr, &s.ca.der).await;

    let deployment = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "billing", "namespace": "pay"},
        "spec": {
            "selector": {"matchLabels": {"app": "billing"}},
            "template": {
                "metadata": {"labels": {"app": "billing"}},
                "spec": {"containers": [{
                    "name": "billing",
                    "image": "ghcr.io/example/billing:3.2",
                    "env": [
                        {"name": "AWS_SECRET_ACCESS_KEY", "value": "zqCANARYwJalrXUtnFEMIK7MDENGbPxRfiCY0003"},
                        {"name": "DB_PASS", "value": "zqCANARYblock0004"},
                        {"name": "LOG_LEVEL", "value": "debug"},
                    ],
                    "securityContext": {"privileged": true},
                }]},
            },
        },
    });
    let (status, body) = c
        .send(
            "POST",
            "/validate",
            Some("application/json"),
            review("d1", "apps", "Deployment", "deployments", deployment),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_no_secret("the Deployment's AdmissionReview response", &body);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["response"]["allowed"], false);
    let m = v["response"]["status"]["message"].as_str().unwrap();
    assert!(m.contains("[hardcoded-credential-in-env]"), "{m}");
    assert!(m.contains("[container-privileged]"), "{m}");
    // The user's policy quoted the values: masked, the rest of its message kept.
    let all = v.to_string();
    assert!(
        all.contains("container billing sets AWS_SECRET_ACCESS_KEY=zqCA…(40 chars)"),
        "{all}"
    );
    assert!(
        all.contains("container billing sets DB_PASS=zqCA…(17 chars)"),
        "{all}"
    );
    assert!(
        all.contains("container billing sets LOG_LEVEL=debug"),
        "{all}"
    );

    let config_map = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "pay"},
        "data": {"DATABASE_URL": "postgres://admin:zqCANARYurl0008@db.pay.svc:5432/billing"},
    });
    let (status, body) = c
        .send(
            "POST",
            "/validate",
            Some("application/json"),
            review("c1", "", "ConfigMap", "configmaps", config_map),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_no_secret("the ConfigMap's AdmissionReview response", &body);
    let v: Value = serde_json::from_slice(&body).unwrap();
    let all = v.to_string();
    assert!(all.contains("[credential-in-config-data]"), "{all}");
    assert!(
        all.contains("DATABASE_URL is postgres://admin:zq…(15 chars)@db.pay.svc:5432/billing"),
        "{all}"
    );

    s.running.shutdown().await.unwrap();
}
