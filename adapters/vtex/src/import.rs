//! Which VTEX orders are imported: the seed's rule, that tracking starts at
//! the invoice.

use crate::wire::{InvoiceType, Order, Package};

/// Why an order is not imported; each has a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Its OMS status is not `invoiced`.
    #[error("status {status:?} is not invoiced; only invoiced orders are tracked")]
    NotInvoiced {
        /// The status it has (`null` as empty).
        status: String,
    },
    /// It has no invoice at all.
    #[error("it carries no invoice (packageAttachment.packages is empty)")]
    NoInvoice,
    /// Its only invoices are returns.
    #[error("its only invoices are returns (type Input), which do not invoice an order")]
    ReturnInvoiceOnly,
    /// The company requires the invoice's file and one came without it.
    #[error("invoice {number:?} has neither invoiceUrl nor embeddedInvoice, and the company requires the invoice file")]
    NoInvoiceFile {
        /// The invoice's number.
        number: String,
    },
}

impl Refusal {
    /// The field the refusal is about.
    pub fn field(&self) -> &'static str {
        match self {
            Refusal::NotInvoiced { .. } => "status",
            Refusal::NoInvoice | Refusal::ReturnInvoiceOnly => "packageAttachment.packages",
            Refusal::NoInvoiceFile { .. } => "packageAttachment.packages.invoiceUrl",
        }
    }

    /// The stable code of the refusal.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NotInvoiced { .. } => "VTEX_NOT_INVOICED",
            Refusal::NoInvoice => "VTEX_NO_INVOICE",
            Refusal::ReturnInvoiceOnly => "VTEX_RETURN_INVOICE_ONLY",
            Refusal::NoInvoiceFile { .. } => "VTEX_NO_INVOICE_FILE",
        }
    }
}

/// The sale invoices of an order that may be imported, in the order VTEX
/// lists them (several when it was invoiced in parts). `require_file` is the
/// company's option *only orders with an invoice file*.
pub fn importable(order: &Order, require_file: bool) -> Result<Vec<&Package>, Refusal> {
    let status = order.status.as_deref().unwrap_or_default();
    if status != "invoiced" {
        return Err(Refusal::NotInvoiced { status: status.to_owned() });
    }
    let packages = order.package_attachment.as_ref().map(|p| p.packages.as_slice()).unwrap_or_default();
    let sales: Vec<&Package> = packages.iter().filter(|p| p.kind == InvoiceType::Output).collect();
    if sales.is_empty() {
        return Err(if packages.is_empty() { Refusal::NoInvoice } else { Refusal::ReturnInvoiceOnly });
    }
    if require_file {
        if let Some(bare) = sales.iter().find(|p| !p.has_file()) {
            return Err(Refusal::NoInvoiceFile { number: bare.invoice_number.clone().unwrap_or_default() });
        }
    }
    Ok(sales)
}
