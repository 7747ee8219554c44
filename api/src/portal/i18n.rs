//! The portal's two languages: Brazilian Portuguese by default, English by
//! `Accept-Language` or the language switch (a cookie). Every text a page
//! shows is here, as one table with both languages in each row, so a text
//! cannot miss a translation; a test checks that every `t.<key>` a template
//! names has a row.

use std::{collections::BTreeMap, sync::OnceLock};

use axum::{
    extract::{Query, State},
    http::{header, HeaderMap},
    response::{IntoResponse, Redirect, Response},
};
use entities::{Locale, OrderStatus};
use serde::Deserialize;

use super::session;
use crate::state::AppState;

/// Name of the language cookie.
pub const COOKIE: &str = "rastro_lang";

/// (key, pt-BR, en).
const TEXTS: &[(&str, &str, &str)] = &[
    ("lang_code", "pt-BR", "en"),
    ("other_lang", "English", "Português"),
    ("other_lang_code", "en", "pt-BR"),
    ("skip", "Ir para o conteúdo", "Skip to content"),
    ("login_title", "Entrar", "Log in"),
    ("login_intro", "Acompanhe seus pedidos.", "Follow your orders."),
    ("email", "E-mail", "E-mail"),
    ("password", "Senha", "Password"),
    ("company", "Código da loja (está no link do seu e-mail)", "Store code (it is in your e-mail's link)"),
    ("login_button", "Entrar", "Log in"),
    ("companies", "Empresas", "Companies"),
    ("payload_erased", "Apagada (LGPD).", "Erased (LGPD)."),
    ("search_too_long", "A busca tem no máximo 200 caracteres.", "A search has at most 200 characters."),
    ("password_dropped", "Salvo, mas a senha guardada era do servidor anterior e foi apagada: digite a senha deste servidor.", "Saved, but the stored password was for the previous server and was removed: type this server's password."),
    ("secret_gone", "Este segredo já foi mostrado e não aparece de novo.", "This secret was already shown and does not show again."),
    ("company_blank_for_support", "Em branco para o suporte Rastro.", "Blank for Rastro support."),
    ("integrations", "Integrações", "Integrations"),
    ("monitor", "Monitor", "Monitor"),
    ("flow", "Fluxo", "Flow"),
    ("last_day", "Últimas 24 h", "Last 24 h"),
    ("last_week", "Últimos 7 dias", "Last 7 days"),
    ("last_success", "Último sucesso", "Last success"),
    ("last_failure", "Última falha", "Last failure"),
    ("no_runs", "Nenhuma chamada de integração ainda.", "No integration calls yet."),
    ("integration_log", "Chamadas", "Calls"),
    ("integration_run", "Chamada", "Call"),
    ("outcome", "Resultado", "Outcome"),
    ("outcome_SUCCESS", "sucesso", "success"),
    ("outcome_PARTIAL", "parcial", "partial"),
    ("outcome_FAILED", "falhou", "failed"),
    ("outcome_REJECTED", "recusada", "rejected"),
    ("received", "Recebida em", "Received"),
    ("records", "Registros", "Records"),
    ("records_help", "Registros: recebidos/aplicados/ignorados/com falha.", "Records: received/applied/skipped/failed."),
    ("reprocess", "Reprocessar", "Reprocess"),
    ("request", "Requisição", "Request"),
    ("response", "Resposta", "Response"),
    ("audit", "Auditoria", "Audit log"),
    ("audit_action", "Ação", "Action"),
    ("audit_object", "Objeto", "Object"),
    ("when", "Quando", "When"),
    ("who", "Quem", "Who"),
    ("privacy", "LGPD", "Privacy (LGPD)"),
    ("erased", "Dados apagados", "Erased"),
    ("accounts", "contas", "accounts"),
    ("erase_customer", "Apagar os dados de um cliente", "Erase a customer's data"),
    ("erase_customer_help", "Anonimiza os pedidos, as localidades, os e-mails e a conta deste cliente na sua empresa. Não pode ser desfeito.", "Anonymizes this customer's orders, localities, e-mails and account in your company. It cannot be undone."),
    ("erase_confirm", "Entendo que não pode ser desfeito", "I understand it cannot be undone"),
    ("confirm_needed", "Marque a confirmação para apagar.", "Tick the confirmation to erase."),
    ("erase", "Apagar", "Erase"),
    ("erase_order_help", "Para apagar um só pedido, use o botão na página do pedido.", "To erase a single order, use the button on the order's page."),
    ("anonymize_order", "Apagar dados pessoais do pedido (LGPD)", "Erase the order's personal data (LGPD)"),
    ("localities", "Localidades", "Localities"),
    ("new_locality", "Nova localidade", "New locality"),
    ("search", "Buscar", "Search"),
    ("role", "Papel", "Role"),
    ("role_origin", "Origem", "Origin"),
    ("role_destination", "Destino", "Destination"),
    ("role_both", "Origem e destino", "Origin and destination"),
    ("city", "Cidade", "City"),
    ("responsible", "Responsável", "Responsible person"),
    ("anonymized", "anonimizado", "anonymized"),
    ("addr_street", "Rua", "Street"),
    ("addr_number", "Número", "Number"),
    ("addr_complement", "Complemento", "Complement"),
    ("addr_district", "Bairro", "District"),
    ("addr_city", "Cidade", "City"),
    ("addr_state", "Estado", "State"),
    ("addr_country", "País", "Country"),
    ("addr_zip_code", "CEP", "Zip code"),
    ("mail_settings", "E-mails", "E-mails"),
    ("smtp_server", "Servidor de envio (SMTP)", "Sending server (SMTP)"),
    ("host", "Servidor", "Host"),
    ("port", "Porta", "Port"),
    ("security", "Segurança", "Security"),
    ("username", "Usuário", "User name"),
    ("password_stored", "Há uma senha guardada: deixe em branco para mantê-la.", "A password is stored: leave blank to keep it."),
    ("no_password", "Nenhuma senha guardada.", "No password stored."),
    ("remove_password", "Apagar a senha guardada", "Remove the stored password"),
    ("from_address", "Remetente (e-mail)", "From (e-mail)"),
    ("from_name", "Remetente (nome)", "From (name)"),
    ("reply_to", "Responder para", "Reply to"),
    ("max_connections", "Conexões simultâneas", "Connections at once"),
    ("max_per_second", "E-mails por segundo, no máximo", "E-mails a second, at most"),
    ("max_per_second_hint", "Em branco: sem limite. Use o limite do seu provedor de envio.", "Blank: no limit. Use your sending provider's limit."),
    ("save", "Salvar", "Save"),
    ("saved", "Salvo.", "Saved."),
    ("send_test", "Testar envio", "Send a test"),
    ("test_to", "Enviar teste para", "Send the test to"),
    ("test_sent", "Enviado. O servidor respondeu:", "Sent. The server answered:"),
    ("test_failed", "Não foi possível enviar:", "Could not send:"),
    ("rules", "Quando avisar o cliente", "When to e-mail the customer"),
    ("mail_language", "Idioma dos e-mails", "Language of the e-mails"),
    ("templates", "Modelos de e-mail", "E-mail templates"),
    ("custom_template", "personalizado", "custom"),
    ("builtin_template", "padrão", "built-in"),
    ("edit", "Editar", "Edit"),
    ("subject", "Assunto", "Subject"),
    ("html_body", "Corpo HTML", "HTML body"),
    ("text_body", "Corpo em texto", "Text body"),
    ("preview", "Pré-visualizar", "Preview"),
    ("reset_builtin", "Voltar ao padrão", "Back to the built-in one"),
    ("variables_help", "Variáveis: customer_name, company_name, order_code, status, previous_status, comment, carrier, tracking_number, tracking_url, order_url, track_url, headline.", "Variables: customer_name, company_name, order_code, status, previous_status, comment, carrier, tracking_number, tracking_url, order_url, track_url, headline."),
    ("min_total", "Valor mínimo", "Minimum total"),
    ("max_total", "Valor máximo", "Maximum total"),
    ("export", "Exportar", "Export"),
    ("export_lines", "Exportar itens", "Export lines"),
    ("source_id", "Id no sistema de origem", "Id in the source system"),
    ("hidden_from_customer", "oculto ao cliente", "hidden from the customer"),
    ("customer_notified", "cliente avisado", "customer notified"),
    ("skipped", "ignorado", "skipped"),
    ("actions", "Ações", "Actions"),
    ("new_status", "Nova situação", "New status"),
    ("comment", "Comentário", "Comment"),
    ("notify_customer", "Avisar o cliente por e-mail", "E-mail the customer"),
    ("visible_to_customer", "Visível ao cliente", "Visible to the customer"),
    ("change_status", "Mudar situação", "Change status"),
    ("add_comment", "Comentar", "Add comment"),
    ("hold", "Reter (em análise)", "Put on hold"),
    ("release", "Liberar", "Release"),
    ("mark_delivered", "Marcar como entregue", "Mark delivered"),
    ("cancel_order", "Cancelar pedido", "Cancel order"),
    ("series", "Série", "Series"),
    ("invoice_key", "Chave de acesso", "Access key"),
    ("value", "Valor", "Amount"),
    ("link", "Link", "Link"),
    ("invoice_order", "Registrar nota", "Record invoice"),
    ("shipment", "Envio", "Shipment"),
    ("carrier_name", "Nome da transportadora", "Carrier name"),
    ("add_shipment", "Registrar envio", "Record shipment"),
    ("refund", "Reembolso", "Refund"),
    ("latest_changes", "Últimas mudanças", "Latest changes"),
    ("live_dashboard", "Atualiza sozinho quando um pedido muda.", "Updates by itself when an order moves."),
    ("dashboard", "Painel", "Dashboard"),
    ("all_orders", "Pedidos", "Orders"),
    ("new_company", "Nova empresa", "New company"),
    ("identifier", "Identificador", "Identifier"),
    ("phone", "Telefone", "Phone"),
    ("cnpj", "CNPJ", "CNPJ"),
    ("create", "Criar", "Create"),
    ("active", "Ativa", "Active"),
    ("inactive", "Inativa", "Inactive"),
    ("activate", "Ativar", "Activate"),
    ("deactivate", "Desativar", "Deactivate"),
    ("integration_token", "Token de integração", "Integration token"),
    ("token_prefix", "Token atual começa com", "Current token starts with"),
    ("rotate_token", "Gerar novo token (o atual deixa de valer)", "Issue a new token (the current one stops working)"),
    ("temporary_password", "Senha temporária", "Temporary password"),
    ("secret_once", "Copie agora: não será mostrado de novo.", "Copy it now: it will not be shown again."),
    ("continue", "Continuar", "Continue"),
    ("staff", "Usuários da empresa", "Company users"),
    ("new_user", "Novo usuário", "New user"),
    ("name", "Nome", "Name"),
    ("last_login", "Último acesso", "Last login"),
    ("never", "nunca", "never"),
    ("must_change", "precisa trocar a senha", "must change the password"),
    ("company_staff", "Empresa (identificador)", "Company (identifier)"),
    ("company_area", "Área da empresa", "Company area"),
    ("support_area", "Suporte Rastro", "Rastro support"),
    ("password_title", "Trocar a senha", "Change password"),
    ("current_password", "Senha atual", "Current password"),
    ("forgot_link", "Esqueci a senha / primeiro acesso", "Forgot password / first access"),
    ("forgot_title", "Esqueci a senha / primeiro acesso", "Forgot password / first access"),
    ("forgot_intro", "Enviaremos um link para você criar uma nova senha.", "We will send you a link to set a new password."),
    ("forgot_button", "Enviar link", "Send link"),
    ("forgot_sent", "Se houver uma conta com esse e-mail, enviamos um link. Ele vale por pouco tempo.", "If an account has this e-mail, we sent it a link. It is valid for a short time."),
    ("reset_title", "Criar nova senha", "Set a new password"),
    ("new_password", "Nova senha", "New password"),
    ("confirm_password", "Repita a nova senha", "New password again"),
    ("password_rule", "Pelo menos 10 caracteres, com letras e números.", "At least 10 characters, with letters and digits."),
    ("reset_button", "Salvar senha e entrar", "Save password and log in"),
    ("passwords_differ", "As senhas não conferem.", "The passwords do not match."),
    ("back_to_login", "Voltar para o login", "Back to login"),
    ("logout", "Sair", "Log out"),
    ("orders_title", "Meus pedidos", "My orders"),
    ("filter_code", "Número do pedido", "Order number"),
    ("filter_status", "Situação", "Status"),
    ("filter_from", "Criado a partir de", "Created from"),
    ("filter_to", "Criado até", "Created until"),
    ("any_status", "Todas", "Any"),
    ("filter_button", "Filtrar", "Filter"),
    ("clear_filters", "Limpar", "Clear"),
    ("no_orders", "Nenhum pedido encontrado.", "No orders found."),
    ("orders_count", "pedidos", "orders"),
    ("order_one", "pedido", "order"),
    ("next_page", "Próxima página", "Next page"),
    ("first_page", "Primeira página", "First page"),
    ("order", "Pedido", "Order"),
    ("created", "Criado em", "Created"),
    ("status", "Situação", "Status"),
    ("total", "Total", "Total"),
    ("details", "Detalhes", "Details"),
    ("history", "Histórico", "History"),
    ("shipments", "Entregas", "Shipments"),
    ("items", "Itens", "Items"),
    ("product", "Produto", "Product"),
    ("quantity", "Qtd.", "Qty"),
    ("unit_price", "Preço", "Price"),
    ("invoice", "Nota fiscal", "Invoice"),
    ("invoice_number", "Número", "Number"),
    ("issued", "Emitida em", "Issued"),
    ("view_invoice", "Ver nota", "View invoice"),
    ("delivery_window", "Previsão de entrega", "Expected delivery"),
    ("destination", "Entrega em", "Delivering to"),
    ("carrier", "Transportadora", "Carrier"),
    ("tracking_number", "Código de rastreio", "Tracking number"),
    ("track_at_carrier", "Rastrear na transportadora", "Track at the carrier"),
    ("delivered_at", "Entregue em", "Delivered"),
    ("no_shipments", "Ainda sem envio.", "Not shipped yet."),
    ("no_history", "Sem movimentação ainda.", "No updates yet."),
    ("live", "Atualiza sozinho quando o pedido muda.", "Updates by itself when the order moves."),
    ("back_to_orders", "Voltar para meus pedidos", "Back to my orders"),
    ("track_title", "Rastreamento do pedido", "Order tracking"),
    ("track_gone", "Este link de rastreamento não existe ou não vale mais.", "This tracking link does not exist or is no longer valid."),
    ("not_found_title", "Não encontrado", "Not found"),
    ("not_found", "Não encontramos esta página ou este pedido.", "We could not find this page or order."),
    ("error_title", "Algo deu errado", "Something went wrong"),
    ("error_retry", "Tente de novo em instantes.", "Please try again in a moment."),
    ("bad_form", "O formulário expirou. Recarregue a página e tente de novo.", "The form expired. Reload the page and try again."),
    ("invalid_credentials", "E-mail, senha ou loja incorretos.", "Wrong e-mail, password or store."),
    ("deactivated", "Esta conta está desativada.", "This account is deactivated."),
    ("rate_limited", "Muitas tentativas. Aguarde e tente de novo.", "Too many attempts. Wait and try again."),
    ("invalid_token", "Este link é inválido, expirou ou já foi usado. Peça um novo.", "This link is invalid, expired or already used. Ask for a new one."),
    ("password_change_required", "Defina uma senha nova pelo link \"Esqueci a senha\" antes de continuar.", "Set a new password through \"Forgot password\" before going on."),
];

