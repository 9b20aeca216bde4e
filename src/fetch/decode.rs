//! Character encodings: every body leaves here as UTF-8 with a declaration that says so,
//! because feed-rs reads only a BOM or the XML declaration and would ignore a charset
//! sent in the HTTP header.
//!
//! Precedence, as RFC 7303 puts it: a byte order mark; then the charset of the
//! Content-Type header; then the XML declaration; then UTF-8. One exception for a
//! common misconfiguration: a header claiming a Latin single-byte charset over a body
//! that is valid UTF-8 and declares UTF-8 is taken at the body's word.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252};

/// The encoding chosen for a body, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detected {
    pub encoding: &'static Encoding,
    pub from: EncodingSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodingSource {
    ByteOrderMark,
    HttpHeader,
    XmlDeclaration,
    Default,
}

/// Transcodes a body to UTF-8 (no BOM) and rewrites its XML declaration to say so.
/// [`to_utf8`] of a body this call may keep: a UTF-8 body (no BOM, valid) is
/// returned in its own buffer, checked once, with at most its declaration's encoding
/// name rewritten in place (`utf-8` → `UTF-8`, the common case, is the same length
/// and moves no other byte). The same bytes as [`to_utf8`], always.
pub fn into_utf8(mut body: Vec<u8>, content_type: Option<&str>) -> Vec<u8> {
    let utf8 = utf32_to_string(&body).is_none()
        && Encoding::for_bom(&body).is_none()
        && detect(&body, content_type).encoding == UTF_8;
    let Some(rewrite) = utf8
        .then(|| std::str::from_utf8(&body).ok().map(declared_name))
        .flatten()
    else {
        return to_utf8(&body, content_type);
    };
    if let Some(name) = rewrite {
        body.splice(name, UTF_8_NAME.bytes());
    }
    body
}

pub fn to_utf8(body: &[u8], content_type: Option<&str>) -> Vec<u8> {
    if let Some(text) = utf32_to_string(body) {
        return declare_utf8(&text).into_owned().into_bytes();
    }
    let detected = detect(body, content_type);
    let without_bom = match Encoding::for_bom(body) {
        Some((_, len)) => &body[len..],
        None => body,
    };
    let (text, _) = detected.encoding.decode_without_bom_handling(without_bom);
    declare_utf8(&text).into_owned().into_bytes()
}

/// Chooses the encoding of a body.
pub fn detect(body: &[u8], content_type: Option<&str>) -> Detected {
    if let Some((encoding, _)) = Encoding::for_bom(body) {
        return Detected {
            encoding,
            from: EncodingSource::ByteOrderMark,
        };
    }
    let declared = declared_encoding(body);
    if let Some(encoding) = content_type
        .and_then(charset_param)
        .and_then(|c| Encoding::for_label(c.as_bytes()))
    {
        let body_says_utf8 = declared == Some(UTF_8) && std::str::from_utf8(body).is_ok();
        let header_is_latin = encoding == WINDOWS_1252;
        if !(header_is_latin && body_says_utf8) {
            return Detected {
                encoding: utf16_for_unmarked(encoding, body),
                from: EncodingSource::HttpHeader,
            };
        }
    }
    if let Some(encoding) = declared {
        return Detected {
            encoding: utf16_for_unmarked(encoding, body),
            from: EncodingSource::XmlDeclaration,
        };
    }
    if let Some(encoding) = sniff_utf16(body) {
        return Detected {
            encoding,
            from: EncodingSource::XmlDeclaration,
        };
    }
    let encoding = if std::str::from_utf8(body).is_ok() {
        UTF_8
    } else {
        WINDOWS_1252
    };
    Detected {
        encoding,
        from: EncodingSource::Default,
    }
}

/// UTF-32, which encoding_rs leaves out (the web does not use it, but XML allows it):
/// recognised by its BOM or by the zero bytes around the first `<`. Its little-endian
/// BOM begins like UTF-16's, so this check comes first.
fn utf32_to_string(body: &[u8]) -> Option<String> {
    let (big_endian, skip) = match body {
        [0, 0, 0xFE, 0xFF, ..] => (true, 4),
        [0xFF, 0xFE, 0, 0, ..] => (false, 4),
        [0, 0, 0, b'<', ..] => (true, 0),
        [b'<', 0, 0, 0, ..] => (false, 0),
        _ => return None,
    };
    let text = body[skip..]
        .chunks_exact(4)
        .map(|c| {
            let bytes = [c[0], c[1], c[2], c[3]];
            let unit = if big_endian {
                u32::from_be_bytes(bytes)
            } else {
                u32::from_le_bytes(bytes)
            };
            char::from_u32(unit).unwrap_or(char::REPLACEMENT_CHARACTER)
        })
        .collect();
    Some(text)
}

