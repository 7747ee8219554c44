//! Notification templates (minijinja): the built-in ones in pt-BR and English,
//! status labels, rendering, and the checks run when a company saves its own.
//!
//! Variables: `customer_name`, `company_name`, `order_code`, `status`,
//! `previous_status`, `comment`, `carrier`, `tracking_number`, `tracking_url`,
//! `order_url` (the order in the portal, behind login), `track_url` (its
//! public tracking page, no login), and `headline` (a sentence about the new
//! status). HTML bodies
//! are auto-escaped; subjects and text bodies are not. An unknown variable is
//! an error, so typos are caught when a template is saved.

use entities::{Locale, OrderStatus};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};

use super::template_guard;
use crate::DomainError;

/// Subject, HTML and text of one mail, as templates or rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailParts {
    /// Subject line.
    pub subject: String,
    /// HTML body.
    pub html: String,
    /// Plain-text body.
    pub text: String,
}

/// What a status mail may show.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Vars {
    /// The customer's name (order or responsible person).
    pub customer_name: String,
    /// The company's name.
    pub company_name: String,
    /// The order code.
    pub order_code: String,
    /// The new status, as a label in the company's language.
    pub status: String,
    /// The previous status label.
    pub previous_status: String,
    /// The comment of the change.
    pub comment: String,
    /// Carrier of the latest shipment.
    pub carrier: String,
    /// Tracking number of the latest shipment.
    pub tracking_number: String,
    /// Tracking page of the latest shipment.
    pub tracking_url: String,
    /// The order in the customer portal.
    pub order_url: String,
    /// The order's public tracking page (no login, no personal data).
    pub track_url: String,
    /// A sentence about the new status.
    pub headline: String,
}

/// The statuses that notify unless a company chooses otherwise.
pub const DEFAULT_STATUSES: [OrderStatus; 3] = [OrderStatus::InSeparation, OrderStatus::InTransit, OrderStatus::Delivered];

/// A status in words.
pub fn status_label(locale: Locale, status: OrderStatus) -> &'static str {
    use OrderStatus::*;
    match (locale, status) {
        (Locale::PtBr, Received) => "Pedido recebido",
        (Locale::PtBr, Approved) => "Pedido aprovado",
        (Locale::PtBr, InProduction) => "Em produção",
        (Locale::PtBr, Invoiced) => "Nota fiscal emitida",
        (Locale::PtBr, InSeparation) => "Em separação",
        (Locale::PtBr, InTransit) => "Em trânsito",
        (Locale::PtBr, DeliveryFailed) => "Dificuldade de entrega",
        (Locale::PtBr, Delivered) => "Pedido entregue",
        (Locale::PtBr, Cancelled) => "Pedido cancelado",
        (Locale::PtBr, Refunded) => "Pedido reembolsado",
        (Locale::PtBr, OnHold) => "Pedido em análise",
        (Locale::En, Received) => "Order received",
        (Locale::En, Approved) => "Order approved",
        (Locale::En, InProduction) => "In production",
        (Locale::En, Invoiced) => "Invoice issued",
        (Locale::En, InSeparation) => "Being prepared",
        (Locale::En, InTransit) => "In transit",
        (Locale::En, DeliveryFailed) => "Delivery difficulty",
        (Locale::En, Delivered) => "Delivered",
        (Locale::En, Cancelled) => "Cancelled",
        (Locale::En, Refunded) => "Refunded",
        (Locale::En, OnHold) => "Under review",
    }
}

