//! `scan::prescan`: one read of the inputs before the scan for the objects a front end needs and
//! the namespaces of phase 0; a scan given those namespaces gives the report phase 0 would.

use kubeharden_engine::inventory::Object;
use kubeharden_engine::load::Input;
use kubeharden_engine::rules;
use kubeharden_engine::scan::{Extras, prescan, scan_owned};
use std::sync::Arc;

fn input(name: &str, text: &str) -> Input {
    Input::Bytes {
        name: name.into(),
        bytes: Arc::from(text.as_bytes()),
    }
}

fn inputs() -> Vec<Input> {
    vec![
        input(
            "ns.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n  labels:\n    pod-security.kubernetes.io/enforce: baseline\n",
        ),
        input(
            "app.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: apps}\nspec:\n  template:\n    spec:\n      hostNetwork: true\n      containers: [{name: a, image: busybox}]\n",
        ),
        // A CRD whose descriptions say "Namespace ...": no Namespace object, not parsed for one.
        input(
            "crd.yaml",
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: xs.example.com}\nspec:\n  group: example.com\n  names: {kind: X, plural: xs}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        description: Namespace defines where X runs.\n        type: object\n",
        ),
        input(
            "constraint.yaml",
            "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sRequiredLabels\nmetadata: {name: need-owner}\nspec: {}\n",
        ),
    ]
}

fn is_constraint(o: &Object) -> bool {
    o.group() == "constraints.gatekeeper.sh"
}

#[test]
fn prescan_finds_the_objects_asked_for_and_the_namespaces() {
    let found = prescan(&inputs(), &["gatekeeper"], &is_constraint);
    let objects: Vec<(&str, &str, &str)> = found
        .objects
        .iter()
        .map(|o| (o.source.name.as_str(), o.kind.as_str(), o.name.as_str()))
        .collect();
    assert_eq!(
        objects,
        [("constraint.yaml", "K8sRequiredLabels", "need-owner")]
    );
    let namespaces = format!("{:?}", found.phase0);
    assert!(namespaces.contains("\"apps\""), "{namespaces}");
    assert!(
        namespaces.contains("pod-security.kubernetes.io/enforce"),
        "{namespaces}"
    );
    assert!(namespaces.contains("ns.yaml"), "{namespaces}");
    assert!(!namespaces.contains("crd.yaml"), "{namespaces}");
}

#[test]
fn a_scan_given_the_prescanned_namespaces_reports_as_phase_0_would() {
    let all = rules::all();
    let json = |extras: Extras| {
        let report = scan_owned(inputs(), all, extras);
        let fired: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.rule == "workload-violates-namespace-pss")
            .map(|f| &*f.message)
            .collect();
        assert_eq!(
            fired,
            [
                "pods of Deployment \"d\" will be rejected: namespace \"apps\" enforces PodSecurity \"baseline:latest\": host namespaces (hostNetwork=true)"
            ]
        );
        serde_json::to_string(&report).unwrap()
    };
    let own = json(Extras::default());
    let given = json(Extras {
        phase0: Some(prescan(&inputs(), &[], &|_| false).phase0),
        ..Extras::default()
    });
    assert_eq!(own, given);
}
