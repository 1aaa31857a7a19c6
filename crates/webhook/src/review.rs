//! One admission review: the object through the same engine as `kubeharden scan`, then the
//! policy's modes and exemptions, then the AdmissionReview response.
//!
//! The object is handed to the engine as the API server sent it, as
//! `Input::Bytes { name: "admission:<uid>", bytes: <object JSON> }` (JSON is YAML), through
//! [`scan::check_input`]: the per-object and per-pod-template rules of [`scan::scan`] on the calling
//! thread, without the cross-object phase and the scorecard. So a finding at admission is the
//! finding `scan` reports for the same object (tested in `tests/same_findings.rs`). Only
//! `metadata.managedFields` is cut out first ([`without_managed_fields`]: read by no rule, 40% of
//! the parsing), which moves the findings' columns and nothing else.
//!
//! **Exemptions at admission** come only from what the requester cannot write: the policy's
//! `exemptNamespaces`/`exemptUsers`/`exemptGroups` (the whole request) and `ruleExemptions`, and
//! the exemptions of its `.kubeharden.yaml`. The suppression annotations on the object itself
//! (`kubeharden.io/ignore`, the peers' keys) are ignored (`Finish::object_annotations: false`)
//! unless the policy sets `objectAnnotations: true`. Every exemption used is returned in
//! [`Decision::exemptions`], which the server logs and counts by rule and source.
//!
//! **Text** from the object (names, images, keys) reaches the denial message and the warnings,
//! which kubectl prints on a terminal: control characters are replaced by visible escapes
//! ([`escape_controls`]).

use crate::admission::{Request, Response, Status};
use crate::policy::{Mode, Policy};
use kubeharden_engine::Input;
use kubeharden_engine::config::EXEMPTION_EXPIRED;
use kubeharden_engine::finding::{Finding, SuppressionSource};
use kubeharden_engine::finish::{self, Finish};
use kubeharden_engine::inventory::Object;
use kubeharden_engine::rules::{
    AdmissionNeed, Context, CustomPolicies, Emitter, NamespaceLookup, RequestInfo, Rule,
    Unevaluable,
};
use kubeharden_engine::scan;
use kubeharden_engine::selector::Labels;
use kubeharden_engine::source::DiagLevel;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

/// The API server truncates longer warnings; each finding's warning is cut to this many bytes.
pub const MAX_WARNING_BYTES: usize = 256;

/// A finding and what it does to the request.
#[derive(Debug)]
pub struct Judged {
    pub finding: Finding,
    pub mode: Mode,
    /// UPDATE with `ratchetUpdates`: the old object had this finding already, so a `deny` became
    /// a warning (an unrelated change to an old object is not blocked by what it already was).
    pub pre_existing: bool,
}

/// An exemption that silenced a finding (or a whole request), for the log and the metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exempted {
    /// The rule whose finding it silenced; `*` for a whole request.
    pub rule: &'static str,
    /// Where it comes from: `exemptNamespaces`, `exemptUsers`, `exemptGroups` (the whole
    /// request), `ruleExemptions` (the policy), `kubehardenConfig` (an exemption of the
    /// `.kubeharden.yaml`), or, only with `objectAnnotations: true`, the annotation's family
    /// (`annotation`, `kube-linter`, `polaris`, `checkov`, `kubescape`, `kube-score`).
    pub source: &'static str,
    /// Which one: `ruleExemptions[N]`, `<config>:<line>`, the annotation key, or the namespace,
    /// user or group matched.
    pub by: String,
    pub reason: String,
    pub expires: Option<String>,
}

/// What [`Reviewer::evaluate`] found on one object.
#[derive(Debug, Default)]
pub struct Evaluated {
    /// The active findings.
    pub findings: Vec<Finding>,
    /// The findings exempted (by the config, the policy or, when allowed, an annotation).
    pub suppressed: usize,
    /// The exemptions used, one per exempted finding.
    pub exemptions: Vec<Exempted>,
    /// The user's policies that could not be evaluated on the object (those failing closed
    /// also have a finding among `findings`).
    pub unevaluable: Vec<Unevaluable>,
}

/// Cancellation of one evaluation, shared by the server, which gives up on it at its deadline,
/// and the thread evaluating, which checks it between its steps (before the old object of an
/// UPDATE, before the user's policies) and stops early. A Rust thread cannot be preempted: a
/// step already running (one engine pass over one object) runs to its end.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicU8>);

