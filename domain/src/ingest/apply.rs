//! Applying a batch: each record whole or not at all, through the same
//! services GraphQL uses, with its run item written in the same transaction.
//! Consecutive records that only create orders are checked together and
//! written in one transaction ([`super::bulk`]); any other record, and a
//! group record's every order, has a transaction of its own.

use std::collections::{HashMap, HashSet};

use entities::{integration_run_item, order, ItemOutcome, OrderStatus, RunOutcome};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::{
    bulk::{self, Creation},
    command::{Batch, Command, Group, Record},
    runs::RunHandle,
};
use crate::{
    orders::{annotate_in, create_in, execute_in, update_in, Change, StatusOutcome, Work},
    Actor, Ctx, DomainError, DomainResult,
};

/// Whether order `id` is on hold by a change from `source`: a feed
/// releases only the holds it placed, not one its company's staff did.
async fn held_by(txn: &sea_orm::DatabaseTransaction, id: i32, source: &str) -> DomainResult<bool> {
    use entities::order_status_history;
    let status = order::Entity::find_by_id(id).select_only().column(order::Column::Status).into_tuple::<OrderStatus>().one(txn).await?;
    if status != Some(OrderStatus::OnHold) {
        return Ok(false);
    }
    let placed = order_status_history::Entity::find()
        .filter(order_status_history::Column::OrderId.eq(id))
        .filter(order_status_history::Column::ToStatus.eq(OrderStatus::OnHold))
        .filter(order_status_history::Column::Applied.eq(true))
        .order_by_desc(order_status_history::Column::Id)
        .one(txn)
        .await?;
    Ok(placed.is_some_and(|entry| entry.source == source))
}

/// Why a record failed, as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemError {
    /// Stable code (`VALIDATION`, `NOT_FOUND`, `CONFLICT`, …).
    pub code: &'static str,
    /// The input field it is about, when known.
    pub field: Option<String>,
    /// In words.
    pub message: String,
}

/// What became of one record.
#[derive(Debug, Clone)]
pub struct ItemReport {
    /// Its place in the batch, from 0.
    pub position: usize,
    /// The source's id of its order.
    pub source_id: String,
    /// Applied, skipped or failed.
    pub outcome: ItemOutcome,
    /// The order it created or changed (none when it failed before one existed).
    pub order_id: Option<i32>,
    /// What was applied and what was skipped, in words.
    pub notes: Vec<String>,
    /// Why it failed (the first reason when the adapter gave several).
    pub error: Option<ItemError>,
    /// Every reason the adapter refused the record for (empty otherwise).
    pub refusals: Vec<ItemError>,
}

impl ItemReport {
    /// The record in a JSON answer: `{orderId, outcome, notes}` with `code`
    /// and `message` when it failed; for adapters whose protocol is JSON.
    pub fn to_json(&self) -> serde_json::Value {
        let outcome = match self.outcome {
            ItemOutcome::Applied => "applied",
            ItemOutcome::Skipped => "skipped",
            ItemOutcome::Failed => "failed",
        };
        let mut entry = serde_json::json!({ "orderId": self.source_id, "outcome": outcome, "notes": self.notes });
        if let Some(error) = &self.error {
            entry["code"] = serde_json::json!(error.code);
            entry["message"] = serde_json::json!(error.message);
        }
        entry
    }
}

/// What became of a batch: per record, and counted.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The run it was recorded as.
    pub run_id: i32,
    /// One per record, in order.
    pub items: Vec<ItemReport>,
    /// Records applied.
    pub applied: usize,
    /// Records with nothing to do (stale or repeated events only).
    pub skipped: usize,
    /// Records refused.
    pub failed: usize,
}

impl Report {
    /// Records received: applied, skipped and failed.
    pub fn received(&self) -> usize {
        self.applied + self.skipped + self.failed
    }

    /// Adds the counts of another part of the same run (its items are not kept).
    pub fn add_counts(&mut self, part: &Report) {
        self.applied += part.applied;
        self.skipped += part.skipped;
        self.failed += part.failed;
    }

