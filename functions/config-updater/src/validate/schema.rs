//! Which fields each section of `prometheus.yml` has, per Prometheus version. Prometheus decodes
//! its config strictly, so a field the deployed version does not know (a typo, or one from a newer
//! or older release) stops it from loading the config.
//!
//! The tables follow the `yaml:"..."` tags of Prometheus' config structs (config/config.go,
//! model/relabel, discovery/*, storage/remote/{azuread,googleiam}) and of prometheus/common's
//! config/http_config.go and sigv4 at the version each Prometheus release pins, read at every
//! release from v2.42.0 to v3.14.0. Inline structs (the HTTP client config) are spelled out in each
//! section that embeds them. A field without a version has been there since 2.42 or earlier.

/// A Prometheus release, `(major, minor)`.
pub type Version = (u32, u32);

/// The fields of one section.
pub type Fields = &'static [Field];

/// What a field holds, as far as the check needs to know.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// `model.Duration`: `1h30m`, `15s`.
    Duration,
    Bool,
    /// A signed integer (YAML may write it as a float: Go truncates it).
    Int,
    /// An unsigned integer (the limits): a negative value is refused.
    Uint,
    Float,
    /// A string, secret or enum value.
    Str,
    /// `units.Base2Bytes`: `10MB`, `1GiB`, `0`.
    Size,
    /// A URL (`config.URL`).
    Url,
    /// A list of strings.
    Strings,
    /// A map of strings to strings (labels, headers).
    StrMap,
    /// `url.Values`: a map of strings to lists of strings.
    Params,
    /// Not checked beyond being present in this version.
    Any,
    /// A nested section.
    Struct(Fields),
    /// A list of nested sections.
    Structs(Fields),
    /// A list of relabel configs (checked further by `relabel`).
    Relabels,
}

/// One field: its YAML key, what it holds, and the releases that know it (`since` inclusive,
/// `until` the first release without it).
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub since: Version,
    pub until: Option<Version>,
}

impl Field {
    /// Whether Prometheus `version` knows this field.
    pub fn known_in(&self, version: Version) -> bool {
        version >= self.since && self.until.is_none_or(|until| version < until)
    }
}

const fn f(name: &'static str, kind: Kind) -> Field {
    Field { name, kind, since: (2, 0), until: None }
}

const fn since(name: &'static str, kind: Kind, major: u32, minor: u32) -> Field {
    Field { name, kind, since: (major, minor), until: None }
}

const fn between(name: &'static str, kind: Kind, major: u32, minor: u32, until_major: u32, until_minor: u32) -> Field {
    Field { name, kind, since: (major, minor), until: Some((until_major, until_minor)) }
}

/// Service discovery kinds (`<kind>_sd_configs`, and `static_configs`) with the release that
/// added each. Prometheus refuses any other `*_sd_configs` key.
pub const SD_KINDS: &[(&str, Version)] = &[
    ("azure", (2, 0)),
    ("consul", (2, 0)),
    ("digitalocean", (2, 0)),
    ("dns", (2, 0)),
    ("docker", (2, 0)),
    ("dockerswarm", (2, 0)),
    ("ec2", (2, 0)),
    ("eureka", (2, 0)),
    ("file", (2, 0)),
    ("gce", (2, 0)),
    ("hetzner", (2, 0)),
    ("http", (2, 0)),
    ("ionos", (2, 0)),
    ("kubernetes", (2, 0)),
    ("kuma", (2, 0)),
    ("lightsail", (2, 0)),
    ("linode", (2, 0)),
    ("marathon", (2, 0)),
    ("nerve", (2, 0)),
    ("nomad", (2, 0)),
    ("openstack", (2, 0)),
    ("ovhcloud", (2, 0)),
    ("puppetdb", (2, 0)),
    ("scaleway", (2, 0)),
    ("serverset", (2, 0)),
    ("triton", (2, 0)),
    ("uyuni", (2, 0)),
    ("vultr", (2, 0)),
    ("stackit", (3, 5)),
    ("aws", (3, 8)),
    ("ecs", (3, 8)),
    ("msk", (3, 10)),
    ("elasticache", (3, 11)),
    ("rds", (3, 11)),
    ("outscale", (3, 12)),
    ("oci", (3, 14)),
];

