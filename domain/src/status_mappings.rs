//! Per-company status mappings: how a company's store names its statuses,
//! read as Rastro's canonical ones.
//!
//! Each platform adapter knows the platform's standard codes and what they
//! mean (its defaults, passed in here as a [`Defaults`] table); a company
//! adds its custom statuses and may override a default. A code maps onto a
//! canonical status, or onto nothing: the event is then read and recorded
//! as skipped. A code with neither a row nor a default is unmapped: the
//! adapter fails the record naming the code and where to map it.

use std::collections::HashMap;

use chrono::Utc;
use entities::{status_mapping, OrderStatus, WebhookPlatform};
use sea_orm::{sea_query::OnConflict, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set};

use crate::{audit, companies, Action, Actor, Ctx, DomainError, DomainResult};

/// The longest code kept.
pub const MAX_CODE_CHARS: usize = 100;
/// Mappings one company may keep per platform: they are read on every call.
pub const MAX_PER_PLATFORM: u64 = 500;

/// A platform's standard codes and their meaning: `(code, status)`, `None`
/// for a code read and ignored. Codes are written normalised.
pub type Defaults = &'static [(&'static str, Option<OrderStatus>)];

/// A code as it is matched: trimmed, lower-cased, runs of spaces and
/// hyphens made one `_` (`"Em Transporte"` is `em_transporte`). `None` when
/// nothing is left or it is longer than [`MAX_CODE_CHARS`].
pub fn normalize(code: &str) -> Option<String> {
    let mut out = String::with_capacity(code.len());
    for word in code.trim().to_lowercase().split(|c: char| c.is_whitespace() || c == '-').filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push('_');
        }
        out.push_str(word);
    }
    (!out.is_empty() && out.chars().count() <= MAX_CODE_CHARS).then_some(out)
}

/// What a code means for a company.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapped {
    /// This canonical status.
    To(OrderStatus),
    /// Nothing: the event is recorded as skipped.
    Ignored,
    /// Neither the company nor the platform says.
    Unmapped,
}

/// One company's mappings, every platform, as the adapters read them.
#[derive(Debug, Clone, Default)]
pub struct StatusMappings {
    rows: HashMap<(WebhookPlatform, String), Option<OrderStatus>>,
}

impl StatusMappings {
    /// Mappings from `(platform, code, status)` rows (codes normalised here).
    pub fn from_rows(rows: impl IntoIterator<Item = (WebhookPlatform, String, Option<OrderStatus>)>) -> Self {
        StatusMappings {
            rows: rows.into_iter().filter_map(|(platform, code, status)| Some(((platform, normalize(&code)?), status))).collect(),
        }
    }

    /// What `code` of `platform` means: the company's row, else the
    /// platform's default, else unmapped.
    pub fn resolve(&self, platform: WebhookPlatform, defaults: Defaults, code: &str) -> Mapped {
        let Some(code) = normalize(code) else { return Mapped::Unmapped };
        let chosen = match self.rows.get(&(platform, code.clone())) {
            Some(status) => Some(*status),
            None => defaults.iter().find(|(c, _)| *c == code).map(|(_, status)| *status),
        };
        match chosen {
            Some(Some(status)) => Mapped::To(status),
            Some(None) => Mapped::Ignored,
            None => Mapped::Unmapped,
        }
    }
}

/// A company's mappings, for [`crate::ingest::Context`].
pub async fn of_company(ctx: &Ctx, company_id: i32) -> DomainResult<StatusMappings> {
    let rows = status_mapping::Entity::find().filter(status_mapping::Column::CompanyId.eq(company_id)).all(&ctx.db).await?;
    Ok(StatusMappings::from_rows(rows.into_iter().map(|r| (r.platform, r.code, r.status))))
}

/// A code's effective mapping, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective {
    /// The code, normalised.
    pub code: String,
    /// What it means; `None`: ignored.
    pub status: Option<OrderStatus>,
    /// The company set it (else it is the platform's default).
    pub custom: bool,
    /// The platform's default for the code, when it has one: `Some(None)` is
    /// a default of ignoring it.
    pub default: Option<Option<OrderStatus>>,
}

/// Every code `company_id` has a meaning for on `platform`: the platform's
/// defaults, with the company's rows over them and its own codes after.
pub async fn list(ctx: &Ctx, actor: &Actor, company_id: i32, platform: WebhookPlatform, defaults: Defaults) -> DomainResult<Vec<Effective>> {
    ctx.authz.check(actor, Action::ConfigureIntegrations)?;
    companies::find_visible(ctx, actor, company_id).await?;
    let rows = status_mapping::Entity::find()
        .filter(status_mapping::Column::CompanyId.eq(company_id))
        .filter(status_mapping::Column::Platform.eq(platform))
        .order_by_asc(status_mapping::Column::Code)
        .all(&ctx.db)
        .await?;
    let mut custom: HashMap<String, Option<OrderStatus>> = rows.into_iter().map(|r| (r.code, r.status)).collect();
    let mut listed: Vec<Effective> = defaults
        .iter()
        .map(|(code, default)| {
            let own = custom.remove(*code);
            Effective { code: (*code).to_owned(), status: own.unwrap_or(*default), custom: own.is_some(), default: Some(*default) }
        })
        .collect();
    let mut rest: Vec<Effective> =
        custom.into_iter().map(|(code, status)| Effective { code, status, custom: true, default: None }).collect();
    rest.sort_by(|a, b| a.code.cmp(&b.code));
    listed.extend(rest);
    Ok(listed)
}

