import Crypto
import Foundation
import NIOSSL
import Testing
import X509

@testable import WarrenServer

/// The user name EXTERNAL takes from a client certificate, per `ssl_cert_login_from`, in
/// RabbitMQ's renderings (the conformance tests check the same strings against RabbitMQ).
@Suite("Certificate login names")
struct CertificateLoginTests {
    /// A self-signed certificate whose subject needs RFC 4514 escaping, with DNS and email SANs.
    static func certificate() throws -> NIOSSLCertificate {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            CountryName("GB")
            OrganizationName("Warren, Inc.")
            OrganizationalUnitName(" padded ")
            CommonName("a+b")
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: Date(), notValidAfter: Date().addingTimeInterval(3600), issuer: subject, subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                SubjectAlternativeNames([
                    .dnsName("client.example.com"), .rfc822Name("first@example.com"),
                    .rfc822Name("second@example.com"),
                ])
            },
            issuerPrivateKey: .init(key))
        return try NIOSSLCertificate(bytes: Array(certificate.serializeAsPEM().pemString.utf8), format: .pem)
    }

    @Test("common name, distinguished name and subject alternative names")
    func names() throws {
        let certificate = try Self.certificate()
        #expect(TLSSettings.CertificateLogin.commonName.userName(of: certificate) == "a+b")
        #expect(
            TLSSettings.CertificateLogin.distinguishedName.userName(of: certificate)
                == #"CN=a\+b,OU=\ padded\ ,O=Warren\, Inc.,C=GB"#)
        #expect(
            TLSSettings.CertificateLogin.subjectAlternativeName(.dns, index: 0).userName(of: certificate)
                == "client.example.com")
        #expect(
            TLSSettings.CertificateLogin.subjectAlternativeName(.email, index: 1).userName(of: certificate)
                == "second@example.com")
        #expect(TLSSettings.CertificateLogin.subjectAlternativeName(.uri, index: 0).userName(of: certificate) == nil)
        #expect(TLSSettings.CertificateLogin.subjectAlternativeName(.email, index: 2).userName(of: certificate) == nil)
    }

    @Test("escaping: RFC 4514 specials, leading # or space, trailing space, bytes outside 32..<126 as hex")
    func escaping() {
        #expect(TLSSettings.CertificateLogin.escaped(#"a"b;c<d>e\f"#) == #"a\"b\;c\<d\>e\\f"#)
        #expect(TLSSettings.CertificateLogin.escaped("#x y ") == ##"\#x y\ "##)
        #expect(TLSSettings.CertificateLogin.escaped("é~") == #"\C3\A9\7E"#)
    }
}
