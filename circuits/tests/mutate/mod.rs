//! Hostile inputs for the decoders' property tests: generated garbage, and mutations of valid
//! encodings, byte by byte or JSON node by JSON node.
//!
//! Shared by the `hostile_*` tests of several crates (`#[path]` to this file), so every decoder
//! meets the same kinds of damage: bit flips, overwritten, inserted, deleted and duplicated bytes,
//! truncations, invalid UTF-8; and in JSON, removed, duplicated, renamed and unknown fields, huge,
//! negative and fractional numbers, numbers as strings, wrong types, deep nesting.

#![allow(dead_code)]

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Map, Value};

/// One byte-level change.
#[derive(Debug, Clone)]
pub enum ByteOp {
    /// Flip one bit.
    FlipBit(Index, u8),
    /// Overwrite one byte.
    Set(Index, u8),
    /// Cut the input at a position.
    Truncate(Index),
    /// Insert bytes at a position.
    Insert(Index, Vec<u8>),
    /// Delete up to `n` bytes from a position.
    Delete(Index, usize),
    /// Repeat a range of the input right after itself.
    Duplicate(Index, usize),
    /// Append bytes.
    Append(Vec<u8>),
    /// Swap two bytes.
    Swap(Index, Index),
}

/// Strategy for one byte-level change.
pub fn byte_op() -> impl Strategy<Value = ByteOp> {
    prop_oneof![
        4 => (any::<Index>(), 0u8..8).prop_map(|(i, b)| ByteOp::FlipBit(i, b)),
        3 => (any::<Index>(), any::<u8>()).prop_map(|(i, v)| ByteOp::Set(i, v)),
        2 => any::<Index>().prop_map(ByteOp::Truncate),
        2 => (any::<Index>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(i, v)| ByteOp::Insert(i, v)),
        2 => (any::<Index>(), 1usize..16).prop_map(|(i, n)| ByteOp::Delete(i, n)),
        1 => (any::<Index>(), 1usize..40).prop_map(|(i, n)| ByteOp::Duplicate(i, n)),
        1 => prop::collection::vec(any::<u8>(), 1..8).prop_map(ByteOp::Append),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(i, j)| ByteOp::Swap(i, j)),
    ]
}

/// Applies `op` to `b`.
pub fn apply_byte_op(b: &mut Vec<u8>, op: &ByteOp) {
    let at = |i: &Index, len: usize| if len == 0 { 0 } else { i.index(len) };
    match op {
        ByteOp::FlipBit(i, bit) if !b.is_empty() => {
            let i = at(i, b.len());
            b[i] ^= 1 << bit;
        }
        ByteOp::Set(i, v) if !b.is_empty() => {
            let i = at(i, b.len());
            b[i] = *v;
        }
        ByteOp::Truncate(i) => b.truncate(at(i, b.len())),
        ByteOp::Insert(i, v) => {
            let i = at(i, b.len() + 1);
            b.splice(i..i, v.iter().copied());
        }
        ByteOp::Delete(i, n) if !b.is_empty() => {
            let i = at(i, b.len());
            let end = (i + n).min(b.len());
            b.drain(i..end);
        }
        ByteOp::Duplicate(i, n) if !b.is_empty() => {
            let i = at(i, b.len());
            let end = (i + n).min(b.len());
            let piece = b[i..end].to_vec();
            b.splice(end..end, piece);
        }
        ByteOp::Append(v) => b.extend_from_slice(v),
        ByteOp::Swap(i, j) if !b.is_empty() => {
            let (i, j) = (at(i, b.len()), at(j, b.len()));
            b.swap(i, j);
        }
        _ => {}
    }
}

/// `valid` with 1 to 4 byte-level changes.
pub fn mutated_bytes(valid: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(byte_op(), 1..5).prop_map(move |ops| {
        let mut b = valid.clone();
        for op in &ops {
            apply_byte_op(&mut b, op);
        }
        b
    })
}

