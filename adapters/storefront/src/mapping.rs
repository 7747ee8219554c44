//! What each platform's standard statuses mean, the defaults a company's
//! own mappings (`domain::status_mappings`) override, and how a mapped
//! status becomes a command.

use domain::{
    ingest::{Command, Context, ItemError},
    orders::EventMeta,
    status_mappings::{Defaults, Mapped},
};
use entities::{OrderStatus, WebhookPlatform};

use OrderStatus::{Approved, Cancelled, Delivered, DeliveryFailed, InProduction, InSeparation, InTransit, Invoiced, OnHold, Received, Refunded};

/// The generic event's custom statuses: the back-office statuses of an
/// e-commerce platform (seed 001), in English and Portuguese.
const GENERIC: Defaults = &[
    ("pending", Some(Received)),
    ("pendente", Some(Received)),
    ("approved", Some(Approved)),
    ("aprovado", Some(Approved)),
    ("in_production", Some(InProduction)),
    ("pedido_em_producao", Some(InProduction)),
    ("em_producao", Some(InProduction)),
    ("invoice_issued", Some(Invoiced)),
    ("nota_fiscal_emitida", Some(Invoiced)),
    ("shipped", Some(InTransit)),
    ("pedido_enviado", Some(InTransit)),
    ("enviado", Some(InTransit)),
    ("delivery_difficulty", Some(DeliveryFailed)),
    ("dificuldade_de_entrega", Some(DeliveryFailed)),
    ("in_transport", Some(InTransit)),
    ("pedido_em_transporte", Some(InTransit)),
    ("em_transporte", Some(InTransit)),
    ("delivered", Some(Delivered)),
    ("pedido_entregue", Some(Delivered)),
    ("entregue", Some(Delivered)),
    ("cancelled", Some(Cancelled)),
    ("cancelado", Some(Cancelled)),
    ("on_hold", Some(OnHold)),
    ("segurado", Some(OnHold)),
    // Closed is where a refunded order ends in the seed's back office.
    ("closed", Some(Refunded)),
    ("fechado", Some(Refunded)),
];

/// Shopify's statuses, each under the field it comes in: `financial_status`,
/// `fulfillment_status`, and a fulfillment's `shipment_status` (also a
/// fulfillment event's `status`).
const SHOPIFY: Defaults = &[
    ("financial_status:pending", Some(Received)),
    ("financial_status:authorized", Some(Approved)),
    ("financial_status:partially_paid", None),
    ("financial_status:paid", Some(Approved)),
    ("financial_status:partially_refunded", None),
    ("financial_status:refunded", Some(Refunded)),
    ("financial_status:voided", Some(Cancelled)),
    ("fulfillment_status:partial", None),
    ("fulfillment_status:fulfilled", Some(InTransit)),
    ("fulfillment_status:restocked", None),
    ("shipment_status:label_printed", Some(InSeparation)),
    ("shipment_status:label_purchased", Some(InSeparation)),
    ("shipment_status:confirmed", None),
    ("shipment_status:carrier_picked_up", Some(InTransit)),
    ("shipment_status:in_transit", Some(InTransit)),
    ("shipment_status:out_for_delivery", Some(InTransit)),
    ("shipment_status:delayed", None),
    ("shipment_status:ready_for_pickup", Some(InTransit)),
    ("shipment_status:attempted_delivery", Some(DeliveryFailed)),
    ("shipment_status:failure", Some(DeliveryFailed)),
    ("shipment_status:delivered", Some(Delivered)),
    ("shipment_status:picked_up", Some(Delivered)),
];

/// Magento's order states (the status is the merchant's label; the state
/// says where the order is).
const MAGENTO: Defaults = &[
    ("new", Some(Received)),
    ("pending_payment", Some(Received)),
    ("payment_review", Some(Received)),
    ("processing", Some(Approved)),
    ("complete", Some(InTransit)),
    ("closed", Some(Refunded)),
    ("canceled", Some(Cancelled)),
    ("holded", Some(OnHold)),
];

