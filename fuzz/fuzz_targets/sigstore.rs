//! Sigstore bundles and npm attestations: arbitrary bytes as a bare bundle (both key policies)
//! and as a registry attestations response, verified offline against the embedded trusted root
//! and the fixture registry keys. Only parsing and rejection paths are reachable, which is the
//! point: a hostile response must be refused, never crash.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mcp_audit::verify::{
    verify_attestations, verify_bundle, Artifact, ExpectedPackage, KeyPolicy, NpmKeys, TrustedRoot,
};

const KEYS: &[u8] = include_bytes!("../../fixtures/registry/keys.json");
const KEY_PEM: &str = "-----BEGIN PUBLIC KEY-----\n\
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1Olb3zMAFFxXKHiIkQO5cJ3Yhl5i6UPp+IhuteBJbuHcA5UogKo0\n\
EWtlWwW6KSaKoTNEYL7JlCQiVnkhBktUgg==\n\
-----END PUBLIC KEY-----\n";

fn root() -> &'static TrustedRoot {
    static ROOT: OnceLock<TrustedRoot> = OnceLock::new();
    ROOT.get_or_init(TrustedRoot::public_good)
}

fn keys() -> &'static NpmKeys {
    static K: OnceLock<NpmKeys> = OnceLock::new();
    K.get_or_init(|| NpmKeys::from_json(KEYS).expect("fixture keys parse"))
}

fuzz_target!(|data: &[u8]| {
    let keyless = KeyPolicy::Identity {
        identity: "https://github.com/fuzz/fuzz/.github/workflows/release.yml@refs/heads/main",
        issuer: "https://token.actions.githubusercontent.com",
    };
    for policy in [keyless, KeyPolicy::PublicKeyPem(KEY_PEM)] {
        let _ = verify_bundle(data, Artifact::Bytes(b"artifact"), &policy, root());
    }
    let expected = ExpectedPackage::new(
        "sigstore",
        "1.0.0",
        "sha512-e+qfbn/zf1+rCza/BhIA//Awmf0v1pa5HQS8Xk8iXrn9bgytytVLqYD0P7NSqZ6IELTgq+tcDvLPkQjNHyWLNg==",
    );
    let report = verify_attestations(data, &expected, keys(), root());
    let _ = report.failures();
});
