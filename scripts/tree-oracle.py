#!/usr/bin/env python3
"""Regenerates offline oracle fixtures for dependency resolution (fixtures/tree/oracle).

For each spec: `npm install --package-lock-only --ignore-scripts <spec>` into an empty project
(`{}`) writes locks/<file>.json; then the abbreviated packument of every package that lockfile
names is fetched from the npm registry and trimmed to what resolution reads.

Usage: scripts/tree-oracle.py SPEC [SPEC...]   (needs node, npm and the npm registry)
"""
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "tree", "oracle")
REGISTRY = "https://registry.npmjs.org/"
ACCEPT = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
KEEP = ["name", "version", "dependencies", "optionalDependencies", "peerDependencies",
        "peerDependenciesMeta", "bundleDependencies", "bundledDependencies", "deprecated",
        "engines", "_hasShrinkwrap"]


def file_name(spec):
    return spec.replace("@", "_", 1) if spec.startswith("@") else spec


def lock_of(spec):
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "package.json"), "w") as f:
            f.write("{}")
        subprocess.run(["npm", "install", "--package-lock-only", "--ignore-scripts",
                        "--no-audit", "--no-fund", spec], cwd=d, check=True,
                       stdout=subprocess.DEVNULL)
        with open(os.path.join(d, "package-lock.json")) as f:
            return json.load(f)


def names(lock):
    out = set()
    for k, v in lock["packages"].items():
        if not k:
            continue
        out.add(v.get("name") or k.rsplit("node_modules/", 1)[1])
    return out


def packument(name):
    path = os.path.join(OUT, "packuments", name.replace("/", "%2f") + ".json")
    if os.path.exists(path):
        return
    req = urllib.request.Request(REGISTRY + name.replace("/", "%2f"), headers={"Accept": ACCEPT})
    with urllib.request.urlopen(req) as r:
        doc = json.load(r)
    trimmed = {
        "name": doc.get("name"),
        "dist-tags": doc.get("dist-tags", {}),
        "versions": {v: {k: m[k] for k in KEEP if k in m}
                     for v, m in doc.get("versions", {}).items()},
    }
    with open(path, "w") as f:
        json.dump(trimmed, f, separators=(",", ":"))


def main():
    for spec in sys.argv[1:]:
        lock = lock_of(spec)
        with open(os.path.join(OUT, "locks", file_name(spec) + ".json"), "w") as f:
            json.dump(lock, f, indent=2)
            f.write("\n")
        for n in sorted(names(lock)):
            packument(n)
        print(f"{spec}: {len(lock['packages']) - 1} packages")


if __name__ == "__main__":
    main()
