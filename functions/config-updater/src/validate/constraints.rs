//! What Prometheus' `Validate`/`UnmarshalYAML` methods refuse in a section whose fields all have
//! the right shape: fields that exclude each other (the HTTP client's auth and proxy settings,
//! remote write's auth), required fields, enum values (Alertmanager API version, scrape
//! protocols, tracing client and compression, remote write protobuf message, OTLP translation
//! strategy), reserved headers and size units. Messages are Prometheus' own where it has one.

use serde_norway::{Mapping, Value};

use super::schema::{self, Fields};
use super::Target;

/// Problems of one section (`fields` says which), as `(field at fault, message)`.
pub fn check(fields: Fields, map: &Mapping, target: &Target) -> Vec<(&'static str, String)> {
    let mut found = Vec::new();
    let is = |table: Fields| std::ptr::eq(fields, table);
    // EC2, Lightsail, HTTP, Azure, PuppetDB and Uyuni discovery validate their HTTP client from
    // Prometheus 2.48 on.
    let unvalidated_before_2_48 = [
        schema::EC2_SD,
        schema::LIGHTSAIL_SD,
        schema::HTTP_SD,
        schema::AZURE_SD,
        schema::PUPPETDB_SD,
        schema::UYUNI_SD,
    ]
    .iter()
    .any(|table| is(table));
    if fields.iter().any(|f| f.name == "bearer_token") && (target.at_least(2, 48) || !unvalidated_before_2_48) {
        http_client(map, target, &mut found);
    }
    if is(schema::GLOBAL) || is(schema::SCRAPE) {
        size(map, "body_size_limit", &mut found);
        let protocols = strings(map, "scrape_protocols");
        for p in &protocols {
            if !SCRAPE_PROTOCOLS.contains(&p.as_str()) {
                found.push((
                    "scrape_protocols",
                    format!("unknown scrape protocol {p}, supported: {SCRAPE_PROTOCOLS:?}"),
                ));
            }
        }
        if let Some(dup) = protocols.iter().enumerate().find(|(i, p)| protocols[..*i].contains(p)) {
            found.push(("scrape_protocols", format!("duplicated protocol in scrape_protocols: {}", dup.1)));
        }
        if let Some(fallback) = text(map, "fallback_scrape_protocol").filter(|f| !f.is_empty()) {
            if !SCRAPE_PROTOCOLS.contains(&fallback.as_str()) {
                found.push((
                    "fallback_scrape_protocol",
                    format!("invalid fallback_scrape_protocol: unknown scrape protocol {fallback}, supported: {SCRAPE_PROTOCOLS:?}"),
                ));
            }
        }
        for field in ["metric_name_validation_scheme"] {
            if let Some(v) = text(map, field).filter(|v| !v.is_empty()) {
                if v != "legacy" && v != "utf8" {
                    found.push((
                        field,
                        format!("unknown name validation method {v:?}, must be either 'legacy' or 'utf8'"),
                    ));
                }
            }
        }
    }
    // Before 2.45 only building a scrape config's client pairs a TLS certificate with its key
    // (promtool 2.42 refuses these, not those of other sections).
    if is(schema::SCRAPE) && !target.at_least(2, 45) {
        if let Some(tls) = map.get("tls_config").and_then(Value::as_mapping) {
            let (cert, key) = (text(tls, "cert_file").unwrap_or_default(), text(tls, "key_file").unwrap_or_default());
            if !cert.is_empty() && key.is_empty() {
                found.push(("tls_config", format!("client cert file {cert:?} specified without client key file")));
            } else if !key.is_empty() && cert.is_empty() {
                found.push(("tls_config", format!("client key file {key:?} specified without client cert file")));
            }
        }
    }
    if is(schema::ALERTMANAGER) {
        let supported: &[&str] = if target.is_v3() { &["v2"] } else { &["v1", "v2"] };
        if let Some(v) = text(map, "api_version").filter(|v| !v.is_empty()) {
            if !supported.contains(&v.as_str()) {
                found.push((
                    "api_version",
                    format!("expected Alertmanager api version to be one of {supported:?} but got {v}"),
                ));
            }
        }
    }
    if is(schema::REMOTE_WRITE) || is(schema::REMOTE_READ) {
        for header in map.get("headers").and_then(Value::as_mapping).into_iter().flat_map(Mapping::keys) {
            let header = header.as_str().unwrap_or_default();
            if header.eq_ignore_ascii_case("authorization") {
                found.push(("headers", "authorization header must be changed via the basic_auth, authorization, oauth2, sigv4, azuread or google_iam parameter".into()));
            } else if RESERVED_HEADERS.contains(&header.to_ascii_lowercase().as_str()) {
                found.push(("headers", format!("{header} is a reserved header. It must not be changed")));
            }
        }
    }
    if is(schema::REMOTE_WRITE) {
        if let Some(message) = text(map, "protobuf_message").filter(|m| !m.is_empty()) {
            if message != "prometheus.WriteRequest" && message != "io.prometheus.write.v2.Request" {
                found.push(("protobuf_message", format!("invalid protobuf_message value {message:?}: supported are prometheus.WriteRequest, io.prometheus.write.v2.Request")));
            }
        }
        let auth: Vec<&str> = ["basic_auth", "authorization", "oauth2", "sigv4", "azuread", "google_iam"]
            .into_iter()
            .filter(|k| set(map, k))
            .collect();
        if auth.len() > 1 {
            found.push(("", format!("at most one of basic_auth, authorization, oauth2, sigv4, azuread or google_iam must be configured. Currently configured: {auth:?}")));
        }
    }
    if is(schema::TRACING) {
        if text(map, "endpoint").is_none_or(|e| e.is_empty()) {
            found.push(("", "tracing endpoint must be set".into()));
        }
        if let Some(c) = text(map, "compression").filter(|c| !c.is_empty() && c != "gzip") {
            found.push(("compression", format!("invalid compression type {c} provided, valid options: gzip")));
        }
        if let Some(c) = text(map, "client_type").filter(|c| c != "http" && c != "grpc") {
            found.push(("client_type", format!("expected tracing client type to be to be http or grpc, but got {c}")));
        }
        for header in map.get("headers").and_then(Value::as_mapping).into_iter().flat_map(Mapping::keys) {
            let header = header.as_str().unwrap_or_default();
            if header.eq_ignore_ascii_case("authorization") {
                found.push(("headers", "custom authorization header configuration is not yet supported".into()));
            } else if RESERVED_HEADERS.contains(&header.to_ascii_lowercase().as_str()) {
                found.push(("headers", format!("{header} is a reserved header. It must not be changed")));
            }
        }
    }
    if is(schema::OTLP) {
        if let Some(s) = text(map, "translation_strategy").filter(|s| !s.is_empty()) {
            let known: &[&str] = if target.at_least(3, 4) {
                &["UnderscoreEscapingWithSuffixes", "NoUTF8EscapingWithSuffixes", "NoTranslation"]
            } else {
                &["UnderscoreEscapingWithSuffixes", "NoUTF8EscapingWithSuffixes"]
            };
            if !known.contains(&s.as_str()) {
                found.push(("translation_strategy", format!("unsupported OTLP translation strategy {s:?}")));
            }
        }
        for (field, what) in [("promote_resource_attributes", "promoted"), ("ignore_resource_attributes", "ignored")] {
            let attributes: Vec<String> = strings(map, field).iter().map(|a| a.trim().to_string()).collect();
            for (i, a) in attributes.iter().enumerate() {
                if a.is_empty() {
                    found.push((field, format!("invalid '{field}': empty {what} OTel resource attribute")));
                } else if attributes[..i].contains(a) {
                    found.push((field, format!("invalid '{field}': duplicated {what} OTel resource attribute {a:?}")));
                }
            }
        }
        if map.get("promote_all_resource_attributes").and_then(Value::as_bool) == Some(true)
            && !strings(map, "promote_resource_attributes").is_empty()
        {
            found.push(("promote_resource_attributes", "'promote_all_resource_attributes' and 'promote_resource_attributes' cannot be configured simultaneously".into()));
        }
        if map.get("promote_all_resource_attributes").and_then(Value::as_bool) != Some(true)
            && !strings(map, "ignore_resource_attributes").is_empty()
        {
            found.push((
                "ignore_resource_attributes",
                "'ignore_resource_attributes' cannot be configured unless 'promote_all_resource_attributes' is true"
                    .into(),
            ));
        }
    }
    if is(schema::FILE_SD) && strings(map, "files").is_empty() {
        found.push(("", "file service discovery config must contain at least one path name".into()));
    }
    if is(schema::DNS_SD) {
        if strings(map, "names").is_empty() {
            found.push(("", "DNS-SD config must contain at least one SRV record name".into()));
        }
        let kind = text(map, "type").unwrap_or_else(|| "SRV".into());
        let with_port: &[&str] = if target.at_least(2, 49) { &["A", "AAAA", "MX", "NS"] } else { &["A", "AAAA", "MX"] };
        if with_port.contains(&kind.as_str()) {
            if map.get("port").and_then(Value::as_u64).unwrap_or(0) == 0 {
                found.push(("", "a port is required in DNS-SD configs for all record types except SRV".into()));
            }
        } else if kind != "SRV" {
            found.push(("type", format!("invalid DNS-SD records type {kind}")));
        }
    }
    if is(schema::HTTP_SD) {
        match text(map, "url").filter(|u| !u.is_empty()) {
            None => found.push(("", "URL is missing".into())),
            Some(u) => match u.split_once("://") {
                Some((scheme, rest)) if scheme == "http" || scheme == "https" => {
                    if rest.split(['/', '?', '#']).next().unwrap_or_default().is_empty() {
                        found.push(("url", "host is missing in URL".into()));
                    }
                }
                _ => found.push(("url", "URL scheme must be 'http' or 'https'".into())),
            },
        }
    }
    if is(schema::KUBERNETES_SD) {
        const ROLES: [&str; 6] = ["pod", "service", "endpoints", "endpointslice", "node", "ingress"];
        match text(map, "role").filter(|r| !r.is_empty()) {
            None => {
                found.push(("", "role missing (one of: pod, service, endpoints, endpointslice, node, ingress)".into()))
            }
            Some(role) if !ROLES.contains(&role.as_str()) => {
                found.push(("role", format!("unknown Kubernetes SD role {role:?}")))
            }
            Some(_) => {}
        }
        let role = text(map, "role").unwrap_or_default();
        let allowed: Vec<&str> = match role.as_str() {
            "endpoints" => vec!["pod", "service", "endpoints"],
            "endpointslice" => vec!["pod", "service", "endpointslice"],
            other if ROLES.contains(&other) => vec![other],
            _ => Vec::new(),
        };
        let mut seen = Vec::new();
        for selector in map.get("selectors").and_then(Value::as_sequence).into_iter().flatten() {
            let selector_role = selector.as_mapping().and_then(|s| text(s, "role")).unwrap_or_default();
            if seen.contains(&selector_role) {
                found.push(("selectors", format!("duplicated selector role: {selector_role}")));
            } else if !allowed.is_empty() && !allowed.contains(&selector_role.as_str()) {
                found.push(("selectors", format!("{role} role supports only {} selectors", allowed.join(", "))));
            }
            // Kubernetes' fields.ParseSelector: comma-separated `key=value`, `key==value`, `key!=value`.
            let field = selector.as_mapping().and_then(|s| text(s, "field")).unwrap_or_default();
            if let Some(term) = field.split(',').find(|t| !t.is_empty() && !t.contains('=')) {
                found.push(("selectors", format!("invalid selector: '{field}'; can't understand '{term}'")));
            }
            seen.push(selector_role);
        }
        let own_namespace =
            map.get("namespaces").and_then(|n| n.get("own_namespace")).and_then(Value::as_bool) == Some(true);
        let api_server = set(map, "api_server");
        let kubeconfig = text(map, "kubeconfig_file").is_some_and(|k| !k.is_empty());
        if api_server && kubeconfig {
            found.push(("kubeconfig_file", "cannot use 'kubeconfig_file' and 'api_server' simultaneously".into()));
        }
        if own_namespace && api_server {
            found.push(("namespaces", "cannot use 'api_server' and 'namespaces.own_namespace' simultaneously".into()));
        }
        let custom_client = [
            "basic_auth",
            "authorization",
            "oauth2",
            "bearer_token",
            "bearer_token_file",
            "proxy_url",
            "tls_config",
            "no_proxy",
            "proxy_from_environment",
            "proxy_connect_header",
            "http_headers",
        ]
        .iter()
        .any(|k| set(map, k))
            || ["follow_redirects", "enable_http2"].iter().any(|k| map.get(*k).and_then(Value::as_bool) == Some(false));
        if kubeconfig && custom_client {
            found.push((
                "kubeconfig_file",
                "cannot use a custom HTTP client configuration together with 'kubeconfig_file'".into(),
            ));
        }
        if !api_server && custom_client {
            found.push((
                "",
                "to use custom HTTP client configuration please provide the 'api_server' URL explicitly".into(),
            ));
        }
        if own_namespace && kubeconfig {
            found.push((
                "namespaces",
                "cannot use 'kubeconfig_file' and 'namespaces.own_namespace' simultaneously".into(),
            ));
        }
    }
    if is(schema::AZURE_SD) {
        let method = text(map, "authentication_method").unwrap_or_else(|| "OAuth".into());
        let required: &[&str] = if method == "OAuth" {
            &["subscription_id", "tenant_id", "client_id", "client_secret"]
        } else {
            &["subscription_id"]
        };
        for field in required {
            if text(map, field).is_none_or(|v| v.is_empty()) {
                found.push(("", format!("azure SD configuration requires a {field}")));
            }
        }
        let methods: &[&str] =
            if target.at_least(2, 52) { &["OAuth", "ManagedIdentity", "SDK"] } else { &["OAuth", "ManagedIdentity"] };
        if !methods.contains(&method.as_str()) {
            found.push((
                "authentication_method",
                format!("unknown authentication_type {method:?}. Supported types are {methods:?}"),
            ));
        }
    }
    if is(schema::EUREKA_SD) {
        match text(map, "server").filter(|s| !s.is_empty()) {
            None => found.push(("", "eureka_sd: empty or null eureka server".into())),
            Some(server) => {
                let host =
                    server.split_once("://").map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or_default());
                if host.is_none_or(str::is_empty) {
                    found.push(("server", "eureka_sd: invalid eureka server URL".into()));
                }
            }
        }
    }
    if is(schema::MARATHON_SD) {
        if strings(map, "servers").is_empty() {
            found.push(("", "marathon_sd: must contain at least one Marathon server".into()));
        }
        let filled = |k: &str| text(map, k).is_some_and(|v| !v.is_empty());
        if filled("auth_token") && filled("auth_token_file") {
            found.push((
                "auth_token",
                "marathon_sd: at most one of auth_token & auth_token_file must be configured".into(),
            ));
        } else if filled("auth_token") || filled("auth_token_file") {
            if set(map, "basic_auth") {
                found.push((
                    "basic_auth",
                    "marathon_sd: at most one of basic_auth, auth_token & auth_token_file must be configured".into(),
                ));
            } else if filled("bearer_token") || filled("bearer_token_file") {
                found.push(("bearer_token", "marathon_sd: at most one of bearer_token, bearer_token_file, auth_token & auth_token_file must be configured".into()));
            } else if set(map, "authorization") {
                found.push((
                    "authorization",
                    "marathon_sd: at most one of auth_token, auth_token_file & authorization must be configured".into(),
                ));
            }
        }
    }
    if is(schema::UYUNI_SD) {
        for (field, message) in [
            ("server", "Uyuni SD configuration requires server host"),
            ("username", "Uyuni SD configuration requires a username"),
            ("password", "Uyuni SD configuration requires a password"),
        ] {
            if text(map, field).is_none_or(|v| v.is_empty()) {
                found.push(("", message.into()));
            }
        }
    }
    if is(schema::PUPPETDB_SD) {
        match text(map, "url").filter(|u| !u.is_empty()) {
            None => found.push(("", "URL is missing".into())),
            Some(u) => match u.split_once("://") {
                Some((scheme, rest)) if scheme == "http" || scheme == "https" => {
                    if rest.split(['/', '?', '#']).next().unwrap_or_default().is_empty() {
                        found.push(("url", "host is missing in URL".into()));
                    }
                }
                _ => found.push(("url", "URL scheme must be 'http' or 'https'".into())),
            },
        }
        if text(map, "query").is_none_or(|q| q.is_empty()) {
            found.push(("", "query missing".into()));
        }
    }
    if is(schema::TLS) {
        for field in ["min_version", "max_version"] {
            if let Some(v) = text(map, field).filter(|v| !["TLS10", "TLS11", "TLS12", "TLS13"].contains(&v.as_str())) {
                found.push((field, format!("unknown TLS version: {v} (TLS10, TLS11, TLS12 or TLS13)")));
            }
        }
    }
    // prometheus/common validates a TLS config from 0.44 (Prometheus 2.45) on.
    if is(schema::TLS) && target.at_least(2, 45) {
        let count = |keys: [&str; 3]| keys.iter().filter(|k| text(map, k).is_some_and(|v| !v.is_empty())).count();
        let (ca, cert, key) = (
            count(["ca", "ca_file", "ca_ref"]),
            count(["cert", "cert_file", "cert_ref"]),
            count(["key", "key_file", "key_ref"]),
        );
        if ca > 1 {
            found.push(("", "at most one of ca, ca_file & ca_ref must be configured".into()));
        }
        if cert > 1 {
            found.push(("", "at most one of cert, cert_file & cert_ref must be configured".into()));
        }
        if key > 1 {
            found.push(("", "at most one of key and key_file must be configured".into()));
        }
        if cert > 0 && key == 0 {
            found.push((
                "",
                "exactly one of key or key_file must be configured when a client certificate is configured".into(),
            ));
        } else if key > 0 && cert == 0 {
            found.push((
                "",
                "exactly one of cert or cert_file must be configured when a client key is configured".into(),
            ));
        }
    }
    other_discovery(fields, map, target, &mut found);
    if is(schema::EC2_FILTER) && strings(map, "values").is_empty() {
        found.push(("values", "EC2 SD configuration filter values cannot be empty".into()));
    }
    found
}