/// Every text of `locale`, by key.
pub fn texts(locale: Locale) -> &'static BTreeMap<&'static str, &'static str> {
    static PT: OnceLock<BTreeMap<&str, &str>> = OnceLock::new();
    static EN: OnceLock<BTreeMap<&str, &str>> = OnceLock::new();
    match locale {
        Locale::PtBr => PT.get_or_init(|| TEXTS.iter().map(|(k, pt, _)| (*k, *pt)).collect()),
        Locale::En => EN.get_or_init(|| TEXTS.iter().map(|(k, _, en)| (*k, *en)).collect()),
    }
}

/// One text of `locale`.
pub fn text(locale: Locale, key: &str) -> &'static str {
    texts(locale).get(key).copied().unwrap_or("")
}

/// A status in words, as the mails say it.
pub fn status(locale: Locale, status: OrderStatus) -> &'static str {
    domain::notifications::templates::status_label(locale, status)
}

/// The visitor's language: the switch's cookie, else the first of
/// `Accept-Language` that the portal speaks, else Brazilian Portuguese.
pub fn negotiate(headers: &HeaderMap) -> Locale {
    if let Some(chosen) = session::cookie(headers, COOKIE) {
        return parse(&chosen).unwrap_or(Locale::PtBr);
    }
    let accepted = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut ranked: Vec<(f32, Locale)> = accepted
        .split(',')
        .take(20)
        .filter_map(|part| {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next()?.trim();
            let quality = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.parse::<f32>().ok())?;
            Some((quality, parse(tag)?))
        })
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranked.first().map_or(Locale::PtBr, |(_, l)| *l)
}

