//! What kube-proxy writes into iptables, in each proxy mode: which chains
//! are its own, and which rules of the chains both modes use belong to
//! which mode.
//!
//! Sources: kubernetes `pkg/proxy/iptables/proxier.go` (`iptablesJumpChains`,
//! `CleanupLeftovers`, `isServiceChainName`) and `pkg/proxy/ipvs/proxier.go`
//! (`iptablesJumpChain`, `iptablesChains`, `ipsetWithIptablesChain`,
//! `writeIptablesRules`), and `iptables-save` dumps of real nodes.
//! Not kube-proxy's, and never touched: kubelet's `KUBE-FIREWALL`,
//! `KUBE-KUBELET-CANARY`, `KUBE-IPTABLES-HINT` and `KUBE-MARK-DROP` (made by
//! kubelet before 1.24, and by both in some versions: too ambiguous to
//! remove); Docker's chains; everything else.

use std::collections::BTreeSet;

use crate::save::{Rule, Ruleset};

/// A kube-proxy proxy mode whose iptables state can be cleaned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Mode {
    /// `--proxy-mode=iptables`.
    Iptables,
    /// `--proxy-mode=ipvs`.
    Ipvs,
}

impl Mode {
    /// The other iptables-using mode.
    pub fn other(self) -> Mode {
        match self {
            Mode::Iptables => Mode::Ipvs,
            Mode::Ipvs => Mode::Iptables,
        }
    }
}

/// Who a kube-proxy chain belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainClass {
    /// Only this mode makes the chain.
    Only(Mode),
    /// Both modes make the chain (`KUBE-SERVICES` in nat, `KUBE-FORWARD`,
    /// ...); each mode flushes and rewrites it, so it is cleaned rule by rule.
    Shared,
}

/// Who a rule belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Written by kube-proxy in this mode only.
    Mode(Mode),
    /// Written identically by both modes (the jump into `KUBE-POSTROUTING`,
    /// the `KUBE-MARK-MASQ` mark, ...), or an unattributable rule inside a
    /// shared kube-proxy chain: it stays as long as the other mode is live.
    Common,
    /// Not kube-proxy's: never touched.
    Foreign,
}

const IPTABLES_SERVICE_PREFIXES: [&str; 6] = [
    "KUBE-SVC-",
    "KUBE-SVL-",
    "KUBE-EXT-",
    "KUBE-FW-",
    "KUBE-SEP-",
    // Local-traffic chains of kube-proxy before 1.24.
    "KUBE-XLB-",
];

/// The class of chain `name` in `table`, or `None` when it is not
/// kube-proxy's.
pub fn chain_class(table: &str, name: &str) -> Option<ChainClass> {
    use ChainClass::*;
    use Mode::*;
    match (table, name) {
        ("nat", "KUBE-SERVICES" | "KUBE-POSTROUTING" | "KUBE-MARK-MASQ") => Some(Shared),
        ("nat", "KUBE-NODEPORTS" | "KUBE-PROXY-CANARY") => Some(Only(Iptables)),
        ("nat", n) if IPTABLES_SERVICE_PREFIXES.iter().any(|p| n.starts_with(p)) => {
            Some(Only(Iptables))
        }
        // KUBE-FIRE-WALL: the IPVS load-balancer firewall chain before 1.26.
        ("nat", "KUBE-NODE-PORT" | "KUBE-LOAD-BALANCER" | "KUBE-FIRE-WALL") => Some(Only(Ipvs)),
        ("filter", "KUBE-FORWARD" | "KUBE-PROXY-FIREWALL") => Some(Shared),
        (
            "filter",
            "KUBE-SERVICES" | "KUBE-EXTERNAL-SERVICES" | "KUBE-NODEPORTS" | "KUBE-PROXY-CANARY",
        ) => Some(Only(Iptables)),
        (
            "filter",
            "KUBE-NODE-PORT"
            | "KUBE-SOURCE-RANGES-FIREWALL"
            | "KUBE-IPVS-FILTER"
            | "KUBE-IPVS-OUT-FILTER",
        ) => Some(Only(Ipvs)),
        ("mangle", "KUBE-PROXY-CANARY") => Some(Only(Iptables)),
        _ => None,
    }
}

/// True for the names of kube-proxy's ipsets (IPVS mode), `KUBE-6-...` for
/// IPv6 included.
pub fn is_kube_set(name: &str) -> bool {
    name.starts_with("KUBE-")
}

