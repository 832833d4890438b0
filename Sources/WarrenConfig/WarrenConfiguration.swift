/// Warren's whole configuration: defaults (RabbitMQ's), then the file, then flags.
///
/// Key names are RabbitMQ's wherever RabbitMQ has the setting, so an existing `rabbitmq.conf`
/// mostly carries over; a key Warren does not know is an error rather than silently ignored.
public struct WarrenConfiguration: Sendable, Equatable {
    public var bindAddress = "0.0.0.0"
    public var port = 5672
    public var dataDirectory = "./data"
    public var channelMax: UInt16 = 2047
    public var frameMax: UInt32 = 131_072
    public var heartbeat: UInt16 = 60
    public var defaultUser = "guest"
    public var defaultPassword = "guest"
    public var loopbackUsers: Set<String> = ["guest"]
    /// Milliseconds, as RabbitMQ's `handshake_timeout`.
    public var handshakeTimeoutMilliseconds = 10_000
    public var maxMessageSize: UInt64 = 134_217_728
    /// Milliseconds, as RabbitMQ's `consumer_timeout`; nil when set to `false`.
    public var consumerTimeoutMilliseconds: UInt64? = 1_800_000
    /// `vm_memory_high_watermark.relative` (a share of RAM) or `.absolute` (bytes): the last one set wins.
    public var memoryHighWatermarkRelative: Double? = 0.4
    public var memoryHighWatermarkAbsolute: UInt64?
    /// `disk_free_limit.absolute` (bytes) or `.relative` (a multiple of RAM): the last one set wins.
    public var diskFreeLimitAbsolute: UInt64? = 50_000_000
    public var diskFreeLimitRelative: Double?
    public var logLevel = "info"
    /// `message_store.segment_size`: bytes per message-log segment file.
    public var segmentSize = 16 << 20
    /// `message_store.sync_delay`: milliseconds an fsync waits so that more writes share it.
    public var syncDelayMilliseconds = 0
    /// `message_store.max_in_memory_per_queue`: messages per queue lane kept in memory before
    /// persistent ones are paged out.
    public var maxInMemoryMessagesPerQueue = 100_000
    /// A RabbitMQ definitions file to import at start-up (`load_definitions`).
    public var definitionsFile: String?

    public init() {}

    /// Applies a parsed file on top of the current values.
    public mutating func apply(_ file: ConfigurationFile) throws(ConfigurationError) {
        for entry in file.entries {
            try apply(entry)
        }
    }

    private mutating func apply(_ entry: ConfigurationFile.Entry) throws(ConfigurationError) {
        func fail(_ message: String) -> ConfigurationError {
            ConfigurationError(line: entry.line, message: "\(entry.key): \(message)")
        }
        func integer<T: FixedWidthInteger>(_: T.Type, min: T = 0) throws(ConfigurationError) -> T {
            guard let value = T(entry.value), value >= min else {
                throw fail("expected an integer from \(min) to \(T.max), got '\(entry.value)'")
            }
            return value
        }
        func fraction() throws(ConfigurationError) -> Double {
            guard let value = Double(entry.value), value >= 0, value.isFinite else {
                throw fail("expected a non-negative number, got '\(entry.value)'")
            }
            return value
        }
        func bytes() throws(ConfigurationError) -> UInt64 {
            guard let value = ByteSize.parse(entry.value) else {
                throw fail(
                    "expected a size in bytes, optionally with a unit (kB, MB, GB, TB, KiB, MiB, GiB, TiB, k, M, G, T), got '\(entry.value)'"
                )
            }
            return value
        }
        switch entry.key {
        case "listeners.tcp.default":
            try applyListener(entry.value, fail: fail)
        case "channel_max": channelMax = try integer(UInt16.self, min: 1)
        case "frame_max": frameMax = try integer(UInt32.self, min: 4096)
        case "heartbeat": heartbeat = try integer(UInt16.self)
        case "default_user":
            guard !entry.value.isEmpty else { throw fail("must not be empty") }
            defaultUser = entry.value
        case "default_pass": defaultPassword = entry.value
        case "loopback_users":
            guard entry.value == "none" else {
                throw fail("only 'none' is accepted here; use loopback_users.<user> = true")
            }
            loopbackUsers = []
        case "handshake_timeout": handshakeTimeoutMilliseconds = try integer(Int.self, min: 1)
        case "max_message_size":
            // RabbitMQ's ceiling, which also keeps every stored record well inside the log's limits.
            maxMessageSize = try integer(UInt64.self, min: 1)
            guard maxMessageSize <= 536_870_912 else { throw fail("at most 536870912 (512 MiB)") }
        case "vm_memory_high_watermark.relative":
            memoryHighWatermarkRelative = try fraction()
            memoryHighWatermarkAbsolute = nil
        case "vm_memory_high_watermark.absolute":
            memoryHighWatermarkAbsolute = try bytes()
            memoryHighWatermarkRelative = nil
        case "disk_free_limit.absolute":
            diskFreeLimitAbsolute = try bytes()
            diskFreeLimitRelative = nil
        case "disk_free_limit.relative":
            diskFreeLimitRelative = try fraction()
            diskFreeLimitAbsolute = nil
        case "consumer_timeout":
            consumerTimeoutMilliseconds = entry.value == "false" ? nil : try integer(UInt64.self, min: 1)
        case "log.console.level":
            let levels = ["debug", "info", "warning", "error", "critical", "none"]
            guard levels.contains(entry.value) else { throw fail("expected one of \(levels.joined(separator: ", "))") }
            logLevel = entry.value
        case "message_store.segment_size":
            let size = try bytes()
            guard (1 << 16)...(1 << 30) ~= size else { throw fail("expected a size from 64KiB to 1GiB") }
            segmentSize = Int(size)
        case "message_store.sync_delay":
            syncDelayMilliseconds = try integer(Int.self)
            guard syncDelayMilliseconds <= 10_000 else { throw fail("at most 10000 ms") }
        case "message_store.max_in_memory_per_queue":
            maxInMemoryMessagesPerQueue = try integer(Int.self, min: 1)
        case "load_definitions":
            guard !entry.value.isEmpty else { throw fail("must not be empty") }
            definitionsFile = entry.value
        case "data_dir":
            guard !entry.value.isEmpty else { throw fail("must not be empty") }
            dataDirectory = entry.value
        default:
            if entry.key.hasPrefix("loopback_users.") {
                let user = String(entry.key.dropFirst("loopback_users.".count))
                switch entry.value {
                case "true": loopbackUsers.insert(user)
                case "false": loopbackUsers.remove(user)
                default: throw fail("expected true or false")
                }
                return
            }
            throw ConfigurationError(line: entry.line, message: "unknown key '\(entry.key)'")
        }
    }

    /// `listeners.tcp.default` takes a port, or `address:port` as in RabbitMQ.
    private mutating func applyListener(
        _ value: String, fail: (String) -> ConfigurationError
    ) throws(ConfigurationError) {
        let portText: Substring
        if let colon = value.lastIndex(of: ":") {
            let host = value[..<colon]
            guard !host.isEmpty else { throw fail("missing address before ':'") }
            bindAddress = String(host.trimmingCharacters(in: "[]"))
            portText = value[value.index(after: colon)...]
        } else {
            portText = value[...]
        }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw fail("expected a port from 1 to 65535 or address:port, got '\(value)'")
        }
        self.port = port
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> Substring {
        var result = self
        while let first = result.first, set.contains(first) { result.removeFirst() }
        while let last = result.last, set.contains(last) { result.removeLast() }
        return result
    }
}
