//! The methods a route answers: `GET` by default, so that an `EventSource`
//! can open it; `POST`, `PUT`, `PATCH` and `DELETE` for streams opened by
//! `fetch`-based clients with a request body (LLM APIs, MCP).

use std::fmt;

use http::Method;

/// A set of the methods a stream can be opened with: a copyable bit set,
/// so that checking a request's method costs nothing.
///
/// ```
/// use sse_runtime::Methods;
/// let methods = Methods::GET | Methods::POST;
/// assert!(methods.contains(&http::Method::POST));
/// assert!(!methods.contains(&http::Method::PUT));
/// assert_eq!(methods.to_string(), "GET, POST");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Methods(u8);

/// Each method with its bit, in the order `Allow` lists them.
const ALL: [(Method, u8); 5] = [
    (Method::GET, 1),
    (Method::POST, 2),
    (Method::PUT, 4),
    (Method::PATCH, 8),
    (Method::DELETE, 16),
];

impl Methods {
    /// `GET` alone: what a route answers unless it says otherwise.
    pub const GET: Self = Self(1);
    /// `POST`.
    pub const POST: Self = Self(2);
    /// `PUT`.
    pub const PUT: Self = Self(4);
    /// `PATCH`.
    pub const PATCH: Self = Self(8);
    /// `DELETE`.
    pub const DELETE: Self = Self(16);

    /// No method: what `Allow` lists for nothing.
    ///
    /// ```
    /// assert!(sse_runtime::Methods::NONE.is_empty());
    /// ```
    pub const NONE: Self = Self(0);

    /// The method `method` alone, if a stream can be opened with it.
    ///
    /// ```
    /// use sse_runtime::Methods;
    /// assert_eq!(Methods::of(&http::Method::PATCH), Some(Methods::PATCH));
    /// assert_eq!(Methods::of(&http::Method::OPTIONS), None);
    /// ```
    pub fn of(method: &Method) -> Option<Self> {
        ALL.iter()
            .find(|(known, _)| known == method)
            .map(|&(_, bit)| Self(bit))
    }

    /// Whether `method` is in the set.
    ///
    /// ```
    /// assert!(sse_runtime::Methods::GET.contains(&http::Method::GET));
    /// ```
    pub fn contains(self, method: &Method) -> bool {
        Self::of(method).is_some_and(|one| self.0 & one.0 != 0)
    }

    /// Whether the two sets share a method.
    ///
    /// ```
    /// use sse_runtime::Methods;
    /// assert!((Methods::GET | Methods::POST).overlaps(Methods::POST));
    /// assert!(!Methods::GET.overlaps(Methods::POST));
    /// ```
    pub fn overlaps(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether the set is empty.
    ///
    /// ```
    /// assert!(!sse_runtime::Methods::GET.is_empty());
    /// ```
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The methods in the set, in the order `Allow` lists them.
    ///
    /// ```
    /// use sse_runtime::Methods;
    /// let listed: Vec<_> = (Methods::POST | Methods::GET).iter().collect();
    /// assert_eq!(listed, [http::Method::GET, http::Method::POST]);
    /// ```
    pub fn iter(self) -> impl Iterator<Item = Method> {
        ALL.into_iter()
            .filter(move |&(_, bit)| self.0 & bit != 0)
            .map(|(method, _)| method)
    }
}

impl Default for Methods {
    /// `GET`.
    fn default() -> Self {
        Self::GET
    }
}

impl std::ops::BitOr for Methods {
    type Output = Self;

    fn bitor(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

impl std::ops::BitOrAssign for Methods {
    fn bitor_assign(&mut self, other: Self) {
        self.0 |= other.0;
    }
}

/// As `Allow` lists them: `GET, POST`.
impl fmt::Display for Methods {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, method) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(method.as_str())?;
        }
        Ok(())
    }
}

impl fmt::Debug for Methods {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Methods({self})")
    }
}
