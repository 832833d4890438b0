/// Warren's whole configuration: defaults (RabbitMQ's), then the file, then flags.
///
/// Key names are RabbitMQ's wherever RabbitMQ has the setting, so an existing `rabbitmq.conf`
/// mostly carries over; a key Warren does not know is an error rather than silently ignored.
public struct WarrenConfiguration: Sendable, Equatable {
    public var bindAddress = "0.0.0.0"
    public var port = 5672
    /// `listeners.tcp = none` turns the plain listener off (TLS only).
    public var plainListenerEnabled = true
    /// `listeners.ssl.NAME = [address:]port`; an address left out is the plain listener's.
    public var tlsListeners: [TLSListener] = []
    /// `ssl_options.*`.
    public var tls = TLSOptions()
    /// `ssl_cert_login_from`: distinguished_name (RabbitMQ's default), common_name or
    /// subject_alternative_name.
    public var certificateLoginFrom = "distinguished_name"
    /// `ssl_cert_login_san_type` (dns, email, uri) and `ssl_cert_login_san_index`.
    public var certificateLoginSANType = "dns"
    public var certificateLoginSANIndex = 0
    /// `auth_mechanisms.N`, in the order of N.
    public var authMechanisms = ["PLAIN", "AMQPLAIN"]
    /// `auth_mechanisms.N` entries by N.
    private var authMechanismEntries: [String: String] = [:]
    /// `auth_backends.N` (`internal`, `sasl`), in the order of N.
    public var authBackends = ["internal"]
    private var authBackendEntries: [String: String] = [:]
    /// `auth_sasl.OPTION = value`: Cyrus SASL options (`pwcheck_method`, `sasldb_path`,
    /// `saslauthd_path`, ...) that would otherwise come from `/etc/sasl2/warren.conf`.
    public var saslOptions: [String: String] = [:]
    /// `connection_max`; nil for `infinity`.
    public var connectionMax: Int?
    public var defaultVirtualHost = "/"
    public var defaultUserTags = ["administrator"]
    public var dataDirectory = "./data"
    public var channelMax: UInt16 = 2047
    public var frameMax: UInt32 = 131_072
    public var heartbeat: UInt16 = 60
    public var defaultUser = "guest"
    public var defaultPassword = "guest"
    public var loopbackUsers: Set<String> = ["guest"]
    /// Milliseconds, as RabbitMQ's `handshake_timeout`.
    public var handshakeTimeoutMilliseconds = 10_000
    /// 16 MiB, RabbitMQ 4's default (3.x allowed 128 MiB).
    public var maxMessageSize: UInt64 = 16_777_216
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
    /// `management.tcp.port` and `management.tcp.ip`: the management HTTP API and web console.
    public var managementPort = 15672
    public var managementAddress = "0.0.0.0"
    /// `prometheus.tcp.port` and `prometheus.tcp.ip`: the Prometheus `/metrics` endpoint.
    public var prometheusPort = 15692
    public var prometheusAddress = "0.0.0.0"
    /// `collect_statistics_interval`, milliseconds: how often the management API samples rates.
    public var statisticsInterval = 5000

    public init() {}

    public struct TLSListener: Sendable, Equatable {
        /// nil: the plain listener's address.
        public var host: String?
        public var port: Int
    }

    public struct TLSOptions: Sendable, Equatable {
        public var certificateFile: String?
        public var keyFile: String?
        public var caCertificateFile: String?
        /// `verify_peer` (true) or `verify_none`.
        public var verifyPeer = false
        public var failIfNoPeerCertificate = false
        /// `ssl_options.versions.N`: `tlsv1.2`, `tlsv1.3`.
        public var versions: Set<String> = ["tlsv1.2", "tlsv1.3"]
        /// `ssl_options.versions.N` lines by N (a later line for the same N replaces it).
        fileprivate var versionEntries: [String: String] = [:]
    }

