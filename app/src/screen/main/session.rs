//! The live session as an iced subscription, keyed by the profile's database:
//! it starts when the main window appears and stops when it goes.

use std::hash::{Hash, Hasher};

use iced::Subscription;
use iced::futures::{Stream, StreamExt};
use natter_net::Client;
use natter_net::session::Event;
use natter_store::Store;

/// What the subscription yields.
#[derive(Debug, Clone)]
pub enum Update {
    /// The session started; here is its client.
    Ready(Client),
    /// It could not start (no saved account).
    Failed(String),
    /// A session event.
    Event(Event),
}

struct Key(Store);

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.path().hash(state);
    }
}

impl Key {
    fn stream(&self) -> impl Stream<Item = Update> + Send + use<> {
        let store = self.0.clone();
        iced::futures::stream::once(async move { Client::resume(store).await }).flat_map(
            |started| match started {
                Ok((client, events)) => {
                    iced::futures::stream::once(async move { Update::Ready(client) })
                        .chain(events.into_stream().map(Update::Event))
                        .boxed()
                }
                Err(e) => iced::futures::stream::once(async move { Update::Failed(e.to_string()) })
                    .boxed(),
            },
        )
    }
}

/// The session of the account saved in `store`.
pub fn subscription(store: &Store) -> Subscription<Update> {
    Subscription::run_with(Key(store.clone()), Key::stream)
}
