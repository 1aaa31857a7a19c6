//! Pod Security Standards, evaluated exactly as `k8s.io/pod-security-admission` does.
//!
//! The semantics (checks, versions, messages, namespace labels) are documented in
//! `docs/reference/pss.md`; this module is the one place they are implemented. Inputs are the
//! crate's spanned YAML tree, read the way the API server decodes a Pod: the last duplicate key
//! wins, only a real YAML boolean counts as a boolean, and a `null` value is the same as an
//! absent field (a nil pointer in Go).
//!
//! One API-server behaviour is applied before the checks because admission only ever sees
//! defaulted objects: a volume without any volume source is defaulted to `emptyDir`
//! (`SetDefaults_Volume`), so it is not a restricted volume type.

use crate::yaml::Node;
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// The newest policy version that has a check version of its own. `latest` and any newer
/// concrete version evaluate as this one.
pub const LATEST_MINOR: u32 = 37;

/// Prefix of every Pod Security Admission namespace label.
pub const LABEL_PREFIX: &str = "pod-security.kubernetes.io/";
pub const ENFORCE_LEVEL_LABEL: &str = "pod-security.kubernetes.io/enforce";
pub const ENFORCE_VERSION_LABEL: &str = "pod-security.kubernetes.io/enforce-version";
pub const AUDIT_LEVEL_LABEL: &str = "pod-security.kubernetes.io/audit";
pub const AUDIT_VERSION_LABEL: &str = "pod-security.kubernetes.io/audit-version";
pub const WARN_LEVEL_LABEL: &str = "pod-security.kubernetes.io/warn";
pub const WARN_VERSION_LABEL: &str = "pod-security.kubernetes.io/warn-version";

/// Error text of `api.ParseLevel`.
pub const LEVEL_PARSE_ERROR: &str = "must be one of privileged, baseline, restricted";
/// Error text of `api.ParseVersion`.
pub const VERSION_PARSE_ERROR: &str = "must be \"latest\" or \"v1.x\"";

/// A level or version string that `api.ParseLevel` / `api.ParseVersion` rejects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseError(pub &'static str);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for ParseError {}

/// A Pod Security Standards level, ordered by strictness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Privileged,
    Baseline,
    Restricted,
}

impl Level {
    /// `api.ParseLevel`: exact, case-sensitive.
    pub fn parse(s: &str) -> Result<Level, ParseError> {
        match s {
            "privileged" => Ok(Level::Privileged),
            "baseline" => Ok(Level::Baseline),
            "restricted" => Ok(Level::Restricted),
            _ => Err(ParseError(LEVEL_PARSE_ERROR)),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }
}

impl FromStr for Level {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::parse(s)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A policy version: `v1.<minor>` or `latest` (newer than every concrete version).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    Minor(u32),
    Latest,
}

impl Version {
    /// `api.ParseVersion`: `latest`, or `^v1\.(0|[1-9][0-9]*)$`. A minor number too large for
    /// Go's `int` is an error there too; one that fits an `int` but not a `u32` saturates (it
    /// evaluates as [`LATEST_MINOR`] either way).
    pub fn parse(s: &str) -> Result<Version, ParseError> {
        if s == "latest" {
            return Ok(Version::Latest);
        }
        let err = ParseError(VERSION_PARSE_ERROR);
        let digits = s.strip_prefix("v1.").ok_or(err)?;
        let valid = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'));
        if !valid {
            return Err(err);
        }
        let minor: i64 = digits.parse().map_err(|_| err)?;
        Ok(Version::Minor(u32::try_from(minor).unwrap_or(u32::MAX)))
    }

    /// The minor version the checks are evaluated at (clamped to [`LATEST_MINOR`]).
    pub fn effective_minor(self) -> u32 {
        match self {
            Version::Minor(m) => m.min(LATEST_MINOR),
            Version::Latest => LATEST_MINOR,
        }
    }
}

impl FromStr for Version {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Version::parse(s)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Minor(m) => write!(f, "v1.{m}"),
            Version::Latest => f.write_str("latest"),
        }
    }
}

/// One failing check: its upstream ID, `ForbiddenReason` and `ForbiddenDetail`, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckResult {
    pub id: &'static str,
    pub reason: String,
    pub detail: String,
    /// The offending fields, in the order the detail names them, as JSON pointers relative to
    /// the pod (`/spec/containers/2/securityContext/procMount`,
    /// `/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1app`); a field
    /// that must be set and is not is named where it belongs. Never empty. Map them into a
    /// workload with [`template_pointer`].
    pub pointers: Vec<String>,
}

impl CheckResult {
    /// The first offending field: where a finding about this check points.
    pub fn pointer(&self) -> &str {
        self.pointers.first().map_or("/spec", String::as_str)
    }
}

/// A pod-relative pointer of a [`CheckResult`] (`/spec/...`, `/metadata/...`) within the object
/// of a pod template (`/spec/template/spec/...` for a Deployment).
pub fn template_pointer(t: &crate::inventory::PodTemplate, pointer: &str) -> String {
    if let Some(rest) = pointer.strip_prefix("/spec") {
        format!("{}{rest}", t.spec_ptr)
    } else if let Some(rest) = pointer.strip_prefix("/metadata") {
        format!("{}{rest}", t.metadata_ptr)
    } else {
        t.spec_ptr.to_owned()
    }
}

/// Every check ID, in upstream evaluation order (baseline IDs sorted, then restricted IDs sorted).
pub const CHECK_IDS: [&str; 19] = [
    "appArmorProfile",
    "capabilities_baseline",
    "hostNamespaces",
    "hostPathVolumes",
    "hostPorts",
    "hostProbesAndHostLifecycle",
    "privileged",
    "procMount",
    "seLinuxOptions",
    "seccompProfile_baseline",
    "sysctls",
    "windowsHostProcess",
    "allowPrivilegeEscalation",
    "capabilities_restricted",
    "procMount_restricted",
    "restrictedVolumes",
    "runAsNonRoot",
    "runAsUser",
    "seccompProfile_restricted",
];

/// Evaluates a pod spec (`spec` node of a Pod, or `spec.template.spec` of a controller) with the
/// pod's metadata node (for annotations; may be None).
/// Returns the failing checks in upstream evaluation order (pss.md §2e). Empty = allowed.
/// Privileged level = always empty.
pub fn evaluate(
    level: Level,
    version: Version,
    metadata: Option<&Node>,
    spec: &Node,
) -> Vec<CheckResult> {
    evaluate_pod(level, version, Pod::new(metadata, spec))
}

/// [`evaluate`] of the Pod the API server stores when it creates one from this spec (directly or
/// from a controller's template), which is what Pod Security admission enforces: before
/// admission, a container with an AppArmor annotation and no `appArmorProfile` field gets the
/// field (unless it equals the pod's) — pkg/api/pod `applyAppArmorVersionSkew`; a field is not
/// copied into an annotation (checked against kube-apiserver v1.37.2 by e2e/differential.py).
pub fn evaluate_created(
    level: Level,
    version: Version,
    metadata: Option<&Node>,
    spec: &Node,
) -> Vec<CheckResult> {
    let mut pod = Pod::new(metadata, spec);
    pod.created = true;
    evaluate_pod(level, version, pod)
}

fn evaluate_pod(level: Level, version: Version, pod: Pod<'_>) -> Vec<CheckResult> {
    if level == Level::Privileged {
        return Vec::new();
    }
    let v = version.effective_minor();
    let restricted = level == Level::Restricted;
    let mut out = Vec::new();
    let mut run = |id: &'static str, result: Outcome| {
        if let Some((reason, detail, mut pointers)) = result {
            if pointers.is_empty() {
                pointers.push("/spec".into());
            }
            out.push(CheckResult {
                id,
                reason,
                detail,
                pointers,
            });
        }
    };

    // Baseline checks (restricted runs them too, minus the ones its own checks override).
    run("appArmorProfile", app_armor_profile(&pod));
    if !(restricted && v >= 22) {
        run("capabilities_baseline", capabilities_baseline(&pod));
    }
    run("hostNamespaces", host_namespaces(&pod));
    if !restricted {
        run("hostPathVolumes", host_path_volumes(&pod));
    }
    run("hostPorts", host_ports(&pod));
    if v >= 34 {
        run(
            "hostProbesAndHostLifecycle",
            host_probes_and_lifecycle(&pod),
        );
    }
    run("privileged", privileged(&pod));
    if !(restricted && v >= 35) {
        let relaxed = v >= 35 && pod.user_namespaced();
        run("procMount", if relaxed { None } else { proc_mount(&pod) });
    }
    run("seLinuxOptions", se_linux_options(&pod, v));
    if !(restricted && v >= 19) {
        let result = if v >= 19 {
            seccomp_baseline_fields(&pod)
        } else {
            seccomp_baseline_annotations(&pod)
        };
        run("seccompProfile_baseline", result);
    }
    run("sysctls", sysctls(&pod, v));
    run("windowsHostProcess", windows_host_process(&pod));

    if restricted {
        let windows_skip = v >= 25 && pod.windows();
        if v >= 8 && !windows_skip {
            run("allowPrivilegeEscalation", allow_privilege_escalation(&pod));
        }
        if v >= 22 && !windows_skip {
            run("capabilities_restricted", capabilities_restricted(&pod));
        }
        if v >= 35 {
            run("procMount_restricted", proc_mount(&pod));
        }
        run("restrictedVolumes", restricted_volumes(&pod));
        let relaxed = v >= 35 && pod.user_namespaced();
        if !relaxed {
            run("runAsNonRoot", run_as_non_root(&pod));
        }
        if v >= 23 && !relaxed {
            run("runAsUser", run_as_user(&pod));
        }
        if v >= 19 && !windows_skip {
            run("seccompProfile_restricted", seccomp_restricted(&pod));
        }
    }
    out
}

