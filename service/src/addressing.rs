//! The address plan of an instance's client CIDR block.
//!
//! For a block such as `10.10.0.0/24`:
//!
//! | address | use |
//! |---|---|
//! | `10.10.0.0` | network address, never assigned |
//! | `10.10.0.1` | first host: **reserved for the gateway** (the SAG APP instance side), never assigned |
//! | `10.10.0.2` … `10.10.0.254` | client addresses, allocated lowest first or chosen as static IPs |
//! | `10.10.0.255` | broadcast address, never assigned |
//!
//! A block therefore needs a prefix of at most `/30` (two host addresses: the gateway and one
//! client). Client blocks must lie inside one of the RFC 1918 private ranges, as the real service
//! requires ("The IP address of the software client must be in the private CIDR block").

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

/// The RFC 1918 private IPv4 ranges a client CIDR block must lie in.
pub const PRIVATE_RANGES: [Ipv4Net; 3] = [
    Ipv4Net::new_assert(Ipv4Addr::new(10, 0, 0, 0), 8),
    Ipv4Net::new_assert(Ipv4Addr::new(172, 16, 0, 0), 12),
    Ipv4Net::new_assert(Ipv4Addr::new(192, 168, 0, 0), 16),
];

/// The longest prefix a client CIDR block may have: `/30` leaves two host addresses, the gateway
/// and one client.
pub const MAX_PREFIX_LEN: u8 = 30;

/// Why an address cannot be a client's static IP (all of these answer `ClientUser.IpInvalid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IpRejection {
    /// The address is not inside the instance's CIDR block.
    #[error("{ip} is outside the instance's CIDR block {cidr}")]
    OutsideCidr {
        /// The rejected address.
        ip: Ipv4Addr,
        /// The instance's block.
        cidr: Ipv4Net,
    },
    /// The address is the block's network address.
    #[error("{ip} is the network address of {cidr}")]
    NetworkAddress {
        /// The rejected address.
        ip: Ipv4Addr,
        /// The instance's block.
        cidr: Ipv4Net,
    },
    /// The address is the block's broadcast address.
    #[error("{ip} is the broadcast address of {cidr}")]
    BroadcastAddress {
        /// The rejected address.
        ip: Ipv4Addr,
        /// The instance's block.
        cidr: Ipv4Net,
    },
    /// The address is the block's first host, reserved for the gateway.
    #[error("{ip} is the first host of {cidr}, reserved for the gateway")]
    GatewayAddress {
        /// The rejected address.
        ip: Ipv4Addr,
        /// The instance's block.
        cidr: Ipv4Net,
    },
    /// The block is too small to hold any client address (prefix longer than `/30`).
    #[error("the CIDR block {cidr} has no client addresses")]
    NoClientAddresses {
        /// The instance's block.
        cidr: Ipv4Net,
    },
    /// Another user of the same instance already has the address.
    #[error("{ip} is already used by another user of this instance")]
    InUse {
        /// The rejected address.
        ip: Ipv4Addr,
    },
}

/// The gateway address of `cidr` (its first host), or `None` when the block is longer than `/30`.
pub fn gateway(cidr: Ipv4Net) -> Option<Ipv4Addr> {
    client_range(cidr).map(|_| Ipv4Addr::from(u32::from(cidr.network()) + 1))
}

/// The first and last client addresses of `cidr` (the host addresses after the gateway), or `None`
/// when the block is longer than `/30` and has no room for a client.
pub fn client_range(cidr: Ipv4Net) -> Option<(Ipv4Addr, Ipv4Addr)> {
    if cidr.prefix_len() > MAX_PREFIX_LEN {
        return None;
    }
    let network = u32::from(cidr.network());
    let broadcast = u32::from(cidr.broadcast());
    // prefix <= 30: broadcast - network >= 3, so network + 2 <= broadcast - 1.
    Some((Ipv4Addr::from(network + 2), Ipv4Addr::from(broadcast - 1)))
}

/// Where a search for the lowest free client address of `cidr` starts and ends, as numbers (the
/// stores' `ip_num`): from the allocation cursor `floor` (every client address below it is in use)
/// or the block's first client address, to its last; `None` when there is nothing left to search.
/// Both stores search the same way.
pub fn search_range(cidr: Ipv4Net, floor: Option<i64>) -> Option<(i64, i64)> {
    let (first, last) = client_range(cidr)?;
    let (first, last) = (i64::from(u32::from(first)), i64::from(u32::from(last)));
    let start = floor.map_or(first, |floor| floor.max(first));
    (start <= last).then_some((start, last))
}

/// How many client addresses `cidr` holds (host addresses minus the gateway).
pub fn client_capacity(cidr: Ipv4Net) -> u64 {
    client_range(cidr).map_or(0, |(first, last)| u64::from(u32::from(last) - u32::from(first)) + 1)
}

