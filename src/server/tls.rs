//! Huddle's own HTTPS: rustls (no OpenSSL) with the certificate and key
//! read from PEM files, and read again when they change (a renewal by
//! certbot or acme.sh) or on SIGHUP. A reload only affects new handshakes:
//! connections already open, and the calls on them, carry on.

use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use anyhow::Context;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::server::config::TlsFiles;

/// The certificate in force, swapped whole when the files change.
#[derive(Debug)]
pub struct Certificates {
    files: TlsFiles,
    current: RwLock<Arc<CertifiedKey>>,
    /// The files' modification times and sizes when last loaded.
    loaded: Mutex<Option<Stamp>>,
}

type Stamp = [(SystemTime, u64); 2];

impl Certificates {
    /// Loads the files; an unreadable or wrong one is an error naming it.
    pub fn load(files: TlsFiles) -> anyhow::Result<Self> {
        let stamp = stamp(&files);
        let key = read(&files)?;
        Ok(Self { files, current: RwLock::new(Arc::new(key)), loaded: Mutex::new(stamp) })
    }

    /// Reads the files again if they changed since last loaded; `Ok(true)`
    /// when a new certificate is in force. A failed read keeps the old one
    /// (and is tried again next time: a renewal may be half written).
    pub fn reload_if_changed(&self) -> anyhow::Result<bool> {
        let stamp = stamp(&self.files);
        if stamp.is_some() && stamp == *self.lock_loaded() {
            return Ok(false);
        }
        self.reload().map(|()| true)
    }

    /// Reads the files again, whatever their times say.
    pub fn reload(&self) -> anyhow::Result<()> {
        let stamp = stamp(&self.files);
        let key = read(&self.files)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(key);
        *self.lock_loaded() = stamp;
        Ok(())
    }

    /// A TLS acceptor offering HTTP/2 and HTTP/1.1, always presenting the
    /// certificate in force at the time of each handshake.
    pub fn acceptor(self: &Arc<Self>) -> anyhow::Result<TlsAcceptor> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("setting up TLS")?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(self) as Arc<dyn ResolvesServerCert>);
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }

    /// Checks the files every `every` and reloads them when they changed,
    /// until `self` is the last reference left.
    pub async fn watch(self: Arc<Self>, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            if Arc::strong_count(&self) == 1 {
                return;
            }
            self.reload_logged(false);
        }
    }

    /// Reloads (only if changed, unless `always`), saying so in the log.
    pub fn reload_logged(&self, always: bool) {
        let result = if always { self.reload().map(|()| true) } else { self.reload_if_changed() };
        match result {
            Ok(true) => tracing::info!(cert = %self.files.cert.display(), "TLS certificate reloaded"),
            Ok(false) => {}
            Err(e) => tracing::error!("keeping the current TLS certificate: {e:#}"),
        }
    }

    fn lock_loaded(&self) -> std::sync::MutexGuard<'_, Option<Stamp>> {
        self.loaded.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.current.read().unwrap_or_else(|p| p.into_inner())))
    }
}

fn stamp(files: &TlsFiles) -> Option<Stamp> {
    let one = |path: &Path| std::fs::metadata(path).ok().and_then(|m| Some((m.modified().ok()?, m.len())));
    Some([one(&files.cert)?, one(&files.key)?])
}

/// Reads and checks the certificate chain and its key.
fn read(files: &TlsFiles) -> anyhow::Result<CertifiedKey> {
    let (cert_path, key_path) = (files.cert.display(), files.key.display());
    let pem = std::fs::read(&files.cert).with_context(|| format!("HUDDLE_TLS_CERT={cert_path}: cannot read the certificate"))?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("HUDDLE_TLS_CERT={cert_path}: not a PEM certificate file ({e})"))?;
    if chain.is_empty() {
        anyhow::bail!("HUDDLE_TLS_CERT={cert_path}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
    }
    let pem = std::fs::read(&files.key).with_context(|| format!("HUDDLE_TLS_KEY={key_path}: cannot read the private key"))?;
    let key = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| anyhow::anyhow!("HUDDLE_TLS_KEY={key_path}: holds no PEM private key ({e})"))?;
    let signer = rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|e| anyhow::anyhow!("HUDDLE_TLS_KEY={key_path}: a private key of a kind TLS cannot use ({e})"))?;
    let certified = CertifiedKey::new(chain, signer);
    certified
        .keys_match()
        .map_err(|e| anyhow::anyhow!("HUDDLE_TLS_KEY={key_path} does not belong to the certificate in HUDDLE_TLS_CERT={cert_path} ({e})"))?;
    Ok(certified)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_pair(dir: &Path, name: &str) -> TlsFiles {
        let made = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let files = TlsFiles { cert: dir.join(format!("{name}.crt")), key: dir.join(format!("{name}.key")) };
        std::fs::write(&files.cert, made.cert.pem()).unwrap();
        std::fs::write(&files.key, made.key_pair.serialize_pem()).unwrap();
        files
    }

    #[test]
    fn a_certificate_and_its_key_load() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Certificates::load(write_pair(dir.path(), "a")).is_ok());
    }

    #[test]
    fn wrong_files_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_pair(dir.path(), "a");
        let b = write_pair(dir.path(), "b");
        let missing = TlsFiles { cert: dir.path().join("nope.crt"), key: a.key.clone() };
        let err = format!("{:#}", Certificates::load(missing).unwrap_err());
        assert!(err.contains("HUDDLE_TLS_CERT") && err.contains("nope.crt"), "{err}");
        let swapped = TlsFiles { cert: a.key.clone(), key: a.cert.clone() };
        let err = format!("{:#}", Certificates::load(swapped).unwrap_err());
        assert!(err.contains("HUDDLE_TLS_CERT") && err.contains("a.key"), "{err}");
        let mismatched = TlsFiles { cert: a.cert.clone(), key: b.key.clone() };
        let err = format!("{:#}", Certificates::load(mismatched).unwrap_err());
        assert!(err.contains("does not belong"), "{err}");
        std::fs::write(&b.key, "not a key").unwrap();
        let err = format!("{:#}", Certificates::load(TlsFiles { cert: b.cert.clone(), key: b.key.clone() }).unwrap_err());
        assert!(err.contains("HUDDLE_TLS_KEY") && err.contains("b.key"), "{err}");
    }

    #[test]
    fn changed_files_are_reloaded_and_broken_ones_keep_the_old_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_pair(dir.path(), "live");
        let certs = Certificates::load(files.clone()).unwrap();
        let first = certs.current.read().unwrap().cert[0].clone();
        assert!(!certs.reload_if_changed().unwrap(), "nothing changed");
        // A renewal half written (new certificate, old key) is refused.
        let next = write_pair(dir.path(), "next");
        std::fs::copy(&next.cert, &files.cert).unwrap();
        assert!(certs.reload_if_changed().is_err());
        assert_eq!(certs.current.read().unwrap().cert[0], first);
        // Finished: the new one is in force.
        std::fs::copy(&next.key, &files.key).unwrap();
        assert!(certs.reload_if_changed().unwrap());
        assert_ne!(certs.current.read().unwrap().cert[0], first);
    }
}
