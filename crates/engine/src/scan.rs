//! The scan pipeline, in three phases so that memory follows the largest file, not the input:
//!
//! 0. **namespaces**: documents that may hold the scalar `Namespace` are read for Namespace objects
//!    (their Pod Security labels), which per-object rules need to judge a workload against its
//!    namespace; a front end that reads the inputs before the scan for objects of its own (the
//!    CLI, for policy objects) does both in that one read ([`prescan`], [`Extras::phase0`]). The
//!    same read sizes each input.
//! 1. **objects** (parallel, per input, the largest inputs first so that no core is left alone
//!    with a large file at the end): parse, run per-object and per-pod-template rules, keep only
//!    the compact facts the cross-object rules need; the trees of the input are then dropped.
//!    Results are put back in the inputs' order.
//! 2. **inventory**: cross-object rules over the facts.

use crate::analysis::{security_context, system};
use crate::evidence::{Found, FoundSet, examine};
use crate::finding::Finding;
use crate::finding::pack::{Hashes, Interner, Packed, RawAllowance};
use crate::inventory::{Object, PodTemplate, Retained, Workload};
use crate::load::{Input, Loaded};
use crate::report::{InputSummary, Report, Scope};
use crate::rules::{
    self, AuditLogInput, Check, Context, Derived, Emitter, Facts, InventoryCheck, Model,
    NamespaceInfo, ObjectCache, RequestInfo, Rule, retained_kind,
};
use crate::source::{DiagLevel, Diagnostic};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// How many bytes of packed findings a scan keeps undeflated ([`RawAllowance`]): about 40,000
/// findings (records take about 40 bytes each: 871 KB for the 21,306 findings of `real/`); past
/// it, the memory of a large scan stays that of deflated findings.
const RAW_FINDINGS_BYTES: usize = 8 << 20;

/// Starts building, on a core of the pool, what the rules otherwise build on their first use:
/// the API schema and the patterns of the secret formats and of the masker (~21 M instructions,
/// 4-5 ms). A front end calls it before its directory walk or its listing of a cluster, which
/// leave the cores idle: built at the first inputs of phase 1 instead, they held one core while
/// the other waited for them.
pub fn warm_up() {
    rayon::spawn(|| {
        kubeharden_schema::schema::Schema::get();
        crate::analysis::secrets::warm_up();
        kubeharden_model::redact::warm_up();
    });
}

