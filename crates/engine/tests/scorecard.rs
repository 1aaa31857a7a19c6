//! The scorecard never says `pass` without the evidence: each section's verdict is a function of
//! the rules of the section, those selected, those that ran, and the evidence in the input. The
//! first four tests are the defects reported in "One engine, one answer".

use kubeharden_engine::finish::{self, Finish};
use kubeharden_engine::load::Input;
use kubeharden_engine::report::{Report, SectionScore, Status};
use kubeharden_engine::rules::{self, Rule, Section};
use kubeharden_engine::scan;

fn input(text: &str) -> Input {
    Input::Bytes {
        name: "in.yaml".into(),
        bytes: text.as_bytes().into(),
    }
}

/// The finished report of `text` scanned with `rules`.
fn report_with(text: &str, rules: &[&'static Rule]) -> Report {
    let report = scan::scan(&[input(text)], rules);
    finish::finish(report, &Finish::default()).0
}

fn report(text: &str) -> Report {
    report_with(text, rules::all())
}

fn section(report: &Report, s: Section) -> &SectionScore {
    report.scorecard.iter().find(|x| x.section == s).unwrap()
}

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: app, image: nginx}]\n";

const HOSTPID_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  hostPID: true\n  containers: [{name: app, image: nginx}]\n";

const KUBELET_CONFIG: &str = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthentication:\n  anonymous: {enabled: false}\n  webhook: {enabled: true}\n  x509: {clientCAFile: /etc/kubernetes/pki/ca.crt}\nauthorization: {mode: Webhook}\nreadOnlyPort: 0\n";

const APISERVER_STATIC_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-apiserver\n  namespace: kube-system\n  labels: {component: kube-apiserver, tier: control-plane}\nspec:\n  hostNetwork: true\n  containers:\n  - name: kube-apiserver\n    image: registry.k8s.io/kube-apiserver:v1.31.2\n    command:\n    - kube-apiserver\n    - --anonymous-auth=false\n    - --authorization-mode=Node,RBAC\n    - --profiling=false\n";

const ABSENCE_RULES: &[&str] = &[
    "runtime-detection-missing",
    "metrics-monitoring-missing",
    "dashboards-missing",
    "cis-benchmark-not-scheduled",
    "image-scanning-in-cluster-missing",
    "secrets-manager-missing",
];

fn absence_findings(report: &Report) -> Vec<&'static str> {
    report
        .findings
        .iter()
        .map(|f| f.rule)
        .filter(|r| ABSENCE_RULES.contains(r))
        .collect()
}

#[test]
fn a_lone_deployment_does_not_pass_egress() {
    let r = report(DEPLOYMENT);
    assert_eq!(section(&r, Section::Rule(11)).status, Status::Fail);
    let s12 = section(&r, Section::Rule(12));
    assert_eq!(s12.status, Status::NotAssessed, "{s12:?}");
    assert!(
        s12.missing[0].starts_with("no NetworkPolicy or CNI policy in the input"),
        "{s12:?}"
    );
}

#[test]
fn deselected_rules_are_named_and_never_pass() {
    let only = [rules::find("container-privileged").unwrap()];
    let r = report_with(HOSTPID_POD, &only);
    let s9 = section(&r, Section::Rule(9));
    assert_eq!(s9.status, Status::Partial, "{s9:?}");
    assert_eq!(s9.assessed, ["container-privileged"]);
    let deselected: Vec<&str> = rules::all()
        .iter()
        .filter(|r| r.section == Section::Rule(9) && r.id != "container-privileged")
        .map(|r| r.id)
        .collect();
    assert_eq!(
        s9.missing,
        [format!("rules deselected: {}", deselected.join(", "))]
    );
    // A section none of whose rules was selected is not assessed, and says why; it never
    // claims that no rule of this version covers it.
    let s11 = section(&r, Section::Rule(11));
    assert_eq!(s11.status, Status::NotAssessed);
    assert!(s11.missing[0].starts_with("rules deselected: "), "{s11:?}");
    assert!(r.scorecard.iter().all(|s| {
        s.missing
            .iter()
            .all(|m| !m.contains("no rule of this version"))
    }));
}

#[test]
fn a_lone_kubelet_configuration_assesses_no_api_server_or_controller_check() {
    let r = report(KUBELET_CONFIG);
    let s1 = section(&r, Section::Rule(1));
    assert_eq!(s1.status, Status::NotAssessed, "{s1:?}");
    assert!(s1.assessed.is_empty());
    assert!(
        s1.missing
            .iter()
            .any(|m| m.starts_with("no kube-controller-manager or kube-scheduler flags")),
        "{s1:?}"
    );
    // The kubelet's own checks are assessed (and pass on this configuration).
    let s5 = section(&r, Section::Rule(5));
    assert!(s5.assessed.contains(&"kubelet-anonymous-auth"), "{s5:?}");
}

