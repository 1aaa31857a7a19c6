//! Auto-fix: edits manifests so that the findings of a scan go away, changing nothing else.
//!
//! # How a file is edited
//!
//! The file is scanned with the rules that have a fix; each finding goes to its rule's fixer
//! (declared by each rule, see [`crate::rules::fix`]), which proposes semantic operations on the object (set
//! `/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation` to `false`, append
//! `ALL` to a `drop` list, remove `hostPID`…) through the same analysis the rule used. The
//! operations become **byte splices of the original text** ([`edit`]), placed with the extents
//! of the nodes as the engine's own parser (`saphyr-parser`) reports them ([`layout`]): a scalar
//! replaced in place, new lines inserted after the last line of a block mapping or sequence at its
//! indentation, entries inserted inside a flow collection, whole lines removed. Every byte outside
//! a splice is the original byte, so comments, key order, quoting, indentation, blank lines,
//! document separators and line endings are kept by construction.
//!
//! We did not use `yaml-edit` (a lossless CST editor): it is young and had an indentation bug,
//! and it is a second YAML parser whose idea of a document, a key or a value could differ from the
//! engine's, which decides what a finding points at. Splicing with the positions of the parser
//! that produced the finding removes that gap, needs no new dependency, and makes "only the
//! intended bytes changed" a property of the construction rather than of a library.
//!
//! # Checks before anything is written
//!
//! The fixed text is parsed again by the engine; the file must read as the same objects, with the
//! same diagnostics, and each object must equal the original object with exactly the planned
//! operations applied (compared as Kubernetes reads them: YAML 1.1 values, last duplicate key
//! wins). Any difference refuses the whole file. Nodes inside anchors, reached through aliases or
//! merge keys, or carrying explicit tags are never edited. Files with Helm/Go template syntax are
//! not edited: the findings are reported with their remedy instead.
//!
//! Writing is the caller's business ([`FileFix::write`]): a temporary file in the same directory,
//! the original's permissions, then a rename, so a reader never sees a partial file. Right before
//! the rename the file is read again and compared with what the fix was computed from (the same
//! file, length, modification time and bytes): an edit that landed meanwhile is never overwritten,
//! the file is reported "changed while fixing, not written" instead. Read-only files are not
//! written. Each file succeeds or fails on its own.

mod diff;
mod edit;
pub mod generate;
mod layout;

pub use edit::{New, Op};

use crate::analysis::netpol::{Direction, Network};
use crate::analysis::pss;
use crate::analysis::rbac::Rbac;
use crate::finding::Finding;
use crate::inventory::{Object, PodTemplate, Retained};
use crate::load::Input;
use crate::load::{self, Loaded};
use crate::rules::{self, Rule};
use crate::scan;
use crate::source::{DiagLevel, Diagnostic};
use edit::{DocStyle, Edit, Planner};
use layout::LNode;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub use crate::rules::fix::{Fix, FixKind, NON_ROOT_UID};

/// The fix of one rule, as `kubeharden explain` and `kubeharden rules` show it.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct FixInfo {
    pub rule: &'static str,
    pub kind: FixKind,
    pub description: &'static str,
}

/// Every rule that has a fix, in the order fixes are applied ([`Fix::order`]): made from the
/// rules, each of which declares its fix in its own file.
pub fn all() -> &'static [FixInfo] {
    static ALL: std::sync::OnceLock<Vec<FixInfo>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let mut fixes: Vec<(u8, FixInfo)> = rules::all()
            .iter()
            .filter_map(|r| {
                r.fix.map(|f| {
                    let info = FixInfo {
                        rule: r.id,
                        kind: f.kind,
                        description: f.description,
                    };
                    (f.order, info)
                })
            })
            .collect();
        fixes.sort_by_key(|(order, _)| *order);
        fixes.into_iter().map(|(_, info)| info).collect()
    })
}

/// The fix of a rule, if it has one.
pub fn for_rule(id: &str) -> Option<&'static FixInfo> {
    all().iter().find(|f| f.rule == id)
}

/// What `fix` does.
#[derive(Clone, Debug)]
pub struct Options {
    /// Only these rules (ids); `None`: every rule with a fix.
    pub rules: Option<Vec<String>>,
    /// Apply unsafe fixes too.
    pub unsafe_fixes: bool,
    /// Generate what is missing (default-deny policies, labelled Namespaces).
    pub generate_missing: bool,
    /// The minor version pinned in `enforce-version` labels.
    pub pss_minor: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            rules: None,
            unsafe_fixes: false,
            generate_missing: false,
            pss_minor: pss::LATEST_MINOR,
        }
    }
}

/// A change made to a file.
#[derive(Clone, Debug, Serialize)]
pub struct Fixed {
    pub rule: &'static str,
    pub kind: FixKind,
    pub line: u32,
    pub column: u32,
    /// `Kind/namespace/name`.
    pub subject: String,
    pub what: String,
    /// Findings the change fixes (0 for a change that accompanies another one).
    pub findings: usize,
    /// Their fingerprints (stable across the line shifts of the fix).
    pub fingerprints: Vec<String>,
}

