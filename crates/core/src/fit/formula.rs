//! Formulas in `x` typed by the student, parsed and evaluated by the `exmex` crate.
//!
//! `exmex` reports what is wrong but not where, so a short scan of the text runs first and
//! finds the column of the usual mistakes: an unknown name, a stray character, a parenthesis
//! left open or closed twice, a number written against a name (`2x`), two operators in a row,
//! an operator at the end. Whatever the scan lets through is then parsed by `exmex`; its own
//! messages are kept, with a column when they quote the rest of the text.

use exmex::{Express, FlatEx};

/// Functions of one argument a formula may call (those `exmex` knows for floats).
pub const FUNCTIONS: [&str; 26] = [
    "abs", "signum", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh",
    "acosh", "atanh", "floor", "round", "ceil", "trunc", "fract", "exp", "sqrt", "cbrt", "ln",
    "log2", "log10", "log",
];

/// Named constants a formula may use.
pub const CONSTANTS: [&str; 6] = ["PI", "π", "E", "e", "TAU", "τ"];

/// The one variable of a formula.
pub const VARIABLE: &str = "x";

/// A parsed formula in `x`, e.g. `sin(3*x)/x` or `x^2 - 1`.
#[derive(Debug, Clone)]
pub struct Formula {
    text: String,
    /// Boxed: a parsed expression is about 19 kB, too big to move around inline.
    expr: Box<FlatEx<f64>>,
}

impl PartialEq for Formula {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

/// Why a formula cannot be used, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", .column.map(|c| format!(" (column {})", c + 1)).unwrap_or_default())]
pub struct FormulaError {
    /// What is wrong, in words.
    pub message: String,
    /// 0-based column (in characters) of the offending spot, when it is known.
    pub column: Option<usize>,
}

impl FormulaError {
    fn at(column: usize, message: impl Into<String>) -> Self {
        Self { message: message.into(), column: Some(column) }
    }

    /// A caret under the offending column of `text`: two lines, the text and the pointer.
    pub fn pointer(&self, text: &str) -> Option<String> {
        self.column.map(|column| format!("{text}\n{}^", " ".repeat(column)))
    }
}

impl Formula {
    /// Parses `text` as a formula in `x`.
    ///
    /// # Errors
    /// [`FormulaError`] naming the mistake and, when it can be found, its column.
    pub fn parse(text: &str) -> Result<Self, FormulaError> {
        scan(text)?;
        let expr = exmex::parse::<f64>(text).map_err(|e| locate(text, e.msg()))?;
        if let Some(name) = expr.var_names().iter().find(|n| n.as_str() != VARIABLE) {
            let column = char_column(text, text.find(name.as_str()).unwrap_or(0));
            return Err(FormulaError::at(column, unknown_name(name)));
        }
        Ok(Self { text: text.to_string(), expr: Box::new(expr) })
    }

    /// The formula as typed.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The value at `x` (NaN where the formula is undefined, e.g. `ln(x)` for `x < 0`).
    pub fn eval(&self, x: f64) -> f64 {
        let vars: &[f64] = if self.expr.var_names().is_empty() { &[] } else { &[x] };
        self.expr.eval(vars).unwrap_or(f64::NAN)
    }
}

fn unknown_name(name: &str) -> String {
    format!(
        "unknown name '{name}': the variable is x, the functions are {} and the constants \
         PI, E and TAU",
        FUNCTIONS.join(", ")
    )
}

fn char_column(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())].chars().count()
}

/// What the previous token was, for the checks between neighbours.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Previous {
    Start,
    Operand,
    Operator,
    Function,
    Open,
}

