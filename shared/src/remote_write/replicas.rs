//! Which servers a push goes to: every address behind the URL's host. With more than one
//! `PrometheusReplicas` the Cloud Map name has one A record per task, and each replica must hold
//! every sample: Thanos' dedup can only fill a gap with data some replica has.
//!
//! The name -> addresses step is a [`Resolve`] so that tests can map a name to several loopback
//! addresses (this machine's resolver gives one address per name); the system resolver is the
//! default.

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;

/// A boxed future, so [`Resolve`] stays object-safe.
pub type ResolveFuture<'a> = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send + 'a>>;

/// Turns a host name into every address it has.
pub trait Resolve: Send + Sync + fmt::Debug {
    /// Every IP address of `host`, a DNS name (IP literals never get here).
    fn addresses<'a>(&'a self, host: &'a str) -> ResolveFuture<'a>;
}

/// The operating system's resolver (`getaddrinfo`), as every other connection of the function.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn addresses<'a>(&'a self, host: &'a str) -> ResolveFuture<'a> {
        Box::pin(async move { Ok(tokio::net::lookup_host((host, 0)).await?.map(|a| a.ip()).collect()) })
    }
}

/// Where a URL's requests go: its host and port, as the client connects to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// `None` for an IP literal, which is one replica and needs no resolving.
    pub name: Option<String>,
    pub ip: Option<IpAddr>,
    /// The URL's port, or its scheme's default.
    pub port: u16,
}

impl Endpoint {
    pub fn of(url: &url::Url) -> Result<Self, String> {
        let port = url.port_or_known_default().ok_or_else(|| format!("{url} has no port and no default one"))?;
        match url.host() {
            Some(url::Host::Domain(name)) => Ok(Self { name: Some(name.to_string()), ip: None, port }),
            Some(url::Host::Ipv4(ip)) => Ok(Self { name: None, ip: Some(ip.into()), port }),
            Some(url::Host::Ipv6(ip)) => Ok(Self { name: None, ip: Some(ip.into()), port }),
            None => Err(format!("{url} has no host")),
        }
    }

    /// Every replica's address, sorted and without repeats, each with the URL's port.
    pub async fn replicas(&self, resolver: &dyn Resolve) -> Result<Vec<SocketAddr>, String> {
        let name = match (&self.name, self.ip) {
            (Some(name), _) => name,
            (None, Some(ip)) => return Ok(vec![SocketAddr::new(ip, self.port)]),
            (None, None) => return Err("no host".into()),
        };
        let ips: BTreeSet<IpAddr> =
            resolver.addresses(name).await.map_err(|e| format!("resolving {name}: {e}"))?.into_iter().collect();
        if ips.is_empty() {
            return Err(format!("{name} resolves to no address (no replica is running?)"));
        }
        Ok(ips.into_iter().map(|ip| SocketAddr::new(ip, self.port)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    /// The stand-in for Cloud Map: one name, fixed addresses (repeats and disorder on purpose).
    #[derive(Debug)]
    struct Fixed(&'static str, Vec<IpAddr>);

    impl Resolve for Fixed {
        fn addresses<'a>(&'a self, host: &'a str) -> ResolveFuture<'a> {
            let found = if host == self.0 { self.1.clone() } else { vec![] };
            Box::pin(async move { Ok(found) })
        }
    }

    /// Fails the test if asked anything.
    #[derive(Debug)]
    struct NeverAsked;

    impl Resolve for NeverAsked {
        fn addresses<'a>(&'a self, host: &'a str) -> ResolveFuture<'a> {
            panic!("an IP literal must not be resolved, got {host}")
        }
    }

    fn v4(d: u8) -> IpAddr {
        Ipv4Addr::new(10, 0, 1, d).into()
    }

    async fn replicas(url: &str, resolver: &dyn Resolve) -> Result<Vec<String>, String> {
        let endpoint = Endpoint::of(&url::Url::parse(url).unwrap())?;
        Ok(endpoint.replicas(resolver).await?.iter().map(ToString::to_string).collect())
    }

    #[tokio::test]
    async fn every_address_of_the_name_with_the_urls_port() {
        let cloud_map = Fixed("prometheus.prometheus.local", vec![v4(7), v4(5), v4(7), v4(6)]);
        let got = replicas("http://prometheus.prometheus.local:9090/api/v1/write", &cloud_map).await.unwrap();
        assert_eq!(got, ["10.0.1.5:9090", "10.0.1.6:9090", "10.0.1.7:9090"]);
        // No port in the URL: the scheme's.
        let got = replicas("https://prometheus.prometheus.local/prom/api/v1/write", &cloud_map).await.unwrap();
        assert_eq!(got, ["10.0.1.5:443", "10.0.1.6:443", "10.0.1.7:443"]);
        let got = replicas("http://PROMETHEUS.prometheus.local/api/v1/write", &cloud_map).await.unwrap();
        assert_eq!(got.len(), 3, "host names are case-insensitive (the URL lower-cases them): {got:?}");
    }

    #[tokio::test]
    async fn an_ip_literal_is_one_replica_and_never_resolved() {
        assert_eq!(replicas("http://127.0.0.1:9090/api/v1/write", &NeverAsked).await.unwrap(), ["127.0.0.1:9090"]);
        assert_eq!(replicas("http://[::1]:9090/api/v1/write", &NeverAsked).await.unwrap(), ["[::1]:9090"]);
    }

    #[tokio::test]
    async fn a_name_without_addresses_is_an_error_naming_it() {
        let err = replicas("http://prometheus.prometheus.local:9090/", &Fixed("other", vec![v4(1)])).await.unwrap_err();
        assert!(err.contains("prometheus.prometheus.local resolves to no address"), "{err}");
        let err = replicas("http://no-such-host.invalid:9090/", &SystemResolver).await.unwrap_err();
        assert!(err.starts_with("resolving no-such-host.invalid: "), "{err}");
    }

    #[tokio::test]
    async fn the_system_resolver_answers_for_localhost() {
        let got = replicas("http://localhost:9090/api/v1/write", &SystemResolver).await.unwrap();
        assert!(got.contains(&"127.0.0.1:9090".to_string()), "{got:?}");
    }
}