/// The objects that `keep` accepts among the documents of the inputs that may hold one of
/// `words` in a scalar ([`crate::load::may_hold_word`]): for front ends that need some objects
/// before the scan (the user's policies and their parameters). Diagnostics are left to the scan,
/// which reads the same inputs.
pub fn collect_objects(
    inputs: &[Input],
    words: &[&str],
    keep: &(dyn Fn(&Object) -> bool + Sync),
) -> Vec<Object> {
    inputs
        .par_iter()
        .flat_map_iter(|i| {
            i.load_where(&|doc| words.iter().any(|w| crate::load::may_hold_word(doc, w)))
                .objects
                .into_iter()
                .filter(|o| keep(o))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// What phase 0 reads of the inputs, for [`Extras::phase0`]: the Namespace objects (their Pod
/// Security labels, where they are), and each input's size in bytes, in the inputs' order (phase
/// 1 starts with the largest).
#[derive(Clone, Debug, Default)]
pub struct Phase0 {
    namespaces: Vec<(String, NamespaceInfo)>,
    sizes: Vec<u64>,
}

/// What one read of the inputs before the scan found: the objects `keep` accepts among the
/// documents that may hold one of `words` in a scalar (as [`collect_objects`]), and the namespaces
/// of phase 0 (documents that may hold the scalar `Namespace`) with the inputs' sizes. A front end
/// that needs objects before the scan reads the inputs once for both, and gives phase 0 to the
/// scan.
#[derive(Debug, Default)]
pub struct Prescan {
    pub objects: Vec<Object>,
    pub phase0: Phase0,
}

pub fn prescan(
    inputs: &[Input],
    words: &[&str],
    keep: &(dyn Fn(&Object) -> bool + Sync),
) -> Prescan {
    let is_namespace = |o: &Object| o.kind == "Namespace" && o.group().is_empty();
    let one = |i: &Input| {
        let mut found = Prescan::default();
        let loaded = i.load_where(&|doc| {
            crate::load::may_hold_scalar(doc, "Namespace")
                || words.iter().any(|w| crate::load::may_hold_word(doc, w))
        });
        found.phase0.sizes.push(loaded.bytes);
        for o in loaded.objects {
            if is_namespace(&o) {
                let info = NamespaceInfo {
                    labels: o.labels(),
                    origin: o.source.name.clone(),
                    line: o.root.pos.line,
                };
                found.phase0.namespaces.push((o.name.clone(), info));
            }
            if keep(&o) {
                found.objects.push(o);
            }
        }
        found
    };
    // In the inputs' order, whichever thread read them.
    let work = crate::timings::Work::new();
    let each: Vec<Prescan> = inputs
        .par_iter()
        .map(|i| {
            let _item = work.item();
            one(i)
        })
        .collect();
    work.report("pre-scan");
    let mut out = Prescan::default();
    for found in each {
        out.phase0.namespaces.extend(found.phase0.namespaces);
        out.phase0.sizes.extend(found.phase0.sizes);
        out.objects.extend(found.objects);
    }
    out
}

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
            ..Extras::default()
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
    /// Phase 0 of these inputs, read by [`prescan`] with other objects; `None`: the scan reads
    /// it.
    pub phase0: Option<Phase0>,
}

/// Scans the inputs with the given rules and extras.
pub fn scan_with(inputs: &[Input], rules: &[&'static Rule], extras: Extras) -> Report {
    scan_owned(inputs.to_vec(), rules, extras)
}

/// [`scan_with`], taking the inputs: the bytes of an in-memory input are freed as soon as it is
/// parsed (when nothing else holds them), so a cluster snapshot is not held whole until the end.
pub fn scan_owned(inputs: Vec<Input>, rules: &[&'static Rule], extras: Extras) -> Report {
    let Extras {
        node_files,
        custom,
        phase0,
    } = extras;
    // Phase 0: namespaces, unless the caller read them with its own objects (`prescan`).
    let mut ctx = Context {
        custom,
        ..Context::default()
    };
    let Phase0 { namespaces, sizes } =
        phase0.unwrap_or_else(|| prescan(&inputs, &[], &|_| false).phase0);
    ctx.namespaces.extend(namespaces);
    crate::timings::mark("phase 0 (namespaces)");
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
    let document_rules: Vec<&Rule> = rules
        .iter()
        .copied()
        .filter(|r| matches!(r.check, Check::Document(_)))
        .collect();
    let phase1 = Phase1 {
        object_rules: &object_rules,
        template_rules: &template_rules,
        custom_rules: &custom_rules,
        document_rules: &document_rules,
    };
    let input_count = inputs.len();
    // Each input's outcome is merged as soon as it is scanned (its maps and sets folded in, its
    // lists kept as one piece per input): collecting every outcome first held them all, and then
    // a second copy of every finding, at the peak (2x the findings at 100,000 objects).
    let merged = std::sync::Mutex::new(Merged::default());
    let raw = RawAllowance::new(RAW_FINDINGS_BYTES);
    let work = crate::timings::Work::new();
    // Largest first, each thread taking the next input when it is free (greedy, longest first):
    // in input order, a 2 MB file near the end kept one core busy for tens of milliseconds after
    // the other had finished. The pieces are put back in input order below.
    let mut order: Vec<(usize, Input)> = inputs.into_iter().enumerate().collect();
    if sizes.len() == order.len() {
        order.sort_by_key(|(index, _)| std::cmp::Reverse(sizes[*index]));
    }
    order.into_iter().par_bridge().for_each(|(index, input)| {
        let _item = work.item();
        let mut outcome = scan_loaded(&ctx, input.into_loaded(), &phase1);
        // Packed on the worker thread, outside the lock.
        let findings = Packed::within(std::mem::take(&mut outcome.findings), &raw);
        let piece = Piece::of(index, findings, &mut outcome);
        merged
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .absorb(piece, outcome);
    });
    work.report("phase 1");
    crate::timings::mark("phase 1 (each input parsed and judged, in parallel)");
    let Merged {
        pieces,
        mut suppressed,
        summary: merged_summary,
        namespaces,
        kinds,
        evidence,
    } = merged.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut facts = Facts {
        node_files,
        ..Facts::default()
    };
    let mut summary = InputSummary {
        inputs: input_count,
        ..merged_summary
    };
    summary.evidence = evidence;
    facts.namespaces_referenced = namespaces;
    facts.kinds = kinds;
    // The pieces in input order: the same inputs give the same report, whichever thread
    // finished first.
    let mut pieces = pieces;
    pieces.sort_unstable_by_key(|p| p.index);
    // Each input's findings stay packed (see [`Packed`]) until the cross-object rules have run
    // and their facts are freed: the one list of every finding is then allocated once, at its
    // exact size, and filled by unpacking the pieces in order.
    let mut packed: Vec<Packed> = Vec::with_capacity(pieces.len());
    let mut diagnostics = Vec::new();
    // At their exact sizes: grown by doubling, the facts held up to twice their room at the peak.
    facts
        .objects
        .reserve_exact(pieces.iter().map(|p| p.retained.len()).sum());
    facts
        .cross_object
        .reserve_exact(pieces.iter().map(|p| p.cross_object.len()).sum());
    facts
        .control_plane
        .reserve_exact(pieces.iter().map(|p| p.control_plane.len()).sum());
    facts
        .workloads
        .reserve_exact(pieces.iter().map(|p| p.workloads.len()).sum());
    for piece in pieces {
        packed.push(piece.findings);
        diagnostics.extend(piece.diagnostics);
        facts.objects.extend(piece.retained);
        facts.cross_object.extend(piece.cross_object);
        facts.control_plane.extend(piece.control_plane);
        facts.workloads.extend(piece.workloads);
    }
    summary.kinds = facts.kinds.clone();
    if !facts.node_files.is_empty() {
        summary
            .evidence
            .add(Found::NodeFiles, facts.node_files.len());
    }
    facts.whole_cluster = summary.evidence.has(Found::ClusterWorkloads);

    // Phase 2: cross-object rules, over the facts and the models derived from them. The rules
    // that read the RBAC model and the others run side by side (one group per thread), each group
    // in registry order with models of its own: a model is built once, by the first rule of its
    // group that asks for it, and freed after the last one that declares it. The findings are
    // put back in registry order.
    let inventory: Vec<InventoryRule> = rules
        .iter()
        .filter_map(|r| match r.check {
            Check::Inventory(check, models) => Some((*r, check, models)),
            _ => None,
        })
        .enumerate()
        .map(|(order, (rule, check, models))| InventoryRule {
            order,
            rule,
            check,
            models,
        })
        .collect();
    crate::timings::mark("facts merged in input order");
    let (rbac, other): (Vec<InventoryRule>, Vec<InventoryRule>) = inventory
        .into_iter()
        .partition(|r| r.models.contains(&Model::Rbac));
    let (mut ran, ran_other) = rayon::join(
        || run_inventory(&ctx, &facts, &rbac, &raw),
        || run_inventory(&ctx, &facts, &other, &raw),
    );
    ran.extend(ran_other);
    crate::timings::mark("phase 2's rules ran");
    ran.sort_unstable_by_key(|r| r.0);
    for (_, rule_suppressed, pieces) in ran {
        suppressed += rule_suppressed;
        packed.extend(pieces);
    }
    drop(facts);
    crate::timings::mark("phase 2 (cross-object rules, their facts freed)");
    let mut findings = unpack_all(packed);
    crate::timings::mark("findings unpacked");

    // Split only when something was suppressed (partitioning copies every finding).
    // In place: partitioning into two new lists held the findings twice.
    let suppressed_findings: Vec<Finding> = findings
        .extract_if(.., |f| f.suppressed_by.is_some())
        .collect();
    diagnostics.sort_by(|a, b| (&a.origin, a.line).cmp(&(&b.origin, b.line)));
    debug_assert_eq!(suppressed, suppressed_findings.len());
    let scope = Scope {
        selected: rules.to_vec(),
        // Every selected rule ran but those whose evidence is outside the objects.
        ran: rules
            .iter()
            .filter(|r| !matches!(r.check, Check::AuditLog(_)))
            .map(|r| r.id)
            .collect(),
        unreadable: BTreeMap::new(),
        scorecard: true,
    };
    Report::new(summary, findings, suppressed_findings, diagnostics, scope)
}

/// How many findings [`unpack_all`] unpacks on every core at once (a batch).
const UNPACK_BATCH: usize = 4096;

/// Every piece's findings, in the order of the pieces, in one list allocated once at its exact
/// size. The pieces are unpacked on every core a batch at a time, each batch appended in order
/// before the next starts: beside the list, at most a batch of findings (and the pieces not yet
/// unpacked) is held. Unpacked one after the other, this was a serial ~3 ms of a 0.2 s scan.
///
/// Their texts are shared across the whole scan as they are appended ([`Interner`]); they are
/// hashed on the cores that unpack them, and only the lookups run on this thread.
fn unpack_all(packed: Vec<Packed>) -> Vec<Finding> {
    let mut findings = Vec::with_capacity(packed.iter().map(Packed::len).sum());
    let mut interner = Interner::default();
    let mut packed = packed.into_iter().peekable();
    while packed.peek().is_some() {
        let mut size = 0;
        let mut batch = Vec::new();
        while let Some(piece) = packed.next_if(|p| size == 0 || size + p.len() <= UNPACK_BATCH) {
            size += piece.len();
            batch.push(piece);
        }
        let parts: Vec<Vec<(Hashes, Finding)>> = batch
            .into_par_iter()
            .map(|piece| {
                let mut part = Vec::new();
                piece.unpack_into(&mut part);
                part.into_iter().map(|f| (interner.hashes(&f), f)).collect()
            })
            .collect();
        for part in parts {
            findings.extend(part.into_iter().map(|(h, f)| interner.share(h, f)));
        }
    }
    findings
}

/// A cross-object rule and its place in the registry.
struct InventoryRule {
    order: usize,
    rule: &'static Rule,
    check: InventoryCheck,
    models: &'static [Model],
}

/// Runs `group` in order, each model built by the first rule that asks for it and freed after the
/// last one that declares it: per rule, its place, the findings it suppressed and its findings.
fn run_inventory(
    ctx: &Context,
    facts: &Facts,
    group: &[InventoryRule],
    raw: &RawAllowance,
) -> Vec<(usize, usize, Vec<Packed>)> {
    let mut derived = Derived::new(facts);
    let mut out = Vec::with_capacity(group.len());
    for (i, r) in group.iter().enumerate() {
        let mut emit = Emitter::packing(r.rule, raw);
        (r.check)(ctx, &derived, &mut emit);
        out.push((r.order, emit.suppressed, emit.into_packed()));
        let undeclared: Vec<Model> = derived
            .take_used()
            .into_iter()
            .filter(|m| !r.models.contains(m))
            .collect();
        debug_assert!(
            undeclared.is_empty(),
            "rule {} uses {undeclared:?} without declaring it in Check::Inventory",
            r.rule.id
        );
        for m in r.models {
            if !group[i + 1..].iter().any(|later| later.models.contains(m)) {
                derived.release(*m);
            }
        }
    }
    out
}

/// The outcomes of phase 1 merged as they arrive: sums, sets and counts folded in, the lists of
/// each input kept apart with its index until they are put in input order.
#[derive(Default)]
struct Merged {
    pieces: Vec<Piece>,
    suppressed: usize,
    summary: InputSummary,
    namespaces: BTreeSet<String>,
    kinds: BTreeMap<String, usize>,
    evidence: FoundSet,
}

/// The lists one input contributed, at their exact sizes: grown by pushes, an input's lists held
/// the room for a few more (a Vec's first push makes room for four objects or workloads), 20 MB
/// of the 159 MB in use when phase 1 ended at 100,000 objects.
struct Piece {
    index: usize,
    findings: Packed,
    diagnostics: Box<[Diagnostic]>,
    retained: Box<[Retained]>,
    cross_object: Box<[Object]>,
    control_plane: Box<[Object]>,
    workloads: Box<[Workload]>,
}

impl Piece {
    /// The lists of `o`, moved out at their exact sizes (on the worker, outside the lock).
    fn of(index: usize, findings: Packed, o: &mut Outcome) -> Piece {
        fn exact<T>(v: &mut Vec<T>) -> Box<[T]> {
            std::mem::take(v).into_boxed_slice()
        }
        Piece {
            index,
            findings,
            retained: exact(&mut o.retained),
            cross_object: exact(&mut o.cross_object),
            control_plane: exact(&mut o.control_plane),
            diagnostics: exact(&mut o.diagnostics),
            workloads: exact(&mut o.workloads),
        }
    }

    fn is_empty(&self) -> bool {
        self.findings.is_empty()
            && self.diagnostics.is_empty()
            && self.retained.is_empty()
            && self.cross_object.is_empty()
            && self.control_plane.is_empty()
            && self.workloads.is_empty()
    }
}

impl Merged {
    fn absorb(&mut self, piece: Piece, o: Outcome) {
        self.suppressed += o.suppressed;
        self.summary.bytes += o.bytes;
        self.summary.objects += o.objects;
        self.summary.pod_templates += piece.workloads.len();
        self.namespaces.extend(o.namespaces);
        for (k, n) in o.kinds {
            *self.kinds.entry(k).or_default() += n;
        }
        self.evidence.extend(o.evidence);
        if !piece.is_empty() {
            self.pieces.push(piece);
        }
    }
}

#[derive(Default)]
struct Outcome {
    findings: Vec<Finding>,
    diagnostics: Vec<Diagnostic>,
    suppressed: usize,
    bytes: u64,
    objects: usize,
    retained: Vec<Retained>,
    cross_object: Vec<Object>,
    control_plane: Vec<Object>,
    workloads: Vec<Workload>,
    namespaces: BTreeSet<String>,
    kinds: BTreeMap<String, usize>,
    evidence: FoundSet,
}

/// The rules phase 1 runs, by what they check.
struct Phase1<'a> {
    object_rules: &'a [&'a Rule],
    template_rules: &'a [&'a Rule],
    custom_rules: &'a [&'a Rule],
    document_rules: &'a [&'a Rule],
}

