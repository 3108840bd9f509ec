//! The metric-math parser: text → [`Expr`] with byte positions. Knows the syntax only,
//! not what the functions do (see `eval.rs`).
//!
//! CloudWatch documents the tokens ("Metric math syntax and functions", CloudWatch user
//! guide): ids start with a lowercase letter and hold letters, digits and `_`; functions
//! and keywords are written in uppercase; operators `+ - * / ^`, comparisons
//! `== != <= >= < >`, logical `AND`/`&&`, `OR`/`||`, `NOT`/`!`; arrays `[a, b]`; strings in
//! double quotes (`METRICS("errors")`).
//!
//! AWS publishes no precedence table. We take the usual one, lowest first: `OR`, `AND`,
//! comparisons, `+ -`, `* /`, unary `- ! NOT`, `^` (right-associative, so `-2^2` is −4).

use std::fmt;

/// A parse failure, with the byte offset in the expression where it was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at byte {pos}: {message}")]
pub struct ParseError {
    /// Byte offset of the offending token (the expression's length at its end).
    pub pos: usize,
    /// What is wrong.
    pub message: String,
}

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
                let sym = match op {
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
                };
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

fn describe(t: &Tok) -> String {
    match t {
        Tok::Number(n) => format!("number {n}"),
        Tok::Str(s) => format!("string {s:?}"),
        Tok::Id(s) => format!("id `{s}`"),
        Tok::Word(s) => format!("`{s}`"),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::LBracket => "`[`".into(),
        Tok::RBracket => "`]`".into(),
        Tok::Comma => "`,`".into(),
        Tok::Op(_) | Tok::Minus | Tok::Bang => "an operator".into(),
        Tok::End => "the end of the expression".into(),
    }
}

fn lex(src: &str) -> Result<Vec<(usize, Tok)>, ParseError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |pos: usize, message: String| ParseError { pos, message };
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
                .map_err(|_| err(start, format!("`{text}` is not a number")))?;
            Tok::Number(n)
        } else if c.is_ascii_lowercase() {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            Tok::Id(src[start..i].to_owned())
        } else if c.is_ascii_uppercase() {
            while i < bytes.len()
                && (bytes[i].is_ascii_uppercase() || bytes[i].is_ascii_digit() || bytes[i] == b'_')
            {
                i += 1;
            }
            if i < bytes.len() && bytes[i].is_ascii_lowercase() {
                return Err(err(
                    start,
                    "functions and keywords are written in uppercase, and ids start with a \
                     lowercase letter"
                        .into(),
                ));
            }
            match &src[start..i] {
                "AND" => Tok::Op(BinaryOp::And),
                "OR" => Tok::Op(BinaryOp::Or),
                "NOT" => Tok::Bang,
                w => Tok::Word(w.to_owned()),
            }
        } else if c == b'"' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += 1;
            }
            if i >= bytes.len() {
                return Err(err(start, "unterminated string".into()));
            }
            i += 1;
            Tok::Str(src[start + 1..i - 1].to_owned())
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
                    return Err(err(start, format!("unexpected character `{ch}`")));
                }
            }
        };
        out.push((start, tok));
    }
    out.push((src.len(), Tok::End));
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    at: usize,
    depth: usize,
}

