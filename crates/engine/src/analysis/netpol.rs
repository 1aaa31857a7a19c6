//! NetworkPolicy semantics: selection, isolation per direction, peers, ports and reachability
//! between workloads, as `networking.k8s.io/v1` defines them (see `reference/netpol.md`), plus
//! enough of Cilium, Calico and AdminNetworkPolicy to tell which pods they select and whether they
//! are a namespace's default deny.
//!
//! Kubernetes NetworkPolicy is modelled completely: label selectors (absent vs empty), server-side
//! defaulting of `policyTypes` and `protocol`, peers (`podSelector` and `namespaceSelector` in one
//! element AND, separate elements OR; `ipBlock` with `except`), ports (numbers, ranges with
//! `endPort`, named ports resolved against the destination pod), the union of all policies and the
//! two-sided check (egress of the source and ingress of the destination). A policy the API server
//! would reject (see [`NetworkPolicy::problems`]) is treated as absent.
//!
//! Not modelled (implementation-defined or outside the manifests): traffic from the pod's own node
//! (always allowed), a pod's traffic to itself, hostNetwork pods, whether `ipBlock` matches pod IPs
//! (only when a pod endpoint is given an IP), SNAT/DNAT by Services and load balancers, and whether
//! the CNI enforces NetworkPolicy at all. Cilium, Calico and AdminNetworkPolicy objects take part in
//! selection and default-deny detection only ([`OtherPolicy`]), not in [`Network::reach`]; Calico
//! selector expressions other than `all()` are not evaluated, nor are Calico tiers and `order`, nor
//! the v1alpha2 `ClusterNetworkPolicy`.

use crate::inventory::Workload;
use crate::inventory::{AsObject, Object};
use crate::yaml::Node;
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

pub use crate::selector::{LabelSelector, Labels, Operator, Problem, Requirement};
use crate::selector::{child, list, present, problem};

