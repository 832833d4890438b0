import AMQPWire
import Foundation
import NIOCore
import WarrenCore

/// Copies of broker objects for ``BrokerAdministration``, taken on the broker's loop.
extension Broker {
    /// One vhost (nil: all of them); throws `notFound` for a vhost that does not exist.
    func selectedVirtualHosts(_ name: String?) throws -> [VirtualHost] {
        guard let name else { return Array(vhosts.values) }
        guard let vhost = vhosts[name] else { throw AdministrationError.notFound }
        return [vhost]
    }

    func snapshot(_ queue: Queue) -> QueueSnapshot {
        QueueSnapshot(
            name: queue.name, vhost: queue.vhost, durable: queue.durable, autoDelete: queue.autoDelete,
            exclusive: queue.exclusiveOwner != nil, owner: queue.exclusiveOwner.flatMap { connections[$0]?.name },
            arguments: JSONValue(queue.arguments), messagesReady: queue.messageCount,
            messagesUnacknowledged: queue.unackedCount, messageBytesReady: queue.ready.bytes,
            consumers: queue.consumerCount, policy: queue.policy?.name,
            operatorPolicy: queue.operatorPolicy?.name,
            effectivePolicyDefinition: Self.effectiveDefinition(queue.policy, queue.operatorPolicy), stats: queue.stats)
    }

    /// The policy's definition with the operator policy's caps on top: where both set a
    /// numeric key the lower value applies, as in RabbitMQ.
    static func effectiveDefinition(_ policy: Policy?, _ operatorPolicy: Policy?) -> JSONValue {
        var members = JSONValue(policy?.definition ?? [:]).objectValue ?? [:]
        for (key, cap) in JSONValue(operatorPolicy?.definition ?? [:]).objectValue ?? [:] {
            if let current = members[key]?.integerValue, let limit = cap.integerValue {
                members[key] = .integer(min(current, limit))
            } else {
                members[key] = cap
            }
        }
        return .object(members)
    }

    static func snapshot(_ exchange: Exchange) -> ExchangeSnapshot {
        ExchangeSnapshot(
            name: exchange.name, vhost: exchange.vhost, type: exchange.typeName, durable: exchange.durable,
            autoDelete: exchange.autoDelete, isInternal: exchange.isInternal, arguments: JSONValue(exchange.arguments),
            policy: exchange.policy?.name, stats: exchange.stats)
    }

    static func bindings(_ vhost: VirtualHost) -> [BindingSnapshot] {
        var result: [BindingSnapshot] = vhost.queues.keys.map { name in
            BindingSnapshot(
                vhost: vhost.name, source: "", destination: name, destinationType: "queue", routingKey: name,
                arguments: .object([:]), propertiesKey: BindingPropertiesKey.make(routingKey: name, arguments: [:]))
        }
        for exchange in vhost.exchanges.values where !exchange.isDefault {
            for binding in exchange.bindings {
                let destination: (name: String, type: String) =
                    switch binding.destination {
                    case .queue(let queue): (queue.name, "queue")
                    case .exchange(let target): (target.name, "exchange")
                    }
                result.append(
                    BindingSnapshot(
                        vhost: vhost.name, source: exchange.name, destination: destination.name,
                        destinationType: destination.type, routingKey: binding.routingKey,
                        arguments: JSONValue(binding.arguments),
                        propertiesKey: BindingPropertiesKey.make(
                            routingKey: binding.routingKey, arguments: binding.arguments)))
            }
        }
        return result
    }

    static func snapshot(_ connection: AMQPConnection) -> ConnectionSnapshot {
        let tuning = connection.handshake.tuning
        return ConnectionSnapshot(
            name: connection.name, user: connection.user, vhost: connection.openedVirtualHost?.name ?? "",
            peerHost: connection.endpoints.peerHost, peerPort: connection.endpoints.peerPort,
            host: connection.endpoints.host, port: connection.endpoints.port, isTLS: connection.isTLS,
            channels: connection.channels.count, clientProperties: JSONValue(connection.handshake.clientProperties),
            connectedAt: connection.connectedAt, frameMax: tuning.frameMax, channelMax: tuning.channelMax,
            heartbeat: tuning.heartbeat, state: connection.isBlocked ? "blocked" : "running",
            receivedBytes: connection.receivedBytes, sentBytes: connection.sentBytes,
            authMechanism: connection.handshake.mechanism)
    }

    static func snapshot(_ channel: AMQPChannel, connection: ConnectionSnapshot) -> ChannelSnapshot {
        ChannelSnapshot(
            connection: connection, number: channel.number, consumers: channel.consumers.count,
            messagesUnacknowledged: channel.unacked.count,
            messagesUnconfirmed: Int(channel.publishSequence - channel.ackedUpTo),
            prefetchCount: channel.consumerPrefetch, globalPrefetchCount: channel.channelPrefetch,
            confirm: channel.mode == .confirm, transactional: channel.mode == .transactional, stats: channel.stats)
    }

    static func snapshot(_ user: User) -> UserSnapshot {
        UserSnapshot(
            name: user.name, passwordHash: user.passwordHash?.base64 ?? "",
            hashingAlgorithm: (user.passwordHash?.algorithm ?? .sha256).rawValue, tags: user.tags)
    }

    static func snapshot(_ policy: Policy) -> PolicySnapshot {
        PolicySnapshot(
            vhost: policy.vhost, name: policy.name, pattern: policy.pattern, appliesTo: policy.appliesTo.rawValue,
            priority: policy.priority, definition: JSONValue(policy.definition))
    }
}

/// The `properties_key` that names a binding in management URLs, as RabbitMQ forms it: the
/// routing key (`~` when empty) and, for a binding with arguments, `~` and a hash of them.
public enum BindingPropertiesKey {
    public static func make(routingKey: String, arguments: FieldTable) -> String {
        if arguments.isEmpty { return routingKey.isEmpty ? "~" : quote(routingKey) }
        return quote(routingKey) + "~" + quote(hash(arguments))
    }

    /// Percent-encodes all but unreserved characters, as RabbitMQ's `quote_plus` (space
    /// becomes `+`) with `~` escaped too, so `~` only ever separates the parts.
    public static func quote(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "):
                result += "+"
            default:
                result += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return result
    }

    /// FNV-1a over the encoded table, base64url: stable across restarts and processes.
    private static func hash(_ arguments: FieldTable) -> String {
        var buffer = ByteBuffer()
        _ = try? buffer.writeFieldTable(arguments)
        var hash: UInt32 = 2_166_136_261
        for byte in buffer.readableBytesView {
            hash = (hash ^ UInt32(byte)) &* 16_777_619
        }
        // base64url without padding (RFC 4648 §5), as RabbitMQ's `base64url`.
        return withUnsafeBytes(of: hash.bigEndian) { Data($0) }.base64EncodedString()
            .replacing("+", with: "-").replacing("/", with: "_").replacing("=", with: "")
    }
}
