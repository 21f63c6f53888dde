import NIOSSL

/// A ``PostgresURL``'s TLS, made once: the configuration a `PostgresClient` takes and the context a
/// `PostgresConnection` takes, with the root certificates read from their file.
final class TLSSettings: Sendable {
    let configuration: TLSConfiguration
    let context: NIOSSLContext

    /// Builds the configuration for `mode` (not ``PostgresURL/TLSMode/disable``).
    ///
    /// - Throws: ``PostgresKeyStoreError/invalidURL(_:)`` for a root certificate file that cannot be
    ///   read as PEM certificates, naming the file.
    init(mode: PostgresURL.TLSMode, rootCertificatePath: String?) throws(PostgresKeyStoreError) {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch mode {
        case .disable:
            configuration.certificateVerification = .none
        case .require where rootCertificatePath == nil:
            configuration.certificateVerification = .none
        case .require, .verifyCA:
            // libpq: with a root certificate file, require checks the chain as verify-ca does.
            configuration.certificateVerification = .noHostnameVerification
        case .verifyFull:
            configuration.certificateVerification = .fullVerification
        }
        if let rootCertificatePath {
            let certificates: [NIOSSLCertificate]
            do {
                certificates = try NIOSSLCertificate.fromPEMFile(rootCertificatePath)
            } catch {
                throw .invalidURL("sslrootcert: \(rootCertificatePath) cannot be read as PEM certificates (\(error))")
            }
            guard !certificates.isEmpty else {
                throw .invalidURL("sslrootcert: \(rootCertificatePath) holds no certificate")
            }
            configuration.trustRoots = .certificates(certificates)
        }
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw .invalidURL("TLS: the configuration cannot be used (\(error))")
        }
        self.configuration = configuration
    }
}
