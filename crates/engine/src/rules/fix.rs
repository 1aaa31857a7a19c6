//! The fix of a rule, declared in the rule's own file next to its check: what kind of fix it is
//! (safe, unsafe, generated), what it does, and the fixer that turns the rule's active findings on
//! one object into operations ([`Op`]: set, append, remove, replace a field by JSON pointer), each
//! marked safe or unsafe, or the reason no change is proposed. Fixers read the object through the
//! same analysis the rules use, so a fix targets exactly the field the rule judged. The fix engine
//! (`crate::fix`) plans, splices and verifies; it holds no rule's knowledge.
//!
//! Safe means: a field that was unset gets its secure value, which changes nothing for a
//! workload that already behaves (runAsNonRoot, allowPrivilegeEscalation, dropped capabilities,
//! RuntimeDefault seccomp, no API token where no API use is visible, Pod Security audit/warn
//! labels). Unsafe means: a value the author wrote is overridden or removed, or the workload may
//! stop working (privileged, host namespaces, hostPath, read-only root, enforcing `restricted`).

use super::Rule;
use crate::analysis::rbac::Rbac;
use crate::finding::Finding;
use crate::inventory::{Container, Object, PodTemplate};
pub use crate::meta::FixKind;
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// A rule's fix.
#[derive(Debug)]
pub struct Fix {
    /// Fixes run in ascending `order` on each object, so the fields they add appear in that order
    /// (the user's identity first, then privileges, capabilities, seccomp, the filesystem, host
    /// access, the token; namespaces after workloads).
    pub order: u8,
    pub kind: FixKind,
    /// What the fix does, as `kubeharden explain` and `kubeharden rules` show it.
    pub description: &'static str,
    pub fixer: Fixer,
}

/// A fixer of Namespace objects: the job and the rule's findings, with their index into
/// [`Job::findings`].
pub type NamespaceFixer = fn(&Job<'_>, &[(usize, &Finding)]) -> Vec<Outcome>;

/// How a rule's findings are fixed.
pub enum Fixer {
    /// Nothing is edited: the missing object is generated (`fix --generate-missing DIR`).
    Generated,
    /// On the Namespace object a finding is about.
    Namespace(NamespaceFixer),
    /// On a pod template. Findings that name no container are accepted when `pod_level` (the
    /// rule judges pod fields), and reported as unfixable otherwise.
    Pod {
        pod_level: bool,
        fix: fn(&PodFix<'_>) -> Vec<Outcome>,
    },
}

impl std::fmt::Debug for Fixer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Fixer::Generated => "Generated",
            Fixer::Namespace(_) => "Namespace",
            Fixer::Pod { .. } => "Pod",
        })
    }
}

/// What a pod fixer gets: the job, the pod template, its containers, the rule's findings on the
/// object and, for those about one container, the container.
pub struct PodFix<'a> {
    pub job: &'a Job<'a>,
    pub template: &'a PodTemplate<'a>,
    pub containers: &'a [Container<'a>],
    /// The rule's findings, with their index into [`Job::findings`].
    pub mine: &'a [(usize, &'a Finding)],
    /// The findings about one container, with it.
    pub per_container: &'a [(usize, &'a Container<'a>)],
}

/// The UID set by the unsafe `runAsUser` fixes (the one the remedies suggest).
pub const NON_ROOT_UID: i64 = 10001;

pub struct Ctx<'a> {
    pub rbac: &'a Rbac<'a>,
    /// Minor version pinned in `enforce-version` labels.
    pub pss_minor: u32,
    /// Per namespace: can it enforce `restricted` without rejecting its workloads (as the
    /// other fixes leave them)? `None` until decided.
    pub enforceable: Option<&'a BTreeMap<String, Result<(), String>>>,
}

/// The active findings of one object (of every selected rule).
pub struct Job<'a> {
    pub ctx: &'a Ctx<'a>,
    pub object: &'a Object,
    pub findings: &'a [&'a Finding],
}

/// What a fixer proposes for some findings.
pub struct Outcome {
    /// Indices (into [`Job::findings`]) of the findings this change fixes.
    pub findings: Vec<usize>,
    pub result: Result<Change, String>,
}

pub struct Change {
    pub kind: FixKind,
    pub ops: Vec<Op>,
    /// What the change does, for the user.
    pub what: String,
}

impl<'a> Job<'a> {
    pub fn mine(&self, rule: &str) -> Vec<(usize, &'a Finding)> {
        self.findings
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, f)| f.rule == rule)
            .collect()
    }

    /// The finding's pointer relative to the object.
    pub fn rel<'f>(&self, f: &'f Finding) -> &'f str {
        f.location
            .pointer
            .strip_prefix(self.object.base.as_str())
            .unwrap_or(&f.location.pointer)
    }

    /// Does `rule` have an active finding about container `name`?
    pub fn has(&self, rule: &str, container: &str) -> bool {
        self.findings
            .iter()
            .any(|f| f.rule == rule && f.subject.container.as_deref() == Some(container))
    }
}

