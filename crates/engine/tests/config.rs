//! `.kubeharden.yaml`, suppressions and baselines at the engine level.

use kubeharden_engine::baseline::{self, Baseline};
use kubeharden_engine::config::{self, Config};
use kubeharden_engine::finding::Severity;
use kubeharden_engine::finish::{self, Finish};
use kubeharden_engine::load::Input;
use kubeharden_engine::rules;
use kubeharden_engine::scan::scan_all;
use kubeharden_engine::suppress::{self, Source};
use std::path::Path;

fn parse(text: &str) -> Result<Config, config::ConfigError> {
    Config::parse(".kubeharden.yaml", text, Path::new("."))
}

fn scan_text(text: &str) -> kubeharden_engine::report::Report {
    scan_all(&[Input::Bytes {
        name: "x.yaml".into(),
        bytes: text.as_bytes().into(),
    }])
}

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec:\n  containers:\n  - {name: a, image: i, securityContext: {privileged: true}}\n  - {name: b, image: i, securityContext: {privileged: true}}\n";

#[test]
fn empty_and_default_configs_are_valid() {
    for text in ["", "# only comments\n", "---\n", config::DEFAULT_CONFIG] {
        let c = parse(text).unwrap();
        assert!(c.foreign_suppressions);
        assert!(c.exemptions.is_empty());
        assert_eq!(c.select(&[], &[]).len(), rules::all().len());
    }
}

#[test]
fn errors_name_the_position() {
    let e = parse("version: 1\nrules: []\n").unwrap_err();
    assert_eq!(e.pos.map(|p| (p.line, p.col)), Some((2, 1)));
    assert!(
        e.to_string()
            .starts_with(".kubeharden.yaml:2:1: unknown key `rules`")
    );
    let e = parse("enable: [container-privileged]\nenable: []\n").unwrap_err();
    assert!(e.message.contains("duplicate key"), "{e}");
    let e = parse("exemptions:\n- rule: nope\n  name: x\n  reason: y\n").unwrap_err();
    assert_eq!(e.pos.map(|p| p.line), Some(2));
    assert!(e.message.contains("no rule `nope`"));
    let e = parse("foreignSuppressions: maybe\n").unwrap_err();
    assert!(e.message.contains("true or false"));
    let e = parse("a: [\n").unwrap_err();
    assert_eq!(e.origin, ".kubeharden.yaml");
    let e = parse("version: 1\n---\nversion: 1\n").unwrap_err();
    assert!(e.message.contains("one YAML document"));
    // The config's rule ids cannot be the meta rule.
    assert!(parse("disable: [exemption-expired]\n").is_err());
}

/// The report finished with the config `c` on `today`.
fn finished(
    report: kubeharden_engine::report::Report,
    c: &config::Config,
    today: &str,
) -> kubeharden_engine::report::Report {
    let how = Finish {
        config: Some(c),
        today: today.into(),
        ..Finish::default()
    };
    finish::finish(report, &how).0
}

#[test]
fn selection_overrides_and_exemptions() {
    let c = parse(
        "enable: [container-privileged, pod-host-namespaces]\ndisable: [pod-host-namespaces]\nseverity: {container-privileged: medium}\nexemptions:\n- {rule: container-privileged, name: p, container: b, reason: r, expires: 2999-01-01}\n",
    )
    .unwrap();
    let ids: Vec<&str> = c.select(&[], &[]).iter().map(|r| r.id).collect();
    assert_eq!(ids, ["container-privileged"]);
    // --rules wins over enable; disable still applies.
    let only = vec![
        "pod-host-namespaces".to_owned(),
        "container-runs-as-root".to_owned(),
    ];
    let ids: Vec<&str> = c.select(&only, &[]).iter().map(|r| r.id).collect();
    assert_eq!(ids, ["container-runs-as-root"]);

    let report = finished(scan_text(POD), &c, "2026-01-01");
    let active: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule == "container-privileged")
        .collect();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].subject.container.as_deref(), Some("a"));
    assert_eq!(active[0].severity, Severity::Medium);
    let exempted = &report.suppressed_findings[0];
    assert_eq!(exempted.subject.container.as_deref(), Some("b"));
    let by = exempted.suppressed_by.as_ref().unwrap();
    assert_eq!(by.source, Source::Config);
    assert_eq!(by.key, ".kubeharden.yaml:5");
    assert_eq!(report.suppressed, report.suppressed_findings.len());
    // The scorecard follows the findings that remain.
    let s9 = report
        .scorecard
        .iter()
        .find(|s| s.section == rules::Section::Rule(9))
        .unwrap();
    assert_eq!(
        s9.findings,
        report
            .findings
            .iter()
            .filter(|f| f.section == s9.section)
            .count()
    );

    // After the expiry date the exemption stops and is reported.
    let report = finished(scan_text(POD), &c, "2999-01-02");
    assert_eq!(
        report
            .findings
            .iter()
            .filter(|f| f.rule == "container-privileged")
            .count(),
        2
    );
    let expired: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule == config::EXEMPTION_EXPIRED.id)
        .collect();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].location.line, 5);
    assert_eq!(expired[0].section, rules::Section::Rule(9));
    assert!(!expired[0].snippet.is_empty());
    // On the expiry day itself it still holds.
    let report = finished(scan_text(POD), &c, "2999-01-01");
    assert_eq!(report.suppressed_findings.len(), 1);
}