const RUNNING: u8 = 0;
const DONE: u8 = 1;
const CANCELLED: u8 = 2;

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Gives up on the evaluation: `true` when it was still running (it is cancelled now),
    /// `false` when it had finished.
    pub fn cancel(&self) -> bool {
        self.0
            .compare_exchange(RUNNING, CANCELLED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Marks the evaluation finished: `true` when in time, `false` when it had been cancelled.
    pub fn finish(&self) -> bool {
        self.0
            .compare_exchange(RUNNING, DONE, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Acquire) == CANCELLED
    }

    fn check(&self) -> Result<(), EvalError> {
        if self.is_cancelled() {
            Err(EvalError(
                "the evaluation was abandoned at its deadline".into(),
            ))
        } else {
            Ok(())
        }
    }
}

/// The user's policies, skipped once the evaluation is cancelled; what they could not evaluate
/// is kept for the review.
#[derive(Debug)]
struct UntilCancelled {
    inner: Arc<dyn CustomPolicies>,
    cancel: Cancel,
    unevaluable: std::sync::Mutex<Vec<Unevaluable>>,
}

impl CustomPolicies for UntilCancelled {
    fn rules(&self) -> &[&'static Rule] {
        self.inner.rules()
    }
    fn check(&self, ctx: &Context, object: &Object, selected: &[&Rule]) -> Vec<Emitter<'static>> {
        if self.cancel.is_cancelled() {
            return Vec::new();
        }
        let mut unevaluable = Vec::new();
        let out = self
            .inner
            .check_reporting(ctx, object, selected, &mut unevaluable);
        self.unevaluable
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(unevaluable);
        out
    }
}

/// Why a request was not evaluated, or that it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Evaluated,
    /// The policy exempts the namespace, user or group.
    Exempt(String),
    /// Nothing to judge: DELETE, CONNECT, a subresource, no object.
    Skipped(&'static str),
    /// The evaluation did not finish within `--eval-timeout`: denied (`--on-eval-timeout deny`).
    TimedOut,
}

/// The decision on one request.
#[derive(Debug)]
pub struct Decision {
    pub outcome: Outcome,
    pub judged: Vec<Judged>,
    /// Findings silenced by exemptions (the config's, the policy's; annotations only with
    /// `objectAnnotations: true`).
    pub suppressed: usize,
    /// Every exemption used: one per exempted finding, or one (`rule: "*"`) for an exempt
    /// request.
    pub exemptions: Vec<Exempted>,
    /// The user's policies that could not be evaluated (see [`crate::namespaces`]): each is
    /// warned about (`failurePolicy: Ignore`) or denied with its reason (`Fail`), logged and
    /// counted.
    pub unevaluable: Vec<Unevaluable>,
    pub response: Response,
}

impl Decision {
    pub fn allowed(&self) -> bool {
        self.response.allowed
    }
    pub fn rules(&self, mode: Mode) -> Vec<&'static str> {
        self.judged
            .iter()
            .filter(|j| j.mode == mode)
            .map(|j| j.finding.rule)
            .collect()
    }
}

/// The engine could not read the object: answered with HTTP 500, so that the API server applies
/// the webhook's `failurePolicy`.
#[derive(Debug)]
pub struct EvalError(pub String);

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Judges admission requests with a [`Policy`].
pub struct Reviewer {
    pub policy: Policy,
    /// Where the Namespaces of admitted objects are read (see [`crate::namespaces`]); `None`:
    /// nowhere, so policies that need them are not evaluated (and say so).
    pub namespaces: Option<Arc<dyn crate::namespaces::Namespaces>>,
    /// What the user's policies need that a request does not carry.
    needs: Vec<AdmissionNeed>,
}

#[derive(Deserialize)]
struct NamespaceOf<'a> {
    #[serde(borrow, default)]
    metadata: Option<MetaNamespace<'a>>,
}

#[derive(Deserialize)]
struct MetaNamespace<'a> {
    #[serde(borrow, default)]
    namespace: Option<std::borrow::Cow<'a, str>>,
}

#[derive(Deserialize)]
struct LabelsOf {
    #[serde(default)]
    metadata: Option<MetaLabels>,
}

#[derive(Deserialize)]
struct MetaLabels {
    #[serde(default)]
    labels: Option<Labels>,
}

