//! Sign in and register. The relay address is editable and remembered.

use iced::widget::{
    button, center, column, container, pick_list, row, scrollable, space, text, text_input,
};
use iced::{Center, Element, Fill, Shrink, Task};
use natter_i18n::{I18n, Language};
use natter_proto::rest::RegisterRequest;
use natter_store::{Account, Store};

use crate::app::Shared;
use crate::style;

/// Sign in or create an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Sign in.
    SignIn,
    /// Create an account.
    Register,
}

/// The form.
#[derive(Debug, Clone)]
pub struct Login {
    /// Which form.
    pub mode: Mode,
    account: String,
    password: String,
    password2: String,
    nickname: String,
    email: String,
    phone: String,
    server: String,
    busy: bool,
    error: Option<String>,
    notice: Option<String>,
}

/// Form input.
#[derive(Debug, Clone)]
pub enum Message {
    /// Account field.
    Account(String),
    /// Password field.
    Password(String),
    /// Repeat-password field.
    Password2(String),
    /// Nickname field.
    Nickname(String),
    /// E-mail field.
    Email(String),
    /// Phone field.
    Phone(String),
    /// Relay address field.
    Server(String),
    /// Sign in / Register pressed (or Enter).
    Submit,
    /// Switch between the two forms.
    SwitchMode,
    /// Language picked.
    Language(Language),
    /// Sign-in finished.
    SignedIn(Result<Box<Account>, Shared<natter_net::Error>>),
    /// Registration finished.
    Registered(Result<(), Shared<natter_net::Error>>),
}

/// What the app must act on.
#[derive(Debug)]
pub enum Event {
    /// Signed in: go to the main window.
    SignedIn(Box<Account>),
    /// Switch language.
    Language(Language),
}

impl Login {
    /// An empty form pointing at `server`.
    pub fn new(server: String) -> Login {
        Login {
            mode: Mode::SignIn,
            account: String::new(),
            password: String::new(),
            password2: String::new(),
            nickname: String::new(),
            email: String::new(),
            phone: String::new(),
            server,
            busy: false,
            error: None,
            notice: None,
        }
    }

    /// Handles input.
    pub fn update(
        &mut self,
        message: Message,
        store: Option<Store>,
        i18n: &I18n,
    ) -> (Task<Message>, Option<Event>) {
        match message {
            Message::Account(v) => self.account = v,
            Message::Password(v) => self.password = v,
            Message::Password2(v) => self.password2 = v,
            Message::Nickname(v) => self.nickname = v,
            Message::Email(v) => self.email = v,
            Message::Phone(v) => self.phone = v,
            Message::Server(v) => self.server = v,
            Message::SwitchMode => {
                self.mode = match self.mode {
                    Mode::SignIn => Mode::Register,
                    Mode::Register => Mode::SignIn,
                };
                self.error = None;
                self.notice = None;
            }
            Message::Language(l) => return (Task::none(), Some(Event::Language(l))),
            Message::Submit => {
                if self.busy || self.account.trim().is_empty() || self.password.is_empty() {
                    return (Task::none(), None);
                }
                self.error = None;
                self.notice = None;
                let server = self.server.trim().trim_end_matches('/').to_string();
                match self.mode {
                    Mode::SignIn => {
                        let Some(store) = store else {
                            return (Task::none(), None);
                        };
                        self.busy = true;
                        let (account, password) =
                            (self.account.trim().to_string(), self.password.clone());
                        let task = Task::perform(
                            async move {
                                natter_net::client::sign_in(
                                    &server,
                                    &store,
                                    &account,
                                    &password,
                                    Some(device_name()),
                                )
                                .await
                                .map(Box::new)
                                .map_err(|e| Shared(std::sync::Arc::new(e)))
                            },
                            Message::SignedIn,
                        );
                        return (task, None);
                    }
                    Mode::Register => {
                        if self.password != self.password2 {
                            self.error = Some(i18n.tr("auth-passwords-differ"));
                            return (Task::none(), None);
                        }
                        self.busy = true;
                        let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
                        let req = RegisterRequest {
                            account: self.account.trim().to_string(),
                            password: self.password.clone(),
                            nickname: self.nickname.trim().to_string(),
                            email: opt(&self.email),
                            phone: opt(&self.phone),
                            avatar: None,
                        };
                        let task = Task::perform(
                            async move {
                                natter_net::client::register(&server, &req)
                                    .await
                                    .map(|_| ())
                                    .map_err(|e| Shared(std::sync::Arc::new(e)))
                            },
                            Message::Registered,
                        );
                        return (task, None);
                    }
                }
            }
            Message::SignedIn(result) => {
                self.busy = false;
                match result {
                    Ok(account) => return (Task::none(), Some(Event::SignedIn(account))),
                    Err(e) => self.error = Some(crate::error_text(i18n, &self.server, &e.0)),
                }
            }
            Message::Registered(result) => {
                self.busy = false;
                match result {
                    Ok(()) => {
                        // Sign straight in with what was just registered.
                        self.mode = Mode::SignIn;
                        self.notice = Some(i18n.tr("auth-registered"));
                        return (Task::done(Message::Submit), None);
                    }
                    Err(e) => self.error = Some(crate::error_text(i18n, &self.server, &e.0)),
                }
            }
        }
        (Task::none(), None)
    }

