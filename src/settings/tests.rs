//! Precedence: flags over the config file over the built-in defaults, and the problems
//! `sync` and `check-config` report.

use std::path::Path;

use clap::Parser;

use super::*;
use crate::cli::{Cli, Command};
use crate::config::Config;
use crate::config::tests::{FULL, PATH, parsed};
use crate::plan::Overrides;

/// Parses `args` as a `sync` command line and applies `config` to it.
fn sync_with(args: &[&str], config: Option<&Config>) -> (SyncDraft, Vec<Setting>, Vec<String>) {
    let cli = Cli::try_parse_from([&["raku-aur", "sync"], args].concat()).unwrap();
    let Command::Sync(sync) = cli.command else {
        panic!("not sync")
    };
    let resolved = super::sync(sync, config);
    (resolved.draft, resolved.listing, resolved.problems)
}

fn origin_of(settings: &[Setting], key: &str) -> Origin {
    settings
        .iter()
        .find(|s| s.key == key)
        .unwrap_or_else(|| panic!("no setting {key}"))
        .origin
}

#[test]
fn flags_win_over_the_config_which_wins_over_defaults() {
    let c = parsed(&FULL.replace("aur-metadata = \"aur.json\"\n", ""));
    let (args, settings, problems) = sync_with(
        &[
            "--aur-user",
            "flag-bot",
            "--index",
            "one.json",
            "--index",
            "two.json",
            "--maintainer",
            "Flag <flag@example.org>",
        ],
        Some(&c),
    );
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(args.aur_user.as_deref(), Some("flag-bot"));
    assert_eq!(origin_of(&settings, "aur-user"), Origin::Flag);
    // A list flag replaces the config's list.
    assert_eq!(args.options.source.indexes, ["one.json", "two.json"]);
    assert_eq!(args.options.source.maintainer, "Flag <flag@example.org>");
    assert_eq!(args.state.as_deref(), Some(Path::new("/var/lib/raku-aur")));
    assert_eq!(origin_of(&settings, "state-dir"), Origin::Config);
    assert_eq!(args.options.source.only, ["JSON::Fast"]);
    assert_eq!(args.options.source.mirrors.len(), 2);
    assert_eq!(
        args.options.ssh_key.as_deref(),
        Some(Path::new("/etc/raku-aur/keys/aur"))
    );
    assert_eq!(args.options.source.overrides, c.overrides);
    assert_eq!(args.options.review, c.review);
    // Not in the file: the built-in default.
    assert_eq!(
        args.options.aur_metadata,
        "https://aur.archlinux.org/packages-meta-ext-v1.json.gz"
    );
    assert_eq!(origin_of(&settings, "aur-metadata"), Origin::Default);
    assert_eq!(
        origin_of(&settings, "dist.\"Foo::Bar\".auth"),
        Origin::Config
    );

    // A flag given with the default's own value is still the flag.
    let (args, settings, _) = sync_with(&["--aur-metadata", &args.options.aur_metadata], Some(&c));
    assert_eq!(origin_of(&settings, "aur-metadata"), Origin::Flag);
    assert_eq!(args.state.as_deref(), Some(Path::new("/var/lib/raku-aur")));
}

#[test]
fn without_a_config_the_flags_and_defaults_apply_unchanged() {
    // A dry run may keep the placeholder maintainer; a real run may not.
    let (_, _, problems) = sync_with(&["--state", "s", "--aur-user", "bot"], None);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("is a placeholder"), "{problems:?}");
    let (args, settings, problems) =
        sync_with(&["--state", "s", "--aur-user", "bot", "--dry-run"], None);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(args.state.as_deref(), Some(Path::new("s")));
    assert_eq!(args.options.source.indexes, [DEFAULT_INDEX]);
    assert_eq!(args.options.source.maintainer, DEFAULT_MAINTAINER);
    assert_eq!(args.options.source.overrides, Overrides::default());
    assert_eq!(args.options.review, None);
    assert_eq!(origin_of(&settings, "indexes"), Origin::Default);
    assert_eq!(origin_of(&settings, "state-dir"), Origin::Flag);
    assert_eq!(origin_of(&settings, "review"), Origin::Default);
}

