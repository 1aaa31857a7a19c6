use super::*;

/// Fixes `text` (written to a file named `name`) and returns the plan of that file.
fn fix_text(name: &str, text: &str, opts: &Options) -> FileFix {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let plan = plan(std::slice::from_ref(&path), opts).unwrap();
    plan.files.into_iter().next().unwrap_or_else(|| FileFix {
        path: path.clone(),
        name: name.into(),
        before: text.into(),
        after: None,
        fixed: Vec::new(),
        unfixed: Vec::new(),
        error: None,
        edits: Vec::new(),
        identity: None,
    })
}

fn fixed(text: &str) -> String {
    let f = fix_text("m.yaml", text, &Options::default());
    assert!(f.error.is_none(), "{:?}", f.error);
    f.after.unwrap_or_else(|| text.to_owned())
}

fn fixed_unsafe(text: &str) -> String {
    let opts = Options {
        unsafe_fixes: true,
        ..Options::default()
    };
    let f = fix_text("m.yaml", text, &opts);
    assert!(f.error.is_none(), "{:?}", f.error);
    f.after.unwrap_or_else(|| text.to_owned())
}

/// After a fix, a second fix changes nothing.
fn assert_idempotent(text: &str, opts: &Options) {
    let once = fix_text("m.yaml", text, opts).after.unwrap();
    let twice = fix_text("m.yaml", &once, opts);
    assert!(
        twice.after.is_none(),
        "second run changed:\n{}",
        twice.diff()
    );
}

const DEPLOYMENT: &str = "\
# The web front end.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # keep me
  namespace: shop
spec:
  template:
    metadata:
      labels: {app: web}
    spec:
      serviceAccountName: web
      containers:
      - name: app
        image: ghcr.io/acme/web:1.2.3   # pinned
        ports:
        - containerPort: 8080
      # a sidecar
      - name: proxy
        image: 'ghcr.io/acme/proxy:2'
        securityContext: {allowPrivilegeEscalation: false}
";

#[test]
fn block_style_insertions_keep_every_other_byte() {
    let out = fixed(DEPLOYMENT);
    assert_eq!(
        out,
        "\
# The web front end.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # keep me
  namespace: shop
spec:
  template:
    metadata:
      labels: {app: web}
    spec:
      serviceAccountName: web
      containers:
      - name: app
        image: ghcr.io/acme/web:1.2.3   # pinned
        ports:
        - containerPort: 8080
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop:
            - ALL
      # a sidecar
      - name: proxy
        image: 'ghcr.io/acme/proxy:2'
        securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
      securityContext:
        seccompProfile:
          type: RuntimeDefault
"
    );
    assert_idempotent(DEPLOYMENT, &Options::default());
}

#[test]
fn existing_security_contexts_are_extended() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  securityContext:\n    runAsNonRoot: true   # ok\n  containers:\n  - name: a\n    image: x\n    securityContext:\n      capabilities:\n        drop: [NET_RAW]\n      allowPrivilegeEscalation: true\n";
    let out = fixed(text);
    assert_eq!(
        out,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  securityContext:\n    runAsNonRoot: true   # ok\n    seccompProfile:\n      type: RuntimeDefault\n  containers:\n  - name: a\n    image: x\n    securityContext:\n      capabilities:\n        drop: [NET_RAW, ALL]\n      allowPrivilegeEscalation: true\n  automountServiceAccountToken: false\n"
    );
    // The explicit `true` is overridden only with --unsafe-fixes.
    let f = fix_text("m.yaml", text, &Options::default());
    assert!(
        f.unfixed
            .iter()
            .any(|u| u.rule == "container-privilege-escalation-allowed" && u.needs_unsafe)
    );
    assert!(fixed_unsafe(text).contains("      allowPrivilegeEscalation: false\n"));
}

#[test]
fn indentless_sequences_and_four_space_indent() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n    name: p\nspec:\n    containers:\n    -   name: a\n        image: x\n        securityContext:\n            capabilities:\n                drop:\n                - NET_RAW\n";
    let out = fixed(text);
    assert!(
        out.contains("                drop:\n                - NET_RAW\n                - ALL\n"),
        "{out}"
    );
    assert!(
        out.contains("            allowPrivilegeEscalation: false\n"),
        "{out}"
    );
    assert!(out.ends_with("    securityContext:\n        seccompProfile:\n            type: RuntimeDefault\n    automountServiceAccountToken: false\n"), "{out}");
}

