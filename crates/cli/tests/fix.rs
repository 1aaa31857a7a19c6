//! `kubeharden fix` and `kubeharden generate` end to end, on copies in temporary directories.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn kh(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("kubeharden").unwrap();
    c.current_dir(dir);
    c
}

const POD: &str = "\
# A pod with comments, flow style and odd indentation.
apiVersion: v1
kind: Pod
metadata:
  name: web    # the name
  namespace: shop
spec:
  containers:
    - name: web
      image: ghcr.io/acme/web:1.0
      securityContext: {privileged: true}   # needs it?
";

fn temp_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

#[test]
fn fix_in_place_then_nothing_left_to_do() {
    let dir = temp_with(&[("pod.yaml", POD)]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.path().join("pod.yaml");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    kh(dir.path())
        .args(["fix", "."])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("fixed ./pod.yaml"))
        .stdout(predicate::str::contains("container-privileged"))
        .stdout(predicate::str::contains("--unsafe-fixes"));
    let fixed = read(dir.path(), "pod.yaml");
    assert_eq!(
        fixed,
        "\
# A pod with comments, flow style and odd indentation.
apiVersion: v1
kind: Pod
metadata:
  name: web    # the name
  namespace: shop
spec:
  containers:
    - name: web
      image: ghcr.io/acme/web:1.0
      securityContext: {privileged: true, capabilities: {drop: [ALL]}}   # needs it?
  securityContext:
    seccompProfile:
      type: RuntimeDefault
  automountServiceAccountToken: false
"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("pod.yaml"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Idempotent: the second run changes nothing.
    kh(dir.path())
        .args(["fix", "."])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("0 files changed"));
    assert_eq!(read(dir.path(), "pod.yaml"), fixed);
    // With the unsafe fixes, privileged goes and escalation can then be disabled.
    kh(dir.path())
        .args(["fix", "--unsafe-fixes", "pod.yaml"])
        .assert()
        .code(0);
    assert!(read(dir.path(), "pod.yaml").contains(
        "      securityContext: {privileged: false, capabilities: {drop: [ALL]}, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true}   # needs it?\n"
    ));
    kh(dir.path())
        .args(["scan", "--fail-on", "low", "pod.yaml"])
        .assert()
        .stdout(predicate::str::contains("container-privileged").not())
        .stdout(predicate::str::contains("container-capabilities-not-dropped").not());
}

