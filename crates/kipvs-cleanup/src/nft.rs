//! kube-proxy's nftables mode keeps everything in two tables of its own,
//! `ip kube-proxy` and `ip6 kube-proxy` (kubernetes
//! `pkg/proxy/nftables/proxier.go`: `kubeProxyTable`), so its clean-up is
//! `nft delete table`: nothing else on the node lives in those tables.

use std::collections::BTreeSet;

use kipvs_netlink::NetNs;

use crate::{exec, Result};

/// The name of kube-proxy's nftables tables.
pub const KUBE_PROXY_TABLE: &str = "kube-proxy";

/// The program.
pub const NFT: &str = "nft";

/// One nftables table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct NftTable {
    /// The family: `ip` or `ip6`.
    pub family: String,
    /// The table name.
    pub name: String,
    /// `nft list table FAMILY NAME` as printed before the clean-up.
    pub listing: String,
}

impl NftTable {
    /// `ip kube-proxy`.
    pub fn spec(&self) -> String {
        format!("{} {}", self.family, self.name)
    }

    /// The listing as a diff that removes every line.
    pub fn diff(&self) -> String {
        let mut out = format!(
            "--- nft table {} (before)\n+++ nft table {} (after)\n",
            self.spec(),
            self.spec()
        );
        let lines: Vec<&str> = self.listing.lines().collect();
        out.push_str(&format!("@@ -1,{} +0,0 @@\n", lines.len()));
        for l in lines {
            out.push('-');
            out.push_str(l);
            out.push('\n');
        }
        out
    }
}

/// True when `nft` is installed.
pub fn available() -> bool {
    exec::on_path(NFT)
}

/// kube-proxy's tables present in `netns`, with their listings.
pub fn kube_proxy_tables(netns: &NetNs) -> Result<Vec<NftTable>> {
    kube_proxy_table_specs(netns)?
        .into_iter()
        .map(|(family, name)| {
            let listing = exec::run(netns, NFT, &["list", "table", &family, &name], None)?;
            Ok(NftTable {
                family,
                name,
                listing,
            })
        })
        .collect()
}

/// The family and name of each of kube-proxy's tables in `netns`
/// (`nft list tables`, without listing their contents).
pub fn kube_proxy_table_specs(netns: &NetNs) -> Result<Vec<(String, String)>> {
    let tables = exec::run(netns, NFT, &["list", "tables"], None)?;
    let mut found = Vec::new();
    for line in tables.lines() {
        let mut words = line.split_whitespace();
        let (Some("table"), Some(family), Some(name), None) =
            (words.next(), words.next(), words.next(), words.next())
        else {
            continue;
        };
        if name == KUBE_PROXY_TABLE && matches!(family, "ip" | "ip6") {
            found.push((family.to_owned(), name.to_owned()));
        }
    }
    Ok(found)
}

/// The node ports nftables mode serves, from a listing of its table: the
/// keys of its `service-nodeports` and `no-endpoint-nodeports` maps
/// (`elements = { tcp . 31080 : goto external-...-ns/svc/tcp/http, ... }`),
/// as `(protocol, port)`. Like iptables mode's `KUBE-NODEPORTS` rules,
/// they tell IPVS mode's node-port services from others.
pub fn node_ports(listing: &str) -> BTreeSet<(String, u16)> {
    let mut ports = BTreeSet::new();
    let mut rest = listing;
    while let Some(at) = rest.find("map ") {
        rest = &rest[at + 4..];
        let name = rest.split_whitespace().next().unwrap_or("");
        let Some(end) = rest.find("\n\t}") else {
            break;
        };
        let block = &rest[..end];
        rest = &rest[end..];
        if !matches!(name, "service-nodeports" | "no-endpoint-nodeports") {
            continue;
        }
        let Some(elements) = block
            .split_once("elements = {")
            .and_then(|(_, e)| e.split_once('}'))
            .map(|(e, _)| e)
        else {
            continue;
        };
        for element in elements.split(',') {
            let key = element.split(':').next().unwrap_or("");
            let mut words = key.split('.').map(str::trim);
            if let (Some(protocol), Some(port), None) = (words.next(), words.next(), words.next()) {
                if let Ok(port) = port.parse() {
                    ports.insert((protocol.to_owned(), port));
                }
            }
        }
    }
    ports
}

/// Deletes `table` (one nftables transaction).
pub fn delete(netns: &NetNs, table: &NftTable) -> Result<()> {
    exec::run(
        netns,
        NFT,
        &["delete", "table", &table.family, &table.name],
        None,
    )
    .map(drop)
}

/// Loads a saved listing of `family name` back, replacing the table if it
/// exists again: one `nft -f` transaction that declares the table (so the
/// delete cannot fail), deletes it, and loads the saved text.
pub fn restore(netns: &NetNs, family: &str, name: &str, listing: &str) -> Result<()> {
    let script = format!("table {family} {name}\ndelete table {family} {name}\n{listing}");
    exec::run(netns, NFT, &["-f", "-"], Some(&script)).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ports_of_nftables_mode() {
        let listing = "table ip kube-proxy {
\tmap service-ips {
\t\ttype ipv4_addr . inet_proto . inet_service : verdict
\t\telements = { 10.96.0.10 . udp . 53 : goto service-FY5PMXPG-kube-system/kube-dns/udp/dns }
\t}
\tmap service-nodeports {
\t\ttype inet_proto . inet_service : verdict
\t\tcomment \"NodePort traffic\"
\t\telements = { tcp . 31080 : goto external-HV3SD3RG-shop/frontend/tcp/http,
\t\t\t     udp . 30053 : goto external-X-ns/dns/udp/dns }
\t}
\tmap no-endpoint-nodeports {
\t\ttype inet_proto . inet_service : verdict
\t\telements = { tcp . 30333 : goto reject-chain }
\t}
\tmap empty-one {
\t\ttype inet_proto . inet_service : verdict
\t}
}
";
        let ports: Vec<(String, u16)> = node_ports(listing).into_iter().collect();
        assert_eq!(
            ports,
            [
                ("tcp".into(), 30333),
                ("tcp".into(), 31080),
                ("udp".into(), 30053)
            ]
        );
        assert!(node_ports("table ip kube-proxy {\n}\n").is_empty());
    }
}
