//! One version's whole document, read again from the packument's bytes with everything else
//! skipped: only the tarball's manifest comparison needs a version in full, and only once.

use std::fmt;

use serde::de::{
    self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde_json::Value;

use super::packument::skip;

/// The document of `version` as a `Value`; `Value::Null` when the packument does not hold it.
pub fn version_document(bytes: &[u8], version: &str) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let v = KeyPath(&["versions", version]).deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// Descends one object key per step and keeps only the value at the end of the path; every
/// sibling is skipped unparsed, and a non-object on the way reads as `Null`.
struct KeyPath<'a>(&'a [&'a str]);

impl<'de> DeserializeSeed<'de> for KeyPath<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        match self.0 {
            [] => Value::deserialize(d),
            _ => d.deserialize_any(self),
        }
    }
}

impl<'de> Visitor<'de> for KeyPath<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object with `{}`", self.0[0])
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut found = Value::Null;
        while let Some(k) = map.next_key::<String>()? {
            if k == self.0[0] {
                // A repeated key replaces the earlier one, as in a parsed `Value`.
                found = map.next_value_seed(KeyPath(&self.0[1..]))?;
            } else {
                skip(&mut map)?;
            }
        }
        Ok(found)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Value::Null)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({"name": "x", "readme": "r", "versions": {
            "1.0.0": {"name": "x", "scripts": {"postinstall": "node x"}, "dist": {"a": [1, null]}},
            "2.0.0": {"readme": "big"}}})
    }

    #[test]
    fn one_version_is_read_again_in_full() {
        let bytes = serde_json::to_vec(&doc()).unwrap();
        let one = version_document(&bytes, "1.0.0").unwrap();
        assert_eq!(one, doc()["versions"]["1.0.0"]);
        assert_eq!(version_document(b"[]", "1").unwrap(), Value::Null);
        assert_eq!(version_document(&bytes, "9.9.9").unwrap(), Value::Null);
        assert!(version_document(b"{\"versions\": {", "1").is_err());
    }
}