/// `AggregateCheckResult.ForbiddenDetail()`: `reason (detail), reason (detail)`; a check with an
/// empty detail contributes just its reason, an empty reason reads `unknown forbidden reason`.
pub fn aggregate(results: &[CheckResult]) -> String {
    let mut out = String::new();
    for (i, r) in results.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(if r.reason.is_empty() {
            "unknown forbidden reason"
        } else {
            &r.reason
        });
        if !r.detail.is_empty() {
            out.push_str(" (");
            out.push_str(&r.detail);
            out.push(')');
        }
    }
    out
}

/// The level and version of one mode (enforce, audit or warn).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Policy {
    pub level: Level,
    pub version: Version,
}

impl Policy {
    /// The cluster default of every mode: `privileged:latest`.
    pub const DEFAULT: Policy = Policy {
        level: Level::Privileged,
        version: Version::Latest,
    };
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.level, self.version)
    }
}

/// The effective policy of a namespace, as `api.PolicyToEvaluate` resolves its labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamespacePolicy {
    pub enforce: Policy,
    pub audit: Policy,
    pub warn: Policy,
    /// Label errors in the API server's format, e.g.
    /// `metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "foo": must be one of privileged, baseline, restricted`.
    pub errors: Vec<String>,
    pub enforce_label_present: bool,
    pub enforce_version_label_present: bool,
}

/// Namespace labels → effective enforce/audit/warn policy (pss.md §1). Absent labels keep the
/// cluster defaults (`privileged:latest`). An invalid enforce level is `restricted` (fail closed),
/// an invalid audit or warn level `privileged` (fail open), an invalid version `latest`; each
/// invalid value adds an error. When a valid enforce level is set, no warn label is, and enforce
/// is stricter than warn, warn follows enforce (and its version too, unless `warn-version` is set).
pub fn namespace_policy(labels: impl Fn(&str) -> Option<String>) -> NamespacePolicy {
    let mut p = NamespacePolicy {
        enforce: Policy::DEFAULT,
        audit: Policy::DEFAULT,
        warn: Policy::DEFAULT,
        errors: Vec::new(),
        enforce_label_present: false,
        enforce_version_label_present: false,
    };
    let invalid = label_error;
    let mut errors = Vec::new();
    let mut enforce_level_valid = false;
    if let Some(value) = labels(ENFORCE_LEVEL_LABEL) {
        p.enforce_label_present = true;
        match Level::parse(&value) {
            Ok(level) => {
                p.enforce.level = level;
                enforce_level_valid = true;
            }
            Err(e) => {
                p.enforce.level = Level::Restricted;
                errors.push(invalid(ENFORCE_LEVEL_LABEL, &value, e));
            }
        }
    }
    if let Some(value) = labels(ENFORCE_VERSION_LABEL) {
        p.enforce_version_label_present = true;
        p.enforce.version = parse_version_label(&value, ENFORCE_VERSION_LABEL, &mut errors);
    }
    if let Some(value) = labels(AUDIT_LEVEL_LABEL) {
        p.audit.level = Level::parse(&value).unwrap_or_else(|e| {
            errors.push(invalid(AUDIT_LEVEL_LABEL, &value, e));
            Level::Privileged
        });
    }
    if let Some(value) = labels(AUDIT_VERSION_LABEL) {
        p.audit.version = parse_version_label(&value, AUDIT_VERSION_LABEL, &mut errors);
    }
    let warn_level = labels(WARN_LEVEL_LABEL);
    if let Some(value) = &warn_level {
        p.warn.level = Level::parse(value).unwrap_or_else(|e| {
            errors.push(invalid(WARN_LEVEL_LABEL, value, e));
            Level::Privileged
        });
    }
    let warn_version = labels(WARN_VERSION_LABEL);
    if let Some(value) = &warn_version {
        p.warn.version = parse_version_label(value, WARN_VERSION_LABEL, &mut errors);
    }
    if warn_level.is_none() && enforce_level_valid && p.enforce.level > p.warn.level {
        p.warn.level = p.enforce.level;
        if warn_version.is_none() {
            p.warn.version = p.enforce.version;
        }
    }
    p.errors = errors;
    p
}

fn parse_version_label(value: &str, label: &str, errors: &mut Vec<String>) -> Version {
    Version::parse(value).unwrap_or_else(|e| {
        errors.push(label_error(label, value, e));
        Version::Latest
    })
}

/// `field.Invalid(metadata.labels[<label>], value, err).Error()`.
fn label_error(label: &str, value: &str, err: ParseError) -> String {
    format!(
        "metadata.labels[{label}]: Invalid value: {}: {err}",
        go_quote(value)
    )
}

// ---------------------------------------------------------------------------------------------
// Reading the pod the way the Go structs decode it.

/// A child that is present and not `null` (a non-nil pointer / non-empty field in Go).
fn child<'a>(node: Option<&'a Node>, key: &str) -> Option<&'a Node> {
    node?.get(key).filter(|n| !n.is_null())
}

/// A string field's value: any non-null scalar's text (a quoted or plain string; another scalar
/// in a string field would not decode, its text is the conservative reading).
fn scalar_text(node: &Node) -> Option<&str> {
    if node.is_null() { None } else { node.text() }
}

/// A string field (`""` when absent or null, as a Go string).
fn string_field<'a>(node: Option<&'a Node>, key: &str) -> &'a str {
    child(node, key).and_then(scalar_text).unwrap_or("")
}

/// A `*string` field: `None` when absent or null.
fn opt_string_field<'a>(node: Option<&'a Node>, key: &str) -> Option<&'a str> {
    child(node, key).and_then(scalar_text)
}

/// A `*bool` / `bool` field, only if it is a real YAML boolean.
fn bool_field(node: Option<&Node>, key: &str) -> Option<bool> {
    child(node, key).and_then(Node::as_bool)
}

fn items<'a>(node: Option<&'a Node>, key: &str) -> &'a [Node] {
    child(node, key).map_or(&[], Node::items)
}

struct Container<'a> {
    name: &'a str,
    node: &'a Node,
    /// `/spec/containers/2`.
    ptr: String,
    /// `securityContext`, when set.
    sc: Option<&'a Node>,
}

struct Pod<'a> {
    spec: &'a Node,
    /// `spec.securityContext`, when set.
    psc: Option<&'a Node>,
    /// initContainers, containers, ephemeralContainers, in that order.
    containers: Vec<Container<'a>>,
    /// `metadata.annotations` with the effective (last) value of each key; `null` reads as `""`.
    annotations: Vec<(&'a str, &'a str)>,
    /// Evaluated as the API server stores a Pod it creates: AppArmor annotations and fields
    /// synced both ways first ([`evaluate_created`]).
    created: bool,
}