/// A finding left as it is, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Unfixed {
    pub rule: &'static str,
    pub origin: String,
    pub line: u32,
    pub column: u32,
    pub subject: String,
    pub reason: String,
    /// An unsafe fix exists: `--unsafe-fixes` applies it.
    pub needs_unsafe: bool,
    pub remedy: &'static str,
}

/// The fix of one file.
#[derive(Clone, Debug)]
pub struct FileFix {
    pub path: PathBuf,
    /// The path as reports name it.
    pub name: String,
    pub before: String,
    /// The fixed text, when something changed.
    pub after: Option<String>,
    pub fixed: Vec<Fixed>,
    pub unfixed: Vec<Unfixed>,
    /// Why nothing of the file was changed, when a change was planned but refused.
    pub error: Option<String>,
    edits: Vec<Edit>,
    /// The file as `before` was read from it: what [`FileFix::write`] compares against.
    identity: Option<Identity>,
}

/// Which file, and which version of it: a file replaced (another inode), rewritten (another
/// length or modification time) is another file.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
    len: u64,
    modified: Option<std::time::SystemTime>,
}

impl Identity {
    fn of(meta: &std::fs::Metadata) -> Identity {
        #[cfg(unix)]
        let (dev, ino) = {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino())
        };
        #[cfg(not(unix))]
        let (dev, ino) = (0, 0);
        Identity {
            dev,
            ino,
            len: meta.len(),
            modified: meta.modified().ok(),
        }
    }
}

/// Why a planned fix was not written. The file is left as it is.
#[derive(Debug)]
pub enum NotWritten {
    /// The file changed after the fix was computed from it (an edit landed meanwhile, or it was
    /// replaced or removed): writing would lose that edit.
    Changed(String),
    /// The file is read-only (no write permission).
    ReadOnly,
    /// Writing failed (the directory is not writable, the disk is full…).
    Io(std::io::Error),
}

impl std::fmt::Display for NotWritten {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotWritten::Changed(why) => write!(f, "changed while fixing, not written ({why})"),
            NotWritten::ReadOnly => write!(f, "the file is read-only, not written"),
            NotWritten::Io(e) => write!(f, "not written: {e}"),
        }
    }
}

impl std::error::Error for NotWritten {}

impl From<std::io::Error> for NotWritten {
    fn from(e: std::io::Error) -> NotWritten {
        NotWritten::Io(e)
    }
}

impl FileFix {
    pub fn changed(&self) -> bool {
        self.after.is_some()
    }

    /// The unified diff of the fix (empty when nothing changed).
    pub fn diff(&self) -> String {
        if self.after.is_none() {
            return String::new();
        }
        let (a, b) = if self.path.is_absolute() {
            (self.name.clone(), self.name.clone())
        } else {
            (format!("a/{}", self.name), format!("b/{}", self.name))
        };
        diff::unified(&self.before, &self.edits, &a, &b)
    }

    /// The byte ranges of the original text that the fix replaces, with their new text.
    pub fn splices(&self) -> impl Iterator<Item = (std::ops::Range<usize>, &str)> {
        self.edits.iter().map(|e| (e.start..e.end, e.text.as_str()))
    }

    /// Writes the fixed text in place of the file (nothing when nothing changed; `Ok(false)`),
    /// atomically, and only if the file is still exactly what the fix was computed from: the
    /// same file (device and inode), length, modification time and bytes, checked right before
    /// the rename. A file changed meanwhile, a read-only file or a failed write is left as it
    /// is, and the error says why.
    pub fn write(&self) -> Result<bool, NotWritten> {
        self.write_with(&mut || {})
    }

