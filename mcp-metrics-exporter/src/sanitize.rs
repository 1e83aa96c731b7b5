//! Name sanitising, escaping and number formatting shared by the text renderers.

use std::fmt::Write as _;

/// Maps a metric name onto `[a-zA-Z_][a-zA-Z0-9_]*`, the Prometheus charset without `:`,
/// which is reserved for recording rules.
///
/// Every character outside the charset becomes `_`; a leading digit gets a `_` prefix.
pub(crate) fn metric_name(raw: &str) -> String {
    sanitize(raw, |c| c.is_ascii_alphanumeric() || c == '_')
}

/// Maps a label name onto the Prometheus charset `[a-zA-Z_][a-zA-Z0-9_]*`.
pub(crate) fn label_name(raw: &str) -> String {
    sanitize(raw, |c| c.is_ascii_alphanumeric() || c == '_')
}

fn sanitize(raw: &str, allowed: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(raw.len() + 1);
    if raw.is_empty() || raw.starts_with(|c: char| c.is_ascii_digit()) {
        out.push('_');
    }
    out.extend(raw.chars().map(|c| if allowed(c) { c } else { '_' }));
    out
}

/// Appends a label value escaped for both text formats: `\` → `\\`, `"` → `\"`, newline → `\n`.
///
/// Every other character, including any non-ASCII one, passes through unchanged.
pub(crate) fn push_label_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Appends HELP text escaped for the Prometheus 0.0.4 format (`\` and newline only) or, when
/// `quote` is set, for OpenMetrics (which also escapes `"`).
pub(crate) fn push_help(out: &mut String, help: &str, quote: bool) {
    for c in help.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

/// Whole numbers below this magnitude are exact in an `f64` and an `i64` alike.
const EXACT_WHOLE: f64 = (1u64 << 53) as f64;

/// Appends a sample value: `NaN`, `+Inf`, `-Inf`, or the shortest decimal that reads back
/// to the same `f64`, without exponent (as `Display` writes it).
pub(crate) fn push_f64(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("NaN");
    } else if value == f64::INFINITY {
        out.push_str("+Inf");
    } else if value == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else if value.fract() != 0.0 {
        push_fraction(out, value);
    } else if value.abs() < EXACT_WHOLE && !is_negative_zero(value) {
        // Gauges and byte sums are mostly whole: the integer path writes the same digits as
        // `Display` at a fraction of its cost.
        out.push_str(itoa::Buffer::new().format(value as i64));
    } else {
        push_display(out, value);
    }
}

/// Appends a finite value with a fraction, as `Display` writes it. zmij finds the same shortest
/// digits several times faster; `Display` writes the values it would write otherwise: those it
/// writes with an exponent (below 1e-5), and those that may lie exactly halfway between two
/// shortest candidates, where zmij rounds to even and `Display` rounds up in magnitude.
fn push_fraction(out: &mut String, value: f64) {
    if !may_be_halfway(value) {
        let mut buffer = zmij::Buffer::new();
        let text = buffer.format_finite(value);
        if !text.contains('e') {
            out.push_str(text);
            return;
        }
    }
    push_display(out, value);
}

/// Whether the shortest digits of `value` (finite, with a fraction) may have had to break a tie.
///
/// A tie needs the exact value to end in a `5` one digit past the shortest digits, so its exact
/// decimal expansion has at most 18 significant digits. With `k` bits after the binary point
/// and a magnitude of `2^p`, it has about `k + 0.3 p` of them: this answers yes up to 20, two
/// digits of margin (the tie `1 + 2^-17` has 18).
fn may_be_halfway(value: f64) -> bool {
    let bits = value.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let fraction = bits & ((1 << 52) - 1);
    let (mantissa, exponent) = match biased {
        0 => (fraction, -1074),
        _ => (fraction | 1 << 52, biased - 1075),
    };
    let after_point = -(exponent + i64::from(mantissa.trailing_zeros()));
    let magnitude = exponent + 52;
    10 * after_point <= 200 - 3 * magnitude
}

fn push_display(out: &mut String, value: f64) {
    // Writing to a String cannot fail.
    let _ = write!(out, "{value}");
}

fn is_negative_zero(value: f64) -> bool {
    value == 0.0 && value.is_sign_negative()
}

/// Appends a bucket bound for the `le` label. OpenMetrics wants canonical floats, so whole
/// numbers get a `.0` there (`1.0`), while the 0.0.4 format keeps the short form (`1`).
pub(crate) fn push_le(out: &mut String, bound: f64, openmetrics: bool) {
    let start = out.len();
    push_f64(out, bound);
    let written = &out[start..];
    if openmetrics && bound.is_finite() && !written.contains(['.', 'e', 'E']) {
        out.push_str(".0");
    }
}

/// Appends an unsigned integer sample value.
#[inline]
pub(crate) fn push_u64(out: &mut String, value: u64) {
    out.push_str(itoa::Buffer::new().format(value));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A xorshift generator of `u64`s starting from `state`.
    fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    #[test]
    fn metric_names_map_to_the_prometheus_charset() {
        assert_eq!(metric_name("mcp.tool-calls"), "mcp_tool_calls");
        assert_eq!(metric_name("a:b_c9"), "a_b_c9");
        assert_eq!(metric_name("9lives"), "_9lives");
        assert_eq!(metric_name(""), "_");
        assert_eq!(metric_name("naïve"), "na_ve");
    }

    #[test]
    fn label_names_do_not_keep_colons() {
        assert_eq!(label_name("error.type"), "error_type");
        assert_eq!(label_name("a:b"), "a_b");
        assert_eq!(label_name("1x"), "_1x");
    }

    #[test]
    fn label_values_escape_backslash_quote_and_newline_only() {
        let mut out = String::new();
        push_label_value(&mut out, "a\\b\"c\nd\té→🙂");
        assert_eq!(out, "a\\\\b\\\"c\\nd\té→🙂");
    }

    #[test]
    fn help_escaping_depends_on_the_format() {
        let mut text = String::new();
        push_help(&mut text, "say \"hi\"\\\n", false);
        assert_eq!(text, "say \"hi\"\\\\\\n");
        let mut om = String::new();
        push_help(&mut om, "say \"hi\"", true);
        assert_eq!(om, "say \\\"hi\\\"");
    }

    #[test]
    fn floats_use_prometheus_spellings() {
        let cases = [
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (1.0, "1"),
            (0.005, "0.005"),
            (-2.5, "-2.5"),
        ];
        for (value, expected) in cases {
            let mut out = String::new();
            push_f64(&mut out, value);
            assert_eq!(out, expected);
        }
    }

    #[test]
    fn whole_floats_are_written_as_display_writes_them() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let edges = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            EXACT_WHOLE - 1.0,
            -(EXACT_WHOLE - 1.0),
        ];
        let edges = edges
            .into_iter()
            .chain([EXACT_WHOLE, 2.0 * EXACT_WHOLE, 1e300, -1e22]);
        let random = (0..100_000).map(|_| {
            let magnitude = 1u64 << (next() % 64);
            let value = (next() % magnitude) as f64;
            if next().is_multiple_of(2) {
                value
            } else {
                -value
            }
        });
        for value in edges.chain(random) {
            let mut out = String::new();
            push_f64(&mut out, value);
            assert_eq!(out, format!("{value}"), "{value:e}");
        }
    }

    #[test]
    fn fractions_are_written_as_display_writes_them() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        // Halfway between two shortest candidates: `Display` rounds up, zmij to even.
        let ties = [
            1.0 + 2f64.powi(-17),
            -1_149_636_667_324_797.0 - 0.25,
            4097.0 * 2f64.powi(-19),
        ];
        let edges = [
            0.1,
            -0.1,
            1e-5,
            1.5e-5,
            9.99e-6,
            1e-7,
            5e-324,
            2f64.powi(52) + 0.5,
        ];
        // Any bit pattern; values of few bits at every magnitude, where ties are; and sums of
        // durations such as a histogram's `_sum` holds.
        let bits: Vec<f64> = (0..100_000).map(|_| f64::from_bits(next())).collect();
        let few_bits: Vec<f64> = (0..100_000)
            .map(|_| {
                let significand = (next() >> (11 + next() % 53)) | 1;
                significand as f64 * 2f64.powi(30 - (next() % 120) as i32)
            })
            .collect();
        let sums: Vec<f64> = (0..50_000)
            .map(|_| (next() % 100_000) as f64 * 0.0001 + 0.003)
            .collect();
        let all = ties.into_iter().chain(edges).chain(bits).chain(few_bits);
        for value in all.chain(sums) {
            let mut out = String::new();
            push_f64(&mut out, value);
            if value.is_finite() {
                assert_eq!(out, format!("{value}"), "{value:e}");
            }
        }
    }

    #[test]
    fn integers_are_written_in_full() {
        for value in [0, 7, 10, 1234567890, u64::MAX] {
            let mut out = String::new();
            push_u64(&mut out, value);
            assert_eq!(out, value.to_string());
        }
    }

    #[test]
    fn le_is_canonical_in_openmetrics() {
        let mut out = String::new();
        push_le(&mut out, 1.0, true);
        out.push(' ');
        push_le(&mut out, 0.25, true);
        out.push(' ');
        push_le(&mut out, 1.0, false);
        assert_eq!(out, "1.0 0.25 1");
    }
}
