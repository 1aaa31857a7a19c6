//! Managed clusters (EKS, GKE, AKS): what their configuration says about the control plane the
//! provider runs, read offline from an eksctl `ClusterConfig`, Terraform resources
//! (`kubeharden_model::terraform`) or the cloud CLIs' JSON (`kubeharden_model::cloud`).
//!
//! Each question (endpoint exposure, audit-log export, envelope encryption of Secrets, static
//! credentials) gets a [`Verdict`] with the exact field it was read from. A value that is a
//! Terraform expression that cannot be resolved offline (`module.x.y`, a function call, a variable
//! of another file) gives [`Verdict::Unresolved`]: the question is then not assessed, never
//! guessed. Defaults are the provider's documented defaults when a field is not written.

use crate::inventory::Object;
use kubeharden_model::cloud as cli;
use kubeharden_model::terraform;
use kubeharden_model::yaml::Node;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    Eks,
    Gke,
    Aks,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Eksctl,
    Terraform,
    /// A Terraform `module` block calling a registry module (see
    /// `kubeharden_model::terraform::module_source`): its inputs, and the module's defaults where
    /// an input is absent.
    Module,
    Cli,
}

/// A managed cluster's configuration.
pub struct Cluster<'a> {
    pub object: &'a Object,
    pub provider: Provider,
    pub format: Format,
}

/// The answer to one question about a managed cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// A problem, at the pointer of the field (or its nearest written parent) that settles it.
    Fail(String, String),
    /// A value that cannot be resolved offline: the pointer and the expression.
    Unresolved(String, String),
    /// The question is not read from this configuration (kept out of the evidence).
    Unknown,
}

/// A field read from the configuration.
enum Val<'a> {
    Missing,
    Unresolved(String, String),
    Set(&'a Node, String),
}

pub fn cluster(o: &Object) -> Option<Cluster<'_>> {
    let (provider, format) = match (o.kind.as_str(), o.group()) {
        ("ClusterConfig", "eksctl.io") => (Provider::Eks, Format::Eksctl),
        ("aws_eks_cluster", "terraform") => (Provider::Eks, Format::Terraform),
        ("google_container_cluster", "terraform") => (Provider::Gke, Format::Terraform),
        ("azurerm_kubernetes_cluster", "terraform") => (Provider::Aks, Format::Terraform),
        (cli::EKS_KIND, "aws-cli") => (Provider::Eks, Format::Cli),
        (cli::GKE_KIND, "gcloud") => (Provider::Gke, Format::Cli),
        (cli::AKS_KIND, "az-cli") => (Provider::Aks, Format::Cli),
        (terraform::MODULE_KIND, "terraform") => {
            let provider = match o
                .root
                .get("source")
                .and_then(Node::as_str)
                .and_then(terraform::module_source)?
            {
                "eks" => Provider::Eks,
                "gke" => Provider::Gke,
                _ => Provider::Aks,
            };
            (provider, Format::Module)
        }
        _ => return None,
    };
    Some(Cluster {
        object: o,
        provider,
        format,
    })
}

const ANY: &[&str] = &["0.0.0.0/0", "::/0"];

impl<'a> Cluster<'a> {
    /// What the configuration is, for messages: `EKS cluster (eksctl ClusterConfig)`.
    pub fn describe(&self) -> String {
        let p = match self.provider {
            Provider::Eks => "EKS",
            Provider::Gke => "GKE",
            Provider::Aks => "AKS",
        };
        let f = match self.format {
            Format::Eksctl => "eksctl ClusterConfig".to_owned(),
            Format::Terraform => "Terraform".to_owned(),
            Format::Module => format!(
                "Terraform module `{}`",
                self.object
                    .root
                    .get("source")
                    .and_then(Node::as_str)
                    .unwrap_or("")
            ),
            Format::Cli => "cloud CLI output".to_owned(),
        };
        format!("{p} cluster `{}` ({f})", self.object.name)
    }