/// `metadata.labels` of an object's JSON (none when it has none or they are not strings).
pub fn labels_of(bytes: &[u8]) -> Labels {
    serde_json::from_slice::<LabelsOf>(bytes)
        .ok()
        .and_then(|o| o.metadata)
        .and_then(|m| m.labels)
        .unwrap_or_default()
}

impl Reviewer {
    pub fn new(policy: Policy) -> Reviewer {
        let needs = policy
            .custom
            .as_ref()
            .map(|c| c.admission_needs())
            .unwrap_or_default();
        Reviewer {
            policy,
            namespaces: None,
            needs,
        }
    }

    /// Reads the Namespaces of admitted objects from `namespaces`.
    pub fn with_namespaces(mut self, namespaces: Arc<dyn crate::namespaces::Namespaces>) -> Self {
        self.namespaces = Some(namespaces);
        self
    }

    /// What each of the user's policies needs that an AdmissionReview does not carry.
    pub fn admission_needs(&self) -> &[AdmissionNeed] {
        &self.needs
    }

    /// Whether an evaluation is the built-in rules alone: no user policy (whose cost is the
    /// user's) and no Namespace lookup (a request to the API server). Its time is then linear in
    /// the size of the request, and the server may run it on the connection's own thread
    /// (see `server::INLINE_MAX_BYTES`).
    pub fn is_builtin_only(&self) -> bool {
        self.policy.custom.is_none() && self.needs.is_empty()
    }

    /// The Namespace of the request's object for the policies, looked up only when one of them
    /// needs it and the object is namespaced (a Namespace is judged by its own labels).
    fn namespace_of(&self, req: &Request<'_>) -> NamespaceLookup {
        if req.namespace.is_empty()
            || req.kind.kind == "Namespace"
            || !self.needs.iter().any(|n| n.namespace)
        {
            return NamespaceLookup::Inputs;
        }
        let Some(source) = &self.namespaces else {
            return NamespaceLookup::Unavailable(
                "the webhook reads no Namespaces (started without access to the API server)".into(),
            );
        };
        match source.get(&req.namespace) {
            Ok(Some(ns)) => NamespaceLookup::Found(ns),
            Ok(None) => NamespaceLookup::Unavailable(format!(
                "the API server has no namespace `{}`",
                clean(&req.namespace)
            )),
            Err(why) => NamespaceLookup::Unavailable(why),
        }
    }

    /// The active findings on one object (JSON or YAML bytes), after the policy's exemptions and
    /// its `.kubeharden.yaml` (foreign suppressions, exemptions, severity overrides); the second
    /// value counts the exempted ones. The object's own suppression annotations count only with
    /// `objectAnnotations: true`.
    pub fn findings(&self, name: String, bytes: &[u8]) -> Result<(Vec<Finding>, usize), EvalError> {
        self.findings_for(name, bytes, None)
    }

    /// [`Reviewer::findings`] for an admission request, which custom policies may read
    /// (operation, user, old object).
    pub fn findings_for(
        &self,
        name: String,
        bytes: &[u8],
        request: Option<RequestInfo>,
    ) -> Result<(Vec<Finding>, usize), EvalError> {
        self.evaluate(name, bytes, request, &Cancel::new())
            .map(|e| (e.findings, e.suppressed))
    }

