//! A typed view of an npm packument: only what facts, version picking and evidence need.
//!
//! Typed, because a full `serde_json::Value` tree (with `preserve_order`) takes about 36 times the
//! document: a 60 MB packument took 2.1 GB. Readmes, file lists and every field no fact reads
//! are skipped with `IgnoredAny`. The one version the tarball analysis compares in full is read
//! again from the bytes by [`version_document`], alone.
//!
//! Lenient, because registries and hand-edited packuments put any type in any field: a field of
//! the wrong type reads as absent, exactly as the `Value` lookups this replaces did, so derivation
//! degrades to unknowns instead of the whole document failing to parse.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

/// A value read leniently: what each JSON type means for `Self`, and `Default` for any type the
/// field should not have.
trait Lenient: Sized + Default {
    fn from_str(_s: &str) -> Self {
        Self::default()
    }
    fn from_bool(_b: bool) -> Self {
        Self::default()
    }
    fn from_number() -> Self {
        Self::default()
    }
    fn from_null() -> Self {
        Self::default()
    }
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Self::default())
    }
    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Self::default())
    }
}

/// Deserializes any JSON value into a [`Lenient`] type.
struct L<T>(T);

impl<'de, T: Lenient> Deserialize<'de> for L<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LVisitor(PhantomData)).map(L)
    }
}

struct LVisitor<T>(PhantomData<T>);

impl<'de, T: Lenient> Visitor<'de> for LVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<T, E> {
        Ok(T::from_bool(b))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<T, E> {
        Ok(T::from_number())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<T, E> {
        Ok(T::from_number())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<T, E> {
        Ok(T::from_number())
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<T, E> {
        Ok(T::from_str(s))
    }
    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Ok(T::from_null())
    }
    fn visit_none<E: de::Error>(self) -> Result<T, E> {
        Ok(T::from_null())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        T::from_seq(seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::from_map(map)
    }
}

fn next<'de, T: Lenient, A: MapAccess<'de>>(map: &mut A) -> Result<T, A::Error> {
    Ok(map.next_value::<L<T>>()?.0)
}

pub(super) fn skip<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<IgnoredAny>().map(|_| ())
}

impl Lenient for Option<String> {
    fn from_str(s: &str) -> Self {
        Some(s.to_string())
    }
}

impl Lenient for Option<bool> {
    fn from_bool(b: bool) -> Self {
        Some(b)
    }
}

/// A map in document order; a repeated key keeps its first place and its last value, as
/// `serde_json`'s ordered map does.
#[derive(Debug, Clone, PartialEq)]
pub struct Entries<V>(pub Vec<(String, V)>);

impl<V> Default for Entries<V> {
    fn default() -> Self {
        Entries(Vec::new())
    }
}

impl<V> Entries<V> {
    fn push(&mut self, k: String, v: V) {
        match self.0.iter_mut().find(|(key, _)| *key == k) {
            Some(slot) => slot.1 = v,
            None => self.0.push((k, v)),
        }
    }

    pub fn get(&self, k: &str) -> Option<&V> {
        self.0.iter().find(|(key, _)| key == k).map(|(_, v)| v)
    }
}

impl<V: Lenient> Lenient for Option<Entries<V>> {
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut out = Entries::default();
        while let Some(k) = map.next_key::<String>()? {
            let v = next::<V, _>(&mut map)?;
            out.push(k, v);
        }
        Ok(Some(out))
    }
}

/// One person as npm writes them: `"Name <email> (url)"` or `{ "name": … }`.
#[derive(Default)]
struct PersonName(Option<String>);

impl Lenient for PersonName {
    fn from_str(s: &str) -> Self {
        PersonName(Some(person_from_string(s)))
    }
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut name = None;
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "name" => name = next::<Option<String>, _>(&mut map)?,
                _ => skip(&mut map)?,
            }
        }
        Ok(PersonName(name))
    }
}

