//! The summary of a workload that the cross-object rules read (service account, pod labels,
//! ports, host network, mesh annotations), made once per object with a pod template: the scan
//! and `kubeharden query` summarise a workload the same way.

use crate::analysis::{mesh, system};
use crate::inventory::{Object, PodTemplate, Workload, string_map};

/// The summary of `object`, whose pod template is `template`. A patched kustomize-rendered
/// object is located where it starts in its resource file.
pub fn summary(object: &Object, template: &PodTemplate) -> Workload {
    let start = object.written_at("");
    Workload {
        kind: object.kind.as_str().into(),
        api_version: object.api_version.as_str().into(),
        name: object.name.as_str().into(),
        namespace: object.effective_namespace().unwrap_or("default").into(),
        origin: start
            .as_ref()
            .map_or_else(|| object.source.name.clone(), |w| w.file.clone()),
        line: start.as_ref().map_or(object.root.pos.line, |w| w.pos.line),
        column: start.as_ref().map_or(object.root.pos.col, |w| w.pos.col),
        helm_source: object.helm_source.clone(),
        automount_token: template
            .spec
            .get("automountServiceAccountToken")
            .and_then(|n| n.as_bool()),
        static_pod: system::is_static_pod(object),
        host_network: system::host_network(template),
        named_ports: template
            .containers()
            .flat_map(|c| {
                c.field("ports")
                    .map(|p| p.items())
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(|p| {
                        let name = p.get("name")?.as_str()?.to_owned();
                        let port = p.get("containerPort")?.as_i64()?;
                        let proto = p
                            .get("protocol")
                            .and_then(|n| n.as_str())
                            .unwrap_or("TCP")
                            .to_owned();
                        Some((name, port, proto))
                    })
            })
            .collect(),
        ignore: crate::rules::ignore_list(object),
        mesh_annotations: mesh::template_mesh_annotations(template),
        pod_labels: string_map(template.metadata.and_then(|m| m.get("labels"))),
        service_account: template
            .spec
            .get("serviceAccountName")
            .or_else(|| template.spec.get("serviceAccount"))
            .and_then(|n| n.text())
            .unwrap_or("default")
            .into(),
    }
}