/// Whether `cidr` lies entirely inside one of the [`PRIVATE_RANGES`].
pub fn is_private(cidr: Ipv4Net) -> bool {
    PRIVATE_RANGES.iter().any(|range| range.contains(&cidr))
}

/// Checks that `ip` may be chosen as a static client IP inside `cidr`: inside the block and not its
/// network, broadcast or gateway address. Whether another user already has it is the store's
/// check ([`IpRejection::InUse`]).
pub fn check_static_ip(cidr: Ipv4Net, ip: Ipv4Addr) -> Result<(), IpRejection> {
    if !cidr.contains(&ip) {
        return Err(IpRejection::OutsideCidr { ip, cidr });
    }
    if ip == cidr.network() {
        return Err(IpRejection::NetworkAddress { ip, cidr });
    }
    if ip == cidr.broadcast() {
        return Err(IpRejection::BroadcastAddress { ip, cidr });
    }
    let Some((first, _)) = client_range(cidr) else {
        return Err(IpRejection::NoClientAddresses { cidr });
    };
    if u32::from(ip) < u32::from(first) {
        return Err(IpRejection::GatewayAddress { ip, cidr });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn a_search_starts_at_the_cursor_inside_the_client_range() {
        let cidr = net("10.10.0.0/28");
        let (first, last) =
            (i64::from(u32::from(Ipv4Addr::new(10, 10, 0, 2))), i64::from(u32::from(Ipv4Addr::new(10, 10, 0, 14))));
        assert_eq!(search_range(cidr, None), Some((first, last)), "no cursor: the whole range");
        assert_eq!(search_range(cidr, Some(first - 5)), Some((first, last)), "a cursor below the range");
        assert_eq!(search_range(cidr, Some(first + 4)), Some((first + 4, last)), "from the cursor");
        assert_eq!(search_range(cidr, Some(last)), Some((last, last)), "the last address left");
        assert_eq!(search_range(cidr, Some(last + 1)), None, "every address in use");
        assert_eq!(search_range(net("10.10.0.0/31"), None), None, "no room for a client");
    }

    #[test]
    fn plan_of_a_slash_24() {
        let cidr = net("10.10.0.0/24");
        assert_eq!(gateway(cidr), Some(Ipv4Addr::new(10, 10, 0, 1)));
        assert_eq!(client_range(cidr), Some((Ipv4Addr::new(10, 10, 0, 2), Ipv4Addr::new(10, 10, 0, 254))));
        assert_eq!(client_capacity(cidr), 253);
    }

    #[test]
    fn slash_30_has_one_client_and_longer_prefixes_none() {
        let cidr = net("10.0.0.0/30");
        assert_eq!(client_range(cidr), Some((Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 2))));
        assert_eq!(client_capacity(cidr), 1);
        assert_eq!(client_range(net("10.0.0.0/31")), None);
        assert_eq!(client_capacity(net("10.0.0.0/32")), 0);
        assert_eq!(gateway(net("10.0.0.0/31")), None);
    }

    #[test]
    fn static_ip_checks() {
        let cidr = net("10.10.0.0/24");
        assert!(check_static_ip(cidr, Ipv4Addr::new(10, 10, 0, 2)).is_ok());
        assert!(check_static_ip(cidr, Ipv4Addr::new(10, 10, 0, 254)).is_ok());
        assert!(matches!(check_static_ip(cidr, Ipv4Addr::new(10, 10, 1, 2)), Err(IpRejection::OutsideCidr { .. })));
        assert!(matches!(check_static_ip(cidr, Ipv4Addr::new(10, 10, 0, 0)), Err(IpRejection::NetworkAddress { .. })));
        assert!(matches!(
            check_static_ip(cidr, Ipv4Addr::new(10, 10, 0, 255)),
            Err(IpRejection::BroadcastAddress { .. })
        ));
        assert!(matches!(check_static_ip(cidr, Ipv4Addr::new(10, 10, 0, 1)), Err(IpRejection::GatewayAddress { .. })));
        assert!(matches!(
            check_static_ip(net("10.0.0.0/32"), Ipv4Addr::new(10, 0, 0, 0)),
            Err(IpRejection::NetworkAddress { .. })
        ));
    }

    #[test]
    fn private_ranges() {
        assert!(is_private(net("10.10.0.0/24")));
        assert!(is_private(net("172.31.255.0/24")));
        assert!(is_private(net("192.168.0.0/16")));
        assert!(!is_private(net("172.32.0.0/24")));
        assert!(!is_private(net("8.8.8.0/24")));
        assert!(!is_private(net("10.0.0.0/7")));
    }
}