/// A UTF-16 label without a BOM: the byte pattern of `<` tells the byte order.
fn utf16_for_unmarked(encoding: &'static Encoding, body: &[u8]) -> &'static Encoding {
    if encoding != UTF_16LE && encoding != UTF_16BE {
        return encoding;
    }
    if let Some(sniffed) = sniff_utf16(body) {
        return sniffed;
    }
    // "UTF-16" said of bytes whose markup reads as ASCII: the label is wrong (a UTF-16
    // document has a NUL beside every ASCII byte). Read the bytes as what they are.
    let start = body.iter().position(|b| !b.is_ascii_whitespace());
    let ascii_markup =
        start.is_some_and(|at| body[at] == b'<' && body.get(at + 1).is_some_and(|b| *b != 0));
    if !ascii_markup {
        encoding
    } else if std::str::from_utf8(body).is_ok() {
        UTF_8
    } else {
        WINDOWS_1252
    }
}

fn sniff_utf16(body: &[u8]) -> Option<&'static Encoding> {
    match body {
        [b'<', 0, ..] => Some(UTF_16LE),
        [0, b'<', ..] => Some(UTF_16BE),
        _ => None,
    }
}

/// `charset` of a Content-Type header value.
pub fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']).to_string())
    })
}

/// The encoding an XML declaration names, read in an ASCII-compatible way (UTF-16 is
/// read with its zero bytes dropped).
fn declared_encoding(body: &[u8]) -> Option<&'static Encoding> {
    let head: Vec<u8> = body.iter().take(400).copied().filter(|&b| b != 0).collect();
    let head = String::from_utf8_lossy(&head);
    let decl = head.strip_prefix("<?xml")?;
    let decl = &decl[..decl.find("?>")?];
    let value = attribute(decl, "encoding")?;
    Encoding::for_label(value.as_bytes())
}

fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let at = tag.find(name)?;
    let rest = tag[at + name.len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let rest = &rest[1..];
    Some(&rest[..rest.find(quote)?])
}

/// Rewrites the `encoding` of an XML declaration to UTF-8, the bytes' encoding now.
fn declare_utf8(text: &str) -> Cow<'_, str> {
    match declared_name(text) {
        None => Cow::Borrowed(text),
        Some(name) => Cow::Owned(format!(
            "{}{UTF_8_NAME}{}",
            &text[..name.start],
            &text[name.end..]
        )),
    }
}

/// The name a UTF-8 body's XML declaration gives.
const UTF_8_NAME: &str = "UTF-8";

