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
                    return Self.text(attribute.value)
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

    /// RabbitMQ's rendering of a subject: RFC 4514, most specific RDN first, `,` between RDNs
    /// and `+` inside one, its attribute names, and RFC 4514 escapes in values.
    static func distinguishedName(_ subject: DistinguishedName) -> String {
        subject.reversed().map { relativeName in
            relativeName.map { attribute in
                "\(attributeNames[attribute.type.description] ?? attribute.type.description)=\(escaped(text(attribute.value)))"
            }.joined(separator: "+")
        }.joined(separator: ",")
    }

    /// An attribute's text as written in the certificate (the library's description is
    /// already escaped; other string types than UTF-8 and printable fall back to it).
    static func text(_ value: RelativeDistinguishedName.Attribute.Value) -> String {
        String(value) ?? value.description
    }

    /// The attribute names RabbitMQ prints, by OID; others are printed as the dotted OID.
    private static let attributeNames = [
        "2.5.4.3": "CN", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.6": "C",
        "2.5.4.4": "SN", "2.5.4.42": "GIVENNAME", "2.5.4.43": "INITIALS", "2.5.4.44": "GENERATIONQUALIFIER",
        "2.5.4.12": "TITLE", "2.5.4.5": "SERIALNUMBER", "2.5.4.65": "PSEUDONYM", "2.5.4.9": "STREET",
        "0.9.2342.19200300.100.1.25": "DC", "1.2.840.113549.1.9.1": "EMAILADDRESS",
        "0.9.2342.19200300.100.1.1": "UID",
    ]

    private static let specialCharacters: Set<UInt8> = Set("\"+,;<>\\".utf8)

    /// RFC 4514 escaping as RabbitMQ does it: a backslash before `" + , ; < > \`, a leading
    /// space or `#` and a trailing space; other bytes outside 32..<126 as `\XX`.
    static func escaped(_ value: String) -> String {
        let bytes = Array(value.utf8)
        var result = ""
        for (index, byte) in bytes.enumerated() {
            if specialCharacters.contains(byte) || (index == 0 && (byte == 0x20 || byte == 0x23))
                || (index == bytes.count - 1 && byte == 0x20)
            {
                result += "\\" + String(UnicodeScalar(byte))
            } else if byte < 32 || byte >= 126 {
                result += "\\" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            } else {
                result.unicodeScalars.append(UnicodeScalar(byte))
            }
        }
        return result
    }
}

extension String {
    /// Zero-padded on the left to `width` characters (hex bytes in escapes).
    func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
