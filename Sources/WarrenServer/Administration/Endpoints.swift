import Foundation
import NIOCore

/// The two ends of a client's socket, as the management API lists them (`peer_host`,
/// `peer_port`, `host`, `port`) and names the connection from them.
public struct Endpoints: Sendable {
    /// Whether an address of ours is a loopback one: RabbitMQ's `loopback_users` test looks at
    /// our end of the socket, so a client reaching us on a loopback address is local.
    public static func isLoopback(_ address: SocketAddress?) -> Bool {
        guard let ip = address?.ipAddress else { return false }
        return ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
    }

    var peerHost = "unknown"
    var peerPort = 0
    var host = "unknown"
    var port = 0

    init() {}

    /// RabbitMQ's connection name: `127.0.0.1:52345 -> 127.0.0.1:5672`.
    var connectionName: String { "\(peerHost):\(peerPort) -> \(host):\(port)" }

    init(peer: SocketAddress?, local: SocketAddress?) {
        peerHost = peer?.ipAddress ?? "unknown"
        peerPort = peer?.port ?? 0
        host = local?.ipAddress ?? "unknown"
        port = local?.port ?? 0
    }
}

/// Wall-clock time for the timestamps the management API shows (`connected_at`, `idle_since`).
enum WallClock {
    static func milliseconds() -> UInt64 {
        UInt64(max(0, Date().timeIntervalSince1970 * 1000))
    }
}