    /// Draws the form.
    pub fn view<'a>(&'a self, i18n: &I18n) -> Element<'a, Message> {
        let register = self.mode == Mode::Register;
        let field = |placeholder: String, value: &'a str, on: fn(String) -> Message| {
            text_input(&placeholder, value)
                .on_input(on)
                .on_submit(Message::Submit)
                .padding(10)
        };
        let mut form = column![
            text(i18n.tr("app-name")).size(32),
            text(i18n.tr("app-tagline")).size(14),
            space::vertical().height(12),
            field(
                i18n.tr(if register {
                    "auth-account-name"
                } else {
                    "auth-account"
                }),
                &self.account,
                Message::Account
            )
            .id("account"),
            field(i18n.tr("auth-password"), &self.password, Message::Password)
                .secure(true)
                .id("password"),
        ]
        .spacing(10)
        .align_x(Center);
        if register {
            form = form
                .push(
                    field(
                        i18n.tr("auth-password-repeat"),
                        &self.password2,
                        Message::Password2,
                    )
                    .secure(true)
                    .id("password2"),
                )
                .push(
                    field(i18n.tr("auth-nickname"), &self.nickname, Message::Nickname)
                        .id("nickname"),
                )
                .push(field(i18n.tr("auth-email"), &self.email, Message::Email).id("email"))
                .push(field(i18n.tr("auth-phone"), &self.phone, Message::Phone).id("phone"));
        }
        form = form.push(
            column![
                text(i18n.tr("auth-server")).size(12),
                field(i18n.tr("auth-server"), &self.server, Message::Server).id("server"),
            ]
            .spacing(4),
        );
        let submit_label = if self.busy {
            i18n.tr("auth-working")
        } else {
            i18n.tr(if register {
                "auth-register"
            } else {
                "auth-sign-in"
            })
        };
        let submit = button(text(submit_label).width(Fill).center())
            .width(Fill)
            .padding(10)
            .on_press_maybe((!self.busy).then_some(Message::Submit));
        form = form.push(submit);
        if let Some(e) = &self.error {
            form = form.push(text(e.clone()).style(text::danger));
        }
        if let Some(n) = &self.notice {
            form = form.push(text(n.clone()).style(text::success));
        }
        let switch = i18n.tr(if register {
            "auth-switch-to-sign-in"
        } else {
            "auth-switch-to-register"
        });
        form = form.push(
            button(text(switch))
                .style(button::text)
                .on_press(Message::SwitchMode),
        );
        let language = pick_list(Language::ALL, Some(i18n.language()), Message::Language);
        form = form.push(row![space::horizontal(), language].align_y(Center));
        // Scrolls when the window is shorter than the form (registering at
        // the default 1000×680), so nothing in it is squashed.
        let card = container(form.width(360)).padding(28).style(style::card);
        center(scrollable(container(card).center_x(Fill).padding(16)).height(Shrink)).into()
    }
}

fn device_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "desktop".into());
    format!("Natter on {host}")
}
