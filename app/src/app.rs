//! The application: boot, top-level state and messages, and the screens.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use iced::{Element, Font, Subscription, Task, Theme, window};
use natter_i18n::{I18n, Language};
use natter_server::Relay;
use natter_store::{Account, Store};
use serde::{Deserialize, Serialize};

use crate::screen::{login, main};

/// Command-line choices.
#[derive(Debug, Clone)]
pub struct Flags {
    /// Profile name: one local database per profile.
    pub profile: String,
    /// Where profiles (and the bundled relay's data) live.
    pub data_home: PathBuf,
    /// Relay address to use instead of the remembered one.
    pub server: Option<String>,
    /// Language to use instead of the remembered one.
    pub language: Option<Language>,
}

/// The default relay address.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:7878";

/// Light or dark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ThemeChoice {
    /// Light.
    #[default]
    Light,
    /// Dark.
    Dark,
}

/// Preferences kept in the profile's store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// `zh-CN` or `en-US`.
    pub language: String,
    /// Theme.
    pub theme: ThemeChoice,
    /// Base text size in points.
    pub font_size: f32,
    /// Relay address.
    pub server: String,
    /// Show notifications for new messages.
    pub notifications: bool,
    /// Microphone, speaker and camera for calls.
    #[serde(default)]
    pub devices: crate::screen::main::call::Devices,
    /// The emoji picked last, newest first.
    #[serde(default)]
    pub recent_emoji: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            language: Language::from_environment().tag().into(),
            theme: ThemeChoice::Light,
            font_size: 15.0,
            server: DEFAULT_SERVER.into(),
            notifications: true,
            devices: Default::default(),
            recent_emoji: Vec::new(),
        }
    }
}

/// Wraps non-`Clone`, non-`Debug` things so they can travel in messages.
pub struct Shared<T>(pub Arc<T>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<T> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Shared(..)")
    }
}

/// What boot found.
#[derive(Debug, Clone)]
pub struct Booted {
    store: Store,
    settings: Settings,
    account: Option<Account>,
    relay: Option<Shared<Relay>>,
}

/// The screens.
pub enum Screen {
    /// Opening the local database.
    Loading,
    /// Sign in or register.
    Login(Box<login::Login>),
    /// The main window.
    Main(Box<main::Main>),
}

/// Top-level messages.
#[derive(Debug, Clone)]
pub enum Message {
    /// Boot finished.
    Booted(Result<Booted, String>),
    /// From the login screen.
    Login(login::Message),
    /// From the main window.
    Main(main::Message),
    /// The window gained or lost focus.
    Focus(bool),
    /// The window was resized.
    Resized(f32),
    /// Tab (`false`) or Shift+Tab (`true`) that no widget used: move the
    /// focus to the next or previous field.
    Tab(bool),
    /// The system asked the app to quit (SIGTERM, SIGINT): close cleanly so the
    /// local database is not left needing a check at the next start.
    Quit,
}

/// The application state.
pub struct App {
    flags: Flags,
    /// Translations.
    pub i18n: I18n,
    /// Preferences.
    pub settings: Settings,
    store: Option<Store>,
    /// The screen showing.
    pub screen: Screen,
    _relay: Option<Shared<Relay>>,
    fatal: Option<String>,
    width: f32,
    focused: bool,
}

impl App {
    /// Starts the app: opens the profile's store in the background.
    pub fn new(flags: Flags) -> (App, Task<Message>) {
        let language = flags.language.unwrap_or_else(Language::from_environment);
        let i18n = I18n::new(language).unwrap_or_else(|_| {
            // The bundles are compiled in and tested; this cannot fail in a
            // released build, but never panic over translations.
            I18n::new(Language::EnUs).unwrap_or_else(|e| panic!("translations do not parse: {e:?}"))
        });
        let app = App {
            i18n,
            settings: Settings::default(),
            store: None,
            screen: Screen::Loading,
            _relay: None,
            fatal: None,
            width: 1000.0,
            focused: true,
            flags: flags.clone(),
        };
        (app, Task::perform(boot(flags), Message::Booted))
    }

    /// An app already on the login screen, for tests (no I/O).
    pub fn for_login(language: Language) -> App {
        let (mut app, _) = App::new(Flags {
            profile: "test".into(),
            data_home: std::env::temp_dir(),
            server: None,
            language: Some(language),
        });
        app.screen = Screen::Login(Box::new(login::Login::new(DEFAULT_SERVER.into())));
        app
    }

    /// The profile's local database, once open.
    pub fn store(&self) -> Option<&Store> {
        self.store.as_ref()
    }

    /// New-message chimes the main screen has asked for (0 elsewhere).
    pub fn chimes(&self) -> u64 {
        match &self.screen {
            Screen::Main(m) => m.chimes(),
            _ => 0,
        }
    }

    /// Window title.
    pub fn title(&self) -> String {
        let name = self.i18n.tr("app-name");
        match &self.screen {
            Screen::Main(m) => format!("{name} — {}", m.me_name()),
            _ => name,
        }
    }