#[test]
fn json_files_stay_json() {
    let text = r#"{
  "apiVersion": "v1",
  "kind": "Pod",
  "metadata": {"name": "p"},
  "spec": {
    "containers": [
      {"name": "a", "image": "x", "securityContext": {}}
    ]
  }
}
"#;
    let f = fix_text("p.json", text, &Options::default());
    let out = f.after.unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).expect(&out);
    assert_eq!(
        v["spec"]["containers"][0]["securityContext"]["capabilities"]["drop"][0],
        "ALL"
    );
    assert_eq!(
        v["spec"]["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    assert!(out.starts_with("{\n  \"apiVersion\": \"v1\",\n"));
}

#[test]
fn crlf_line_endings_are_kept() {
    let text = "apiVersion: v1\r\nkind: Pod\r\nmetadata:\r\n  name: p\r\nspec:\r\n  containers:\r\n  - name: a\r\n    image: x\r\n";
    let out = fixed(text);
    assert!(!out.replace("\r\n", "").contains('\n'), "{out:?}");
    assert!(out.contains("    securityContext:\r\n      allowPrivilegeEscalation: false\r\n"));
}

#[test]
fn no_final_newline() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    image: x";
    let out = fixed(text);
    assert!(
        out.starts_with(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    image: x\n    securityContext:\n"
        ),
        "{out}"
    );
    assert!(!out.ends_with('\n'));
}

#[test]
fn null_security_context_is_filled() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  securityContext:\n  containers:\n  - name: a\n    image: x\n    securityContext: null\n";
    let out = fixed(text);
    assert!(
        out.contains(
            "  securityContext:\n    seccompProfile:\n      type: RuntimeDefault\n  containers:"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n"
        ),
        "{out}"
    );
}

#[test]
fn anchors_and_templates_are_not_edited() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - &c\n    name: a\n    image: x\n";
    let f = fix_text("m.yaml", text, &Options::default());
    let out = f.after.unwrap();
    // The pod-level fixes apply; the anchored container is left alone.
    assert!(out.contains("  - &c\n    name: a\n    image: x\n"), "{out}");
    assert!(
        f.unfixed
            .iter()
            .any(|u| u.rule == "container-capabilities-not-dropped" && u.reason.contains("anchor"))
    );
    let helm = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name }}\nspec:\n  containers:\n  - name: a\n    image: x\n";
    let f = fix_text("t.yaml", helm, &Options::default());
    assert!(f.after.is_none());
}

#[test]
fn unsafe_fixes() {
    let text = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: agent\nspec:\n  template:\n    spec:\n      hostNetwork: true\n      hostPID: true # why\n      containers:\n      - name: a\n        image: nginx:1.25\n        securityContext:\n          privileged: true\n        volumeMounts:\n        - {name: root, mountPath: /host}\n      volumes:\n      - name: root\n        hostPath:\n          path: /\n";
    let safe = fix_text("m.yaml", text, &Options::default());
    assert!(
        safe.unfixed
            .iter()
            .any(|u| u.rule == "container-privilege-escalation-allowed"
                && u.needs_unsafe
                && u.reason.contains("privileged: false"))
    );
    let out = fixed_unsafe(text);
    assert_eq!(
        out,
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: agent\nspec:\n  template:\n    spec:\n      containers:\n      - name: a\n        image: nginx:1.25\n        securityContext:\n          privileged: false\n          runAsUser: 10001\n          allowPrivilegeEscalation: false\n          capabilities:\n            drop:\n            - ALL\n          readOnlyRootFilesystem: true\n        volumeMounts:\n        - {name: root, mountPath: /host}\n        - {name: tmp, mountPath: /tmp}\n      volumes:\n      - name: root\n        emptyDir: {}\n      - name: tmp\n        emptyDir: {}\n      securityContext:\n        runAsNonRoot: true\n        seccompProfile:\n          type: RuntimeDefault\n      automountServiceAccountToken: false\n"
    );
    let opts = Options {
        unsafe_fixes: true,
        ..Options::default()
    };
    assert_idempotent(text, &opts);
}

