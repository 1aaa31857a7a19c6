//! `kubeharden rbac who-can / can / paths`: questions to the RBAC model, over the same inputs as
//! `scan` (files, directories, `-`, kustomizations, `kubectl get -o yaml` Lists) or a live
//! cluster (`--cluster` / `--context`, read-only). The answers come from
//! `kubeharden_engine::analysis::rbac_query`; this file gathers inputs and renders.

use crate::inputs;
use anyhow::{Context as _, Result, bail};
use clap::{Args, ValueEnum};
use kubeharden_engine::analysis::query::Inventory;
use kubeharden_engine::analysis::rbac::Rbac;
use kubeharden_engine::analysis::rbac_query::{
    Ask, CanAnswer, Identity, Paths, Permissions, Query, Target, Where, WhoCan,
};
use kubeharden_engine::source::DiagLevel;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum QueryFormat {
    Text,
    /// JSON (schema: docs/queries.md).
    Json,
}

/// Where the objects come from: paths (as `scan` reads them) or a live cluster.
#[derive(Args, Clone, Debug)]
pub struct Source {
    /// Read a live cluster (the current kubeconfig context) instead of files.
    #[arg(long)]
    pub cluster: bool,
    /// Read a live cluster through this kubeconfig context (read-only).
    #[arg(long, value_name = "CONTEXT")]
    pub context: Option<String>,
    /// The kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Timeout of each request to the API server, in seconds.
    #[arg(long, default_value = "30", value_name = "SECONDS")]
    pub timeout: u64,
    /// Read the raw files of kustomization directories instead of rendering them.
    #[arg(long)]
    pub no_kustomize: bool,
}

/// The objects read, and whether the read was complete.
pub struct Loaded {
    pub inventory: Inventory,
    /// Input errors or kinds a cluster would not list: answers may miss something.
    pub incomplete: bool,
}

impl Source {
    fn live(&self) -> bool {
        self.cluster || self.context.is_some() || self.kubeconfig.is_some()
    }

    /// Reads the inputs (paths, or the cluster) into an inventory; problems go to stderr.
    pub fn load(&self, paths: &[PathBuf]) -> Result<Loaded> {
        if self.live() {
            if !paths.is_empty() {
                bail!("give either paths or a cluster (--cluster, --context), not both");
            }
            return self.load_cluster();
        }
        if paths.is_empty() {
            bail!(
                "give files, directories or `-` (stdin), or --cluster / --context for a live cluster"
            );
        }
        let (inputs, mut diagnostics) = inputs::gather_with(
            paths,
            &inputs::Kustomize {
                render: !self.no_kustomize,
                ..inputs::Kustomize::default()
            },
        )?;
        let mut inventory = Inventory::load(inputs);
        diagnostics.append(&mut inventory.diagnostics);
        let incomplete = diagnostics.iter().any(|d| d.level == DiagLevel::Error);
        if !diagnostics.is_empty() {
            crate::text::diagnostics(&mut anstream::stderr().lock(), &diagnostics)?;
        }
        Ok(Loaded {
            inventory,
            incomplete,
        })
    }

    fn load_cluster(&self) -> Result<Loaded> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let timeout = Duration::from_secs(self.timeout.max(1));
        let snapshot = runtime.block_on(async {
            let target = kubeharden_cluster::connect(
                self.kubeconfig.as_deref(),
                self.context.as_deref(),
                timeout,
            )
            .await?;
            kubeharden_cluster::collect(&target, &kubeharden_cluster::Options::default()).await
        })?;
        let mut err = anstream::stderr().lock();
        for u in &snapshot.unavailable {
            writeln!(
                err,
                "warning: {} could not be read: {}",
                if u.group.is_empty() {
                    u.resource.clone()
                } else {
                    format!("{}.{}", u.resource, u.group)
                },
                u.reason
            )?;
        }
        let incomplete = !snapshot.unavailable.is_empty();
        Ok(Loaded {
            inventory: Inventory::load(snapshot.inputs),
            incomplete,
        })
    }
}

