//! kube-proxy's nftables mode keeps everything in two tables of its own,
//! `ip kube-proxy` and `ip6 kube-proxy` (kubernetes
//! `pkg/proxy/nftables/proxier.go`: `kubeProxyTable`), so its clean-up is
//! `nft delete table`: nothing else on the node lives in those tables.

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