/// The label Kubernetes sets on every namespace (immutable, GA in 1.22).
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    pub const BOTH: [Direction; 2] = [Direction::Ingress, Direction::Egress];

    /// `Ingress`, `Egress` (as in `policyTypes`).
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "Ingress",
            Direction::Egress => "Egress",
        }
    }
    /// The rule list field: `ingress`, `egress`.
    pub fn field(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }
    /// The peer list field of a rule: `from`, `to`.
    pub fn peers_field(self) -> &'static str {
        match self {
            Direction::Ingress => "from",
            Direction::Egress => "to",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    /// The protocols NetworkPolicy accepts (case-sensitive, as the API server validates them).
    pub fn parse(s: &str) -> Option<Protocol> {
        match s {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A selector field that may be absent (`None`); null counts as absent (a nil pointer in Go).
fn optional_selector(
    parent: &Node,
    key: &str,
    ptr: &str,
    problems: &mut Vec<Problem>,
) -> Option<LabelSelector> {
    present(parent, key).map(|n| LabelSelector::parse(n, &child(ptr, key), problems))
}

// ---------------------------------------------------------------------------------------------
// CIDRs
// ---------------------------------------------------------------------------------------------

/// An IPv4 or IPv6 prefix, host bits cleared (as Go's `net.ParseCIDR` returns the network).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

fn to_bits(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    }
}

fn mask(bits: u128, width: u8, prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        let host = u32::from(width - prefix);
        let all = if width == 128 {
            u128::MAX
        } else {
            (1u128 << width) - 1
        };
        bits & (all >> host << host)
    }
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let (addr, prefix) = s.trim().split_once('/')?;
        let addr: IpAddr = addr.parse().ok()?;
        if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let prefix: u8 = prefix.parse().ok()?;
        let (bits, width) = to_bits(addr);
        if prefix > width {
            return None;
        }
        let net = mask(bits, width, prefix);
        let addr = match addr {
            IpAddr::V4(_) => IpAddr::V4((net as u32).into()),
            IpAddr::V6(_) => IpAddr::V6(net.into()),
        };
        Some(Cidr { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let (net, width) = to_bits(self.addr);
        let (bits, w) = to_bits(ip);
        w == width && mask(bits, width, self.prefix) == net
    }

    /// `other` lies inside this prefix and is strictly smaller.
    pub fn strictly_contains(&self, other: &Cidr) -> bool {
        other.prefix > self.prefix && self.contains(other.addr)
    }

    /// `0.0.0.0/0` or `::/0`.
    pub fn is_everything(&self) -> bool {
        self.prefix == 0
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpBlock {
    pub cidr: Cidr,
    pub except: Vec<Cidr>,
}

impl IpBlock {
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.cidr.contains(ip) && !self.except.iter().any(|e| e.contains(ip))
    }
}

// ---------------------------------------------------------------------------------------------
// Kubernetes NetworkPolicy
// ---------------------------------------------------------------------------------------------

/// One element of a rule's `from`/`to` list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerKind {
    /// Pods. `namespaces`: `None` = the policy's own namespace, else the namespaces it selects.
    /// `pods`: `None` = every pod there.
    Pods {
        namespaces: Option<LabelSelector>,
        pods: Option<LabelSelector>,
    },
    IpBlock(IpBlock),
    /// Rejected by the API server (no peer field, ipBlock with a selector, bad CIDR): matches nothing.
    Invalid,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub pointer: String,
    pub kind: PeerKind,
}

impl Peer {
    /// Does the peer of a policy in `policy_ns` match the endpoint? `ns_labels` are the labels
    /// of a pod endpoint's namespace as selectors see them ([`Namespaces::labels`]; only read
    /// when the peer has a `namespaceSelector`). `podSelector` alone: pods of the policy's
    /// namespace; `namespaceSelector` alone: every pod of the namespaces it selects; both: AND;
    /// `ipBlock`: the endpoint's IP in `cidr` and in no `except`.
    pub fn admits(&self, policy_ns: &str, ep: &Endpoint, ns_labels: &Labels) -> bool {
        match &self.kind {
            PeerKind::Pods { namespaces, pods } => {
                let Endpoint::Pod(pod) = ep else {
                    return false;
                };
                let ns_ok = match namespaces {
                    None => pod.namespace == policy_ns,
                    Some(sel) => sel.matches(ns_labels),
                };
                ns_ok && pods.as_ref().is_none_or(|s| s.matches(pod.labels))
            }
            PeerKind::IpBlock(b) => ep.ip().is_some_and(|ip| b.contains(ip)),
            PeerKind::Invalid => false,
        }
    }

    /// Every pod of every namespace (`namespaceSelector: {}` with no or an empty `podSelector`).
    pub fn is_every_pod(&self) -> bool {
        matches!(&self.kind, PeerKind::Pods { namespaces: Some(ns), pods }
            if ns.is_empty() && pods.as_ref().is_none_or(LabelSelector::is_empty))
    }
    /// An `ipBlock` of `0.0.0.0/0` or `::/0` (with or without `except`).
    pub fn is_every_address(&self) -> bool {
        matches!(&self.kind, PeerKind::IpBlock(b) if b.cidr.is_everything())
    }

    pub fn describe(&self, policy_namespace: &str) -> String {
        match &self.kind {
            PeerKind::Pods { namespaces, pods } => {
                let pods = match pods {
                    None => "all pods".to_owned(),
                    Some(s) if s.is_empty() => "all pods".to_owned(),
                    Some(s) => format!("pods `{s}`"),
                };
                match namespaces {
                    None => format!("{pods} in namespace \"{policy_namespace}\""),
                    Some(s) if s.is_empty() => format!("{pods} in every namespace"),
                    Some(s) => format!("{pods} in namespaces `{s}`"),
                }
            }
            PeerKind::IpBlock(b) if b.except.is_empty() => b.cidr.to_string(),
            PeerKind::IpBlock(b) => format!(
                "{} except {}",
                b.cidr,
                b.except
                    .iter()
                    .map(Cidr::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            PeerKind::Invalid => "an invalid peer".to_owned(),
        }
    }
}

/// `port` of a port entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortSpec {
    /// Every port of the protocol.
    Any,
    Number(i64),
    /// A container port name, resolved against the pod that receives the traffic.
    Named(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortEntry {
    pub pointer: String,
    /// `None` when the protocol is not TCP, UDP or SCTP (rejected): matches nothing.
    pub protocol: Option<Protocol>,
    pub port: PortSpec,
    pub end_port: Option<i64>,
}

impl PortEntry {
    /// Does the entry admit a numeric port regardless of the destination (numbers and ranges)?
    pub fn covers_number(&self, port: i64, protocol: Protocol) -> bool {
        self.protocol == Some(protocol)
            && match &self.port {
                PortSpec::Any => true,
                PortSpec::Number(p) => (*p..=self.end_port.unwrap_or(*p)).contains(&port),
                PortSpec::Named(_) => false,
            }
    }

    /// Does traffic to `port`/`protocol` of a destination with these named ports match?
    pub fn matches(
        &self,
        port: i64,
        protocol: Protocol,
        named_ports: &[(String, i64, String)],
    ) -> bool {
        match &self.port {
            PortSpec::Named(name) => {
                self.protocol == Some(protocol)
                    && named_ports
                        .iter()
                        .any(|(n, p, proto)| n == name && *p == port && proto == protocol.as_str())
            }
            _ => self.covers_number(port, protocol),
        }
    }

    pub fn describe(&self) -> String {
        let proto = self.protocol.map_or("?", Protocol::as_str);
        match (&self.port, self.end_port) {
            (PortSpec::Any, _) => format!("any {proto} port"),
            (PortSpec::Number(p), Some(e)) => format!("{proto} {p}-{e}"),
            (PortSpec::Number(p), None) => format!("{proto} {p}"),
            (PortSpec::Named(n), _) => format!("{proto} port \"{n}\""),
        }
    }
}

/// One ingress or egress rule. An empty `peers` list admits every peer (external ones
/// included); an empty `ports` list every port and protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyRule {
    pub pointer: String,
    pub peers: Vec<Peer>,
    pub ports: Vec<PortEntry>,
}

impl PolicyRule {
    /// No peer and no port restriction: allows all traffic of its direction.
    pub fn allows_everything(&self) -> bool {
        self.peers.is_empty() && self.ports.is_empty()
    }

    /// Every port entry names only port 53 (DNS), numerically, and there is at least one.
    pub fn only_dns_ports(&self) -> bool {
        !self.ports.is_empty()
            && self.ports.iter().all(|p| {
                matches!(p.port, PortSpec::Number(53)) && p.end_port.is_none_or(|e| e == 53)
            })
    }

    /// Port 53 over UDP or TCP is admitted by a port entry (numerically, or by an absent port).
    pub fn admits_dns(&self) -> bool {
        self.ports.is_empty()
            || self
                .ports
                .iter()
                .any(|p| p.covers_number(53, Protocol::Udp) || p.covers_number(53, Protocol::Tcp))
    }

    pub fn describe_ports(&self) -> String {
        if self.ports.is_empty() {
            "on every port".to_owned()
        } else {
            format!(
                "on {}",
                self.ports
                    .iter()
                    .map(PortEntry::describe)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }
}

/// A `networking.k8s.io/v1` NetworkPolicy with server-side defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkPolicy {
    pub name: String,
    pub namespace: String,
    /// Index of the object in the slice the policy was read from ([`Network::from_objects`]).
    pub object: usize,
    /// `spec.podSelector` (absent is the empty selector: every pod of the namespace).
    pub pod_selector: LabelSelector,
    /// Effective `policyTypes`: as written, else `Ingress` plus `Egress` when `egress` has rules.
    pub ingress_isolated: bool,
    pub egress_isolated: bool,
    /// `policyTypes` was written (non-empty).
    pub types_explicit: bool,
    pub ingress: Vec<PolicyRule>,
    pub egress: Vec<PolicyRule>,
    /// What the API server would reject. A policy with problems does not exist in a cluster.
    pub problems: Vec<Problem>,
}

impl NetworkPolicy {
    /// The Kubernetes NetworkPolicy an object is, if it is one (`networking.k8s.io`, or the old
    /// `extensions/v1beta1`).
    pub fn from_object(o: &Object) -> Option<NetworkPolicy> {
        if o.kind != "NetworkPolicy" || !matches!(o.group(), "networking.k8s.io" | "extensions") {
            return None;
        }
        Some(NetworkPolicy::parse(
            &o.name,
            o.effective_namespace().unwrap_or("default"),
            &o.root,
        ))
    }

    /// Parses a NetworkPolicy object tree (pointers are relative to `root`).
    pub fn parse(name: &str, namespace: &str, root: &Node) -> NetworkPolicy {
        let mut problems = Vec::new();
        let empty = Node {
            pos: root.pos,
            value: crate::yaml::Value::Map(Vec::new()),
        };
        let spec = match present(root, "spec") {
            Some(s) if s.is_map() => s,
            Some(s) => {
                problem(
                    &mut problems,
                    "/spec",
                    format!("`spec` must be a mapping, not a {}", s.kind_name()),
                );
                &empty
            }
            None => &empty,
        };
        let pod_selector = match present(spec, "podSelector") {
            Some(n) => LabelSelector::parse(n, "/spec/podSelector", &mut problems),
            None => LabelSelector::default(),
        };
        let ingress = parse_rules(spec, Direction::Ingress, &mut problems);
        let egress = parse_rules(spec, Direction::Egress, &mut problems);
        let types = list(spec, "policyTypes", "/spec", &mut problems);
        let (mut ingress_isolated, mut egress_isolated) = (false, false);
        for (i, t) in types.iter().enumerate() {
            match t.as_str() {
                Some("Ingress") => ingress_isolated = true,
                Some("Egress") => egress_isolated = true,
                _ => problem(
                    &mut problems,
                    &format!("/spec/policyTypes/{i}"),
                    format!(
                        "policy type `{}` is not Ingress or Egress",
                        t.text().unwrap_or("…")
                    ),
                ),
            }
        }
        if types.len() > 2 {
            problem(
                &mut problems,
                "/spec/policyTypes",
                "may not specify more than two policyTypes",
            );
        }
        let types_explicit = !types.is_empty();
        if !types_explicit {
            ingress_isolated = true;
            egress_isolated = !egress.is_empty();
        }
        NetworkPolicy {
            name: name.to_owned(),
            namespace: namespace.to_owned(),
            object: 0,
            pod_selector,
            ingress_isolated,
            egress_isolated,
            types_explicit,
            ingress,
            egress,
            problems,
        }
    }

    /// `NetworkPolicy/namespace/name`.
    pub fn identity(&self) -> String {
        format!("NetworkPolicy/{}/{}", self.namespace, self.name)
    }

    /// The pods it selects become isolated in this direction.
    pub fn isolates(&self, d: Direction) -> bool {
        match d {
            Direction::Ingress => self.ingress_isolated,
            Direction::Egress => self.egress_isolated,
        }
    }

    pub fn rules(&self, d: Direction) -> &[PolicyRule] {
        match d {
            Direction::Ingress => &self.ingress,
            Direction::Egress => &self.egress,
        }
    }

    /// Selects every pod of its namespace (empty `podSelector`).
    pub fn is_namespace_wide(&self) -> bool {
        self.pod_selector.is_empty()
    }

    /// The textbook default deny: namespace-wide, isolating, and no rule for the direction.
    pub fn is_default_deny(&self, d: Direction) -> bool {
        self.is_namespace_wide() && self.isolates(d) && self.rules(d).is_empty()
    }

    /// Would the API server accept it?
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty()
    }

    /// Does it select the pod (same namespace, labels match)?
    pub fn selects(&self, pod: &PodRef) -> bool {
        pod.namespace == self.namespace && self.pod_selector.matches(pod.labels)
    }
}

fn parse_rules(spec: &Node, d: Direction, problems: &mut Vec<Problem>) -> Vec<PolicyRule> {
    let base = format!("/spec/{}", d.field());
    list(spec, d.field(), "/spec", problems)
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let ptr = format!("{base}/{i}");
            // A null item decodes to the zero rule, `{}`: it allows everything.
            if !r.is_map() && !r.is_null() {
                problem(
                    problems,
                    &ptr,
                    format!("a rule must be a mapping, not a {}", r.kind_name()),
                );
                return None;
            }
            let peers = list(r, d.peers_field(), &ptr, problems)
                .iter()
                .enumerate()
                .map(|(j, p)| parse_peer(p, &format!("{ptr}/{}/{j}", d.peers_field()), problems))
                .collect();
            let ports = list(r, "ports", &ptr, problems)
                .iter()
                .enumerate()
                .map(|(j, p)| parse_port(p, &format!("{ptr}/ports/{j}"), problems))
                .collect();
            Some(PolicyRule {
                pointer: ptr,
                peers,
                ports,
            })
        })
        .collect()
}

fn parse_peer(node: &Node, ptr: &str, problems: &mut Vec<Problem>) -> Peer {
    let invalid = |problems: &mut Vec<Problem>, msg: &str| {
        problem(problems, ptr, msg);
        Peer {
            pointer: ptr.to_owned(),
            kind: PeerKind::Invalid,
        }
    };
    if !node.is_map() {
        return invalid(problems, "must specify a peer");
    }
    let pods = optional_selector(node, "podSelector", ptr, problems);
    let namespaces = optional_selector(node, "namespaceSelector", ptr, problems);
    let ip = present(node, "ipBlock");
    let kind = match (ip, pods.is_some() || namespaces.is_some()) {
        (Some(_), true) => {
            return invalid(problems, "may not specify both ipBlock and another peer");
        }
        (None, false) => return invalid(problems, "must specify a peer"),
        (None, true) => PeerKind::Pods { namespaces, pods },
        (Some(ip), false) => {
            let bptr = child(ptr, "ipBlock");
            let cidr_text = ip.get("cidr").and_then(Node::as_str);
            let Some(cidr) = cidr_text.and_then(Cidr::parse) else {
                problem(
                    problems,
                    &child(&bptr, "cidr"),
                    format!("`{}` is not a valid CIDR", cidr_text.unwrap_or("")),
                );
                return Peer {
                    pointer: ptr.to_owned(),
                    kind: PeerKind::Invalid,
                };
            };
            let mut except = Vec::new();
            for (k, e) in list(ip, "except", &bptr, problems).iter().enumerate() {
                let eptr = format!("{bptr}/except/{k}");
                match e.as_str().and_then(Cidr::parse) {
                    Some(c) if cidr.strictly_contains(&c) => except.push(c),
                    Some(_) => problem(problems, &eptr, "must be a strict subset of `cidr`"),
                    None => problem(
                        problems,
                        &eptr,
                        format!("`{}` is not a valid CIDR", e.text().unwrap_or("")),
                    ),
                }
            }
            PeerKind::IpBlock(IpBlock { cidr, except })
        }
    };
    Peer {
        pointer: ptr.to_owned(),
        kind,
    }
}

/// An IANA service name as Kubernetes validates named ports.
fn valid_port_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 15
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.bytes().any(|b| b.is_ascii_lowercase())
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

fn parse_port(node: &Node, ptr: &str, problems: &mut Vec<Problem>) -> PortEntry {
    let protocol = match present(node, "protocol") {
        None => Some(Protocol::Tcp),
        Some(p) => {
            let proto = p.as_str().and_then(Protocol::parse);
            if proto.is_none() {
                problem(
                    problems,
                    &child(ptr, "protocol"),
                    format!(
                        "protocol `{}` is not supported (TCP, UDP, SCTP)",
                        p.text().unwrap_or("…")
                    ),
                );
            }
            proto
        }
    };
    let pptr = child(ptr, "port");
    let port = match present(node, "port") {
        None => PortSpec::Any,
        Some(p) => match (p.as_i64(), p.as_str()) {
            (Some(n), _) => {
                if !(1..=65535).contains(&n) {
                    problem(
                        problems,
                        &pptr,
                        format!("port {n} must be between 1 and 65535"),
                    );
                }
                PortSpec::Number(n)
            }
            (None, Some(name)) => {
                if !valid_port_name(name) {
                    problem(
                        problems,
                        &pptr,
                        format!("`{name}` is neither a port number nor a valid port name"),
                    );
                }
                PortSpec::Named(name.to_owned())
            }
            _ => {
                problem(
                    problems,
                    &pptr,
                    format!("a port must be a number or a name, not a {}", p.kind_name()),
                );
                PortSpec::Named(String::new())
            }
        },
    };
    let eptr = child(ptr, "endPort");
    let end_port = match present(node, "endPort") {
        None => None,
        Some(e) => {
            let end = e.as_i64();
            match (&port, end) {
                (_, None) => problem(problems, &eptr, "`endPort` must be an integer"),
                (PortSpec::Any, _) => problem(
                    problems,
                    &eptr,
                    "may not be specified when `port` is not specified",
                ),
                (PortSpec::Named(_), _) => problem(
                    problems,
                    &eptr,
                    "may not be specified when `port` is non-numeric",
                ),
                (PortSpec::Number(p), Some(e)) if e < *p => {
                    problem(problems, &eptr, "must be greater than or equal to `port`")
                }
                _ => {}
            }
            end
        }
    };
    PortEntry {
        pointer: ptr.to_owned(),
        protocol,
        port,
        end_port,
    }
}

// ---------------------------------------------------------------------------------------------
// Pods, namespaces, endpoints
// ---------------------------------------------------------------------------------------------

/// A pod (or every pod of a workload) as policies see it.
#[derive(Clone, Copy, Debug)]
pub struct PodRef<'a> {
    pub namespace: &'a str,
    pub labels: &'a Labels,
    /// Container ports by name: (name, port, protocol).
    pub named_ports: &'a [(String, i64, String)],
    pub service_account: Option<&'a str>,
    /// Only used to match `ipBlock` peers (implementation-defined for pod IPs).
    pub ip: Option<IpAddr>,
}

impl<'a> PodRef<'a> {
    pub fn new(namespace: &'a str, labels: &'a Labels) -> PodRef<'a> {
        PodRef {
            namespace,
            labels,
            named_ports: &[],
            service_account: None,
            ip: None,
        }
    }

    pub fn of(w: &'a Workload) -> PodRef<'a> {
        PodRef {
            namespace: &w.namespace,
            labels: &w.pod_labels,
            named_ports: &w.named_ports,
            service_account: Some(&w.service_account),
            ip: None,
        }
    }
}

/// One end of a connection.
#[derive(Clone, Copy, Debug)]
pub enum Endpoint<'a> {
    Pod(PodRef<'a>),
    /// An address outside the cluster (or any address not known to be a pod).
    External(IpAddr),
}

impl Endpoint<'_> {
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Endpoint::Pod(p) => p.ip,
            Endpoint::External(ip) => Some(*ip),
        }
    }
    pub fn named_ports(&self) -> &[(String, i64, String)] {
        match self {
            Endpoint::Pod(p) => p.named_ports,
            Endpoint::External(_) => &[],
        }
    }
}

