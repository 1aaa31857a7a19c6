//! Questions asked of the NetworkPolicy model ([`super::netpol`]): which connections are allowed
//! between workloads and the world (`netpol reach`), and why one connection is allowed or denied
//! (`netpol explain`). Both use the model's selection, isolation, peers and ports
//! ([`Network::isolating`], [`Peer::admits`], [`PortEntry::matches`]); `explain` answers through
//! [`Network::reach`] itself, and `reach` computes, per pair, the set of ports the egress side
//! of the source and the ingress side of the destination both admit.
//!
//! Besides workloads, the matrix has three endpoints that stand for what is outside the input:
//! - `internet`: an address outside the cluster (203.0.113.10, a documentation address no policy
//!   names: `ipBlock` rules decide);
//! - `kube-dns`: the cluster DNS (`kube-system`, `k8s-app: kube-dns`, ports 53/UDP and 53/TCP),
//!   unless the input holds it;
//! - `other-namespaces`: a pod without labels in a namespace without labels that no policy names.

use crate::analysis::netpol::{
    Direction, Endpoint, Labels, Network, NetworkPolicy, PodRef, PolicyRule, PortSpec, Protocol,
    Side,
};
use crate::analysis::query::{Inventory, QueryWorkload};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The address that stands for the internet.
pub const INTERNET_IP: &str = "203.0.113.10";
/// The namespace of the `other-namespaces` endpoint (not a valid name: no policy can name it).
pub const OTHER_NAMESPACE: &str = "(other)";

const PROTOCOLS: [Protocol; 3] = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp];

// ---------------------------------------------------------------------------------------------
// Port sets
// ---------------------------------------------------------------------------------------------

/// Ports per protocol, as sorted disjoint inclusive ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortSet {
    ranges: [Vec<(i64, i64)>; 3],
}

fn slot(p: Protocol) -> usize {
    match p {
        Protocol::Tcp => 0,
        Protocol::Udp => 1,
        Protocol::Sctp => 2,
    }
}

impl PortSet {
    pub fn all() -> PortSet {
        PortSet {
            ranges: [vec![(1, 65535)], vec![(1, 65535)], vec![(1, 65535)]],
        }
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.iter().all(Vec::is_empty)
    }

    pub fn is_all(&self) -> bool {
        *self == PortSet::all()
    }

