//! What a company's template may use, checked on its tokens before it is saved.
//!
//! Fuel bounds how many instructions a render runs, but not what one
//! instruction costs: `"x" * 100000000` is one instruction and 100 MB, and a
//! string doubled in a loop or a macro outgrows any memory in forty steps. So a
//! company's template is held to what a status mail needs: text, `{{ … }}`
//! with the mail's variables, `{% if %}` / `{% elif %}` / `{% else %}`, the
//! comparison and boolean operators, `~`, and filters that never make a string
//! longer. Without loops, assignments, macros, calls or multiplication a
//! render's cost is linear in the template's size, whatever it says.

use minijinja::{
    machinery::{tokenize, Token, WhitespaceConfig},
    syntax::SyntaxConfig,
};

/// Statements a template may open.
const STATEMENTS: [&str; 4] = ["if", "elif", "else", "endif"];

/// Filters that never make a value longer.
const FILTERS: [&str; 10] = ["upper", "lower", "title", "capitalize", "trim", "default", "d", "length", "first", "last"];

/// Why a template was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The template does not tokenize.
    #[error("template error: {0}")]
    Syntax(String),
    /// A statement other than `if`/`elif`/`else`/`endif`.
    #[error("line {line}: `{{% {name} %}}` is not allowed; templates may use if, elif, else and endif")]
    Statement { line: u32, name: String },
    /// A filter outside [`FILTERS`].
    #[error("line {line}: the filter `{name}` is not allowed; allowed: {}", FILTERS.join(", "))]
    Filter { line: u32, name: String },
    /// A function or method call.
    #[error("line {line}: calling `{name}` is not allowed")]
    Call { line: u32, name: String },
    /// `*` or `**`.
    #[error("line {line}: multiplication is not allowed")]
    Multiplication { line: u32 },
}

/// Checks `source` against the rules above.
pub fn check(source: &str) -> Result<(), Refusal> {
    let mut previous: Option<Token<'_>> = None;
    let mut before_previous_was_pipe = false;
    for item in tokenize(source, false, SyntaxConfig, WhitespaceConfig::default()) {
        let (token, span) = item.map_err(|e| Refusal::Syntax(e.to_string()))?;
        let line = u32::from(span.start_line);
        match (&previous, &token) {
            (Some(Token::BlockStart), Token::Ident(name)) if !STATEMENTS.contains(name) => {
                return Err(Refusal::Statement { line, name: (*name).to_owned() });
            }
            (Some(Token::BlockStart), other) if !matches!(other, Token::Ident(_)) => {
                return Err(Refusal::Statement { line, name: describe(other) });
            }
            (Some(Token::Pipe), Token::Ident(name)) if !FILTERS.contains(name) => {
                return Err(Refusal::Filter { line, name: (*name).to_owned() });
            }
            // A name followed by `(` is a call unless it is a filter's arguments.
            (Some(Token::Ident(name)), Token::ParenOpen) if !before_previous_was_pipe => {
                return Err(Refusal::Call { line, name: (*name).to_owned() });
            }
            (_, Token::Mul | Token::Pow) => return Err(Refusal::Multiplication { line }),
            _ => {}
        }
        before_previous_was_pipe = matches!(previous, Some(Token::Pipe));
        previous = Some(token);
    }
    Ok(())
}

fn describe(token: &Token<'_>) -> String {
    match token {
        Token::Minus => "-".to_owned(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_status_mail_needs_passes() {
        for source in [
            "Olá, {{ customer_name }}! {{ status | upper }}",
            "{% if tracking_url %}<a href=\"{{ tracking_url }}\">{{ tracking_number }}</a>{% elif carrier %}{{ carrier }}{% else %}—{% endif %}",
            "{{ comment | default('sem comentário') | trim }} {{ order_code ~ ' / ' ~ status }}",
            "{%- if status == 'Entregue' and not comment -%} ok {%- endif -%} {# a comment {% for %} #}",
            "{% raw %}{% for x in y %}{{ x * 2 }}{% endfor %}{% endraw %}",
        ] {
            assert_eq!(check(source), Ok(()), "{source}");
        }
    }

    #[test]
    fn growth_loops_state_and_calls_are_refused() {
        let refused = [
            ("{{ 'x' * 100000000 }}", "multiplication"),
            ("{{ 2 ** 64 }}", "multiplication"),
            ("{% for i in range(10) %}x{% endfor %}", "`{% for %}`"),
            ("{% set x = 'a' %}", "`{% set %}`"),
            ("{% macro f(s) %}{{ f(s ~ s) }}{% endmacro %}", "`{% macro %}`"),
            ("{% with a = 1 %}{% endwith %}", "`{% with %}`"),
            ("{% filter upper %}x{% endfilter %}", "`{% filter %}`"),
            ("{% include 'x' %}", "`{% include %}`"),
            ("{{ customer_name | replace('a', 'aaaa') }}", "`replace`"),
            ("{{ customer_name | join('xxxxxxxx') }}", "`join`"),
            ("{{ customer_name | safe }}", "`safe`"),
            ("{{ range(100000) | length }}", "calling `range`"),
            ("{{ namespace(a=1) }}", "calling `namespace`"),
            ("{{ customer_name.upper() }}", "calling `upper`"),
        ];
        for (source, expected) in refused {
            let message = check(source).expect_err(source).to_string();
            assert!(message.contains(expected), "{source}: {message}");
        }
    }

    #[test]
    fn a_block_that_opens_with_no_statement_name_is_refused_as_a_statement() {
        for source in ["{% 'x' %}", "{% 1 %}", "{% (a) %}"] {
            assert!(matches!(check(source), Err(Refusal::Statement { .. })), "{source}: {:?}", check(source));
        }
    }

    #[test]
    fn is_tests_and_filter_arguments_are_not_calls() {
        assert_eq!(check("{% if order_code is defined %}{{ order_code }}{% endif %}"), Ok(()));
        assert_eq!(check("{{ comment | default(status) }}"), Ok(()));
    }
}
