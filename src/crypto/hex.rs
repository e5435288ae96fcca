//! Hex encoding, the two cases WeChat Pay uses.

const LOWER: &[u8; 16] = b"0123456789abcdef";
const UPPER: &[u8; 16] = b"0123456789ABCDEF";

fn encode(bytes: &[u8], digits: &[u8; 16]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(digits[usize::from(b >> 4)] as char);
        out.push(digits[usize::from(b & 0x0f)] as char);
    }
    out
}

/// Lowercase hex, as PHP's `md5()`/`hash_final()` print.
pub(crate) fn lower(bytes: &[u8]) -> String {
    encode(bytes, LOWER)
}

/// Uppercase hex, as APIv2 signatures and certificate serials are written.
pub(crate) fn upper(bytes: &[u8]) -> String {
    encode(bytes, UPPER)
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_cases() {
        assert_eq!(super::lower(&[0x00, 0xab, 0x0f]), "00ab0f");
        assert_eq!(super::upper(&[0x00, 0xab, 0x0f]), "00AB0F");
        assert_eq!(super::lower(&[]), "");
    }
}
