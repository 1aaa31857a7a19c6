//! The findings of one input, packed while the rest of the scan runs.
//!
//! A scan holds every finding of phase 1 until the cross-object rules have run: 200,000 findings at
//! 100,000 objects, about 470 bytes each as [`Finding`]s (the struct, its message, its share of
//! subjects, pointers and snippets). Packed, a finding is a record of varints and inline text,
//! each string written once per input and referred to after, and the records deflated: about 50
//! bytes each (phase 1 ended 86 MB lower at 206,876 findings). [`Packed::unpack_into`] gives back findings equal to the ones packed, field by
//! field, with the strings shared as [`super::share`] shares them.
//!
//! Findings that carry a suppression or a baseline status are rare and kept whole.

use super::{Expected, Finding, Fingerprint, Location, Severity, Snippet, Subject};
use crate::meta::Section;
use flate2::read::DeflateDecoder;
use flate2::{Compress, Compression, FlushCompress, Status};
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How many bytes of records are deflated at a time.
const CHUNK: usize = 32 << 10;
/// Records this short are kept as they are: deflating a few findings saves little.
const RAW_MAX: usize = 1 << 10;

thread_local! {
    /// One compressor per thread, reset for each input: setting one up zeroes about 200 KB,
    /// which cost about 6% more CPU on a scan of 1,440 small files when each input had its own.
    static DEFLATE: RefCell<Option<Compress>> = const { RefCell::new(None) };
}

/// The records of one input being deflated; records of at most [`RAW_MAX`] bytes are kept as
/// they are.
struct Deflate<'c> {
    compress: &'c mut Option<Compress>,
    raw: &'c RawAllowance,
    out: Vec<u8>,
    started: bool,
}

/// How many bytes of records the inputs of one scan may keep as they are, together: deflating
/// saves memory only where findings are many, and on a small scan it was most of the cost of
/// packing (8% of the instructions of a scan of 1,440 files with 21,000 findings). Records of
/// [`RAW_MAX`] bytes or fewer are always kept as they are; an input with more than [`CHUNK`]
/// bytes of records is always deflated.
#[derive(Debug)]
pub struct RawAllowance(AtomicUsize);

impl RawAllowance {
    pub const fn new(bytes: usize) -> RawAllowance {
        RawAllowance(AtomicUsize::new(bytes))
    }

    /// The bytes not taken yet.
    pub fn left(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }

    /// Takes `n` bytes of the allowance, if that many are left.
    fn take(&self, n: usize) -> bool {
        self.0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(n)
            })
            .is_ok()
    }
}

impl<'c> Deflate<'c> {
    fn start(compress: &'c mut Option<Compress>, raw: &'c RawAllowance) -> Deflate<'c> {
        Deflate {
            compress,
            raw,
            out: Vec::new(),
            started: false,
        }
    }

    /// Deflates `input`; with [`FlushCompress::Finish`], the records and whether they are
    /// deflated. `None` if the compressor failed.
    fn write(&mut self, input: &[u8], flush: FlushCompress) -> Option<(Vec<u8>, bool)> {
        if !self.started
            && flush == FlushCompress::Finish
            && (input.len() <= RAW_MAX || self.raw.take(input.len()))
        {
            return Some((input.to_vec(), false));
        }
        let c = self
            .compress
            .get_or_insert_with(|| Compress::new(Compression::fast(), false));
        if !self.started {
            c.reset();
            self.started = true;
        }
        let mut input = input;
        loop {
            if self.out.capacity() - self.out.len() < 1024 {
                self.out.reserve(self.out.capacity().max(4096));
            }
            let before = c.total_in();
            let status = c.compress_vec(input, &mut self.out, flush);
            let read = usize::try_from(c.total_in() - before).unwrap_or(input.len());
            input = &input[read.min(input.len())..];
            match status.ok()? {
                Status::StreamEnd => break,
                _ if flush != FlushCompress::Finish && input.is_empty() => break,
                _ => {}
            }
        }
        Some(if flush == FlushCompress::Finish {
            (std::mem::take(&mut self.out), true)
        } else {
            (Vec::new(), true)
        })
    }
}

