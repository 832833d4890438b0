/// The AMQPS listener's TLS set-up, from RabbitMQ's `ssl_options.*` and `ssl_cert_login_*` keys.
public struct TLSSettings: Sendable, Equatable {
    /// RabbitMQ's `ssl_options.versions`: Warren speaks TLS 1.2 and 1.3 only.
    public enum ProtocolVersion: String, Sendable, Comparable {
        case tls12 = "tlsv1.2"
        case tls13 = "tlsv1.3"

        public static func < (lhs: Self, rhs: Self) -> Bool { lhs == .tls12 && rhs == .tls13 }
    }

    /// Where the EXTERNAL mechanism takes the user name from (`ssl_cert_login_from`).
    public enum CertificateLogin: Sendable, Equatable {
        case commonName
        case distinguishedName
        /// The `index`-th subject alternative name of `type` (`ssl_cert_login_san_type`, `_index`).
        case subjectAlternativeName(SubjectAlternativeNameType, index: Int)
    }

    public enum SubjectAlternativeNameType: String, Sendable, Equatable {
        case dns, email, uri
    }

    public var certificateFile: String
    public var keyFile: String
    /// The CAs client certificates are verified against (`ssl_options.cacertfile`).
    public var caCertificateFile: String?
    /// `verify_peer`: ask for a client certificate and verify one that is presented.
    public var verifyPeer = false
    /// With `verifyPeer`, refuse clients that present no certificate.
    public var failIfNoPeerCertificate = false
    public var versions: Set<ProtocolVersion> = [.tls12, .tls13]
    /// RabbitMQ's default is the distinguished name.
    public var certificateLogin = CertificateLogin.distinguishedName

    public init(certificateFile: String, keyFile: String) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }
}
