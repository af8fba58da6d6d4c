//! Per-bundle verification time on the real npm attestations (docs/performance.md).
//! Run: cargo bench --bench verify

use criterion::{criterion_group, criterion_main, Criterion};

use mcp_audit::verify::{
    verify_attestations, verify_registry_signature, ExpectedPackage, NpmKeys, TrustedRoot,
};

const REAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/real/");

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{REAL}{rel}")).unwrap()
}

fn bench(c: &mut Criterion) {
    let keys = NpmKeys::from_json(&read("keys/npm-registry-keys.v1.json")).unwrap();
    let root = TrustedRoot::public_good();
    let cases = [
        (
            "mcp-server-2026-v0.3",
            "attestations/smithmark/modelcontextprotocol-server-filesystem@2026.7.10.attestations.json",
            ExpectedPackage::new(
                "@modelcontextprotocol/server-filesystem",
                "2026.7.10",
                "sha512-Mmjg4anFBD5OzbPnGJOA0jPPN8645ERhQk38HQLpSenx1ox9bfdPkmAzUnNjeQtqQGFLtKe13J20RtLBmUKMZA==",
            ),
        ),
        (
            "sigstore-2024-v0.2",
            "attestations/slsa-verifier/cli-testdata/provenance-npm-test-cli-v1-prega.tgz.json",
            ExpectedPackage::new(
                "sigstore",
                "2.3.1",
                "sha512-8G+/XDU8wNsJOQS5ysDVO0Etg9/2uA5gR9l4ZwijjlwxBcrU6RPfwi2+jJmbP+Ap1Hlp/nVAaEO4Fj22/SL2gQ==",
            ),
        ),
        (
            "sigstore-2023-legacy-v0.1",
            "attestations/npm-cli/valid-sigstore-attestations.json",
            ExpectedPackage::new(
                "sigstore",
                "1.0.0",
                "sha512-e+qfbn/zf1+rCza/BhIA//Awmf0v1pa5HQS8Xk8iXrn9bgytytVLqYD0P7NSqZ6IELTgq+tcDvLPkQjNHyWLNg==",
            ),
        ),
    ];
    let mut group = c.benchmark_group("attestations (provenance + publish, 2 bundles)");
    for (label, rel, expected) in &cases {
        let bytes = read(rel);
        assert!(verify_attestations(&bytes, expected, &keys, &root).all_verified());
        group.bench_function(*label, |b| {
            b.iter(|| verify_attestations(&bytes, expected, &keys, &root))
        });
    }
    group.finish();
    c.bench_function("registry signature", |b| {
        b.iter(|| {
            verify_registry_signature(
                "sigstore",
                "1.0.0",
                "sha512-e+qfbn/zf1+rCza/BhIA//Awmf0v1pa5HQS8Xk8iXrn9bgytytVLqYD0P7NSqZ6IELTgq+tcDvLPkQjNHyWLNg==",
                "MEQCIBlpcHT68iWOpx8pJr3WUzD1EqQ7tb0CmY36ebbceR6IAiAVGRaxrFoyh0/5B7H1o4VFhfsHw9F8G+AxOZQq87q+lg==",
                "SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA",
                &keys,
                Some(1_675_965_300),
                1_675_965_300,
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