    /// The run's outcome: failed when every record failed, partial when some did.
    pub fn outcome(&self) -> RunOutcome {
        match (self.failed, self.received()) {
            (0, _) => RunOutcome::Success,
            (failed, all) if failed == all => RunOutcome::Failed,
            _ => RunOutcome::Partial,
        }
    }
}

/// Applies `batch` as `actor` (a company's integration actor), recording one
/// item per record (a group record: one per order of its group) in `run`.
/// Each record is applied whole or not at all; stale and repeated events are
/// skipped as they are for GraphQL. Only an infrastructure failure writing the run itself is an error;
/// everything a record can do wrong is in its item.
pub async fn apply(ctx: &Ctx, actor: &Actor, run: &RunHandle, batch: Batch) -> DomainResult<Report> {
    apply_at(ctx, actor, run, batch, 0).await
}

/// [`apply`] for one part of a run that arrives in parts (a large import):
/// its records are numbered from `first_position`.
pub async fn apply_at(ctx: &Ctx, actor: &Actor, run: &RunHandle, batch: Batch, first_position: usize) -> DomainResult<Report> {
    let (report, last) = apply_parts(ctx, actor, run, batch, first_position, false).await?;
    debug_assert!(last.is_none());
    Ok(report)
}

/// [`apply`], leaving the transaction of the last records open when they
/// were created together: the caller completes the run in it, so a call of a
/// few orders commits twice (its arrival, then its records with its outcome)
/// rather than three times, and the run's outcome is written with its last
/// records or not at all.
pub(super) async fn apply_leaving_last(ctx: &Ctx, actor: &Actor, run: &RunHandle, batch: Batch) -> DomainResult<(Report, Option<Work>)> {
    apply_parts(ctx, actor, run, batch, 0, true).await
}

async fn apply_parts(
    ctx: &Ctx,
    actor: &Actor,
    run: &RunHandle,
    batch: Batch,
    first_position: usize,
    leave_last: bool,
) -> DomainResult<(Report, Option<Work>)> {
    let mut report = Report { run_id: run.id, ..Report::default() };
    let mut last = None;
    let mut records = batch
        .records
        .into_iter()
        .enumerate()
        .map(|(n, record)| Creation::of(first_position + n, record).map_err(|record| (first_position + n, record)))
        .peekable();
    while let Some(next) = records.next() {
        let first = match next {
            Ok(creation) => creation,
            Err((position, record)) => {
                match *record {
                    Record { group: Some(group), refusals, source_id, commands, skipped: None } if refusals.is_empty() => {
                        for item in apply_group(ctx, actor, run, position, &source_id, &group, commands).await? {
                            report.push(item);
                        }
                    }
                    record => report.push(apply_one(ctx, actor, run, position, record).await?),
                }
                continue;
            }
        };
        // The creations that follow, up to a repeated source id: a repeat
        // must see the order its first occurrence makes.
        let mut seen: HashSet<String> = HashSet::from([first.source_id.clone()]);
        let mut creations = vec![first];
        while creations.len() < bulk::MAX_RECORDS {
            let fresh = |next: &Result<Creation, _>| next.as_ref().is_ok_and(|c| !seen.contains(&c.source_id));
            let Some(Ok(creation)) = records.next_if(fresh) else { break };
            seen.insert(creation.source_id.clone());
            creations.push(creation);
        }
        let created = match bulk::create_records(ctx, actor, run, &creations).await {
            Ok((items, work)) if leave_last && records.peek().is_none() => {
                last = Some(work);
                Ok(items)
            }
            Ok((items, work)) => work.commit(ctx).await.map(|()| items),
            Err(err) => Err(err),
        };
        match created {
            Ok(items) => items.into_iter().for_each(|item| report.push(item)),
            Err(err) => {
                // Nothing was written (a concurrent writer took a source id,
                // say): each record on its own, where it is decided alone.
                tracing::warn!(error = %err, records = creations.len(), "batched creation failed; applying one by one");
                for creation in creations {
                    report.push(apply_one(ctx, actor, run, creation.position, creation.into_record()).await?);
                }
            }
        }
    }
    Ok((report, last))
}

impl Report {
    fn push(&mut self, item: ItemReport) {
        match item.outcome {
            ItemOutcome::Applied => self.applied += 1,
            ItemOutcome::Skipped => self.skipped += 1,
            ItemOutcome::Failed => self.failed += 1,
        }
        self.items.push(item);
    }
}