    fn get(&self, pointer: &str) -> Val<'a> {
        let pointer = match (self.provider, self.format) {
            (Provider::Eks, Format::Cli) => format!("/cluster{pointer}"),
            _ => pointer.to_owned(),
        };
        // An unresolved value on the way makes everything below it unresolved.
        let mut node = &self.object.root;
        let mut at = String::new();
        for part in pointer.split('/').skip(1) {
            if terraform::is_unresolved(node) {
                return Val::Unresolved(at, node.text().unwrap_or("").to_owned());
            }
            let next = match part.parse::<usize>() {
                Ok(i) if node.is_seq() => node.items().get(i),
                _ => node.get(part),
            };
            at.push('/');
            at.push_str(part);
            match next {
                Some(n) => node = n,
                None => return Val::Missing,
            }
        }
        if terraform::is_unresolved(node) {
            return Val::Unresolved(pointer, node.text().unwrap_or("").to_owned());
        }
        Val::Set(node, pointer)
    }

    /// The pointer of the nearest written parent of `pointer` (where to report a missing field).
    fn nearest(&self, pointer: &str) -> String {
        let mut p = pointer.to_owned();
        while !p.is_empty() {
            if matches!(self.get(&p), Val::Set(..)) {
                return match (self.provider, self.format) {
                    (Provider::Eks, Format::Cli) => format!("/cluster{p}"),
                    _ => p,
                };
            }
            p.truncate(p.rfind('/').unwrap_or(0));
        }
        String::new()
    }

    /// The input name of `terraform-aws-modules/eks/aws`: v21 renamed the cluster inputs
    /// (`cluster_endpoint_public_access` → `endpoint_public_access`…); the generation is told by
    /// the names written.
    fn eks_input(&self, v20: &'static str, v21: &'static str) -> &'static str {
        const V21_ONLY: &[&str] = &[
            "/endpoint_public_access",
            "/endpoint_public_access_cidrs",
            "/enabled_log_types",
            "/encryption_config",
            "/kubernetes_version",
            "/name",
        ];
        if V21_ONLY
            .iter()
            .any(|p| self.object.root.pointer(p).is_some())
        {
            v21
        } else {
            v20
        }
    }

    /// A boolean field, its default when missing.
    fn flag(&self, pointer: &str, default: bool) -> Result<(bool, String), Verdict> {
        match self.get(pointer) {
            Val::Missing => Ok((default, self.nearest(pointer))),
            Val::Unresolved(p, e) => Err(Verdict::Unresolved(p, e)),
            Val::Set(n, p) => match n.as_bool() {
                Some(b) => Ok((b, p)),
                None => Err(Verdict::Unresolved(p, n.text().unwrap_or("").to_owned())),
            },
        }
    }

    /// A list of strings (`None` when missing).
    fn strings(&self, pointer: &str) -> Result<Option<(Vec<String>, String)>, Verdict> {
        match self.get(pointer) {
            Val::Missing => Ok(None),
            Val::Unresolved(p, e) => Err(Verdict::Unresolved(p, e)),
            Val::Set(n, p) => {
                let mut out = Vec::new();
                for item in n.items() {
                    if terraform::is_unresolved(item) {
                        return Err(Verdict::Unresolved(p, item.text().unwrap_or("").to_owned()));
                    }
                    out.extend(item.text().map(str::to_owned));
                }
                Ok(Some((out, p)))
            }
        }
    }

    /// A string field (`None` when missing or empty).
    fn string(&self, pointer: &str) -> Result<Option<(String, String)>, Verdict> {
        match self.get(pointer) {
            Val::Missing => Ok(None),
            Val::Unresolved(p, e) => Err(Verdict::Unresolved(p, e)),
            Val::Set(n, p) => Ok(n
                .text()
                .filter(|t| !t.is_empty() && *t != "null")
                .map(|t| (t.to_owned(), p))),
        }
    }

    /// Rule 1: is the API server's endpoint reachable from the whole Internet?
    pub fn endpoint(&self) -> Verdict {
        self.endpoint_inner().unwrap_or_else(|v| v)
    }

    fn endpoint_inner(&self) -> Result<Verdict, Verdict> {
        let open = |cidrs: &[String]| cidrs.iter().any(|c| ANY.contains(&c.as_str()));
        match self.provider {
            Provider::Eks => {
                let (public, cidrs) = match self.format {
                    Format::Eksctl => (
                        "/vpc/clusterEndpoints/publicAccess",
                        "/vpc/publicAccessCIDRs",
                    ),
                    Format::Terraform => (
                        "/vpc_config/0/endpoint_public_access",
                        "/vpc_config/0/public_access_cidrs",
                    ),
                    Format::Module => (
                        self.eks_input(
                            "/cluster_endpoint_public_access",
                            "/endpoint_public_access",
                        ),
                        self.eks_input(
                            "/cluster_endpoint_public_access_cidrs",
                            "/endpoint_public_access_cidrs",
                        ),
                    ),
                    Format::Cli => (
                        "/resourcesVpcConfig/endpointPublicAccess",
                        "/resourcesVpcConfig/publicAccessCidrs",
                    ),
                };
                // EKS (and eksctl) default: a public endpoint, open to 0.0.0.0/0. The module's
                // default is a private endpoint (`cluster_endpoint_public_access`/
                // `endpoint_public_access` default `false` in terraform-aws-eks v19–v21
                // variables.tf); its CIDRs default to ["0.0.0.0/0"], read as an absent list.
                let (is_public, at) = self.flag(public, self.format != Format::Module)?;
                if !is_public {
                    return Ok(Verdict::Pass);
                }
                match self.strings(cidrs)? {
                    Some((list, _)) if !list.is_empty() && !open(&list) => Ok(Verdict::Pass),
                    Some((list, p2)) if !list.is_empty() => Ok(Verdict::Fail(
                        p2,
                        format!(
                            "{}: the API server endpoint is public and open to {} (`{}`)",
                            self.describe(),
                            list.iter()
                                .find(|c| ANY.contains(&c.as_str()))
                                .expect("open"),
                            leaf(cidrs)
                        ),
                    )),
                    _ => Ok(Verdict::Fail(
                        at,
                        format!(
                            "{}: the API server endpoint is public (`{}`) with no `{}`, so it is open to 0.0.0.0/0",
                            self.describe(),
                            leaf(public),
                            leaf(cidrs)
                        ),
                    )),
                }
            }
            Provider::Gke => {
                let (private, networks, blocks, cidr) = match self.format {
                    Format::Cli => (
                        "/privateClusterConfig/enablePrivateEndpoint",
                        "/masterAuthorizedNetworksConfig",
                        "/masterAuthorizedNetworksConfig/cidrBlocks",
                        "cidrBlock",
                    ),
                    // terraform-google-modules/kubernetes-engine (private-cluster submodules,
                    // variables.tf): `enable_private_endpoint` default false,
                    // `master_authorized_networks` default [] (then the module writes no
                    // `master_authorized_networks_config`: no restriction).
                    Format::Module => (
                        "/enable_private_endpoint",
                        "/master_authorized_networks/0",
                        "/master_authorized_networks",
                        "cidr_block",
                    ),
                    _ => (
                        "/private_cluster_config/0/enable_private_endpoint",
                        "/master_authorized_networks_config/0",
                        "/master_authorized_networks_config/0/cidr_blocks",
                        "cidr_block",
                    ),
                };
                if self.flag(private, false)?.0 {
                    return Ok(Verdict::Pass);
                }
                let enabled = match (self.format, self.get(networks)) {
                    (_, Val::Missing) => false,
                    (Format::Cli, _) => {
                        self.flag("/masterAuthorizedNetworksConfig/enabled", false)?
                            .0
                    }
                    _ => true,
                };
                if !enabled {
                    return Ok(Verdict::Fail(
                        self.nearest(networks),
                        format!(
                            "{}: the API server endpoint is public and no master authorized networks restrict it, so it is open to 0.0.0.0/0",
                            self.describe()
                        ),
                    ));
                }
                let mut list = Vec::new();
                if let Val::Set(n, _) = self.get(blocks) {
                    for (i, _) in n.items().iter().enumerate() {
                        if let Some((c, at)) = self.string(&format!("{blocks}/{i}/{cidr}"))? {
                            list.push((c, at));
                        }
                    }
                    if let Some((c, at)) = list.iter().find(|(c, _)| ANY.contains(&c.as_str())) {
                        return Ok(Verdict::Fail(
                            at.clone(),
                            format!(
                                "{}: the API server endpoint is public and its authorized networks include {c}",
                                self.describe()
                            ),
                        ));
                    }
                }
                Ok(Verdict::Pass)
            }
            Provider::Aks => {
                let (private, ranges, legacy) = match self.format {
                    Format::Cli => (
                        "/apiServerAccessProfile/enablePrivateCluster",
                        "/apiServerAccessProfile/authorizedIpRanges",
                        None,
                    ),
                    _ => (
                        "/private_cluster_enabled",
                        "/api_server_access_profile/0/authorized_ip_ranges",
                        Some("/api_server_authorized_ip_ranges"),
                    ),
                };
                if self.flag(private, false)?.0 {
                    return Ok(Verdict::Pass);
                }
                let mut found = self.strings(ranges)?;
                if found.is_none()
                    && let Some(l) = legacy
                {
                    found = self.strings(l)?;
                }
                match found {
                    Some((list, p)) if !list.is_empty() => {
                        match list.iter().find(|c| ANY.contains(&c.as_str())) {
                            Some(c) => Ok(Verdict::Fail(
                                p,
                                format!(
                                    "{}: the API server endpoint is public and its authorized IP ranges include {c}",
                                    self.describe()
                                ),
                            )),
                            None => Ok(Verdict::Pass),
                        }
                    }
                    _ => Ok(Verdict::Fail(
                        self.nearest(private),
                        format!(
                            "{}: the API server endpoint is public (not a private cluster) with no authorized IP ranges, so it is open to 0.0.0.0/0",
                            self.describe()
                        ),
                    )),
                }
            }
        }
    }

    /// Rule 4: are the API server's audit logs exported where they are kept?
    pub fn audit_logs(&self) -> Verdict {
        self.audit_inner().unwrap_or_else(|v| v)
    }

    fn audit_inner(&self) -> Result<Verdict, Verdict> {
        let has_audit = |l: &[String]| {
            l.iter()
                .any(|t| matches!(t.as_str(), "audit" | "*" | "all"))
        };
        match (self.provider, self.format) {
            (Provider::Eks, Format::Cli) => {
                let Val::Set(entries, _) = self.get("/logging/clusterLogging") else {
                    return Ok(self.no_audit("/logging/clusterLogging", "logging.clusterLogging"));
                };
                for (i, _) in entries.items().iter().enumerate() {
                    let enabled = self
                        .flag(&format!("/logging/clusterLogging/{i}/enabled"), false)?
                        .0;
                    if let Some((types, _)) =
                        self.strings(&format!("/logging/clusterLogging/{i}/types"))?
                        && enabled
                        && has_audit(&types)
                    {
                        return Ok(Verdict::Pass);
                    }
                }
                Ok(self.no_audit("/logging/clusterLogging", "logging.clusterLogging"))
            }
            (Provider::Eks, f) => {
                let at = match f {
                    Format::Eksctl => "/cloudWatch/clusterLogging/enableTypes",
                    Format::Module => {
                        self.eks_input("/cluster_enabled_log_types", "/enabled_log_types")
                    }
                    _ => "/enabled_cluster_log_types",
                };
                match self.strings(at)? {
                    Some((list, _)) if has_audit(&list) => Ok(Verdict::Pass),
                    // The module's default: ["audit", "api", "authenticator"] (terraform-aws-eks
                    // v19–v21 variables.tf).
                    None if f == Format::Module => Ok(Verdict::Pass),
                    _ => Ok(self.no_audit(at, leaf(at))),
                }
            }
            // GKE writes the API server's Admin Activity audit logs to Cloud Audit Logs always
            // (they cannot be disabled).
            (Provider::Gke, _) => Ok(Verdict::Pass),
            // AKS exports kube-audit only through a diagnostic setting, a separate resource
            // (see [`aks_audit`]); `az aks show` does not show diagnostic settings.
            (Provider::Aks, _) => Ok(Verdict::Unknown),
        }
    }

    fn no_audit(&self, pointer: &str, field: &str) -> Verdict {
        let at = match self.get(pointer) {
            Val::Set(_, p) => p,
            _ => self.nearest(pointer),
        };
        Verdict::Fail(
            at,
            format!(
                "{}: the API server's `audit` log type is not exported (`{field}`): who did what in the cluster is not recorded anywhere you keep",
                self.describe()
            ),
        )
    }

    /// Rule 14: are Secrets envelope-encrypted with a key the customer controls?
    pub fn encryption(&self) -> Verdict {
        self.encryption_inner().unwrap_or_else(|v| v)
    }

    fn encryption_inner(&self) -> Result<Verdict, Verdict> {
        let fail = |at: String, field: &str| {
            Verdict::Fail(
                at,
                format!(
                    "{}: Secrets are not envelope-encrypted with a KMS key you control (no `{field}`)",
                    self.describe()
                ),
            )
        };
        match (self.provider, self.format) {
            (Provider::Eks, Format::Module) => self.eks_module_encryption(),
            (Provider::Aks, Format::Module) => {
                // Azure/aks/azurerm variables.tf: `kms_enabled` default false,
                // `kms_key_vault_key_id` default null.
                let (on, at) = self.flag("/kms_enabled", false)?;
                if !on {
                    return Ok(fail(at, "kms_enabled = true with kms_key_vault_key_id"));
                }
                match self.string("/kms_key_vault_key_id")? {
                    Some(_) => Ok(Verdict::Pass),
                    None => Ok(fail(at, "kms_key_vault_key_id")),
                }
            }
            (Provider::Eks, Format::Eksctl) => match self.string("/secretsEncryption/keyARN")? {
                Some(_) => Ok(Verdict::Pass),
                None => Ok(fail(
                    self.nearest("/secretsEncryption/keyARN"),
                    "secretsEncryption.keyARN",
                )),
            },
            (Provider::Eks, f) => {
                let (base, key, res) = if f == Format::Cli {
                    ("/encryptionConfig", "provider/keyArn", "resources")
                } else {
                    ("/encryption_config", "provider/0/key_arn", "resources")
                };
                if let Val::Set(list, _) = self.get(base) {
                    for (i, _) in list.items().iter().enumerate() {
                        let key_set = self.string(&format!("{base}/{i}/{key}"))?.is_some();
                        let secrets = self
                            .strings(&format!("{base}/{i}/{res}"))?
                            .is_some_and(|(r, _)| r.iter().any(|r| r == "secrets"));
                        if key_set && secrets {
                            return Ok(Verdict::Pass);
                        }
                    }
                }
                let field = if f == Format::Cli {
                    "encryptionConfig[].provider.keyArn"
                } else {
                    "encryption_config { provider { key_arn } resources = [\"secrets\"] }"
                };
                Ok(fail(self.nearest(&format!("{base}/0/{key}")), field))
            }
            (Provider::Gke, f) => {
                let (state, key) = if f == Format::Cli {
                    ("/databaseEncryption/state", "/databaseEncryption/keyName")
                } else {
                    (
                        "/database_encryption/0/state",
                        "/database_encryption/0/key_name",
                    )
                };
                let st = self.string(state)?;
                let k = self.string(key)?;
                match (st, k) {
                    (Some((s, _)), Some(_)) if s == "ENCRYPTED" => Ok(Verdict::Pass),
                    _ => Ok(fail(
                        self.nearest(state),
                        if f == Format::Cli {
                            "databaseEncryption.state: ENCRYPTED"
                        } else {
                            "database_encryption { state = \"ENCRYPTED\" }"
                        },
                    )),
                }
            }
            (Provider::Aks, f) => {
                if f == Format::Cli {
                    let (on, at) = self.flag("/securityProfile/azureKeyVaultKms/enabled", false)?;
                    return Ok(if on {
                        Verdict::Pass
                    } else {
                        fail(at, "securityProfile.azureKeyVaultKms")
                    });
                }
                match self.string("/key_management_service/0/key_vault_key_id")? {
                    Some(_) => Ok(Verdict::Pass),
                    None => Ok(fail(
                        self.nearest("/key_management_service/0/key_vault_key_id"),
                        "key_management_service.key_vault_key_id",
                    )),
                }
            }
        }
    }

    /// Rule 14 for `terraform-aws-modules/eks/aws`: Secrets are encrypted with the module's own
    /// KMS key (`create_kms_key`, default true) or `provider_key_arn`, unless the encryption
    /// input turns it off. Defaults (variables.tf): v19 `cluster_encryption_config =
    /// [{resources = ["secrets"]}]`, v20 `cluster_encryption_config = {resources = ["secrets"]}`
    /// (`{}` disables it: the module writes no `encryption_config` when the map is empty), v21
    /// `encryption_config = {}` with `resources` defaulting to ["secrets"] (`null` disables it).
    fn eks_module_encryption(&self) -> Result<Verdict, Verdict> {
        let input = self.eks_input("/cluster_encryption_config", "/encryption_config");
        let v21 = input == "/encryption_config";
        let d = self.describe();
        let fail = |at: String, why: &str| {
            Verdict::Fail(
                at,
                format!(
                    "{d}: Secrets are not envelope-encrypted with a KMS key you control ({why})"
                ),
            )
        };
        let config = match self.get(input) {
            Val::Unresolved(p, e) => return Err(Verdict::Unresolved(p, e)),
            Val::Missing => None,
            Val::Set(n, p) => {
                // v19's list form: its first element.
                let (n, p) = match n.items().first() {
                    Some(first) if n.is_seq() => (first, format!("{p}/0")),
                    _ => (n, p),
                };
                if n.is_null()
                    || (n.is_seq() && n.items().is_empty())
                    || (!v21 && n.is_map() && n.entries().is_empty())
                {
                    return Ok(fail(p, &format!("`{}` turns encryption off", leaf(input))));
                }
                Some(p)
            }
        };
        if let Some(p) = &config {
            if let Some((resources, at)) = self.strings(&format!("{p}/resources"))?
                && !resources.iter().any(|r| r == "secrets")
            {
                return Ok(fail(at, "`resources` does not name `secrets`"));
            }
            if self.string(&format!("{p}/provider_key_arn"))?.is_some() {
                return Ok(Verdict::Pass);
            }
        }
        let (create, at) = self.flag("/create_kms_key", true)?;
        if create {
            Ok(Verdict::Pass)
        } else {
            Ok(fail(
                at,
                "`create_kms_key = false` and no `provider_key_arn`",
            ))
        }
    }

    /// Rule 5: static credentials and authorization that bypass the identity provider: local
    /// accounts (AKS), legacy ABAC, basic auth and client certificates (GKE). EKS has none.
    pub fn authentication(&self) -> Vec<Verdict> {
        match self.auth_inner() {
            Ok(v) => v,
            Err(v) => vec![v],
        }
    }

    fn auth_inner(&self) -> Result<Vec<Verdict>, Verdict> {
        let mut out = Vec::new();
        let d = self.describe();
        match (self.provider, self.format) {
            (Provider::Eks, _) => {}
            (Provider::Gke, f) => {
                let cli = f == Format::Cli;
                if f == Format::Module {
                    // terraform-google-modules/kubernetes-engine: `issue_client_certificate`
                    // default false; basic auth and legacy ABAC are not inputs of current
                    // versions (read if written).
                    for (input, what) in [
                        (
                            "/enable_legacy_abac",
                            "legacy ABAC is enabled: every authenticated identity can be granted access outside RBAC",
                        ),
                        (
                            "/issue_client_certificate",
                            "a client certificate is issued: a static credential that cannot be revoked",
                        ),
                    ] {
                        let (on, at) = self.flag(input, false)?;
                        if on {
                            out.push(Verdict::Fail(at, format!("{d}: {what}")));
                        }
                    }
                    if let Some((_, at)) = self.string("/basic_auth_username")? {
                        out.push(Verdict::Fail(
                            at,
                            format!("{d}: basic authentication (a static username and password) is enabled"),
                        ));
                    }
                    if out.is_empty() {
                        out.push(Verdict::Pass);
                    }
                    return Ok(out);
                }
                let abac = if cli {
                    "/legacyAbac/enabled"
                } else {
                    "/enable_legacy_abac"
                };
                let (on, at) = self.flag(abac, false)?;
                if on {
                    out.push(Verdict::Fail(at, format!("{d}: legacy ABAC is enabled: every authenticated identity can be granted access outside RBAC")));
                }
                let user = if cli {
                    "/masterAuth/username"
                } else {
                    "/master_auth/0/username"
                };
                if let Some((_, at)) = self.string(user)? {
                    out.push(Verdict::Fail(
                        at,
                        format!(
                            "{d}: basic authentication (a static username and password) is enabled"
                        ),
                    ));
                }
                let cert = if cli {
                    "/masterAuth/clientCertificateConfig/issueClientCertificate"
                } else {
                    "/master_auth/0/client_certificate_config/0/issue_client_certificate"
                };
                let (on, at) = self.flag(cert, false)?;
                if on {
                    out.push(Verdict::Fail(at, format!("{d}: a client certificate is issued: a static credential that cannot be revoked")));
                }
            }
            (Provider::Aks, f) => {
                let (disabled, at) = if f == Format::Cli {
                    self.flag("/disableLocalAccounts", false)?
                } else {
                    self.flag("/local_account_disabled", false)?
                };
                if !disabled {
                    out.push(Verdict::Fail(at, format!("{d}: local accounts are enabled: `az aks get-credentials --admin` hands out a static cluster-admin credential that bypasses Microsoft Entra ID")));
                }
            }
        }
        if out.is_empty() {
            out.push(Verdict::Pass);
        }
        Ok(out)
    }
}