/// A sentence about a status for the mail body.
pub fn headline(locale: Locale, status: OrderStatus) -> &'static str {
    use OrderStatus::*;
    match (locale, status) {
        (Locale::PtBr, Received) => "Recebemos o seu pedido.",
        (Locale::PtBr, Approved) => "O seu pedido foi aprovado.",
        (Locale::PtBr, InProduction) => "O seu pedido está em produção.",
        (Locale::PtBr, Invoiced) => "A nota fiscal do seu pedido foi emitida.",
        (Locale::PtBr, InSeparation) => "O seu pedido está sendo preparado para o envio.",
        (Locale::PtBr, InTransit) => "O seu pedido está a caminho.",
        (Locale::PtBr, DeliveryFailed) => "Tivemos uma dificuldade na entrega do seu pedido; uma nova tentativa será feita.",
        (Locale::PtBr, Delivered) => "O seu pedido foi entregue.",
        (Locale::PtBr, Cancelled) => "O seu pedido foi cancelado.",
        (Locale::PtBr, Refunded) => "O reembolso do seu pedido foi feito.",
        (Locale::PtBr, OnHold) => "O seu pedido está em análise.",
        (Locale::En, Received) => "We have received your order.",
        (Locale::En, Approved) => "Your order has been approved.",
        (Locale::En, InProduction) => "Your order is being produced.",
        (Locale::En, Invoiced) => "The invoice for your order has been issued.",
        (Locale::En, InSeparation) => "Your order is being prepared for shipping.",
        (Locale::En, InTransit) => "Your order is on its way.",
        (Locale::En, DeliveryFailed) => "We had trouble delivering your order; we will try again.",
        (Locale::En, Delivered) => "Your order has been delivered.",
        (Locale::En, Cancelled) => "Your order has been cancelled.",
        (Locale::En, Refunded) => "Your order has been refunded.",
        (Locale::En, OnHold) => "Your order is under review.",
    }
}

const PT_SUBJECT: &str = "{{ company_name }}: pedido {{ order_code }} — {{ status }}";
const PT_TEXT: &str = "Olá, {{ customer_name }}!

{{ headline }}

Pedido: {{ order_code }}
Situação: {{ status }}
{% if comment %}
{{ comment }}
{% endif %}{% if tracking_number %}
Transportadora: {{ carrier }}
Código de rastreio: {{ tracking_number }}{% if tracking_url %}
Rastreio: {{ tracking_url }}{% endif %}
{% endif %}
Resumo do pedido: {{ order_url }}{% if track_url %}
Acompanhe sem login: {{ track_url }}{% endif %}

{{ company_name }}
";
const PT_HTML: &str = r#"<!doctype html>
<html lang="pt-BR"><body style="font-family: sans-serif; color: #222">
<p>Olá, {{ customer_name }}!</p>
<p><strong>{{ headline }}</strong></p>
<p>Pedido <strong>{{ order_code }}</strong> — {{ status }}</p>
{% if comment %}<p>{{ comment }}</p>{% endif %}
{% if tracking_number %}<p>Transportadora: {{ carrier }}<br>Código de rastreio: {% if tracking_url %}<a href="{{ tracking_url }}">{{ tracking_number }}</a>{% else %}{{ tracking_number }}{% endif %}</p>{% endif %}
<p><a href="{{ order_url }}" style="display: inline-block; padding: 10px 16px; background: #0b5cad; color: #fff; text-decoration: none; border-radius: 4px">Resumo do pedido</a></p>
{% if track_url %}<p><a href="{{ track_url }}">Acompanhe sem login</a></p>{% endif %}
<p>{{ company_name }}</p>
</body></html>
"#;

const EN_SUBJECT: &str = "{{ company_name }}: order {{ order_code }} — {{ status }}";
const EN_TEXT: &str = "Hello, {{ customer_name }}!

{{ headline }}

Order: {{ order_code }}
Status: {{ status }}
{% if comment %}
{{ comment }}
{% endif %}{% if tracking_number %}
Carrier: {{ carrier }}
Tracking number: {{ tracking_number }}{% if tracking_url %}
Track it: {{ tracking_url }}{% endif %}
{% endif %}
Order summary: {{ order_url }}{% if track_url %}
Follow it without logging in: {{ track_url }}{% endif %}

