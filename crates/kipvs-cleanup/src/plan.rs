//! The planner: which rules and chains of one `iptables-save` dump go.
//!
//! The unit of removal is the chain for a chain only one mode makes (all
//! its rules go with it), and the rule for a chain both modes share: the
//! rules of the mode being cleaned go, the other mode's stay, and the rules
//! both modes write stay while the other mode is live in this dump. A jump
//! kube-proxy installed (recognised by its comment) goes with its mode.
//!
//! Two guarantees hold for every plan: a rule that is not kube-proxy's is
//! never removed, and no chain that a kept rule jumps to is removed. When a
//! foreign rule jumps into a chain that would go, that chain is kept whole
//! (its rules too, and what they jump to) and the plan says so.

use std::collections::{BTreeMap, BTreeSet};

use crate::{
    kube::{self, ChainClass, Mode, Origin},
    save::{Line, Ruleset, Table},
};

/// A chain kept although its mode is being cleaned, because a kept rule
/// jumps into it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Pinned {
    /// The table.
    pub table: String,
    /// The chain kept.
    pub chain: String,
    /// The kept rule that jumps into it.
    pub by: String,
}

/// What goes from one table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TablePlan {
    /// The table name.
    pub table: String,
    /// Rules removed one by one from chains that stay, as written
    /// (`-A CHAIN ...`, without counters).
    pub rules: Vec<String>,
    /// Chains removed whole, with their rules.
    pub chains: Vec<String>,
    /// How many rules go with the removed chains.
    pub rules_in_chains: usize,
    #[cfg_attr(feature = "serde", serde(skip))]
    removed_rule_lines: Vec<usize>,
    #[cfg_attr(feature = "serde", serde(skip))]
    removed_lines: BTreeSet<usize>,
    /// Which of the dump's tables this is: iptables-restore input may hold
    /// one table in several blocks, so the name alone does not say.
    #[cfg_attr(feature = "serde", serde(skip))]
    position: usize,
}

impl TablePlan {
    /// True when nothing goes from this table.
    pub fn is_empty(&self) -> bool {
        self.removed_lines.is_empty()
    }
}

/// The plan for one dump (one backend, one address family).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The modes being cleaned.
    pub modes: Vec<Mode>,
    /// Per table, in dump order; only tables with something to remove.
    pub tables: Vec<TablePlan>,
    /// Chains kept because a kept rule jumps into them.
    pub pinned: Vec<Pinned>,
    /// ipsets matched by rules that stay (they must not be destroyed).
    pub sets_in_use: BTreeSet<String>,
    /// ipsets matched only by rules that go.
    pub sets_released: BTreeSet<String>,
    before: Ruleset,
}

impl Plan {
    /// Plans the removal of `modes`' state from `before`.
    pub fn new(before: Ruleset, modes: &[Mode]) -> Plan {
        let modes: Vec<Mode> = modes
            .iter()
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        // The rules both modes write belong to the mode still running: keep
        // them while the dump shows the other mode is live.
        let other_live = match modes.as_slice() {
            [m] => mode_present(&before, m.other()),
            _ => false,
        };
        let mut plan = Plan {
            modes: modes.clone(),
            tables: Vec::new(),
            pinned: Vec::new(),
            sets_in_use: BTreeSet::new(),
            sets_released: BTreeSet::new(),
            before,
        };
        let mut sets_in_use = BTreeSet::new();
        let mut sets_released = BTreeSet::new();
        for (position, table) in plan.before.tables().enumerate() {
            let mut tp = plan_table(table, &modes, other_live, &mut plan.pinned);
            tp.position = position;
            for (i, line) in table.lines.iter().enumerate() {
                if let Line::Rule(r) = line {
                    let sets = r.match_sets().map(str::to_owned);
                    if tp.removed_lines.contains(&i) {
                        sets_released.extend(sets);
                    } else {
                        sets_in_use.extend(sets);
                    }
                }
            }
            if !tp.is_empty() {
                plan.tables.push(tp);
            }
        }
        plan.sets_released = sets_released.difference(&sets_in_use).cloned().collect();
        plan.sets_in_use = sets_in_use;
        plan
    }

    /// True when nothing is to be removed.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// The dump the plan started from.
    pub fn before(&self) -> &Ruleset {
        &self.before
    }