/// Findings packed in order (see the module documentation).
#[derive(Debug, Default)]
pub struct Packed {
    /// The records, deflated when they were more than [`CHUNK`] bytes.
    records: Box<[u8]>,
    deflated: bool,
    /// The `&'static str`s the records refer to (rule ids, remedies), by index.
    statics: Box<[&'static str]>,
    /// The expectations the records refer to, by index.
    expected: Box<[&'static Expected]>,
    /// Findings kept whole, with their place among all.
    whole: Vec<(usize, Finding)>,
    len: usize,
}

impl Packed {
    /// Packs `findings`, keeping their order.
    pub fn new(findings: Vec<Finding>) -> Packed {
        Packed::within(findings, &RawAllowance::new(0))
    }

    /// [`Packed::new`], keeping the records as they are when `raw` allows it.
    pub fn within(findings: Vec<Finding>, raw: &RawAllowance) -> Packed {
        let len = findings.len();
        let whole_kept = |f: &Finding| f.suppressed_by.is_some() || f.baseline.is_some();
        let mut w = Writer::default();
        // Deflated as they are written, CHUNK bytes at a time: the records of an input can be tens
        // of megabytes before compression.
        let packed = DEFLATE.with(|d| {
            let mut d = d.borrow_mut();
            let mut d = Deflate::start(&mut d, raw);
            for f in findings.iter().filter(|f| !whole_kept(f)) {
                w.finding(f);
                if w.out.len() >= CHUNK {
                    d.write(&w.out, FlushCompress::None)?;
                    w.out.clear();
                }
            }
            d.write(&w.out, FlushCompress::Finish)
        });
        let Some((records, deflated)) = packed else {
            // Deflating into memory fails only on a bug of the compressor: the findings are then
            // kept whole rather than lost.
            return Packed {
                whole: findings.into_iter().enumerate().collect(),
                len,
                ..Packed::default()
            };
        };
        let records = records.into_boxed_slice();
        let (statics, expected) = (w.statics.into_boxed_slice(), w.expected.into_boxed_slice());
        let whole = findings
            .into_iter()
            .enumerate()
            .filter(|(_, f)| whole_kept(f))
            .collect();
        Packed {
            records,
            deflated,
            statics,
            expected,
            whole,
            len,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The findings, in the order they were packed, appended to `out`.
    pub fn unpack_into(self, out: &mut Vec<Finding>) {
        let mut inflated = Vec::new();
        let bytes = if self.deflated {
            // Inflating what `new` deflated in memory does not fail.
            let _ = DeflateDecoder::new(&self.records[..]).read_to_end(&mut inflated);
            &inflated[..]
        } else {
            &self.records[..]
        };
        let mut r = Reader {
            bytes,
            at: 0,
            strings: Vec::new(),
            subjects: Vec::new(),
            statics: &self.statics,
            expected: &self.expected,
        };
        let mut whole = self.whole.into_iter().peekable();
        out.reserve(self.len);
        for i in 0..self.len {
            match whole.next_if(|(at, _)| *at == i) {
                Some((_, f)) => out.push(f),
                None => match r.finding() {
                    Some(f) => out.push(f),
                    None => break,
                },
            }
        }
        debug_assert_eq!(r.at, bytes.len(), "every packed record is read");
    }
}

/// One copy of each message, pointer and snippet text among many findings, for findings unpacked
/// from many inputs. A [`Packed`] input shares its strings only within itself, and most recur
/// across inputs: `container "nginx" does not drop any capabilities` names no object (the subject
/// does), and every pod of a ReplicaSet, every copy of a chart, every injected sidecar repeats
/// it, its pointer and the lines around it. At 102,492 objects (209,333 findings) there are
/// 32,270 distinct messages against 206,174 per input, and 5,461 snippet texts against 100,277.
///
/// [`Interner::hashes`] takes `&self` and runs on any thread; [`Interner::share`] then looks the
/// texts up.
#[derive(Default)]
pub struct Interner {
    hasher: hashbrown::DefaultHashBuilder,
    strings: hashbrown::HashTable<Arc<str>>,
}

/// The hashes of a finding's texts, made by [`Interner::hashes`].
pub struct Hashes {
    message: u64,
    pointer: u64,
    snippet: u64,
}

impl Interner {
    /// The hashes [`Interner::share`] needs for `f`.
    pub fn hashes(&self, f: &Finding) -> Hashes {
        use std::hash::BuildHasher;
        Hashes {
            message: self.hasher.hash_one(&*f.message),
            pointer: self.hasher.hash_one(&*f.location.pointer),
            snippet: self.hasher.hash_one(&*f.snippet.text),
        }
    }

    /// `f` with its message, pointer and snippet text replaced by the equal copies already held,
    /// if any; `h` must be `self.hashes(&f)`.
    pub fn share(&mut self, h: Hashes, mut f: Finding) -> Finding {
        self.intern(h.message, &mut f.message);
        self.intern(h.pointer, &mut f.location.pointer);
        self.intern(h.snippet, &mut f.snippet.text);
        f
    }

    fn intern(&mut self, hash: u64, s: &mut Arc<str>) {
        use hashbrown::hash_table::Entry;
        let hasher = &self.hasher;
        let rehash = |held: &Arc<str>| std::hash::BuildHasher::hash_one(hasher, &**held);
        match self.strings.entry(hash, |held| **held == **s, rehash) {
            Entry::Occupied(held) => *s = Arc::clone(held.get()),
            Entry::Vacant(slot) => {
                slot.insert(Arc::clone(s));
            }
        }
    }
}

/// String references: 0 none, 1 a new string follows (its length and bytes), n ≥ 2 the
/// (n-2)th string written before.
#[derive(Default)]
struct Writer<'a> {
    out: Vec<u8>,
    strings: HashMap<&'a str, u64>,
    subjects: HashMap<&'a Subject, u64>,
    statics: Vec<&'static str>,
    static_index: HashMap<(usize, usize), u64>,
    expected: Vec<&'static Expected>,
}

impl<'a> Writer<'a> {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.out.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.out.push(v as u8);
    }

    fn text(&mut self, s: &str) {
        self.varint(s.len() as u64);
        self.out.extend_from_slice(s.as_bytes());
    }

    fn string(&mut self, s: &'a str) {
        match self.strings.get(s) {
            Some(&i) => self.varint(i + 2),
            None => {
                let i = self.strings.len() as u64;
                self.strings.insert(s, i);
                self.varint(1);
                self.text(s);
            }
        }
    }

    fn optional(&mut self, s: Option<&'a str>) {
        match s {
            Some(s) => self.string(s),
            None => self.varint(0),
        }
    }

    fn static_str(&mut self, s: &'static str) {
        let key = (s.as_ptr() as usize, s.len());
        let next = self.statics.len() as u64;
        let i = *self.static_index.entry(key).or_insert(next);
        if i == next {
            self.statics.push(s);
        }
        self.varint(i);
    }

    fn subject(&mut self, s: &'a Arc<Subject>) {
        match self.subjects.get(&**s) {
            Some(&i) => self.varint(i + 1),
            None => {
                let i = self.subjects.len() as u64;
                self.subjects.insert(&**s, i);
                self.varint(0);
                self.string(&s.kind);
                self.string(&s.api_version);
                self.string(&s.name);
                self.optional(s.namespace.as_deref());
                self.optional(s.container.as_deref());
            }
        }
    }

    fn finding(&mut self, f: &'a Finding) {
        self.static_str(f.rule);
        self.varint(match f.section {
            Section::Rule(n) => u64::from(n),
            Section::Runtime => 256,
            Section::Custom => 257,
        });
        self.varint(f.severity as u64);
        self.subject(&f.subject);
        let Location {
            origin,
            line,
            column,
            pointer,
            helm_source,
        } = &f.location;
        self.string(origin);
        self.varint(u64::from(*line));
        self.varint(u64::from(*column));
        self.string(pointer);
        self.optional(helm_source.as_deref());
        self.text(&f.message);
        self.static_str(f.remedy);
        self.varint(u64::from(f.snippet.first));
        self.varint(u64::from(f.snippet.len));
        self.string(&f.snippet.text);
        self.out.extend_from_slice(f.fingerprint.0.as_slice());
        match f.expected {
            Some(e) => {
                let i = match self.expected.iter().position(|x| std::ptr::eq(*x, e)) {
                    Some(i) => i,
                    None => {
                        self.expected.push(e);
                        self.expected.len() - 1
                    }
                };
                self.varint(i as u64 + 1);
            }
            None => self.varint(0),
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    strings: Vec<Arc<str>>,
    subjects: Vec<Arc<Subject>>,
    statics: &'a [&'static str],
    expected: &'a [&'static Expected],
}

impl Reader<'_> {
    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.bytes.get(self.at)?;
            self.at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }

