//! libipvs's sort order for listings: `ipvs_cmp_services` and
//! `ipvs_cmp_dests` (unsigned differences read as `int`, so not
//! transitive) under glibc's `qsort` merge sort, which only the same
//! algorithm reproduces.

use std::net::IpAddr;

use kipvs::ipvs::{Destination, Service, ServiceKey};

use super::table::{AF_INET, AF_INET6};

/// The fields libipvs compares and prints, as ipvsadm sees a service.
pub struct SvcView {
    pub fwmark: u32,
    pub af: u16,
    pub protocol: u16,
    pub addr: IpAddr,
    pub port: u16,
}

pub fn view(key: &ServiceKey) -> SvcView {
    match *key {
        ServiceKey::Addr {
            protocol,
            addr,
            port,
        } => SvcView {
            fwmark: 0,
            af: if addr.is_ipv6() { AF_INET6 } else { AF_INET },
            protocol: protocol.number(),
            addr,
            port,
        },
        ServiceKey::Fwmark { mark, ipv6 } => SvcView {
            fwmark: mark,
            af: if ipv6 { AF_INET6 } else { AF_INET },
            protocol: 0,
            addr: if ipv6 {
                IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)
            } else {
                IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
            },
            port: 0,
        },
    }
}

/// The address as libipvs's `union nf_inet_addr`, in host-order words.
fn words(addr: IpAddr) -> [u32; 4] {
    match addr {
        IpAddr::V4(a) => [u32::from(a), 0, 0, 0],
        IpAddr::V6(a) => {
            let o = a.octets();
            std::array::from_fn(|i| {
                u32::from_be_bytes([o[4 * i], o[4 * i + 1], o[4 * i + 2], o[4 * i + 3]])
            })
        }
    }
}

/// libipvs's address comparison: unsigned differences read as `int`, so
/// addresses more than 2^31 apart compare "backwards", as in ipvsadm.
fn cmp_addr(af: u16, a: IpAddr, b: IpAddr) -> i32 {
    cmp_words(af, &words(a), &words(b))
}

fn cmp_words(af: u16, a: &[u32; 4], b: &[u32; 4]) -> i32 {
    if af == AF_INET6 {
        for i in 0..4 {
            let r = a[i].wrapping_sub(b[i]) as i32;
            if r != 0 {
                return r;
            }
        }
        0
    } else {
        a[0].wrapping_sub(b[0]) as i32
    }
}

/// What `ipvs_cmp_services` compares of a service, worked out once per
/// service rather than at each of the sort's comparisons.
struct SvcSortKey {
    fwmark: u32,
    af: u16,
    protocol: u16,
    addr: [u32; 4],
    port: u16,
}

impl SvcSortKey {
    fn of(key: &ServiceKey) -> Self {
        let v = view(key);
        SvcSortKey {
            fwmark: v.fwmark,
            af: v.af,
            protocol: v.protocol,
            addr: words(v.addr),
            port: v.port,
        }
    }
}

/// `ipvs_cmp_services`.
fn cmp_services(a: &SvcSortKey, b: &SvcSortKey) -> i32 {
    let r = a.fwmark.wrapping_sub(b.fwmark) as i32;
    if r != 0 {
        return r;
    }
    let r = i32::from(a.af) - i32::from(b.af);
    if r != 0 {
        return r;
    }
    let r = i32::from(a.protocol) - i32::from(b.protocol);
    if r != 0 {
        return r;
    }
    let r = cmp_words(a.af, &a.addr, &b.addr);
    if r != 0 {
        return r;
    }
    i32::from(a.port) - i32::from(b.port)
}

/// `ipvs_cmp_dests`: the first entry's family decides how to compare.
fn cmp_dests(a: &Destination, b: &Destination) -> i32 {
    let af = if a.addr.is_ipv6() { AF_INET6 } else { AF_INET };
    let r = cmp_addr(af, a.addr, b.addr);
    if r != 0 {
        return r;
    }
    i32::from(a.port) - i32::from(b.port)
}

/// glibc's `qsort` (a top-down merge sort, taking from the left half on
/// ties). libipvs's comparators are not transitive, so only the same
/// algorithm gives the same order. It sorts positions, not the entries:
/// moving a service with its real servers at every level of the merge
/// costs more than the whole listing otherwise does.
fn msort<T>(v: &mut Vec<T>, cmp: &impl Fn(&T, &T) -> i32) {
    let order = msort_order(v, cmp);
    permute(v, order);
}

