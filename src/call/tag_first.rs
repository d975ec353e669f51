//! The signaling enums on the wire: one JSON object whose first field names
//! the variant (`{"type": "welcome", "version": 2, …}`), as serde's
//! internally tagged enums write it, but read without their buffering.
//!
//! serde reads an internally tagged enum by first copying the whole object
//! into a generic buffer, because the tag may come anywhere in it. In the
//! browser that buffer and a second copy of every variant's reader weigh
//! about 8 KB of the compressed WASM bundle. Here the enum keeps serde's
//! plain (externally tagged) derive, generated as inherent functions with
//! `#[serde(remote = "Self")]`, and these adapters turn the variant into the
//! tag field and back. Writing puts the tag first, so reading can insist on
//! it and stream the rest of the fields straight into the variant.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::ser::{self, Impossible, SerializeStruct, Serializer};

/// Writes the enum `S` will see as an externally tagged variant as one
/// object with `tag` first.
pub struct Writer<S> {
    tag: &'static str,
    inner: S,
}

impl<S> Writer<S> {
    pub fn new(tag: &'static str, inner: S) -> Self {
        Writer { tag, inner }
    }
}

/// Reads one object whose first field is `tag`, as the variant it names.
pub struct Reader<D> {
    tag: &'static str,
    inner: D,
}

impl<D> Reader<D> {
    pub fn new(tag: &'static str, inner: D) -> Self {
        Reader { tag, inner }
    }
}

fn not_a_variant<E: ser::Error>() -> E {
    E::custom("only an enum's variants are written with a tag")
}

/// A struct variant's fields, after its tag.
pub struct Fields<S: Serializer>(S::SerializeStruct);

impl<S: Serializer> ser::SerializeStructVariant for Fields<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_field<T: ?Sized + ser::Serialize>(&mut self, key: &'static str, value: &T) -> Result<(), S::Error> {
        self.0.serialize_field(key, value)
    }

    fn skip_field(&mut self, key: &'static str) -> Result<(), S::Error> {
        self.0.skip_field(key)
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

macro_rules! refuse {
    ($($method:ident($($arg:ty),*) -> $ret:ty;)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<$ret, S::Error> { Err(not_a_variant()) })*
    };
}

impl<S: Serializer> Serializer for Writer<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Impossible<S::Ok, S::Error>;
    type SerializeTuple = Impossible<S::Ok, S::Error>;
    type SerializeTupleStruct = Impossible<S::Ok, S::Error>;
    type SerializeTupleVariant = Impossible<S::Ok, S::Error>;
    type SerializeMap = Impossible<S::Ok, S::Error>;
    type SerializeStruct = Impossible<S::Ok, S::Error>;
    type SerializeStructVariant = Fields<S>;

    fn serialize_unit_variant(self, name: &'static str, _: u32, variant: &'static str) -> Result<S::Ok, S::Error> {
        let mut object = self.inner.serialize_struct(name, 1)?;
        object.serialize_field(self.tag, variant)?;
        object.end()
    }

    fn serialize_struct_variant(self, name: &'static str, _: u32, variant: &'static str, len: usize) -> Result<Fields<S>, S::Error> {
        let mut object = self.inner.serialize_struct(name, len + 1)?;
        object.serialize_field(self.tag, variant)?;
        Ok(Fields(object))
    }

    fn serialize_newtype_variant<T: ?Sized + ser::Serialize>(self, _: &'static str, _: u32, _: &'static str, _: &T) -> Result<S::Ok, S::Error> {
        Err(not_a_variant())
    }

    fn serialize_some<T: ?Sized + ser::Serialize>(self, _: &T) -> Result<S::Ok, S::Error> {
        Err(not_a_variant())
    }

    fn serialize_newtype_struct<T: ?Sized + ser::Serialize>(self, _: &'static str, _: &T) -> Result<S::Ok, S::Error> {
        Err(not_a_variant())
    }

    refuse! {
        serialize_bool(bool) -> S::Ok;
        serialize_i8(i8) -> S::Ok;
        serialize_i16(i16) -> S::Ok;
        serialize_i32(i32) -> S::Ok;
        serialize_i64(i64) -> S::Ok;
        serialize_u8(u8) -> S::Ok;
        serialize_u16(u16) -> S::Ok;
        serialize_u32(u32) -> S::Ok;
        serialize_u64(u64) -> S::Ok;
        serialize_f32(f32) -> S::Ok;
        serialize_f64(f64) -> S::Ok;
        serialize_char(char) -> S::Ok;
        serialize_str(&str) -> S::Ok;
        serialize_bytes(&[u8]) -> S::Ok;
        serialize_none() -> S::Ok;
        serialize_unit() -> S::Ok;
        serialize_unit_struct(&'static str) -> S::Ok;
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
    }
}

