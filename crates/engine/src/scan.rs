//! The scan pipeline, in three phases so that memory follows the largest file, not the input:
//!
//! 0. **namespaces**: inputs that mention `Namespace` are read for Namespace objects (their Pod
//!    Security labels), which per-object rules need to judge a workload against its namespace.
//! 1. **objects** (parallel, per input): parse, run per-object and per-pod-template rules, keep
//!    only the compact facts the cross-object rules need; the trees of the input are then dropped.
//! 2. **inventory**: cross-object rules over the facts.

use crate::analysis::security_context;
use crate::finding::{Emitter, Finding, Severity};
use crate::inventory::{Object, PodTemplate};
use crate::rules::{self, Check, Evidence, Rule, Seed};
use crate::source::{self, DiagLevel, Diagnostic, Loaded};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

/// One input of a scan.
#[derive(Clone, Debug)]
pub enum Input {
    File(PathBuf),
    /// Bytes already in memory: stdin (`<stdin>`), an admission request.
    Bytes {
        name: String,
        bytes: Arc<[u8]>,
    },
    /// The output of a renderer (`kustomize build`) and the files it was rendered from: each
    /// rendered object that appears unchanged in one of the files is attributed to that file.
    Rendered {
        name: String,
        bytes: Arc<[u8]>,
        sources: Vec<PathBuf>,
    },
}

impl Input {
    pub fn load(&self) -> Loaded {
        match self {
            Input::File(p) => source::load_file(p),
            Input::Bytes { name, bytes } => source::load_bytes(name, bytes.to_vec()),
            Input::Rendered {
                name,
                bytes,
                sources,
            } => source::load_rendered(name, bytes.to_vec(), sources),
        }
    }

    /// [`Input::load`], freeing in-memory bytes once copied (when this was their last holder).
    pub fn into_loaded(self) -> Loaded {
        match self {
            Input::Bytes { name, bytes } => {
                let owned = bytes.to_vec();
                drop(bytes);
                source::load_bytes(&name, owned)
            }
            other => other.load(),
        }
    }

    /// The objects of the documents that may hold the scalar `word` (see
    /// [`source::may_hold_scalar`]): phase 0 parses a few documents instead of every input twice.
    fn load_holding(&self, words: &[&str]) -> Loaded {
        let keep = |doc: &str| words.iter().any(|w| source::may_hold_scalar(doc, w));
        match self {
            Input::File(p) => source::load_file_where(p, &keep),
            Input::Bytes { name, bytes } => source::load_bytes_where(name, bytes.to_vec(), &keep),
            // Attributing rendered objects to their files needs every object.
            Input::Rendered { bytes, .. } => match std::str::from_utf8(bytes) {
                Ok(text) if !keep(text) => Loaded::default(),
                _ => self.load(),
            },
        }
    }
}