/// The node ports iptables mode's rules name: `(protocol, port)` of each
/// rule in nat `KUBE-NODEPORTS` (`-p tcp ... --dport 31080 -j KUBE-EXT-...`),
/// protocol as iptables writes it (`tcp`, `udp`, `sctp`). Stale or live,
/// they are node ports kube-proxy serves, which tells its IPVS node-port
/// services from others on the node's addresses.
pub fn node_ports(rs: &Ruleset) -> BTreeSet<(String, u16)> {
    rs.tables()
        .filter(|t| t.name == "nat")
        .flat_map(|t| t.rules().map(|(_, r)| r))
        .filter(|r| r.chain == "KUBE-NODEPORTS")
        .filter_map(|r| {
            let protocol = r.option("-p")?.to_ascii_lowercase();
            let port = r.option("--dport")?.parse().ok()?;
            Some((protocol, port))
        })
        .collect()
}

/// Comments kube-proxy puts on the rules that jump from the built-in chains
/// into its own chains, and the mode that writes each (`None`: both).
const JUMP_COMMENTS: [(&str, Option<Mode>); 9] = [
    ("kubernetes service portals", None),
    ("kubernetes postrouting rules", None),
    ("kubernetes forwarding rules", None),
    (
        "kubernetes externally-visible service portals",
        Some(Mode::Iptables),
    ),
    (
        "kubernetes health check service ports",
        Some(Mode::Iptables),
    ),
    ("kubernetes load balancer firewall", Some(Mode::Iptables)),
    ("kubernetes health check rules", Some(Mode::Ipvs)),
    ("kube-proxy firewall rules", Some(Mode::Ipvs)),
    ("kubernetes ipvs access filter", Some(Mode::Ipvs)),
];

/// Who wrote `rule` of `table`. `in_class` is the class of the chain the
/// rule is in (`None`: not a kube-proxy chain).
pub fn origin(table: &str, rule: &Rule, in_class: Option<ChainClass>) -> Origin {
    let target_class = rule.target().and_then(|t| chain_class(table, t));
    match in_class {
        Some(ChainClass::Only(mode)) => Origin::Mode(mode),
        Some(ChainClass::Shared) => shared_rule_origin(table, rule, target_class),
        // A rule elsewhere is kube-proxy's only when it is one of the jumps
        // kube-proxy installs into its chains, recognised by its comment.
        None => {
            if target_class.is_none() {
                return Origin::Foreign;
            }
            let Some((_, mode)) = rule
                .comment()
                .and_then(|c| JUMP_COMMENTS.iter().find(|(k, _)| *k == c))
            else {
                return Origin::Foreign;
            };
            match (mode, target_class) {
                (Some(m), _) => Origin::Mode(*m),
                (None, Some(ChainClass::Only(m))) => Origin::Mode(m),
                (None, _) => Origin::Common,
            }
        }
    }
}