    /// [`FileFix::write`], with `before_check` called after the temporary file is written and
    /// before the final comparison (tests put a concurrent edit there).
    fn write_with(&self, before_check: &mut dyn FnMut()) -> Result<bool, NotWritten> {
        let Some(after) = &self.after else {
            return Ok(false);
        };
        let meta = match std::fs::symlink_metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(NotWritten::Changed("the file was removed".into()));
            }
            Err(e) => return Err(NotWritten::Io(e)),
        };
        if meta.file_type().is_symlink() {
            return Err(NotWritten::Changed(
                "the file was replaced by a symbolic link".into(),
            ));
        }
        // A rename would replace a read-only file as easily as any other: ask first.
        if meta.permissions().readonly() {
            return Err(NotWritten::ReadOnly);
        }
        match std::fs::OpenOptions::new().write(true).open(&self.path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return Err(NotWritten::ReadOnly);
            }
            Err(e) => return Err(NotWritten::Io(e)),
        }
        write_via_temp(&self.path, after, Some(&meta), || {
            before_check();
            self.unchanged()
        })?;
        Ok(true)
    }

    /// Is the file still exactly what the fix was computed from? Read through one open handle,
    /// and that handle must still be the file at the path.
    fn unchanged(&self) -> Result<(), NotWritten> {
        use std::io::Read;
        let changed = |why: &str| Err(NotWritten::Changed(why.to_owned()));
        let mut file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return changed("the file was removed");
            }
            Err(e) => return Err(NotWritten::Io(e)),
        };
        let meta = file.metadata()?;
        let now = Identity::of(&meta);
        if let Some(then) = &self.identity {
            if (now.dev, now.ino) != (then.dev, then.ino) {
                return changed("the file was replaced");
            }
            if now.len != then.len {
                return changed("its length changed");
            }
            if now.modified != then.modified {
                return changed("its modification time changed");
            }
        }
        let mut bytes = Vec::with_capacity(self.before.len() + 1);
        file.read_to_end(&mut bytes)?;
        if bytes != self.before.as_bytes() {
            return changed("its contents changed");
        }
        // The handle read is still the file at the path (not replaced while it was read).
        match std::fs::symlink_metadata(&self.path) {
            Ok(m) if !m.file_type().is_symlink() && Identity::of(&m) == now => Ok(()),
            Ok(_) => changed("the file was replaced"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => changed("the file was removed"),
            Err(e) => Err(NotWritten::Io(e)),
        }
    }
}

/// Manifests generated for what is missing.
#[derive(Clone, Debug, Default)]
pub struct Generated {
    /// The YAML stream (empty when nothing is missing).
    pub text: String,
    /// Namespaces that get a default-deny policy, with the directions denied.
    pub default_deny: Vec<(String, Vec<&'static str>)>,
    /// Namespaces that get a Namespace manifest with Pod Security labels.
    pub namespaces: Vec<String>,
    /// What was not generated, and why.
    pub skipped: Vec<String>,
    pub unfixed: Vec<Unfixed>,
}

/// The outcome of `fix` over a set of files, before anything is written.
#[derive(Debug, Default)]
pub struct Plan {
    /// Files with findings of a rule that has a fix (changed or not).
    pub files: Vec<FileFix>,
    /// Problems reading the inputs.
    pub diagnostics: Vec<Diagnostic>,
    pub generated: Option<Generated>,
}

impl Plan {
    pub fn changed(&self) -> impl Iterator<Item = &FileFix> {
        self.files.iter().filter(|f| f.changed())
    }
    pub fn fixed_findings(&self) -> usize {
        self.files
            .iter()
            .flat_map(|f| &f.fixed)
            .map(|f| f.findings)
            .sum()
    }
    pub fn unfixed(&self) -> impl Iterator<Item = &Unfixed> {
        self.files
            .iter()
            .flat_map(|f| &f.unfixed)
            .chain(self.generated.iter().flat_map(|g| &g.unfixed))
    }
}

/// The rules a fix run scans with: those with a fix, narrowed by `--rules`.
pub fn selected_rules(opts: &Options) -> Result<Vec<&'static Rule>, String> {
    let infos: Vec<&FixInfo> = match &opts.rules {
        None => all()
            .iter()
            .filter(|f| f.kind != FixKind::Generated || opts.generate_missing)
            .collect(),
        Some(ids) => ids
            .iter()
            .map(|id| {
                rules::find(id)
                    .ok_or_else(|| format!("no rule `{id}`; `kubeharden rules` lists them"))?;
                match for_rule(id) {
                    None => Err(format!("rule `{id}` has no automatic fix")),
                    Some(f) if f.kind == FixKind::Generated && !opts.generate_missing => {
                        Err(format!(
                            "rule `{id}` is fixed by generating objects: add --generate-missing DIR"
                        ))
                    }
                    Some(f) => Ok(f),
                }
            })
            .collect::<Result<_, _>>()?,
    };
    Ok(infos.iter().filter_map(|f| rules::find(f.rule)).collect())
}

