import CSASL
import Foundation
import NIOConcurrencyHelpers

/// Password checks through Cyrus SASL (`sasl_checkpass`), for sites that keep passwords in
/// saslauthd (PAM, LDAP, Kerberos...) or a sasldb rather than in the broker.
///
/// `sasl_checkpass` may block (saslauthd answers over a socket), so callers run it off the
/// broker's loop. Options that a `/etc/sasl2/warren.conf` would hold (`pwcheck_method`,
/// `sasldb_path`, `saslauthd_path`, ...) can be given here instead, from `auth_sasl.*` keys.
///
/// `@unchecked Sendable`: the callback table is written once in `init` and only read after.
public final class CyrusSASL: @unchecked Sendable {
    /// The options handed to the library through its getopt callback; C strings that live as
    /// long as the process, since the library may keep the pointers.
    private final class Options: @unchecked Sendable {
        let values: [String: UnsafeMutablePointer<CChar>]

        init(_ options: [String: String]) {
            values = options.mapValues { strdup($0) }
        }
    }

    private let options: Options
    private let callbacks: UnsafeMutablePointer<sasl_callback_t>
    private static let initialized = NIOLockedValueBox<Int32?>(nil)

    /// Initialises the library once per process with `options`; throws its error text.
    public init(options: [String: String]) throws {
        let options = Options(options)
        self.options = options
        let getopt:
            @convention(c) (
                UnsafeMutableRawPointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?,
                UnsafeMutablePointer<UnsafePointer<CChar>?>?, UnsafeMutablePointer<UInt32>?
            ) -> Int32 = { context, _, option, result, length in
                guard let context, let option, let result else { return SASL_FAIL }
                let options = Unmanaged<Options>.fromOpaque(context).takeUnretainedValue()
                guard let value = options.values[String(cString: option)] else { return SASL_FAIL }
                result.pointee = UnsafePointer(value)
                length?.pointee = UInt32(strlen(value))
                return SASL_OK
            }
        callbacks = .allocate(capacity: 2)
        callbacks[0] = sasl_callback_t(
            id: UInt(SASL_CB_GETOPT), proc: unsafeBitCast(getopt, to: (@convention(c) () -> Int32).self),
            context: Unmanaged.passRetained(options).toOpaque())
        callbacks[1] = sasl_callback_t(id: UInt(SASL_CB_LIST_END), proc: nil, context: nil)
        let callbacks = self.callbacks
        let status = Self.initialized.withLockedValue { status in
            if status == nil { status = sasl_server_init(callbacks, "warren") }
            return status ?? SASL_FAIL
        }
        guard status == SASL_OK else {
            throw CyrusSASLError("sasl_server_init failed: \(String(cString: sasl_errstring(status, nil, nil)))")
        }
    }

    /// Whether `password` is `username`'s, per the configured `pwcheck_method`. Blocks.
    public func checkPassword(username: String, password: String) -> Bool {
        var connection: OpaquePointer?
        guard sasl_server_new("amqp", nil, nil, nil, nil, callbacks, 0, &connection) == SASL_OK else {
            return false
        }
        defer { sasl_dispose(&connection) }
        let status = username.withCString { user in
            password.withCString { secret in
                sasl_checkpass(connection, user, UInt32(strlen(user)), secret, UInt32(strlen(secret)))
            }
        }
        return status == SASL_OK
    }
}

/// The SASL library could not be set up.
public struct CyrusSASLError: Error, CustomStringConvertible, Sendable {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}