pub fn ok(findings: Vec<usize>, kind: FixKind, ops: Vec<Op>, what: String) -> Outcome {
    Outcome {
        findings,
        result: Ok(Change { kind, ops, what }),
    }
}

pub fn no(findings: Vec<usize>, reason: impl Into<String>) -> Outcome {
    Outcome {
        findings,
        result: Err(reason.into()),
    }
}

pub fn set(ptr: String, value: New) -> Op {
    Op::Set { ptr, value }
}

/// Runs the fixer of `rule` over its findings on the job's object.
pub fn run(rule: &Rule, job: &Job) -> Vec<Outcome> {
    let Some(fix) = rule.fix else {
        return Vec::new();
    };
    let mine = job.mine(rule.id);
    if mine.is_empty() {
        return Vec::new();
    }
    let (pod_level, fixer) = match (&fix.fixer, job.object.kind == "Namespace") {
        (Fixer::Namespace(f), true) => return f(job, &mine),
        (Fixer::Pod { pod_level, fix }, false) => (*pod_level, *fix),
        _ => return Vec::new(),
    };
    let Some(t) = PodTemplate::of(job.object) else {
        return vec![no(
            mine.iter().map(|(i, _)| *i).collect(),
            "the object has no pod template",
        )];
    };
    // The container each finding is about.
    let containers: Vec<Container> = t.containers().collect();
    let container_of = |f: &Finding| -> Option<&Container> {
        let rel = job.rel(f);
        containers
            .iter()
            .find(|c| {
                let at = c.pointer();
                rel == at || rel.strip_prefix(&at).is_some_and(|r| r.starts_with('/'))
            })
            .or_else(|| {
                // Findings about a pod-level value name their container.
                let name = f.subject.container.as_deref()?;
                let mut named = containers.iter().filter(|c| c.name == name);
                named.next().filter(|_| named.next().is_none())
            })
    };
    let mut out = Vec::new();
    let mut per_container: Vec<(usize, &Container)> = Vec::new();
    for (i, f) in &mine {
        match container_of(f) {
            Some(c) => per_container.push((*i, c)),
            None if pod_level => {}
            None => out.push(no(vec![*i], "the finding names no container of the pod")),
        }
    }
    out.extend(fixer(&PodFix {
        job,
        template: &t,
        containers: &containers,
        mine: &mine,
        per_container: &per_container,
    }));
    out
}

/// A safe fix sets an unset field: a field the author wrote, if only with a value of the wrong
/// type (`"true"`, `.R`), is overridden, which is unsafe.
pub fn safe_unless_written(c: &Container, rel: &str) -> FixKind {
    if c.field(rel).is_some_and(|n| !n.is_null()) {
        FixKind::Unsafe
    } else {
        FixKind::Safe
    }
}

/// Containers that read `rel` from the pod because they do not set it themselves.
pub fn inheriting<'c>(
    containers: &'c [Container<'c>],
    rel: &str,
) -> impl Iterator<Item = &'c Container<'c>> {
    let rel = format!("securityContext/{rel}");
    containers.iter().filter(move |c| c.field(&rel).is_none())
}

pub fn flagged(per_container: &[(usize, &Container)], c: &Container) -> bool {
    per_container.iter().any(|(_, f)| f.same_place(c))
}

/// A value to write.
#[derive(Clone, Debug, PartialEq)]
pub enum New {
    Bool(bool),
    Int(i64),
    Str(String),
    Map(Vec<(String, New)>),
    Seq(Vec<New>),
}

impl New {
    pub fn str(s: &str) -> New {
        New::Str(s.to_owned())
    }

    pub fn map(entries: &[(&str, New)]) -> New {
        New::Map(
            entries
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        )
    }

    pub fn to_json(&self) -> Json {
        match self {
            New::Bool(b) => Json::Bool(*b),
            New::Int(i) => Json::from(*i),
            New::Str(s) => Json::String(s.clone()),
            New::Map(m) => Json::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
            New::Seq(s) => Json::Array(s.iter().map(New::to_json).collect()),
        }
    }
}

/// A change to one object, by JSON pointer relative to the object's root.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// Sets a field, creating the mappings on the way.
    Set { ptr: String, value: New },
    /// Adds an item to a sequence, creating it (and the mappings on the way) when missing.
    Append { ptr: String, value: New },
    /// Removes a mapping entry (and every duplicate of it). Where it cannot be cut out as whole
    /// lines (flow style, or sharing a line with a `- `), the value is set to `fallback` instead.
    Remove { ptr: String, fallback: New },
    /// Replaces a mapping entry, key and value, with another key and value.
    Replace {
        ptr: String,
        key: String,
        value: New,
    },
}

impl Op {
    pub fn ptr(&self) -> &str {
        match self {
            Op::Set { ptr, .. }
            | Op::Append { ptr, .. }
            | Op::Remove { ptr, .. }
            | Op::Replace { ptr, .. } => ptr,
        }
    }
}

pub fn label_ptr(key: &str) -> String {
    format!("/metadata/labels/{}", crate::yaml::escape_token(key))
}