/// Namespace labels: from Namespace objects, plus the implicit `kubernetes.io/metadata.name`.
#[derive(Clone, Debug, Default)]
pub struct Namespaces {
    declared: BTreeMap<String, Labels>,
}

impl Namespaces {
    pub fn declare(&mut self, name: &str, labels: Labels) {
        self.declared.insert(name.to_owned(), labels);
    }

    pub fn is_declared(&self, name: &str) -> bool {
        self.declared.contains_key(name)
    }

    /// The namespace's labels as selectors see them. An undeclared namespace has only the
    /// implicit name label (its real labels are unknown).
    pub fn labels(&self, name: &str) -> Labels {
        let mut labels = self.declared.get(name).cloned().unwrap_or_default();
        labels.insert(NAMESPACE_NAME_LABEL.to_owned(), name.to_owned());
        labels
    }
}

// ---------------------------------------------------------------------------------------------
// Other engines: Cilium, Calico, AdminNetworkPolicy
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Cilium,
    Calico,
    AdminNetworkPolicy,
    BaselineAdminNetworkPolicy,
}

/// Which pods a policy of another engine applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// A Cilium `endpointSelector`, evaluated on the pod's labels plus Cilium's
    /// `io.kubernetes.pod.namespace`, `io.cilium.k8s.namespace.labels.*` and
    /// `io.cilium.k8s.policy.serviceaccount` labels (`k8s:`/`any:` key prefixes stripped).
    /// `namespace` is set for the namespaced kind.
    Cilium {
        namespace: Option<String>,
        selector: LabelSelector,
    },
    /// Every pod (of `namespace`, or of every namespace): Calico `all()` or no selector.
    All { namespace: Option<String> },
    /// AdminNetworkPolicy `subject`: pods in namespaces matching `namespaces`, and matching
    /// `pods` (`None` = every pod there).
    Admin {
        namespaces: LabelSelector,
        pods: Option<LabelSelector>,
    },
    /// Applies to no pod (Cilium host policies, Calico pre-DNAT/untracked host policies).
    NoPods(String),
    /// Not evaluated by this version (e.g. a Calico selector expression).
    Unknown {
        namespace: Option<String>,
        what: String,
    },
}

/// What a policy does to the pods it applies to, in one direction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Isolation {
    /// Does not restrict this direction.
    None,
    /// Everything not explicitly allowed is denied. `undoable`: a Kubernetes NetworkPolicy that
    /// allows everything overrides it (it is an allow-list of the same tier, or a baseline).
    DefaultDeny { undoable: bool },
    /// It applies to the direction but allows all traffic.
    AllowsAll(String),
    /// It restricts the direction in a way this version does not judge (said why).
    NotJudged(String),
}

/// A policy of Cilium, Calico or the AdminNetworkPolicy API, modelled only as far as selection and
/// default deny. A Cilium object with `specs` yields one per spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtherPolicy {
    pub object: usize,
    /// `Kind/namespace/name` or `Kind/name`.
    pub identity: String,
    /// Pointer of the spec (`/spec`, `/specs/1`).
    pub pointer: String,
    pub engine: Engine,
    pub subject: Subject,
    pub ingress: Isolation,
    pub egress: Isolation,
}

impl OtherPolicy {
    pub fn isolation(&self, d: Direction) -> &Isolation {
        match d {
            Direction::Ingress => &self.ingress,
            Direction::Egress => &self.egress,
        }
    }

    /// The policies an object holds, if it is of a kind modelled here.
    pub fn from_object(object: usize, o: &Object) -> Vec<OtherPolicy> {
        let identity = o.identity();
        let mk = |pointer: String, engine, subject, ingress, egress| OtherPolicy {
            object,
            identity: identity.clone(),
            pointer,
            engine,
            subject,
            ingress,
            egress,
        };
        match (o.kind.as_str(), o.group()) {
            ("CiliumNetworkPolicy" | "CiliumClusterwideNetworkPolicy", "cilium.io") => {
                let namespace = o.effective_namespace().map(str::to_owned);
                cilium_specs(o)
                    .into_iter()
                    .map(|(ptr, spec)| {
                        let (subject, ingress, egress) = cilium(spec, namespace.clone(), &ptr);
                        mk(ptr, Engine::Cilium, subject, ingress, egress)
                    })
                    .collect()
            }
            (
                "NetworkPolicy" | "GlobalNetworkPolicy",
                "projectcalico.org" | "crd.projectcalico.org",
            ) => {
                let spec = o.root.get("spec").unwrap_or(&o.root);
                let namespace = o.effective_namespace().map(str::to_owned);
                let (subject, ingress, egress) =
                    calico(spec, namespace, o.kind == "GlobalNetworkPolicy");
                vec![mk("/spec".into(), Engine::Calico, subject, ingress, egress)]
            }
            (
                kind @ ("AdminNetworkPolicy" | "BaselineAdminNetworkPolicy"),
                "policy.networking.k8s.io",
            ) => {
                let baseline = kind == "BaselineAdminNetworkPolicy";
                let spec = o.root.get("spec").unwrap_or(&o.root);
                let (subject, ingress, egress) = admin(spec, baseline);
                let engine = if baseline {
                    Engine::BaselineAdminNetworkPolicy
                } else {
                    Engine::AdminNetworkPolicy
                };
                vec![mk("/spec".into(), engine, subject, ingress, egress)]
            }
            _ => Vec::new(),
        }
    }

    /// Does it apply to every pod of the namespace? `None` when this version cannot tell.
    pub fn covers_namespace(&self, ns: &str, namespaces: &Namespaces) -> Option<bool> {
        let ns_labels = namespaces.labels(ns);
        match &self.subject {
            Subject::Cilium {
                namespace,
                selector,
            } => {
                if namespace.as_deref().is_some_and(|n| n != ns) {
                    return Some(false);
                }
                let pseudo = cilium_labels(ns, &ns_labels, None, None);
                Some(
                    selector
                        .keys()
                        .all(|k| is_cilium_namespace_key(cilium_key(k)))
                        && selector
                            .matches_with(&|k: &str| pseudo.get(cilium_key(k)).map(String::as_str)),
                )
            }
            Subject::All { namespace } => Some(namespace.as_deref().is_none_or(|n| n == ns)),
            Subject::Admin { namespaces, pods } => Some(
                namespaces.matches(&ns_labels) && pods.as_ref().is_none_or(LabelSelector::is_empty),
            ),
            Subject::NoPods(_) => Some(false),
            Subject::Unknown { namespace, .. } => {
                if namespace.as_deref().is_some_and(|n| n != ns) {
                    Some(false)
                } else {
                    None
                }
            }
        }
    }

    /// Does it apply to the pod? `None` when this version cannot tell.
    pub fn selects(&self, pod: &PodRef, namespaces: &Namespaces) -> Option<bool> {
        let ns_labels = namespaces.labels(pod.namespace);
        match &self.subject {
            Subject::Cilium {
                namespace,
                selector,
            } => {
                if namespace.as_deref().is_some_and(|n| n != pod.namespace) {
                    return Some(false);
                }
                let pseudo = cilium_labels(
                    pod.namespace,
                    &ns_labels,
                    Some(pod.labels),
                    pod.service_account,
                );
                Some(
                    selector.matches_with(&|k: &str| pseudo.get(cilium_key(k)).map(String::as_str)),
                )
            }
            Subject::All { namespace } => {
                Some(namespace.as_deref().is_none_or(|n| n == pod.namespace))
            }
            Subject::Admin { namespaces, pods } => Some(
                namespaces.matches(&ns_labels)
                    && pods.as_ref().is_none_or(|s| s.matches(pod.labels)),
            ),
            Subject::NoPods(_) => Some(false),
            Subject::Unknown { namespace, .. } => {
                if namespace.as_deref().is_some_and(|n| n != pod.namespace) {
                    Some(false)
                } else {
                    None
                }
            }
        }
    }