#[test]
fn sync_names_each_missing_or_invalid_setting() {
    let (_, _, problems) = sync_with(&["--maintainer", "M <m@example.org>"], None);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].starts_with("sync needs a state directory: pass --state DIR or set state-dir")
    );
    assert!(
        problems[1]
            .starts_with("sync needs the bot's AUR account: pass --aur-user NAME or set aur-user")
    );
    let c = parsed("state-dir = \"/s\"\nmaintainer = \"M <m@example.org>\"\n");
    let (_, _, problems) = sync_with(&[], Some(&c));
    assert_eq!(
        problems,
        [format!(
            "sync needs the bot's AUR account: pass --aur-user NAME or set aur-user in {PATH}"
        )]
    );
    let (_, _, problems) = sync_with(
        &["--aur-user", "a b", "--remote", "ssh://x/y.git"],
        Some(&c),
    );
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].starts_with("--aur-user: \"a b\" is not an AUR account name"));
    assert!(problems[1].starts_with("--remote: ssh://x/y.git has no {pkgbase}"));
}

#[test]
fn build_follows_the_build_table_and_takes_its_defaults_without_one() {
    // No table: sync does not build, and `build` builds with makechrootpkg into STATE/repo.
    let (draft, listing, _) = sync_with(&["--state", "/srv/state"], None);
    assert!(draft.options.build.is_none());
    assert_eq!(origin_of(&listing, "build"), Origin::Default);
    let cli = Cli::try_parse_from([
        "raku-aur",
        "build",
        "--state",
        "/srv/state",
        "--aur-user",
        "bot",
        "--maintainer",
        "Bot <bot@example.org>",
    ])
    .unwrap();
    let Command::Build(args) = cli.command else {
        panic!("not build")
    };
    let settings = super::build(args, None).unwrap();
    let build = settings.build;
    assert_eq!(build.repo_dir, Path::new("/srv/state/repo"));
    assert_eq!(
        build.command,
        [
            "makechrootpkg",
            "-c",
            "-u",
            "-r",
            "/var/lib/raku-aur/chroot",
            "-D",
            "/srv/state/repo"
        ]
    );
    assert_eq!((build.repo_name.as_str(), build.keep), ("raku-aur", 2));
    assert_eq!(build.timeout.as_secs(), 3600);
    assert!(build.sign_key.is_none() && build.rakudo_rebuild.is_none());

    // A table: sync builds, with the file's values.
    let c = parsed(&format!(
        "{FULL}\n[build]\ncommand = [\"my-builder\"]\nkeep = 3\nrebuild-on-rakudo-change = true\n"
    ));
    let (draft, listing, problems) = sync_with(&[], Some(&c));
    assert!(problems.is_empty(), "{problems:?}");
    let build = draft.options.build.expect("sync follows [build]");
    assert_eq!(
        (build.command, build.keep),
        (vec!["my-builder".to_string()], 3)
    );
    assert_eq!(origin_of(&listing, "build.keep"), Origin::Config);
    assert_eq!(origin_of(&listing, "build.repo-dir"), Origin::Default);
    assert_eq!(
        build.rakudo_rebuild.as_deref(),
        Some(&["pacman", "-Sddp", "--print-format", "%v", "rakudo"].map(str::to_string)[..])
    );
}

#[test]
fn the_site_shows_the_repository_where_site_repo_url_serves_it_with_builds_name_and_key() {
    let key = "0123456789ABCDEF0123456789ABCDEF01234567";
    // No repo-url: no repository on the site, whatever [build] says.
    let c = parsed(&format!("{FULL}\n[build]\nsign-key = {key:?}\n"));
    let (draft, _, _) = sync_with(&[], Some(&c));
    assert_eq!(draft.options.site_repo, None);
    // repo-url with [build]'s name and key.
    let c = parsed(&format!(
        "{FULL}\n[build]\nrepo-name = \"raku-bin\"\nsign-key = {key:?}\n\
         [site]\nrepo-url = \"https://example.org/raku/$arch\"\n"
    ));
    let (draft, _, _) = sync_with(&[], Some(&c));
    assert_eq!(
        draft.options.site_repo,
        Some(PublicRepo {
            name: "raku-bin".into(),
            url: "https://example.org/raku/$arch".into(),
            sign_key: Some(key.into()),
        })
    );
    // Without [build]: the default name, unsigned.
    let c = parsed(&format!(
        "{FULL}\n[site]\nrepo-url = \"https://example.org/raku/$arch\"\n"
    ));
    let cli = Cli::try_parse_from(["raku-aur", "site", "--out", "/srv/site"]).unwrap();
    let Command::Site(args) = cli.command else {
        panic!("not site")
    };
    let site = super::site(args, Some(&c)).unwrap();
    assert_eq!(
        site.repo,
        Some(PublicRepo {
            name: "raku-aur".into(),
            url: "https://example.org/raku/$arch".into(),
            sign_key: None,
        })
    );
}