impl<'a> Pod<'a> {
    fn new(metadata: Option<&'a Node>, spec: &'a Node) -> Pod<'a> {
        let containers = ["initContainers", "containers", "ephemeralContainers"]
            .iter()
            .flat_map(|key| {
                items(Some(spec), key)
                    .iter()
                    .enumerate()
                    .map(move |(i, c)| (format!("/spec/{key}/{i}"), c))
            })
            .map(|(ptr, c)| Container {
                name: string_field(Some(c), "name"),
                node: c,
                ptr,
                sc: child(Some(c), "securityContext"),
            })
            .collect();
        let annotations = child(metadata, "annotations")
            .map(|a| {
                a.effective_entries()
                    .filter_map(|e| {
                        let value = if e.value.is_null() {
                            ""
                        } else {
                            e.value.text()?
                        };
                        Some((e.key.as_str(), value))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Pod {
            spec,
            psc: child(Some(spec), "securityContext"),
            containers,
            annotations,
            created: false,
        }
    }

    fn annotation(&self, key: &str) -> Option<&'a str> {
        self.annotations
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }

    /// `spec.hostUsers: false` — a user-namespaced pod.
    fn user_namespaced(&self) -> bool {
        bool_field(Some(self.spec), "hostUsers") == Some(false)
    }

    /// `spec.os.name: windows`.
    fn windows(&self) -> bool {
        string_field(child(Some(self.spec), "os"), "name") == "windows"
    }
}

// ---------------------------------------------------------------------------------------------
// Message helpers (policy/helpers.go).

fn join_quote<S: AsRef<str>>(items: &[S]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let inner: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    format!("\"{}\"", inner.join("\", \""))
}

fn pluralize<'s>(singular: &'s str, plural: &'s str, count: usize) -> &'s str {
    if count == 1 { singular } else { plural }
}

/// `container "a"` / `containers "a", "b"`.
fn containers_phrase(names: &[&str]) -> String {
    format!(
        "{} {}",
        pluralize("container", "containers", names.len()),
        join_quote(names)
    )
}

fn sorted(set: BTreeSet<&str>) -> Vec<&str> {
    set.into_iter().collect()
}

/// Go's `strconv.Quote` (`%q`): double-quoted, with Go escapes for non-printable characters.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if go_is_print(c) => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `strconv.IsPrint`: no controls, no spaces other than U+0020, no
/// format characters, no private-use characters.
fn go_is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    let u = c as u32;
    let format_or_private = matches!(
        u,
        0xAD | 0x600..=0x605
            | 0x61C
            | 0x6DD
            | 0x70F
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0xE000..=0xF8FF
            | 0xF0000..=0x10FFFF
    );
    !format_or_private
}

/// Reason, detail and the offending fields (pointers relative to the pod).
type Outcome = Option<(String, String, Vec<String>)>;

fn forbid(reason: impl Into<String>, detail: impl Into<String>, at: Vec<String>) -> Outcome {
    Some((reason.into(), detail.into(), at))
}

/// `/spec/securityContext/<rel>`.
fn pod_sc(rel: &str) -> String {
    format!("/spec/securityContext/{rel}")
}

impl Container<'_> {
    /// `<container>/securityContext/<rel>`.
    fn sc_ptr(&self, rel: &str) -> String {
        format!("{}/securityContext/{rel}", self.ptr)
    }
}

/// `/metadata/annotations/<key>`.
fn annotation_ptr(key: &str) -> String {
    format!("/metadata/annotations/{}", crate::yaml::escape_token(key))
}

// ---------------------------------------------------------------------------------------------
// Baseline checks.

const APPARMOR_ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

/// An AppArmor annotation value as the field (type, localhost profile) the API server syncs it
/// to; None for a value the field cannot hold.
fn apparmor_field_for(annotation: &str) -> Option<(&'static str, &str)> {
    match annotation {
        "runtime/default" => Some(("RuntimeDefault", "")),
        "unconfined" => Some(("Unconfined", "")),
        _ => annotation
            .strip_prefix("localhost/")
            .filter(|p| !p.is_empty())
            .map(|p| ("Localhost", p)),
    }
}

fn app_armor_profile(pod: &Pod) -> Outcome {
    let allowed_type = |t: &str| matches!(t, "RuntimeDefault" | "Localhost");
    let mut setters: Vec<String> = Vec::new();
    let mut bad_types: BTreeSet<&str> = BTreeSet::new();
    let mut at = Vec::new();
    let pod_profile = child(pod.psc, "appArmorProfile");
    // The container fields as stored: synced from the annotations for a created Pod.
    let mut synced_fields: Vec<Option<&str>> = vec![None; pod.containers.len()];
    if pod.created {
        for (i, c) in pod.containers.iter().enumerate() {
            let key = format!("{APPARMOR_ANNOTATION_PREFIX}{}", c.name);
            let field = child(c.sc, "appArmorProfile");
            match pod.annotation(&key) {
                // A field is not copied into an annotation before admission (the API server's
                // answer, e2e/differential.py).
                None => {}
                Some(value) if field.is_none() => {
                    let pod_field = pod_profile.map(|p| {
                        (
                            string_field(Some(p), "type"),
                            string_field(Some(p), "localhostProfile"),
                        )
                    });
                    if let Some(f) = apparmor_field_for(value)
                        && pod_field != Some(f)
                    {
                        synced_fields[i] = Some(f.0);
                    }
                }
                Some(_) => {}
            }
        }
    }
    if let Some(profile) = pod_profile {
        let t = string_field(Some(profile), "type");
        if !allowed_type(t) {
            setters.push("pod".into());
            bad_types.insert(t);
            at.push(pod_sc("appArmorProfile/type"));
        }
    }
    let mut bad_containers = Vec::new();
    for (c, synced) in pod.containers.iter().zip(&synced_fields) {
        let written = child(c.sc, "appArmorProfile").map(|p| string_field(Some(p), "type"));
        if let Some(t) = written.or(*synced)
            && !allowed_type(t)
        {
            bad_containers.push(c.name);
            bad_types.insert(t);
            at.push(match written {
                Some(_) => c.sc_ptr("appArmorProfile/type"),
                // Synced from the annotation: that is where it was written.
                None => annotation_ptr(&format!("{APPARMOR_ANNOTATION_PREFIX}{}", c.name)),
            });
        }
    }
    if !bad_containers.is_empty() {
        setters.push(containers_phrase(&bad_containers));
    }
    let bad: Vec<&(&str, &str)> = pod
        .annotations
        .iter()
        .filter(|(k, v)| {
            k.starts_with(APPARMOR_ANNOTATION_PREFIX)
                && !(v.is_empty() || *v == "runtime/default" || v.starts_with("localhost/"))
        })
        .collect();
    let mut sorted_keys: Vec<&str> = bad.iter().map(|(k, _)| *k).collect();
    sorted_keys.sort();
    at.extend(sorted_keys.into_iter().map(annotation_ptr));
    let mut bad_annotations: Vec<String> = bad
        .iter()
        .map(|(k, v)| format!("{k}={}", go_quote(v)))
        .collect();
    let mut values: Vec<String> = bad_types.into_iter().map(String::from).collect();
    if !bad_annotations.is_empty() {
        bad_annotations.sort();
        setters.push(pluralize("annotation", "annotations", bad_annotations.len()).into());
        values.extend(bad_annotations);
    }
    if setters.is_empty() {
        return None;
    }
    forbid(
        pluralize(
            "forbidden AppArmor profile",
            "forbidden AppArmor profiles",
            values.len(),
        ),
        format!(
            "{} must not set AppArmor profile type to {}",
            setters.join(" and "),
            join_quote(&values)
        ),
        at,
    )
}

const CAPABILITIES_ALLOWED_BASELINE: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn capabilities_baseline(pod: &Pod) -> Outcome {
    let mut bad_containers = Vec::new();
    let mut bad_caps: BTreeSet<&str> = BTreeSet::new();
    let mut at = Vec::new();
    for c in &pod.containers {
        let Some(caps) = child(c.sc, "capabilities") else {
            continue;
        };
        let mut valid = true;
        for (i, cap) in items(Some(caps), "add").iter().enumerate() {
            let cap = scalar_text(cap).unwrap_or("");
            if !CAPABILITIES_ALLOWED_BASELINE.contains(&cap) {
                if valid {
                    at.push(c.sc_ptr(&format!("capabilities/add/{i}")));
                }
                valid = false;
                bad_caps.insert(cap);
            }
        }
        if !valid {
            bad_containers.push(c.name);
        }
    }
    if bad_containers.is_empty() {
        return None;
    }
    forbid(
        "non-default capabilities",
        format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&bad_containers),
            join_quote(&sorted(bad_caps))
        ),
        at,
    )
}

fn host_namespaces(pod: &Pod) -> Outcome {
    let set: Vec<(&str, &str)> = [
        ("hostNetwork", "hostNetwork=true"),
        ("hostPID", "hostPID=true"),
        ("hostIPC", "hostIPC=true"),
    ]
    .into_iter()
    .filter(|(key, _)| bool_field(Some(pod.spec), key) == Some(true))
    .collect();
    if set.is_empty() {
        return None;
    }
    let texts: Vec<&str> = set.iter().map(|(_, text)| *text).collect();
    forbid(
        "host namespaces",
        texts.join(", "),
        set.iter().map(|(key, _)| format!("/spec/{key}")).collect(),
    )
}

