//! Which fields each section of `prometheus.yml` has, per Prometheus version. Prometheus decodes
//! its config strictly, so a field the deployed version does not know (a typo, or one from a newer
//! or older release) stops it from loading the config.
//!
//! The tables follow the `yaml:"..."` tags of Prometheus' config structs (config/config.go,
//! model/relabel, discovery/*, storage/remote/{azuread,googleiam}) and of prometheus/common's
//! config/http_config.go and sigv4 at the version each Prometheus release pins, read at every
//! release from v2.42.0 to v3.14.0 (`scripts/prometheus-config-fields.py` prints them again). Inline
//! structs (the HTTP client config) are spelled out in each section that embeds them; a few nested
//! types (TSDB retention, chunk encoding) are `Any`. A field without a version has been there since
//! 2.42 or earlier; a later release than the newest read is judged by the newest.

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
    /// A mapping from any key to a nested section (`http_headers`).
    MapOf(Fields),
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

/// The fields of a service discovery kind (`static` for `static_configs`), every kind of
/// [`SD_KINDS`] included.
pub fn sd_fields(kind: &str) -> Option<Fields> {
    Some(match kind {
        "static" => STATIC,
        "aws" => AWS_SD,
        "azure" => AZURE_SD,
        "consul" => CONSUL_SD,
        "digitalocean" => DIGITALOCEAN_SD,
        "dns" => DNS_SD,
        "docker" => DOCKER_SD,
        "dockerswarm" => DOCKERSWARM_SD,
        "ec2" => EC2_SD,
        "ecs" => ECS_SD,
        "elasticache" => ELASTICACHE_SD,
        "eureka" => EUREKA_SD,
        "file" => FILE_SD,
        "gce" => GCE_SD,
        "hetzner" => HETZNER_SD,
        "http" => HTTP_SD,
        "ionos" => IONOS_SD,
        "kubernetes" => KUBERNETES_SD,
        "kuma" => KUMA_SD,
        "lightsail" => LIGHTSAIL_SD,
        "linode" => LINODE_SD,
        "marathon" => MARATHON_SD,
        "msk" => MSK_SD,
        "nerve" => NERVE_SD,
        "nomad" => NOMAD_SD,
        "oci" => OCI_SD,
        "openstack" => OPENSTACK_SD,
        "outscale" => OUTSCALE_SD,
        "ovhcloud" => OVHCLOUD_SD,
        "puppetdb" => PUPPETDB_SD,
        "rds" => RDS_SD,
        "scaleway" => SCALEWAY_SD,
        "serverset" => SERVERSET_SD,
        "stackit" => STACKIT_SD,
        "triton" => TRITON_SD,
        "uyuni" => UYUNI_SD,
        "vultr" => VULTR_SD,
        _ => return None,
    })
}

/// `static_configs` entries (`targetgroup.Group`).
pub static STATIC: Fields = &[f("targets", Kind::Strings), f("labels", Kind::StrMap)];

use Kind::*;

/// One header of `http_headers` (prometheus/common config/headers.go).
pub static HTTP_HEADER: Fields = &[f("values", Strings), f("secrets", Strings), f("files", Strings)];

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
    since("http_headers", MapOf(HTTP_HEADER), 2, 53),
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
    since("http_headers", MapOf(HTTP_HEADER), 2, 53),
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
    since("http_headers", MapOf(HTTP_HEADER), 2, 53),
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
    since("http_headers", MapOf(HTTP_HEADER), 2, 53),
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
    since("workload_identity", Struct(AZUREAD_WORKLOADIDENTITYCONFIG), 3, 7),
    since("scope", Str, 3, 9),
    since("certificate", Struct(AZUREAD_CERTIFICATECONFIG), 3, 13),
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
    since("http_headers", MapOf(HTTP_HEADER), 2, 53),
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
    since("http_headers", MapOf(HTTP_HEADER), 2, 53),
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
    since("http_headers", MapOf(HTTP_HEADER), 2, 53),
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
    since("http_headers", MapOf(HTTP_HEADER), 2, 53),
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
    since("http_headers", MapOf(HTTP_HEADER), 2, 53),
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

