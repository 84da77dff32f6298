//! Container logs where the runtimes keep them: the container's name from
//! the path (and, for Docker, from the `config.v2.json` beside the log).
//!
//! | runtime | log | name |
//! | --- | --- | --- |
//! | Docker, `json-file` driver | `/var/lib/docker/containers/ID/ID-json.log` (rotated `ID-json.log.1`, `.2.gz`) | `"Name":"/shop-nginx-1"` of `ID/config.v2.json`, else the first 12 digits of `ID` |
//! | kubelet (containerd, CRI-O) | `/var/log/pods/NAMESPACE_POD_UID/CONTAINER/0.log` (rotated `0.log.20231106-210949`, `.gz`) | `NAMESPACE/POD/CONTAINER` |
//!
//! Names come from paths and the runtime's own files only: the log's
//! content decides its format, as for every input.

use std::path::{Path, PathBuf};

/// The name of the container whose log is at `path`, when the path is one
/// of the runtimes' (see the module docs).
pub fn name_from_path(path: &Path) -> Option<String> {
    docker_name(path).or_else(|| pod_name(path))
}

/// `ID/ID-json.log[.N][.gz]`: the name in `ID/config.v2.json`, else the
/// short ID.
fn docker_name(path: &Path) -> Option<String> {
    let id = docker_name_of(path)?;
    let named = std::fs::read(path.parent()?.join("config.v2.json"))
        .ok()
        .and_then(|b| config_name(&b));
    Some(named.unwrap_or_else(|| id[..12].to_string()))
}

/// The container ID of a `ID/ID-json.log[.N][.gz]` path.
fn docker_name_of(path: &Path) -> Option<&str> {
    let file = path.file_name()?.to_str()?;
    let id = path.parent()?.file_name()?.to_str()?;
    let rest = file.strip_prefix(id)?.strip_prefix("-json.log")?;
    if !(rest.is_empty() || rest.starts_with('.')) || id.len() < 12 {
        return None;
    }
    id.bytes().all(|b| b.is_ascii_hexdigit()).then_some(id)
}

/// The container's name in a `config.v2.json`: its top-level `Name`
/// without the leading `/`.
fn config_name(config: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(config).ok()?;
    let name = v.get("Name")?.as_str()?;
    let name = name.strip_prefix('/').unwrap_or(name);
    (!name.is_empty()).then(|| name.to_string())
}

/// Whether `dir` (holding `entries`) is a Docker container's directory:
/// a 64-hex-digit ID with its `ID-json.log`.
pub fn is_docker_dir(dir: &Path, entries: &[PathBuf]) -> bool {
    let Some(id) = dir.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    id.len() == 64
        && id.bytes().all(|b| b.is_ascii_hexdigit())
        && entries.iter().any(|p| docker_name_of(p).is_some())
}

/// The files Docker keeps in a container's directory that are no logs
/// (`config.v2.json`, `hostconfig.json`, `hostname`, `hosts`,
/// `resolv.conf`, `resolv.conf.hash`) and its `checkpoints` and `mounts`
/// directories.
pub fn is_docker_own_file(p: &Path) -> bool {
    matches!(
        p.file_name().and_then(|n| n.to_str()),
        Some(
            "config.v2.json"
                | "hostconfig.json"
                | "hostname"
                | "hosts"
                | "resolv.conf"
                | "resolv.conf.hash"
                | "checkpoints"
                | "mounts"
        )
    )
}

/// `NAMESPACE_POD_UID/CONTAINER/N.log[...]`: `NAMESPACE/POD/CONTAINER`
/// (namespaces and pod names hold no `_`).
fn pod_name(path: &Path) -> Option<String> {
    let file = path.file_name()?.to_str()?;
    let (n, rest) = file.split_once(".log")?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !(rest.is_empty() || rest.starts_with('.')) {
        return None;
    }
    let container_dir = path.parent()?;
    let container = container_dir.file_name()?.to_str()?;
    let pod_dir = container_dir.parent()?.file_name()?.to_str()?;
    let mut parts = pod_dir.splitn(3, '_');
    let (ns, pod, uid) = (parts.next()?, parts.next()?, parts.next()?);
    if ns.is_empty() || pod.is_empty() || uid.len() < 8 {
        return None;
    }
    Some(format!("{ns}/{pod}/{container}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_pod_logs() {
        let p = Path::new(
            "/var/log/pods/shop_wordpress-7d9c5b6f4-x2x9k_0f6c3a1e-5b2d-4c1e-9a7b-2d3e4f5a6b7c/nginx/0.log",
        );
        assert_eq!(
            pod_name(p).as_deref(),
            Some("shop/wordpress-7d9c5b6f4-x2x9k/nginx")
        );
        let rotated = p.with_file_name("0.log.20231106-210949.gz");
        assert_eq!(
            pod_name(&rotated).as_deref(),
            Some("shop/wordpress-7d9c5b6f4-x2x9k/nginx")
        );
        assert_eq!(pod_name(Path::new("/var/log/nginx/access.log")), None);
        assert_eq!(pod_name(Path::new("/srv/logs/nginx/0.log")), None);
    }

    #[test]
    fn names_in_docker_config() {
        assert_eq!(
            config_name(br#"{"ID":"abc","Name":"/shop-nginx-1","State":{}}"#).as_deref(),
            Some("shop-nginx-1")
        );
        assert_eq!(config_name(br#"{"Name":""}"#), None);
        assert_eq!(config_name(b"not json"), None);
    }
}