/// A JSON value that does not belong where it is put.
pub fn hostile_value() -> impl Strategy<Value = Value> {
    let text = |s: &str| serde_json::from_str::<Value>(s).expect("valid JSON literal");
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        Just(Value::from(-1)),
        Just(Value::from(0)),
        Just(Value::from(u64::MAX)),
        Just(Value::from(u32::MAX as u64 + 1)),
        Just(Value::from(1.5)),
        Just(text("18446744073709551616")),
        Just(text("-18446744073709551617")),
        Just(text("340282366920938463463374607431768211456")),
        Just(text("1e300")),
        Just(text("-0")),
        Just(text("1e2")),
        Just(Value::from("")),
        Just(Value::from("0")),
        Just(Value::from("-1")),
        Just(Value::from("007")),
        Just(Value::from("0x")),
        Just(Value::from("0x00")),
        // The BN254 scalar and base field moduli, and 2^256.
        Just(Value::from(
            "21888242871839275222246405745257275088548364400416034343698204186575808495617"
        )),
        Just(Value::from(
            "21888242871839275222246405745257275088696311157297823662689037894645226208583"
        )),
        Just(Value::from(
            "115792089237316195423570985008687907853269984665640564039457584007913129639936"
        )),
        Just(Value::from("9".repeat(5000))),
        Just(Value::from("é\u{0}\u{fffd}")),
        "[0-9]{1,80}".prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        Just(Value::Array(vec![])),
        Just(Value::Object(Map::new())),
        (1usize..300).prop_map(deep),
    ]
}

/// `[[[ … ]]]`, `depth` levels.
pub fn deep(depth: usize) -> Value {
    (0..depth).fold(Value::Null, |v, _| Value::Array(vec![v]))
}

/// A step into a JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Object field.
    Key(String),
    /// Array element.
    At(usize),
}

/// Every node's path, the root's (empty) first.
pub fn paths(v: &Value) -> Vec<Vec<Step>> {
    fn walk(v: &Value, here: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
        out.push(here.clone());
        match v {
            Value::Object(m) => {
                for (k, c) in m {
                    here.push(Step::Key(k.clone()));
                    walk(c, here, out);
                    here.pop();
                }
            }
            Value::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    here.push(Step::At(i));
                    walk(c, here, out);
                    here.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

fn node_mut<'a>(v: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, s| match (s, v) {
        (Step::Key(k), Value::Object(m)) => m.get_mut(k),
        (Step::At(i), Value::Array(a)) => a.get_mut(*i),
        _ => None,
    })
}

/// One JSON-level change.
#[derive(Debug, Clone)]
pub enum JsonOp {
    /// Replace a node.
    Replace(Index, Value),
    /// Remove an object field or array element.
    Remove(Index),
    /// Rename an object field.
    Rename(Index, String),
    /// Add a field to an object (or an element to an array).
    Add(Index, String, Value),
    /// Write a node's first field twice (text-level: `{"k": v, "k": v, …}`).
    DuplicateField(Index),
    /// A number node as a string, a string of digits as a number.
    Retype(Index),
    /// Wrap a node in an array.
    Wrap(Index),
}

/// Strategy for one JSON-level change.
pub fn json_op() -> impl Strategy<Value = JsonOp> {
    prop_oneof![
        4 => (any::<Index>(), hostile_value()).prop_map(|(i, v)| JsonOp::Replace(i, v)),
        2 => any::<Index>().prop_map(JsonOp::Remove),
        1 => (any::<Index>(), "[a-zA-Z_]{0,10}").prop_map(|(i, k)| JsonOp::Rename(i, k)),
        1 => (any::<Index>(), "[a-z_]{1,10}", hostile_value())
            .prop_map(|(i, k, v)| JsonOp::Add(i, k, v)),
        1 => any::<Index>().prop_map(JsonOp::DuplicateField),
        2 => any::<Index>().prop_map(JsonOp::Retype),
        1 => any::<Index>().prop_map(JsonOp::Wrap),
    ]
}

