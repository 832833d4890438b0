/// What one user may do in one virtual host (RabbitMQ's configure/write/read triple).
struct Permissions: Sendable {
    enum Kind: String, Sendable {
        case configure, write, read
    }

    var configure: PermissionPattern
    var write: PermissionPattern
    var read: PermissionPattern

    init(configure: String, write: String, read: String) throws {
        self.configure = try PermissionPattern(configure)
        self.write = try PermissionPattern(write)
        self.read = try PermissionPattern(read)
    }

    subscript(kind: Kind) -> PermissionPattern {
        switch kind {
        case .configure: configure
        case .write: write
        case .read: read
        }
    }

    private init(configure: PermissionPattern, write: PermissionPattern, read: PermissionPattern) {
        self.configure = configure
        self.write = write
        self.read = read
    }

    /// RabbitMQ's `default_permissions`: everything, for the default user on first start.
    static let everything = Permissions(configure: .everything, write: .everything, read: .everything)
}

/// Write/read patterns on the routing keys of one topic exchange, for one user in one vhost.
/// Kept as written (with `{username}` and `{vhost}`): they are expanded when a connection opens.
struct TopicPermission: Sendable {
    var exchange: String
    var write: String
    var read: String
}
