//! Behind a proxy: who the client is when a load balancer or reverse proxy
//! stands between it and the server.
//!
//! Off by default: a forwarded header or a PROXY protocol header is only
//! believed when it comes from an address in [`TrustedProxies`]. Anyone
//! can send `X-Forwarded-For: 1.2.3.4`; only a proxy you run can be trusted
//! to have written it.
//!
//! ```no_run
//! use sse_runtime::server::proxy::TrustedProxies;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // nginx on the same machine, appending to X-Forwarded-For and setting
//! // X-Forwarded-Proto (the configuration in the README).
//! let proxies = TrustedProxies::parse(["127.0.0.1", "::1"])?.x_forwarded_for();
//! sse_runtime::Server::new().trusted_proxies(proxies).serve("127.0.0.1:8080").await?;
//! # Ok(())
//! # }
//! ```
//!
//! Say which header your proxy writes, and only that one is read: with
//! [`x_forwarded_for`](TrustedProxies::x_forwarded_for), `X-Forwarded-For`
//! and `X-Forwarded-Proto` (nginx, HAProxy's `option forwardfor`, most
//! cloud load balancers); with [`forwarded`](TrustedProxies::forwarded),
//! `Forwarded` (RFC 7239) and its `proto=`. The other is ignored, since a
//! proxy passes on what the client sent in a header it does not write, and
//! a client could choose its own address and scheme with it. The client is
//! read from the right: each hop that is a trusted proxy is skipped, and
//! the first that is not is the client (so a client cannot pass itself off
//! as someone else by sending its own header: the proxy appends the address
//! it saw). The scheme, [`Request::scheme`], is the last value. With
//! [`proxy_protocol`](TrustedProxies::proxy_protocol), a connection from a
//! trusted address must start with a PROXY protocol header (v1 or v2, before
//! TLS), whose source address is the client's; one that does not is
//! closed. The result is the [`PeerAddr`] handlers and layers see; a port a
//! header does not give is `0`.

use std::io;
use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;
use ipnet::IpNet;
use tokio::io::{AsyncRead, AsyncReadExt as _};

use crate::request::Scheme;
#[cfg(doc)]
use crate::{request::Request, PeerAddr};

/// Which peers are proxies whose word about the client is believed, and
/// what they tell it with. See the [module docs](self).
///
/// ```
/// use sse_runtime::server::proxy::TrustedProxies;
/// let proxies = TrustedProxies::parse(["10.0.0.0/8", "192.168.1.7"])?
///     .x_forwarded_for()
///     .proxy_protocol();
/// # let _ = proxies;
/// # Ok::<(), ipnet::AddrParseError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
    /// The one forwarded header the proxies write, if any.
    header: Option<Header>,
    proxy_protocol: bool,
}

/// Which forwarded header a proxy writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Header {
    /// `Forwarded` (RFC 7239): `for=` and `proto=`.
    Forwarded,
    /// `X-Forwarded-For` and `X-Forwarded-Proto`.
    XForwardedFor,
}

impl TrustedProxies {
    /// The proxies at `nets`; nothing is read from them until
    /// [`x_forwarded_for`](Self::x_forwarded_for),
    /// [`forwarded`](Self::forwarded) or
    /// [`proxy_protocol`](Self::proxy_protocol) says what.
    ///
    /// ```
    /// use sse_runtime::server::proxy::TrustedProxies;
    /// let proxies = TrustedProxies::new(["10.0.0.0/8".parse().unwrap()]);
    /// # let _ = proxies;
    /// ```
    pub fn new(nets: impl IntoIterator<Item = IpNet>) -> Self {
        Self {
            nets: nets.into_iter().collect(),
            ..Self::default()
        }
    }

