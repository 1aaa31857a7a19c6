//! "Hold up against an adversary": a CI gate assumes whoever wrote the input wants it to pass.
//! What a directory scan reads (what `kubectl apply -R -f` applies), streams named on the command
//! line, kustomizations rendered offline and within a time bound, and exit codes that a reader
//! closing the pipe does not change.

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_kubeharden");

/// A privileged Pod named `name`.
fn privileged(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: ops}}\nspec: {{containers: [{{name: c, image: \"ghcr.io/example/c:1.0\", securityContext: {{privileged: true}}}}]}}\n"
    )
}

const OK: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok, namespace: ops}\n";

fn scan() -> Command {
    let mut c = Command::cargo_bin("kubeharden").unwrap();
    c.args(["scan", "--no-config", "--format", "json"]);
    c
}

struct Scanned {
    code: Option<i32>,
    report: serde_json::Value,
}

impl Scanned {
    fn of(c: &mut Command) -> Scanned {
        let out = c.output().unwrap();
        let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{e}: {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        Scanned {
            code: out.status.code(),
            report,
        }
    }

    /// Names of the objects with a `container-privileged` finding, sorted.
    fn privileged(&self) -> Vec<String> {
        let mut names: Vec<String> = self.report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "container-privileged")
            .map(|f| f["subject"]["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    }

    /// The diagnostics of a level, as `origin: message` (with the line when there is one).
    fn diagnostics(&self, level: &str) -> Vec<String> {
        self.report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["level"] == level)
            .map(|d| match d["line"].as_u64() {
                Some(line) => format!("{}:{line}: {}", d["origin"].as_str().unwrap(), d["message"]),
                None => format!("{}: {}", d["origin"].as_str().unwrap(), d["message"]),
            })
            .collect()
    }
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_directory_is_read_as_kubectl_applies_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("repo");
    write(&dir.join("ok.yaml"), OK);
    write(&dir.join(".dot.yaml"), &privileged("dotfile"));
    write(
        &dir.join(".github/hidden-dir.yml"),
        &privileged("hidden-dir"),
    );
    write(&dir.join("sub/ignored.yaml"), &privileged("gitignored"));
    write(&dir.join(".gitignore"), "ignored.yaml\n.dot.yaml\n");
    write(&dir.join("sub/.ignore"), "*.json\n");
    write(
        &dir.join("sub/also-ignored.json"),
        r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"ignore-file"},"spec":{"containers":[{"name":"c","image":"i","securityContext":{"privileged":true}}]}}"#,
    );
    write(
        &tmp.path().join("elsewhere/linked.yaml"),
        &privileged("symlinked"),
    );
    std::os::unix::fs::symlink(
        tmp.path().join("elsewhere/linked.yaml"),
        dir.join("linked.yaml"),
    )
    .unwrap();
    write(
        &tmp.path().join("shared/base.yaml"),
        &privileged("linked-dir"),
    );
    std::os::unix::fs::symlink(tmp.path().join("shared"), dir.join("shared")).unwrap();
    // A loop: reported, not followed again, and not an error (nothing is left unread).
    std::os::unix::fs::symlink(&dir, dir.join("sub/loop")).unwrap();
    // Git's own files are not manifests.
    write(&dir.join(".git/objects/in-git.yaml"), &privileged("in-git"));

    let s = Scanned::of(scan().arg(&dir));
    assert_eq!(
        s.privileged(),
        [
            "dotfile",
            "gitignored",
            "hidden-dir",
            "ignore-file",
            "linked-dir",
            "symlinked"
        ],
        "{}",
        s.report["diagnostics"]
    );
    assert_eq!(s.code, Some(1), "{:?}", s.diagnostics("error"));
    let warnings = s.diagnostics("warning");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("sub/loop") && w.contains("symbolic link loop")),
        "{warnings:?}"
    );
}

