//! `dfswitchd` refuses bad configs with one clear line and a non-zero exit,
//! before it touches DPDK (so nothing can leak), and `--check` explains a
//! good one.
#![allow(clippy::unwrap_used)] // test code

use std::process::Command;

fn run(toml: &str, extra: &[&str]) -> (i32, String, String) {
    let dir = std::env::temp_dir().join(format!("dfsw-cfg-{}-{}", std::process::id(), toml.len()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("c.toml");
    std::fs::write(&path, toml).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dfswitchd"))
        .arg("--config")
        .arg(&path)
        .args(extra)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_configs_get_one_line_and_exit_2() {
    for (toml, want) in [
        (
            "[[port]]\nname = \"a\"\ndevice = \"net_foo0\"\n",
            "device: unknown driver `net_foo` in `net_foo0`",
        ),
        (
            "[datapath]\nworkers = [64]\n",
            "[datapath] workers: core 64 does not exist",
        ),
        ("[datapath]\nworkerz = [1]\n", "unknown field `workerz`"),
        ("[store]\nurl = \"mysql://x\"\n", "is not a store URL"),
    ] {
        let (code, out, err) = run(toml, &[]);
        assert_eq!(code, 2, "{toml}: {err}");
        assert!(out.is_empty());
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(
            err.starts_with("dfswitchd: error: ") && err.contains(want),
            "{err}"
        );
    }
    let (code, _, err) = run("[datapath]\nworkers = [0]\n", &["--config-does-not-exist"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn check_prints_the_plan() {
    let (code, out, err) = run(
        "[chassis]\nid = \"h1\"\n[datapath]\nworkers = [0]\n[[port]]\nname = \"vm1\"\ndevice = \"null\"\niface_id = \"p1\"\n",
        &["--check"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("chassis: h1"), "{out}");
    assert!(out.contains("port 0 `vm1`: null (carries p1)"), "{out}");
    assert!(out.contains("vertex l2 (type l2)"), "{out}");
    assert!(out.ends_with("config ok\n"), "{out}");
}
