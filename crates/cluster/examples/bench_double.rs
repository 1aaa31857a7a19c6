//! Benchmark fixture: serves the API double with a generated cluster of 50,000 objects (10,000
//! Pods) on 127.0.0.1 and writes a kubeconfig for it, then serves until killed. Measure the
//! auditor in its own process against it:
//!
//! ```sh
//! cargo run --release -p kubeharden-cluster --example bench_double -- /tmp/bench.kubeconfig &
//! /usr/bin/time -v target/release/kubeharden cluster --kubeconfig /tmp/bench.kubeconfig \
//!     --format json --no-config > /dev/null
//! ```

#[path = "../tests/apidouble/mod.rs"]
mod apidouble;

use serde_json::{Value, json};
use std::sync::Arc;

fn pod_spec(i: usize, hardened: bool) -> Value {
    let security = if hardened {
        json!({"runAsNonRoot": true, "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
               "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}})
    } else {
        json!({"allowPrivilegeEscalation": true})
    };
    json!({
        "serviceAccountName": format!("app-{}", i % 50),
        "containers": [{
            "name": "app",
            "image": format!("registry.example.com/team-{}/app:{}.{}.0", i % 40, i % 7, i % 13),
            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
            "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "DB_HOST", "value": format!("db-{}.svc", i % 20)}],
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
            "securityContext": security,
            "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10},
            "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}]
        }, {
            "name": "proxy",
            "image": "docker.io/envoyproxy/envoy:v1.31.0",
            "args": ["--config-path", "/etc/envoy/envoy.yaml"],
            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}}
        }],
        "volumes": [{"name": "config", "configMap": {"name": format!("app-{}", i % 500)}}]
    })
}

fn generate() -> Vec<Value> {
    let ns = |i: usize| format!("team-{}", i % 200);
    let meta = |name: String, i: usize| json!({"name": name, "namespace": ns(i), "labels": {"app": format!("app-{}", i % 100), "team": ns(i)}});
    let mut out = Vec::with_capacity(50_000);
    for i in 0..200 {
        out.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns(i),
            "labels": {"pod-security.kubernetes.io/enforce": if i % 3 == 0 { "restricted" } else { "baseline" }}}}));
    }
    for i in 0..100 {
        out.push(
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": format!("node-{i}")},
            "status": {"nodeInfo": {"kubeletVersion": "v1.33.1"}}}),
        );
    }
    for i in 0..10_000 {
        out.push(json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta(format!("app-{i}"), i),
            "spec": pod_spec(i, i % 2 == 0), "status": {"phase": "Running", "podIP": format!("10.1.{}.{}", i / 250, i % 250)}}));
    }
    for (kind, group, n) in [
        ("Deployment", "apps/v1", 2_500),
        ("ReplicaSet", "apps/v1", 2_500),
        ("StatefulSet", "apps/v1", 500),
        ("DaemonSet", "apps/v1", 100),
        ("Job", "batch/v1", 1_000),
    ] {
        for i in 0..n {
            out.push(json!({"apiVersion": group, "kind": kind, "metadata": meta(format!("{}-{i}", kind.to_lowercase()), i),
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": format!("app-{}", i % 100)}},
                    "template": {"metadata": {"labels": {"app": format!("app-{}", i % 100)}}, "spec": pod_spec(i, i % 3 != 0)}}}));
        }
    }
    for i in 0..400 {
        out.push(json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta(format!("cron-{i}"), i),
            "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": {"spec": pod_spec(i, true)}}}}}));
    }
    for i in 0..12_000 {
        out.push(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(format!("app-{i}"), i),
            "data": {"app.yaml": format!("listen: 8080\nupstream: db-{}.svc:5432\nlog: info\n", i % 20)}}));
    }
    for i in 0..8_000 {
        out.push(
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": meta(format!("app-{i}"), i),
            "type": "Opaque", "data": {"password": "c2VjcmV0"}}),
        );
    }
    for i in 0..4_000 {
        out.push(json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(format!("app-{i}"), i)}));
    }
    for (kind, n) in [("Role", 4_000), ("RoleBinding", 4_000)] {
        for i in 0..n {
            let mut o = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta(format!("app-{i}"), i)});
            if kind == "Role" {
                o["rules"] = json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]);
            } else {
                o["subjects"] = json!([{"kind": "ServiceAccount", "name": format!("app-{}", i % 50), "namespace": ns(i)}]);
                o["roleRef"] = json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": format!("app-{i}")});
            }
            out.push(o);
        }
    }
    for i in 0..700 {
        out.push(json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta(format!("np-{i}"), i),
            "spec": {"podSelector": {"matchLabels": {"app": format!("app-{}", i % 100)}}, "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": {}}]}]}}));
    }
    out.extend(apidouble::cluster_basics());
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/tmp/bench.kubeconfig".into());
    let objects = generate();
    let double = Arc::new(apidouble::Double::new(
        objects,
        apidouble::Faults::default(),
    ));
    let pods = double.objects[&(String::new(), "pods".to_owned())].len();
    let addr = apidouble::serve(Arc::clone(&double)).await;
    std::fs::write(&path, apidouble::kubeconfig(addr, &double.token, false)).unwrap();
    eprintln!(
        "serving {} objects ({pods} pods) at http://{addr}; kubeconfig {path}",
        double.count()
    );
    std::future::pending::<()>().await;
}
