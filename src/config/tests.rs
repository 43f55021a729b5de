use super::*;
use crate::plan::DistOverride;
use crate::raku::depspec::DepSpec;
use crate::review::ReviewKind;
use locate::default_path_from;

pub(crate) const PATH: &str = "/etc/raku-aur/config.toml";

pub(crate) fn parsed(text: &str) -> Config {
    parse(text, Path::new(PATH)).unwrap_or_else(|e| panic!("{e}"))
}

/// The error for `text`, checked to name the file, and its line and key.
fn invalid(text: &str) -> (usize, String, String) {
    let e = parse(text, Path::new(PATH)).expect_err("the config is invalid");
    let shown = e.to_string();
    assert!(
        shown.starts_with(&format!("config file {PATH}, line ")),
        "{shown}"
    );
    match e {
        ConfigError::Invalid {
            line: Some(line),
            key,
            message,
            ..
        } => {
            let key = key.unwrap_or_else(|| panic!("no key in {shown}"));
            assert!(shown.contains(&format!(", key {key}: ")), "{shown}");
            (line, key, message)
        }
        other => panic!("not an error with a line: {other:?}"),
    }
}

pub(crate) const FULL: &str = r#"
maintainer = "Jane Doe <jane@example.org>"
aur-user = "raku-bot"
ssh-key = "keys/aur"
known-hosts = "/etc/raku-aur/known_hosts"
remote = "ssh://aur@aur.archlinux.org/{pkgbase}.git"
state-dir = "/var/lib/raku-aur"
cache-dir = "cache"
indexes = ["https://example.org/META.json", "local.json"]
aur-metadata = "aur.json"

[mirrors]
"https://raw.githubusercontent.com/" = "http://mirror.local/gh/"
"https://raw.githubusercontent.com/raku/REA/" = "http://mirror.local/rea/"

[publish]
only = ["JSON::Fast"]
exclude = ["Bad::Dist", "Other"]

[system.native]
mylib = "libmylib"
ssl = "openssl-1.1"

[system.bin]
mytool = "mytool-bin"

[dist."Foo::Bar"]
auth = "zef:someone"
extra-depends = ["Baz:ver<1.2+>", "curl:from<bin>"]
drop-depends = ["Broken::Thing"]
skip-check = true
hold = "  waits for rakudo 2026.05  "
provider-of = ["Foo::Bar::Escape", "Foo::Shared"]

[review]
changes = ["first-publication", "license-change"]
"#;