    /// The proxies at `nets`, each a network (`10.0.0.0/8`, `fd00::/8`) or
    /// an address (`127.0.0.1`).
    ///
    /// ```
    /// use sse_runtime::server::proxy::TrustedProxies;
    /// assert!(TrustedProxies::parse(["10.0.0.0/8", "::1"]).is_ok());
    /// assert!(TrustedProxies::parse(["10.0.0.0/33"]).is_err());
    /// ```
    pub fn parse<'a>(
        nets: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, ipnet::AddrParseError> {
        let nets = nets
            .into_iter()
            .map(|net| match net.parse::<IpAddr>() {
                Ok(addr) => Ok(IpNet::from(addr)),
                Err(_) => net.parse::<IpNet>(),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(nets))
    }

    /// Believes `X-Forwarded-For` and `X-Forwarded-Proto` from these
    /// proxies, and nothing in `Forwarded`: for a proxy that appends the
    /// address it saw to `X-Forwarded-For` and sets `X-Forwarded-Proto`
    /// (nginx's `$proxy_add_x_forwarded_for` and `$scheme`). Replaces
    /// [`forwarded`](Self::forwarded).
    ///
    /// ```
    /// # use sse_runtime::server::proxy::TrustedProxies;
    /// let proxies = TrustedProxies::parse(["127.0.0.1"]).unwrap().x_forwarded_for();
    /// # let _ = proxies;
    /// ```
    pub fn x_forwarded_for(mut self) -> Self {
        self.header = Some(Header::XForwardedFor);
        self
    }

    /// Believes `Forwarded` (RFC 7239: `for=`, `proto=`) from these
    /// proxies, and nothing in `X-Forwarded-For` or `X-Forwarded-Proto`:
    /// for a proxy that appends its element to `Forwarded`. Replaces
    /// [`x_forwarded_for`](Self::x_forwarded_for).
    ///
    /// ```
    /// # use sse_runtime::server::proxy::TrustedProxies;
    /// let proxies = TrustedProxies::parse(["10.0.0.0/8"]).unwrap().forwarded();
    /// # let _ = proxies;
    /// ```
    pub fn forwarded(mut self) -> Self {
        self.header = Some(Header::Forwarded);
        self
    }

    /// Expects a PROXY protocol header (v1 or v2) at the start of every
    /// connection from these proxies.
    ///
    /// ```
    /// # use sse_runtime::server::proxy::TrustedProxies;
    /// let proxies = TrustedProxies::parse(["10.0.0.0/8"]).unwrap().proxy_protocol();
    /// # let _ = proxies;
    /// ```
    pub fn proxy_protocol(mut self) -> Self {
        self.proxy_protocol = true;
        self
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets.iter().any(|net| net.contains(&ip))
    }

    /// Whether a connection from `peer` starts with a PROXY header.
    pub(super) fn expects_proxy_header(&self, peer: Option<SocketAddr>) -> bool {
        self.proxy_protocol && peer.is_some_and(|peer| self.trusts(peer.ip()))
    }

    /// The client of a request that came on a connection from `peer`
    /// with `headers`, and the scheme it used (`scheme` unless a trusted
    /// proxy says otherwise).
    pub(super) fn client(
        &self,
        headers: &HeaderMap,
        peer: Option<SocketAddr>,
        scheme: Scheme,
    ) -> (Option<SocketAddr>, Scheme) {
        match (peer, self.header) {
            (Some(addr), Some(header)) if self.trusts(addr.ip()) => {
                let hops = forwarded_hops(headers, header);
                let forwarded = forwarded_client(&hops, addr, |ip| self.trusts(ip));
                let scheme = forwarded_scheme(headers, header).unwrap_or(scheme);
                (Some(forwarded), scheme)
            }
            _ => (peer, scheme),
        }
    }
}

/// Walks the forwarded hops from the right, starting after `peer` (a
/// trusted proxy): the first hop that is not a trusted proxy is the client.
/// A hop that cannot be read (`unknown`, an obfuscated name, garbage) ends
/// the walk: nothing before it can be believed, so the last trusted
/// address stands.
fn forwarded_client(
    hops: &[Option<SocketAddr>],
    peer: SocketAddr,
    trusted: impl Fn(IpAddr) -> bool,
) -> SocketAddr {
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(hop) = hop else {
            break;
        };
        client = *hop;
        if !trusted(hop.ip()) {
            break;
        }
    }
    client
}

/// The hops `header` names, left to right: the `for=` addresses of
/// `Forwarded`, or the addresses of `X-Forwarded-For` (`None` for a hop
/// that is not an address).
fn forwarded_hops(headers: &HeaderMap, header: Header) -> Vec<Option<SocketAddr>> {
    if header == Header::Forwarded {
        return forwarded_params(headers, "for").map(node).collect();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|value| value.to_str().unwrap_or("").split(','))
        .map(|hop| node(hop.trim()))
        .collect()
}

