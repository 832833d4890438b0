import AMQPWire
import NIOCore
import Testing

@testable import WarrenServer

/// The connection handshake state machine, driven event by event without a socket.
@Suite("Connection handshake")
struct ConnectionHandshakeTests {
    static let failureCloseClient: FieldTable = [
        "product": .string("test"),
        "capabilities": .table(["authentication_failure_close": .bool(true)]),
    ]

    /// The brokers that answer the handshakes' logins (held here: a handshake holds its gate unowned).
    let gates = BrokerKeeper()

    /// A handshake against a broker with the default user, a `staging` vhost where guest has
    /// all permissions, and a `private` vhost where guest has none.
    func makeHandshake(
        settings: BrokerSettings = BrokerSettings(), loopback: Bool = true, isTLS: Bool = false,
        certificateUser: String? = nil
    ) -> ConnectionHandshake {
        let broker = TestClient.makeBroker(settings: settings)
        broker.addVirtualHost(named: "staging")
        broker.addVirtualHost(named: "private")
        broker.accessControl.setPermissions(.everything, user: settings.defaultUser, vhost: "staging")
        gates.brokers.append(broker)
        return ConnectionHandshake(
            settings: settings, isLoopbackPeer: loopback, gate: broker, isTLS: isTLS, certificateUser: certificateUser)
    }

    func startOk(
        mechanism: String = "PLAIN", user: String = "guest", password: String = "guest",
        clientProperties: FieldTable = [:]
    ) throws -> AMQPMethod {
        let response = mechanism == "AMQPLAIN" ? try amqplainResponse(user, password) : plainResponse(user, password)
        return .connectionStartOk(
            Spec.Connection.StartOk(
                clientProperties: clientProperties, mechanism: mechanism, response: response, locale: "en_US"))
    }

    /// A handshake that has accepted the credentials and waits for tune-ok.
    func awaitingTuneOk(settings: BrokerSettings = BrokerSettings()) throws -> ConnectionHandshake {
        var handshake = makeHandshake(settings: settings)
        _ = handshake.receivedProtocolHeader(ProtocolHeader.amqp0091)
        _ = handshake.receivedMethod(try startOk())
        #expect(handshake.state == .awaitingTuneOk(user: "guest"))
        return handshake
    }

    func tuneOk(channelMax: UInt16 = 2047, frameMax: UInt32 = 131_072, heartbeat: UInt16 = 60) -> AMQPMethod {
        .connectionTuneOk(Spec.Connection.TuneOk(channelMax: channelMax, frameMax: frameMax, heartbeat: heartbeat))
    }

    /// A handshake that has been tuned and waits for connection.open.
    func awaitingOpen() throws -> ConnectionHandshake {
        var handshake = try awaitingTuneOk()
        _ = handshake.receivedMethod(tuneOk())
        return handshake
    }

    func opened() throws -> ConnectionHandshake {
        var handshake = try awaitingOpen()
        _ = handshake.receivedMethod(.connectionOpen(Spec.Connection.Open(virtualHost: "/")))
        #expect(handshake.isOpen)
        return handshake
    }

    func close(_ code: UInt16, _ text: String, _ classID: UInt16, _ methodID: UInt16) -> ConnectionHandshake.Action {
        .send(
            .connectionClose(
                Spec.Connection.Close(replyCode: code, replyText: text, classID: classID, methodID: methodID)))
    }

    // MARK: Protocol header

    @Test(
        "a protocol header other than AMQP 0-9-1 is answered with ours and the socket closed",
        arguments: [
            Array("AMQP".utf8) + [0, 0, 9, 0],
            Array("AMQP".utf8) + [1, 1, 0, 9],
            Array("AMQP".utf8) + [0, 1, 0, 0],
            Array("GET / HT".utf8),
        ])
    func badProtocolHeader(bytes: [UInt8]) {
        var handshake = makeHandshake()
        #expect(handshake.receivedProtocolHeader(bytes) == .rejectProtocolHeader)
        #expect(handshake.state == .closed)
    }