/// The service discovery kinds whose fields are checked one by one; the others are only checked
/// for being a kind the deployed version knows.
pub fn sd_fields(kind: &str) -> Option<Fields> {
    Some(match kind {
        "static" => STATIC,
        "file" => FILE_SD,
        "dns" => DNS_SD,
        "http" => HTTP_SD,
        "ec2" => EC2_SD,
        "lightsail" => LIGHTSAIL_SD,
        "consul" => CONSUL_SD,
        "kubernetes" => KUBERNETES_SD,
        _ => return None,
    })
}

/// `static_configs` entries (`targetgroup.Group`).
pub static STATIC: Fields = &[f("targets", Kind::Strings), f("labels", Kind::StrMap)];

use Kind::*;

/// `config.Config`.
pub static TOP: Fields = &[
    f("global", Struct(GLOBAL)),
    f("alerting", Struct(ALERTING)),
    f("rule_files", Strings),
    f("scrape_configs", Structs(SCRAPE)),
    f("storage", Struct(STORAGE)),
    f("tracing", Struct(TRACING)),
    f("remote_write", Structs(REMOTE_WRITE)),
    f("remote_read", Structs(REMOTE_READ)),
    since("scrape_config_files", Strings, 2, 43),
    since("runtime", Struct(RUNTIME), 2, 53),
    since("otlp", Struct(OTLP), 2, 55),
];

/// `config.GlobalConfig`.
pub static GLOBAL: Fields = &[
    f("scrape_interval", Duration),
    f("scrape_timeout", Duration),
    f("evaluation_interval", Duration),
    f("query_log_file", Str),
    f("external_labels", StrMap),
    since("body_size_limit", Size, 2, 45),
    since("sample_limit", Uint, 2, 45),
    since("target_limit", Uint, 2, 45),
    since("label_limit", Uint, 2, 45),
    since("label_name_length_limit", Uint, 2, 45),
    since("label_value_length_limit", Uint, 2, 45),
    since("keep_dropped_targets", Uint, 2, 47),
    since("scrape_protocols", Strings, 2, 49),
    since("rule_query_offset", Duration, 2, 53),
    since("scrape_failure_log_file", Str, 2, 55),
    since("metric_name_validation_scheme", Str, 2, 55),
    since("metric_name_escaping_scheme", Str, 3, 4),
    since("convert_classic_histograms_to_nhcb", Bool, 3, 4),
    since("always_scrape_classic_histograms", Bool, 3, 5),
    since("scrape_native_histograms", Bool, 3, 8),
    since("extra_scrape_metrics", Bool, 3, 10),
];

/// `config.RuntimeConfig`.
pub static RUNTIME: Fields = &[since("gogc", Int, 2, 53)];

/// `config.ScrapeConfig`.
pub static SCRAPE: Fields = &[
    f("job_name", Str),
    f("honor_labels", Bool),
    f("honor_timestamps", Bool),
    f("params", Params),
    f("scrape_interval", Duration),
    f("scrape_timeout", Duration),
    f("metrics_path", Str),
    f("scheme", Str),
    f("body_size_limit", Size),
    f("sample_limit", Uint),
    f("target_limit", Uint),
    f("label_limit", Uint),
    f("label_name_length_limit", Uint),
    f("label_value_length_limit", Uint),
    f("basic_auth", Struct(BASIC_AUTH)),
    f("authorization", Struct(AUTHORIZATION)),
    f("oauth2", Struct(OAUTH2)),
    f("bearer_token", Str),
    f("bearer_token_file", Str),
    f("proxy_url", Url),
    f("proxy_connect_header", Any),
    f("tls_config", Struct(TLS)),
    f("follow_redirects", Bool),
    f("enable_http2", Bool),
    f("relabel_configs", Relabels),
    f("metric_relabel_configs", Relabels),
    since("no_proxy", Str, 2, 43),
    since("proxy_from_environment", Bool, 2, 43),
    between("scrape_classic_histograms", Bool, 2, 45, 3, 0),
    since("native_histogram_bucket_limit", Uint, 2, 45),
    since("keep_dropped_targets", Uint, 2, 47),
    since("track_timestamps_staleness", Bool, 2, 48),
    since("scrape_protocols", Strings, 2, 49),
    since("enable_compression", Bool, 2, 49),
    since("native_histogram_min_bucket_factor", Float, 2, 50),
    between("host", Str, 2, 51, 2, 52),
    since("http_headers", Any, 2, 53),
    since("scrape_failure_log_file", Str, 2, 55),
    since("metric_name_validation_scheme", Str, 2, 55),
    since("fallback_scrape_protocol", Str, 3, 0),
    since("always_scrape_classic_histograms", Bool, 3, 0),
    since("convert_classic_histograms_to_nhcb", Bool, 3, 0),
    since("metric_name_escaping_scheme", Str, 3, 4),
    since("scrape_native_histograms", Bool, 3, 8),
    since("extra_scrape_metrics", Bool, 3, 10),
];