/// The values of `param` (`for`, `proto`, ...) in the elements of every
/// `Forwarded` header, in order, unquoted; an element without it gives
/// nothing.
fn forwarded_params<'a>(
    headers: &'a HeaderMap,
    param: &'a str,
) -> impl DoubleEndedIterator<Item = &'a str> + 'a {
    headers
        .get_all(http::header::FORWARDED)
        .iter()
        .flat_map(|value| value.to_str().unwrap_or("").split(','))
        .filter_map(move |element| {
            element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case(param)
                    .then(|| value.trim().trim_matches('"'))
            })
        })
}

/// A node of a forwarded header: `192.0.2.1`, `192.0.2.1:4711`,
/// `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:4711`. The port is `0`
/// when none is given.
fn node(text: &str) -> Option<SocketAddr> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Some(addr);
    }
    let bare = text
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(text);
    bare.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 0))
}

/// The scheme `header` gives: `proto=` of the last `Forwarded` element
/// that has one, or the last `X-Forwarded-Proto`.
fn forwarded_scheme(headers: &HeaderMap, header: Header) -> Option<Scheme> {
    let proto = match header {
        Header::Forwarded => forwarded_params(headers, "proto").next_back()?,
        Header::XForwardedFor => {
            let value = headers.get_all("x-forwarded-proto").iter().next_back()?;
            value.to_str().ok()?.rsplit(',').next()?.trim()
        }
    };
    if proto.eq_ignore_ascii_case("https") {
        Some(Scheme::Https)
    } else if proto.eq_ignore_ascii_case("http") {
        Some(Scheme::Http)
    } else {
        None
    }
}

/// The v2 signature: `\r\n\r\n\0\r\nQUIT\n`.
const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
/// The longest v1 header (RFC: 107 bytes with its CRLF).
const V1_MAX: usize = 107;
/// The most a v2 header may carry after its fixed 16 bytes: addresses and
/// TLVs; more is refused rather than read.
const V2_MAX_PAYLOAD: usize = 4096;

/// Reads a PROXY protocol header, exactly (not a byte of what follows: a
/// TLS handshake or an HTTP request). `Ok(Some(source))` for a proxied
/// connection, `Ok(None)` for one the proxy made itself (v2 `LOCAL`, v1
/// `UNKNOWN`: a health check), an error when the connection does not start
/// with a valid header.
pub(super) async fn read_proxy_header<Io: AsyncRead + Unpin>(
    io: &mut Io,
) -> io::Result<Option<SocketAddr>> {
    let invalid = |why: &str| io::Error::new(io::ErrorKind::InvalidData, why.to_owned());
    let mut header = vec![0u8; 6];
    io.read_exact(&mut header).await?;
    if header == b"PROXY " {
        // v1: a text line; read a byte at a time so as not to read past it.
        while !header.ends_with(b"\r\n") {
            if header.len() == V1_MAX {
                return Err(invalid("a PROXY v1 header longer than 107 bytes"));
            }
            let mut byte = [0u8; 1];
            io.read_exact(&mut byte).await?;
            header.push(byte[0]);
        }
    } else if header[..] == V2_SIGNATURE[..6] {
        header.resize(16, 0);
        io.read_exact(&mut header[6..]).await?;
        if header[..12] != V2_SIGNATURE {
            return Err(invalid("not a PROXY protocol header"));
        }
        let length = usize::from(u16::from_be_bytes([header[14], header[15]]));
        if length > V2_MAX_PAYLOAD {
            return Err(invalid("a PROXY v2 header longer than 4 KiB"));
        }
        header.resize(16 + length, 0);
        io.read_exact(&mut header[16..]).await?;
    } else {
        return Err(invalid("no PROXY protocol header"));
    }
    parse_proxy_header(&header).map_err(|why| invalid(&why))
}

