//! Containers: `docker|podman [global flags] [container] run [flags] image`.

use super::*;

/// `docker run` options that take the next word as their value.
const DOCKER_VALUE_FLAGS: &[&str] = &[
    "-e",
    "--env",
    "--env-file",
    "-v",
    "--volume",
    "--name",
    "--network",
    "--net",
    "-p",
    "--publish",
    "--mount",
    "-w",
    "--workdir",
    "-u",
    "--user",
    "--entrypoint",
    "--platform",
    "-l",
    "--label",
    "--label-file",
    "--add-host",
    "--cpus",
    "-m",
    "--memory",
    "--pull",
    "--restart",
    "--runtime",
    "--device",
    "--cap-add",
    "--cap-drop",
    "--security-opt",
    "-h",
    "--hostname",
    "--ipc",
    "--pid",
    "--log-driver",
    "--log-opt",
    "--tmpfs",
    "--ulimit",
    "--dns",
    "--shm-size",
    "--gpus",
    "--expose",
    "--group-add",
    "--link",
    "--stop-signal",
    "--stop-timeout",
    "-a",
    "--attach",
    "--cidfile",
    "--cgroupns",
    "--health-cmd",
    "--userns",
    "--uts",
    "--volumes-from",
    "--mac-address",
    "--ip",
    "--ip6",
    "--network-alias",
    "--cpu-shares",
    "-c",
];

/// docker/podman global options that take a value (`docker --context x run …`).
const DOCKER_GLOBAL_VALUE_FLAGS: &[&str] = &[
    "--context",
    "-c",
    "-H",
    "--host",
    "--config",
    "--log-level",
    "-l",
];

pub(super) fn docker(args: &[String]) -> Option<Launch> {
    let mut i = 0;
    while i < args.len() && args[i].starts_with('-') {
        let a = args[i].as_str();
        i += if !a.contains('=') && DOCKER_GLOBAL_VALUE_FLAGS.contains(&a) {
            2
        } else {
            1
        };
    }
    if args.get(i).map(String::as_str) == Some("container") {
        i += 1;
    }
    if args.get(i).map(String::as_str) != Some("run") {
        return None;
    }
    i += 1;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "--" {
            i += 1;
            break;
        }
        if !a.starts_with('-') || a == "-" {
            break;
        }
        if a.starts_with("--") {
            i += if !a.contains('=') && DOCKER_VALUE_FLAGS.contains(&a) {
                2
            } else {
                1
            };
            continue;
        }
        // A cluster of short flags: `-it`, `-e` (value next), `-eFOO=1` (value attached),
        // `-ite` (last one takes the next word).
        let letters: Vec<char> = a[1..].chars().collect();
        let mut skip_next = false;
        for (j, c) in letters.iter().enumerate() {
            if DOCKER_VALUE_FLAGS.contains(&format!("-{c}").as_str()) {
                skip_next = j == letters.len() - 1;
                break;
            }
        }
        i += if skip_next { 2 } else { 1 };
    }
    let image = args.get(i)?.clone();
    Some(Launch::Docker { image })
}
