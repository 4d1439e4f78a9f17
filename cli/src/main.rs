//! The `kipvs` command.

fn main() {
    println!("kipvs");
}