/// The objects that `keep` accepts among the documents of the inputs that may hold one of
/// `words` as a scalar: for front ends that need some objects before the scan (the user's
/// policies and their parameters). Diagnostics are left to the scan, which reads the same inputs.
pub fn collect_objects(
    inputs: &[Input],
    words: &[&str],
    keep: &(dyn Fn(&Object) -> bool + Sync),
) -> Vec<Object> {
    inputs
        .par_iter()
        .flat_map_iter(|i| {
            i.load_holding(words)
                .objects
                .into_iter()
                .filter(|o| keep(o))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A Namespace declared in the input.
#[derive(Clone, Debug, Default)]
pub struct NamespaceInfo {
    pub labels: BTreeMap<String, String>,
    pub origin: String,
    pub line: u32,
}

/// What every rule may consult besides the object it checks.
#[derive(Debug, Default)]
pub struct Context {
    /// Namespaces declared in the input, by name.
    pub namespaces: BTreeMap<String, NamespaceInfo>,
    /// The user's policies, run on every object (see [`rules::CustomPolicies`]).
    pub custom: Option<Arc<dyn rules::CustomPolicies>>,
    /// The admission request being judged (the webhook); `None` for files and clusters, which
    /// policies see as a `CREATE` by an unnamed user.
    pub request: Option<RequestInfo>,
}

/// What an admission request says besides its object, for policies that read it.
#[derive(Clone, Debug, Default)]
pub struct RequestInfo {
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    pub operation: String,
    pub username: String,
    pub uid: String,
    pub groups: Vec<String>,
    /// The object before an UPDATE.
    pub old_object: Option<serde_json::Value>,
    pub dry_run: bool,
}

/// A workload (any object with a pod template), summarised for cross-object rules.
#[derive(Clone, Debug, Serialize)]
pub struct Workload {
    pub kind: String,
    pub api_version: String,
    pub name: String,
    pub namespace: String,
    pub origin: String,
    pub line: u32,
    pub column: u32,
    pub helm_source: Option<String>,
    pub pod_labels: BTreeMap<String, String>,
    /// `spec.serviceAccountName` (or the deprecated `serviceAccount`), else `default`.
    pub service_account: String,
    /// The pod's `automountServiceAccountToken`, if set (the ServiceAccount's applies otherwise).
    pub automount_token: Option<bool>,
    /// Named container ports (`name` → port), for NetworkPolicy named-port resolution.
    pub named_ports: Vec<(String, i64, String)>,
    /// `kubeharden.io/ignore` rule ids from the object and pod template annotations.
    pub ignore: Vec<crate::suppress::Suppression>,
}

/// What survives phase 1: small objects that cross-object rules read whole, and summaries.
#[derive(Debug, Default)]
pub struct Facts {
    /// Objects of the kinds cross-object rules read (see [`retained_kind`]).
    pub objects: Vec<Object>,
    pub workloads: Vec<Workload>,
    /// Object count per kind.
    pub kinds: BTreeMap<String, usize>,
    /// Namespaces referenced by namespaced objects (declared or not).
    pub namespaces_referenced: BTreeSet<String>,
    /// Files of a node with their ownership and permissions (`kubeharden node`).
    pub node_files: Vec<crate::node::NodeFile>,
    /// Objects carrying component flags (static Pods, kubeadm ClusterConfiguration, command
    /// lines) and KubeletConfigurations: the kubelet's flags override its config file, which may
    /// be another input (see [`crate::analysis::kubelet`]).
    pub control_plane: Vec<Object>,
}

/// Kinds kept whole for cross-object rules. Small and few in real inputs.
pub fn retained_kind(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "NetworkPolicy"
            | "Role"
            | "ClusterRole"
            | "RoleBinding"
            | "ClusterRoleBinding"
            | "ServiceAccount"
            | "CiliumNetworkPolicy"
            | "CiliumClusterwideNetworkPolicy"
            | "GlobalNetworkPolicy"
            | "AdminNetworkPolicy"
            | "BaselineAdminNetworkPolicy"
    )
}

/// Counts of what was read.
#[derive(Clone, Debug, Default, Serialize)]
pub struct InputSummary {
    pub inputs: usize,
    pub bytes: u64,
    pub objects: usize,
    pub pod_templates: usize,
    pub kinds: BTreeMap<String, usize>,
    /// Configuration evidence found: control-plane components by binary name, `audit-policy`,
    /// `encryption-config`, `kubelet-config`.
    pub evidence: BTreeMap<&'static str, usize>,
}

/// The configuration evidence an object provides (see [`InputSummary::evidence`]).
fn evidence_tags(o: &Object) -> Vec<&'static str> {
    let mut tags: Vec<&'static str> = crate::analysis::control_plane::component_flags(o)
        .iter()
        .map(|f| f.component.binary())
        .collect();
    match (o.kind.as_str(), o.group()) {
        ("Policy", "audit.k8s.io") => tags.push("audit-policy"),
        ("EncryptionConfiguration", "apiserver.config.k8s.io") => tags.push("encryption-config"),
        ("KubeletConfiguration", "kubelet.config.k8s.io") => tags.push("kubelet-config"),
        _ => {}
    }
    if crate::analysis::image_verification::is_admission_evidence(o) {
        tags.push("admission-control");
    }
    tags.extend(crate::analysis::runtime::evidence_tags(o));
    tags
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Pass,
    Fail,
    /// No findings, but some of the section's checks lacked evidence.
    Partial,
    NotAssessed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Partial => "partial",
            Status::NotAssessed => "not assessed",
        }
    }
}