/// `azure.SDConfig`.
pub static AZURE_SD: Fields = &[
    f("environment", Str),
    f("port", Int),
    f("subscription_id", Str),
    f("tenant_id", Str),
    f("client_id", Str),
    f("client_secret", Str),
    f("refresh_interval", Duration),
    f("authentication_method", Str),
    f("resource_group", Str),
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
    since("http_headers", MapOf(HTTP_HEADER), 2, 53),
];

/// `digitalocean.SDConfig`.
pub static DIGITALOCEAN_SD: Fields = &[
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
    f("port", Int),
    since("no_proxy", Str, 2, 43),
    since("proxy_from_environment", Bool, 2, 43),
    between("host", Str, 2, 51, 2, 52),
    since("http_headers", MapOf(HTTP_HEADER), 2, 53),
    since("role", Str, 3, 12),
];

/// `eureka.SDConfig`.
pub static EUREKA_SD: Fields = &[
    f("server", Str),
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
    since("no_proxy", Str, 2, 43),
    since("proxy_from_environment", Bool, 2, 43),
    between("host", Str, 2, 51, 2, 52),
    since("http_headers", MapOf(HTTP_HEADER), 2, 53),
];

/// `gce.SDConfig`.
pub static GCE_SD: Fields = &[
    f("project", Str),
    f("zone", Str),
    f("filter", Str),
    f("refresh_interval", Duration),
    f("port", Int),
    f("tag_separator", Str),
];

/// `hetzner.SDConfig`.
pub static HETZNER_SD: Fields = &[
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
    f("port", Int),
    f("role", Str),
    since("no_proxy", Str, 2, 43),
    since("proxy_from_environment", Bool, 2, 43),
    between("host", Str, 2, 51, 2, 52),
    since("http_headers", MapOf(HTTP_HEADER), 2, 53),
    since("label_selector", Str, 3, 5),
];

/// `ionos.SDConfig`.
pub static IONOS_SD: Fields = &[
    f("datacenter_id", Str),
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
    f("port", Int),
    since("no_proxy", Str, 2, 43),
    since("proxy_from_environment", Bool, 2, 43),
    between("host", Str, 2, 51, 2, 52),
    since("http_headers", MapOf(HTTP_HEADER), 2, 53),
];

/// `linode.SDConfig`.
pub static LINODE_SD: Fields = &[
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
    f("port", Int),
    f("tag_separator", Str),
    since("no_proxy", Str, 2, 43),
    since("proxy_from_environment", Bool, 2, 43),
    between("host", Str, 2, 51, 2, 52),
    since("region", Str, 2, 52),
    since("http_headers", MapOf(HTTP_HEADER), 2, 53),
];

/// `marathon.SDConfig`.
pub static MARATHON_SD: Fields = &[
    f("servers", Strings),
    f("refresh_interval", Duration),
    f("auth_token", Str),
    f("auth_token_file", Str),
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
    since("http_headers", MapOf(HTTP_HEADER), 2, 53),
];

/// `moby.DockerSDConfig`.
pub static DOCKER_SD: Fields = &[
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
    f("host", Str),
    f("port", Int),
    f("filters", Structs(MOBY_FILTER)),
    f("host_networking_host", Str),
    f("refresh_interval", Duration),
    since("no_proxy", Str, 2, 43),
    since("proxy_from_environment", Bool, 2, 43),
    since("http_headers", MapOf(HTTP_HEADER), 2, 53),
    since("match_first_network", Bool, 2, 54),
];

/// `moby.DockerSwarmSDConfig`.
pub static DOCKERSWARM_SD: Fields = &[
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
    f("host", Str),
    f("role", Str),
    f("port", Int),
    f("filters", Structs(MOBY_FILTER)),
    f("refresh_interval", Duration),
    since("no_proxy", Str, 2, 43),
    since("proxy_from_environment", Bool, 2, 43),
    since("http_headers", MapOf(HTTP_HEADER), 2, 53),
];

/// `nomad.SDConfig`.
pub static NOMAD_SD: Fields = &[
    f("allow_stale", Bool),
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
    f("namespace", Str),
    f("refresh_interval", Duration),
    f("region", Str),
    f("server", Str),
    f("tag_separator", Str),
    since("no_proxy", Str, 2, 43),
    since("proxy_from_environment", Bool, 2, 43),
    between("host", Str, 2, 51, 2, 52),
    since("http_headers", MapOf(HTTP_HEADER), 2, 53),
];

