//! The CIS Kubernetes Benchmark: every check of `cis-control-plane-check` fires once on
//! `tests/fixtures/cis/fire.yaml` (CIS 2.7 on `fire-etcd-ca.yaml`) and none on `pass.yaml`, at the
//! flag or field that decides; and `docs/cis.md`, the table of every CIS 1.12 check (benchmark
//! marking, kube-bench automation, our rule, the fixture that tests it), is generated from
//! `rules::control_plane::cis_benchmark` and the rules' CIS references, and kept in sync
//! (`KUBEHARDEN_BLESS=1 cargo test -p kubeharden-engine --test cis` rewrites it).

use kubeharden_engine::load::Input;
use kubeharden_engine::rules::control_plane::cis_benchmark::CIS_1_12;
use kubeharden_engine::rules::{self, Check};
use kubeharden_engine::scan::scan_all;
use std::fmt::Write as _;
use std::path::PathBuf;

const RULE: &str = "cis-control-plane-check";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cis")
        .join(name)
}

/// `line kind/name: message` of every finding of the CIS rule.
fn cis_findings(name: &str) -> Vec<String> {
    let report = scan_all(&[Input::File(fixture(name))]);
    assert!(!report.has_input_errors(), "{:?}", report.diagnostics);
    report
        .findings
        .iter()
        .filter(|f| f.rule == RULE)
        .map(|f| {
            format!(
                "{:>3} {}/{}: {}",
                f.location.line, f.subject.kind, f.subject.name, f.message
            )
        })
        .collect()
}

/// The CIS id a finding's message starts with (`CIS 1.2.3: `, `CIS 1.6 4.2.6: `).
fn id_of(line: &str) -> &str {
    let message = line.split_once(": ").map_or("", |x| x.1);
    message
        .strip_prefix("CIS ")
        .and_then(|m| m.split_once(": "))
        .map_or("", |x| x.0)
}

/// Checks of earlier benchmarks the rule keeps (CIS 1.12 dropped them).
const EARLIER: &[(&str, &str)] = &[
    (
        "1.6 1.2.2",
        "Ensure that the --basic-auth-file argument is not set",
    ),
    (
        "1.6 1.2.3",
        "Ensure that the --kubelet-https argument is set to true",
    ),
    (
        "1.6 1.2.19",
        "Ensure that the --secure-port argument is not set to 0",
    ),
    (
        "1.6 4.2.6",
        "Ensure that the --protect-kernel-defaults argument is set to true",
    ),
];

#[test]
fn every_check_fires_once_on_its_fixture_and_none_passes() {
    let fire = cis_findings("fire.yaml");
    let etcd_ca = cis_findings("fire-etcd-ca.yaml");
    assert_eq!(cis_findings("pass.yaml"), Vec::<String>::new());
    assert_eq!(
        etcd_ca,
        [
            " 75 Pod/etcd: CIS 2.7: etcd `--trusted-ca-file=/etc/kubernetes/pki/ca.crt` is the cluster CA (kube-apiserver `--client-ca-file`): use a CA of etcd's own"
        ]
    );
    let mut fired: Vec<&str> = fire.iter().chain(&etcd_ca).map(|l| id_of(l)).collect();
    fired.sort();
    let mut want: Vec<&str> = rules::find(RULE)
        .unwrap()
        .references
        .cis
        .iter()
        .copied()
        .chain(EARLIER.iter().map(|e| e.0))
        .collect();
    want.sort();
    assert_eq!(fired, want, "each check once:\n{}", fire.join("\n"));
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!("cis_fire", fire.join("\n"));
    });
}

/// CIS 4.3.1 on kube-proxy as it runs: kubeadm's `kube-proxy` ConfigMap (located inside its
/// `config.conf`), a DaemonSet recognised by its image with its flags in `args`; a
/// `--metrics-bind-address` next to `--config` is ignored (as kube-proxy ignores it), and a
/// localhost address passes.
#[test]
fn kube_proxy_metrics_address() {
    assert_eq!(
        cis_findings("fire-kube-proxy.yaml"),
        [
            " 18 ConfigMap/kube-proxy: CIS 4.3.1: kube-proxy `metricsBindAddress: 0.0.0.0:10249` is not bound to localhost",
            " 61 DaemonSet/kube-proxy-flags: CIS 4.3.1: kube-proxy `--metrics-bind-address=0.0.0.0:10249` is not bound to localhost",
        ]
    );
}

/// Where a rule's CIS checks are tested.
fn tested_by(rule: &rules::Rule, id: &str) -> String {
    match rule.id {
        RULE if id == "2.7" => "`tests/fixtures/cis/fire-etcd-ca.yaml`, `pass.yaml`".into(),
        RULE if id == "4.3.1" => "`tests/fixtures/cis/fire.yaml`, `fire-kube-proxy.yaml`, \
            `pass.yaml`; `tests/node.rs` (`kube_proxy_unit_as_the_hard_way_writes_it`, \
            `kube_proxy_unit_flags`, `kube_proxy_missing_config_fails_closed`)"
            .into(),
        RULE => "`tests/fixtures/cis/fire.yaml`, `pass.yaml`".into(),
        "node-file-permissions" => match id {
            "1.1.9" | "1.1.10" => {
                "`tests/node.rs` (`cni_files_600`, `cni_files_root_owned`)".into()
            }
            "4.1.3" | "4.1.4" => "`tests/node.rs` (`kube_proxy_unit_as_the_hard_way_writes_it`, \
                `kube_proxy_unit_flags`, `kubeadm_etcd_data_dir_proxy_and_client_ca`)"
                .into(),
            _ => "`tests/node.rs`".into(),
        },
        _ if matches!(rule.check, Check::AuditLog(_)) => "`tests/audit_log.rs`".into(),
        _ => format!("`tests/fixtures/rules/{}/`", rule.id),
    }
}

