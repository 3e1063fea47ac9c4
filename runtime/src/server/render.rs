//! Rendering answers as JSON or XML.

use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::REQUEST_ID_HEADER;
use super::dispatch::Success;
use crate::errors::ErrorBody;
use crate::params::Params;
use crate::signature::v1::common;

/// The answer format the caller asked for with `Format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WireFormat {
    /// `Format=JSON` (the default).
    #[default]
    Json,
    /// `Format=XML`.
    Xml,
}

impl WireFormat {
    /// Reads a `Format` value: absent or empty is JSON; `JSON` and `XML` in any case; anything
    /// else is `None` (answered with `invalid_parameter`, in JSON).
    pub fn parse(value: Option<&str>) -> Option<WireFormat> {
        match value {
            None | Some("") => Some(WireFormat::Json),
            Some(v) if v.eq_ignore_ascii_case("json") => Some(WireFormat::Json),
            Some(v) if v.eq_ignore_ascii_case("xml") => Some(WireFormat::Xml),
            Some(_) => None,
        }
    }

    /// The format the `Format` parameter of `uri`'s query asks for (JSON when it asks for none or
    /// for one not known): how a request refused before its parameters are read is answered.
    pub(crate) fn asked_by(uri: &Uri) -> WireFormat {
        let params = Params::parse_urlencoded(uri.query().unwrap_or("").as_bytes());
        WireFormat::parse(params.get(common::FORMAT)).unwrap_or_default()
    }

    /// The `Content-Type` of answers in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            WireFormat::Json => "application/json;charset=utf-8",
            WireFormat::Xml => "text/xml;charset=utf-8",
        }
    }
}

/// The XML declaration every XML answer starts with.
const XML_DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// A success answer: `RequestId` first, then the response's fields (a `RequestId` the response
/// carries itself is replaced). JSON is written straight from the response's type when its first
/// field is `RequestId` (as the generated responses are); otherwise, and for XML, through a JSON
/// value.
pub(crate) fn success(
    format: WireFormat,
    action: &str,
    request_id: &str,
    response: &Success,
) -> Result<Response, String> {
    if format == WireFormat::Json {
        let mut bytes = response.to_json().map_err(|e| e.to_string())?;
        if with_request_id_first(&mut bytes, request_id) {
            return Ok(respond(format, StatusCode::OK, request_id, bytes));
        }
    }
    let value = response.to_value().map_err(|e| e.to_string())?;
    let mut object = Map::new();
    object.insert("RequestId".to_owned(), Value::String(request_id.to_owned()));
    match value {
        Value::Object(fields) => {
            for (k, v) in fields {
                if k != "RequestId" {
                    object.insert(k, v);
                }
            }
        }
        Value::Null => {}
        other => {
            object.insert("Result".to_owned(), other);
        }
    }
    let body = match format {
        WireFormat::Json => Value::Object(object).to_string(),
        WireFormat::Xml => {
            let mut out = String::from(XML_DECLARATION);
            write_element(&mut out, &format!("{action}Response"), &Value::Object(object));
            out
        }
    };
    Ok(respond(format, StatusCode::OK, request_id, body))
}

/// `json` (a serialized object whose first member is `"RequestId":"…"`) with that member's value
/// replaced by `request_id`; `None` when `json` does not start that way.
fn with_request_id_first(json: &mut Vec<u8>, request_id: &str) -> bool {
    const PREFIX: &[u8] = br#"{"RequestId":""#;
    let Some(rest) = json.strip_prefix(PREFIX) else { return false };
    // The end of the string literal: the first quote not escaped by a backslash.
    let mut i = 0;
    while i < rest.len() {
        match rest[i] {
            b'\\' => i += 2,
            b'"' => break,
            _ => i += 1,
        }
    }
    if i >= rest.len() {
        return false;
    }
    let range = PREFIX.len()..PREFIX.len() + i;
    // The value replaced lies between the prefix's quote and the closing one. A RequestId is an
    // uppercase UUID, which needs no escaping; anything else is written as serde_json quotes it.
    if request_id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
        replace_range(json, range, request_id.as_bytes());
    } else {
        let Ok(id) = serde_json::to_vec(request_id) else { return false };
        replace_range(json, range.start - 1..range.end + 1, &id);
    }
    true
}