#[derive(Args)]
pub struct WhoCanArgs {
    /// The verb: get, list, watch, create, update, patch, delete, bind, escalate, impersonate…
    pub verb: String,
    /// The resource as `kubectl auth can-i` writes it: `secrets`, `pods/exec`,
    /// `deployments.apps`, `deployments.apps/scale`; `/path` for a non-resource URL.
    #[arg(required_unless_present = "non_resource_url")]
    pub resource: Option<String>,
    /// Files, directories or `-` (as `scan` reads them).
    pub paths: Vec<PathBuf>,
    /// Only in this namespace (RoleBindings of this namespace and ClusterRoleBindings). Without
    /// it: anywhere (every binding, each at its own scope).
    #[arg(short = 'n', long, conflicts_with = "all_namespaces")]
    pub namespace: Option<String>,
    /// Across all namespaces at once (ClusterRoleBindings only), as `kubectl -A`.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// A subresource (`exec`, `log`, `status`…), as `kubectl auth can-i --subresource`.
    #[arg(long)]
    pub subresource: Option<String>,
    /// A resource name (rules limited by `resourceNames` only grant named requests).
    #[arg(long)]
    pub name: Option<String>,
    /// A non-resource URL (`/healthz`, `/metrics`): only ClusterRoleBindings grant them.
    #[arg(long, value_name = "PATH")]
    pub non_resource_url: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: QueryFormat,
    #[command(flatten)]
    pub source: Source,
}

#[derive(Args)]
pub struct CanArgs {
    /// `system:serviceaccount:NS:NAME`, `serviceaccount:NS/NAME`, `user:NAME`, `group:NAME`, or a
    /// user name.
    pub subject: String,
    /// `[VERB RESOURCE] PATHS…`: with a verb and a resource, answers yes (exit 0) or no (exit
    /// 1); without, lists the effective permissions by namespace.
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
    /// The namespace of the request (or, for the listing, the only namespace shown).
    #[arg(short = 'n', long, conflicts_with = "all_namespaces")]
    pub namespace: Option<String>,
    /// The request across all namespaces at once (ClusterRoleBindings only).
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// A subresource of the resource.
    #[arg(long)]
    pub subresource: Option<String>,
    /// A resource name.
    #[arg(long)]
    pub name: Option<String>,
    /// Extra groups of the subject (repeatable).
    #[arg(long = "group")]
    pub groups: Vec<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: QueryFormat,
    #[command(flatten)]
    pub source: Source,
}

#[derive(Args)]
pub struct PathsArgs {
    /// The subject (as for `rbac can`).
    pub subject: String,
    /// Files, directories or `-`.
    pub paths: Vec<PathBuf>,
    /// Targets: cluster-admin, secrets (read secrets in every namespace), nodes (root on a
    /// node). Repeatable or comma-separated; default: all three.
    #[arg(long, value_delimiter = ',')]
    pub to: Vec<String>,
    /// Most chains shown.
    #[arg(long, default_value = "10")]
    pub limit: usize,
    /// Extra groups of the subject (repeatable).
    #[arg(long = "group")]
    pub groups: Vec<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: QueryFormat,
    #[command(flatten)]
    pub source: Source,
}

fn where_of<'a>(namespace: &'a Option<String>, all: bool) -> Where<'a> {
    match (namespace, all) {
        (Some(ns), _) => Where::Namespace(ns),
        (None, true) => Where::AllNamespaces,
        (None, false) => Where::Anywhere,
    }
}

fn query<'q, 'a>(inv: &'a Inventory, rbac: &'q Rbac<'a>) -> Query<'q, 'a> {
    let mut q = Query::new(rbac, &inv.workloads);
    q.declare_namespaces(&inv.objects);
    q
}

