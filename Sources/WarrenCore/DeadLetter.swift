import AMQPWire

/// Why a queue gave a message up; the `reason` written into `x-death`.
public enum DeadLetterReason: String, Sendable {
    /// `basic.reject` or `basic.nack` with requeue=false.
    case rejected
    /// Its TTL ran out.
    case expired
    /// A length limit pushed it out (drop-head) or refused it (reject-publish-dlx).
    case maxlen
    /// It was returned more often than `x-delivery-limit` allows.
    case deliveryLimit = "delivery_limit"
}

/// The copy of a message that a queue republishes to its dead-letter exchange, with the
/// headers RabbitMQ writes (`x-death`, `x-first-death-*`) so that retry loops and tooling built
/// on them keep working.
public struct DeadLetter {
    public var message: Message
    /// The keys it is routed with: the dead-letter routing key, or else the original routing
    /// key followed by its `CC` and `BCC` keys.
    public var routingKeys: [String]
    /// The new `x-death` array, most recent first; cycle detection reads it.
    public var deaths: [FieldValue]

    /// Builds the dead-lettered copy of `original`, which `queue` gave up for `reason`.
    ///
    /// Returns nil only for a message whose properties cannot be decoded, which the publish
    /// path has already refused.
    public init?(
        _ original: Message, reason: DeadLetterReason, queue: String, exchange: String, routingKey: String?,
        time: UInt64
    ) {
        guard var properties = try? original.header.properties() else { return nil }
        var headers = properties.headers ?? FieldTable()
        let ccKeys = Self.keys(headers["CC"])
        var info: [FieldTable.Entry] = [
            .init(key: "reason", value: .string(reason.rawValue)),
            .init(key: "queue", value: .string(queue)),
            .init(key: "time", value: .timestamp(time)),
            .init(key: "exchange", value: .string(original.exchange)),
            .init(key: "routing-keys", value: .array(([original.routingKey] + ccKeys).map(FieldValue.string))),
        ]
        // A per-message TTL would expire the copy again: it moves into x-death instead.
        if let expiration = properties.expiration {
            info.append(.init(key: "original-expiration", value: .string(expiration)))
            properties.expiration = nil
        }
        if routingKey != nil { headers["CC"] = nil }
        deaths = Self.recordDeath(info, in: &headers, queue: queue, reason: reason.rawValue)
        headers["x-death"] = .array(deaths)
        // RabbitMQ 3.13 and later name the latest death too; older clients ignore the keys.
        headers["x-last-death-reason"] = .string(reason.rawValue)
        headers["x-last-death-queue"] = .string(queue)
        headers["x-last-death-exchange"] = .string(original.exchange)
        properties.headers = Self.sorted(headers)
        guard
            let header = try? ContentHeader(
                classID: original.header.classID, bodySize: original.header.bodySize, properties: properties)
        else { return nil }
        if let routingKey {
            routingKeys = [routingKey]
        } else {
            routingKeys = [original.routingKey] + ccKeys + (original.blindCopyKeys ?? [])
        }
        message = Message(
            exchange: exchange, routingKey: routingKeys[0], header: header, body: original.body,
            blindCopyKeys: routingKey == nil ? original.blindCopyKeys : nil)
    }

    /// Adds this death to `x-death`: the entry for the same queue and reason has its count
    /// raised and moves to the front (keeping its first time and keys); otherwise a new entry
    /// with count 1 goes first; the other entries follow in reverse. The first death also sets
    /// `x-first-death-*`.
    private static func recordDeath(
        _ info: [FieldTable.Entry], in headers: inout FieldTable, queue: String, reason: String
    ) -> [FieldValue] {
        let counted = [FieldTable.Entry(key: "count", value: .int64(1))] + info
        guard case .array(let previous) = headers["x-death"] else {
            headers["x-first-death-reason"] = .string(reason)
            headers["x-first-death-queue"] = .string(queue)
            headers["x-first-death-exchange"] = info.first { $0.key == "exchange" }?.value
            return [.table(FieldTable(counted))]
        }
        var others = previous
        let match = others.firstIndex { death in
            guard case .table(let table) = death else { return false }
            return table["queue"]?.stringValue == queue && table["reason"]?.stringValue == reason
        }
        // RabbitMQ 3.10 regroups the old entries in a way that reverses them; clients that
        // walk the array see the same order here.
        guard let match, case .table(var existing) = others.remove(at: match) else {
            return [.table(sorted(FieldTable(counted)))] + others.reversed()
        }
        existing["count"] = .int64((existing["count"]?.integerValue ?? 0) + 1)
        return [.table(sorted(existing))] + others.reversed()
    }

    /// Whether delivering to `queue` would close a loop that no client ever broke: `queue`
    /// already appears in `deaths` and nothing up to that entry was a rejection.
    public static func isCycle(queue: String, deaths: [FieldValue]) -> Bool {
        for death in deaths {
            // Anything but a table was put there by a client, so the loop is not automatic.
            guard case .table(let table) = death, table["reason"]?.stringValue != "rejected" else { return false }
            if table["queue"]?.stringValue == queue { return true }
        }
        return false
    }

    private static func keys(_ value: FieldValue?) -> [String] {
        guard case .array(let items) = value else { return [] }
        return items.compactMap(\.stringValue)
    }

    /// RabbitMQ stores header tables sorted by key (byte order) whenever it sets a value.
    private static func sorted(_ table: FieldTable) -> FieldTable {
        FieldTable(table.entries.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) })
    }
}