    /// The dump as it will be after the plan is applied.
    pub fn after(&self) -> Ruleset {
        let mut after = self.before.clone();
        let tables = after.items.iter_mut().filter_map(|item| match item {
            crate::save::Item::Table(t) => Some(t),
            crate::save::Item::Comment(_) => None,
        });
        for (position, t) in tables.enumerate() {
            if let Some(tp) = self.tables.iter().find(|p| p.position == position) {
                let mut i = 0;
                t.lines.retain(|_| {
                    i += 1;
                    !tp.removed_lines.contains(&(i - 1))
                });
            }
        }
        after
    }

    /// The `iptables-restore --noflush` input for each table, one
    /// transaction per table: `-D` for each rule removed from a chain that
    /// stays (by its exact spec, so a rule that changed or vanished since
    /// the dump makes the whole transaction fail and nothing changes), then
    /// `-F` and `-X` for each chain removed.
    pub fn restore_scripts(&self) -> Vec<Table> {
        let mut scripts = Vec::new();
        for tp in &self.tables {
            let table = self
                .before
                .tables()
                .nth(tp.position)
                .expect("planned from this dump");
            let mut script = Table::new(&tp.table);
            for &i in &tp.removed_rule_lines {
                let Line::Rule(r) = &table.lines[i] else {
                    unreachable!("a rule line")
                };
                script.push(format!("-D {} {}", r.chain, r.spec()).trim_end().to_owned());
            }
            for c in &tp.chains {
                script.push(format!("-F {c}"));
            }
            for c in &tp.chains {
                script.push(format!("-X {c}"));
            }
            scripts.push(script);
        }
        scripts
    }

    /// The plan as a unified diff per table, `label` naming the dump
    /// (e.g. `iptables-nft IPv4`).
    pub fn diff(&self, label: &str) -> String {
        let mut out = String::new();
        for tp in &self.tables {
            let table = self
                .before
                .tables()
                .nth(tp.position)
                .expect("planned from this dump");
            // Line 1 of the table's text is `*name`, then its lines, then COMMIT,
            // so the hunks' line numbers are those of the table's text.
            let text: Vec<&str> = std::iter::once(table.header())
                .chain(table.lines.iter().map(|l| match l {
                    // Counters (`iptables-save -c`) change every second:
                    // noise in a plan.
                    Line::Rule(r) => r.without_counters(),
                    l => l.text(),
                }))
                .chain(std::iter::once(table.commit()))
                .collect();
            let removed: BTreeSet<usize> = tp.removed_lines.iter().map(|i| i + 1).collect();
            crate::diff::unified(
                &mut out,
                &format!("{label} table {} (before)", tp.table),
                &format!("{label} table {} (after)", tp.table),
                &text,
                &removed,
            );
        }
        out
    }
}

/// True when `mode` has any chain or rule of its own in `rs`.
pub fn mode_present(rs: &Ruleset, mode: Mode) -> bool {
    rs.tables().any(|t| {
        t.chains()
            .any(|c| kube::chain_class(&t.name, &c.name) == Some(ChainClass::Only(mode)))
            || t.rules().any(|(_, r)| {
                kube::origin(&t.name, r, kube::chain_class(&t.name, &r.chain)) == Origin::Mode(mode)
            })
    })
}

/// Every ipset a rule of `rs` matches on.
pub fn match_sets(rs: &Ruleset) -> BTreeSet<String> {
    rs.tables()
        .flat_map(|t| {
            t.rules()
                .flat_map(|(_, r)| r.match_sets().map(str::to_owned))
        })
        .collect()
}

/// True when `rs` holds any kube-proxy chain.
pub fn has_kube_state(rs: &Ruleset) -> bool {
    rs.tables().any(|t| {
        t.chains()
            .any(|c| kube::chain_class(&t.name, &c.name).is_some())
    })
}

