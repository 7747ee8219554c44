//! The fast path of [`super::apply`]: consecutive records that each only
//! create a new order are checked together and written in one transaction
//! with a few multi-row statements, instead of a transaction of about ten
//! statements each. Each record is decided as the one-record path decides
//! it, with the same checks in the same order, so an answer does not depend
//! on the path; a record that fails writes only its run item.

use std::collections::{HashMap, HashSet};

use entities::{locality, order, ItemOutcome, LogisticRole};
use sea_orm::{
    sea_query::{Expr, UnionType},
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait,
};

use super::{
    apply::{item_error, item_owners, item_row, refuse_taken_items, resolve_with, ItemReport, FRESH_AFTER_ANONYMIZATION, REPEATED_CREATE},
    command::{Command, Record},
    runs::RunHandle,
};
use crate::{
    insert_rows::insert_rows,
    orders::{check_roles, insert_prepared, prepare, source_id_taken, NewOrder, Prepared, Work},
    validate, Actor, Ctx, DomainError, DomainResult,
};

/// Most records one transaction of the fast path takes: a TRE call of a
/// thousand orders commits once, and holds SQLite's write lock about 0.1 s.
pub(super) const MAX_RECORDS: usize = 1_000;

/// Source ids per lookup, kept under SQLite's bound-parameter limit.
const IDS_PER_STATEMENT: usize = 2_000;

/// A record that only creates an order: its position, source id and order.
pub(super) struct Creation {
    /// Its place in the run.
    pub(super) position: usize,
    /// The record's source id.
    pub(super) source_id: String,
    /// The order it creates.
    pub(super) order: NewOrder,
}

impl Creation {
    /// The creation a record asks for, when it is accepted by its adapter
    /// and only creates one order; `Err` gives back any other record.
    pub(super) fn of(position: usize, record: Record) -> Result<Creation, Box<Record>> {
        if !record.refusals.is_empty() || record.group.is_some() || !matches!(record.commands.as_slice(), [Command::Create(_)]) {
            return Err(Box::new(record));
        }
        let Record { source_id, mut commands, refusals, group, skipped } = record;
        match commands.pop() {
            Some(Command::Create(order)) => Ok(Creation { position, source_id, order }),
            other => Err(Box::new(Record { source_id, commands: other.into_iter().collect(), refusals, group, skipped })),
        }
    }

    /// The record it came from.
    pub(super) fn into_record(self) -> Record {
        Record::new(self.source_id, vec![Command::Create(self.order)])
    }
}

/// What the database says about a batch before anything is written.
struct Known {
    /// Orders of the company with one of the batch's source ids: live ones
    /// by id and digest, and whether an anonymized one had it.
    live: HashMap<String, (i32, Option<String>)>,
    anonymized: HashSet<String>,
    /// The company's localities the batch names, by source id and by id.
    by_source: HashMap<String, i32>,
    by_id: HashMap<i32, (LogisticRole, Option<String>)>,
    /// Item ids of live orders, with their order's source id.
    item_owner: HashMap<String, String>,
}

/// Applies `records` — with distinct source ids — at
/// their positions, in one transaction, which the caller commits. An error
/// means nothing was written; the caller then applies them one by one.
pub(super) async fn create_records(ctx: &Ctx, actor: &Actor, run: &RunHandle, records: &[Creation]) -> DomainResult<(Vec<ItemReport>, Work)> {
    let company_id = actor.company_id().ok_or(DomainError::Forbidden)?;
    let mut work = Work::begin(ctx).await?;
    let known = look_up(&work, company_id, records).await?;
    let mut reports: Vec<ItemReport> = Vec::with_capacity(records.len());
    let mut prepared: Vec<(usize, Prepared)> = Vec::new();
    // Item ids claimed by the batch's earlier orders, with their source id.
    let mut claimed: HashMap<String, String> = HashMap::new();
    for Creation { position, source_id, order } in records {
        let mut report = ItemReport {
            position: *position,
            source_id: source_id.clone(),
            outcome: ItemOutcome::Failed,
            order_id: None,
            notes: vec![],
            error: None,
            refusals: vec![],
        };
        match check(&known, &claimed, company_id, source_id, order.clone()) {
            Ok(Decision::Repeat(order_id)) => {
                report.outcome = ItemOutcome::Skipped;
                report.order_id = Some(order_id);
                report.notes.push(REPEATED_CREATE.to_owned());
            }
            Ok(Decision::Create(order, items)) => {
                claimed.extend(items.into_iter().map(|item| (item, source_id.clone())));
                report.outcome = ItemOutcome::Applied;
                prepared.push((reports.len(), *order));
            }
            Err(err) => report.error = Some(item_error(&err)),
        }
        reports.push(report);
    }
    let (at, orders): (Vec<usize>, Vec<Prepared>) = prepared.into_iter().unzip();
    let responsible: HashMap<i32, String> =
        known.by_id.iter().filter_map(|(id, (_, email))| email.clone().map(|email| (*id, email))).collect();
    let created = insert_prepared(ctx, &mut work, actor, orders, &responsible).await?;
    for (n, order) in at.into_iter().zip(created) {
        let report = &mut reports[n];
        let mut note = format!("created as {}", order.status.as_str());
        if known.anonymized.contains(&report.source_id) {
            note = format!("{note}; {FRESH_AFTER_ANONYMIZATION}");
        }
        report.notes.push(note);
        report.order_id = Some(order.id);
    }
    insert_rows(work.txn(), reports.iter().map(|item| item_row(run, item)).collect()).await?;
    Ok((reports, work))
}