    /// The findings on one object and the exemptions that silenced the others. The user's
    /// policies are skipped once `cancel` is cancelled.
    pub fn evaluate(
        &self,
        name: String,
        bytes: &[u8],
        request: Option<RequestInfo>,
        cancel: &Cancel,
    ) -> Result<Evaluated, EvalError> {
        cancel.check()?;
        let input = Input::Bytes {
            name,
            bytes: Arc::from(bytes),
        };
        let until = self.policy.custom.clone().map(|inner| {
            Arc::new(UntilCancelled {
                inner,
                cancel: cancel.clone(),
                unevaluable: std::sync::Mutex::default(),
            })
        });
        let custom = until.clone().map(|u| u as Arc<dyn CustomPolicies>);
        let checked = scan::check_input_with(&input, &self.policy.rules, custom, request);
        let unevaluable = until
            .map(|u| std::mem::take(&mut *u.unevaluable.lock().unwrap_or_else(|e| e.into_inner())))
            .unwrap_or_default();
        if let Some(d) = checked
            .diagnostics
            .iter()
            .find(|d| d.level == DiagLevel::Error)
        {
            return Err(EvalError(format!("cannot read the object: {}", d.message)));
        }
        if checked.summary.objects == 0 {
            return Err(EvalError(
                "the object is not a Kubernetes object (no apiVersion and kind)".into(),
            ));
        }
        cancel.check()?;
        // The same finish as every other door: the config's exemptions with expiry and severity
        // overrides. But not the annotations on the object: whoever writes the object must not
        // be able to exempt it (unless the policy allows it: `objectAnnotations: true`).
        let today = kubeharden_engine::suppress::today_utc();
        let how = Finish {
            config: Some(&self.policy.config),
            object_annotations: self.policy.object_annotations,
            allow_empty: true,
            today: today.clone(),
            ..Finish::default()
        };
        let (report, _) = finish::finish(checked, &how);
        let mut exemptions: Vec<Exempted> = report
            .suppressed_findings
            .iter()
            .filter_map(|f| {
                let s = f.suppressed_by.as_ref()?;
                Some(Exempted {
                    rule: f.rule,
                    source: match s.source {
                        SuppressionSource::Config => "kubehardenConfig",
                        other => other.as_str(),
                    },
                    by: s.key.clone(),
                    reason: s.reason.clone().unwrap_or_default(),
                    expires: s.expires.clone(),
                })
            })
            .collect();
        let mut suppressed = report.suppressed;
        let mut findings = report.findings;
        // An expired exemption of the config is reported (as `scan` does) only on an object it
        // was written for, not on every object admitted.
        if findings.iter().any(|f| f.rule == EXEMPTION_EXPIRED.id) {
            let keep: Vec<bool> = findings
                .iter()
                .map(|f| f.rule != EXEMPTION_EXPIRED.id || self.expired_applies(f, &findings))
                .collect();
            let mut keep = keep.into_iter();
            findings.retain(|_| keep.next().unwrap_or(true));
        }
        if !self.policy.rule_exemptions.is_empty() {
            let labels = if self.policy.exemptions_need_labels() {
                labels_of(bytes)
            } else {
                Labels::new()
            };
            let mut kept = Vec::with_capacity(findings.len());
            for f in findings {
                let namespace = f.subject.namespace.as_deref().unwrap_or("");
                match self.policy.rule_exemption(&f, namespace, &labels, &today) {
                    Some(ex) => {
                        exemptions.push(Exempted {
                            rule: f.rule,
                            source: "ruleExemptions",
                            by: ex.key(),
                            reason: ex.reason.clone(),
                            expires: ex.expires.clone(),
                        });
                        suppressed += 1;
                    }
                    None => kept.push(f),
                }
            }
            findings = kept;
        }
        Ok(Evaluated {
            findings,
            suppressed,
            exemptions,
            unevaluable,
        })
    }

    /// Is `expired` (an `exemption-expired` finding) about an exemption of a finding among
    /// `findings`?
    fn expired_applies(&self, expired: &Finding, findings: &[Finding]) -> bool {
        let index = expired
            .location
            .pointer
            .strip_prefix("/exemptions/")
            .and_then(|i| i.parse::<usize>().ok());
        let Some(ex) =
            index.and_then(|i| self.policy.config.exemptions.iter().find(|e| e.index == i))
        else {
            return true;
        };
        findings
            .iter()
            .any(|f| f.rule != EXEMPTION_EXPIRED.id && ex.matches(f))
    }