/// `openstack.SDConfig`.
pub static OPENSTACK_SD: Fields = &[
    f("identity_endpoint", Str),
    f("username", Str),
    f("userid", Str),
    f("password", Str),
    f("project_name", Str),
    f("project_id", Str),
    f("domain_name", Str),
    f("domain_id", Str),
    f("application_credential_name", Str),
    f("application_credential_id", Str),
    f("application_credential_secret", Str),
    f("role", Str),
    f("region", Str),
    f("refresh_interval", Duration),
    f("port", Int),
    f("all_tenants", Bool),
    f("tls_config", Struct(TLS)),
    f("availability", Str),
];

/// `ovhcloud.SDConfig`.
pub static OVHCLOUD_SD: Fields = &[
    f("endpoint", Str),
    f("application_key", Str),
    f("application_secret", Str),
    f("consumer_key", Str),
    f("refresh_interval", Duration),
    f("service", Str),
];

/// `puppetdb.SDConfig`.
pub static PUPPETDB_SD: Fields = &[
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
    f("query", Str),
    f("include_parameters", Bool),
    f("port", Int),
    since("no_proxy", Str, 2, 43),
    since("proxy_from_environment", Bool, 2, 43),
    between("host", Str, 2, 51, 2, 52),
    since("http_headers", MapOf(HTTP_HEADER), 2, 53),
];

/// `scaleway.SDConfig`.
pub static SCALEWAY_SD: Fields = &[
    f("project_id", Str),
    f("api_url", Str),
    f("zone", Str),
    f("access_key", Str),
    f("secret_key", Str),
    f("secret_key_file", Str),
    f("name_filter", Str),
    f("tags_filter", Strings),
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
    f("port", Int),
    f("role", Str),
    since("no_proxy", Str, 2, 43),
    since("proxy_from_environment", Bool, 2, 43),
    between("host", Str, 2, 51, 2, 52),
    since("http_headers", MapOf(HTTP_HEADER), 2, 53),
];

/// `triton.SDConfig`.
pub static TRITON_SD: Fields = &[
    f("account", Str),
    f("role", Str),
    f("dns_suffix", Str),
    f("endpoint", Str),
    f("groups", Strings),
    f("port", Int),
    f("refresh_interval", Duration),
    f("tls_config", Struct(TLS)),
    f("version", Int),
];

/// `uyuni.SDConfig`.
pub static UYUNI_SD: Fields = &[
    f("server", Str),
    f("username", Str),
    f("password", Str),
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
    f("entitlement", Str),
    f("separator", Str),
    f("refresh_interval", Duration),
    since("no_proxy", Str, 2, 43),
    since("proxy_from_environment", Bool, 2, 43),
    between("host", Str, 2, 51, 2, 52),
    since("http_headers", MapOf(HTTP_HEADER), 2, 53),
];

/// `vultr.SDConfig`.
pub static VULTR_SD: Fields = &[
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
    f("port", Int),
    since("no_proxy", Str, 2, 43),
    since("proxy_from_environment", Bool, 2, 43),
    between("host", Str, 2, 51, 2, 52),
    since("http_headers", MapOf(HTTP_HEADER), 2, 53),
];

/// `xds.SDConfig`.
pub static KUMA_SD: Fields = &[
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
    f("fetch_timeout", Duration),
    f("server", Str),
    since("no_proxy", Str, 2, 43),
    since("proxy_from_environment", Bool, 2, 43),
    since("client_id", Str, 2, 50),
    between("host", Str, 2, 51, 2, 52),
    since("http_headers", MapOf(HTTP_HEADER), 2, 53),
];

/// `zookeeper.ServersetSDConfig`.
pub static SERVERSET_SD: Fields = &[f("servers", Strings), f("paths", Strings), f("timeout", Duration)];

/// `zookeeper.NerveSDConfig`.
pub static NERVE_SD: Fields = &[f("servers", Strings), f("paths", Strings), f("timeout", Duration)];

