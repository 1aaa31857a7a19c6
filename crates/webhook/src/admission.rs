//! `admission.k8s.io/v1` AdmissionReview, as the API server sends and reads it (only the fields
//! this webhook uses; unknown fields are ignored, as the API server may add some). Parsed with
//! serde rather than kube-rs/k8s-openapi: the object stays a borrowed raw JSON slice, handed to
//! the engine's loader as is (JSON is YAML).

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// A missing field or `null` is the type's default (the API server omits empty fields; other
/// senders write `null`).
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The request body: `{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
/// "request": {...}}`.
#[derive(Debug, Deserialize)]
pub struct ReviewIn<'a> {
    #[serde(rename = "apiVersion", default, deserialize_with = "null_default")]
    pub api_version: String,
    #[serde(default, deserialize_with = "null_default")]
    pub kind: String,
    #[serde(borrow)]
    pub request: Option<Request<'a>>,
}

/// `metav1.GroupVersionKind`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct GroupVersionKind {
    #[serde(default, deserialize_with = "null_default")]
    pub group: String,
    #[serde(default, deserialize_with = "null_default")]
    pub version: String,
    #[serde(default, deserialize_with = "null_default")]
    pub kind: String,
}

/// `metav1.GroupVersionResource`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct GroupVersionResource {
    #[serde(default, deserialize_with = "null_default")]
    pub group: String,
    #[serde(default, deserialize_with = "null_default")]
    pub version: String,
    #[serde(default, deserialize_with = "null_default")]
    pub resource: String,
}

/// `authenticationv1.UserInfo`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct UserInfo {
    #[serde(default, deserialize_with = "null_default")]
    pub username: String,
    #[serde(default, deserialize_with = "null_default")]
    pub groups: Vec<String>,
}

/// `admissionv1.AdmissionRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request<'a> {
    pub uid: String,
    #[serde(default, deserialize_with = "null_default")]
    pub kind: GroupVersionKind,
    #[serde(default, deserialize_with = "null_default")]
    pub resource: GroupVersionResource,
    #[serde(default, deserialize_with = "null_default")]
    pub sub_resource: String,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub namespace: String,
    /// CREATE, UPDATE, DELETE or CONNECT.
    #[serde(default, deserialize_with = "null_default")]
    pub operation: String,
    #[serde(default, deserialize_with = "null_default")]
    pub user_info: UserInfo,
    /// The object as admitted (absent or `null` for DELETE).
    #[serde(borrow, default)]
    pub object: Option<&'a RawValue>,
    /// The existing object (UPDATE and DELETE).
    #[serde(borrow, default)]
    pub old_object: Option<&'a RawValue>,
    #[serde(default)]
    pub dry_run: Option<bool>,
}

impl Request<'_> {
    pub fn is_dry_run(&self) -> bool {
        self.dry_run == Some(true)
    }
}

/// The response body.
#[derive(Debug, Serialize)]
pub struct ReviewOut {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: &'static str,
    pub response: Response,
}

/// `admissionv1.AdmissionResponse`.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    pub uid: String,
    pub allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// `JSONPatch` when `patch` is set (`/mutate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch_type: Option<&'static str>,
    /// Base64 of the RFC 6902 patch (`/mutate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    /// Recorded by the API server in its audit log under `<webhook name>/<key>`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub audit_annotations: BTreeMap<String, String>,
}

/// `metav1.Status` of a denial: the API server returns `message` to the client.
#[derive(Debug, Serialize)]
pub struct Status {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
}

/// The AdmissionReview versions this webhook answers (the response echoes the request's).
pub const VERSIONS: [&str; 2] = ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"];
