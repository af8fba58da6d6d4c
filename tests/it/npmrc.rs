//! npm configuration semantics: layers and precedence, .npmrc parsing, `${VAR}` expansion,
//! registries, nerf-dart auth, redaction and file discovery. Hermetic: the environment is a map
//! and every file lives in a temporary directory.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use mcp_audit::npmrc::{
    discover, discover_files, nerf_dart, AuthKind, Config, ConfigSource, Entry, Layer, Severity,
};
use mcp_audit::registry::is_loopback;
use url::Url;

const TOKEN: &str = "npm_T0KEN_value_that_must_never_print";

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn layer(source: ConfigSource, pairs: &[(&str, &str)]) -> Layer {
    Layer::new(
        source,
        pairs
            .iter()
            .map(|(k, v)| Entry::new(*k, *v, None))
            .collect(),
    )
}

fn rc(text: &str) -> Config {
    let (l, d) = Layer::from_npmrc(
        ConfigSource::User("/home/me/.npmrc".into()),
        text,
        &env(&[]),
    );
    assert!(d.is_empty(), "unexpected diagnostics: {d:?}");
    Config::from_layers(vec![Layer::defaults(), l])
}

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

fn header(c: &Config, u: &str) -> Option<String> {
    c.auth_for_url(&url(u))
        .map(|a| a.header_value.expose().to_string())
}

// ---------------------------------------------------------------- precedence

#[test]
fn precedence_cli_env_project_user_global_default() {
    let all = [
        layer(
            ConfigSource::Global("/g/etc/npmrc".into()),
            &[("registry", "https://global/")],
        ),
        layer(ConfigSource::Cli, &[("registry", "https://cli/")]),
        layer(
            ConfigSource::User("/h/.npmrc".into()),
            &[("registry", "https://user/")],
        ),
        Layer::defaults(),
        layer(ConfigSource::Env, &[("registry", "https://env/")]),
        layer(
            ConfigSource::Project("/p/.npmrc".into()),
            &[("registry", "https://project/")],
        ),
    ];
    let expected = [
        "https://cli/",
        "https://env/",
        "https://project/",
        "https://user/",
        "https://global/",
        "https://registry.npmjs.org/",
    ];
    let order = [ConfigSource::Cli.rank(), 4, 3, 2, 1, 0];
    for (i, want) in expected.iter().enumerate() {
        // Drop every layer ranked above the one under test.
        let layers: Vec<Layer> = all
            .iter()
            .filter(|l| l.source.rank() <= order[i])
            .cloned()
            .collect();
        let c = Config::from_layers(layers);
        let r = c.default_registry().unwrap();
        assert_eq!(r.url.as_str(), *want);
        assert_eq!(r.source.rank(), order[i]);
    }
}

#[test]
fn keys_resolve_independently_across_layers() {
    let c = Config::from_layers(vec![
        Layer::defaults(),
        layer(
            ConfigSource::User("/h/.npmrc".into()),
            &[
                ("@a:registry", "https://user-a/"),
                ("@b:registry", "https://user-b/"),
            ],
        ),
        layer(
            ConfigSource::Project("/p/.npmrc".into()),
            &[("@a:registry", "https://project-a/")],
        ),
    ]);
    assert_eq!(
        c.registry_for("@a/x").unwrap().url.as_str(),
        "https://project-a/"
    );
    assert_eq!(
        c.registry_for("@b/x").unwrap().url.as_str(),
        "https://user-b/"
    );
    assert_eq!(
        c.registry_for("plain").unwrap().url.as_str(),
        "https://registry.npmjs.org/"
    );
    assert_eq!(
        c.registry_for("@b/x").unwrap().source,
        ConfigSource::User("/h/.npmrc".into())
    );
}

#[test]
fn empty_registry_falls_through_to_the_next_layer() {
    let c = Config::from_layers(vec![
        Layer::defaults(),
        layer(
            ConfigSource::User("/h/.npmrc".into()),
            &[
                ("registry", "https://user/"),
                ("@s:registry", "https://user-s/"),
            ],
        ),
        layer(
            ConfigSource::Project("/p/.npmrc".into()),
            &[("registry", ""), ("@s:registry", "")],
        ),
    ]);
    assert_eq!(c.default_registry().unwrap().url.as_str(), "https://user/");
    // An empty scope registry shadows the user's and npm falls back to `registry`.
    assert_eq!(
        c.registry_for("@s/x").unwrap().url.as_str(),
        "https://user/"
    );
    assert_eq!(c.diagnostics().len(), 2, "{:?}", c.diagnostics());
}

#[test]
fn later_line_in_one_file_wins() {
    let c = rc("registry=https://first/\nregistry=https://second/\n");
    let r = c.default_registry().unwrap();
    assert_eq!(r.url.as_str(), "https://second/");
    assert_eq!(r.line, Some(2));
}