/// Applies a group record to each live order of the group, each in its own
/// transaction (one order that cannot move does not hold the others back),
/// all at the record's position; a group with no order fails as not found.
async fn apply_group(
    ctx: &Ctx,
    actor: &Actor,
    run: &RunHandle,
    position: usize,
    label: &str,
    group: &Group,
    commands: Vec<Command>,
) -> DomainResult<Vec<ItemReport>> {
    let company_id = actor.company_id().ok_or(DomainError::Forbidden)?;
    use entities::order_attribute;
    let tagged = sea_orm::sea_query::Query::select()
        .column(order_attribute::Column::OrderId)
        .from(order_attribute::Entity)
        .and_where(order_attribute::Column::Key.eq(group.key.as_str()))
        .and_where(order_attribute::Column::Value.eq(group.value.as_str()))
        .and_where(order_attribute::Column::Kind.eq(entities::AttributeKind::Attribute))
        .to_owned();
    let members = order::Entity::find()
        .filter(order::Column::CompanyId.eq(company_id))
        .filter(order::Column::AnonymizedAt.is_null())
        .filter(order::Column::Id.in_subquery(tagged));
    let most = ctx.ingest.group_orders;
    // One read: the group's orders, one more than allowed to tell too many.
    let source_ids: Vec<String> = members
        .select_only()
        .column(order::Column::SourceId)
        .order_by_asc(order::Column::Id)
        .limit(most + 1)
        .into_tuple()
        .all(&ctx.db)
        .await?;
    let refusal = match source_ids.len() as u64 {
        0 => Some(DomainError::NotFound { entity: "order", id: format!("with {} {}", group.key, group.value) }),
        n if n > most => Some(DomainError::validation(group.key.clone(), format!("{} names more than {most} orders; at most {most} move together", group.value))),
        _ => None,
    };
    if let Some(err) = refusal {
        let item = ItemReport { position, source_id: label.to_owned(), outcome: ItemOutcome::Failed, order_id: None, notes: vec![], error: Some(item_error(&err)), refusals: vec![] };
        insert_item(&ctx.db, run, &item).await?;
        return Ok(vec![item]);
    }
    let mut items = Vec::with_capacity(source_ids.len());
    for source_id in source_ids {
        items.push(apply_one(ctx, actor, run, position, Record::new(source_id, commands.clone())).await?);
    }
    Ok(items)
}

/// Applies one record in its own transaction.
async fn apply_one(ctx: &Ctx, actor: &Actor, run: &RunHandle, position: usize, record: Record) -> DomainResult<ItemReport> {
    let source_id = record.source_id.clone();
    if !record.refusals.is_empty() {
        return refuse(ctx, run, position, record).await;
    }
    if let Some(reason) = record.skipped {
        let item = ItemReport { position, source_id, outcome: ItemOutcome::Skipped, order_id: None, notes: vec![reason], error: None, refusals: vec![] };
        insert_item(&ctx.db, run, &item).await?;
        return Ok(item);
    }
    // Feeds send the same new order in several calls at once (Shopify's
    // `orders/create`, `orders/paid`, `orders/updated`): the one that loses
    // the race to create it runs again, and finds it made.
    let creates = record.commands.iter().any(|c| matches!(c, Command::Import(_) | Command::Upsert(_) | Command::NewOrderDestination(_)));
    let again = creates.then(|| record.clone());
    let mut applied = apply_record(ctx, actor, run, position, record).await;
    if let (Err(DomainError::Conflict(_)), Some(again)) = (&applied, again) {
        applied = apply_record(ctx, actor, run, position, again).await;
    }
    match applied {
        Ok(item) => Ok(item),
        Err(err) => {
            let item = ItemReport {
                position,
                source_id,
                outcome: ItemOutcome::Failed,
                order_id: None,
                notes: vec![],
                error: Some(item_error(&err)),
                refusals: vec![],
            };
            insert_item(&ctx.db, run, &item).await?;
            Ok(item)
        }
    }
}