/// The required fields and roles of the discovery kinds not handled above, with Prometheus'
/// messages (discovery/*/ `UnmarshalYAML`, the same in 2.42 and 3.5 unless noted).
fn other_discovery(fields: Fields, map: &Mapping, target: &Target, found: &mut Vec<(&'static str, String)>) {
    let is = |table: Fields| std::ptr::eq(fields, table);
    let empty = |key: &str| text(map, key).is_none_or(|v| v.is_empty());
    let require = |found: &mut Vec<(&'static str, String)>, key: &str, message: &str| {
        if empty(key) {
            found.push(("", message.to_string()));
        }
    };
    let role = |roles: &[&str]| text(map, "role").filter(|r| !r.is_empty() && !roles.contains(&r.as_str()));
    if is(schema::DOCKER_SD) || is(schema::DOCKERSWARM_SD) {
        require(found, "host", "host missing");
    }
    if is(schema::DOCKERSWARM_SD) {
        require(found, "role", "role missing (one of: tasks, services, nodes)");
        if let Some(r) = role(&["tasks", "services", "nodes"]) {
            found.push(("role", format!("invalid role {r}, expected tasks, services, or nodes")));
        }
    }
    if is(schema::HETZNER_SD) {
        require(found, "role", "role missing (one of: robot, hcloud)");
        if let Some(r) = role(&["robot", "hcloud"]) {
            found.push(("role", format!("unknown role {r:?}")));
        }
    }
    if is(schema::SCALEWAY_SD) {
        require(found, "role", "role missing (one of: instance, baremetal)");
        if let Some(r) = role(&["instance", "baremetal"]) {
            found.push(("role", format!("unknown role {r:?}")));
        }
        require(found, "project_id", "project_id is mandatory");
        match (empty("secret_key"), empty("secret_key_file")) {
            (true, true) => found.push(("", "one of secret_key & secret_key_file must be configured".into())),
            (false, false) => found.push(("", "at most one of secret_key & secret_key_file must be configured".into())),
            _ => {}
        }
        require(found, "access_key", "access_key is mandatory");
    }
    if is(schema::OPENSTACK_SD) {
        let roles: &[&str] = if target.at_least(3, 2) {
            &["instance", "hypervisor", "loadbalancer"]
        } else {
            &["instance", "hypervisor"]
        };
        if let Some(r) = role(roles) {
            found.push(("role", format!("unknown OpenStack SD role {r:?}")));
        }
        if let Some(a) = text(map, "availability").filter(|a| !["public", "internal", "admin"].contains(&a.as_str())) {
            found.push(("availability", format!("unknown availability {a}, must be one of admin, internal or public")));
        }
        require(found, "role", &format!("role missing (one of: {})", roles.join(", ")));
        require(found, "region", "openstack SD configuration requires a region");
    }
    if is(schema::OVHCLOUD_SD) {
        if map.contains_key("endpoint") {
            require(found, "endpoint", "endpoint can not be empty"); // unset, it is ovh-eu
        }
        require(found, "application_key", "application key can not be empty");
        require(found, "application_secret", "application secret can not be empty");
        require(found, "consumer_key", "consumer key can not be empty");
        let service = text(map, "service").unwrap_or_default();
        if service != "dedicated_server" && service != "vps" {
            found.push(("service", format!("unknown service: {service}")));
        }
    }
    if is(schema::TRITON_SD) {
        if role(&["container", "cn"]).is_some() {
            found.push(("role", "triton SD configuration requires role to be 'container' or 'cn'".into()));
        }
        require(found, "account", "triton SD configuration requires an account");
        require(found, "dns_suffix", "triton SD configuration requires a dns_suffix");
        require(found, "endpoint", "triton SD configuration requires an endpoint");
    }
    for (table, name) in [(schema::SERVERSET_SD, "serverset"), (schema::NERVE_SD, "nerve")] {
        if !is(table) {
            continue;
        }
        if strings(map, "servers").is_empty() {
            found.push(("", format!("{name} SD config must contain at least one Zookeeper server")));
        }
        let paths = strings(map, "paths");
        if paths.is_empty() {
            found.push(("", format!("{name} SD config must contain at least one path")));
        }
        for path in paths.iter().filter(|p| !p.starts_with('/')) {
            found.push(("paths", format!("{name} SD config paths must begin with '/': {path}")));
        }
    }
    if is(schema::IONOS_SD) {
        require(found, "datacenter_id", "datacenter id can't be empty");
    }
}

const SCRAPE_PROTOCOLS: [&str; 5] =
    ["PrometheusProto", "OpenMetricsText0.0.1", "OpenMetricsText1.0.0", "PrometheusText0.0.4", "PrometheusText1.0.0"];

/// Headers Prometheus sets itself (config/config.go `reservedHeaders`, the same in 2.42 and 3.5).
const RESERVED_HEADERS: [&str; 16] = [
    "host",
    "content-encoding",
    "content-length",
    "content-type",
    "user-agent",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "www-authenticate",
    "accept-encoding",
    "x-prometheus-remote-write-version",
    "x-prometheus-remote-read-version",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

/// prometheus/common's `HTTPClientConfig.Validate` and `ProxyConfig.Validate`.
fn http_client(map: &Mapping, target: &Target, found: &mut Vec<(&'static str, String)>) {
    let filled = |m: &Mapping, k: &str| text(m, k).is_some_and(|v| !v.is_empty());
    let token = filled(map, "bearer_token");
    let token_file = filled(map, "bearer_token_file");
    let basic = map.get("basic_auth").and_then(Value::as_mapping);
    let oauth2 = map.get("oauth2").and_then(Value::as_mapping);
    let authorization = map.get("authorization").and_then(Value::as_mapping);
    if token && token_file {
        found.push(("bearer_token", "at most one of bearer_token & bearer_token_file must be configured".into()));
    }
    if (basic.is_some() || oauth2.is_some()) && (token || token_file) {
        found.push((
            "bearer_token",
            "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured".into(),
        ));
    }
    if let Some(basic) = basic {
        let count = |keys: &[&str]| keys.iter().filter(|k| filled(basic, k)).count();
        if count(&["username", "username_file", "username_ref"]) > 1 {
            found.push((
                "basic_auth",
                "at most one of basic_auth username, username_file & username_ref must be configured".into(),
            ));
        }
        if count(&["password", "password_file", "password_ref"]) > 1 {
            found.push((
                "basic_auth",
                "at most one of basic_auth password, password_file & password_ref must be configured".into(),
            ));
        }
    }
    if let Some(auth) = authorization {
        if token || token_file {
            found.push((
                "authorization",
                "authorization is not compatible with bearer_token & bearer_token_file".into(),
            ));
        }
        if ["credentials", "credentials_file", "credentials_ref"].iter().filter(|k| filled(auth, k)).count() > 1 {
            found.push((
                "authorization",
                "at most one of authorization credentials & credentials_file must be configured".into(),
            ));
        }
        if text(auth, "type").is_some_and(|t| t.trim().eq_ignore_ascii_case("basic")) {
            found.push((
                "authorization",
                "authorization type cannot be set to \"basic\", use \"basic_auth\" instead".into(),
            ));
        }
        if basic.is_some() || oauth2.is_some() {
            found
                .push(("authorization", "at most one of basic_auth, oauth2 & authorization must be configured".into()));
        }
    }
    if let Some(oauth2) = oauth2 {
        if basic.is_some() && authorization.is_none() {
            found.push(("oauth2", "at most one of basic_auth, oauth2 & authorization must be configured".into()));
        }
        if !filled(oauth2, "client_id") {
            found.push(("oauth2", "oauth2 client_id must be configured".into()));
        }
        if !filled(oauth2, "token_url") {
            found.push(("oauth2", "oauth2 token_url must be configured".into()));
        }
        let secrets =
            ["client_secret", "client_secret_file", "client_secret_ref"].iter().filter(|k| filled(oauth2, k)).count();
        if secrets > 1 {
            found.push((
                "oauth2",
                "at most one of oauth2 client_secret, client_secret_file & client_secret_ref must be configured".into(),
            ));
        }
        // Before common 0.40 (Prometheus 2.43) a secret was required.
        if secrets == 0 && !target.at_least(2, 43) {
            found.push(("oauth2", "either oauth2 client_secret or client_secret_file must be configured".into()));
        }
    }
    for header in map.get("http_headers").and_then(Value::as_mapping).into_iter().flat_map(Mapping::keys) {
        let header = header.as_str().unwrap_or_default();
        if header.eq_ignore_ascii_case("authorization")
            || header.eq_ignore_ascii_case("x-prometheus-scrape-timeout-seconds")
            || RESERVED_HEADERS.contains(&header.to_ascii_lowercase().as_str())
        {
            found.push(("http_headers", format!("setting header {header:?} is not allowed")));
        }
    }
    let proxy_url = filled(map, "proxy_url");
    let from_env = map.get("proxy_from_environment").and_then(Value::as_bool) == Some(true);
    let connect_header = map.get("proxy_connect_header").and_then(Value::as_mapping).is_some_and(|m| !m.is_empty());
    if connect_header && !proxy_url && !from_env {
        found.push((
            "proxy_connect_header",
            "if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be configured".into(),
        ));
    }
    if from_env && proxy_url {
        found.push((
            "proxy_from_environment",
            "if proxy_from_environment is configured, proxy_url must not be configured".into(),
        ));
    }
    if from_env && filled(map, "no_proxy") {
        found.push(("no_proxy", "if proxy_from_environment is configured, no_proxy must not be configured".into()));
    }
    if !proxy_url && filled(map, "no_proxy") {
        found.push(("no_proxy", "if no_proxy is configured, proxy_url must also be configured".into()));
    }
}

/// `units.ParseBase2Bytes`: `0`, or numbers each followed by a unit (`512MB`, `1GiB`, `1GB512MB`).
fn size(map: &Mapping, field: &'static str, found: &mut Vec<(&'static str, String)>) {
    let Some(value) = text(map, field) else { return };
    const UNITS: [&str; 13] = ["B", "KB", "MB", "GB", "TB", "PB", "EB", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut rest = value.as_str();
    let mut ok = !rest.is_empty();
    if rest != "0" {
        while ok && !rest.is_empty() {
            let digits = rest.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(rest.len());
            let unit_len = rest[digits..].find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len() - digits);
            ok = digits > 0 && UNITS.contains(&&rest[digits..digits + unit_len]);
            rest = &rest[digits + unit_len..];
        }
    }
    if !ok {
        found.push((field, format!("{field}: {value:?} is not a size (e.g. 10MB, 1GiB, or 0)")));
    }
}

fn text(map: &Mapping, key: &str) -> Option<String> {
    match map.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn set(map: &Mapping, key: &str) -> bool {
    map.get(key).is_some_and(|v| !v.is_null())
}

fn strings(map: &Mapping, key: &str) -> Vec<String> {
    map.get(key)
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::Target;

    fn size_ok(value: &str) -> bool {
        let map: Mapping = serde_norway::from_str(&format!("body_size_limit: '{value}'")).unwrap();
        let mut found = Vec::new();
        size(&map, "body_size_limit", &mut found);
        found.is_empty()
    }

    /// `global: {body_size_limit: X}` through `promtool check config --syntax-only` of 3.5.3 (2.42
    /// has no global body_size_limit).
    #[test]
    fn sizes_as_promtool_judges_them() {
        for good in ["1GiB", "1.5MB", "0", "1KB512B", "0B", "1TB", "1EB"] {
            assert!(size_ok(good), "{good:?} should be valid");
        }
        for bad in ["10mb", "1 MB", "512", ""] {
            assert!(!size_ok(bad), "{bad:?} should be invalid");
        }
    }

    /// Prometheus v3.5.3 config/testdata: refused by promtool 2.42 and 3.5 alike (Debian's 3.5
    /// has no openstack; its 2.42 does), here on both targets.
    #[test]
    fn other_discovery_kinds_from_prometheus_testdata() {
        let cases: &[(&str, &str, &str)] = &[
            ("hetzner_role.bad.yml", "scrape_configs:\n  - hetzner_sd_configs:\n      - role: invalid\n", "unknown role \"invalid\""),
            ("openstack_role.bad.yml", "scrape_configs:\n  - openstack_sd_configs:\n      - role: invalid\n", "unknown OpenStack SD role \"invalid\""),
            ("openstack_availability.bad.yml", "scrape_configs:\n  - openstack_sd_configs:\n      - availability: invalid\n", "unknown availability invalid, must be one of admin, internal or public"),
            ("ovhcloud_bad_service.bad.yml", "scrape_configs:\n  - ovhcloud_sd_configs:\n      - service: fakeservice\n        endpoint: ovh-eu\n        application_key: testAppKey\n        application_secret: testAppSecret\n        consumer_key: testConsumerKey\n        refresh_interval: 1m\n", "unknown service: fakeservice"),
            ("ovhcloud_no_secret.bad.yml", "scrape_configs:\n  - ovhcloud_sd_configs:\n      - service: dedicated_server\n        endpoint: ovh-eu\n        application_key: testAppKey\n        consumer_key: testConsumerKey\n        refresh_interval: 1m\n", "application secret can not be empty"),
            ("scaleway_role.bad.yml", "scrape_configs:\n  - scaleway_sd_configs:\n      - role: invalid\n        project_id: 11111111-1111-1111-1111-111111111112\n        access_key: SCWXXXXXXXXXXXXXXXXX\n        secret_key_file: bar\n", "unknown role \"invalid\""),
            ("scaleway_no_secret.bad.yml", "scrape_configs:\n  - scaleway_sd_configs:\n      - role: instance\n        project_id: 11111111-1111-1111-1111-111111111112\n        access_key: SCWXXXXXXXXXXXXXXXXX\n", "one of secret_key & secret_key_file must be configured"),
            ("scaleway_two_secrets.bad.yml", "scrape_configs:\n  - scaleway_sd_configs:\n      - role: instance\n        project_id: 11111111-1111-1111-1111-111111111112\n        access_key: SCWXXXXXXXXXXXXXXXXX\n        secret_key_file: bar\n        secret_key: 11111111-1111-1111-1111-111111111112\n", "at most one of secret_key & secret_key_file must be configured"),
            ("ionos_datacenter.bad.yml", "scrape_configs:\n  - ionos_sd_configs:\n      - datacenter_id: \"\"\n", "datacenter id can't be empty"),
        ];
        for (file, yaml, needle) in cases {
            for version in ["2.42", "3.5"] {
                let target = Target::parse(version, "").unwrap();
                let config: Value = serde_norway::from_str(yaml).unwrap();
                let job = &config["scrape_configs"][0];
                let (kind, sds) = job
                    .as_mapping()
                    .unwrap()
                    .iter()
                    .find(|(k, _)| k.as_str().unwrap().ends_with("_sd_configs"))
                    .unwrap();
                let fields = schema::sd_fields(kind.as_str().unwrap().trim_end_matches("_sd_configs")).unwrap();
                let found = check(fields, sds[0].as_mapping().unwrap(), &target);
                assert!(found.iter().any(|(_, m)| m.contains(needle)), "{file} on {version}: {found:?}");
            }
        }
    }
}