/// Plans the fix of `files` (paths of files, as the directory walk yields them). Reads the
/// files; writes nothing.
pub fn plan(files: &[PathBuf], opts: &Options) -> Result<Plan, String> {
    let rules = selected_rules(opts)?;
    let inputs: Vec<Input> = files.iter().cloned().map(Input::File).collect();
    let report = scan::scan(&inputs, &rules);
    // The objects cross-object checks read (RBAC for the token fix, policies and namespaces for
    // the generators), and the namespaces that hold workloads.
    let pre: Vec<(Vec<Object>, Vec<String>)> = files
        .par_iter()
        .map(|p| {
            let mut keep = Vec::new();
            let mut namespaces = Vec::new();
            for o in load::load_file(p).objects {
                if PodTemplate::of(&o).is_some() {
                    namespaces.push(o.effective_namespace().unwrap_or("default").to_owned());
                }
                if crate::rules::retained_kind(&o.kind) {
                    keep.push(o);
                }
            }
            (keep, namespaces)
        })
        .collect();
    let mut retained = Vec::new();
    let mut workload_namespaces = BTreeSet::new();
    for (objects, namespaces) in pre {
        retained.extend(objects);
        workload_namespaces.extend(namespaces);
    }
    let retained: Vec<Retained> = retained.into_iter().map(Retained::whole).collect();
    let rbac = Rbac::new(&retained);
    let mut ctx = crate::rules::fix::Ctx {
        rbac: &rbac,
        pss_minor: opts.pss_minor,
        enforceable: None,
    };
    let mut by_origin: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &report.findings {
        if for_rule(f.rule).is_some_and(|i| i.kind != FixKind::Generated) {
            by_origin.entry(&*f.location.origin).or_default().push(f);
        }
    }
    let targets: Vec<(&PathBuf, String)> = files
        .iter()
        .map(|p| (p, p.display().to_string()))
        .filter(|(_, name)| by_origin.contains_key(name.as_str()))
        .collect();
    let run = |ctx: &crate::rules::fix::Ctx, (p, name): &(&PathBuf, String)| {
        fix_file(p, name, &by_origin[name.as_str()], ctx, opts)
    };
    let mut fixed: Vec<FileFix> = targets.par_iter().map(|t| run(&ctx, t)).collect();
    // Enforcing `restricted` on a namespace (or generating a Namespace that does) must not get
    // its workloads rejected: decide with the workloads as the other fixes leave them, then
    // redo the files whose Namespaces that decision concerns.
    let enforce_findings = report
        .findings
        .iter()
        .any(|f| f.rule == "namespace-pss-not-restricted");
    let mut enforceable = None;
    if (opts.unsafe_fixes && enforce_findings) || opts.generate_missing {
        let verdicts = enforce_verdicts(files, &fixed, opts.pss_minor);
        ctx.enforceable = Some(&verdicts);
        if opts.unsafe_fixes && enforce_findings {
            for (t, out) in targets.iter().zip(fixed.iter_mut()) {
                if by_origin[t.1.as_str()]
                    .iter()
                    .any(|f| f.rule == "namespace-pss-not-restricted")
                {
                    *out = run(&ctx, t);
                }
            }
        }
        enforceable = Some(verdicts);
    }
    let generated = opts.generate_missing.then(|| {
        generate_missing(
            &report.findings,
            &retained,
            &workload_namespaces,
            enforceable.as_ref(),
            opts,
        )
    });
    Ok(Plan {
        files: fixed,
        diagnostics: report.diagnostics,
        generated,
    })
}

