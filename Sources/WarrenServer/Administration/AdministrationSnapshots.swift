import WarrenCore

// Plain copies of broker state, taken on the broker's loop and read anywhere: the management
// API filters, sorts, pages and renders them off the loop, so a listing of 50,000 queues costs
// the message path only the copy.

public struct OverviewSnapshot: Sendable {
    public var connections = 0
    public var channels = 0
    public var consumers = 0
    public var queues = 0
    public var exchanges = 0
    public var virtualHosts = 0
    public var messagesReady = 0
    public var messagesUnacknowledged = 0
    /// Every channel's counts, those of closed channels included.
    public var stats = MessageStats()
    /// `memory`, `disk`.
    public var alarms: [String] = []
}

/// The node's resources as `/api/nodes` shows them (RabbitMQ's `mem_used`, `mem_limit`,
/// `disk_free`, `disk_free_limit`).
public struct NodeResourcesSnapshot: Sendable {
    public var memoryUsed: UInt64
    public var memoryLimit: UInt64
    public var diskFree: UInt64
    public var diskFreeLimit: UInt64
    public var alarms: [String]
}

public struct QueueSnapshot: Sendable {
    public var name: String
    public var vhost: String
    public var durable: Bool
    public var autoDelete: Bool
    public var exclusive: Bool
    /// The owning connection's name, for an exclusive queue.
    public var owner: String?
    public var arguments: JSONValue
    public var messagesReady: Int
    public var messagesUnacknowledged: Int
    /// The bodies of the ready messages, in bytes.
    public var messageBytesReady: Int
    public var consumers: Int
    public var policy: String?
    public var operatorPolicy: String?
    /// What the policy and operator policy together set (the lower value where both set a key).
    public var effectivePolicyDefinition: JSONValue
    public var stats: MessageStats
}

public struct ExchangeSnapshot: Sendable {
    public var name: String
    public var vhost: String
    public var type: String
    public var durable: Bool
    public var autoDelete: Bool
    public var isInternal: Bool
    public var arguments: JSONValue
    public var policy: String?
    public var stats: MessageStats
}

public struct BindingSnapshot: Sendable {
    public var vhost: String
    public var source: String
    public var destination: String
    /// `queue` or `exchange`.
    public var destinationType: String
    public var routingKey: String
    public var arguments: JSONValue
    /// The key that names this binding in URLs: its routing key, and a hash of its arguments.
    public var propertiesKey: String
}

public struct ConnectionSnapshot: Sendable {
    public var name: String
    public var user: String
    public var vhost: String
    public var peerHost: String
    public var peerPort: Int
    public var host: String
    public var port: Int
    public var isTLS: Bool
    public var channels: Int
    public var clientProperties: JSONValue
    public var connectedAt: UInt64
    public var frameMax: UInt32
    public var channelMax: UInt16
    public var heartbeat: UInt16
    /// `running`, or `blocked` while a resource alarm holds its publishes.
    public var state: String
    public var receivedBytes: UInt64
    public var sentBytes: UInt64
    public var authMechanism: String
}

public struct ChannelSnapshot: Sendable {
    public var connection: ConnectionSnapshot
    public var number: UInt16
    public var consumers: Int
    public var messagesUnacknowledged: Int
    public var messagesUnconfirmed: Int
    public var prefetchCount: UInt16
    public var globalPrefetchCount: UInt16
    public var confirm: Bool
    public var transactional: Bool
    public var stats: MessageStats

    /// RabbitMQ's channel name: the connection's, and the channel number in brackets.
    public var name: String { "\(connection.name) (\(number))" }
}

public struct ConsumerSnapshot: Sendable {
    public var tag: String
    public var queue: String
    public var vhost: String
    public var channelName: String
    public var channelNumber: UInt16
    public var connectionName: String
    public var peerHost: String
    public var peerPort: Int
    public var user: String
    public var ackRequired: Bool
    public var exclusive: Bool
    public var prefetchCount: UInt16
    public var arguments: JSONValue
}

public struct UserSnapshot: Sendable {
    public var name: String
    public var passwordHash: String
    public var hashingAlgorithm: String
    public var tags: [String]
}

public struct PermissionSnapshot: Sendable {
    public var user: String
    public var vhost: String
    public var configure: String
    public var write: String
    public var read: String
}

public struct TopicPermissionSnapshot: Sendable {
    public var user: String
    public var vhost: String
    public var exchange: String
    public var write: String
    public var read: String
}

public struct PolicySnapshot: Sendable {
    public var vhost: String
    public var name: String
    public var pattern: String
    public var appliesTo: String
    public var priority: Int
    public var definition: JSONValue
}

public struct VirtualHostSnapshot: Sendable {
    public var name: String
    public var description: String
    public var tags: [String]
    public var isTracing: Bool
    public var messagesReady: Int
    public var messagesUnacknowledged: Int
    public var stats: MessageStats
    public var maxConnections: Int?
    public var maxQueues: Int?
}

/// One message taken by `POST /api/queues/{vhost}/{name}/get`.
public struct FetchedMessage: Sendable {
    public var payload: [UInt8]
    public var redelivered: Bool
    public var exchange: String
    public var routingKey: String
    /// Messages left in the queue after this one was taken.
    public var messageCount: Int
    public var properties: JSONValue
}

/// A user who logged in to the management API.
public struct ManagementUser: Sendable {
    public var name: String
    public var tags: [String]
    /// The vhosts this user has permissions in.
    public var virtualHosts: Set<String>
    /// Every vhost at login, so that a missing one is 404 before any permission check, as in
    /// RabbitMQ.
    public var existingVirtualHosts: Set<String>

    public init(name: String, tags: [String], virtualHosts: Set<String>, existingVirtualHosts: Set<String> = []) {
        self.name = name
        self.tags = tags
        self.virtualHosts = virtualHosts
        self.existingVirtualHosts = existingVirtualHosts
    }

    public var isAdministrator: Bool { tags.contains("administrator") }
    /// May see every vhost's objects (administrator or monitoring).
    public var isMonitoring: Bool { isAdministrator || tags.contains("monitoring") }
    public var isPolicymaker: Bool { isAdministrator || tags.contains("policymaker") }
    /// May use the management API at all.
    public var isManagementUser: Bool { isMonitoring || isPolicymaker || tags.contains("management") }

    /// Whether this user may see `vhost` itself and its connections and channels: monitoring
    /// users see every vhost's.
    public func canSee(vhost: String) -> Bool { isMonitoring || virtualHosts.contains(vhost) }

    /// Whether this user may see the queues, exchanges, bindings, consumers and policies of
    /// `vhost`: as in RabbitMQ, only administrators see them without permissions there.
    public func canSeeObjects(in vhost: String) -> Bool { isAdministrator || virtualHosts.contains(vhost) }
}

/// Why a management request failed, mapped to an HTTP status by the API.
public enum AdministrationError: Error, Sendable, Equatable {
    /// 404: no such object.
    case notFound
    /// 404 that names what is missing, as RabbitMQ answers an operation on a missing object.
    case missing(String)
    /// 400, with RabbitMQ's reason text.
    case badRequest(String)
    /// 401: not permitted.
    case notAuthorised(String)
}
