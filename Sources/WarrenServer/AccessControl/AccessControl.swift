import AMQPWire
import NIOCore

/// The internal user database: who may log in, into which virtual hosts, and what they may
/// configure, write and read there (RabbitMQ's `rabbit_auth_backend_internal`).
///
/// Lives on the broker's loop with the rest of the broker. Connections do not consult it per
/// operation: at `connection.open` they take a ``ResourceAccess`` holding the user's compiled
/// patterns for their vhost.
final class AccessControl {
    private(set) var users: [String: User] = [:]
    /// Per vhost, per user.
    private(set) var permissions: [String: [String: Permissions]] = [:]
    /// Per vhost, per user, per exchange.
    private(set) var topicPermissions: [String: [String: [String: TopicPermission]]] = [:]
    /// Bumped on every change, so the definitions file knows to save.
    private(set) var version: UInt64 = 0

    func putUser(_ user: User) {
        users[user.name] = user
        version &+= 1
    }

    func setPermissions(_ granted: Permissions, user: String, vhost: String) {
        permissions[vhost, default: [:]][user] = granted
        version &+= 1
    }

    func setTopicPermission(_ permission: TopicPermission, user: String, vhost: String) {
        topicPermissions[vhost, default: [:]][user, default: [:]][permission.exchange] = permission
        version &+= 1
    }

    /// Deletes a user and everything granted to it.
    func deleteUser(_ name: String) {
        users[name] = nil
        for vhost in permissions.keys { permissions[vhost]?[name] = nil }
        for vhost in topicPermissions.keys { topicPermissions[vhost]?[name] = nil }
        version &+= 1
    }

    func clearPermissions(user: String, vhost: String) {
        permissions[vhost]?[user] = nil
        version &+= 1
    }

    /// Clears one exchange's topic permissions, or (exchange nil) all of the user's in the vhost.
    func clearTopicPermissions(user: String, vhost: String, exchange: String?) {
        if let exchange {
            topicPermissions[vhost]?[user]?[exchange] = nil
        } else {
            topicPermissions[vhost]?[user] = nil
        }
        version &+= 1
    }

    /// The outcome of a login attempt; `refused` carries the reason for the log (the client
    /// only ever hears RabbitMQ's generic refusal).
    enum Authentication {
        case accepted(User)
        case refused(String)
    }

    /// Checks a password login (PLAIN, AMQPLAIN), as RabbitMQ's internal backend does: a blank
    /// password is always refused, and a user without a password hash cannot log in this way.
    func authenticate(username: String, password: String) -> Authentication {
        guard !password.isEmpty else {
            return .refused("user '\(username)' attempted to log in with a blank password")
        }
        guard let user = users[username], let hash = user.passwordHash, hash.matches(password) else {
            return .refused("user '\(username)' - invalid credentials")
        }
        return .accepted(user)
    }

    /// A login vouched for by a verified client certificate (EXTERNAL): the user only has to exist.
    func authenticate(certificateUser username: String) -> Authentication {
        guard let user = users[username] else { return .refused("user '\(username)' - invalid credentials") }
        return .accepted(user)
    }

    /// What `user` may do in `vhost`; nil when the user has no permissions there (so may not
    /// even open a connection to it).
    func access(for user: User, in vhost: String) -> ResourceAccess? {
        guard let granted = permissions[vhost]?[user.name] else { return nil }
        var topics: [String: ResourceAccess.TopicPatterns] = [:]
        for (exchange, permission) in topicPermissions[vhost]?[user.name] ?? [:] {
            func expanded(_ pattern: String) -> String {
                pattern.replacing("{username}", with: user.name).replacing("{vhost}", with: vhost)
            }
            // Patterns were compiled once on import; expansion can only add literal text, and
            // a name that makes one invalid denies rather than fails the connection.
            topics[exchange] = ResourceAccess.TopicPatterns(
                write: (try? PermissionPattern(expanded(permission.write))) ?? PermissionPattern.nothing,
                read: (try? PermissionPattern(expanded(permission.read))) ?? PermissionPattern.nothing)
        }
        return ResourceAccess(user: user, vhost: vhost, permissions: granted, topics: topics)
    }

    /// Forgets everything granted in a deleted vhost.
    func removeVirtualHost(_ name: String) {
        permissions[name] = nil
        topicPermissions[name] = nil
        version &+= 1
    }
}
