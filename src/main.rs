//! The `roster` server binary. Everything it does lives in `roster::server`.

/// mimalloc rather than the system allocator: under load the server allocates and frees
/// from many threads at once, where glibc's malloc spent about a quarter of the CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    roster::server::cli::main()
}
