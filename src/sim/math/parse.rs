//! The metric-math parser: text → [`Expr`] with byte positions. Knows the syntax only,
//! not what the functions do (see `eval.rs`): any uppercase name followed by `(` is a call,
//! so functions the evaluator does not run (`SORT`, `ANOMALY_DETECTION_BAND`, `SEARCH`, …)
//! parse as well.
//!
//! CloudWatch documents the tokens ("Metric math syntax and functions", CloudWatch user
//! guide): ids start with a lowercase letter and hold letters, digits and `_`; functions
//! and keywords are written in uppercase; operators `+ - * / ^`, comparisons
//! `== != <= >= < >`, logical `AND`/`&&`, `OR`/`||`, `NOT`/`!`; arrays `[a, b]`; strings in
//! double quotes (`METRICS("errors")`) or in single quotes, as `SEARCH` takes its query and
//! statistic ("CloudWatch search expression syntax": `SEARCH('{AWS/EC2,InstanceId}
//! MetricName="CPUUtilization"', 'Average')`). **Assumption** (AWS does not say how a quote
//! is written inside a string): a backslash escapes the character after it.
//!
//! AWS publishes no precedence table. We take the usual one, lowest first: `OR`, `AND`,
//! comparisons, `+ -`, `* /`, unary `- ! NOT`, `^` (right-associative, so `-2^2` is −4).

use std::fmt;

/// A parse failure: where it was found and what was expected there.
///
/// Shown as `unexpected ")" at column 14; expected an operator or the end of the
/// expression`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset of the offending token (the expression's length at its end).
    pub pos: usize,
    /// The same place as a character column, counted from 1.
    pub column: usize,
    /// What was found (`unexpected ")"`, `unterminated string`).
    pub problem: String,
    /// What would have fitted there, when one thing can be named.
    pub expected: Option<String>,
}