/// For every namespace with workloads: whether they all pass Pod Security `restricted` (at the
/// pinned version) once the planned fixes are applied, or which would be rejected.
fn enforce_verdicts(
    files: &[PathBuf],
    fixed: &[FileFix],
    minor: u32,
) -> BTreeMap<String, Result<(), String>> {
    let after: BTreeMap<&Path, &str> = fixed
        .iter()
        .filter_map(|f| Some((f.path.as_path(), f.after.as_deref()?)))
        .collect();
    let violations: Vec<(String, String)> = files
        .par_iter()
        .flat_map_iter(|p| {
            let loaded = match after.get(p.as_path()) {
                Some(text) => load::load_bytes(&p.display().to_string(), text.as_bytes().to_vec()),
                None => load::load_file(p),
            };
            loaded
                .objects
                .iter()
                .filter_map(|o| {
                    let t = PodTemplate::of(o)?;
                    let ns = o.effective_namespace().unwrap_or("default").to_owned();
                    let results = pss::evaluate(
                        pss::Level::Restricted,
                        pss::Version::Minor(minor),
                        t.metadata,
                        t.spec,
                    );
                    Some((
                        ns,
                        if results.is_empty() {
                            String::new()
                        } else {
                            o.identity()
                        },
                    ))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let mut verdicts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (ns, violator) in violations {
        let list = verdicts.entry(ns).or_default();
        if !violator.is_empty() && !list.contains(&violator) {
            list.push(violator);
        }
    }
    verdicts
        .into_iter()
        .map(|(ns, violators)| {
            let verdict = if violators.is_empty() {
                Ok(())
            } else {
                let shown: Vec<&str> = violators.iter().take(3).map(String::as_str).collect();
                let more = violators.len().saturating_sub(3);
                Err(format!(
                    "{} workload{} of the namespace would be rejected by `restricted` even after the fixes ({}{}): fix {} first",
                    violators.len(),
                    if violators.len() == 1 { "" } else { "s" },
                    shown.join(", "),
                    if more > 0 { format!(" and {more} more") } else { String::new() },
                    if violators.len() == 1 { "it" } else { "them" }
                ))
            };
            (ns, verdict)
        })
        .collect()
}

fn unfixed(f: &Finding, reason: impl Into<String>, needs_unsafe: bool) -> Unfixed {
    Unfixed {
        rule: f.rule,
        origin: f.location.origin.to_string(),
        line: f.location.line,
        column: f.location.column,
        subject: subject(f),
        reason: reason.into(),
        needs_unsafe,
        remedy: f.remedy,
    }
}

fn subject(f: &Finding) -> String {
    let s = &f.subject;
    let mut out = match &s.namespace {
        Some(ns) => format!("{}/{}/{}", s.kind, ns, s.name),
        None => format!("{}/{}", s.kind, s.name),
    };
    if let Some(c) = &s.container {
        out.push_str(&format!(" (container \"{c}\")"));
    }
    out
}

/// The object a finding is about: same identity and the same position.
fn find_object(objects: &[Object], f: &Finding) -> Option<usize> {
    objects.iter().position(|o| {
        if o.kind != f.subject.kind
            || o.name != f.subject.name
            || o.effective_namespace() != f.subject.namespace.as_deref()
        {
            return false;
        }
        let ptr = &f.location.pointer;
        let pos = if ptr.is_empty() {
            o.root.pos
        } else {
            match ptr.strip_prefix(o.base.as_str()) {
                Some(rel) => o.locate(rel),
                None => return false,
            }
        };
        pos.line == f.location.line && pos.col == f.location.column
    })
}

struct Accepted<'f> {
    object: usize,
    rule: &'static str,
    change: crate::rules::fix::Change,
    findings: Vec<&'f Finding>,
}

fn fix_file(
    path: &Path,
    name: &str,
    findings: &[&Finding],
    ctx: &crate::rules::fix::Ctx,
    opts: &Options,
) -> FileFix {
    let mut out = FileFix {
        path: path.to_owned(),
        name: name.to_owned(),
        before: String::new(),
        after: None,
        fixed: Vec::new(),
        unfixed: Vec::new(),
        error: None,
        edits: Vec::new(),
        identity: None,
    };
    let refuse_all = |out: &mut FileFix, reason: &str| {
        out.unfixed
            .extend(findings.iter().map(|f| unfixed(f, reason, false)));
    };
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            refuse_all(&mut out, "the file is a symbolic link: not edited");
            return out;
        }
        Ok(_) => {}
        Err(e) => {
            refuse_all(&mut out, &format!("cannot read: {e}"));
            return out;
        }
    }
    // The bytes and the identity they were read with, through one handle: what the write
    // compares against.
    let read = || -> std::io::Result<(Vec<u8>, Identity)> {
        use std::io::Read;
        let mut file = std::fs::File::open(path)?;
        let identity = Identity::of(&file.metadata()?);
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok((bytes, identity))
    };
    let text = match read().map(|(bytes, identity)| {
        out.identity = Some(identity);
        String::from_utf8(bytes)
    }) {
        Ok(Ok(t)) => t,
        Ok(Err(_)) => {
            refuse_all(&mut out, "the file is not UTF-8 text");
            return out;
        }
        Err(e) => {
            refuse_all(&mut out, &format!("cannot read: {e}"));
            return out;
        }
    };
    out.before = text.clone();
    if text.contains("{{") {
        refuse_all(
            &mut out,
            "the file holds Helm/Go template syntax (`{{`): not edited; apply the remedy to the template",
        );
        return out;
    }
    // The loader reads a lone CR as a line break; edits placed by lines would not be.
    let bytes = text.as_bytes();
    if (0..bytes.len()).any(|i| bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
        refuse_all(
            &mut out,
            "the file ends lines with a bare carriage return (classic Mac OS): not edited; convert its line ends to LF or CRLF",
        );
        return out;
    }
    let loaded = load::load_bytes(name, text.clone().into_bytes());
    let mut per_object: Vec<Vec<&Finding>> = vec![Vec::new(); loaded.objects.len()];
    for f in findings {
        match find_object(&loaded.objects, f) {
            Some(i) => per_object[i].push(f),
            None => out.unfixed.push(unfixed(
                f,
                "the object was not found again in the file",
                false,
            )),
        }
    }

    // What each fixer proposes.
    let mut accepted: Vec<Accepted> = Vec::new();
    for (oi, fs) in per_object.iter().enumerate() {
        if fs.is_empty() {
            continue;
        }
        let job = crate::rules::fix::Job {
            ctx,
            object: &loaded.objects[oi],
            findings: fs,
        };
        let mut covered = vec![false; fs.len()];
        for info in all().iter().filter(|i| i.kind != FixKind::Generated) {
            let rule = rules::find(info.rule).expect("a fix belongs to a registered rule");
            for outcome in crate::rules::fix::run(rule, &job) {
                for &i in &outcome.findings {
                    covered[i] = true;
                }
                let these: Vec<&Finding> = outcome.findings.iter().map(|&i| fs[i]).collect();
                match outcome.result {
                    Err(reason) => out
                        .unfixed
                        .extend(these.iter().map(|f| unfixed(f, reason.clone(), false))),
                    Ok(change) if change.kind == FixKind::Unsafe && !opts.unsafe_fixes => {
                        out.unfixed.extend(these.iter().map(|f| {
                            unfixed(
                                f,
                                format!("unsafe fix ({}): rerun with --unsafe-fixes", change.what),
                                true,
                            )
                        }))
                    }
                    Ok(change) => accepted.push(Accepted {
                        object: oi,
                        rule: info.rule,
                        change,
                        findings: these,
                    }),
                }
            }
        }
        for (i, f) in fs.iter().enumerate() {
            if !covered[i] {
                out.unfixed.push(unfixed(
                    f,
                    "no automatic fix applies to this finding",
                    false,
                ));
            }
        }
    }
    if accepted.is_empty() {
        return out;
    }

    // The layout of the documents to edit.
    let chunks = layout::chunks(&text);
    let json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let mut parsed: BTreeMap<usize, Result<Option<LNode>, String>> = BTreeMap::new();
    for a in &accepted {
        let line = loaded.objects[a.object].root.pos.line;
        if let Some(i) = chunks.iter().rposition(|c| c.first_line <= line) {
            parsed.entry(i).or_insert_with(|| layout::parse(chunks[i]));
        }
    }
    let styles: Vec<(usize, DocStyle)> = parsed
        .iter()
        .filter_map(|(&i, p)| {
            let root = p.as_ref().ok()?.as_ref()?;
            Some((chunks[i].offset, DocStyle::detect(&text, root, json)))
        })
        .collect();
    let mut planner = Planner::new(&text);
    let mut requested: Vec<Vec<edit::Op>> = vec![Vec::new(); loaded.objects.len()];
    let mut effective: Vec<Vec<edit::Op>> = vec![Vec::new(); loaded.objects.len()];
    for a in accepted {
        let object = &loaded.objects[a.object];
        let root = object_layout(&chunks, &parsed, object);
        let ops: Vec<edit::Op> = a
            .change
            .ops
            .into_iter()
            .filter(|op| !requested[a.object].contains(op))
            .collect();
        let result = root.and_then(|(root, depth)| planner.apply(root, depth, &ops));
        match result {
            Ok(done) => {
                requested[a.object].extend(ops);
                effective[a.object].extend(done);
                let (line, column) = a
                    .findings
                    .first()
                    .map_or((object.root.pos.line, object.root.pos.col), |f| {
                        (f.location.line, f.location.column)
                    });
                out.fixed.push(Fixed {
                    rule: a.rule,
                    kind: a.change.kind,
                    line,
                    column,
                    subject: object.identity(),
                    what: a.change.what,
                    findings: a.findings.len(),
                    fingerprints: a.findings.iter().map(|f| f.fingerprint.into()).collect(),
                });
            }
            Err(e) => out.unfixed.extend(
                a.findings
                    .iter()
                    .map(|f| unfixed(f, format!("not edited: {e}"), false)),
            ),
        }
    }
    let style = |at: usize| {
        styles
            .iter()
            .rev()
            .find(|(offset, _)| *offset <= at)
            .map_or_else(
                || DocStyle {
                    step: 2,
                    seq_indent: 2,
                    eol: "\n",
                    json,
                },
                |(_, s)| *s,
            )
    };
    let checked = planner.finish(&style).and_then(|edits| {
        let after = edit::apply(&text, &edits);
        verify(name, &loaded, &after, &effective).map(|()| (edits, after))
    });
    match checked {
        Ok((edits, after)) => {
            if !edits.is_empty() && after != text {
                out.edits = edits;
                out.after = Some(after);
            }
        }
        Err(e) => {
            let reason = format!("the file was not edited: {e}");
            for f in std::mem::take(&mut out.fixed) {
                out.unfixed.push(Unfixed {
                    rule: f.rule,
                    origin: name.to_owned(),
                    line: f.line,
                    column: f.column,
                    subject: f.subject,
                    reason: reason.clone(),
                    needs_unsafe: false,
                    remedy: rules::find(f.rule).map_or("", |r| r.remedy),
                });
            }
            out.error = Some(e);
        }
    }
    out
}

/// The layout of an object: its document's tree, followed to the object's base pointer, checked
/// to start where the engine's tree starts.
fn object_layout<'a>(
    chunks: &[layout::Chunk],
    parsed: &'a BTreeMap<usize, Result<Option<LNode>, String>>,
    object: &Object,
) -> Result<(&'a LNode, usize), String> {
    let line = object.root.pos.line;
    let i = chunks
        .iter()
        .rposition(|c| c.first_line <= line)
        .ok_or("no document")?;
    let root = match parsed.get(&i) {
        Some(Ok(Some(root))) => root,
        Some(Err(e)) => return Err(format!("the document does not parse: {e}")),
        _ => return Err("empty document".into()),
    };
    let mut node = root;
    let mut depth = 0;
    for token in crate::yaml::pointer_tokens(&object.base) {
        node = match &node.kind {
            layout::Kind::Map { .. } => node.entry(&token).map(|e| &e.value),
            layout::Kind::Seq { items, .. } => {
                token.parse::<usize>().ok().and_then(|i| items.get(i))
            }
            _ => None,
        }
        .ok_or("the object's position in its document was not found")?;
        depth += 1;
    }
    if node.line != object.root.pos.line || node.col != object.root.pos.col {
        return Err("the document's layout does not match the scanned object".into());
    }
    Ok((node, depth))
}

