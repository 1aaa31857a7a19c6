//! The [`Emitter`]: collects the findings of one rule, builds their locations, snippets and
//! fingerprints, and marks those that the object's annotations suppress.

use super::Rule;
use crate::finding::pack::{Packed, RawAllowance};
use crate::finding::{Finding, Location, Snippet, Subject, fingerprint};
use crate::inventory::{AsObject, Container, Object, Workload};
use crate::redact::{Secrets, mask_text};
use std::sync::Arc;

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
    /// The secret values of the last object a finding was about, masked in its snippets and
    /// messages ([`crate::redact`]): a report never copies a secret value.
    secrets: Option<(ObjectKey, Secrets)>,
    /// For an emitter of [`Emitter::packing`]: the findings packed so far, in order, and the
    /// scan's allowance of records kept undeflated.
    packed: Option<(Vec<Packed>, &'r RawAllowance)>,
}

/// How many findings a packing emitter holds before it packs them: a cross-object rule may report
/// one finding per workload (17,000 at 100,000 objects, about 1 KB each until packed). Their
/// records (about 40 bytes each) stay under the bytes that are always deflated
/// ([`crate::finding::pack`]'s `CHUNK`, 32 KB), so a small scan keeps them undeflated.
const PACK_EVERY: usize = 256;

/// What an emitter read of the last object (its declared suppressions and secret values), handed
/// from one rule's emitter to the next while they judge the same object: read once per object,
/// not once per rule that fires (at admission, walking the object for its secrets once per rule
/// was a quarter of the server's CPU).
#[derive(Default)]
pub struct ObjectCache {
    declared: Option<(ObjectKey, Vec<crate::finding::Suppression>)>,
    secrets: Option<(ObjectKey, Secrets)>,
}

/// Identifies an object for the caches of declared suppressions and secret values.
type ObjectKey = (usize, usize, u32, u32);

fn object_key(object: &Object) -> ObjectKey {
    // The address alone could be reused by another object once one is dropped; with the
    // object's source and position it names one object.
    (
        object as *const Object as usize,
        std::sync::Arc::as_ptr(&object.source) as usize,
        object.root.pos.line,
        object.root.pos.col,
    )
}

impl<'r> Emitter<'r> {
    pub fn new(rule: &'r Rule) -> Self {
        Emitter::with_cache(rule, ObjectCache::default())
    }

    /// An emitter that starts with what the previous one read of the object (entries are keyed
    /// by the object, so a cache of another object is only a miss).
    pub fn with_cache(rule: &'r Rule, cache: ObjectCache) -> Self {
        Emitter {
            rule,
            findings: Vec::new(),
            suppressed: 0,
            declared: cache.declared,
            secrets: cache.secrets,
            packed: None,
        }
    }

    /// An emitter that packs its findings ([`Packed`]) every [`PACK_EVERY`] as they come, within
    /// the scan's `raw` allowance: for the cross-object rules of a scan. Rules may still change
    /// the finding they just emitted (`findings.last_mut()`): packing happens before the next one
    /// is pushed.
    pub fn packing(rule: &'r Rule, raw: &'r RawAllowance) -> Self {
        Emitter {
            packed: Some((Vec::new(), raw)),
            ..Emitter::new(rule)
        }
    }

    /// The findings of a [`Emitter::packing`] emitter (of any emitter), packed, in order.
    pub fn into_packed(mut self) -> Vec<Packed> {
        let none = RawAllowance::new(0);
        let (mut packed, raw) = self.packed.take().unwrap_or((Vec::new(), &none));
        if !self.findings.is_empty() {
            packed.push(Packed::within(self.findings, raw));
        }
        packed
    }

    /// Packs the findings held so far, for a packing emitter that holds enough of them.
    fn make_room(&mut self) {
        if let Some((packed, raw)) = &mut self.packed
            && self.findings.len() >= PACK_EVERY
        {
            packed.push(Packed::within(std::mem::take(&mut self.findings), raw));
        }
    }

    /// The findings, the suppressed count, and the cache for the next rule's emitter.
    pub fn finish(self) -> (Vec<Finding>, usize, ObjectCache) {
        (
            self.findings,
            self.suppressed,
            ObjectCache {
                declared: self.declared,
                secrets: self.secrets,
            },
        )
    }

    /// The secret values of `object` (cached for the object of the previous finding).
    fn secrets(&mut self, object: &Object) -> &Secrets {
        let key = object_key(object);
        if self.secrets.as_ref().is_none_or(|(k, _)| *k != key) {
            let secrets = Secrets::of(&object.root, &object.kind, &object.api_version);
            self.secrets = Some((key, secrets));
        }
        &self.secrets.as_ref().expect("just set").1
    }

    /// The suppressions declared on `object` (cached for the object of the previous finding).
    fn declared(&mut self, object: &Object) -> &[crate::finding::Suppression] {
        let key = object_key(object);
        if self.declared.as_ref().is_none_or(|(k, _)| *k != key) {
            self.declared = Some((key, ignore_list(object)));
        }
        &self.declared.as_ref().expect("just set").1
    }