/// Where in `text` its XML declaration names an encoding other than [`UTF_8_NAME`]
/// (the bytes of the name): what [`declare_utf8`] replaces.
fn declared_name(text: &str) -> Option<std::ops::Range<usize>> {
    const OPEN: &str = "<?xml";
    let rest = text.strip_prefix(OPEN)?;
    let decl = &rest[..rest.find("?>")?];
    let at = decl.find("encoding")?;
    let value = attribute(&decl[at..], "encoding")?;
    if value == UTF_8_NAME {
        return None;
    }
    let start = OPEN.len() + at + decl[at..].find(value).unwrap_or(0);
    Some(start..start + value.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn into_utf8_gives_the_bytes_of_to_utf8() {
        let bodies: [(&[u8], Option<&str>); 13] = [
            (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss/>", None),
            (b"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss/>", None),
            (
                b"<?xml version='1.0' encoding='Utf-8' ?><rss>\xd0\x9a</rss>",
                None,
            ),
            (b"<?xml version=\"1.0\" encoding=\"utf8\"?><rss/>", None),
            (
                b"<?xml version=\"1.0\" encoding=\"unicode-1-1-utf-8\"?><rss/>",
                None,
            ),
            (b"<?xml version=\"1.0\" encoding=\"\"?><rss/>", None),
            (
                b"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss/>",
                Some("application/xml; charset=utf-8"),
            ),
            (b"<?xml version=\"1.0\"?><rss>\xd0\x9a</rss>", None),
            (
                b"<rss>\xd0\x9a</rss>",
                Some("text/xml; charset=windows-1251"),
            ),
            (
                b"<?xml version=\"1.0\" encoding=\"windows-1251\"?><rss>\xca</rss>",
                None,
            ),
            (b"\xef\xbb\xbf<rss/>", None),
            (b"<rss>\xff</rss>", None),
            (b"\xff\xfe<\x00r\x00/\x00>\x00", None),
        ];
        for (body, content_type) in bodies {
            assert_eq!(
                into_utf8(body.to_vec(), content_type),
                to_utf8(body, content_type),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    /// The farm's declaration, and most of the web's: a UTF-8 body that declares
    /// `utf-8` is not copied to be rewritten (the whole body twice, per fetch).
    #[test]
    fn a_lowercase_utf8_declaration_is_rewritten_in_the_same_buffer() {
        let body = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss>\xd0\x9a</rss>".to_vec();
        let buffer = body.as_ptr();
        let utf8 = into_utf8(body, Some("application/xml"));
        assert_eq!(
            utf8,
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss>\xd0\x9a</rss>"
        );
        assert_eq!(utf8.as_ptr(), buffer);
    }

    #[test]
    fn utf_16_declared_over_8_bit_bytes_reads_the_bytes() {
        let body = "<?xml version=\"1.0\" encoding=\"utf-16\"?><rss><title>Қазақ</title></rss>";
        let text = String::from_utf8(to_utf8(body.as_bytes(), None)).unwrap();
        assert!(text.contains("<title>Қазақ</title>"), "{text}");
        let header = to_utf8(body.as_bytes(), Some("text/xml; charset=utf-16"));
        assert!(String::from_utf8(header).unwrap().contains("Қазақ"));
    }

    fn win1251(text: &str) -> Vec<u8> {
        encoding_rs::WINDOWS_1251.encode(text).0.into_owned()
    }

    #[test]
    fn header_charset_decodes_a_body_without_declaration() {
        let body = win1251("<rss><title>Казахстан и Франция</title></rss>");
        let out = to_utf8(&body, Some("application/rss+xml; charset=windows-1251"));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<rss><title>Казахстан и Франция</title></rss>"
        );
    }

    #[test]
    fn declaration_is_used_and_rewritten() {
        let mut body = b"<?xml version=\"1.0\" encoding=\"windows-1251\"?>".to_vec();
        body.extend(win1251("<t>Астана</t>"));
        let out = String::from_utf8(to_utf8(&body, Some("text/xml"))).unwrap();
        assert_eq!(
            out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><t>Астана</t>"
        );
    }

    #[test]
    fn header_wins_over_declaration() {
        let mut body = b"<?xml version='1.0' encoding='utf-8'?>".to_vec();
        body.extend(encoding_rs::KOI8_R.encode("<t>Париж</t>").0.iter());
        let out = String::from_utf8(to_utf8(&body, Some("text/xml; charset=koi8-r"))).unwrap();
        assert!(out.ends_with("<t>Париж</t>"), "{out}");
        assert!(out.contains("encoding='UTF-8'"), "{out}");
    }

    #[test]
    fn bom_wins_over_everything() {
        let mut body = vec![0xFF, 0xFE];
        for unit in "<t>Élysée</t>".encode_utf16() {
            body.extend(unit.to_le_bytes());
        }
        let out = to_utf8(&body, Some("text/xml; charset=iso-8859-1"));
        assert_eq!(String::from_utf8(out).unwrap(), "<t>Élysée</t>");
    }

    #[test]
    fn utf8_body_under_a_latin_header_stays_utf8() {
        let body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><t>Élysée</t>".as_bytes();
        let out = to_utf8(body, Some("text/xml; charset=ISO-8859-1"));
        assert!(String::from_utf8(out).unwrap().ends_with("<t>Élysée</t>"));
    }

    #[test]
    fn invalid_utf8_without_any_label_is_read_as_latin() {
        let out = to_utf8(b"<t>caf\xe9</t>", None);
        assert_eq!(String::from_utf8(out).unwrap(), "<t>café</t>");
    }

    #[test]
    fn utf32_with_or_without_bom_is_decoded() {
        let text = "<?xml version=\"1.0\" encoding=\"utf-32\"?><t>Алматы</t>";
        let le: Vec<u8> = text
            .chars()
            .flat_map(|c| (c as u32).to_le_bytes())
            .collect();
        let mut be_bom = vec![0, 0, 0xFE, 0xFF];
        be_bom.extend(text.chars().flat_map(|c| (c as u32).to_be_bytes()));
        let mut le_bom = vec![0xFF, 0xFE, 0, 0];
        le_bom.extend(&le);
        let expected = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><t>Алматы</t>";
        for body in [le, be_bom, le_bom] {
            assert_eq!(String::from_utf8(to_utf8(&body, None)).unwrap(), expected);
        }
    }

    #[test]
    fn charset_parameter_is_found() {
        assert_eq!(
            charset_param("text/xml; Charset=\"KOI8-R\"").as_deref(),
            Some("KOI8-R")
        );
        assert_eq!(charset_param("text/xml"), None);
    }
}
