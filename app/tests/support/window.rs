//! A window for flow tests that keeps its widgets' state (focus, cursor,
//! scroll position) from one interaction to the next, as the real window
//! does, where `interact` builds a fresh interface each time.
//!
//! The tasks `update` returns run here with the widget operations they carry
//! (focusing a field, moving focus with Tab) applied to that state, and
//! keyboard events no widget took go through the app's own key handling, as
//! its subscription sees them. So a test can ask what has the focus, and what
//! the next keystroke does.

use iced::futures::StreamExt;
use iced::keyboard::{self, Key};
use iced::{Font, Pixels, Size, mouse};
use iced_runtime::user_interface::{Cache, UserInterface};
use iced_runtime::{Action, Task};
use iced_test::core::clipboard;
use iced_test::core::renderer::Headless;
use iced_test::core::{Event, widget};
use iced_test::selector::{Bounded, Candidate, Selector};
use natter::app::{App, Message};

use super::PATIENCE;

/// A headless window holding one app's interface.
pub struct Window {
    renderer: iced::Renderer,
    cache: Option<Cache>,
    size: Size,
    cursor: mouse::Cursor,
}

impl Window {
    /// A window `width` × `height`; the app is told its width.
    pub fn new(app: &mut App, width: f32, height: f32) -> Window {
        let _ = app.update(Message::Resized(width));
        let renderer = iced::futures::executor::block_on(<iced::Renderer as Headless>::new(
            Font::default(),
            Pixels(16.0),
            Some("tiny-skia"),
        ))
        .expect("a headless renderer");
        Window {
            renderer,
            cache: Some(Cache::default()),
            size: Size::new(width, height),
            cursor: mouse::Cursor::Unavailable,
        }
    }

    /// Runs `f` on the interface as it is now, keeping its state after.
    fn with_ui<T>(
        &mut self,
        app: &App,
        f: impl FnOnce(
            &mut UserInterface<'_, Message, iced::Theme, iced::Renderer>,
            &mut iced::Renderer,
        ) -> T,
    ) -> T {
        let mut ui = UserInterface::build(
            app.view(),
            self.size,
            self.cache.take().unwrap(),
            &mut self.renderer,
        );
        let out = f(&mut ui, &mut self.renderer);
        self.cache = Some(ui.into_cache());
        out
    }

    /// What `selector` finds on screen.
    pub fn find<S>(&mut self, app: &App, selector: S) -> Option<S::Output>
    where
        S: Selector + Send,
        S::Output: Clone + Send,
    {
        use widget::Operation;
        self.with_ui(app, |ui, renderer| {
            let mut operation = selector.find();
            ui.operate(renderer, &mut widget::operation::black_box(&mut operation));
            match operation.finish() {
                widget::operation::Outcome::Some(found) => found,
                _ => None,
            }
        })
    }

    /// The id of the widget that has the focus, if one has and it has an id.
    pub fn focused(&mut self, app: &App) -> Option<widget::Id> {
        self.find(app, |c: Candidate<'_>| match c {
            Candidate::Focusable { id, state, .. } if state.is_focused() => Some(id.cloned()),
            _ => None,
        })
        .flatten()
    }

    /// Sends `events` to the interface, then applies what they led to.
    pub async fn send(&mut self, app: &mut App, events: Vec<Event>) {
        let cursor = self.cursor;
        let (messages, statuses) = self.with_ui(app, |ui, renderer| {
            let mut messages = Vec::new();
            let (_, statuses) = ui.update(
                &events,
                cursor,
                renderer,
                &mut clipboard::Null,
                &mut messages,
            );
            (messages, statuses)
        });
        let mut messages = messages;
        // What the app's keyboard subscription sees: keys no widget took.
        for (event, status) in events.iter().zip(statuses) {
            if let (Event::Keyboard(k), iced::event::Status::Ignored) = (event, status)
                && let Some(m) = natter::app::unclaimed_key(k)
            {
                messages.push(m);
            }
        }
        for m in messages {
            let task = app.update(m);
            self.run(app, task).await;
        }
    }

    /// Clicks what `selector` finds.
    pub async fn click<S>(&mut self, app: &mut App, selector: S)
    where
        S: Selector + Send,
        S::Output: Bounded + Clone + Send,
    {
        let description = selector.description();
        let target = self
            .find(app, selector)
            .unwrap_or_else(|| panic!("nothing on screen for {description}"));
        let at = target
            .visible_bounds()
            .unwrap_or_else(|| panic!("{description} is not visible"))
            .center();
        self.cursor = mouse::Cursor::Available(at);
        let mut events = vec![Event::Mouse(mouse::Event::CursorMoved { position: at })];
        events.extend(iced_test::simulator::click());
        self.send(app, events).await;
    }

    /// Types `text`, one key at a time.
    pub async fn type_text(&mut self, app: &mut App, text: &str) {
        self.send(app, iced_test::simulator::typewrite(text).collect())
            .await;
    }

    /// Presses and releases `key` with `modifiers` held.
    pub async fn tap(&mut self, app: &mut App, key: Key, modifiers: keyboard::Modifiers) {
        let mut events: Vec<Event> = iced_test::simulator::tap_key(key, None).collect();
        for e in &mut events {
            if let Event::Keyboard(
                keyboard::Event::KeyPressed { modifiers: m, .. }
                | keyboard::Event::KeyReleased { modifiers: m, .. },
            ) = e
            {
                *m = modifiers;
            }
        }
        self.send(app, events).await;
    }

    /// Runs `task` and everything it leads to, applying the widget
    /// operations among them to this window's interface.
    pub async fn run(&mut self, app: &mut App, task: Task<Message>) {
        let mut queue = vec![task];
        while let Some(task) = queue.pop() {
            let Some(mut stream) = iced_runtime::task::into_stream(task) else {
                continue;
            };
            while let Some(action) = tokio::time::timeout(PATIENCE, stream.next()).await.unwrap() {
                match action {
                    Action::Output(message) => queue.push(app.update(message)),
                    Action::Widget(operation) => self.with_ui(app, |ui, renderer| {
                        let mut operation = Some(operation);
                        while let Some(mut current) = operation.take() {
                            ui.operate(renderer, current.as_mut());
                            if let widget::operation::Outcome::Chain(next) = current.finish() {
                                operation = Some(next);
                            }
                        }
                    }),
                    _ => {}
                }
            }
        }
    }
}