    /// A finding about an object, at `pointer` (relative to the object; missing fields resolve to
    /// their nearest existing parent).
    pub fn object(&mut self, object: &impl AsObject, pointer: &str, message: impl Into<String>) {
        self.push(&object.as_object(), None, pointer, message.into());
    }

    /// [`Emitter::object`], counted in `section` rather than the rule's own: for a rule that
    /// gathers checks of several sections (the CIS benchmark's control-plane checks).
    pub fn object_in(
        &mut self,
        section: crate::meta::Section,
        object: &impl AsObject,
        pointer: &str,
        message: impl Into<String>,
    ) {
        self.push(&object.as_object(), None, pointer, message.into());
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
            kind: w.kind.to_string(),
            api_version: w.api_version.to_string(),
            name: w.name.to_string(),
            namespace: Some(w.namespace.to_string()),
            container: None,
        };
        let location = Location {
            origin: w.origin.as_str().into(),
            line: w.line,
            column: w.column,
            pointer: "".into(),
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

    /// A finding about a document that is not a Kubernetes object (a Helm values file, a Docker
    /// `config.json`), at `pointer` inside it. Its subject is the file (`kind: File`).
    pub fn document(
        &mut self,
        doc: &crate::load::Document,
        pointer: &str,
        message: impl Into<String>,
    ) {
        let pos = doc.root.locate(pointer);
        let subject = Subject {
            kind: "File".to_owned(),
            api_version: String::new(),
            // The file's name; its path is the location's origin.
            name: std::path::Path::new(&doc.source.name)
                .file_name()
                .map_or_else(
                    || doc.source.name.clone(),
                    |n| n.to_string_lossy().into_owned(),
                ),
            namespace: None,
            container: None,
        };
        let location = Location {
            origin: doc.source.name.as_str().into(),
            line: pos.line,
            column: pos.col,
            pointer: pointer.into(),
            helm_source: None,
        };
        // The file's name and the key path: stable across moves of the tree, reformatting and
        // line shifts, like an object's identity.
        let fingerprint = fingerprint(&[self.rule.id, "File", &subject.name, pointer]);
        // The line holds the credential the finding is about: masked like an object's.
        let secrets = Secrets::of(&doc.root, "", "");
        let snippet = doc
            .source
            .line(pos.line)
            .map(|l| Snippet::new(pos.line, [secrets.mask_line(pos.line, l).as_ref()]))
            .unwrap_or_default();
        self.at(subject, location, message.into());
        if let Some(f) = self.findings.last_mut() {
            f.fingerprint = fingerprint;
            f.snippet = snippet;
        }
    }

    /// A finding about namespace `ns`: on its Namespace object when the input has one, else
    /// located at `first`, a workload in it (its start, its Helm source).
    pub fn namespace(
        &mut self,
        object: Option<&impl AsObject>,
        ns: &str,
        first: &Workload,
        message: String,
    ) {
        match object {
            Some(o) => self.object(o, "", message),
            None => self.at(
                Subject {
                    kind: "Namespace".into(),
                    api_version: "v1".into(),
                    name: ns.to_owned(),
                    namespace: None,
                    container: None,
                },
                Location {
                    origin: first.origin.as_str().into(),
                    line: first.line,
                    column: first.column,
                    pointer: "".into(),
                    helm_source: first.helm_source.clone(),
                },
                message,
            ),
        }
    }

    /// A finding about something that has no object of its own in the input (a namespace only
    /// referenced by workloads, a missing ServiceAccount…), located where it is referenced.
    pub fn at(&mut self, subject: Subject, location: Location, message: String) {
        // A message may quote the input: never a secret value.
        let message = match mask_text(&message) {
            std::borrow::Cow::Borrowed(_) => message,
            std::borrow::Cow::Owned(masked) => masked,
        };
        let identity = format!(
            "{}/{}/{}",
            subject.kind,
            subject.namespace.as_deref().unwrap_or(""),
            subject.name
        );
        self.make_room();
        self.findings.push(Finding {
            rule: self.rule.id,
            section: self.rule.section,
            severity: self.rule.severity,
            fingerprint: fingerprint(&[self.rule.id, &identity, &location.pointer]),
            subject: Arc::new(subject),
            location,
            message: message.into(),
            remedy: self.rule.remedy,
            snippet: Snippet::default(),
            suppressed_by: None,
            baseline: None,
            expected: None,
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
        // So does an object kustomize rendered and patched: the patch or resource file that
        // wrote the field.
        let written = crate::analysis::control_plane::written_at(object, pointer).or_else(|| {
            object
                .written_at(pointer)
                .map(|w| crate::analysis::control_plane::WrittenAt {
                    file: w.file,
                    pos: w.pos,
                    text: w.text,
                })
        });
        let pos = written
            .as_ref()
            .map_or_else(|| object.locate(pointer), |w| w.pos);
        let full_pointer = format!("{}{}", object.base, pointer);
        // Fingerprint: rule + identity + pointer with container indices replaced by names, so it
        // survives line shifts, document reordering and container reordering.
        let stable_pointer = match container {
            Some(c) => {
                pointer.replacen(&c.pointer(), &format!("{}[{}]", c.kind.field(), c.name), 1)
            }
            None => pointer.to_owned(),
        };
        let fingerprint = fingerprint(&[self.rule.id, &object.identity(), &stable_pointer]);
        let secrets = self.secrets(object);
        let snippet = if !SNIPPETS.with(|s| s.get()) {
            Snippet::default()
        } else {
            match &written {
                Some(w) => Snippet::new(w.pos.line, [w.text.as_str()]),
                None => snippet(object, pos.line, secrets),
            }
        };
        // A message may quote the object: never one of its secret values.
        let message = match secrets.mask_message(&message) {
            std::borrow::Cow::Borrowed(_) => mask_text(&message).into_owned(),
            std::borrow::Cow::Owned(masked) => mask_text(&masked).into_owned(),
        };
        self.make_room();
        self.findings.push(Finding {
            rule: self.rule.id,
            section: self.rule.section,
            severity: self.rule.severity,
            subject: Arc::new(Subject {
                kind: object.kind.clone(),
                api_version: object.api_version.clone(),
                name: object.name.clone(),
                namespace: object.effective_namespace().map(str::to_owned),
                container: container.map(|c| c.name.to_owned()),
            }),
            location: Location {
                origin: written
                    .map_or_else(|| object.source.name.as_str().into(), |w| w.file.into()),
                line: pos.line,
                column: pos.col,
                pointer: full_pointer.into(),
                helm_source: object.helm_source.clone(),
            },
            message: message.into(),
            remedy: self.rule.remedy,
            snippet,
            fingerprint,
            suppressed_by,
            baseline: None,
            expected: None,
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

/// Up to two lines of context before the marked line, the object's secret values masked (and
/// any other secret material, by [`Snippet::new`]).
fn snippet(object: &Object, line: u32, secrets: &Secrets) -> Snippet {
    let first = line.saturating_sub(2).max(1);
    // The object's source may start after `first` (a detached excerpt): skip missing lines.
    let start = (first..=line)
        .find(|l| object.source.line(*l).is_some())
        .unwrap_or(line + 1);
    let lines: Vec<std::borrow::Cow<'_, str>> = (start..=line)
        .map_while(|l| Some(secrets.mask_line(l, object.source.line(l)?)))
        .collect();
    Snippet::new(start, lines.iter().map(|l| l.as_ref()))
}

thread_local! {
    static SNIPPETS: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// Runs `f` with findings built without snippets on this thread (a front end that shows none).
pub fn without_snippets<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            SNIPPETS.with(|s| s.set(self.0));
        }
    }
    let _reset = Reset(SNIPPETS.with(|s| s.replace(false)));
    f()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;

    fn at(emit: &mut Emitter, i: usize) {
        emit.at(
            Subject {
                kind: "Deployment".into(),
                api_version: "apps/v1".into(),
                name: format!("web-{i}"),
                namespace: Some("prod".into()),
                container: None,
            },
            Location {
                origin: "deploy.yaml".into(),
                line: i as u32 + 1,
                column: 1,
                pointer: "".into(),
                helm_source: None,
            },
            format!("finding {i}"),
        );
    }

    #[test]
    fn a_packing_emitter_gives_the_same_findings_in_the_same_order() {
        // Deflated, and kept as they are.
        for allowance in [0, usize::MAX] {
            same_findings_packed(allowance);
        }
    }

    fn same_findings_packed(allowance: usize) {
        let rule = crate::rules::all()[0];
        let n = 2 * PACK_EVERY + 7;
        let mut plain = Emitter::new(rule);
        let raw = RawAllowance::new(allowance);
        let mut packing = Emitter::packing(rule, &raw);
        for i in 0..n {
            for emit in [&mut plain, &mut packing] {
                at(emit, i);
                // What rules do to the finding they just emitted.
                if (i % 3 == 0 || i == PACK_EVERY - 1)
                    && let Some(f) = emit.findings.last_mut()
                {
                    f.severity = Severity::Info;
                }
            }
            // It never holds more than PACK_EVERY findings.
            assert!(packing.findings.len() <= PACK_EVERY);
        }
        let pieces = packing.into_packed();
        assert_eq!(pieces.len(), 3);
        let mut unpacked = Vec::new();
        for p in pieces {
            p.unpack_into(&mut unpacked);
        }
        let json = |f: &[Finding]| serde_json::to_string(f).unwrap();
        assert_eq!(unpacked.len(), n);
        assert_eq!(json(&unpacked), json(&plain.findings));
        assert_eq!(unpacked[3].severity, Severity::Info);
        assert_eq!(
            &*unpacked[PACK_EVERY].message,
            format!("finding {PACK_EVERY}")
        );
        // The last finding of the first piece was changed after it was emitted, before it was
        // packed (packing waits for the next finding).
        assert_eq!(unpacked[PACK_EVERY - 1].severity, Severity::Info);
        // A plain emitter's findings, packed at the end, are one piece.
        assert_eq!(plain.into_packed().len(), 1);
    }
}