/// The fixed text must read as the same objects, each with exactly the planned changes, and with
/// the same diagnostics.
fn verify(name: &str, before: &Loaded, after: &str, ops: &[Vec<edit::Op>]) -> Result<(), String> {
    let reread = load::load_bytes(name, after.as_bytes().to_vec());
    if reread.objects.len() != before.objects.len() {
        return Err(format!(
            "the fixed text reads as {} objects instead of {}",
            reread.objects.len(),
            before.objects.len()
        ));
    }
    for level in [DiagLevel::Error, DiagLevel::Warning, DiagLevel::Note] {
        let count = |l: &Loaded| l.diagnostics.iter().filter(|d| d.level == level).count();
        if count(before) != count(&reread) {
            return Err("the fixed text reads with different diagnostics".into());
        }
    }
    for ((old, new), ops) in before.objects.iter().zip(&reread.objects).zip(ops) {
        if old.kind != new.kind || old.name != new.name || old.namespace != new.namespace {
            return Err(format!("{} reads as another object", old.identity()));
        }
        let mut expected = old.root.to_json();
        for op in ops {
            edit::patch_json(&mut expected, op).map_err(|e| format!("{}: {e}", old.identity()))?;
        }
        if expected != new.root.to_json() {
            return Err(format!(
                "{} does not read back as the intended change",
                old.identity()
            ));
        }
    }
    Ok(())
}

