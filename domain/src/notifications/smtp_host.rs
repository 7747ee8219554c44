//! Which SMTP servers a company may make the platform connect to.
//!
//! A company types its SMTP host; the platform then opens a TCP connection
//! there from inside its own network. Unless the operator allows it
//! (`RASTRO_SMTP_ALLOW_PRIVATE`), hosts that resolve to loopback, private,
//! link-local, CGNAT, unspecified, broadcast, multicast or reserved addresses
//! — which include cloud metadata endpoints such as 169.254.169.254 and
//! fd00:ec2::254 — are refused, so the SMTP test button cannot be used to probe
//! or talk to internal services (SSRF).
//!
//! The check runs when the settings are saved (to tell the user at once) and
//! again right before connecting, because DNS may answer differently by then
//! (rebinding): the name is resolved once, every address it resolves to is
//! checked, and the connection goes to a checked address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why a host may not be used.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The name did not resolve (now); nothing is known about it yet.
    #[error("could not resolve {host}: {reason}")]
    Unresolvable {
        /// The host as configured.
        host: String,
        /// The resolver's words.
        reason: String,
    },
    /// It resolves to an address inside the platform's network.
    #[error("{host} resolves to {address}, a loopback, private, link-local or otherwise internal address; SMTP servers there are not allowed")]
    Internal {
        /// The host as configured.
        host: String,
        /// The offending address.
        address: IpAddr,
    },
}

/// Whether `ip` is somewhere a company's SMTP host must not point.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => is_internal_v6(v6),
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_unspecified()
        || a == 0 // "this network", 0.0.0.0/8
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254/16, the metadata endpoint included
        || (a == 100 && (64..=127).contains(&b)) // CGNAT 100.64/10
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments 192.0.0/24
        || ip.is_broadcast()
        || ip.is_multicast()
        || a >= 240 // reserved 240/4
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    // IPv4 reached through IPv6 (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96) is
    // judged as the IPv4 address it carries.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_internal_v4(v4);
    }
    if ip.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [.., c, d] = ip.segments();
        let v4 = Ipv4Addr::new((c >> 8) as u8, c as u8, (d >> 8) as u8, d as u8);
        return is_internal_v4(v4);
    }
    ip.is_unspecified()
        || ip.is_loopback()
        || (first & 0xfe00) == 0xfc00 // unique local fc00::/7, fd00:ec2::254 included
        || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (first & 0xffc0) == 0xfec0 // deprecated site-local fec0::/10
        || ip.is_multicast()
}

/// `host` without the brackets of an IPv6 literal (`[::1]`).
pub(crate) fn bare(host: &str) -> &str {
    host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host)
}

/// Resolves `host` once and checks every address; returns the addresses, all
/// of them allowed, in the resolver's order.
pub async fn resolve_allowed(host: &str, port: u16) -> Result<Vec<IpAddr>, HostError> {
    let name = bare(host);
    let addresses: Vec<IpAddr> = match name.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((name, port))
            .await
            .map_err(|e| HostError::Unresolvable { host: host.to_owned(), reason: e.to_string() })?
            .map(|a| a.ip())
            .collect(),
    };
    if addresses.is_empty() {
        return Err(HostError::Unresolvable { host: host.to_owned(), reason: "no addresses".into() });
    }
    match addresses.iter().find(|ip| is_internal(**ip)) {
        Some(address) => Err(HostError::Internal { host: host.to_owned(), address: *address }),
        None => Ok(addresses),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised() {
        for internal in [
            "127.0.0.1", "127.1.2.3", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
            "100.64.0.1", "100.127.255.255", "0.0.0.0", "0.1.2.3", "255.255.255.255", "224.0.0.1", "240.0.0.1",
            "192.0.0.170", "::1", "::", "fc00::1", "fd00:ec2::254", "fe80::1", "fec0::1", "ff02::1",
            "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a9fe:a9fe",
        ] {
            assert!(is_internal(internal.parse().unwrap_or_else(|_| panic!("{internal}"))), "{internal}");
        }
        for public in ["8.8.8.8", "1.1.1.1", "100.128.0.1", "172.32.0.1", "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::808:808"] {
            assert!(!is_internal(public.parse().unwrap_or_else(|_| panic!("{public}"))), "{public}");
        }
    }

    #[tokio::test]
    async fn every_resolved_address_is_checked() {
        assert!(matches!(resolve_allowed("[::1]", 25).await, Err(HostError::Internal { .. })));
        assert!(matches!(resolve_allowed("localhost", 25).await, Err(HostError::Internal { .. })));
        assert_eq!(resolve_allowed("8.8.8.8", 25).await.ok(), Some(vec!["8.8.8.8".parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))]));
    }
}