/// kubectl splits a stream at `---` lines only and go-yaml decodes the first document of each
/// part; kustomize reads the same. A document after a `...` line (before any `---`) is never
/// applied, so it must not count: a default-deny NetworkPolicy there hides nothing, and an object
/// there is not judged. It is named, at its first line, and still read for committed credentials.
#[test]
fn documents_after_a_document_end_line_are_not_applied_as_kubectl_does_not() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("app.yaml");
    let deny = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: ops}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n";
    write(
        &file,
        &format!(
            "{}...\n{deny}...\n{}...\nregistry:\n  password: {}\n",
            privileged("applied"),
            privileged("never"),
            "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"
        ),
    );
    let s = Scanned::of(scan().arg(&file).args([
        "--rules",
        "container-privileged,namespace-missing-default-deny-ingress,credential-in-committed-file",
    ]));
    assert_eq!(s.privileged(), ["applied"]);
    let rules: Vec<&str> = s.report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"namespace-missing-default-deny-ingress"),
        "{rules:?}"
    );
    let credential: Vec<String> = s.report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "credential-in-committed-file")
        .map(|f| {
            format!(
                "{}: {}",
                f["location"]["line"],
                f["message"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        credential,
        [
            "17: `registry.password` holds a credential: secret-looking value (sensitive name, high-entropy value)"
        ],
        "{:#}",
        s.report["findings"]
    );
    let origin = file.display().to_string();
    let message = "\"not applied: kubectl and kustomize read nothing after a `...` (document end) line until the next `---` line, so this document is read for committed credentials only; start it with `---` to have it applied and checked\"";
    assert_eq!(
        s.diagnostics("warning"),
        [
            format!("{origin}:6: {message}"),
            format!("{origin}:11: {message}"),
            format!("{origin}:16: {message}")
        ]
    );
    assert_eq!(s.code, Some(1));
}

/// Kubernetes reads YAML 1.1 through go-yaml: a tag resolves a quoted scalar by its text
/// (`!!bool "true"` is `true`), and integers take Go's prefixes in either case (`0o0`, `0X0`).
/// Written so, a privileged container running as root must be judged as one, not waved through
/// as a string the API server "rejects"; and a value JSON cannot hold (`.inf`) makes the whole
/// document invalid, as it is for kubectl.
#[test]
fn values_spelled_as_go_yaml_reads_them_are_judged_as_kubernetes_reads_them() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("pod.yaml");
    let pod = |name: &str, context: &str| {
        format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: ops}}\nspec:\n  containers:\n  - name: c\n    image: ghcr.io/example/c:1.0\n    securityContext: {context}\n"
        )
    };
    write(
        &file,
        &[
            pod("tagged", "{privileged: !!bool \"true\"}"),
            pod("octal", "{runAsUser: 0o0, privileged: !!bool 'on'}"),
            pod("hex", "{runAsUser: 0X0}"),
            pod("infinite", "{privileged: true, runAsUser: .inf}"),
        ]
        .concat(),
    );
    let s = Scanned::of(
        scan()
            .arg(&file)
            .args(["--rules", "container-privileged,container-runs-as-root"]),
    );
    let found: Vec<String> = s.report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}:{}",
                f["rule"].as_str().unwrap(),
                f["subject"]["name"].as_str().unwrap(),
                f["location"]["line"]
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            "container-privileged tagged:9",
            "container-runs-as-root octal:18",
            "container-privileged octal:18",
            "container-runs-as-root hex:27",
        ],
        "{:#}",
        s.report
    );
    let origin = file.display().to_string();
    assert_eq!(
        s.diagnostics("error"),
        [format!(
            "{origin}:36: \"invalid YAML: `.inf` is not a number JSON can hold: Kubernetes refuses the document (`json: unsupported value: +Inf`)\""
        )]
    );
    assert!(
        s.diagnostics("warning").is_empty(),
        "{:?}",
        s.diagnostics("warning")
    );
}

#[test]
fn what_a_directory_scan_does_not_read_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(&dir.join("priv.yaml"), &privileged("p"));
    // A FIFO inside a directory is not opened (a scan must not block on it), but named.
    mkfifo(&dir.join("pipe.yaml"));
    // A link to a stream or a device: not read either (`/dev/zero` never ends).
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero.yaml")).unwrap();
    std::os::unix::fs::symlink(dir.join("gone"), dir.join("dangling.yaml")).unwrap();
    // Not a manifest name: not read, and nothing to say.
    std::os::unix::fs::symlink(dir.join("gone"), dir.join("dangling.txt")).unwrap();
    let started = Instant::now();
    let s = Scanned::of(scan().arg(dir));
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(s.privileged(), ["p"]);
    let errors = s.diagnostics("error");
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("pipe.yaml") && e.contains("FIFO") && e.contains("not read")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("zero.yaml") && e.contains("character device")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("dangling.yaml") && e.contains("broken symbolic link")),
        "{errors:?}"
    );
    // Unread input: the answer is incomplete.
    assert_eq!(s.code, Some(2));
}