#[test]
fn diff_writes_nothing_and_applies_with_patch() {
    let dir = temp_with(&[("pod.yaml", POD)]);
    let out = kh(dir.path())
        .args(["fix", "--diff", "pod.yaml"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    assert_eq!(read(dir.path(), "pod.yaml"), POD, "--diff must not write");
    let diff = String::from_utf8(out.stdout).unwrap();
    assert!(
        diff.starts_with("--- a/pod.yaml\n+++ b/pod.yaml\n@@ -8,4 +8,8 @@\n"),
        "{diff}"
    );
    assert!(diff.contains("-      securityContext: {privileged: true}   # needs it?\n"));
    assert!(diff.contains("+  automountServiceAccountToken: false\n"));
    // The report goes to stderr, so the diff applies as it is.
    assert!(String::from_utf8_lossy(&out.stderr).contains("would fix pod.yaml"));
    if Path::new("/usr/bin/patch").exists() {
        let copy = temp_with(&[("pod.yaml", POD)]);
        std::process::Command::new("patch")
            .args(["-p1", "-s"])
            .current_dir(copy.path())
            .stdin(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(diff.as_bytes())?;
                child.wait()
            })
            .map(|status| assert!(status.success()))
            .unwrap();
        kh(dir.path()).args(["fix", "pod.yaml"]).assert().code(0);
        assert_eq!(read(copy.path(), "pod.yaml"), read(dir.path(), "pod.yaml"));
    }
}

#[test]
fn dry_run_rules_and_errors() {
    let dir = temp_with(&[("pod.yaml", POD)]);
    kh(dir.path())
        .args([
            "fix",
            "--dry-run",
            "--rules",
            "container-seccomp-unconfined",
            "pod.yaml",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "would fix pod.yaml: 1 change, 1 finding",
        ))
        .stdout(predicate::str::contains("container-capabilities-not-dropped").not());
    assert_eq!(read(dir.path(), "pod.yaml"), POD);
    kh(dir.path())
        .args(["fix", "--rules", "image-tag-latest", "pod.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has no automatic fix"));
    kh(dir.path())
        .args(["fix", "--rules", "nope", "pod.yaml"])
        .assert()
        .code(2);
    kh(dir.path()).args(["fix", "-"]).assert().code(2);
    kh(dir.path())
        .args(["fix", "missing.yaml"])
        .assert()
        .code(2);
}

#[test]
fn every_file_is_attempted_and_each_one_not_written_is_said() {
    // A read-only file between two writable ones: the others are fixed and listed, the
    // read-only one is left as it is and named with the reason, and the exit code is 2.
    let dir = temp_with(&[("a.yaml", POD), ("b.yaml", POD), ("c.yaml", POD)]);
    let b = dir.path().join("b.yaml");
    let mut perms = std::fs::metadata(&b).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&b, perms).unwrap();
    let out = kh(dir.path())
        .args(["fix", "a.yaml", "b.yaml", "c.yaml"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("fixed a.yaml: 3 changes"), "{stdout}");
    assert!(stdout.contains("fixed c.yaml: 3 changes"), "{stdout}");
    assert!(
        stdout.contains(
            "error: b.yaml: the file is read-only, not written; 3 changes for 3 findings not applied"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("fixed b.yaml"), "{stdout}");
    assert!(
        stdout.contains("2 files changed, 6 findings fixed")
            && stdout.contains("1 file not written"),
        "{stdout}"
    );
    assert_eq!(read(dir.path(), "b.yaml"), POD);
    for name in ["a.yaml", "c.yaml"] {
        assert!(
            read(dir.path(), name).contains("automountServiceAccountToken: false"),
            "{name}"
        );
    }
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);

    // --generate-missing over a file with other content: said, exit 2, the fixes stand.
    let dir = temp_with(&[
        ("app/pod.yaml", POD),
        ("out/kubeharden-generated.yaml", "x: 1\n"),
    ]);
    let out = kh(dir.path())
        .args(["fix", "--generate-missing", "out", "app"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("fixed app/pod.yaml"), "{stdout}");
    assert!(
        stdout.contains(
            "error: out/kubeharden-generated.yaml exists with other content, not written"
        ),
        "{stdout}"
    );
    assert_eq!(read(dir.path(), "out/kubeharden-generated.yaml"), "x: 1\n");
}

#[test]
fn templates_are_not_edited_and_their_remedy_is_printed() {
    let helm = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels: {app: \"{{ .Release.Name }}\"}\nspec:\n  containers:\n  - name: web\n    image: x\n";
    let dir = temp_with(&[("templates/pod.yaml", helm)]);
    kh(dir.path())
        .args(["fix", "templates"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Helm/Go template"))
        .stdout(predicate::str::contains(
            "remedy: Set `securityContext.capabilities.drop",
        ))
        .stdout(predicate::str::contains("0 files changed"));
    assert_eq!(read(dir.path(), "templates/pod.yaml"), helm);
}

#[test]
fn generate_missing_writes_a_new_file_once() {
    let dir = temp_with(&[("app/pod.yaml", POD)]);
    kh(dir.path())
        .args(["fix", "--generate-missing", "generated", "app"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "generated generated/kubeharden-generated.yaml: default-deny ingress and egress NetworkPolicy for namespace \"shop\"",
        ));
    let generated = read(dir.path(), "generated/kubeharden-generated.yaml");
    assert!(generated.contains("kind: NetworkPolicy"), "{generated}");
    assert!(generated.contains("k8s-app: kube-dns"));
    // The pod still violates restricted (privileged): no Namespace enforcing it is generated.
    assert!(!generated.contains("kind: Namespace"));
    kh(dir.path())
        .args(["fix", "--generate-missing", "generated", "app"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("is up to date"));
    kh(dir.path())
        .args(["scan", "app", "generated"])
        .assert()
        .stdout(predicate::str::contains("namespace-missing-default-deny").not());
    // With the unsafe fixes the pod passes restricted, so its Namespace is generated too.
    let dir = temp_with(&[("app/pod.yaml", POD)]);
    kh(dir.path())
        .args(["fix", "--unsafe-fixes", "--generate-missing", "app", "app"])
        .assert()
        .code(0);
    let generated = read(dir.path(), "app/kubeharden-generated.yaml");
    assert!(
        generated.contains("kind: Namespace\nmetadata:\n  name: shop\n"),
        "{generated}"
    );
    kh(dir.path())
        .args(["fix", "--unsafe-fixes", "--generate-missing", "app", "app"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("nothing missing to generate"));
    kh(dir.path())
        .args(["scan", "app"])
        .assert()
        .stdout(predicate::str::contains("namespace-missing-default-deny").not())
        .stdout(predicate::str::contains("workload-violates-namespace-pss").not());
}

#[test]
fn generators() {
    let dir = tempfile::tempdir().unwrap();
    let out = kh(dir.path())
        .args(["generate", "default-deny", "-n", "shop", "-n", "web"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.matches("kind: NetworkPolicy").count(), 4);
    assert!(text.contains("  namespace: web\n"));
    std::fs::write(dir.path().join("policies.yaml"), &text).unwrap();
    kh(dir.path())
        .args(["scan", "policies.yaml"])
        .assert()
        .stdout(predicate::str::contains("invalid").not());
    kh(dir.path())
        .args(["generate", "default-deny", "-n", "Bad_Name"])
        .assert()
        .code(2);
    kh(dir.path())
        .args([
            "generate",
            "psa-labels",
            "-n",
            "shop",
            "--pss-version",
            "v1.30",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "    pod-security.kubernetes.io/enforce-version: v1.30\n",
        ));
    std::fs::write(dir.path().join("pod.yaml"), POD).unwrap();
    kh(dir.path())
        .args(["generate", "psa-labels", "--level", "baseline", "pod.yaml"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("  name: shop\n"))
        .stdout(predicate::str::contains(
            "pod-security.kubernetes.io/enforce: baseline",
        ));
    kh(dir.path())
        .args(["generate", "psa-labels"])
        .assert()
        .code(2);
}

#[test]
fn explain_and_rules_show_the_fix() {
    let dir = root();
    kh(&dir)
        .args(["explain", "container-privilege-escalation-allowed"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Auto-fix"))
        .stdout(predicate::str::contains("(safe; `kubeharden fix`)"));
    kh(&dir)
        .args(["explain", "pod-host-namespaces"])
        .assert()
        .success()
        .stdout(predicate::str::contains("(unsafe; `kubeharden fix`)"));
    kh(&dir)
        .args(["rules"])
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"container-privileged +9 +critical +unsafe").unwrap());
}