/// Records a record the adapter refused.
async fn refuse(ctx: &Ctx, run: &RunHandle, position: usize, record: Record) -> DomainResult<ItemReport> {
    let item = ItemReport::refused(position, record);
    insert_item(&ctx.db, run, &item).await?;
    Ok(item)
}

impl ItemReport {
    /// The report of a record the adapter refused: failed, with every reason
    /// in its message and the first one's code and field.
    pub fn refused(position: usize, record: Record) -> ItemReport {
        let message = record.refusals.iter().map(|r| r.message.as_str()).collect::<Vec<_>>().join("; ");
        let error = record.refusals.first().map(|first| ItemError { code: first.code, field: first.field.clone(), message });
        ItemReport {
            position,
            source_id: record.source_id,
            outcome: ItemOutcome::Failed,
            order_id: None,
            notes: vec![],
            error,
            refusals: record.refusals,
        }
    }
}

pub(super) fn item_error(err: &DomainError) -> ItemError {
    let field = match err {
        DomainError::Validation { field, .. } => Some(field.clone()),
        DomainError::InvalidTransition { .. } => Some("status".to_owned()),
        _ => None,
    };
    ItemError { code: err.code(), field, message: err.client_message() }
}

async fn insert_item(db: &impl sea_orm::ConnectionTrait, run: &RunHandle, item: &ItemReport) -> DomainResult<()> {
    item_row(run, item).insert(db).await?;
    Ok(())
}

/// The run item row of a record's report.
pub(super) fn item_row(run: &RunHandle, item: &ItemReport) -> integration_run_item::ActiveModel {
    let notes = (!item.notes.is_empty()).then(|| serde_json::Value::from(item.notes.clone()).to_string());
    integration_run_item::ActiveModel {
        run_id: Set(run.id),
        company_id: Set(run.company_id),
        position: Set(i32::try_from(item.position).unwrap_or(i32::MAX)),
        source_id: Set(Some(item.source_id.chars().take(100).collect())),
        outcome: Set(item.outcome),
        order_id: Set(item.order_id),
        error_code: Set(item.error.as_ref().map(|e| e.code.to_owned())),
        error_field: Set(item.error.as_ref().and_then(|e| e.field.as_ref()).map(|f| f.chars().take(200).collect())),
        error_message: Set(item.error.as_ref().map(|e| e.message.clone())),
        applied: Set(notes),
        ..Default::default()
    }
}

/// The order of the actor's company with this source id, inside `work`:
/// the live one, or whether only an anonymized one (LGPD) had it.
async fn find(work: &Work, actor: &Actor, source_id: &str) -> DomainResult<Found> {
    let company_id = actor.company_id().ok_or(DomainError::Forbidden)?;
    let with_id = || order::Entity::find().filter(order::Column::CompanyId.eq(company_id)).filter(order::Column::SourceId.eq(source_id));
    if let Some(live) = with_id().filter(order::Column::AnonymizedAt.is_null()).one(work.txn()).await? {
        return Ok(Found::Live(live.id));
    }
    let anonymized = with_id().filter(order::Column::AnonymizedAt.is_not_null()).count(work.txn()).await? > 0;
    Ok(if anonymized { Found::Anonymized } else { Found::None })
}

/// What a record's source id names when it arrives.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Found {
    Live(i32),
    /// Only an anonymized order had this source id: it is never written to
    /// again, and a creation makes a fresh order instead.
    Anonymized,
    None,
}

/// The note on a record that created a fresh order where an anonymized one
/// had the source id.
pub(super) const FRESH_AFTER_ANONYMIZATION: &str =
    "created fresh: the order stored earlier under this source id was anonymized (LGPD); none of its data was restored";

/// The note on a creation recognised as a repeat of the one that made its order.
pub(super) const REPEATED_CREATE: &str = "create skipped: the order was created before from identical content";

/// Creates the record's order; its source id is the record's.
async fn create_record(
    ctx: &Ctx,
    work: &mut Work,
    actor: &Actor,
    source_id: &str,
    n: usize,
    mut new: crate::orders::NewOrder,
) -> DomainResult<order::Model> {
    if new.source_id.is_empty() {
        new.source_id = source_id.to_owned();
    } else if new.source_id != source_id {
        return Err(DomainError::validation(format!("commands[{n}].sourceId"), "differs from the record's source id"));
    }
    resolve_localities(work, actor, &mut new).await?;
    check_item_ids(work, actor, None, &new).await?;
    create_in(ctx, work, actor, new).await
}