/// What an AKS diagnostic setting (Terraform `azurerm_monitor_diagnostic_setting`) is attached to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiagnosticTarget {
    /// `azurerm_kubernetes_cluster.NAME.id` (also `NAME[0]`, `NAME["k"]`): the resource `NAME`.
    Resource(String),
    /// `module.NAME.aks_id` (the `Azure/aks/azurerm` module's output): the module `NAME`.
    Module(String),
    /// A literal resource ID ending in `/managedClusters/NAME`: the cluster whose `name` is NAME.
    ClusterName(String),
    /// Another resource, or an expression that cannot be resolved offline (`var.aks_id` without
    /// a default, `module.aks.id`).
    Unresolved(String),
    /// A literal ID of something else than an AKS cluster.
    Other,
}

/// Does a diagnostic setting export the API server's audit log?
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditExport {
    /// Yes: the pointer of the category (`kube-audit`, `kube-audit-admin`, or the category
    /// group `audit`/`allLogs`).
    Yes(String),
    No,
    /// A category is an expression that cannot be resolved offline.
    Unresolved,
}

/// An `azurerm_monitor_diagnostic_setting`: its target and whether it exports kube-audit.
pub struct DiagnosticSetting<'a> {
    pub object: &'a Object,
    pub target: DiagnosticTarget,
    pub audit: AuditExport,
}