// ---------------------------------------------------------------- environment

#[test]
fn env_prefix_is_case_insensitive_and_keys_normalised() {
    let e = env(&[
        ("NPM_CONFIG_REGISTRY", "https://upper.example/"),
        ("npm_config_@MyCo:registry", "https://scoped.example/"),
    ]);
    let (l, d) = Layer::from_env(&e);
    assert!(d.is_empty());
    let c = Config::from_layers(vec![Layer::defaults(), l]);
    assert_eq!(
        c.default_registry().unwrap().url.as_str(),
        "https://upper.example/"
    );
    assert_eq!(c.default_registry().unwrap().source, ConfigSource::Env);
    // npm lower-cases non-nerf-dart keys, so `@MyCo` becomes `@myco`.
    assert_eq!(
        c.registry_for("@myco/pkg").unwrap().url.as_str(),
        "https://scoped.example/"
    );
}

#[test]
fn env_nerf_dart_token_keeps_its_exact_form() {
    let e = env(&[("npm_config_//127.0.0.1:4873/:_authToken", TOKEN)]);
    let (l, _) = Layer::from_env(&e);
    let c = Config::from_layers(vec![
        Layer::defaults(),
        l,
        layer(ConfigSource::Cli, &[("registry", "http://127.0.0.1:4873")]),
    ]);
    let reg = c.default_registry().unwrap();
    let auth = c
        .auth_for_request(&reg.packument_url("some-mcp"), Some("some-mcp"))
        .unwrap();
    assert_eq!(auth.header_value.expose(), format!("Bearer {TOKEN}"));
    assert_eq!(auth.key, "//127.0.0.1:4873/:_authToken");
    assert_eq!(auth.source, ConfigSource::Env);
    assert_eq!(auth.kind, AuthKind::Token);
}

#[test]
fn env_upper_case_nerf_dart_suffix_is_not_normalised() {
    // npm keeps `//...` keys verbatim, so a shell that upper-cases the name breaks the match.
    let e = env(&[("NPM_CONFIG_//R.EXAMPLE/:_AUTHTOKEN", TOKEN)]);
    let (l, _) = Layer::from_env(&e);
    let c = Config::from_layers(vec![Layer::defaults(), l]);
    assert!(c.auth_for_url(&url("https://r.example/pkg")).is_none());
    let hint = c.auth_key_hint(&url("https://r.example/")).expect("hint");
    assert_eq!(hint.expected_key, "//r.example/:_authToken");
    assert!(hint.reason.contains("_AUTHTOKEN"), "{}", hint.reason);
}

#[test]
fn env_values_are_expanded_and_empty_values_skipped() {
    let e = env(&[
        ("npm_config_registry", "https://${HOST}/"),
        ("HOST", "h.example"),
        ("npm_config_scope", ""),
    ]);
    let (l, d) = Layer::from_env(&e);
    assert!(d.is_empty());
    assert!(l.entries.iter().all(|e| e.key != "scope"));
    let c = Config::from_layers(vec![Layer::defaults(), l]);
    assert_eq!(c.get("registry"), Some("https://h.example/"));
}

// ---------------------------------------------------------------- ${VAR}

#[test]
fn var_expansion_set_and_unset() {
    let text = "registry=https://r.example/\n//r.example/:_authToken=${NPM_TOKEN}\n//other.example/:_authToken=${MISSING}\n//opt.example/:_authToken=${MISSING?}\n";
    let src = ConfigSource::Project("/p/.npmrc".into());
    let (l, d) = Layer::from_npmrc(src, text, &env(&[("NPM_TOKEN", TOKEN)]));
    // Set: substituted.
    let c = Config::from_layers(vec![Layer::defaults(), l]);
    assert_eq!(
        header(&c, "https://r.example/x").unwrap(),
        format!("Bearer {TOKEN}")
    );
    // Unset: npm leaves the text in place, and we report file:line and the variable.
    assert_eq!(c.get("//other.example/:_authToken"), Some("${MISSING}"));
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].line, Some(3));
    assert_eq!(d[0].file.as_deref(), Some(Path::new("/p/.npmrc")));
    assert!(d[0].message.contains("MISSING"));
    assert!(d[0].to_string().starts_with("/p/.npmrc:3: "));
    // `${VAR?}` unset is empty, so there is no credential at all.
    assert!(c.auth_for_url(&url("https://opt.example/x")).is_none());
    // The literal placeholder is sent as a token by npm; explain() warns about it.
    let a = c.auth_for_url(&url("https://other.example/x")).unwrap();
    assert!(
        a.warnings.iter().any(|w| w.contains("${MISSING}")),
        "{:?}",
        a.warnings
    );
}

