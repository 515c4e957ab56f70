//! `natter`, the desktop app. The chat screens are not built yet; until they are,
//! this binary says so and points at the relay, which is what `make run` starts.

fn main() {
    eprintln!(
        "natter: the desktop app is not built yet.\n\
         Run the relay with `cargo run -p natter-server --bin natter-server` or `make run`."
    );
    std::process::exit(2);
}