    /// What the subject is, for messages.
    pub fn describe_subject(&self) -> String {
        match &self.subject {
            Subject::Cilium { selector, .. } => format!("endpointSelector `{selector}`"),
            Subject::All { .. } => "every pod".to_owned(),
            Subject::Admin { namespaces, pods } => match pods {
                None => format!("namespaces `{namespaces}`"),
                Some(p) => format!("pods `{p}` in namespaces `{namespaces}`"),
            },
            Subject::NoPods(why) | Subject::Unknown { what: why, .. } => why.clone(),
        }
    }
}

/// Strips a Cilium label source prefix that matches Kubernetes labels (`k8s:`, `any:`).
fn cilium_key(key: &str) -> &str {
    key.strip_prefix("k8s:")
        .or_else(|| key.strip_prefix("any:"))
        .unwrap_or(key)
}

const CILIUM_NAMESPACE: &str = "io.kubernetes.pod.namespace";
const CILIUM_NAMESPACE_LABELS: &str = "io.cilium.k8s.namespace.labels.";

fn is_cilium_namespace_key(key: &str) -> bool {
    key == CILIUM_NAMESPACE || key.starts_with(CILIUM_NAMESPACE_LABELS)
}

/// The labels Cilium gives a pod's endpoint (the Kubernetes ones it derives).
fn cilium_labels(ns: &str, ns_labels: &Labels, pod: Option<&Labels>, sa: Option<&str>) -> Labels {
    let mut l = pod.cloned().unwrap_or_default();
    l.insert(CILIUM_NAMESPACE.to_owned(), ns.to_owned());
    for (k, v) in ns_labels {
        l.insert(format!("{CILIUM_NAMESPACE_LABELS}{k}"), v.clone());
    }
    if let Some(sa) = sa {
        l.insert(
            "io.cilium.k8s.policy.serviceaccount".to_owned(),
            sa.to_owned(),
        );
    }
    l
}

/// Cilium: a selected endpoint is default-deny in a direction as soon as a rule selecting it has
/// that section (`ingress`/`ingressDeny`, `egress`/`egressDeny`, even `- {}`), unless
/// `enableDefaultDeny.<direction>: false`. An allow rule to/from the entity `all` (without
/// `toPorts`) allows everything unless a deny rule is present.
fn cilium(spec: &Node, namespace: Option<String>, ptr: &str) -> (Subject, Isolation, Isolation) {
    let mut ignored = Vec::new();
    let subject = match (
        present(spec, "endpointSelector"),
        present(spec, "nodeSelector"),
    ) {
        (Some(sel), _) => Subject::Cilium {
            namespace,
            selector: LabelSelector::parse(sel, &child(ptr, "endpointSelector"), &mut ignored),
        },
        (None, Some(_)) => {
            Subject::NoPods("a host policy (nodeSelector): applies to nodes, not pods".into())
        }
        (None, None) => Subject::NoPods("no endpointSelector".into()),
    };
    let iso = |d: Direction| {
        let allow = spec.get(d.field()).map(Node::items).unwrap_or(&[]);
        let deny_field = format!("{}Deny", d.field());
        let deny = spec.get(&deny_field).map(Node::items).unwrap_or(&[]);
        if spec
            .pointer(&format!("/enableDefaultDeny/{}", d.field()))
            .and_then(Node::as_bool)
            == Some(false)
        {
            return Isolation::None;
        }
        if allow.is_empty() && deny.is_empty() {
            return Isolation::None;
        }
        let entities = match d {
            Direction::Ingress => "fromEntities",
            Direction::Egress => "toEntities",
        };
        let allows_all = allow.iter().any(|r| {
            r.get("toPorts").is_none()
                && r.get(entities)
                    .map(Node::items)
                    .unwrap_or(&[])
                    .iter()
                    .any(|e| e.as_str() == Some("all"))
        });
        if allows_all && deny.is_empty() {
            Isolation::AllowsAll(format!("an `{}` rule allows the entity `all`", d.field()))
        } else {
            Isolation::DefaultDeny {
                undoable: deny.is_empty(),
            }
        }
    };
    (subject, iso(Direction::Ingress), iso(Direction::Egress))
}

/// Calico selectors: only `all()` (or none) is evaluated.
fn calico_selects_all(spec: &Node, key: &str) -> Result<(), String> {
    match spec.get(key).filter(|n| !n.is_null()) {
        None => Ok(()),
        Some(n) => match n.text().map(str::trim) {
            Some("" | "all()") => Ok(()),
            _ => Err(format!("{key} `{}`", n.text().unwrap_or("…"))),
        },
    }
}

/// Calico: `types` as written, else Ingress (unless there are only egress rules) plus Egress when
/// there are egress rules. In a direction it applies to, traffic no rule allows is denied at the
/// end of the tier; a `Pass` rule hands the decision to the next tier (not judged).
fn calico(spec: &Node, namespace: Option<String>, global: bool) -> (Subject, Isolation, Isolation) {
    let host_only = ["preDNAT", "doNotTrack"]
        .iter()
        .any(|k| spec.get(k).and_then(Node::as_bool) == Some(true));
    let mut unknown = Vec::new();
    if let Err(e) = calico_selects_all(spec, "selector") {
        unknown.push(e);
    }
    let namespaces = match global {
        true => calico_selects_all(spec, "namespaceSelector"),
        false => Ok(()),
    };
    if let Err(e) = namespaces {
        unknown.push(e);
    }
    if spec
        .get("serviceAccountSelector")
        .is_some_and(|n| !n.is_null())
    {
        unknown.push("serviceAccountSelector".to_owned());
    }
    let subject = if host_only {
        Subject::NoPods("a pre-DNAT or untracked policy: applies to host endpoints".into())
    } else if unknown.is_empty() {
        Subject::All {
            namespace: if global { None } else { namespace },
        }
    } else {
        Subject::Unknown {
            namespace: if global { None } else { namespace },
            what: format!(
                "Calico {} (selector expressions other than `all()` are not evaluated by this version)",
                unknown.join(", ")
            ),
        }
    };
    let rules = |d: Direction| spec.get(d.field()).map(Node::items).unwrap_or(&[]);
    let types: Vec<&str> = spec
        .get("types")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(Node::as_str)
        .collect();
    let applies = |d: Direction| {
        if types.is_empty() {
            match d {
                Direction::Ingress => {
                    !rules(Direction::Ingress).is_empty() || rules(Direction::Egress).is_empty()
                }
                Direction::Egress => !rules(Direction::Egress).is_empty(),
            }
        } else {
            types.contains(&d.as_str())
        }
    };
    let iso = |d: Direction| {
        if !applies(d) {
            return Isolation::None;
        }
        let rs = rules(d);
        let action = |r: &Node| {
            r.get("action")
                .and_then(Node::as_str)
                .unwrap_or("")
                .to_owned()
        };
        if rs.iter().any(|r| action(r) == "Pass") {
            return Isolation::NotJudged(
                "a `Pass` rule hands the decision to the next tier".into(),
            );
        }
        let unrestricted = |r: &Node| {
            r.entries().iter().all(|e| {
                matches!(e.key.as_str(), "action" | "metadata")
                    || (matches!(e.key.as_str(), "source" | "destination")
                        && (e.value.is_null() || e.value.entries().is_empty()))
            })
        };
        if rs.iter().any(|r| action(r) == "Allow" && unrestricted(r)) {
            return Isolation::AllowsAll(format!(
                "an `Allow` {} rule has no match criteria",
                d.field()
            ));
        }
        Isolation::DefaultDeny { undoable: false }
    };
    (subject, iso(Direction::Ingress), iso(Direction::Egress))
}

/// AdminNetworkPolicy / BaselineAdminNetworkPolicy (`policy.networking.k8s.io/v1alpha1`): a default
/// deny when a `Deny` rule without `ports` covers every namespace (ingress; ANP ingress peers
/// cannot name external sources), and for egress also the networks `0.0.0.0/0` and `::/0`.
fn admin(spec: &Node, baseline: bool) -> (Subject, Isolation, Isolation) {
    let mut ignored = Vec::new();
    let subject = match spec.get("subject") {
        Some(s) if present(s, "namespaces").is_some() => Subject::Admin {
            namespaces: LabelSelector::parse(s.get("namespaces").unwrap(), "", &mut ignored),
            pods: None,
        },
        Some(s) if present(s, "pods").is_some() => {
            let p = s.get("pods").unwrap();
            Subject::Admin {
                namespaces: p
                    .get("namespaceSelector")
                    .map(|n| LabelSelector::parse(n, "", &mut ignored))
                    .unwrap_or(LabelSelector {
                        invalid: true,
                        ..LabelSelector::default()
                    }),
                pods: Some(
                    p.get("podSelector")
                        .map(|n| LabelSelector::parse(n, "", &mut ignored))
                        .unwrap_or_default(),
                ),
            }
        }
        _ => Subject::NoPods("no `subject`".into()),
    };
    let every_ns = |peer: &Node| {
        let empty = |n: Option<&Node>| {
            n.is_some_and(|n| {
                let mut ignored = Vec::new();
                LabelSelector::parse(n, "", &mut ignored).is_empty()
            })
        };
        empty(peer.get("namespaces"))
            || peer
                .get("pods")
                .is_some_and(|p| empty(p.get("namespaceSelector")) && empty(p.get("podSelector")))
    };
    let iso = |d: Direction| {
        let (mut ns, mut v4, mut v6) = (false, false, false);
        for r in spec.get(d.field()).map(Node::items).unwrap_or(&[]) {
            let deny = r.get("action").and_then(Node::as_str) == Some("Deny");
            if !deny || r.get("ports").is_some_and(|p| !p.items().is_empty()) {
                continue;
            }
            for peer in r.get(d.peers_field()).map(Node::items).unwrap_or(&[]) {
                ns |= every_ns(peer);
                for net in peer.get("networks").map(Node::items).unwrap_or(&[]) {
                    match net.as_str().and_then(Cidr::parse) {
                        Some(c) if c.is_everything() && c.addr.is_ipv4() => v4 = true,
                        Some(c) if c.is_everything() => v6 = true,
                        _ => {}
                    }
                }
            }
        }
        let denies_all = match d {
            Direction::Ingress => ns,
            Direction::Egress => ns && v4 && v6,
        };
        if denies_all {
            Isolation::DefaultDeny { undoable: baseline }
        } else if ns || v4 || v6 {
            Isolation::NotJudged(match d {
                Direction::Ingress => "its Deny rules do not cover every namespace".into(),
                Direction::Egress => {
                    "its Deny rules do not cover every namespace and the networks 0.0.0.0/0 and ::/0".into()
                }
            })
        } else {
            Isolation::None
        }
    };
    (subject, iso(Direction::Ingress), iso(Direction::Egress))
}