/// npm accepts `"Name <email> (url)"` strings for people.
pub fn person_from_string(s: &str) -> String {
    s.split(['<', '(']).next().unwrap_or(s).trim().to_string()
}

/// A `maintainers` array: how many entries it has, and the names of those that are people,
/// sorted and deduplicated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct People {
    pub entries: usize,
    pub names: Vec<String>,
}

impl Lenient for Option<People> {
    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut p = People::default();
        while let Some(L(PersonName(name))) = seq.next_element::<L<PersonName>>()? {
            p.entries += 1;
            p.names.extend(name);
        }
        p.names.sort();
        p.names.dedup();
        Ok(Some(p))
    }
}

/// `_npmUser` of a version.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum NpmUser {
    #[default]
    Absent,
    Null,
    /// Any other value; `name` is `None` when it names nobody (a number, an object without one).
    Present {
        name: Option<String>,
        /// `trustedPublisher` when set and not `null`: its `id`, or `unknown-provider`.
        trusted_publisher: Option<String>,
    },
}

impl Lenient for NpmUser {
    fn from_str(s: &str) -> Self {
        NpmUser::Present {
            name: Some(person_from_string(s)),
            trusted_publisher: None,
        }
    }
    fn from_bool(_: bool) -> Self {
        NpmUser::Present {
            name: None,
            trusted_publisher: None,
        }
    }
    fn from_number() -> Self {
        NpmUser::Present {
            name: None,
            trusted_publisher: None,
        }
    }
    fn from_null() -> Self {
        NpmUser::Null
    }
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let (mut name, mut tp) = (None, None);
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "name" => name = next::<Option<String>, _>(&mut map)?,
                "trustedPublisher" => tp = next::<TrustedPublisher, _>(&mut map)?.0,
                _ => skip(&mut map)?,
            }
        }
        Ok(NpmUser::Present {
            name,
            trusted_publisher: tp,
        })
    }
    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(NpmUser::Present {
            name: None,
            trusted_publisher: None,
        })
    }
}

#[derive(Default)]
struct TrustedPublisher(Option<String>);

impl Lenient for TrustedPublisher {
    fn from_str(_: &str) -> Self {
        TrustedPublisher(Some(UNKNOWN_PROVIDER.into()))
    }
    fn from_bool(_: bool) -> Self {
        TrustedPublisher(Some(UNKNOWN_PROVIDER.into()))
    }
    fn from_number() -> Self {
        TrustedPublisher(Some(UNKNOWN_PROVIDER.into()))
    }
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut id = None;
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "id" => id = next::<Option<String>, _>(&mut map)?,
                _ => skip(&mut map)?,
            }
        }
        Ok(TrustedPublisher(Some(
            id.unwrap_or_else(|| UNKNOWN_PROVIDER.into()),
        )))
    }
    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(TrustedPublisher(Some(UNKNOWN_PROVIDER.into())))
    }
}

const UNKNOWN_PROVIDER: &str = "unknown-provider";

/// One entry of `dist.signatures`; a field that is not a string reads as empty.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signature {
    pub keyid: String,
    pub sig: String,
}

impl Lenient for Signature {
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut s = Signature::default();
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "keyid" => s.keyid = next::<Option<String>, _>(&mut map)?.unwrap_or_default(),
                "sig" => s.sig = next::<Option<String>, _>(&mut map)?.unwrap_or_default(),
                _ => skip(&mut map)?,
            }
        }
        Ok(s)
    }
}

impl Lenient for Option<Vec<Signature>> {
    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut out = Vec::new();
        while let Some(L(s)) = seq.next_element::<L<Signature>>()? {
            out.push(s);
        }
        Ok(Some(out))
    }
}

/// `dist.attestations`, when the version lists any (any value but `null`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AttestationListing {
    pub url: Option<String>,
    /// `provenance.predicateType`.
    pub predicate_type: Option<String>,
}