/// Automated by kube-bench in sections 1-4, with no rule of ours, and why.
/// (None today: CNI files, 1.1.9 and 1.1.10, are recorded by `kubeharden node`.)
const NOT_COVERED: &[(&str, &str)] = &[];

fn generate() -> String {
    let mut out = String::new();
    out.push_str("# CIS Kubernetes Benchmark coverage\n\n");
    out.push_str(
        "Generated by `crates/engine/tests/cis.rs` from the CIS 1.12 checks as kube-bench's \
         `cfg/cis-1.12` states them (`rules::control_plane::cis_benchmark`) and the CIS \
         references of the rules; do not edit (`KUBEHARDEN_BLESS=1 cargo test -p \
         kubeharden-engine --test cis`).\n\n",
    );
    out.push_str(
        "- **benchmark**: how CIS 1.12 marks the check (Automated or Manual).\n\
         - **kube-bench**: whether kube-bench automates it (runs an audit and a test) or leaves \
         it to the reader (`type: manual`).\n\
         - **rule**: the kubeharden rule(s) that judge it; `cis-control-plane-check` and \
         `node-file-permissions` start each message with `CIS <id>: `, so every CIS id is \
         reported under its own id, once per component or file.\n\
         - **tested by**: the fixture (fire and pass) or test that exercises it.\n\n",
    );
    let all = rules::all();
    let rules_of = |id: &str| -> Vec<&rules::Rule> {
        all.iter()
            .copied()
            .filter(|r| r.references.cis.contains(&id))
            .collect()
    };
    let covered = CIS_1_12
        .iter()
        .filter(|c| !rules_of(c.id).is_empty())
        .count();
    let kb = CIS_1_12.iter().filter(|c| c.kube_bench).count();
    let kb_covered = CIS_1_12
        .iter()
        .filter(|c| c.kube_bench && !rules_of(c.id).is_empty())
        .count();
    let _ = writeln!(
        out,
        "{} checks; {} judged by a rule. kube-bench automates {}, of which {} are judged.\n",
        CIS_1_12.len(),
        covered,
        kb,
        kb_covered
    );
    out.push_str("| CIS id | title | benchmark | kube-bench | rule | tested by |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for c in CIS_1_12 {
        let rs = rules_of(c.id);
        let rule = if rs.is_empty() {
            NOT_COVERED
                .iter()
                .find(|n| n.0 == c.id)
                .map_or_else(|| "—".to_owned(), |n| format!("not judged: {}", n.1))
        } else {
            rs.iter()
                .map(|r| format!("`{}`", r.id))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let tested = rs
            .iter()
            .map(|r| tested_by(r, c.id))
            .collect::<Vec<_>>()
            .join("; ");
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            c.id,
            c.title.replace('|', "\\|"),
            if c.automated { "Automated" } else { "Manual" },
            if c.kube_bench { "automated" } else { "manual" },
            rule,
            tested
        );
    }
    out.push_str(
        "\n## Checks of earlier benchmarks\n\nCIS 1.12 dropped these (the flags were removed \
         or made mandatory); kube-bench's older configs (and its golden report, \
         `crates/engine/tests/kube_bench.rs`) still run them. `cis-control-plane-check` \
         reports them as `CIS 1.6 <id>`.\n\n| id | title | rule | tested by |\n|---|---|---|---|\n",
    );
    for (id, title) in EARLIER {
        let _ = writeln!(
            out,
            "| {id} | {title} | `{RULE}` | `tests/fixtures/cis/fire.yaml`, `pass.yaml` |"
        );
    }
    out
}

#[test]
fn docs_cis_md_is_in_sync() {
    // Every kube-bench-automated check of sections 1-4 is judged, or explained.
    for c in CIS_1_12 {
        let judged = rules::all()
            .iter()
            .any(|r| r.references.cis.contains(&c.id));
        if c.kube_bench && !c.id.starts_with('5') && !judged {
            assert!(
                NOT_COVERED.iter().any(|n| n.0 == c.id),
                "CIS {} is automated by kube-bench and judged by no rule",
                c.id
            );
        }
    }
    let generated = generate();
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/cis.md");
    if std::env::var_os("KUBEHARDEN_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/cis.md is out of date: run `KUBEHARDEN_BLESS=1 cargo test -p kubeharden-engine --test cis`"
    );
}

/// Every CIS id in a rule's references names a check of CIS 1.12 (or, for the control-plane
/// rule, a check of an earlier benchmark it keeps): a renumbered id (5.7.2 became 5.6.2) or a
/// neighbour's id (5.2.12 is HostPorts, HostPath is 5.2.11) sends users to the wrong check.
#[test]
fn every_cis_reference_is_a_cis_1_12_check() {
    let mut wrong = Vec::new();
    for r in rules::all() {
        for id in r.references.cis {
            let known = CIS_1_12.iter().any(|c| c.id == *id)
                || EARLIER.iter().any(|e| e.0 == *id)
                // A check CIS dropped when its flag went away, named with the release.
                || id.ends_with(" (pre-1.24)")
                // The benchmark as a whole (`cis-benchmark-not-scheduled`).
                || *id == "Kubernetes Benchmark";
            if !known {
                wrong.push(format!("{}: {id}", r.id));
            }
        }
    }
    assert_eq!(wrong, Vec::<String>::new());
}