    /// Checks what only makes sense across keys: a TLS listener needs a certificate and key.
    public func validate() throws(ConfigurationError) {
        if !tlsListeners.isEmpty && (tls.certificateFile == nil || tls.keyFile == nil) {
            throw ConfigurationError(
                line: nil, message: "listeners.ssl needs ssl_options.certfile and ssl_options.keyfile")
        }
        if !plainListenerEnabled && tlsListeners.isEmpty {
            throw ConfigurationError(
                line: nil, message: "listeners.tcp = none leaves no listener (add listeners.ssl.default)")
        }
    }

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
        func flag() throws(ConfigurationError) -> Bool {
            switch entry.value {
            case "true": return true
            case "false": return false
            default: throw fail("expected true or false")
            }
        }
        func path() throws(ConfigurationError) -> String {
            guard !entry.value.isEmpty else { throw fail("must not be empty") }
            return entry.value
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
        case "listeners.tcp":
            guard entry.value == "none" else { throw fail("only 'none' is accepted here; use listeners.tcp.default") }
            plainListenerEnabled = false
        case "ssl_options.certfile": tls.certificateFile = try path()
        case "ssl_options.keyfile": tls.keyFile = try path()
        case "ssl_options.cacertfile": tls.caCertificateFile = try path()
        case "ssl_options.verify":
            switch entry.value {
            case "verify_peer": tls.verifyPeer = true
            case "verify_none": tls.verifyPeer = false
            default: throw fail("expected verify_peer or verify_none")
            }
        case "ssl_options.fail_if_no_peer_cert": tls.failIfNoPeerCertificate = try flag()
        case "ssl_cert_login_from":
            let sources = ["common_name", "distinguished_name", "subject_alternative_name"]
            guard sources.contains(entry.value) else {
                throw fail("expected one of \(sources.joined(separator: ", "))")
            }
            certificateLoginFrom = entry.value
        case "ssl_cert_login_san_type":
            guard ["dns", "email", "uri"].contains(entry.value) else { throw fail("expected dns, email or uri") }
            certificateLoginSANType = entry.value
        case "ssl_cert_login_san_index": certificateLoginSANIndex = try integer(Int.self)
        case "connection_max":
            connectionMax = entry.value == "infinity" ? nil : try integer(Int.self)
        case "default_vhost":
            guard !entry.value.isEmpty else { throw fail("must not be empty") }
            defaultVirtualHost = entry.value
        case "management.tcp.port": managementPort = Int(try integer(UInt16.self))
        case "management.tcp.ip": managementAddress = try path()
        case "prometheus.tcp.port": prometheusPort = Int(try integer(UInt16.self))
        case "prometheus.tcp.ip": prometheusAddress = try path()
        case "collect_statistics_interval": statisticsInterval = try integer(Int.self, min: 100)
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
            if entry.key.hasPrefix("listeners.ssl.") {
                let (host, port) = try listenerAddress(entry.value, fail: fail)
                tlsListeners.append(TLSListener(host: host, port: port))
                return
            }
            if entry.key.hasPrefix("ssl_options.versions.") {
                guard ["tlsv1.2", "tlsv1.3"].contains(entry.value) else {
                    throw fail("Warren speaks TLS 1.2 and 1.3 only: expected tlsv1.2 or tlsv1.3")
                }
                tls.versionEntries[String(entry.key.dropFirst("ssl_options.versions.".count))] = entry.value
                tls.versions = Set(tls.versionEntries.values)
                return
            }
            if entry.key.hasPrefix("auth_mechanisms.") {
                guard ["PLAIN", "AMQPLAIN", "EXTERNAL"].contains(entry.value) else {
                    throw fail("expected PLAIN, AMQPLAIN or EXTERNAL")
                }
                authMechanismEntries[String(entry.key.dropFirst("auth_mechanisms.".count))] = entry.value
                authMechanisms = authMechanismEntries.sorted { Self.precedes($0.key, $1.key) }.map(\.value)
                return
            }
            if entry.key.hasPrefix("auth_backends.") {
                guard ["internal", "sasl"].contains(entry.value) else { throw fail("expected internal or sasl") }
                authBackendEntries[String(entry.key.dropFirst("auth_backends.".count))] = entry.value
                authBackends = authBackendEntries.sorted { Self.precedes($0.key, $1.key) }.map(\.value)
                return
            }
            if entry.key.hasPrefix("auth_sasl.") {
                saslOptions[String(entry.key.dropFirst("auth_sasl.".count))] = entry.value
                return
            }
            if entry.key.hasPrefix("default_user_tags.") {
                let tag = String(entry.key.dropFirst("default_user_tags.".count))
                defaultUserTags.removeAll { $0 == tag }
                if try flag() { defaultUserTags.append(tag) }
                return
            }
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

    /// Numbered keys (`auth_mechanisms.1`) in numeric order, others after them by name.
    private static func precedes(_ a: String, _ b: String) -> Bool {
        switch (Int(a), Int(b)) {
        case (let x?, let y?): x < y
        case (.some, nil): true
        case (nil, .some): false
        case (nil, nil): a < b
        }
    }

    /// `listeners.tcp.default` takes a port, or `address:port` as in RabbitMQ.
    private mutating func applyListener(
        _ value: String, fail: (String) -> ConfigurationError
    ) throws(ConfigurationError) {
        let (host, port) = try listenerAddress(value, fail: fail)
        if let host { bindAddress = host }
        self.port = port
    }

    private func listenerAddress(
        _ value: String, fail: (String) -> ConfigurationError
    ) throws(ConfigurationError) -> (host: String?, port: Int) {
        var host: String?
        let portText: Substring
        if let colon = value.lastIndex(of: ":") {
            let address = value[..<colon]
            guard !address.isEmpty else { throw fail("missing address before ':'") }
            host = String(address.trimmingCharacters(in: "[]"))
            portText = value[value.index(after: colon)...]
        } else {
            portText = value[...]
        }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw fail("expected a port from 1 to 65535 or address:port, got '\(value)'")
        }
        return (host, port)
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