/// `config.StorageConfig`.
pub static STORAGE: Fields = &[f("tsdb", Struct(TSDB)), f("exemplars", Struct(EXEMPLARS))];

/// `config.TSDBConfig`.
pub static TSDB: Fields = &[
    f("out_of_order_time_window", Duration),
    since("retention", Any, 3, 8),
    since("stale_series_compaction_threshold", Float, 3, 10),
    since("chunk_encoding", Any, 3, 13),
];

/// `config.ExemplarsConfig`.
pub static EXEMPLARS: Fields = &[f("max_exemplars", Int)];

/// `config.TracingConfig`.
pub static TRACING: Fields = &[
    f("client_type", Str),
    f("endpoint", Str),
    f("sampling_fraction", Float),
    f("insecure", Bool),
    f("tls_config", Struct(TLS)),
    f("headers", StrMap),
    f("compression", Str),
    f("timeout", Duration),
];

/// `config.AlertingConfig`.
pub static ALERTING: Fields = &[f("alert_relabel_configs", Relabels), f("alertmanagers", Structs(ALERTMANAGER))];

/// `config.AlertmanagerConfig`.
pub static ALERTMANAGER: Fields = &[
    f("basic_auth", Struct(BASIC_AUTH)),
    f("authorization", Struct(AUTHORIZATION)),
    f("oauth2", Struct(OAUTH2)),
    f("bearer_token", Str),
    f("bearer_token_file", Str),
    f("proxy_url", Url),
    f("proxy_connect_header", Any),
    f("tls_config", Struct(TLS)),
    f("follow_redirects", Bool),
    f("enable_http2", Bool),
    f("scheme", Str),
    f("path_prefix", Str),
    f("timeout", Duration),
    f("api_version", Str),
    f("relabel_configs", Relabels),
    since("no_proxy", Str, 2, 43),
    since("proxy_from_environment", Bool, 2, 43),
    since("sigv4", Struct(SIGV4), 2, 48),
    between("host", Str, 2, 51, 2, 52),
    since("alert_relabel_configs", Relabels, 2, 51),
    since("http_headers", Any, 2, 53),
];

/// `config.RemoteWriteConfig`.
pub static REMOTE_WRITE: Fields = &[
    f("url", Url),
    f("remote_timeout", Duration),
    f("headers", StrMap),
    f("write_relabel_configs", Relabels),
    f("name", Str),
    f("send_exemplars", Bool),
    f("send_native_histograms", Bool),
    f("basic_auth", Struct(BASIC_AUTH)),
    f("authorization", Struct(AUTHORIZATION)),
    f("oauth2", Struct(OAUTH2)),
    f("bearer_token", Str),
    f("bearer_token_file", Str),
    f("proxy_url", Url),
    f("proxy_connect_header", Any),
    f("tls_config", Struct(TLS)),
    f("follow_redirects", Bool),
    f("enable_http2", Bool),
    f("queue_config", Struct(QUEUE)),
    f("metadata_config", Struct(METADATA)),
    f("sigv4", Struct(SIGV4)),
    since("no_proxy", Str, 2, 43),
    since("proxy_from_environment", Bool, 2, 43),
    since("azuread", Struct(AZUREAD), 2, 45),
    between("host", Str, 2, 51, 2, 52),
    since("http_headers", Any, 2, 53),
    since("protobuf_message", Str, 2, 54),
    since("google_iam", Struct(GOOGLE_IAM), 2, 55),
    since("round_robin_dns", Bool, 3, 1),
];

