//! The cost of custom policies (issue 11): 50 Gatekeeper templates with a constraint each and 50
//! ValidatingAdmissionPolicies with a binding each, over 10,000 objects (Deployments, Pods,
//! Services, ConfigMaps in 20 namespaces):
//!
//! ```sh
//! cargo bench -p kubeharden-policy --bench policies
//! ```
//!
//! - `load`: reading and compiling the 100 policies;
//! - `rego_50`, `cel_50`: a scan with only the Gatekeeper or only the VAP rules;
//! - `both_100`: a scan with all 100.
//!
//! Every policy matches the workload kinds and half of them fail on some objects, so the
//! figures are evaluations, not matching shortcuts.

use divan::Bencher;
use divan::counter::ItemsCount;
use kubeharden_engine::load::Input;
use kubeharden_engine::rules::{CustomPolicies, Rule};
use kubeharden_engine::scan::{self, Extras};
use kubeharden_policy::Policies;
use std::fmt::Write;
use std::sync::{Arc, LazyLock};

const OBJECTS: usize = 10_000;

fn policies_yaml() -> String {
    let mut y = String::new();
    for i in 0..50 {
        // Gatekeeper: required labels, allowed registries, resource limits, in rotation.
        let (rego, params) = match i % 3 {
            0 => (
                r#"package k8srequiredlabels{i}

violation[{"msg": msg}] {
  provided := {l | input.review.object.metadata.labels[l]}
  required := {l | l := input.parameters.labels[_]}
  missing := required - provided
  count(missing) > 0
  msg := sprintf("missing labels: %v", [missing])
}"#,
                format!("labels: [\"app\", \"team{}\"]", i % 2),
            ),
            1 => (
                r#"package k8sallowedrepos{i}

violation[{"msg": msg}] {
  c := input.review.object.spec.template.spec.containers[_]
  not startswith(c.image, input.parameters.repos[_])
  msg := sprintf("image %v not allowed", [c.image])
}"#,
                format!("repos: [\"registry{}.example.com/\"]", i % 2),
            ),
            _ => (
                r#"package k8slimits{i}

violation[{"msg": msg}] {
  c := input.review.object.spec.template.spec.containers[_]
  not c.resources.limits.memory
  msg := sprintf("container %v has no memory limit", [c.name])
}"#,
                String::from("{}"),
            ),
        };
        let rego = rego.replace("{i}", &i.to_string());
        let indented: String = rego.lines().map(|l| format!("        {l}\n")).collect();
        let _ = write!(
            y,
            "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {{name: t{i}}}\nspec:\n  crd: {{spec: {{names: {{kind: T{i}}}}}}}\n  targets:\n    - target: admission.k8s.gatekeeper.sh\n      rego: |\n{indented}---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: T{i}\nmetadata: {{name: c{i}}}\nspec:\n  match:\n    kinds: [{{apiGroups: [\"apps\"], kinds: [\"Deployment\"]}}]\n  parameters: {{{params}}}\n---\n",
            params = params.trim_matches(['{', '}'])
        );
        // VAP: replicas, labels, images, in rotation; with a variable and a messageExpression.
        let expression = match i % 3 {
            0 => format!("object.spec.replicas <= {}", 2 + i % 4),
            1 => "has(object.metadata.labels) && 'app' in object.metadata.labels".to_owned(),
            _ => "variables.images.all(i, i.startsWith('registry0.example.com/'))".to_owned(),
        };
        let _ = write!(
            y,
            "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {{name: p{i}}}\nspec:\n  matchConstraints:\n    resourceRules: [{{apiGroups: [\"apps\"], apiVersions: [\"v1\"], operations: [\"CREATE\"], resources: [\"deployments\"]}}]\n  variables:\n    - {{name: images, expression: \"object.spec.template.spec.containers.map(c, c.image)\"}}\n  validations:\n    - expression: \"{expression}\"\n      messageExpression: \"'policy {i} failed for ' + object.metadata.name\"\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {{name: b{i}}}\nspec: {{policyName: p{i}, validationActions: [Deny]}}\n---\n"
        );
    }
    y
}

fn objects_yaml() -> String {
    let mut y = String::new();
    for i in 0..OBJECTS {
        let ns = format!("ns{}", i % 20);
        let _ = write!(
            y,
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d{i}\n  namespace: {ns}\n  labels: {{app: d{i}, team{t}: x}}\nspec:\n  replicas: {r}\n  selector: {{matchLabels: {{app: d{i}}}}}\n  template:\n    metadata: {{labels: {{app: d{i}}}}}\n    spec:\n      containers:\n        - name: app\n          image: registry{reg}.example.com/app:{i}\n          resources: {{limits: {{memory: {mem}}}}}\n---\n",
            t = i % 2,
            r = i % 6,
            reg = i % 3,
            mem = if i % 4 == 0 { "null" } else { "256Mi" },
        );
    }
    y
}

struct Setup {
    policies: Arc<Policies>,
    inputs: Vec<Input>,
    rego: Vec<&'static Rule>,
    cel: Vec<&'static Rule>,
}

static SETUP: LazyLock<Setup> = LazyLock::new(|| {
    let policy_input = Input::Bytes {
        name: "policies.yaml".into(),
        bytes: Arc::from(policies_yaml().into_bytes()),
    };
    let loaded = Policies::from_inputs(std::slice::from_ref(&policy_input));
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let policies = Arc::new(loaded.policies);
    let (rego, cel): (Vec<&'static Rule>, Vec<&'static Rule>) = policies
        .rules()
        .iter()
        .partition(|r| r.id.starts_with("gatekeeper/"));
    assert_eq!((rego.len(), cel.len()), (50, 50));
    // The objects in 20 inputs of 500, as files of a repository would be.
    let text = objects_yaml();
    let docs: Vec<&str> = text.split("---\n").filter(|d| !d.is_empty()).collect();
    let inputs = docs
        .chunks(OBJECTS / 20)
        .enumerate()
        .map(|(n, chunk)| Input::Bytes {
            name: format!("objects-{n}.yaml"),
            bytes: Arc::from(chunk.join("---\n").into_bytes()),
        })
        .collect();
    Setup {
        policies,
        inputs,
        rego,
        cel,
    }
});

fn run(rules: &[&'static Rule]) -> usize {
    let s = &*SETUP;
    let report = scan::scan_with(
        &s.inputs,
        rules,
        Extras {
            custom: Some(s.policies.clone()),
            ..Extras::default()
        },
    );
    assert!(report.findings.len() > 1000);
    report.findings.len()
}

#[divan::bench(sample_count = 3)]
fn load(b: Bencher) {
    let input = Input::Bytes {
        name: "policies.yaml".into(),
        bytes: Arc::from(policies_yaml().into_bytes()),
    };
    b.bench(|| {
        Policies::from_inputs(std::slice::from_ref(&input))
            .policies
            .is_empty()
    });
}

#[divan::bench(sample_count = 3)]
fn rego_50(b: Bencher) {
    let rules = SETUP.rego.clone();
    b.counter(ItemsCount::new(OBJECTS)).bench(|| run(&rules));
}

#[divan::bench(sample_count = 3)]
fn cel_50(b: Bencher) {
    let rules = SETUP.cel.clone();
    b.counter(ItemsCount::new(OBJECTS)).bench(|| run(&rules));
}

#[divan::bench(sample_count = 3)]
fn both_100(b: Bencher) {
    let mut rules = SETUP.rego.clone();
    rules.extend(SETUP.cel.iter().copied());
    b.counter(ItemsCount::new(OBJECTS)).bench(|| run(&rules));
}

fn main() {
    divan::main();
}