fn shared_rule_origin(table: &str, rule: &Rule, target: Option<ChainClass>) -> Origin {
    if let Some(ChainClass::Only(mode)) = target {
        return Origin::Mode(mode);
    }
    if rule.match_sets().any(is_kube_set) {
        return Origin::Mode(Mode::Ipvs);
    }
    match (table, rule.chain.as_str()) {
        // IPVS mode lets local connections through early:
        // `-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN` (`::1/128` for IPv6).
        ("nat", "KUBE-SERVICES")
            if rule.target() == Some("RETURN")
                && matches!(rule.option("-s"), Some("127.0.0.0/8" | "::1/128")) =>
        {
            Origin::Mode(Mode::Ipvs)
        }
        // iptables mode drops conntrack-INVALID packets in KUBE-FORWARD.
        ("filter", "KUBE-FORWARD")
            if rule.option("--ctstate") == Some("INVALID") && rule.target() == Some("DROP") =>
        {
            Origin::Mode(Mode::Iptables)
        }
        // iptables mode's load-balancer source-range drops name their
        // KUBE-FW- chain: "ns/svc:port traffic not accepted by KUBE-FW-...".
        ("filter", "KUBE-PROXY-FIREWALL")
            if rule
                .comment()
                .is_some_and(|c| c.contains("traffic not accepted by KUBE-FW-")) =>
        {
            Origin::Mode(Mode::Iptables)
        }
        _ => Origin::Common,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::save::{Line, Ruleset};

    fn rule(table: &str, line: &str) -> Origin {
        let text = format!("*{table}\n{line}\nCOMMIT\n");
        let rs = Ruleset::parse(&text).unwrap();
        let Line::Rule(r) = &rs.table(table).unwrap().lines[0] else {
            panic!()
        };
        origin(table, r, chain_class(table, &r.chain))
    }

    #[test]
    fn node_ports_of_iptables_mode() {
        let rs = Ruleset::parse(
            "*nat\n:KUBE-NODEPORTS - [0:0]\n:MINE - [0:0]\n\
             -A KUBE-NODEPORTS -p tcp -m comment --comment \"shop/frontend:http\" -m tcp --dport 31080 -j KUBE-EXT-X\n\
             -A KUBE-NODEPORTS -p udp -m udp --dport 31053 -j KUBE-EXT-Y\n\
             -A MINE -p tcp -m tcp --dport 30001 -j ACCEPT\nCOMMIT\n\
             *filter\n:KUBE-NODEPORTS - [0:0]\n\
             -A KUBE-NODEPORTS -p tcp -m tcp --dport 32000 -j ACCEPT\nCOMMIT\n",
        )
        .unwrap();
        let ports: Vec<(String, u16)> = node_ports(&rs).into_iter().collect();
        assert_eq!(ports, [("tcp".into(), 31080), ("udp".into(), 31053)]);
    }

    #[test]
    fn chains_by_owner() {
        use ChainClass::*;
        assert_eq!(
            chain_class("nat", "KUBE-SVC-NPX46M4PTMTKRN6Y"),
            Some(Only(Mode::Iptables))
        );
        assert_eq!(chain_class("nat", "KUBE-SERVICES"), Some(Shared));
        assert_eq!(
            chain_class("filter", "KUBE-SERVICES"),
            Some(Only(Mode::Iptables))
        );
        assert_eq!(
            chain_class("filter", "KUBE-IPVS-FILTER"),
            Some(Only(Mode::Ipvs))
        );
        assert_eq!(
            chain_class("mangle", "KUBE-PROXY-CANARY"),
            Some(Only(Mode::Iptables))
        );
        for kubelet in [
            "KUBE-FIREWALL",
            "KUBE-KUBELET-CANARY",
            "KUBE-IPTABLES-HINT",
            "KUBE-MARK-DROP",
            "DOCKER",
            "KUBE-SVC",
        ] {
            for t in ["nat", "filter", "mangle"] {
                assert_eq!(chain_class(t, kubelet), None, "{t} {kubelet}");
            }
        }
        assert_eq!(chain_class("raw", "KUBE-SERVICES"), None);
    }

    #[test]
    fn rules_by_origin() {
        use Mode::*;
        let o = Origin::Mode;
        assert_eq!(rule("nat", "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES"), Origin::Common);
        assert_eq!(rule("filter", "-A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES"), o(Iptables));
        assert_eq!(rule("filter", "-A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL"), o(Iptables));
        assert_eq!(rule("filter", "-A INPUT -m comment --comment \"kube-proxy firewall rules\" -j KUBE-PROXY-FIREWALL"), o(Ipvs));
        assert_eq!(rule("filter", "-A OUTPUT -m comment --comment \"kubernetes ipvs access filter\" -j KUBE-IPVS-OUT-FILTER"), o(Ipvs));
        // Jumps without kube-proxy's comment are someone else's.
        assert_eq!(
            rule("nat", "-A PREROUTING -j KUBE-SERVICES"),
            Origin::Foreign
        );
        assert_eq!(rule("filter", "-A INPUT -j KUBE-FIREWALL"), Origin::Foreign);
        assert_eq!(
            rule("nat", "-A DOCKER -i docker0 -j RETURN"),
            Origin::Foreign
        );
        // Inside shared chains.
        assert_eq!(rule("nat", "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS"), o(Iptables));
        assert_eq!(
            rule(
                "nat",
                "-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT"
            ),
            o(Ipvs)
        );
        assert_eq!(
            rule("nat", "-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN"),
            o(Ipvs)
        );
        assert_eq!(
            rule(
                "nat",
                "-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT"
            ),
            o(Ipvs)
        );
        assert_eq!(
            rule("nat", "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0"),
            Origin::Common
        );
        assert_eq!(
            rule(
                "filter",
                "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP"
            ),
            o(Iptables)
        );
        assert_eq!(rule("filter", "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"), Origin::Common);
        assert_eq!(rule("filter", "-A KUBE-PROXY-FIREWALL -d 5.6.7.8/32 -p tcp -m comment --comment \"ns/lb:http traffic not accepted by KUBE-FW-ABCDEFGHIJKLMNOP\" -m tcp --dport 80 -j DROP"), o(Iptables));
        // Inside mode-only chains, everything is that mode's.
        assert_eq!(
            rule("nat", "-A KUBE-SEP-X -s 10.0.0.1/32 -j KUBE-MARK-MASQ"),
            o(Iptables)
        );
    }
}