#[test]
fn var_expansion_in_keys() {
    let (l, _) = Layer::from_npmrc(
        ConfigSource::User("/h/.npmrc".into()),
        "//${REG_HOST}/:_authToken=abc\n",
        &env(&[("REG_HOST", "r.example:8443")]),
    );
    let c = Config::from_layers(vec![l]);
    assert_eq!(
        header(&c, "https://r.example:8443/pkg").unwrap(),
        "Bearer abc"
    );
}

// ---------------------------------------------------------------- registries

#[test]
fn scoped_registry_and_scope_setting() {
    let c = rc("@myco:registry=https://npm.pkg.github.com\nregistry=https://mirror.example/npm/\n");
    let r = c.registry_for("@myco/server").unwrap();
    assert_eq!(r.url.as_str(), "https://npm.pkg.github.com/");
    assert_eq!(r.key, "@myco:registry");
    assert_eq!(
        c.registry_for("@other/server").unwrap().url.as_str(),
        "https://mirror.example/npm/"
    );
    assert_eq!(c.registry_for("unscoped").unwrap().key, "registry");

    // pickRegistry: with `scope` set, packages without a scope registry use that scope's.
    let c = rc("scope=myco\n@myco:registry=https://npm.pkg.github.com/\n");
    assert_eq!(c.registry_for("unscoped").unwrap().key, "@myco:registry");
}

#[test]
fn path_prefixed_registries_with_and_without_trailing_slash() {
    let shapes = [
        (
            "https://x.jfrog.io/artifactory/api/npm/npm-local/",
            "https://x.jfrog.io/artifactory/api/npm/npm-local/",
        ),
        (
            "https://x.jfrog.io/artifactory/api/npm/npm-local",
            "https://x.jfrog.io/artifactory/api/npm/npm-local/",
        ),
        (
            "https://pkgs.dev.azure.com/org/_packaging/feed/npm/registry/",
            "https://pkgs.dev.azure.com/org/_packaging/feed/npm/registry/",
        ),
        (
            "https://pkgs.dev.azure.com/org/_packaging/feed/npm/registry",
            "https://pkgs.dev.azure.com/org/_packaging/feed/npm/registry/",
        ),
        ("https://npm.pkg.github.com", "https://npm.pkg.github.com/"),
        ("https://npm.pkg.github.com/", "https://npm.pkg.github.com/"),
    ];
    for (written, normalised) in shapes {
        let nerf = nerf_dart(&url(normalised));
        for key_form in [nerf.clone(), nerf.trim_end_matches('/').to_string()] {
            let c = rc(&format!(
                "@s:registry={written}\n{key_form}:_authToken={TOKEN}\n"
            ));
            let r = c.registry_for("@s/pkg").unwrap();
            assert_eq!(r.url.as_str(), normalised);
            let packument = r.packument_url("@s/pkg");
            assert_eq!(packument.as_str(), format!("{normalised}@s%2fpkg"));
            let a = c
                .auth_for_request(&packument, Some("@s/pkg"))
                .unwrap_or_else(|| panic!("no auth for {written} with key {key_form}"));
            assert_eq!(a.header_value.expose(), format!("Bearer {TOKEN}"));
            assert_eq!(a.key, format!("{key_form}:_authToken"));
        }
    }
}

#[test]
fn registry_without_scheme_is_rejected() {
    let (l, _) = Layer::from_npmrc(
        ConfigSource::Project("/p/.npmrc".into()),
        "registry=registry.example.com\n@s:registry=npm.example.com/x/\n",
        &env(&[]),
    );
    let c = Config::from_layers(vec![Layer::defaults(), l]);
    let errs: Vec<_> = c
        .diagnostics()
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert_eq!(errs.len(), 2, "{:?}", c.diagnostics());
    assert_eq!(errs[0].line, Some(1));
    assert!(errs[0]
        .to_string()
        .starts_with("/p/.npmrc:1: registry = registry.example.com is rejected"));
    // No silent fallback to the public registry: that would leak private names to it.
    let e = c.registry_for("@s/x").unwrap_err().to_string();
    assert!(
        e.contains("@s:registry") && e.contains("/p/.npmrc:2"),
        "{e}"
    );
    assert!(c.registry_for("plain").is_err());
}