/// `stackit.SDConfig`.
pub static STACKIT_SD: Fields = &[
    since("basic_auth", Struct(BASIC_AUTH), 3, 5),
    since("authorization", Struct(AUTHORIZATION), 3, 5),
    since("oauth2", Struct(OAUTH2), 3, 5),
    since("bearer_token", Str, 3, 5),
    since("bearer_token_file", Str, 3, 5),
    since("tls_config", Struct(TLS), 3, 5),
    since("follow_redirects", Bool, 3, 5),
    since("enable_http2", Bool, 3, 5),
    since("proxy_url", Url, 3, 5),
    since("no_proxy", Str, 3, 5),
    since("proxy_from_environment", Bool, 3, 5),
    since("proxy_connect_header", Any, 3, 5),
    since("http_headers", MapOf(HTTP_HEADER), 3, 5),
    since("project", Str, 3, 5),
    since("refresh_interval", Duration, 3, 5),
    since("port", Int, 3, 5),
    since("region", Str, 3, 5),
    since("endpoint", Str, 3, 5),
    since("service_account_key", Str, 3, 5),
    since("private_key", Str, 3, 5),
    since("service_account_key_path", Str, 3, 5),
    since("private_key_path", Str, 3, 5),
    since("credentials_file_path", Str, 3, 5),
];

/// `aws.SDConfig`.
pub static AWS_SD: Fields = &[
    since("role", Str, 3, 8),
    since("region", Str, 3, 8),
    since("endpoint", Str, 3, 8),
    since("access_key", Str, 3, 8),
    since("secret_key", Str, 3, 8),
    since("profile", Str, 3, 8),
    since("role_arn", Str, 3, 8),
    since("refresh_interval", Duration, 3, 8),
    since("port", Int, 3, 8),
    since("basic_auth", Struct(BASIC_AUTH), 3, 8),
    since("authorization", Struct(AUTHORIZATION), 3, 8),
    since("oauth2", Struct(OAUTH2), 3, 8),
    since("bearer_token", Str, 3, 8),
    since("bearer_token_file", Str, 3, 8),
    since("tls_config", Struct(TLS), 3, 8),
    since("follow_redirects", Bool, 3, 8),
    since("enable_http2", Bool, 3, 8),
    since("proxy_url", Url, 3, 8),
    since("no_proxy", Str, 3, 8),
    since("proxy_from_environment", Bool, 3, 8),
    since("proxy_connect_header", Any, 3, 8),
    since("http_headers", MapOf(HTTP_HEADER), 3, 8),
    since("filters", Structs(EC2_FILTER), 3, 8),
    since("clusters", Strings, 3, 8),
    since("external_id", Str, 3, 12),
];

/// `aws.ECSSDConfig`.
pub static ECS_SD: Fields = &[
    since("region", Str, 3, 8),
    since("endpoint", Str, 3, 8),
    since("access_key", Str, 3, 8),
    since("secret_key", Str, 3, 8),
    since("profile", Str, 3, 8),
    since("role_arn", Str, 3, 8),
    since("clusters", Strings, 3, 8),
    since("port", Int, 3, 8),
    since("refresh_interval", Duration, 3, 8),
    since("request_concurrency", Int, 3, 8),
    since("basic_auth", Struct(BASIC_AUTH), 3, 8),
    since("authorization", Struct(AUTHORIZATION), 3, 8),
    since("oauth2", Struct(OAUTH2), 3, 8),
    since("bearer_token", Str, 3, 8),
    since("bearer_token_file", Str, 3, 8),
    since("tls_config", Struct(TLS), 3, 8),
    since("follow_redirects", Bool, 3, 8),
    since("enable_http2", Bool, 3, 8),
    since("proxy_url", Url, 3, 8),
    since("no_proxy", Str, 3, 8),
    since("proxy_from_environment", Bool, 3, 8),
    since("proxy_connect_header", Any, 3, 8),
    since("http_headers", MapOf(HTTP_HEADER), 3, 8),
    since("external_id", Str, 3, 12),
];