/// One line of the 15-rule scorecard.
#[derive(Clone, Debug, Serialize)]
pub struct SeedScore {
    pub seed: Seed,
    pub title: &'static str,
    pub status: Status,
    pub findings: usize,
    /// Rules of this section that ran on sufficient evidence.
    pub assessed: Vec<&'static str>,
    /// What evidence was missing, and what would settle it.
    pub missing: Vec<String>,
}

/// The result of a scan: what every report format renders.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Version of this JSON document's shape.
    pub schema_version: u32,
    pub tool: &'static str,
    pub tool_version: &'static str,
    pub summary: InputSummary,
    pub findings: Vec<Finding>,
    pub suppressed: usize,
    pub scorecard: Vec<SeedScore>,
    pub diagnostics: Vec<Diagnostic>,
    /// The suppressed findings, each with `suppressed_by` (listed with `--show-suppressed`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suppressed_findings: Vec<Finding>,
    /// The comparison with `--baseline`, if one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<crate::baseline::Summary>,
}

impl Report {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
    pub fn has_input_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.level == DiagLevel::Error)
    }
}

pub const SCHEMA_VERSION: u32 = 1;

/// Scans the inputs with the given rules.
pub fn scan(inputs: &[Input], rules: &[&'static Rule]) -> Report {
    scan_with_node_files(inputs, rules, Vec::new())
}

/// Scans the inputs and the ownership/permissions of a node's files (`kubeharden node`).
pub fn scan_with_node_files(
    inputs: &[Input],
    rules: &[&'static Rule],
    node_files: Vec<crate::node::NodeFile>,
) -> Report {
    scan_with(
        inputs,
        rules,
        Extras {
            node_files,
            custom: None,
        },
    )
}

/// What a scan may get besides its inputs and rules.
#[derive(Debug, Default)]
pub struct Extras {
    /// Files of a node with their ownership and permissions (`kubeharden node`).
    pub node_files: Vec<crate::node::NodeFile>,
    /// The user's policies; they run for those of their rules that are in the scan's `rules`.
    pub custom: Option<Arc<dyn rules::CustomPolicies>>,
}

/// Scans the inputs with the given rules and extras.
pub fn scan_with(inputs: &[Input], rules: &[&'static Rule], extras: Extras) -> Report {
    scan_owned(inputs.to_vec(), rules, extras)
}

/// [`scan_with`], taking the inputs: the bytes of an in-memory input are freed as soon as it is
/// parsed (when nothing else holds them), so a cluster snapshot is not held whole until the end.
pub fn scan_owned(inputs: Vec<Input>, rules: &[&'static Rule], extras: Extras) -> Report {
    let Extras { node_files, custom } = extras;
    // Phase 0: namespaces.
    let mut ctx = Context {
        custom,
        ..Context::default()
    };
    let ns_objects: Vec<(String, NamespaceInfo)> = inputs
        .par_iter()
        .flat_map_iter(|i| {
            i.load_holding(&["Namespace"])
                .objects
                .into_iter()
                .filter(|o| o.kind == "Namespace" && o.group().is_empty())
                .map(|o| {
                    let info = NamespaceInfo {
                        labels: o.labels(),
                        origin: o.source.name.clone(),
                        line: o.root.pos.line,
                    };
                    (o.name, info)
                })
                .collect::<Vec<_>>()
        })
        .collect();
    ctx.namespaces.extend(ns_objects);

    // Phase 1: per input, in parallel.
    let object_rules: Vec<&Rule> = rules
        .iter()
        .copied()
        .filter(|r| matches!(r.check, Check::Object(_)))
        .collect();
    let template_rules: Vec<&Rule> = rules
        .iter()
        .copied()
        .filter(|r| matches!(r.check, Check::PodTemplate(_)))
        .collect();
    let custom_rules: Vec<&Rule> = rules
        .iter()
        .copied()
        .filter(|r| matches!(r.check, Check::Custom))
        .collect();
    let phase1 = Phase1 {
        object_rules: &object_rules,
        template_rules: &template_rules,
        custom_rules: &custom_rules,
    };
    let input_count = inputs.len();
    let outcomes: Vec<Outcome> = inputs
        .into_par_iter()
        .map(|input| scan_loaded(&ctx, input.into_loaded(), &phase1))
        .collect();

    let mut facts = Facts {
        node_files,
        ..Facts::default()
    };
    // Sized once: a cluster can yield 100,000s of findings, and doubling would copy them all.
    let mut findings = Vec::with_capacity(outcomes.iter().map(|o| o.findings.len()).sum());
    let mut diagnostics = Vec::new();
    let mut suppressed = 0;
    let mut summary = InputSummary {
        inputs: input_count,
        ..InputSummary::default()
    };
    for o in outcomes {
        findings.extend(o.findings);
        diagnostics.extend(o.diagnostics);
        suppressed += o.suppressed;
        summary.bytes += o.bytes;
        summary.objects += o.objects;
        summary.pod_templates += o.workloads.len();
        facts.objects.extend(o.retained);
        facts.control_plane.extend(o.control_plane);
        facts.workloads.extend(o.workloads);
        facts.namespaces_referenced.extend(o.namespaces);
        for (k, n) in o.kinds {
            *facts.kinds.entry(k).or_default() += n;
        }
        for (k, n) in o.evidence {
            *summary.evidence.entry(k).or_default() += n;
        }
    }
    summary.kinds = facts.kinds.clone();
    if !facts.node_files.is_empty() {
        summary
            .evidence
            .insert("node-files", facts.node_files.len());
    }

    // Phase 2: cross-object rules.
    for rule in rules {
        if let Check::Inventory(check) = rule.check {
            let mut emit = Emitter::new(rule);
            check(&ctx, &facts, &mut emit);
            suppressed += emit.suppressed;
            findings.extend(emit.findings);
        }
    }

    // Split only when something was suppressed (partitioning copies every finding).
    let (mut findings, suppressed_findings): (Vec<Finding>, Vec<Finding>) =
        if findings.iter().any(|f| f.suppressed_by.is_some()) {
            findings
                .into_iter()
                .partition(|f| f.suppressed_by.is_none())
        } else {
            (findings, Vec::new())
        };
    crate::post::sort_findings(&mut findings);
    diagnostics.sort_by(|a, b| (&a.origin, a.line).cmp(&(&b.origin, b.line)));
    let scorecard = scorecard(rules, &findings, &ctx, &facts, &summary);
    Report {
        schema_version: SCHEMA_VERSION,
        tool: "kubeharden",
        tool_version: env!("CARGO_PKG_VERSION"),
        summary,
        findings,
        suppressed,
        scorecard,
        diagnostics,
        suppressed_findings,
        baseline: None,
    }
    .sorted()
}

#[derive(Default)]
struct Outcome {
    findings: Vec<Finding>,
    diagnostics: Vec<Diagnostic>,
    suppressed: usize,
    bytes: u64,
    objects: usize,
    retained: Vec<Object>,
    control_plane: Vec<Object>,
    workloads: Vec<Workload>,
    namespaces: BTreeSet<String>,
    kinds: BTreeMap<String, usize>,
    evidence: BTreeMap<&'static str, usize>,
}

/// The rules phase 1 runs, by what they check.
struct Phase1<'a> {
    object_rules: &'a [&'a Rule],
    template_rules: &'a [&'a Rule],
    custom_rules: &'a [&'a Rule],
}

