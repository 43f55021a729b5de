fn main() -> std::process::ExitCode {
    raku_aur::cli::main()
}
