//! Serializers: how a typed value becomes an event's data.
//!
//! [`Text`] writes a value's `Display` form and is the default; [`Json`]
//! writes it with `serde_json`. A custom serializer is a [`Format`] and
//! implements [`Serializer<T>`] for the types it can encode, the way Ktor's
//! `serialize = { typeInfo, it -> ... }` does:
//!
//! ```
//! use std::fmt::Write;
//! use sse_runtime::serializer::{DataWriter, Format, SerializeError, Serializer};
//!
//! /// Writes a list as comma-separated values.
//! #[derive(Clone, Copy, Debug, Default)]
//! struct Csv;
//!
//! impl Format for Csv {}
//!
//! impl<T: std::fmt::Display> Serializer<Vec<T>> for Csv {
//!     fn serialize(&self, value: &Vec<T>, out: &mut DataWriter<'_>) -> Result<(), SerializeError> {
//!         for (i, item) in value.iter().enumerate() {
//!             let sep = if i == 0 { "" } else { "," };
//!             write!(out, "{sep}{item}").map_err(SerializeError::new)?;
//!         }
//!         Ok(())
//!     }
//! }
//! ```
//!
//! Whatever a serializer writes is sent as the event's data: it must be UTF-8
//! (anything else is a [`SerializeError`]), and line breaks in it become
//! separate `data:` lines, which clients join back with LF.

use std::fmt;
use std::io;

use bytes::{BufMut, BytesMut};

/// Encodes values of type `T` as event data.
///
/// Implemented by [`Text`] for every `T: Display` and by [`Json`] for every
/// `T: serde::Serialize`. The typed send path of a session is generic over it,
/// so sending a value the route's serializer cannot encode does not compile.
///
/// ```
/// use sse_runtime::serializer::{Json, Serializer};
///
/// fn encodable<S: Serializer<T>, T>() {}
/// encodable::<Json, Vec<u32>>();
/// ```
#[diagnostic::on_unimplemented(
    message = "the serializer `{Self}` cannot encode `{T}` as event data",
    label = "`{Self}` cannot encode `{T}`",
    note = "`Text` encodes types that implement `std::fmt::Display`; `Json` encodes types that \
            implement `serde::Serialize` (add `#[derive(serde::Serialize)]`); a custom serializer \
            needs `impl Serializer<{T}> for {Self}`"
)]
pub trait Serializer<T: ?Sized>: Send + Sync + 'static {
    /// Writes `value` into `out`. On error, whatever was written is discarded
    /// and no event is sent.
    fn serialize(&self, value: &T, out: &mut DataWriter<'_>) -> Result<(), SerializeError>;
}

/// Decodes event data into values of type `T`: what a [`Serializer`] wrote,
/// read back by the client (`sse_runtime::client`, the `client` feature).
///
/// Implemented by [`Text`] for every `T: FromStr` and by [`Json`] for every
/// `T: serde::de::DeserializeOwned`.
///
/// ```
/// use sse_runtime::serializer::{Decode, Json};
///
/// let prices: Vec<u32> = Json.decode("[100,200]").unwrap();
/// assert_eq!(prices, [100, 200]);
/// ```
#[diagnostic::on_unimplemented(
    message = "the serializer `{Self}` cannot decode event data into `{T}`",
    label = "`{Self}` cannot decode `{T}`",
    note = "`Text` decodes types that implement `std::str::FromStr`; `Json` decodes types that \
            implement `serde::Deserialize` (add `#[derive(serde::Deserialize)]`); a custom \
            serializer needs `impl Decode<{T}> for {Self}`"
)]
pub trait Decode<T>: Send + Sync + 'static {
    /// Decodes one event's data.
    fn decode(&self, data: &str) -> Result<T, DecodeError>;
}

/// The default serializer: a value's `Display` form.
///
/// ```
/// use sse_runtime::serializer::{Serializer, Text};
/// # use sse_runtime::serializer::DataWriter;
/// fn accepts<S: Serializer<T>, T>() {}
/// accepts::<Text, u64>();
/// accepts::<Text, &str>();
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Text;

/// Encodes values as JSON with `serde_json`.
///
/// ```
/// use sse_runtime::serializer::{Json, Serializer};
///
/// #[derive(serde::Serialize)]
/// struct Customer { id: u32 }
///
/// fn accepts<S: Serializer<T>, T>() {}
/// accepts::<Json, Customer>();
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Json;

impl Format for Text {}

impl<T: fmt::Display + ?Sized> Serializer<T> for Text {
    fn serialize(&self, value: &T, out: &mut DataWriter<'_>) -> Result<(), SerializeError> {
        fmt::Write::write_fmt(out, format_args!("{value}")).map_err(|_| {
            SerializeError::msg("a `Display` implementation returned an error".to_owned())
        })
    }
}