pub fn diagnostic_setting(o: &Object) -> Option<DiagnosticSetting<'_>> {
    if o.kind != "azurerm_monitor_diagnostic_setting" || o.group() != "terraform" {
        return None;
    }
    let target = match o.root.get("target_resource_id") {
        None => DiagnosticTarget::Other,
        Some(n) if terraform::is_unresolved(n) => {
            let text = n.text().unwrap_or("");
            let module = text
                .strip_prefix("module.")
                .and_then(|rest| rest.strip_suffix(".aks_id"))
                .filter(|n| !n.is_empty() && !n.contains(['.', '[']));
            match text
                .strip_prefix("azurerm_kubernetes_cluster.")
                .and_then(|rest| {
                    let end = rest.find(['.', '[']).unwrap_or(rest.len());
                    rest.ends_with(".id").then(|| rest[..end].to_owned())
                }) {
                Some(name) if !name.is_empty() => DiagnosticTarget::Resource(name),
                _ => match module {
                    Some(name) => DiagnosticTarget::Module(name.to_owned()),
                    None => DiagnosticTarget::Unresolved(text.to_owned()),
                },
            }
        }
        Some(n) => {
            let id = n.text().unwrap_or("");
            match id
                .to_ascii_lowercase()
                .find("/providers/microsoft.containerservice/managedclusters/")
            {
                Some(at) => DiagnosticTarget::ClusterName(
                    id[at..].rsplit('/').next().unwrap_or("").to_owned(),
                ),
                None => DiagnosticTarget::Other,
            }
        }
    };
    let mut audit = AuditExport::No;
    let mut unresolved = false;
    'blocks: for block in ["enabled_log", "log"] {
        let Some(list) = o.root.get(block) else {
            continue;
        };
        for (i, b) in list.items().iter().enumerate() {
            // The deprecated `log` block has `enabled` (default true).
            if b.get("enabled").and_then(Node::as_bool) == Some(false) {
                continue;
            }
            for (key, wanted) in [
                ("category", &["kube-audit", "kube-audit-admin"][..]),
                ("category_group", &["audit", "allLogs"][..]),
            ] {
                let Some(v) = b.get(key) else { continue };
                if terraform::is_unresolved(v) {
                    unresolved = true;
                } else if v.text().is_some_and(|t| wanted.contains(&t)) {
                    audit = AuditExport::Yes(format!("/{block}/{i}/{key}"));
                    break 'blocks;
                }
            }
        }
    }
    if unresolved && audit == AuditExport::No {
        audit = AuditExport::Unresolved;
    }
    Some(DiagnosticSetting {
        object: o,
        target,
        audit,
    })
}