/// Phase 1 over the objects of one input already read.
fn scan_loaded(ctx: &Context, loaded: Loaded, phase: &Phase1<'_>) -> Outcome {
    let Phase1 {
        object_rules,
        template_rules,
        custom_rules,
        document_rules,
    } = *phase;
    let mut out = Outcome {
        diagnostics: loaded.diagnostics,
        bytes: loaded.bytes,
        ..Outcome::default()
    };
    for doc in &loaded.documents {
        for rule in document_rules {
            if let Check::Document(check) = rule.check {
                let mut emit = Emitter::new(rule);
                check(ctx, doc, &mut emit);
                out.findings.extend(emit.findings);
            }
        }
    }
    drop(loaded.documents);
    out.objects = loaded.objects.len();
    for object in loaded.objects {
        *out.kinds.entry(object.kind.clone()).or_default() += 1;
        let examined = examine(&object);
        for found in &examined.found {
            out.evidence.add(*found, 1);
        }
        out.diagnostics
            .extend(crate::rules::suppress::check_annotations(&object));
        if let Some(ns) = object.effective_namespace() {
            out.namespaces.insert(ns.to_owned());
        }
        // What the rules' emitters read of this object (its secret values, its suppressions),
        // read once for all of them.
        let mut cache = ObjectCache::default();
        for rule in object_rules {
            if let Check::Object(check) = rule.check {
                let mut emit = Emitter::with_cache(rule, cache);
                check(ctx, &object, &mut emit);
                let (findings, suppressed, read) = emit.finish();
                cache = read;
                out.suppressed += suppressed;
                out.findings.extend(findings);
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
        schema_diagnostics(&object, &mut out.diagnostics);
        if let Some(template) = PodTemplate::of(&object) {
            for (pointer, message) in security_context::type_errors(&template) {
                out.diagnostics.push(Diagnostic::new(
                    DiagLevel::Warning,
                    &object.source.name,
                    Some(object.locate(&pointer)),
                    format!("{}: {message}", object.identity()),
                ));
            }
            let system = system::recognise(&template);
            for rule in template_rules {
                if let Check::PodTemplate(check) = rule.check {
                    let mut emit = Emitter::with_cache(rule, cache);
                    check(ctx, &template, &mut emit);
                    let (mut findings, suppressed, read) = emit.finish();
                    cache = read;
                    if let Some(system) = &system {
                        system.classify(&template, &mut findings);
                    }
                    out.suppressed += suppressed;
                    out.findings.extend(findings);
                }
            }
            out.workloads
                .push(crate::analysis::workload::summary(&object, &template));
        }
        // Kept for the rules after phase 1, in each list that reads it (the control-plane and
        // other cross-object objects are few: a copy each).
        let retained = retained_kind(&object.kind);
        if retained || examined.control_plane || examined.cross_object {
            let object = detach(object);
            if examined.control_plane {
                out.control_plane.push(object.clone());
            }
            if examined.cross_object {
                out.cross_object.push(object.clone());
            }
            if retained {
                out.retained.push(Retained::packed(object));
            }
        }
    }
    out
}

/// What the API server would reject or silently drop in the object (unknown fields, types,
/// required fields, enumerations, the combinations its validation refuses), as warnings like the
/// type errors of [`security_context::type_errors`], which keep the fields they report. Objects
/// read from a live API server (`cluster:`, `admission:`) were already decoded and validated by
/// it, possibly at a newer version than the schema: they are not validated again.
fn schema_diagnostics(object: &Object, diagnostics: &mut Vec<Diagnostic>) {
    let name = &object.source.name;
    if name.starts_with("cluster:") || name.starts_with("admission:") {
        return;
    }
    let issues = kubeharden_schema::validate(object);
    if issues.is_empty() {
        return;
    }
    let typed: Vec<String> = PodTemplate::of(object)
        .map(|t| {
            security_context::type_errors(&t)
                .into_iter()
                .map(|(pointer, _)| pointer)
                .collect()
        })
        .unwrap_or_default();
    for issue in issues {
        if typed.contains(&issue.pointer) {
            continue;
        }
        diagnostics.push(Diagnostic::new(
            DiagLevel::Warning,
            name,
            Some(issue.pos),
            format!("{}: {}", object.identity(), issue.message),
        ));
    }
}

/// A retained object keeps only its own lines of the input (the snippets of cross-object findings
/// are two lines before a position of the object to that position), not the whole input's text:
/// one Role in a 2 MB bundle must not keep the bundle alive until the end of the scan; nor its
/// tree the spare capacity of its parse.
fn detach(mut object: Object) -> Object {
    let first = object.root.pos.line.saturating_sub(2).max(1);
    let last = object.root.last_line();
    object.source = Arc::new(object.source.excerpt(first, last));
    object.root.shrink_to_fit();
    object
}

/// Scans with every built-in rule.
pub fn scan_all(inputs: &[Input]) -> Report {
    scan(inputs, rules::all())
}

/// A light entry point for front ends that judge one input at a time (the admission webhook):
/// phase 0 and phase 1 of [`scan`] for this input alone, on the calling thread (no rayon), with
/// no cross-object phase and no scorecard. Only the `Object` and `PodTemplate` rules of `rules`
/// run: a lone object has no neighbours, so `Inventory` rules would report false gaps. For those
/// rules, the findings (active and suppressed) and diagnostics are exactly the ones [`scan`]
/// reports for the same input. The report is finished like any other ([`crate::finish`]).
pub fn check_input(input: &Input, rules: &[&'static Rule]) -> Report {
    check_input_with(input, rules, None, None)
}

/// [`check_input`] with the user's policies (their rules must be in `rules` to run) and the
/// admission request they may read.
pub fn check_input_with(
    input: &Input,
    rules: &[&'static Rule],
    custom: Option<Arc<dyn rules::CustomPolicies>>,
    request: Option<RequestInfo>,
) -> Report {
    let loaded = input.load();
    let bytes = loaded.bytes;
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
    let document_rules = of(|c| matches!(c, Check::Document(_)));
    let phase = Phase1 {
        object_rules: &object_rules,
        template_rules: &template_rules,
        custom_rules: &custom_rules,
        document_rules: &document_rules,
    };
    let out = scan_loaded(&ctx, loaded, &phase);
    let (findings, suppressed_findings): (Vec<Finding>, Vec<Finding>) = out
        .findings
        .into_iter()
        .partition(|f| f.suppressed_by.is_none());
    let mut diagnostics = out.diagnostics;
    diagnostics.sort_by(|a, b| (&a.origin, a.line).cmp(&(&b.origin, b.line)));
    let summary = InputSummary {
        inputs: 1,
        bytes,
        objects: out.objects,
        pod_templates: out.workloads.len(),
        kinds: out.kinds,
        evidence: out.evidence,
    };
    let scope = Scope {
        selected: rules.to_vec(),
        ran: rules
            .iter()
            .filter(|r| {
                matches!(
                    r.check,
                    Check::Object(_) | Check::PodTemplate(_) | Check::Custom | Check::Document(_)
                )
            })
            .map(|r| r.id)
            .collect(),
        unreadable: BTreeMap::new(),
        scorecard: false,
    };
    Report::new(summary, findings, suppressed_findings, diagnostics, scope)
}

/// The audit-log door: the `AuditLog` rules of `rules` over an analysed audit log (and, for
/// `rbac suggest`, the tracked subject and its RBAC objects). The log counts as evidence and
/// those rules as run, so their sections are assessed; the report is finished like any other.
pub fn scan_audit_log(input: &AuditLogInput<'_>, rules: &[&'static Rule]) -> Report {
    let mut findings = Vec::new();
    let mut suppressed_findings = Vec::new();
    let mut ran = BTreeSet::new();
    for rule in rules {
        if let Check::AuditLog(check) = rule.check {
            let mut emit = Emitter::new(rule);
            check(input, &mut emit);
            ran.insert(rule.id);
            for f in emit.findings {
                if f.suppressed_by.is_some() {
                    suppressed_findings.push(f);
                } else {
                    findings.push(f);
                }
            }
        }
    }
    let mut evidence = FoundSet::default();
    evidence.add(Found::AuditLog, input.log.events as usize);
    if input.subject.is_some() {
        evidence.add(Found::RbacUsage, input.log.tracked.len());
    }
    let summary = InputSummary {
        inputs: input.log.files,
        bytes: input.log.bytes,
        evidence,
        ..InputSummary::default()
    };
    let scope = Scope {
        selected: rules.to_vec(),
        ran,
        unreadable: BTreeMap::new(),
        scorecard: true,
    };
    Report::new(
        summary,
        findings,
        suppressed_findings,
        input.log.errors.clone(),
        scope,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Location, Severity, Snippet, Subject, fingerprint};
    use crate::meta::Section;

    fn finding(input: usize, n: usize) -> Finding {
        let name = format!("w{input}");
        Finding {
            rule: "pod-host-namespaces",
            section: Section::Rule(9),
            severity: Severity::High,
            subject: Arc::new(Subject {
                kind: "Deployment".into(),
                api_version: "apps/v1".into(),
                name: name.clone(),
                namespace: None,
                container: None,
            }),
            location: Location {
                origin: format!("{input}.yaml").into(),
                line: u32::try_from(n).unwrap() + 1,
                column: 1,
                pointer: format!("/spec/{n}").into(),
                helm_source: None,
            },
            message: format!("finding {n} of input {input}").into(),
            remedy: "Remove it.",
            snippet: Snippet::new(1, ["spec:"]),
            fingerprint: fingerprint(&[&name, &n.to_string()]),
            suppressed_by: None,
            baseline: None,
            expected: None,
        }
    }

    /// Unpacked a batch at a time on every core, the findings come in the pieces' order and in
    /// each piece's order: pieces empty, small, and larger than a batch, over several batches.
    #[test]
    fn unpacking_in_batches_keeps_the_order_of_the_pieces() {
        let sizes = [
            0,
            3,
            UNPACK_BATCH + 5,
            1,
            0,
            UNPACK_BATCH - 1,
            2,
            UNPACK_BATCH,
            7,
        ];
        let raw = RawAllowance::new(1 << 10);
        let pieces: Vec<Vec<Finding>> = sizes
            .iter()
            .enumerate()
            .map(|(input, &len)| (0..len).map(|n| finding(input, n)).collect())
            .collect();
        let expected: Vec<String> = pieces
            .iter()
            .flatten()
            .map(|f| f.message.to_string())
            .collect();
        // Within the raw allowance and past it (deflated), as a scan packs them.
        let packed: Vec<Packed> = pieces
            .into_iter()
            .map(|p| Packed::within(p, &raw))
            .collect();
        let got: Vec<String> = unpack_all(packed)
            .into_iter()
            .map(|f| f.message.to_string())
            .collect();
        assert_eq!(got.len(), sizes.iter().sum::<usize>());
        assert_eq!(got, expected);
    }

    /// The findings of a scan share one copy of each equal message across inputs and batches.
    #[test]
    fn unpacked_findings_share_equal_messages_across_inputs() {
        let raw = RawAllowance::new(0);
        let same = |input: usize, n: usize| {
            let mut f = finding(input, n);
            f.message = "container \"nginx\" does not drop any capabilities".into();
            f
        };
        let packed: Vec<Packed> = [UNPACK_BATCH, 3]
            .into_iter()
            .enumerate()
            .map(|(input, len)| Packed::within((0..len).map(|n| same(input, n)).collect(), &raw))
            .collect();
        let got = unpack_all(packed);
        let first = &got[0].message;
        assert_eq!(got.len(), UNPACK_BATCH + 3);
        assert!(got.iter().all(|f| Arc::ptr_eq(&f.message, first)));
    }
}