// ---------------------------------------------------------------------------------------------
// Egress allowlists
// ---------------------------------------------------------------------------------------------

/// An egress rule that admits any destination, at the pointer that says so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BroadEgress {
    pub pointer: String,
    /// `on TCP 443 to every address (0.0.0.0/0)`.
    pub what: String,
}

/// The broadest peer of a NetworkPolicy rule: none (any destination), an `ipBlock` of
/// `0.0.0.0/0`/`::/0`, or every pod of every namespace. With its pointer and description.
pub fn broadest_peer(rule: &PolicyRule, d: Direction) -> Option<(String, String)> {
    if rule.peers.is_empty() {
        return Some((
            rule.pointer.clone(),
            format!(
                "any destination in or outside the cluster (the rule has no `{}`)",
                d.peers_field()
            ),
        ));
    }
    if let Some(p) = rule.peers.iter().find(|p| p.is_every_address()) {
        let what = match &p.kind {
            PeerKind::IpBlock(b) if !b.except.is_empty() => {
                format!("every address ({}), Internet included", p.describe(""))
            }
            _ => format!("every address ({})", p.describe("")),
        };
        return Some((format!("{}/ipBlock/cidr", p.pointer), what));
    }
    rule.peers.iter().find(|p| p.is_every_pod()).map(|p| {
        (
            format!("{}/namespaceSelector", p.pointer),
            "every pod in every namespace (`namespaceSelector: {}`)".to_owned(),
        )
    })
}

/// Port entries that are exactly port 53 (DNS).
fn is_dns_entry(p: &PortEntry) -> bool {
    matches!(p.port, PortSpec::Number(53)) && p.end_port.is_none_or(|e| e == 53)
}

/// Egress rules of a NetworkPolicy, Cilium or Calico policy that admit any destination: no
/// destination at all, `0.0.0.0/0` or `::/0`, every pod of every namespace, Cilium's `world`/`all`
/// entities or `toFQDNs` pattern `*`. FQDN and L7 allowlists count as named destinations:
/// Cilium `toFQDNs` (`matchName`, or a `matchPattern` other than `*`), Cilium L7 HTTP rules that
/// name the `host` on every port, Calico `destination.domains`. Rules that only open port 53 are left to
/// [`broad_dns_egress`]. Egress rules a policy ignores (its types omit Egress) are not reported.
/// AdminNetworkPolicy `Allow` rules are not judged.
pub fn broad_egress(o: &Object) -> Vec<BroadEgress> {
    if let Some(p) = NetworkPolicy::from_object(o) {
        if !p.egress_isolated {
            return Vec::new();
        }
        return p
            .egress
            .iter()
            .filter(|r| !r.only_dns_ports())
            .filter_map(|r| {
                broadest_peer(r, Direction::Egress).map(|(pointer, what)| BroadEgress {
                    pointer,
                    what: format!("{} to {what}", r.describe_ports()),
                })
            })
            .collect();
    }
    cni_egress(o, cilium_broad, calico_broad)
}

/// The egress rules of a Cilium or Calico policy that `cilium` or `calico` (by the object's
/// kind) judge broad, each judged with its pointer; a Calico policy whose types omit Egress has
/// none. Other objects have none.
fn cni_egress(
    o: &Object,
    cilium: fn(&Node, &str) -> Option<BroadEgress>,
    calico: fn(&Node, &str) -> Option<BroadEgress>,
) -> Vec<BroadEgress> {
    let judged = |spec: &Node, ptr: &str, judge: fn(&Node, &str) -> Option<BroadEgress>| {
        spec.get("egress")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .enumerate()
            .filter_map(|(i, r)| judge(r, &format!("{ptr}/egress/{i}")))
            .collect::<Vec<_>>()
    };
    match (o.kind.as_str(), o.group()) {
        ("CiliumNetworkPolicy" | "CiliumClusterwideNetworkPolicy", "cilium.io") => cilium_specs(o)
            .into_iter()
            .flat_map(|(ptr, spec)| judged(spec, &ptr, cilium))
            .collect(),
        (
            "NetworkPolicy" | "GlobalNetworkPolicy",
            "projectcalico.org" | "crd.projectcalico.org",
        ) => {
            let Some(spec) = present(&o.root, "spec") else {
                return Vec::new();
            };
            let types = spec.get("types").map(Node::items).unwrap_or(&[]);
            if !types.is_empty() && !types.iter().any(|t| t.as_str() == Some("Egress")) {
                return Vec::new();
            }
            judged(spec, "/spec", calico)
        }
        _ => Vec::new(),
    }
}

fn text_items(n: Option<&Node>) -> Vec<&str> {
    n.map(Node::items)
        .unwrap_or(&[])
        .iter()
        .filter_map(Node::text)
        .collect()
}

fn is_everything_cidr(s: &str) -> bool {
    Cidr::parse(s).is_some_and(|c| c.is_everything())
}

/// A Cilium egress (allow) rule that admits any destination.
fn cilium_broad(r: &Node, ptr: &str) -> Option<BroadEgress> {
    let to_ports = r.get("toPorts").map(Node::items).unwrap_or(&[]);
    let port_texts: Vec<&str> = to_ports
        .iter()
        .flat_map(|tp| tp.get("ports").map(Node::items).unwrap_or(&[]))
        .filter_map(|p| p.get("port").and_then(Node::text))
        .collect();
    if !port_texts.is_empty() && port_texts.iter().all(|p| *p == "53") {
        return None;
    }
    // An L7 allowlist: every port carries HTTP rules that each name the request's `host` (a
    // regular expression), so the destinations are named, as with `toFQDNs`.
    if cilium_http_hosts_only(to_ports) {
        return None;
    }
    let ports = if to_ports.is_empty() {
        "on every port".to_owned()
    } else if port_texts.is_empty() {
        "on the ports of `toPorts`".to_owned()
    } else {
        format!("on port {}", port_texts.join(", "))
    };
    let broad = |pointer: String, what: String| {
        Some(BroadEgress {
            pointer,
            what: format!("{ports} to {what}"),
        })
    };
    let entities = text_items(r.get("toEntities"));
    if let Some(e) = entities.iter().find(|e| matches!(**e, "all" | "world")) {
        return broad(
            child(ptr, "toEntities"),
            format!(
                "the entity `{e}` (every address outside the cluster{})",
                if *e == "all" {
                    " and every endpoint in it"
                } else {
                    ""
                }
            ),
        );
    }
    if let Some(c) = text_items(r.get("toCIDR"))
        .into_iter()
        .find(|c| is_everything_cidr(c))
    {
        return broad(child(ptr, "toCIDR"), format!("every address ({c})"));
    }
    for (i, set) in r
        .get("toCIDRSet")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        if let Some(c) = set
            .get("cidr")
            .and_then(Node::text)
            .filter(|c| is_everything_cidr(c))
        {
            return broad(
                format!("{ptr}/toCIDRSet/{i}/cidr"),
                format!("every address ({c})"),
            );
        }
    }
    for (i, f) in r
        .get("toFQDNs")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        if f.get("matchPattern").and_then(Node::text) == Some("*") {
            return broad(
                format!("{ptr}/toFQDNs/{i}/matchPattern"),
                "every DNS name (`matchPattern: \"*\"`)".into(),
            );
        }
    }
    const TO: [&str; 9] = [
        "toEndpoints",
        "toCIDR",
        "toCIDRSet",
        "toEntities",
        "toServices",
        "toFQDNs",
        "toGroups",
        "toNodes",
        "toRequires",
    ];
    if !to_ports.is_empty() && !TO.iter().any(|k| r.get(k).is_some()) {
        return broad(
            child(ptr, "toPorts"),
            "any destination (the rule has only `toPorts`)".into(),
        );
    }
    None
}

/// Does every `toPorts` entry carry Cilium L7 HTTP rules (`rules.http`) that each restrict the
/// `host` to something narrower than any host?
fn cilium_http_hosts_only(to_ports: &[Node]) -> bool {
    !to_ports.is_empty()
        && to_ports.iter().all(|tp| {
            let http = tp.pointer("/rules/http").map(Node::items).unwrap_or(&[]);
            !http.is_empty()
                && http.iter().all(|h| {
                    h.get("host")
                        .and_then(Node::text)
                        .is_some_and(|host| !matches!(host.trim(), "" | "*" | ".*" | "^.*$"))
                })
        })
}

/// A Calico egress `Allow` rule that admits any destination.
fn calico_broad(r: &Node, ptr: &str) -> Option<BroadEgress> {
    if r.get("action").and_then(Node::as_str) != Some("Allow") {
        return None;
    }
    let dest = r.get("destination");
    let ports = text_items(dest.and_then(|d| d.get("ports")));
    if !ports.is_empty() && ports.iter().all(|p| *p == "53") {
        return None;
    }
    let on = if ports.is_empty() {
        "on every port".to_owned()
    } else {
        format!("on port {}", ports.join(", "))
    };
    if let Some(n) = text_items(dest.and_then(|d| d.get("nets")))
        .into_iter()
        .find(|n| is_everything_cidr(n))
    {
        return Some(BroadEgress {
            pointer: format!("{ptr}/destination/nets"),
            what: format!("{on} to every address ({n})"),
        });
    }
    const POSITIVE: [&str; 6] = [
        "selector",
        "namespaceSelector",
        "nets",
        "serviceAccounts",
        "services",
        "domains",
    ];
    let restricted = dest.is_some_and(|d| {
        POSITIVE
            .iter()
            .any(|k| d.get(k).is_some_and(|v| !v.is_null()))
    });
    if !restricted {
        return Some(BroadEgress {
            pointer: if dest.is_some() {
                format!("{ptr}/destination")
            } else {
                ptr.to_owned()
            },
            what: format!("{on} to any destination (no destination selector or nets)"),
        });
    }
    None
}