/// The directory of an object's file: Terraform resources refer to each other within one module
/// (one directory).
fn module_dir(o: &Object) -> &std::path::Path {
    std::path::Path::new(&o.source.name)
        .parent()
        .unwrap_or(std::path::Path::new(""))
}

impl DiagnosticSetting<'_> {
    /// Is this setting attached to this AKS cluster (a Terraform resource of the same module, or
    /// the cluster's resource ID written out)?
    pub fn targets(&self, c: &Cluster) -> bool {
        match &self.target {
            DiagnosticTarget::Resource(name) => {
                c.format == Format::Terraform
                    && *name == c.object.name
                    && module_dir(self.object) == module_dir(c.object)
            }
            DiagnosticTarget::Module(name) => {
                c.format == Format::Module
                    && *name == c.object.name
                    && module_dir(self.object) == module_dir(c.object)
            }
            DiagnosticTarget::ClusterName(name) => c
                .object
                .root
                .get("name")
                .and_then(Node::text)
                .is_some_and(|n| n.eq_ignore_ascii_case(name)),
            _ => false,
        }
    }

    /// Could this setting export kube-audit for a cluster we cannot tell (its target or its
    /// categories are expressions that cannot be resolved offline)?
    pub fn unresolved(&self) -> bool {
        matches!(
            (&self.target, &self.audit),
            (_, AuditExport::Unresolved) | (DiagnosticTarget::Unresolved(_), AuditExport::Yes(_))
        )
    }
}