    /// Theme.
    pub fn theme(&self) -> Theme {
        crate::style::theme(self.settings.theme)
    }

    fn save_settings(&self) -> Task<Message> {
        let Some(store) = self.store.clone() else {
            return Task::none();
        };
        let settings = self.settings.clone();
        Task::future(async move {
            if let Err(e) = store.set_setting("settings", &settings).await {
                tracing::warn!(error = %e, "could not save settings");
            }
        })
        .discard()
    }

    /// Handles a message.
    pub fn update(&mut self, message: Message) -> Task<Message> {
        match message {
            Message::Booted(Ok(b)) => {
                self.i18n.set_language(
                    self.flags
                        .language
                        .unwrap_or_else(|| Language::from_tag(&b.settings.language)),
                );
                self.settings = b.settings;
                self.settings.language = self.i18n.language().tag().into();
                self._relay = b.relay;
                self.store = Some(b.store.clone());
                match b.account {
                    Some(account) => {
                        let (main, task) = main::Main::new(b.store, account);
                        self.screen = Screen::Main(Box::new(main));
                        task.map(Message::Main)
                    }
                    None => {
                        self.screen = Screen::Login(Box::new(login::Login::new(
                            self.settings.server.clone(),
                        )));
                        Task::none()
                    }
                }
            }
            Message::Booted(Err(e)) => {
                self.fatal = Some(e);
                Task::none()
            }
            Message::Login(msg) => {
                let Screen::Login(login) = &mut self.screen else {
                    return Task::none();
                };
                let store = self.store.clone();
                let (task, event) = login.update(msg, store, &self.i18n);
                let task = task.map(Message::Login);
                match event {
                    Some(login::Event::SignedIn(account)) => {
                        let Some(store) = self.store.clone() else {
                            return task;
                        };
                        self.settings.server = account.server.clone();
                        let (main, main_task) = main::Main::new(store, *account);
                        self.screen = Screen::Main(Box::new(main));
                        Task::batch([task, main_task.map(Message::Main), self.save_settings()])
                    }
                    Some(login::Event::Language(l)) => {
                        self.set_language(l);
                        Task::batch([task, self.save_settings()])
                    }
                    None => task,
                }
            }
            Message::Main(msg) => {
                let Screen::Main(main) = &mut self.screen else {
                    return Task::none();
                };
                let ctx = main::Context {
                    i18n: &self.i18n,
                    settings: &self.settings,
                    focused: self.focused,
                };
                let (task, event) = main.update(msg, ctx);
                let task = task.map(Message::Main);
                match event {
                    Some(main::Event::Language(l)) => {
                        self.set_language(l);
                        Task::batch([task, self.save_settings()])
                    }
                    Some(main::Event::Theme(t)) => {
                        self.settings.theme = t;
                        Task::batch([task, self.save_settings()])
                    }
                    Some(main::Event::FontSize(s)) => {
                        self.settings.font_size = s;
                        Task::batch([task, self.save_settings()])
                    }
                    Some(main::Event::Notifications(on)) => {
                        self.settings.notifications = on;
                        Task::batch([task, self.save_settings()])
                    }
                    Some(main::Event::Devices(devices)) => {
                        self.settings.devices = devices;
                        Task::batch([task, self.save_settings()])
                    }
                    Some(main::Event::EmojiUsed(e)) => {
                        crate::emoji::picker::remember(&mut self.settings.recent_emoji, e);
                        Task::batch([task, self.save_settings()])
                    }
                    Some(main::Event::SignedOut) => {
                        self.screen = Screen::Login(Box::new(login::Login::new(
                            self.settings.server.clone(),
                        )));
                        task
                    }
                    None => task,
                }
            }
            Message::Focus(f) => {
                self.focused = f;
                Task::none()
            }
            Message::Resized(w) => {
                self.width = w;
                Task::none()
            }
            Message::Tab(back) => {
                if back {
                    iced::widget::operation::focus_previous()
                } else {
                    iced::widget::operation::focus_next()
                }
            }
            Message::Quit => {
                tracing::info!("asked to quit");
                iced::exit()
            }
        }
    }

    fn set_language(&mut self, language: Language) {
        self.i18n.set_language(language);
        self.settings.language = language.tag().into();
    }

    /// Draws the current screen.
    pub fn view(&self) -> Element<'_, Message> {
        use iced::widget::{center, text};
        if let Some(e) = &self.fatal {
            let said = self.i18n.tr_args(
                "boot-failed",
                &[("detail", natter_i18n::Arg::from(e.as_str()))],
            );
            return center(text(said)).into();
        }
        match &self.screen {
            Screen::Loading => center(text(self.i18n.tr("auth-working"))).into(),
            Screen::Login(l) => l.view(&self.i18n).map(Message::Login),
            Screen::Main(m) => {
                let ctx = main::Context {
                    i18n: &self.i18n,
                    settings: &self.settings,
                    focused: self.focused,
                };
                m.view(ctx, self.width).map(Message::Main)
            }
        }
    }

    /// Long-lived work: the live session, window focus and size.
    pub fn subscription(&self) -> Subscription<Message> {
        let window = iced::event::listen_with(runtime_event);
        let session = match &self.screen {
            Screen::Main(m) => m.subscription().map(Message::Main),
            _ => Subscription::none(),
        };
        Subscription::batch([window, tab_keys(), session, Subscription::run(quit_signals)])
    }
}