#[test]
fn a_full_config_parses_into_types_with_paths_resolved() {
    let c = parsed(FULL);
    assert_eq!(c.path, Path::new(PATH));
    assert_eq!(c.maintainer.as_deref(), Some("Jane Doe <jane@example.org>"));
    assert_eq!(c.aur_user.as_deref(), Some("raku-bot"));
    assert_eq!(
        c.ssh_key.as_deref(),
        Some(Path::new("/etc/raku-aur/keys/aur"))
    );
    assert_eq!(
        c.known_hosts.as_deref(),
        Some(Path::new("/etc/raku-aur/known_hosts"))
    );
    assert_eq!(
        c.cache_dir.as_deref(),
        Some(Path::new("/etc/raku-aur/cache"))
    );
    assert_eq!(
        c.indexes.unwrap(),
        ["https://example.org/META.json", "/etc/raku-aur/local.json"]
    );
    assert_eq!(c.aur_metadata.as_deref(), Some("/etc/raku-aur/aur.json"));
    // The most specific prefix first, whatever the file's order.
    assert_eq!(
        c.mirrors.unwrap(),
        [
            (
                "https://raw.githubusercontent.com/raku/REA/".to_string(),
                "http://mirror.local/rea/".to_string()
            ),
            (
                "https://raw.githubusercontent.com/".to_string(),
                "http://mirror.local/gh/".to_string()
            ),
        ]
    );
    assert_eq!(c.only, ["JSON::Fast"]);
    let o = &c.overrides;
    assert_eq!(o.origin, PATH);
    assert_eq!(
        o.exclude,
        ["Bad::Dist".to_string(), "Other".to_string()].into()
    );
    assert_eq!(o.system.native["ssl"].as_ref(), "openssl-1.1");
    assert_eq!(o.system.bin["mytool"].as_ref(), "mytool-bin");
    let d = &o.dists["Foo::Bar"];
    assert_eq!(d.auth.as_deref(), Some("zef:someone"));
    assert_eq!(
        d.extra_depends,
        [
            "Baz:ver<1.2+>".parse::<DepSpec>().unwrap(),
            "curl:from<bin>".parse().unwrap()
        ]
    );
    assert_eq!(d.drop_depends, ["Broken::Thing".to_string()].into());
    assert!(d.skip_check);
    assert_eq!(d.hold.as_deref(), Some("waits for rakudo 2026.05"));
    assert_eq!(
        d.provider_of,
        ["Foo::Bar::Escape".to_string(), "Foo::Shared".to_string()].into()
    );
    let review = c.review.unwrap();
    assert_eq!(
        review.changes,
        [ReviewKind::FirstPublication, ReviewKind::LicenseChange].into()
    );
    assert_eq!(
        c.shown,
        [
            ("publish.exclude", r#"["Bad::Dist", "Other"]"#),
            ("system.native.mylib", r#""libmylib""#),
            ("system.native.ssl", r#""openssl-1.1""#),
            ("system.bin.mytool", r#""mytool-bin""#),
            ("dist.\"Foo::Bar\".auth", r#""zef:someone""#),
            (
                "dist.\"Foo::Bar\".extra-depends",
                r#"["Baz:ver<1.2+>", "curl:from<bin>"]"#
            ),
            ("dist.\"Foo::Bar\".drop-depends", r#"["Broken::Thing"]"#),
            ("dist.\"Foo::Bar\".skip-check", "true"),
            ("dist.\"Foo::Bar\".hold", r#""waits for rakudo 2026.05""#),
            (
                "dist.\"Foo::Bar\".provider-of",
                r#"["Foo::Bar::Escape", "Foo::Shared"]"#
            ),
            (
                "review.changes",
                r#"["first-publication", "license-change"]"#
            ),
            (
                "review.archive",
                &toml_list(&[crate::review::REA_ARCHIVE_PREFIX])
            ),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
}

#[test]
fn an_empty_file_sets_nothing() {
    let c = parsed("");
    assert!(c.maintainer.is_none() && c.indexes.is_none() && c.review.is_none());
    assert_eq!(
        c.overrides,
        Overrides {
            origin: PATH.into(),
            ..Overrides::default()
        }
    );
}

#[test]
fn bad_values_are_errors_with_line_and_key() {
    let cases: &[(&str, usize, &str, &str)] = &[
        (
            "aur-user = \"bot\"\n\nhttp-timeout = 0\n",
            3,
            "http-timeout",
            "0 is not a number of seconds from 1 to 3600",
        ),
        (
            "aur-user = \"bot\"\nmaintainer = \"Jane Doe\"\n",
            2,
            "maintainer",
            "\"Jane Doe\" is not `Name <email>`",
        ),
        (
            "maintainer = \"Jane <jane@x>\\nInjected: 1\"\n",
            1,
            "maintainer",
            "contains a control or bidirectional character",
        ),
        (
            "[mirrors]\n\"https://a.example/\" = \"ftp://b.example/\"\n",
            2,
            "mirrors.\"https://a.example/\"",
            "is not an http:// or https:// URL prefix",
        ),
        (
            "[mirrors]\n\"a.example/\" = \"https://b.example/\"\n",
            2,
            "mirrors.\"a.example/\"",
            "is not an http:// or https:// URL prefix",
        ),
        (
            "\n[system.native]\nssl = \"Open SSL\"\n",
            3,
            "system.native.ssl",
            "is not an Arch package name",
        ),
        (
            "[system.bin]\n\"my tool\" = \"x\"\n",
            2,
            "system.bin.\"my tool\"",
            "is not a library or program name",
        ),
        (
            "[dist.\"Foo\"]\nskip-check = true\nextra-depends = [\"Ok\", \"Bad:ver<1\"]\n",
            3,
            "dist.Foo.extra-depends",
            "dependency string \"Bad:ver<1\" is malformed",
        ),
        (
            "[dist.\"Foo\"]\nextra-depends = [\"Bad:colour<red>\"]\n",
            2,
            "dist.Foo.extra-depends",
            "unknown adverb",
        ),
        (
            "remote = \"ssh://aur@aur.archlinux.org/raku.git\"\n",
            1,
            "remote",
            "has no {pkgbase}",
        ),
        (
            "[review]\nchanges = [\"first-publication\", \"everything\"]\n",
            2,
            "review.changes",
            "unknown variant `everything`",
        ),
        ("colour = \"blue\"\n", 1, "colour", "unknown field `colour`"),
        (
            "[dist.\"Foo\"]\nskip-checks = true\n",
            2,
            "dist.Foo.skip-checks",
            "unknown field `skip-checks`",
        ),
        (
            "[review]\ngate = true\n",
            2,
            "review.gate",
            "unknown field `gate`",
        ),
        (
            "[dist.\"Foo:ver<1>\"]\nskip-check = true\n",
            1,
            "dist.\"Foo:ver<1>\"",
            "is not a distribution name",
        ),
        (
            "[dist.\"Foo\"]\nauth = \" \"\n",
            2,
            "dist.Foo.auth",
            "an empty auth matches no release",
        ),
        (
            "[review]\narchive = []\n",
            2,
            "review.archive",
            "the archive list is empty",
        ),
        (
            "[review]\narchive = [\"htps://example.org/\"]\n",
            2,
            "review.archive",
            "is not an http:// or https:// URL prefix",
        ),
        (
            "[dist.\"Foo\"]\nhold = \"  \"\n",
            2,
            "dist.Foo.hold",
            "the reason is empty",
        ),
        (
            "[publish]\nexclude = [\"A::B:ver<1>\"]\n",
            2,
            "publish.exclude",
            "is not a distribution name",
        ),
        (
            "aur-user = \"bot user\"\n",
            1,
            "aur-user",
            "is not an AUR account name",
        ),
        ("ssh-key = \"~/.ssh/aur\"\n", 1, "ssh-key", "starts with ~"),
        ("indexes = []\n", 1, "indexes", "name at least one index"),
        (
            "aur-metadata = \"https://exa mple.org/\"\n",
            1,
            "aur-metadata",
            "is not a valid URL",
        ),
        (
            "[dist.\"Foo\"]\nprovider-of = [\"Foo::Bar\", \"Foo::Baz:ver<1>\"]\n",
            2,
            "dist.Foo.provider-of",
            "Foo::Baz:ver<1> is not a module name (like JSON::Fast)",
        ),
        (
            "[dist.\"A\"]\nprovider-of = [\"X::Y\"]\n\n[dist.\"B\"]\nhold = \"why\"\nprovider-of = [\"Z\", \"X::Y\"]\n",
            6,
            "dist.B.provider-of",
            "A is already the provider-of X::Y; a module has one provider",
        ),
        (
            // The file's order, not the names' order, says which claim came second.
            "[dist.\"B\"]\nprovider-of = [\"X::Y\"]\n[dist.\"A\"]\nprovider-of = [\"X::Y\"]\n",
            4,
            "dist.A.provider-of",
            "B is already the provider-of X::Y",
        ),
        (
            "[dist.\"Foo\"]\nskip-check = \"yes\"\n",
            2,
            "dist.Foo.skip-check",
            "invalid type: string \"yes\", expected a boolean",
        ),
    ];
    for (text, line, key, message) in cases {
        let (got_line, got_key, got_message) = invalid(text);
        assert_eq!(
            (got_line, got_key.as_str()),
            (*line, *key),
            "{text}: {got_message}"
        );
        assert!(
            got_message.contains(message),
            "{text}: {got_message:?} lacks {message:?}"
        );
    }
}

#[test]
fn a_syntax_error_names_the_line() {
    let e = parse("maintainer = \"a <b@c>\"\n[publish\n", Path::new(PATH)).unwrap_err();
    match &e {
        ConfigError::Invalid { line, .. } => assert_eq!(*line, Some(2), "{e}"),
        other => panic!("{other:?}"),
    }
    assert!(
        e.to_string()
            .starts_with(&format!("config file {PATH}, line 2")),
        "{e}"
    );
}

#[test]
fn a_missing_explicit_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let e = load(Some(&missing)).unwrap_err();
    assert!(matches!(e, ConfigError::Missing { .. }), "{e:?}");
    assert!(e.to_string().contains("given with --config does not exist"));
    std::fs::write(&missing, "aur-user = \"bot\"\n").unwrap();
    let c = load(Some(&missing)).unwrap().unwrap();
    assert_eq!(c.aur_user.as_deref(), Some("bot"));
}

#[test]
fn the_default_location_follows_xdg_then_home() {
    let p = |xdg: Option<&str>, home: Option<&str>| {
        default_path_from(xdg.map(Into::into), home.map(Into::into))
    };
    assert_eq!(
        p(Some("/x"), Some("/home/me")),
        Some(PathBuf::from("/x/raku-aur/config.toml"))
    );
    // A relative XDG_CONFIG_HOME is to be ignored, says the XDG spec.
    assert_eq!(
        p(Some("rel"), Some("/home/me")),
        Some(PathBuf::from("/home/me/.config/raku-aur/config.toml"))
    );
    assert_eq!(
        p(None, Some("/home/me")),
        Some(PathBuf::from("/home/me/.config/raku-aur/config.toml"))
    );
    assert_eq!(p(None, Some("")), None);
    assert_eq!(p(None, None), None);
}

#[test]
fn build_values_are_checked_where_they_are_read() {
    let bad = |table: &str| {
        let text = format!("[build]\n{table}\n");
        parse(&text, Path::new("/etc/raku-aur/config.toml"))
            .expect_err(&text)
            .to_string()
    };
    assert!(bad("command = []").contains("name a program"));
    assert!(bad("command = [\"makechrootpkg\", \"\"]").contains("empty"));
    assert!(bad("repo-name = \"local\"").contains("not a repository name"));
    assert!(bad("repo-name = \"../x\"").contains("not a repository name"));
    assert!(bad("sign-key = \"DEADBEEF\"").contains("full fingerprint"));
    assert!(bad("keep = 0").contains("from 1 to 100"));
    assert!(bad("timeout = 0").contains("from 1 to 86400"));
    assert!(bad("retry-failed-after = 9000").contains("from 0 to 8760"));
    assert!(bad("rebuild-on-rakudo-changes = true").contains("unknown field"));
    let c = parse(
        "[build]\nrepo-dir = \"repo\"\nsign-key = \"0123 4567 89ab CDEF 0123  4567 89AB CDEF 0123 4567\"\n",
        Path::new("/etc/raku-aur/config.toml"),
    )
    .unwrap();
    let build = c.build.unwrap();
    assert_eq!(build.repo_dir, Some(PathBuf::from("/etc/raku-aur/repo")));
    assert_eq!(
        build.sign_key.as_deref(),
        Some("0123456789ABCDEF0123456789ABCDEF01234567")
    );
}

#[test]
fn the_example_config_parses_and_sets_every_key() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/config.example.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let c = parse(&text, &path).unwrap_or_else(|e| panic!("{e}"));
    assert!(c.maintainer.is_some() && c.aur_user.is_some() && c.ssh_key.is_some());
    assert!(c.known_hosts.is_some() && c.remote.is_some() && c.state_dir.is_some());
    assert!(c.cache_dir.is_some() && c.indexes.is_some() && c.aur_metadata.is_some());
    assert_eq!(c.http_timeout, Some(30));
    assert!(c.mirrors.is_some_and(|m| !m.is_empty()) && c.review.is_some());
    assert!(!c.stand_ins.packages.is_empty() && !c.stand_ins.maintainers.is_empty());
    assert_eq!(c.max_new_per_run, Some(25));
    assert!(c.legacy.adopt_orphans && c.legacy.flag_out_of_date);
    assert_eq!(c.legacy.max_actions_per_run, 5);
    let build = c.build.as_ref().expect("[build]");
    assert!(build.command.is_some() && build.repo_dir.is_some() && build.repo_name.is_some());
    assert_eq!(
        build.sign_key.as_deref(),
        Some("0123456789ABCDEF0123456789ABCDEF01234567")
    );
    assert_eq!((build.keep, build.timeout), (Some(2), Some(3600)));
    assert_eq!(build.retry_failed_after, Some(24));
    assert!(build.rebuild_on_rakudo_change && build.rakudo_version_command.is_some());
    assert_eq!(c.site_dir, Some(PathBuf::from("/var/www/raku-aur")));
    assert_eq!(
        c.site_repo_url.as_deref(),
        Some("https://example.org/raku-aur/$arch")
    );
    let o = &c.overrides;
    assert!(!o.exclude.is_empty() && !o.system.native.is_empty() && !o.system.bin.is_empty());
    let some = |f: fn(&DistOverride) -> bool| o.dists.values().any(f);
    assert!(some(|d| d.auth.is_some()));
    assert!(some(|d| !d.extra_depends.is_empty()));
    assert!(some(|d| !d.drop_depends.is_empty()));
    assert!(some(|d| d.skip_check));
    assert!(some(|d| d.hold.is_some()));
    assert!(some(|d| !d.provider_of.is_empty()));
    // Every key of the file's shape appears in the example, uncommented.
    for key in [
        "maintainer",
        "aur-user",
        "ssh-key",
        "known-hosts",
        "remote",
        "state-dir",
        "cache-dir",
        "indexes",
        "aur-metadata",
        "http-timeout",
        "[mirrors]",
        "[publish]",
        "only",
        "exclude",
        "max-new-per-run",
        "[system.native]",
        "[system.bin]",
        "auth",
        "extra-depends",
        "drop-depends",
        "skip-check",
        "hold",
        "provider-of",
        "[review]",
        "[trust]",
        "[legacy]",
        "[build]",
        "command",
        "repo-dir",
        "repo-name",
        "sign-key",
        "keep",
        "timeout",
        "retry-failed-after",
        "rebuild-on-rakudo-change",
        "rakudo-version-command",
        "adopt-orphans",
        "flag-out-of-date",
        "max-actions-per-run",
        "changes",
        "archive",
        "[site]",
        "dir",
        "repo-url",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(key)),
            "the example does not set {key}"
        );
    }
}

#[test]
fn the_vps_starting_config_parses_with_the_review_gate_on() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/config.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let c = parse(&text, &path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        c.state_dir.as_deref(),
        Some(Path::new("/var/lib/raku-aur/state"))
    );
    assert!(c.aur_user.is_some() && c.ssh_key.is_some() && c.maintainer.is_some());
    let review = c.review.expect("the [review] table is there");
    assert_eq!(review.changes.len(), crate::review::ReviewKind::ALL.len());
}

#[test]
fn an_auth_pin_takes_any_auth_the_index_has() {
    // Old p6c auths are plain names, some with an email.
    for auth in [
        "zef:timo",
        "Fernando Correa de Oliveira",
        "Jonathan Worthington <jnthn@jnthn.net>",
    ] {
        let c = parsed(&format!("[dist.\"Foo\"]\nauth = {auth:?}\n"));
        assert_eq!(c.overrides.dists["Foo"].auth.as_deref(), Some(auth));
    }
}

#[test]
fn trusted_stand_ins_are_checked_names() {
    let c = parsed("[trust]\npackages = [\"perl6-fork\"]\nmaintainers = [\"friend\"]\n");
    assert!(c.stand_ins.trusts("perl6-fork", Some("anyone")));
    assert!(c.stand_ins.trusts("whatever", Some("friend")));
    assert!(
        c.shown
            .contains(&("trust.packages".to_string(), "[\"perl6-fork\"]".to_string()))
    );
    let (line, key, message) = invalid("[trust]\npackages = [\"Bad Name\"]\n");
    assert_eq!((line, key.as_str()), (2, "trust.packages"));
    assert!(message.contains("is not an Arch package name"), "{message}");
    let (_, key, _) = invalid("[trust]\nmaintainers = [\"a b\"]\n");
    assert_eq!(key, "trust.maintainers");
    let (_, key, message) = invalid("[trust]\npackage = []\n");
    assert_eq!(key, "trust.package");
    assert!(message.contains("unknown field"), "{message}");
}