#[derive(Default)]
struct Listing(Option<AttestationListing>);

impl Lenient for Listing {
    fn from_str(_: &str) -> Self {
        Listing(Some(AttestationListing::default()))
    }
    fn from_number() -> Self {
        Listing(Some(AttestationListing::default()))
    }
    fn from_bool(_: bool) -> Self {
        Listing(Some(AttestationListing::default()))
    }
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut a = AttestationListing::default();
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "url" => a.url = next::<Option<String>, _>(&mut map)?,
                "provenance" => a.predicate_type = next::<PredicateType, _>(&mut map)?.0,
                _ => skip(&mut map)?,
            }
        }
        Ok(Listing(Some(a)))
    }
    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Listing(Some(AttestationListing::default())))
    }
}

#[derive(Default)]
struct PredicateType(Option<String>);

impl Lenient for PredicateType {
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut t = None;
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "predicateType" => t = next::<Option<String>, _>(&mut map)?,
                _ => skip(&mut map)?,
            }
        }
        Ok(PredicateType(t))
    }
}

/// `dist` of a version: what evidence selection and the tarball check read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dist {
    /// `None` when `dist.signatures` is not an array.
    pub signatures: Option<Vec<Signature>>,
    pub attestations: Option<AttestationListing>,
    pub integrity: Option<String>,
    pub shasum: Option<String>,
    pub tarball: Option<String>,
}

impl Dist {
    /// `dist.signatures` is a non-empty array (whatever its entries are).
    pub fn has_signatures(&self) -> bool {
        self.signatures.as_ref().is_some_and(|s| !s.is_empty())
    }
}

impl Lenient for Dist {
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut d = Dist::default();
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "signatures" => d.signatures = next(&mut map)?,
                "attestations" => d.attestations = next::<Listing, _>(&mut map)?.0,
                "integrity" => d.integrity = next(&mut map)?,
                "shasum" => d.shasum = next(&mut map)?,
                "tarball" => d.tarball = next(&mut map)?,
                _ => skip(&mut map)?,
            }
        }
        Ok(d)
    }
}

/// `engines.node` and `engines.npm`, when they are strings: what npm-pick-manifest weighs when it
/// chooses a version. Other engines are skipped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EngineRanges {
    pub node: Option<String>,
    pub npm: Option<String>,
}

impl Lenient for EngineRanges {
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut e = EngineRanges::default();
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "node" => e.node = next(&mut map)?,
                "npm" => e.npm = next(&mut map)?,
                _ => skip(&mut map)?,
            }
        }
        Ok(e)
    }
}

/// `license`: a string, `{ "type": … }`, or something else.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum License {
    #[default]
    Other,
    Str(String),
    Object {
        kind: Option<String>,
    },
}

impl Lenient for License {
    fn from_str(s: &str) -> Self {
        License::Str(s.to_string())
    }
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut kind = None;
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "type" => kind = next::<Option<String>, _>(&mut map)?,
                _ => skip(&mut map)?,
            }
        }
        Ok(License::Object { kind })
    }
}

/// One entry of the legacy `licenses` array: `{ "type": … }` or a string.
#[derive(Default)]
struct LicenseEntry(Option<String>);

impl Lenient for LicenseEntry {
    fn from_str(s: &str) -> Self {
        LicenseEntry(Some(s.to_string()))
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        Ok(match License::from_map(map)? {
            License::Object { kind } => LicenseEntry(kind),
            _ => LicenseEntry(None),
        })
    }
}

impl Lenient for Option<Vec<Option<String>>> {
    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut out = Vec::new();
        while let Some(L(LicenseEntry(l))) = seq.next_element::<L<LicenseEntry>>()? {
            out.push(l);
        }
        Ok(Some(out))
    }
}

/// `repository`: a string, or an object's `url`.
#[derive(Default)]
struct Repository(Option<String>);