    @Test("a good protocol header is answered with connection.start")
    func goodProtocolHeader() throws {
        var handshake = makeHandshake()
        let action = handshake.receivedProtocolHeader(ProtocolHeader.amqp0091)
        guard case .send(.connectionStart(let start)) = action else {
            Issue.record("expected connection.start, got \(action)")
            return
        }
        #expect(start.versionMajor == 0)
        #expect(start.versionMinor == 9)
        #expect(String(buffer: start.mechanisms) == "PLAIN AMQPLAIN")
        #expect(String(buffer: start.locales) == "en_US")
        #expect(start.serverProperties["product"]?.stringValue == "Warren")
        guard case .table(let capabilities)? = start.serverProperties["capabilities"] else {
            Issue.record("no capabilities table")
            return
        }
        for name in [
            "publisher_confirms", "exchange_exchange_bindings", "basic.nack", "consumer_cancel_notify",
            "authentication_failure_close", "per_consumer_qos",
        ] {
            #expect(capabilities[name] == .bool(true), "\(name)")
        }
        for name in ["connection.blocked", "consumer_priorities", "direct_reply_to"] {
            #expect(capabilities[name] == .bool(true), "\(name)")
        }
        #expect(handshake.state == .awaitingStartOk)

        // A second header (or anything header-shaped) is ignored.
        #expect(handshake.receivedProtocolHeader(ProtocolHeader.amqp0091) == .none)
    }

    // MARK: Authentication

