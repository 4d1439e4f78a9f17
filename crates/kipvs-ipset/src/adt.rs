//! [`Entry`] to and from element attributes.

use std::net::IpAddr;

use crate::{
    entry::{Entry, IpPart, Part, PortPart, Position},
    types::{Dim, SetName, SetType},
    wire::{
        AdtAttr, IPSET_FLAG_BEFORE, IPSET_FLAG_IFACE_WILDCARD, IPSET_FLAG_NOMATCH,
        IPSET_FLAG_PHYSDEV,
    },
};

/// The attributes of `entry`, in the order ipset sends them (by attribute
/// number, as its type tables list them), then `IPSET_ATTR_LINENO` when
/// `lineno` is not 0.
pub(crate) fn to_attrs(entry: &Entry, lineno: u32) -> Vec<AdtAttr> {
    // Room for the common elements and the line number a bulk request
    // adds, so neither grows the vector.
    let mut attrs: Vec<AdtAttr> = Vec::with_capacity(8);
    to_attrs_into(entry, lineno, &mut attrs);
    attrs
}

/// [`to_attrs`] into `attrs` (cleared first), so a bulk request reuses
/// one vector for all its elements.
pub(crate) fn to_attrs_into(entry: &Entry, lineno: u32, attrs: &mut Vec<AdtAttr>) {
    attrs.clear();
    let mut cadt = 0u32;
    let mut ips = 0;
    for part in &entry.parts {
        match part {
            Part::Ip(ip) => {
                let first = ips == 0;
                ips += 1;
                if first {
                    attrs.push(AdtAttr::Ip(ip.addr));
                    if let Some(to) = ip.to {
                        attrs.push(AdtAttr::IpTo(to));
                    }
                    if let Some(c) = ip.cidr {
                        attrs.push(AdtAttr::Cidr(c));
                    }
                } else {
                    attrs.push(AdtAttr::Ip2(ip.addr));
                    if let Some(c) = ip.cidr {
                        attrs.push(AdtAttr::Cidr2(c));
                    }
                    if let Some(to) = ip.to {
                        attrs.push(AdtAttr::Ip2To(to));
                    }
                }
            }
            Part::Port(p) => {
                attrs.push(AdtAttr::Port(p.port));
                if let Some(to) = p.to {
                    attrs.push(AdtAttr::PortTo(to));
                }
                if let Some(proto) = p.proto {
                    attrs.push(AdtAttr::Proto(proto));
                }
            }
            Part::Iface { name, physdev } => {
                if *physdev {
                    cadt |= IPSET_FLAG_PHYSDEV;
                }
                attrs.push(AdtAttr::Iface(name.clone()));
            }
            Part::Mac(m) => attrs.push(AdtAttr::Ether(*m)),
            Part::Mark(m) => attrs.push(AdtAttr::Mark(*m)),
            Part::Set(n) => attrs.push(AdtAttr::Name(n.as_str().to_owned())),
        }
    }
    match &entry.position {
        Some(Position::Before(n)) => {
            cadt |= IPSET_FLAG_BEFORE;
            attrs.push(AdtAttr::NameRef(n.as_str().to_owned()));
        }
        Some(Position::After(n)) => attrs.push(AdtAttr::NameRef(n.as_str().to_owned())),
        None => {}
    }
    if entry.nomatch {
        cadt |= IPSET_FLAG_NOMATCH;
    }
    if entry.wildcard {
        cadt |= IPSET_FLAG_IFACE_WILDCARD;
    }
    if cadt != 0 {
        attrs.push(AdtAttr::CadtFlags(cadt));
    }
    if let Some(t) = entry.timeout {
        attrs.push(AdtAttr::Timeout(t));
    }
    if let Some(b) = entry.bytes {
        attrs.push(AdtAttr::Bytes(b));
    }
    if let Some(p) = entry.packets {
        attrs.push(AdtAttr::Packets(p));
    }
    if let Some(c) = &entry.comment {
        attrs.push(AdtAttr::Comment(c.clone()));
    }
    if let Some((mark, mask)) = entry.skbmark {
        attrs.push(AdtAttr::SkbMark((mark as u64) << 32 | mask as u64));
    }
    if let Some((major, minor)) = entry.skbprio {
        attrs.push(AdtAttr::SkbPrio((major as u32) << 16 | minor as u32));
    }
    if let Some(q) = entry.skbqueue {
        attrs.push(AdtAttr::SkbQueue(q));
    }
    attrs.sort_by_key(AdtAttr::number);
    if lineno != 0 {
        attrs.push(AdtAttr::LineNo(lineno));
    }
}