/// `config.QueueConfig`.
pub static QUEUE: Fields = &[
    f("capacity", Int),
    f("max_shards", Int),
    f("min_shards", Int),
    f("max_samples_per_send", Int),
    f("batch_send_deadline", Duration),
    f("min_backoff", Duration),
    f("max_backoff", Duration),
    f("retry_on_http_429", Bool),
    since("sample_age_limit", Duration, 2, 50),
];

/// `config.MetadataConfig`.
pub static METADATA: Fields = &[f("send", Bool), f("send_interval", Duration), f("max_samples_per_send", Int)];

/// `config.RemoteReadConfig`.
pub static REMOTE_READ: Fields = &[
    f("url", Url),
    f("remote_timeout", Duration),
    f("headers", StrMap),
    f("read_recent", Bool),
    f("name", Str),
    f("basic_auth", Struct(BASIC_AUTH)),
    f("authorization", Struct(AUTHORIZATION)),
    f("oauth2", Struct(OAUTH2)),
    f("bearer_token", Str),
    f("bearer_token_file", Str),
    f("proxy_url", Url),
    f("proxy_connect_header", Any),
    f("tls_config", Struct(TLS)),
    f("follow_redirects", Bool),
    f("enable_http2", Bool),
    f("required_matchers", StrMap),
    f("filter_external_labels", Bool),
    since("no_proxy", Str, 2, 43),
    since("proxy_from_environment", Bool, 2, 43),
    between("host", Str, 2, 51, 2, 52),
    since("http_headers", Any, 2, 53),
    since("chunked_read_limit", Uint, 2, 55),
];

/// `config.OTLPConfig`.
pub static OTLP: Fields = &[
    since("promote_resource_attributes", Strings, 2, 55),
    since("translation_strategy", Str, 3, 0),
    since("keep_identifying_resource_attributes", Bool, 3, 1),
    since("convert_histograms_to_nhcb", Bool, 3, 4),
    since("promote_all_resource_attributes", Bool, 3, 5),
    since("ignore_resource_attributes", Strings, 3, 5),
    since("promote_scope_metadata", Bool, 3, 6),
    since("label_name_underscore_sanitization", Bool, 3, 8),
    since("label_name_preserve_multiple_underscores", Bool, 3, 8),
];

/// `relabel.Config`.
pub static RELABEL: Fields = &[
    f("source_labels", Strings),
    f("separator", Str),
    f("regex", Str),
    f("modulus", Uint),
    f("target_label", Str),
    f("replacement", Str),
    f("action", Str),
];

/// `config.BasicAuth`.
pub static BASIC_AUTH: Fields = &[
    f("username", Str),
    f("password", Str),
    f("password_file", Str),
    since("username_file", Str, 2, 49),
    since("username_ref", Str, 2, 53),
    since("password_ref", Str, 2, 53),
];

/// `config.Authorization`.
pub static AUTHORIZATION: Fields =
    &[f("type", Str), f("credentials", Str), f("credentials_file", Str), since("credentials_ref", Str, 2, 53)];

/// `config.OAuth2`.
pub static OAUTH2: Fields = &[
    f("client_id", Str),
    f("client_secret", Str),
    f("client_secret_file", Str),
    f("scopes", Strings),
    f("token_url", Str),
    f("endpoint_params", StrMap),
    f("proxy_url", Url),
    f("tls_config", Struct(TLS)),
    since("no_proxy", Str, 2, 43),
    since("proxy_from_environment", Bool, 2, 43),
    since("proxy_connect_header", Any, 2, 43),
    since("client_secret_ref", Str, 2, 53),
    since("client_certificate_key_id", Str, 3, 8),
    since("client_certificate_key", Str, 3, 8),
    since("client_certificate_key_file", Str, 3, 8),
    since("client_certificate_key_ref", Str, 3, 8),
    since("grant_type", Str, 3, 8),
    since("signature_algorithm", Str, 3, 8),
    since("iss", Str, 3, 8),
    since("audience", Str, 3, 8),
    since("claims", Any, 3, 8),
];

