//! The `roster` server binary. Everything it does lives in `roster::server`.

fn main() -> std::process::ExitCode {
    roster::server::cli::main()
}
