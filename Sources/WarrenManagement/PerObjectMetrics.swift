import WarrenServer

/// `/metrics/per-object`'s queue series (`rabbitmq_queue_*{vhost="...",queue="..."}`), written
/// straight into the text format.
///
/// Why not swift-prometheus here: its registry copies a metric family's map of label sets on
/// every insertion, so registering 50,000 queues' series takes minutes (quadratic). The
/// format is small: one `# TYPE` line per family, then `name{labels} value` lines, with `\`,
/// `"` and newlines escaped in label values.
enum PerObjectMetrics {
    static let families: [(name: String, type: String, value: @Sendable (QueueSnapshot) -> UInt64)] = [
        ("rabbitmq_queue_messages_ready", "gauge", { UInt64($0.messagesReady) }),
        ("rabbitmq_queue_messages_unacked", "gauge", { UInt64($0.messagesUnacknowledged) }),
        ("rabbitmq_queue_messages", "gauge", { UInt64($0.messagesReady + $0.messagesUnacknowledged) }),
        ("rabbitmq_queue_consumers", "gauge", { UInt64($0.consumers) }),
        ("rabbitmq_queue_messages_published_total", "counter", { $0.stats.publish }),
    ]

    static func write(_ queues: [QueueSnapshot], into text: inout [UInt8]) {
        text.reserveCapacity(text.count + queues.count * families.count * 80)
        let labels = queues.map { "{vhost=\"\(escaped($0.vhost))\",queue=\"\(escaped($0.name))\"} " }
        for family in families {
            text.append(contentsOf: "# TYPE \(family.name) \(family.type)\n".utf8)
            for (queue, label) in zip(queues, labels) {
                text.append(contentsOf: family.name.utf8)
                text.append(contentsOf: label.utf8)
                text.append(contentsOf: String(family.value(queue)).utf8)
                text.append(UInt8(ascii: "\n"))
            }
        }
    }

    /// A label value as the exposition format requires: backslash, quote and newline escaped.
    static func escaped(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == 10 })
        else { return value }
        return value.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n")
    }
}