impl Lenient for Repository {
    fn from_str(s: &str) -> Self {
        Repository(Some(s.to_string()))
    }
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut url = None;
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "url" => url = next::<Option<String>, _>(&mut map)?,
                _ => skip(&mut map)?,
            }
        }
        Ok(Repository(url))
    }
}

/// The scripts npm runs at install time, in the order it runs them.
pub const INSTALL_SCRIPTS: [&str; 3] = ["preinstall", "install", "postinstall"];

/// The dependency maps npm installs from, in the order facts list them.
pub const DEPENDENCY_KINDS: [&str; 3] =
    ["dependencies", "optionalDependencies", "peerDependencies"];

/// One version document, reduced to what facts read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VersionDoc {
    /// `None` when `maintainers` is not an array.
    pub maintainers: Option<People>,
    pub npm_user: NpmUser,
    /// `gitHead` is present, whatever its value.
    pub git_head_present: bool,
    /// `gitHead` is a string.
    pub git_head: bool,
    pub dist: Dist,
    pub deprecated: Option<String>,
    pub description: Option<String>,
    pub mcp_name: Option<String>,
    /// The raw URL of `repository` (a string or `repository.url`).
    pub repository: Option<String>,
    pub license: License,
    pub licenses: Option<Vec<Option<String>>>,
    /// The string commands of [`INSTALL_SCRIPTS`] in `scripts`.
    pub install_scripts: BTreeMap<String, String>,
    pub has_install_script: Option<bool>,
    pub has_shrinkwrap: Option<bool>,
    /// One entry per [`DEPENDENCY_KINDS`]; `None` when that field is not an object. A spec that
    /// is not a string is `None`.
    pub dependencies: [Option<Entries<Option<String>>>; 3],
    pub engines: EngineRanges,
}

impl Lenient for VersionDoc {
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut d = VersionDoc::default();
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "maintainers" => d.maintainers = next(&mut map)?,
                "_npmUser" => d.npm_user = next(&mut map)?,
                "gitHead" => {
                    d.git_head_present = true;
                    d.git_head = next::<Option<String>, _>(&mut map)?.is_some();
                }
                "dist" => d.dist = next(&mut map)?,
                "deprecated" => d.deprecated = next(&mut map)?,
                "description" => d.description = next(&mut map)?,
                "mcpName" => d.mcp_name = next(&mut map)?,
                "repository" => d.repository = next::<Repository, _>(&mut map)?.0,
                "license" => d.license = next(&mut map)?,
                "licenses" => d.licenses = next(&mut map)?,
                "scripts" => {
                    let all: Option<Entries<Option<String>>> = next(&mut map)?;
                    d.install_scripts = all
                        .map(|e| {
                            e.0.into_iter()
                                .filter(|(k, _)| INSTALL_SCRIPTS.contains(&k.as_str()))
                                .filter_map(|(k, v)| Some((k, v?)))
                                .collect()
                        })
                        .unwrap_or_default();
                }
                "hasInstallScript" => d.has_install_script = next(&mut map)?,
                "_hasShrinkwrap" => d.has_shrinkwrap = next(&mut map)?,
                "engines" => d.engines = next(&mut map)?,
                other => match DEPENDENCY_KINDS.iter().position(|k| *k == other) {
                    Some(i) => d.dependencies[i] = next(&mut map)?,
                    None => skip(&mut map)?,
                },
            }
        }
        Ok(d)
    }
}

/// What `versions` held.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum VersionsField {
    #[default]
    Absent,
    /// Present but not an object: not a packument.
    NotObject,
    Map(Entries<VersionDoc>),
}

impl Lenient for VersionsField {
    fn from_str(_: &str) -> Self {
        VersionsField::NotObject
    }
    fn from_bool(_: bool) -> Self {
        VersionsField::NotObject
    }
    fn from_number() -> Self {
        VersionsField::NotObject
    }
    fn from_null() -> Self {
        VersionsField::NotObject
    }
    fn from_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(VersionsField::NotObject)
    }
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        let e = <Option<Entries<VersionDoc>>>::from_map(map)?;
        Ok(VersionsField::Map(e.unwrap_or_default()))
    }
}