/// `config.TLSConfig`.
pub static TLS: Fields = &[
    f("ca_file", Str),
    f("cert_file", Str),
    f("key_file", Str),
    f("server_name", Str),
    f("insecure_skip_verify", Bool),
    f("min_version", Str),
    f("max_version", Str),
    since("ca", Str, 2, 45),
    since("cert", Str, 2, 45),
    since("key", Str, 2, 45),
    since("ca_ref", Str, 2, 53),
    since("cert_ref", Str, 2, 53),
    since("key_ref", Str, 2, 53),
];

/// `sigv4.SigV4Config`.
pub static SIGV4: Fields = &[
    f("region", Str),
    f("access_key", Str),
    f("secret_key", Str),
    f("profile", Str),
    f("role_arn", Str),
    since("use_fips_sts_endpoint", Bool, 3, 1),
    since("service_name", Str, 3, 5),
    since("external_id", Str, 3, 10),
];

/// `azuread.AzureADConfig`.
pub static AZUREAD: Fields = &[
    since("managed_identity", Struct(AZUREAD_MANAGED_IDENTITY), 2, 45),
    since("cloud", Str, 2, 45),
    since("oauth", Struct(AZUREAD_OAUTH), 2, 48),
    since("sdk", Struct(AZUREAD_SDK), 2, 52),
    since("workload_identity", Any, 3, 7),
    since("scope", Str, 3, 9),
    since("certificate", Any, 3, 13),
];

/// `azuread.ManagedIdentityConfig`.
pub static AZUREAD_MANAGED_IDENTITY: Fields = &[since("client_id", Str, 2, 45)];

/// `azuread.OAuthConfig`.
pub static AZUREAD_OAUTH: Fields =
    &[since("client_id", Str, 2, 48), since("client_secret", Str, 2, 48), since("tenant_id", Str, 2, 48)];

/// `azuread.SDKConfig`.
pub static AZUREAD_SDK: Fields = &[since("tenant_id", Str, 2, 52)];

/// `googleiam.Config`.
pub static GOOGLE_IAM: Fields = &[since("credentials_file", Str, 2, 55)];

/// `file.SDConfig`.
pub static FILE_SD: Fields = &[f("files", Strings), f("refresh_interval", Duration)];

/// `dns.SDConfig`.
pub static DNS_SD: Fields = &[f("names", Strings), f("refresh_interval", Duration), f("type", Str), f("port", Int)];

/// `http.SDConfig`.
pub static HTTP_SD: Fields = &[
    f("basic_auth", Struct(BASIC_AUTH)),
    f("authorization", Struct(AUTHORIZATION)),
    f("oauth2", Struct(OAUTH2)),
    f("bearer_token", Str),
    f("bearer_token_file", Str),
    f("proxy_url", Url),
    f("proxy_connect_header", Any),
    f("tls_config", Struct(TLS)),
    f("follow_redirects", Bool),
    f("enable_http2", Bool),
    f("refresh_interval", Duration),
    f("url", Str),
    since("no_proxy", Str, 2, 43),
    since("proxy_from_environment", Bool, 2, 43),
    between("host", Str, 2, 51, 2, 52),
    since("http_headers", Any, 2, 53),
];

/// `aws.EC2SDConfig`.
pub static EC2_SD: Fields = &[
    f("endpoint", Str),
    f("region", Str),
    f("access_key", Str),
    f("secret_key", Str),
    f("profile", Str),
    f("role_arn", Str),
    f("refresh_interval", Duration),
    f("port", Int),
    f("filters", Structs(EC2_FILTER)),
    f("basic_auth", Struct(BASIC_AUTH)),
    f("authorization", Struct(AUTHORIZATION)),
    f("oauth2", Struct(OAUTH2)),
    f("bearer_token", Str),
    f("bearer_token_file", Str),
    f("proxy_url", Url),
    f("proxy_connect_header", Any),
    f("tls_config", Struct(TLS)),
    f("follow_redirects", Bool),
    f("enable_http2", Bool),
    since("no_proxy", Str, 2, 43),
    since("proxy_from_environment", Bool, 2, 43),
    between("host", Str, 2, 51, 2, 52),
    since("http_headers", Any, 2, 53),
    since("external_id", Str, 3, 12),
];