    /// The object to judge, or why the request is not judged (operation, subresource, no object,
    /// an exempt namespace, user or group).
    pub fn applies<'r>(&self, req: &Request<'r>) -> Result<&'r RawValue, Outcome> {
        if !matches!(req.operation.as_str(), "CREATE" | "UPDATE") {
            return Err(Outcome::Skipped("operation"));
        }
        if !matches!(req.sub_resource.as_str(), "" | "ephemeralcontainers") {
            return Err(Outcome::Skipped("subresource"));
        }
        let Some(object) = req.object.filter(|o| o.get() != "null") else {
            return Err(Outcome::Skipped("no object"));
        };
        if let Some(why) = self.policy.exemption(
            &req.namespace,
            &req.user_info.username,
            &req.user_info.groups,
        ) {
            return Err(Outcome::Exempt(why.to_string()));
        }
        Ok(object)
    }

    /// Judges one request.
    pub fn review(&self, req: &Request<'_>) -> Result<Decision, EvalError> {
        self.review_with(req, &Cancel::new())
    }

    /// [`Reviewer::review`], stopping early (with an error) once `cancel` is cancelled.
    pub fn review_with(&self, req: &Request<'_>, cancel: &Cancel) -> Result<Decision, EvalError> {
        let object = match self.applies(req) {
            Ok(o) => o,
            Err(outcome) => {
                let exemptions = self
                    .policy
                    .exemption(
                        &req.namespace,
                        &req.user_info.username,
                        &req.user_info.groups,
                    )
                    .filter(|_| matches!(outcome, Outcome::Exempt(_)))
                    .map(|e| Exempted {
                        rule: "*",
                        source: e.source,
                        by: e.matched,
                        reason: String::new(),
                        expires: None,
                    })
                    .into_iter()
                    .collect();
                return Ok(Decision {
                    outcome,
                    judged: Vec::new(),
                    suppressed: 0,
                    exemptions,
                    unevaluable: Vec::new(),
                    response: Response {
                        uid: req.uid.clone(),
                        allowed: true,
                        ..Response::default()
                    },
                });
            }
        };
        let bytes = admitted(object.get(), req);
        let request = self.policy.custom.is_some().then(|| RequestInfo {
            operation: req.operation.clone(),
            username: req.user_info.username.clone(),
            uid: String::new(),
            groups: req.user_info.groups.clone(),
            old_object: req
                .old_object
                .filter(|o| o.get() != "null")
                .and_then(|o| serde_json::from_str(o.get()).ok()),
            dry_run: req.is_dry_run(),
            namespace: self.namespace_of(req),
        });
        let Evaluated {
            findings,
            suppressed,
            exemptions,
            unevaluable,
        } = self.evaluate(format!("admission:{}", req.uid), &bytes, request, cancel)?;
        let mut judged: Vec<Judged> = findings
            .into_iter()
            .map(|f| Judged {
                mode: self.policy.mode(f.rule, f.severity),
                finding: f,
                pre_existing: false,
            })
            .filter(|j| j.mode != Mode::Off)
            .collect();
        if self.policy.ratchet_updates
            && req.operation == "UPDATE"
            && judged.iter().any(|j| j.mode == Mode::Deny)
            && let Some(old) = req.old_object.filter(|o| o.get() != "null")
        {
            cancel.check()?;
            let old = admitted(old.get(), req);
            // An old object the engine cannot read ratchets nothing.
            if let Ok(Evaluated {
                findings: before, ..
            }) = self.evaluate(format!("admission:{}:old", req.uid), &old, None, cancel)
            {
                let seen: HashSet<&str> = before.iter().map(|f| f.fingerprint.as_str()).collect();
                for j in judged.iter_mut().filter(|j| j.mode == Mode::Deny) {
                    if seen.contains(j.finding.fingerprint.as_str()) {
                        j.mode = Mode::Warn;
                        j.pre_existing = true;
                    }
                }
            }
        }
        cancel.check()?;
        let mut response = respond(req, &judged);
        unevaluable_warnings(&mut response, &unevaluable);
        Ok(Decision {
            outcome: Outcome::Evaluated,
            judged,
            suppressed,
            exemptions,
            unevaluable,
            response,
        })
    }
}

/// The bytes the engine judges for an admitted object: its JSON as sent, with
/// `metadata.namespace` filled in when missing ([`with_namespace`]) and `metadata.managedFields`
/// cut out ([`without_managed_fields`]).
pub fn admitted<'b>(json: &'b str, req: &Request<'_>) -> Cow<'b, [u8]> {
    match with_namespace(json, req) {
        Cow::Borrowed(b) => match without_managed_fields(json) {
            Cow::Borrowed(_) => Cow::Borrowed(b),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        },
        Cow::Owned(v) => {
            let s = String::from_utf8(v).unwrap_or_default();
            Cow::Owned(without_managed_fields(&s).into_owned().into_bytes())
        }
    }
}

#[derive(Deserialize)]
struct TopLevel<'a> {
    #[serde(borrow, default)]
    metadata: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Metadata<'a> {
    #[serde(borrow, default, rename = "managedFields")]
    managed_fields: Option<&'a RawValue>,
}