/// Rule 4 for an AKS cluster written in Terraform: the API server's audit log leaves the cluster
/// only through a diagnostic setting (`azurerm_monitor_diagnostic_setting` with the category
/// `kube-audit` or `kube-audit-admin`, or the category group `audit`/`allLogs`) attached to it.
/// A failure is reported on the setting that omits kube-audit, or on the cluster when no setting
/// of the input targets it.
pub fn aks_audit<'a>(
    c: &Cluster<'a>,
    settings: &[DiagnosticSetting<'a>],
) -> Option<(&'a Object, String, String)> {
    let linked: Vec<&DiagnosticSetting> = settings.iter().filter(|s| s.targets(c)).collect();
    if linked
        .iter()
        .any(|s| matches!(s.audit, AuditExport::Yes(_)))
        || settings.iter().any(DiagnosticSetting::unresolved)
    {
        return None;
    }
    match linked.first() {
        Some(s) => Some((
            s.object,
            ["/enabled_log", "/log"]
                .into_iter()
                .find(|p| s.object.root.pointer(p).is_some())
                .unwrap_or("")
                .to_owned(),
            format!(
                "{}: its diagnostic setting `{}` does not export the `kube-audit` or `kube-audit-admin` log category: the API server's audit log is not kept anywhere you can read",
                c.describe(),
                s.object.name
            ),
        )),
        None => Some((
            c.object,
            String::new(),
            format!(
                "{}: no `azurerm_monitor_diagnostic_setting` of the input exports its `kube-audit` or `kube-audit-admin` log category: the API server's audit log is not kept anywhere you can read",
                c.describe()
            ),
        )),
    }
}