/// `aws.MSKSDConfig`.
pub static MSK_SD: Fields = &[
    since("region", Str, 3, 10),
    since("endpoint", Str, 3, 10),
    since("access_key", Str, 3, 10),
    since("secret_key", Str, 3, 10),
    since("profile", Str, 3, 10),
    since("role_arn", Str, 3, 10),
    since("clusters", Strings, 3, 10),
    since("port", Int, 3, 10),
    since("refresh_interval", Duration, 3, 10),
    since("request_concurrency", Int, 3, 10),
    since("basic_auth", Struct(BASIC_AUTH), 3, 10),
    since("authorization", Struct(AUTHORIZATION), 3, 10),
    since("oauth2", Struct(OAUTH2), 3, 10),
    since("bearer_token", Str, 3, 10),
    since("bearer_token_file", Str, 3, 10),
    since("tls_config", Struct(TLS), 3, 10),
    since("follow_redirects", Bool, 3, 10),
    since("enable_http2", Bool, 3, 10),
    since("proxy_url", Url, 3, 10),
    since("no_proxy", Str, 3, 10),
    since("proxy_from_environment", Bool, 3, 10),
    since("proxy_connect_header", Any, 3, 10),
    since("http_headers", MapOf(HTTP_HEADER), 3, 10),
    since("external_id", Str, 3, 12),
];

/// `aws.ElasticacheSDConfig`.
pub static ELASTICACHE_SD: Fields = &[
    since("region", Str, 3, 11),
    since("endpoint", Str, 3, 11),
    since("access_key", Str, 3, 11),
    since("secret_key", Str, 3, 11),
    since("profile", Str, 3, 11),
    since("role_arn", Str, 3, 11),
    since("clusters", Strings, 3, 11),
    since("port", Int, 3, 11),
    since("refresh_interval", Duration, 3, 11),
    since("request_concurrency", Int, 3, 11),
    since("basic_auth", Struct(BASIC_AUTH), 3, 11),
    since("authorization", Struct(AUTHORIZATION), 3, 11),
    since("oauth2", Struct(OAUTH2), 3, 11),
    since("bearer_token", Str, 3, 11),
    since("bearer_token_file", Str, 3, 11),
    since("tls_config", Struct(TLS), 3, 11),
    since("follow_redirects", Bool, 3, 11),
    since("enable_http2", Bool, 3, 11),
    since("proxy_url", Url, 3, 11),
    since("no_proxy", Str, 3, 11),
    since("proxy_from_environment", Bool, 3, 11),
    since("proxy_connect_header", Any, 3, 11),
    since("http_headers", MapOf(HTTP_HEADER), 3, 11),
    since("external_id", Str, 3, 12),
];

/// `aws.RDSSDConfig`.
pub static RDS_SD: Fields = &[
    since("region", Str, 3, 11),
    since("endpoint", Str, 3, 11),
    since("access_key", Str, 3, 11),
    since("secret_key", Str, 3, 11),
    since("profile", Str, 3, 11),
    since("role_arn", Str, 3, 11),
    since("clusters", Strings, 3, 11),
    since("port", Int, 3, 11),
    since("refresh_interval", Duration, 3, 11),
    since("request_concurrency", Int, 3, 11),
    since("basic_auth", Struct(BASIC_AUTH), 3, 11),
    since("authorization", Struct(AUTHORIZATION), 3, 11),
    since("oauth2", Struct(OAUTH2), 3, 11),
    since("bearer_token", Str, 3, 11),
    since("bearer_token_file", Str, 3, 11),
    since("tls_config", Struct(TLS), 3, 11),
    since("follow_redirects", Bool, 3, 11),
    since("enable_http2", Bool, 3, 11),
    since("proxy_url", Url, 3, 11),
    since("no_proxy", Str, 3, 11),
    since("proxy_from_environment", Bool, 3, 11),
    since("proxy_connect_header", Any, 3, 11),
    since("http_headers", MapOf(HTTP_HEADER), 3, 11),
    since("external_id", Str, 3, 12),
    since("filters", Structs(EC2_FILTER), 3, 13),
];