/// Whether the order was made from content with this digest.
async fn same_digest(work: &Work, order_id: i32, digest: Option<&str>) -> DomainResult<bool> {
    let Some(digest) = digest else { return Ok(false) };
    let stored: Option<Option<String>> = order::Entity::find_by_id(order_id)
        .select_only()
        .column(order::Column::SourceDigest)
        .into_tuple()
        .one(work.txn())
        .await?;
    Ok(stored.flatten().as_deref() == Some(digest))
}

/// For sources whose item ids are unique across the company's orders:
/// refuses an item id that a live order other than `this` holds.
async fn check_item_ids(work: &Work, actor: &Actor, this: Option<i32>, new: &crate::orders::NewOrder) -> DomainResult<()> {
    if !new.item_ids_unique_in_company || new.items.is_empty() {
        return Ok(());
    }
    let company_id = actor.company_id().ok_or(DomainError::Forbidden)?;
    let ids: Vec<&str> = new.items.iter().map(|i| i.source_id.as_str()).collect();
    let taken = item_owners(work, company_id, &ids, this).await?;
    refuse_taken_items(new, |item| taken.get(item).map(String::as_str))
}

/// Which of `ids` are item ids of the company's live orders (other than
/// `except`), with their order's source id.
pub(super) async fn item_owners(work: &Work, company_id: i32, ids: &[&str], except: Option<i32>) -> DomainResult<HashMap<String, String>> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    const PER_STATEMENT: usize = 2_000;
    let mut owners = HashMap::new();
    for chunk in ids.chunks(PER_STATEMENT) {
        // Two index lookups rather than a join. On SQLite the index is named:
        // once ANALYZE has seen other sources' item ids (line numbers, a few
        // values shared by every order) it would plan a scan of every item.
        let txn = work.txn();
        let select = entities::order_item::Entity::find()
            .select_only()
            .columns([entities::order_item::Column::SourceId, entities::order_item::Column::OrderId])
            .filter(entities::order_item::Column::SourceId.is_in(chunk.iter().copied()));
        let items: Vec<(String, i32)> = match txn.get_database_backend() {
            DbBackend::Sqlite => {
                let marks = vec!["?"; chunk.len()].join(",");
                let sql = format!("SELECT source_id, order_id FROM order_items INDEXED BY ix_order_items_source_id WHERE source_id IN ({marks})");
                let values = chunk.iter().map(|id| sea_orm::Value::from(*id));
                let rows = txn.query_all(Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)).await?;
                rows.iter().map(|row| Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?))).collect::<Result<_, sea_orm::DbErr>>()?
            }
            _ => select.into_tuple().all(txn).await?,
        };
        if items.is_empty() {
            continue;
        }
        let mut order_ids: Vec<i32> = items.iter().map(|(_, order_id)| *order_id).filter(|id| Some(*id) != except).collect();
        order_ids.sort_unstable();
        order_ids.dedup();
        let live: HashMap<i32, String> = order::Entity::find()
            .select_only()
            .columns([order::Column::Id, order::Column::SourceId])
            .filter(order::Column::Id.is_in(order_ids))
            .filter(order::Column::CompanyId.eq(company_id))
            .filter(order::Column::AnonymizedAt.is_null())
            .into_tuple()
            .all(txn)
            .await?
            .into_iter()
            .collect();
        owners.extend(items.into_iter().filter_map(|(item, order_id)| live.get(&order_id).map(|owner| (item, owner.clone()))));
    }
    Ok(owners)
}

/// Refuses the first item of `new` whose id `owner_of` says an order (its
/// source id given) holds.
pub(super) fn refuse_taken_items<'a>(new: &crate::orders::NewOrder, owner_of: impl Fn(&str) -> Option<&'a str>) -> DomainResult<()> {
    for (n, item) in new.items.iter().enumerate() {
        if let Some(owner) = owner_of(&item.source_id) {
            let message = format!("{} is an item of order {owner}", item.source_id);
            return Err(DomainError::validation(format!("items[{n}].sourceId"), message));
        }
    }
    Ok(())
}