#[test]
fn dates() {
    assert_eq!(suppress::date_from_days(0), "1970-01-01");
    assert_eq!(suppress::date_from_days(19_782), "2024-02-29");
    assert_eq!(suppress::date_from_days(-1), "1969-12-31");
    assert_eq!(
        suppress::parse_date("2024-02-29").as_deref(),
        Some("2024-02-29")
    );
    assert_eq!(suppress::parse_date("2023-02-29"), None);
    assert_eq!(suppress::parse_date("2024-13-01"), None);
    assert_eq!(
        suppress::parse_date("2026-12-31T23:59:59Z").as_deref(),
        Some("2026-12-31")
    );
    assert_eq!(suppress::parse_date("2026-12-3"), None);
    assert_eq!(suppress::today_utc().len(), 10);
}

#[test]
fn foreign_keys_are_one_to_one_and_name_real_rules() {
    for source in Source::FOREIGN {
        let keys = suppress::foreign_keys(source);
        assert!(!keys.is_empty(), "{source:?} maps no check");
        for (i, (foreign, rule)) in keys.iter().enumerate() {
            assert!(rules::find(rule).is_some(), "{source:?} {foreign} → {rule}");
            assert!(
                keys.iter()
                    .skip(i + 1)
                    .all(|(f, r)| f != foreign && r != rule),
                "{source:?}: {foreign} → {rule} is not one to one"
            );
        }
    }
    // kube-score's checks are declared in the rules' references, exactly these.
    assert_eq!(
        suppress::foreign_keys(Source::KubeScore),
        [
            ("container-seccomp-profile", "container-seccomp-unconfined"),
            (
                "container-security-context-privileged",
                "container-privileged"
            ),
            (
                "container-security-context-readonlyrootfilesystem",
                "container-root-filesystem-writable"
            ),
        ]
    );
    // A kube-linter check that covers several of our rules, or a rule that covers several of its
    // checks, is not mapped.
    let kl = suppress::foreign_keys(Source::KubeLinter);
    assert!(!kl.iter().any(|(f, _)| *f == "host-network"));
}

#[test]
fn foreign_suppressions_can_be_turned_off() {
    let pod = POD.replace(
        "metadata: {name: p, namespace: n}",
        "metadata: {name: p, namespace: n, annotations: {checkov.io/skip3: \"CKV_K8S_16=ok\"}}",
    );
    let report = scan_text(&pod);
    let s: Vec<_> = report
        .suppressed_findings
        .iter()
        .filter(|f| f.rule == "container-privileged")
        .collect();
    assert_eq!(s.len(), 2);
    assert_eq!(
        s[0].suppressed_by.as_ref().unwrap().reason.as_deref(),
        Some("ok")
    );
    let how = Finish {
        foreign_suppressions: false,
        ..Finish::default()
    };
    let (report, _) = finish::finish(report, &how);
    assert_eq!(
        report
            .findings
            .iter()
            .filter(|f| f.rule == "container-privileged" && f.suppressed_by.is_none())
            .count(),
        2
    );
    assert_eq!(report.suppressed, report.suppressed_findings.len());
}

