import Foundation
import WarrenCore
import WarrenServer

/// Broker snapshots as RabbitMQ 3.10's management API shows them: the same field names and
/// shapes, so rabbitmqadmin, dashboards and scripts read Warren's answers unchanged. Fields
/// that only make sense for Erlang processes (reductions, garbage collection) are left out.
struct Rendering: Sendable {
    /// This node's name, as RabbitMQ's `rabbit@host`.
    let node: String

    /// `"x"` and `"x_details": {"rate": r}` for each counter.
    static func withDetails(_ counters: [String: Int64], rates: [String: Double]) -> [String: JSONValue] {
        var members: [String: JSONValue] = [:]
        for (field, value) in counters {
            members[field] = .integer(value)
            members[field + "_details"] = ["rate": .number(rates[field] ?? 0)]
        }
        return members
    }

    func queue(_ queue: QueueSnapshot, rates: [String: Double]) -> JSONValue {
        var members: [String: JSONValue] = [
            "name": .string(queue.name), "vhost": .string(queue.vhost), "durable": .bool(queue.durable),
            "auto_delete": .bool(queue.autoDelete), "exclusive": .bool(queue.exclusive),
            "arguments": queue.arguments, "node": .string(node), "type": "classic", "state": "running",
            "consumers": .count(queue.consumers), "policy": .optional(queue.policy),
            "operator_policy": .optional(queue.operatorPolicy), "exclusive_consumer_tag": .null,
            "single_active_consumer_tag": .null, "effective_policy_definition": queue.effectivePolicyDefinition,
            "owner_pid_details": queue.owner.map { ["name": .string($0)] } ?? .null,
            "message_stats": .object(
                Self.withDetails(
                    queue.stats.counters.filter { Self.queueStatFields.contains($0.key) }, rates: rates)),
        ]
        let counts: [String: Int64] = [
            "messages": Int64(queue.messagesReady + queue.messagesUnacknowledged),
            "messages_ready": Int64(queue.messagesReady),
            "messages_unacknowledged": Int64(queue.messagesUnacknowledged),
        ]
        members.merge(Self.withDetails(counts, rates: rates)) { first, _ in first }
        members["message_bytes_ready"] = .count(queue.messageBytesReady)
        return .object(members)
    }

    static let queueStatFields: Set<String> = [
        "publish", "deliver", "deliver_no_ack", "get", "get_no_ack", "deliver_get", "ack", "redeliver",
    ]
    static let channelStatFields: Set<String> = queueStatFields.union([
        "confirm", "return_unroutable", "drop_unroutable",
    ])

    func exchange(_ exchange: ExchangeSnapshot, rates: [String: Double]) -> JSONValue {
        [
            "name": .string(exchange.name), "vhost": .string(exchange.vhost), "type": .string(exchange.type),
            "durable": .bool(exchange.durable), "auto_delete": .bool(exchange.autoDelete),
            "internal": .bool(exchange.isInternal), "arguments": exchange.arguments,
            "user_who_performed_action": exchange.name.isEmpty || exchange.name.hasPrefix("amq.") ? "rmq-internal" : "",
            "policy": .optional(exchange.policy),
            "message_stats": .object(Self.withDetails(exchange.stats.exchangeCounters, rates: rates)),
        ]
    }

    func binding(_ binding: BindingSnapshot) -> JSONValue {
        [
            "source": .string(binding.source), "vhost": .string(binding.vhost),
            "destination": .string(binding.destination), "destination_type": .string(binding.destinationType),
            "routing_key": .string(binding.routingKey), "arguments": binding.arguments,
            "properties_key": .string(binding.propertiesKey),
        ]
    }

    func connection(_ connection: ConnectionSnapshot, rates: [String: Double]) -> JSONValue {
        var userProvidedName: JSONValue = .null
        if case .string(let name)? = connection.clientProperties.objectValue?["connection_name"] {
            userProvidedName = .string(name)
        }
        let bytes = Self.withDetails(
            [
                "recv_oct": Int64(clamping: connection.receivedBytes),
                "send_oct": Int64(clamping: connection.sentBytes),
            ], rates: rates)
        return .object(
            bytes.merging([
                "name": .string(connection.name), "node": .string(node), "user": .string(connection.user),
                "vhost": .string(connection.vhost), "peer_host": .string(connection.peerHost),
                "peer_port": .count(connection.peerPort), "host": .string(connection.host),
                "port": .count(connection.port), "ssl": .bool(connection.isTLS), "protocol": "AMQP 0-9-1",
                "type": "network", "state": .string(connection.state), "channels": .count(connection.channels),
                "client_properties": connection.clientProperties, "connected_at": .count(connection.connectedAt),
                "frame_max": .count(connection.frameMax), "channel_max": .count(connection.channelMax),
                "timeout": .count(connection.heartbeat), "auth_mechanism": .string(connection.authMechanism),
                "user_provided_name": userProvidedName, "user_who_performed_action": .string(connection.user),
            ]) { first, _ in first })
    }

