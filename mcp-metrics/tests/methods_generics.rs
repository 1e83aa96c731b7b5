//! Methods, generics, `impl Trait`, early returns and `?`.
#![cfg(feature = "metrics")]

mod common;
use common::{record, record_async};
use mcp_metrics::{ErrorKind, mcp_tool};
use std::fmt::{Debug, Display};

#[derive(Debug, ErrorKind)]
enum ParseError {
    Empty,
    NotANumber,
}

struct Store {
    items: Vec<String>,
}

impl Store {
    #[mcp_tool(metrics)]
    fn get(&self, i: usize) -> Option<&String> {
        self.items.get(i)
    }

    #[mcp_tool(metrics)]
    fn push(&mut self, item: String) -> &mut Vec<String> {
        self.items.push(item);
        &mut self.items
    }

    #[mcp_tool(metrics)]
    async fn count(&self) -> usize {
        tokio::task::yield_now().await;
        self.items.len()
    }

    #[mcp_tool(metrics)]
    async fn add_async(&mut self, item: &str) -> Result<usize, ParseError> {
        if item.is_empty() {
            return Err(ParseError::Empty);
        }
        self.items.push(item.to_owned());
        Ok(self.items.len())
    }

    #[mcp_tool(metrics, name = "store_into_len")]
    fn into_len(self) -> usize {
        self.items.len()
    }
}

#[mcp_tool(metrics)]
fn parse(s: &str) -> Result<i64, ParseError> {
    if s.is_empty() {
        return Err(ParseError::Empty);
    }
    let n: i64 = s.parse().map_err(|_| ParseError::NotANumber)?;
    Ok(n)
}

#[mcp_tool(metrics)]
fn sum_parsed<I>(items: I) -> Result<i64, ParseError>
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    let mut total = 0;
    for item in items {
        total += parse(item.as_ref())?;
    }
    Ok(total)
}

#[mcp_tool(metrics)]
fn describe<T: Debug + ?Sized>(value: &T) -> String {
    format!("{value:?}")
}

#[mcp_tool(metrics)]
fn shout(text: impl Display) -> impl Display {
    format!("{text}!")
}

#[mcp_tool(metrics)]
async fn later(text: impl Display + Send) -> impl Display {
    format!("{text}?")
}

#[mcp_tool(metrics)]
fn generic_result<T: Default, E: ErrorKind>(fail: Option<E>) -> Result<T, E> {
    match fail {
        Some(e) => Err(e),
        None => Ok(T::default()),
    }
}

#[mcp_tool(metrics)]
fn r#type() -> u8 {
    7
}

#[test]
fn methods_by_ref_mut_and_value() {
    let (_, m) = record(|| {
        let mut store = Store { items: vec![] };
        store.push("a".into()).push("b".into());
        assert_eq!(store.get(1).map(String::as_str), Some("b"));
        assert_eq!(store.get(9), None);
        assert_eq!(store.into_len(), 2);
    });
    assert_eq!(m.calls("push", "success", None), 1);
    assert_eq!(m.calls("get", "success", None), 2);
    assert_eq!(m.calls("store_into_len", "success", None), 1);
    assert_eq!(m.in_flight("get"), 0.0);
}

#[test]
fn async_methods() {
    let (_, m) = record_async(async {
        let mut store = Store { items: vec![] };
        assert_eq!(store.add_async("x").await.unwrap(), 1);
        assert!(store.add_async("").await.is_err());
        assert_eq!(store.count().await, 1);
    });
    assert_eq!(m.calls("add_async", "success", None), 1);
    assert_eq!(m.calls("add_async", "error", Some("empty")), 1);
    assert_eq!(m.calls("count", "success", None), 1);
}

#[test]
fn early_return_and_question_mark() {
    let (results, m) = record(|| {
        (
            parse(""),
            parse("x"),
            parse("5"),
            sum_parsed(["1", "2", "x"]),
        )
    });
    assert!(matches!(results.0, Err(ParseError::Empty)));
    assert!(matches!(results.1, Err(ParseError::NotANumber)));
    assert_eq!(results.2.unwrap(), 5);
    assert!(results.3.is_err());
    assert_eq!(m.calls("parse", "error", Some("empty")), 1);
    assert_eq!(m.calls("parse", "error", Some("not_a_number")), 2);
    assert_eq!(m.calls("parse", "success", None), 3);
    assert_eq!(m.calls("sum_parsed", "error", Some("not_a_number")), 1);
}

#[test]
fn generics_and_impl_trait() {
    let (out, m) = record(|| {
        (
            describe("hi"),
            describe(&[1, 2][..]),
            shout(1).to_string(),
            generic_result::<u8, ParseError>(None),
            generic_result::<u8, ParseError>(Some(ParseError::Empty)),
            r#type(),
        )
    });
    assert_eq!(out.0, "\"hi\"");
    assert_eq!(out.2, "1!");
    assert_eq!(m.calls("describe", "success", None), 2);
    assert_eq!(m.calls("shout", "success", None), 1);
    assert_eq!(m.calls("generic_result", "success", None), 1);
    assert_eq!(m.calls("generic_result", "error", Some("empty")), 1);
    assert_eq!(m.calls("type", "success", None), 1);
    let (s, m) = record_async(async { later("x").await.to_string() });
    assert_eq!(s, "x?");
    assert_eq!(m.calls("later", "success", None), 1);
}

#[test]
fn async_tool_futures_are_send() {
    fn assert_send<T: Send>(_: T) {}
    let mut store = Store { items: vec![] };
    assert_send(store.add_async("x"));
    assert_send(later("y"));
}
