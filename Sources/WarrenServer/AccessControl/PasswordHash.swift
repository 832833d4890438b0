import Crypto
import Foundation

/// A stored password in RabbitMQ's format: a 4-byte random salt followed by
/// hash(salt + password), base64-encoded in definitions files. Keeping the format lets users
/// exported from RabbitMQ log in to Warren unchanged, and the other way round.
struct PasswordHash: Equatable, Sendable {
    /// RabbitMQ's hashing modules, by the names definitions files carry.
    enum Algorithm: String, Sendable {
        case sha256 = "rabbit_password_hashing_sha256"
        case sha512 = "rabbit_password_hashing_sha512"
        case md5 = "rabbit_password_hashing_md5"

        func digest(_ bytes: [UInt8]) -> [UInt8] {
            switch self {
            case .sha256: Array(SHA256.hash(data: bytes))
            case .sha512: Array(SHA512.hash(data: bytes))
            case .md5: Array(Insecure.MD5.hash(data: bytes))
            }
        }
    }

    let salt: [UInt8]
    let digest: [UInt8]
    let algorithm: Algorithm

    /// A new hash of `password` with a random salt.
    init(password: String, algorithm: Algorithm = .sha256) {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<4).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        self.init(salt: salt, password: password, algorithm: algorithm)
    }

    init(salt: [UInt8], password: String, algorithm: Algorithm) {
        self.salt = salt
        self.algorithm = algorithm
        self.digest = algorithm.digest(salt + Array(password.utf8))
    }

    /// Parses a definitions file's `password_hash`; nil for an empty one (a user without a
    /// password, who can only log in with EXTERNAL) or one too short to hold a salt.
    init?(base64: String, algorithm: Algorithm) {
        guard let bytes = Data(base64Encoded: base64), bytes.count > 4 else { return nil }
        self.salt = Array(bytes.prefix(4))
        self.digest = Array(bytes.dropFirst(4))
        self.algorithm = algorithm
    }

    var base64: String { Data(salt + digest).base64EncodedString() }

    /// Compares in time independent of where the digests differ.
    func matches(_ password: String) -> Bool {
        let candidate = algorithm.digest(salt + Array(password.utf8))
        guard candidate.count == digest.count else { return false }
        return zip(candidate, digest).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
