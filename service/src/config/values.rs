//! The checks of single values, shared by the file, the environment variables and seed files:
//! names and secrets, `listen`, `[limits]` values and client CIDR blocks.

use std::net::SocketAddr;
use std::ops::RangeInclusive;

use ipnet::Ipv4Net;

use crate::addressing;

/// What a checked string is: names may not contain whitespace; secrets may, but are never echoed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token {
    Name,
    Secret,
}

/// The problem with a name (`Token::Name`) or a secret (`Token::Secret`, never echoed), if any:
/// empty, surrounding whitespace, and for names any whitespace or control character.
pub(crate) fn token_problem(what: &str, text: &str, kind: Token) -> Option<String> {
    if text.is_empty() {
        Some(format!("{what} must not be empty"))
    } else if text.trim() != text {
        Some(format!("{what} has leading or trailing whitespace"))
    } else if kind == Token::Name && text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some(format!("{what} {text:?} must not contain whitespace or control characters"))
    } else {
        None
    }
}

/// A `listen` value, or what is wrong with it.
pub(crate) fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    text.parse::<SocketAddr>()
        .map_err(|error| format!("{text:?} is not a socket address such as \"127.0.0.1:8080\" ({error})"))
}

/// A `[limits]` value inside `range`, or a message (to follow the key's name) saying what is allowed.
pub(crate) fn limit_value(value: i64, range: &RangeInclusive<u64>, unit: &str) -> Result<u64, String> {
    match u64::try_from(value) {
        Ok(number) if range.contains(&number) => Ok(number),
        _ => Err(format!("must be between {} and {} {unit}, not {value}", range.start(), range.end())),
    }
}

/// A client CIDR block, or what is wrong with it.
pub(super) fn parse_cidr(text: &str) -> Result<Ipv4Net, String> {
    match text.parse::<Ipv4Net>() {
        Err(_) => Err(format!("cidr {text:?} is not an IPv4 network such as \"10.10.0.0/24\"")),
        Ok(net) if net.addr() != net.network() => {
            Err(format!("cidr {text:?} has host bits set; write the network address, \"{}\"", net.trunc()))
        }
        Ok(net) if net.prefix_len() > addressing::MAX_PREFIX_LEN => Err(format!(
            "cidr {text:?} is too small: it needs at least 2 usable host addresses (the first is the \
             gateway), so a prefix of /{} or shorter",
            addressing::MAX_PREFIX_LEN
        )),
        Ok(net) if !addressing::is_private(net) => {
            Err(format!("cidr {text:?} is not inside a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)"))
        }
        Ok(net) => Ok(net),
    }
}