/// Turns the destination and the items' origins named by the company's
/// locality source ids into ids, in one query; their roles are checked where
/// every order's are.
async fn resolve_localities(work: &Work, actor: &Actor, new: &mut crate::orders::NewOrder) -> DomainResult<()> {
    let mut wanted: Vec<&str> = new.items.iter().filter_map(|i| i.origin_source_id.as_deref()).collect();
    wanted.extend(new.destination_source_id.as_deref());
    if wanted.is_empty() {
        return Ok(());
    }
    let company_id = actor.company_id().ok_or(DomainError::Forbidden)?;
    wanted.sort_unstable();
    wanted.dedup();
    let found: HashMap<String, i32> = entities::locality::Entity::find()
        .filter(entities::locality::Column::CompanyId.eq(company_id))
        .filter(entities::locality::Column::SourceId.is_in(wanted))
        .all(work.txn())
        .await?
        .into_iter()
        .map(|l| (l.source_id, l.id))
        .collect();
    resolve_with(new, |reference| found.get(reference).copied())
}

/// Sets the locality ids of `new` from the source ids it names, as `id_of`
/// finds them among the company's localities.
pub(super) fn resolve_with(new: &mut crate::orders::NewOrder, id_of: impl Fn(&str) -> Option<i32>) -> DomainResult<()> {
    let id_of = |field: String, reference: &str| {
        id_of(reference).ok_or_else(|| {
            DomainError::validation(field, format!("no locality of this company has source id {reference}"))
        })
    };
    if let Some(reference) = new.destination_source_id.take() {
        new.destination_locality_id = Some(id_of("destination".to_owned(), &reference)?);
    }
    for (n, item) in new.items.iter_mut().enumerate() {
        if let Some(reference) = item.origin_source_id.take() {
            item.origin_locality_id = Some(id_of(format!("items[{n}].originId"), &reference)?);
        }
    }
    Ok(())
}