#[test]
fn registry_userinfo_is_redacted_in_errors_and_explain() {
    let c = rc("registry=https://bob:hunter2@r.example/\n");
    let ex = c.explain("pkg");
    let shown = format!("{ex}{}", serde_json::to_string(&ex).unwrap());
    assert!(!shown.contains("hunter2"), "{shown}");
    let (l, _) = Layer::from_npmrc(
        ConfigSource::Cli,
        "registry=ftp://bob:hunter2@r.example/\n",
        &env(&[]),
    );
    let c = Config::from_layers(vec![l]);
    assert!(!format!("{:?}", c.diagnostics()).contains("hunter2"));
    assert!(!c
        .registry_for("x")
        .unwrap_err()
        .to_string()
        .contains("hunter2"));
}

// ---------------------------------------------------------------- nerf-dart auth

#[test]
fn longest_prefix_wins() {
    let c = rc("//h.example/:_authToken=host\n//h.example/npm/:_authToken=npm\n//h.example/npm/private/:_authToken=private\n");
    assert_eq!(
        header(&c, "https://h.example/npm/private/pkg").unwrap(),
        "Bearer private"
    );
    assert_eq!(
        header(&c, "https://h.example/npm/public/pkg").unwrap(),
        "Bearer npm"
    );
    assert_eq!(
        header(&c, "https://h.example/other/pkg").unwrap(),
        "Bearer host"
    );
    assert_eq!(
        c.auth_for_url(&url("https://h.example/npm/private/pkg"))
            .unwrap()
            .reg_key,
        "//h.example/npm/private/"
    );
}

#[test]
fn ports_are_part_of_the_host() {
    let c = rc("//h.example:8443/:_authToken=tls8443\n//127.0.0.1:4873/:_authToken=verdaccio\n");
    assert_eq!(
        header(&c, "https://h.example:8443/pkg").unwrap(),
        "Bearer tls8443"
    );
    assert!(header(&c, "https://h.example/pkg").is_none());
    assert!(header(&c, "https://h.example:9443/pkg").is_none());
    assert_eq!(
        header(&c, "http://127.0.0.1:4873/pkg").unwrap(),
        "Bearer verdaccio"
    );
    assert!(header(&c, "http://127.0.0.1:4874/pkg").is_none());
    // A default port is not part of WHATWG `host`, so it never appears in a matching key.
    let c = rc("//h.example/:_authToken=plain\n");
    assert_eq!(
        header(&c, "https://h.example:443/pkg").unwrap(),
        "Bearer plain"
    );
}

#[test]
fn token_never_crosses_hosts_or_sibling_paths() {
    let c = rc(&format!("//a.example/npm/:_authToken={TOKEN}\n"));
    for other in [
        "https://b.example/npm/pkg",
        "https://a.example.evil.com/npm/pkg",
        "https://evil.com/a.example/npm/pkg",
        "https://a.example/npmx/pkg",
        "https://a.example/other/npm/pkg",
        "https://a.example/pkg",
        "https://sub.a.example/npm/pkg",
    ] {
        assert!(header(&c, other).is_none(), "token leaked to {other}");
        assert!(
            c.auth_for_request(&url(other), Some("pkg")).is_none(),
            "token leaked to {other}"
        );
    }
    assert!(header(&c, "https://a.example/npm/pkg").is_some());
    assert!(
        header(&c, "http://a.example/npm/pkg").is_some(),
        "npm ignores the scheme"
    );
}

#[test]
fn tarball_on_registry_host_uses_registry_auth_other_host_gets_none() {
    let c = rc(&format!(
        "@s:registry=https://art.example/artifactory/api/npm/npm-local/\n\
         //art.example/artifactory/api/npm/npm-local/:_authToken={TOKEN}\n"
    ));
    // Same host, outside the registry path: npm falls back to the registry's credential.
    let same_host = url("https://art.example/artifactory/files/s-pkg-1.0.0.tgz");
    assert!(c.auth_for_url(&same_host).is_none());
    let a = c.auth_for_request(&same_host, Some("@s/pkg")).unwrap();
    assert!(a.via_registry_fallback);
    assert_eq!(
        a.key,
        "//art.example/artifactory/api/npm/npm-local/:_authToken"
    );
    // But only for a package whose registry is on that host.
    assert!(c.auth_for_request(&same_host, Some("unscoped")).is_none());
    // Another host (CDN, attestation service) never gets it.
    for u in [
        "https://cdn.example/s-pkg-1.0.0.tgz",
        "https://registry.npmjs.org/-/npm/v1/attestations/@s%2fpkg@1.0.0",
    ] {
        assert!(c.auth_for_request(&url(u), Some("@s/pkg")).is_none(), "{u}");
    }
}

