#!/usr/bin/env python3
"""Checks that every cargo command the project runs resolves the same dependency features.

Cargo enables a dependency's features from the packages a command selects. When `cargo run -p X`
resolves other features than `cargo test --workspace --all-features`, it compiles the AWS SDK a
second time. shared/workspace-hack pins the union; this script compares, with `cargo tree` (no
build, a few seconds), the features each command below would use against the reference build
(`make test`'s), and prints what to add to shared/workspace-hack/Cargo.toml when they differ.
Exit 0 when all agree, 1 otherwise.
"""

import collections
import subprocess
import sys

HOST = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True).stdout
TARGET = next(line.split()[1] for line in HOST.splitlines() if line.startswith("host:"))

MEMBERS = ["promstack-shared", "cloudwatch-exporter", "config-updater", "ecs-discovery"]
FUNCTIONS = ["cloudwatch-exporter", "config-updater", "ecs-discovery"]

# What `make test`, `make lint` and `cargo test --workspace --all-features` build.
REFERENCE = ["--workspace", "--all-features", "-e", "normal,build,dev"]
# What a developer, `make demo` and `cargo lambda` run.
COMMANDS = {
    **{f"cargo build -p {m}": ["-p", m, "-e", "normal,build"] for m in MEMBERS},
    **{f"cargo test -p {m}": ["-p", m, "-e", "normal,build,dev"] for m in MEMBERS},
    **{
        f"cargo test --test {f.replace('-', '_')} -F {f}": ["-p", "promstack-integration", "-F", f, "-e", "normal,build,dev"]
        for f in FUNCTIONS
    },
    "cargo test -p promstack-integration": ["-p", "promstack-integration", "-e", "normal,build,dev"],
    "cargo build --workspace --all-features": ["--workspace", "--all-features", "-e", "normal,build"],
    "cargo build --workspace": ["--workspace", "-e", "normal,build"],
}


def features(args):
    """{"name vX.Y.Z": {"feature,feature", ...}} for every registry package the selection builds
    (a package built for the host and the target with different features has two entries)."""
    out = subprocess.run(
        ["cargo", "tree", "--locked", "--prefix", "none", "--format", "{p} [{f}]", "--target", TARGET, *args],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        sys.exit(f"cargo tree {' '.join(args)} failed:\n{out.stderr}")
    found = collections.defaultdict(set)
    for line in out.stdout.splitlines():
        line = line.replace(" (*)", "").replace(" (proc-macro)", "").strip()
        if not line:
            continue
        package, feats = line.split(" [", 1)
        if "(" in package:  # a workspace member (`name vX (/path)`): its features are its own
            continue
        found[package].add(feats.rstrip("]"))
    return found


def dependency_line(package, feature_sets):
    name, version = package.split(" ")
    feats = {f for fs in feature_sets for f in fs.split(",") if f}
    default = "default" in feats
    feats.discard("default")
    listed = ", ".join(f'"{f}"' for f in sorted(feats))
    return f'{name} = {{ version = "{version.lstrip("v")}", default-features = {str(default).lower()}, features = [{listed}] }}'


def main():
    reference = features(REFERENCE)
    target_only = features(["--workspace", "--all-features", "-e", "normal,dev,no-proc-macro"])
    differ = set()
    for command, args in COMMANDS.items():
        got = features(args)
        bad = sorted(p for p in got if got[p] != reference.get(p))
        for p in bad:
            print(f"{command}: {p} would be built with {sorted(got[p])}, `make test` builds {sorted(reference.get(p, []))}")
        differ.update(bad)
    if not differ:
        print(f"feature sets: {len(COMMANDS)} commands resolve the same features as `make test`")
        return 0
    print("\nAdd to shared/workspace-hack/Cargo.toml, under [dependencies]:")
    for p in sorted(differ):
        if target_only.get(p):
            print("  " + dependency_line(p, target_only[p]))
    print("and under [build-dependencies] (host):")
    for p in sorted(differ):
        host = reference.get(p, set()) - target_only.get(p, set())
        if host:
            print("  " + dependency_line(p, host))
    return 1


if __name__ == "__main__":
    sys.exit(main())