/// The window's events the app acts on: focus, size, files dropped onto it,
/// and Ctrl+V (seen even when the composer takes it, which pastes only text,
/// so a picture on the clipboard is not lost).
pub fn runtime_event(
    event: iced::Event,
    _status: iced::event::Status,
    _window: window::Id,
) -> Option<Message> {
    use iced::Event;
    use iced::keyboard::{self, Key};
    use main::attach;
    match event {
        Event::Window(window::Event::Focused) => Some(Message::Focus(true)),
        Event::Window(window::Event::Unfocused) => Some(Message::Focus(false)),
        Event::Window(window::Event::Resized(size)) => Some(Message::Resized(size.width)),
        Event::Window(window::Event::Opened { size, .. }) => Some(Message::Resized(size.width)),
        Event::Window(window::Event::FileDropped(path)) => Some(Message::Main(
            main::Message::Attach(attach::Message::Dropped(path)),
        )),
        Event::Keyboard(keyboard::Event::KeyPressed { key, modifiers, .. })
            if modifiers.command()
                && matches!(key.as_ref(), Key::Character(c) if c.eq_ignore_ascii_case("v")) =>
        {
            Some(Message::Main(main::Message::Attach(attach::Message::Paste)))
        }
        _ => None,
    }
}

/// Tab and Shift+Tab that no widget handled (every form's fields let them
/// through), as focus moves.
fn tab_keys() -> Subscription<Message> {
    iced::keyboard::listen().filter_map(|e| unclaimed_key(&e))
}

/// What a key that no widget took does: Tab and Shift+Tab move the focus.
pub fn unclaimed_key(event: &iced::keyboard::Event) -> Option<Message> {
    use iced::keyboard::{self, Key, key::Named};
    match event {
        keyboard::Event::KeyPressed {
            key: Key::Named(Named::Tab),
            modifiers,
            ..
        } => Some(Message::Tab(modifiers.shift())),
        _ => None,
    }
}

/// SIGTERM and SIGINT as messages (Ctrl+C in a terminal, `kill`, a session
/// logging out).
fn quit_signals() -> impl iced::futures::Stream<Item = Message> {
    iced::stream::channel(
        1,
        async |mut out: iced::futures::channel::mpsc::Sender<Message>| {
            use iced::futures::SinkExt;
            #[cfg(unix)]
            {
                use tokio::signal::unix::{SignalKind, signal};
                let (Ok(mut term), Ok(mut int)) = (
                    signal(SignalKind::terminate()),
                    signal(SignalKind::interrupt()),
                ) else {
                    return;
                };
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            #[cfg(not(unix))]
            {
                if tokio::signal::ctrl_c().await.is_err() {
                    return;
                }
            }
            let _ = out.send(Message::Quit).await;
        },
    )
}

async fn boot(flags: Flags) -> Result<Booted, String> {
    let dir = natter_store::profile_dir(&flags.data_home, &flags.profile);
    let store = Store::open(&dir).await.map_err(|e| e.to_string())?;
    let mut settings: Settings = store
        .setting("settings")
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    if let Some(s) = &flags.server {
        settings.server = s.clone();
    }
    let account = store.account().await.map_err(|e| e.to_string())?;
    let server = account
        .as_ref()
        .map(|a| a.server.clone())
        .unwrap_or_else(|| settings.server.clone());
    let relay = crate::embedded::ensure(&server, &flags.data_home)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not start the bundled relay");
            None
        });
    Ok(Booted {
        store,
        settings,
        account,
        relay: relay.map(Shared),
    })
}

/// Runs the app.
pub fn run(flags: Flags) -> iced::Result {
    #[allow(unused_mut)] // set further only on Linux
    let mut settings = window::Settings {
        min_size: Some(iced::Size::new(340.0, 480.0)),
        ..Default::default()
    };
    // The X11 WM_CLASS and the Wayland app id: the desktop entry's name
    // (natter.desktop, StartupWMClass=natter), so desktops show its name and
    // icon for the window.
    #[cfg(target_os = "linux")]
    {
        settings.platform_specific.application_id = "natter".into();
    }
    let mut app = iced::application(move || App::new(flags.clone()), App::update, App::view)
        .title(App::title)
        .theme(App::theme)
        .subscription(App::subscription)
        .window(settings)
        .window_size((1000.0, 680.0));
    app = app.font(crate::icon::BYTES);
    if let Some(font) = crate::fonts::cjk_font() {
        app = app.font(font);
    }
    app.default_font(Font::DEFAULT).run()
}