{{ company_name }}
";
const EN_HTML: &str = r#"<!doctype html>
<html lang="en"><body style="font-family: sans-serif; color: #222">
<p>Hello, {{ customer_name }}!</p>
<p><strong>{{ headline }}</strong></p>
<p>Order <strong>{{ order_code }}</strong> — {{ status }}</p>
{% if comment %}<p>{{ comment }}</p>{% endif %}
{% if tracking_number %}<p>Carrier: {{ carrier }}<br>Tracking number: {% if tracking_url %}<a href="{{ tracking_url }}">{{ tracking_number }}</a>{% else %}{{ tracking_number }}{% endif %}</p>{% endif %}
<p><a href="{{ order_url }}" style="display: inline-block; padding: 10px 16px; background: #0b5cad; color: #fff; text-decoration: none; border-radius: 4px">Order summary</a></p>
{% if track_url %}<p><a href="{{ track_url }}">Follow it without logging in</a></p>{% endif %}
<p>{{ company_name }}</p>
</body></html>
"#;

/// The built-in status mail in `locale` (the same for every status; the
/// `headline` and `status` variables carry the difference).
pub fn builtin(locale: Locale) -> MailParts {
    let (subject, html, text) = match locale {
        Locale::PtBr => (PT_SUBJECT, PT_HTML, PT_TEXT),
        Locale::En => (EN_SUBJECT, EN_HTML, EN_TEXT),
    };
    MailParts { subject: subject.into(), html: html.into(), text: text.into() }
}

/// The password reset / first access mail in `locale`. Variables: `name`,
/// `company_name`, `reset_url`, `first_access`.
pub fn reset_mail(locale: Locale) -> MailParts {
    match locale {
        Locale::PtBr => MailParts {
            subject: "{% if first_access %}Primeiro acesso{% else %}Redefinição de senha{% endif %} — {{ company_name }}".into(),
            text: "Olá, {{ name }}!\n\nPara {% if first_access %}criar a sua senha{% else %}redefinir a sua senha{% endif %}, acesse o link abaixo. Ele vale por 1 hora e só pode ser usado uma vez.\n\n{{ reset_url }}\n\nSe você não pediu isto, ignore esta mensagem.\n".into(),
            html: "<p>Olá, {{ name }}!</p><p>Para {% if first_access %}criar a sua senha{% else %}redefinir a sua senha{% endif %}, use o link abaixo. Ele vale por 1 hora e só pode ser usado uma vez.</p><p><a href=\"{{ reset_url }}\">{% if first_access %}Criar senha{% else %}Redefinir senha{% endif %}</a></p><p>Se você não pediu isto, ignore esta mensagem.</p>".into(),
        },
        Locale::En => MailParts {
            subject: "{% if first_access %}First access{% else %}Password reset{% endif %} — {{ company_name }}".into(),
            text: "Hello, {{ name }}!\n\nTo {% if first_access %}create your password{% else %}reset your password{% endif %}, open the link below. It is valid for 1 hour and works once.\n\n{{ reset_url }}\n\nIf you did not ask for this, ignore this message.\n".into(),
            html: "<p>Hello, {{ name }}!</p><p>To {% if first_access %}create your password{% else %}reset your password{% endif %}, use the link below. It is valid for 1 hour and works once.</p><p><a href=\"{{ reset_url }}\">{% if first_access %}Create password{% else %}Reset password{% endif %}</a></p><p>If you did not ask for this, ignore this message.</p>".into(),
        },
    }
}

/// HTML-escapes the five characters that matter. minijinja's own escaper also
/// turns `/` into `&#x2f;`, which makes every link in a mail unreadable in its
/// source and trips some mail filters.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            other => out.push(other),
        }
    }
    out
}