/// One element of a single add or del: ipset ends it with
/// `IPSET_ATTR_LINENO` 0 (test sends none).
pub(crate) fn single(entry: &Entry) -> Vec<AdtAttr> {
    let mut attrs = to_attrs(entry, 0);
    attrs.push(AdtAttr::LineNo(0));
    attrs
}

/// The entry a list reply describes, for a set of `set_type`.
pub(crate) fn from_attrs(set_type: SetType, attrs: &[AdtAttr]) -> Entry {
    let mut e = Entry::default();
    let (mut ip, mut ip_to, mut cidr) = (None::<IpAddr>, None, None);
    let (mut ip2, mut ip2_to, mut cidr2) = (None::<IpAddr>, None, None);
    let (mut port, mut port_to, mut proto) = (None, None, None);
    let (mut iface, mut mac, mut mark, mut name) = (None, None, None, None);
    let mut cadt = 0;
    for a in attrs {
        match a {
            AdtAttr::Ip(v) => ip = Some(*v),
            AdtAttr::IpTo(v) => ip_to = Some(*v),
            AdtAttr::Cidr(v) => cidr = Some(*v),
            AdtAttr::Ip2(v) => ip2 = Some(*v),
            AdtAttr::Ip2To(v) => ip2_to = Some(*v),
            AdtAttr::Cidr2(v) => cidr2 = Some(*v),
            AdtAttr::Port(v) => port = Some(*v),
            AdtAttr::PortTo(v) => port_to = Some(*v),
            AdtAttr::Proto(v) => proto = Some(*v),
            AdtAttr::Iface(v) => iface = Some(v.clone()),
            AdtAttr::Ether(v) => mac = Some(*v),
            AdtAttr::Mark(v) => mark = Some(*v),
            AdtAttr::Name(v) => name = Some(v.clone()),
            AdtAttr::CadtFlags(v) => cadt = *v,
            AdtAttr::Timeout(v) => e.timeout = Some(*v),
            AdtAttr::Packets(v) => e.packets = Some(*v),
            AdtAttr::Bytes(v) => e.bytes = Some(*v),
            AdtAttr::Comment(v) => e.comment = Some(v.clone()),
            AdtAttr::SkbMark(v) => e.skbmark = Some(((*v >> 32) as u32, *v as u32)),
            AdtAttr::SkbPrio(v) => e.skbprio = Some(((*v >> 16) as u16, *v as u16)),
            AdtAttr::SkbQueue(v) => e.skbqueue = Some(*v),
            _ => {}
        }
    }
    e.nomatch = cadt & IPSET_FLAG_NOMATCH != 0;
    e.wildcard = cadt & IPSET_FLAG_IFACE_WILDCARD != 0;
    let mut ips = 0;
    // Parts are positional (the first IP is IPSET_ATTR_IP, the second
    // IPSET_ATTR_IP2): a reply missing one dimension keeps only the ones
    // before it, rather than shifting a later part into its place.
    for dim in set_type.dims() {
        let part = match dim {
            Dim::Ip | Dim::Net => {
                let (addr, to, c) = if ips == 0 {
                    (ip, ip_to, cidr)
                } else {
                    (ip2, ip2_to, cidr2)
                };
                ips += 1;
                // bitmap:ip reports its netmask as a CIDR on every member;
                // ipset prints plain addresses for the `ip` dimensions.
                let c = if *dim == Dim::Net { c } else { None };
                addr.map(|addr| Part::Ip(IpPart { addr, cidr: c, to }))
            }
            Dim::Port => port.map(|port| {
                let proto = if set_type == SetType::BitmapPort {
                    None
                } else {
                    proto
                };
                Part::Port(PortPart {
                    proto,
                    port,
                    to: port_to,
                })
            }),
            Dim::Iface => iface.take().map(|name| Part::Iface {
                name,
                physdev: cadt & IPSET_FLAG_PHYSDEV != 0,
            }),
            Dim::Mac => mac.map(Part::Mac),
            Dim::Mark => mark.map(Part::Mark),
            Dim::Set => name
                .take()
                .and_then(|n| SetName::new(n).ok())
                .map(Part::Set),
        };
        let Some(part) = part else { break };
        e.parts.push(part);
    }
    e
}