    @Test("PLAIN with the right credentials is answered with connection.tune", arguments: ["PLAIN", "AMQPLAIN"])
    func rightCredentials(mechanism: String) throws {
        var handshake = makeHandshake()
        _ = handshake.receivedProtocolHeader(ProtocolHeader.amqp0091)
        let action = handshake.receivedMethod(try startOk(mechanism: mechanism))
        #expect(
            action
                == .send(.connectionTune(Spec.Connection.Tune(channelMax: 2047, frameMax: 131_072, heartbeat: 60))))
        #expect(handshake.state == .awaitingTuneOk(user: "guest"))
    }

    @Test("wrong credentials without authentication_failure_close: the socket is just closed")
    func wrongCredentialsSilent() throws {
        for mechanism in ["PLAIN", "AMQPLAIN"] {
            for (user, password) in [("guest", "wrong"), ("nobody", "guest"), ("", "")] {
                var handshake = makeHandshake()
                _ = handshake.receivedProtocolHeader(ProtocolHeader.amqp0091)
                let action = handshake.receivedMethod(try startOk(mechanism: mechanism, user: user, password: password))
                #expect(action == .closeSocket, "\(mechanism) \(user)/\(password)")
                #expect(handshake.state == .closed)
            }
        }
    }

    @Test(
        "wrong credentials with authentication_failure_close: 403 connection.close", arguments: ["PLAIN", "AMQPLAIN"])
    func wrongCredentialsClose(mechanism: String) throws {
        var handshake = makeHandshake()
        _ = handshake.receivedProtocolHeader(ProtocolHeader.amqp0091)
        let action = handshake.receivedMethod(
            try startOk(mechanism: mechanism, password: "wrong", clientProperties: Self.failureCloseClient))
        #expect(
            action
                == close(
                    403,
                    "ACCESS_REFUSED - Login was refused using authentication mechanism \(mechanism). For details see the broker logfile.",
                    0, 0))
        #expect(handshake.state == .closing)
        #expect(handshake.clientHasCapability("authentication_failure_close"))
        #expect(!handshake.clientHasCapability("publisher_confirms"))
    }

    @Test("a malformed PLAIN response is refused")
    func malformedPlain() {
        var handshake = makeHandshake()
        _ = handshake.receivedProtocolHeader(ProtocolHeader.amqp0091)
        let action = handshake.receivedMethod(
            .connectionStartOk(
                Spec.Connection.StartOk(
                    clientProperties: Self.failureCloseClient, mechanism: "PLAIN",
                    response: ByteBuffer(string: "guestguest"), locale: "en_US")))
        guard case .send(.connectionClose(let close)) = action else {
            Issue.record("expected connection.close, got \(action)")
            return
        }
        #expect(close.replyCode == 403)
    }

    @Test("a mechanism not offered closes the socket without a frame, as RabbitMQ does")
    func unsupportedMechanism() throws {
        var handshake = makeHandshake()
        _ = handshake.receivedProtocolHeader(ProtocolHeader.amqp0091)
        let action = handshake.receivedMethod(
            .connectionStartOk(
                Spec.Connection.StartOk(
                    clientProperties: Self.failureCloseClient, mechanism: "EXTERNAL",
                    response: plainResponse("guest", "guest"), locale: "en_US")))
        #expect(action == .closeSocket)
        #expect(handshake.takeCloseReason() == "unknown authentication mechanism 'EXTERNAL'")
        #expect(!handshake.isOpen)
    }

    @Test("guest may log in only from a loopback address")
    func guestLoopbackOnly() throws {
        var remote = makeHandshake(loopback: false)
        _ = remote.receivedProtocolHeader(ProtocolHeader.amqp0091)
        let refused = remote.receivedMethod(try startOk(clientProperties: Self.failureCloseClient))
        guard case .send(.connectionClose(let close)) = refused else {
            Issue.record("expected connection.close, got \(refused)")
            return
        }
        #expect(close.replyCode == 403)
        #expect(close.replyText.hasPrefix("ACCESS_REFUSED - Login was refused"))

        var settings = BrokerSettings()
        settings.loopbackUsers = []
        var allowed = makeHandshake(settings: settings, loopback: false)
        _ = allowed.receivedProtocolHeader(ProtocolHeader.amqp0091)
        guard case .send(.connectionTune) = allowed.receivedMethod(try startOk()) else {
            Issue.record("guest should be allowed once loopback_users is empty")
            return
        }
    }

    @Test("a configured user who is not a loopback user may log in remotely")
    func otherUserRemote() throws {
        var settings = BrokerSettings()
        settings.defaultUser = "admin"
        settings.defaultPassword = "s3cret"
        var handshake = makeHandshake(settings: settings, loopback: false)
        _ = handshake.receivedProtocolHeader(ProtocolHeader.amqp0091)
        guard case .send(.connectionTune) = handshake.receivedMethod(try startOk(user: "admin", password: "s3cret"))
        else {
            Issue.record("admin should be allowed")
            return
        }
        #expect(handshake.state == .awaitingTuneOk(user: "admin"))
    }

    // MARK: Tuning

    @Test("tune-ok within limits starts heartbeats with the client's values")
    func tuneOkAccepted() throws {
        var handshake = try awaitingTuneOk()
        let action = handshake.receivedMethod(tuneOk(channelMax: 100, frameMax: 4096, heartbeat: 30))
        let tuning = ConnectionHandshake.Tuning(channelMax: 100, frameMax: 4096, heartbeat: 30)
        #expect(action == .startHeartbeats(tuning))
        #expect(handshake.tuning == tuning)
        #expect(handshake.state == .awaitingOpen(user: "guest"))
    }

    /// A tune-ok the server refuses: the socket is dropped without a frame, as RabbitMQ does,
    /// and the reason (with RabbitMQ's wording) goes to the log.
    func expectRefusedTuneOk(_ method: AMQPMethod, _ reason: String) throws {
        var handshake = try awaitingTuneOk()
        #expect(handshake.receivedMethod(method) == .closeSocket)
        #expect(handshake.takeCloseReason() == "530 NOT_ALLOWED - \(reason)")
        #expect(handshake.state == .closed)
    }

    @Test("zero (no limit) is refused while the server has limits, as RabbitMQ's reader does")
    func tuneOkZero() throws {
        try expectRefusedTuneOk(
            tuneOk(channelMax: 10, frameMax: 0, heartbeat: 0),
            "negotiated frame_max = 0 is higher than the maximum allowed value (131072)")
        try expectRefusedTuneOk(
            tuneOk(channelMax: 0, frameMax: 4096, heartbeat: 0),
            "negotiated channel_max = 0 (no limit) is higher than the maximum allowed value (2047)")
    }

    @Test("frame_max below 4096 is refused", arguments: [UInt32(1), 1024, 4095])
    func frameMaxTooSmall(frameMax: UInt32) throws {
        try expectRefusedTuneOk(
            tuneOk(frameMax: frameMax),
            "negotiated frame_max = \(frameMax) is lower than the minimum allowed value (4096)")
    }

    @Test("frame_max and channel_max above the server's are refused")
    func limitsTooLarge() throws {
        try expectRefusedTuneOk(
            tuneOk(frameMax: 131_073), "negotiated frame_max = 131073 is higher than the maximum allowed value (131072)"
        )
        try expectRefusedTuneOk(
            tuneOk(channelMax: 2048), "negotiated channel_max = 2048 is higher than the maximum allowed value (2047)")
    }

    @Test("the server's own limits come from the settings")
    func customSettings() throws {
        var settings = BrokerSettings()
        settings.channelMax = 16
        settings.frameMax = 8192
        settings.heartbeat = 0
        var handshake = makeHandshake(settings: settings)
        _ = handshake.receivedProtocolHeader(ProtocolHeader.amqp0091)
        #expect(
            handshake.receivedMethod(try startOk())
                == .send(.connectionTune(Spec.Connection.Tune(channelMax: 16, frameMax: 8192, heartbeat: 0))))
        #expect(handshake.receivedMethod(tuneOk(channelMax: 16, frameMax: 8193, heartbeat: 0)) == .closeSocket)
        #expect(handshake.state == .closed)
    }

    // MARK: Open

    @Test("open of a known vhost opens the connection")
    func openKnown() throws {
        var handshake = try awaitingOpen()
        let action = handshake.receivedMethod(.connectionOpen(Spec.Connection.Open(virtualHost: "staging")))
        #expect(
            action
                == .opened(.init(channelMax: 2047, frameMax: 131_072, heartbeat: 60), vhost: "staging", user: "guest"))
        #expect(handshake.state == .open(user: "guest", vhost: "staging"))
        #expect(handshake.isOpen)
    }

    @Test("open of an unknown vhost is refused with 530")
    func openUnknown() throws {
        var handshake = try awaitingOpen()
        let action = handshake.receivedMethod(.connectionOpen(Spec.Connection.Open(virtualHost: "x")))
        #expect(action == close(530, "NOT_ALLOWED - vhost x not found", 10, 40))
        #expect(!handshake.isOpen)
    }

    @Test("open of a vhost where the user has no permissions is refused with 530")
    func openWithoutPermissions() throws {
        var handshake = try awaitingOpen()
        let action = handshake.receivedMethod(.connectionOpen(Spec.Connection.Open(virtualHost: "private")))
        #expect(action == close(530, "NOT_ALLOWED - access to vhost 'private' refused for user 'guest'", 10, 40))
    }

    @Test("open beyond the vhost's max-connections is refused with 530")
    func openOverConnectionLimit() throws {
        var handshake = try awaitingOpen()
        gates.brokers.last?.vhosts["staging"]?.limits.maxConnections = 0
        let action = handshake.receivedMethod(.connectionOpen(Spec.Connection.Open(virtualHost: "staging")))
        #expect(
            action
                == close(
                    530,
                    "NOT_ALLOWED - access to vhost 'staging' refused for user 'guest': connection limit (0) is reached",
                    10, 40))
    }

    // MARK: Mechanisms

    @Test("EXTERNAL is offered only on a TLS listener, first, as RabbitMQ orders it")
    func externalOffered() throws {
        var settings = BrokerSettings()
        settings.authMechanisms = ["PLAIN", "AMQPLAIN", "EXTERNAL"]
        var plain = makeHandshake(settings: settings)
        var certified = makeHandshake(settings: settings, isTLS: true, certificateUser: "guest")
        guard
            case .send(.connectionStart(let withoutCertificate)) = plain.receivedProtocolHeader(ProtocolHeader.amqp0091),
            case .send(.connectionStart(let withCertificate)) = certified.receivedProtocolHeader(
                ProtocolHeader.amqp0091)
        else {
            Issue.record("expected connection.start")
            return
        }
        #expect(String(buffer: withoutCertificate.mechanisms) == "PLAIN AMQPLAIN")
        #expect(String(buffer: withCertificate.mechanisms) == "EXTERNAL PLAIN AMQPLAIN")
    }

    @Test("EXTERNAL logs in as the certificate's user, without a password")
    func externalLogin() throws {
        var settings = BrokerSettings()
        settings.authMechanisms = ["EXTERNAL"]
        var handshake = makeHandshake(settings: settings, isTLS: true, certificateUser: "guest")
        _ = handshake.receivedProtocolHeader(ProtocolHeader.amqp0091)
        let external = AMQPMethod.connectionStartOk(
            Spec.Connection.StartOk(
                clientProperties: Self.failureCloseClient, mechanism: "EXTERNAL", response: ByteBuffer(),
                locale: "en_US"))
        guard case .send(.connectionTune) = handshake.receivedMethod(external) else {
            Issue.record("EXTERNAL login should be accepted")
            return
        }
        #expect(handshake.state == .awaitingTuneOk(user: "guest"))

        var stranger = makeHandshake(settings: settings, isTLS: true, certificateUser: "nobody")
        _ = stranger.receivedProtocolHeader(ProtocolHeader.amqp0091)
        #expect(
            stranger.receivedMethod(external)
                == close(
                    403,
                    "ACCESS_REFUSED - Login was refused using authentication mechanism EXTERNAL. For details see the broker logfile.",
                    0, 0))
    }

    @Test("with a SASL backend the password is handed out for checking, and the verdict resumes the handshake")
    func backendCheck() throws {
        var settings = BrokerSettings()
        settings.authBackends = [.sasl, .internal]
        var accepted = makeHandshake(settings: settings)
        _ = accepted.receivedProtocolHeader(ProtocolHeader.amqp0091)
        #expect(accepted.receivedMethod(try startOk()) == .checkPassword(username: "guest", password: "guest"))
        #expect(accepted.state == .authenticating(mechanism: "PLAIN"))
        let guest = User(name: "guest", passwordHash: nil, tags: [])
        guard case .send(.connectionTune) = accepted.passwordChecked(.accepted(guest)) else {
            Issue.record("an accepted password should lead to connection.tune")
            return
        }
        #expect(accepted.passwordChecked(.accepted(guest)) == .none)

        var refused = makeHandshake(settings: settings)
        _ = refused.receivedProtocolHeader(ProtocolHeader.amqp0091)
        _ = refused.receivedMethod(try startOk(clientProperties: Self.failureCloseClient))
        #expect(
            refused.passwordChecked(.refused("no"))
                == close(
                    403,
                    "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile.",
                    0, 0))
    }

    @Test("a blank password and a user without a password hash are refused with PLAIN")
    func blankPasswords() throws {
        var blank = makeHandshake()
        _ = blank.receivedProtocolHeader(ProtocolHeader.amqp0091)
        #expect(blank.receivedMethod(try startOk(password: "", clientProperties: Self.failureCloseClient)) != .none)
        #expect(blank.takeCloseReason()?.contains("blank password") == true)

        var passwordless = makeHandshake()
        gates.brokers.last?.accessControl.putUser(User(name: "cert-only", passwordHash: nil, tags: []))
        _ = passwordless.receivedProtocolHeader(ProtocolHeader.amqp0091)
        _ = passwordless.receivedMethod(
            try startOk(user: "cert-only", password: "x", clientProperties: Self.failureCloseClient))
        #expect(passwordless.state == .closing)
        #expect(passwordless.takeCloseReason() == "user 'cert-only' - invalid credentials")
    }

    @Test("methods out of order: dropped silently before tuning, a 503 afterwards")
    func outOfOrder() throws {
        var handshake = makeHandshake()
        _ = handshake.receivedProtocolHeader(ProtocolHeader.amqp0091)
        #expect(handshake.receivedMethod(.connectionOpen(Spec.Connection.Open(virtualHost: "/"))) == .closeSocket)
        #expect(handshake.takeCloseReason()?.hasPrefix("503 COMMAND_INVALID - unexpected method") == true)

        var open = try opened()
        guard case .send(.connectionClose(let again)) = open.receivedMethod(tuneOk()) else {
            Issue.record("tune-ok after open should be refused")
            return
        }
        #expect(again.replyCode == 503)
    }

    // MARK: Close

    @Test("client-initiated close is answered with close-ok and the socket closed")
    func clientClose() throws {
        var handshake = try opened()
        let action = handshake.receivedMethod(.connectionClose(Spec.Connection.Close(replyCode: 200, replyText: "bye")))
        #expect(action == .sendAndClose(.connectionCloseOk(.init())))
        #expect(handshake.state == .closed)
    }

    @Test("a client may close during tuning too")
    func clientCloseEarly() throws {
        var handshake = try awaitingTuneOk()
        #expect(handshake.receivedMethod(.connectionClose(.init())) == .sendAndClose(.connectionCloseOk(.init())))
        var waiting = try awaitingOpen()
        #expect(waiting.receivedMethod(.connectionClose(.init())) == .sendAndClose(.connectionCloseOk(.init())))
    }

    @Test("server-initiated close waits for close-ok, discarding everything else")
    func serverClose() throws {
        var handshake = try opened()
        let action = handshake.close(.internalError, "boom", method: .basicPublish(.init()))
        #expect(action == close(541, "INTERNAL_ERROR - boom", 60, 40))
        #expect(handshake.state == .closing)
        // A second close while closing does nothing.
        #expect(handshake.close(.notAllowed, "again", method: nil) == .none)
        // Other methods are dropped.
        #expect(handshake.receivedMethod(.connectionOpen(.init(virtualHost: "/"))) == .none)
        #expect(handshake.receivedMethod(.connectionCloseOk(.init())) == .closeSocket)
        #expect(handshake.state == .closed)
    }

    @Test("closes that cross are answered with close-ok")
    func crossingCloses() throws {
        var handshake = try opened()
        _ = handshake.close(code: .connectionForced, replyText: "CONNECTION_FORCED - shutdown")
        #expect(handshake.receivedMethod(.connectionClose(.init())) == .sendAndClose(.connectionCloseOk(.init())))
        #expect(handshake.state == .closed)
    }

    @Test("a forced close sends its reply text as given")
    func forcedClose() throws {
        var handshake = try opened()
        let text = "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'"
        #expect(handshake.close(code: .connectionForced, replyText: text) == close(320, text, 0, 0))
    }
}

final class BrokerKeeper: @unchecked Sendable {
    var brokers: [Broker] = []
}
