//! The [`Links`] handle: one rtnetlink socket, and the link operations.

use kipvs_netlink::{
    sys::constants::NETLINK_ROUTE, Error, KernelError, NetNs, Result, Socket, SocketOptions,
};

use crate::{wire, IfName, Link};

/// `ENODEV` (`asm-generic/errno-base.h`): the kernel's answer for a link
/// name it does not know.
pub(crate) const ENODEV: i32 = 19;
/// `EEXIST` (`asm-generic/errno-base.h`).
pub(crate) const EEXIST: i32 = 17;
/// `EOPNOTSUPP` (`asm-generic/errno.h`): no driver for a link kind.
const EOPNOTSUPP: i32 = 95;

/// A handle on the links and addresses of one network namespace.
///
/// It owns one `NETLINK_ROUTE` socket with strict checking on
/// (`NETLINK_GET_STRICT_CHK`), so the kernel filters dumps by interface and
/// refuses malformed requests instead of guessing. Every call is a few
/// round trips at most; address changes go in batches (see
/// [`Links::sync_addresses`]).
#[derive(Debug)]
pub struct Links {
    pub(crate) sock: Socket,
}

impl Links {
    /// Opens a handle on the caller's network namespace.
    pub fn new() -> Result<Self> {
        Self::new_in(&NetNs::Current)
    }

    /// Opens a handle on `netns`; the caller's thread stays where it is.
    pub fn new_in(netns: &NetNs) -> Result<Self> {
        let options = SocketOptions {
            strict_check: true,
            ..SocketOptions::default()
        };
        Ok(Links {
            sock: Socket::new_in(NETLINK_ROUTE, options, netns)?,
        })
    }

    /// The link called `name`, or `None` if there is none.
    pub fn link(&mut self, name: &IfName) -> Result<Option<Link>> {
        match self.sock.request(wire::link::get_by_name(name), 0) {
            Ok(replies) => Ok(replies.into_iter().find_map(wire::link::decode)),
            Err(e) if e.errno() == Some(ENODEV) => Ok(None),
            Err(e) => Err(context(e, format!("looking up link {name}"))),
        }
    }

    /// Every link, in index order.
    pub fn links(&mut self) -> Result<Vec<Link>> {
        let mut links = Vec::new();
        self.sock.dump_with(wire::link::dump(), |m| {
            links.extend(wire::link::decode(m));
            Ok(())
        })?;
        links.sort_by_key(|l| l.index);
        Ok(links)
    }

    /// The index of link `name`; a missing link is an `ENODEV` error that
    /// names it.
    pub(crate) fn index(&mut self, name: &IfName) -> Result<u32> {
        match self.link(name)? {
            Some(link) => Ok(link.index),
            None => {
                let mut e = KernelError::new(ENODEV);
                e.context = Some(format!("link {name}"));
                e.description = Some("no such link".into());
                Err(e.into())
            }
        }
    }

    /// Makes sure a dummy link `name` exists, as kube-proxy does for
    /// `kube-ipvs0`: creates it (down) if absent, and leaves an existing
    /// dummy as it is. Returns `true` when it created the link.
    ///
    /// A link of that name and another kind is an `EEXIST` error naming the
    /// link and its kind: kipvs never binds service addresses to a link it
    /// did not expect.
    pub fn ensure_dummy(&mut self, name: &IfName) -> Result<bool> {
        // Look first: kube-proxy ensures on every sync, and the link is
        // nearly always there. A create that races another creator gets
        // EEXIST and looks again.
        for _ in 0..3 {
            match self.link(name)? {
                Some(link) if link.is_dummy() => return Ok(false),
                Some(link) => {
                    let mut e = KernelError::new(EEXIST);
                    e.context = Some(format!("creating dummy link {name}"));
                    e.description = Some(match &link.kind {
                        Some(kind) => format!("a {kind} link of that name exists"),
                        None => "a link of that name exists, a device with no link kind".into(),
                    });
                    return Err(e.into());
                }
                None => {}
            }
            match self
                .sock
                .request(wire::link::new_dummy(name), wire::link::CREATE)
            {
                Ok(_) => return Ok(true),
                Err(e) if e.is_exists() => continue,
                Err(e) => {
                    let hint = if e.errno() == Some(EOPNOTSUPP) {
                        " (is the dummy module loaded?)"
                    } else {
                        ""
                    };
                    return Err(context(e, format!("creating dummy link {name}{hint}")));
                }
            }
        }
        Err(context(
            KernelError::new(EEXIST).into(),
            format!("creating dummy link {name}: it keeps being replaced"),
        ))
    }

    /// Deletes link `name`, whatever its kind (its addresses go with it).
    /// Returns `false` if there was no such link.
    pub fn delete_link(&mut self, name: &IfName) -> Result<bool> {
        match self.link(name)? {
            Some(link) => self.delete_index(&link),
            None => Ok(false),
        }
    }

    /// Deletes the dummy link `name`, as kube-proxy's clean-up does; refuses
    /// a link of another kind. Returns `false` if there was no such link.
    pub fn delete_dummy(&mut self, name: &IfName) -> Result<bool> {
        match self.link(name)? {
            Some(link) if link.is_dummy() => self.delete_index(&link),
            Some(link) => Err(Error::invalid(
                "dummy link",
                name,
                format!(
                    "it is a {} link, not a dummy; not deleted",
                    link.kind.as_deref().unwrap_or("kindless")
                ),
            )),
            None => Ok(false),
        }
    }

    fn delete_index(&mut self, link: &Link) -> Result<bool> {
        match self.sock.request(wire::link::delete(link.index), 0) {
            Ok(_) => Ok(true),
            // Deleted by someone else since the lookup.
            Err(e) if e.errno() == Some(ENODEV) => Ok(false),
            Err(e) => Err(context(e, format!("deleting link {}", link.name))),
        }
    }
}

/// Adds what kipvs was doing to a kernel error; other errors pass as they
/// are.
pub(crate) fn context(e: Error, what: String) -> Error {
    match e {
        Error::Kernel(mut k) => {
            k.context = Some(what);
            Error::Kernel(k)
        }
        other => other,
    }
}
