#!/usr/bin/env python3
"""Checks the workspace's `rust-version` against what the lockfile's dependencies
of the two published crates need (their own `rust-version`s), for the default
features and for each feature that states no floor of its own.

Features that need more than the crate's floor say so in FEATURE_FLOORS (and
in sse-runtime/Cargo.toml and the README): the check fails if the dependencies
need more than that, or if a floor is stated higher than needed."""

import json
import subprocess
import sys

# Features whose dependencies need a newer Rust than the crates themselves.
FEATURE_FLOORS = {"redis": (1, 88)}


def version(text):
    return tuple(int(part) for part in (text or "0").split(".")[:2])


def floor(metadata, package, features):
    args = ["cargo", "tree", "-p", package, "-e", "normal,build", "--prefix", "none",
            "-f", "{p}", "--target", "all"]
    if features:
        args += ["--features", features]
    tree = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    needs = {}
    for line in tree.splitlines():
        parts = line.split()
        # The crates themselves state the floor being checked.
        if len(parts) >= 2 and parts[1].startswith("v") and not parts[0].startswith("sse-"):
            key = (parts[0], parts[1][1:])
            needs[key] = version(metadata.get(key))
    worst = max(needs.items(), key=lambda item: item[1])
    return worst[1], worst[0]


def main():
    meta = json.loads(subprocess.run(["cargo", "metadata", "--format-version", "1"],
                                     capture_output=True, text=True, check=True).stdout)
    rust_versions = {(p["name"], p["version"]): p.get("rust_version") for p in meta["packages"]}
    stated = {p["name"]: version(p.get("rust_version")) for p in meta["packages"]
              if p["name"] in ("sse-runtime", "sse-macros")}
    failed = False
    checks = [("sse-macros", ""), ("sse-runtime", ""), ("sse-runtime", "tls"),
              ("sse-runtime", "client")]
    checks += [("sse-runtime", feature) for feature in FEATURE_FLOORS]
    for package, feature in checks:
        needed, (name, ver) = floor(rust_versions, package, feature)
        allowed = FEATURE_FLOORS.get(feature, stated[package])
        label = f"{package}{' +' + feature if feature else ''}"
        print(f"{label}: needs {needed[0]}.{needed[1]} ({name} {ver}), states {allowed[0]}.{allowed[1]}")
        if needed > allowed:
            print(f"  rust-version is lower than {name} {ver} needs", file=sys.stderr)
            failed = True
        if feature in FEATURE_FLOORS and needed < allowed:
            print(f"  the {feature} feature's stated floor is higher than needed", file=sys.stderr)
            failed = True
    # The crates' own floor is the highest of their default and plain features.
    for package, own in stated.items():
        highest = max(floor(rust_versions, package, f)[0] for p, f in checks
                      if p == package and f not in FEATURE_FLOORS)
        if own > highest:
            print(f"{package} states {own[0]}.{own[1]} but needs only {highest[0]}.{highest[1]}",
                  file=sys.stderr)
            failed = True
    sys.exit(1 if failed else 0)


main()