#[test]
fn baseline_classifies_by_fingerprint_as_a_multiset() {
    let old = scan_text(POD);
    let base = Baseline::from_report("old", &old);
    // Moved down and containers swapped: unchanged.
    let moved = "\n\n# moved\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: n}\nspec:\n  containers:\n  - {name: b, image: i, securityContext: {privileged: true}}\n  - {name: a, image: i, securityContext: {privileged: true}}\n";
    let how = Finish {
        baseline: Some(&base),
        ..Finish::default()
    };
    let (report, _) = finish::finish(scan_text(moved), &how);
    let summary = report.baseline.as_ref().unwrap();
    assert_eq!(summary.new, 0);
    assert!(summary.fixed.is_empty());
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.baseline == Some(baseline::Status::Unchanged))
    );
    // JSON round trip, and diff.
    let json = serde_json::to_string(&old).unwrap();
    let reread = Baseline::from_json("old.json", &json).unwrap();
    assert_eq!(reread.findings.len(), old.findings.len());
    let fixed = scan_text(&POD.replace(
        "  - {name: b, image: i, securityContext: {privileged: true}}\n",
        "",
    ));
    let d = baseline::diff(&reread, &Baseline::from_report("new", &fixed));
    assert!(d.new.is_empty());
    assert_eq!(d.fixed.len(), old.findings.len() - fixed.findings.len());
    assert!(
        d.fixed
            .iter()
            .any(|f| f.subject.container.as_deref() == Some("b"))
    );
    // Not a kubeharden report.
    assert!(Baseline::from_json("x", "{}").is_err());
    assert!(
        Baseline::from_json(
            "x",
            r#"{"schema_version": 1, "tool": "trivy", "findings": []}"#
        )
        .unwrap_err()
        .contains("trivy")
    );
}

/// `finish` (run after findings move) re-derives the scorecard exactly as the scan does.
#[test]
fn finish_agrees_with_the_scan_scorecard() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let inputs: Vec<Input> = ["insecure-app/app.yaml", "hardened-app/app.yaml"]
        .iter()
        .map(|p| Input::File(root.join(p)))
        .collect();
    let report = scan_all(&inputs);
    let (again, _) = finish::finish(report.clone(), &Finish::default());
    let status = |r: &kubeharden_engine::report::Report| {
        r.scorecard
            .iter()
            .map(|s| (s.section, s.status, s.findings))
            .collect::<Vec<_>>()
    };
    assert_eq!(status(&report), status(&again));
    assert_eq!(report.findings.len(), again.findings.len());
}

/// At admission (`object_annotations: false`) no annotation on the object exempts it, ours or the
/// peers'; the config's exemptions, which the requester cannot write, still do.
#[test]
fn object_annotations_can_be_ignored_but_config_exemptions_hold() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: shop\n  annotations:\n    kubeharden.io/ignore: container-privileged\n    ignore-check.kube-linter.io/privileged-container: \"mine\"\nspec:\n  containers:\n  - {name: a, image: i, securityContext: {privileged: true}}\n";
    let privileged = |r: &kubeharden_engine::report::Report| {
        r.findings
            .iter()
            .filter(|f| f.rule == "container-privileged")
            .count()
    };
    let (honoured, _) = finish::finish(scan_text(pod), &Finish::default());
    assert_eq!(privileged(&honoured), 0);
    let admission = Finish {
        object_annotations: false,
        ..Finish::default()
    };
    let (ignored, _) = finish::finish(scan_text(pod), &admission);
    assert_eq!(privileged(&ignored), 1);
    let c =
        parse("exemptions:\n- {rule: container-privileged, namespace: shop, name: p, reason: r}\n")
            .unwrap();
    let with_config = Finish {
        config: Some(&c),
        ..admission
    };
    let (exempted, _) = finish::finish(scan_text(pod), &with_config);
    assert_eq!(privileged(&exempted), 0);
    let by = exempted.suppressed_findings[0]
        .suppressed_by
        .as_ref()
        .unwrap();
    assert_eq!(by.source, Source::Config);
}