    pub fn add(&mut self, p: Protocol, lo: i64, hi: i64) {
        let (lo, hi) = (lo.max(1), hi.min(65535));
        if lo > hi {
            return;
        }
        let r = &mut self.ranges[slot(p)];
        r.push((lo, hi));
        r.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::with_capacity(r.len());
        for &(a, b) in r.iter() {
            match merged.last_mut() {
                Some(last) if a <= last.1 + 1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        *r = merged;
    }

    pub fn union(&mut self, other: &PortSet) {
        for p in PROTOCOLS {
            for &(a, b) in &other.ranges[slot(p)] {
                self.add(p, a, b);
            }
        }
    }

    pub fn intersect(&self, other: &PortSet) -> PortSet {
        let mut out = PortSet::default();
        for i in 0..3 {
            let (x, y) = (&self.ranges[i], &other.ranges[i]);
            let (mut a, mut b) = (0, 0);
            while a < x.len() && b < y.len() {
                let lo = x[a].0.max(y[b].0);
                let hi = x[a].1.min(y[b].1);
                if lo <= hi {
                    out.ranges[i].push((lo, hi));
                }
                if x[a].1 < y[b].1 {
                    a += 1;
                } else {
                    b += 1;
                }
            }
        }
        out
    }

    pub fn contains(&self, port: i64, p: Protocol) -> bool {
        self.ranges[slot(p)]
            .iter()
            .any(|&(a, b)| (a..=b).contains(&port))
    }

    /// The ranges, for JSON: `[{protocol, from, to}]`.
    pub fn ranges(&self) -> Vec<PortRange> {
        PROTOCOLS
            .iter()
            .flat_map(|&p| {
                self.ranges[slot(p)]
                    .iter()
                    .map(move |&(from, to)| PortRange {
                        protocol: p.as_str(),
                        from,
                        to,
                    })
            })
            .collect()
    }

    /// `all ports`, `TCP 8080`, `TCP all, UDP 53`, `no port`.
    pub fn describe(&self) -> String {
        if self.is_all() {
            return "all ports".into();
        }
        if self.is_empty() {
            return "no port".into();
        }
        PROTOCOLS
            .iter()
            .filter(|&&p| !self.ranges[slot(p)].is_empty())
            .map(|&p| {
                let r = &self.ranges[slot(p)];
                let list = if r == &[(1, 65535)] {
                    "all".to_owned()
                } else {
                    r.iter()
                        .map(|&(a, b)| {
                            if a == b {
                                a.to_string()
                            } else {
                                format!("{a}-{b}")
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(",")
                };
                format!("{} {list}", p.as_str())
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PortRange {
    pub protocol: &'static str,
    pub from: i64,
    pub to: i64,
}

/// The ports a rule admits towards a destination (named ports resolved against it).
pub fn rule_ports(rule: &PolicyRule, dst_named: &[(String, i64, String)]) -> PortSet {
    if rule.ports.is_empty() {
        return PortSet::all();
    }
    let mut set = PortSet::default();
    for e in &rule.ports {
        let Some(proto) = e.protocol else { continue };
        match &e.port {
            PortSpec::Any => set.add(proto, 1, 65535),
            PortSpec::Number(p) => set.add(proto, *p, e.end_port.unwrap_or(*p)),
            PortSpec::Named(name) => {
                for (n, p, pr) in dst_named {
                    if n == name && pr == proto.as_str() {
                        set.add(proto, *p, *p);
                    }
                }
            }
        }
    }
    set
}

// ---------------------------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------------------------

/// What an endpoint of the matrix is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EndpointKind {
    Workload,
    /// A pod given by a label selector.
    Pods,
    KubeDns,
    OtherNamespaces,
    /// `internet`, or an address or CIDR given.
    External,
}

/// One end of a connection.
#[derive(Clone, Debug, Serialize)]
pub struct Point {
    /// `ns/name`, `internet`, `kube-dns`, `other-namespaces`, `203.0.113.10`, `ns/app=web`.
    pub id: String,
    pub kind: EndpointKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// For workloads: `Deployment`…
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload_kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    pub labels: Labels,
    #[serde(skip)]
    pub named_ports: Vec<(String, i64, String)>,
    /// Declared container ports.
    pub ports: Vec<DeclaredPort>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct DeclaredPort {
    pub port: i64,
    pub protocol: Protocol,
}

impl Serialize for Protocol {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Point {
    pub fn workload(w: &QueryWorkload) -> Point {
        Point {
            id: w.id(),
            kind: EndpointKind::Workload,
            namespace: Some(w.summary.namespace.to_string()),
            workload_kind: Some(w.summary.kind.to_string()),
            location: Some(w.location()),
            labels: w.summary.pod_labels.clone(),
            named_ports: w.summary.named_ports.clone(),
            ports: w
                .ports
                .iter()
                .map(|&(port, protocol)| DeclaredPort { port, protocol })
                .collect(),
            ip: None,
        }
    }

    fn pods(id: String, kind: EndpointKind, namespace: &str, labels: Labels) -> Point {
        Point {
            id,
            kind,
            namespace: Some(namespace.to_owned()),
            workload_kind: None,
            location: None,
            labels,
            named_ports: Vec::new(),
            ports: Vec::new(),
            ip: None,
        }
    }

    pub fn kube_dns() -> Point {
        let mut p = Point::pods(
            "kube-dns".into(),
            EndpointKind::KubeDns,
            "kube-system",
            Labels::from([("k8s-app".to_owned(), "kube-dns".to_owned())]),
        );
        p.named_ports = vec![
            ("dns".into(), 53, "UDP".into()),
            ("dns-tcp".into(), 53, "TCP".into()),
            ("metrics".into(), 9153, "TCP".into()),
        ];
        p.ports = vec![
            DeclaredPort {
                port: 53,
                protocol: Protocol::Udp,
            },
            DeclaredPort {
                port: 53,
                protocol: Protocol::Tcp,
            },
        ];
        p
    }

    pub fn other_namespaces() -> Point {
        Point::pods(
            "other-namespaces".into(),
            EndpointKind::OtherNamespaces,
            OTHER_NAMESPACE,
            Labels::new(),
        )
    }

    pub fn external(id: &str, ip: IpAddr) -> Point {
        Point {
            id: id.to_owned(),
            kind: EndpointKind::External,
            namespace: None,
            workload_kind: None,
            location: None,
            labels: Labels::new(),
            named_ports: Vec::new(),
            ports: Vec::new(),
            ip: Some(ip),
        }
    }

    pub fn internet() -> Point {
        Point::external("internet", INTERNET_IP.parse().expect("an IP"))
    }

    /// The model's endpoint.
    pub fn endpoint(&self) -> Endpoint<'_> {
        match &self.namespace {
            Some(ns) => Endpoint::Pod(PodRef {
                namespace: ns,
                labels: &self.labels,
                named_ports: &self.named_ports,
                service_account: None,
                ip: None,
            }),
            None => Endpoint::External(self.ip.expect("an external endpoint has an IP")),
        }
    }

    /// Is it the kube-dns of the input (`kube-system`, `k8s-app: kube-dns`)?
    fn is_kube_dns(&self) -> bool {
        self.namespace.as_deref() == Some("kube-system")
            && self.labels.get("k8s-app").map(String::as_str) == Some("kube-dns")
    }

    /// How it is shown: `default/api`, `internet`, `any pod in other namespaces`.
    pub fn describe(&self) -> String {
        match self.kind {
            EndpointKind::OtherNamespaces => "any pod in other namespaces".into(),
            _ => self.id.clone(),
        }
    }
}

/// Parses `FROM`/`TO`: `ns/workload` (or `ns/Kind/name`), `internet`, `kube-dns`,
/// `other-namespaces`, an IP or CIDR (its network address), or a pod label selector
/// `[ns/]key=value[,key=value…]` (namespace `default_ns`).
pub fn parse_point(s: &str, inv: &Inventory, default_ns: &str) -> Result<Point, String> {
    let s = s.trim();
    match s {
        "internet" => return Ok(Point::internet()),
        "kube-dns" => {
            return Ok(inv
                .workloads
                .iter()
                .map(Point::workload)
                .find(Point::is_kube_dns)
                .unwrap_or_else(Point::kube_dns));
        }
        "other-namespaces" => return Ok(Point::other_namespaces()),
        _ => {}
    }
    let ip_text = s.split_once('/').map_or(s, |(a, _)| a);
    if let Ok(ip) = ip_text.parse::<IpAddr>() {
        let ip = if s.contains('/') {
            crate::analysis::netpol::Cidr::parse(s)
                .ok_or_else(|| format!("`{s}` is not a valid CIDR"))?
                .addr
        } else {
            ip
        };
        return Ok(Point::external(s, ip));
    }
    if s.contains('=') {
        let (ns, sel) = match s.split_once('/') {
            Some((ns, sel)) => (ns, sel),
            None => (default_ns, s),
        };
        let mut labels = Labels::new();
        for pair in sel.split(',').filter(|p| !p.is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| format!("`{pair}` in `{s}` is not key=value"))?;
            labels.insert(k.trim().to_owned(), v.trim().to_owned());
        }
        return Ok(Point::pods(
            format!("{ns}/{sel}"),
            EndpointKind::Pods,
            ns,
            labels,
        ));
    }
    let parts: Vec<&str> = s.split('/').collect();
    let found = match parts.as_slice() {
        [ns, name] => inv
            .workloads
            .iter()
            .find(|w| w.summary.namespace == *ns && w.summary.name == *name),
        [ns, kind, name] => inv.workloads.iter().find(|w| {
            w.summary.namespace == *ns
                && w.summary.name == *name
                && w.summary.kind.eq_ignore_ascii_case(kind)
        }),
        [name] => {
            let matching: Vec<&QueryWorkload> = inv
                .workloads
                .iter()
                .filter(|w| w.summary.name == *name)
                .collect();
            match matching.as_slice() {
                [one] => Some(*one),
                [] => None,
                many => {
                    return Err(format!(
                        "`{s}` names {} workloads ({}): write NAMESPACE/NAME",
                        many.len(),
                        many.iter().map(|w| w.id()).collect::<Vec<_>>().join(", ")
                    ));
                }
            }
        }
        _ => None,
    };
    found.map(Point::workload).ok_or_else(|| {
        format!(
            "no workload `{s}` in the input (give NAMESPACE/NAME, a label selector such as `{default_ns}/app=web`, an IP or CIDR, `internet`, `kube-dns` or `other-namespaces`)"
        )
    })
}

/// The endpoints of the matrix: the workloads (of `namespace`, when given), then `kube-dns`
/// (unless the input holds it), `other-namespaces` and `internet`.
pub fn points(inv: &Inventory, namespace: Option<&str>) -> Vec<Point> {
    let mut out: Vec<Point> = inv
        .workloads
        .iter()
        .filter(|w| namespace.is_none_or(|ns| w.summary.namespace == ns))
        .map(Point::workload)
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out.dedup_by(|a, b| a.id == b.id && a.workload_kind == b.workload_kind);
    if !inv
        .workloads
        .iter()
        .any(|w| Point::workload(w).is_kube_dns())
    {
        out.push(Point::kube_dns());
    }
    out.push(Point::other_namespaces());
    out.push(Point::internet());
    out
}

// ---------------------------------------------------------------------------------------------
// The matrix
// ---------------------------------------------------------------------------------------------

/// An allowed connection: the ports both sides admit.
#[derive(Clone, Debug, Serialize)]
pub struct Connection {
    pub from: String,
    pub to: String,
    /// Every port of every protocol.
    pub all_ports: bool,
    pub ports: Vec<PortRange>,
    /// The destination's declared container ports that are open to the source.
    pub declared_open: Vec<DeclaredPort>,
}

/// The answer of `netpol reach`.
#[derive(Clone, Debug, Serialize)]
pub struct Matrix {
    pub endpoints: Vec<Point>,
    /// Allowed connections; a pair that is absent is denied on every port.
    pub connections: Vec<Connection>,
    pub notes: Vec<String>,
}

/// Per endpoint, the policy rules that decide each direction (`None`: not isolated).
struct Sides {
    ns_labels: Labels,
    ingress: Option<Vec<(usize, usize)>>,
    egress: Option<Vec<(usize, usize)>>,
}

/// The rules of the valid policies that select the endpoint and isolate it in the direction.
fn deciding_rules(net: &Network, p: &Point, d: Direction) -> Option<Vec<(usize, usize)>> {
    let Endpoint::Pod(pod) = p.endpoint() else {
        return None;
    };
    let mut isolated = false;
    let mut rules = Vec::new();
    for (i, policy) in net.policies.iter().enumerate() {
        if policy.is_valid() && policy.isolates(d) && policy.selects(&pod) {
            isolated = true;
            rules.extend((0..policy.rules(d).len()).map(|r| (i, r)));
        }
    }
    isolated.then_some(rules)
}

fn sides(net: &Network, p: &Point) -> Sides {
    Sides {
        ns_labels: p
            .namespace
            .as_deref()
            .map(|ns| net.namespaces.labels(ns))
            .unwrap_or_default(),
        ingress: deciding_rules(net, p, Direction::Ingress),
        egress: deciding_rules(net, p, Direction::Egress),
    }
}

/// The ports one side admits: the union of the ports of the rules whose peers match.
fn side_ports(
    net: &Network,
    rules: &Option<Vec<(usize, usize)>>,
    d: Direction,
    peer: &Point,
    peer_ns_labels: &Labels,
    dst: &Point,
) -> PortSet {
    let Some(rules) = rules else {
        return PortSet::all();
    };
    let ep = peer.endpoint();
    let mut set = PortSet::default();
    for &(pi, ri) in rules {
        let policy: &NetworkPolicy = &net.policies[pi];
        let rule = &policy.rules(d)[ri];
        if rule.peers.is_empty()
            || rule
                .peers
                .iter()
                .any(|x| x.admits(&policy.namespace, &ep, peer_ns_labels))
        {
            set.union(&rule_ports(rule, &dst.named_ports));
            if set.is_all() {
                break;
            }
        }
    }
    set
}

/// The ports on which `from` may open a connection to `to`: those the egress side of `from` and
/// the ingress side of `to` both admit.
fn pair_ports(net: &Network, from: (&Point, &Sides), to: (&Point, &Sides)) -> PortSet {
    let egress = side_ports(
        net,
        &from.1.egress,
        Direction::Egress,
        to.0,
        &to.1.ns_labels,
        to.0,
    );
    if egress.is_empty() {
        return egress;
    }
    let ingress = side_ports(
        net,
        &to.1.ingress,
        Direction::Ingress,
        from.0,
        &from.1.ns_labels,
        to.0,
    );
    egress.intersect(&ingress)
}

/// The ports on which `from` may connect to `to`.
pub fn ports_between(net: &Network, from: &Point, to: &Point) -> PortSet {
    let (a, b) = (sides(net, from), sides(net, to));
    pair_ports(net, (from, &a), (to, &b))
}

/// For the matrix: per deciding rule, which endpoints its peers admit and, when it names no
/// port by name, its ports (else they are resolved per destination).
struct RuleInfo {
    admits: Vec<bool>,
    ports: Option<PortSet>,
}

fn rule_infos(
    net: &Network,
    endpoints: &[Point],
    all: &[Sides],
    d: Direction,
) -> BTreeMap<(usize, usize), RuleInfo> {
    let mut wanted: Vec<(usize, usize)> = all
        .iter()
        .flat_map(|s| match d {
            Direction::Ingress => s.ingress.iter().flatten(),
            Direction::Egress => s.egress.iter().flatten(),
        })
        .copied()
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let eps: Vec<Endpoint> = endpoints.iter().map(Point::endpoint).collect();
    wanted
        .into_par_iter()
        .map(|(pi, ri)| {
            let policy = &net.policies[pi];
            let rule = &policy.rules(d)[ri];
            let admits = eps
                .iter()
                .zip(all)
                .map(|(ep, side)| {
                    rule.peers.is_empty()
                        || rule
                            .peers
                            .iter()
                            .any(|x| x.admits(&policy.namespace, ep, &side.ns_labels))
                })
                .collect();
            let named = rule
                .ports
                .iter()
                .any(|p| matches!(p.port, PortSpec::Named(_)));
            let ports = (!named).then(|| rule_ports(rule, &[]));
            ((pi, ri), RuleInfo { admits, ports })
        })
        .collect()
}

/// One side of a pair from the precomputed rules: `peer` is the other end's index.
fn side_from(
    net: &Network,
    rules: &Option<Vec<(usize, usize)>>,
    infos: &BTreeMap<(usize, usize), RuleInfo>,
    d: Direction,
    peer: usize,
    dst: &Point,
) -> Option<PortSet> {
    let rules = rules.as_ref()?;
    let mut set = PortSet::default();
    for key in rules {
        let info = &infos[key];
        if !info.admits[peer] {
            continue;
        }
        match &info.ports {
            Some(p) => set.union(p),
            None => set.union(&rule_ports(
                &net.policies[key.0].rules(d)[key.1],
                &dst.named_ports,
            )),
        }
        if set.is_all() {
            break;
        }
    }
    Some(set)
}

/// The allowed-connection matrix between the endpoints (every ordered pair, but `internet` to
/// itself).
pub fn reach_matrix(net: &Network, endpoints: Vec<Point>) -> Matrix {
    let all: Vec<Sides> = endpoints.par_iter().map(|p| sides(net, p)).collect();
    let ingress = rule_infos(net, &endpoints, &all, Direction::Ingress);
    let egress = rule_infos(net, &endpoints, &all, Direction::Egress);
    let connections: Vec<Connection> = (0..endpoints.len())
        .into_par_iter()
        .flat_map_iter(|i| {
            let (endpoints, all, ingress, egress) = (&endpoints, &all, &ingress, &egress);
            (0..endpoints.len()).filter_map(move |j| {
                let (from, to) = (&endpoints[i], &endpoints[j]);
                if from.namespace.is_none() && to.namespace.is_none() {
                    return None;
                }
                let out = side_from(net, &all[i].egress, egress, Direction::Egress, j, to);
                if out.as_ref().is_some_and(PortSet::is_empty) {
                    return None;
                }
                let inn = side_from(net, &all[j].ingress, ingress, Direction::Ingress, i, to);
                let set = match (out, inn) {
                    (None, None) => PortSet::all(),
                    (Some(s), None) | (None, Some(s)) => s,
                    (Some(a), Some(b)) => a.intersect(&b),
                };
                if set.is_empty() {
                    return None;
                }
                Some(Connection {
                    from: from.id.clone(),
                    to: to.id.clone(),
                    all_ports: set.is_all(),
                    declared_open: to
                        .ports
                        .iter()
                        .copied()
                        .filter(|p| set.contains(p.port, p.protocol))
                        .collect(),
                    ports: set.ranges(),
                })
            })
        })
        .collect();
    let mut notes = Vec::new();
    if net.policies.is_empty() {
        notes.push("no NetworkPolicy in the input: every pod is open in both directions".into());
    }
    let invalid: Vec<String> = net
        .policies
        .iter()
        .filter(|p| !p.is_valid())
        .map(|p| p.identity())
        .collect();
    if !invalid.is_empty() {
        notes.push(format!(
            "ignored (the API server rejects them): {}",
            invalid.join(", ")
        ));
    }
    if !net.others.is_empty() {
        notes.push(format!(
            "{} Cilium, Calico or AdminNetworkPolicy object(s) are not evaluated here: only Kubernetes NetworkPolicies decide these answers",
            net.others.len()
        ));
    }
    Matrix {
        endpoints,
        connections,
        notes,
    }
}

// ---------------------------------------------------------------------------------------------
// Explain
// ---------------------------------------------------------------------------------------------

/// A policy rule that admits the connection.
#[derive(Clone, Debug, Serialize)]
pub struct Admitting {
    /// `NetworkPolicy/ns/name`.
    pub policy: String,
    /// `/spec/ingress/0`.
    pub rule: String,
    /// `file:line` of the rule.
    pub location: String,
}

/// One side of a connection.
#[derive(Clone, Debug, Serialize)]
pub struct SideAnswer {
    /// `unpoliced` (outside the cluster), `not-isolated` (no policy selects the pod for this
    /// direction), `admitted`, `blocked`.
    pub verdict: &'static str,
    /// The policies that isolate the pod in this direction, with their `file:line`.
    pub isolated_by: Vec<PolicyRef>,
    /// The rules that admit the connection (when `admitted`).
    pub admitted_by: Vec<Admitting>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PolicyRef {
    pub policy: String,
    pub location: String,
}

/// The answer of `netpol explain`.
#[derive(Clone, Debug, Serialize)]
pub struct Explanation {
    pub from: Point,
    pub to: Point,
    /// The port asked about (`null`: every port; then `ports` says which are allowed).
    pub port: Option<i64>,
    pub protocol: Option<Protocol>,
    pub allowed: bool,
    /// The ports allowed between the two (whatever port was asked).
    pub ports: Vec<PortRange>,
    pub ports_text: String,
    /// The source's side.
    pub egress: SideAnswer,
    /// The destination's side.
    pub ingress: SideAnswer,
}

fn location(inv: &Inventory, net: &Network, identity: &str, pointer: Option<&str>) -> String {
    net.policies
        .iter()
        .find(|p| p.identity() == identity)
        .and_then(|p| inv.objects.get(p.object))
        .map(|o| {
            let o = o.object();
            let line = pointer.map_or(o.root.pos.line, |ptr| o.locate(ptr).line);
            format!("{}:{line}", o.source.name)
        })
        .unwrap_or_default()
}

fn isolating_refs(inv: &Inventory, net: &Network, p: &Point, d: Direction) -> Vec<PolicyRef> {
    match p.endpoint() {
        Endpoint::Pod(pod) => net
            .isolating(&pod, d)
            .into_iter()
            .map(|pol| PolicyRef {
                policy: pol.identity(),
                location: location(inv, net, &pol.identity(), None),
            })
            .collect(),
        Endpoint::External(_) => Vec::new(),
    }
}

fn side_answer(
    inv: &Inventory,
    net: &Network,
    side: &Side,
    isolated_by: Vec<PolicyRef>,
) -> SideAnswer {
    let (verdict, admitted_by) = match side {
        Side::Unpoliced => ("unpoliced", Vec::new()),
        Side::NotIsolated => ("not-isolated", Vec::new()),
        Side::Allowed(rules) => (
            "admitted",
            rules
                .iter()
                .map(|r| Admitting {
                    policy: r.policy.clone(),
                    rule: r.rule.clone(),
                    location: location(inv, net, &r.policy, Some(&r.rule)),
                })
                .collect(),
        ),
        Side::Denied(_) => ("blocked", Vec::new()),
    };
    SideAnswer {
        verdict,
        isolated_by,
        admitted_by,
    }
}

/// Allowed or denied, and the policies of each side that decide. With a port, through
/// [`Network::reach`]; without one, on some port (the first allowed one is explained).
pub fn explain(
    inv: &Inventory,
    net: &Network,
    from: Point,
    to: Point,
    port: Option<(i64, Protocol)>,
) -> Explanation {
    let set = ports_between(net, &from, &to);
    let (probe_port, probe_proto) = match port {
        Some(pp) => pp,
        None => set
            .ranges()
            .first()
            .map(|r| (r.from, Protocol::parse(r.protocol).expect("a protocol")))
            .or_else(|| to.ports.first().map(|p| (p.port, p.protocol)))
            .unwrap_or((80, Protocol::Tcp)),
    };
    let reach = net.reach(&from.endpoint(), &to.endpoint(), probe_port, probe_proto);
    let egress = side_answer(
        inv,
        net,
        &reach.egress,
        isolating_refs(inv, net, &from, Direction::Egress),
    );
    let ingress = side_answer(
        inv,
        net,
        &reach.ingress,
        isolating_refs(inv, net, &to, Direction::Ingress),
    );
    Explanation {
        allowed: match port {
            Some(_) => reach.allowed(),
            None => !set.is_empty(),
        },
        port: port.map(|p| p.0),
        protocol: port.map(|p| p.1),
        ports: set.ranges(),
        ports_text: set.describe(),
        from,
        to,
        egress,
        ingress,
    }
}

/// Groups connections by source, for text.
pub fn by_source(m: &Matrix) -> BTreeMap<&str, Vec<&Connection>> {
    let mut out: BTreeMap<&str, Vec<&Connection>> = BTreeMap::new();
    for c in &m.connections {
        out.entry(c.from.as_str()).or_default().push(c);
    }
    out
}