/// Version documents by version, in document order, with an index for lookups.
#[derive(Debug, Clone, Default)]
pub struct Versions {
    list: Vec<(String, VersionDoc)>,
    index: HashMap<String, usize>,
}

impl Versions {
    fn new(list: Vec<(String, VersionDoc)>) -> Versions {
        let index = list
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (k.clone(), i))
            .collect();
        Versions { list, index }
    }

    pub fn get(&self, version: &str) -> Option<&VersionDoc> {
        self.index.get(version).map(|i| &self.list[*i].1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &VersionDoc)> {
        self.list.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.list.iter().map(|(k, _)| k.as_str())
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// A packument reduced to what facts read.
#[derive(Debug, Clone, Default)]
pub struct Packument {
    /// The document is a JSON object at all.
    pub is_object: bool,
    pub name: Option<String>,
    /// `dist-tags` in document order (`tags.names` lists them so); a tag whose value is not a
    /// string is `None`. Empty when `dist-tags` is not an object.
    pub dist_tags: Entries<Option<String>>,
    /// `time`: the entries whose value is a string.
    pub time: HashMap<String, String>,
    /// The top-level (current) `maintainers`; `None` when it is not an array.
    pub maintainers: Option<People>,
    /// `versions` was present but not an object.
    pub versions_not_object: bool,
    pub versions: Versions,
}

impl Lenient for Packument {
    fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut p = Packument {
            is_object: true,
            ..Packument::default()
        };
        let mut versions = VersionsField::Absent;
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                "name" => p.name = next(&mut map)?,
                "dist-tags" => {
                    p.dist_tags =
                        next::<Option<Entries<Option<String>>>, _>(&mut map)?.unwrap_or_default()
                }
                "time" => {
                    let t: Option<Entries<Option<String>>> = next(&mut map)?;
                    p.time = t
                        .map(|e| e.0.into_iter().filter_map(|(k, v)| Some((k, v?))).collect())
                        .unwrap_or_default();
                }
                "maintainers" => p.maintainers = next(&mut map)?,
                "versions" => versions = next(&mut map)?,
                _ => skip(&mut map)?,
            }
        }
        match versions {
            VersionsField::Absent => {}
            VersionsField::NotObject => p.versions_not_object = true,
            VersionsField::Map(e) => p.versions = Versions::new(e.0),
        }
        Ok(p)
    }
}

impl Packument {
    /// Parses the bytes of a packument. Only invalid JSON is an error: a document of the wrong
    /// shape parses to what it has (see [`Packument::is_object`]).
    pub fn from_slice(bytes: &[u8]) -> Result<Packument, serde_json::Error> {
        serde_json::from_slice::<L<Packument>>(bytes).map(|l| l.0)
    }

    /// The same view of an already-parsed document (tests, fixtures).
    pub fn from_value(v: &Value) -> Packument {
        L::<Packument>::deserialize(v)
            .map(|l| l.0)
            .unwrap_or_default()
    }

    /// `time[version]`, when it is a string.
    pub fn time_of(&self, version: &str) -> Option<&str> {
        self.time.get(version).map(String::as_str)
    }

    /// The value of a dist-tag, when it is a string.
    pub fn dist_tag(&self, tag: &str) -> Option<&str> {
        self.dist_tags.get(tag).and_then(|v| v.as_deref())
    }
}

impl crate::spec::VersionList for Packument {
    fn version_list(&self) -> Option<Vec<(&str, bool)>> {
        if self.versions_not_object || !self.is_object {
            return None;
        }
        Some(
            self.versions
                .iter()
                .map(|(k, d)| (k, d.deprecated.as_deref().is_some_and(|s| !s.is_empty())))
                .collect(),
        )
    }