/// Instructions one part of a mail may run. The built-in templates need a few
/// hundred; a company's own is held to what [`template_guard`] allows, so this
/// is the second fence, not the first.
const FUEL: u64 = 20_000;
/// Nesting of `if`s a template may have.
const RECURSION_LIMIT: usize = 32;
/// Largest rendered part, in bytes.
pub const OUTPUT_CAP: usize = 256 * 1024;

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(RECURSION_LIMIT);
    env.set_auto_escape_callback(|name| if name.ends_with(".html") { AutoEscape::Html } else { AutoEscape::None });
    env.set_formatter(|out, state, value| {
        if matches!(state.auto_escape(), AutoEscape::Html) && !value.is_safe() && !value.is_none() && !value.is_undefined() {
            out.write_str(&escape_html(&value.to_string())).map_err(|_| {
                minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "formatting failed")
            })
        } else {
            minijinja::escape_formatter(out, state, value)
        }
    });
    env
}

/// A buffer that refuses to grow past [`OUTPUT_CAP`], so an over-long render
/// stops at the cap instead of after it.
#[derive(Default)]
struct Capped {
    bytes: Vec<u8>,
    overflowed: bool,
}

impl std::io::Write for &mut Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > OUTPUT_CAP {
            self.overflowed = true;
            return Err(std::io::Error::other("output cap"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn render_one(env: &Environment<'_>, field: &str, name: &str, source: &str, context: &impl Serialize) -> Result<String, DomainError> {
    let refuse = |message: String| DomainError::validation(field, message);
    let template = env.template_from_named_str(name, source).map_err(|e| refuse(format!("template error: {e}")))?;
    let mut out = Capped::default();
    match template.render_captured_to(context, &mut out) {
        Ok(_) => String::from_utf8(out.bytes).map_err(|_| refuse("template produced invalid UTF-8".into())),
        Err(_) if out.overflowed => Err(refuse(format!("renders to more than {} KiB", OUTPUT_CAP / 1024))),
        Err(e) if e.kind() == minijinja::ErrorKind::OutOfFuel => {
            Err(refuse("takes too many steps to render; simplify it".into()))
        }
        Err(e) => Err(refuse(format!("template error: {e}"))),
    }
}

/// Renders the three parts with `context`, on the calling thread. Async code
/// uses [`render_bounded`].
pub fn render(parts: &MailParts, context: &impl Serialize) -> Result<MailParts, DomainError> {
    let env = environment();
    Ok(MailParts {
        // One line, and within the outbox's 300-character column.
        subject: render_one(&env, "subject", "subject.txt", &parts.subject, context)?
            .trim()
            .replace(['\r', '\n'], " ")
            .chars()
            .take(300)
            .collect(),
        html: render_one(&env, "html", "body.html", &parts.html, context)?,
        text: render_one(&env, "text", "body.txt", &parts.text, context)?,
    })
}

/// Renders at most this many mails at once, each on a blocking thread, so
/// templates never run on the async runtime and never take more than these
/// cores from request handling.
fn render_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores.div_ceil(2).max(1))
    })
}

/// [`render`] off the async runtime, through a bounded pool.
pub async fn render_bounded<C: Serialize + Send + 'static>(parts: MailParts, context: C) -> Result<MailParts, DomainError> {
    let _slot = render_slots().acquire().await.map_err(|_| DomainError::Unexpected(anyhow::anyhow!("render pool closed")))?;
    tokio::task::spawn_blocking(move || render(&parts, &context))
        .await
        .map_err(|e| DomainError::Unexpected(anyhow::anyhow!("render task failed: {e}")))?
}

/// The values a template is checked with when it is saved.
fn sample() -> Vars {
    Vars {
        customer_name: "Maria".into(),
        company_name: "Acme".into(),
        order_code: "#1".into(),
        status: "Em trânsito".into(),
        previous_status: "Em separação".into(),
        comment: "—".into(),
        carrier: "Correios".into(),
        tracking_number: "BR1".into(),
        tracking_url: "https://example.com".into(),
        order_url: "https://example.com/orders/1".into(),
        track_url: "https://example.com/track/1.0".into(),
        headline: "—".into(),
    }
}

