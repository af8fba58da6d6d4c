//! The real public fixtures (fixtures/real/, see fixtures/SOURCES.md) and readers for them.
#![allow(dead_code)]
use mcp_audit::verify::{NpmKeys, TrustedRoot};
use std::path::PathBuf;

pub const PACKUMENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/registry/packuments/");

/// The defaults of the sigstore-conformance corpus README, for cases that name no identity.
pub const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
pub const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

pub fn fixture_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/real")
        .join(rel)
}

pub fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(fixture_path(rel)).unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
}

pub fn json(rel: &str) -> serde_json::Value {
    serde_json::from_slice(&fixture(rel)).unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
}

pub fn npm_keys() -> NpmKeys {
    NpmKeys::from_json(&fixture("keys/npm-registry-keys.v1.json")).expect("npm keys")
}

pub fn public_good_root() -> TrustedRoot {
    TrustedRoot::from_json(&fixture("trust/trusted_root.json")).expect("trusted root")
}

/// Real attestation responses and the package each one is about (from
/// fixtures/ATTRIBUTION.md). Bare bundles are wrapped into a response.
pub const VALID: &[(&str, &str, &str, &str)] = &[
    ("attestations/npm-cli/valid-sigstore-attestations.json", "sigstore", "1.0.0", "sha512-e+qfbn/zf1+rCza/BhIA//Awmf0v1pa5HQS8Xk8iXrn9bgytytVLqYD0P7NSqZ6IELTgq+tcDvLPkQjNHyWLNg=="),
    ("attestations/npm-cli/valid-tuf-js-attestations.json", "tuf-js", "1.0.0", "sha512-1dxsQwESDzACJjTdYHQ4wJ1f/of7jALWKfJEHSBWUQB/5UTJUx9SW6GHXp4mZ1KvdBRJCpGjssoPFGi4hvw8/A=="),
    ("attestations/pacote/valid-attestations.json", "sigstore", "0.4.0", "sha512-KCwMX6k20mQyFkNYG2XT3lwK9u1P36wS9YURFd85zCXPrwrSLZCEh7/vMBFNYcJXRiBtGDS+T4/RZZF493zABA=="),
    ("attestations/slsa-verifier/gha-testdata/npm-attestations.intoto.sigstore", "@laurentsimon/provenance-npm-test", "1.0.0", "sha512-KdGfJiM/REEyhBKzT9c+0QTs/vYvFAl4kMzPdFW1IbZcWs/4UYSfqoXIU5WqItQBQ28B86+2GxnHgOkGyIx/IA=="),
    ("attestations/slsa-verifier/cli-testdata/gundam-visor-cli-v1-tag.tgz.json", "gundam-visor", "1.0.1", "sha512-jZ15cvZ2UWx1AUqgdOEa5gTZjwtk7Gclph4oOP89qxYhGPpxQz+zHhVQ0wvQ3snQhs4DK5RFe1g5AMUHrPOcQA=="),
    ("attestations/slsa-verifier/cli-testdata/provenance-npm-test-cli-v1-prega.tgz.json", "sigstore", "2.3.1", "sha512-8G+/XDU8wNsJOQS5ysDVO0Etg9/2uA5gR9l4ZwijjlwxBcrU6RPfwi2+jJmbP+Ap1Hlp/nVAaEO4Fj22/SL2gQ=="),
    ("attestations/slsa-verifier/cli-testdata/provenance-npm-test-cli-v02-prega.tgz.json", "@laurentsimon/provenance-npm-test", "1.0.3", "sha512-8pleJWWhUQxweFDYGU+YO5H+YewkPFVRrYScNXJzdotfOlfkS4HMDNNqNLi5MzIr6HHupbBYICvoB+JNyIKBGw=="),
    ("attestations/slsa-verifier/cli-testdata/provenance-npm-test-ossf.tgz.json", "@laurentsimon/provenance-npm-test", "1.0.5", "sha512-VjvG2Ix8xgkXsTz0g4Rz7upux+oEMPJnKxb0PCpcgsI5lJx8rn/hO747MNBXHD5W3mJKox6kPJjBLx8ZC4p8oA=="),
    ("attestations/slsa-verifier/cli-testdata/supreme-googles-cli-v02-tag.tgz.json", "@trishankatdatadog/supreme-goggles", "1.0.5", "sha512-Hi6+znVyUIds3p0PbGNu1uAIiiOmxHf+DNGvzBGAClugyTL0pXoSU3Bj1J1xe7eudriik4s9SOfwJhf2VkrZGQ=="),
    ("attestations/smithmark/modelcontextprotocol-server-filesystem@2026.7.10.attestations.json", "@modelcontextprotocol/server-filesystem", "2026.7.10", "sha512-Mmjg4anFBD5OzbPnGJOA0jPPN8645ERhQk38HQLpSenx1ox9bfdPkmAzUnNjeQtqQGFLtKe13J20RtLBmUKMZA=="),
    ("bundles/gh-cli/sigstore-js-2.1.0-bundle.json", "sigstore", "2.1.0", "sha512-kPIj+ZLkyI3QaM0qX8V/nSsweYND3W448pwkDgS6CQ74MfhEkIR8ToK5Iyx46KJYRjseVcD3Rp9zAmUAj6ZjPw=="),
    ("bundles/gh-cli/sigstore-js-2.1.0-bundle-v0.1.json", "sigstore", "2.1.0", "sha512-kPIj+ZLkyI3QaM0qX8V/nSsweYND3W448pwkDgS6CQ74MfhEkIR8ToK5Iyx46KJYRjseVcD3Rp9zAmUAj6ZjPw=="),
];

/// A response body for `rel`: attestation responses as they are, bare
/// bundles wrapped the way the registry would serve them.
pub fn response_bytes(rel: &str) -> Vec<u8> {
    let raw = fixture(rel);
    let v: serde_json::Value = match serde_json::from_slice(&raw) {
        Ok(v) => v,
        Err(_) => return raw,
    };
    if v.get("attestations").is_some() {
        return raw;
    }
    serde_json::to_vec(&serde_json::json!({
        "attestations": [{"predicateType": "https://slsa.dev/provenance/v1", "bundle": v}]
    }))
    .unwrap()
}

/// Copies the fixture tree `from` into `to`, passing each file's text through `fill` (which puts
/// a test's loopback URLs and tokens in the placeholders).
pub fn copy_filled(from: &std::path::Path, to: &std::path::Path, fill: &dyn Fn(&str) -> String) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_filled(&entry.path(), &target, fill);
        } else {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            std::fs::write(&target, fill(&text)).unwrap();
        }
    }
}
