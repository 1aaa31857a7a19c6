//! A workload runs as its namespace's `default` ServiceAccount with the API token mounted.

use crate::analysis::rbac::Principal;
use crate::analysis::rbac::ServiceAccounts;
use crate::finding::Severity;
use crate::inventory::PodTemplate;
use crate::rules::Emitter;
use crate::rules::fix::{Fix, FixKind, Fixer, Job, New, Outcome, PodFix, no, ok, set};
use crate::rules::{Check, Evidence, Model, References, Rule, Section};
use crate::rules::{Context, Derived};
use crate::yaml::Node;
use std::collections::HashMap;

pub static RULE: Rule = Rule {
    id: "workload-uses-default-service-account",
    section: Section::Rule(2),
    severity: Severity::Medium,
    summary: "Workload runs as the `default` ServiceAccount with its API token mounted",
    rationale: "Every pod that names no ServiceAccount runs as its namespace's `default` one, so all \
        of them share one identity: any permission granted to `default` for one workload is held by \
        every other, and the token mounted in each pod lets whoever compromises it call the API as \
        that identity. Least privilege needs one ServiceAccount per workload, and no token where the \
        workload does not call the API.",
    remedy: "Create a ServiceAccount per workload and set `spec.serviceAccountName`; set \
        `automountServiceAccountToken: false` on the pod (or on the ServiceAccount) unless the \
        workload calls the Kubernetes API, and on every namespace's `default` ServiceAccount.",
    references: References {
        cis: &["5.1.5", "5.1.6"],
        checkov: &["CKV_K8S_38"],
        kube_linter: &["default-service-account"],
        kubescape: &["C-0189", "C-0034"],
        docs: &[
            "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/",
        ],
        ..References::NONE
    },
    evidence: &[Evidence::PodTemplates, Evidence::ServiceAccounts],
    fix: Some(&FIX),
    check: Check::Inventory(check, &[Model::Rbac]),
};

static FIX: Fix = Fix {
    order: 100,
    kind: FixKind::Safe,
    description: "Sets `automountServiceAccountToken: false` on the pod when no use of the \
            API is visible (no RBAC grant to the ServiceAccount, no projected token, no API \
            client in the image, command or environment).",
    fixer: Fixer::Pod {
        pod_level: true,
        fix,
    },
};

fn fix(p: &PodFix) -> Vec<Outcome> {
    let ids: Vec<usize> = p.mine.iter().map(|(i, _)| *i).collect();
    vec![no_token(p.job, p.template, ids)]
}

/// Signs that a workload calls the Kubernetes API with its ServiceAccount token.
fn api_use(job: &Job, t: &PodTemplate) -> Option<String> {
    let ns = job.object.effective_namespace().unwrap_or("default");
    let grants: Vec<String> = job
        .ctx
        .rbac
        .grants(&Principal::service_account(ns, "default"))
        .iter()
        // Bound to this very ServiceAccount: bindings to every ServiceAccount (of the cluster or
        // the namespace) would hold for a dedicated one as well.
        .filter(|g| {
            matches!(
                g.subject.service_accounts(),
                Some(ServiceAccounts::One { .. })
            )
        })
        .map(|g| g.binding.describe())
        .collect();
    if !grants.is_empty() {
        return Some(format!(
            "the \"default\" ServiceAccount of namespace \"{ns}\" is granted permissions ({})",
            grants.join(", ")
        ));
    }
    let projected_token = t
        .spec
        .get("volumes")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(|v| v.pointer("/projected/sources"))
        .flat_map(Node::items)
        .any(|s| s.get("serviceAccountToken").is_some());
    if projected_token {
        return Some("the pod mounts a projected ServiceAccount token".into());
    }
    const HINTS: &[&str] = &[
        "kubernetes_service",
        "serviceaccount",
        "kubeconfig",
        "kubectl",
        "operator",
        "controller",
        "kube-state-metrics",
    ];
    for c in t.containers() {
        let mut texts: Vec<&str> = Vec::new();
        texts.extend(c.field("image").and_then(Node::text));
        for field in ["command", "args"] {
            texts.extend(
                c.field(field)
                    .map(Node::items)
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(Node::text),
            );
        }
        for env in c.field("env").map(Node::items).unwrap_or(&[]) {
            texts.extend(env.get("name").and_then(Node::text));
            texts.extend(env.get("value").and_then(Node::text));
        }
        for text in texts {
            let lower = text.to_ascii_lowercase();
            if let Some(hint) = HINTS.iter().find(|h| lower.contains(*h)) {
                return Some(format!(
                    "{} mentions `{hint}`, a sign that it calls the Kubernetes API",
                    c.describe()
                ));
            }
        }
    }
    None
}

fn no_token(job: &Job, t: &PodTemplate, ids: Vec<usize>) -> Outcome {
    if t.spec.get("automountServiceAccountToken").is_some() {
        return no(
            ids,
            "the pod asks for the token explicitly (`automountServiceAccountToken`)",
        );
    }
    if let Some(reason) = api_use(job, t) {
        return no(
            ids,
            format!("{reason}: give the workload its own ServiceAccount instead"),
        );
    }
    ok(
        ids,
        FixKind::Safe,
        vec![set(t.ptr("automountServiceAccountToken"), New::Bool(false))],
        "pod: set `automountServiceAccountToken: false` (no use of the API is visible)".into(),
    )
}

fn check(_: &Context, facts: &Derived, emit: &mut Emitter) {
    let rbac = facts.rbac();
    let mut rights: HashMap<&str, String> = HashMap::new();
    // The namespace's `default` ServiceAccount's own setting, read once per namespace.
    let mut automount: HashMap<&str, Option<bool>> = HashMap::new();
    // Static and mirror Pods get no token (see `analysis::system::is_static_pod`).
    for w in facts
        .workloads
        .iter()
        .filter(|w| w.service_account == "default" && !w.static_pod)
    {
        let sa_automount = *automount.entry(w.namespace.as_str()).or_insert_with(|| {
            rbac.service_account(&w.namespace, "default").and_then(|o| {
                o.object()
                    .root
                    .get("automountServiceAccountToken")?
                    .as_bool()
            })
        });
        // The pod's setting wins over the ServiceAccount's; mounted unless one says false.
        if w.automount_token.or(sa_automount) == Some(false) {
            continue;
        }
        let rights = rights.entry(w.namespace.as_str()).or_insert_with(|| {
            let bound: Vec<String> = rbac
                .grants(&Principal::service_account(&w.namespace, "default"))
                .iter()
                .filter(|g| g.subject.service_accounts().is_some())
                .map(|g| format!("{} through {}", g.role.describe(), g.binding.describe()))
                .collect();
            // The first three: a namespace's `default` ServiceAccount bound 100 times would
            // otherwise repeat the whole list in the message of each of its workloads.
            match bound.len() {
                0 => String::new(),
                1..=3 => format!("; that ServiceAccount is granted {}", bound.join(", ")),
                n => format!(
                    "; that ServiceAccount is granted {} and {} more",
                    bound[..3].join(", "),
                    n - 3
                ),
            }
        });
        emit.workload(
            w,
            format!(
                "{} \"{}\" runs as the \"default\" ServiceAccount of namespace \"{}\" with its API \
                 token mounted (automountServiceAccountToken is not false on the pod or the \
                 ServiceAccount){rights}",
                w.kind, w.name, w.namespace
            ),
        );
    }
}
