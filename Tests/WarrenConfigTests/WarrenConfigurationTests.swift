import Testing

@testable import WarrenConfig

@Suite("Warren configuration")
struct WarrenConfigurationTests {
    func configuration(_ contents: String) throws -> WarrenConfiguration {
        var configuration = WarrenConfiguration()
        try configuration.apply(try ConfigurationFile(contents: contents))
        return configuration
    }

    func applyError(_ contents: String) -> ConfigurationError? {
        do {
            _ = try configuration(contents)
            return nil
        } catch let error as ConfigurationError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test("defaults are RabbitMQ's")
    func defaults() {
        let configuration = WarrenConfiguration()
        #expect(configuration.bindAddress == "0.0.0.0")
        #expect(configuration.port == 5672)
        #expect(configuration.channelMax == 2047)
        #expect(configuration.frameMax == 131_072)
        #expect(configuration.heartbeat == 60)
        #expect(configuration.defaultUser == "guest")
        #expect(configuration.defaultPassword == "guest")
        #expect(configuration.loopbackUsers == ["guest"])
        #expect(configuration.handshakeTimeoutMilliseconds == 10_000)
        #expect(configuration.maxMessageSize == 16_777_216)
        #expect(configuration.logLevel == "info")
        #expect(configuration.consumerTimeoutMilliseconds == 1_800_000)
        #expect(configuration.memoryHighWatermarkRelative == 0.4)
        #expect(configuration.diskFreeLimitAbsolute == 50_000_000)
    }

    @Test("resource limits take RabbitMQ's keys and size units; the last of relative/absolute wins")
    func resourceLimits() throws {
        let absolute = try configuration(
            "vm_memory_high_watermark.absolute = 2GiB\ndisk_free_limit.absolute = 1GB\nconsumer_timeout = 60000\n")
        #expect(absolute.memoryHighWatermarkAbsolute == 2 << 30)
        #expect(absolute.memoryHighWatermarkRelative == nil)
        #expect(absolute.diskFreeLimitAbsolute == 1_000_000_000)
        #expect(absolute.consumerTimeoutMilliseconds == 60_000)
        let relative = try configuration(
            "vm_memory_high_watermark.absolute = 512MiB\nvm_memory_high_watermark.relative = 0.4\n"
                + "disk_free_limit.relative = 1.5\nconsumer_timeout = false\n")
        #expect(relative.memoryHighWatermarkRelative == 0.4)
        #expect(relative.memoryHighWatermarkAbsolute == nil)
        #expect(relative.diskFreeLimitRelative == 1.5)
        #expect(relative.diskFreeLimitAbsolute == nil)
        #expect(relative.consumerTimeoutMilliseconds == nil)
        #expect(applyError("disk_free_limit.absolute = lots\n")?.line == 1)
        #expect(applyError("vm_memory_high_watermark.absolute = 99999999999TB\n")?.line == 1)
        #expect(applyError("vm_memory_high_watermark.relative = -1\n")?.line == 1)
        #expect(ByteSize.parse("50000000") == 50_000_000)
        #expect(ByteSize.parse("512kB") == 512_000)
        #expect(ByteSize.parse("3KiB") == 3_072)
        #expect(ByteSize.parse("2G") == 2 << 30)
        #expect(ByteSize.parse("1gb") == 1_000_000_000)
        #expect(ByteSize.parse("G") == nil)
        let store = try configuration(
            "message_store.segment_size = 64MiB\nmessage_store.max_in_memory_per_queue = 5000\n")
        #expect(store.segmentSize == 64 << 20)
        #expect(store.maxInMemoryMessagesPerQueue == 5_000)
        #expect(try configuration("message_store.sync_delay = 20\n").syncDelayMilliseconds == 20)
        #expect(applyError("message_store.sync_delay = 60000\n")?.line == 1)
        #expect(applyError("message_store.segment_size = 1kB\n")?.line == 1)
        #expect(ByteSize.parse("2G") == 2 << 30)
        #expect(ByteSize.parse("1gb") == 1_000_000_000)
        #expect(ByteSize.parse("G") == nil)
    }

    @Test("an empty file changes nothing")
    func emptyFile() throws {
        #expect(try configuration("# nothing here\n") == WarrenConfiguration())
    }

    @Test("listeners.tcp.default takes a port")
    func listenerPort() throws {
        let configuration = try configuration("listeners.tcp.default = 5673")
        #expect(configuration.port == 5673)
        #expect(configuration.bindAddress == "0.0.0.0")
    }

    @Test("listeners.tcp.default takes address:port")
    func listenerAddress() throws {
        let configuration = try configuration("listeners.tcp.default = 127.0.0.1:5673")
        #expect(configuration.bindAddress == "127.0.0.1")
        #expect(configuration.port == 5673)
    }

    @Test("listeners.tcp.default takes IPv6 addresses, bracketed or not")
    func listenerIPv6() throws {
        let bracketed = try configuration("listeners.tcp.default = [::1]:5674")
        #expect(bracketed.bindAddress == "::1")
        #expect(bracketed.port == 5674)
        let bare = try configuration("listeners.tcp.default = ::1:5675")
        #expect(bare.bindAddress == "::1")
        #expect(bare.port == 5675)
    }

    @Test(
        "bad listener values are errors on their line",
        arguments: ["0", "65536", "port", "127.0.0.1:", "127.0.0.1:x", ":5672", ""])
    func badListener(value: String) {
        let error = applyError("heartbeat = 10\nlisteners.tcp.default = \(value)")
        #expect(error?.line == 2)
        #expect(error?.message.hasPrefix("listeners.tcp.default: ") == true)
    }

    @Test("numeric limits")
    func limits() throws {
        let configuration = try configuration(
            """
            channel_max = 128
            frame_max = 8192
            heartbeat = 0
            handshake_timeout = 5000
            max_message_size = 1048576
            """)
        #expect(configuration.channelMax == 128)
        #expect(configuration.frameMax == 8192)
        #expect(configuration.heartbeat == 0)
        #expect(configuration.handshakeTimeoutMilliseconds == 5000)
        #expect(configuration.maxMessageSize == 1_048_576)
    }

    @Test("numeric values out of range are errors that say the range")
    func badNumbers() {
        #expect(
            applyError("channel_max = 0")
                == ConfigurationError(line: 1, message: "channel_max: expected an integer from 1 to 65535, got '0'"))
        #expect(
            applyError("channel_max = 65536")
                == ConfigurationError(line: 1, message: "channel_max: expected an integer from 1 to 65535, got '65536'")
        )
        #expect(
            applyError("frame_max = 4095")
                == ConfigurationError(
                    line: 1, message: "frame_max: expected an integer from 4096 to 4294967295, got '4095'"))
        #expect(
            applyError("heartbeat = -1")
                == ConfigurationError(line: 1, message: "heartbeat: expected an integer from 0 to 65535, got '-1'"))
        #expect(applyError("heartbeat = 1.5")?.line == 1)
        #expect(applyError("handshake_timeout = 0")?.message.hasPrefix("handshake_timeout: ") == true)
        #expect(applyError("max_message_size = 0")?.message.hasPrefix("max_message_size: ") == true)
        #expect(applyError("max_message_size = big")?.line == 1)
    }

    @Test("default user and password")
    func credentials() throws {
        let configuration = try configuration("default_user = admin\ndefault_pass = s3cret")
        #expect(configuration.defaultUser == "admin")
        #expect(configuration.defaultPassword == "s3cret")
        #expect(
            applyError("default_user =") == ConfigurationError(line: 1, message: "default_user: must not be empty"))
    }

    @Test("loopback_users = none lets every user connect remotely")
    func loopbackNone() throws {
        #expect(try configuration("loopback_users = none").loopbackUsers.isEmpty)
        #expect(applyError("loopback_users = guest")?.line == 1)
    }

    @Test("loopback_users.<user> adds and removes users")
    func loopbackPerUser() throws {
        let configuration = try configuration(
            """
            loopback_users.alice = true
            loopback_users.guest = false
            """)
        #expect(configuration.loopbackUsers == ["alice"])
        let error = applyError("loopback_users.bob = yes")
        #expect(error == ConfigurationError(line: 1, message: "loopback_users.bob: expected true or false"))
    }

    @Test("TLS: RabbitMQ's listener, ssl_options and certificate-login keys")
    func tls() throws {
        let configuration = try configuration(
            """
            listeners.tcp = none
            listeners.ssl.default = 5671
            listeners.ssl.other = 127.0.0.1:5673
            ssl_options.certfile = /etc/warren/server.pem
            ssl_options.keyfile = /etc/warren/server.key
            ssl_options.cacertfile = /etc/warren/ca.pem
            ssl_options.verify = verify_peer
            ssl_options.fail_if_no_peer_cert = true
            ssl_options.versions.1 = tlsv1.3
            ssl_cert_login_from = subject_alternative_name
            ssl_cert_login_san_type = email
            ssl_cert_login_san_index = 1
            """)
        #expect(!configuration.plainListenerEnabled)
        #expect(
            configuration.tlsListeners == [
                .init(host: nil, port: 5671), .init(host: "127.0.0.1", port: 5673),
            ])
        #expect(configuration.tls.certificateFile == "/etc/warren/server.pem")
        #expect(configuration.tls.keyFile == "/etc/warren/server.key")
        #expect(configuration.tls.caCertificateFile == "/etc/warren/ca.pem")
        #expect(configuration.tls.verifyPeer)
        #expect(configuration.tls.failIfNoPeerCertificate)
        #expect(configuration.tls.versions == ["tlsv1.3"])
        #expect(configuration.certificateLoginFrom == "subject_alternative_name")
        #expect(configuration.certificateLoginSANType == "email")
        #expect(configuration.certificateLoginSANIndex == 1)
        #expect(throws: Never.self) { try configuration.validate() }
    }

    @Test("TLS mistakes are refused: old protocol versions, a listener without a certificate, no listener")
    func tlsMistakes() throws {
        #expect(applyError("ssl_options.versions.1 = tlsv1.1")?.message.contains("TLS 1.2 and 1.3 only") == true)
        #expect(
            try configuration("ssl_options.versions.1 = tlsv1.2\nssl_options.versions.1 = tlsv1.3").tls.versions == [
                "tlsv1.3"
            ])
        #expect(WarrenConfiguration().certificateLoginFrom == "distinguished_name")
        #expect(applyError("ssl_options.verify = verify_maybe") != nil)
        #expect(throws: ConfigurationError.self) { try configuration("listeners.ssl.default = 5671").validate() }
        #expect(throws: ConfigurationError.self) { try configuration("listeners.tcp = none").validate() }
    }

    @Test("auth_mechanisms are offered in the order of their numbers")
    func mechanisms() throws {
        let configuration = try configuration(
            """
            auth_mechanisms.10 = EXTERNAL
            auth_mechanisms.2 = PLAIN
            """)
        #expect(configuration.authMechanisms == ["PLAIN", "EXTERNAL"])
        #expect(applyError("auth_mechanisms.1 = CRAM-MD5") != nil)
    }

    @Test("connection_max, default_vhost and default_user_tags")
    func accessDefaults() throws {
        let configuration = try configuration(
            """
            connection_max = 500
            default_vhost = main
            default_user_tags.administrator = false
            default_user_tags.monitoring = true
            """)
        #expect(configuration.connectionMax == 500)
        #expect(configuration.defaultVirtualHost == "main")
        #expect(configuration.defaultUserTags == ["monitoring"])
        #expect(try self.configuration("connection_max = infinity").connectionMax == nil)
    }

    @Test("auth_backends in order, and auth_sasl options passed through to Cyrus SASL")
    func backends() throws {
        let configuration = try configuration(
            """
            auth_backends.2 = internal
            auth_backends.1 = sasl
            auth_sasl.pwcheck_method = saslauthd
            auth_sasl.saslauthd_path = /run/saslauthd/mux
            """)
        #expect(configuration.authBackends == ["sasl", "internal"])
        #expect(configuration.saslOptions == ["pwcheck_method": "saslauthd", "saslauthd_path": "/run/saslauthd/mux"])
        #expect(applyError("auth_backends.1 = ldap")?.message == "auth_backends.1: expected internal or sasl")
    }

    @Test("log level")
    func logLevel() throws {
        for level in ["debug", "info", "warning", "error", "critical", "none"] {
            #expect(try configuration("log.console.level = \(level)").logLevel == level)
        }
        #expect(applyError("log.console.level = verbose")?.message.hasPrefix("log.console.level: ") == true)
    }

    @Test("data directory")
    func dataDirectory() throws {
        #expect(try configuration("data_dir = /var/lib/warren").dataDirectory == "/var/lib/warren")
        #expect(applyError("data_dir = ") == ConfigurationError(line: 1, message: "data_dir: must not be empty"))
    }

    @Test("an unknown key is an error naming the key and its line")
    func unknownKey() {
        let error = applyError(
            """
            # settings
            heartbeat = 30

            listeners.tcp.other = 5674
            """)
        #expect(error == ConfigurationError(line: 4, message: "unknown key 'listeners.tcp.other'"))
        #expect(error?.description == "line 4: unknown key 'listeners.tcp.other'")
        #expect(applyError("Heartbeat = 30") == ConfigurationError(line: 1, message: "unknown key 'Heartbeat'"))
    }

    @Test("a later line overrides an earlier one")
    func lastWins() throws {
        #expect(try configuration("heartbeat = 10\nheartbeat = 20").heartbeat == 20)
    }

    @Test("apply stops at the first bad line, keeping what came before")
    func partialApply() throws {
        var configuration = WarrenConfiguration()
        let file = try ConfigurationFile(contents: "heartbeat = 5\nchannel_max = none\nframe_max = 8192")
        #expect(throws: ConfigurationError.self) { try configuration.apply(file) }
        #expect(configuration.heartbeat == 5)
        #expect(configuration.frameMax == 131_072)
    }

    @Test("the management and Prometheus listeners take RabbitMQ's keys and defaults")
    func managementListeners() throws {
        let defaults = WarrenConfiguration()
        #expect(defaults.managementPort == 15672 && defaults.prometheusPort == 15692)
        #expect(defaults.statisticsInterval == 5000)
        let configured = try configuration(
            """
            management.tcp.port = 25672
            management.tcp.ip = 127.0.0.1
            prometheus.tcp.port = 0
            prometheus.tcp.ip = ::1
            collect_statistics_interval = 500
            """)
        #expect(configured.managementPort == 25672 && configured.managementAddress == "127.0.0.1")
        #expect(configured.prometheusPort == 0 && configured.prometheusAddress == "::1")
        #expect(configured.statisticsInterval == 500)
        #expect(applyError("management.tcp.port = 70000")?.line == 1)
        #expect(applyError("collect_statistics_interval = 10")?.line == 1)
    }
}
