//! The `roster` server binary. Everything it does lives in `roster::server`.

/// mimalloc rather than the system allocator: under load the server allocates and frees
/// from many threads at once, where glibc's malloc spent about a quarter of the CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    allocator::return_freed_memory_at_once();
    roster::server::cli::main()
}

/// How the allocator gives memory back.
mod allocator {
    use std::ffi::{c_int, c_long};

    // mimalloc's own interface (linked with the allocator above).
    unsafe extern "C" {
        fn mi_version() -> c_int;
        #[cfg(test)]
        fn mi_option_get(option: c_int) -> c_long;
        fn mi_option_set(option: c_int, value: c_long);
    }

    /// `mi_option_purge_delay` in mimalloc 3's list of options.
    const PURGE_DELAY: c_int = 15;

    /// mimalloc 3 returns freed memory to the system a second after it is freed by
    /// default (ten seconds for whole arenas); under load at one million contacts that
    /// kept about 100 MiB more resident, at no measured cost in speed
    /// (docs/PERFORMANCE.md, "Memory at one million"). Roster has it returned at once
    /// unless `MIMALLOC_PURGE_DELAY` says otherwise.
    pub fn return_freed_memory_at_once() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() && is_mimalloc_3() {
            // SAFETY: sets a plain option by its number, checked against the version.
            unsafe { mi_option_set(PURGE_DELAY, 0) }
        }
    }

    fn is_mimalloc_3() -> bool {
        // SAFETY: reads the version number (3.3.2 is 30302).
        (unsafe { mi_version() }) / 10_000 == 3
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// The purge delay now in force, in milliseconds.
        fn purge_delay() -> c_long {
            // SAFETY: reads a plain option by its number.
            unsafe { mi_option_get(PURGE_DELAY) }
        }

        #[test]
        fn the_purge_delay_option_is_the_one_set() {
            assert!(is_mimalloc_3(), "the option's number is mimalloc 3's");
            if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
                // mimalloc 3's documented default: this is the purge delay.
                assert_eq!(purge_delay(), 1_000);
                return_freed_memory_at_once();
                assert_eq!(purge_delay(), 0);
            }
        }
    }
}