/// `bytes[range]` replaced by `with`: the tail moved once (`memmove`), the new bytes copied in.
/// What `Vec::splice` does, without feeding the new bytes through an iterator one at a time.
fn replace_range(bytes: &mut Vec<u8>, range: std::ops::Range<usize>, with: &[u8]) {
    let (old_len, end) = (bytes.len(), range.end);
    let new_end = range.start + with.len();
    if new_end > end {
        bytes.resize(old_len + (new_end - end), 0);
        bytes.copy_within(end..old_len, new_end);
    } else {
        bytes.copy_within(end..old_len, new_end);
        bytes.truncate(old_len - (end - new_end));
    }
    bytes[range.start..new_end].copy_from_slice(with);
}

/// An error answer: the envelope with `status`.
pub(crate) fn error(format: WireFormat, status: u16, envelope: &ErrorBody) -> Response {
    let body = match format {
        WireFormat::Json => serde_json::to_string(envelope).unwrap_or_default(),
        WireFormat::Xml => {
            let mut out = String::from(XML_DECLARATION);
            out.push_str("<Error>");
            for (name, value) in [
                ("RequestId", &envelope.request_id),
                ("HostId", &envelope.host_id),
                ("Code", &envelope.code),
                ("Message", &envelope.message),
                ("Recommend", &envelope.recommend),
            ] {
                write_text_element(&mut out, name, value);
            }
            out.push_str("</Error>");
            out
        }
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    respond(format, status, &envelope.request_id, body)
}

fn respond(format: WireFormat, status: StatusCode, request_id: &str, body: impl Into<axum::body::Body>) -> Response {
    let mut response = (status, body.into()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// Writes `value` as element `name`: objects become child elements, arrays repeated elements
/// named `name`, scalars text, null an empty element.
fn write_element(out: &mut String, name: &str, value: &Value) {
    match value {
        Value::Array(items) => {
            for item in items {
                write_element(out, name, item);
            }
        }
        Value::Object(fields) => {
            open(out, name);
            for (k, v) in fields {
                write_element(out, k, v);
            }
            close(out, name);
        }
        Value::Null => write_text_element(out, name, ""),
        Value::String(s) => write_text_element(out, name, s),
        Value::Bool(b) => write_text_element(out, name, if *b { "true" } else { "false" }),
        Value::Number(n) => write_text_element(out, name, &n.to_string()),
    }
}

fn write_text_element(out: &mut String, name: &str, text: &str) {
    open(out, name);
    out.push_str(&quick_xml::escape::escape(xml_chars(text).as_str()));
    close(out, name);
}

fn open(out: &mut String, name: &str) {
    out.push('<');
    out.push_str(&xml_name(name));
    out.push('>');
}

fn close(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(&xml_name(name));
    out.push('>');
}

/// `text` with the characters XML 1.0 forbids replaced by U+FFFD.
fn xml_chars(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if c < ' ' => '\u{FFFD}',
            '\u{FFFE}' | '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// `name` as a safe element name: characters outside `A-Za-z0-9_.-` become `_`, and a name not
/// starting with a letter or `_` gets a `_` prefix. Names come from response types, so this only
/// guards against surprises.
fn xml_name(name: &str) -> String {
    let mut out: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') { c } else { '_' }).collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn formats() {
        assert_eq!(WireFormat::parse(None), Some(WireFormat::Json));
        assert_eq!(WireFormat::parse(Some("")), Some(WireFormat::Json));
        assert_eq!(WireFormat::parse(Some("JSON")), Some(WireFormat::Json));
        assert_eq!(WireFormat::parse(Some("xml")), Some(WireFormat::Xml));
        assert_eq!(WireFormat::parse(Some("XmL")), Some(WireFormat::Xml));
        assert_eq!(WireFormat::parse(Some("yaml")), None);
    }

    #[test]
    fn xml_of_nested_values() {
        let mut out = String::new();
        let value = json!({
            "RequestId": "r",
            "TotalCount": 2,
            "Users": {"User": [{"UserName": "a<b", "Ok": true}, {"UserName": "c&d\u{1}", "Gone": null}]},
        });
        write_element(&mut out, "DescribeResponse", &value);
        assert_eq!(
            out,
            "<DescribeResponse><RequestId>r</RequestId><TotalCount>2</TotalCount><Users>\
<User><UserName>a&lt;b</UserName><Ok>true</Ok></User>\
<User><UserName>c&amp;d\u{FFFD}</UserName><Gone></Gone></User></Users></DescribeResponse>"
        );
    }

    #[test]
    fn names_are_sanitized() {
        assert_eq!(xml_name("User"), "User");
        assert_eq!(xml_name("a b<c"), "a_b_c");
        assert_eq!(xml_name("1x"), "_1x");
        assert_eq!(xml_name(""), "_");
    }

    #[test]
    fn request_id_is_spliced_first() {
        let id = "ABC-1";
        let cases = [
            (r#"{"RequestId":"","A":1}"#, Some(r#"{"RequestId":"ABC-1","A":1}"#)),
            (r#"{"RequestId":"old","A":"x"}"#, Some(r#"{"RequestId":"ABC-1","A":"x"}"#)),
            (r#"{"RequestId":"a\"b\\","A":[]}"#, Some(r#"{"RequestId":"ABC-1","A":[]}"#)),
            (r#"{"RequestId":""}"#, Some(r#"{"RequestId":"ABC-1"}"#)),
            (r#"{"A":1,"RequestId":""}"#, None),
            (r#"{"RequestId":1}"#, None),
            (r#"{"RequestId":"unterminated"#, None),
            ("null", None),
        ];
        for (json, expected) in cases {
            let mut bytes = json.as_bytes().to_vec();
            let spliced = with_request_id_first(&mut bytes, id);
            let got = spliced.then(|| String::from_utf8_lossy(&bytes).into_owned());
            assert_eq!(got.as_deref(), expected, "{json}");
            if !spliced {
                assert_eq!(bytes, json.as_bytes(), "left as it was: {json}");
            }
        }
        // An id that is not a plain token is written as a JSON string, escaped.
        let mut bytes = br#"{"RequestId":"old","A":1}"#.to_vec();
        assert!(with_request_id_first(&mut bytes, "a\"b"));
        assert_eq!(String::from_utf8_lossy(&bytes), r#"{"RequestId":"a\"b","A":1}"#);
    }

    #[test]
    fn replace_range_is_splice() {
        let base: Vec<u8> = (0..12).collect();
        for start in 0..=base.len() {
            for end in start..=base.len() {
                for len in 0..6 {
                    let with: Vec<u8> = (100..100 + len).collect();
                    let (mut ours, mut std) = (base.clone(), base.clone());
                    replace_range(&mut ours, start..end, &with);
                    std.splice(start..end, with.iter().copied());
                    assert_eq!(ours, std, "{start}..{end} with {len} bytes");
                }
            }
        }
    }

    #[test]
    fn typed_and_value_paths_agree() {
        #[derive(serde::Serialize)]
        struct Typed {
            #[serde(rename = "RequestId")]
            request_id: String,
            #[serde(rename = "Name")]
            name: String,
            #[serde(rename = "Count")]
            count: i64,
        }
        #[derive(serde::Serialize)]
        struct Later {
            #[serde(rename = "Name")]
            name: String,
            #[serde(rename = "RequestId")]
            request_id: String,
        }
        let body = |response: Success| {
            let answer = success(WireFormat::Json, "Echo", "ID-9", &response).map_err(|e| e.to_string());
            let bytes = futures::executor::block_on(async {
                match answer {
                    Ok(r) => axum::body::to_bytes(r.into_body(), usize::MAX).await.map_err(|e| e.to_string()),
                    Err(e) => Err(e),
                }
            });
            bytes.map(|b| String::from_utf8_lossy(&b).into_owned())
        };
        let typed = Typed { request_id: String::new(), name: "é\"x".into(), count: 3 };
        assert_eq!(body(Success::new(typed)).as_deref(), Ok(r#"{"RequestId":"ID-9","Name":"é\"x","Count":3}"#));
        // Not first: the value path moves it first and drops the response's own.
        let later = Later { name: "n".into(), request_id: "old".into() };
        assert_eq!(body(Success::new(later)).as_deref(), Ok(r#"{"RequestId":"ID-9","Name":"n"}"#));
    }
}