/// Applies `op` to `v`; returns the path of an object whose first field is to be written
/// twice, for [`to_text`].
pub fn apply_json_op(v: &mut Value, op: &JsonOp) -> Option<Vec<Step>> {
    let all = paths(v);
    let pick = |i: &Index| all[i.index(all.len())].clone();
    match op {
        JsonOp::Replace(i, new) => {
            if let Some(n) = node_mut(v, &pick(i)) {
                *n = new.clone();
            }
        }
        JsonOp::Remove(i) => {
            let p = pick(i);
            if let Some((last, parent)) = p.split_last() {
                match (last, node_mut(v, parent)) {
                    (Step::Key(k), Some(Value::Object(m))) => {
                        m.remove(k);
                    }
                    (Step::At(j), Some(Value::Array(a))) => {
                        a.remove(*j);
                    }
                    _ => {}
                }
            }
        }
        JsonOp::Rename(i, new) => {
            let p = pick(i);
            if let Some((Step::Key(k), parent)) = p.split_last() {
                if let Some(Value::Object(m)) = node_mut(v, parent) {
                    if let Some(x) = m.remove(k) {
                        m.insert(new.clone(), x);
                    }
                }
            }
        }
        JsonOp::Add(i, k, new) => match node_mut(v, &pick(i)) {
            Some(Value::Object(m)) => {
                m.insert(k.clone(), new.clone());
            }
            Some(Value::Array(a)) => a.push(new.clone()),
            _ => {}
        },
        JsonOp::DuplicateField(i) => return Some(pick(i)),
        JsonOp::Retype(i) => {
            if let Some(n) = node_mut(v, &pick(i)) {
                let new = match &*n {
                    Value::Number(x) => Some(Value::String(x.to_string())),
                    Value::String(s) => serde_json::from_str::<serde_json::Number>(s)
                        .ok()
                        .map(Value::Number),
                    _ => None,
                };
                if let Some(new) = new {
                    *n = new;
                }
            }
        }
        JsonOp::Wrap(i) => {
            if let Some(n) = node_mut(v, &pick(i)) {
                *n = Value::Array(vec![n.take()]);
            }
        }
    }
    None
}

/// JSON text of `v`, with the first field of the object at `dup` (if any) written twice.
pub fn to_text(v: &Value, dup: Option<&[Step]>) -> String {
    fn write(v: &Value, here: &mut Vec<Step>, dup: Option<&[Step]>, out: &mut String) {
        match v {
            Value::Object(m) => {
                out.push('{');
                let mut first = true;
                if dup == Some(here.as_slice()) {
                    if let Some((k, c)) = m.iter().next() {
                        out.push_str(&serde_json::to_string(k).unwrap());
                        out.push(':');
                        here.push(Step::Key(k.clone()));
                        write(c, here, dup, out);
                        here.pop();
                        first = false;
                    }
                }
                for (k, c) in m {
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    out.push_str(&serde_json::to_string(k).unwrap());
                    out.push(':');
                    here.push(Step::Key(k.clone()));
                    write(c, here, dup, out);
                    here.pop();
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, c) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    here.push(Step::At(i));
                    write(c, here, dup, out);
                    here.pop();
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(v, &mut Vec::new(), dup, &mut out);
    out
}

/// The JSON text of `valid` after 1 to 3 JSON-level changes, and possibly a byte-level one
/// (which can leave the text invalid JSON or invalid UTF-8).
pub fn mutated_json(valid: Value) -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec(json_op(), 1..4),
        prop::option::weighted(0.25, byte_op()),
    )
        .prop_map(move |(ops, byte)| {
            let mut v = valid.clone();
            let mut dup = None;
            for op in &ops {
                if let Some(p) = apply_json_op(&mut v, op) {
                    dup = Some(p);
                }
            }
            let mut b = to_text(&v, dup.as_deref()).into_bytes();
            if let Some(op) = byte {
                apply_byte_op(&mut b, &op);
            }
            b
        })
}

/// Garbage: random bytes, random JSON-ish text, or a hostile JSON value.
pub fn garbage() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        "[\\[\\]{}\",:0-9a-z \\-.e]{0,120}".prop_map(String::into_bytes),
        hostile_value().prop_map(|v| v.to_string().into_bytes()),
        Just(b"{}".to_vec()),
        Just(b"null".to_vec()),
        Just("[".repeat(100_000).into_bytes()),
        Just(vec![0xff, 0xfe, b'{', b'}']),
    ]
}

/// Valid text or a mutation of it, or garbage: what a decoder is fed.
pub fn hostile_json(valid: Value) -> impl Strategy<Value = Vec<u8>> {
    let text = valid.to_string().into_bytes();
    prop_oneof![
        6 => mutated_json(valid),
        2 => mutated_bytes(text),
        1 => garbage(),
    ]
}
