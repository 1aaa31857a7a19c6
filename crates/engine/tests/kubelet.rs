//! The kubelet's flags and its config file judged together (`analysis::kubelet`): a command-line
//! flag overrides the KubeletConfiguration, both ways, and findings point at whichever decides.
//! Fixtures: `tests/fixtures/kubelet/`.

use kubeharden_engine::finding::Finding;
use kubeharden_engine::load::Input;
use kubeharden_engine::scan::scan_all;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kubelet")
        .join(name)
}

/// Findings about the kubelet's settings: the three kubelet rules and CIS 4.2.x.
fn kubelet_findings(inputs: &[Input]) -> Vec<Finding> {
    let report = scan_all(inputs);
    assert!(!report.has_input_errors(), "{:?}", report.diagnostics);
    report
        .findings
        .into_iter()
        .filter(|f| {
            f.rule.starts_with("kubelet-")
                || (f.rule == "cis-control-plane-check" && f.message.starts_with("CIS 4.2."))
        })
        .collect()
}

fn summary(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .map(|f| format!("{}:{} {}", f.rule, f.location.line, f.message))
        .collect()
}

/// The 1-based line of the first line of the fixture containing `needle`.
fn line_of(name: &str, needle: &str) -> u32 {
    let text = std::fs::read_to_string(fixture(name)).unwrap();
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i as u32 + 1)
        .unwrap_or_else(|| panic!("{needle} not in {name}"))
}

/// (rule, message prefix, text of the line the finding must point at) for every setting.
const EXPECTED: &[(&str, &str)] = &[
    ("kubelet-anonymous-auth", ""),
    ("kubelet-authorization-always-allow", ""),
    ("kubelet-read-only-port", ""),
    ("cis-control-plane-check", "CIS 4.2.3: "),
    ("cis-control-plane-check", "CIS 4.2.6: "),
    ("cis-control-plane-check", "CIS 4.2.10: "),
];

#[test]
fn the_config_file_alone_fails_every_check() {
    // The control for the next test: this config file, judged on its own, fails each check.
    let found = kubelet_findings(&[Input::File(fixture("config-alone.yaml"))]);
    for (rule, prefix) in EXPECTED {
        assert!(
            found
                .iter()
                .any(|f| f.rule == *rule && f.message.starts_with(prefix)),
            "{rule} {prefix} missing: {:?}",
            summary(&found)
        );
    }
    let port = found
        .iter()
        .find(|f| f.rule == "kubelet-read-only-port")
        .unwrap();
    assert_eq!(
        port.location.line,
        line_of("config-alone.yaml", "readOnlyPort")
    );
}

#[test]
fn flags_fix_a_bad_config_file() {
    // The same config file, with a command line whose flags set every value securely.
    let found = kubelet_findings(&[Input::File(fixture("flag-fixes-config.yaml"))]);
    assert!(found.is_empty(), "{:?}", summary(&found));
}

#[test]
fn flags_break_a_good_config_file() {
    let name = "flag-breaks-config.yaml";
    let found = kubelet_findings(&[Input::File(fixture(name))]);
    let flags = [
        "--anonymous-auth=true",
        "--authorization-mode=AlwaysAllow",
        "--read-only-port=10255",
        "--client-ca-file=",
        "--make-iptables-util-chains=false",
        "--rotate-certificates=false",
    ];
    for ((rule, prefix), flag) in EXPECTED.iter().zip(flags) {
        let f = found
            .iter()
            .find(|f| f.rule == *rule && f.message.starts_with(prefix))
            .unwrap_or_else(|| panic!("{rule} {prefix} missing: {:?}", summary(&found)));
        // The finding points at the flag that decides, in the command line, not at the file.
        assert_eq!(f.subject.kind, "CommandLine", "{}", f.message);
        assert_eq!(f.location.line, line_of(name, flag), "{}", f.message);
    }
    let anon = found
        .iter()
        .find(|f| f.rule == "kubelet-anonymous-auth")
        .unwrap();
    assert!(
        anon.message
            .contains("overriding `authentication.anonymous.enabled: false`"),
        "{}",
        anon.message
    );
    assert_eq!(found.len(), EXPECTED.len(), "{:?}", summary(&found));
}

/// The command line and the config file as separate inputs, paired by `--config`'s path.
#[test]
fn the_config_file_is_found_by_its_path() {
    let command_line = |flags: &str| {
        kubeharden_engine::node::command_line_input(
            "kubelet.service (ExecStart)",
            &format!("/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml {flags}"),
        )
    };
    let config = |name: &str, port: u32| {
        Input::Bytes {
        name: name.to_owned(),
        bytes: format!(
            "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nreadOnlyPort: {port}\nauthentication:\n  x509: {{clientCAFile: /ca.crt}}\n"
        )
        .into_bytes()
        .into(),
    }
    };
    let ports = |inputs: &[Input]| -> Vec<(String, String)> {
        kubelet_findings(inputs)
            .into_iter()
            .filter(|f| f.rule == "kubelet-read-only-port")
            .map(|f| (f.location.origin.to_string(), f.message.to_string()))
            .collect()
    };
    // Flag 0 over a file that opens the port (the node's root prefixes the path): no finding.
    assert_eq!(
        ports(&[
            command_line("--read-only-port=0"),
            config("/tmp/node/var/lib/kubelet/config.yaml", 10255),
        ]),
        []
    );
    // No flag: the file decides, and the finding is in the file.
    assert_eq!(
        ports(&[
            command_line(""),
            config("/tmp/node/var/lib/kubelet/config.yaml", 10255),
        ]),
        [(
            "/tmp/node/var/lib/kubelet/config.yaml".to_owned(),
            "KubeletConfiguration opens the unauthenticated read-only port 10255".to_owned()
        )]
    );
    // A config file at another path is not this kubelet's: the flag decides for the kubelet,
    // and the other file is judged on its own.
    let found = ports(&[
        command_line("--read-only-port=10255"),
        config("/etc/other/config.yaml", 0),
    ]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "kubelet.service (ExecStart)");
    assert!(!found[0].1.contains("overriding"), "{}", found[0].1);
}