impl Cluster<'_> {
    /// Rule 3: an EKS cluster whose authentication mode is written as `CONFIG_MAP` (eksctl
    /// `accessConfig.authenticationMode`, Terraform `access_config.authentication_mode`, the
    /// CLI's `accessConfig.authenticationMode`): the IAM principal that created it holds
    /// `system:masters` invisibly and for good, and access entries cannot be used. An unwritten
    /// mode is not judged (its default depends on the tool: CONFIG_MAP for the EKS API and
    /// CloudFormation, API_AND_CONFIG_MAP for the console and eksctl).
    pub fn config_map_only(&self) -> Option<(String, String)> {
        match self.authentication_mode() {
            Some((mode, at)) if mode == "CONFIG_MAP" => Some((
                at,
                format!(
                    "{}: authentication mode `CONFIG_MAP`: the IAM principal that created the cluster holds `system:masters` for good, shown in no aws-auth entry, access entry or RBAC binding, and cannot be removed",
                    self.describe()
                ),
            )),
            _ => None,
        }
    }

    /// An EKS cluster's authentication mode as written (a literal, or a reference that
    /// resolves), with its pointer; `None` when not written or not resolvable.
    pub fn authentication_mode(&self) -> Option<(String, String)> {
        if self.provider != Provider::Eks {
            return None;
        }
        let pointer = match self.format {
            Format::Terraform => "/access_config/0/authentication_mode",
            // Not judged when absent (default `API_AND_CONFIG_MAP` in v20/v21 variables.tf).
            Format::Module => "/authentication_mode",
            _ => "/accessConfig/authenticationMode",
        };
        self.string(pointer).ok().flatten()
    }

    /// Rule 15 (eksctl): can pods get short-lived AWS credentials of their own? Yes with IRSA
    /// (`iam.withOIDC: true`, an IAM OIDC provider for the cluster) or EKS Pod Identity
    /// (`iam.podIdentityAssociations`, or the `eks-pod-identity-agent` addon). Without either, a
    /// pod that needs AWS uses the node's instance role (shared by every pod of the node) or
    /// long-lived access keys in Secrets. eksctl's default for `withOIDC` is false.
    pub fn workload_identity(&self) -> Option<(String, String)> {
        if self.format != Format::Eksctl {
            return None;
        }
        let o = &self.object.root;
        let oidc = o.pointer("/iam/withOIDC").and_then(Node::as_bool) == Some(true);
        let pod_identity = o
            .pointer("/iam/podIdentityAssociations")
            .is_some_and(|p| !p.items().is_empty())
            || o.get("addons").is_some_and(|a| {
                a.items()
                    .iter()
                    .any(|a| a.get("name").and_then(Node::text) == Some("eks-pod-identity-agent"))
            });
        if oidc || pod_identity {
            return None;
        }
        let at = if o.pointer("/iam/withOIDC").is_some() {
            "/iam/withOIDC"
        } else if o.get("iam").is_some() {
            "/iam"
        } else {
            ""
        };
        Some((
            at.to_owned(),
            format!(
                "{}: neither IRSA (`iam.withOIDC: true`) nor EKS Pod Identity (`iam.podIdentityAssociations`, the `eks-pod-identity-agent` addon): pods that need AWS get the node role's credentials, shared by every pod of the node, or long-lived access keys",
                self.describe()
            ),
        ))
    }
}