#[test]
fn basic_auth_forms() {
    // _auth is sent as it is.
    let c = rc("//r.example/:_auth=dXNlcjpwYXNz\n");
    let a = c.auth_for_url(&url("https://r.example/p")).unwrap();
    assert_eq!(a.kind, AuthKind::Basic);
    assert_eq!(a.header_value.expose(), "Basic dXNlcjpwYXNz");

    // username + base64(_password) becomes base64(username:password).
    let c = rc("//r.example/:username=user\n//r.example/:_password=cGFzcw==\n");
    let a = c.auth_for_url(&url("https://r.example/p")).unwrap();
    assert_eq!(a.kind, AuthKind::UsernamePassword);
    assert_eq!(a.header_value.expose(), "Basic dXNlcjpwYXNz"); // base64("user:pass")
    assert_eq!(a.key, "//r.example/:_password");
    assert!(a.warnings.is_empty());

    // username alone is not auth.
    let c = rc("//r.example/:username=user\n");
    assert!(c.auth_for_url(&url("https://r.example/p")).is_none());

    // _authToken beats _auth at the same prefix (hasAuth order).
    let c = rc("//r.example/:_auth=dXNlcjpwYXNz\n//r.example/:_authToken=tok\n");
    assert_eq!(header(&c, "https://r.example/p").unwrap(), "Bearer tok");
}

#[test]
fn falsy_values_are_not_credentials() {
    let c = rc(
        "//r.example/:_authToken=\n//s.example/:_authToken=false\n//t.example/:_authToken=null\n",
    );
    for u in [
        "https://r.example/p",
        "https://s.example/p",
        "https://t.example/p",
    ] {
        assert!(header(&c, u).is_none(), "{u}");
    }
}

#[test]
fn client_certificate_stops_the_walk_and_is_reported() {
    let c = rc("//r.example/:_authToken=outer\n//r.example/mtls/:certfile=/c.pem\n//r.example/mtls/:keyfile=/k.pem\n");
    // npm stops at the longest prefix with any auth: the cert-only one, so no token is sent.
    assert!(c.auth_for_url(&url("https://r.example/mtls/p")).is_none());
    assert_eq!(
        c.client_cert_for_url(&url("https://r.example/mtls/p"))
            .unwrap()
            .certfile,
        "/c.pem"
    );
    assert_eq!(header(&c, "https://r.example/p").unwrap(), "Bearer outer");
    let c = rc("registry=https://r.example/mtls/\n//r.example/mtls/:certfile=/c.pem\n//r.example/mtls/:keyfile=/k.pem\n");
    let ex = c.explain("p");
    assert!(ex.client_cert.is_some() && ex.auth.is_none());
    assert!(
        ex.notes.iter().any(|n| n.contains("client certificate")),
        "{:?}",
        ex.notes
    );
}

#[test]
fn legacy_top_level_credentials_are_reported_and_unused() {
    let (l, _) = Layer::from_npmrc(
        ConfigSource::User("/h/.npmrc".into()),
        &format!("registry=https://r.example/\n_authToken={TOKEN}\n_auth=abc\nalways-auth=true\n"),
        &env(&[]),
    );
    let c = Config::from_layers(vec![Layer::defaults(), l]);
    assert!(c.auth_for_url(&url("https://r.example/p")).is_none());
    let msgs: Vec<String> = c.diagnostics().iter().map(|d| d.to_string()).collect();
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("/h/.npmrc:2:") && m.contains("//r.example/:_authToken")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter().any(|m| m.starts_with("/h/.npmrc:3:")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("/h/.npmrc:4:") && m.contains("always-auth")),
        "{msgs:?}"
    );
    assert!(!msgs.concat().contains(TOKEN));
}

// ---------------------------------------------------------------- path mismatch hint

#[test]
fn hint_for_wrong_path() {
    let c = rc(&format!(
        "registry=https://x.jfrog.io/artifactory/api/npm/npm-local/\n\
         //x.jfrog.io/artifactory/api/npm/npm-remote/:_authToken={TOKEN}\n"
    ));
    let reg = c.default_registry().unwrap();
    assert!(c
        .auth_for_request(&reg.packument_url("p"), Some("p"))
        .is_none());
    let h = c.auth_key_hint(&reg.url).unwrap();
    assert_eq!(
        h.configured_key,
        "//x.jfrog.io/artifactory/api/npm/npm-remote/:_authToken"
    );
    assert_eq!(
        h.expected_key,
        "//x.jfrog.io/artifactory/api/npm/npm-local/:_authToken"
    );
    assert_eq!(h.line, Some(2));
    let shown = h.to_string();
    assert!(
        shown.contains("/home/me/.npmrc:2") && shown.contains("npm-local/:_authToken"),
        "{shown}"
    );
    assert!(!shown.contains(TOKEN));
}