impl ParseError {
    fn new(src: &str, pos: usize, problem: String, expected: Option<String>) -> ParseError {
        let column = src.get(..pos).map_or(pos, |s| s.chars().count()) + 1;
        ParseError {
            pos,
            column,
            problem,
            expected,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at column {}", self.problem, self.column)?;
        if let Some(e) = &self.expected {
            write!(f, "; expected {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `^`
    Pow,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `AND`, `&&`
    And,
    /// `OR`, `||`
    Or,
}

impl BinaryOp {
    /// How the operator is written (`AND` and `OR` in their word form).
    pub const fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Pow => "^",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::And => "AND",
            BinaryOp::Or => "OR",
        }
    }

    /// Whether the operator compares or combines truth values (its result is 0 or 1).
    pub const fn is_logical(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq
                | BinaryOp::Ne
                | BinaryOp::Lt
                | BinaryOp::Le
                | BinaryOp::Gt
                | BinaryOp::Ge
                | BinaryOp::And
                | BinaryOp::Or
        )
    }
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-`
    Neg,
    /// `NOT`, `!`
    Not,
}

/// One node of a parsed expression, with the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// Byte offset of the node's first token.
    pub pos: usize,
    /// What the node is.
    pub kind: ExprKind,
}

/// The kinds of expression node.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A number.
    Number(f64),
    /// A double-quoted string (`METRICS("4xx")`).
    Str(String),
    /// The id of another query.
    Id(String),
    /// A bare uppercase word: `REPEAT`, `LINEAR`, `ASC`, a function name given as an
    /// argument (`SORT(…, AVG, DESC)`).
    Keyword(String),
    /// `[a, b, …]`
    Array(Vec<Expr>),
    /// A unary operator.
    Unary(UnaryOp, Box<Expr>),
    /// A binary operator.
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `NAME(args)`
    Call(String, Vec<Expr>),
}

impl Expr {
    /// The ids of other queries this expression reads, in order of first use, without
    /// repeats.
    pub fn referenced_ids(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let ExprKind::Id(id) = &e.kind
                && !out.contains(&id.as_str())
            {
                out.push(id.as_str());
            }
        });
        out
    }

    /// The function names called, in order of first use, without repeats.
    pub fn functions(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let ExprKind::Call(name, _) = &e.kind
                && !out.contains(&name.as_str())
            {
                out.push(name.as_str());
            }
        });
        out
    }

    fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Number(_) | ExprKind::Str(_) | ExprKind::Id(_) | ExprKind::Keyword(_) => {}
            ExprKind::Array(items) | ExprKind::Call(_, items) => {
                for i in items {
                    i.walk(f);
                }
            }
            ExprKind::Unary(_, a) => a.walk(f),
            ExprKind::Binary(_, a, b) => {
                a.walk(f);
                b.walk(f);
            }
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, items: &[Expr]| -> fmt::Result {
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{x}")?;
            }
            Ok(())
        };
        match &self.kind {
            ExprKind::Number(n) => write!(f, "{n}"),
            ExprKind::Str(s) => write!(f, "{s:?}"),
            ExprKind::Id(s) | ExprKind::Keyword(s) => f.write_str(s),
            ExprKind::Array(items) => {
                f.write_str("[")?;
                list(f, items)?;
                f.write_str("]")
            }
            ExprKind::Unary(UnaryOp::Neg, a) => write!(f, "-({a})"),
            ExprKind::Unary(UnaryOp::Not, a) => write!(f, "NOT ({a})"),
            ExprKind::Binary(op, a, b) => {
                let sym = op.symbol();
                write!(f, "({a} {sym} {b})")
            }
            ExprKind::Call(name, args) => {
                write!(f, "{name}(")?;
                list(f, args)?;
                f.write_str(")")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Number(f64),
    Str(String),
    Id(String),
    Word(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Op(BinaryOp),
    Minus,
    Bang,
    End,
}

/// One token: where it starts and ends in the source, and what it is.
struct Token {
    start: usize,
    end: usize,
    tok: Tok,
}

/// Reads a string that starts with the quote at `start`; returns its text and the byte
/// after the closing quote, or `None` when it is not closed.
fn string_at(src: &str, start: usize) -> Option<(String, usize)> {
    let mut chars = src[start..].char_indices();
    let (_, quote) = chars.next()?;
    let mut text = String::new();
    while let Some((i, c)) = chars.next() {
        if c == quote {
            return Some((text, start + i + c.len_utf8()));
        }
        if c == '\\' {
            text.push(chars.next()?.1);
        } else {
            text.push(c);
        }
    }
    None
}

fn lex(src: &str) -> Result<Vec<Token>, ParseError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |pos: usize, problem: String, expected: Option<&str>| {
        ParseError::new(src, pos, problem, expected.map(str::to_owned))
    };
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let two = |s: &str| src[i..].starts_with(s);
        let tok = if c.is_ascii_digit()
            || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
                let mut j = i + 1;
                if j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'-') {
                    j += 1;
                }
                if j < bytes.len() && bytes[j].is_ascii_digit() {
                    i = j;
                    while i < bytes.len() && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            let text = &src[start..i];
            let n: f64 = text
                .parse()
                .map_err(|_| err(start, format!("\"{text}\" is not a number"), None))?;
            Tok::Number(n)
        } else if c.is_ascii_alphabetic() {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = &src[start..i];
            if c.is_ascii_lowercase() {
                Tok::Id(word.to_owned())
            } else if word.bytes().any(|b| b.is_ascii_lowercase()) {
                return Err(err(
                    start,
                    format!("unexpected \"{word}\""),
                    Some(
                        "a function or keyword in uppercase, or an id that starts with a \
                         lowercase letter",
                    ),
                ));
            } else {
                match word {
                    "AND" => Tok::Op(BinaryOp::And),
                    "OR" => Tok::Op(BinaryOp::Or),
                    "NOT" => Tok::Bang,
                    w => Tok::Word(w.to_owned()),
                }
            }
        } else if c == b'"' || c == b'\'' {
            let Some((text, after)) = string_at(src, start) else {
                let closing = if c == b'"' {
                    "the closing \""
                } else {
                    "the closing '"
                };
                return Err(err(start, "unterminated string".into(), Some(closing)));
            };
            i = after;
            Tok::Str(text)
        } else if two("==") || two("!=") || two("<=") || two(">=") || two("&&") || two("||") {
            let op = match &src[i..i + 2] {
                "==" => BinaryOp::Eq,
                "!=" => BinaryOp::Ne,
                "<=" => BinaryOp::Le,
                ">=" => BinaryOp::Ge,
                "&&" => BinaryOp::And,
                _ => BinaryOp::Or,
            };
            i += 2;
            Tok::Op(op)
        } else {
            i += 1;
            match c {
                b'(' => Tok::LParen,
                b')' => Tok::RParen,
                b'[' => Tok::LBracket,
                b']' => Tok::RBracket,
                b',' => Tok::Comma,
                b'+' => Tok::Op(BinaryOp::Add),
                b'-' => Tok::Minus,
                b'*' => Tok::Op(BinaryOp::Mul),
                b'/' => Tok::Op(BinaryOp::Div),
                b'^' => Tok::Op(BinaryOp::Pow),
                b'<' => Tok::Op(BinaryOp::Lt),
                b'>' => Tok::Op(BinaryOp::Gt),
                b'!' => Tok::Bang,
                _ => {
                    let ch = src[start..].chars().next().unwrap_or('?');
                    return Err(err(start, format!("unexpected character \"{ch}\""), None));
                }
            }
        };
        out.push(Token { start, end: i, tok });
    }
    out.push(Token {
        start: src.len(),
        end: src.len(),
        tok: Tok::End,
    });
    Ok(out)
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    at: usize,
    depth: usize,
}

/// Deepest nesting accepted, so hostile input cannot overflow the stack: a level costs
/// about 10 KiB of stack in a debug build, and threads get 2 MiB. Far more than real
/// expressions need (CloudWatch takes at most 2,048 characters in an expression,
/// `MetricDataQuery.Expression`).
const MAX_DEPTH: usize = 100;

/// What fits after a complete expression.
const AFTER_EXPRESSION: &str = "an operator or the end of the expression";

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.at].tok
    }

    fn pos(&self) -> usize {
        self.toks[self.at].start
    }

    /// Moves past the current token (staying on the end).
    fn bump(&mut self) {
        if self.at + 1 < self.toks.len() {
            self.at += 1;
        }
    }

    /// `unexpected <the current token>`, quoted as written.
    fn unexpected(&self) -> String {
        let t = &self.toks[self.at];
        if t.tok == Tok::End {
            "unexpected end of expression".into()
        } else {
            format!("unexpected \"{}\"", &self.src[t.start..t.end])
        }
    }

    /// Fails at the current token: what it is, and `expected` instead.
    fn fail<T>(&self, expected: &str) -> Result<T, ParseError> {
        Err(ParseError::new(
            self.src,
            self.pos(),
            self.unexpected(),
            Some(expected.to_owned()),
        ))
    }

    /// A lowercase name called as a function (`fill(m1, 0)`).
    fn not_a_function(&self, pos: usize, name: &str) -> ParseError {
        ParseError::new(
            self.src,
            pos,
            format!("\"{name}\" is not a function"),
            Some(format!(
                "a function name in uppercase ({})",
                name.to_ascii_uppercase()
            )),
        )
    }

    fn too_deep<T>(&self) -> Result<T, ParseError> {
        Err(ParseError::new(
            self.src,
            self.pos(),
            format!("expression nested more than {MAX_DEPTH} levels deep"),
            None,
        ))
    }

    fn expect(&mut self, want: &Tok, what: &str) -> Result<(), ParseError> {
        if self.peek() == want {
            self.bump();
            Ok(())
        } else {
            self.fail(what)
        }
    }

    fn binary(
        &mut self,
        ops: &[BinaryOp],
        next: fn(&mut Self) -> Result<Expr, ParseError>,
    ) -> Result<Expr, ParseError> {
        let mut left = next(self)?;
        loop {
            let op = match self.peek() {
                Tok::Op(op) if ops.contains(op) => *op,
                Tok::Minus if ops.contains(&BinaryOp::Sub) => BinaryOp::Sub,
                _ => return Ok(left),
            };
            self.bump();
            let right = next(self)?;
            left = Expr {
                pos: left.pos,
                kind: ExprKind::Binary(op, Box::new(left), Box::new(right)),
            };
        }
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.too_deep();
        }
        let e = self.binary(&[BinaryOp::Or], Self::and);
        self.depth -= 1;
        e
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        self.binary(&[BinaryOp::And], Self::comparison)
    }

    fn comparison(&mut self) -> Result<Expr, ParseError> {
        self.binary(
            &[
                BinaryOp::Eq,
                BinaryOp::Ne,
                BinaryOp::Lt,
                BinaryOp::Le,
                BinaryOp::Gt,
                BinaryOp::Ge,
            ],
            Self::additive,
        )
    }

    fn additive(&mut self) -> Result<Expr, ParseError> {
        self.binary(&[BinaryOp::Add, BinaryOp::Sub], Self::multiplicative)
    }

    fn multiplicative(&mut self) -> Result<Expr, ParseError> {
        self.binary(&[BinaryOp::Mul, BinaryOp::Div], Self::unary)
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        let pos = self.pos();
        let op = match self.peek() {
            Tok::Minus => UnaryOp::Neg,
            Tok::Bang => UnaryOp::Not,
            _ => return self.power(),
        };
        self.bump();
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.too_deep();
        }
        let inner = self.unary()?;
        self.depth -= 1;
        Ok(Expr {
            pos,
            kind: ExprKind::Unary(op, Box::new(inner)),
        })
    }

    fn power(&mut self) -> Result<Expr, ParseError> {
        let base = self.primary()?;
        if self.peek() == &Tok::Op(BinaryOp::Pow) {
            self.bump();
            let exp = self.unary()?;
            return Ok(Expr {
                pos: base.pos,
                kind: ExprKind::Binary(BinaryOp::Pow, Box::new(base), Box::new(exp)),
            });
        }
        Ok(base)
    }

    /// The items of a list up to `close` (already past the opening bracket).
    fn list(&mut self, close: &Tok, expected: &str) -> Result<Vec<Expr>, ParseError> {
        let mut items = Vec::new();
        if self.peek() == close {
            self.bump();
            return Ok(items);
        }
        loop {
            items.push(self.or()?);
            match self.peek() {
                Tok::Comma => {
                    self.bump();
                }
                t if t == close => {
                    self.bump();
                    return Ok(items);
                }
                _ => return self.fail(expected),
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let pos = self.pos();
        let kind = match self.peek().clone() {
            Tok::Number(n) => {
                self.bump();
                ExprKind::Number(n)
            }
            Tok::Str(s) => {
                self.bump();
                ExprKind::Str(s)
            }
            Tok::Id(s) => {
                self.bump();
                if self.peek() == &Tok::LParen {
                    return Err(self.not_a_function(pos, &s));
                }
                ExprKind::Id(s)
            }
            Tok::Word(w) => {
                self.bump();
                if self.peek() == &Tok::LParen {
                    self.bump();
                    // Each argument is one level deeper (`or` counts it).
                    ExprKind::Call(w, self.list(&Tok::RParen, "\",\" or \")\"")?)
                } else {
                    ExprKind::Keyword(w)
                }
            }
            Tok::LParen => {
                self.bump();
                let inner = self.or()?;
                self.expect(&Tok::RParen, "\")\" or an operator")?;
                return Ok(inner);
            }
            Tok::LBracket => {
                self.bump();
                ExprKind::Array(self.list(&Tok::RBracket, "\",\" or \"]\"")?)
            }
            _ => return self.fail("a value"),
        };
        Ok(Expr { pos, kind })
    }
}

/// Parses a metric-math expression.
///
/// # Errors
/// [`ParseError`] at the first token that does not fit, saying what was expected there.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    let toks = lex(src)?;
    let mut p = Parser {
        src,
        toks,
        at: 0,
        depth: 0,
    };
    let e = p.or()?;
    if p.peek() != &Tok::End {
        return p.fail(AFTER_EXPRESSION);
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(s: &str) -> String {
        parse(s)
            .map(|e| e.to_string())
            .unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn precedence_follows_the_usual_order() {
        assert_eq!(show("a + b * c"), "(a + (b * c))");
        assert_eq!(show("a - b - c"), "((a - b) - c)");
        assert_eq!(show("-2^2"), "-((2 ^ 2))");
        assert_eq!(show("2^3^2"), "(2 ^ (3 ^ 2))");
        assert_eq!(
            show("tasks > 0 AND backlog > 0 || x"),
            "(((tasks > 0) AND (backlog > 0)) OR x)"
        );
        assert_eq!(show("!a && NOT b"), "(NOT (a) AND NOT (b))");
    }

    #[test]
    fn every_expression_the_backlog_compiler_emits_parses() {
        for src in [
            "visible + in_flight",
            "visible + in_flight + delayed",
            "IF(tasks > 0 AND backlog > 0, backlog / tasks)",
            "IF(FILL(tasks, 0) == 0, waiting, 0)",
        ] {
            assert!(parse(src).is_ok(), "{src}");
        }
    }

    #[test]
    fn documented_examples_parse() {
        for src in [
            "m1+m2",
            "e1-MIN(e1)",
            "PERIOD(m1)/60",
            "SUM(100/[m1, m2])",
            "AVG([m1,m2]/m3)",
            "METRICS()*100",
            "SUM(-[m1, m2])",
            "FILL(METRICS(), 0)",
            "FILL(m1, REPEAT)",
            "FILL(METRICS(), LINEAR)",
            "SUM(METRICS(\"errors\"))",
            "IF(FIRST(SORT(METRICS(), AVG, DESC))>100, 1, 0)",
            "IF(metric1<400, 10, 2)",
            "IF(DAY(m1)<6,m1)",
            "1.5e3 * .5",
        ] {
            assert!(parse(src).is_ok(), "{src}: {:?}", parse(src));
        }
    }

    #[test]
    fn ids_and_functions_are_listed_once() {
        let e = parse("IF(tasks > 0 AND backlog > 0, backlog / tasks)").expect("parses");
        assert_eq!(e.referenced_ids(), ["tasks", "backlog"]);
        assert_eq!(e.functions(), ["IF"]);
        let e = parse("FILL(m1, MIN(m1)) + SUM([m2, m1])").expect("parses");
        assert_eq!(e.referenced_ids(), ["m1", "m2"]);
        assert_eq!(e.functions(), ["FILL", "MIN", "SUM"]);
    }

    /// Functions CloudWatch documents that the evaluator does not run, from the user
    /// guide's function table and its examples: they parse, so plan-time validation
    /// leaves them to CloudWatch.
    #[test]
    fn calls_of_any_uppercase_function_parse() {
        for src in [
            "SUM(METRICS())",
            "IF(m1 > 0, m2 / m1, 0)",
            "(m1 + m2) / 2",
            "100 * m1 / m2",
            "ANOMALY_DETECTION_BAND(m1, 2)",
            "SORT(METRICS(), MAX, DESC, 10)",
            "SLICE(SORT(METRICS(), SUM, DESC), 0, 2)",
            "SEARCH('{AWS/EC2,InstanceId} MetricName=\"CPUUtilization\"', 'Average', 300)",
            "SUM(SEARCH('{AWS/SQS,QueueName} MetricName=\"visible\"', 'Sum', 60))",
            "INSIGHT_RULE_METRIC('rule', 'UniqueContributors')",
            "SERVICE_QUOTA(m1)",
            "RATE(m1) + DIFF(m1) + DIFF_TIME(m1)",
            "RUNNING_SUM(m1) / DATAPOINT_COUNT(m1)",
            "LOG10(m1) + LOG(m2) + SQRT(m1) + STDDEV(m1)",
            "REMOVE_EMPTY(METRICS())",
            "FIRST(SORT(METRICS(), AVG, DESC)) * 2",
            "m1 ^ 2",
            "LAMBDA(\"my-function\", m1)",
            "'it\\'s' + \"a \\\"quote\\\"\"",
        ] {
            assert!(parse(src).is_ok(), "{src}: {:?}", parse(src));
        }
        let e = parse("SEARCH('{AWS/SQS} m1', 'Sum') + m2").expect("parses");
        assert_eq!(
            e.referenced_ids(),
            ["m2"],
            "ids inside strings are not read"
        );
        assert_eq!(
            parse("'it\\'s'").expect("parses").kind,
            ExprKind::Str("it's".into())
        );
    }

    #[test]
    fn errors_name_the_column_and_what_was_expected() {
        let after = "expected an operator or the end of the expression";
        let cases: [(&str, usize, String); 20] = [
            (
                "m1 +",
                4,
                "unexpected end of expression at column 5; expected a value".into(),
            ),
            (
                "m1 + * m2",
                5,
                "unexpected \"*\" at column 6; expected a value".into(),
            ),
            (
                "m1 +, m2",
                4,
                "unexpected \",\" at column 5; expected a value".into(),
            ),
            (
                "-",
                1,
                "unexpected end of expression at column 2; expected a value".into(),
            ),
            (
                "IF(m1, 2",
                8,
                "unexpected end of expression at column 9; expected \",\" or \")\"".into(),
            ),
            (
                "IF(m1 > 0,, 1)",
                10,
                "unexpected \",\" at column 11; expected a value".into(),
            ),
            (
                "SUM([m1, m2)",
                11,
                "unexpected \")\" at column 12; expected \",\" or \"]\"".into(),
            ),
            (
                "(m1 + m2",
                8,
                "unexpected end of expression at column 9; expected \")\" or an operator".into(),
            ),
            (
                "(m1 + m2))",
                9,
                format!("unexpected \")\" at column 10; {after}"),
            ),
            (
                "IF(m1 > 0, m2 / m1, 0))",
                22,
                format!("unexpected \")\" at column 23; {after}"),
            ),
            (
                "m1 m2",
                3,
                format!("unexpected \"m2\" at column 4; {after}"),
            ),
            (
                "m1 == == m2",
                6,
                "unexpected \"==\" at column 7; expected a value".into(),
            ),
            // Columns count characters, not bytes.
            (
                "\"ééé\" + m1)",
                13,
                format!("unexpected \")\" at column 11; {after}"),
            ),
            ("m1 # 2", 3, "unexpected character \"#\" at column 4".into()),
            (
                "m1 + 1.2.3",
                5,
                "\"1.2.3\" is not a number at column 6".into(),
            ),
            (
                "fill(m1, 0)",
                0,
                "\"fill\" is not a function at column 1; expected a function name in \
                 uppercase (FILL)"
                    .into(),
            ),
            (
                "m1 + Fill(m1, 0)",
                5,
                "unexpected \"Fill\" at column 6; expected a function or keyword in uppercase, \
                 or an id that starts with a lowercase letter"
                    .into(),
            ),
            (
                "METRICS(\"x)",
                8,
                "unterminated string at column 9; expected the closing \"".into(),
            ),
            (
                "SEARCH('x",
                7,
                "unterminated string at column 8; expected the closing '".into(),
            ),
            (
                "   ",
                3,
                "unexpected end of expression at column 4; expected a value".into(),
            ),
        ];
        for (src, pos, shown) in cases {
            let e = parse(src).expect_err(src);
            assert_eq!(e.pos, pos, "{src}: {e}");
            assert_eq!(e.to_string(), shown, "{src}");
        }
        assert_eq!(
            parse("").expect_err("empty").to_string(),
            "unexpected end of expression at column 1; expected a value"
        );
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        // In a thread with the 2 MiB stack threads get by default, whatever the test
        // harness's own setting.
        let outcome = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(|| {
                let mut out = Vec::new();
                for (open, close) in [("(", ")"), ("ABS(", ")"), ("[", "]"), ("-", "")] {
                    for depth in [MAX_DEPTH - 1, MAX_DEPTH, 5_000] {
                        let src = format!("{}m1{}", open.repeat(depth), close.repeat(depth));
                        out.push((open, depth, parse(&src).map(|_| ()).map_err(|e| e.problem)));
                    }
                }
                out
            })
            .expect("spawns")
            .join()
            .expect("no overflow");
        let refused = Err(format!(
            "expression nested more than {MAX_DEPTH} levels deep"
        ));
        for (open, depth, result) in outcome {
            // The whole expression is the first level.
            let want = if depth < MAX_DEPTH {
                Ok(())
            } else {
                refused.clone()
            };
            assert_eq!(result, want, "{open} × {depth}");
        }
    }
}