fn volumes<'a>(pod: &Pod<'a>) -> &'a [Node] {
    items(Some(pod.spec), "volumes")
}

fn host_path_volumes(pod: &Pod) -> Outcome {
    let bad: Vec<(usize, &Node)> = volumes(pod)
        .iter()
        .enumerate()
        .filter(|(_, v)| child(Some(v), "hostPath").is_some())
        .collect();
    if bad.is_empty() {
        return None;
    }
    let names: Vec<&str> = bad
        .iter()
        .map(|(_, v)| string_field(Some(v), "name"))
        .collect();
    forbid(
        "hostPath volumes",
        format!(
            "{} {}",
            pluralize("volume", "volumes", names.len()),
            join_quote(&names)
        ),
        bad.iter()
            .map(|(i, _)| format!("/spec/volumes/{i}/hostPath"))
            .collect(),
    )
}

fn host_ports(pod: &Pod) -> Outcome {
    let mut bad_containers = Vec::new();
    let mut ports: BTreeSet<String> = BTreeSet::new();
    let mut at = Vec::new();
    for c in &pod.containers {
        let mut valid = true;
        for (i, port) in items(Some(c.node), "ports").iter().enumerate() {
            let host_port = child(Some(port), "hostPort")
                .and_then(Node::as_i64)
                .unwrap_or(0);
            if host_port != 0 {
                if valid {
                    at.push(format!("{}/ports/{i}/hostPort", c.ptr));
                }
                valid = false;
                ports.insert(host_port.to_string());
            }
        }
        if !valid {
            bad_containers.push(c.name);
        }
    }
    if bad_containers.is_empty() {
        return None;
    }
    let ports: Vec<String> = ports.into_iter().collect();
    forbid(
        "hostPort",
        format!(
            "{} {} {} {}",
            containers_phrase(&bad_containers),
            pluralize("uses", "use", bad_containers.len()),
            pluralize("hostPort", "hostPorts", ports.len()),
            ports.join(", ")
        ),
        at,
    )
}

fn host_probes_and_lifecycle(pod: &Pod) -> Outcome {
    let mut bad_containers: BTreeSet<&str> = BTreeSet::new();
    let mut hosts: BTreeSet<&str> = BTreeSet::new();
    // The first offending host of each container, in the order the containers are named.
    let mut at: BTreeSet<(&str, String)> = BTreeSet::new();
    for c in &pod.containers {
        let lifecycle = child(Some(c.node), "lifecycle");
        let handlers = [
            ("livenessProbe", child(Some(c.node), "livenessProbe")),
            ("readinessProbe", child(Some(c.node), "readinessProbe")),
            ("startupProbe", child(Some(c.node), "startupProbe")),
            ("lifecycle/postStart", child(lifecycle, "postStart")),
            ("lifecycle/preStop", child(lifecycle, "preStop")),
        ];
        for (path, handler) in handlers {
            let Some(handler) = handler else { continue };
            for kind in ["httpGet", "tcpSocket"] {
                let host = string_field(child(Some(handler), kind), "host");
                if !host.is_empty() {
                    if !bad_containers.contains(c.name) {
                        at.insert((c.name, format!("{}/{path}/{kind}/host", c.ptr)));
                    }
                    bad_containers.insert(c.name);
                    hosts.insert(host);
                }
            }
        }
    }
    if bad_containers.is_empty() {
        return None;
    }
    let count = bad_containers.len();
    forbid(
        "probe or lifecycle host",
        format!(
            "{} {} {} {}",
            containers_phrase(&sorted(bad_containers)),
            pluralize("uses", "use", count),
            pluralize(
                "probe or lifecycle host",
                "probe or lifecycle hosts",
                hosts.len()
            ),
            join_quote(&sorted(hosts))
        ),
        at.into_iter().map(|(_, p)| p).collect(),
    )
}

fn privileged(pod: &Pod) -> Outcome {
    let bad: Vec<&Container> = pod
        .containers
        .iter()
        .filter(|c| bool_field(c.sc, "privileged") == Some(true))
        .collect();
    if bad.is_empty() {
        return None;
    }
    let names: Vec<&str> = bad.iter().map(|c| c.name).collect();
    forbid(
        "privileged",
        format!(
            "{} must not set securityContext.privileged=true",
            containers_phrase(&names)
        ),
        bad.iter().map(|c| c.sc_ptr("privileged")).collect(),
    )
}

/// `procMount` (without the user-namespace relaxation) and `procMount_restricted`.
fn proc_mount(pod: &Pod) -> Outcome {
    let mut bad_containers = Vec::new();
    let mut bad_values: BTreeSet<&str> = BTreeSet::new();
    let mut at = Vec::new();
    for c in &pod.containers {
        if let Some(value) = opt_string_field(c.sc, "procMount")
            && value != "Default"
        {
            bad_containers.push(c.name);
            bad_values.insert(value);
            at.push(c.sc_ptr("procMount"));
        }
    }
    if bad_containers.is_empty() {
        return None;
    }
    forbid(
        "procMount",
        format!(
            "{} must not set securityContext.procMount to {}",
            containers_phrase(&bad_containers),
            join_quote(&sorted(bad_values))
        ),
        at,
    )
}

fn se_linux_options<'a>(pod: &Pod<'a>, minor: u32) -> Outcome {
    let allowed_type = |t: &str| {
        matches!(
            t,
            "" | "container_t" | "container_init_t" | "container_kvm_t"
        ) || (minor >= 31 && t == "container_engine_t")
    };
    let mut bad_types: BTreeSet<&str> = BTreeSet::new();
    let mut set_user = false;
    let mut set_role = false;
    // The first forbidden field of the options, if any.
    let mut invalid = |opts: &'a Node| {
        let mut first = None;
        let t = string_field(Some(opts), "type");
        if !allowed_type(t) {
            first = first.or(Some("type"));
            bad_types.insert(t);
        }
        if !string_field(Some(opts), "user").is_empty() {
            first = first.or(Some("user"));
            set_user = true;
        }
        if !string_field(Some(opts), "role").is_empty() {
            first = first.or(Some("role"));
            set_role = true;
        }
        first
    };
    let mut setters: Vec<String> = Vec::new();
    let mut at = Vec::new();
    if let Some(field) = child(pod.psc, "seLinuxOptions").and_then(&mut invalid) {
        setters.push("pod".into());
        at.push(pod_sc(&format!("seLinuxOptions/{field}")));
    }
    let mut bad_containers: Vec<&str> = Vec::new();
    for c in &pod.containers {
        if let Some(field) = child(c.sc, "seLinuxOptions").and_then(&mut invalid) {
            bad_containers.push(c.name);
            at.push(c.sc_ptr(&format!("seLinuxOptions/{field}")));
        }
    }
    if !bad_containers.is_empty() {
        setters.push(containers_phrase(&bad_containers));
    }
    if setters.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    if !bad_types.is_empty() {
        parts.push(format!(
            "{} {}",
            pluralize("type", "types", bad_types.len()),
            join_quote(&sorted(bad_types))
        ));
    }
    if set_user {
        parts.push("user may not be set".to_string());
    }
    if set_role {
        parts.push("role may not be set".to_string());
    }
    forbid(
        "seLinuxOptions",
        format!(
            "{} set forbidden securityContext.seLinuxOptions: {}",
            setters.join(" and "),
            parts.join("; ")
        ),
        at,
    )
}

const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

fn valid_seccomp_type(t: &str) -> bool {
    matches!(t, "RuntimeDefault" | "Localhost")
}

/// `seccompProfile_baseline` 1.0–1.18: the alpha annotations.
fn seccomp_baseline_annotations(pod: &Pod) -> Outcome {
    let valid =
        |v: &str| v == "runtime/default" || v == "docker/default" || v.starts_with("localhost/");
    // Sorted by the listed text (`key="value"`), each with its annotation's pointer.
    let mut forbidden: BTreeSet<(String, String)> = BTreeSet::new();
    if let Some(v) = pod.annotation(SECCOMP_POD_ANNOTATION)
        && !valid(v)
    {
        forbidden.insert((
            format!("{SECCOMP_POD_ANNOTATION}={}", go_quote(v)),
            annotation_ptr(SECCOMP_POD_ANNOTATION),
        ));
    }
    for c in &pod.containers {
        let key = format!("{SECCOMP_CONTAINER_ANNOTATION_PREFIX}{}", c.name);
        if let Some(v) = pod.annotation(&key)
            && !valid(v)
        {
            forbidden.insert((format!("{key}={}", go_quote(v)), annotation_ptr(&key)));
        }
    }
    if forbidden.is_empty() {
        return None;
    }
    let (list, at): (Vec<String>, Vec<String>) = forbidden.into_iter().unzip();
    forbid(
        "seccompProfile",
        format!(
            "forbidden {} {}",
            pluralize("annotation", "annotations", list.len()),
            list.join(", ")
        ),
        at,
    )
}

