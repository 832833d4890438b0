import ArgumentParser
import Foundation
import Logging
import WarrenConfig
import WarrenManagement
import WarrenServer

/// `warren-server`: reads the configuration, starts the broker, and runs until SIGTERM/SIGINT.
@main
struct WarrenServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warren-server",
        abstract: "An AMQP 0-9-1 message broker compatible with RabbitMQ clients.")

    @Option(name: .long, help: "A rabbitmq.conf-style configuration file (see etc/warren.conf).")
    var config: String?

    @Option(name: .long, help: "The AMQP port (overrides listeners.tcp.default).")
    var port: Int?

    @Option(name: .long, help: "The address to listen on (overrides listeners.tcp.default).")
    var bind: String?

    @Option(name: .customLong("data-dir"), help: "Where the broker keeps its data.")
    var dataDir: String?

    @Option(
        name: .customLong("management-port"),
        help: "The management HTTP API's port (overrides management.tcp.port; 0 picks a free one).")
    var managementPort: Int?

    @Option(
        name: .customLong("prometheus-port"),
        help: "The Prometheus /metrics port (overrides prometheus.tcp.port; 0 picks a free one).")
    var prometheusPort: Int?

    @Option(
        name: .customLong("import-definitions"),
        help: "A RabbitMQ definitions file to load at start-up (overrides load_definitions).")
    var importDefinitions: String?

    func run() async throws {
        let configuration: WarrenConfiguration
        do {
            configuration = try loadConfiguration()
        } catch {
            FileHandle.standardError.write(Data("warren-server: \(error)\n".utf8))
            throw ExitCode(78)
        }
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in
            // rabbitmq.conf's `none` has no swift-log level: it means no log handler at all.
            guard let level = Logger.Level(rawValue: level) else { return SwiftLogNoOpLogHandler(label) }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "warren")
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        // Two brokers on one data directory would interleave their logs and corrupt both.
        let lock = open(configuration.dataDirectory + "/.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lock >= 0, flock(lock, LOCK_EX | LOCK_NB) == 0 else {
            FileHandle.standardError.write(
                Data(
                    "warren-server: data directory '\(configuration.dataDirectory)' is in use by another broker\n".utf8)
            )
            throw ExitCode(75)
        }
        defer { close(lock) }

        var settings = BrokerSettings()
        settings.channelMax = configuration.channelMax
        settings.frameMax = configuration.frameMax
        settings.heartbeat = configuration.heartbeat
        settings.nodeName =
            "warren@" + (ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost")
        settings.defaultUser = configuration.defaultUser
        settings.defaultPassword = configuration.defaultPassword
        settings.loopbackUsers = configuration.loopbackUsers
        settings.defaultVirtualHost = configuration.defaultVirtualHost
        settings.defaultUserTags = configuration.defaultUserTags
        settings.authMechanisms = configuration.authMechanisms
        settings.connectionMax = configuration.connectionMax
        settings.authBackends = configuration.authBackends.compactMap(BrokerSettings.AuthBackend.init(rawValue:))
        var sasl: CyrusSASL?
        if settings.authBackends.contains(.sasl) {
            do {
                sasl = try CyrusSASL(options: configuration.saslOptions)
            } catch {
                FileHandle.standardError.write(Data("warren-server: auth_backends sasl: \(error)\n".utf8))
                throw ExitCode(78)
            }
        }
        settings.handshakeTimeout = Double(configuration.handshakeTimeoutMilliseconds) / 1000
        settings.maxMessageSize = configuration.maxMessageSize
        settings.consumerTimeout = configuration.consumerTimeoutMilliseconds
        settings.dataDirectory = configuration.dataDirectory
        settings.segmentSize = configuration.segmentSize
        settings.syncDelay = configuration.syncDelayMilliseconds
        settings.maxInMemoryMessagesPerQueue = configuration.maxInMemoryMessagesPerQueue
        if let bytes = configuration.memoryHighWatermarkAbsolute {
            settings.memoryHighWatermark = .absolute(bytes)
        } else if let fraction = configuration.memoryHighWatermarkRelative {
            settings.memoryHighWatermark = .relative(fraction)
        }
        if let bytes = configuration.diskFreeLimitAbsolute {
            settings.diskFreeLimit = .absolute(bytes)
        } else if let factor = configuration.diskFreeLimitRelative {
            settings.diskFreeLimit = .relative(factor)
        }

        var definitions: Definitions?
        if let path = importDefinitions ?? configuration.definitionsFile {
            do {
                definitions = try Definitions.parse(Data(contentsOf: URL(fileURLWithPath: path)))
            } catch {
                FileHandle.standardError.write(
                    Data("warren-server: cannot load definitions from '\(path)': \(error)\n".utf8))
                throw ExitCode(78)
            }
        }

        var listeners: [WarrenServer.Listener] = []
        if configuration.plainListenerEnabled {
            listeners.append(.init(host: configuration.bindAddress, port: configuration.port, isTLS: false))
        }
        for listener in configuration.tlsListeners {
            listeners.append(.init(host: listener.host ?? configuration.bindAddress, port: listener.port, isTLS: true))
        }
        let signals = SignalWaiter()
        let server: WarrenServer
        do {
            server = try await WarrenServer.start(
                listeners: listeners, tls: tlsSettings(configuration), sasl: sasl, settings: settings, logger: logger,
                definitions: definitions)
        } catch let error as DefinitionsError {
            FileHandle.standardError.write(Data("warren-server: cannot import definitions: \(error)\n".utf8))
            throw ExitCode(78)
        } catch let error as TLSSetupError {
            FileHandle.standardError.write(Data("warren-server: \(error)\n".utf8))
            throw ExitCode(78)
        }
        let amqpListeners = zip(listeners, server.localAddresses).map { listener, address in
            ManagementAPI.Listener(
                protocol: listener.isTLS ? "amqp/ssl" : "amqp", ip: listener.host, port: address?.port ?? listener.port)
        }
        var managementSettings = ManagementServer.Settings()
        managementSettings.host = configuration.managementAddress
        managementSettings.port = configuration.managementPort
        managementSettings.prometheusHost = configuration.prometheusAddress
        managementSettings.prometheusPort = configuration.prometheusPort
        managementSettings.statisticsInterval = configuration.statisticsInterval
        managementSettings.node = settings.nodeName
        managementSettings.amqpListeners = amqpListeners
        let management: ManagementServer
        do {
            management = try await ManagementServer.start(
                administration: server.administration, settings: managementSettings, logger: logger)
        } catch {
            FileHandle.standardError.write(
                Data("warren-server: cannot start the management listeners: \(error)\n".utf8))
            try await server.shutdown()
            throw ExitCode(70)
        }
        var addresses = amqpListeners.map { "\($0.protocol == "amqp" ? "amqp" : "amqps") \($0.ip):\($0.port)" }
        addresses.append("http \(configuration.managementAddress):\(management.port)")
        addresses.append("prometheus \(configuration.prometheusAddress):\(management.prometheusPort)")
        let ready =
            "warren-server ready on \(addresses.joined(separator: ", ")) (data in \(configuration.dataDirectory))\n"
        FileHandle.standardOutput.write(Data(ready.utf8))
        while true {
            let signal = await signals.wait()
            guard signal == "SIGHUP" else {
                logger.info("received \(signal), closing client connections")
                break
            }
            logger.info("received SIGHUP, reloading TLS certificates")
            try await server.reloadCertificates()
        }
        await management.shutdown()
        try await server.shutdown()
    }

    private func tlsSettings(_ configuration: WarrenConfiguration) -> TLSSettings? {
        // Certificates are only loaded (and watched) for a TLS listener.
        guard !configuration.tlsListeners.isEmpty, let certificate = configuration.tls.certificateFile,
            let key = configuration.tls.keyFile
        else { return nil }
        var tls = TLSSettings(certificateFile: certificate, keyFile: key)
        tls.caCertificateFile = configuration.tls.caCertificateFile
        tls.verifyPeer = configuration.tls.verifyPeer
        tls.failIfNoPeerCertificate = configuration.tls.failIfNoPeerCertificate
        tls.versions = Set(configuration.tls.versions.compactMap(TLSSettings.ProtocolVersion.init(rawValue:)))
        switch configuration.certificateLoginFrom {
        case "distinguished_name":
            tls.certificateLogin = .distinguishedName
        case "subject_alternative_name":
            let type = TLSSettings.SubjectAlternativeNameType(rawValue: configuration.certificateLoginSANType) ?? .dns
            tls.certificateLogin = .subjectAlternativeName(type, index: configuration.certificateLoginSANIndex)
        case "common_name":
            tls.certificateLogin = .commonName
        default:
            tls.certificateLogin = .distinguishedName
        }
        return tls
    }

    private func loadConfiguration() throws -> WarrenConfiguration {
        var configuration = WarrenConfiguration()
        if let config {
            guard let contents = try? String(contentsOfFile: config, encoding: .utf8) else {
                throw ConfigurationError(line: nil, message: "cannot read configuration file '\(config)'")
            }
            do {
                try configuration.apply(ConfigurationFile(contents: contents))
            } catch {
                throw ConfigurationError(line: nil, message: "\(config): \(error)")
            }
        }
        if let port {
            guard (0...65535).contains(port) else {
                throw ConfigurationError(line: nil, message: "--port must be from 0 to 65535")
            }
            configuration.port = port
        }
        if let bind {
            configuration.bindAddress = bind
            configuration.managementAddress = bind
            configuration.prometheusAddress = bind
        }
        for (flag, value) in [("--management-port", managementPort), ("--prometheus-port", prometheusPort)] {
            if let value, !(0...65535).contains(value) {
                throw ConfigurationError(line: nil, message: "\(flag) must be from 0 to 65535")
            }
        }
        if let managementPort { configuration.managementPort = managementPort }
        if let prometheusPort { configuration.prometheusPort = prometheusPort }
        if let dataDir { configuration.dataDirectory = dataDir }
        try configuration.validate()
        return configuration
    }
}