    fn u32(&mut self) -> Option<u32> {
        u32::try_from(self.varint()?).ok()
    }

    fn text(&mut self) -> Option<&str> {
        let len = usize::try_from(self.varint()?).ok()?;
        let end = self.at.checked_add(len)?;
        let s = std::str::from_utf8(self.bytes.get(self.at..end)?).ok()?;
        self.at = end;
        Some(s)
    }

    fn optional(&mut self) -> Option<Option<Arc<str>>> {
        match self.varint()? {
            0 => Some(None),
            1 => {
                let s: Arc<str> = Arc::from(self.text()?);
                self.strings.push(Arc::clone(&s));
                Some(Some(s))
            }
            n => Some(Some(Arc::clone(
                self.strings.get(usize::try_from(n - 2).ok()?)?,
            ))),
        }
    }

    fn string(&mut self) -> Option<Arc<str>> {
        self.optional()?
    }

    fn static_str(&mut self) -> Option<&'static str> {
        let i = usize::try_from(self.varint()?).ok()?;
        self.statics.get(i).copied()
    }

    fn subject(&mut self) -> Option<Arc<Subject>> {
        match self.varint()? {
            0 => {
                let s = Arc::new(Subject {
                    kind: self.string()?.to_string(),
                    api_version: self.string()?.to_string(),
                    name: self.string()?.to_string(),
                    namespace: self.optional()?.map(|s| s.to_string()),
                    container: self.optional()?.map(|s| s.to_string()),
                });
                self.subjects.push(Arc::clone(&s));
                Some(s)
            }
            n => Some(Arc::clone(self.subjects.get(usize::try_from(n - 1).ok()?)?)),
        }
    }

    fn finding(&mut self) -> Option<Finding> {
        let rule = self.static_str()?;
        let section = match self.varint()? {
            256 => Section::Runtime,
            257 => Section::Custom,
            n => Section::Rule(u8::try_from(n).ok()?),
        };
        let severity = match self.varint()? {
            0 => Severity::Info,
            1 => Severity::Low,
            2 => Severity::Medium,
            3 => Severity::High,
            4 => Severity::Critical,
            _ => return None,
        };
        let subject = self.subject()?;
        let origin = self.string()?;
        let line = self.u32()?;
        let column = self.u32()?;
        let pointer = self.string()?;
        let helm_source = self.optional()?;
        let message: Arc<str> = self.text()?.into();
        let remedy = self.static_str()?;
        let first = self.u32()?;
        let len = self.u32()?;
        let text = self.string()?;
        let digits: [u8; 16] = self.bytes.get(self.at..self.at + 16)?.try_into().ok()?;
        self.at += 16;
        let expected = match self.varint()? {
            0 => None,
            n => Some(*self.expected.get(usize::try_from(n - 1).ok()?)?),
        };
        Some(Finding {
            rule,
            section,
            severity,
            subject,
            location: Location {
                origin,
                line,
                column,
                pointer,
                helm_source,
            },
            message,
            remedy,
            snippet: Snippet { first, text, len },
            fingerprint: Fingerprint(digits),
            suppressed_by: None,
            baseline: None,
            expected,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{BaselineStatus, Suppression, SuppressionSource, fingerprint};

    static EXPECTED: Expected = Expected {
        component: "kube-proxy",
        reason: "it programs the node's network",
    };

    fn finding(rule: &'static str, name: &str, line: u32, message: &str) -> Finding {
        Finding {
            rule,
            section: Section::Rule(9),
            severity: Severity::High,
            subject: Arc::new(Subject {
                kind: "Deployment".into(),
                api_version: "apps/v1".into(),
                name: name.into(),
                namespace: Some("prod".into()),
                container: Some("app".into()),
            }),
            location: Location {
                origin: "deploy.yaml".into(),
                line,
                column: 7,
                pointer: "/spec/template/spec/hostNetwork".into(),
                helm_source: None,
            },
            message: message.into(),
            remedy: "Remove hostNetwork.",
            snippet: Snippet::new(line - 1, ["    spec:", "      hostNetwork: true"]),
            fingerprint: fingerprint(&[rule, name]),
            suppressed_by: None,
            baseline: None,
            expected: None,
        }
    }

    fn json(findings: &[Finding]) -> String {
        serde_json::to_string_pretty(findings).unwrap()
    }

    /// Findings of two inputs, unpacked each on its own, share one copy of each equal text once
    /// they pass through one interner; unequal texts stay apart and every value is unchanged.
    #[test]
    fn the_interner_shares_equal_texts_across_inputs() {
        let a = vec![
            finding("host-network", "web", 4, "pod sets `hostNetwork: true`"),
            finding("host-network", "api", 9, "pod sets `hostNetwork: true`"),
        ];
        let mut b = vec![finding(
            "host-network",
            "db",
            4,
            "pod sets `hostNetwork: true`",
        )];
        b[0].location.origin = "other.yaml".into();
        let mut c = finding("host-network", "db", 4, "a different message");
        c.location.pointer = "/spec/hostNetwork".into();
        c.snippet = Snippet::new(3, ["  spec:", "    hostNetwork: true"]);
        b.push(c);
        let expected = json(&[a.clone(), b.clone()].concat());
        let mut unpacked = Vec::new();
        for input in [a, b] {
            Packed::new(input).unpack_into(&mut unpacked);
        }
        // Unpacked apart, nothing is shared between the inputs.
        assert!(!Arc::ptr_eq(&unpacked[0].message, &unpacked[2].message));
        let mut interner = Interner::default();
        let hashes: Vec<Hashes> = unpacked.iter().map(|f| interner.hashes(f)).collect();
        let shared: Vec<Finding> = hashes
            .into_iter()
            .zip(unpacked)
            .map(|(h, f)| interner.share(h, f))
            .collect();
        assert_eq!(json(&shared), expected);
        let [web, api, db, other] = &shared[..] else {
            panic!("four findings")
        };
        for f in [api, db] {
            assert!(Arc::ptr_eq(&web.message, &f.message));
            assert!(Arc::ptr_eq(&web.location.pointer, &f.location.pointer));
        }
        // Same lines (4), same text: one copy across the inputs; line 9 shows the same text.
        assert!(Arc::ptr_eq(&web.snippet.text, &db.snippet.text));
        assert!(Arc::ptr_eq(&web.snippet.text, &api.snippet.text));
        assert!(!Arc::ptr_eq(&web.message, &other.message));
        assert!(!Arc::ptr_eq(&web.location.pointer, &other.location.pointer));
        assert!(!Arc::ptr_eq(&web.snippet.text, &other.snippet.text));
        assert_eq!(&*other.message, "a different message");
        assert_eq!(&*other.location.pointer, "/spec/hostNetwork");
    }

    #[test]
    fn unpacked_findings_equal_the_packed_ones_field_by_field() {
        let mut fs = vec![
            finding(
                "pod-host-namespaces",
                "web",
                12,
                "Deployment \"web\" shares the node's network namespace",
            ),
            finding(
                "pod-host-namespaces",
                "web",
                12,
                "again, same strings: referred to",
            ),
            finding("pod-privileged", "api", 40, "é unicode ✓ and a \"quote\""),
        ];
        fs[1].subject = Arc::clone(&fs[0].subject);
        fs[2].section = Section::Runtime;
        fs[2].severity = Severity::Info;
        fs[2].location.helm_source = Some("chart/templates/api.yaml".into());
        fs[2].subject = Arc::new(Subject {
            kind: "ClusterRole".into(),
            api_version: "rbac.authorization.k8s.io/v1".into(),
            name: "api".into(),
            namespace: None,
            container: None,
        });
        fs[2].expected = Some(&EXPECTED);
        fs[2].snippet = Snippet::default();
        let mut suppressed = finding("pod-privileged", "db", 80, "kept whole");
        suppressed.suppressed_by = Some(Box::new(Suppression {
            rule: "pod-privileged".into(),
            container: None,
            source: SuppressionSource::Annotation,
            key: "kubeharden.io/ignore".into(),
            reason: Some("legacy".into()),
            expires: None,
        }));
        fs.insert(1, suppressed);
        let mut baseline = finding("pod-privileged", "cache", 90, "kept whole too");
        baseline.baseline = Some(BaselineStatus::New);
        fs.push(baseline);
        let before = json(&fs);
        let packed = Packed::new(fs.clone());
        assert_eq!(packed.len(), 5);
        assert!(!packed.deflated, "a few records are kept as they are");
        let mut out = vec![finding("x", "already there", 2, "kept")];
        packed.unpack_into(&mut out);
        assert_eq!(out.len(), 6);
        assert_eq!(json(&out[1..]), before);
        // The statics and the expectation are the very same.
        assert!(std::ptr::eq(out[3].rule, fs[2].rule));
        assert!(std::ptr::eq(out[4].expected.unwrap(), &EXPECTED));
        // Strings and subjects are shared again.
        assert!(Arc::ptr_eq(&out[1].subject, &out[3].subject));
        assert!(Arc::ptr_eq(
            &out[1].location.origin,
            &out[4].location.origin
        ));
        assert!(Arc::ptr_eq(&out[1].snippet.text, &out[3].snippet.text));
    }

    #[test]
    fn nothing_packs_to_nothing() {
        let packed = Packed::new(Vec::new());
        assert!(packed.is_empty());
        let mut out = Vec::new();
        packed.unpack_into(&mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn many_findings_pack_small() {
        let fs: Vec<Finding> = (0..2000)
            .map(|i| {
                finding(
                    "pod-host-namespaces",
                    &format!("web-{i}"),
                    10 + i,
                    &format!("Deployment \"web-{i}\" shares the node's network namespace"),
                )
            })
            .collect();
        let before = json(&fs);
        let packed = Packed::new(fs);
        assert!(packed.deflated);
        assert!(
            packed.records.len() < 2000 * 60,
            "{} bytes",
            packed.records.len()
        );
        let mut out = Vec::new();
        packed.unpack_into(&mut out);
        assert_eq!(json(&out), before);
        // The thread's compressor, reset, serves the next input.
        let again = Packed::new(out);
        assert!(again.deflated);
        let mut out = Vec::new();
        again.unpack_into(&mut out);
        assert_eq!(json(&out), before);
    }

    #[test]
    fn records_stay_raw_within_the_allowance() {
        let fs = |n: u32| -> Vec<Finding> {
            (0..n)
                .map(|i| finding("pod-host-namespaces", &format!("web-{i}"), 10 + i, "shared"))
                .collect()
        };
        let size = |n: u32| {
            Packed::within(fs(n), &RawAllowance::new(usize::MAX))
                .records
                .len()
        };
        let (small, middle) = (size(100), size(500));
        assert!(
            RAW_MAX < small && small < middle && middle < CHUNK,
            "{small} {middle}"
        );
        let raw = RawAllowance::new(small + middle - 1);
        // More than RAW_MAX bytes of records, within the allowance: kept as they are.
        let first = Packed::within(fs(100), &raw);
        assert!(!first.deflated);
        assert_eq!(raw.left(), middle - 1);
        // One byte more than what is left: deflated, nothing taken.
        let second = Packed::within(fs(500), &raw);
        assert!(second.deflated);
        assert_eq!(raw.left(), middle - 1);
        // Past CHUNK bytes of records, deflated whatever the allowance.
        let big = RawAllowance::new(usize::MAX);
        let third = Packed::within(fs(2000), &big);
        assert!(third.deflated);
        assert_eq!(big.left(), usize::MAX);
        for (p, n) in [(first, 100), (second, 500), (third, 2000)] {
            let mut out = Vec::new();
            p.unpack_into(&mut out);
            assert_eq!(json(&out), json(&fs(n)));
        }
    }
}