/// Pod- and container-level seccomp profiles.
struct SeccompFields<'a> {
    /// `pod`, `containers "a", "b"`: who sets an explicitly invalid type.
    setters: Vec<String>,
    bad_values: BTreeSet<&'a str>,
    /// Where the invalid types are set.
    bad_at: Vec<String>,
    /// The pod sets a valid profile.
    pod_valid: bool,
    /// Containers without their own profile, and where theirs belongs.
    unset: Vec<&'a str>,
    unset_at: Vec<String>,
}

fn seccomp_fields<'a>(pod: &Pod<'a>) -> SeccompFields<'a> {
    let mut f = SeccompFields {
        setters: Vec::new(),
        bad_values: BTreeSet::new(),
        bad_at: Vec::new(),
        pod_valid: false,
        unset: Vec::new(),
        unset_at: Vec::new(),
    };
    if let Some(profile) = child(pod.psc, "seccompProfile") {
        let t = string_field(Some(profile), "type");
        if valid_seccomp_type(t) {
            f.pod_valid = true;
        } else {
            f.setters.push("pod".into());
            f.bad_values.insert(t);
            f.bad_at.push(pod_sc("seccompProfile/type"));
        }
    }
    let mut explicit = Vec::new();
    for c in &pod.containers {
        match child(c.sc, "seccompProfile") {
            Some(profile) => {
                let t = string_field(Some(profile), "type");
                if !valid_seccomp_type(t) {
                    explicit.push(c.name);
                    f.bad_values.insert(t);
                    f.bad_at.push(c.sc_ptr("seccompProfile/type"));
                }
            }
            None => {
                f.unset.push(c.name);
                f.unset_at.push(c.sc_ptr("seccompProfile"));
            }
        }
    }
    if !explicit.is_empty() {
        f.setters.push(containers_phrase(&explicit));
    }
    f
}

fn seccomp_must_not(f: SeccompFields) -> Outcome {
    forbid(
        "seccompProfile",
        format!(
            "{} must not set securityContext.seccompProfile.type to {}",
            f.setters.join(" and "),
            join_quote(&sorted(f.bad_values))
        ),
        f.bad_at,
    )
}

/// `seccompProfile_baseline` 1.19+: only explicitly invalid types.
fn seccomp_baseline_fields(pod: &Pod) -> Outcome {
    let f = seccomp_fields(pod);
    if f.setters.is_empty() {
        return None;
    }
    seccomp_must_not(f)
}

const SYSCTLS_1_0: [&str; 5] = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
];
const SYSCTLS_1_27: [&str; 1] = ["net.ipv4.ip_local_reserved_ports"];
const SYSCTLS_1_29: [&str; 4] = [
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];
const SYSCTLS_1_32: [&str; 2] = ["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"];
const SYSCTLS_1_37: [&str; 2] = [
    "net.ipv4.tcp_slow_start_after_idle",
    "net.ipv4.tcp_notsent_lowat",
];

fn sysctl_allowed(name: &str, minor: u32) -> bool {
    let sets: [(u32, &[&str]); 5] = [
        (0, &SYSCTLS_1_0),
        (27, &SYSCTLS_1_27),
        (29, &SYSCTLS_1_29),
        (32, &SYSCTLS_1_32),
        (37, &SYSCTLS_1_37),
    ];
    sets.iter()
        .any(|(since, names)| minor >= *since && names.contains(&name))
}

fn sysctls(pod: &Pod, minor: u32) -> Outcome {
    let bad: Vec<(usize, &str)> = items(pod.psc, "sysctls")
        .iter()
        .map(|s| string_field(Some(s), "name"))
        .enumerate()
        .filter(|(_, name)| !sysctl_allowed(name, minor))
        .collect();
    if bad.is_empty() {
        return None;
    }
    let names: Vec<&str> = bad.iter().map(|(_, n)| *n).collect();
    forbid(
        "forbidden sysctls",
        names.join(", "),
        bad.iter()
            .map(|(i, _)| pod_sc(&format!("sysctls/{i}/name")))
            .collect(),
    )
}

fn windows_host_process(pod: &Pod) -> Outcome {
    let host_process =
        |sc: Option<&Node>| bool_field(child(sc, "windowsOptions"), "hostProcess") == Some(true);
    let bad: Vec<&Container> = pod
        .containers
        .iter()
        .filter(|c| host_process(c.sc))
        .collect();
    let mut setters: Vec<String> = Vec::new();
    let mut at = Vec::new();
    if host_process(pod.psc) {
        setters.push("pod".into());
        at.push(pod_sc("windowsOptions/hostProcess"));
    }
    if !bad.is_empty() {
        let names: Vec<&str> = bad.iter().map(|c| c.name).collect();
        setters.push(containers_phrase(&names));
        at.extend(bad.iter().map(|c| c.sc_ptr("windowsOptions/hostProcess")));
    }
    if setters.is_empty() {
        return None;
    }
    forbid(
        "hostProcess",
        format!(
            "{} must not set securityContext.windowsOptions.hostProcess=true",
            setters.join(" and ")
        ),
        at,
    )
}

// ---------------------------------------------------------------------------------------------
// Restricted checks.

fn allow_privilege_escalation(pod: &Pod) -> Outcome {
    let bad: Vec<&Container> = pod
        .containers
        .iter()
        .filter(|c| bool_field(c.sc, "allowPrivilegeEscalation") != Some(false))
        .collect();
    if bad.is_empty() {
        return None;
    }
    let names: Vec<&str> = bad.iter().map(|c| c.name).collect();
    forbid(
        "allowPrivilegeEscalation != false",
        format!(
            "{} must set securityContext.allowPrivilegeEscalation=false",
            containers_phrase(&names)
        ),
        bad.iter()
            .map(|c| c.sc_ptr("allowPrivilegeEscalation"))
            .collect(),
    )
}

fn capabilities_restricted(pod: &Pod) -> Outcome {
    let mut missing_drop_all = Vec::new();
    let mut adding_forbidden = Vec::new();
    let mut forbidden_caps: BTreeSet<&str> = BTreeSet::new();
    let (mut drop_at, mut add_at) = (Vec::new(), Vec::new());
    for c in &pod.containers {
        let Some(caps) = child(c.sc, "capabilities") else {
            missing_drop_all.push(c.name);
            drop_at.push(c.sc_ptr("capabilities/drop"));
            continue;
        };
        if !items(Some(caps), "drop")
            .iter()
            .any(|d| scalar_text(d) == Some("ALL"))
        {
            missing_drop_all.push(c.name);
            drop_at.push(c.sc_ptr("capabilities/drop"));
        }
        let mut added_forbidden = false;
        for (i, cap) in items(Some(caps), "add").iter().enumerate() {
            let cap = scalar_text(cap).unwrap_or("");
            if cap != "NET_BIND_SERVICE" {
                if !added_forbidden {
                    add_at.push(c.sc_ptr(&format!("capabilities/add/{i}")));
                }
                added_forbidden = true;
                forbidden_caps.insert(cap);
            }
        }
        if added_forbidden {
            adding_forbidden.push(c.name);
        }
    }
    let mut parts = Vec::new();
    if !missing_drop_all.is_empty() {
        parts.push(format!(
            "{} must set securityContext.capabilities.drop=[\"ALL\"]",
            containers_phrase(&missing_drop_all)
        ));
    }
    if !adding_forbidden.is_empty() {
        parts.push(format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&adding_forbidden),
            join_quote(&sorted(forbidden_caps))
        ));
    }
    if parts.is_empty() {
        return None;
    }
    drop_at.extend(add_at);
    forbid("unrestricted capabilities", parts.join("; "), drop_at)
}

const ALLOWED_VOLUME_SOURCES: [&str; 9] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// Restricted volume sources, in the order upstream names them.
const RESTRICTED_VOLUME_SOURCES: [&str; 21] = [
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
];