/// Phase 1 over the objects of one input already read.
fn scan_loaded(ctx: &Context, loaded: Loaded, phase: &Phase1<'_>) -> Outcome {
    let Phase1 {
        object_rules,
        template_rules,
        custom_rules,
    } = *phase;
    let mut out = Outcome {
        diagnostics: loaded.diagnostics,
        bytes: loaded.bytes,
        ..Outcome::default()
    };
    out.objects = loaded.objects.len();
    for object in loaded.objects {
        *out.kinds.entry(object.kind.clone()).or_default() += 1;
        for tag in evidence_tags(&object) {
            *out.evidence.entry(tag).or_default() += 1;
        }
        out.diagnostics
            .extend(crate::suppress::check_annotations(&object));
        if let Some(ns) = object.effective_namespace() {
            out.namespaces.insert(ns.to_owned());
        }
        for rule in object_rules {
            if let Check::Object(check) = rule.check {
                let mut emit = Emitter::new(rule);
                check(ctx, &object, &mut emit);
                out.suppressed += emit.suppressed;
                out.findings.extend(emit.findings);
            }
        }
        if let Some(custom) = ctx.custom.as_deref()
            && !custom_rules.is_empty()
        {
            for emit in custom.check(ctx, &object, custom_rules) {
                out.suppressed += emit.suppressed;
                out.findings.extend(emit.findings);
            }
        }
        if let Some(template) = PodTemplate::of(&object) {
            for (pointer, message) in security_context::type_errors(&template) {
                out.diagnostics.push(Diagnostic::new(
                    DiagLevel::Warning,
                    &object.source.name,
                    Some(object.locate(&pointer)),
                    format!("{}: {message}", object.identity()),
                ));
            }
            for rule in template_rules {
                if let Check::PodTemplate(check) = rule.check {
                    let mut emit = Emitter::new(rule);
                    check(ctx, &template, &mut emit);
                    out.suppressed += emit.suppressed;
                    out.findings.extend(emit.findings);
                }
            }
            out.workloads.push(Workload {
                kind: object.kind.clone(),
                api_version: object.api_version.clone(),
                name: object.name.clone(),
                namespace: object.effective_namespace().unwrap_or("default").to_owned(),
                origin: object.source.name.clone(),
                line: object.root.pos.line,
                column: object.root.pos.col,
                helm_source: object.helm_source.as_deref().map(str::to_owned),
                automount_token: template
                    .spec
                    .get("automountServiceAccountToken")
                    .and_then(|n| n.as_bool()),
                named_ports: template
                    .containers()
                    .flat_map(|c| {
                        c.field("ports")
                            .map(|p| p.items())
                            .unwrap_or(&[])
                            .iter()
                            .filter_map(|p| {
                                let name = p.get("name")?.as_str()?.to_owned();
                                let port = p.get("containerPort")?.as_i64()?;
                                let proto = p
                                    .get("protocol")
                                    .and_then(|n| n.as_str())
                                    .unwrap_or("TCP")
                                    .to_owned();
                                Some((name, port, proto))
                            })
                    })
                    .collect(),
                ignore: crate::finding::ignore_list(&object),
                pod_labels: crate::inventory::string_map(
                    template.metadata.and_then(|m| m.get("labels")),
                ),
                service_account: template
                    .spec
                    .get("serviceAccountName")
                    .or_else(|| template.spec.get("serviceAccount"))
                    .and_then(|n| n.text())
                    .unwrap_or("default")
                    .to_owned(),
            });
        }
        let cross_object = retained_kind(&object.kind)
            || crate::analysis::image_verification::is_admission_evidence(&object)
            || crate::analysis::runtime::retained(&object);
        match (cross_object, crate::analysis::kubelet::retained(&object)) {
            (true, true) => {
                let object = detach(object);
                out.control_plane.push(object.clone());
                out.retained.push(object);
            }
            (true, false) => out.retained.push(detach(object)),
            (false, true) => out.control_plane.push(detach(object)),
            (false, false) => {}
        }
    }
    // Held until every input is read: no slack from doubling (a cluster yields 100,000s).
    out.findings.shrink_to_fit();
    out
}