fn plan_table(
    table: &Table,
    modes: &[Mode],
    other_live: bool,
    pins: &mut Vec<Pinned>,
) -> TablePlan {
    let class = |chain: &str| kube::chain_class(&table.name, chain);
    let cleaned =
        |c: Option<ChainClass>| matches!(c, Some(ChainClass::Only(m)) if modes.contains(&m));
    // Chains that go whole, and rules that go one by one.
    let mut doomed: BTreeSet<&str> = table
        .chains()
        .filter(|c| cleaned(class(&c.name)))
        .map(|c| c.name.as_str())
        .collect();
    let mut removed: BTreeMap<usize, bool> = table
        .rules()
        .map(|(i, r)| {
            let gone = match kube::origin(&table.name, r, class(&r.chain)) {
                Origin::Mode(m) => modes.contains(&m),
                Origin::Common => !other_live,
                Origin::Foreign => false,
            };
            (i, gone)
        })
        .collect();
    // A kept rule jumping into a doomed chain keeps that chain, whole. A
    // rule that is not kube-proxy's (or sits in a chain kept that way)
    // jumping into a shared chain keeps that chain whole too: the rule
    // relies on what the chain does today. kube-proxy's own kept jumps into
    // a shared chain only keep the chain, cleaned of the old mode's rules.
    let mut pinned: BTreeSet<&str> = BTreeSet::new();
    loop {
        let mut pin = None;
        for (i, r) in table.rules() {
            if doomed.contains(r.chain.as_str()) || removed[&i] {
                continue;
            }
            let Some(t) = r.target() else { continue };
            let relied_on = pinned.contains(r.chain.as_str())
                || kube::origin(&table.name, r, class(&r.chain)) == Origin::Foreign;
            let partly_removed = class(t) == Some(ChainClass::Shared)
                && !pinned.contains(t)
                && table.rules().any(|(j, x)| x.chain == t && removed[&j]);
            if doomed.contains(t) || (relied_on && partly_removed) {
                pin = Some((t, r.without_counters().to_owned()));
                break;
            }
        }
        let Some((chain, by)) = pin else { break };
        doomed.remove(chain);
        pinned.insert(chain);
        for (i, r) in table.rules() {
            if r.chain == chain {
                removed.insert(i, false);
            }
        }
        pins.push(Pinned {
            table: table.name.clone(),
            chain: chain.to_owned(),
            by,
        });
    }
    // A shared chain goes when it is left empty, nothing kept jumps into
    // it, and the other mode (which would own it now) is not live.
    if !other_live {
        for c in table
            .chains()
            .filter(|c| class(&c.name) == Some(ChainClass::Shared))
        {
            let all_gone = table
                .rules()
                .filter(|(_, r)| r.chain == c.name)
                .all(|(i, _)| removed[&i]);
            let jumped_to = table.rules().any(|(i, r)| {
                !removed[&i] && !doomed.contains(r.chain.as_str()) && r.target() == Some(&c.name)
            });
            if all_gone && !jumped_to {
                doomed.insert(&c.name);
            }
        }
    }
    let mut tp = TablePlan {
        table: table.name.clone(),
        ..TablePlan::default()
    };
    for (i, line) in table.lines.iter().enumerate() {
        match line {
            Line::Chain(c) if doomed.contains(c.name.as_str()) => {
                tp.chains.push(c.name.clone());
                tp.removed_lines.insert(i);
            }
            Line::Rule(r) if doomed.contains(r.chain.as_str()) => {
                tp.rules_in_chains += 1;
                tp.removed_lines.insert(i);
            }
            Line::Rule(r) if removed[&i] => {
                tp.rules.push(r.without_counters().to_owned());
                tp.removed_rule_lines.push(i);
                tp.removed_lines.insert(i);
            }
            _ => {}
        }
    }
    tp
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODE: &str = "*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-SEP-A - [0:0]
:KUBE-SEP-B - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-A - [0:0]
:KUBE-SVC-B - [0:0]
:MINE - [0:0]
-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES
-A OUTPUT -d 10.1.2.3/32 -j MINE
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-SEP-A -s 10.244.0.2/32 -j KUBE-MARK-MASQ
-A KUBE-SEP-A -p tcp -m tcp -j DNAT --to-destination 10.244.0.2:80
-A KUBE-SEP-B -p tcp -m tcp -j DNAT --to-destination 10.244.0.3:80
-A KUBE-SERVICES -d 10.96.0.5/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-A
-A KUBE-SERVICES -d 10.96.0.6/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-B
-A KUBE-SVC-A -j KUBE-SEP-A
-A KUBE-SVC-B -j KUBE-SEP-B
-A MINE -j KUBE-SVC-A
COMMIT
";

    fn plan(text: &str, modes: &[Mode]) -> Plan {
        Plan::new(Ruleset::parse(text).unwrap(), modes)
    }

    #[test]
    fn a_foreign_jump_keeps_the_chain_and_what_it_needs() {
        let p = plan(NODE, &[Mode::Iptables]);
        let after = p.after().to_string();
        // MINE -> KUBE-SVC-A -> KUBE-SEP-A -> KUBE-MARK-MASQ all stay whole.
        for kept in [
            ":KUBE-SVC-A",
            ":KUBE-SEP-A",
            ":KUBE-MARK-MASQ",
            "-A KUBE-SEP-A -s 10.244.0.2/32 -j KUBE-MARK-MASQ",
            "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
            "-A MINE -j KUBE-SVC-A",
        ] {
            assert!(after.contains(kept), "{kept} missing:\n{after}");
        }
        // The rest of iptables mode goes: KUBE-SVC-B, its endpoint, the
        // service jumps, KUBE-SERVICES and the jump into it.
        for gone in [
            ":KUBE-SVC-B",
            ":KUBE-SEP-B",
            ":KUBE-SERVICES",
            "kubernetes service portals",
        ] {
            assert!(!after.contains(gone), "{gone} left:\n{after}");
        }
        let pinned: Vec<&str> = p.pinned.iter().map(|p| p.chain.as_str()).collect();
        assert_eq!(pinned, ["KUBE-SVC-A", "KUBE-SEP-A", "KUBE-MARK-MASQ"]);
        assert_eq!(p.pinned[0].by, "-A MINE -j KUBE-SVC-A");
    }

    #[test]
    fn without_the_foreign_jump_everything_goes() {
        let text = NODE.replace("-A MINE -j KUBE-SVC-A\n", "");
        let p = plan(&text, &[Mode::Iptables]);
        assert!(p.pinned.is_empty());
        let after = p.after().to_string();
        assert!(!after.contains("KUBE-"), "{after}");
        assert!(after.contains(":MINE - [0:0]\n-A OUTPUT -d 10.1.2.3/32 -j MINE\n"));
    }

    #[test]
    fn a_foreign_jump_into_a_shared_chain_keeps_it_whole() {
        let text = NODE.replace(
            "-A OUTPUT -d 10.1.2.3/32 -j MINE\n",
            "-A OUTPUT -d 10.1.2.3/32 -j MINE\n-A OUTPUT -j KUBE-SERVICES\n",
        );
        let p = plan(&text, &[Mode::Iptables]);
        let chains: Vec<&str> = p.pinned.iter().map(|p| p.chain.as_str()).collect();
        assert!(
            chains.contains(&"KUBE-SERVICES") && chains.contains(&"KUBE-SVC-B"),
            "{chains:?}"
        );
        // KUBE-SERVICES stays with its rules and the chains they jump to.
        let after = p.after().to_string();
        assert!(
            after.contains("-A KUBE-SERVICES -d 10.96.0.6/32"),
            "{after}"
        );
    }

    #[test]
    fn empty_plan_for_a_node_without_kube_proxy() {
        let text = "*filter\n:INPUT ACCEPT [0:0]\n:KUBE-FIREWALL - [0:0]\n-A INPUT -j KUBE-FIREWALL\nCOMMIT\n";
        assert!(plan(text, &[Mode::Iptables, Mode::Ipvs]).is_empty());
        assert!(!has_kube_state(&Ruleset::parse(text).unwrap()));
    }

    /// Found by `fuzz/` (`iptables_save`): the second block of a table was
    /// planned, then written (`diff`, `after`, `restore_scripts`) against
    /// the first block of that name, and `diff` panicked.
    #[test]
    fn a_table_in_two_blocks_is_planned_block_by_block() {
        let text =
            "*filter\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\n:KUBE-IPVS-FILTER - [0:0]\nCOMMIT\n";
        let p = plan(text, &[Mode::Ipvs]);
        assert_eq!(p.tables.len(), 1);
        assert!(p.diff("x").contains("-:KUBE-IPVS-FILTER - [0:0]"));
        let scripts: Vec<String> = p.restore_scripts().iter().map(|t| t.to_string()).collect();
        assert_eq!(
            scripts,
            ["*filter\n-F KUBE-IPVS-FILTER\n-X KUBE-IPVS-FILTER\nCOMMIT\n"]
        );
        let after = p.after().to_string();
        assert_eq!(
            after,
            "*filter\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n"
        );
        assert!(plan(&after, &[Mode::Ipvs]).is_empty());
    }
}
