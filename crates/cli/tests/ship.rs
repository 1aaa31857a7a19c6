//! Shipping kubeharden: it passes its own audit (deploy/, the Helm chart's rendered output), the
//! chart lints and renders, the CLI niceties (version, completion, man pages in sync) and the CI
//! integrations (GitHub Action script, pre-commit hook, GitLab template) work.
//!
//! Tests that need `helm` or `pre-commit` print that they were skipped when the tool is missing,
//! unless KUBEHARDEN_REQUIRE_HELM=1 / KUBEHARDEN_REQUIRE_PRECOMMIT=1 (set by .ci/run, which
//! installs them).

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn kh() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kubeharden"));
    c.current_dir(root()).env("NO_COLOR", "1");
    c
}

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_kubeharden"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// PATH with the kubeharden under test first.
fn path_with_kubeharden() -> std::ffi::OsString {
    let mut dirs = vec![bin_dir()];
    if let Some(p) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(dirs).unwrap()
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
}

/// Whether `tool` is there; panics when it is missing and `require_var` is set.
fn tool_available(tool: &str, require_var: &str) -> bool {
    if on_path(tool) {
        return true;
    }
    assert!(
        std::env::var_os(require_var).is_none(),
        "`{tool}` is not installed and {require_var} is set"
    );
    eprintln!("skipped: `{tool}` is not installed (set {require_var}=1 to make this a failure)");
    false
}

fn json(out: &[u8]) -> Value {
    serde_json::from_slice(out).unwrap_or_else(|e| {
        panic!("not JSON ({e}): {}", String::from_utf8_lossy(out));
    })
}

