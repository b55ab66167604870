//! What librdkafka build is inside: lets users and tests check that Kerberos,
//! TLS and the codecs really are compiled in.
use rdkafka::config::ClientConfig;

/// librdkafka's version string, e.g. "2.12.1".
pub fn librdkafka_version() -> String {
    rdkafka::util::get_rdkafka_version().1
}

/// librdkafka's `builtin.features`, e.g. `["gzip", "ssl", "sasl_gssapi", ...]`.
pub fn builtin_features() -> Vec<String> {
    ClientConfig::new()
        .create_native_config()
        .and_then(|c| c.get("builtin.features"))
        .map(|s| s.split(',').map(str::to_string).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn kerberos_and_tls_are_built_in() {
        let f = super::builtin_features();
        for want in [
            "sasl_gssapi",
            "ssl",
            "sasl_scram",
            "sasl_oauthbearer",
            "zstd",
            "lz4",
            "snappy",
            "gzip",
        ] {
            assert!(f.iter().any(|x| x == want), "missing {want} in {f:?}");
        }
        assert!(super::librdkafka_version().starts_with('2'));
    }
}
