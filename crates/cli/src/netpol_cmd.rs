//! `kubeharden netpol reach / explain`: questions to the NetworkPolicy model, over the same
//! inputs as `scan` or a live cluster. The answers come from
//! `kubeharden_engine::analysis::netpol_query`; this file gathers inputs and renders.

use crate::rbac_cmd::Source;
use anyhow::{Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use kubeharden_engine::analysis::netpol::{Network, Protocol};
use kubeharden_engine::analysis::netpol_query::{
    self, Explanation, Matrix, SideAnswer, parse_point, points, reach_matrix,
};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum NetpolCommand {
    /// The allowed-connection matrix between workloads, kube-dns, other namespaces and the
    /// internet, per port and protocol (Kubernetes NetworkPolicies).
    Reach(ReachArgs),
    /// Whether one connection is allowed, and the policies of each side that decide it.
    Explain(ExplainArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReachFormat {
    Text,
    /// JSON (schema: docs/queries.md).
    Json,
    /// Graphviz (`dot -Tsvg`).
    Dot,
}

#[derive(Args)]
pub struct ReachArgs {
    /// Files, directories or `-` (as `scan` reads them).
    pub paths: Vec<PathBuf>,
    /// Only the workloads of this namespace (kube-dns, other namespaces and the internet stay).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReachFormat,
    #[command(flatten)]
    pub source: Source,
}

#[derive(Args)]
pub struct ExplainArgs {
    /// `NS/WORKLOAD` (or `NS/KIND/NAME`), a pod label selector `[NS/]key=value,…`, an IP or
    /// CIDR, `internet`, `kube-dns` or `other-namespaces`.
    pub from: String,
    /// As FROM.
    pub to: String,
    /// Files, directories or `-`.
    pub paths: Vec<PathBuf>,
    /// The destination's (pod) port: `8080`, `8080/TCP`, `53/UDP`. Without it: on which ports.
    #[arg(long, value_name = "PORT[/PROTO]")]
    pub port: Option<String>,
    /// The namespace of a label selector without one.
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,
    #[arg(long, value_enum, default_value = "text")]
    pub format: crate::rbac_cmd::QueryFormat,
    #[command(flatten)]
    pub source: Source,
}

pub fn run(command: NetpolCommand) -> Result<ExitCode> {
    match command {
        NetpolCommand::Reach(a) => reach(a),
        NetpolCommand::Explain(a) => explain(a),
    }
}

fn parse_port(s: &str) -> Result<(i64, Protocol)> {
    let (port, proto) = s.split_once('/').unwrap_or((s, "TCP"));
    let port: i64 = port
        .parse()
        .ok()
        .filter(|p| (1..=65535).contains(p))
        .ok_or_else(|| anyhow::anyhow!("--port: `{s}` is not a port 1-65535"))?;
    let proto = Protocol::parse(&proto.to_ascii_uppercase())
        .ok_or_else(|| anyhow::anyhow!("--port: protocol `{proto}` is not TCP, UDP or SCTP"))?;
    Ok((port, proto))
}

fn reach(args: ReachArgs) -> Result<ExitCode> {
    let loaded = args.source.load(&args.paths)?;
    let inv = &loaded.inventory;
    let net = Network::from_objects(&inv.objects);
    let matrix = reach_matrix(&net, points(inv, args.namespace.as_deref()));
    crate::scan_cmd::ignore_broken_pipe(match args.format {
        ReachFormat::Json => {
            let mut out = anstream::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &matrix)?;
            writeln!(out)?;
            Ok(())
        }
        ReachFormat::Text => reach_text(&matrix),
        ReachFormat::Dot => reach_dot(&matrix),
    })?;
    Ok(ExitCode::from(if loaded.incomplete { 2 } else { 0 }))
}

fn ports_text(c: &netpol_query::Connection) -> String {
    if c.all_ports {
        return "all ports".into();
    }
    let mut set = netpol_query::PortSet::default();
    for r in &c.ports {
        set.add(
            Protocol::parse(r.protocol).expect("a protocol"),
            r.from,
            r.to,
        );
    }
    set.describe()
}

fn label_of<'m>(m: &'m Matrix, id: &'m str) -> String {
    m.endpoints
        .iter()
        .find(|p| p.id == id)
        .map_or(id.to_owned(), |p| p.describe())
}

fn reach_text(m: &Matrix) -> Result<()> {
    let mut out = anstream::stdout().lock();
    let groups = netpol_query::by_source(m);
    for p in &m.endpoints {
        let Some(conns) = groups.get(p.id.as_str()) else {
            writeln!(out, "{} → nothing", p.describe())?;
            continue;
        };
        writeln!(out, "{} →", p.describe())?;
        for c in conns {
            let declared = if c.declared_open.is_empty() || c.all_ports {
                String::new()
            } else {
                format!(
                    "  (declared: {})",
                    c.declared_open
                        .iter()
                        .map(|d| format!("{}/{}", d.port, d.protocol.as_str()))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            writeln!(out, "  {}: {}{declared}", label_of(m, &c.to), ports_text(c))?;
        }
    }
    let n = m.endpoints.len();
    let pairs = n * n - 1;
    writeln!(
        out,
        "\n{} of {pairs} ordered pairs can connect on some port; a pair not listed is denied on every port.",
        m.connections.len()
    )?;
    for note in &m.notes {
        writeln!(out, "note: {note}")?;
    }
    Ok(())
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn reach_dot(m: &Matrix) -> Result<()> {
    let mut out = anstream::stdout().lock();
    writeln!(out, "digraph reach {{")?;
    writeln!(
        out,
        "  rankdir=LR;\n  node [shape=box, fontname=\"sans-serif\"];"
    )?;
    for p in &m.endpoints {
        let shape = match p.kind {
            netpol_query::EndpointKind::Workload | netpol_query::EndpointKind::Pods => "box",
            _ => "ellipse",
        };
        writeln!(
            out,
            "  \"{}\" [label=\"{}\", shape={shape}];",
            dot_escape(&p.id),
            dot_escape(&p.describe())
        )?;
    }
    for c in &m.connections {
        writeln!(
            out,
            "  \"{}\" -> \"{}\" [label=\"{}\"];",
            dot_escape(&c.from),
            dot_escape(&c.to),
            dot_escape(&ports_text(c))
        )?;
    }
    writeln!(out, "}}")?;
    Ok(())
}

fn explain(args: ExplainArgs) -> Result<ExitCode> {
    let port = args.port.as_deref().map(parse_port).transpose()?;
    let loaded = args.source.load(&args.paths)?;
    let inv = &loaded.inventory;
    let from = parse_point(&args.from, inv, &args.namespace).map_err(anyhow::Error::msg)?;
    let to = parse_point(&args.to, inv, &args.namespace).map_err(anyhow::Error::msg)?;
    if from.namespace.is_none() && to.namespace.is_none() {
        bail!("neither end is a pod: NetworkPolicies decide nothing between two outside addresses");
    }
    let net = Network::from_objects(&inv.objects);
    let e = netpol_query::explain(inv, &net, from, to, port);
    crate::scan_cmd::ignore_broken_pipe(match args.format {
        crate::rbac_cmd::QueryFormat::Json => {
            let mut out = anstream::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &e)?;
            writeln!(out)?;
            Ok(())
        }
        crate::rbac_cmd::QueryFormat::Text => explain_text(&e),
    })?;
    Ok(ExitCode::from(if loaded.incomplete {
        2
    } else if e.allowed {
        0
    } else {
        1
    }))
}

/// One side, in words that never say "allowed" or "denied" (those are the verdict's).
fn side_text(out: &mut dyn Write, what: &str, end: &str, s: &SideAnswer) -> Result<()> {
    match s.verdict {
        "unpoliced" => writeln!(
            out,
            "  {what} of {end}: outside the cluster, no NetworkPolicy applies"
        )?,
        "not-isolated" => writeln!(
            out,
            "  {what} of {end}: open (no NetworkPolicy selects it for {what})"
        )?,
        "admitted" => {
            writeln!(out, "  {what} of {end}: admitted by")?;
            for a in &s.admitted_by {
                writeln!(out, "    {} {} ({})", a.policy, a.rule, a.location)?;
            }
        }
        _ => {
            writeln!(
                out,
                "  {what} of {end}: blocked (isolated, and no rule of these policies admits it)"
            )?;
            for p in &s.isolated_by {
                writeln!(out, "    {} ({})", p.policy, p.location)?;
            }
        }
    }
    Ok(())
}

fn explain_text(e: &Explanation) -> Result<()> {
    let mut out = anstream::stdout().lock();
    let on = match (e.port, e.protocol) {
        (Some(p), Some(proto)) => format!(" on {}/{}", p, proto.as_str()),
        _ => String::new(),
    };
    writeln!(
        out,
        "{} → {}{on}: {}",
        e.from.describe(),
        e.to.describe(),
        if e.allowed { "ALLOWED" } else { "DENIED" }
    )?;
    side_text(&mut out, "egress", &e.from.describe(), &e.egress)?;
    side_text(&mut out, "ingress", &e.to.describe(), &e.ingress)?;
    writeln!(out, "  open ports between them: {}", e.ports_text)?;
    Ok(())
}