/// What to do with one record.
enum Decision {
    /// A repeat of the creation of this order.
    Repeat(i32),
    /// Create it; the item ids it claims.
    Create(Box<Prepared>, Vec<String>),
}

/// Decides one record with the checks of the one-record path, in its order.
fn check(known: &Known, claimed: &HashMap<String, String>, company_id: i32, source_id: &str, mut new: NewOrder) -> DomainResult<Decision> {
    validate::text("sourceId", source_id, 30)?;
    if let Some((order_id, digest)) = known.live.get(source_id) {
        if new.source_digest.is_some() && new.source_digest == *digest {
            return Ok(Decision::Repeat(*order_id));
        }
        return Err(source_id_taken());
    }
    if new.source_id.is_empty() {
        new.source_id = source_id.to_owned();
    } else if new.source_id != source_id {
        return Err(DomainError::validation("commands[0].sourceId", "differs from the record's source id"));
    }
    resolve_with(&mut new, |reference| known.by_source.get(reference).copied())?;
    let items: Vec<String> = if new.item_ids_unique_in_company {
        refuse_taken_items(&new, |item| known.item_owner.get(item).or_else(|| claimed.get(item)).map(String::as_str))?;
        new.items.iter().map(|item| item.source_id.clone()).collect()
    } else {
        vec![]
    };
    let order = prepare(company_id, new)?;
    check_roles(order.destination, &order.origins, |id| known.by_id.get(&id).map(|(role, _)| *role))?;
    Ok(Decision::Create(Box::new(order), items))
}

/// Reads what the batch's checks need, a few queries whatever its size.
async fn look_up(work: &Work, company_id: i32, records: &[Creation]) -> DomainResult<Known> {
    let news: Vec<&NewOrder> = records.iter().map(|record| &record.order).collect();
    let source_ids: Vec<&str> = records.iter().map(|record| record.source_id.as_str()).collect();
    // Live and anonymized orders in two halves of one statement: each half
    // then has its partial index.
    let mut live = HashMap::new();
    let mut anonymized = HashSet::new();
    for chunk in source_ids.chunks(IDS_PER_STATEMENT) {
        let half = |is_anonymized: bool| {
            let anonymized_at = order::Column::AnonymizedAt;
            order::Entity::find()
                .select_only()
                .columns([order::Column::Id, order::Column::SourceId, order::Column::SourceDigest])
                .expr(Expr::value(is_anonymized))
                .filter(order::Column::CompanyId.eq(company_id))
                .filter(order::Column::SourceId.is_in(chunk.iter().copied()))
                .filter(if is_anonymized { anonymized_at.is_not_null() } else { anonymized_at.is_null() })
                .into_query()
        };
        let both = half(false).union(UnionType::All, half(true)).to_owned();
        for row in work.txn().query_all(work.txn().get_database_backend().build(&both)).await? {
            let source_id: String = row.try_get_by_index(1)?;
            if row.try_get_by_index(3)? {
                anonymized.insert(source_id);
            } else {
                live.insert(source_id, (row.try_get_by_index::<i32>(0)?, row.try_get_by_index::<Option<String>>(2)?));
            }
        }
    }

    let mut references: Vec<&str> = news
        .iter()
        .flat_map(|new| new.destination_source_id.as_deref().into_iter().chain(new.items.iter().filter_map(|i| i.origin_source_id.as_deref())))
        .collect();
    references.sort_unstable();
    references.dedup();
    let mut ids: Vec<i32> =
        news.iter().flat_map(|new| new.destination_locality_id.into_iter().chain(new.items.iter().filter_map(|i| i.origin_locality_id))).collect();
    ids.sort_unstable();
    ids.dedup();
    let (mut by_source, mut by_id) = (HashMap::new(), HashMap::new());
    if !references.is_empty() || !ids.is_empty() {
        let rows: Vec<(i32, String, LogisticRole, Option<String>)> = locality::Entity::find()
            .select_only()
            .columns([locality::Column::Id, locality::Column::SourceId, locality::Column::LogisticRole, locality::Column::ResponsibleEmail])
            .filter(locality::Column::CompanyId.eq(company_id))
            .filter(Condition::any().add(locality::Column::SourceId.is_in(references)).add(locality::Column::Id.is_in(ids)))
            .into_tuple()
            .all(work.txn())
            .await?;
        for (id, source_id, role, email) in rows {
            by_source.insert(source_id, id);
            by_id.insert(id, (role, email));
        }
    }

    let item_ids: Vec<&str> =
        news.iter().filter(|new| new.item_ids_unique_in_company).flat_map(|new| new.items.iter().map(|i| i.source_id.as_str())).collect();
    let item_owner = item_owners(work, company_id, &item_ids, None).await?;
    Ok(Known { live, anonymized, by_source, by_id, item_owner })
}
