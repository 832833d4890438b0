import NIOSSL
import X509

extension TLSSettings.CertificateLogin {
    /// The user name a verified client certificate stands for, as RabbitMQ's
    /// `rabbit_ssl:peer_cert_auth_name` derives it; nil when the certificate has no such field.
    func userName(of certificate: NIOSSLCertificate) -> String? {
        guard let der = try? certificate.toDERBytes(), let parsed = try? Certificate(derEncoded: der) else {
            return nil
        }
        switch self {
        case .commonName:
            for relativeName in parsed.subject {
                for attribute in relativeName where attribute.type == .RDNAttributeType.commonName {
                    return attribute.value.description
                }
            }
            return nil
        case .distinguishedName:
            return Self.distinguishedName(parsed.subject)
        case .subjectAlternativeName(let type, let index):
            guard let names = try? parsed.extensions.subjectAlternativeNames else { return nil }
            let matching: [String] = names.compactMap { name in
                switch (type, name) {
                case (.dns, .dnsName(let value)), (.email, .rfc822Name(let value)),
                    (.uri, .uniformResourceIdentifier(let value)):
                    value
                default: nil
                }
            }
            return index < matching.count ? matching[index] : nil
        }
    }

    /// RabbitMQ's rendering of a subject: RFC 4514 order (most specific first), `,` between
    /// attributes, short type names.
    static func distinguishedName(_ subject: DistinguishedName) -> String {
        subject.reversed().map { relativeName in
            relativeName.map { attribute in "\(shortName(attribute))=\(attribute.value.description)" }
                .joined(separator: "+")
        }.joined(separator: ",")
    }

    private static func shortName(_ attribute: RelativeDistinguishedName.Attribute) -> String {
        switch attribute.type {
        case .RDNAttributeType.commonName: "CN"
        case .RDNAttributeType.organizationName: "O"
        case .RDNAttributeType.organizationalUnitName: "OU"
        case .RDNAttributeType.countryName: "C"
        case .RDNAttributeType.stateOrProvinceName: "ST"
        case .RDNAttributeType.localityName: "L"
        case .RDNAttributeType.streetAddress: "STREET"
        case .RDNAttributeType.domainComponent: "DC"
        default: attribute.type.description
        }
    }
}
