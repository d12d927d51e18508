//! The bytes of a serialized `std_msgs/String`, read without r2r's conversion.
//!
//! On the wire a ROS 2 string is a byte string: nothing stops a peer from sending bytes
//! that are not UTF-8, or a NUL. r2r's typed subscription turns such a message into ""
//! (invalid UTF-8) or cuts it at the first NUL, so the agent could not say what it got.
//! The voice command topic is therefore read raw, and its bytes come from here.
//!
//! Layout (OMG CDR, as rmw_fastrtps serializes it): a 4-byte encapsulation header whose
//! second byte gives the byte order (0x00/0x01 plain CDR, 0x06/0x07 plain XCDR2; odd =
//! little endian), a u32 length that counts a terminating NUL, the bytes, the NUL.

/// Why a serialized message is not a `std_msgs/String`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CdrError {
    /// Fewer bytes than the header and the length need.
    Truncated {
        /// Bytes needed.
        need: usize,
        /// Bytes there.
        have: usize,
    },
    /// An encapsulation this reader does not know (e.g. a delimited XCDR2 type).
    Encapsulation(u16),
    /// The length is 0: a CDR string always counts its terminating NUL.
    NoTerminator,
}

impl std::fmt::Display for CdrError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CdrError::Truncated { need, have } => {
                write!(f, "message truncated: {have} bytes, {need} needed")
            }
            CdrError::Encapsulation(e) => write!(f, "unsupported CDR encapsulation {e:#06x}"),
            CdrError::NoTerminator => write!(f, "string length 0 (no terminating NUL)"),
        }
    }
}

impl std::error::Error for CdrError {}

/// The bytes of the one string field of a serialized `std_msgs/String`, without the
/// terminating NUL (any NUL inside is kept: the caller decides what it means).
pub fn string_bytes(raw: &[u8]) -> Result<&[u8], CdrError> {
    let header = raw.get(..8).ok_or(CdrError::Truncated {
        need: 8,
        have: raw.len(),
    })?;
    let encapsulation = u16::from_be_bytes([header[0], header[1]]);
    let len_bytes = [header[4], header[5], header[6], header[7]];
    let len = match encapsulation {
        0x0001 | 0x0007 => u32::from_le_bytes(len_bytes),
        0x0000 | 0x0006 => u32::from_be_bytes(len_bytes),
        other => return Err(CdrError::Encapsulation(other)),
    };
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    if len == 0 {
        return Err(CdrError::NoTerminator);
    }
    let body = raw
        .get(8..8usize.saturating_add(len))
        .ok_or(CdrError::Truncated {
            need: 8usize.saturating_add(len),
            have: raw.len(),
        })?;
    // The last counted byte is the terminator; a sender that left it out loses nothing.
    Ok(match body.split_last() {
        Some((0, text)) => text,
        _ => body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le(text: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 1, 0, 0];
        v.extend((text.len() as u32 + 1).to_le_bytes());
        v.extend(text);
        v.push(0);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    #[test]
    fn little_and_big_endian_strings_read_back_exactly() {
        assert_eq!(string_bytes(&le(b"turn left")), Ok(&b"turn left"[..]));
        assert_eq!(string_bytes(&le(b"")), Ok(&b""[..]));
        let mut be = vec![0, 0, 0, 0];
        be.extend(4u32.to_be_bytes());
        be.extend(b"abc\0");
        assert_eq!(string_bytes(&be), Ok(&b"abc"[..]));
    }

    #[test]
    fn any_bytes_survive_invalid_utf8_and_nul_included() {
        let raw = b"go \xff\xfe\0 on";
        assert_eq!(string_bytes(&le(raw)), Ok(&raw[..]));
    }

    #[test]
    fn malformed_messages_are_typed_errors() {
        assert_eq!(
            string_bytes(&[0, 1, 0]),
            Err(CdrError::Truncated { need: 8, have: 3 })
        );
        let mut long = le(b"abc");
        long[4] = 200;
        assert!(matches!(
            string_bytes(&long),
            Err(CdrError::Truncated { need: 208, .. })
        ));
        let mut zero = le(b"");
        zero[4] = 0;
        assert_eq!(string_bytes(&zero), Err(CdrError::NoTerminator));
        let mut odd = le(b"x");
        odd[1] = 0x0b;
        assert_eq!(string_bytes(&odd), Err(CdrError::Encapsulation(0x000b)));
        let mut huge = le(b"x");
        huge[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(string_bytes(&huge).is_err());
    }
}