#[test]
fn streams_named_on_the_command_line_are_read() {
    let tmp = tempfile::tempdir().unwrap();
    let ok = tmp.path().join("ok.yaml");
    write(&ok, OK);

    // `kubeharden scan ok.yaml <(cat priv.yaml)`: a process substitution is a pipe.
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(r#""$0" scan --no-config --format json "$1" <(printf '%s' "$2")"#)
        .arg(BIN)
        .arg(&ok)
        .arg(privileged("substituted"))
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", report["diagnostics"]);
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "container-privileged")
        .unwrap();
    assert!(
        finding["location"]["origin"]
            .as_str()
            .unwrap()
            .starts_with("/dev/fd/"),
        "{finding}"
    );

    // A FIFO given by name.
    let fifo = tmp.path().join("pipe");
    mkfifo(&fifo);
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, privileged("fifo")).unwrap())
    };
    let s = Scanned::of(scan().arg(&ok).arg(&fifo));
    writer.join().unwrap();
    assert_eq!(s.privileged(), ["fifo"]);
    assert_eq!(s.code, Some(1));
    assert!(
        s.report["findings"]
            .to_string()
            .contains(&format!("\"origin\":\"{}\"", fifo.display())),
        "{}",
        s.report["findings"]
    );

    // `/dev/stdin` by name (a pipe here).
    let s = Scanned::of(
        scan()
            .arg(&ok)
            .arg("/dev/stdin")
            .write_stdin(privileged("stdin")),
    );
    assert_eq!(s.privileged(), ["stdin"]);
    assert_eq!(s.code, Some(1));

    // A character device: read (empty), no error.
    let s = Scanned::of(scan().arg(&ok).arg("/dev/null"));
    assert_eq!(s.code, Some(0), "{:?}", s.diagnostics("error"));
}

/// A directory holding a fake `kustomize` that logs its invocations in `calls` and runs `body`.
fn fake_renderer(dir: &Path, body: &str) -> (PathBuf, PathBuf) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let calls = dir.join("calls");
    let script = bin.join("kustomize");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$@\" >> '{}'\n{body}\n", calls.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (bin, calls)
}

fn path_with(bin: &Path) -> String {
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn remote_kustomize_bases_are_not_fetched_by_default() {
    let tmp = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let work = tmp.path().join("work");
    // A remote resource in the kustomization itself…
    write(
        &work.join("direct/kustomization.yaml"),
        &format!("resources:\n- pod.yaml\n- http://127.0.0.1:{port}/remote.yaml\n"),
    );
    write(&work.join("direct/pod.yaml"), &privileged("direct-raw"));
    // … and one in a local base the overlay uses (the base is outside the scanned directory).
    write(
        &work.join("overlay/kustomization.yaml"),
        "resources:\n- ../../base\npatches:\n- path: patch.yaml\n",
    );
    write(&work.join("overlay/patch.yaml"), OK);
    write(
        &tmp.path().join("base/kustomization.yaml"),
        "resources:\n- deploy.yaml\n- github.com/example/repo//deploy?ref=v1.0.0\n",
    );
    let (bin, calls) = fake_renderer(tmp.path(), &format!("printf '%s' '{OK}'"));

    let s = Scanned::of(
        scan()
            .env("PATH", path_with(&bin))
            .arg(work.join("direct"))
            .arg(work.join("overlay")),
    );
    assert!(!calls.exists(), "the renderer ran");
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the listener was reached"
    );
    let errors = s.diagnostics("error");
    assert_eq!(errors.len(), 2, "{errors:?}");
    let direct = format!("{}:3: ", work.join("direct/kustomization.yaml").display());
    assert!(
        errors.iter().any(|e| e.starts_with(&direct)
            && e.contains(&format!("`http://127.0.0.1:{port}/remote.yaml`"))
            && e.contains("--allow-remote-bases")),
        "{errors:?}"
    );
    let base = format!(
        "{}:3: ",
        tmp.path().join("base/kustomization.yaml").display()
    );
    assert!(
        errors.iter().any(|e| e.starts_with(&base)
            && e.contains("github.com/example/repo//deploy?ref=v1.0.0")
            && e.contains(&work.join("overlay").display().to_string())),
        "{errors:?}"
    );
    // The directory's files are scanned as they are; the missing remote content makes it exit 2.
    assert_eq!(s.privileged(), ["direct-raw"]);
    assert_eq!(s.code, Some(2));

    // --allow-remote-bases: rendered (by the fake renderer here, so nothing is fetched).
    let s = Scanned::of(
        scan()
            .env("PATH", path_with(&bin))
            .arg("--allow-remote-bases")
            .arg(work.join("direct")),
    );
    assert!(calls.exists(), "the renderer did not run");
    assert!(
        s.diagnostics("error").is_empty(),
        "{:?}",
        s.diagnostics("error")
    );
    assert_eq!(s.code, Some(0));

    // --no-kustomize: no rendering, no check.
    let s = Scanned::of(
        scan()
            .env("PATH", path_with(&bin))
            .arg("--no-kustomize")
            .arg(work.join("direct")),
    );
    assert_eq!(s.code, Some(1), "{:?}", s.diagnostics("error"));
}