    fn dist_tag(&self, tag: &str) -> Option<&str> {
        Packument::dist_tag(self, tag)
    }

    fn engines(&self, version: &str) -> (Option<&str>, Option<&str>) {
        match self.versions.get(version) {
            Some(d) => (d.engines.node.as_deref(), d.engines.npm.as_deref()),
            None => (None, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "name": "x",
            "readme": "skipped",
            "dist-tags": {"next": "2.0.0-rc.1", "latest": "1.0.0", "odd": 3},
            "time": {"1.0.0": "2026-01-01T00:00:00Z", "created": 5},
            "maintainers": [{"name": "bob"}, "alice <a@x>", 7, {"name": "bob"}],
            "versions": {
                "1.0.0": {
                    "_npmUser": {"name": "ci", "trustedPublisher": {"id": "github"}},
                    "gitHead": null,
                    "dist": {"signatures": [{"keyid": "k", "sig": 1}], "integrity": "sha512-x",
                             "attestations": {"url": "https://r/a", "provenance": {"predicateType": "p"}}},
                    "scripts": {"postinstall": "node x", "test": "t", "install": 1},
                    "dependencies": {"b": "^1", "a": null, "b": "2"},
                    "license": {"type": "MIT"},
                    "repository": {"url": "git+https://github.com/o/r.git"}
                },
                "0.1.0": null,
                "0.2.0": {"_npmUser": 7, "dist": [], "maintainers": "bob"}
            }
        })
    }

    #[test]
    fn reads_what_facts_need_and_tolerates_wrong_types() {
        let v = doc();
        let p = Packument::from_slice(&serde_json::to_vec(&v).unwrap()).unwrap();
        assert!(p.is_object);
        assert_eq!(p.name.as_deref(), Some("x"));
        let tags: Vec<&str> = p.dist_tags.0.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(tags, ["next", "latest", "odd"]);
        assert_eq!(p.dist_tag("odd"), None);
        assert_eq!(p.time_of("created"), None);
        let m = p.maintainers.as_ref().unwrap();
        assert_eq!(
            (m.entries, m.names.clone()),
            (4, vec!["alice".into(), "bob".into()])
        );
        assert_eq!(
            p.versions.keys().collect::<Vec<_>>(),
            ["1.0.0", "0.1.0", "0.2.0"]
        );
        let d = p.versions.get("1.0.0").unwrap();
        assert_eq!(
            d.npm_user,
            NpmUser::Present {
                name: Some("ci".into()),
                trusted_publisher: Some("github".into())
            }
        );
        assert!(d.git_head_present && !d.git_head);
        let sigs = d.dist.signatures.as_ref().unwrap();
        assert_eq!((sigs[0].keyid.as_str(), sigs[0].sig.as_str()), ("k", ""));
        let att = d.dist.attestations.as_ref().unwrap();
        assert_eq!(att.predicate_type.as_deref(), Some("p"));
        assert_eq!(d.install_scripts.len(), 1);
        let deps = d.dependencies[0].as_ref().unwrap();
        assert_eq!(
            deps.0,
            vec![("b".to_string(), Some("2".to_string())), ("a".into(), None)]
        );
        assert_eq!(p.versions.get("0.1.0"), Some(&VersionDoc::default()));
        let odd = p.versions.get("0.2.0").unwrap();
        assert!(matches!(odd.npm_user, NpmUser::Present { name: None, .. }));
        assert_eq!(odd.maintainers, None);
        // The same view from a parsed value.
        assert_eq!(Packument::from_value(&v).versions.get("1.0.0"), Some(d));
    }

    #[test]
    fn shapes_that_are_not_packuments_are_told_apart() {
        assert!(!Packument::from_slice(b"[1]").unwrap().is_object);
        assert!(
            Packument::from_slice(br#"{"versions": []}"#)
                .unwrap()
                .versions_not_object
        );
        assert!(Packument::from_slice(b"{").is_err());
    }
}