#[test]
fn hint_for_key_deeper_than_registry_and_for_port() {
    // Key written with the package path in it: it does not cover the registry root.
    let c = rc(
        "registry=https://pkgs.dev.azure.com/org/_packaging/feed/npm/registry/\n\
                //pkgs.dev.azure.com/org/_packaging/feed/npm/registry/sub/:_authToken=t\n",
    );
    let h = c.auth_key_hint(&c.default_registry().unwrap().url).unwrap();
    assert_eq!(
        h.expected_key,
        "//pkgs.dev.azure.com/org/_packaging/feed/npm/registry/:_authToken"
    );
    // Explicit default port in the key never matches (WHATWG drops it from the URL).
    let c = rc("registry=https://h.example/\n//h.example:443/:_authToken=t\n");
    let h = c.auth_key_hint(&c.default_registry().unwrap().url).unwrap();
    assert_eq!(h.expected_key, "//h.example/:_authToken");
    assert!(h.reason.contains("h.example:443"), "{}", h.reason);
}

#[test]
fn no_hint_when_auth_matches_or_other_host() {
    let c = rc("//h.example/npm:_authToken=t\n//other.example/:_authToken=t\n");
    // `//h/npm` without the slash still matches `/npm/...` (npm walks both forms).
    assert!(c.auth_for_url(&url("https://h.example/npm/")).is_some());
    assert!(c.auth_key_hint(&url("https://h.example/npm/")).is_none());
    assert!(c.auth_key_hint(&url("https://third.example/")).is_none());
}

// ---------------------------------------------------------------- parsing and redaction

#[test]
fn malformed_lines_reported_with_file_and_line_and_ignored() {
    let text = format!("registry=https://r.example/\n=orphan\n{TOKEN}\n[section]\n//r.example/:_authToken={TOKEN}\n");
    let (l, d) = Layer::from_npmrc(ConfigSource::Project("/p/.npmrc".into()), &text, &env(&[]));
    let where_: Vec<String> = d
        .iter()
        .map(|d| format!("{}:{}", d.file.as_ref().unwrap().display(), d.line.unwrap()))
        .collect();
    assert_eq!(
        where_,
        vec!["/p/.npmrc:2", "/p/.npmrc:3", "/p/.npmrc:4", "/p/.npmrc:5"]
    );
    // Keys inside a section are nested by npm, so the token there is not used.
    let c = Config::from_layers(vec![l]);
    assert!(c.auth_for_url(&url("https://r.example/p")).is_none());
    for diag in &d {
        assert!(!diag.to_string().contains(TOKEN), "{diag}");
        assert!(!format!("{diag:?}").contains(TOKEN));
    }
}

#[test]
fn secret_never_appears_in_formatted_output() {
    let text = format!(
        "@s:registry=https://r.example/\n//r.example/:_authToken={TOKEN}\n\
         //b.example/:username=u\n//b.example/:_password={}\n",
        "c2VjcmV0X3Bhc3N3b3Jk" // base64("secret_password")
    );
    let (l, d) = Layer::from_npmrc(ConfigSource::User("/h/.npmrc".into()), &text, &env(&[]));
    let c = Config::from_layers(vec![Layer::defaults(), l.clone()]);
    let a = c
        .auth_for_request(&url("https://r.example/@s%2fx"), Some("@s/x"))
        .unwrap();
    let b = c.auth_for_url(&url("https://b.example/x")).unwrap();
    let basic = b.header_value.expose().to_string();
    let ex = c.explain("@s/x");
    let outputs = [
        format!("{a:?}"),
        format!("{a:#?}"),
        format!("{}", a.header_value),
        format!("{b:?}"),
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap(),
        format!("{c:?}"),
        format!("{l:?}"),
        format!("{d:?}"),
        format!("{ex}"),
        format!("{ex:?}"),
        serde_json::to_string(&ex).unwrap(),
        format!("{:?}", c.setting("//r.example/:_authToken").unwrap()),
    ];
    for out in &outputs {
        assert!(!out.contains(TOKEN), "token in: {out}");
        assert!(!out.contains("c2VjcmV0X3Bhc3N3b3Jk"), "password in: {out}");
        assert!(!out.contains(&basic[6..]), "basic credential in: {out}");
    }
    assert!(format!("{a:?}").contains("***"));
    assert!(format!("{ex}").contains("Bearer ***"));
}

