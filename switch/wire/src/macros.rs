//! `enum_with_unknown!`: open enums for protocol numbers.
//!
//! Protocol number spaces (EtherType, IP protocol, ICMP type, ...) are open:
//! a switch must carry values it has no name for. Each such enum names the
//! values we act on and keeps every other one in an `Unknown(raw)` variant, so
//! conversion from the raw number is total and never fails. Round trips
//! `raw -> enum -> raw` are exact; `Unknown(v)` for a `v` that has a name is
//! never produced by `From<raw>`.

/// Declares an enum over a raw integer type with an `Unknown(raw)` variant
/// and the two `From` conversions.
///
/// Every listed variant must carry a doc comment (the crate denies missing
/// docs).
macro_rules! enum_with_unknown {
    (
        $(#[$enum_meta:meta])*
        pub enum $name:ident($raw:ty) {
            $(
                $(#[$variant_meta:meta])*
                $variant:ident = $value:literal
            ),+ $(,)?
        }
    ) => {
        $(#[$enum_meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $(
                $(#[$variant_meta])*
                $variant,
            )+
            /// A value this crate has no name for.
            Unknown($raw),
        }

        impl ::core::convert::From<$raw> for $name {
            fn from(value: $raw) -> Self {
                match value {
                    $( $value => $name::$variant, )+
                    other => $name::Unknown(other),
                }
            }
        }

        impl ::core::convert::From<$name> for $raw {
            fn from(value: $name) -> Self {
                match value {
                    $( $name::$variant => $value, )+
                    $name::Unknown(other) => other,
                }
            }
        }
    };
}
