fn main() -> std::process::ExitCode {
    raku_aur::commands::main()
}