/// The client's address in a whole PROXY header.
fn parse_proxy_header(header: &[u8]) -> Result<Option<SocketAddr>, String> {
    use ppp::{v1, v2, HeaderResult};
    match HeaderResult::parse(header) {
        HeaderResult::V1(Ok(header)) => Ok(match header.addresses {
            v1::Addresses::Tcp4(ip) => {
                Some(SocketAddr::new(ip.source_address.into(), ip.source_port))
            }
            v1::Addresses::Tcp6(ip) => {
                Some(SocketAddr::new(ip.source_address.into(), ip.source_port))
            }
            v1::Addresses::Unknown => None,
        }),
        HeaderResult::V2(Ok(header)) => Ok(match (header.command, header.addresses) {
            (v2::Command::Local, _) => None,
            (v2::Command::Proxy, v2::Addresses::IPv4(ip)) => {
                Some(SocketAddr::new(ip.source_address.into(), ip.source_port))
            }
            (v2::Command::Proxy, v2::Addresses::IPv6(ip)) => {
                Some(SocketAddr::new(ip.source_address.into(), ip.source_port))
            }
            (v2::Command::Proxy, _) => None,
        }),
        HeaderResult::V1(Err(err)) => Err(format!("a bad PROXY v1 header: {err}")),
        HeaderResult::V2(Err(err)) => Err(format!("a bad PROXY v2 header: {err}")),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    fn proxies() -> TrustedProxies {
        TrustedProxies::parse(["10.0.0.0/8", "127.0.0.1"])
            .unwrap()
            .x_forwarded_for()
    }

    fn client(pairs: &[(&str, &str)], peer: &str) -> (Option<SocketAddr>, Scheme) {
        proxies().client(&headers(pairs), Some(peer.parse().unwrap()), Scheme::Http)
    }

    fn client_by_forwarded(pairs: &[(&str, &str)], peer: &str) -> (Option<SocketAddr>, Scheme) {
        let proxies = proxies().forwarded();
        proxies.client(&headers(pairs), Some(peer.parse().unwrap()), Scheme::Http)
    }

    #[test]
    fn the_rightmost_hop_that_is_not_a_trusted_proxy_is_the_client() {
        let xff = [("x-forwarded-for", "6.6.6.6, 203.0.113.9, 10.0.0.2")];
        assert_eq!(
            client(&xff, "127.0.0.1:5000").0,
            Some("203.0.113.9:0".parse().unwrap())
        );
        // Every hop a proxy: the leftmost stands.
        let xff = [("x-forwarded-for", "10.1.1.1, 10.0.0.2")];
        assert_eq!(
            client(&xff, "127.0.0.1:5000").0,
            Some("10.1.1.1:0".parse().unwrap())
        );
        // Garbage ends the walk: the last trusted address stands.
        let xff = [("x-forwarded-for", "203.0.113.9, nonsense, 10.0.0.2")];
        assert_eq!(
            client(&xff, "127.0.0.1:5000").0,
            Some("10.0.0.2:0".parse().unwrap())
        );
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let spoof = [
            ("x-forwarded-for", "1.2.3.4"),
            ("forwarded", "for=1.2.3.4;proto=https"),
            ("x-forwarded-proto", "https"),
        ];
        let (peer, scheme) = client(&spoof, "198.51.100.7:4000");
        assert_eq!(peer, Some("198.51.100.7:4000".parse().unwrap()));
        assert_eq!(scheme, Scheme::Http);
        // Trusted for PROXY protocol only: headers are not read.
        let only_ppp = TrustedProxies::parse(["127.0.0.1"])
            .unwrap()
            .proxy_protocol();
        let peer = Some("127.0.0.1:1".parse().unwrap());
        assert_eq!(
            only_ppp.client(&headers(&spoof), peer, Scheme::Http).0,
            peer
        );
    }

    #[test]
    fn only_the_header_the_proxy_writes_is_read() {
        let both = [
            (
                "forwarded",
                "for=\"[2001:db8::7]:4711\";proto=https, for=10.0.0.3",
            ),
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-proto", "http"),
        ];
        // The proxy writes Forwarded: what a client put in X-Forwarded-* is not read.
        let (peer, scheme) = client_by_forwarded(&both, "127.0.0.1:5000");
        assert_eq!(peer, Some("[2001:db8::7]:4711".parse().unwrap()));
        assert_eq!(scheme, Scheme::Https);
        let obfuscated = [("forwarded", "for=_hidden, for=10.0.0.3")];
        assert_eq!(
            client_by_forwarded(&obfuscated, "127.0.0.1:5000").0,
            Some("10.0.0.3:0".parse().unwrap())
        );
        // The proxy writes X-Forwarded-*: a client's Forwarded is not read.
        let (peer, scheme) = client(&both, "127.0.0.1:5000");
        assert_eq!(peer, Some("203.0.113.9:0".parse().unwrap()));
        assert_eq!(scheme, Scheme::Http);
        let forged = [("forwarded", "for=6.6.6.6;proto=https")];
        let (peer, scheme) = client(&forged, "127.0.0.1:5000");
        assert_eq!(
            peer,
            Some("127.0.0.1:5000".parse().unwrap()),
            "no hop: the proxy stands"
        );
        assert_eq!(scheme, Scheme::Http);
        let proto = [("x-forwarded-proto", "https")];
        assert_eq!(client(&proto, "127.0.0.1:5000").1, Scheme::Https);
        assert_eq!(
            client_by_forwarded(&proto, "127.0.0.1:5000").1,
            Scheme::Http
        );
    }

    #[test]
    fn ipv4_mapped_peers_are_matched_as_ipv4() {
        let (peer, _) = client(
            &[("x-forwarded-for", "203.0.113.9")],
            "[::ffff:127.0.0.1]:5000",
        );
        assert_eq!(peer, Some("203.0.113.9:0".parse().unwrap()));
    }

    async fn read(bytes: &[u8]) -> (io::Result<Option<SocketAddr>>, Vec<u8>) {
        let mut io = bytes;
        let result = read_proxy_header(&mut io).await;
        (result, io.to_vec())
    }

    #[tokio::test]
    async fn proxy_headers_are_read_exactly() {
        let (addr, rest) =
            read(b"PROXY TCP4 203.0.113.9 10.0.0.1 4711 443\r\nGET / HTTP/1.1\r\n").await;
        assert_eq!(addr.unwrap(), Some("203.0.113.9:4711".parse().unwrap()));
        assert_eq!(rest, b"GET / HTTP/1.1\r\n");
        let (addr, rest) = read(b"PROXY UNKNOWN\r\n\x16\x03\x01").await;
        assert_eq!(addr.unwrap(), None);
        assert_eq!(rest, b"\x16\x03\x01");

        let source: SocketAddr = "[2001:db8::9]:5000".parse().unwrap();
        let destination: SocketAddr = "[2001:db8::1]:443".parse().unwrap();
        let v2 = ppp::v2::Builder::with_addresses(
            ppp::v2::Version::Two | ppp::v2::Command::Proxy,
            ppp::v2::Protocol::Stream,
            (source, destination),
        )
        .build()
        .unwrap();
        let mut bytes = v2.clone();
        bytes.extend_from_slice(b"\x16\x03\x01");
        let (addr, rest) = read(&bytes).await;
        assert_eq!(addr.unwrap(), Some(source));
        assert_eq!(rest, b"\x16\x03\x01");
    }

    #[tokio::test]
    async fn a_connection_without_a_valid_header_is_refused() {
        for bytes in [
            &b"GET / HTTP/1.1\r\n\r\n"[..],
            b"PROXY TCP4 nonsense\r\n",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2",
            b"\r\n\r\n\0\r\nQUIT\n\x21\x11\xff\xff",
            b"",
        ] {
            let (result, _) = read(bytes).await;
            assert!(result.is_err(), "{:?}", String::from_utf8_lossy(bytes));
        }
        let long = format!("PROXY TCP4 {} 1.2.3.4 1 2\r\n", "1".repeat(200));
        assert!(read(long.as_bytes()).await.0.is_err());
    }

    proptest! {
        #[test]
        fn any_bytes_are_read_as_a_header_or_refused_without_panicking(
            bytes in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let _ = runtime.block_on(read(&bytes));
        }

        #[test]
        fn any_forwarded_headers_give_an_address_without_panicking(
            forwarded in "[ -~]{0,80}",
            xff in "[ -~]{0,80}",
        ) {
            let mut map = HeaderMap::new();
            if let Ok(value) = forwarded.parse() { map.insert(http::header::FORWARDED, value); }
            if let Ok(value) = xff.parse() { map.insert("x-forwarded-for", value); }
            let peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
            for proxies in [proxies(), proxies().forwarded()] {
                let (client, _) = proxies.client(&map, Some(peer), Scheme::Http);
                prop_assert!(client.is_some());
            }
        }
    }
}