#[test]
fn one_static_pod_is_not_a_whole_cluster() {
    let r = report(APISERVER_STATIC_POD);
    assert_eq!(absence_findings(&r), Vec::<&str>::new());
    assert!(
        !r.summary
            .evidence
            .has(kubeharden_engine::evidence::Found::ClusterWorkloads)
    );
    let runtime = section(&r, Section::Runtime);
    assert_ne!(runtime.status, Status::Fail, "{runtime:?}");
    assert_ne!(section(&r, Section::Rule(15)).status, Status::Pass);
    // The same objects in a `kind: List` (a kubectl dump of them) answer the same.
    let list = format!(
        "apiVersion: v1\nkind: List\nitems:\n{}",
        APISERVER_STATIC_POD
            .lines()
            .enumerate()
            .map(|(i, l)| if i == 0 {
                format!("- {l}\n")
            } else {
                format!("  {l}\n")
            })
            .collect::<String>()
    );
    let l = report(&list);
    assert_eq!(absence_findings(&l), Vec::<&str>::new());
    assert_eq!(
        r.scorecard.iter().map(|s| s.status).collect::<Vec<_>>(),
        l.scorecard.iter().map(|s| s.status).collect::<Vec<_>>()
    );
}

const RUNTIME_STACK: &str = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: falco, namespace: falco}\nspec:\n  template:\n    spec:\n      containers: [{name: falco, image: falcosecurity/falco:0.39.0}]\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: prometheus, namespace: monitoring}\nspec:\n  template:\n    spec:\n      containers: [{name: p, image: quay.io/prometheus/prometheus:v2.54.0}]\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: grafana, namespace: monitoring}\nspec:\n  template:\n    spec:\n      containers: [{name: g, image: grafana/grafana:11.2.0}]\n---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {name: kube-bench, namespace: security}\nspec:\n  schedule: '0 3 * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers: [{name: kb, image: docker.io/aquasec/kube-bench:v0.8.0}]\n";

#[test]
fn security_tools_anywhere_count_as_present() {
    let r = report(RUNTIME_STACK);
    assert_eq!(absence_findings(&r), Vec::<&str>::new());
    let runtime = section(&r, Section::Runtime);
    for id in [
        "runtime-detection-missing",
        "metrics-monitoring-missing",
        "dashboards-missing",
        "cis-benchmark-not-scheduled",
    ] {
        assert!(runtime.assessed.contains(&id), "{id}: {runtime:?}");
    }
    assert_ne!(runtime.status, Status::NotAssessed);
}

const KUBE_SYSTEM_OWN: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: coredns, namespace: kube-system}\nspec:\n  template:\n    metadata: {labels: {k8s-app: kube-dns}}\n    spec:\n      containers: [{name: coredns, image: registry.k8s.io/coredns/coredns:v1.11.1}]\n";

#[test]
fn kube_system_own_workloads_make_a_whole_cluster_and_absence_is_reported() {
    let r = report(KUBE_SYSTEM_OWN);
    assert!(
        r.summary
            .evidence
            .has(kubeharden_engine::evidence::Found::ClusterWorkloads)
    );
    let mut found = absence_findings(&r);
    found.sort();
    let mut all = ABSENCE_RULES.to_vec();
    all.sort();
    assert_eq!(found, all);
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "runtime-detection-missing")
        .unwrap();
    assert_eq!(
        (f.subject.kind.as_str(), f.location.line),
        ("Cluster", 1),
        "located at the first kube-system workload"
    );
    // With a detector present, that rule is satisfied, the others still report absence.
    let r = report(&format!("{KUBE_SYSTEM_OWN}---\n{RUNTIME_STACK}"));
    assert!(!absence_findings(&r).contains(&"runtime-detection-missing"));
    assert!(absence_findings(&r).contains(&"secrets-manager-missing"));
}

#[test]
fn a_section_passes_only_with_every_rule_selected_run_and_evidenced() {
    // Section 9 on a hardened Pod with every rule: pass.
    let hardened = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n  containers:\n  - name: app\n    image: nginx@sha256:0000000000000000000000000000000000000000000000000000000000000000\n    securityContext:\n      allowPrivilegeEscalation: false\n      readOnlyRootFilesystem: true\n      capabilities: {drop: [ALL]}\n";
    let r = report(hardened);
    let s9 = section(&r, Section::Rule(9));
    assert_eq!(s9.status, Status::Pass, "{s9:?}");
    let in_9: Vec<&str> = rules::all()
        .iter()
        .filter(|r| r.section == Section::Rule(9))
        .map(|r| r.id)
        .collect();
    assert_eq!(s9.assessed, in_9);
    // Audit-log rules never run on objects: their sections cannot pass from manifests alone.
    let s3 = section(&r, Section::Rule(3));
    assert_ne!(s3.status, Status::Pass);
}
