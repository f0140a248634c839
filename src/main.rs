use std::process::ExitCode;

fn main() -> ExitCode {
    annals::cli::main()
}