impl<'de, D: de::Deserializer<'de>> de::Deserializer<'de> for Reader<D> {
    type Error = D::Error;

    fn deserialize_enum<V: Visitor<'de>>(self, _: &'static str, _: &'static [&'static str], visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_map(Tagged { tag: self.tag, visitor })
    }

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, D::Error> {
        Err(de::Error::custom("only an enum is read by its tag"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

/// Reads the tag, then hands the rest of the object to the variant.
struct Tagged<V> {
    tag: &'static str,
    visitor: V,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Tagged<V> {
    type Value = V::Value;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        write!(formatter, "an object whose first field is `{}`", self.tag)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<V::Value, A::Error> {
        if map.next_key_seed(Key(self.tag))?.is_none() {
            return Err(de::Error::custom(format_args!("the object has no `{}`", self.tag)));
        }
        self.visitor.visit_enum(Variant { map, _de: PhantomData })
    }
}

/// The first key, which must be the tag.
struct Key(&'static str);

impl<'de> DeserializeSeed<'de> for Key {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        write!(formatter, "`{}` as the first field", self.0)
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<(), E> {
        if key == self.0 {
            Ok(())
        } else {
            Err(E::custom(format_args!("the first field must be `{}`, not `{key}`", self.0)))
        }
    }
}

/// The variant the tag names, and the rest of the object as its fields.
struct Variant<'de, A> {
    map: A,
    _de: PhantomData<&'de ()>,
}

impl<'de, A: MapAccess<'de>> de::EnumAccess<'de> for Variant<'de, A> {
    type Error = A::Error;
    type Variant = Self;

    fn variant_seed<T: DeserializeSeed<'de>>(mut self, seed: T) -> Result<(T::Value, Self), A::Error> {
        let variant = self.map.next_value_seed(seed)?;
        Ok((variant, self))
    }
}

impl<'de, A: MapAccess<'de>> de::VariantAccess<'de> for Variant<'de, A> {
    type Error = A::Error;

    fn unit_variant(mut self) -> Result<(), A::Error> {
        match self.map.next_key::<de::IgnoredAny>()? {
            None => Ok(()),
            Some(_) => Err(de::Error::custom("this variant has no fields")),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        seed.deserialize(de::value::MapAccessDeserializer::new(self.map))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, A::Error> {
        Err(de::Error::custom("a tagged object has no tuple variants"))
    }

    fn struct_variant<V: Visitor<'de>>(self, _: &'static [&'static str], visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_map(self.map)
    }
}

/// Gives `$enum` the wire form "one object, `$tag` first", from its
/// `#[serde(remote = "Self")]` derive.
macro_rules! tagged_first {
    ($enum:ty, $tag:literal) => {
        impl serde::Serialize for $enum {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                <$enum>::serialize(self, $crate::call::tag_first::Writer::new($tag, serializer))
            }
        }

        impl<'de> serde::Deserialize<'de> for $enum {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                <$enum>::deserialize($crate::call::tag_first::Reader::new($tag, deserializer))
            }
        }
    };
}
pub(crate) use tagged_first;