/// A retained object keeps only its own lines of the input (the snippets of cross-object findings
/// are two lines before a position of the object to that position), not the whole input's text:
/// one Role in a 2 MB bundle must not keep the bundle alive until the end of the scan.
fn detach(mut object: Object) -> Object {
    let first = object.root.pos.line.saturating_sub(2).max(1);
    let last = object.root.last_line();
    object.source = Arc::new(object.source.excerpt(first, last));
    object
}

/// Does the input hold the evidence a rule needs?
fn has_evidence(evidence: Evidence, ctx: &Context, summary: &InputSummary) -> bool {
    let has = |kind: &str| summary.kinds.get(kind).is_some_and(|&n| n > 0);
    match evidence {
        Evidence::Manifests => summary.objects > 0,
        Evidence::PodTemplates => summary.pod_templates > 0,
        Evidence::Namespaces => !ctx.namespaces.is_empty(),
        Evidence::NetworkPolicies => summary.pod_templates > 0,
        Evidence::ApiServerFlags => summary.evidence.contains_key("kube-apiserver"),
        Evidence::ControlPlaneFlags => [
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
            "etcd",
            "kubelet-config",
        ]
        .iter()
        .any(|k| summary.evidence.contains_key(k)),
        Evidence::AuditPolicy => summary.evidence.contains_key("audit-policy"),
        Evidence::EncryptionConfig => summary.evidence.contains_key("encryption-config"),
        Evidence::KubeletConfig => {
            summary.evidence.contains_key("kubelet-config")
                || summary.evidence.contains_key("kubelet")
        }
        Evidence::NodeFiles => summary.evidence.contains_key("node-files"),
        Evidence::AuditLog => summary.evidence.contains_key("audit-log"),
        Evidence::AdmissionControl => summary.evidence.contains_key("admission-control"),
        Evidence::Rbac => ["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"]
            .iter()
            .any(|k| has(k)),
        Evidence::ClusterWorkloads => summary.evidence.contains_key("cluster-workloads"),
        Evidence::ApiEndpoint => summary.evidence.contains_key("api-endpoint"),
        Evidence::AnonymousProbe => summary.evidence.contains_key("anonymous-probe"),
        Evidence::SecretAges => summary.evidence.contains_key("secret-age"),
    }
}