/// NetworkPolicy egress rules that open port 53 (DNS) exactly, to any destination rather than to
/// the cluster DNS. Cilium and Calico rules: [`broad_cni_dns_egress`].
pub fn broad_dns_egress(p: &NetworkPolicy) -> Vec<BroadEgress> {
    if !p.egress_isolated {
        return Vec::new();
    }
    p.egress
        .iter()
        .filter(|r| r.ports.iter().any(is_dns_entry))
        .filter_map(|r| {
            broadest_peer(r, Direction::Egress).map(|(pointer, what)| {
                let protos: Vec<&str> = r
                    .ports
                    .iter()
                    .filter(|p| is_dns_entry(p))
                    .filter_map(|p| p.protocol.map(Protocol::as_str))
                    .collect();
                BroadEgress {
                    pointer,
                    what: format!("port 53 ({}) to {what}", protos.join(", ")),
                }
            })
        })
        .collect()
}

/// The Cilium specs of a `CiliumNetworkPolicy`/`CiliumClusterwideNetworkPolicy` (`spec` and
/// `specs[]`) with their pointers.
fn cilium_specs(o: &Object) -> Vec<(String, &Node)> {
    let mut specs: Vec<(String, &Node)> = Vec::new();
    if let Some(s) = present(&o.root, "spec") {
        specs.push(("/spec".to_owned(), s));
    }
    for (i, s) in o
        .root
        .get("specs")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        specs.push((format!("/specs/{i}"), s));
    }
    specs
}

/// Cilium and Calico egress rules that open only port 53 (DNS) to any destination — no
/// destination selector, the `world`/`all` entities, `0.0.0.0/0` — without restricting the
/// names that may be resolved:
/// - Cilium: a DNS L7 rule (`toPorts[].rules.dns`) on every port entry whose items each name
///   names (`matchName`, or a `matchPattern` other than `*`) restricts the queries the DNS proxy
///   lets through, so the rule is not reported; a `matchPattern: "*"` item allows every name
///   (Cilium permits a request when at least one item matches), as does no DNS rule.
/// - Calico: `destination.domains` (Calico Enterprise's DNS policy; `*` alone matches every
///   name) names the resolvers; `nets`, selectors, service accounts or services other than
///   `0.0.0.0/0`/`::/0` name the destinations.
///
/// Rules that open other ports besides 53 are judged by [`broad_egress`].
pub fn broad_cni_dns_egress(o: &Object) -> Vec<BroadEgress> {
    cni_egress(o, cilium_dns_broad, calico_dns_broad)
}

/// A Cilium egress rule opening only port 53 to any destination, with no DNS rule that
/// restricts the names.
fn cilium_dns_broad(r: &Node, ptr: &str) -> Option<BroadEgress> {
    let to_ports = r.get("toPorts").map(Node::items).unwrap_or(&[]);
    let ports: Vec<(&str, &str)> = to_ports
        .iter()
        .flat_map(|tp| tp.get("ports").map(Node::items).unwrap_or(&[]))
        .filter_map(|p| {
            let port = p.get("port").and_then(Node::text)?;
            Some((
                port,
                p.get("protocol").and_then(Node::text).unwrap_or("ANY"),
            ))
        })
        .collect();
    if ports.is_empty() || ports.iter().any(|(p, _)| *p != "53") {
        return None;
    }
    // The destination, judged as `cilium_broad` judges it on any port (it leaves rules that
    // open only port 53 alone).
    const TO: [&str; 9] = [
        "toEndpoints",
        "toCIDR",
        "toCIDRSet",
        "toEntities",
        "toServices",
        "toFQDNs",
        "toGroups",
        "toNodes",
        "toRequires",
    ];
    let (pointer, what) = if TO.iter().any(|k| r.get(k).is_some()) {
        let mut destinations = r.clone();
        if let crate::yaml::Value::Map(entries) = &mut destinations.value {
            entries.retain(|e| e.key != "toPorts");
        }
        let b = cilium_broad(&destinations, ptr)?;
        let what = b.what.strip_prefix("on every port to ").unwrap_or(&b.what);
        (b.pointer, what.to_owned())
    } else {
        (
            child(ptr, "toPorts"),
            "any destination (the rule has only `toPorts`)".to_owned(),
        )
    };
    // Every port entry restricts the names it resolves.
    let mut wildcard = None;
    let restricted = to_ports.iter().enumerate().all(|(i, tp)| {
        let dns = tp.pointer("/rules/dns").map(Node::items).unwrap_or(&[]);
        !dns.is_empty()
            && dns.iter().enumerate().all(|(j, d)| {
                let name = d.get("matchName").and_then(Node::text).map(str::trim);
                let pattern = d.get("matchPattern").and_then(Node::text).map(str::trim);
                if pattern == Some("*") {
                    wildcard.get_or_insert(format!("{ptr}/toPorts/{i}/rules/dns/{j}/matchPattern"));
                    return false;
                }
                name.is_some_and(|n| !n.is_empty()) || pattern.is_some_and(|p| !p.is_empty())
            })
    });
    if restricted {
        return None;
    }
    let mut protos: Vec<&str> = ports.iter().map(|(_, p)| *p).collect();
    protos.dedup();
    let names = if wildcard.is_some() {
        "every name (its DNS rule has `matchPattern: \"*\"`)"
    } else {
        "every name (no `rules.dns` restricts the queries)"
    };
    Some(BroadEgress {
        pointer: wildcard.unwrap_or(pointer),
        what: format!("port 53 ({}) to {what}, for {names}", protos.join(", ")),
    })
}

/// A Calico egress `Allow` rule opening only port 53 to any destination.
fn calico_dns_broad(r: &Node, ptr: &str) -> Option<BroadEgress> {
    if r.get("action").and_then(Node::as_str) != Some("Allow") {
        return None;
    }
    let dest = r.get("destination");
    let ports = text_items(dest.and_then(|d| d.get("ports")));
    if ports.is_empty() || ports.iter().any(|p| *p != "53") {
        return None;
    }
    let proto = r
        .get("protocol")
        .and_then(Node::text)
        .unwrap_or("any protocol");
    let what = |pointer: String, to: String| {
        Some(BroadEgress {
            pointer,
            what: format!("port 53 ({proto}) to {to}"),
        })
    };
    if let Some(n) = text_items(dest.and_then(|d| d.get("nets")))
        .into_iter()
        .find(|n| is_everything_cidr(n))
    {
        return what(
            format!("{ptr}/destination/nets"),
            format!("every address ({n})"),
        );
    }
    let domains = text_items(dest.and_then(|d| d.get("domains")));
    if domains.iter().any(|d| d.trim() == "*") {
        return what(
            format!("{ptr}/destination/domains"),
            "every domain (`domains: [\"*\"]`)".to_owned(),
        );
    }
    const POSITIVE: [&str; 6] = [
        "selector",
        "namespaceSelector",
        "nets",
        "serviceAccounts",
        "services",
        "domains",
    ];
    let restricted = dest.is_some_and(|d| {
        POSITIVE
            .iter()
            .any(|k| d.get(k).is_some_and(|v| !v.is_null()))
    });
    if restricted {
        return None;
    }
    what(
        format!("{ptr}/destination"),
        "any destination (no destination selector, nets or domains)".to_owned(),
    )
}

// ---------------------------------------------------------------------------------------------
// The network: every policy of an inventory
// ---------------------------------------------------------------------------------------------

/// A rule that allowed a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleRef {
    /// `NetworkPolicy/namespace/name`.
    pub policy: String,
    /// Pointer of the rule (`/spec/ingress/0`).
    pub rule: String,
}

/// The verdict of one side of a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Side {
    /// The endpoint is outside the cluster: no NetworkPolicy applies to it.
    Unpoliced,
    /// No policy isolates the pod in this direction: everything is allowed.
    NotIsolated,
    /// Isolated, and these rules allow the connection.
    Allowed(Vec<RuleRef>),
    /// Isolated by these policies, and no rule of theirs allows the connection.
    Denied(Vec<String>),
}

impl Side {
    pub fn allows(&self) -> bool {
        !matches!(self, Side::Denied(_))
    }
}

/// Whether a connection is allowed: egress of the source and ingress of the destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reach {
    pub egress: Side,
    pub ingress: Side,
}

impl Reach {
    pub fn allowed(&self) -> bool {
        self.egress.allows() && self.ingress.allows()
    }
}

/// A source of a namespace's default deny.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DenySource {
    pub identity: String,
    /// A Kubernetes NetworkPolicy that allows everything overrides it.
    pub undoable: bool,
}

/// Whether a namespace has a default deny in one direction, and why (not).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DefaultDeny {
    /// Policies that deny by default every pod of the namespace in the direction.
    pub by: Vec<DenySource>,
    /// Namespace-wide NetworkPolicies that allow all traffic of the direction (overriding a
    /// NetworkPolicy or baseline deny).
    pub undone_by: Vec<String>,
    /// Near misses and what this version could not judge, for messages.
    pub notes: Vec<String>,
}

impl DefaultDeny {
    pub fn holds(&self) -> bool {
        self.by.iter().any(|s| !s.undoable) || (!self.by.is_empty() && self.undone_by.is_empty())
    }
}

/// Every policy of an inventory, and the namespaces' labels.
#[derive(Clone, Debug, Default)]
pub struct Network {
    pub policies: Vec<NetworkPolicy>,
    pub others: Vec<OtherPolicy>,
    pub namespaces: Namespaces,
    /// The indexes in `policies` of each namespace's NetworkPolicies, in input order.
    by_namespace: std::collections::HashMap<String, Vec<usize>>,
}