    func channel(_ channel: ChannelSnapshot, rates: [String: Double]) -> JSONValue {
        [
            "name": .string(channel.name), "node": .string(node), "number": .count(channel.number),
            "user": .string(channel.connection.user), "vhost": .string(channel.connection.vhost),
            "state": "running", "consumer_count": .count(channel.consumers),
            "messages_unacknowledged": .count(channel.messagesUnacknowledged),
            "messages_unconfirmed": .count(channel.messagesUnconfirmed), "messages_uncommitted": 0,
            "acks_uncommitted": 0, "prefetch_count": .count(channel.prefetchCount),
            "global_prefetch_count": .count(channel.globalPrefetchCount), "confirm": .bool(channel.confirm),
            "transactional": .bool(channel.transactional),
            "user_who_performed_action": .string(channel.connection.user),
            "connection_details": [
                "name": .string(channel.connection.name), "peer_host": .string(channel.connection.peerHost),
                "peer_port": .count(channel.connection.peerPort),
            ],
            "message_stats": .object(
                Self.withDetails(
                    channel.stats.counters.filter { Self.channelStatFields.contains($0.key) }, rates: rates)),
        ]
    }

    func consumer(_ consumer: ConsumerSnapshot) -> JSONValue {
        [
            "consumer_tag": .string(consumer.tag),
            "queue": ["name": .string(consumer.queue), "vhost": .string(consumer.vhost)],
            "ack_required": .bool(consumer.ackRequired), "exclusive": .bool(consumer.exclusive),
            "prefetch_count": .count(consumer.prefetchCount), "arguments": consumer.arguments, "active": true,
            "activity_status": "up",
            "channel_details": [
                "name": .string(consumer.channelName), "number": .count(consumer.channelNumber),
                "connection_name": .string(consumer.connectionName), "node": .string(node),
                "peer_host": .string(consumer.peerHost), "peer_port": .count(consumer.peerPort),
                "user": .string(consumer.user),
            ],
        ]
    }

    func vhost(_ vhost: VirtualHostSnapshot, rates: [String: Double]) -> JSONValue {
        var members: [String: JSONValue] = [
            "name": .string(vhost.name), "description": .string(vhost.description),
            "tags": .array(vhost.tags.map(JSONValue.string)),
            "metadata": ["description": .string(vhost.description), "tags": .array(vhost.tags.map(JSONValue.string))],
            "tracing": .bool(vhost.isTracing), "default_queue_type": "undefined",
            "cluster_state": .object([node: "running"]),
        ]
        let counts: [String: Int64] = [
            "messages": Int64(vhost.messagesReady + vhost.messagesUnacknowledged),
            "messages_ready": Int64(vhost.messagesReady),
            "messages_unacknowledged": Int64(vhost.messagesUnacknowledged),
        ]
        members.merge(Self.withDetails(counts, rates: rates)) { first, _ in first }
        return .object(members)
    }

    func user(_ user: UserSnapshot) -> JSONValue {
        [
            "name": .string(user.name), "password_hash": .string(user.passwordHash),
            "hashing_algorithm": .string(user.hashingAlgorithm), "tags": .array(user.tags.map(JSONValue.string)),
            "limits": .object([:]),
        ]
    }

    func permission(_ permission: PermissionSnapshot) -> JSONValue {
        [
            "user": .string(permission.user), "vhost": .string(permission.vhost),
            "configure": .string(permission.configure), "write": .string(permission.write),
            "read": .string(permission.read),
        ]
    }

    func topicPermission(_ permission: TopicPermissionSnapshot) -> JSONValue {
        [
            "user": .string(permission.user), "vhost": .string(permission.vhost),
            "exchange": .string(permission.exchange), "write": .string(permission.write),
            "read": .string(permission.read),
        ]
    }

    func policy(_ policy: PolicySnapshot) -> JSONValue {
        [
            "vhost": .string(policy.vhost), "name": .string(policy.name), "pattern": .string(policy.pattern),
            "apply-to": .string(policy.appliesTo), "priority": .count(policy.priority),
            "definition": policy.definition,
        ]
    }
}