/// `outscale.SDConfig`.
pub static OUTSCALE_SD: Fields = &[
    since("endpoint", Str, 3, 12),
    since("region", Str, 3, 12),
    since("access_key", Str, 3, 12),
    since("secret_key", Str, 3, 12),
    since("secret_key_file", Str, 3, 12),
    since("refresh_interval", Duration, 3, 12),
    since("port", Int, 3, 12),
    since("basic_auth", Struct(BASIC_AUTH), 3, 12),
    since("authorization", Struct(AUTHORIZATION), 3, 12),
    since("oauth2", Struct(OAUTH2), 3, 12),
    since("bearer_token", Str, 3, 12),
    since("bearer_token_file", Str, 3, 12),
    since("tls_config", Struct(TLS), 3, 12),
    since("follow_redirects", Bool, 3, 12),
    since("enable_http2", Bool, 3, 12),
    since("proxy_url", Url, 3, 12),
    since("no_proxy", Str, 3, 12),
    since("proxy_from_environment", Bool, 3, 12),
    since("proxy_connect_header", Any, 3, 12),
    since("http_headers", MapOf(HTTP_HEADER), 3, 12),
];

/// `oci.SDConfig`.
pub static OCI_SD: Fields = &[
    since("auth", Str, 3, 14),
    since("tenancy", Str, 3, 14),
    since("user", Str, 3, 14),
    since("fingerprint", Str, 3, 14),
    since("key_file", Str, 3, 14),
    since("key_passphrase", Str, 3, 14),
    since("key_passphrase_file", Str, 3, 14),
    since("region", Str, 3, 14),
    since("compartments", Strings, 3, 14),
    since("basic_auth", Struct(BASIC_AUTH), 3, 14),
    since("authorization", Struct(AUTHORIZATION), 3, 14),
    since("oauth2", Struct(OAUTH2), 3, 14),
    since("bearer_token", Str, 3, 14),
    since("bearer_token_file", Str, 3, 14),
    since("tls_config", Struct(TLS), 3, 14),
    since("follow_redirects", Bool, 3, 14),
    since("enable_http2", Bool, 3, 14),
    since("proxy_url", Url, 3, 14),
    since("no_proxy", Str, 3, 14),
    since("proxy_from_environment", Bool, 3, 14),
    since("proxy_connect_header", Any, 3, 14),
    since("http_headers", MapOf(HTTP_HEADER), 3, 14),
    since("port", Int, 3, 14),
    since("refresh_interval", Duration, 3, 14),
];

/// `azuread.WorkloadIdentityConfig`.
pub static AZUREAD_WORKLOADIDENTITYCONFIG: Fields =
    &[since("client_id", Str, 3, 7), since("tenant_id", Str, 3, 7), since("token_file_path", Str, 3, 7)];

/// `azuread.CertificateConfig`.
pub static AZUREAD_CERTIFICATECONFIG: Fields = &[
    since("client_id", Str, 3, 13),
    since("tenant_id", Str, 3, 13),
    since("certificate_path", Str, 3, 13),
    since("certificate_key_path", Str, 3, 13),
    since("certificate_password", Str, 3, 13),
    since("send_certificate_chain", Bool, 3, 13),
];

/// `moby.Filter`.
pub static MOBY_FILTER: Fields = &[f("name", Str), f("values", Strings)];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_discovery_kind_has_its_fields() {
        for (kind, _) in SD_KINDS {
            let fields = sd_fields(kind).unwrap_or_else(|| panic!("{kind} has no fields"));
            assert!(!fields.is_empty(), "{kind}");
        }
        assert!(sd_fields("static").is_some() && sd_fields("foo").is_none());
    }

    #[test]
    fn fields_know_their_releases() {
        let field = |fields: Fields, name: &str| *fields.iter().find(|f| f.name == name).unwrap();
        let classic = field(SCRAPE, "scrape_classic_histograms");
        assert!(!classic.known_in((2, 44)) && classic.known_in((2, 45)) && classic.known_in((2, 55)));
        assert!(!classic.known_in((3, 0)));
        let no_proxy = field(SCRAPE, "no_proxy");
        assert!(!no_proxy.known_in((2, 42)) && no_proxy.known_in((2, 43)) && no_proxy.known_in((3, 16)));
        assert!(field(GLOBAL, "scrape_interval").known_in((2, 0)));
    }
}