fn json<T: serde::Serialize>(value: &T) -> Result<()> {
    let mut out = anstream::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

pub fn who_can(args: WhoCanArgs) -> Result<ExitCode> {
    let mut paths = args.paths.clone();
    let mut ask = match (&args.non_resource_url, &args.resource) {
        (Some(url), resource) => {
            if let Some(r) = resource {
                paths.insert(0, PathBuf::from(r));
            }
            Ask::parse(&args.verb, url).map_err(anyhow::Error::msg)?
        }
        (None, Some(r)) => Ask::parse(&args.verb, r).map_err(anyhow::Error::msg)?,
        (None, None) => bail!("give a RESOURCE or --non-resource-url"),
    };
    if let Some(s) = &args.subresource {
        ask.subresource = s.clone();
    }
    ask.name = args.name.clone();
    let loaded = args.source.load(&paths)?;
    let rbac = Rbac::new(&loaded.inventory.objects);
    let q = query(&loaded.inventory, &rbac);
    let answer = q.who_can(&ask, where_of(&args.namespace, args.all_namespaces));
    crate::scan_cmd::ignore_broken_pipe(match args.format {
        QueryFormat::Json => json(&answer),
        QueryFormat::Text => who_can_text(&answer, &args),
    })?;
    Ok(ExitCode::from(if loaded.incomplete { 2 } else { 0 }))
}

fn who_can_text(a: &WhoCan, args: &WhoCanArgs) -> Result<()> {
    let mut out = anstream::stdout().lock();
    let place = where_of(&args.namespace, args.all_namespaces).describe();
    writeln!(out, "Who can {} {place}:", a.request.describe())?;
    if a.subjects.is_empty() {
        writeln!(out, "  no subject through RBAC")?;
    }
    for h in &a.subjects {
        writeln!(out, "  {}  {}", h.describe(), h.via.scope_text())?;
        if let Some(i) = &h.implicit {
            writeln!(out, "      = {i}")?;
        }
        writeln!(out, "      via {}", h.via.describe())?;
        if let Some(l) = h.via.binding.location.as_deref() {
            writeln!(out, "      binding at {l}")?;
        }
        if !h.workloads.is_empty() {
            const SHOWN: usize = 5;
            let names: Vec<String> = h
                .workloads
                .iter()
                .take(SHOWN)
                .map(|w| {
                    format!(
                        "{} \"{}/{}\"",
                        w.kind,
                        w.namespace.as_deref().unwrap_or(""),
                        w.name
                    )
                })
                .collect();
            let more = h.workloads.len().saturating_sub(SHOWN);
            writeln!(
                out,
                "      workloads with its token: {}{}",
                names.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            )?;
        }
    }
    for s in &a.always {
        writeln!(out, "  always: {s}")?;
    }
    for n in &a.notes {
        writeln!(out, "  note: {n}")?;
    }
    Ok(())
}

pub fn can(args: CanArgs) -> Result<ExitCode> {
    let groups: Vec<&str> = args.groups.iter().map(String::as_str).collect();
    let who = Identity::parse(&args.subject, &groups).map_err(anyhow::Error::msg)?;
    let is_path = |s: &str| s == "-" || std::path::Path::new(s).exists();
    let (request, paths): (Option<(&str, &str)>, &[String]) = match args.args.as_slice() {
        [verb, resource, rest @ ..] if !is_path(verb) => (Some((verb, resource)), rest),
        all => (None, all),
    };
    let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    let Some((verb, resource)) = request else {
        if args.subresource.is_some() || args.name.is_some() {
            bail!("--subresource and --name need VERB RESOURCE");
        }
        let loaded = args.source.load(&paths)?;
        let rbac = Rbac::new(&loaded.inventory.objects);
        let q = query(&loaded.inventory, &rbac);
        let answer = q.permissions(&who, args.namespace.as_deref());
        crate::scan_cmd::ignore_broken_pipe(match args.format {
            QueryFormat::Json => json(&answer),
            QueryFormat::Text => permissions_text(&answer),
        })?;
        return Ok(ExitCode::from(if loaded.incomplete { 2 } else { 0 }));
    };
    let mut ask = Ask::parse(verb, resource).map_err(anyhow::Error::msg)?;
    if let Some(s) = &args.subresource {
        ask.subresource = s.clone();
    }
    ask.name = args.name.clone();
    let loaded = args.source.load(&paths)?;
    let rbac = Rbac::new(&loaded.inventory.objects);
    let q = query(&loaded.inventory, &rbac);
    let answer = q.can(&who, &ask, where_of(&args.namespace, args.all_namespaces));
    crate::scan_cmd::ignore_broken_pipe(match args.format {
        QueryFormat::Json => json(&answer),
        QueryFormat::Text => can_text(&answer),
    })?;
    // An incomplete read can hide a grant: no answer is certain then.
    Ok(ExitCode::from(if loaded.incomplete {
        2
    } else if answer.allowed {
        0
    } else {
        1
    }))
}

fn can_text(a: &CanAnswer) -> Result<()> {
    let mut out = anstream::stdout().lock();
    let place = match (&a.namespace, a.all_namespaces) {
        (Some(ns), _) => Where::Namespace(ns),
        (None, true) => Where::AllNamespaces,
        (None, false) => Where::Anywhere,
    };
    writeln!(
        out,
        "{}: {} may {} {}",
        if a.allowed { "yes" } else { "no" },
        a.subject,
        a.request.describe(),
        place.describe()
    )?;
    writeln!(out, "  {}", a.reason)?;
    if let Some(l) = a.via.as_ref().and_then(|v| v.rule.location.as_deref()) {
        writeln!(out, "  rule at {l}")?;
    }
    Ok(())
}

fn permissions_text(p: &Permissions) -> Result<()> {
    let mut out = anstream::stdout().lock();
    writeln!(out, "{} (groups: {})", p.subject, p.groups.join(", "))?;
    for n in &p.notes {
        writeln!(out, "  note: {n}")?;
    }
    if p.scopes.is_empty() {
        writeln!(out, "  no permission granted through RBAC")?;
    }
    for s in &p.scopes {
        match &s.namespace {
            None => writeln!(
                out,
                "\ncluster-wide (every namespace, cluster-scoped resources, URLs):"
            )?,
            Some(ns) => writeln!(out, "\nnamespace {ns}:")?,
        }
        let width = s
            .permissions
            .iter()
            .map(|p| p.verbs.join(",").len())
            .max()
            .unwrap_or(0)
            .min(40);
        for perm in &s.permissions {
            let what = if perm.resources.is_empty() {
                perm.non_resource_urls.join(",")
            } else {
                let groups: Vec<&str> = perm
                    .api_groups
                    .iter()
                    .map(|g| if g.is_empty() { "core" } else { g.as_str() })
                    .collect();
                let mut w = format!("{} ({})", perm.resources.join(","), groups.join(","));
                if !perm.resource_names.is_empty() {
                    w.push_str(&format!(" named {}", perm.resource_names.join(",")));
                }
                w
            };
            writeln!(
                out,
                "  {:<width$}  {what}\n  {:<width$}    via {} → {}",
                perm.verbs.join(","),
                "",
                describe_ref(&perm.via.binding),
                describe_ref(&perm.via.role),
            )?;
        }
    }
    Ok(())
}

fn describe_ref(o: &kubeharden_engine::analysis::rbac_query::ObjectRef) -> String {
    match &o.namespace {
        Some(ns) => format!("{} {ns}/{}", o.kind, o.name),
        None => format!("{} {}", o.kind, o.name),
    }
}

pub fn paths(args: PathsArgs) -> Result<ExitCode> {
    let groups: Vec<&str> = args.groups.iter().map(String::as_str).collect();
    let who = Identity::parse(&args.subject, &groups).map_err(anyhow::Error::msg)?;
    let targets: Vec<Target> = if args.to.is_empty() {
        Target::ALL.to_vec()
    } else {
        args.to
            .iter()
            .map(|t| Target::parse(t))
            .collect::<Result<_, _>>()
            .map_err(anyhow::Error::msg)?
    };
    let loaded = args.source.load(&args.paths)?;
    let rbac = Rbac::new(&loaded.inventory.objects);
    let q = query(&loaded.inventory, &rbac);
    let answer = q.paths(&who, &targets, args.limit);
    crate::scan_cmd::ignore_broken_pipe(match args.format {
        QueryFormat::Json => json(&answer),
        QueryFormat::Text => paths_text(&answer),
    })?;
    Ok(ExitCode::from(if loaded.incomplete { 2 } else { 0 }))
}

fn paths_text(p: &Paths) -> Result<()> {
    let mut out = anstream::stdout().lock();
    let targets: Vec<&str> = p.targets.iter().map(|t| t.as_str()).collect();
    if p.chains.is_empty() {
        writeln!(
            out,
            "{}: no escalation path to {} found",
            p.subject,
            targets.join(", ")
        )?;
    }
    for c in &p.chains {
        writeln!(
            out,
            "{} → {} ({} step{})",
            p.subject,
            c.target.as_str(),
            c.steps.len(),
            if c.steps.len() == 1 { "" } else { "s" }
        )?;
        for (i, s) in c.steps.iter().enumerate() {
            writeln!(
                out,
                "  {}. {}: {} → {}",
                i + 1,
                s.actor,
                s.permission,
                s.gains
            )?;
            if let Some(v) = &s.via {
                writeln!(out, "       via {}", v.describe())?;
            }
            if let Some(o) = &s.object {
                writeln!(
                    out,
                    "       object: {}{}",
                    describe_ref(o),
                    o.location
                        .as_deref()
                        .map(|l| format!(" ({l})"))
                        .unwrap_or_default()
                )?;
            }
        }
    }
    if !p.reachable_identities.is_empty() {
        writeln!(out, "can act as: {}", p.reachable_identities.join(", "))?;
    }
    Ok(())
}