/// Maps `code` of `platform` for `company_id` onto `status` (`None`: read
/// and ignore it), over any default; audited.
pub async fn set(
    ctx: &Ctx,
    actor: &Actor,
    company_id: i32,
    platform: WebhookPlatform,
    code: &str,
    status: Option<OrderStatus>,
) -> DomainResult<String> {
    ctx.authz.check(actor, Action::ConfigureIntegrations)?;
    companies::find_visible(ctx, actor, company_id).await?;
    let code = normalize(code)
        .ok_or_else(|| DomainError::validation("code", format!("must be 1 to {MAX_CODE_CHARS} characters besides spaces")))?;
    let txn = crate::db::begin_write(&ctx.db).await?;
    let scope = status_mapping::Entity::find()
        .filter(status_mapping::Column::CompanyId.eq(company_id))
        .filter(status_mapping::Column::Platform.eq(platform));
    let exists = scope.clone().filter(status_mapping::Column::Code.eq(code.as_str())).count(&txn).await? > 0;
    if !exists && scope.count(&txn).await? >= MAX_PER_PLATFORM {
        return Err(DomainError::validation("code", format!("a company keeps at most {MAX_PER_PLATFORM} mappings per platform")));
    }
    let row = status_mapping::ActiveModel {
        company_id: Set(company_id),
        platform: Set(platform),
        code: Set(code.clone()),
        status: Set(status),
        updated_at: Set(Utc::now()),
    };
    let conflict = OnConflict::columns([status_mapping::Column::CompanyId, status_mapping::Column::Platform, status_mapping::Column::Code])
        .update_columns([status_mapping::Column::Status, status_mapping::Column::UpdatedAt])
        .to_owned();
    status_mapping::Entity::insert(row).on_conflict(conflict).exec_without_returning(&txn).await?;
    let detail = serde_json::json!({ "platform": platform, "code": code, "status": status });
    audit::record(&txn, actor, Some(company_id), "company.status_mapping", "company", company_id, Some(detail)).await?;
    txn.commit().await?;
    Ok(code)
}

/// Removes `company_id`'s own mapping of `code` (the platform's default, if
/// any, applies again); whether there was one. Audited when there was.
pub async fn remove(ctx: &Ctx, actor: &Actor, company_id: i32, platform: WebhookPlatform, code: &str) -> DomainResult<bool> {
    ctx.authz.check(actor, Action::ConfigureIntegrations)?;
    companies::find_visible(ctx, actor, company_id).await?;
    let Some(code) = normalize(code) else { return Ok(false) };
    let txn = crate::db::begin_write(&ctx.db).await?;
    let deleted = status_mapping::Entity::delete_many()
        .filter(status_mapping::Column::CompanyId.eq(company_id))
        .filter(status_mapping::Column::Platform.eq(platform))
        .filter(status_mapping::Column::Code.eq(code.as_str()))
        .exec(&txn)
        .await?
        .rows_affected;
    if deleted > 0 {
        let detail = serde_json::json!({ "platform": platform, "code": code, "removed": true });
        audit::record(&txn, actor, Some(company_id), "company.status_mapping", "company", company_id, Some(detail)).await?;
    }
    txn.commit().await?;
    Ok(deleted > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULTS: Defaults = &[("shipped", Some(OrderStatus::InTransit)), ("label_printed", None)];

    #[test]
    fn codes_are_matched_in_one_spelling() {
        assert_eq!(normalize("  Em  Transporte "), Some("em_transporte".into()));
        assert_eq!(normalize("in-transit"), Some("in_transit".into()));
        assert_eq!(normalize("  "), None);
        assert_eq!(normalize(&"x".repeat(MAX_CODE_CHARS)).map(|c| c.len()), Some(MAX_CODE_CHARS));
        assert_eq!(normalize(&"x".repeat(MAX_CODE_CHARS + 1)), None);
    }

    #[test]
    fn a_company_row_wins_over_the_default_and_a_code_without_either_is_unmapped() {
        let none = StatusMappings::default();
        assert_eq!(none.resolve(WebhookPlatform::Generic, DEFAULTS, "Shipped"), Mapped::To(OrderStatus::InTransit));
        assert_eq!(none.resolve(WebhookPlatform::Generic, DEFAULTS, "label printed"), Mapped::Ignored);
        assert_eq!(none.resolve(WebhookPlatform::Generic, DEFAULTS, "separado"), Mapped::Unmapped);
        let own = StatusMappings::from_rows([
            (WebhookPlatform::Generic, "Shipped".to_owned(), None),
            (WebhookPlatform::Generic, "separado".to_owned(), Some(OrderStatus::InSeparation)),
            (WebhookPlatform::Shopify, "label_printed".to_owned(), Some(OrderStatus::InSeparation)),
        ]);
        assert_eq!(own.resolve(WebhookPlatform::Generic, DEFAULTS, "shipped"), Mapped::Ignored);
        assert_eq!(own.resolve(WebhookPlatform::Generic, DEFAULTS, "SEPARADO"), Mapped::To(OrderStatus::InSeparation));
        // Another platform's row says nothing of this one's codes.
        assert_eq!(own.resolve(WebhookPlatform::Generic, DEFAULTS, "label_printed"), Mapped::Ignored);
        assert_eq!(own.resolve(WebhookPlatform::Generic, DEFAULTS, " "), Mapped::Unmapped);
    }
}