#[test]
fn explain_summarises_registry_and_auth_source() {
    let text =
        format!("@s:registry=http://127.0.0.1:4873/\n//127.0.0.1:4873/:_authToken={TOKEN}\n");
    let (l, _) = Layer::from_npmrc(ConfigSource::Project("/p/.npmrc".into()), &text, &env(&[]));
    let c = Config::from_layers(vec![Layer::defaults(), l]);
    let ex = c.explain("@s/server");
    let reg = ex.registry.as_ref().unwrap();
    assert_eq!(reg.url, "http://127.0.0.1:4873/");
    assert_eq!(reg.key, "@s:registry");
    assert_eq!(reg.line, Some(1));
    let auth = ex.auth.as_ref().unwrap();
    assert_eq!(auth.key, "//127.0.0.1:4873/:_authToken");
    assert_eq!(auth.line, Some(2));
    assert_eq!(auth.header, "Bearer ***");
    assert!(
        ex.notes.is_empty(),
        "loopback http is not flagged: {:?}",
        ex.notes
    );
    let json = serde_json::to_value(&ex).unwrap();
    assert_eq!(json["auth"]["source"]["kind"], "project");
    assert_eq!(json["auth"]["source"]["path"], "/p/.npmrc");

    // Public package with no credential, and plain http off loopback is noted.
    let c = rc("registry=http://mirror.example/\n");
    let ex = c.explain("left-pad");
    assert!(ex.auth.is_none() && ex.auth_hint.is_none());
    assert!(ex.notes.iter().any(|n| n.contains("plain http")));
    assert!(ex.to_string().contains("auth: none"));
}

#[test]
fn loopback_detection() {
    assert!(is_loopback(&url("http://127.0.0.1:4873/")));
    assert!(is_loopback(&url("http://localhost:4873/")));
    assert!(is_loopback(&url("http://[::1]/")));
    assert!(!is_loopback(&url("http://192.168.1.2/")));
    assert!(!is_loopback(&url("http://localhost.example.com/")));
}

// ---------------------------------------------------------------- discover()

