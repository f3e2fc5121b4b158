//! Settings of the gateway's background work: the sync schedule and the
//! transcript archive.

use std::fmt;
use std::time::Duration;

use super::{ConfigError, EnvVars};

/// Where finished turns are archived (`CHAT_GATEWAY_ARCHIVE_URL`), with the
/// S3 endpoint and credentials from the usual `AWS_*` variables.
#[derive(Clone, PartialEq, Eq)]
pub struct ArchiveSettings {
    /// The bucket.
    pub bucket: String,
    /// Key prefix inside the bucket, without slashes at either end (may be
    /// empty).
    pub prefix: String,
    /// An S3-compatible server's URL (MinIO, Ceph…); `None` for AWS.
    pub endpoint: Option<String>,
    /// The region (`us-east-1` when unset).
    pub region: String,
    /// Static credentials; without them the instance's credentials are used.
    pub access_key_id: Option<String>,
    /// Secret of `access_key_id`.
    pub secret_access_key: Option<String>,
    /// Session token of temporary credentials.
    pub session_token: Option<String>,
}

impl fmt::Debug for ArchiveSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the secret or the session token.
        f.debug_struct("ArchiveSettings")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl ArchiveSettings {
    /// `s3://bucket/prefix`, for messages.
    pub fn url(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

/// `CHAT_GATEWAY_SYNC_EVERY`: `None` (off) when unset, `off` or `0`.
pub(super) fn sync_every(vars: &EnvVars) -> Result<Option<Duration>, ConfigError> {
    let Some(raw) = vars.get_nonempty("CHAT_GATEWAY_SYNC_EVERY") else {
        return Ok(None);
    };
    let raw = raw.trim();
    if raw == "off" || raw == "0" {
        return Ok(None);
    }
    let every = humantime::parse_duration(raw).map_err(|e| {
        ConfigError(format!(
            "CHAT_GATEWAY_SYNC_EVERY={raw:?}: {e} (expected a duration such as 15m, 1h or 30s, or off)"
        ))
    })?;
    if every < Duration::from_secs(1) {
        return Err(ConfigError(format!(
            "CHAT_GATEWAY_SYNC_EVERY={raw:?}: at least 1s"
        )));
    }
    Ok(Some(every))
}

/// `CHAT_GATEWAY_ARCHIVE_URL` and the `AWS_*` variables; `None` when the
/// archive is off (no URL).
pub(super) fn archive(vars: &EnvVars) -> Result<Option<ArchiveSettings>, ConfigError> {
    let Some(raw) = vars.get_nonempty("CHAT_GATEWAY_ARCHIVE_URL") else {
        return Ok(None);
    };
    let rest = raw.trim().strip_prefix("s3://").ok_or_else(|| {
        ConfigError(format!(
            "CHAT_GATEWAY_ARCHIVE_URL={raw:?}: expected s3://bucket or s3://bucket/prefix"
        ))
    })?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    if !bucket_ok {
        return Err(ConfigError(format!(
            "CHAT_GATEWAY_ARCHIVE_URL={raw:?}: {bucket:?} is not a bucket name (3 to 63 lower-case letters, digits, - and .)"
        )));
    }
    let prefix = prefix.trim_matches('/');
    if prefix.contains(['?', '#', ' ']) || prefix.contains("//") {
        return Err(ConfigError(format!(
            "CHAT_GATEWAY_ARCHIVE_URL={raw:?}: the prefix must be a plain path"
        )));
    }
    let endpoint = match vars.get_nonempty("AWS_ENDPOINT_URL") {
        Some(url) => Some(super::parse_base_url("AWS_ENDPOINT_URL", &url)?),
        None => None,
    };
    let access_key_id = vars.get_nonempty("AWS_ACCESS_KEY_ID");
    let secret_access_key = vars.get_nonempty("AWS_SECRET_ACCESS_KEY");
    if access_key_id.is_some() != secret_access_key.is_some() {
        return Err(ConfigError(
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together: set both or neither".into(),
        ));
    }
    Ok(Some(ArchiveSettings {
        bucket: bucket.to_owned(),
        prefix: prefix.to_owned(),
        endpoint,
        region: vars
            .get_nonempty("AWS_REGION")
            .unwrap_or_else(|| "us-east-1".into()),
        access_key_id,
        secret_access_key,
        session_token: vars.get_nonempty("AWS_SESSION_TOKEN"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> EnvVars {
        EnvVars::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn sync_schedule_takes_human_durations_and_is_off_by_default() {
        assert_eq!(sync_every(&vars(&[])).unwrap(), None);
        assert_eq!(
            sync_every(&vars(&[("CHAT_GATEWAY_SYNC_EVERY", "15m")])).unwrap(),
            Some(Duration::from_secs(900))
        );
        assert_eq!(
            sync_every(&vars(&[("CHAT_GATEWAY_SYNC_EVERY", "1h 30m")])).unwrap(),
            Some(Duration::from_secs(5400))
        );
        assert_eq!(
            sync_every(&vars(&[("CHAT_GATEWAY_SYNC_EVERY", "off")])).unwrap(),
            None
        );
        let e = sync_every(&vars(&[("CHAT_GATEWAY_SYNC_EVERY", "often")])).unwrap_err();
        assert!(e.0.contains("CHAT_GATEWAY_SYNC_EVERY"), "{e}");
        assert!(sync_every(&vars(&[("CHAT_GATEWAY_SYNC_EVERY", "10ms")])).is_err());
    }

    #[test]
    fn archive_url_names_bucket_and_prefix() {
        assert_eq!(archive(&vars(&[])).unwrap(), None);
        let a = archive(&vars(&[
            ("CHAT_GATEWAY_ARCHIVE_URL", "s3://chat-logs/tz/quality/"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9000/"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "very-secret-value"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(a.bucket, "chat-logs");
        assert_eq!(a.prefix, "tz/quality");
        assert_eq!(a.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(a.region, "us-east-1");
        assert!(!format!("{a:?}").contains("very-secret-value"));

        let bare = archive(&vars(&[("CHAT_GATEWAY_ARCHIVE_URL", "s3://chat-logs")]))
            .unwrap()
            .unwrap();
        assert_eq!(
            (bare.bucket.as_str(), bare.prefix.as_str()),
            ("chat-logs", "")
        );

        for bad in ["https://chat-logs", "s3://", "s3://Chat_Logs/x"] {
            assert!(
                archive(&vars(&[("CHAT_GATEWAY_ARCHIVE_URL", bad)])).is_err(),
                "{bad}"
            );
        }
        let half = archive(&vars(&[
            ("CHAT_GATEWAY_ARCHIVE_URL", "s3://chat-logs"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ]));
        assert!(half.is_err());
    }
}
