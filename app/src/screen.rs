//! The screens: sign-in/registration and the main window.

pub mod login;
pub mod main;
