//! Natter's local database (redb): history, contacts, groups, outbox, cursors,
//! settings. Not built yet.