/// The object's JSON without `metadata.managedFields`, cut out of the text (every other byte as
/// sent). managedFields is the API server's record of which client set which field: field names
/// only, no values, read by no rule, and about 40% of the bytes of a typical object (so 40% of
/// the engine's parsing time). The findings are those of the whole object; only their column on
/// the object's single JSON line moves (`tests/same_findings.rs`). Anything unexpected (no such
/// field, duplicate keys, escaped key) leaves the text as it is.
pub fn without_managed_fields(json: &str) -> Cow<'_, str> {
    let unchanged = Cow::Borrowed(json);
    let Ok(TopLevel {
        metadata: Some(meta),
    }) = serde_json::from_str::<TopLevel<'_>>(json)
    else {
        return unchanged;
    };
    let Ok(Metadata {
        managed_fields: Some(mf),
    }) = serde_json::from_str::<Metadata<'_>>(meta.get())
    else {
        return unchanged;
    };
    // `mf` borrows from `json`: its offset is the distance between the two.
    let start = mf.get().as_ptr() as usize - json.as_ptr() as usize;
    let end = start + mf.get().len();
    let Some(key_start) = json[..start]
        .trim_end()
        .strip_suffix(':')
        .and_then(|b| b.trim_end().strip_suffix("\"managedFields\""))
        .map(str::len)
    else {
        return unchanged;
    };
    let after = &json[end..];
    let rest = after.trim_start();
    let (cut_from, cut_to) = if rest.starts_with(',') {
        // `"managedFields":[…],` and the next entry follows.
        (key_start, end + (after.len() - rest.len()) + 1)
    } else {
        let before = json[..key_start].trim_end();
        if before.ends_with(',') {
            // The last entry: cut the comma before it.
            (before.len() - 1, end)
        } else if before.ends_with('{') {
            // The only entry.
            (key_start, end)
        } else {
            return unchanged;
        }
    };
    let mut out = String::with_capacity(json.len() - (cut_to - cut_from));
    out.push_str(&json[..cut_from]);
    out.push_str(&json[cut_to..]);
    Cow::Owned(out)
}

/// The object's JSON, with `metadata.namespace` set from the request when the object lacks it
/// (the API server sets it before admission; a hand-made review may not).
pub fn with_namespace<'b>(json: &'b str, req: &Request<'_>) -> Cow<'b, [u8]> {
    // `"namespace":"<ns>"` in the text (compact JSON, as the API server writes it) settles it
    // without parsing; otherwise the object is read to be sure.
    let lacks = !req.namespace.is_empty()
        && req.kind.kind != "Namespace"
        && !json.contains(&format!(
            "\"namespace\":{}",
            serde_json::Value::from(req.namespace.as_str())
        ))
        && serde_json::from_str::<NamespaceOf<'_>>(json).is_ok_and(|o| {
            o.metadata
                .is_none_or(|m| m.namespace.is_none_or(|n| n.is_empty()))
        });
    if !lacks {
        return Cow::Borrowed(json.as_bytes());
    }
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(json) else {
        return Cow::Borrowed(json.as_bytes());
    };
    if let Some(obj) = value.as_object_mut() {
        let meta = obj
            .entry("metadata")
            .or_insert_with(|| serde_json::Value::Object(Default::default()));
        if let Some(meta) = meta.as_object_mut() {
            meta.insert(
                "namespace".into(),
                serde_json::Value::String(req.namespace.clone()),
            );
        }
    }
    Cow::Owned(serde_json::to_vec(&value).unwrap_or_else(|_| json.as_bytes().to_vec()))
}

/// Text with its control characters replaced by visible escapes, as `kubeharden scan` prints
/// them: every character below U+0020 but tab (and line feed when `keep_newlines`), DEL
/// (U+007F) and the C1 controls (U+0080 to U+009F, which some terminals obey as escapes), each
/// written `\xNN` or `\u{NN}`. The denial message and the warnings carry names, images and keys
/// written by the requester, and kubectl prints them on a terminal: an ESC or BEL there could
/// retitle the window, hide lines or forge output.
pub fn escape_controls(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let bad = |c: char| {
        (c < ' ' && c != '\t' && !(keep_newlines && c == '\n'))
            || ('\u{7f}'..='\u{9f}').contains(&c)
    };
    if !text.chars().any(bad) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !bad(c) {
            out.push(c);
        } else if c <= '\u{7f}' {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
    Cow::Owned(out)
}

/// One line of text from the object, for a message: no control character, no line break, and no
/// secret value ([`kubeharden_engine::redact`]: the engine redacts where findings are made, and
/// what the webhook writes back or logs is masked once more).
pub fn clean(text: &str) -> Cow<'_, str> {
    match kubeharden_engine::redact::mask_text(text) {
        Cow::Borrowed(t) => escape_controls(t, false),
        Cow::Owned(t) => Cow::Owned(escape_controls(&t, false).into_owned()),
    }
}