#[test]
fn namespaces_get_their_labels() {
    let text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n";
    let out = fixed(text);
    assert_eq!(
        out,
        format!(
            "{text}    pod-security.kubernetes.io/enforce-version: v1.{}\n    pod-security.kubernetes.io/audit: restricted\n",
            pss::LATEST_MINOR
        )
    );
    let bare = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n";
    assert_eq!(fixed(bare), bare, "enforcing is unsafe");
    let out = fixed_unsafe(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    pod-security.kubernetes.io/enforce: \"baseline\"\n",
    );
    assert!(
        out.contains("    pod-security.kubernetes.io/enforce: \"restricted\"\n"),
        "{out}"
    );
}

#[test]
fn token_is_kept_where_the_api_is_used() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: ops\nspec:\n  containers:\n  - name: a\n    image: bitnami/kubectl:1.30\n";
    let f = fix_text("m.yaml", text, &Options::default());
    assert!(!f.after.unwrap().contains("automountServiceAccountToken"));
    assert!(
        f.unfixed
            .iter()
            .any(|u| u.rule == "workload-uses-default-service-account"
                && u.reason.contains("kubectl"))
    );
}

#[test]
fn lists_and_multiple_documents() {
    let text = "---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n  spec:\n    containers: [{name: a, image: x}]\n---\n# second\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec:\n  containers:\n  - name: b\n    image: x\n...\n";
    let out = fixed(text);
    assert!(
        out.contains("    containers: [{name: a, image: x, securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}]\n    securityContext:\n"),
        "{out}"
    );
    assert!(
        out.ends_with("    type: RuntimeDefault\n  automountServiceAccountToken: false\n...\n"),
        "{out}"
    );
    assert_idempotent(text, &Options::default());
}

#[test]
fn diff_and_atomic_write() {
    let f = fix_text("m.yaml", DEPLOYMENT, &Options::default());
    let diff = f.diff();
    assert!(diff.contains("+        securityContext:\n"), "{diff}");
    assert!(diff.contains("-        securityContext: {allowPrivilegeEscalation: false}\n"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.yaml");
    std::fs::write(&path, "old").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    }
    write_atomic(&path, "new").unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn every_fix_names_a_rule() {
    for f in all() {
        assert!(rules::find(f.rule).is_some(), "{}", f.rule);
    }
    assert!(
        selected_rules(&Options {
            rules: Some(vec!["image-tag-latest".into()]),
            ..Options::default()
        })
        .is_err()
    );
}

/// Plans the fix of `text` written to `dir/name`: the plan of that file, to write.
fn planned(dir: &Path, name: &str, text: &str) -> FileFix {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let plan = plan(std::slice::from_ref(&path), &Options::default()).unwrap();
    let f = plan.files.into_iter().next().expect("a fix");
    assert!(f.changed(), "{:?}", f.unfixed);
    f
}

/// Only the file and the temporary files are left: the names in `dir`.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_planned_fix_is_written_over_what_it_was_computed_from() {
    let dir = tempfile::tempdir().unwrap();
    let f = planned(dir.path(), "m.yaml", DEPLOYMENT);
    assert!(f.write().unwrap());
    assert_eq!(
        std::fs::read_to_string(&f.path).unwrap(),
        f.after.clone().unwrap()
    );
    assert_eq!(names(dir.path()), ["m.yaml"]);
    // Written once: the file is no longer what the fix was computed from.
    assert!(matches!(f.write(), Err(NotWritten::Changed(_))));
}

#[test]
fn a_file_edited_after_planning_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let f = planned(dir.path(), "m.yaml", DEPLOYMENT);
    let edited = format!("{DEPLOYMENT}# an edit made meanwhile\n");
    std::fs::write(&f.path, &edited).unwrap();
    let e = f.write().unwrap_err();
    assert!(matches!(e, NotWritten::Changed(_)), "{e}");
    assert!(
        e.to_string()
            .starts_with("changed while fixing, not written"),
        "{e}"
    );
    assert_eq!(std::fs::read_to_string(&f.path).unwrap(), edited);
    assert_eq!(names(dir.path()), ["m.yaml"]);
}