/// Is this process gone (or a zombie waiting for its reaper)?
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn a_render_that_hangs_is_killed_with_everything_it_started() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    write(&work.join("kustomization.yaml"), "resources:\n- pod.yaml\n");
    write(&work.join("pod.yaml"), &privileged("raw"));
    let pids = tmp.path().join("pids");
    let (bin, calls) = fake_renderer(
        tmp.path(),
        &format!(
            "sleep 300 &\necho $! >> '{p}'\necho $$ >> '{p}'\nsleep 300\n",
            p = pids.display()
        ),
    );
    let started = Instant::now();
    let s = Scanned::of(
        scan()
            .env("PATH", path_with(&bin))
            .args(["--kustomize-timeout", "1"])
            .arg(&work),
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(calls.exists());
    // A render that failed (here: killed) leaves the scan incomplete (exit 2; issue 23), unless
    // --allow-render-errors.
    let errors = s.diagnostics("error");
    assert!(
        errors
            .iter()
            .any(|w| w.contains("did not finish within 1 s") && w.contains("unrendered")),
        "{errors:?}"
    );
    // Scanned unrendered.
    assert_eq!(s.privileged(), ["raw"]);
    assert_eq!(s.code, Some(2));
    let pids: Vec<u32> = std::fs::read_to_string(&pids)
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 2);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !pids.iter().all(|&p| gone(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    for pid in pids {
        assert!(gone(pid), "process {pid} is still running");
    }
}

/// `kubeharden ARGS | head -1`: the exit code of kubeharden.
fn exit_code_through_head(args: &str) -> Option<i32> {
    std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            r#""$0" {args} | head -1 >/dev/null; exit ${{PIPESTATUS[0]}}"#
        ))
        .arg(BIN)
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .code()
}

#[test]
fn a_reader_closing_the_pipe_does_not_change_the_exit_code() {
    let tmp = tempfile::tempdir().unwrap();
    // Enough findings that the report outgrows the pipe's buffer.
    let many: String = (0..400)
        .map(|i| format!("---\n{}", privileged(&format!("p{i}"))))
        .collect();
    write(&tmp.path().join("many.yaml"), &many);
    let dir = tmp.path().display();
    for format in ["text", "json", "sarif", "markdown"] {
        assert_eq!(
            exit_code_through_head(&format!("scan --no-config --format {format} '{dir}'")),
            Some(1),
            "{format}"
        );
    }
    // Incomplete stays incomplete.
    write(&tmp.path().join("broken.yaml"), "a: [\n");
    assert_eq!(
        exit_code_through_head(&format!("scan --no-config '{dir}'")),
        Some(2)
    );
    // The reader gone before anything is written.
    let mut child = std::process::Command::new(BIN)
        .args(["scan", "--no-config", "--format", "json"])
        .arg(tmp.path().join("many.yaml"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    assert_eq!(child.wait().unwrap().code(), Some(1));
    // A command that only prints owes no verdict: a closed pipe is a success.
    assert_eq!(exit_code_through_head("rules"), Some(0));
}
