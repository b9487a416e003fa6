#!/usr/bin/env python3
"""Prints the field tables of functions/config-updater/src/validate/schema.rs (everything from
`/// `config.Config`.` up to its tests): the `yaml:"..."` tags of Prometheus' config structs and of
the prometheus/common and sigv4 versions each release pins, read at every minor release from v2.42.0
to the newest tag, with the release that added or removed each field.

usage: scripts/prometheus-config-fields.py PROMETHEUS_GIT COMMON_GIT SIGV4_GIT > tables.rs
(git dirs of prometheus/prometheus, prometheus/common and prometheus/sigv4, with their tags), then
`rustfmt` the result and paste it over the tables.
"""
import re
import subprocess
import sys

PROMETHEUS, COMMON, SIGV4 = sys.argv[1:4]
FIRST = (2, 42)


def git(repo, *args):
    r = subprocess.run(["git", "--git-dir=" + repo, *args], capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else None


def version(tag):
    return tuple(int(n) for n in tag[1:].split(".")[:2])


def structs(src, pkg):
    """`pkg.Struct` -> [(yaml key or '..inline', Go type)] for every struct in `src`."""
    found = {}
    for m in re.finditer(r"^type (\w+) struct \{[^\n]*\n(.*?)^\}", src or "", re.M | re.S):
        fields = []
        for line in m.group(2).split("\n"):
            line = line.strip()
            tag = re.search(r'yaml:"([^"]*)"', line)
            if line.startswith("//") or not tag:
                continue
            name, *options = tag.group(1).split(",")
            if name == "-":
                continue
            parts = line.split("`")[0].split()
            go_type = parts[1] if len(parts) >= 2 else parts[0]
            fields.append(("..inline" if "inline" in options else name, go_type))
        found[pkg + "." + m.group(1)] = fields
    return found


def nearest_tag(repo, wanted):
    """`wanted` if the repo has it, else the newest tag before it."""
    if git(repo, "rev-parse", "-q", "--verify", wanted + "^{commit}"):
        return wanted
    tags = [t for t in git(repo, "tag").split() if re.fullmatch(r"v0\.\d+\.\d+", t)]
    key = lambda t: tuple(int(n) for n in t[1:].split("."))
    return max((t for t in tags if key(t) <= key(wanted)), key=key)


CONFIG_FILES = {
    "config/config.go",
    "model/relabel/relabel.go",
    "storage/remote/azuread/azuread.go",
    "storage/remote/googleiam/googleiam.go",
}
minors = sorted({version(t) for t in git(PROMETHEUS, "tag").split() if re.fullmatch(r"v\d+\.\d+\.0", t)})
TAGS = ["v%d.%d.0" % v for v in minors if v >= FIRST]

FIELDS = {}  # tag -> struct -> fields
SD_NAMES = {}  # tag -> SD kind -> struct
for tag in TAGS:
    found, names = {}, {}
    for path in git(PROMETHEUS, "ls-tree", "-r", "--name-only", tag).split("\n"):
        if not path.endswith(".go") or path.endswith("_test.go"):
            continue
        if not (path.startswith("discovery/") or path in CONFIG_FILES):
            continue
        src = git(PROMETHEUS, "show", tag + ":" + path)
        pkg = path.split("/")[-2]
        found.update(structs(src, pkg))
        for m in re.finditer(r'func \((?:\w+ )?\*?(\w+)\) Name\(\) string \{\s*return "(\w+)"', src):
            names[m.group(2)] = pkg + "." + m.group(1)
    gomod = git(PROMETHEUS, "show", tag + ":go.mod")
    common = re.search(r"github.com/prometheus/common (v[\d.]+)", gomod).group(1)
    for path in ["config/http_config.go", "config/headers.go"]:
        found.update(structs(git(COMMON, "show", nearest_tag(COMMON, common) + ":" + path), "config"))
    sigv4 = re.search(r"github.com/prometheus/sigv4 (v[\d.]+)", gomod)
    if sigv4:
        found.update(structs(git(SIGV4, "show", sigv4.group(1) + ":sigv4_config.go"), "sigv4"))
    else:
        old = re.search(r"github.com/prometheus/common/sigv4 (v[\d.]+)", gomod).group(1)
        found.update(structs(git(COMMON, "show", "sigv4/" + old + ":sigv4/sigv4_config.go"), "sigv4"))
    if "aws.EC2Filter" not in found and "aws.Filter" in found:
        found["aws.EC2Filter"] = found["aws.Filter"]  # renamed in 3.13
    FIELDS[tag], SD_NAMES[tag] = found, names

# Go struct -> table name in schema.rs; structs they reference are added as they are met.
TABLES = {
    "config.Config": "TOP", "config.GlobalConfig": "GLOBAL", "config.RuntimeConfig": "RUNTIME",
    "config.ScrapeConfig": "SCRAPE", "config.StorageConfig": "STORAGE", "config.TSDBConfig": "TSDB",
    "config.ExemplarsConfig": "EXEMPLARS", "config.TracingConfig": "TRACING", "config.AlertingConfig": "ALERTING",
    "config.AlertmanagerConfig": "ALERTMANAGER", "config.RemoteWriteConfig": "REMOTE_WRITE",
    "config.QueueConfig": "QUEUE", "config.MetadataConfig": "METADATA", "config.RemoteReadConfig": "REMOTE_READ",
    "config.OTLPConfig": "OTLP", "relabel.Config": "RELABEL", "config.BasicAuth": "BASIC_AUTH",
    "config.Authorization": "AUTHORIZATION", "config.OAuth2": "OAUTH2", "config.TLSConfig": "TLS",
    "sigv4.SigV4Config": "SIGV4", "azuread.AzureADConfig": "AZUREAD",
    "azuread.ManagedIdentityConfig": "AZUREAD_MANAGED_IDENTITY", "azuread.OAuthConfig": "AZUREAD_OAUTH",
    "azuread.SDKConfig": "AZUREAD_SDK", "googleiam.Config": "GOOGLE_IAM", "file.SDConfig": "FILE_SD",
    "dns.SDConfig": "DNS_SD", "http.SDConfig": "HTTP_SD", "aws.EC2SDConfig": "EC2_SD", "aws.EC2Filter": "EC2_FILTER",
    "aws.LightsailSDConfig": "LIGHTSAIL_SD", "consul.SDConfig": "CONSUL_SD", "kubernetes.SDConfig": "KUBERNETES_SD",
    "kubernetes.NamespaceDiscovery": "KUBERNETES_NAMESPACES", "kubernetes.SelectorConfig": "KUBERNETES_SELECTOR",
    "kubernetes.AttachMetadataConfig": "KUBERNETES_ATTACH_METADATA",
}
for tag in TAGS:
    for kind, struct in SD_NAMES[tag].items():
        if kind == "static":
            continue
        if not any(struct in FIELDS[t] for t in TAGS):
            struct = struct.split(".")[0] + ".SDConfig"  # a type alias (xds.KumaSDConfig)
        TABLES.setdefault(struct, kind.upper() + "_SD")

KINDS = {
    "model.Duration": "Duration", "*model.Duration": "Duration", "bool": "Bool", "*bool": "Bool",
    "int": "Int", "int32": "Int", "int64": "Int", "uint": "Uint", "uint64": "Uint", "float64": "Float",
    "string": "Str", "Secret": "Str", "config.Secret": "Str", "config_util.Secret": "Str", "TLSVersion": "Str",
    "ScrapeProtocol": "Str", "AlertmanagerAPIVersion": "Str", "TracingClientType": "Str",
    "RemoteWriteProtoMsg": "Str", "translationStrategyOption": "Str", "Role": "Str", "role": "Str", "Action": "Str",
    "Regexp": "Str", "otlptranslator.TranslationStrategyOption": "Str", "remoteapi.WriteMessageType": "Str",
    "[]string": "Strings", "[]ScrapeProtocol": "Strings", "model.LabelNames": "Strings",
    "map[string]string": "StrMap", "labels.Labels": "StrMap", "model.LabelSet": "StrMap", "url.Values": "Params",
    "*config.URL": "Url", "config.URL": "Url", "URL": "Url", "*URL": "Url", "units.Base2Bytes": "Size",
    "[]*relabel.Config": "Relabels", "[]*Filter": "Structs(EC2_FILTER)", "*Headers": "MapOf(HTTP_HEADER)",
    "Header": "Any", "ProxyHeader": "Any", "map[string]any": "Any", "map[string]interface{}": "Any",
}
queue = list(TABLES)


def kind(pkg, go_type):
    if go_type in KINDS:
        return KINDS[go_type]
    many = go_type.startswith("[]")
    name = go_type.lstrip("[]*")
    name = name if "." in name else pkg + "." + name
    if name.endswith(".AlertmanagerConfigs"):
        return "Structs(ALERTMANAGER)"
    if name not in TABLES and not name.startswith("config.") and any(name in FIELDS[t] for t in TAGS):
        TABLES[name] = name.replace(".", "_").upper()
        queue.append(name)
    if name in TABLES:
        return ("Structs(%s)" if many else "Struct(%s)") % TABLES[name]
    return "Any"


def flat(struct, tag):
    """The struct's fields at `tag`, inline structs spelled out."""
    fields = []
    pkg = struct.split(".")[0]
    for name, go_type in FIELDS[tag].get(struct) or []:
        if name == "..inline":
            inner = go_type.lstrip("*").replace("config_util.", "config.")
            fields += flat(inner if "." in inner else pkg + "." + inner, tag)
        else:
            fields.append((name, kind(pkg, go_type)))
    return fields


while queue:
    struct = queue.pop(0)
    first_kind, present = {}, {}
    for tag in TAGS:
        for name, k in flat(struct, tag):
            present.setdefault(name, [])
            if tag not in present[name]:
                present[name].append(tag)
            first_kind.setdefault(name, k)
    print("/// `%s`.\npub static %s: Fields = &[" % (struct, TABLES[struct]))
    for name, k in first_kind.items():
        tags = present[name]
        since = (2, 0) if tags[0] == TAGS[0] else version(tags[0])
        last = TAGS.index(tags[-1])
        until = version(TAGS[last + 1]) if last + 1 < len(TAGS) else None
        if until is None and since == (2, 0):
            print('    f("%s", %s),' % (name, k))
        elif until is None:
            print('    since("%s", %s, %d, %d),' % (name, k, *since))
        else:
            print('    between("%s", %s, %d, %d, %d, %d),' % (name, k, *since, *until))
    print("];\n")