/// Finds the usual mistakes with their column before `exmex` sees the text.
fn scan(text: &str) -> Result<(), FormulaError> {
    if text.trim().is_empty() {
        return Err(FormulaError {
            message: "type a formula in x, for example sin(3*x)".to_string(),
            column: None,
        });
    }
    let chars: Vec<char> = text.chars().collect();
    let mut open: Vec<usize> = Vec::new();
    let mut previous = Previous::Start;
    let mut last_operator = 0;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            if previous == Previous::Operand {
                return Err(FormulaError::at(start, "missing operator before this number"));
            }
            if i < chars.len() && (chars[i].is_alphabetic() || chars[i] == '(') {
                return Err(FormulaError::at(
                    i,
                    "missing * between a number and what follows (write 2*x, not 2x)",
                ));
            }
            previous = Previous::Operand;
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let name: String = chars[start..i].iter().collect();
            let is_function = FUNCTIONS.contains(&name.as_str());
            if !is_function && name != VARIABLE && !CONSTANTS.contains(&name.as_str()) {
                return Err(FormulaError::at(start, unknown_name(&name)));
            }
            if previous == Previous::Operand {
                return Err(FormulaError::at(start, format!("missing operator before '{name}'")));
            }
            if is_function {
                let next = chars[i..].iter().find(|c| !c.is_whitespace());
                if next != Some(&'(') {
                    return Err(FormulaError::at(
                        start,
                        format!("write the argument of {name} in parentheses: {name}(x)"),
                    ));
                }
                previous = Previous::Function;
            } else {
                previous = Previous::Operand;
            }
            continue;
        }
        match c {
            '(' => {
                if previous == Previous::Operand {
                    return Err(FormulaError::at(i, "missing operator before '('"));
                }
                open.push(i);
                previous = Previous::Open;
            }
            ')' => {
                if open.pop().is_none() {
                    return Err(FormulaError::at(i, "this ')' closes nothing"));
                }
                match previous {
                    Previous::Open => return Err(FormulaError::at(i, "empty parentheses")),
                    Previous::Operator => {
                        return Err(FormulaError::at(
                            last_operator,
                            "operator without a right side",
                        ));
                    }
                    _ => {}
                }
                previous = Previous::Operand;
            }
            '+' | '-' | '*' | '/' | '^' => {
                let unary = c == '-' || c == '+';
                let binary_allowed = previous == Previous::Operand;
                if !binary_allowed && !unary {
                    return Err(FormulaError::at(i, format!("'{c}' needs a value on its left")));
                }
                if previous == Previous::Operator && unary {
                    return Err(FormulaError::at(
                        i,
                        "two operators in a row; put -x in parentheses: *(-x)",
                    ));
                }
                last_operator = i;
                previous = Previous::Operator;
            }
            _ => return Err(FormulaError::at(i, format!("unexpected character '{c}'"))),
        }
        i += 1;
    }
    if let Some(&column) = open.last() {
        return Err(FormulaError::at(column, "this '(' is never closed"));
    }
    match previous {
        Previous::Operator => {
            Err(FormulaError::at(last_operator, "the formula ends with an operator"))
        }
        Previous::Function => Err(FormulaError::at(chars.len(), "the function has no argument")),
        _ => Ok(()),
    }
}

/// Turns an `exmex` message into a [`FormulaError`], with a column when it quotes the text.
fn locate(text: &str, message: &str) -> FormulaError {
    const REST: &str = "don't know how to parse ";
    let column = message
        .strip_prefix(REST)
        .filter(|rest| text.ends_with(rest))
        .map(|rest| char_column(text, text.len() - rest.len()));
    FormulaError { message: format!("cannot read the formula: {message}"), column }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column_of(text: &str) -> Option<usize> {
        Formula::parse(text).expect_err(text).column
    }

    #[test]
    fn good_formulas_evaluate_like_the_maths() {
        let cases: [(&str, f64, f64); 7] = [
            ("sin(x)", 0.5, 0.5f64.sin()),
            ("x*sin(x)", 2.0, 2.0 * 2.0f64.sin()),
            ("1/(1+25*x^2)", 0.2, 0.5),
            ("abs(x) - 1", -3.0, 2.0),
            ("x^3 - x", 2.0, 6.0),
            ("exp(-x^2/2)", 0.0, 1.0),
            ("2*PI*x", 1.0, std::f64::consts::TAU),
        ];
        for (text, x, expected) in cases {
            let formula = Formula::parse(text).expect(text);
            assert!((formula.eval(x) - expected).abs() < 1e-12, "{text} at {x}");
        }
    }

    #[test]
    fn a_constant_formula_is_constant() {
        assert_eq!(Formula::parse("3").unwrap().eval(7.0), 3.0);
    }

    #[test]
    fn undefined_points_are_nan() {
        assert!(Formula::parse("ln(x)").unwrap().eval(-1.0).is_nan());
    }

    #[test]
    fn bad_formulas_point_at_the_mistake() {
        // Columns counted by hand, from 0.
        assert_eq!(column_of("sin(x"), Some(3));
        assert_eq!(column_of("x)"), Some(1));
        assert_eq!(column_of("2x"), Some(1));
        assert_eq!(column_of("x + y"), Some(4));
        assert_eq!(column_of("sinn(x)"), Some(0));
        assert_eq!(column_of("x *"), Some(2));
        assert_eq!(column_of("x * / 2"), Some(4));
        assert_eq!(column_of("x # 2"), Some(2));
        assert_eq!(column_of("sin x"), Some(0));
        assert_eq!(column_of("()"), Some(1));
        assert_eq!(Formula::parse("  ").unwrap_err().column, None);
    }

    #[test]
    fn the_pointer_sits_under_the_column() {
        let error = Formula::parse("x + y").unwrap_err();
        assert_eq!(error.pointer("x + y").unwrap(), "x + y\n    ^");
        assert!(error.to_string().contains("column 5"));
        assert!(error.message.contains("unknown name 'y'"));
    }
}