#[test]
fn an_edit_landing_right_before_the_rename_is_not_lost() {
    // The same length and modification time, other bytes: only the bytes tell.
    let dir = tempfile::tempdir().unwrap();
    let f = planned(dir.path(), "m.yaml", DEPLOYMENT);
    let edited = DEPLOYMENT.replace("keep me", "KEEP ME");
    let e = f
        .write_with(&mut || {
            let mtime = std::fs::metadata(&f.path).unwrap().modified().unwrap();
            std::fs::write(&f.path, &edited).unwrap();
            let file = std::fs::File::options().write(true).open(&f.path).unwrap();
            file.set_modified(mtime).unwrap();
        })
        .unwrap_err();
    assert!(e.to_string().contains("its contents changed"), "{e}");
    assert_eq!(std::fs::read_to_string(&f.path).unwrap(), edited);
    assert_eq!(
        names(dir.path()),
        ["m.yaml"],
        "the temporary file is removed"
    );

    // Another file renamed over it (an editor's save), with the very same bytes.
    let dir = tempfile::tempdir().unwrap();
    let f = planned(dir.path(), "m.yaml", DEPLOYMENT);
    let e = f
        .write_with(&mut || {
            let other = dir.path().join("saved");
            std::fs::write(&other, DEPLOYMENT).unwrap();
            std::fs::rename(&other, &f.path).unwrap();
        })
        .unwrap_err();
    assert!(e.to_string().contains("replaced"), "{e}");
    assert_eq!(std::fs::read_to_string(&f.path).unwrap(), DEPLOYMENT);

    // Removed meanwhile: not recreated.
    let dir = tempfile::tempdir().unwrap();
    let f = planned(dir.path(), "m.yaml", DEPLOYMENT);
    let e = f
        .write_with(&mut || std::fs::remove_file(&f.path).unwrap())
        .unwrap_err();
    assert!(e.to_string().contains("removed"), "{e}");
    assert!(names(dir.path()).is_empty());
}

#[test]
fn read_only_files_are_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let f = planned(dir.path(), "m.yaml", DEPLOYMENT);
    let mut perms = std::fs::metadata(&f.path).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&f.path, perms).unwrap();
    let e = f.write().unwrap_err();
    assert!(matches!(e, NotWritten::ReadOnly), "{e}");
    assert_eq!(e.to_string(), "the file is read-only, not written");
    assert_eq!(std::fs::read_to_string(&f.path).unwrap(), DEPLOYMENT);
    assert_eq!(names(dir.path()), ["m.yaml"]);
}

#[test]
fn a_new_file_is_never_written_over_one_that_appeared() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("generated.yaml");
    write_new(&path, "a: 1\n").unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "a: 1\n");
    let e = write_new(&path, "b: 2\n").unwrap_err();
    assert!(matches!(e, NotWritten::Changed(_)), "{e}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "a: 1\n");
    assert_eq!(names(dir.path()), ["generated.yaml"]);
}

/// `runAsNonRoot: true` without a known non-root user is not a safe fix: the kubelet refuses to
/// start a container whose image runs as root (`nginx:1.27` does). It is an unsafe fix, with the
/// reason, and with --unsafe-fixes an official image also gets a non-root `runAsUser`; an image
/// known to run as a numeric non-root user gets it as a safe fix.
#[test]
fn run_as_non_root_is_safe_only_for_a_known_non_root_user() {
    let nginx = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: edge, namespace: web}\nspec:\n  template:\n    spec:\n      containers:\n      - name: nginx\n        image: nginx:1.27\n";
    let safe = fix_text("m.yaml", nginx, &Options::default());
    assert!(!safe.after.as_deref().unwrap().contains("runAsNonRoot"));
    let u = safe
        .unfixed
        .iter()
        .find(|u| u.rule == "container-may-run-as-root")
        .unwrap();
    assert!(u.needs_unsafe);
    assert_eq!(
        u.reason,
        "unsafe fix (pod: set `runAsNonRoot: true` in the pod's securityContext (container \"nginx\": unsafe: no non-zero `runAsUser`, and image `nginx:1.27` may run as root, which the kubelet then refuses to start)): rerun with --unsafe-fixes"
    );
    let out = fixed_unsafe(nginx);
    assert!(
        out.contains("        securityContext:\n          runAsUser: 10001\n")
            && out.contains("      securityContext:\n        runAsNonRoot: true\n"),
        "{out}"
    );
    // A numeric non-root user known from the image: safe.
    let distroless = nginx.replace("nginx:1.27", "gcr.io/distroless/static:nonroot");
    let out = fixed(&distroless);
    assert!(
        out.contains("      securityContext:\n        runAsNonRoot: true\n"),
        "{out}"
    );
    // Another container's non-zero runAsUser does not make this one's user known.
    let two = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n  - name: b\n    image: y\n    securityContext: {runAsUser: 1000}\n";
    assert!(!fixed(two).contains("runAsNonRoot"));
}
