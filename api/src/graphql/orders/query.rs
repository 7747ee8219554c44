//! Order queries.

use async_graphql::{
    connection::{Connection, Edge},
    Context, Lookahead, Object, Value, ID,
};
use domain::orders;

use super::{
    inputs::{OrderFilterInput, OrderSortInput},
    types::Order,
};
use crate::graphql::{
    error::GqlResultExt,
    loaders::{lists_of, Loaders},
    request::{parse_id, parts},
};

/// Order queries.
#[derive(Default)]
pub struct OrderQuery;

/// A page of orders.
pub type OrderConnection = Connection<String, Order, OrderCount>;

/// The count of an `orders` page's matches, made only when it is asked for.
pub struct OrderCount {
    filter: orders::OrderFilter,
    /// The bound and figure of the count read with the page, if any.
    counted: Option<(u64, u64)>,
}

#[Object]
impl OrderCount {
    /// Orders matching the filter across all pages, counted up to `upTo`
    /// (1 to 1,000,000): exact below it; `upTo` itself means that many or
    /// more. Counting stops at the bound, so a page costs the same however
    /// many orders there are; ask for a higher bound when the exact figure
    /// over it matters.
    async fn total_count(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "orders::COUNT_UP_TO as i32")] up_to: i32,
    ) -> async_graphql::Result<u64> {
        let (domain, actor) = parts(ctx)?;
        let up_to = u64::try_from(up_to).unwrap_or(0);
        match self.counted {
            Some((bound, total)) if bound == up_to => Ok(total),
            _ => orders::count(domain, &domain.db, actor, &self.filter, up_to).await.gql(),
        }
    }
}

#[Object]
impl OrderQuery {
    /// Orders the caller may see: a company's staff their company's, a customer
    /// its own, admins all. Filtered, sorted, in pages of up to 100.
    async fn orders(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1 to 100.", default = 20)] first: i32,
        #[graphql(desc = "Cursor of the last row of the previous page.")] after: Option<String>,
        filter: Option<OrderFilterInput>,
        sort: Option<OrderSortInput>,
    ) -> async_graphql::Result<OrderConnection> {
        let (domain, actor) = parts(ctx)?;
        let filter = filter.unwrap_or_default().into_domain()?;
        let sort: orders::OrderSort = sort.unwrap_or_default().into();
        let first = u64::try_from(first).unwrap_or(0);
        // The page, the lists its selection asks for and its count in one statement.
        let page = ctx.look_ahead();
        let lists = lists_of(&[page.field("edges").field("node"), page.field("nodes")]);
        let count_up_to = count_asked(&page);
        let page = orders::list(domain, &domain.db, actor, &filter, sort, first, after.as_deref(), lists, count_up_to).await.gql()?;
        let lists_unread = page.nested.unread;
        ctx.data::<std::sync::Arc<Loaders>>()?.feed(page.nested).await;
        let counted = count_up_to.zip(page.total);
        let mut connection =
            Connection::with_additional_fields(after.is_some(), page.has_next_page, OrderCount { filter, counted });
        connection.edges.extend(
            page.items.into_iter().map(|o| Edge::new(orders::cursor_of(&o, sort.field), Order { lists_unread, ..Order::from(o) })),
        );
        Ok(connection)
    }

    /// One order.
    async fn order(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Order> {
        let (domain, actor) = parts(ctx)?;
        let id = parse_id("order", &id)?;
        let found = orders::get_with(domain, &domain.db, actor, id, lists_of(&[ctx.look_ahead()])).await.gql()?;
        one_order(ctx, found).await
    }

    /// One order by the company's own id. Admins also give the company.
    async fn order_by_source_id(
        &self,
        ctx: &Context<'_>,
        source_id: String,
        company_id: Option<ID>,
    ) -> async_graphql::Result<Order> {
        let (domain, actor) = parts(ctx)?;
        let company = company_id.as_ref().map(|id| parse_id("company", id)).transpose()?;
        let lists = lists_of(&[ctx.look_ahead()]);
        let found = orders::by_source_id(domain, &domain.db, actor, &source_id, company, lists).await.gql()?;
        one_order(ctx, found).await
    }
}

/// The bound of the first `totalCount` a page's selection asks for, if it is
/// one a count accepts: that count is read with the page. Another bound in
/// the same selection counts on its own; an out-of-range one is refused by
/// its field.
fn count_asked(page: &Lookahead<'_>) -> Option<u64> {
    let field = page.field("totalCount").selection_fields().into_iter().next()?;
    let up_to = match field.arguments().ok()?.into_iter().find(|(name, _)| name.as_str() == "upTo") {
        Some((_, Value::Number(n))) => n.as_u64()?,
        Some(_) => return None,
        None => orders::COUNT_UP_TO,
    };
    orders::check_up_to(up_to).is_ok().then_some(up_to)
}

/// One order, its lists handed to the request's loaders.
async fn one_order(ctx: &Context<'_>, (order, nested): (entities::order::Model, orders::Nested)) -> async_graphql::Result<Order> {
    let lists_unread = nested.unread;
    ctx.data::<std::sync::Arc<Loaders>>()?.feed(nested).await;
    Ok(Order { lists_unread, ..Order::from(order) })
}