/// What no built-in rule of a section checks yet: said plainly rather than passed silently. A
/// section with such gaps is at best `partial`.
fn unchecked(seed: Seed) -> Option<&'static str> {
    Some(match seed {
        Seed::Rule(13) => {
            "not visible in manifests: whether images are scanned for vulnerabilities in CI (check the pipeline)"
        }
        _ => return None,
    })
}

pub fn scorecard(
    rules: &[&'static Rule],
    findings: &[Finding],
    ctx: &Context,
    _facts: &Facts,
    summary: &InputSummary,
) -> Vec<SeedScore> {
    let custom = rules.iter().any(|r| r.seed == Seed::Custom);
    Seed::all()
        .chain(custom.then_some(Seed::Custom))
        .map(|seed| {
            let section: Vec<&Rule> = rules.iter().copied().filter(|r| r.seed == seed).collect();
            let count = findings.iter().filter(|f| f.seed == seed).count();
            let mut assessed = Vec::new();
            let mut missing: BTreeSet<String> = BTreeSet::new();
            for rule in &section {
                let lacking: Vec<Evidence> = rule
                    .evidence
                    .iter()
                    .copied()
                    .filter(|e| !has_evidence(*e, ctx, summary))
                    .collect();
                if lacking.is_empty() {
                    assessed.push(rule.id);
                } else {
                    missing.extend(lacking.iter().map(|e| e.missing().to_owned()));
                }
            }
            missing.extend(unchecked(seed).map(str::to_owned));
            if section.is_empty() {
                missing.insert(format!("no rule of this version covers section {seed}"));
            }
            let status = if count > 0 {
                Status::Fail
            } else if assessed.is_empty() {
                Status::NotAssessed
            } else if missing.is_empty() {
                Status::Pass
            } else {
                Status::Partial
            };
            SeedScore {
                seed,
                title: seed.title(),
                status,
                findings: count,
                assessed,
                missing: missing.into_iter().collect(),
            }
        })
        .collect()
}

/// Scans with every built-in rule.
pub fn scan_all(inputs: &[Input]) -> Report {
    scan(inputs, rules::all())
}

/// What [`check_input`] found in one input.
#[derive(Debug, Default)]
pub struct Checked {
    /// Active findings, in report order.
    pub findings: Vec<Finding>,
    /// Findings silenced by suppression annotations, each with `suppressed_by`.
    pub suppressed_findings: Vec<Finding>,
    pub diagnostics: Vec<Diagnostic>,
    /// Objects read from the input.
    pub objects: usize,
}

/// A light entry point for front ends that judge one input at a time (the admission webhook):
/// phase 0 and phase 1 of [`scan`] for this input alone, on the calling thread (no rayon), with
/// no cross-object phase and no scorecard. Only the `Object` and `PodTemplate` rules of `rules`
/// run: a lone object has no neighbours, so `Inventory` rules would report false gaps. For those
/// rules, the findings (active and suppressed) and diagnostics are exactly the ones [`scan`]
/// reports for the same input.
pub fn check_input(input: &Input, rules: &[&'static Rule]) -> Checked {
    check_input_with(input, rules, None, None)
}

/// [`check_input`] with the user's policies (their rules must be in `rules` to run) and the
/// admission request they may read.
pub fn check_input_with(
    input: &Input,
    rules: &[&'static Rule],
    custom: Option<Arc<dyn rules::CustomPolicies>>,
    request: Option<RequestInfo>,
) -> Checked {
    let loaded = input.load();
    let mut ctx = Context {
        custom,
        request,
        ..Context::default()
    };
    for o in loaded
        .objects
        .iter()
        .filter(|o| o.kind == "Namespace" && o.group().is_empty())
    {
        let info = NamespaceInfo {
            labels: o.labels(),
            origin: o.source.name.clone(),
            line: o.root.pos.line,
        };
        ctx.namespaces.insert(o.name.clone(), info);
    }
    let of = |f: fn(&Check) -> bool| -> Vec<&Rule> {
        rules.iter().copied().filter(|r| f(&r.check)).collect()
    };
    let object_rules = of(|c| matches!(c, Check::Object(_)));
    let template_rules = of(|c| matches!(c, Check::PodTemplate(_)));
    let custom_rules = of(|c| matches!(c, Check::Custom));
    let phase = Phase1 {
        object_rules: &object_rules,
        template_rules: &template_rules,
        custom_rules: &custom_rules,
    };
    let out = scan_loaded(&ctx, loaded, &phase);
    let (mut findings, mut suppressed_findings): (Vec<Finding>, Vec<Finding>) = out
        .findings
        .into_iter()
        .partition(|f| f.suppressed_by.is_none());
    crate::post::sort_findings(&mut findings);
    crate::post::sort_findings(&mut suppressed_findings);
    let mut diagnostics = out.diagnostics;
    diagnostics.sort_by(|a, b| (&a.origin, a.line).cmp(&(&b.origin, b.line)));
    Checked {
        findings,
        suppressed_findings,
        diagnostics,
        objects: out.objects,
    }
}