impl Network {
    /// Reads the Namespaces, NetworkPolicies and other engines' policies among `objects`
    /// (`NetworkPolicy::object` and `OtherPolicy::object` index into it).
    /// The model of the Namespaces and network policies among `objects` (other kinds are
    /// ignored); a policy's `object` is its position in `objects`.
    pub fn from_objects<O: AsObject>(objects: impl IntoIterator<Item = O>) -> Network {
        let mut net = Network::default();
        for (i, o) in objects.into_iter().enumerate() {
            let o = &*o.as_object();
            if o.kind == "Namespace" && o.group().is_empty() {
                net.namespaces.declare(&o.name, o.labels());
            } else if let Some(mut p) = NetworkPolicy::from_object(o) {
                p.object = i;
                net.by_namespace
                    .entry(p.namespace.clone())
                    .or_default()
                    .push(net.policies.len());
                net.policies.push(p);
            } else {
                net.others.extend(OtherPolicy::from_object(i, o));
            }
        }
        net
    }

    /// NetworkPolicies of a namespace, the API server would reject included.
    pub fn policies_in<'a>(&'a self, ns: &'a str) -> impl Iterator<Item = &'a NetworkPolicy> + 'a {
        self.by_namespace
            .get(ns)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|&i| &self.policies[i])
    }

    /// Valid NetworkPolicies that select the pod and isolate it in the direction.
    pub fn isolating(&self, pod: &PodRef, d: Direction) -> Vec<&NetworkPolicy> {
        self.policies
            .iter()
            .filter(|p| p.is_valid() && p.isolates(d) && p.selects(pod))
            .collect()
    }

    fn peer_matches(&self, peer: &Peer, policy_ns: &str, ep: &Endpoint) -> bool {
        let ns_labels = match (&peer.kind, ep) {
            (
                PeerKind::Pods {
                    namespaces: Some(_),
                    ..
                },
                Endpoint::Pod(pod),
            ) => self.namespaces.labels(pod.namespace),
            _ => Labels::new(),
        };
        peer.admits(policy_ns, ep, &ns_labels)
    }

    /// The rules of one direction that admit the connection, for the policed pod.
    fn side(
        &self,
        d: Direction,
        pod: &PodRef,
        peer: &Endpoint,
        dst: &Endpoint,
        port: i64,
        protocol: Protocol,
    ) -> Side {
        let isolating = self.isolating(pod, d);
        if isolating.is_empty() {
            return Side::NotIsolated;
        }
        let mut by = Vec::new();
        for p in &isolating {
            for r in p.rules(d) {
                let peer_ok = r.peers.is_empty()
                    || r.peers
                        .iter()
                        .any(|x| self.peer_matches(x, &p.namespace, peer));
                let port_ok = r.ports.is_empty()
                    || r.ports
                        .iter()
                        .any(|x| x.matches(port, protocol, dst.named_ports()));
                if peer_ok && port_ok {
                    by.push(RuleRef {
                        policy: p.identity(),
                        rule: r.pointer.clone(),
                    });
                }
            }
        }
        if by.is_empty() {
            Side::Denied(isolating.iter().map(|p| p.identity()).collect())
        } else {
            Side::Allowed(by)
        }
    }

    /// Is a connection from `from` to port `port`/`protocol` of `to` allowed by the Kubernetes
    /// NetworkPolicies, and by which rules? (`port` is the pod's port, not a Service port.)
    pub fn reach(&self, from: &Endpoint, to: &Endpoint, port: i64, protocol: Protocol) -> Reach {
        let egress = match from {
            Endpoint::Pod(p) => self.side(Direction::Egress, p, to, to, port, protocol),
            Endpoint::External(_) => Side::Unpoliced,
        };
        let ingress = match to {
            Endpoint::Pod(p) => self.side(Direction::Ingress, p, from, to, port, protocol),
            Endpoint::External(_) => Side::Unpoliced,
        };
        Reach { egress, ingress }
    }

    /// Between two workloads (every pod of each).
    pub fn reach_workloads(
        &self,
        from: &Workload,
        to: &Workload,
        port: i64,
        protocol: Protocol,
    ) -> Reach {
        self.reach(
            &Endpoint::Pod(PodRef::of(from)),
            &Endpoint::Pod(PodRef::of(to)),
            port,
            protocol,
        )
    }

    /// Does every pod of the namespace get a default deny in this direction?
    pub fn default_deny(&self, ns: &str, d: Direction) -> DefaultDeny {
        let mut out = DefaultDeny::default();
        for p in self.policies_in(ns).filter(|p| p.is_namespace_wide()) {
            if !p.is_valid() {
                if p.isolates(d) {
                    out.notes.push(format!(
                        "{} would isolate {} but the API server rejects it ({}: {})",
                        p.identity(),
                        d.field(),
                        p.problems[0].pointer,
                        p.problems[0].message
                    ));
                }
                continue;
            }
            if !p.isolates(d) {
                if d == Direction::Egress && !p.types_explicit {
                    out.notes.push(format!(
                        "{} has no `policyTypes`, which Kubernetes defaults to [Ingress] when there are no egress rules: it does not isolate egress",
                        p.identity()
                    ));
                } else if p.types_explicit && !p.rules(d).is_empty() {
                    out.notes.push(format!(
                        "{} has {} rules but its `policyTypes` omits {}: they are ignored",
                        p.identity(),
                        d.field(),
                        d.as_str()
                    ));
                }
                continue;
            }
            match p.rules(d).iter().find(|r| r.allows_everything()) {
                Some(r) => out.undone_by.push(format!(
                    "{} (`{}` allows all {} traffic)",
                    p.identity(),
                    r.pointer,
                    d.field()
                )),
                None => out.by.push(DenySource {
                    identity: p.identity(),
                    undoable: true,
                }),
            }
        }
        for o in &self.others {
            let iso = o.isolation(d);
            match (o.covers_namespace(ns, &self.namespaces), iso) {
                (_, Isolation::None) | (Some(false), _) => {}
                (Some(true), Isolation::DefaultDeny { undoable }) => out.by.push(DenySource {
                    identity: o.identity.clone(),
                    undoable: *undoable,
                }),
                (Some(true), Isolation::AllowsAll(why)) => out.notes.push(format!(
                    "{} applies to every pod but allows all {} traffic ({why})",
                    o.identity,
                    d.field()
                )),
                (Some(true), Isolation::NotJudged(why)) => out.notes.push(format!(
                    "{} applies to every pod but is not counted as a default deny: {why}",
                    o.identity
                )),
                (None, Isolation::DefaultDeny { .. }) => out.notes.push(format!(
                    "{} may be a default deny, but whether it selects every pod is not known: {}",
                    o.identity,
                    o.describe_subject()
                )),
                (None, _) => {}
            }
        }
        out
    }

    /// The first policy (of any engine) that selects the pod, else notes on what this version
    /// could not evaluate or what the API server would reject.
    pub fn selected_by(&self, pod: &PodRef) -> Result<String, Vec<String>> {
        let mut notes = Vec::new();
        for p in self.policies_in(pod.namespace) {
            if p.selects(pod) {
                if p.is_valid() {
                    return Ok(p.identity());
                }
                notes.push(format!(
                    "{} would select it but the API server rejects it ({}: {})",
                    p.identity(),
                    p.problems[0].pointer,
                    p.problems[0].message
                ));
            }
        }
        for o in &self.others {
            match o.selects(pod, &self.namespaces) {
                Some(true) => return Ok(o.identity.clone()),
                Some(false) => {}
                None => notes.push(format!(
                    "{} may select it: {}",
                    o.identity,
                    o.describe_subject()
                )),
            }
        }
        Err(notes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::load_bytes;

    fn net(yaml: &str) -> (Network, Vec<Object>) {
        let loaded = load_bytes("t.yaml", yaml.as_bytes().to_vec());
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        let n = Network::from_objects(&loaded.objects);
        (n, loaded.objects)
    }

    fn policy(spec: &str) -> NetworkPolicy {
        let (n, _) = net(&format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p, namespace: ns}}\nspec:\n{spec}"
        ));
        n.policies.into_iter().next().unwrap()
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn selectors_absent_empty_and_expressions() {
        let mut pr = Vec::new();
        let doc = crate::yaml::parse_stream(
            "s:\n  matchLabels: {app: web}\n  matchExpressions:\n  - {key: tier, operator: In, values: [a, b]}\n  - {key: legacy, operator: DoesNotExist}\n  - {key: env, operator: NotIn, values: [dev]}\n  - {key: team, operator: Exists}\n",
        )
        .remove(0)
        .unwrap()
        .root
        .unwrap();
        let s = LabelSelector::parse(doc.get("s").unwrap(), "/s", &mut pr);
        assert!(pr.is_empty(), "{pr:?}");
        let ok = labels(&[("app", "web"), ("tier", "a"), ("team", "x")]);
        assert!(s.matches(&ok));
        let mut l = ok.clone();
        l.insert("legacy".into(), "1".into());
        assert!(!s.matches(&l));
        let mut l = ok.clone();
        l.insert("env".into(), "dev".into());
        assert!(!s.matches(&l));
        let mut l = ok.clone();
        l.insert("env".into(), "prod".into());
        assert!(s.matches(&l));
        l.remove("team");
        assert!(!s.matches(&l));
        assert_eq!(
            s.to_string(),
            "app=web,tier in (a,b),!legacy,env notin (dev),team"
        );
        // Empty selector selects all.
        assert!(LabelSelector::default().matches(&Labels::new()));
    }

    #[test]
    fn invalid_selectors_select_nothing_and_are_problems() {
        let p = policy("  podSelector:\n    matchExpressions:\n    - {key: a, operator: In}\n");
        assert!(!p.is_valid());
        assert!(!p.pod_selector.matches(&labels(&[("a", "x")])));
        let p = policy("  podSelector:\n    matchLabels: {enabled: true}\n");
        assert_eq!(
            p.problems[0].pointer,
            "/spec/podSelector/matchLabels/enabled"
        );
        let p = policy(
            "  podSelector:\n    matchExpressions:\n    - {key: a, operator: Equals, values: [x]}\n",
        );
        assert!(p.problems[0].message.contains("Equals"));
    }

    #[test]
    fn policy_types_defaulting() {
        let p = policy("  podSelector: {}\n");
        assert!(p.ingress_isolated && !p.egress_isolated);
        assert!(p.is_default_deny(Direction::Ingress));
        // `egress: []` has no rules: Egress is not added.
        let p = policy("  podSelector: {}\n  egress: []\n");
        assert!(!p.egress_isolated);
        let p = policy("  podSelector: {}\n  egress: [{to: [{podSelector: {}}]}]\n");
        assert!(p.ingress_isolated && p.egress_isolated);
        let p = policy("  podSelector: {}\n  policyTypes: [Egress]\n");
        assert!(!p.ingress_isolated && p.egress_isolated);
        let p = policy("  policyTypes: [Ingress, Egress]\n");
        assert!(p.is_default_deny(Direction::Ingress) && p.is_default_deny(Direction::Egress));
        let p = policy("  policyTypes: [ingress]\n");
        assert!(!p.is_valid());
        // `matchLabels:` with no value is the empty selector.
        let p = policy("  podSelector:\n    matchLabels:\n");
        assert!(p.is_namespace_wide() && p.is_valid());
    }

    #[test]
    fn peers_and_validation() {
        let p = policy(
            "  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {team: ops}}\n      podSelector: {matchLabels: {type: mon}}\n    - podSelector: {}\n    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}\n",
        );
        assert!(p.is_valid(), "{:?}", p.problems);
        let peers = &p.ingress[0].peers;
        assert!(matches!(
            &peers[0].kind,
            PeerKind::Pods {
                namespaces: Some(_),
                pods: Some(_)
            }
        ));
        assert!(
            matches!(&peers[1].kind, PeerKind::Pods { namespaces: None, pods: Some(s) } if s.is_empty())
        );
        assert_eq!(peers[2].describe("ns"), "10.0.0.0/8 except 10.1.0.0/16");
        let bad = policy("  ingress:\n  - from:\n    - {}\n");
        assert_eq!(bad.problems[0].message, "must specify a peer");
        let bad = policy(
            "  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/8}\n      podSelector: {}\n",
        );
        assert!(bad.problems[0].message.contains("both ipBlock"));
        let bad = policy(
            "  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/8, except: [192.168.0.0/16]}\n",
        );
        assert!(bad.problems[0].message.contains("strict subset"));
    }

    #[test]
    fn ports_and_validation() {
        let p = policy(
            "  ingress:\n  - ports:\n    - port: 5000\n    - {port: 32000, endPort: 32768, protocol: UDP}\n    - port: http\n    - protocol: SCTP\n",
        );
        assert!(p.is_valid(), "{:?}", p.problems);
        let ports = &p.ingress[0].ports;
        assert!(ports[0].covers_number(5000, Protocol::Tcp));
        assert!(!ports[0].covers_number(5000, Protocol::Udp));
        assert!(ports[1].covers_number(32768, Protocol::Udp));
        assert!(!ports[1].covers_number(32769, Protocol::Udp));
        let named = [("http".to_owned(), 8080, "TCP".to_owned())];
        assert!(ports[2].matches(8080, Protocol::Tcp, &named));
        assert!(!ports[2].matches(80, Protocol::Tcp, &named));
        assert!(!ports[2].matches(8080, Protocol::Tcp, &[]));
        assert!(ports[3].covers_number(1, Protocol::Sctp));
        for (spec, msg) in [
            ("{port: http, endPort: 90}", "non-numeric"),
            ("{endPort: 90}", "not specified"),
            ("{port: 100, endPort: 90}", "greater than or equal"),
            ("{port: 80, protocol: tcp}", "not supported"),
            ("{port: \"80\"}", "neither a port number"),
        ] {
            let p = policy(&format!("  ingress:\n  - ports: [{spec}]\n"));
            assert!(
                p.problems.iter().any(|x| x.message.contains(msg)),
                "{spec}: {:?}",
                p.problems
            );
        }
    }

    #[test]
    fn cidrs() {
        let c = Cidr::parse("172.17.0.0/16").unwrap();
        assert!(c.contains("172.17.3.4".parse().unwrap()));
        assert!(!c.contains("172.18.0.1".parse().unwrap()));
        assert!(!c.contains("::1".parse().unwrap()));
        assert_eq!(Cidr::parse("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert!(Cidr::parse("::/0").unwrap().is_everything());
        assert!(
            Cidr::parse("2001:db8::/32")
                .unwrap()
                .contains("2001:db8::1".parse().unwrap())
        );
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("10.0.0.0").is_none());
        assert!(Cidr::parse("10.0.0.0/+8").is_none());
    }

    const APP: &str = "
apiVersion: v1
kind: Namespace
metadata: {name: other, labels: {team: ops}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {role: db}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - podSelector: {matchLabels: {role: api}}
    ports: [{port: pg}]
  - from:
    - namespaceSelector: {matchLabels: {team: ops}}
      podSelector: {matchLabels: {type: monitoring}}
  egress:
  - to: [{ipBlock: {cidr: 10.0.0.0/24}}]
    ports: [{port: 5978}]
";

    #[test]
    fn reachability_two_sided_with_named_ports() {
        let (n, _) = net(APP);
        let db_l = labels(&[("role", "db")]);
        let api_l = labels(&[("role", "api")]);
        let mon_l = labels(&[("type", "monitoring")]);
        let ports = [("pg".to_owned(), 5432, "TCP".to_owned())];
        let db = Endpoint::Pod(PodRef {
            named_ports: &ports,
            ..PodRef::new("shop", &db_l)
        });
        let api = Endpoint::Pod(PodRef::new("shop", &api_l));
        let r = n.reach(&api, &db, 5432, Protocol::Tcp);
        assert!(r.allowed(), "{r:?}");
        assert_eq!(r.egress, Side::NotIsolated);
        assert!(matches!(&r.ingress, Side::Allowed(by) if by[0].rule == "/spec/ingress/0"));
        assert!(!n.reach(&api, &db, 5433, Protocol::Tcp).allowed());
        assert!(!n.reach(&api, &db, 5432, Protocol::Udp).allowed());
        // AND: monitoring pod in a namespace labelled team=ops, any port.
        let mon_other = Endpoint::Pod(PodRef::new("other", &mon_l));
        assert!(n.reach(&mon_other, &db, 9, Protocol::Tcp).allowed());
        let mon_shop = Endpoint::Pod(PodRef::new("shop", &mon_l));
        assert!(!n.reach(&mon_shop, &db, 9, Protocol::Tcp).allowed());
        // Egress of db: only 10.0.0.0/24 on TCP 5978; the API pod is not reachable from db.
        let ext = Endpoint::External("10.0.0.7".parse().unwrap());
        assert!(n.reach(&db, &ext, 5978, Protocol::Tcp).allowed());
        assert!(!n.reach(&db, &ext, 5979, Protocol::Tcp).allowed());
        let r = n.reach(&db, &api, 80, Protocol::Tcp);
        assert_eq!(r.egress, Side::Denied(vec!["NetworkPolicy/shop/db".into()]));
        assert_eq!(r.ingress, Side::NotIsolated);
    }

    #[test]
    fn default_deny_detection() {
        let deny_all = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: a}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n";
        let (n, _) = net(deny_all);
        assert!(n.default_deny("a", Direction::Ingress).holds());
        assert!(n.default_deny("a", Direction::Egress).holds());
        assert!(!n.default_deny("b", Direction::Ingress).holds());
        // An allow-all in the same namespace undoes it.
        let (n, _) = net(&format!(
            "{deny_all}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: open, namespace: a}}\nspec:\n  podSelector: {{}}\n  ingress: [{{}}]\n"
        ));
        let d = n.default_deny("a", Direction::Ingress);
        assert!(!d.holds() && d.undone_by[0].contains("open"), "{d:?}");
        assert!(n.default_deny("a", Direction::Egress).holds());
        // Isolating with restricted allow rules is a default deny.
        let (n, _) = net(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: same-ns, namespace: a}\nspec:\n  podSelector: {}\n  ingress: [{from: [podSelector: {}]}]\n",
        );
        assert!(n.default_deny("a", Direction::Ingress).holds());
        assert!(!n.default_deny("a", Direction::Egress).holds());
    }

    #[test]
    fn other_engines_default_deny() {
        let (n, _) = net(
            "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: deny, namespace: a}\nspec:\n  endpointSelector: {}\n  ingress: [{}]\n  egress: [{}]\n---\napiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: ns-b}\nspec:\n  endpointSelector: {matchLabels: {k8s:io.kubernetes.pod.namespace: b}}\n  ingressDeny: [{fromEntities: [world]}]\n",
        );
        assert!(n.default_deny("a", Direction::Ingress).holds());
        assert!(n.default_deny("a", Direction::Egress).holds());
        assert!(n.default_deny("b", Direction::Ingress).holds());
        assert!(!n.default_deny("b", Direction::Egress).holds());
        assert!(!n.default_deny("c", Direction::Ingress).holds());
        let l = labels(&[("app", "x")]);
        assert!(n.selected_by(&PodRef::new("b", &l)).is_ok());
        assert!(n.selected_by(&PodRef::new("c", &l)).is_err());

        let (n, _) = net(
            "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: deny}\nspec:\n  selector: all()\n  types: [Ingress, Egress]\n---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: other}\nspec:\n  selector: projectcalico.org/namespace != 'kube-system'\n  types: [Ingress]\n",
        );
        assert!(n.default_deny("x", Direction::Egress).holds());
        let (n, _) = net(
            "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: other}\nspec:\n  selector: projectcalico.org/namespace != 'kube-system'\n  types: [Ingress]\n",
        );
        let d = n.default_deny("x", Direction::Ingress);
        assert!(!d.holds() && d.notes[0].contains("not evaluated"), "{d:?}");

        let banp = "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\nspec:\n  subject: {namespaces: {}}\n  ingress:\n  - {name: deny, action: Deny, from: [{namespaces: {}}]}\n  egress:\n  - {name: deny, action: Deny, to: [{namespaces: {}}, {networks: [0.0.0.0/0]}]}\n";
        let (n, _) = net(banp);
        assert!(n.default_deny("x", Direction::Ingress).holds());
        let d = n.default_deny("x", Direction::Egress);
        assert!(!d.holds() && d.notes[0].contains("::/0"), "{d:?}");
        // A NetworkPolicy allowing everything overrides the baseline.
        let (n, _) = net(&format!(
            "{banp}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: open, namespace: x}}\nspec:\n  podSelector: {{}}\n  ingress: [{{}}]\n"
        ));
        assert!(!n.default_deny("x", Direction::Ingress).holds());
    }
}
