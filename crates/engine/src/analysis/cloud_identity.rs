//! EKS identities outside RBAC: the `aws-auth` ConfigMap (`mapRoles`/`mapUsers` into
//! `system:masters`) and EKS access entries with `AmazonEKSClusterAdminPolicy` (Terraform
//! `aws_eks_access_policy_association`, eksctl `accessConfig.accessEntries`). Each grant says
//! whether its principal is a person or automation (node roles, CI and deployment roles), as
//! the RBAC case does for Users, Groups and ServiceAccounts.

use crate::inventory::Object;
use kubeharden_model::terraform;
use kubeharden_model::yaml::{self, Node};

/// One principal holding cluster-admin through EKS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminGrant {
    /// The IAM ARN (`arn:aws:iam::…:user/alice`).
    pub arn: String,
    /// The Kubernetes username it is mapped to (aws-auth), if any.
    pub username: Option<String>,
    /// How it gets cluster-admin: `system:masters in aws-auth mapUsers`…
    pub through: String,
    /// The pointer of the field in the object.
    pub pointer: String,
    pub human: bool,
    pub break_glass: bool,
}

impl AdminGrant {
    pub fn describe(&self) -> String {
        let what = if self.arn.contains(":user/") {
            "IAM user"
        } else {
            "IAM role"
        };
        match &self.username {
            Some(u) => format!("{what} `{}` (username `{u}`)", self.arn),
            None => format!("{what} `{}`", self.arn),
        }
    }
}

/// Words in a role's or user's name that mark automation rather than a person.
const AUTOMATION: &[&str] = &[
    "node",
    "ci",
    "cd",
    "github",
    "gitlab",
    "jenkins",
    "terraform",
    "pipeline",
    "deploy",
    "automation",
    "argocd",
    "flux",
    "karpenter",
    "codebuild",
    "atlantis",
    "spacelift",
    "bot",
];

fn is_break_glass(s: &str) -> bool {
    let s = s.to_ascii_lowercase();
    s.contains("break-glass") || s.contains("breakglass") || s.contains("break_glass")
}

/// Is this principal automation (a node role, a CI or deployment role) rather than a person?
/// IAM users are people unless their name says otherwise; roles are assumed by people (SSO)
/// unless their name or mapping says they are nodes or pipelines.
pub fn is_automation(arn: &str, username: Option<&str>, groups: &[String]) -> bool {
    if groups
        .iter()
        .any(|g| g == "system:nodes" || g == "system:bootstrappers")
        || username.is_some_and(|u| u.starts_with("system:node:"))
    {
        return true;
    }
    let name = arn.rsplit('/').next().unwrap_or(arn);
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .flat_map(split_camel)
        .any(|w| AUTOMATION.contains(&w.as_str()))
}

/// `GitHubActionsDeploy` → git, hub, actions, deploy, and the whole word (`github`), lowercased.
fn split_camel(word: &str) -> Vec<String> {
    let mut out = vec![word.to_ascii_lowercase()];
    let mut current = String::new();
    for c in word.chars() {
        if c.is_ascii_uppercase() && !current.is_empty() {
            out.push(std::mem::take(&mut current).to_ascii_lowercase());
        }
        current.push(c);
    }
    if !current.is_empty() {
        out.push(current.to_ascii_lowercase());
    }
    out
}

/// Is this object an aws-auth ConfigMap or an EKS access entry source?
pub fn is_identity_source(o: &Object) -> bool {
    is_aws_auth(o)
        || matches!(
            (o.kind.as_str(), o.group()),
            (
                "aws_eks_access_policy_association" | "aws_eks_access_entry",
                "terraform"
            )
        )
        || (o.kind == "ClusterConfig"
            && o.group() == "eksctl.io"
            && o.root.pointer("/accessConfig/accessEntries").is_some())
        || (is_eks_module(o) && o.root.get("access_entries").is_some())
}

/// A `module` block calling `terraform-aws-modules/eks/aws`.
fn is_eks_module(o: &Object) -> bool {
    o.kind == terraform::MODULE_KIND
        && o.group() == "terraform"
        && o.root
            .get("source")
            .and_then(Node::as_str)
            .and_then(terraform::module_source)
            == Some("eks")
}

pub fn is_aws_auth(o: &Object) -> bool {
    o.kind == "ConfigMap"
        && o.group().is_empty()
        && o.name == "aws-auth"
        && o.namespace.as_deref() == Some("kube-system")
}

const ADMIN_POLICY: &str = "AmazonEKSClusterAdminPolicy";