/// Namespaces that hold workloads in `files` but have no Namespace object there (system
/// namespaces excepted): those `generate psa-labels` writes a Namespace for.
pub fn undeclared_namespaces(files: &[PathBuf]) -> Vec<String> {
    let mut used = BTreeSet::new();
    let mut declared = BTreeSet::new();
    for p in files {
        for o in load::load_file(p).objects {
            if o.kind == "Namespace" && o.group().is_empty() {
                declared.insert(o.name.clone());
            } else if PodTemplate::of(&o).is_some() {
                used.insert(o.effective_namespace().unwrap_or("default").to_owned());
            }
        }
    }
    used.into_iter()
        .filter(|ns| {
            !declared.contains(ns)
                && !SYSTEM_NAMESPACES.contains(&ns.as_str())
                && generate::valid_namespace(ns)
        })
        .collect()
}

/// Namespaces Kubernetes manages itself: no generated labels or policies.
const SYSTEM_NAMESPACES: &[&str] = &["kube-system", "kube-public", "kube-node-lease"];

fn generate_missing(
    findings: &[Finding],
    retained: &[Retained],
    workload_namespaces: &BTreeSet<String>,
    enforceable: Option<&BTreeMap<String, Result<(), String>>>,
    opts: &Options,
) -> Generated {
    let wanted = |id: &str| {
        opts.rules
            .as_ref()
            .is_none_or(|r| r.iter().any(|x| x == id))
    };
    let net = Network::from_objects(retained);
    let mut deny: BTreeMap<String, Vec<Direction>> = BTreeMap::new();
    let mut out = Generated::default();
    for f in findings {
        let d = match f.rule {
            "namespace-missing-default-deny-ingress" => Direction::Ingress,
            "namespace-missing-default-deny-egress" => Direction::Egress,
            _ => continue,
        };
        if f.subject.kind != "Namespace" {
            continue;
        }
        let ns = &f.subject.name;
        let dd = net.default_deny(ns, d);
        if dd.by.is_empty() {
            let dirs = deny.entry(ns.clone()).or_default();
            if !dirs.contains(&d) {
                dirs.push(d);
            }
        } else {
            out.unfixed.push(unfixed(
                f,
                format!(
                    "a default deny exists but is overridden by {}: remove or narrow that policy",
                    dd.undone_by.join(", ")
                ),
                false,
            ));
        }
    }
    let taken = |ns: &str, name: &str| {
        retained.iter().any(|o| {
            o.kind() == "NetworkPolicy" && o.name() == name && o.effective_namespace() == Some(ns)
        })
    };
    let mut text = String::new();
    for (ns, dirs) in &mut deny {
        dirs.sort();
        let deny_name = if taken(ns, "default-deny") {
            "kubeharden-default-deny"
        } else {
            "default-deny"
        };
        let dns_name = if taken(ns, "allow-dns") {
            "kubeharden-allow-dns"
        } else {
            "allow-dns"
        };
        text.push_str(&generate::default_deny(ns, dirs, deny_name, dns_name));
        out.default_deny
            .push((ns.clone(), dirs.iter().map(|d| d.as_str()).collect()));
    }
    if wanted("namespace-pss-not-restricted") {
        let declared: BTreeSet<&str> = retained
            .iter()
            .filter(|o| o.kind() == "Namespace" && o.group().is_empty())
            .map(|o| o.name())
            .collect();
        for ns in workload_namespaces {
            if declared.contains(ns.as_str())
                || SYSTEM_NAMESPACES.contains(&ns.as_str())
                || !generate::valid_namespace(ns)
            {
                continue;
            }
            if let Some(Err(reason)) = enforceable.and_then(|v| v.get(ns)) {
                out.skipped.push(format!(
                    "Namespace \"{ns}\" enforcing restricted not generated: {reason}"
                ));
                continue;
            }
            text.push_str(&generate::psa_namespace(ns, "restricted", opts.pss_minor));
            out.namespaces.push(ns.clone());
        }
    }
    if !text.is_empty() {
        out.text = format!(
            "# Generated by `kubeharden fix --generate-missing`: objects the scanned manifests lack.\n\
             # Review before applying: a default deny blocks every connection no other policy allows,\n\
             # and Pod Security `restricted` rejects pods that violate it.\n{text}"
        );
    }
    out
}