/// `Kind "name" in namespace "ns"` of the request's object.
fn subject(req: &Request<'_>, judged: &[Judged]) -> String {
    let name = judged
        .first()
        .map(|j| j.finding.subject.name.as_str())
        .filter(|n| !n.is_empty())
        .unwrap_or(&req.name);
    let mut s = format!("{} \"{}\"", clean(&req.kind.kind), clean(name));
    if !req.namespace.is_empty() {
        let _ = write!(s, " in namespace \"{}\"", clean(&req.namespace));
    }
    s
}

fn where_(f: &Finding) -> String {
    match &f.subject.container {
        Some(c) => format!(
            "{} (container \"{}\")",
            clean(&f.location.pointer),
            clean(c)
        ),
        None => clean(&f.location.pointer).into_owned(),
    }
}

/// What the evaluation deadline answers (`--on-eval-timeout`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnTimeout {
    /// A denial (`allowed: false`, 403) saying the object could not be judged in time.
    Deny,
    /// An HTTP error (503), so that the API server applies the webhook's `failurePolicy`.
    Error,
}

/// The denial of a request whose evaluation did not finish within `limit`.
pub fn overrun_response(req: &Request<'_>, limit: Duration) -> Response {
    let mut what = format!("{} \"{}\"", clean(&req.kind.kind), clean(&req.name));
    if !req.namespace.is_empty() {
        let _ = write!(what, " in namespace \"{}\"", clean(&req.namespace));
    }
    let mut response = Response {
        uid: req.uid.clone(),
        allowed: false,
        ..Response::default()
    };
    response.status = Some(Status {
        code: 403,
        reason: "Forbidden",
        message: format!(
            "kubeharden denied {what}: it could not be judged within {limit:?} (the webhook's --eval-timeout); an object that takes that long to evaluate is denied, not admitted unjudged. Make it smaller (e.g. fewer annotations or labels), or ask the cluster operator."
        ),
    });
    response
        .audit_annotations
        .insert("eval-timeout".into(), format!("{limit:?}"));
    response
}

