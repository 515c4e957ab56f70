//! Load generator for the relay (being written).
fn main() {}
