//! Audit-log analysis over a fixture written from the documented `audit.k8s.io/v1` Event schema
//! (stages, user info, impersonation, objectRef, responseStatus, authorization annotations).

use kubeharden_engine::analysis::audit_log::{self, Analysis, Category};
use kubeharden_engine::load::load_file;
use kubeharden_engine::rules::AuditLogInput;
use kubeharden_engine::rules::{self, Check};
use kubeharden_engine::scan::scan_audit_log;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/audit")
        .join(name)
}

#[test]
fn categories_users_and_counts() {
    let mut a = Analysis::default();
    a.read_file(&fixture("audit.log"));
    assert!(a.errors.is_empty(), "{:?}", a.errors);
    assert_eq!((a.events, a.skipped_stage), (13, 1));
    let get = |c: Category, u: &str, ns: &str| {
        a.groups
            .get(&(c, u.to_owned(), ns.to_owned()))
            .map(|g| (g.count, g.allowed, g.denied))
    };
    assert_eq!(
        get(Category::SecretRead, "alice@example.com", "shop"),
        Some((2, 2, 0))
    );
    assert_eq!(
        get(Category::SecretRead, "frank@example.com", "shop"),
        Some((1, 0, 1))
    );
    assert_eq!(
        get(Category::HumanClusterAdmin, "alice@example.com", "shop"),
        Some((2, 2, 0))
    );
    assert_eq!(
        get(Category::AnonymousAllowed, "system:anonymous", "default"),
        Some((1, 1, 0))
    );
    // /healthz is public by default: not an anonymous-access finding.
    assert_eq!(
        a.groups
            .keys()
            .filter(|k| k.0 == Category::AnonymousAllowed)
            .count(),
        1
    );
    assert_eq!(get(Category::SystemMasters, "bob", "shop"), Some((1, 1, 0)));
    assert_eq!(get(Category::PodExec, "bob", "shop"), Some((1, 1, 0)));
    assert_eq!(
        get(Category::Impersonation, "carol@example.com", "kube-system"),
        Some((1, 1, 0))
    );
    assert_eq!(
        get(
            Category::RbacChange,
            "system:serviceaccount:shop:ci-deployer",
            "shop"
        ),
        Some((1, 1, 0))
    );
    assert_eq!(
        get(Category::WebhookChange, "dave@example.com", ""),
        Some((1, 1, 0))
    );
    assert_eq!(
        get(Category::TokenRequest, "eve@example.com", "shop"),
        Some((1, 1, 0))
    );
    let g = &a.groups[&(
        Category::SecretRead,
        "alice@example.com".to_owned(),
        "shop".to_owned(),
    )];
    assert_eq!(
        (g.first.as_str(), g.last.as_str(), g.line),
        (
            "2026-11-01T10:00:00.000000Z",
            "2026-11-02T09:00:00.000000Z",
            2
        )
    );
}

#[test]
fn every_audit_log_rule_fires_on_the_fixture() {
    let mut a = Analysis::default();
    a.read_file(&fixture("audit.log"));
    let input = AuditLogInput {
        log: &a,
        subject: None,
        rbac: &[],
    };
    let report = scan_audit_log(&input, rules::all());
    let findings = &report.findings;
    // Service accounts doing RBAC changes are controllers' business: no sensitive-activity finding.
    assert!(
        !findings
            .iter()
            .any(|f| f.subject.name.starts_with("system:serviceaccount:")),
        "{findings:#?}"
    );
    let mut observed = a.tracked.clone();
    let mut tracked = Analysis::tracking("system:serviceaccount:shop:ci-deployer");
    tracked.read_file(&fixture("audit.log"));
    observed.extend(tracked.tracked.iter().cloned());
    // Packed, as a scan keeps them.
    let objects: Vec<_> = load_file(&fixture("rbac.yaml"))
        .objects
        .into_iter()
        .map(kubeharden_engine::inventory::Retained::packed)
        .collect();
    let who = audit_log::principal("system:serviceaccount:shop:ci-deployer", &[]);
    let unused = audit_log::unused_grants(&objects, &who, &tracked.tracked);
    assert_eq!(unused.len(), 1, "{unused:?}");
    assert!(unused[0].0.rule.contains("secrets"), "{:?}", unused[0].0);
    // `rbac suggest`: the tracked subject with its RBAC objects.
    let suggest = scan_audit_log(
        &AuditLogInput {
            log: &tracked,
            subject: Some(("system:serviceaccount:shop:ci-deployer".into(), who)),
            rbac: &objects,
        },
        rules::all(),
    );
    let unused_findings: Vec<_> = suggest
        .findings
        .iter()
        .filter(|f| f.rule == "rbac-permission-unused")
        .collect();
    assert_eq!(unused_findings.len(), 1, "{unused_findings:#?}");
    assert_eq!(&*unused_findings[0].location.pointer, "/roleRef");
    let fired: std::collections::BTreeSet<&str> = findings
        .iter()
        .chain(&suggest.findings)
        .map(|f| f.rule)
        .collect();
    for r in rules::all()
        .iter()
        .filter(|r| matches!(r.check, Check::AuditLog(_)))
    {
        assert!(
            fired.contains(r.id),
            "{} never fires on the fixture log",
            r.id
        );
    }
    let seed4 = report
        .scorecard
        .iter()
        .find(|s| s.section == rules::Section::Rule(4))
        .unwrap();
    assert!(
        seed4.assessed.contains(&"audit-log-sensitive-activity"),
        "{seed4:?}"
    );
}

#[test]
fn suggested_roles_cover_exactly_what_was_done() {
    let mut a = Analysis::tracking("system:serviceaccount:shop:ci-deployer");
    a.read_file(&fixture("audit.log"));
    let rules = audit_log::minimal_rules(&a.tracked);
    let shop = &rules["shop"];
    let deployments = shop
        .iter()
        .find(|r| r.resources == ["deployments"])
        .unwrap();
    assert_eq!(deployments.verbs, ["get", "list", "patch"]);
    assert_eq!(deployments.api_groups, ["apps"]);
    assert!(
        shop.iter()
            .any(|r| r.resources == ["rolebindings"] && r.verbs == ["create"])
    );
    assert!(!rules.contains_key(""), "no cluster-wide request was made");
    let yaml = audit_log::suggested_manifests("system:serviceaccount:shop:ci-deployer", &rules);
    assert!(yaml.contains("name: ci-deployer-observed"), "{yaml}");
}

#[test]
fn bad_lines_are_diagnosed_with_their_line_and_reading_goes_on() {
    let text = format!(
        "{}\nnot json at all\n{{\"stage\":\"ResponseComplete\",\"verb\":\n",
        std::fs::read_to_string(fixture("audit.log"))
            .unwrap()
            .lines()
            .nth(1)
            .unwrap()
    );
    let mut a = Analysis::default();
    a.read("mixed.log", text.as_bytes());
    assert_eq!(a.events, 1);
    assert_eq!(
        a.errors.iter().map(|e| e.line).collect::<Vec<_>>(),
        [Some(2), Some(3)]
    );
}