async fn apply_record(ctx: &Ctx, actor: &Actor, run: &RunHandle, position: usize, record: Record) -> DomainResult<ItemReport> {
    let Record { source_id, commands, .. } = record;
    crate::validate::text("sourceId", &source_id, 30)?;
    if commands.is_empty() {
        return Err(DomainError::validation("commands", "a record needs at least one command"));
    }
    let mut work = Work::begin(ctx).await?;
    let found = find(&work, actor, &source_id).await?;
    let mut order_id = match found {
        Found::Live(id) => Some(id),
        Found::Anonymized | Found::None => None,
    };
    let created = |order: &order::Model| {
        let note = format!("created as {}", order.status.as_str());
        if found == Found::Anonymized {
            format!("{note}; {FRESH_AFTER_ANONYMIZATION}")
        } else {
            note
        }
    };
    let mut notes = Vec::new();
    let mut applied_any = false;
    for (n, command) in commands.into_iter().enumerate() {
        let name = command.name();
        let existing = |order_id: Option<i32>| {
            order_id.ok_or_else(|| DomainError::NotFound { entity: "order", id: source_id.clone() })
        };
        // What runs without a live order: creations, and the destination.
        let needs_order = !matches!(
            command,
            Command::Create(_) | Command::Upsert(_) | Command::Import(_) | Command::Destination(_) | Command::NewOrderDestination(_)
        );
        if order_id.is_none() && found == Found::Anonymized && needs_order {
            notes.push(format!("{name} skipped: the order was anonymized (LGPD)"));
            continue;
        }
        let change = match command {
            Command::NewOrderDestination(_) if order_id.is_some() => continue,
            Command::Destination(input) | Command::NewOrderDestination(input) => {
                let locality = crate::localities::upsert_in(work.txn(), actor, &ctx.authz, input).await?;
                notes.push(format!("destination {} saved", locality.source_id));
                applied_any = true;
                continue;
            }
            Command::Create(new) => {
                if let Some(id) = order_id {
                    if same_digest(&work, id, new.source_digest.as_deref()).await? {
                        notes.push(REPEATED_CREATE.to_owned());
                        continue;
                    }
                    return Err(crate::orders::source_id_taken());
                }
                let order = create_record(ctx, &mut work, actor, &source_id, n, new).await?;
                order_id = Some(order.id);
                notes.push(created(&order));
                applied_any = true;
                continue;
            }
            Command::Upsert(new) => {
                match order_id {
                    None => {
                        let order = create_record(ctx, &mut work, actor, &source_id, n, new).await?;
                        order_id = Some(order.id);
                        notes.push(created(&order));
                    }
                    Some(id) => {
                        let mut new = new;
                        resolve_localities(&work, actor, &mut new).await?;
                        update_in(ctx, &mut work, actor, id, new.into()).await?;
                        notes.push("details replaced".to_owned());
                    }
                }
                applied_any = true;
                continue;
            }
            Command::Import(new) => {
                if order_id.is_some() {
                    notes.push("import skipped: the order already exists".to_owned());
                } else {
                    let order = create_record(ctx, &mut work, actor, &source_id, n, new).await?;
                    order_id = Some(order.id);
                    notes.push(created(&order));
                    applied_any = true;
                }
                continue;
            }
            Command::Replace(mut new) => {
                let id = existing(order_id)?;
                resolve_localities(&work, actor, &mut new).await?;
                check_item_ids(&work, actor, Some(id), &new).await?;
                let digest = new.source_digest.take();
                update_in(ctx, &mut work, actor, id, new.into()).await?;
                if digest.is_some() {
                    order::Entity::update_many()
                        .col_expr(order::Column::SourceDigest, sea_orm::sea_query::Expr::value(digest))
                        .filter(order::Column::Id.eq(id))
                        .exec(work.txn())
                        .await?;
                }
                notes.push("details replaced".to_owned());
                applied_any = true;
                continue;
            }
            Command::Annotate(pairs) => {
                annotate_in(ctx, &mut work, actor, existing(order_id)?, pairs).await?;
                notes.push("attributes set".to_owned());
                applied_any = true;
                continue;
            }
            Command::Update(patch) => {
                update_in(ctx, &mut work, actor, existing(order_id)?, patch).await?;
                notes.push("details updated".to_owned());
                applied_any = true;
                continue;
            }
            Command::Delete(meta) => (Change::Move(OrderStatus::Cancelled), meta),
            Command::ChangeStatus { to: OrderStatus::OnHold, meta } | Command::Hold(meta) => (Change::Hold, meta),
            Command::ChangeStatus { to, meta } => (Change::Move(to), meta),
            Command::Release(meta) => (Change::Release, meta),
            Command::Resume(meta) => {
                let id = existing(order_id)?;
                if !held_by(work.txn(), id, &meta.source).await? {
                    continue;
                }
                (Change::Release, meta)
            }
            Command::Reach { to, meta } => (Change::Reach(to), meta),
            Command::Invoice { invoice, meta } => (Change::Invoice(invoice), meta),
            Command::Ship { shipment, meta } => (Change::Ship(shipment), meta),
            Command::Timeline { update, meta } => (Change::Timeline(update), meta),
            Command::Refund { amount_cents, meta } => (Change::Refund(amount_cents), meta),
            Command::Track(meta) => {
                if meta.comment.as_deref().is_none_or(|c| c.trim().is_empty()) {
                    return Err(DomainError::validation(format!("commands[{n}].comment"), "a tracking event needs its text"));
                }
                (Change::Comment, meta)
            }
        };
        let (change, meta) = change;
        let StatusOutcome { entry, applied, .. } = execute_in(ctx, &mut work, actor, existing(order_id)?, change, meta).await?;
        if applied {
            applied_any = true;
            notes.push(format!("{name}: {}", entry.to_status.as_str()));
        } else {
            notes.push(format!("{name} skipped: {}", entry.skip_reason.unwrap_or_default()));
        }
    }
    let outcome = if applied_any { ItemOutcome::Applied } else { ItemOutcome::Skipped };
    let item = ItemReport { position, source_id, outcome, order_id, notes, error: None, refusals: vec![] };
    insert_item(work.txn(), run, &item).await?;
    work.commit(ctx).await?;
    Ok(item)
}