/// Cuts a string to at most `max` bytes on a character boundary, marking the cut.
fn cut(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max - '…'.len_utf8();
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

/// A warning for each policy that could not be evaluated and fails open (`failurePolicy:
/// Ignore`: admitted without it); those failing closed are findings of the denial. All are named
/// in the `unevaluable-policies` audit annotation.
fn unevaluable_warnings(response: &mut Response, unevaluable: &[Unevaluable]) {
    for u in unevaluable.iter().filter(|u| !u.fail_closed) {
        response.warnings.push(cut(
            format!(
                "kubeharden [{}] not evaluated, admitted without it (failurePolicy: Ignore): {}",
                clean(u.rule),
                clean(&u.detail)
            ),
            MAX_WARNING_BYTES,
        ));
    }
    if !unevaluable.is_empty() {
        let mut rules: Vec<String> = unevaluable
            .iter()
            .map(|u| format!("{}:{}", u.rule, u.reason))
            .collect();
        rules.dedup();
        response
            .audit_annotations
            .insert("unevaluable-policies".into(), rules.join(","));
    }
}

fn respond(req: &Request<'_>, judged: &[Judged]) -> Response {
    // Most severe first, else in the order of the object.
    let mut by_severity: Vec<&Judged> = judged.iter().collect();
    by_severity.sort_by_key(|j| std::cmp::Reverse(j.finding.severity));
    let deny: Vec<&Judged> = by_severity
        .iter()
        .copied()
        .filter(|j| j.mode == Mode::Deny)
        .collect();
    let mut response = Response {
        uid: req.uid.clone(),
        allowed: deny.is_empty(),
        ..Response::default()
    };
    if !deny.is_empty() {
        let mut m = format!(
            "kubeharden denied {}: {} finding{} of the hardening rules",
            subject(req, judged),
            deny.len(),
            if deny.len() == 1 { "" } else { "s" }
        );
        for (i, j) in deny.iter().enumerate() {
            let f = &j.finding;
            let _ = write!(
                m,
                "\n{}. [{}] ({}) {}: {}\n   Fix: {}",
                i + 1,
                escape_controls(f.rule, false),
                f.severity,
                where_(f),
                escape_controls(&f.message, false),
                escape_controls(f.remedy, true)
            );
        }
        m.push_str("\n(`kubeharden explain <rule>` gives the rationale; `kubeharden scan` reports the same findings on the manifest.)");
        response.status = Some(Status {
            code: 403,
            reason: "Forbidden",
            message: escape_controls(&m, true).into_owned(),
        });
    }
    for j in by_severity.iter().filter(|j| j.mode == Mode::Warn) {
        let f = &j.finding;
        let mut w = format!(
            "kubeharden [{}] {}",
            escape_controls(f.rule, false),
            escape_controls(&f.message, false)
        );
        if j.pre_existing {
            w.push_str(" (already so before this update; would be denied on create)");
        }
        response.warnings.push(cut(w, MAX_WARNING_BYTES));
    }
    if !judged.is_empty() {
        let mut by_mode: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for j in &by_severity {
            let mode = if j.pre_existing {
                "ratchet"
            } else {
                j.mode.as_str()
            };
            let list = by_mode.entry(mode).or_default();
            if !list.contains(&j.finding.rule) {
                list.push(j.finding.rule);
            }
        }
        for (mode, rules) in by_mode {
            response
                .audit_annotations
                .insert(format!("{mode}-findings"), rules.join(","));
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_from_the_request_when_the_object_lacks_it() {
        let review = |object: &str, kind: &str| {
            format!(
                r#"{{"uid":"u","namespace":"shop","operation":"CREATE","kind":{{"kind":"{kind}"}},"object":{object}}}"#
            )
        };
        let text = review(r#"{"kind":"Pod","metadata":{"name":"a"}}"#, "Pod");
        let req: Request<'_> = serde_json::from_str(&text).unwrap();
        let got = with_namespace(req.object.unwrap().get(), &req);
        let v: serde_json::Value = serde_json::from_slice(&got).unwrap();
        assert_eq!(v["metadata"]["namespace"], "shop");

        let text = review(
            r#"{"kind":"Pod","metadata":{"name":"a","namespace":"shop"}}"#,
            "Pod",
        );
        let req: Request<'_> = serde_json::from_str(&text).unwrap();
        assert!(matches!(
            with_namespace(req.object.unwrap().get(), &req),
            Cow::Borrowed(_)
        ));
        // A Namespace's request namespace is its own name, not a field to add.
        let text = review(
            r#"{"kind":"Namespace","metadata":{"name":"shop"}}"#,
            "Namespace",
        );
        let req: Request<'_> = serde_json::from_str(&text).unwrap();
        assert!(matches!(
            with_namespace(req.object.unwrap().get(), &req),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn managed_fields_are_cut_out() {
        let cut = |s: &str| without_managed_fields(s).into_owned();
        assert_eq!(
            cut(
                r#"{"a":1,"metadata":{"name":"x","managedFields":[{"f:spec":{}}],"uid":"u"},"b":2}"#
            ),
            r#"{"a":1,"metadata":{"name":"x","uid":"u"},"b":2}"#
        );
        assert_eq!(
            cut(r#"{"metadata":{"name":"x", "managedFields" : [{"m":"}],"}] }}"#),
            r#"{"metadata":{"name":"x" }}"#
        );
        assert_eq!(
            cut(r#"{"metadata":{"managedFields":[]},"spec":{}}"#),
            r#"{"metadata":{},"spec":{}}"#
        );
        // Untouched: none, nested elsewhere, escaped key, duplicate metadata, not JSON.
        for s in [
            r#"{"metadata":{"name":"x"}}"#,
            r#"{"spec":{"managedFields":[1]},"metadata":{}}"#,
            r#"{"metadata":{"managedField\u0073":[1]}}"#,
            r#"{"metadata":{"managedFields":[1]},"metadata":{}}"#,
            "kind: Pod\nmetadata: {managedFields: []}\n",
        ] {
            assert_eq!(cut(s), s);
        }
    }

    #[test]
    fn cut_on_char_boundary() {
        let s = cut("é".repeat(200), 256);
        assert!(s.len() <= 256);
        assert!(s.ends_with('…'));
        assert_eq!(cut("short".into(), 256), "short");
    }
}