/// Checks a company's template before it is saved: within sane sizes, using
/// only what [`template_guard`] allows, and rendering with every variable set
/// within fuel and [`OUTPUT_CAP`].
pub async fn check(parts: &MailParts) -> Result<(), DomainError> {
    for (field, value, max) in [("subject", &parts.subject, 300), ("html", &parts.html, 100_000), ("text", &parts.text, 100_000)] {
        if value.trim().is_empty() {
            return Err(DomainError::validation(field, "must not be empty"));
        }
        if value.len() > max {
            return Err(DomainError::validation(field, format!("must be at most {max} characters")));
        }
        template_guard::check(value).map_err(|refusal| DomainError::validation(field, refusal.to_string()))?;
    }
    render_bounded(parts.clone(), sample()).await.map(|_| ())
}

/// What a company's template would send, rendered with sample values after
/// the checks a save runs: the template editor's preview.
pub async fn preview(parts: &MailParts) -> Result<MailParts, DomainError> {
    check(parts).await?;
    render_bounded(parts.clone(), sample()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_templates_render_in_both_languages_and_escape_html() -> Result<(), DomainError> {
        for locale in [Locale::PtBr, Locale::En] {
            let vars = Vars {
                customer_name: "Ana <b>".into(),
                company_name: "Acme".into(),
                order_code: "#42".into(),
                status: status_label(locale, OrderStatus::InTransit).into(),
                headline: headline(locale, OrderStatus::InTransit).into(),
                tracking_number: "BR1".into(),
                carrier: "Correios".into(),
                order_url: "http://portal/orders/42".into(),
                ..Vars::default()
            };
            let mail = render(&builtin(locale), &vars)?;
            assert!(mail.subject.contains("#42"));
            assert!(mail.text.contains("Ana <b>"), "text is not escaped");
            assert!(mail.html.contains("Ana &lt;b&gt;"), "html is escaped");
            assert!(mail.html.contains("http://portal/orders/42"));
            assert!(mail.text.contains("BR1"));
        }
        Ok(())
    }

    #[tokio::test]
    async fn template_errors_and_unknown_variables_are_caught() {
        let mut parts = builtin(Locale::En);
        parts.subject = "{{ order_code ".into();
        assert!(check(&parts).await.is_err());
        let mut parts = builtin(Locale::En);
        parts.text = "{{ custmer_name }}".into();
        assert!(check(&parts).await.is_err());
        assert!(check(&builtin(Locale::PtBr)).await.is_ok());
        assert!(check(&builtin(Locale::En)).await.is_ok());
    }

    #[test]
    fn a_render_stops_at_the_output_cap_and_at_the_fuel_limit() {
        // Not savable (the guard refuses `*` and `for`), but a render must still
        // stop on its own: these are the fences behind the guard.
        let mut parts = builtin(Locale::En);
        parts.text = "{{ 'x' * 300000 }}".into();
        let err = render(&parts, &sample()).expect_err("over the cap");
        assert!(err.to_string().contains("more than 256 KiB"), "{err}");
        parts.text = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}".into();
        let started = std::time::Instant::now();
        let err = render(&parts, &sample()).expect_err("out of fuel");
        assert!(err.to_string().contains("too many steps"), "{err}");
        eprintln!("out of fuel after {:?}", started.elapsed());
    }

    #[test]
    fn builtin_templates_fit_in_a_tenth_of_the_fuel() {
        let mut env = environment();
        env.set_fuel(Some(FUEL / 10));
        for locale in [Locale::PtBr, Locale::En] {
            for (name, source) in [("s.txt", builtin(locale).subject), ("b.html", builtin(locale).html), ("b.txt", builtin(locale).text)] {
                render_one(&env, "x", name, &source, &sample()).expect("within fuel");
            }
        }
    }

    #[test]
    fn every_status_has_a_label_and_headline() {
        for locale in [Locale::PtBr, Locale::En] {
            for status in crate::status::ALL {
                assert!(!status_label(locale, status).is_empty());
                assert!(headline(locale, status).ends_with('.'));
            }
        }
    }
}