fn restricted_volumes(pod: &Pod) -> Outcome {
    let mut bad_volumes = Vec::new();
    let mut bad_types: BTreeSet<&str> = BTreeSet::new();
    let mut at = Vec::new();
    for (i, volume) in volumes(pod).iter().enumerate() {
        let has = |key: &str| child(Some(volume), key).is_some();
        if ALLOWED_VOLUME_SOURCES.iter().any(|k| has(k)) {
            continue;
        }
        let kind = match RESTRICTED_VOLUME_SOURCES.iter().find(|k| has(k)) {
            Some(kind) => *kind,
            None => {
                // No source at all: the API server defaults it to emptyDir. A source this table
                // does not know is reported as upstream reports one: "unknown".
                let Some(other) = volume
                    .effective_entries()
                    .find(|e| e.key != "name" && !e.value.is_null())
                else {
                    continue;
                };
                at.push(format!(
                    "/spec/volumes/{i}/{}",
                    crate::yaml::escape_token(&other.key)
                ));
                bad_volumes.push(string_field(Some(volume), "name"));
                bad_types.insert("unknown");
                continue;
            }
        };
        at.push(format!("/spec/volumes/{i}/{kind}"));
        bad_volumes.push(string_field(Some(volume), "name"));
        bad_types.insert(kind);
    }
    if bad_volumes.is_empty() {
        return None;
    }
    forbid(
        "restricted volume types",
        format!(
            "{} {} {} {} {}",
            pluralize("volume", "volumes", bad_volumes.len()),
            join_quote(&bad_volumes),
            pluralize("uses", "use", bad_volumes.len()),
            pluralize(
                "restricted volume type",
                "restricted volume types",
                bad_types.len()
            ),
            join_quote(&sorted(bad_types))
        ),
        at,
    )
}

fn run_as_non_root(pod: &Pod) -> Outcome {
    let mut setters: Vec<String> = Vec::new();
    let mut pod_non_root = false;
    let (mut explicit_at, mut implicit_at) = (Vec::new(), Vec::new());
    match bool_field(pod.psc, "runAsNonRoot") {
        Some(false) => {
            setters.push("pod".into());
            explicit_at.push(pod_sc("runAsNonRoot"));
        }
        Some(true) => pod_non_root = true,
        None => {}
    }
    let mut explicit = Vec::new();
    let mut implicit = Vec::new();
    for c in &pod.containers {
        match bool_field(c.sc, "runAsNonRoot") {
            Some(false) => {
                explicit.push(c.name);
                explicit_at.push(c.sc_ptr("runAsNonRoot"));
            }
            Some(true) => {}
            None if !pod_non_root => {
                implicit.push(c.name);
                implicit_at.push(c.sc_ptr("runAsNonRoot"));
            }
            None => {}
        }
    }
    if !explicit.is_empty() {
        setters.push(containers_phrase(&explicit));
    }
    if !setters.is_empty() {
        return forbid(
            "runAsNonRoot != true",
            format!(
                "{} must not set securityContext.runAsNonRoot=false",
                setters.join(" and ")
            ),
            explicit_at,
        );
    }
    if !implicit.is_empty() {
        return forbid(
            "runAsNonRoot != true",
            format!(
                "pod or {} must set securityContext.runAsNonRoot=true",
                containers_phrase(&implicit)
            ),
            implicit_at,
        );
    }
    None
}

fn run_as_user(pod: &Pod) -> Outcome {
    let is_root = |sc: Option<&Node>| child(sc, "runAsUser").and_then(Node::as_i64) == Some(0);
    let mut setters: Vec<String> = Vec::new();
    let mut at = Vec::new();
    if is_root(pod.psc) {
        setters.push("pod".into());
        at.push(pod_sc("runAsUser"));
    }
    let bad: Vec<&Container> = pod.containers.iter().filter(|c| is_root(c.sc)).collect();
    if !bad.is_empty() {
        let names: Vec<&str> = bad.iter().map(|c| c.name).collect();
        setters.push(containers_phrase(&names));
        at.extend(bad.iter().map(|c| c.sc_ptr("runAsUser")));
    }
    if setters.is_empty() {
        return None;
    }
    forbid(
        "runAsUser=0",
        format!("{} must not set runAsUser=0", setters.join(" and ")),
        at,
    )
}