/// `aws.EC2Filter`.
pub static EC2_FILTER: Fields = &[f("name", Str), f("values", Strings)];

/// `aws.LightsailSDConfig`.
pub static LIGHTSAIL_SD: Fields = &[
    f("endpoint", Str),
    f("region", Str),
    f("access_key", Str),
    f("secret_key", Str),
    f("profile", Str),
    f("role_arn", Str),
    f("refresh_interval", Duration),
    f("port", Int),
    f("basic_auth", Struct(BASIC_AUTH)),
    f("authorization", Struct(AUTHORIZATION)),
    f("oauth2", Struct(OAUTH2)),
    f("bearer_token", Str),
    f("bearer_token_file", Str),
    f("proxy_url", Url),
    f("proxy_connect_header", Any),
    f("tls_config", Struct(TLS)),
    f("follow_redirects", Bool),
    f("enable_http2", Bool),
    since("no_proxy", Str, 2, 43),
    since("proxy_from_environment", Bool, 2, 43),
    between("host", Str, 2, 51, 2, 52),
    since("http_headers", Any, 2, 53),
    since("external_id", Str, 3, 12),
];

/// `consul.SDConfig`.
pub static CONSUL_SD: Fields = &[
    f("server", Str),
    f("token", Str),
    f("datacenter", Str),
    f("namespace", Str),
    f("partition", Str),
    f("tag_separator", Str),
    f("scheme", Str),
    f("username", Str),
    f("password", Str),
    f("allow_stale", Bool),
    f("refresh_interval", Duration),
    f("services", Strings),
    f("tags", Strings),
    f("node_meta", StrMap),
    f("basic_auth", Struct(BASIC_AUTH)),
    f("authorization", Struct(AUTHORIZATION)),
    f("oauth2", Struct(OAUTH2)),
    f("bearer_token", Str),
    f("bearer_token_file", Str),
    f("proxy_url", Url),
    f("proxy_connect_header", Any),
    f("tls_config", Struct(TLS)),
    f("follow_redirects", Bool),
    f("enable_http2", Bool),
    since("no_proxy", Str, 2, 43),
    since("proxy_from_environment", Bool, 2, 43),
    since("path_prefix", Str, 2, 45),
    between("host", Str, 2, 51, 2, 52),
    since("http_headers", Any, 2, 53),
    since("filter", Str, 3, 0),
    since("health_filter", Str, 3, 12),
];

/// `kubernetes.SDConfig`.
pub static KUBERNETES_SD: Fields = &[
    f("api_server", Url),
    f("role", Str),
    f("kubeconfig_file", Str),
    f("basic_auth", Struct(BASIC_AUTH)),
    f("authorization", Struct(AUTHORIZATION)),
    f("oauth2", Struct(OAUTH2)),
    f("bearer_token", Str),
    f("bearer_token_file", Str),
    f("proxy_url", Url),
    f("proxy_connect_header", Any),
    f("tls_config", Struct(TLS)),
    f("follow_redirects", Bool),
    f("enable_http2", Bool),
    f("namespaces", Struct(KUBERNETES_NAMESPACES)),
    f("selectors", Structs(KUBERNETES_SELECTOR)),
    f("attach_metadata", Struct(KUBERNETES_ATTACH_METADATA)),
    since("no_proxy", Str, 2, 43),
    since("proxy_from_environment", Bool, 2, 43),
    between("host", Str, 2, 51, 2, 52),
    since("http_headers", Any, 2, 53),
];

/// `kubernetes.NamespaceDiscovery`.
pub static KUBERNETES_NAMESPACES: Fields = &[f("own_namespace", Bool), f("names", Strings)];

/// `kubernetes.SelectorConfig`.
pub static KUBERNETES_SELECTOR: Fields = &[f("role", Str), f("label", Str), f("field", Str)];

/// `kubernetes.AttachMetadataConfig`.
pub static KUBERNETES_ATTACH_METADATA: Fields = &[
    f("node", Bool),
    since("namespace", Bool, 3, 6),
    since("deployment", Bool, 3, 11),
    since("job", Bool, 3, 11),
    since("cronjob", Bool, 3, 11),
];