impl Format for Json {}

impl<T: serde::Serialize + ?Sized> Serializer<T> for Json {
    fn serialize(&self, value: &T, out: &mut DataWriter<'_>) -> Result<(), SerializeError> {
        serde_json::to_writer(out, value).map_err(SerializeError::new)
    }
}

impl<T> Decode<T> for Text
where
    T: std::str::FromStr,
    T::Err: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn decode(&self, data: &str) -> Result<T, DecodeError> {
        data.parse().map_err(DecodeError::new)
    }
}

impl<T: serde::de::DeserializeOwned> Decode<T> for Json {
    fn decode(&self, data: &str) -> Result<T, DecodeError> {
        serde_json::from_str(data).map_err(DecodeError::new)
    }
}

/// A serialization format: what a route's `serializer = ..` names. Says
/// nothing but that, so that naming a type that is not one
/// (`serializer = Duration`) is an error on the attribute, even before
/// anything is sent. A format used in an attribute is also `Default` (the
/// route makes it with `Default::default()`) and a [`Serializer`] of the
/// types it sends; a serializer only passed to
/// [`Session::send_value`](crate::Session::send_value) needs neither.
///
/// ```
/// use sse_runtime::serializer::Format;
/// #[derive(Default)]
/// struct Csv;
/// impl Format for Csv {}
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a serializer",
    label = "not a serialization format",
    note = "use `serializer = Json` or `serializer = Text` (the default), or make your own: a `Default` type with `impl Format for {Self} {{}}` and `impl Serializer<T> for {Self}` for the types it encodes"
)]
pub trait Format: Send + Sync + 'static {}

/// Where a [`Serializer`] writes: implements both [`std::fmt::Write`] and
/// [`std::io::Write`], and appends straight into the session's outgoing buffer.
///
/// ```
/// use std::fmt::Write;
/// use sse_runtime::serializer::{DataWriter, SerializeError, Serializer};
///
/// struct Shout;
/// impl Serializer<str> for Shout {
///     fn serialize(&self, value: &str, out: &mut DataWriter<'_>) -> Result<(), SerializeError> {
///         out.write_str(&value.to_uppercase()).map_err(SerializeError::new)
///     }
/// }
/// ```
pub struct DataWriter<'a> {
    buf: &'a mut BytesMut,
}

impl<'a> DataWriter<'a> {
    pub(crate) fn new(buf: &'a mut BytesMut) -> Self {
        Self { buf }
    }
}

impl fmt::Debug for DataWriter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataWriter").finish_non_exhaustive()
    }
}

impl fmt::Write for DataWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.buf.put_slice(s.as_bytes());
        Ok(())
    }
}

impl io::Write for DataWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buf.put_slice(bytes);
        Ok(bytes.len())
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.buf.put_slice(bytes);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A value could not be serialized; nothing was sent.
///
/// ```
/// use sse_runtime::serializer::SerializeError;
/// let err = SerializeError::msg("map keys must be strings".to_owned());
/// assert_eq!(err.to_string(), "could not serialize the event data: map keys must be strings");
/// ```
#[derive(Debug, thiserror::Error)]
#[error("could not serialize the event data: {source}")]
pub struct SerializeError {
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl SerializeError {
    /// Wraps the error a serializer failed with.
    ///
    /// ```
    /// let err = sse_runtime::serializer::SerializeError::new(std::fmt::Error);
    /// # let _ = err;
    /// ```
    pub fn new(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            source: source.into(),
        }
    }

    /// An error with only a message.
    ///
    /// ```
    /// let err = sse_runtime::serializer::SerializeError::msg("unsupported".to_owned());
    /// # let _ = err;
    /// ```
    pub fn msg(message: String) -> Self {
        Self::new(message)
    }
}

/// Event data could not be decoded into the expected type.
///
/// ```
/// use sse_runtime::serializer::{Decode, Json};
///
/// let err = Decode::<u32>::decode(&Json, "\"seven\"").unwrap_err();
/// assert!(err.to_string().starts_with("could not decode the event data: "));
/// ```
#[derive(Debug, thiserror::Error)]
#[error("could not decode the event data: {source}")]
pub struct DecodeError {
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl DecodeError {
    /// Wraps the error a decoder failed with.
    ///
    /// ```
    /// let err = sse_runtime::serializer::DecodeError::new("not a number");
    /// # let _ = err;
    /// ```
    pub fn new(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            source: source.into(),
        }
    }
}