/// Deepest nesting accepted, so hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 200;

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.at].1
    }

    fn pos(&self) -> usize {
        self.toks[self.at].0
    }

    fn bump(&mut self) -> (usize, Tok) {
        let t = self.toks[self.at].clone();
        if self.at + 1 < self.toks.len() {
            self.at += 1;
        }
        t
    }

    fn fail<T>(&self, message: String) -> Result<T, ParseError> {
        Err(ParseError {
            pos: self.pos(),
            message,
        })
    }

    fn expect(&mut self, want: &Tok, what: &str) -> Result<(), ParseError> {
        if self.peek() == want {
            self.bump();
            Ok(())
        } else {
            self.fail(format!("expected {what}, found {}", describe(self.peek())))
        }
    }

    fn binary(
        &mut self,
        ops: &[BinaryOp],
        next: fn(&mut Parser) -> Result<Expr, ParseError>,
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
            return self.fail("expression nested too deeply".into());
        }
        let e = self.binary(&[BinaryOp::Or], Parser::and);
        self.depth -= 1;
        e
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        self.binary(&[BinaryOp::And], Parser::comparison)
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
            Parser::additive,
        )
    }

    fn additive(&mut self) -> Result<Expr, ParseError> {
        self.binary(&[BinaryOp::Add, BinaryOp::Sub], Parser::multiplicative)
    }

    fn multiplicative(&mut self) -> Result<Expr, ParseError> {
        self.binary(&[BinaryOp::Mul, BinaryOp::Div], Parser::unary)
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
            return self.fail("expression nested too deeply".into());
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

    fn list(&mut self, close: &Tok, what: &str) -> Result<Vec<Expr>, ParseError> {
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
                t => return self.fail(format!("expected `,` or {what}, found {}", describe(t))),
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let (pos, tok) = self.bump();
        let kind = match tok {
            Tok::Number(n) => ExprKind::Number(n),
            Tok::Str(s) => ExprKind::Str(s),
            Tok::Id(s) => {
                if self.peek() == &Tok::LParen {
                    return Err(ParseError {
                        pos,
                        message: format!(
                            "`{s}` is not a function: functions are written in uppercase"
                        ),
                    });
                }
                ExprKind::Id(s)
            }
            Tok::Word(w) => {
                if self.peek() == &Tok::LParen {
                    self.bump();
                    self.depth += 1;
                    let args = self.list(&Tok::RParen, "`)`")?;
                    self.depth -= 1;
                    ExprKind::Call(w, args)
                } else {
                    ExprKind::Keyword(w)
                }
            }
            Tok::LParen => {
                let inner = self.or()?;
                self.expect(&Tok::RParen, "`)`")?;
                return Ok(inner);
            }
            Tok::LBracket => ExprKind::Array(self.list(&Tok::RBracket, "`]`")?),
            other => {
                return Err(ParseError {
                    pos,
                    message: format!("expected a value, found {}", describe(&other)),
                });
            }
        };
        Ok(Expr { pos, kind })
    }
}

/// Parses a metric-math expression.
///
/// # Errors
/// [`ParseError`] with the byte offset of the first token that does not fit.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        at: 0,
        depth: 0,
    };
    if p.peek() == &Tok::End {
        return p.fail("the expression is empty".into());
    }
    let e = p.or()?;
    if p.peek() != &Tok::End {
        return p.fail(format!(
            "expected an operator or the end, found {}",
            describe(p.peek())
        ));
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

    #[test]
    fn errors_carry_the_byte_position() {
        let cases = [
            ("m1 +", 4, "expected a value"),
            ("m1 + * m2", 5, "expected a value"),
            ("IF(m1, 2", 8, "expected `,` or `)`"),
            ("(m1 + m2", 8, "expected `)`"),
            ("m1 m2", 3, "expected an operator"),
            ("m1 # 2", 3, "unexpected character"),
            ("fill(m1, 0)", 0, "not a function"),
            ("Fill(m1, 0)", 0, "uppercase"),
            ("METRICS(\"x)", 8, "unterminated"),
            ("", 0, "empty"),
            ("   ", 3, "empty"),
        ];
        for (src, pos, text) in cases {
            let e = parse(src).expect_err(src);
            assert_eq!(e.pos, pos, "{src}: {e}");
            assert!(e.message.contains(text), "{src}: {e}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let src = format!("{}m1{}", "(".repeat(5000), ")".repeat(5000));
        assert!(parse(&src).is_err());
        let src = format!("{}m1", "-".repeat(5000));
        assert!(parse(&src).is_err());
    }
}
