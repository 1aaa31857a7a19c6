//! The [`Emitter`]: collects the findings of one rule, builds their locations, snippets and
//! fingerprints, and marks those that the object's annotations suppress.

use super::Rule;
use crate::finding::{Finding, Location, Snippet, Subject, fingerprint};
use crate::inventory::{Container, Object, Workload};

/// Collects the findings of one rule; builds locations, snippets and fingerprints. Suppressed
/// findings are collected too, with `suppressed_by` set (and counted in `suppressed`); the scan
/// separates them from the active ones.
pub struct Emitter<'r> {
    rule: &'r Rule,
    pub findings: Vec<Finding>,
    pub suppressed: usize,
    /// The suppressions declared on the last object a finding was about (read once per object,
    /// not once per finding: an object with 36,000 annotations and 200 containers must not cost
    /// their product).
    declared: Option<(ObjectKey, Vec<crate::finding::Suppression>)>,
}

/// Identifies an object for the cache of declared suppressions.
type ObjectKey = (usize, usize, u32, u32);

impl<'r> Emitter<'r> {
    pub fn new(rule: &'r Rule) -> Self {
        Emitter {
            rule,
            findings: Vec::new(),
            suppressed: 0,
            declared: None,
        }
    }

    /// The suppressions declared on `object` (cached for the object of the previous finding).
    fn declared(&mut self, object: &Object) -> &[crate::finding::Suppression] {
        // The address alone could be reused by another object once one is dropped; with the
        // object's source and position it names one object.
        let key = (
            object as *const Object as usize,
            std::sync::Arc::as_ptr(&object.source) as usize,
            object.root.pos.line,
            object.root.pos.col,
        );
        if self.declared.as_ref().is_none_or(|(k, _)| *k != key) {
            self.declared = Some((key, ignore_list(object)));
        }
        &self.declared.as_ref().expect("just set").1
    }

    /// A finding about an object, at `pointer` (relative to the object; missing fields resolve to
    /// their nearest existing parent).
    pub fn object(&mut self, object: &Object, pointer: &str, message: impl Into<String>) {
        self.push(object, None, pointer, message.into());
    }

    /// [`Emitter::object`], counted in `section` rather than the rule's own: for a rule that
    /// gathers checks of several sections (the CIS benchmark's control-plane checks).
    pub fn object_in(
        &mut self,
        section: crate::meta::Section,
        object: &Object,
        pointer: &str,
        message: impl Into<String>,
    ) {
        self.push(object, None, pointer, message.into());
        if let Some(f) = self.findings.last_mut() {
            f.section = section;
        }
    }

    /// A finding about one container of a pod template.
    pub fn container(
        &mut self,
        object: &Object,
        container: &Container<'_>,
        pointer: &str,
        message: impl Into<String>,
    ) {
        self.push(object, Some(container), pointer, message.into());
    }

    /// A finding about a workload known only by its summary (cross-object rules), located at the
    /// start of the object.
    pub fn workload(&mut self, w: &Workload, message: impl Into<String>) {
        let suppressed_by =
            crate::rules::suppress::find(&w.ignore, self.rule.id, None).map(Box::new);
        let subject = Subject {
            kind: w.kind.clone(),
            api_version: w.api_version.clone(),
            name: w.name.clone(),
            namespace: Some(w.namespace.clone()),
            container: None,
        };
        let location = Location {
            origin: w.origin.clone(),
            line: w.line,
            column: w.column,
            pointer: String::new(),
            helm_source: w.helm_source.clone(),
        };
        self.at(subject, location, message.into());
        if suppressed_by.is_some()
            && let Some(f) = self.findings.last_mut()
        {
            f.suppressed_by = suppressed_by;
            self.suppressed += 1;
        }
    }

    /// A finding about something that has no object of its own in the input (a namespace only
    /// referenced by workloads, a missing ServiceAccount…), located where it is referenced.
    pub fn at(&mut self, subject: Subject, location: Location, message: String) {
        let identity = format!(
            "{}/{}/{}",
            subject.kind,
            subject.namespace.as_deref().unwrap_or(""),
            subject.name
        );
        self.findings.push(Finding {
            rule: self.rule.id,
            section: self.rule.section,
            severity: self.rule.severity,
            fingerprint: fingerprint(&[self.rule.id, &identity, &location.pointer]),
            subject,
            location,
            message,
            remedy: self.rule.remedy,
            snippet: Snippet::default(),
            suppressed_by: None,
            baseline: None,
        });
    }

    fn push(
        &mut self,
        object: &Object,
        container: Option<&Container<'_>>,
        pointer: &str,
        message: String,
    ) {
        let rule = self.rule.id;
        let suppressed_by =
            crate::rules::suppress::find(self.declared(object), rule, container.map(|c| c.name))
                .map(Box::new);
        if suppressed_by.is_some() {
            self.suppressed += 1;
        }
        // A command line gathered from other files (k3s/RKE2 config) says where each word was
        // written: the finding points there.
        let written = crate::analysis::control_plane::written_at(object, pointer);
        let pos = written
            .as_ref()
            .map_or_else(|| object.locate(pointer), |w| w.pos);
        let full_pointer = format!("{}{}", object.base, pointer);
        // Fingerprint: rule + identity + pointer with container indices replaced by names, so it
        // survives line shifts, document reordering and container reordering.
        let stable_pointer = match container {
            Some(c) => pointer.replacen(&c.ptr, &format!("{}[{}]", c.kind.field(), c.name), 1),
            None => pointer.to_owned(),
        };
        let fingerprint = fingerprint(&[self.rule.id, &object.identity(), &stable_pointer]);
        let snippet = match &written {
            Some(w) => Snippet::new(w.pos.line, [w.text.as_str()]),
            None => snippet(object, pos.line),
        };
        self.findings.push(Finding {
            rule: self.rule.id,
            section: self.rule.section,
            severity: self.rule.severity,
            subject: Subject {
                kind: object.kind.clone(),
                api_version: object.api_version.clone(),
                name: object.name.clone(),
                namespace: object.effective_namespace().map(str::to_owned),
                container: container.map(|c| c.name.to_owned()),
            },
            location: Location {
                origin: written
                    .map(|w| w.file)
                    .unwrap_or_else(|| object.source.name.clone()),
                line: pos.line,
                column: pos.col,
                pointer: full_pointer,
                helm_source: object.helm_source.as_deref().map(str::to_owned),
            },
            message,
            remedy: self.rule.remedy,
            snippet,
            fingerprint,
            suppressed_by,
            baseline: None,
        });
    }
}

/// `kubeharden.io/ignore: "rule-a,rule-b"` (or `all`) on the object's or its pod template's
/// annotations. A reason goes in `kubeharden.io/ignore-reason`.
pub const IGNORE_ANNOTATION: &str = crate::rules::suppress::IGNORE;

/// Every suppression declared on the object and its pod template: ours (object-wide and
/// per-container) and the peers' keys that map onto our rules (see [`crate::rules::suppress`]).
pub fn ignore_list(object: &Object) -> Vec<crate::rules::suppress::Suppression> {
    crate::rules::suppress::declared(object)
}

/// Up to two lines of context before the marked line.
fn snippet(object: &Object, line: u32) -> Snippet {
    let first = line.saturating_sub(2).max(1);
    // The object's source may start after `first` (a detached excerpt): skip missing lines.
    let start = (first..=line)
        .find(|l| object.source.line(*l).is_some())
        .unwrap_or(line + 1);
    Snippet::new(start, (start..=line).map_while(|l| object.source.line(l)))
}