struct Tree {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

fn tree() -> Tree {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    Tree { _tmp: tmp, root }
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

#[test]
fn discover_reads_project_user_and_global_files() {
    let t = tree();
    let home = t.root.join("home");
    let prefix = t.root.join("prefix");
    let project = t.root.join("work/proj");
    let cwd = project.join("src/deep");
    fs::create_dir_all(&cwd).unwrap();
    write(&project.join("package.json"), "{}");
    write(
        &project.join(".npmrc"),
        "@p:registry=https://project.example/\n//project.example/:_authToken=${PTOKEN}\n",
    );
    write(
        &home.join(".npmrc"),
        "@u:registry=https://user.example/\n@p:registry=https://user-loses.example/\n",
    );
    write(
        &prefix.join("etc/npmrc"),
        "registry=https://global.example/\n@u:registry=https://global-loses.example/\n",
    );
    let e = env(&[
        ("HOME", home.to_str().unwrap()),
        ("PREFIX", prefix.to_str().unwrap()),
        ("PTOKEN", TOKEN),
    ]);
    let (layers, diags) = discover(&cwd, &e, &[]);
    assert!(diags.is_empty(), "{diags:?}");
    let c = Config::from_layers(layers);
    let p = c.registry_for("@p/x").unwrap();
    assert_eq!(p.url.as_str(), "https://project.example/");
    assert_eq!(p.source, ConfigSource::Project(project.join(".npmrc")));
    assert_eq!(
        c.registry_for("@u/x").unwrap().source,
        ConfigSource::User(home.join(".npmrc"))
    );
    assert_eq!(
        c.registry_for("x").unwrap().source,
        ConfigSource::Global(prefix.join("etc/npmrc"))
    );
    let a = c
        .auth_for_request(
            &c.registry_for("@p/x").unwrap().packument_url("@p/x"),
            Some("@p/x"),
        )
        .unwrap();
    assert_eq!(a.header_value.expose(), format!("Bearer {TOKEN}"));
    assert_eq!(a.line, Some(2));
}

#[test]
fn discover_userconfig_and_globalconfig_overrides() {
    let t = tree();
    let cwd = t.root.join("nowhere");
    fs::create_dir_all(&cwd).unwrap();
    let custom_user = t.root.join("cfg/custom-npmrc");
    let custom_global = t.root.join("cfg/global-npmrc");
    write(
        &custom_user,
        &format!(
            "registry=https://custom-user.example/\nglobalconfig={}\n",
            custom_global.display()
        ),
    );
    write(
        &custom_global,
        "@g:registry=https://custom-global.example/\n",
    );
    write(
        &t.root.join("home/.npmrc"),
        "registry=https://default-home.example/\n",
    );
    let e = env(&[
        ("HOME", t.root.join("home").to_str().unwrap()),
        ("NPM_CONFIG_USERCONFIG", custom_user.to_str().unwrap()),
    ]);
    let d = discover_files(&cwd, &e, &[]);
    let c = Config::from_layers(d.layers);
    assert_eq!(
        c.default_registry().unwrap().url.as_str(),
        "https://custom-user.example/"
    );
    // The user config moved the global config (npm loads user before global for this reason).
    assert_eq!(
        c.registry_for("@g/x").unwrap().url.as_str(),
        "https://custom-global.example/"
    );

    // --userconfig on the command line beats the environment, relative to cwd.
    write(
        &cwd.join("rel-npmrc"),
        "registry=https://cli-user.example/\n",
    );
    let (layers, _) = discover(&cwd, &e, &[("userconfig".into(), "rel-npmrc".into())]);
    let c = Config::from_layers(layers);
    assert_eq!(
        c.default_registry().unwrap().url.as_str(),
        "https://cli-user.example/"
    );
}

#[test]
fn discover_local_prefix_rules() {
    let t = tree();
    let home = t.root.join("home");
    let e = env(&[("HOME", home.to_str().unwrap())]);

    // node_modules also marks a project root.
    let nm_proj = t.root.join("nm");
    fs::create_dir_all(nm_proj.join("node_modules")).unwrap();
    fs::create_dir_all(nm_proj.join("a/b")).unwrap();
    write(&nm_proj.join(".npmrc"), "registry=https://nm.example/\n");
    let d = discover_files(&nm_proj.join("a/b"), &e, &[]);
    assert_eq!(d.local_prefix, nm_proj);
    assert_eq!(
        Config::from_layers(d.layers).get("registry"),
        Some("https://nm.example/")
    );

    // A workspace's own .npmrc is ignored in favour of the workspace root's.
    let mono = t.root.join("mono");
    write(
        &mono.join("package.json"),
        r#"{"workspaces":["packages/*"]}"#,
    );
    write(&mono.join(".npmrc"), "registry=https://root.example/\n");
    write(&mono.join("packages/server/package.json"), "{}");
    write(
        &mono.join("packages/server/.npmrc"),
        "registry=https://workspace.example/\n",
    );
    let d = discover_files(&mono.join("packages/server"), &e, &[]);
    assert_eq!(d.local_prefix, mono);
    assert_eq!(
        Config::from_layers(d.layers).get("registry"),
        Some("https://root.example/")
    );
    assert!(d
        .diagnostics
        .iter()
        .any(|x| x.message.contains("ignoring workspace config")));

    // Not listed as a workspace: the nearest package.json wins.
    write(&mono.join("tools/x/package.json"), "{}");
    write(
        &mono.join("tools/x/.npmrc"),
        "registry=https://tool.example/\n",
    );
    let d = discover_files(&mono.join("tools/x"), &e, &[]);
    assert_eq!(
        Config::from_layers(d.layers).get("registry"),
        Some("https://tool.example/")
    );

    // Global mode reads no project config.
    let d = discover_files(
        &mono.join("tools/x"),
        &e,
        &[("global".into(), "true".into())],
    );
    assert_eq!(
        Config::from_layers(d.layers).get("registry"),
        Some("https://registry.npmjs.org/")
    );

    // A project in the home directory is the user config: read once, as user config.
    fs::create_dir_all(home.join("node_modules")).unwrap();
    write(&home.join(".npmrc"), "registry=https://home.example/\n");
    let d = discover_files(&home, &e, &[]);
    let c = Config::from_layers(d.layers.clone());
    assert_eq!(
        c.default_registry().unwrap().source,
        ConfigSource::User(home.join(".npmrc"))
    );
    assert!(d
        .files
        .iter()
        .any(|f| f.skipped.as_deref() == Some("same file as the user config")));
}

#[test]
fn discover_reports_malformed_and_unset_vars_with_location() {
    let t = tree();
    let proj = t.root.join("p");
    write(&proj.join("package.json"), "{}");
    write(
        &proj.join(".npmrc"),
        "registry=https://r.example/\n\n=broken\n//r.example/:_authToken=${UNSET_TOKEN}\n",
    );
    let e = env(&[("HOME", t.root.join("home").to_str().unwrap())]);
    let (_, diags) = discover(&proj, &e, &[]);
    let shown: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
    let rc = proj.join(".npmrc");
    assert!(
        shown
            .iter()
            .any(|s| s.starts_with(&format!("{}:3:", rc.display()))),
        "{shown:?}"
    );
    assert!(
        shown
            .iter()
            .any(|s| s.starts_with(&format!("{}:4:", rc.display())) && s.contains("UNSET_TOKEN")),
        "{shown:?}"
    );
}

#[test]
fn discover_missing_files_are_silent() {
    let t = tree();
    let e = env(&[
        ("HOME", t.root.join("no-home").to_str().unwrap()),
        ("PREFIX", t.root.join("no-prefix").to_str().unwrap()),
    ]);
    let d = discover_files(&t.root, &e, &[]);
    assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
    assert!(d.files.iter().all(|f| !f.found));
    let c = Config::from_layers(d.layers);
    assert_eq!(c.default_registry().unwrap().source, ConfigSource::Default);
}