/// The principals this object grants cluster-admin to.
pub fn admin_grants(o: &Object) -> Vec<AdminGrant> {
    let mut out = Vec::new();
    if is_aws_auth(o) {
        for (key, arn_key) in [("mapUsers", "userarn"), ("mapRoles", "rolearn")] {
            let Some(text) = o.root.pointer(&format!("/data/{key}")).and_then(Node::text) else {
                continue;
            };
            let Some(Ok(doc)) = yaml::parse_stream(text).into_iter().next() else {
                continue;
            };
            let Some(list) = doc.root else { continue };
            for entry in list.items() {
                let arn = entry.get(arn_key).and_then(Node::text).unwrap_or("");
                let username = entry.get("username").and_then(Node::text);
                let groups: Vec<String> = entry
                    .get("groups")
                    .map(|g| {
                        g.items()
                            .iter()
                            .filter_map(Node::text)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                if !groups.iter().any(|g| g == "system:masters") {
                    continue;
                }
                out.push(AdminGrant {
                    arn: arn.to_owned(),
                    username: username.map(str::to_owned),
                    through: format!("`system:masters` in aws-auth `{key}`"),
                    pointer: format!("/data/{key}"),
                    human: !is_automation(arn, username, &groups),
                    break_glass: is_break_glass(arn) || username.is_some_and(is_break_glass),
                });
            }
        }
    }
    if o.kind == "aws_eks_access_policy_association" && o.group() == "terraform" {
        let policy = o.root.get("policy_arn");
        let principal = o.root.get("principal_arn");
        let cluster_scope = o
            .root
            .pointer("/access_scope/0/type")
            .and_then(Node::text)
            .is_none_or(|t| t == "cluster");
        if let (Some(p), Some(a)) = (policy, principal)
            && !terraform::is_unresolved(p)
            && !terraform::is_unresolved(a)
            && p.text().is_some_and(|t| t.ends_with(ADMIN_POLICY))
            && cluster_scope
        {
            let arn = a.text().unwrap_or("").to_owned();
            out.push(AdminGrant {
                human: !is_automation(&arn, None, &[]),
                break_glass: is_break_glass(&arn),
                arn,
                username: None,
                through: format!("an EKS access entry with `{ADMIN_POLICY}`"),
                pointer: "/policy_arn".into(),
            });
        }
    }
    if o.kind == "ClusterConfig"
        && o.group() == "eksctl.io"
        && let Some(entries) = o.root.pointer("/accessConfig/accessEntries")
    {
        for (i, e) in entries.items().iter().enumerate() {
            let arn = e.get("principalARN").and_then(Node::text).unwrap_or("");
            let admin = e.get("accessPolicies").is_some_and(|ps| {
                ps.items().iter().any(|p| {
                    p.get("policyARN")
                        .and_then(Node::text)
                        .is_some_and(|t| t.ends_with(ADMIN_POLICY))
                })
            });
            if admin {
                out.push(AdminGrant {
                    arn: arn.to_owned(),
                    username: None,
                    through: format!("an EKS access entry with `{ADMIN_POLICY}`"),
                    pointer: format!("/accessConfig/accessEntries/{i}/principalARN"),
                    human: !is_automation(arn, None, &[]),
                    break_glass: is_break_glass(arn),
                });
            }
        }
    }
    // terraform-aws-modules/eks/aws `access_entries` (v20+): a map of entries, each with
    // `principal_arn` and `policy_associations` (a map of `{policy_arn, access_scope = {type}}`).
    // Entries or values that are expressions are not read. `enable_cluster_creator_admin_permissions`
    // grants whoever runs Terraform, a principal the configuration does not name: not judged.
    if is_eks_module(o)
        && let Some(entries) = o.root.get("access_entries")
    {
        for e in entries.entries() {
            let Some(arn) = e
                .value
                .get("principal_arn")
                .filter(|a| !terraform::is_unresolved(a))
                .and_then(Node::text)
            else {
                continue;
            };
            let Some(assocs) = e.value.get("policy_associations") else {
                continue;
            };
            for a in assocs.entries() {
                let policy = a.value.get("policy_arn");
                let cluster_scope = a
                    .value
                    .pointer("/access_scope/type")
                    .and_then(Node::text)
                    .is_none_or(|t| t == "cluster");
                if let Some(p) = policy
                    && !terraform::is_unresolved(p)
                    && p.text().is_some_and(|t| t.ends_with(ADMIN_POLICY))
                    && cluster_scope
                {
                    out.push(AdminGrant {
                        human: !is_automation(arn, None, &[]),
                        break_glass: is_break_glass(arn),
                        arn: arn.to_owned(),
                        username: None,
                        through: format!("an EKS access entry with `{ADMIN_POLICY}` (module input `access_entries`)"),
                        pointer: format!(
                            "/access_entries/{}/policy_associations/{}/policy_arn",
                            e.key.as_str().replace('~', "~0").replace('/', "~1"),
                            a.key.as_str().replace('~', "~0").replace('/', "~1")
                        ),
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_and_automation_are_told_apart() {
        assert!(is_automation(
            "arn:aws:iam::1:role/shop-prod-nodes",
            Some("system:node:{{EC2PrivateDNSName}}"),
            &["system:nodes".into()]
        ));
        assert!(is_automation(
            "arn:aws:iam::1:role/github-deploy",
            None,
            &[]
        ));
        assert!(!is_automation(
            "arn:aws:iam::1:user/alice",
            Some("alice"),
            &[]
        ));
        assert!(!is_automation("arn:aws:iam::1:role/DevOpsAdmin", None, &[]));
        assert!(is_automation(
            "arn:aws:iam::1:role/GitHubActionsDeploy",
            None,
            &[]
        ));
    }
}