/// The last segment of a pointer (a field name for messages).
fn leaf(pointer: &str) -> &str {
    pointer
        .rsplit('/')
        .find(|s| s.parse::<usize>().is_err())
        .unwrap_or(pointer)
}

/// What evidence one object gives about a managed cluster (see `crate::evidence`).
#[derive(Default, Debug, PartialEq, Eq)]
pub struct CloudEvidence {
    /// A managed cluster's configuration.
    pub managed: bool,
    /// An EKS cluster's configuration (the EKS identity rules apply).
    pub eks: bool,
    pub endpoint: bool,
    pub audit_logs: bool,
    pub encryption: bool,
    pub authentication: bool,
    pub identities: bool,
    /// An AKS diagnostic setting that may export kube-audit for a cluster that cannot be told
    /// offline: the audit-log question is then not assessed.
    pub audit_logs_unresolved: bool,
    /// An eksctl ClusterConfig: how pods get AWS credentials is written in it.
    pub workload_identity: bool,
}

/// Is this object kept for the cross-object managed-cluster rules (a cluster, a diagnostic
/// setting, an aws-auth ConfigMap or access entry)?
pub fn retained(o: &Object) -> bool {
    cluster(o).is_some()
        || diagnostic_setting(o).is_some()
        || crate::analysis::cloud_identity::is_identity_source(o)
}

/// Does EKS ignore the `aws-auth` ConfigMap of this input? Only when the input holds EKS cluster
/// configurations and every one of them writes the authentication mode `API` (access entries
/// only: EKS no longer reads aws-auth). An unwritten or unresolvable mode, or no cluster in the
/// input, keeps aws-auth in force (never guessed).
pub fn aws_auth_ignored<'a>(objects: impl IntoIterator<Item = &'a Object>) -> bool {
    let mut eks = objects
        .into_iter()
        .filter_map(cluster)
        .filter(|c| c.provider == Provider::Eks)
        .peekable();
    eks.peek().is_some() && eks.all(|c| c.authentication_mode().is_some_and(|(m, _)| m == "API"))
}

fn resolved(v: &Verdict) -> bool {
    matches!(v, Verdict::Pass | Verdict::Fail(..))
}

pub fn evidence(o: &Object) -> CloudEvidence {
    if let Some(c) = cluster(o) {
        return CloudEvidence {
            managed: true,
            eks: c.provider == Provider::Eks,
            endpoint: resolved(&c.endpoint()),
            // An AKS cluster in Terraform is judged with the diagnostic settings of the input.
            audit_logs: resolved(&c.audit_logs())
                || (c.provider == Provider::Aks
                    && matches!(c.format, Format::Terraform | Format::Module)),
            encryption: resolved(&c.encryption()),
            authentication: c.authentication().iter().all(resolved),
            // A module's `access_entries` input.
            identities: crate::analysis::cloud_identity::is_identity_source(o),
            audit_logs_unresolved: false,
            workload_identity: c.format == Format::Eksctl,
        };
    }
    if let Some(d) = diagnostic_setting(o) {
        return CloudEvidence {
            audit_logs_unresolved: d.unresolved(),
            ..CloudEvidence::default()
        };
    }
    if crate::analysis::cloud_identity::is_identity_source(o) {
        return CloudEvidence {
            eks: true,
            identities: true,
            ..CloudEvidence::default()
        };
    }
    CloudEvidence::default()
}