/// Nuvemshop's order fields, each under its name, and its events (what an
/// id-only notification says alone).
const NUVEMSHOP: Defaults = &[
    ("event:order/created", None),
    ("event:order/updated", None),
    ("event:order/edited", None),
    ("event:order/pending", None),
    ("event:order/unpacked", None),
    ("event:order/custom_fields_updated", None),
    ("event:order/paid", Some(Approved)),
    ("event:order/packed", Some(InSeparation)),
    ("event:order/fulfilled", Some(InTransit)),
    ("event:order/cancelled", Some(Cancelled)),
    ("event:order/voided", Some(Cancelled)),
    ("payment_status:pending", Some(Received)),
    ("payment_status:authorized", Some(Approved)),
    ("payment_status:paid", Some(Approved)),
    ("payment_status:abandoned", None),
    ("payment_status:refunded", Some(Refunded)),
    ("payment_status:voided", Some(Cancelled)),
    ("shipping_status:unpacked", None),
    ("shipping_status:unshipped", None),
    ("shipping_status:unfulfilled", None),
    ("shipping_status:packed", Some(InSeparation)),
    ("shipping_status:shipped", Some(InTransit)),
    ("shipping_status:fulfilled", Some(InTransit)),
    ("shipping_status:delivered", Some(Delivered)),
    ("status:open", None),
    ("status:closed", None),
    ("status:cancelled", Some(Cancelled)),
];

/// The standard codes of `platform` and what they mean unless the company
/// says otherwise.
pub fn defaults(platform: WebhookPlatform) -> Defaults {
    match platform {
        WebhookPlatform::Shopify => SHOPIFY,
        WebhookPlatform::Magento => MAGENTO,
        WebhookPlatform::Nuvemshop => NUVEMSHOP,
        WebhookPlatform::Generic => GENERIC,
    }
}

/// The GraphQL name of `platform`, for messages.
fn platform_name(platform: WebhookPlatform) -> &'static str {
    match platform {
        WebhookPlatform::Shopify => "SHOPIFY",
        WebhookPlatform::Magento => "MAGENTO",
        WebhookPlatform::Nuvemshop => "NUVEMSHOP",
        WebhookPlatform::Generic => "GENERIC",
    }
}

/// What `code` of `platform` means for the calling company, or the failure
/// that says how to map it (`field` is the wire field it came in).
pub fn resolve(context: &Context, platform: WebhookPlatform, code: &str, field: &str) -> Result<Option<OrderStatus>, ItemError> {
    match context.mappings.resolve(platform, defaults(platform), code) {
        Mapped::To(status) => Ok(Some(status)),
        Mapped::Ignored => Ok(None),
        Mapped::Unmapped => {
            // Normalised, or cut: the code is the caller's, echoed in the log and the answer.
            let shown = domain::status_mappings::normalize(code).unwrap_or_else(|| code.trim().chars().take(100).collect());
            let platform = platform_name(platform);
            Err(ItemError {
                code: "UNMAPPED_STATUS",
                field: Some(field.to_owned()),
                message: format!(
                    "{field}: status {shown:?} is not mapped to a Rastro status; map it with setStatusMapping(companyId, platform: {platform}, code: {shown:?}, status: …) and reprocess this run"
                ),
            })
        }
    }
}

/// Where a stage goes among the changes of one payload: cancelling, then
/// refunding, after everything else they would make impossible (a store's
/// cancelled and refunded order is cancelled, with its reason, when it still
/// can be, else refunded).
pub fn finality(command: &Command) -> u8 {
    match command {
        Command::Reach { to: Cancelled, .. } => 1,
        Command::Reach { to: Refunded, .. } => 2,
        _ => 0,
    }
}

/// A stage of the forward path is reached (a repeat, or one the order is
/// past, is skipped: feeds are at-least-once); cancelling, refunding and
/// holding are changes the status machine judges as they come.
pub fn status_command(to: OrderStatus, meta: EventMeta) -> Command {
    match to {
        Received | Approved | InProduction | Invoiced | InSeparation | InTransit | DeliveryFailed | Delivered => {
            Command::Reach { to, meta }
        }
        Cancelled | Refunded | OnHold => Command::ChangeStatus { to, meta },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_code_is_written_as_it_is_matched() {
        for platform in [WebhookPlatform::Shopify, WebhookPlatform::Magento, WebhookPlatform::Nuvemshop, WebhookPlatform::Generic] {
            for (code, _) in defaults(platform) {
                assert_eq!(domain::status_mappings::normalize(code).as_deref(), Some(*code), "{platform:?} {code}");
            }
        }
    }
}