fn parse(tag: &str) -> Option<Locale> {
    let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
    match primary.as_str() {
        "pt" => Some(Locale::PtBr),
        "en" => Some(Locale::En),
        _ => None,
    }
}

/// `GET /language?to=en&next=/orders`.
#[derive(Deserialize)]
pub struct Switch {
    to: String,
    next: Option<String>,
}

/// Remembers the chosen language and goes back to the page.
pub async fn switch(State(state): State<AppState>, Query(switch): Query<Switch>) -> Response {
    let locale = parse(&switch.to).unwrap_or(Locale::PtBr);
    let code = text(locale, "lang_code");
    let next = session::local_path(switch.next.as_deref()).unwrap_or("/");
    let cookie = session::set_cookie(&state, COOKIE, code, Some(365 * 24 * 3600));
    ([(header::SET_COOKIE, cookie)], Redirect::to(next)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(accept: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_LANGUAGE, accept.parse().unwrap_or(header::HeaderValue::from_static("")));
        headers
    }

    #[test]
    fn the_language_follows_accept_language_by_quality_and_defaults_to_portuguese() {
        assert_eq!(negotiate(&HeaderMap::new()), Locale::PtBr);
        assert_eq!(negotiate(&with("en-US,en;q=0.9")), Locale::En);
        assert_eq!(negotiate(&with("fr, en;q=0.5, pt-BR;q=0.8")), Locale::PtBr);
        assert_eq!(negotiate(&with("de")), Locale::PtBr);
        assert_eq!(negotiate(&with("en;q=bad, pt;q=0.1")), Locale::PtBr);
    }

    #[test]
    fn the_cookie_wins_over_the_header() {
        let mut headers = with("en");
        headers.insert(header::COOKIE, header::HeaderValue::from_static("a=1; rastro_lang=pt-BR"));
        assert_eq!(negotiate(&headers), Locale::PtBr);
    }

    #[test]
    fn every_text_exists_in_both_languages() {
        for (key, pt, en) in TEXTS {
            assert!(!pt.is_empty() && !en.is_empty(), "{key}");
        }
        assert_eq!(texts(Locale::PtBr).len(), TEXTS.len(), "keys are unique");
    }
}