fn seccomp_restricted(pod: &Pod) -> Outcome {
    let f = seccomp_fields(pod);
    if !f.setters.is_empty() {
        return seccomp_must_not(f);
    }
    if !f.pod_valid && !f.unset.is_empty() {
        return forbid(
            "seccompProfile",
            format!(
                "pod or {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
                containers_phrase(&f.unset)
            ),
            f.unset_at,
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_stream;
    use std::collections::HashMap;

    fn pod(text: &str) -> Node {
        parse_stream(text).remove(0).unwrap().root.unwrap()
    }

    fn eval(level: Level, version: &str, text: &str) -> Vec<CheckResult> {
        let root = pod(text);
        let spec = root.get("spec").unwrap();
        evaluate(level, version.parse().unwrap(), root.get("metadata"), spec)
    }

    fn only(level: Level, version: &str, text: &str) -> (String, String) {
        let results = eval(level, version, text);
        assert_eq!(results.len(), 1, "{results:#?}");
        (results[0].reason.clone(), results[0].detail.clone())
    }

    const RESTRICTED_OK_CONTAINER: &str =
        "securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}";

    /// A created Pod is judged as stored: the AppArmor annotation becomes the container's field
    /// (named in the message, pointing at the annotation), a field does not become an annotation,
    /// an annotation equal to the pod's field is not copied; the raw evaluation (PSA's own
    /// fixtures) is unchanged.
    #[test]
    fn created_pods_sync_apparmor_annotations_and_fields() {
        let text = "metadata:\n  annotations:\n    container.apparmor.security.beta.kubernetes.io/a: unconfined\n    container.apparmor.security.beta.kubernetes.io/c: runtime/default\nspec:\n  securityContext:\n    appArmorProfile: {type: RuntimeDefault}\n  containers:\n  - name: a\n  - name: b\n    securityContext:\n      appArmorProfile: {type: Unconfined}\n  - name: c\n";
        let root = pod(text);
        let spec = root.get("spec").unwrap();
        let created =
            evaluate_created(Level::Baseline, Version::Latest, root.get("metadata"), spec);
        assert_eq!(created.len(), 1, "{created:#?}");
        assert_eq!(
            created[0].detail,
            r#"containers "a", "b" and annotation must not set AppArmor profile type to "Unconfined", "container.apparmor.security.beta.kubernetes.io/a="unconfined"""#
        );
        assert_eq!(
            created[0].pointers,
            [
                "/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1a",
                "/spec/containers/1/securityContext/appArmorProfile/type",
                "/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1a",
            ]
        );
        let raw = eval(Level::Baseline, "latest", text);
        assert_eq!(
            raw[0].detail,
            r#"container "b" and annotation must not set AppArmor profile type to "Unconfined", "container.apparmor.security.beta.kubernetes.io/a="unconfined"""#
        );
    }

    #[test]
    fn host_ports_sorted_as_strings() {
        let text = "spec:\n  containers:\n  - name: a\n  - name: b\n    ports: [{hostPort: 20}, {hostPort: 10}]\n  - name: c\n    ports: [{hostPort: 30}, {containerPort: 80}, {hostPort: 100}]\n";
        assert_eq!(
            only(Level::Baseline, "latest", text),
            (
                "hostPort".into(),
                "containers \"b\", \"c\" use hostPorts 10, 100, 20, 30".into()
            )
        );
        let one = "spec:\n  containers:\n  - name: a\n    ports: [{hostPort: 8080}]\n";
        assert_eq!(
            only(Level::Baseline, "v1.0", one).1,
            "container \"a\" uses hostPort 8080"
        );
    }

    #[test]
    fn host_namespaces_fixed_order() {
        let text =
            "spec:\n  hostIPC: true\n  hostPID: true\n  hostNetwork: yes\n  containers: []\n";
        assert_eq!(
            only(Level::Baseline, "latest", text),
            (
                "host namespaces".into(),
                "hostNetwork=true, hostPID=true, hostIPC=true".into()
            )
        );
        // Quoted "true" is a string, not a boolean.
        assert!(
            eval(
                Level::Baseline,
                "latest",
                "spec:\n  hostNetwork: \"true\"\n"
            )
            .is_empty()
        );
    }

    #[test]
    fn wrong_typed_privileged_is_not_true() {
        let text = "spec:\n  containers:\n  - name: a\n    securityContext: {privileged: \"yes\"}\n  - name: b\n    securityContext: {privileged: on}\n";
        assert_eq!(
            only(Level::Baseline, "latest", text),
            (
                "privileged".into(),
                "container \"b\" must not set securityContext.privileged=true".into()
            )
        );
    }

    #[test]
    fn se_linux_messages() {
        let text = "spec:\n  securityContext:\n    seLinuxOptions: {type: foo, user: bar, role: baz}\n  containers:\n  - {name: a, securityContext: {seLinuxOptions: {type: container_t}}}\n  - {name: d, securityContext: {seLinuxOptions: {type: bar}}}\n  - {name: e, securityContext: {seLinuxOptions: {user: bar}}}\n  - {name: f, securityContext: {seLinuxOptions: {role: baz, level: 's0:c1'}}}\n";
        assert_eq!(
            only(Level::Baseline, "latest", text),
            (
                "seLinuxOptions".into(),
                "pod and containers \"d\", \"e\", \"f\" set forbidden securityContext.seLinuxOptions: types \"bar\", \"foo\"; user may not be set; role may not be set".into()
            )
        );
        let user_only = "spec:\n  securityContext:\n    seLinuxOptions: {user: bad}\n";
        assert_eq!(
            only(Level::Baseline, "latest", user_only).1,
            "pod set forbidden securityContext.seLinuxOptions: user may not be set"
        );
        let engine = "spec:\n  containers:\n  - {name: a, securityContext: {seLinuxOptions: {type: container_engine_t}}}\n";
        assert!(eval(Level::Baseline, "v1.31", engine).is_empty());
        assert_eq!(
            only(Level::Baseline, "v1.30", engine).1,
            "container \"a\" set forbidden securityContext.seLinuxOptions: type \"container_engine_t\""
        );
    }

    #[test]
    fn app_armor_fields_and_annotations() {
        let text = "metadata:\n  annotations:\n    container.apparmor.security.beta.kubernetes.io/e: unconfined\n    container.apparmor.security.beta.kubernetes.io/f: localhost/x\nspec:\n  securityContext: {appArmorProfile: {type: Unconfined}}\n  containers:\n  - {name: a, securityContext: {appArmorProfile: {type: RuntimeDefault}}}\n  - {name: b, securityContext: {appArmorProfile: {type: Bogus}}}\n";
        assert_eq!(
            only(Level::Baseline, "v1.22", text),
            (
                "forbidden AppArmor profiles".into(),
                "pod and container \"b\" and annotation must not set AppArmor profile type to \"Bogus\", \"Unconfined\", \"container.apparmor.security.beta.kubernetes.io/e=\"unconfined\"\"".into()
            )
        );
        let one = "metadata:\n  annotations:\n    container.apparmor.security.beta.kubernetes.io/x: unconfined\nspec: {}\n";
        assert_eq!(
            only(Level::Baseline, "v1.0", one),
            (
                "forbidden AppArmor profile".into(),
                "annotation must not set AppArmor profile type to \"container.apparmor.security.beta.kubernetes.io/x=\"unconfined\"\"".into()
            )
        );
    }

    #[test]
    fn seccomp_annotations_then_fields() {
        let text = "metadata:\n  annotations:\n    seccomp.security.alpha.kubernetes.io/pod: unconfined\n    container.seccomp.security.alpha.kubernetes.io/a: docker/default\n    container.seccomp.security.alpha.kubernetes.io/b: \"un\\\"confined\"\n    container.seccomp.security.alpha.kubernetes.io/zzz: unconfined\nspec:\n  containers:\n  - {name: a}\n  - {name: b, securityContext: {seccompProfile: {type: Unconfined}}}\n";
        assert_eq!(
            only(Level::Baseline, "v1.18", text),
            (
                "seccompProfile".into(),
                "forbidden annotations container.seccomp.security.alpha.kubernetes.io/b=\"un\\\"confined\", seccomp.security.alpha.kubernetes.io/pod=\"unconfined\"".into()
            )
        );
        assert_eq!(
            only(Level::Baseline, "v1.19", text).1,
            "container \"b\" must not set securityContext.seccompProfile.type to \"Unconfined\""
        );
    }

    #[test]
    fn restricted_missing_everything_matches_the_documented_example() {
        let text = "metadata: {name: web}\nspec:\n  containers:\n  - {name: app, image: nginx}\n";
        let results = eval(Level::Restricted, "latest", text);
        assert_eq!(
            aggregate(&results),
            "allowPrivilegeEscalation != false (container \"app\" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container \"app\" must set securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true (pod or container \"app\" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container \"app\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"
        );
        let ids: Vec<&str> = results.iter().map(|r| r.id).collect();
        assert_eq!(
            ids,
            [
                "allowPrivilegeEscalation",
                "capabilities_restricted",
                "runAsNonRoot",
                "seccompProfile_restricted"
            ]
        );
        assert!(eval(Level::Privileged, "latest", text).is_empty());
    }

    #[test]
    fn run_as_non_root_explicit_false_wins() {
        let text = format!(
            "spec:\n  securityContext: {{runAsNonRoot: false, seccompProfile: {{type: RuntimeDefault}}}}\n  initContainers:\n  - {{name: i, {RESTRICTED_OK_CONTAINER}}}\n  containers:\n  - name: a\n    securityContext: {{runAsNonRoot: false, allowPrivilegeEscalation: false, capabilities: {{drop: [ALL]}}}}\n"
        );
        assert_eq!(
            only(Level::Restricted, "latest", &text),
            (
                "runAsNonRoot != true".into(),
                "pod and container \"a\" must not set securityContext.runAsNonRoot=false".into()
            )
        );
        // hostUsers: false relaxes runAsNonRoot from 1.35 only.
        let userns = text.replace("spec:\n", "spec:\n  hostUsers: false\n");
        assert!(eval(Level::Restricted, "v1.35", &userns).is_empty());
        assert_eq!(
            eval(Level::Restricted, "v1.34", &userns)[0].id,
            "runAsNonRoot"
        );
    }

    #[test]
    fn capabilities_restricted_two_parts() {
        let text = "spec:\n  securityContext: {runAsNonRoot: true, seccompProfile: {type: Localhost}}\n  containers:\n  - name: a\n    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [NET_RAW], add: [SYS_ADMIN, CHOWN, NET_BIND_SERVICE]}}\n  - name: b\n    securityContext: {allowPrivilegeEscalation: false}\n";
        assert_eq!(
            only(Level::Restricted, "v1.22", text),
            (
                "unrestricted capabilities".into(),
                "containers \"a\", \"b\" must set securityContext.capabilities.drop=[\"ALL\"]; container \"a\" must not include \"CHOWN\", \"SYS_ADMIN\" in securityContext.capabilities.add".into()
            )
        );
        // Below 1.22 only the baseline add-list applies.
        assert_eq!(
            only(Level::Restricted, "v1.21", text),
            (
                "non-default capabilities".into(),
                "container \"a\" must not include \"SYS_ADMIN\" in securityContext.capabilities.add".into()
            )
        );
    }

    #[test]
    fn restricted_volumes_and_implicit_empty_dir() {
        let text = format!(
            "spec:\n  securityContext: {{runAsNonRoot: true, seccompProfile: {{type: RuntimeDefault}}}}\n  containers:\n  - {{name: a, {RESTRICTED_OK_CONTAINER}}}\n  volumes:\n  - name: implicit\n  - {{name: h, hostPath: {{path: /}}}}\n  - {{name: n, nfs: {{server: x, path: /}}}}\n  - {{name: i, image: {{reference: x}}}}\n  - {{name: g, hostPath: null}}\n"
        );
        assert_eq!(
            only(Level::Restricted, "latest", &text),
            (
                "restricted volume types".into(),
                "volumes \"h\", \"n\" use restricted volume types \"hostPath\", \"nfs\"".into()
            )
        );
        let base = eval(Level::Baseline, "latest", &text);
        assert_eq!(base.len(), 1);
        assert_eq!(
            (base[0].id, base[0].detail.as_str()),
            ("hostPathVolumes", "volume \"h\"")
        );
    }

    #[test]
    fn sysctls_by_version_and_probe_hosts() {
        let text = "spec:\n  securityContext:\n    sysctls:\n    - {name: net.ipv4.tcp_rmem, value: x}\n    - {name: othersysctl}\n    - {name: othersysctl}\n";
        assert_eq!(
            only(Level::Baseline, "v1.31", text),
            (
                "forbidden sysctls".into(),
                "net.ipv4.tcp_rmem, othersysctl, othersysctl".into()
            )
        );
        assert_eq!(
            only(Level::Baseline, "v1.32", text).1,
            "othersysctl, othersysctl"
        );

        let probes = "spec:\n  initContainers:\n  - {name: z, readinessProbe: {tcpSocket: {host: 8.8.8.8, port: 1}}}\n  containers:\n  - name: b\n    livenessProbe: {httpGet: {host: bad.host, port: 1}}\n    lifecycle: {preStop: {httpGet: {host: bad.host}}}\n";
        assert!(eval(Level::Baseline, "v1.33", probes).is_empty());
        assert_eq!(
            only(Level::Baseline, "v1.34", probes),
            (
                "probe or lifecycle host".into(),
                "containers \"b\", \"z\" use probe or lifecycle hosts \"8.8.8.8\", \"bad.host\""
                    .into()
            )
        );
    }

    #[test]
    fn proc_mount_user_namespaces() {
        let text = "spec:\n  hostUsers: false\n  containers:\n  - {name: a, securityContext: {procMount: Unmasked}}\n";
        assert!(eval(Level::Baseline, "v1.35", text).is_empty());
        assert_eq!(
            only(Level::Baseline, "v1.34", text),
            (
                "procMount".into(),
                "container \"a\" must not set securityContext.procMount to \"Unmasked\"".into()
            )
        );
        let restricted: Vec<&str> = eval(Level::Restricted, "v1.35", text)
            .iter()
            .map(|r| r.id)
            .collect();
        assert!(restricted.contains(&"procMount_restricted"));
        assert!(!restricted.contains(&"procMount"));
    }

    #[test]
    fn windows_pods_skip_linux_checks_from_1_25() {
        let text = "spec:\n  os: {name: windows}\n  securityContext: {runAsNonRoot: true}\n  containers:\n  - {name: a}\n";
        assert!(eval(Level::Restricted, "v1.25", text).is_empty());
        let ids: Vec<&str> = eval(Level::Restricted, "v1.24", text)
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(
            ids,
            [
                "allowPrivilegeEscalation",
                "capabilities_restricted",
                "seccompProfile_restricted"
            ]
        );
        let host_process = "spec:\n  securityContext: {windowsOptions: {hostProcess: true}}\n  containers:\n  - {name: a, securityContext: {windowsOptions: {hostProcess: true}}}\n";
        assert_eq!(
            only(Level::Baseline, "latest", host_process).1,
            "pod and container \"a\" must not set securityContext.windowsOptions.hostProcess=true"
        );
    }

    #[test]
    fn run_as_user_root_at_pod_level_is_reported_even_if_overridden() {
        let text = "spec:\n  securityContext: {runAsNonRoot: true, runAsUser: 0, seccompProfile: {type: RuntimeDefault}}\n  containers:\n  - name: a\n    securityContext: {runAsUser: 1000, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n  - {name: b, securityContext: {runAsUser: 0, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}\n";
        assert_eq!(
            only(Level::Restricted, "v1.23", text),
            (
                "runAsUser=0".into(),
                "pod and container \"b\" must not set runAsUser=0".into()
            )
        );
        assert!(eval(Level::Restricted, "v1.22", text).is_empty());
    }

    #[test]
    fn aggregate_format() {
        let results = vec![
            CheckResult {
                id: "hostNamespaces",
                reason: "host namespaces".into(),
                detail: "hostPID=true".into(),
                pointers: vec!["/spec/hostPID".into()],
            },
            CheckResult {
                id: "x",
                reason: String::new(),
                detail: String::new(),
                pointers: vec!["/spec".into()],
            },
        ];
        assert_eq!(
            aggregate(&results),
            "host namespaces (hostPID=true), unknown forbidden reason"
        );
        assert_eq!(aggregate(&[]), "");
    }

    #[test]
    fn version_parsing() {
        for (s, want) in [
            ("latest", Version::Latest),
            ("v1.0", Version::Minor(0)),
            ("v1.25", Version::Minor(25)),
            ("v1.40", Version::Minor(40)),
            ("v1.10000", Version::Minor(10000)),
        ] {
            assert_eq!(Version::parse(s), Ok(want), "{s}");
            assert_eq!(want.to_string(), s);
        }
        for s in [
            "1.25",
            "v1.025",
            "v2.0",
            "v1.25.3",
            "V1.25",
            "",
            "v1.",
            "v1",
            "v1.-1",
            "Latest",
            "v1.1a",
            " v1.1",
            "v1.99999999999999999999",
        ] {
            assert_eq!(
                s.parse::<Version>(),
                Err(ParseError(VERSION_PARSE_ERROR)),
                "{s:?}"
            );
        }
        assert_eq!(Version::Latest.effective_minor(), LATEST_MINOR);
        assert_eq!(Version::Minor(99).effective_minor(), LATEST_MINOR);
        assert_eq!(Version::Minor(12).effective_minor(), 12);
        assert!(Version::Minor(u32::MAX) < Version::Latest);
        assert_eq!(
            Level::parse("Restricted"),
            Err(ParseError(LEVEL_PARSE_ERROR))
        );
        assert_eq!("baseline".parse::<Level>(), Ok(Level::Baseline));
        assert_eq!(Level::Restricted.as_str(), "restricted");
        assert!(Level::Privileged < Level::Baseline && Level::Baseline < Level::Restricted);
    }

    fn ns(labels: &[(&str, &str)]) -> NamespacePolicy {
        let map: HashMap<String, String> = labels
            .iter()
            .map(|(k, v)| (format!("{LABEL_PREFIX}{k}"), (*v).to_string()))
            .collect();
        namespace_policy(|k| map.get(k).cloned())
    }

    fn pol(level: Level, version: Version) -> Policy {
        Policy { level, version }
    }

    #[test]
    fn namespace_policy_defaults_and_warn_follows_enforce() {
        use Level::*;
        let latest = Version::Latest;
        let p = ns(&[]);
        assert_eq!(
            (p.enforce, p.audit, p.warn),
            (Policy::DEFAULT, Policy::DEFAULT, Policy::DEFAULT)
        );
        assert!(p.errors.is_empty() && !p.enforce_label_present);

        let p = ns(&[("enforce", "baseline"), ("enforce-version", "v1.22")]);
        assert_eq!(p.enforce, pol(Baseline, Version::Minor(22)));
        assert_eq!(p.warn, pol(Baseline, Version::Minor(22)));
        assert_eq!(p.audit, Policy::DEFAULT);
        assert!(p.enforce_label_present && p.enforce_version_label_present);

        let p = ns(&[("enforce", "baseline"), ("warn-version", "v1.23")]);
        assert_eq!(p.warn, pol(Baseline, Version::Minor(23)));

        let p = ns(&[("enforce", "baseline"), ("warn", "privileged")]);
        assert_eq!(p.warn, pol(Privileged, latest));

        let p = ns(&[("enforce", "baseline"), ("warn", "restricted")]);
        assert_eq!(p.warn, pol(Restricted, latest));
        assert_eq!(p.enforce.to_string(), "baseline:latest");
    }

    #[test]
    fn namespace_policy_invalid_values() {
        use Level::*;
        let p = ns(&[("enforce", "foo")]);
        assert_eq!(p.enforce, pol(Restricted, Version::Latest));
        // An invalid enforce level does not make warn follow it.
        assert_eq!(p.warn, Policy::DEFAULT);
        assert_eq!(
            p.errors,
            [
                r#"metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "foo": must be one of privileged, baseline, restricted"#
            ]
        );

        let p = ns(&[
            ("enforce", "baseline"),
            ("enforce-version", "1.25"),
            ("audit", "Baseline"),
            ("audit-version", "v1.21"),
            ("warn", "nope"),
            ("warn-version", "v1.025"),
        ]);
        assert_eq!(p.enforce, pol(Baseline, Version::Latest));
        assert_eq!(p.audit, pol(Privileged, Version::Minor(21)));
        assert_eq!(p.warn, pol(Privileged, Version::Latest));
        assert_eq!(
            p.errors,
            [
                r#"metadata.labels[pod-security.kubernetes.io/enforce-version]: Invalid value: "1.25": must be "latest" or "v1.x""#,
                r#"metadata.labels[pod-security.kubernetes.io/audit]: Invalid value: "Baseline": must be one of privileged, baseline, restricted"#,
                r#"metadata.labels[pod-security.kubernetes.io/warn]: Invalid value: "nope": must be one of privileged, baseline, restricted"#,
                r#"metadata.labels[pod-security.kubernetes.io/warn-version]: Invalid value: "v1.025": must be "latest" or "v1.x""#,
            ]
        );
    }

    #[test]
    fn go_quote_escapes() {
        assert_eq!(go_quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(go_quote("x\ny\u{1}\u{a0}é"), r#""x\ny\x01\u00a0é""#);
    }
}