/// Puts the entries of `v` in `order` (positions of `v`).
fn permute<T>(v: &mut Vec<T>, order: Vec<usize>) {
    let mut slots: Vec<Option<T>> = v.drain(..).map(Some).collect();
    v.extend(order.into_iter().filter_map(|i| slots[i].take()));
}

/// The positions of `v` in the order `msort` would put them.
fn msort_order<T>(v: &[T], cmp: &impl Fn(&T, &T) -> i32) -> Vec<usize> {
    let mut order = vec![0; v.len()];
    msort_order_into(v, cmp, &mut order);
    order
}

/// [`msort_order`] into `order`, which is as long as `v`; nothing is
/// allocated for the few real servers of a service.
fn msort_order_into<T>(v: &[T], cmp: &impl Fn(&T, &T) -> i32, order: &mut [usize]) {
    for (i, o) in order.iter_mut().enumerate() {
        *o = i;
    }
    if v.len() > 1 {
        let mut small = [0; 16];
        let mut large = Vec::new();
        let scratch = if v.len() <= small.len() {
            &mut small[..v.len()]
        } else {
            large.resize(v.len(), 0);
            &mut large[..]
        };
        msort_positions(order, scratch, &|a, b| cmp(&v[a], &v[b]));
    }
}

/// `msort_with_tmp`: merges into `scratch` (at least as long as `v`).
fn msort_positions(v: &mut [usize], scratch: &mut [usize], cmp: &impl Fn(usize, usize) -> i32) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    msort_positions(&mut v[..n1], scratch, cmp);
    msort_positions(&mut v[n1..], scratch, cmp);
    let (mut i, mut j, mut k) = (0, n1, 0);
    while i < n1 && j < n {
        if cmp(v[i], v[j]) <= 0 {
            scratch[k] = v[i];
            i += 1;
        } else {
            scratch[k] = v[j];
            j += 1;
        }
        k += 1;
    }
    // What is left of the left run goes after; what is left of the right
    // run is in its place already.
    let rest = n1 - i;
    scratch[k..k + rest].copy_from_slice(&v[i..n1]);
    k += rest;
    v[..k].copy_from_slice(&scratch[..k]);
}

/// `ipvs_sort_services`.
pub fn sort_services(table: &mut Vec<(Service, Vec<Destination>)>) {
    let keys: Vec<SvcSortKey> = table.iter().map(|(s, _)| SvcSortKey::of(&s.key)).collect();
    permute(table, msort_order(&keys, &cmp_services));
}

/// The positions of `dests` in `ipvs_sort_dests` order.
pub fn dests_order(dests: &[Destination]) -> Vec<usize> {
    msort_order(dests, &cmp_dests)
}

/// [`dests_order`] into `order`, which is as long as `dests`.
pub fn dests_order_into(dests: &[Destination], order: &mut [usize]) {
    msort_order_into(dests, &cmp_dests, order);
}

/// `ipvs_sort_dests`.
pub fn sort_dests(dests: &mut Vec<Destination>) {
    msort(dests, &cmp_dests);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// glibc's `msort_with_tmp` as written there: merge into a temporary
    /// array, then copy all of it back.
    fn reference(v: &mut [usize], cmp: &impl Fn(usize, usize) -> i32) {
        let n = v.len();
        if n <= 1 {
            return;
        }
        let n1 = n / 2;
        reference(&mut v[..n1], cmp);
        reference(&mut v[n1..], cmp);
        let mut tmp = Vec::with_capacity(n);
        let (mut i, mut j) = (0, n1);
        while i < n1 && j < n {
            if cmp(v[i], v[j]) <= 0 {
                tmp.push(v[i]);
                i += 1;
            } else {
                tmp.push(v[j]);
                j += 1;
            }
        }
        tmp.extend_from_slice(&v[i..n1]);
        tmp.extend_from_slice(&v[j..n]);
        v.copy_from_slice(&tmp);
    }

    /// Wrapping differences (libipvs's comparators) are not transitive, so
    /// any other merge order would show.
    #[test]
    fn merges_as_glibc_does() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for n in 0..70 {
            let values: Vec<u32> = (0..n)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    // Few distinct values, far apart: ties and wrap-arounds.
                    ((seed % 5) as u32).wrapping_mul(0x6000_0000)
                })
                .collect();
            let cmp = |a: &u32, b: &u32| a.wrapping_sub(*b) as i32;
            let mut want: Vec<usize> = (0..n).collect();
            reference(&mut want, &|a, b| cmp(&values[a], &values[b]));
            assert_eq!(msort_order(&values, &cmp), want, "{values:x?}");
        }
    }
}