/// (rule, origin:line, message) of each suppressed finding.
fn suppressed(report: &Value) -> Vec<String> {
    report["suppressed_findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    format!(
                        "{} {}:{} {}",
                        f["rule"].as_str().unwrap(),
                        f["location"]["origin"].as_str().unwrap(),
                        f["location"]["line"],
                        f["suppressed_by"]["reason"].as_str().unwrap()
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

const LOCAL_IMAGE_REASON: &str = "the image is built locally by tools/image.sh (localhost/kubeharden:0.1.0) until a registry exists: push it and pin its digest (image: REGISTRY/kubeharden:0.1.0@sha256:...), then delete these two annotations";
const CHART_IMAGE_REASON: &str = "image.digest is not set (a local build of tools/image.sh has no registry digest): set image.digest to the pushed image's sha256 digest";

/// `kubeharden scan deploy/`: no finding at any severity; the only suppressions are the ones the
/// README lists (the local image has no digest to pin), each with its reason.
#[test]
fn deploy_passes_its_own_audit() {
    let with_chart = tool_available("helm", "KUBEHARDEN_REQUIRE_HELM");
    let mut args = vec![
        "scan",
        "--format",
        "json",
        "--fail-on",
        "info",
        "--show-suppressed",
    ];
    if with_chart {
        args.push("deploy");
    } else {
        args.extend(["deploy/webhook", "deploy/cronjob", "deploy/rbac"]);
    }
    let out = kh().args(&args).output().unwrap();
    let report = json(&out.stdout);
    assert_eq!(report["findings"], serde_json::json!([]), "{report:#}");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let errors: Vec<&Value> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["level"] != "note")
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let mut expected = vec![
        format!("image-not-pinned-by-digest deploy/cronjob/cronjob.yaml:42 {LOCAL_IMAGE_REASON}"),
        "unbound-role-risky-permissions deploy/rbac/clusterrole-secrets.yaml:20 opt-in role, bound by the operator only for an interactive audit (see above)".to_owned(),
        format!(
            "image-not-pinned-by-digest deploy/webhook/deployment.yaml:65 {LOCAL_IMAGE_REASON}"
        ),
    ];
    if with_chart {
        // The chart, rendered by `helm template kubeharden deploy/helm/kubeharden`: its webhook
        // Deployment and audit CronJob, located in their templates.
        expected.splice(
            1..1,
            [
                format!(
                    "image-not-pinned-by-digest deploy/helm/kubeharden/templates/audit.yaml:187 {CHART_IMAGE_REASON}"
                ),
                format!(
                    "image-not-pinned-by-digest deploy/helm/kubeharden/templates/webhook.yaml:85 {CHART_IMAGE_REASON}"
                ),
            ],
        );
        let kinds = &report["summary"]["kinds"];
        for kind in [
            "Deployment",
            "CronJob",
            "ValidatingWebhookConfiguration",
            "Certificate",
        ] {
            assert_eq!(kinds[kind], 2, "{kind}: {kinds}");
        }
    }
    assert_eq!(suppressed(&report), expected);
}

fn helm(args: &[&str]) -> std::process::Output {
    std::process::Command::new("helm")
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

fn render(values: &[&str]) -> String {
    let mut args = vec![
        "template",
        "kh",
        "deploy/helm/kubeharden",
        "--namespace",
        "kubeharden",
    ];
    for v in values {
        args.extend(["--set", v]);
    }
    let out = helm(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The rendered objects as JSON, read by kubeharden's own loader (as Kubernetes reads YAML).
fn objects(rendered: &str) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("chart.yaml");
    std::fs::write(&file, rendered).unwrap();
    let (files, diags) = kubeharden_engine::load::expand_paths(&[file]);
    assert!(diags.is_empty(), "{diags:?}");
    files
        .iter()
        .flat_map(|f| kubeharden_engine::load::load_file(f).objects)
        .map(|o| o.root.to_json())
        .collect()
}

fn find<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
}

fn scan_stdin(rendered: &str) -> (Option<i32>, Value) {
    let out = kh()
        .args([
            "scan",
            "--format",
            "json",
            "--fail-on",
            "info",
            "--show-suppressed",
            "-",
        ])
        .write_stdin(rendered.to_owned())
        .output()
        .unwrap();
    (out.status.code(), json(&out.stdout))
}

#[test]
fn helm_chart_lints_renders_and_passes_its_own_audit() {
    if !tool_available("helm", "KUBEHARDEN_REQUIRE_HELM") {
        return;
    }
    let lint = helm(&["lint", "--strict", "deploy/helm/kubeharden"]);
    assert!(
        lint.status.success(),
        "{}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );

    // Defaults: no finding; the one suppression is the image without a digest.
    let rendered = render(&[]);
    let (code, report) = scan_stdin(&rendered);
    assert_eq!(report["findings"], serde_json::json!([]), "{report:#}");
    assert_eq!(code, Some(0));
    let reasons: Vec<String> = report["suppressed_findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                f["rule"].as_str().unwrap(),
                f["subject"]["kind"].as_str().unwrap(),
                f["suppressed_by"]["reason"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            format!("image-not-pinned-by-digest Deployment {CHART_IMAGE_REASON}"),
            format!("image-not-pinned-by-digest CronJob {CHART_IMAGE_REASON}"),
        ]
    );

    // HA webhook, its TLS by cert-manager, namespace exclusions and failurePolicy from values.
    let objs = objects(&rendered);
    let dep = find(&objs, "Deployment");
    assert_eq!(dep["metadata"]["name"], "kh-kubeharden-webhook");
    assert_eq!(dep["spec"]["replicas"], 2);
    assert!(dep["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"].is_object());
    assert_eq!(
        dep["spec"]["template"]["spec"]["containers"][0]["image"],
        "localhost/kubeharden:0.1.0"
    );
    assert_eq!(
        find(&objs, "PodDisruptionBudget")["spec"]["minAvailable"],
        1
    );
    assert_eq!(
        find(&objs, "Certificate")["spec"]["secretName"],
        "kh-kubeharden-webhook-tls"
    );
    let vwc = find(&objs, "ValidatingWebhookConfiguration");
    assert_eq!(
        vwc["metadata"]["annotations"]["cert-manager.io/inject-ca-from"],
        "kubeharden/kh-kubeharden-webhook"
    );
    let hook = &vwc["webhooks"][0];
    assert_eq!(hook["failurePolicy"], "Fail");
    assert_eq!(
        hook["namespaceSelector"]["matchExpressions"][0]["values"],
        serde_json::json!(["kubeharden", "kube-system"])
    );
    let cron = find(&objs, "CronJob");
    assert_eq!(cron["spec"]["schedule"], "17 3 * * *");
    let args = &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"];
    assert_eq!(
        args,
        &serde_json::json!([
            "cluster",
            "--apply-policy-reports",
            "--format=json",
            "--progress=never",
            "--fail-on=high"
        ])
    );
    // The auditor's ClusterRole is deploy/rbac's, rule for rule.
    let (files, _) =
        kubeharden_engine::load::expand_paths(&[root().join("deploy/rbac/clusterrole.yaml")]);
    let role = kubeharden_engine::load::load_file(&files[0]).objects[0]
        .root
        .to_json();
    let chart_role = objs
        .iter()
        .find(|o| o["kind"] == "ClusterRole" && o["metadata"]["name"] == "kh-kubeharden-audit")
        .unwrap();
    assert_eq!(chart_role["rules"], role["rules"]);
    assert!(
        !objs
            .iter()
            .any(|o| o["kind"] == "ServiceMonitor" || o["kind"] == "Namespace")
    );

    // Values: a pinned digest needs no suppression; the other options render and stay clean.
    let digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let pinned = render(&[
        &format!("image.digest={digest}"),
        "image.repository=registry.example/kubeharden",
        "namespace.create=true",
        "webhook.metrics.serviceMonitor.enabled=true",
        "webhook.failurePolicy=Ignore",
        "webhook.excludeNamespaces={kube-system,monitoring}",
        "webhook.replicas=3",
    ]);
    let (code, report) = scan_stdin(&pinned);
    assert_eq!(report["findings"], serde_json::json!([]), "{report:#}");
    assert_eq!(report["suppressed"], 0, "{report:#}");
    assert_eq!(code, Some(0));
    let objs = objects(&pinned);
    assert_eq!(
        find(&objs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["image"],
        format!("registry.example/kubeharden:0.1.0@{digest}")
    );
    assert_eq!(find(&objs, "Deployment")["spec"]["replicas"], 3);
    let ns = find(&objs, "Namespace");
    assert_eq!(
        ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
        "restricted"
    );
    assert_eq!(
        find(&objs, "ServiceMonitor")["spec"]["endpoints"][0]["port"],
        "metrics"
    );
    let hook = &find(&objs, "ValidatingWebhookConfiguration")["webhooks"][0];
    assert_eq!(hook["failurePolicy"], "Ignore");
    assert_eq!(
        hook["namespaceSelector"]["matchExpressions"][0]["values"],
        serde_json::json!(["kubeharden", "kube-system", "monitoring"])
    );

    // Self-signed bootstrap: Helm makes the CA and the serving certificate; the caBundle is set.
    // The rendered output holds the private key, and kubeharden says so (README of the chart).
    let self_signed = render(&["webhook.tls.mode=selfSigned"]);
    let (code, report) = scan_stdin(&self_signed);
    assert_eq!(code, Some(1));
    let findings: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["rule"].as_str().unwrap(),
                f["subject"]["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        findings,
        ["secret-values-in-manifest kh-kubeharden-webhook-tls"]
    );
    let objs = objects(&self_signed);
    let secret = find(&objs, "Secret");
    assert_eq!(secret["type"], "kubernetes.io/tls");
    let hook = &find(&objs, "ValidatingWebhookConfiguration")["webhooks"][0];
    assert_eq!(hook["clientConfig"]["caBundle"], secret["data"]["ca.crt"]);
    assert!(!objs.iter().any(|o| o["kind"] == "Certificate"));

    // A wrong mode is an error, not a webhook without TLS.
    let out = helm(&[
        "template",
        "kh",
        "deploy/helm/kubeharden",
        "--set",
        "webhook.tls.mode=none",
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("webhook.tls.mode must be certManager, selfSigned or existingSecret")
    );
}

#[test]
fn version_names_release_commit_and_rule_count() {
    let out = kh().args(["version", "--format", "json"]).output().unwrap();
    assert!(out.status.success());
    let v = json(&out.stdout);
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["rules"], kubeharden_engine::rules::all().len());
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(root())
        .output()
        .unwrap();
    if head.status.success() {
        assert_eq!(v["commit"], String::from_utf8_lossy(&head.stdout).trim());
    }
    let text = kh().arg("version").output().unwrap();
    let first = String::from_utf8(text.stdout).unwrap();
    let first = first.lines().next().unwrap().to_owned();
    assert_eq!(
        first,
        format!(
            "kubeharden {} (commit {})",
            env!("CARGO_PKG_VERSION"),
            v["commit"].as_str().unwrap()
        )
    );
    let flag = kh().arg("--version").output().unwrap();
    assert_eq!(String::from_utf8(flag.stdout).unwrap().trim(), first);
}

#[test]
fn completion_scripts_for_each_shell() {
    for (shell, marker) in [
        (
            "bash",
            "complete -F _kubeharden -o nosort -o bashdefault -o default kubeharden",
        ),
        ("zsh", "#compdef kubeharden"),
        (
            "fish",
            "complete -c kubeharden -n \"__fish_kubeharden_needs_command\" -f -a \"scan\"",
        ),
        (
            "powershell",
            "Register-ArgumentCompleter -Native -CommandName 'kubeharden'",
        ),
    ] {
        let out = kh().args(["completion", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(
            script.contains(marker),
            "{shell}: no `{marker}` in\n{script}"
        );
    }
    // bash can load it.
    if on_path("bash") {
        let out = std::process::Command::new("bash")
            .args([
                "-c",
                "source <(\"$0\" completion bash) && complete -p kubeharden",
                env!("CARGO_BIN_EXE_kubeharden"),
            ])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "complete -o bashdefault -o default -o nosort -F _kubeharden kubeharden"
        );
    }
}

/// docs/man holds the pages `kubeharden man` writes. When the CLI changes, regenerate them:
/// `cargo run -p kubeharden -- man docs/man` (or KUBEHARDEN_UPDATE_MAN=1 cargo test -p kubeharden --test ship).
#[test]
fn man_pages_in_sync() {
    let checked_in = root().join("docs/man");
    if std::env::var_os("KUBEHARDEN_UPDATE_MAN").is_some() {
        let _ = std::fs::remove_dir_all(&checked_in);
        kh().args(["man", "docs/man"]).assert().success();
    }
    let dir = tempfile::tempdir().unwrap();
    kh().arg("man").arg(dir.path()).assert().success();
    let names = |d: &Path| {
        let mut n: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    };
    let generated = names(dir.path());
    assert!(generated.contains(&"kubeharden-scan.1".to_owned()));
    let hint = "docs/man is out of date: run `cargo run -p kubeharden -- man docs/man` after removing docs/man";
    assert_eq!(names(&checked_in), generated, "{hint}");
    for name in &generated {
        let want = std::fs::read_to_string(dir.path().join(name)).unwrap();
        let have = std::fs::read_to_string(checked_in.join(name)).unwrap();
        assert!(want == have, "{name}: {hint}");
    }
}

/// The GitHub Action's scan step with the variables the runner sets: outputs, SARIF, job summary.
#[test]
fn github_action_scan_step() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let output = dir.path().join("output");
    let summary = dir.path().join("summary.md");
    let runner_temp = dir.path().join("runner");
    std::fs::create_dir(&runner_temp).unwrap();
    let direct = kh()
        .args(["scan", "--format", "json", "examples/insecure-app"])
        .output()
        .unwrap();
    let expected = json(&direct.stdout)["findings"].as_array().unwrap().len();
    assert!(expected > 0);
    let out = std::process::Command::new("bash")
        .arg(root().join("tools/ci/github-action.sh"))
        .arg("scan")
        .current_dir(&work)
        .env("PATH", path_with_kubeharden())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_WORKSPACE", &work)
        .env("RUNNER_TEMP", &runner_temp)
        .env("KH_PATHS", root().join("examples/insecure-app"))
        .env("KH_FAIL_ON", "high")
        .env("KH_SARIF", "kubeharden.sarif")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let outputs = std::fs::read_to_string(&output).unwrap();
    assert_eq!(
        outputs,
        format!("exit-code=1\nfindings={expected}\nsarif-file=kubeharden.sarif\n")
    );
    let sarif = json(&std::fs::read(work.join("kubeharden.sarif")).unwrap());
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(
        sarif["runs"][0]["results"].as_array().unwrap().len(),
        expected
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    let direct_md = kh()
        .args(["scan", "--format", "markdown", "--fail-on", "high"])
        .arg(root().join("examples/insecure-app"))
        .current_dir(&work)
        .output()
        .unwrap();
    assert_eq!(md, String::from_utf8(direct_md.stdout).unwrap());

    // action.yml runs that script, uploads the SARIF and fails the job with the scan's exit code.
    let action = std::fs::read_to_string(root().join("action.yml")).unwrap();
    for needle in [
        "using: composite",
        r#"run: '"$GITHUB_ACTION_PATH/tools/ci/github-action.sh" scan'"#,
        "uses: github/codeql-action/upload-sarif@v3",
        "run: exit ${{ steps.scan.outputs.exit-code }}",
    ] {
        assert!(action.contains(needle), "action.yml lacks {needle}");
    }
}

/// The GitLab template's script lines (after the install, kubeharden being on PATH) on a project.
#[test]
fn gitlab_template_script() {
    if !on_path("python3") {
        eprintln!("skipped: python3 is not installed");
        return;
    }
    let template = root().join("ci/gitlab/kubeharden.gitlab-ci.yml");
    let script = std::process::Command::new("python3")
        .args([
            "-c",
            "import json,sys,yaml; j=yaml.safe_load(open(sys.argv[1]))['.kubeharden']; print(json.dumps(j))",
        ])
        .arg(&template)
        .output()
        .unwrap();
    assert!(
        script.status.success(),
        "{}",
        String::from_utf8_lossy(&script.stderr)
    );
    let job = json(&script.stdout);
    assert_eq!(job["artifacts"]["reports"]["junit"], "kubeharden-junit.xml");
    let lines: Vec<String> = job["script"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_owned())
        .collect();
    let project = tempfile::tempdir().unwrap();
    copy_dir(
        &root().join("examples/insecure-app"),
        &project.path().join("deploy"),
    );
    let mut cmd = std::process::Command::new("bash");
    cmd.args(["-e", "-c", &lines.join("\n")])
        .current_dir(project.path())
        .env("PATH", path_with_kubeharden())
        .env("CI_PROJECT_DIR", project.path())
        .env("NO_COLOR", "1");
    for (k, v) in job["variables"].as_object().unwrap() {
        cmd.env(k, v.as_str().unwrap());
    }
    cmd.env("KUBEHARDEN_PATHS", "deploy/");
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for artifact in job["artifacts"]["paths"].as_array().unwrap() {
        let p = project.path().join(artifact.as_str().unwrap());
        assert!(p.is_file(), "no artifact {}", p.display());
    }
    let junit = std::fs::read_to_string(project.path().join("kubeharden-junit.xml")).unwrap();
    assert!(junit.starts_with("<?xml"), "{junit}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `.pre-commit-hooks.yaml` with the real pre-commit: a hook repository holding it, a project using
/// it; the insecure manifests fail the hook with kubeharden's findings, the hardened ones pass.
#[test]
fn pre_commit_hook() {
    if !tool_available("pre-commit", "KUBEHARDEN_REQUIRE_PRECOMMIT") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let hooks = tmp.path().join("hooks");
    std::fs::create_dir(&hooks).unwrap();
    std::fs::copy(
        root().join(".pre-commit-hooks.yaml"),
        hooks.join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    git(&hooks, &["init", "-q", "-b", "main"]);
    git(&hooks, &["add", "."]);
    git(&hooks, &["commit", "-q", "-m", "hooks"]);
    let rev = String::from_utf8(
        std::process::Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(&hooks)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();

    let run = |app: &str| {
        let project = tmp.path().join(app);
        copy_dir(&root().join("examples").join(app), &project.join("deploy"));
        std::fs::write(
            project.join(".pre-commit-config.yaml"),
            format!(
                "repos:\n- repo: {}\n  rev: {}\n  hooks:\n  - id: kubeharden\n    args: [deploy/]\n",
                hooks.display(),
                rev.trim()
            ),
        )
        .unwrap();
        git(&project, &["init", "-q", "-b", "main"]);
        git(&project, &["add", "."]);
        std::process::Command::new("pre-commit")
            .args(["run", "--all-files", "--color", "never"])
            .current_dir(&project)
            .env("PATH", path_with_kubeharden())
            .env("PRE_COMMIT_HOME", tmp.path().join("cache"))
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let direct = kh()
        .args(["scan", "--format", "json", "examples/insecure-app"])
        .output()
        .unwrap();
    let first_rule = json(&direct.stdout)["findings"][0]["rule"]
        .as_str()
        .unwrap()
        .to_owned();
    let bad = run("insecure-app");
    let text = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{text}");
    assert!(
        text.contains("kubeharden scan") && text.contains("Failed"),
        "{text}"
    );
    assert!(text.contains(&format!("[{first_rule}]")), "{text}");
    let good = run("hardened-app");
    let text = String::from_utf8_lossy(&good.stdout);
    assert_eq!(good.status.code(), Some(0), "{text}");
    assert!(text.contains("Passed"), "{text}");
}

/// `kubeharden scan DIR` renders the Helm charts in DIR; without helm it warns and skips their
/// templates (not YAML until rendered); a chart helm cannot render makes the scan incomplete.
#[test]
fn scan_renders_helm_charts() {
    let out = kh()
        .args([
            "scan",
            "--format",
            "json",
            "--allow-empty",
            "deploy/helm/kubeharden",
        ])
        .env("PATH", bin_dir())
        .output()
        .unwrap();
    let report = json(&out.stdout);
    let diags: Vec<String> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["level"] != "note")
        .map(|d| {
            format!(
                "{} {} {}",
                d["level"].as_str().unwrap(),
                d["origin"].as_str().unwrap(),
                d["message"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        diags,
        [
            "warning deploy/helm/kubeharden/Chart.yaml `helm` is not installed to render this Helm chart; the chart's templates are not scanned"
        ]
    );
    assert_eq!(out.status.code(), Some(0));

    if !tool_available("helm", "KUBEHARDEN_REQUIRE_HELM") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("broken");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: broken\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/cm.yaml"),
        "kind: ConfigMap\nname: {{ .Values.missing.key }}\n",
    )
    .unwrap();
    let out = kh()
        .args(["scan", "--format", "json"])
        .arg(&chart)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let report = json(&out.stdout);
    let first = &report["diagnostics"][0];
    assert_eq!(first["level"], "error");
    assert_eq!(
        first["origin"],
        chart.join("Chart.yaml").display().to_string()
    );
    let message = first["message"].as_str().unwrap();
    assert!(
        message.starts_with("`helm template broken --namespace broken` failed: template: broken/templates/cm.yaml:2:16: executing \"broken/templates/cm.yaml\" at <.Values.missing.key>: nil pointer evaluating interface {}.key")
            && message.ends_with("; the chart's templates are not scanned"),
        "{message}"
    );
}