/// Writes `text` to `path` atomically: a temporary file in the same directory with the
/// original's permissions, flushed, then renamed over the original. A reader sees the old file
/// or the new one, never a partial one. Whatever the file holds is replaced: to write a planned
/// fix, [`FileFix::write`] checks first that the file did not change.
pub fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let original = std::fs::metadata(path).ok();
    write_via_temp(path, text, original.as_ref(), || Ok(())).map_err(|e| match e {
        NotWritten::Io(e) => e,
        other => std::io::Error::other(other.to_string()),
    })
}

/// Writes `text` to a new file at `path`, atomically, and never over a file that appeared
/// meanwhile (the file is linked into place, which fails if the name is taken).
pub fn write_new(path: &Path, text: &str) -> Result<(), NotWritten> {
    let exists = || NotWritten::Changed("the file was created by someone else meanwhile".into());
    if std::fs::symlink_metadata(path).is_ok() {
        return Err(exists());
    }
    let (tmp, file) = temp_file(path)?;
    let result = (|| -> Result<(), NotWritten> {
        fill(file, text, None)?;
        match std::fs::hard_link(&tmp, path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(exists()),
            // No hard links here: check, then rename.
            Err(_) => {
                if std::fs::symlink_metadata(path).is_ok() {
                    return Err(exists());
                }
                std::fs::rename(&tmp, path)?;
                Ok(())
            }
        }
    })();
    let _ = std::fs::remove_file(&tmp);
    if result.is_ok() {
        sync_dir(path);
    }
    result
}

/// The directory of `path` (`.` for a bare name).
fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// A new temporary file beside `path`.
fn temp_file(path: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let dir = dir_of(path);
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut attempt = 0u32;
    loop {
        let tmp = dir.join(format!(
            ".{file_name}.kubeharden-{}-{attempt}.tmp",
            std::process::id()
        ));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Writes `text` into the temporary file with `like`'s permissions (and owner where allowed),
/// flushed to disk.
fn fill(
    mut file: std::fs::File,
    text: &str,
    like: Option<&std::fs::Metadata>,
) -> std::io::Result<()> {
    use std::io::Write;
    file.write_all(text.as_bytes())?;
    if let Some(meta) = like {
        file.set_permissions(meta.permissions())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            // Keep the owner where we may (as root); otherwise the file is ours anyway.
            let _ = std::os::unix::fs::fchown(&file, Some(meta.uid()), Some(meta.gid()));
        }
    }
    file.sync_all()
}

fn sync_dir(path: &Path) {
    if let Ok(d) = std::fs::File::open(dir_of(path)) {
        let _ = d.sync_all();
    }
}

/// The temporary file, filled, then `check` (the compare-and-swap's compare, as late as it can
/// be), then the rename over `path`. The temporary file is removed on any failure.
fn write_via_temp(
    path: &Path,
    text: &str,
    like: Option<&std::fs::Metadata>,
    check: impl FnOnce() -> Result<(), NotWritten>,
) -> Result<(), NotWritten> {
    let (tmp, file) = temp_file(path)?;
    let result = fill(file, text, like)
        .map_err(NotWritten::Io)
        .and_then(|()| check())
        .and_then(|()| std::fs::rename(&tmp, path).map_err(NotWritten::Io));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    } else {
        sync_dir(path);
    }
    result
}

#[cfg(test)]
mod tests;
