//! How every platform's order payload creates its order when Rastro does not
//! know it yet.

use domain::{address::Address, ingest::Command, localities::LocalityInput, orders::NewOrder};

/// Who the order is for, as the payload says.
pub struct Customer {
    /// Their e-mail: what lets them follow their orders.
    pub email: Option<String>,
    /// Their name (who receives it, else the buyer).
    pub name: Option<String>,
    /// Their phone (left out if it is not one).
    pub phone: Option<String>,
    /// Where the order goes.
    pub address: Address,
}

/// The commands that create `new` unless it exists: with an e-mail, the
/// customer at this address as a destination (`<prefix>-…`, written only
/// when the order is created, so a late call does not write old data over
/// it; another address is another destination), else the address on the
/// order; then the order.
pub fn commands(prefix: &str, mut new: NewOrder, customer: Customer) -> Vec<Command> {
    let mut commands = Vec::new();
    match customer.email {
        Some(email) => {
            let key = domain::localities::customer_at_key(prefix, &email, &customer.address);
            let input = LocalityInput::customer(key.clone(), customer.name, email, customer.phone, customer.address);
            commands.push(Command::NewOrderDestination(input));
            new.destination_source_id = Some(key);
        }
        None => new.address = Some(customer.address),
    }
    commands.push(Command::Import(new));
    commands
}
